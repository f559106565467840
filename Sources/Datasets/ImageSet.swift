import NumericCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A split of an image dataset.
public enum Split: String, CaseIterable, Codable, Sendable {
    case train, test
    /// The file-name prefix the MNIST layout uses for the split.
    public var filePrefix: String { self == .train ? "train" : "t10k" }
}

/// How pixel intensities in [0, 1] become model inputs.
public enum Binarization: String, CaseIterable, Codable, Sendable {
    /// Continuous intensities p = pixel / 255.
    case none
    /// A fresh Bernoulli(p) draw of every pixel each time it is used (each
    /// epoch); the test split gets one fixed draw. The protocol behind
    /// published NLL figures for binarized MNIST.
    case dynamic
    /// One fixed Bernoulli(p) draw per split, by seed.
    case `static`
}

/// Images of one split, kept as bytes (a quarter of the memory of floats);
/// batches are converted to float on the fly.
public struct ImageSet: Sendable {
    /// How the values are held: bytes scaled by 1/255 when read (IDX, uint8
    /// arrays), or float32 as they are.
    public enum Values: Sendable, Equatable {
        case bytes([UInt8])
        case floats([Float])

        public var count: Int {
            switch self {
            case .bytes(let b): return b.count
            case .floats(let f): return f.count
            }
        }
    }

    public let split: Split
    public let count: Int
    /// The shape of one example: [channels, height, width] for images, [length] for vectors.
    public let shape: [Int]
    /// count × dimension values, row-major (C order).
    public private(set) var values: Values
    /// One label per example (all 0 when the source has none: `hasLabels` false).
    public let labels: [UInt8]
    public let hasLabels: Bool
    public let imagesPath: String
    public let labelsPath: String

    /// Values per example.
    public var dimension: Int { shape.reduce(1, *) }
    /// Height and width of image examples (a vector is one row of `dimension` values).
    public var height: Int { shape.count == 3 ? shape[1] : 1 }
    public var width: Int { shape.count == 3 ? shape[2] : dimension }

    /// The bytes of byte-valued data (IDX files); empty for float data.
    public var pixels: [UInt8] {
        if case .bytes(let b) = values { return b }
        return []
    }

    /// Grey images of `height` × `width` bytes (the IDX layout).
    public init(
        split: Split, height: Int, width: Int, pixels: [UInt8], labels: [UInt8],
        imagesPath: String = "", labelsPath: String = ""
    ) {
        self.init(
            split: split, shape: [1, height, width], values: .bytes(pixels), labels: labels, hasLabels: true,
            imagesPath: imagesPath, labelsPath: labelsPath)
    }

    /// Examples of any shape; `labels` has one entry per example.
    public init(
        split: Split, shape: [Int], values: Values, labels: [UInt8], hasLabels: Bool,
        imagesPath: String = "", labelsPath: String = ""
    ) {
        precondition(values.count == labels.count * shape.reduce(1, *))
        self.split = split
        self.count = labels.count
        self.shape = shape
        self.values = values
        self.labels = labels
        self.hasLabels = hasLabels
        self.imagesPath = imagesPath
        self.labelsPath = labelsPath
    }

    /// Replaces every value p by one Bernoulli(p) draw: bytes by 0 or 255
    /// (p = byte / 255), floats in [0, 1] by 0 or 1.
    public mutating func binarize(using random: inout RandomStream) {
        let n = values.count
        let u = UnsafeMutablePointer<UInt32>.allocate(capacity: max(n, 1))
        defer { u.deallocate() }
        random.fillUniform24(u, count: n)
        switch values {
        case .bytes(var b):
            values = .bytes([])
            b.withUnsafeMutableBufferPointer { p in
                for i in 0..<n { p[i] = UInt64(u[i]) * 255 < (UInt64(p[i]) << 24) ? 255 : 0 }
            }
            values = .bytes(b)
        case .floats(var f):
            values = .floats([])
            f.withUnsafeMutableBufferPointer { p in
                for i in 0..<n { p[i] = Float(u[i]) * 0x1p-24 < p[i] ? 1 : 0 }
            }
            values = .floats(f)
        }
    }

    /// Writes the examples `indices[0..<count]` as floats (bytes scaled by 1/255) into `out` ([count, dimension]).
    public func gather(_ indices: UnsafePointer<Int64>, count rows: Int, into out: UnsafeMutablePointer<Float>) {
        switch values {
        case .bytes(let b):
            b.withUnsafeBufferPointer { Kernels.gatherBytes($0.baseAddress!, rows: indices, count: rows, cols: dimension, into: out) }
        case .floats(let f):
            f.withUnsafeBufferPointer { Kernels.gatherFloats($0.baseAddress!, rows: indices, count: rows, cols: dimension, into: out) }
        }
    }

    /// The same with every value replaced by a Bernoulli draw with that
    /// probability, from `uniform24` (rows · dimension uniform 24-bit integers).
    public func gatherBernoulli(
        _ indices: UnsafePointer<Int64>, count rows: Int, uniform24: UnsafePointer<UInt32>, into out: UnsafeMutablePointer<Float>
    ) {
        switch values {
        case .bytes(let b):
            b.withUnsafeBufferPointer {
                Kernels.gatherBytesBernoulli($0.baseAddress!, rows: indices, count: rows, cols: dimension, uniform24: uniform24, into: out)
            }
        case .floats(let f):
            f.withUnsafeBufferPointer {
                Kernels.gatherFloatsBernoulli($0.baseAddress!, rows: indices, count: rows, cols: dimension, uniform24: uniform24, into: out)
            }
        }
    }

    /// The smallest and largest value as the model sees it (bytes scaled by 1/255); nil when empty.
    public var valueRange: (min: Float, max: Float)? {
        switch values {
        case .bytes(let b):
            guard let lo = b.min(), let hi = b.max() else { return nil }
            return (Float(lo) / 255, Float(hi) / 255)
        case .floats(let f):
            guard let lo = f.min(), let hi = f.max() else { return nil }
            return (lo, hi)
        }
    }

    /// SHA-256 of the data as read: for bytes (IDX) the bytes and the labels,
    /// exactly as zoo has always fingerprinted MNIST-layout data; for floats
    /// the shape, the float32 values (little-endian) and the labels.
    public var fingerprint: String {
        switch values {
        case .bytes(let b): return Self.fingerprint(pixels: b, labels: labels)
        case .floats(let f):
            var s = SHA256()
            s.update(Array("float32 \(shape)\n".utf8))
            f.withUnsafeBytes { s.update($0) }
            s.update(labels)
            return "sha256:" + s.finalize()
        }
    }
}

/// A directory in the MNIST layout: `train-images-idx3-ubyte[.gz]`,
/// `train-labels-idx1-ubyte[.gz]`, and the same with `t10k` for the test split.
public struct DatasetDirectory: Sendable {
    /// Where Debian's `dataset-fashion-mnist` installs Fashion-MNIST.
    public static let defaultPath = "/usr/share/datasets/fashion-mnist"

    public let path: String

    /// - Parameter path: a directory, or nil for the default Fashion-MNIST.
    public init(path: String?) throws {
        let p = path ?? Self.defaultPath
        var st = stat()
        guard stat(p, &st) == 0 else {
            if errno == EACCES { throw DatasetError.unreadable(path: p, reason: "permission denied (on it or a directory above it)") }
            throw path == nil ? DatasetError.defaultDirectoryMissing(path: p) : DatasetError.directoryMissing(path: p)
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw path == nil ? DatasetError.defaultDirectoryMissing(path: p) : DatasetError.directoryMissing(path: p)
        }
        guard access(p, R_OK | X_OK) == 0 else {
            throw DatasetError.unreadable(path: p, reason: "permission denied: the data directory must be readable and searchable")
        }
        self.path = p
    }

    private func candidates(_ split: Split, _ kind: String) -> [String] {
        let base = "\(path)/\(split.filePrefix)-\(kind)"
        return [base + ".gz", base]
    }

    private func existing(_ names: [String]) -> String? {
        names.first { access($0, F_OK) == 0 }
    }

    /// Class names when the directory holds Fashion-MNIST (the default, or a
    /// directory whose name says fashion-mnist); nil otherwise (labels are numbers).
    public var labelNames: [String]? {
        let name = path.split(separator: "/").last.map(String.init)?.lowercased() ?? ""
        guard path == Self.defaultPath || name.contains("fashion") else { return nil }
        return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    }

    /// Whether the directory has the images file of `split`.
    public func has(_ split: Split) -> Bool { existing(candidates(split, "images-idx3-ubyte")) != nil }

    /// Loads a split, optionally only its first `limit` images.
    public func load(_ split: Split, limit: Int? = nil) throws -> ImageSet {
        let imageNames = candidates(split, "images-idx3-ubyte")
        guard let imagesPath = existing(imageNames) else {
            throw DatasetError.splitMissing(
                directory: path, split: split, lookedFor: imageNames.map { String($0.split(separator: "/").last!) })
        }
        let labelNames = candidates(split, "labels-idx1-ubyte")
        guard let labelsPath = existing(labelNames) else { throw DatasetError.fileMissing(path: labelNames[0]) }
        let images = try IDXReader.read(path: imagesPath, rank: 3, maxItems: limit)
        let labels = try IDXReader.read(path: labelsPath, rank: 1, maxItems: limit)
        if images.itemsInFile != labels.itemsInFile {
            throw DatasetError.countMismatch(
                images: imagesPath, imageCount: images.itemsInFile,
                labels: labelsPath, labelCount: labels.itemsInFile)
        }
        if images.dimensions[0] == 0 { throw DatasetError.empty(path: imagesPath) }
        return ImageSet(
            split: split, height: images.dimensions[1], width: images.dimensions[2],
            pixels: images.bytes, labels: labels.bytes, imagesPath: imagesPath, labelsPath: labelsPath)
    }
}

extension ImageSet {
    /// The first label that is not in 0 ..< `classes`, if any (a conditional model's check).
    public func firstLabel(outside classes: Int) -> Int? {
        labels.first { Int($0) >= classes }.map(Int.init)
    }

    /// The same examples called `split` (a held-out test split).
    public func relabeled(split: Split) -> ImageSet {
        ImageSet(
            split: split, shape: shape, values: values, labels: labels, hasLabels: hasLabels, imagesPath: imagesPath,
            labelsPath: labelsPath)
    }

    /// The images at `indices`, in that order (same split and file paths).
    public func subset(_ indices: [Int]) -> ImageSet {
        func pick<T>(_ all: [T], zero: T) -> [T] {
            let D = dimension
            var out = [T](repeating: zero, count: indices.count * D)
            all.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for (k, i) in indices.enumerated() {
                        dst.baseAddress!.advanced(by: k * D).update(from: src.baseAddress! + i * D, count: D)
                    }
                }
            }
            return out
        }
        let picked: Values
        switch values {
        case .bytes(let b): picked = .bytes(pick(b, zero: 0))
        case .floats(let f): picked = .floats(pick(f, zero: 0))
        }
        return ImageSet(
            split: split, shape: shape, values: picked, labels: indices.map { labels[$0] }, hasLabels: hasLabels,
            imagesPath: imagesPath, labelsPath: labelsPath)
    }

    /// Splits off `count` images for validation: the last `count` entries of a
    /// permutation drawn from a fixed stream (seed 0), so the hold-out depends
    /// only on the data and `count`, never on a run's seed. Both parts keep
    /// the file order. `count` must be in 1 ..< self.count.
    public func holdOut(_ count: Int, purpose: RandomStream.Purpose = .validationSplit) -> (train: ImageSet, validation: ImageSet) {
        precondition(count >= 1 && count < self.count)
        var stream = RandomStream(seed: 0, purpose: purpose)
        let perm = UnsafeMutablePointer<Int64>.allocate(capacity: self.count)
        defer { perm.deallocate() }
        stream.permutation(perm, count: self.count)
        var held = [Bool](repeating: false, count: self.count)
        for k in (self.count - count)..<self.count { held[Int(perm[k])] = true }
        let all = Array(0..<self.count)
        return (subset(all.filter { !held[$0] }), subset(all.filter { held[$0] }))
    }
}

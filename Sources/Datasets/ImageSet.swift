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
    public let split: Split
    public let count: Int
    public let height: Int
    public let width: Int
    /// count × height × width bytes, row-major.
    public private(set) var pixels: [UInt8]
    public let labels: [UInt8]
    public let imagesPath: String
    public let labelsPath: String

    public var dimension: Int { height * width }
    /// The shape of one example, [channels, height, width] (IDX images are grey: one channel).
    public var shape: [Int] { [1, height, width] }

    public init(
        split: Split, height: Int, width: Int, pixels: [UInt8], labels: [UInt8],
        imagesPath: String = "", labelsPath: String = ""
    ) {
        precondition(pixels.count == labels.count * height * width)
        self.split = split
        self.count = labels.count
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.imagesPath = imagesPath
        self.labelsPath = labelsPath
    }

    /// Replaces every pixel by one Bernoulli(pixel / 255) draw, stored as 0 or 255.
    public mutating func binarize(using random: inout RandomStream) {
        let n = pixels.count
        let u = UnsafeMutablePointer<UInt32>.allocate(capacity: max(n, 1))
        defer { u.deallocate() }
        random.fillUniform24(u, count: n)
        pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i] = UInt64(u[i]) * 255 < (UInt64(p[i]) << 24) ? 255 : 0 }
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

    /// The images at `indices`, in that order (same split and file paths).
    public func subset(_ indices: [Int]) -> ImageSet {
        let D = dimension
        var px = [UInt8](repeating: 0, count: indices.count * D)
        pixels.withUnsafeBufferPointer { src in
            px.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    dst.baseAddress!.advanced(by: k * D).update(from: src.baseAddress! + i * D, count: D)
                }
            }
        }
        return ImageSet(
            split: split, height: height, width: width, pixels: px, labels: indices.map { labels[$0] },
            imagesPath: imagesPath, labelsPath: labelsPath)
    }

    /// Splits off `count` images for validation: the last `count` entries of a
    /// permutation drawn from a fixed stream (seed 0), so the hold-out depends
    /// only on the data and `count`, never on a run's seed. Both parts keep
    /// the file order. `count` must be in 1 ..< self.count.
    public func holdOut(_ count: Int) -> (train: ImageSet, validation: ImageSet) {
        precondition(count >= 1 && count < self.count)
        var stream = RandomStream(seed: 0, purpose: .validationSplit)
        let perm = UnsafeMutablePointer<Int64>.allocate(capacity: self.count)
        defer { perm.deallocate() }
        stream.permutation(perm, count: self.count)
        var held = [Bool](repeating: false, count: self.count)
        for k in (self.count - count)..<self.count { held[Int(perm[k])] = true }
        let all = Array(0..<self.count)
        return (subset(all.filter { !held[$0] }), subset(all.filter { held[$0] }))
    }
}

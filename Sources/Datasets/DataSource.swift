#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a run's examples come from, recognised by what the path is (never
/// by its name alone): a directory is the MNIST layout; a regular file that
/// starts with NumPy's magic is a `.npy` array of examples, a zip archive an
/// `.npz` of Keras-named arrays, an HDF5 file (signature at offset 0 or a
/// user block's end) the same arrays at its root, or in the group of
/// `FILE:/group`.
public struct DataSource: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// `train-images-idx3-ubyte[.gz]`, `train-labels-…`, `t10k-…` in a directory.
        case mnistDirectory = "mnist-directory"
        /// One `.npy` array of examples, without labels.
        case numpy
        /// A zip of `x_train.npy`, `y_train.npy`, `x_test.npy`, `y_test.npy` (KerasArrays).
        case npz
        /// An HDF5 file with datasets `x_train`, `y_train`, `x_test`, `y_test`.
        case hdf5
        /// A CSV table with a header row (CSVTable).
        case csv
        /// Class folders of PNG images, optionally under train/ and test/ (ImageFolder).
        case imageFolder = "image-folder"
    }

    /// What `load` gives: the splits, a sentence saying what was read, and
    /// the class names when the labels were strings.
    public struct Loaded: Sendable {
        public var train: ImageSet
        public var test: ImageSet?
        public var description: String
        public var classNames: [String]?
        /// The Keras-named arrays an `.npz` or HDF5 source held (x_train, …), else nil.
        public var arrays: [String]? = nil
    }

    public let kind: Kind
    /// As given (absolute when the caller made it so), with `:/group` for HDF5.
    public let path: String
    /// The file or directory itself, and the HDF5 group named after `:`.
    public let file: String
    public let group: String?

    /// The source at `path` (nil: Debian's Fashion-MNIST).
    /// - Throws: `DatasetError` when the path is missing, unreadable, or
    ///   neither a directory nor a NumPy file.
    public init(path: String?) throws {
        guard let path else {
            kind = .mnistDirectory
            self.path = try DatasetDirectory(path: nil).path
            file = self.path
            group = nil
            return
        }
        self.path = path
        var st = stat()
        var file = path
        var group: String?
        if stat(path, &st) != 0, let r = path.range(of: ":/", options: .backwards) {
            file = String(path[..<r.lowerBound])
            group = String(path[path.index(after: r.lowerBound)...])
        }
        guard stat(file, &st) == 0 else {
            if errno == EACCES { throw DatasetError.unreadable(path: file, reason: "permission denied (on it or a directory above it)") }
            throw DatasetError.sourceMissing(path: path)
        }
        self.file = file
        self.group = group
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            let d = try DatasetDirectory(path: file)
            kind = !d.has(.train) && !d.has(.test) && ImageFolder.looksLikeImageFolder(file) ? .imageFolder : .mnistDirectory
        case S_IFREG:
            let head = readPrefix(of: file, count: 8)
            if head.starts(with: NumPyReader.magic) {
                kind = .numpy
            } else if Self.isZip(head) {
                kind = .npz
            } else if Self.isHDF5(file) {
                kind = .hdf5
            } else if CSVTable.looksLikeTable(file) {
                kind = .csv
            } else {
                throw DatasetError.unknownSource(path: file)
            }
        default:
            throw DatasetError.unreadable(path: file, reason: "it is not a regular file or a directory; zoo reads only those")
        }
        if group != nil, kind != .hdf5 { throw DatasetError.sourceMissing(path: path) }
    }

    /// A zip archive's first bytes (a local file header, or the end record of an empty archive).
    static func isZip(_ head: [UInt8]) -> Bool {
        head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06])
    }

    /// HDF5's signature sits at 0 or at the end of a user block (512, 1024, 2048, … bytes).
    static func isHDF5(_ path: String) -> Bool {
        let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
        return ([0] + (9...20).map { 1 << $0 }).contains { readPrefix(of: path, count: 8, at: $0) == signature }
    }

    /// Class names when the source is Fashion-MNIST (the default directory, or
    /// one whose name says fashion-mnist); nil otherwise (labels are numbers).
    public var labelNames: [String]? {
        kind == .mnistDirectory ? (try? DatasetDirectory(path: file))?.labelNames : nil
    }

    /// The examples of a run: the train split, and the test split, either
    /// the source's own or (`testSplit` > 0, for sources without one) the
    /// last `testSplit` entries of a fixed permutation (seed 0, independent of
    /// any run seed) of the examples; `limit` keeps only the first examples
    /// of each split (of the whole array before a hold-out).
    /// - Throws: `DatasetError` for a bad file, or `testSplit` on a source
    ///   that has a test split, or as large as the data.
    public func load(limit: Int?, testSplit: Int, labelColumn: String? = nil) throws -> Loaded {
        if labelColumn != nil, kind != .csv {
            throw DatasetError.badTable(path: path, reason: "--label-column names a column of a CSV table, and this is not one")
        }
        /// The run's splits: the source's own test split, or the one `testSplit`
        /// holds out of a source without one; `limit` keeps the first examples of each.
        func splits(
            _ train: ImageSet, _ test: ImageSet?, _ description: String, classNames: [String]? = nil, arrays: [String]? = nil
        ) throws -> Loaded {
            let limited = { (set: ImageSet) in limit.map { $0 < set.count ? set.subset(Array(0..<$0)) : set } ?? set }
            var (train, test) = (limited(train), test.map(limited))
            if testSplit > 0 {
                guard test == nil else { throw DatasetError.hasTestSplit(path: path) }
                let (rest, held) = try Self.holdOutTest(train, testSplit, path: path)
                (train, test) = (rest, held)
            }
            return Loaded(train: train, test: test, description: description, classNames: classNames, arrays: arrays)
        }
        switch kind {
        case .mnistDirectory:
            let d = try DatasetDirectory(path: file)
            let test = d.has(.test) ? try d.load(.test, limit: limit) : nil
            return try splits(try d.load(.train, limit: limit), test, "MNIST-layout directory \(path)")
        case .npz, .hdf5:
            let (train, test, layout) = kind == .npz ? try KerasArrays.npz(path: file) : try KerasArrays.hdf5(path: file, group: group)
            let description =
                "\(kind == .npz ? "NumPy archive" : "HDF5 file") \(path), x_train \(train.count)\(layout.note)"
                + (train.hasLabels ? ", labelled" : ", unlabelled")
            let arrays =
                ["x_train"] + (train.hasLabels ? ["y_train"] : []) + (test != nil ? ["x_test"] : [])
                + (test?.hasLabels == true ? ["y_test"] : [])
            return try splits(train, test, description, arrays: arrays)
        case .numpy:
            let array = try NumPyReader.read(path: file)
            let (all, layout) = try ArrayExamples.examples(array, path: path)
            return try splits(all, nil, "NumPy array \(path), \(array.dtype) \(array.shape)\(layout.note)")
        case .csv:
            let table = try CSVTable.load(path: file, labelColumn: labelColumn)
            return try splits(table.examples, nil, table.description, classNames: table.classNames)
        case .imageFolder:
            let folder = try ImageFolder.load(root: file)
            return try splits(folder.train, folder.test, folder.description, classNames: folder.classNames)
        }
    }

    /// The `requested` splits as a run with these settings saw them, the
    /// source read once (an MNIST-layout directory without `--test-split`
    /// reads only the files of the splits asked for).
    /// - Throws: `DatasetError.noTestSplit` when the run had no test split.
    public func load(_ requested: [Split], limit: Int?, testSplit: Int, labelColumn: String? = nil) throws -> [ImageSet] {
        if kind == .mnistDirectory, testSplit == 0 {
            let d = try DatasetDirectory(path: file)
            return try requested.map { try d.load($0, limit: limit) }
        }
        let loaded = try load(limit: limit, testSplit: testSplit, labelColumn: labelColumn)
        return try requested.map { split in
            if split == .train { return loaded.train }
            guard let test = loaded.test else { throw DatasetError.noTestSplit(path: path) }
            return test
        }
    }

    /// One split as a run with these settings saw it.
    /// - Throws: `DatasetError.noTestSplit` when the run had no test split.
    public func load(_ split: Split, limit: Int?, testSplit: Int, labelColumn: String? = nil) throws -> ImageSet {
        try load([split], limit: limit, testSplit: testSplit, labelColumn: labelColumn)[0]
    }

    static func holdOutTest(_ set: ImageSet, _ count: Int, path: String) throws -> (ImageSet, ImageSet) {
        guard count < set.count else { throw DatasetError.testSplitTooLarge(path: path, requested: count, available: set.count) }
        let (train, held) = set.holdOut(count, purpose: .testSplit)
        return (train, held.relabeled(split: .test))
    }
}

/// How an array's axes map onto examples.
public enum ArrayLayout: Sendable, Equatable {
    case vectors, greyImages, channelsFirst, channelsLast

    var note: String {
        switch self {
        case .vectors: return ", as vectors"
        case .greyImages: return ", as grey images"
        case .channelsFirst: return ", as (N, C, H, W) images"
        case .channelsLast: return ", as channels-last (N, H, W, C) images, moved to (C, H, W)"
        }
    }
}

/// Examples from an array: shapes (N, D), (N, H, W), (N, H, W, C) with C in
/// {1, 3, 4} (channels-last) or (N, C, H, W); uint8 (scaled by 1/255 when
/// gathered), float32 or float64 (stored as float32, every value finite).
public enum ArrayExamples {
    public static func examples(_ a: NumPyArray, path: String, split: Split = .train) throws -> (ImageSet, ArrayLayout) {
        func bad(_ why: String) -> DatasetError { .badArray(path: path, reason: why) }
        let s = a.shape
        guard (2...4).contains(s.count) else {
            throw bad("its shape \(s) is not (N, D), (N, H, W), (N, H, W, C) or (N, C, H, W)")
        }
        let n = s[0]
        guard n > 0 else { throw DatasetError.empty(path: path) }
        guard s.dropFirst().allSatisfy({ $0 > 0 }) else { throw bad("its shape \(s) has an empty axis") }
        let layout: ArrayLayout
        let shape: [Int]
        switch s.count {
        case 2: (layout, shape) = (.vectors, [s[1]])
        case 3: (layout, shape) = (.greyImages, [1, s[1], s[2]])
        default:
            if [1, 3, 4].contains(s[3]) {
                (layout, shape) = (.channelsLast, [s[3], s[1], s[2]])
            } else {
                (layout, shape) = (.channelsFirst, [s[1], s[2], s[3]])
            }
        }
        let values: ImageSet.Values
        switch a.dtype {
        case .uint8:
            values = .bytes(layout == .channelsLast ? toChannelsFirst(a.bytes, n: n, shape: shape) : a.bytes)
        case .float32, .float64:
            let f: [Float]
            do { f = try a.floatValues() ?? [] } catch { throw badValue(error.value, at: error.index, shape: s, path: path) }
            values = .floats(layout == .channelsLast ? toChannelsFirst(f, n: n, shape: shape) : f)
        default:
            throw bad("dtype \(a.dtype) is an integer type other than uint8; save the examples as uint8, float32 or float64")
        }
        let set = ImageSet(
            split: split, shape: shape, values: values, labels: [UInt8](repeating: 0, count: n), hasLabels: false, imagesPath: path)
        return (set, layout)
    }

    static func badValue(_ v: Double, at i: Int, shape: [Int], path: String) -> DatasetError {
        var index: [Int] = []
        var rest = i
        for d in shape.reversed() {
            index.insert(rest % d, at: 0)
            rest /= d
        }
        return .badValue(path: path, reason: "\(v) at index \(index); every value must be a finite number (replace or drop it)")
    }

    /// (N, H, W, C) → (N, C, H, W) for `shape` = [C, H, W].
    static func toChannelsFirst<T>(_ x: [T], n: Int, shape: [Int]) -> [T] {
        let (c, h, w) = (shape[0], shape[1], shape[2])
        var out = x
        for i in 0..<n {
            let base = i * c * h * w
            for y in 0..<h {
                for xx in 0..<w {
                    for ch in 0..<c { out[base + (ch * h + y) * w + xx] = x[base + (y * w + xx) * c + ch] }
                }
            }
        }
        return out
    }
}

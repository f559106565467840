import CPNGDecode

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// torchvision's `ImageFolder` layout: one sub-folder of PNG images per
/// class (class names are the folder names, sorted), optionally under
/// `train/` and `test/`. Every image must have the same height and width.
/// PNGs are decoded by libpng (CPNGDecode): grey, grey+alpha, RGB, RGBA,
/// palette; 8 or 16 bits (16-bit samples keep their high byte); alpha is
/// dropped, not composited. A folder of grey and colour images is read in
/// colour (grey replicated). Files whose names start with "." are skipped;
/// any other file must be a PNG.
public enum ImageFolder {
    /// Largest PNG file read, 64 MiB; largest decoded set, 4 GiB.
    public static let maximumFileBytes = 1 << 26
    public static let maximumBytes = 1 << 32

    public struct Loaded {
        public let train: ImageSet
        public let test: ImageSet?
        public let classNames: [String]
        public let description: String
    }

    /// Whether `root` holds class folders (directly or under `train/`) rather than MNIST files.
    static func looksLikeImageFolder(_ root: String) -> Bool {
        !subdirectories(root).isEmpty
    }

    static func entries(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafePointer(to: e.pointee.d_name) { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func subdirectories(_ dir: String) -> [String] { entries(dir).filter { isDirectory("\(dir)/\($0)") } }

    /// - Throws: `DatasetError` naming the folder or file.
    public static func load(root: String) throws -> Loaded {
        let split = isDirectory(root + "/train") && !subdirectories(root + "/train").isEmpty
        let trainRoot = split ? root + "/train" : root
        let classNames = subdirectories(trainRoot)
        guard !classNames.isEmpty else {
            throw DatasetError.badFolder(path: root, reason: "it holds neither MNIST-layout files nor class folders of PNG images")
        }
        guard classNames.count <= 256 else {
            throw DatasetError.badFolder(path: trainRoot, reason: "it has \(classNames.count) class folders; zoo takes at most 256 classes")
        }
        var reader = Reader()
        let train = try reader.read(trainRoot, classes: classNames, split: .train)
        var test: Reader.Decoded?
        if split, isDirectory(root + "/test") {
            let testClasses = subdirectories(root + "/test")
            if let extra = testClasses.first(where: { !classNames.contains($0) }) {
                throw DatasetError.badFolder(path: root + "/test", reason: "its class folder '\(extra)' has no counterpart in \(trainRoot)")
            }
            test = try reader.read(root + "/test", classes: classNames, split: .test, only: testClasses)
        }
        // One channel count for both splits: colour if any image was colour.
        let channels = reader.colour ? 3 : 1
        let description =
            "image folder \(root), \(classNames.count) classes (\(classNames.prefix(5).joined(separator: ", "))\(classNames.count > 5 ? ", …" : "")), "
            + "\(reader.width)×\(reader.height) (width × height) \(channels == 3 ? "colour" : "grey") PNGs"
        return Loaded(
            train: reader.finish(train, channels: channels), test: test.map { reader.finish($0, channels: channels) },
            classNames: classNames, description: description)
    }

    /// Decodes folders of PNGs, checking that every image has the first one's size.
    struct Reader {
        var width = 0
        var height = 0
        var first = ""
        var colour = false
        var total = 0

        /// One split as decoded: each image's HWC bytes (1 or 3 channels) and label.
        struct Decoded {
            let split: Split
            let dir: String
            var images: [(pixels: [UInt8], colour: Bool)] = []
            var labels: [UInt8] = []
        }

        /// The images of `classes` under `dir` (those named in `only`, when
        /// given), labelled by their index in `classes`.
        mutating func read(_ dir: String, classes: [String], split: Split, only: [String]? = nil) throws -> Decoded {
            var out = Decoded(split: split, dir: dir)
            for (index, name) in classes.enumerated() where only?.contains(name) ?? true {
                let folder = "\(dir)/\(name)"
                let files = ImageFolder.entries(folder)
                guard !files.isEmpty else { throw DatasetError.badFolder(path: folder, reason: "the class folder holds no images") }
                for file in files {
                    out.images.append(try decode("\(folder)/\(file)"))
                    out.labels.append(UInt8(index))
                }
            }
            return out
        }

        mutating func decode(_ path: String) throws -> ([UInt8], Bool) {
            let bytes = try readRegularFile(path, maximumBytes: ImageFolder.maximumFileBytes)
            var w: UInt32 = 0
            var h: UInt32 = 0
            var c: Int32 = 0
            var depth: Int32 = 0
            var error = [CChar](repeating: 0, count: 256)
            /// libpng's message (CPNGDecode wrote it into `error`).
            func unreadable() -> DatasetError {
                let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return .badFolder(path: path, reason: "it is not a readable PNG image: \(message)")
            }
            guard zoo_png_info(bytes, bytes.count, &w, &h, &c, &depth, &error, error.count) == 0 else {
                throw unreadable()
            }
            if first.isEmpty {
                (width, height, first) = (Int(w), Int(h), path)
            } else if Int(w) != width || Int(h) != height {
                throw DatasetError.badFolder(
                    path: path, reason: "it is \(w)×\(h) pixels but \(first) is \(width)×\(height); every image must have one size")
            }
            let channels = c != 0 ? 3 : 1
            total += Int(w) * Int(h) * 3
            guard total <= ImageFolder.maximumBytes else {
                throw DatasetError.badFolder(path: path, reason: "the images add up to more than zoo's 4 GiB limit")
            }
            var pixels = [UInt8](repeating: 0, count: Int(w) * Int(h) * channels)
            guard zoo_png_decode(bytes, bytes.count, &pixels, pixels.count, &error, error.count) == 0 else {
                throw unreadable()
            }
            if c != 0 { colour = true }
            return (pixels, c != 0)
        }

        /// The decoded split as examples of [channels, height, width] (CHW planes; grey replicated in a colour set).
        func finish(_ d: Decoded, channels: Int) -> ImageSet {
            let plane = height * width
            var out = [UInt8](repeating: 0, count: d.labels.count * channels * plane)
            for (k, image) in d.images.enumerated() {
                let c = image.colour ? 3 : 1
                for p in 0..<plane {
                    for ch in 0..<channels { out[(k * channels + ch) * plane + p] = image.pixels[p * c + (c == 3 ? ch : 0)] }
                }
            }
            return ImageSet(
                split: d.split, shape: [channels, height, width], values: .bytes(out), labels: d.labels, hasLabels: true,
                imagesPath: d.dir, labelsPath: d.dir)
        }
    }
}

import Foundation
import HDF5
import ZIPFoundation

/// The four arrays of the Keras convention, `x_train`, `y_train`, `x_test`,
/// `y_test`, as an `.npz` archive or an HDF5 file (or group) holds them:
/// `x_train` required, labels optional, `x_test` optional, `y_test` only
/// with `x_test` (and then with `y_train`).
public enum KerasArrays {
    public static let names = ["x_train", "y_train", "x_test", "y_test"]

    /// Builds the splits from the arrays `array(name)` returns (nil: absent).
    /// - Parameters:
    ///   - present: every array name the container holds (to name in errors).
    public static func splits(
        path: String, present: [String], array: (String) throws -> NumPyArray?
    ) throws -> (train: ImageSet, test: ImageSet?, layout: ArrayLayout) {
        guard let xTrain = try array("x_train") else {
            throw DatasetError.badArray(
                path: path,
                reason: "it has no x_train array (it holds \(present.isEmpty ? "none" : present.sorted().joined(separator: ", "))); "
                    + "name the examples x_train (and optionally y_train, x_test, y_test), as Keras does")
        }
        let yTrain = try array("y_train")
        let xTest = try array("x_test")
        let yTest = try array("y_test")
        if yTest != nil, xTest == nil { throw DatasetError.badArray(path: path, reason: "it has y_test but no x_test") }
        if (yTrain == nil) != (yTest == nil), xTest != nil {
            throw DatasetError.badArray(path: path, reason: "it labels one split and not the other (give y_train and y_test, or neither)")
        }
        var (train, layout) = try ArrayExamples.examples(xTrain, path: "\(path) x_train", split: .train)
        if let yTrain { train = try labeled(train, yTrain, path: "\(path) y_train") }
        var test: ImageSet?
        if let xTest {
            var (t, testLayout) = try ArrayExamples.examples(xTest, path: "\(path) x_test", split: .test)
            guard t.shape == train.shape, testLayout == layout else {
                throw DatasetError.badArray(
                    path: path,
                    reason:
                        "x_test holds examples of shape \(Array(xTest.shape.dropFirst())) but x_train of \(Array(xTrain.shape.dropFirst())); "
                        + "both splits must have one shape")
            }
            if let yTest { t = try labeled(t, yTest, path: "\(path) y_test") }
            test = t
        }
        return (train, test, layout)
    }

    /// `set` with the integer labels of `y` (shape (N,) or (N, 1), values 0…255).
    static func labeled(_ set: ImageSet, _ y: NumPyArray, path: String) throws -> ImageSet {
        guard y.dtype.isInteger else { throw DatasetError.badArray(path: path, reason: "labels must be integers, not \(y.dtype)") }
        guard y.shape == [set.count] || y.shape == [set.count, 1] else {
            throw DatasetError.badArray(
                path: path, reason: "it holds labels of shape \(y.shape) for \(set.count) examples; give one label per example")
        }
        var labels = [UInt8](repeating: 0, count: set.count)
        let size = y.dtype.size
        try y.bytes.withUnsafeBytes { raw in
            for i in 0..<set.count {
                var v: Int64 = 0
                switch y.dtype {
                case .uint8: v = Int64(raw[i])
                case .int8: v = Int64(Int8(bitPattern: raw[i]))
                case .uint16: v = Int64(raw.loadUnaligned(fromByteOffset: i * size, as: UInt16.self).littleEndian)
                case .int16: v = Int64(raw.loadUnaligned(fromByteOffset: i * size, as: Int16.self).littleEndian)
                case .uint32: v = Int64(raw.loadUnaligned(fromByteOffset: i * size, as: UInt32.self).littleEndian)
                case .int32: v = Int64(raw.loadUnaligned(fromByteOffset: i * size, as: Int32.self).littleEndian)
                case .uint64: v = Int64(clamping: raw.loadUnaligned(fromByteOffset: i * size, as: UInt64.self).littleEndian)
                case .int64: v = raw.loadUnaligned(fromByteOffset: i * size, as: Int64.self).littleEndian
                case .float32, .float64: break
                }
                guard (0...255).contains(v) else {
                    throw DatasetError.badValue(path: path, reason: "label \(v) at index \(i); labels must be class indices 0…255")
                }
                labels[i] = UInt8(v)
            }
        }
        return ImageSet(
            split: set.split, shape: set.shape, values: set.values, labels: labels, hasLabels: true, imagesPath: set.imagesPath,
            labelsPath: path)
    }

    // MARK: Containers

    /// The arrays of an `.npz` archive (a zip of `NAME.npy` entries, stored or
    /// deflated). Each entry's declared size is bounded before it is inflated,
    /// and inflation stops at that size; CRCs are checked.
    public static func npz(path: String) throws -> (train: ImageSet, test: ImageSet?, layout: ArrayLayout) {
        let archive = try openArchive(path)
        var entries: [String: Entry] = [:]
        for entry in archive where entry.type == .file && entry.path.hasSuffix(".npy") {
            entries[String(entry.path.dropLast(4))] = entry
        }
        return try splits(path: path, present: Array(entries.keys)) { name in
            guard let entry = entries[name] else { return nil }
            return try array(entry, named: name, in: archive, path: path)
        }
    }

    /// Every array of an `.npz` archive (`numpy.savez(path, **state_dict)`), by entry name without `.npy`, in archive order.
    public static func allArrays(npz path: String) throws -> [(name: String, array: NumPyArray)] {
        let archive = try openArchive(path)
        return try archive.filter { $0.type == .file && $0.path.hasSuffix(".npy") }.map { entry in
            let name = String(entry.path.dropLast(4))
            return (name, try array(entry, named: name, in: archive, path: path))
        }
    }

    static func openArchive(_ path: String) throws -> Archive {
        do { return try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw DatasetError.badArray(path: path, reason: "it is not a readable zip (.npz) archive: \(error)")
        }
    }

    /// One `.npy` entry of an archive, its declared size bounded before it is inflated.
    static func array(_ entry: Entry, named name: String, in archive: Archive, path: String) throws -> NumPyArray {
        let limit = UInt64(NumPyReader.maximumBytes + NumPyReader.maximumHeaderBytes)
        guard entry.uncompressedSize <= limit else {
            throw DatasetError.badArray(
                path: path, reason: "\(name).npy declares \(entry.uncompressedSize) bytes, more than zoo's 4 GiB limit")
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Int(entry.uncompressedSize))
        do {
            _ = try archive.extract(entry) { chunk in
                guard bytes.count + chunk.count <= Int(entry.uncompressedSize) else {
                    throw DatasetError.badArray(path: path, reason: "\(name).npy inflates past its declared size")
                }
                bytes += chunk
            }
        } catch let e as DatasetError {
            throw e
        } catch {
            throw DatasetError.badArray(path: path, reason: "\(name).npy cannot be extracted (\(error)); the archive is damaged")
        }
        return try NumPyReader.parse(bytes, path: "\(path) \(name).npy")
    }

    /// The arrays of an HDF5 file's root or `group`, read as stored (any
    /// integer or float type), each bounded before it is read.
    public static func hdf5(path: String, group: String?) throws -> (train: ImageSet, test: ImageSet?, layout: ArrayLayout) {
        try withDatasets(hdf5: path, group: group) { g, where_, present in
            try splits(path: where_, present: present) { name in
                guard present.contains(name) else { return nil }
                return try array(name, in: g, where: where_)
            }
        }
    }

    /// `body` on the group (root if nil) of an HDF5 file, its name for
    /// messages and its datasets; HDF5's errors become `DatasetError`s.
    static func withDatasets<T>(hdf5 path: String, group: String?, _ body: (Group, String, [String]) throws -> T) throws -> T {
        let where_ = group.map { "\(path):\($0)" } ?? path
        do {
            let file = try HDF5File.open(path)
            defer { try? file.close() }
            let relative = group.map { String($0.drop { $0 == "/" }) } ?? ""
            let g: Group = relative.isEmpty ? file : try file.openGroup(relative)
            return try body(g, where_, try g.memberNames().filter { try g.objectKind($0) == .dataset })
        } catch let e as DatasetError {
            throw e
        } catch {
            throw DatasetError.badArray(path: where_, reason: "\(error)")
        }
    }
}

extension KerasArrays {
    /// Every dataset of an HDF5 file's `group` (root if nil): a `state_dict`
    /// written with h5py, one dataset per name. Each is bounded before it is read.
    public static func allArrays(hdf5 path: String, group: String?) throws -> [(name: String, array: NumPyArray)] {
        try withDatasets(hdf5: path, group: group) { g, where_, present in
            try present.map { ($0, try array($0, in: g, where: where_)) }
        }
    }

    /// One numeric dataset of `g`, read as stored.
    static func array(_ name: String, in g: Group, where path: String) throws -> NumPyArray {
        let (info, bytes) = try g.readNumeric(name, maxBytes: NumPyReader.maximumBytes)
        guard let dtype = NumPyArray.DType(hdf5TypeName: info.typeName) else {
            throw DatasetError.badArray(path: "\(path) \(name)", reason: "dtype \(info.typeName) is not one zoo reads")
        }
        return NumPyArray(dtype: dtype, shape: info.shape, bytes: bytes)
    }
}

extension NumPyArray {
    /// The values as float32 (float64 rounded to nearest), or nil for an
    /// integer array.
    /// - Throws: `NonFiniteValue` at the first NaN or infinity, or float64
    ///   value beyond float32's range.
    public func floatValues() throws(NonFiniteValue) -> [Float]? {
        guard dtype == .float32 || dtype == .float64 else { return nil }
        var f = [Float](repeating: 0, count: count)
        let problem: NonFiniteValue? = bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let v: Float
                if dtype == .float32 {
                    v = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                } else {
                    let d = Double(bitPattern: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self).littleEndian)
                    guard d.isFinite, abs(d) <= Double(Float.greatestFiniteMagnitude) else { return NonFiniteValue(index: i, value: d) }
                    v = Float(d)
                }
                guard v.isFinite else { return NonFiniteValue(index: i, value: Double(v)) }
                f[i] = v
            }
            return nil
        }
        if let problem { throw problem }
        return f
    }
}

/// A value a float array cannot hold: its flat index and the value.
public struct NonFiniteValue: Error, Sendable {
    public let index: Int
    public let value: Double
}

/// What kind of weights file a path holds, by its first bytes.
public enum WeightsFileKind: Sendable {
    case npz, hdf5, other

    /// By the same signatures `DataSource` recognises data files by.
    public init(path: String) {
        if DataSource.isZip(readPrefix(of: path, count: 8)) {
            self = .npz
        } else if DataSource.isHDF5(path) {
            self = .hdf5
        } else {
            self = .other
        }
    }
}

extension NumPyArray.DType {
    /// The dtype of an HDF5 type name ("uint8", "float32", …).
    init?(hdf5TypeName name: String) {
        let table: [String: Self] = [
            "uint8": .uint8, "int8": .int8, "uint16": .uint16, "int16": .int16, "uint32": .uint32, "int32": .int32,
            "uint64": .uint64, "int64": .int64, "float32": .float32, "float64": .float64,
        ]
        guard let t = table[name] else { return nil }
        self = t
    }
}

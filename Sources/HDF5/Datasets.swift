import CHDF5

#if canImport(Glibc)
    import Glibc
#endif

/// Element types zoo stores, with their in-memory and on-disk HDF5 types.
public protocol HDF5Element {
    static var memoryType: hid_t { get }
    static var fileType: hid_t { get }
    static var typeName: String { get }
    init()
}

extension Float: HDF5Element {
    public static var memoryType: hid_t { zoo_H5T_NATIVE_FLOAT() }
    public static var fileType: hid_t { zoo_H5T_IEEE_F32LE() }
    public static var typeName: String { "float32" }
}

extension Double: HDF5Element {
    public static var memoryType: hid_t { zoo_H5T_NATIVE_DOUBLE() }
    public static var fileType: hid_t { zoo_H5T_IEEE_F64LE() }
    public static var typeName: String { "float64" }
}

extension UInt64: HDF5Element {
    public static var memoryType: hid_t { zoo_H5T_NATIVE_UINT64() }
    public static var fileType: hid_t { zoo_H5T_STD_U64LE() }
    public static var typeName: String { "uint64" }
}

extension Int64: HDF5Element {
    public static var memoryType: hid_t { zoo_H5T_NATIVE_INT64() }
    public static var fileType: hid_t { zoo_H5T_STD_I64LE() }
    public static var typeName: String { "int64" }
}

/// What a dataset holds, without reading it.
public struct DatasetInfo: Equatable, Sendable {
    public let shape: [Int]
    /// "float32", "float64", "int64", "uint64", "int32", "string", … or "other".
    public let typeName: String
    /// Filters in the pipeline ("shuffle", "deflate", "fletcher32", …).
    public let filters: [String]

    public init(shape: [Int], typeName: String, filters: [String]) {
        self.shape = shape
        self.typeName = typeName
        self.filters = filters
    }

    /// Elements (the shape's product, checked not to overflow when read).
    public var count: Int { shape.reduce(1, *) }

    /// "float64 scalar", "uint64[4]".
    public var description: String { Self.describe(typeName, shape) }

    static func describe(_ typeName: String, _ shape: [Int]) -> String {
        shape.isEmpty ? "\(typeName) scalar" : "\(typeName)\(shape)"
    }
}

/// Filters for array datasets: shuffle + gzip + Fletcher-32, or (gzip level
/// nil) Fletcher-32 alone: checksummed but stored as is.
public struct Compression: Sendable {
    public var gzipLevel: UInt32?
    public init(gzipLevel: UInt32? = 1) { self.gzipLevel = gzipLevel }
    /// Fletcher-32 checksums without compression.
    public static let checksumOnly = Compression(gzipLevel: nil)
}

private final class Space: Handle {
    /// The extent: [] for a scalar; an error for a rank over 32, a null
    /// dataspace, or an element count that overflows.
    func shape(of name: String, file: String?) throws -> [Int] {
        let kind = H5Sget_simple_extent_type(id)
        if kind == H5S_SCALAR { return [] }
        guard kind == H5S_SIMPLE else {
            throw HDF5ContentError.wrongKind(file: file, object: name, found: "an empty (null) dataspace", expected: "an array or scalar")
        }
        let rank = try check(H5Sget_simple_extent_ndims(id), "reading the rank of \(name)", file: file)
        guard rank <= 32 else { throw HDF5ContentError.tooMany(file: file, what: "dimensions in \(name)", found: Int(rank), limit: 32) }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 { try check(H5Sget_simple_extent_dims(id, &dims, nil), "reading the shape of \(name)", file: file) }
        var count = 1
        for d in dims {
            guard d <= hsize_t(Int.max), case (let p, false) = count.multipliedReportingOverflow(by: Int(d)) else {
                throw HDF5ContentError.tooLarge(file: file, object: name, found: "shape \(dims)", limit: "\(Int.max) elements")
            }
            count = p
        }
        return dims.map { Int($0) }
    }

    static func simple(_ shape: [Int], file: String?) throws -> Space {
        let dims = shape.map { hsize_t($0) }
        let sid = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
        return Space(try check(sid, "creating a dataspace", file: file), file: file, closer: H5Sclose)
    }
}

private final class PropertyList: Handle {}
private final class Datatype: Handle {}
private final class DatasetHandle: Handle {}
private final class AttributeHandle: Handle {}

extension Group {
    private func openDataset(_ name: String) throws -> DatasetHandle {
        let did = try check(H5Dopen2(id, name, zoo_H5P_DEFAULT()), "opening dataset \(name)", file: file)
        return DatasetHandle(did, file: file, closer: H5Dclose)
    }

    /// Writes a numeric array dataset, chunked (one chunk) with shuffle, gzip and
    /// Fletcher-32 checksums.
    public func write<T: HDF5Element>(
        _ name: String, _ values: UnsafeBufferPointer<T>, shape: [Int],
        compression: Compression = .init()
    ) throws {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        let space = try Space.simple(shape, file: file)
        let dcpl = PropertyList(
            try check(H5Pcreate(zoo_H5P_DATASET_CREATE()), "creating properties", file: file), file: file, closer: H5Pclose)
        if !shape.isEmpty && !shape.contains(0) {
            let chunk = shape.map { hsize_t($0) }
            try check(H5Pset_chunk(dcpl.id, Int32(chunk.count), chunk), "setting chunks of \(name)", file: file)
            if let level = compression.gzipLevel {
                try check(H5Pset_shuffle(dcpl.id), "setting shuffle on \(name)", file: file)
                try check(H5Pset_deflate(dcpl.id, level), "setting gzip on \(name)", file: file)
            }
            try check(H5Pset_fletcher32(dcpl.id), "setting fletcher32 on \(name)", file: file)
        }
        let did = try check(
            H5Dcreate2(id, name, T.fileType, space.id, zoo_H5P_DEFAULT(), dcpl.id, zoo_H5P_DEFAULT()),
            "creating dataset \(name)", file: file)
        let dataset = DatasetHandle(did, file: file, closer: H5Dclose)
        if !values.isEmpty {
            try check(
                H5Dwrite(dataset.id, T.memoryType, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), values.baseAddress),
                "writing dataset \(name)", file: file)
        }
        try dataset.close()
    }

    public func write<T: HDF5Element>(_ name: String, _ values: [T], shape: [Int]? = nil, compression: Compression = .init()) throws {
        try values.withUnsafeBufferPointer { try write(name, $0, shape: shape ?? [values.count], compression: compression) }
    }

    /// Shape, element type and filters of dataset `name` (a hard link; no data is read).
    public func info(_ name: String) throws -> DatasetInfo {
        guard let kind = try objectKind(name) else {
            throw HDF5ContentError.wrongKind(file: file, object: name, found: "missing", expected: "a dataset")
        }
        guard kind == .dataset else {
            throw HDF5ContentError.wrongKind(file: file, object: name, found: "a \(kind.rawValue)", expected: "a dataset")
        }
        let dataset = try openDataset(name)
        let space = Space(try check(H5Dget_space(dataset.id), "reading the shape of \(name)", file: file), file: file, closer: H5Sclose)
        let shape = try space.shape(of: name, file: file)
        let type = Datatype(try check(H5Dget_type(dataset.id), "reading the type of \(name)", file: file), file: file, closer: H5Tclose)
        let typeName = Self.typeName(type.id)
        let dcpl = PropertyList(
            try check(H5Dget_create_plist(dataset.id), "reading the filters of \(name)", file: file), file: file, closer: H5Pclose)
        var filters: [String] = []
        let n = H5Pget_nfilters(dcpl.id)
        for i in 0..<min(max(n, 0), 32) {
            var flags: UInt32 = 0
            var cdNelmts = 0
            var config: UInt32 = 0
            var nameBuf = [CChar](repeating: 0, count: 64)
            let f = H5Pget_filter2(dcpl.id, UInt32(i), &flags, &cdNelmts, nil, 64, &nameBuf, &config)
            switch f {
            case H5Z_FILTER_DEFLATE: filters.append("deflate")
            case H5Z_FILTER_SHUFFLE: filters.append("shuffle")
            case H5Z_FILTER_FLETCHER32: filters.append("fletcher32")
            default: filters.append(String(cString: nameBuf))
            }
        }
        return DatasetInfo(shape: shape, typeName: typeName, filters: filters)
    }

    /// "float32", "int64", "uint8", "string" (variable-length), "fixed-length string", … or "other".
    static func typeName(_ type: hid_t) -> String {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT: return "float\(size * 8)"
        case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + "\(size * 8)"
        case H5T_STRING: return H5Tis_variable_str(type) > 0 ? "string" : "fixed-length string"
        case H5T_COMPOUND: return "compound"
        case H5T_ARRAY: return "array type"
        case H5T_VLEN: return "variable-length sequence"
        case H5T_REFERENCE: return "reference"
        case H5T_ENUM: return "enum"
        case H5T_OPAQUE: return "opaque"
        default: return "other"
        }
    }

    /// Reads a numeric dataset of exactly type `T` (no conversion: a float64
    /// dataset read as uint64 is an error) holding at most `maxCount`
    /// elements. Type and size are checked before anything is allocated.
    /// Checksums are verified as chunks are read; a mismatch is an error.
    public func read<T: HDF5Element>(_ name: String, as type: T.Type = T.self, maxCount: Int) throws -> (values: [T], shape: [Int]) {
        let info = try info(name)
        guard info.typeName == T.typeName else {
            throw HDF5ContentError.wrongType(file: file, object: name, found: info.description, expected: T.typeName)
        }
        guard info.count <= maxCount else {
            throw HDF5ContentError.tooLarge(file: file, object: name, found: info.description, limit: "\(maxCount) elements")
        }
        return (try readData(name, count: info.count), info.shape)
    }

    /// Reads a numeric dataset of any integer or floating-point type (its
    /// `typeName`: "uint8", "int64", "float32", …) as the bytes of that same
    /// type in the machine's byte order, when it holds at most `maxBytes`.
    /// Type and size are checked before anything is allocated.
    public func readNumeric(_ name: String, maxBytes: Int) throws -> (info: DatasetInfo, bytes: [UInt8]) {
        let info = try info(name)
        guard let bits = Int(info.typeName.drop { $0.isLetter }),
            info.typeName.hasPrefix("uint") || info.typeName.hasPrefix("int") || info.typeName.hasPrefix("float")
        else {
            throw HDF5ContentError.wrongType(
                file: file, object: name, found: info.description, expected: "an integer or floating-point array")
        }
        let (total, overflow) = info.count.multipliedReportingOverflow(by: bits / 8)
        guard !overflow, total <= maxBytes else {
            throw HDF5ContentError.tooLarge(file: file, object: name, found: info.description, limit: "\(maxBytes) bytes")
        }
        let dataset = try openDataset(name)
        let type = Datatype(try check(H5Dget_type(dataset.id), "reading the type of \(name)", file: file), file: file, closer: H5Tclose)
        let native = Datatype(
            try check(H5Tget_native_type(type.id, H5T_DIR_ASCEND), "reading the type of \(name)", file: file), file: file, closer: H5Tclose)
        guard H5Tget_size(native.id) == bits / 8 else {
            throw HDF5ContentError.wrongType(file: file, object: name, found: info.description, expected: "a standard-size numeric type")
        }
        var bytes = [UInt8](repeating: 0, count: total)
        if total > 0 {
            try bytes.withUnsafeMutableBytes {
                try check(
                    H5Dread(dataset.id, native.id, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), $0.baseAddress),
                    "reading dataset \(name)", file: file)
            }
        }
        try dataset.close()
        return (info, bytes)
    }

    /// Reads dataset `name` when it holds exactly `T` values of `shape`;
    /// otherwise throws what `mismatch` makes of what it holds (nothing is
    /// read or allocated then).
    public func read<T: HDF5Element>(
        _ name: String, as type: T.Type = T.self, shape: [Int], orThrow mismatch: (DatasetInfo) -> Error
    ) throws -> [T] {
        let info = try info(name)
        guard info.typeName == T.typeName, info.shape == shape else { throw mismatch(info) }
        return try readData(name, count: info.count)
    }

    /// The C string HDF5 returned (nil: empty), refused when over `maxBytes`.
    private func boundedString(_ pointer: UnsafeMutablePointer<CChar>?, maxBytes: Int, object: String) throws -> String {
        guard let pointer else { return "" }
        guard strnlen(pointer, maxBytes + 1) <= maxBytes else {
            throw HDF5ContentError.tooLarge(file: file, object: object, found: "over \(maxBytes) bytes", limit: "\(maxBytes) bytes")
        }
        return String(cString: pointer)
    }

    /// The `count` values of a dataset whose type and size were checked.
    private func readData<T: HDF5Element>(_ name: String, count: Int) throws -> [T] {
        let dataset = try openDataset(name)
        var values = [T](repeating: T(), count: count)
        if count > 0 {
            try values.withUnsafeMutableBufferPointer {
                try check(
                    H5Dread(dataset.id, T.memoryType, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), $0.baseAddress),
                    "reading dataset \(name)", file: file)
            }
        }
        try dataset.close()
        return values
    }

    private static func utf8StringType(file: String?) throws -> Datatype {
        let t = Datatype(try check(H5Tcopy(zoo_H5T_C_S1()), "creating a string type", file: file), file: file, closer: H5Tclose)
        try check(H5Tset_size(t.id, zoo_H5T_VARIABLE()), "creating a string type", file: file)
        try check(H5Tset_cset(t.id, H5T_CSET_UTF8), "creating a string type", file: file)
        return t
    }

    /// Writes a scalar variable-length UTF-8 string dataset (h5py reads it as `str`).
    public func writeString(_ name: String, _ value: String) throws {
        let type = try Self.utf8StringType(file: file)
        let space = try Space.simple([], file: file)
        let did = try check(
            H5Dcreate2(id, name, type.id, space.id, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
            "creating dataset \(name)", file: file)
        let dataset = DatasetHandle(did, file: file, closer: H5Dclose)
        try value.withCString { cs in
            var pointer: UnsafePointer<CChar>? = cs
            try check(
                H5Dwrite(dataset.id, type.id, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), &pointer),
                "writing dataset \(name)", file: file)
        }
        try dataset.close()
    }

    /// Reads a scalar variable-length string dataset of at most `maxBytes`
    /// bytes. (HDF5 1.10's H5Dvlen_get_buf_size crashes on scalar datasets,
    /// so the string is read, at most the file's size, and measured before
    /// anything else looks at it.)
    public func readString(_ name: String, maxBytes: Int = 1 << 20) throws -> String {
        let info = try self.info(name)
        guard info.typeName == "string", info.shape.isEmpty else {
            throw HDF5ContentError.wrongType(file: file, object: name, found: info.description, expected: "a scalar variable-length string")
        }
        let dataset = try openDataset(name)
        let type = try Self.utf8StringType(file: file)
        var pointer: UnsafeMutablePointer<CChar>?
        try check(
            H5Dread(dataset.id, type.id, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), &pointer),
            "reading dataset \(name)", file: file)
        defer { if let pointer { H5free_memory(pointer) } }
        return try boundedString(pointer, maxBytes: maxBytes, object: name)
    }

    // MARK: Attributes

    /// Sets a scalar variable-length UTF-8 string attribute.
    public func setAttribute(_ name: String, _ value: String) throws {
        if H5Aexists(id, name) > 0 { H5Adelete(id, name) }
        let type = try Self.utf8StringType(file: file)
        let space = try Space.simple([], file: file)
        let attr = AttributeHandle(
            try check(
                H5Acreate2(id, name, type.id, space.id, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
                "creating attribute \(name)", file: file), file: file, closer: H5Aclose)
        try value.withCString { cs in
            var pointer: UnsafePointer<CChar>? = cs
            try check(H5Awrite(attr.id, type.id, &pointer), "writing attribute \(name)", file: file)
        }
        try attr.close()
    }

    /// Sets a scalar numeric attribute.
    public func setAttribute<T: HDF5Element>(_ name: String, _ value: T) throws {
        if H5Aexists(id, name) > 0 { H5Adelete(id, name) }
        let space = try Space.simple([], file: file)
        let attr = AttributeHandle(
            try check(
                H5Acreate2(id, name, T.fileType, space.id, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
                "creating attribute \(name)", file: file), file: file, closer: H5Aclose)
        var v = value
        try check(H5Awrite(attr.id, T.memoryType, &v), "writing attribute \(name)", file: file)
        try attr.close()
    }

    public func hasAttribute(_ name: String) -> Bool { H5Aexists(id, name) > 0 }

    /// Opens attribute `name` of this object (or of the child `object`, a hard link).
    private func openAttribute(_ name: String, of object: String = ".") throws -> AttributeHandle {
        AttributeHandle(
            try check(
                H5Aopen_by_name(id, object, name, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
                "opening attribute \(name)", file: file), file: file, closer: H5Aclose)
    }

    /// The stored type name and shape of an open attribute.
    private func describe(_ attr: AttributeHandle, _ name: String) throws -> (type: String, shape: [Int], typeID: Datatype) {
        let type = Datatype(
            try check(H5Aget_type(attr.id), "reading the type of attribute \(name)", file: file), file: file, closer: H5Tclose)
        let space = Space(
            try check(H5Aget_space(attr.id), "reading the shape of attribute \(name)", file: file), file: file, closer: H5Sclose)
        return (Self.typeName(type.id), try space.shape(of: "attribute \(name)", file: file), type)
    }

    /// Reads a scalar string attribute (nil when absent). Anything but a
    /// scalar variable-length string, or one over `maxBytes`, is an error.
    public func stringAttribute(_ name: String, maxBytes: Int = 1 << 16) throws -> String? {
        guard hasAttribute(name) else { return nil }
        return try stringAttribute(name, of: ".", maxBytes: maxBytes)
    }

    private func stringAttribute(_ name: String, of object: String, maxBytes: Int) throws -> String {
        let attr = try openAttribute(name, of: object)
        let (typeName, shape, _) = try describe(attr, name)
        guard typeName == "string", shape.isEmpty else {
            throw HDF5ContentError.wrongType(
                file: file, object: "attribute \(name)", found: DatasetInfo.describe(typeName, shape),
                expected: "a scalar variable-length string")
        }
        let type = try Self.utf8StringType(file: file)
        var pointer: UnsafeMutablePointer<CChar>?
        try check(H5Aread(attr.id, type.id, &pointer), "reading attribute \(name)", file: file)
        defer { if let pointer { H5free_memory(pointer) } }
        return try boundedString(pointer, maxBytes: maxBytes, object: "attribute \(name)")
    }

    /// Reads a scalar numeric attribute of exactly type `T` (nil when
    /// absent). An array, a string or another numeric type is an error, never
    /// converted: HDF5 would write an array's elements past the one scalar.
    public func attribute<T: HDF5Element>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard hasAttribute(name) else { return nil }
        let attr = try openAttribute(name)
        let (typeName, shape, _) = try describe(attr, name)
        guard typeName == T.typeName, shape.isEmpty else {
            throw HDF5ContentError.wrongType(
                file: file, object: "attribute \(name)", found: DatasetInfo.describe(typeName, shape),
                expected: "a scalar \(T.typeName)")
        }
        var v = T()
        try check(H5Aread(attr.id, T.memoryType, &v), "reading attribute \(name)", file: file)
        return v
    }

    /// Names of the attributes of this object, or of its child `object` (a hard link), in name order.
    public func attributeNames(of object: String = ".") throws -> [String] {
        var info = H5O_info_t()
        try check(H5Oget_info_by_name2(id, object, &info, UInt32(H5O_INFO_NUM_ATTRS), zoo_H5P_DEFAULT()), "reading \(object)", file: file)
        guard info.num_attrs <= 1000 else {
            throw HDF5ContentError.tooMany(file: file, what: "attributes on \(object)", found: Int(info.num_attrs), limit: 1000)
        }
        var names: [String] = []
        for i in 0..<hsize_t(info.num_attrs) {
            let n = try check(
                H5Aget_name_by_idx(id, object, H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, zoo_H5P_DEFAULT()),
                "reading an attribute name", file: file)
            guard n <= 4096 else {
                throw HDF5ContentError.tooMany(file: file, what: "bytes in an attribute name", found: Int(n), limit: 4096)
            }
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            try check(
                H5Aget_name_by_idx(id, object, H5_INDEX_NAME, H5_ITER_INC, i, &buf, Int(n) + 1, zoo_H5P_DEFAULT()),
                "reading an attribute name", file: file)
            names.append(String(cString: buf))
        }
        return names
    }

    /// An attribute's type and exact value as text, for digests: "string:VALUE"
    /// or "TYPE:HEX" of a scalar number's bytes. Other kinds (arrays,
    /// compound types) are errors: zoo writes none.
    public func attributeText(_ name: String, of object: String = ".") throws -> String {
        let attr = try openAttribute(name, of: object)
        let (typeName, shape, type) = try describe(attr, name)
        if typeName == "string", shape.isEmpty { return "string:" + (try stringAttribute(name, of: object, maxBytes: 1 << 16)) }
        let native: [String: hid_t] = [
            "float32": zoo_H5T_NATIVE_FLOAT(), "float64": zoo_H5T_NATIVE_DOUBLE(), "int8": zoo_H5T_NATIVE_INT8(),
            "int16": zoo_H5T_NATIVE_INT16(), "int32": zoo_H5T_NATIVE_INT32(), "int64": zoo_H5T_NATIVE_INT64(),
            "uint8": zoo_H5T_NATIVE_UINT8(), "uint16": zoo_H5T_NATIVE_UINT16(), "uint32": zoo_H5T_NATIVE_UINT32(),
            "uint64": zoo_H5T_NATIVE_UINT64(),
        ]
        guard shape.isEmpty, let memoryType = native[typeName], H5Tget_size(type.id) <= 8 else {
            throw HDF5ContentError.wrongType(
                file: file, object: "attribute \(name)", found: DatasetInfo.describe(typeName, shape),
                expected: "a scalar string or number")
        }
        var bytes = [UInt8](repeating: 0, count: 8)
        try check(H5Aread(attr.id, memoryType, &bytes), "reading attribute \(name)", file: file)
        return typeName + ":" + bytes.prefix(H5Tget_size(type.id)).map { String($0, radix: 16) }.joined(separator: ".")
    }
}

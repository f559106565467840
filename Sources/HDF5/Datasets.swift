import CHDF5

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
}

/// Compression settings for array datasets: shuffle + gzip + Fletcher-32.
public struct Compression: Sendable {
    public var gzipLevel: UInt32
    public init(gzipLevel: UInt32 = 1) { self.gzipLevel = gzipLevel }
}

private final class Space: Handle {
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
    public func write<T: HDF5Element>(_ name: String, _ values: UnsafeBufferPointer<T>, shape: [Int],
                                      compression: Compression = .init()) throws {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        let space = try Space.simple(shape, file: file)
        let dcpl = PropertyList(try check(H5Pcreate(zoo_H5P_DATASET_CREATE()), "creating properties", file: file), file: file, closer: H5Pclose)
        if !shape.isEmpty && !shape.contains(0) {
            let chunk = shape.map { hsize_t($0) }
            try check(H5Pset_chunk(dcpl.id, Int32(chunk.count), chunk), "setting chunks of \(name)", file: file)
            try check(H5Pset_shuffle(dcpl.id), "setting shuffle on \(name)", file: file)
            try check(H5Pset_deflate(dcpl.id, compression.gzipLevel), "setting gzip on \(name)", file: file)
            try check(H5Pset_fletcher32(dcpl.id), "setting fletcher32 on \(name)", file: file)
        }
        let did = try check(H5Dcreate2(id, name, T.fileType, space.id, zoo_H5P_DEFAULT(), dcpl.id, zoo_H5P_DEFAULT()),
                            "creating dataset \(name)", file: file)
        let dataset = DatasetHandle(did, file: file, closer: H5Dclose)
        if !values.isEmpty {
            try check(H5Dwrite(dataset.id, T.memoryType, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), values.baseAddress),
                      "writing dataset \(name)", file: file)
        }
        try dataset.close()
    }

    public func write<T: HDF5Element>(_ name: String, _ values: [T], shape: [Int]? = nil, compression: Compression = .init()) throws {
        try values.withUnsafeBufferPointer { try write(name, $0, shape: shape ?? [values.count], compression: compression) }
    }

    /// Shape, element type and filters of dataset `name`.
    public func info(_ name: String) throws -> DatasetInfo {
        let dataset = try openDataset(name)
        let space = Space(try check(H5Dget_space(dataset.id), "reading the shape of \(name)", file: file), file: file, closer: H5Sclose)
        let rank = try check(H5Sget_simple_extent_ndims(space.id), "reading the rank of \(name)", file: file)
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 { H5Sget_simple_extent_dims(space.id, &dims, nil) }
        let type = Datatype(try check(H5Dget_type(dataset.id), "reading the type of \(name)", file: file), file: file, closer: H5Tclose)
        let cls = H5Tget_class(type.id), size = H5Tget_size(type.id)
        var typeName = "other"
        switch cls {
        case H5T_FLOAT: typeName = "float\(size * 8)"
        case H5T_INTEGER: typeName = (H5Tget_sign(type.id) == H5T_SGN_NONE ? "uint" : "int") + "\(size * 8)"
        case H5T_STRING: typeName = "string"
        default: break
        }
        let dcpl = PropertyList(try check(H5Dget_create_plist(dataset.id), "reading the filters of \(name)", file: file), file: file, closer: H5Pclose)
        var filters: [String] = []
        let n = H5Pget_nfilters(dcpl.id)
        for i in 0..<max(n, 0) {
            var flags: UInt32 = 0, cdNelmts = 0, config: UInt32 = 0
            var nameBuf = [CChar](repeating: 0, count: 64)
            let f = H5Pget_filter2(dcpl.id, UInt32(i), &flags, &cdNelmts, nil, 64, &nameBuf, &config)
            switch f {
            case H5Z_FILTER_DEFLATE: filters.append("deflate")
            case H5Z_FILTER_SHUFFLE: filters.append("shuffle")
            case H5Z_FILTER_FLETCHER32: filters.append("fletcher32")
            default: filters.append(String(cString: nameBuf))
            }
        }
        return DatasetInfo(shape: dims.map { Int($0) }, typeName: typeName, filters: filters)
    }

    /// Reads a numeric dataset, converting to `T` (HDF5 converts compatible types).
    /// Checksums are verified as chunks are read; a mismatch is an error.
    public func read<T: HDF5Element>(_ name: String, as type: T.Type = T.self) throws -> (values: [T], shape: [Int]) {
        let shape = try info(name).shape
        let count = shape.reduce(1, *)
        let dataset = try openDataset(name)
        var values = [T](repeating: T(), count: count)
        if count > 0 {
            try values.withUnsafeMutableBufferPointer {
                try check(H5Dread(dataset.id, T.memoryType, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), $0.baseAddress),
                          "reading dataset \(name)", file: file)
            }
        }
        try dataset.close()
        return (values, shape)
    }

    /// Reads a numeric dataset into `out`, which must hold exactly its element count.
    public func read<T: HDF5Element>(_ name: String, into out: UnsafeMutableBufferPointer<T>) throws {
        let dataset = try openDataset(name)
        try check(H5Dread(dataset.id, T.memoryType, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), out.baseAddress),
                  "reading dataset \(name)", file: file)
        try dataset.close()
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
        let did = try check(H5Dcreate2(id, name, type.id, space.id, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
                            "creating dataset \(name)", file: file)
        let dataset = DatasetHandle(did, file: file, closer: H5Dclose)
        try value.withCString { cs in
            var pointer: UnsafePointer<CChar>? = cs
            try check(H5Dwrite(dataset.id, type.id, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), &pointer),
                      "writing dataset \(name)", file: file)
        }
        try dataset.close()
    }

    /// Reads a scalar variable-length string dataset.
    public func readString(_ name: String) throws -> String {
        let info = try self.info(name)
        guard info.typeName == "string", info.shape.isEmpty else {
            throw HDF5Error(operation: "reading \(name) as a string: it is \(info.typeName) of shape \(info.shape)", file: file, stack: [])
        }
        let dataset = try openDataset(name)
        let type = try Self.utf8StringType(file: file)
        var pointer: UnsafeMutablePointer<CChar>?
        try check(H5Dread(dataset.id, type.id, zoo_H5S_ALL(), zoo_H5S_ALL(), zoo_H5P_DEFAULT(), &pointer),
                  "reading dataset \(name)", file: file)
        defer { if let pointer { H5free_memory(pointer) } }
        return pointer.map { String(cString: $0) } ?? ""
    }

    // MARK: Attributes

    /// Sets a scalar variable-length UTF-8 string attribute.
    public func setAttribute(_ name: String, _ value: String) throws {
        if H5Aexists(id, name) > 0 { H5Adelete(id, name) }
        let type = try Self.utf8StringType(file: file)
        let space = try Space.simple([], file: file)
        let attr = AttributeHandle(try check(H5Acreate2(id, name, type.id, space.id, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
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
        let attr = AttributeHandle(try check(H5Acreate2(id, name, T.fileType, space.id, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
                                             "creating attribute \(name)", file: file), file: file, closer: H5Aclose)
        var v = value
        try check(H5Awrite(attr.id, T.memoryType, &v), "writing attribute \(name)", file: file)
        try attr.close()
    }

    public func hasAttribute(_ name: String) -> Bool { H5Aexists(id, name) > 0 }

    /// Reads a scalar string attribute (nil when absent).
    public func stringAttribute(_ name: String) throws -> String? {
        guard hasAttribute(name) else { return nil }
        let attr = AttributeHandle(try check(H5Aopen(id, name, zoo_H5P_DEFAULT()), "opening attribute \(name)", file: file),
                                   file: file, closer: H5Aclose)
        let stored = Datatype(try check(H5Aget_type(attr.id), "reading attribute \(name)", file: file), file: file, closer: H5Tclose)
        guard H5Tget_class(stored.id) == H5T_STRING, H5Tis_variable_str(stored.id) > 0 else {
            throw HDF5Error(operation: "reading attribute \(name): it is not a variable-length string", file: file, stack: [])
        }
        let type = try Self.utf8StringType(file: file)
        var pointer: UnsafeMutablePointer<CChar>?
        try check(H5Aread(attr.id, type.id, &pointer), "reading attribute \(name)", file: file)
        defer { if let pointer { H5free_memory(pointer) } }
        return pointer.map { String(cString: $0) }
    }

    /// Reads a scalar numeric attribute (nil when absent).
    public func attribute<T: HDF5Element>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard hasAttribute(name) else { return nil }
        let attr = AttributeHandle(try check(H5Aopen(id, name, zoo_H5P_DEFAULT()), "opening attribute \(name)", file: file),
                                   file: file, closer: H5Aclose)
        var v = T()
        try check(H5Aread(attr.id, T.memoryType, &v), "reading attribute \(name)", file: file)
        return v
    }
}

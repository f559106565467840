import CHDF5

/// An HDF5 object identifier that is closed deterministically: by `close()`
/// (which reports failure) or, failing that, in `deinit`.
public class Handle {
    private var rawID: hid_t
    /// The identifier. Reading it also switches off HDF5's automatic error
    /// printing for the calling thread (a per-thread setting in thread-safe
    /// builds such as Debian's), so every call made with it stays quiet.
    public var id: hid_t {
        HDF5Library.quiet()
        return rawID
    }
    let file: String?
    private let closer: (hid_t) -> herr_t

    init(_ id: hid_t, file: String?, closer: @escaping (hid_t) -> herr_t) {
        self.rawID = id
        self.file = file
        self.closer = closer
    }

    public func close() throws {
        guard rawID >= 0 else { return }
        let status = closer(id)
        rawID = -1
        try check(status, "closing", file: file)
    }

    deinit { if rawID >= 0 { _ = closer(id) } }
}

/// A group (or the file's root group): holds datasets, groups and attributes.
public class Group: Handle {
    /// Creates a child group.
    public func createGroup(_ name: String) throws -> Group {
        let gid = try check(H5Gcreate2(id, name, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
                            "creating group \(name)", file: file)
        return Group(gid, file: file, closer: H5Gclose)
    }

    public func openGroup(_ name: String) throws -> Group {
        let gid = try check(H5Gopen2(id, name, zoo_H5P_DEFAULT()), "opening group \(name)", file: file)
        return Group(gid, file: file, closer: H5Gclose)
    }

    /// Removes the link `name` (the object's space is not reclaimed).
    public func remove(_ name: String) throws {
        try check(H5Ldelete(id, name, zoo_H5P_DEFAULT()), "removing \(name)", file: file)
    }

    /// Whether a link `name` (a direct child) exists.
    public func contains(_ name: String) -> Bool { H5Lexists(id, name, zoo_H5P_DEFAULT()) > 0 }

    /// Names of the direct children, in name order.
    public func memberNames() throws -> [String] {
        var info = H5G_info_t()
        try check(H5Gget_info(id, &info), "listing group", file: file)
        var names: [String] = []
        for i in 0..<info.nlinks {
            let n = H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, zoo_H5P_DEFAULT())
            try check(n, "reading a link name", file: file)
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, Int(n) + 1, zoo_H5P_DEFAULT())
            names.append(String(cString: buf))
        }
        return names
    }

    /// Whether child `name` is a group (false for datasets and missing names).
    public func isGroup(_ name: String) -> Bool {
        guard contains(name) else { return false }
        // HDF5 1.10 API (Debian 12): H5O_info_t and H5Oget_info_by_name2.
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC), zoo_H5P_DEFAULT()) >= 0 else {
            _ = HDF5Library.errorStack()
            return false
        }
        return info.type == H5O_TYPE_GROUP
    }
}

/// An HDF5 file.
public final class HDF5File: Group {
    public let path: String

    /// Creates (truncates) a file.
    public static func create(_ path: String) throws -> HDF5File {
        HDF5Library.quiet()
        let fid = try check(H5Fcreate(path, zoo_H5F_ACC_TRUNC(), zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()), "creating the file", file: path)
        return HDF5File(fid, path: path)
    }

    /// Opens an existing file read-only (or read-write).
    public static func open(_ path: String, writable: Bool = false) throws -> HDF5File {
        HDF5Library.quiet()
        if H5Fis_hdf5(path) <= 0 {
            _ = HDF5Library.errorStack()
            throw HDF5Error(operation: "opening the file: it is not an HDF5 file (or is truncated or unreadable)", file: path, stack: [])
        }
        let fid = try check(H5Fopen(path, writable ? zoo_H5F_ACC_RDWR() : zoo_H5F_ACC_RDONLY(), zoo_H5P_DEFAULT()),
                            "opening the file", file: path)
        return HDF5File(fid, path: path)
    }

    private init(_ fid: hid_t, path: String) {
        self.path = path
        super.init(fid, file: path, closer: H5Fclose)
    }

    /// Writes buffered data to the file (HDF5 flush; the caller fsyncs).
    public func flush() throws {
        try check(H5Fflush(id, H5F_SCOPE_GLOBAL), "flushing", file: path)
    }
}

import CHDF5

#if canImport(Glibc)
    import Glibc
#endif

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

/// What a link in a group points to. zoo follows hard links only: a soft
/// link can form cycles and an external link opens another file (possibly a
/// FIFO, or a file the user never named).
public enum LinkKind: String, Sendable {
    case hard, soft, external
    case userDefined = "user-defined"
}

/// The kind of object a hard link leads to.
public enum ObjectKind: String, Sendable {
    case group, dataset, other
}

/// A group (or the file's root group): holds datasets, groups and attributes.
public class Group: Handle {
    /// The most links zoo lists in one group, and the most objects a walk of
    /// a file visits (a zoo checkpoint has a few dozen).
    public static let maximumMembers = 10_000

    /// Creates a child group.
    public func createGroup(_ name: String) throws -> Group {
        let gid = try check(
            H5Gcreate2(id, name, zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT(), zoo_H5P_DEFAULT()),
            "creating group \(name)", file: file)
        return Group(gid, file: file, closer: H5Gclose)
    }

    /// Opens the child group `name` (a hard link; soft and external links are refused).
    public func openGroup(_ name: String) throws -> Group {
        guard try objectKind(name) == .group else {
            throw HDF5ContentError.wrongKind(
                file: file, object: name, found: try objectKind(name)?.rawValue ?? "missing", expected: "a group")
        }
        let gid = try check(H5Gopen2(id, name, zoo_H5P_DEFAULT()), "opening group \(name)", file: file)
        return Group(gid, file: file, closer: H5Gclose)
    }

    /// Removes the link `name` (the object's space is not reclaimed).
    public func remove(_ name: String) throws {
        try check(H5Ldelete(id, name, zoo_H5P_DEFAULT()), "removing \(name)", file: file)
    }

    /// Whether a link `name` (a direct child, of any kind) exists. Never follows the link.
    public func contains(_ name: String) -> Bool {
        guard !name.contains("/") else { return false }
        return H5Lexists(id, name, zoo_H5P_DEFAULT()) > 0
    }

    /// The kind of the link `name`, or nil when there is none.
    public func linkKind(_ name: String) throws -> LinkKind? {
        guard contains(name) else { return nil }
        var info = H5L_info_t()
        try check(H5Lget_info(id, name, &info, zoo_H5P_DEFAULT()), "reading the link \(name)", file: file)
        switch info.type {
        case H5L_TYPE_HARD: return .hard
        case H5L_TYPE_SOFT: return .soft
        case H5L_TYPE_EXTERNAL: return .external
        default: return .userDefined
        }
    }

    /// The kind of object the hard link `name` leads to, nil when there is
    /// no such link. A soft, external or user-defined link is an error: zoo
    /// does not follow links.
    public func objectKind(_ name: String) throws -> ObjectKind? {
        guard let link = try linkKind(name) else { return nil }
        guard link == .hard else { throw HDF5ContentError.link(file: file, object: name, kind: link) }
        return try objectInfo(name).kind
    }

    /// Kind and address (identity within the file) of the object behind the hard link `name`.
    func objectInfo(_ name: String) throws -> (kind: ObjectKind, address: UInt64, attributes: Int) {
        // HDF5 1.10 API (Debian 12): H5O_info_t and H5Oget_info_by_name2.
        var info = H5O_info_t()
        try check(
            H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS), zoo_H5P_DEFAULT()),
            "reading object \(name)", file: file)
        let kind: ObjectKind = info.type == H5O_TYPE_GROUP ? .group : info.type == H5O_TYPE_DATASET ? .dataset : .other
        return (kind, UInt64(info.addr), Int(info.num_attrs))
    }

    /// Names of the direct children, in name order (at most `maximumMembers`).
    public func memberNames() throws -> [String] {
        var info = H5G_info_t()
        try check(H5Gget_info(id, &info), "listing group", file: file)
        guard info.nlinks <= UInt64(Self.maximumMembers) else {
            throw HDF5ContentError.tooMany(
                file: file, what: "links in one group", found: Int(clamping: info.nlinks), limit: Self.maximumMembers)
        }
        var names: [String] = []
        for i in 0..<info.nlinks {
            let n = try check(
                H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, zoo_H5P_DEFAULT()),
                "reading a link name", file: file)
            guard n <= 4096 else { throw HDF5ContentError.tooMany(file: file, what: "bytes in a link name", found: Int(n), limit: 4096) }
            var buf = [CChar](repeating: 0, count: Int(n) + 1)
            try check(
                H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buf, Int(n) + 1, zoo_H5P_DEFAULT()),
                "reading a link name", file: file)
            names.append(String(cString: buf))
        }
        return names
    }

    /// Whether child `name` is a group reached by a hard link (false for
    /// datasets and missing names; an error for any other kind of link).
    public func isGroup(_ name: String) throws -> Bool { try objectKind(name) == .group }

    /// Visits every object below this group once (by its address in the
    /// file, so hard-link cycles and shared objects are visited once), through
    /// hard links only, depth first in name order: `visit(group, name, path, kind)`.
    /// Refuses links of other kinds and files with more than `maximumMembers` objects.
    public func walk(_ visit: (Group, String, String, ObjectKind) throws -> Void) throws {
        var seen: Set<UInt64> = []
        func descend(_ g: Group, _ prefix: String) throws {
            for name in try g.memberNames() {
                guard let kind = try g.objectKind(name) else { continue }
                let address = try g.objectInfo(name).address
                guard seen.insert(address).inserted else { continue }
                guard seen.count <= Self.maximumMembers else {
                    throw HDF5ContentError.tooMany(file: file, what: "objects", found: seen.count, limit: Self.maximumMembers)
                }
                try visit(g, name, prefix + name, kind)
                if kind == .group { try descend(try g.openGroup(name), prefix + name + "/") }
            }
        }
        try descend(self, "/")
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

    /// Creates a file that lives in memory only (HDF5's core driver); its
    /// bytes come from `image()`. Writing the image to disk is then the
    /// caller's own I/O, so a full disk is an ordinary write error rather than
    /// a failure inside HDF5 (whose cleanup after a failed write crashes).
    /// - Parameter name: shown in error messages.
    /// - Parameter userBlock: bytes reserved at the start of the file for the
    ///   caller (0, or a power of two ≥ 512); HDF5 ignores them.
    public static func createInMemory(name: String, userBlock: Int = 0) throws -> HDF5File {
        HDF5Library.quiet()
        let fapl = try check(H5Pcreate(zoo_H5P_FILE_ACCESS()), "creating file access properties", file: name)
        defer { H5Pclose(fapl) }
        try check(H5Pset_fapl_core(fapl, 1 << 22, false), "selecting the in-memory driver", file: name)
        let fcpl = try check(H5Pcreate(zoo_H5P_FILE_CREATE()), "creating file creation properties", file: name)
        defer { H5Pclose(fcpl) }
        if userBlock > 0 { try check(H5Pset_userblock(fcpl, hsize_t(userBlock)), "reserving a user block", file: name) }
        let fid = try check(H5Fcreate(name, zoo_H5F_ACC_TRUNC(), fcpl, fapl), "creating the file in memory", file: name)
        return HDF5File(fid, path: name)
    }

    /// The file's bytes (flushes first).
    public func image() throws -> [UInt8] {
        try flush()
        let size = try check(H5Fget_file_image(id, nil, 0), "measuring the file image", file: path)
        var bytes = [UInt8](repeating: 0, count: size)
        let got = try bytes.withUnsafeMutableBytes {
            try check(H5Fget_file_image(id, $0.baseAddress, size), "copying the file image", file: path)
        }
        guard got == size else { throw HDF5Error(operation: "copying the file image (\(got) of \(size) bytes)", file: path, stack: []) }
        return bytes
    }

    /// Opens an existing regular file read-only (or read-write). Anything
    /// else at the path (a FIFO, a device, a directory) is refused before
    /// HDF5 touches it: opening a FIFO would block forever.
    public static func open(_ path: String, writable: Bool = false) throws -> HDF5File {
        HDF5Library.quiet()
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw HDF5ContentError.notARegularFile(file: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw HDF5ContentError.notARegularFile(file: path, reason: "it is \(fileKind(st.st_mode))")
        }
        if H5Fis_hdf5(path) <= 0 {
            _ = HDF5Library.errorStack()
            throw HDF5Error(operation: "opening the file: it is not an HDF5 file (or is truncated or unreadable)", file: path, stack: [])
        }
        let fid = try check(
            H5Fopen(path, writable ? zoo_H5F_ACC_RDWR() : zoo_H5F_ACC_RDONLY(), zoo_H5P_DEFAULT()),
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

/// "a FIFO", "a directory", … for a stat mode.
public func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFREG: return "a regular file"
    case S_IFDIR: return "a directory"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "not a regular file"
    }
}

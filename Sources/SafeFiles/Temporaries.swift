#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file could not be written; the target is left as it was.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "cannot write \(path): \(reason)" }
}

/// The text of `errno` values, with the one users meet most spelled as they search for it.
public func errorText(_ code: Int32) -> String {
    code == ENOSPC ? "no space left on device" : String(cString: strerror(code))
}

/// Hidden temporary files beside a target: `.NAME.tmp-PID`, renamed over
/// NAME when complete. A process killed while writing leaves its temporary
/// behind; the next write to the same target removes those whose process
/// is gone.
public enum Temporaries {
    /// The directory and file name of `path` ("." for a bare name).
    public static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let dir = String(path[..<slash])
        return (dir.isEmpty ? "/" : dir, String(path[path.index(after: slash)...]))
    }

    /// This process's temporary for `path`.
    public static func name(for path: String) -> String {
        let (dir, name) = split(path)
        return "\(dir)/.\(name).tmp-\(getpid())"
    }

    /// Temporaries of `path` left by processes that no longer run (PID in the name).
    public static func stale(for path: String) -> [String] {
        let (dir, name) = split(path)
        let prefix = ".\(name).tmp-"
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var found: [String] = []
        while let entry = readdir(d) {
            let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard entryName.hasPrefix(prefix), let pid = Int32(entryName.dropFirst(prefix.count)), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { found.append("\(dir)/\(entryName)") }
        }
        return found.sorted()
    }

    /// Removes the stale temporaries of `path`; returns how many it removed.
    @discardableResult
    public static func removeStale(for path: String) -> Int {
        stale(for: path).reduce(0) { $0 + (unlink($1) == 0 ? 1 : 0) }
    }
}

/// Writes `bytes` to `path` crash-safely: a temporary file in the same
/// directory, written, fsynced and closed, renamed over `path`, then the
/// directory fsynced. At any instant `path` holds the previous file or the
/// new one; on any failure (a full disk among them) the temporary is removed
/// and the error names the path and the cause.
public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    Temporaries.removeStale(for: path)
    let tmp = Temporaries.name(for: path)
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw FileWriteError(path: path, reason: errorText(errno)) }
    func fail(_ code: Int32, _ what: String = "") -> FileWriteError {
        close(fd)
        unlink(tmp)
        return FileWriteError(path: path, reason: what + errorText(code))
    }
    var done = 0
    let failure: Int32? = bytes.withUnsafeBytes { raw in
        while done < raw.count {
            let n = write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return errno }
            if n == 0 { return EIO }
            done += n
        }
        return nil
    }
    if let failure { throw fail(failure) }
    if fsync(fd) != 0 { throw fail(errno, "fsync: ") }
    if close(fd) != 0 {
        let code = errno
        unlink(tmp)
        throw FileWriteError(path: path, reason: errorText(code))
    }
    if rename(tmp, path) != 0 {
        let code = errno
        unlink(tmp)
        throw FileWriteError(path: path, reason: errorText(code))
    }
    let dirfd = open(Temporaries.split(path).directory, O_RDONLY | O_CLOEXEC)
    if dirfd >= 0 {
        fsync(dirfd)
        close(dirfd)
    }
}

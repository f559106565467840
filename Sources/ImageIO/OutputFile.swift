#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written as it goes, through a hidden temporary file in the target's
/// directory that is renamed over the target by `commit()`. Until then the
/// target is untouched; `abort()` (or deinit without commit) removes the
/// temporary, so a failed or interrupted run leaves nothing half-written.
/// The path "-" writes to standard output directly (no temporary, no rename).
public final class OutputFile {
    public let path: String
    private let temporary: String?
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var finished = false
    private let capacity = 1 << 20

    public init(_ path: String) throws {
        self.path = path
        if path == "-" {
            temporary = nil
            fd = STDOUT_FILENO
        } else {
            let slash = path.lastIndex(of: "/")
            let dir = slash.map { String(path[..<$0]) } ?? "."
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            if name.isEmpty { throw ImageIOError.cannotWrite(path: path, reason: "the path names a directory") }
            var st = stat()
            if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                throw ImageIOError.cannotWrite(path: path, reason: "it is a directory")
            }
            let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(name).tmp-\(getpid())"
            fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw ImageIOError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
            temporary = tmp
        }
        buffer.reserveCapacity(capacity)
    }

    deinit { if !finished { abort() } }

    public func write(_ s: String) throws {
        var s = s
        s.withUTF8 { buffer.append(contentsOf: $0) }
        if buffer.count >= capacity { try flush() }
    }

    public func write(bytes: UnsafeBufferPointer<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    public func flush() throws {
        var done = 0
        let failure: Int32? = buffer.withUnsafeBytes { raw in
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return errno }
                done += n
            }
            return nil
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure { throw ImageIOError.cannotWrite(path: path, reason: String(cString: strerror(failure))) }
    }

    /// Flushes, closes and renames the temporary over the target.
    public func commit() throws {
        try flush()
        finished = true
        guard let temporary else { return }
        if close(fd) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ImageIOError.cannotWrite(path: path, reason: reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ImageIOError.cannotWrite(path: path, reason: reason)
        }
    }

    /// Discards everything written; the target is left as it was.
    public func abort() {
        finished = true
        buffer.removeAll()
        guard let temporary else { return }
        close(fd)
        unlink(temporary)
    }
}

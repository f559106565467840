#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An advisory lock (`flock`) that one run holds on its checkpoint path for
/// its whole duration, so two runs never write the same file. The lock is a
/// hidden file beside the target, `.NAME.lock`, holding the owner's PID; the
/// target itself cannot carry it, since every save renames a new file over it.
public final class RunLock {
    public let path: String
    private let lockPath: String
    private var fd: Int32

    /// The lock could not be taken.
    public enum Failure: Error, CustomStringConvertible {
        /// Another process holds it ("process 1234" when it wrote its PID).
        case held(path: String, holder: String)
        case cannotCreate(path: String, reason: String)

        public var description: String {
            switch self {
            case .held(let p, let holder):
                return "\(p) is in use by another zoo run (\(holder)); wait for it to finish or choose another path"
            case .cannotCreate(let p, let why): return "cannot lock \(p): \(why)"
            }
        }
    }

    /// Takes the lock on `path` without waiting.
    public init(_ path: String) throws {
        self.path = path
        let (dir, name) = Temporaries.split(path)
        lockPath = "\(dir)/.\(name).lock"
        while true {
            let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Failure.cannotCreate(path: path, reason: errorText(errno)) }
            if flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                let holder = Self.holder(fd)
                close(fd)
                if code == EWOULDBLOCK { throw Failure.held(path: path, holder: holder) }
                throw Failure.cannotCreate(path: path, reason: errorText(code))
            }
            // The previous holder may have removed the file between our open
            // and our flock: then we hold a lock on a file nobody else sees.
            var mine = stat()
            var current = stat()
            if fstat(fd, &mine) == 0, stat(lockPath, &current) == 0, mine.st_ino == current.st_ino, mine.st_dev == current.st_dev {
                self.fd = fd
                break
            }
            close(fd)
        }
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private static func holder(_ fd: Int32) -> String {
        var buf = [UInt8](repeating: 0, count: 32)
        let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
        let text = n > 0 ? String(decoding: buf.prefix(n), as: UTF8.self).trimmingCharacters() : ""
        return Int32(text).map { "process \($0)" } ?? "a process that has not written its PID yet"
    }

    /// Removes the lock file and releases the lock (also done by deinit).
    public func release() {
        guard fd >= 0 else { return }
        unlink(lockPath)
        close(fd)
        fd = -1
    }

    deinit { release() }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        var s = Substring(self)
        while let c = s.last, c == "\n" || c == " " || c == "\0" { s = s.dropLast() }
        return String(s)
    }
}

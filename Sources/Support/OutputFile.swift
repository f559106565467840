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
            let name = Temporaries.split(path).name
            if name.isEmpty { throw FileWriteError(path: path, reason: "the path names a directory") }
            var st = stat()
            if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                throw FileWriteError(path: path, reason: "it is a directory")
            }
            Temporaries.removeStale(for: path)
            let tmp = Temporaries.name(for: path)
            fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileWriteError(path: path, reason: errorText(errno)) }
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
        if bytes.count >= capacity {
            // Large blocks go straight to the file, without a copy into the buffer.
            try flush()
            try writeAll(UnsafeRawBufferPointer(bytes))
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= capacity { try flush() }
    }

    public func write(bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { try write(bytes: $0) }
    }

    public func flush() throws {
        defer { buffer.removeAll(keepingCapacity: true) }
        try buffer.withUnsafeBytes { try writeAll($0) }
    }

    private func writeAll(_ raw: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw FileWriteError(path: path, reason: errorText(errno)) }
            if n == 0 { throw FileWriteError(path: path, reason: errorText(EIO)) }
            done += n
        }
    }

    /// Flushes, closes and renames the temporary over the target.
    public func commit() throws { try Self.commit([self]) }

    /// Commits several files as one: all are complete or none changes. Every
    /// temporary is flushed and closed first; then each is renamed over its
    /// target, and if one rename fails the targets already replaced are put
    /// back as they were (from hard-linked backups) before the error is thrown.
    public static func commit(_ files: [OutputFile]) throws {
        do {
            for f in files { try f.finishTemporary() }
        } catch {
            for f in files { f.abort() }
            throw error
        }
        var published: [(file: OutputFile, backup: String?)] = []
        for f in files {
            guard let temporary = f.temporary else { continue }
            var backup: String? = temporary + ".old"
            if link(f.path, backup!) != 0 { backup = nil }
            if rename(temporary, f.path) != 0 {
                let reason = errorText(errno)
                unlink(temporary)
                if let backup { unlink(backup) }
                for (done, saved) in published.reversed() {
                    if let saved { rename(saved, done.path) } else { unlink(done.path) }
                }
                for other in files { if let t = other.temporary { unlink(t) } }
                throw FileWriteError(
                    path: f.path, reason: reason + (files.count > 1 ? "; none of the \(files.count) files was changed" : ""))
            }
            published.append((f, backup))
        }
        for (_, backup) in published { if let backup { unlink(backup) } }
        // The renames themselves are durable once each directory is synced.
        for dir in Set(published.map { Temporaries.split($0.file.path).directory }) {
            let dirfd = open(dir, O_RDONLY | O_CLOEXEC)
            if dirfd >= 0 {
                fsync(dirfd)
                close(dirfd)
            }
        }
    }

    /// Flushes, fsyncs and closes the temporary (nothing is renamed yet), so
    /// that after the rename the target holds the new bytes even after a crash.
    private func finishTemporary() throws {
        try flush()
        guard let temporary else {
            finished = true
            return
        }
        if fsync(fd) != 0 { throw FileWriteError(path: path, reason: "fsync: " + errorText(errno)) }
        finished = true
        if close(fd) != 0 {
            let reason = errorText(errno)
            unlink(temporary)
            throw FileWriteError(path: path, reason: reason)
        }
    }

    /// Discards everything written; the target is left as it was.
    public func abort() {
        let wasOpen = !finished
        finished = true
        buffer.removeAll()
        guard let temporary else { return }
        if wasOpen { close(fd) }
        unlink(temporary)
    }
}

/// Writes `bytes` to `path` crash-safely through an `OutputFile`: a temporary
/// file in the same directory, written, fsynced and closed, renamed over
/// `path`, then the directory fsynced. At any instant `path` holds the
/// previous file or the new one; on any failure (a full disk among them) the
/// temporary is removed and the error names the path and the cause.
public func writeAtomically(_ bytes: [UInt8], to path: String) throws {
    let file = try OutputFile(path)
    try file.write(bytes: bytes)
    try file.commit()
}

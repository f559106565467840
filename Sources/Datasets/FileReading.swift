import Support

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of the regular file at `path` (`Support.readRegularFile`), its
/// problems as `DatasetError`s.
func readRegularFile(_ path: String, maximumBytes: Int) throws -> [UInt8] {
    do { return try Support.readRegularFile(path, maximumBytes: maximumBytes) } catch {
        if error.missing { throw DatasetError.fileMissing(path: path) }
        throw DatasetError.unreadable(path: path, reason: error.reason)
    }
}

/// Up to `count` bytes of the file at `path` from `offset` (fewer at its end;
/// none when it cannot be opened): enough to recognise what a file is.
/// O_NONBLOCK keeps a FIFO from blocking the open.
func readPrefix(of path: String, count: Int, at offset: Int = 0) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: count)
    let n = pread(fd, &bytes, count, off_t(offset))
    return n > 0 ? Array(bytes[0..<n]) : []
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of the regular file at `path`, refusing FIFOs, devices and
/// directories, and files larger than `maximumBytes`, before reading.
func readRegularFile(_ path: String, maximumBytes: Int) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
        if errno == ENOENT { throw DatasetError.fileMissing(path: path) }
        throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
        throw DatasetError.unreadable(
            path: path, reason: "it is not a regular file (a FIFO, device or directory); zoo reads only regular files")
    }
    let size = Int(st.st_size)
    guard size <= maximumBytes else {
        throw DatasetError.unreadable(path: path, reason: "it holds \(size) bytes, more than the \(maximumBytes) zoo reads")
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    var bytes = [UInt8](repeating: 0, count: size)
    var done = 0
    while done < size {
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, size - done, off_t(done)) }
        if n < 0, errno == EINTR { continue }
        guard n > 0 else {
            throw DatasetError.unreadable(path: path, reason: n == 0 ? "it shrank while being read" : String(cString: strerror(errno)))
        }
        done += n
    }
    return bytes
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

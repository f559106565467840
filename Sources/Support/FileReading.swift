#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a file could not be read: it is missing, or the reason in words.
public struct FileReadError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let missing: Bool
    public let reason: String
    public var description: String { missing ? "\(path) does not exist" : "cannot read \(path): \(reason)" }
}

/// The bytes of the regular file at `path`, refusing FIFOs, devices and
/// directories, and files larger than `maximumBytes`, before reading.
public func readRegularFile(_ path: String, maximumBytes: Int) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else {
        throw FileReadError(path: path, missing: errno == ENOENT, reason: String(cString: strerror(errno)))
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
        throw FileReadError(
            path: path, missing: false, reason: "it is not a regular file (a FIFO, device or directory); zoo reads only regular files")
    }
    let size = Int(st.st_size)
    guard size <= maximumBytes else {
        throw FileReadError(path: path, missing: false, reason: "it holds \(size) bytes, more than the \(maximumBytes) zoo reads")
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    var bytes = [UInt8](repeating: 0, count: size)
    var done = 0
    while done < size {
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, size - done, off_t(done)) }
        if n < 0, errno == EINTR { continue }
        guard n > 0 else {
            throw FileReadError(
                path: path, missing: false, reason: n == 0 ? "it shrank while being read" : String(cString: strerror(errno)))
        }
        done += n
    }
    return bytes
}

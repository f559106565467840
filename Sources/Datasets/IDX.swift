import CZlibShim

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An array read from an IDX file (the MNIST family's format): unsigned bytes
/// with dimensions from the header.
public struct IDXArray: Sendable {
    /// Dimensions as read: the first is the item count (possibly limited).
    public let dimensions: [Int]
    public let bytes: [UInt8]
    /// Item count the file announces, before any limit.
    public let itemsInFile: Int
}

/// Reads IDX files, gzip-compressed or raw (zlib's gzread handles both).
///
/// Header: two zero bytes, a type byte (0x08 = unsigned byte, the only type
/// MNIST-family data uses), the rank, then one big-endian UInt32 per dimension.
public enum IDXReader {
    /// Largest payload accepted (guards against absurd headers), 4 GiB.
    public static let maximumBytes = 1 << 32
    /// Deflate cannot expand data by more than 1032:1, so a gzip file of n
    /// bytes holds at most this many times n; a header announcing more is a
    /// lie (a truncated file, or a bomb) and is refused before allocating.
    public static let maximumGzipRatio = 1032

    /// Reads an IDX file of unsigned bytes with the given rank.
    /// - Parameter maxItems: read only the first `maxItems` items (the whole
    ///   file's integrity is then not checked past them).
    public static func read(path: String, rank: Int, maxItems: Int? = nil) throws -> IDXArray {
        // Only regular files: O_NONBLOCK keeps a FIFO from blocking the open,
        // and fstat then refuses it (and devices, directories).
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw DatasetError.fileMissing(path: path) }
            throw DatasetError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw DatasetError.unreadable(
                path: path, reason: "it is not a regular file (a FIFO, device or directory); zoo reads only regular files")
        }
        let fileSize = Int(st.st_size)
        var magic: [UInt8] = [0, 0]
        let isGzip = pread(fd, &magic, 2, 0) == 2 && magic == [0x1F, 0x8B]
        // Blocking reads from here on (a regular file never blocks anyway).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        guard let file = gzdopen(fd, "rb") else {
            close(fd)
            throw DatasetError.unreadable(path: path, reason: "zlib could not open it")
        }
        defer { gzclose_r(file) }
        gzbuffer(file, 1 << 20)

        var header = [UInt8](repeating: 0, count: 4)
        let got = try readBytes(file, path: path, into: &header, count: 4)
        if got == 0 { throw DatasetError.empty(path: path) }
        if got < 4 { throw DatasetError.truncated(path: path, expectedBytes: 4, gotBytes: got) }
        let expected = String(format4: [0, 0, 0x08, UInt8(rank)])
        guard header[0] == 0, header[1] == 0, header[2] == 0x08, Int(header[3]) == rank else {
            throw DatasetError.badMagic(path: path, found: String(format4: header), expected: expected)
        }
        var dimBytes = [UInt8](repeating: 0, count: 4 * rank)
        let gotDims = try readBytes(file, path: path, into: &dimBytes, count: 4 * rank)
        if gotDims < 4 * rank { throw DatasetError.truncated(path: path, expectedBytes: 4 * rank, gotBytes: gotDims) }
        var dims: [Int] = []
        for d in 0..<rank {
            let v = dimBytes[4 * d..<4 * d + 4].reduce(0) { ($0 << 8) | Int($1) }
            dims.append(v)
        }
        if dims.dropFirst().contains(0) {
            throw DatasetError.badShape(path: path, reason: "dimensions \(dims) include a zero item size")
        }
        // Each dimension is below 2^32, so the checks below cannot overflow.
        var itemSize = 1
        for d in dims.dropFirst() {
            guard case (let p, false) = itemSize.multipliedReportingOverflow(by: d), p <= maximumBytes else {
                throw DatasetError.badShape(path: path, reason: "dimensions \(dims) exceed \(maximumBytes) bytes")
            }
            itemSize = p
        }
        guard dims[0] <= maximumBytes / itemSize else {
            throw DatasetError.badShape(path: path, reason: "dimensions \(dims) exceed \(maximumBytes) bytes")
        }
        let headerBytes = 4 + 4 * rank
        let plausible = isGzip ? fileSize * maximumGzipRatio : fileSize - headerBytes
        if dims[0] * itemSize > plausible {
            throw DatasetError.truncated(
                path: path, expectedBytes: dims[0] * itemSize, gotBytes: max(0, isGzip ? plausible : fileSize - headerBytes))
        }
        let items = min(dims[0], maxItems ?? dims[0])
        let total = items * itemSize
        var data = [UInt8](repeating: 0, count: total)
        let read = try readBytes(file, path: path, into: &data, count: total)
        if read < total {
            throw DatasetError.truncated(path: path, expectedBytes: dims[0] * itemSize, gotBytes: read)
        }
        if items == dims[0] {
            // Reading on to the end verifies the gzip CRC and catches trailing data.
            var probe = [UInt8](repeating: 0, count: 1)
            if try readBytes(file, path: path, into: &probe, count: 1) > 0 {
                throw DatasetError.trailingData(path: path)
            }
        }
        let itemsInFile = dims[0]
        dims[0] = items
        return IDXArray(dimensions: dims, bytes: data, itemsInFile: itemsInFile)
    }

    /// Reads up to `count` bytes; returns how many were read. Throws on a
    /// decompression error (corrupt data, bad CRC).
    private static func readBytes(_ file: gzFile, path: String, into buffer: inout [UInt8], count: Int) throws -> Int {
        var done = 0
        try buffer.withUnsafeMutableBytes { raw in
            while done < count {
                let chunk = UInt32(min(count - done, 1 << 30))
                let n = gzread(file, raw.baseAddress! + done, chunk)
                if n < 0 { throw DatasetError.corrupt(path: path, reason: gzipError(file)) }
                if n == 0 {
                    // End of input; gzread reports an unexpected end as Z_BUF_ERROR.
                    var code: Int32 = 0
                    let message = String(cString: gzerror(file, &code))
                    if code != Z_OK && code != Z_BUF_ERROR { throw DatasetError.corrupt(path: path, reason: message) }
                    break
                }
                done += Int(n)
            }
        }
        return done
    }

    private static func gzipError(_ file: gzFile) -> String {
        var code: Int32 = 0
        return String(cString: gzerror(file, &code))
    }
}

extension String {
    init(format4 b: [UInt8]) {
        self =
            "0x"
            + b.map {
                let s = String($0, radix: 16)
                return s.count == 1 ? "0" + s : s
            }.joined()
    }
}

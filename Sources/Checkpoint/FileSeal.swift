import CZlibShim

#if canImport(Glibc)
    import Glibc
#endif

/// A CRC-32 of the whole file, kept in the HDF5 user block (the first 512
/// bytes, which HDF5 and h5py skip) of every checkpoint zoo writes from
/// format 3 on, and checked before HDF5 parses anything: HDF5 1.10 crashes
/// or hangs on some damaged files (a fuzz loop over unsealed files found
/// both), so a damaged sealed file must never reach it.
///
/// The user block reads `zoo-checkpoint-crc32 HEX` (8 hexadecimal digits,
/// zlib's CRC-32) followed by a newline and zeros; the CRC covers every byte
/// after the user block. A CRC catches accidental damage (every burst of up
/// to 32 bits, anything else but one time in 4·10^9) at memory speed; no
/// checksum without a secret key stops a deliberate forger, who can
/// recompute a SHA-256 as easily. Files
/// without a user block (zoo's formats 1 and 2, files written by h5py) start
/// with HDF5's signature and are read unsealed.
enum FileSeal {
    static let size = 512
    static let tag = Array("zoo-checkpoint-crc32 ".utf8)
    static let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The sealed file: the user block, then `image`, the bytes HDF5 gives
    /// for a file made with a `size`-byte user block (its image leaves the
    /// user block out; the addresses inside already count it).
    static func seal(_ image: [UInt8]) -> [UInt8] {
        let header = tag + Array(hex(crc(image, 0)).utf8) + [0x0A]
        return header + [UInt8](repeating: 0, count: size - header.count) + image
    }

    /// zlib's CRC-32 of `bytes`, continuing from `previous`.
    static func crc(_ bytes: [UInt8], _ previous: UInt) -> UInt {
        bytes.withUnsafeBufferPointer { UInt(crc32_z(uLong(previous), $0.baseAddress, z_size_t($0.count))) }
    }

    static func hex(_ v: UInt) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    enum Result: Equatable {
        /// Verified: the file is as zoo wrote it.
        case sealed
        /// No user block: an older or foreign file.
        case unsealed
        /// Damaged or modified; the reason says how.
        case broken(String)
    }

    /// Checks the seal of the regular file open as `fd` of `size` bytes.
    static func check(fd: Int32, fileSize: Int) -> Result {
        var head = [UInt8](repeating: 0, count: size)
        let got = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        if got >= 8, Array(head[0..<8]) == hdf5Signature { return .unsealed }
        guard got == size, fileSize > size, Array(head[0..<tag.count]) == tag else {
            // A 512-byte user block before HDF5's superblock is how zoo seals
            // files: a damaged seal there must not let the file through.
            var next = [UInt8](repeating: 0, count: 8)
            if next.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, 8, off_t(size)) }) == 8, next == hdf5Signature {
                return .broken("its seal (the first bytes of the file) is damaged")
            }
            return .unsealed  // not a zoo file; HDF5 says what it is
        }
        let stored = String(decoding: head[tag.count..<tag.count + 8], as: UTF8.self)
        // The rest of the user block is a newline and zeros: nothing there is unchecked.
        guard head[tag.count + 8] == 0x0A, head[(tag.count + 9)...].allSatisfy({ $0 == 0 }) else {
            return .broken("its seal (the first bytes of the file) is damaged")
        }
        var running: UInt = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 22)
        var offset = size
        while offset < fileSize {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min($0.count, fileSize - offset), off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                return .broken("it could not be read to its end (\(n < 0 ? String(cString: strerror(errno)) : "it shrank"))")
            }
            running = buffer.withUnsafeBufferPointer { UInt(crc32_z(uLong(running), $0.baseAddress, z_size_t(n))) }
            offset += n
        }
        let computed = hex(running)
        return computed == stored
            ? .sealed
            : .broken("its bytes no longer match the CRC-32 zoo stored in it (stored \(stored), now \(computed))")
    }

    /// Checks the seal of the file at `path` (a regular file; others are left to the opener to refuse).
    static func check(path: String) -> Result {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .unsealed }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return .unsealed }
        return check(fd: fd, fileSize: Int(st.st_size))
    }
}

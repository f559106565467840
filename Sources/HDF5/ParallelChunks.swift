import CHDF5
import CZlibShim
import Dispatch

extension Group {
    /// Writes a float32 array like `write(_:_:shape:compression:)` (shuffle, gzip,
    /// Fletcher-32, or Fletcher-32 alone; readers see an ordinary dataset), but split into `chunks`
    /// chunks along the first dimension that are filtered on all cores and
    /// stored with direct chunk writes. Compression is most of a checkpoint's
    /// save time; this divides it by the number of cores.
    public func writeParallel(
        _ name: String, _ values: UnsafeBufferPointer<Float>, shape: [Int],
        chunks requested: Int, compression: Compression = .init()
    ) throws {
        precondition(shape.reduce(1, *) == values.count && !shape.isEmpty && !shape.contains(0))
        let rows = shape[0]
        let rowSize = shape.dropFirst().reduce(1, *)
        let chunkRows = (rows + max(1, requested) - 1) / max(1, requested)
        let chunkCount = (rows + chunkRows - 1) / chunkRows
        let chunkElements = chunkRows * rowSize
        let chunkBytes = chunkElements * 4

        let dims = shape.map { hsize_t($0) }
        let sid = try check(H5Screate_simple(Int32(dims.count), dims, nil), "creating a dataspace", file: file)
        defer { H5Sclose(sid) }
        let dcpl = try check(H5Pcreate(zoo_H5P_DATASET_CREATE()), "creating properties", file: file)
        defer { H5Pclose(dcpl) }
        let chunkDims = [hsize_t(chunkRows)] + shape.dropFirst().map { hsize_t($0) }
        try check(H5Pset_chunk(dcpl, Int32(chunkDims.count), chunkDims), "setting chunks of \(name)", file: file)
        if let level = compression.gzipLevel {
            try check(H5Pset_shuffle(dcpl), "setting shuffle on \(name)", file: file)
            try check(H5Pset_deflate(dcpl, level), "setting gzip on \(name)", file: file)
        }
        try check(H5Pset_fletcher32(dcpl), "setting fletcher32 on \(name)", file: file)
        let did = try check(
            H5Dcreate2(id, name, Float.fileType, sid, zoo_H5P_DEFAULT(), dcpl, zoo_H5P_DEFAULT()),
            "creating dataset \(name)", file: file)
        defer { H5Dclose(did) }

        // Filter every chunk on its own core: shuffle → deflate → Fletcher-32, HDF5's
        // pipeline order (Fletcher-32 alone without compression).
        let capacity = Int(compressBound(uLong(chunkBytes))) + 4
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * chunkCount)
        defer { out.deallocate() }
        let sizes = UnsafeMutablePointer<Int>.allocate(capacity: chunkCount)
        defer { sizes.deallocate() }
        let shared = ChunkWork(
            values: values.baseAddress!, count: values.count, out: out, sizes: sizes,
            capacity: capacity, chunkElements: chunkElements, level: compression.gzipLevel.map { Int32($0) })
        DispatchQueue.concurrentPerform(iterations: chunkCount) { shared.filter(chunk: $0) }
        for c in 0..<chunkCount {
            guard sizes[c] > 0 else {
                throw HDF5Error(operation: "compressing chunk \(c) of \(name)", file: file, stack: [])
            }
            let offset = [hsize_t(c * chunkRows)] + shape.dropFirst().map { _ in hsize_t(0) }
            try check(
                H5Dwrite_chunk(did, zoo_H5P_DEFAULT(), 0, offset, sizes[c], out + c * capacity),
                "writing chunk \(c) of \(name)", file: file)
        }
    }
}

/// One chunk's filtering; chunks touch disjoint parts of `out` and `sizes`,
/// which is what makes sharing these pointers across threads sound.
private struct ChunkWork: @unchecked Sendable {
    let values: UnsafePointer<Float>
    let count: Int
    let out: UnsafeMutablePointer<UInt8>
    let sizes: UnsafeMutablePointer<Int>
    let capacity: Int
    let chunkElements: Int
    /// zlib level, nil for no shuffle and no deflate.
    let level: Int32?

    func filter(chunk c: Int) {
        let n = chunkElements
        let first = c * n
        let dst = out + c * capacity
        guard let level else {
            // Stored as is (elements past the end are zero), then Fletcher-32.
            let present = max(0, min(n, count - first))
            UnsafeMutableRawPointer(dst).copyMemory(from: values + first, byteCount: 4 * present)
            (dst + 4 * present).update(repeating: 0, count: 4 * (n - present))
            appendFletcher32(chunk: c, length: 4 * n)
            return
        }
        // Shuffle: byte plane k holds byte k of every element (elements past the end are zero).
        let shuffled = UnsafeMutablePointer<UInt8>.allocate(capacity: 4 * n)
        defer { shuffled.deallocate() }
        UnsafeRawPointer(values).withMemoryRebound(to: UInt8.self, capacity: 4 * count) { bytes in
            for i in 0..<n {
                let e = first + i
                for k in 0..<4 { shuffled[k * n + i] = e < count ? bytes[4 * e + k] : 0 }
            }
        }
        // Deflate as HDF5's filter does: one zlib stream from compress2.
        var length = uLong(capacity - 4)
        guard compress2(dst, &length, shuffled, uLong(4 * n), level) == Z_OK else {
            sizes[c] = 0
            return
        }
        appendFletcher32(chunk: c, length: Int(length))
    }

    /// Appends the Fletcher-32 of chunk `c`'s first `length` filtered bytes (little-endian) and records its size.
    private func appendFletcher32(chunk c: Int, length: Int) {
        let dst = out + c * capacity
        let sum = fletcher32(dst, length)
        for k in 0..<4 { dst[length + k] = UInt8(truncatingIfNeeded: sum >> (8 * UInt32(k))) }
        sizes[c] = length + 4
    }
}

/// HDF5's Fletcher-32 (H5_checksum_fletcher32): 16-bit big-endian words,
/// sums reduced every 360 words, an odd last byte taken as the high byte.
func fletcher32(_ data: UnsafePointer<UInt8>, _ length: Int) -> UInt32 {
    var sum1: UInt32 = 0
    var sum2: UInt32 = 0
    var words = length / 2
    var i = 0
    while words > 0 {
        let block = min(words, 360)
        words -= block
        for _ in 0..<block {
            sum1 &+= UInt32(data[i]) << 8 | UInt32(data[i + 1])
            sum2 &+= sum1
            i += 2
        }
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    }
    if length % 2 == 1 {
        sum1 &+= UInt32(data[i]) << 8
        sum2 &+= sum1
        sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
        sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    }
    sum1 = (sum1 & 0xFFFF) + (sum1 >> 16)
    sum2 = (sum2 & 0xFFFF) + (sum2 >> 16)
    return sum2 << 16 | sum1
}

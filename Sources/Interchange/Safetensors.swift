import Foundation
import Support

/// One named float32 array, row-major (a state_dict entry).
public struct NamedTensor: Equatable, Sendable {
    public let name: String
    public let shape: [Int]
    public let values: [Float]
    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Hugging Face's safetensors format: an unsigned 64-bit little-endian
/// header length N, N bytes of UTF-8 JSON
/// `{"__metadata__": {"key": "text", …}, "name": {"dtype": "F32", "shape": […], "data_offsets": [begin, end]}, …}`
/// (padded with spaces to a multiple of 8 bytes), then the tensors' bytes,
/// little-endian and row-major, at those offsets from the end of the header.
/// zoo writes and reads float32 only, and checks every offset, size and
/// shape against the file before it allocates anything.
public enum Safetensors {
    /// The header's largest size (safetensors' own limit).
    public static let maximumHeaderBytes = 100_000_000
    /// The largest file zoo reads.
    public static let maximumFileBytes = 1 << 32

    /// The file's bytes: tensors in the order given, contiguous, metadata as strings.
    public static func encode(_ tensors: [NamedTensor], metadata: [String: String]) throws -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for t in tensors {
            let bytes = 4 * t.values.count
            header[t.name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json = Array(try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes]))
        while json.count % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out += json
        for t in tensors {
            t.values.withUnsafeBufferPointer { values in
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
            }
        }
        return out
    }

    /// Writes the file crash-safely (a temporary renamed over `path`): nothing half-written on failure.
    public static func write(_ tensors: [NamedTensor], metadata: [String: String], to path: String) throws {
        try writeAtomically(try encode(tensors, metadata: metadata), to: path)
    }

    /// Reads and checks the file at `path`.
    /// - Throws: `SafetensorsError` naming the file and the problem, `FileReadError`.
    public static func read(from path: String) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        try decode(try readRegularFile(path, maximumBytes: maximumFileBytes), source: path)
    }

    /// The tensors (in the order of their offsets) and metadata of a file's bytes.
    public static func decode(_ bytes: [UInt8], source: String) throws(SafetensorsError) -> (
        tensors: [NamedTensor], metadata: [String: String]
    ) {
        func fail(_ problem: String) -> SafetensorsError { SafetensorsError(path: source, problem: problem) }
        guard bytes.count >= 8 else { throw fail("it holds \(bytes.count) bytes, fewer than the 8 of the header's length") }
        let n = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n >= 2, n <= UInt64(maximumHeaderBytes), n <= UInt64(bytes.count - 8) else {
            throw fail(
                "its header length is \(n) bytes, but the file has \(bytes.count - 8) after it (and a header is 2 to \(maximumHeaderBytes) bytes)"
            )
        }
        let headerEnd = 8 + Int(n)
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])) } catch {
            throw fail("its header is not JSON (\(error.localizedDescription))")
        }
        guard let header = parsed as? [String: Any] else { throw fail("its header is not a JSON object") }
        var metadata: [String: String] = [:]
        if let m = header["__metadata__"] {
            guard let m = m as? [String: Any], let strings = m as? [String: String], strings.count == m.count else {
                throw fail("its __metadata__ is not an object of strings")
            }
            metadata = strings
        }
        let dataLength = bytes.count - headerEnd
        struct Entry {
            let name: String
            let shape: [Int]
            let begin: Int
            let end: Int
        }
        var entries: [Entry] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any] else { throw fail("tensor \"\(name)\" is not described by an object") }
            guard let dtype = info["dtype"] as? String else { throw fail("tensor \"\(name)\" has no dtype") }
            guard dtype == "F32" else {
                throw fail("tensor \"\(name)\" is \(dtype); zoo reads float32 (F32) tensors only (convert them, e.g. tensor.float())")
            }
            guard let shape = (info["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                shape.count == (info["shape"] as? [Any])?.count, shape.allSatisfy({ $0 >= 0 }), shape.count <= 8
            else { throw fail("tensor \"\(name)\" has no valid shape (a list of at most 8 sizes ≥ 0)") }
            guard let offsets = (info["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }), offsets.count == 2,
                offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength
            else {
                throw fail("tensor \"\(name)\" has data_offsets outside the \(dataLength) bytes of data (or not two numbers in order)")
            }
            var count = 1
            for s in shape {
                let (p, overflow) = count.multipliedReportingOverflow(by: s)
                guard !overflow, p <= dataLength else { throw fail("tensor \"\(name)\" of shape \(shape) is larger than the file") }
                count = p
            }
            guard offsets[1] - offsets[0] == 4 * count else {
                throw fail(
                    "tensor \"\(name)\" of shape \(shape) needs \(4 * count) bytes, but its data_offsets span \(offsets[1] - offsets[0])")
            }
            entries.append(Entry(name: name, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        for e in entries {
            guard e.begin == covered else {
                throw fail(
                    e.begin < covered
                        ? "tensor \"\(e.name)\" overlaps the tensor before it (bytes \(e.begin)..<\(e.end) of the data)"
                        : "the data has unused bytes \(covered)..<\(e.begin) before tensor \"\(e.name)\"")
            }
            covered = e.end
        }
        guard covered == dataLength else { throw fail("the data has \(dataLength - covered) bytes after the last tensor") }
        let tensors = entries.map { e in
            NamedTensor(
                name: e.name, shape: e.shape,
                values: (0..<((e.end - e.begin) / 4)).map { i in
                    let at = headerEnd + e.begin + 4 * i
                    return Float(
                        bitPattern: UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3])
                            << 24)
                })
        }
        return (tensors, metadata)
    }
}

/// A safetensors file zoo cannot read, and why.
public struct SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "\(path) is not a safetensors file zoo can read: \(problem)" }
}

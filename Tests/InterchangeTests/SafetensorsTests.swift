import Foundation
import Testing

@testable import Interchange

/// The safetensors writer and reader: a round trip keeps names, shapes,
/// bits and metadata; the layout is the format's (little-endian length,
/// JSON header padded to 8 bytes, contiguous data); every header that lies
/// about its size, offsets, shapes or types is refused, naming the problem,
/// before anything is allocated for the tensors.
@Suite struct SafetensorsTests {
    static let tensors = [
        NamedTensor(name: "fc1.weight", shape: [2, 3], values: [1, -2, 3.5, .leastNonzeroMagnitude, -0.0, .greatestFiniteMagnitude]),
        NamedTensor(name: "fc1.bias", shape: [2], values: [0.25, -7]),
        NamedTensor(name: "encoder.0.weight", shape: [1, 1, 2, 2], values: [1e-30, 2, 3, 4]),
    ]

    @Test func roundTripKeepsEveryBitAndTheMetadata() throws {
        let bytes = try Safetensors.encode(Self.tensors, metadata: ["format": "pt", "config": #"{"a": [1, 2]}"#])
        let n = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        #expect(n % 8 == 0 && bytes.count == 8 + n + 4 * 12)
        let header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        #expect((header["fc1.bias"] as? [String: Any])?["data_offsets"] as? [Int] == [24, 32])
        #expect((header["fc1.weight"] as? [String: Any])?["dtype"] as? String == "F32")
        let (tensors, metadata) = try Safetensors.decode(bytes, source: "t")
        #expect(metadata == ["format": "pt", "config": #"{"a": [1, 2]}"#])
        #expect(tensors.map(\.name) == Self.tensors.map(\.name))
        for (a, b) in zip(tensors, Self.tensors) {
            #expect(a.shape == b.shape && a.values.map(\.bitPattern) == b.values.map(\.bitPattern))
        }
    }

    /// A file with the given header JSON and `data` bytes after it.
    func file(_ header: String, data: Int) -> [UInt8] {
        var json = Array(header.utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = [UInt8]()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out += $0 }
        return out + json + [UInt8](repeating: 0, count: data)
    }

    @Test(arguments: [
        (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]}}"#, 16, "needs 8 bytes, but its data_offsets span 16"),
        (#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, 4, "data_offsets outside the 4 bytes of data"),
        (
            #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#, 8,
            "data_offsets outside the 8 bytes of data (or not two numbers in order)"
        ),
        (#"{"w": {"dtype": "F16", "shape": [2], "data_offsets": [0, 4]}}"#, 4, "tensor \"w\" is F16; zoo reads float32 (F32) tensors only"),
        (#"{"w": {"shape": [2], "data_offsets": [0, 8]}}"#, 8, "tensor \"w\" has no dtype"),
        (#"{"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 8]}}"#, 8, "has no valid shape"),
        (#"{"w": {"dtype": "F32", "shape": [1099511627776, 1099511627776], "data_offsets": [0, 8]}}"#, 8, "is larger than the file"),
        (
            #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}"#,
            12, "tensor \"b\" overlaps the tensor before it"
        ),
        (#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, 8, "the data has unused bytes 0..<4 before tensor \"a\""),
        (#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, 12, "the data has 8 bytes after the last tensor"),
        (#"{"__metadata__": {"n": 3}}"#, 0, "its __metadata__ is not an object of strings"),
        (#"{"w": [1, 2]}"#, 0, "tensor \"w\" is not described by an object"),
        (#"[1, 2]"#, 0, "its header is not a JSON object"),
        (#"{"w": "#, 0, "its header is not JSON"),
    ])
    func lyingHeadersAreRefused(header: String, data: Int, message: String) {
        #expect {
            try Safetensors.decode(file(header, data: data), source: "bad.safetensors")
        } throws: { error in
            "\(error)".contains("bad.safetensors is not a safetensors file zoo can read") && "\(error)".contains(message)
        }
    }

    @Test func aHeaderLengthBeyondTheFileIsRefusedBeforeReadingIt() {
        var bytes = file(#"{}"#, data: 0)
        bytes[0] = 0xFF
        bytes[5] = 0x7F  // a header "length" of about 1.4e14 bytes
        #expect(throws: SafetensorsError.self) { try Safetensors.decode(bytes, source: "x") }
        #expect(throws: SafetensorsError.self) { try Safetensors.decode([1, 2, 3], source: "x") }
    }
}

/// TensorBoard's record checksum: CRC-32C of "123456789" is 0xE3069283
/// (the Castagnoli check value), masked as TensorBoard masks it.
@Suite struct TensorBoardRecordTests {
    @Test func maskedCRC32CMatchesTheCheckValue() {
        let c: UInt32 = 0xE306_9283
        #expect(maskedCRC32C(Array("123456789".utf8)) == ((c >> 15) | (c << 17)) &+ 0xA282_EAD8)
    }
}

import Foundation
import Testing

@testable import Datasets

@Suite struct SHA256Tests {
    /// FIPS 180-2 test vectors.
    @Test func knownVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hex([UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalUpdatesMatchOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for split in [0, 1, 55, 56, 63, 64, 65, 500, 999] {
            var s = SHA256()
            s.update(Array(data[0..<split]))
            s.update(Array(data[split...]))
            #expect(s.finalize() == SHA256.hex(data), "split at \(split)")
        }
    }

    @Test func matchesPythonHashlibOnRealData() throws {
        let set = try DatasetDirectory(path: nil).load(.test, limit: 1000)
        let ours = ImageSet.fingerprint(pixels: set.pixels, labels: set.labels)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [
            "python3", "-c",
            """
            import gzip, hashlib
            d = '/usr/share/datasets/fashion-mnist/'
            x = gzip.open(d + 't10k-images-idx3-ubyte.gz').read()[16:16 + 1000 * 784]
            y = gzip.open(d + 't10k-labels-idx1-ubyte.gz').read()[8:8 + 1000]
            print('sha256:' + hashlib.sha256(x + y).hexdigest())
            """,
        ]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let python = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(ours == python.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

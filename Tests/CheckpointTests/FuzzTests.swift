import Datasets
import Foundation
import TestSupport
import Testing

@testable import Checkpoint

/// A deterministic mutation fuzzer over the checkpoint reader and the IDX
/// reader, bounded in time for CI. Its corpus is Tests/Data/fuzz (a sealed
/// tiny checkpoint, IDX files raw and gzipped). Each mutant must be read or
/// refused with an error, never crash, hang or trap; the test counts both.
@Suite(.serialized) struct FuzzTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Data/fuzz").path

    /// xorshift64*: the same mutants on every run.
    struct Mutator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

        /// 1 to 8 edits: a random byte, a flipped bit, or a 0x00/0xFF/boundary
        /// value, half of them in the first 4 KiB where the headers live.
        mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
            var b = bytes
            for _ in 0..<[1, 1, 2, 4, 8][below(5)] {
                let i = below(2) == 0 ? below(min(b.count, 4096)) : below(b.count)
                switch below(4) {
                case 0: b[i] = UInt8(truncatingIfNeeded: next())
                case 1: b[i] ^= 1 << UInt8(below(8))
                case 2: b[i] = [0x00, 0xFF, 0x7F, 0x80][below(4)]
                default: if b.count > 16 { b.removeLast(below(16) + 1) }
                }
            }
            return b
        }
    }

    @Test func checkpointReaderSurvivesMutants() throws {
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/tiny-v3.h5")))
        #expect(try Checkpoint.read(from: Self.corpus + "/tiny-v3.h5").sealed, "the corpus file is sealed and valid")
        let path = Fixtures.temporaryDirectory("fuzz") + "/m.h5"
        var m = Mutator(state: 0x9E37_79B9_7F4A_7C15)
        var runs = 0
        var refused = 0
        var unchanged = 0
        let deadline = Date().addingTimeInterval(8)
        while Date() < deadline && runs < 5000 {
            let mutant = m.mutate(original)
            // An edit can write the value a byte already had: such a mutant is the original.
            if mutant == original {
                unchanged += 1
                continue
            }
            Fixtures.write(mutant, to: path)
            do { _ = try Checkpoint.read(from: path) } catch { refused += 1 }
            runs += 1
        }
        print("checkpoint fuzz: \(runs) mutants, \(refused) refused, \(runs - refused) read (\(unchanged) edits left the file unchanged)")
        #expect(runs >= 100 && refused == runs, "\(runs) mutants, \(refused) refused: every changed byte of a sealed file is caught")
    }

    @Test func idxReaderSurvivesMutants() throws {
        let dir = Fixtures.temporaryDirectory("fuzz-idx")
        var m = Mutator(state: 0x2545_F491_4F6C_DD1D)
        var runs = 0
        var refused = 0
        let deadline = Date().addingTimeInterval(4)
        let files = ["images-idx3-ubyte.gz", "images-idx3-ubyte", "labels-idx1-ubyte.gz"]
        let originals = try files.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/" + $0))) }
        while Date() < deadline && runs < 20000 {
            let k = m.below(files.count)
            let path = dir + "/" + files[k]
            Fixtures.write(m.mutate(originals[k]), to: path)
            do {
                let a = try IDXReader.read(path: path, rank: files[k].hasPrefix("images") ? 3 : 1)
                #expect(a.bytes.count == a.dimensions.reduce(1, *))
            } catch { refused += 1 }
            runs += 1
        }
        print("IDX fuzz: \(runs) mutants, \(refused) refused, \(runs - refused) read")
        #expect(runs >= 1000 && refused > 0)
    }
}

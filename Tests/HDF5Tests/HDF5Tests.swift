import CHDF5
import Foundation
import TestSupport
import Testing

@testable import HDF5

@Suite struct HDF5Tests {
    func path(_ name: String = "t.h5") -> String { Fixtures.temporaryDirectory("h5") + "/" + name }

    @Test func arraysStringsAndAttributesRoundTrip() throws {
        let p = path()
        let f = try HDF5File.create(p)
        let weights = (0..<(400 * 784)).map { Float($0 % 1000) * 1e-3 - 0.5 }
        try f.write("w", weights, shape: [400, 784])
        try f.write("states", [UInt64.max, 0, 42, 1 << 63], shape: [2, 2])
        try f.write("history", [1.5, 2.5, 3.5] as [Double], shape: [3])
        let g = try f.createGroup("model")
        try g.write("fc1.bias", [Float](repeating: 0.25, count: 400))
        try f.writeString("config", "{\"model\": {\"latent_dim\": 20}, \"note\": \"σ → ε\"}")
        try f.setAttribute("format", "zoo-checkpoint")
        try f.setAttribute("format_version", Int64(1))
        try f.setAttribute("seconds", 12.5)
        try g.close()
        try f.close()

        let r = try HDF5File.open(p)
        let (w, shape) = try r.read("w", as: Float.self, maxCount: 1 << 20)
        #expect(shape == [400, 784])
        #expect(firstDifference(w, weights) == nil)
        #expect(try r.read("states", as: UInt64.self, maxCount: 1 << 20).values == [UInt64.max, 0, 42, 1 << 63])
        #expect(try r.read("history", as: Double.self, maxCount: 1 << 20).values == [1.5, 2.5, 3.5])
        #expect(
            firstDifference(
                try r.openGroup("model").read("fc1.bias", as: Float.self, maxCount: 1 << 20).values, [Float](repeating: 0.25, count: 400))
                == nil)
        #expect(try r.readString("config") == "{\"model\": {\"latent_dim\": 20}, \"note\": \"σ → ε\"}")
        #expect(try r.stringAttribute("format") == "zoo-checkpoint")
        #expect(try r.attribute("format_version", as: Int64.self) == 1)
        #expect(try r.attribute("seconds", as: Double.self) == 12.5)
        #expect(try r.stringAttribute("absent") == nil)
        #expect(try r.memberNames() == ["config", "history", "model", "states", "w"])
        #expect(try r.isGroup("model"))
        #expect(try !r.isGroup("w"))
        #expect(try !r.isGroup("absent"))
        let info = try r.info("w")
        #expect(info == DatasetInfo(shape: [400, 784], typeName: "float32", filters: ["shuffle", "deflate", "fletcher32"]))
        #expect(try r.info("config").typeName == "string")
    }

    @Test func missingObjectIsNamedWithoutTouchingHDF5() throws {
        let p = path()
        try HDF5File.create(p).close()
        let f = try HDF5File.open(p)
        do {
            _ = try f.read("nothing", as: Float.self, maxCount: 1 << 20)
            Issue.record("no error")
        } catch let e as HDF5ContentError {
            #expect(e.description.contains(p) && e.description.contains("nothing is missing, expected a dataset"), "\(e)")
        }
    }

    @Test func notAnHDF5FileAndEmptyFile() throws {
        let p = path("x.h5")
        Fixtures.write(Array("just text".utf8), to: p)
        #expect(throws: HDF5Error.self) { try HDF5File.open(p) }
        Fixtures.write([], to: p)
        do {
            _ = try HDF5File.open(p)
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("not an HDF5 file"))
        }
        #expect(throws: HDF5ContentError.self) { try HDF5File.open(p + ".missing") }
    }

    @Test func corruptedChunkFailsItsChecksum() throws {
        let p = path()
        let f = try HDF5File.create(p)
        // Incompressible values, so the chunk is large and easy to find.
        var state: UInt64 = 7
        let values = (0..<50_000).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1
            return Float(state >> 40) / Float(1 << 24)
        }
        try f.write("w", values, shape: [50_000])
        try f.close()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        // Flip bytes in the middle of the file, inside the compressed chunk.
        for i in stride(from: bytes.count / 2, to: bytes.count / 2 + 64, by: 8) { bytes[i] ^= 0xFF }
        Fixtures.write(bytes, to: p)
        let r = try HDF5File.open(p)
        do {
            _ = try r.read("w", as: Float.self, maxCount: 1 << 20)
            Issue.record("a corrupted chunk was read without error")
        } catch let e as HDF5Error {
            #expect(e.description.contains("reading dataset w"))
        }
    }

    @Test func closeIsExplicitAndIdempotent() throws {
        let f = try HDF5File.create(path())
        try f.close()
        try f.close()
        #expect(f.id == -1)
    }
}

@Suite struct ParallelChunkTests {
    /// Chunks filtered by zoo read back through HDF5's own pipeline, uneven last chunk included.
    @Test(arguments: [[400, 784], [784, 400], [7, 3], [100_001]])
    func parallelWriteReadsBackThroughHDF5sPipeline(shape: [Int]) throws {
        let p = Fixtures.temporaryDirectory("h5") + "/p.h5"
        var s: UInt64 = 5
        let values = (0..<shape.reduce(1, *)).map { _ -> Float in
            s = s &* 6_364_136_223_846_793_005 &+ 1
            return Float(Int64(bitPattern: s) >> 40) * 1e-6
        }
        let f = try HDF5File.create(p)
        try values.withUnsafeBufferPointer { try f.writeParallel("w", $0, shape: shape, chunks: 3) }
        try f.close()
        let r = try HDF5File.open(p)
        let (back, backShape) = try r.read("w", as: Float.self, maxCount: 1 << 20)
        #expect(backShape == shape)
        #expect(firstDifference(back, values) == nil)
        #expect(try r.info("w").filters == ["shuffle", "deflate", "fletcher32"])
    }

    /// Checksummed chunks without compression (what checkpoints use for large
    /// arrays): HDF5 reads them back, sees only Fletcher-32, and a damaged chunk fails.
    @Test(arguments: [[400, 784], [100_001]])
    func uncompressedChunksReadBackAndAreChecksummed(shape: [Int]) throws {
        let p = Fixtures.temporaryDirectory("h5") + "/p.h5"
        let values = (0..<shape.reduce(1, *)).map { Float($0 % 9973) * 0.001 - 3 }
        let f = try HDF5File.create(p)
        try values.withUnsafeBufferPointer { try f.writeParallel("w", $0, shape: shape, chunks: 3, compression: .checksumOnly) }
        try f.close()
        let r = try HDF5File.open(p)
        let (back, backShape) = try r.read("w", as: Float.self, maxCount: 1 << 20)
        #expect(backShape == shape && firstDifference(back, values) == nil)
        #expect(try r.info("w").filters == ["fletcher32"])
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        #expect(bytes.count > 4 * values.count, "stored uncompressed")
        for i in stride(from: bytes.count / 2, to: bytes.count / 2 + 64, by: 8) { bytes[i] ^= 0xFF }
        Fixtures.write(bytes, to: p)
        #expect(throws: HDF5Error.self) { _ = try HDF5File.open(p).read("w", as: Float.self, maxCount: 1 << 20) }
    }

    @Test func corruptionIsStillCaughtByTheChecksum() throws {
        let p = Fixtures.temporaryDirectory("h5") + "/p.h5"
        var s: UInt64 = 9
        let values = (0..<200_000).map { _ -> Float in
            s = s &* 6_364_136_223_846_793_005 &+ 1
            return Float(s >> 40)
        }
        let f = try HDF5File.create(p)
        try values.withUnsafeBufferPointer { try f.writeParallel("w", $0, shape: [200_000], chunks: 4) }
        try f.close()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: p)))
        for i in stride(from: bytes.count / 2, to: bytes.count / 2 + 64, by: 8) { bytes[i] ^= 0xFF }
        Fixtures.write(bytes, to: p)
        do {
            _ = try HDF5File.open(p).read("w", as: Float.self, maxCount: 1 << 20)
            Issue.record("a damaged chunk was read without an error")
        } catch let e as HDF5Error {
            #expect(!e.stack.isEmpty && e.description.contains("HDF5:"), "HDF5's own error stack is in the error: \(e)")
        }
    }

    /// HDF5 filters a chunk itself; its stored checksum (the last 4 bytes, little-endian)
    /// must equal ours over the bytes before it.
    @Test func fletcher32MatchesWhatHDF5Stores() throws {
        let p = Fixtures.temporaryDirectory("h5") + "/f.h5"
        for count in [1000, 1001, 77] {
            let f = try HDF5File.create(p)
            try f.write("w", (0..<count).map { Float($0) * 0.37 })
            try f.close()
            let fid = H5Fopen(p, zoo_H5F_ACC_RDONLY(), zoo_H5P_DEFAULT())
            let did = H5Dopen2(fid, "w", zoo_H5P_DEFAULT())
            var size: hsize_t = 0
            let offset: [hsize_t] = [0]
            #expect(H5Dget_chunk_storage_size(did, offset, &size) >= 0 && size > 4)
            var raw = [UInt8](repeating: 0, count: Int(size))
            var mask: UInt32 = 0
            #expect(H5Dread_chunk(did, zoo_H5P_DEFAULT(), offset, &mask, &raw) >= 0)
            H5Dclose(did)
            H5Fclose(fid)
            let stored = raw[(raw.count - 4)...].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
            #expect(fletcher32(raw, raw.count - 4) == stored, "chunk of \(count) floats")
        }
    }
}

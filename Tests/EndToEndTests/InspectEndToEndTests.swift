import Foundation
import TestSupport
import Testing

@Suite(.serialized) struct InspectEndToEndTests {
    var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("python/check_checkpoint.py").path
    }

    /// h5py + numpy find the documented layout (schemas/checkpoint-layout.json) and the
    /// statistics `zoo inspect --json` reports.
    @Test func inspectJSONAgreesWithH5pyAndNumpy() throws {
        let dir = Fixtures.temporaryDirectory("e2e")
        #expect(try Zoo.run(["train", "--limit", "2000", "--epochs", "2", "--save", dir + "/m.h5"]).status == 0)
        let r = try Zoo.run(["inspect", dir + "/m.h5", "--json", "--verify"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((report["parameters"] as? [Any])?.count == 10)
        #expect((report["verified_datasets"] as? Int ?? 0) >= 30)
        #expect((report["training"] as? [String: Any])?["epoch"] as? Int == 2)
        try Data(r.stdout.utf8).write(to: URL(fileURLWithPath: dir + "/inspect.json"))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let layout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schemas/checkpoint-layout.json").path
        p.arguments = [script, dir + "/m.h5", dir + "/inspect.json", layout]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
    }

    @Test func tablesShowPositionHistoryAndParameters() throws {
        let dir = Fixtures.temporaryDirectory("e2e")
        #expect(try Zoo.run(["train", "--limit", "500", "--epochs", "1", "--save", dir + "/m.h5"]).status == 0)
        let r = try Zoo.run(["inspect", dir + "/m.h5"])
        #expect(r.status == 0)
        for part in [
            "zoo-vae-checkpoint v4", "784-400-20-400-784 (input 1×28×28)", "seal and metadata digest OK", "epoch 1 done", "fc1.weight",
            "400×784", "fc5.bias", "sha256:",
        ] {
            #expect(r.stdout.contains(part), "\(part) in \(r.stdout)")
        }
    }

    @Test func verifyReportsADamagedFile() throws {
        let dir = Fixtures.temporaryDirectory("e2e")
        #expect(try Zoo.run(["train", "--limit", "500", "--epochs", "1", "--save", dir + "/m.h5"]).status == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/m.h5")))
        for i in stride(from: bytes.count / 3, to: 2 * bytes.count / 3, by: 4096) { bytes[i] ^= 0xFF }
        Fixtures.write(bytes, to: dir + "/m.h5")
        let r = try Zoo.run(["inspect", dir + "/m.h5", "--verify"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("damaged") && r.stderr.contains(dir + "/m.h5"), "\(r.stderr)")
        let notCheckpoint = try Zoo.run(["inspect", "/etc/hostname"])
        #expect(notCheckpoint.status != 0 && notCheckpoint.stderr.contains("not a zoo checkpoint"))
    }
}

/// The other direction: a checkpoint written by numpy + h5py, without optimizer or training state.
@Suite(.serialized) struct ForeignCheckpointTests {
    @Test func numpyWrittenModelLoadsInspectsAndResumesWithAFreshOptimizer() throws {
        let dir = Fixtures.temporaryDirectory("e2e")
        let path = dir + "/numpy.h5"
        let writer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("python/write_numpy_checkpoint.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [writer, path]
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)

        let inspect = try Zoo.run(["inspect", path, "--verify"])
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("no training state") && inspect.stdout.contains("written by zoo numpy"))

        let refused = try Zoo.run(["resume", path])
        #expect(refused.status != 0 && refused.stderr.contains("--fresh-optimizer"), "\(refused.stderr)")

        let resumed = try Zoo.run(["resume", path, "--fresh-optimizer", "--epochs", "2"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("epoch 2/2"))
        let after = try Zoo.run(["inspect", path, "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any])
        #expect((report["training"] as? [String: Any])?["epoch"] as? Int == 2)
        #expect(report["optimizer_step"] as? Int == 16)  // 1000 images, batch 128: 8 steps per epoch
    }
}

import Foundation
import NumericCore
import TestSupport
import Testing

@testable import Checkpoint
@testable import Datasets
@testable import HDF5
@testable import NeuralNet
@testable import Training

let data: (train: ImageSet, test: ImageSet)? = {
    guard let dir = try? DatasetDirectory(path: nil),
        let train = try? dir.load(.train, limit: 1000), let test = try? dir.load(.test, limit: 300)
    else { return nil }
    return (train, test)
}()

func config() -> RunConfig {
    var c = RunConfig()
    c.model = ModelConfig(inputShape: [1, 28, 28], hidden: [32], latentDim: 4)
    c.training.batchSize = 100
    c.training.threads = 2
    return c
}

func trainedCheckpoint(stopAfterSteps: Int = 15) throws -> (Trainer, String) {
    let d = try #require(data)
    let t = try Trainer(config: config(), train: d.train, test: d.test)
    while t.globalStep < stopAfterSteps { _ = try t.runEpoch(shouldStop: { t.globalStep >= stopAfterSteps }) }
    let path = Fixtures.temporaryDirectory("ckpt") + "/model.h5"
    try Checkpoint(trainer: t, dataFingerprint: "sha256:" + String(repeating: "ab", count: 32), zooVersion: "test").write(to: path)
    return (t, path)
}

@Suite(.serialized) struct CheckpointTests {
    @Test func roundTripsEverything() throws {
        let (t, path) = try trainedCheckpoint(stopAfterSteps: 13)
        let c = try Checkpoint.read(from: path)
        #expect(c.config == t.config)
        #expect(c.dataFingerprint == "sha256:" + String(repeating: "ab", count: 32) && c.zooVersion == "test")
        #expect(c.training == t.state)
        #expect(c.initializationStream == t.initializationStream)
        #expect(c.optimizer?.step == 13 && c.optimizer?.hyperparameters == t.optimizer.hyperparameters)
        for e in t.model.parameters.entries {
            #expect(firstDifference(c.parameters[e.name] ?? [], t.model.parameters.value(e.name).array) == nil, "\(e.name)")
        }
        // The file's own layout, as h5py users see it.
        let f = try HDF5File.open(path)
        #expect(
            try f.openGroup("model").info("fc1.weight")
                == DatasetInfo(shape: [32, 784], typeName: "float32", filters: ["shuffle", "deflate", "fletcher32"]))
        #expect(
            try f.openGroup("model").memberNames() == [
                "fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight", "fc3.bias", "fc3.weight",
                "fc4.bias", "fc4.weight", "fc5.bias", "fc5.weight",
            ])
        #expect(try f.stringAttribute("format") == "zoo-vae-checkpoint")
        #expect(try f.info("config").typeName == "string")
    }

    /// Save mid-epoch, read back into a fresh trainer, continue: bit-identical to never stopping.
    @Test func resumeThroughTheFileIsBitIdentical() throws {
        let d = try #require(data)
        let straight = try Trainer(config: config(), train: d.train, test: d.test)
        for _ in 0..<3 { _ = try straight.runEpoch() }
        let (_, path) = try trainedCheckpoint(stopAfterSteps: 17)
        let resumed = try Trainer(config: try Checkpoint.read(from: path).config, train: d.train, test: d.test)
        try Checkpoint.read(from: path).apply(to: resumed, path: path)
        while resumed.epoch < 3 { _ = try resumed.runEpoch() }
        #expect(firstDifference(resumed.model.parameters.values.array, straight.model.parameters.values.array) == nil)
        #expect(firstDifference(resumed.optimizer.secondMoment.array, straight.optimizer.secondMoment.array) == nil)
        #expect(resumed.history.map(\.testLoss) == straight.history.map(\.testLoss))
    }

    @Test func saveReplacesAtomicallyAndLeavesNoTemporaryFile() throws {
        let (t, path) = try trainedCheckpoint()
        try Checkpoint(trainer: t, dataFingerprint: "sha256:" + String(repeating: "cd", count: 32), zooVersion: "test").write(to: path)
        #expect(try Checkpoint.read(from: path).dataFingerprint == "sha256:" + String(repeating: "cd", count: 32))
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["model.h5"])
    }
}

/// Each bad file: a CheckpointError naming the file and the problem.
@Suite(.serialized) struct BadCheckpointTests {
    func expectError(_ path: String, _ parts: [String]) {
        do {
            _ = try Checkpoint.read(from: path)
            Issue.record("no error for \(parts)")
        } catch {
            #expect(error is CheckpointError, "\(error)")
            for part in parts + [path] { #expect("\(error)".contains(part), "\(error)") }
        }
    }

    /// Edits the file in place, then signs it as zoo would, so that the
    /// checks behind the seal and the metadata digest are what is tested.
    func edit(_ path: String, _ body: (HDF5File) throws -> Void) throws {
        let f = try HDF5File.open(path, writable: true)
        try body(f)
        try f.close()
        try Checkpoint.resign(at: path)
    }

    @Test func notHDF5EmptyAndTruncated() throws {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.write(Array("not hdf5".utf8), to: dir + "/a.h5")
        expectError(dir + "/a.h5", ["not an HDF5 file"])
        Fixtures.write([], to: dir + "/b.h5")
        expectError(dir + "/b.h5", ["not an HDF5 file"])
        expectError(dir + "/missing.h5", ["does not exist"])
        let (_, path) = try trainedCheckpoint()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        Fixtures.write(Array(bytes.prefix(bytes.count / 2)), to: dir + "/c.h5")
        expectError(dir + "/c.h5", ["is damaged", "no longer match the CRC-32"])
    }

    @Test func foreignHDF5FileAndNewerVersion() throws {
        let dir = Fixtures.temporaryDirectory()
        let f = try HDF5File.create(dir + "/foreign.h5")
        try f.write("x", [Float(1)])
        try f.close()
        expectError(dir + "/foreign.h5", ["did not write"])
        let (_, path) = try trainedCheckpoint()
        try edit(path) { try $0.setAttribute("format_version", Checkpoint.formatVersion + 1) }
        expectError(path, ["format_version \(Checkpoint.formatVersion + 1)", "upgrade zoo"])
    }

    @Test func missingExtraMisshapedAndMistypedParameters() throws {
        var (_, path) = try trainedCheckpoint()
        try edit(path) { try $0.openGroup("model").remove("fc3.bias") }
        expectError(path, ["fc3.bias", "missing"])
        (_, path) = try trainedCheckpoint()
        try edit(path) { try $0.openGroup("model").write("fc9.weight", [Float(0)]) }
        expectError(path, ["fc9.weight", "not a parameter"])
        (_, path) = try trainedCheckpoint()
        try edit(path) { g in
            let m = try g.openGroup("model")
            try m.remove("fc1.weight")
            try m.write("fc1.weight", [Float](repeating: 0, count: 784 * 32), shape: [784, 32])
        }
        expectError(path, ["fc1.weight", "[784, 32]", "[32, 784]"])
        (_, path) = try trainedCheckpoint()
        try edit(path) { g in
            let m = try g.openGroup("model")
            try m.remove("fc1.bias")
            try m.write("fc1.bias", [Double](repeating: 0, count: 32))
        }
        expectError(path, ["fc1.bias", "float64", "float32"])
    }

    @Test func configThatFailsValidation() throws {
        let (_, path) = try trainedCheckpoint()
        try edit(path) { f in
            try f.remove("config")
            try f.writeString("config", "{\"model\": {}}")
        }
        expectError(
            path,
            ["/config", "fails config.schema.json", "$.model: missing required key \"input_shape\"", "missing required key \"training\""])
        try edit(path) { f in
            try f.remove("config")
            var c = config()
            c.training.epochs = 0
            try f.writeString("config", String(decoding: try JSONEncoder().encode(c), as: UTF8.self))
        }
        expectError(path, ["fails config.schema.json", "$.training.epochs: 0 is below the minimum 1"])
    }

    @Test func corruptedChunkIsReported() throws {
        let (_, path) = try trainedCheckpoint()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // The largest datasets fill most of the file: flip bytes across its middle.
        for i in stride(from: bytes.count / 3, to: 2 * bytes.count / 3, by: 4096) { bytes[i] ^= 0xFF }
        Fixtures.write(bytes, to: path)
        expectError(path, ["damaged"])
    }

    @Test func missingOrReadOnlyTargetDirectoryKeepsTheOldFile() throws {
        let (t, path) = try trainedCheckpoint()
        let snapshot = Checkpoint(trainer: t, dataFingerprint: "x", zooVersion: "test")
        #expect(throws: CheckpointError.self) { try snapshot.write(to: "/nonexistent-dir/model.h5") }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        chmod(dir, 0o500)
        defer { chmod(dir, 0o700) }
        if getuid() != 0 {  // root ignores directory permissions
            #expect(throws: CheckpointError.self) { try snapshot.write(to: path) }
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        }
    }
}

@Suite struct VerificationTests {
    /// Every dataset is read once: the model's 10 parameters, 20 moments, the
    /// config, 8 history columns, 5 random streams and, once an epoch has
    /// finished, the 3 latent statistics.
    @Test func verifyReadsEveryDatasetOnce() throws {
        let (t, path) = try trainedCheckpoint()
        #expect(t.epoch >= 1 && t.state.latent != nil)
        #expect(try Checkpoint.verifyDatasets(at: path) == 10 + 20 + 1 + 8 + 5 + 3)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0xFF
        Fixtures.write(bytes, to: path)
        #expect(throws: CheckpointError.self) { try Checkpoint.verifyDatasets(at: path) }
    }

    @Test func parameterStatisticsAreThoseOfTheArrays() throws {
        let (t, path) = try trainedCheckpoint()
        let stats = try Checkpoint.read(from: path).parameterStatistics
        #expect(stats.map(\.name) == t.config.model.parameterShapes.map(\.0))
        let bias = t.model.parameters.value("fc1.bias").array.map(Double.init)
        let mean = bias.reduce(0, +) / Double(bias.count)
        let fc1Bias = try #require(stats.first { $0.name == "fc1.bias" })
        #expect(abs(fc1Bias.mean - mean) <= 1e-12 * max(1, abs(mean)))
        #expect(abs(fc1Bias.norm - bias.reduce(0) { $0 + $1 * $1 }.squareRoot()) <= 1e-12)
    }
}

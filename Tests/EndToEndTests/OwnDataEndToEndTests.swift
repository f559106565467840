import Checkpoint
import Datasets
import Foundation
import TestSupport
import Testing

/// `--data` on a NumPy array (issue 12): real MNIST digits written as `.npy`
/// files, trained with a held-out test split, then evaluated, embedded,
/// sampled and resumed from another directory.
@Suite(.serialized) struct OwnDataEndToEndTests {
    /// The first `count` MNIST test digits as (N, 28, 28) uint8, or as
    /// (N, 784) float32 in [0, 1] when `vectors`.
    static func writeDigits(_ count: Int, to path: String, vectors: Bool = false) throws {
        let digits = try DatasetDirectory(path: Fixtures.mnistTestSet).load(.test, limit: count)
        let bytes =
            vectors
            ? Fixtures.npy(descr: "<f4", shape: [count, 784], data: Fixtures.bytes(digits.pixels.map { Float($0) / 255 }))
            : Fixtures.npy(descr: "|u1", shape: [count, 28, 28], data: digits.pixels)
        Fixtures.write(bytes, to: path)
    }

    @Test func numpyImagesTrainEvaluateEmbedSampleAndResumeFromAnywhere() throws {
        let dir = Fixtures.temporaryDirectory("npy")
        try Self.writeDigits(1200, to: dir + "/digits.npy")
        let t = try Zoo.run(
            [
                "train", "--data", "digits.npy", "--test-split", "200", "--hidden", "64", "--latent-dim", "4", "--epochs", "1", "--save",
                "m.h5",
            ],
            directory: dir)
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stderr.contains("NumPy array \(dir)/digits.npy, uint8 [1200, 28, 28], as grey images, 1000 train / 200 test examples"))
        let saved = try Checkpoint.read(from: dir + "/m.h5")
        #expect(saved.config.data.path == dir + "/digits.npy" && saved.config.data.kind == .numpy && saved.config.data.testSplit == 200)
        #expect(saved.config.model.inputShape == [1, 28, 28])
        let elsewhere = Fixtures.temporaryDirectory("cwd")
        let e = try Zoo.run(["eval", dir + "/m.h5", "--elbo"], directory: elsewhere)
        #expect(e.status == 0 && e.stderr.contains("200 test images from \(dir)/digits.npy"), "\(e.stderr)")
        // The held-out split is the one training evaluated: the same −ELBO as the last epoch's test loss.
        let testLoss = try #require(saved.training?.history.last?.testLoss)
        #expect(e.stdout.contains(String(format: "%.2f", testLoss)), "\(testLoss) in \(e.stdout)")
        let m = try Zoo.run(["embed", dir + "/m.h5", "--csv", "e.csv", "--plot", "e.png"], directory: elsewhere)
        #expect(m.status == 0, "\(m.stderr)")
        let rows = try String(contentsOfFile: elsewhere + "/e.csv", encoding: .utf8).split(separator: "\r\n")
        #expect(rows.count == 201 && rows[1].hasPrefix("0,test,0,"))
        let s = try Zoo.run(["sample", dir + "/m.h5", "--n", "8", "--out", "s.png"], directory: elsewhere)
        #expect(s.status == 0 && pngSize(elsewhere + "/s.png") != nil, "\(s.stderr)")
        let r = try Zoo.run(["resume", dir + "/m.h5", "--epochs", "2"], directory: elsewhere)
        #expect(r.status == 0, "\(r.stderr)")

        // A changed array is other data: resume refuses it by fingerprint.
        try Self.writeDigits(1100, to: dir + "/digits.npy")
        let changed = try Zoo.run(["resume", dir + "/m.h5", "--epochs", "3"])
        #expect(changed.status != 0 && changed.stderr.contains("the training data differs"), "\(changed.stderr)")
    }

    @Test func floatVectorsTrainWithAGaussianDecoder() throws {
        let dir = Fixtures.temporaryDirectory("vec")
        try Self.writeDigits(600, to: dir + "/x.npy", vectors: true)
        let t = try Zoo.run([
            "train", "--data", dir + "/x.npy", "--decoder", "gaussian", "--test-split", "100", "--hidden", "32", "--latent-dim", "3",
            "--epochs", "1", "--save", dir + "/m.h5",
        ])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(t.stderr.contains("float32 [600, 784], as vectors"))
        #expect(try Checkpoint.read(from: dir + "/m.h5").config.model.inputShape == [784])
        let e = try Zoo.run(["eval", dir + "/m.h5", "--elbo"])
        #expect(e.status == 0, "\(e.stderr)")
    }

    @Test(arguments: [
        (["--test-split", "600"], "--test-split 600 would hold out every one of the 600 examples"),
        (["--recipe", "cvae"], "has no labels, so a conditional model (10 label classes) cannot train on it"),
        (
            ["--decoder", "bernoulli", "--data-scale", "3"],
            "outside [0, 1], which the Bernoulli decoder cannot model; use --decoder gaussian"
        ),
    ])
    func badRequestsOnNumpyDataNameTheProblem(arguments: [String], message: String) throws {
        let dir = Fixtures.temporaryDirectory("badnpy")
        var args = arguments
        if let i = args.firstIndex(of: "--data-scale") {
            // Values up to 3: a float64 array outside [0, 1].
            let digits = try DatasetDirectory(path: Fixtures.mnistTestSet).load(.test, limit: 600)
            Fixtures.write(
                Fixtures.npy(descr: "<f8", shape: [600, 28, 28], data: Fixtures.bytes(digits.pixels.map { 3 * Double($0) / 255 })),
                to: dir + "/x.npy")
            args.removeSubrange(i...(i + 1))
        } else {
            try Self.writeDigits(600, to: dir + "/x.npy")
        }
        let r = try Zoo.run(["train", "--data", dir + "/x.npy", "--epochs", "1"] + args)
        #expect(r.status != 0 && r.status < 128 && r.stderr.contains(message), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["x.npy"])
    }
}

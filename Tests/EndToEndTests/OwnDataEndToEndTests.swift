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
            "outside [0, 1], where the bernoulli and gaussian decoders' means lie; use --decoder gaussian-linear"
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

    /// The Keras-named files numpy and h5py write (Tests/python/write_keras_arrays.py), made once.
    static let kerasFiles: Result<String, Error> = Result {
        let dir = Fixtures.temporaryDirectory("keras")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [repository.appendingPathComponent("Tests/python/write_keras_arrays.py").path, dir]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw FixtureError(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        return dir
    }

    struct FixtureError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// A labelled .npz with its own test split trains a conditional model; an
    /// HDF5 group of Fashion-MNIST float32 images trains, evaluates and embeds.
    @Test func npzAndHDF5FilesTrainWithTheirSplitsAndLabels() throws {
        let dir = try Self.kerasFiles.get()
        let out = Fixtures.temporaryDirectory("keras-run")
        let z = try Zoo.run([
            "train", "--data", dir + "/mnist.npz", "--recipe", "cvae", "--hidden", "32", "--latent-dim", "4", "--epochs", "1", "--save",
            out + "/z.h5",
        ])
        #expect(z.status == 0, "\(z.stderr)")
        #expect(
            z.stderr.contains("NumPy archive \(dir)/mnist.npz, x_train 1000, as grey images, labelled, 1000 train / 200 test examples"))
        let zs = try Zoo.run(["sample", out + "/z.h5", "--n", "10", "--label", "3", "--out", out + "/z.png"])
        #expect(zs.status == 0, "\(zs.stderr)")
        let ze = try Zoo.run(["eval", out + "/z.h5", "--elbo", "--nll", "--iw-samples", "10", "--limit", "50"])
        #expect(ze.status == 0 && ze.stderr.contains("50 test images from \(dir)/mnist.npz"), "\(ze.stderr)")
        let zr = try Zoo.run(["resume", out + "/z.h5", "--epochs", "2"])
        #expect(zr.status == 0, "\(zr.stderr)")

        let h = try Zoo.run([
            "train", "--data", dir + "/fashion.h5:/fashion", "--hidden", "32", "--latent-dim", "4", "--epochs", "1", "--save",
            out + "/h.h5",
        ])
        #expect(h.status == 0, "\(h.stderr)")
        #expect(h.stderr.contains("HDF5 file \(dir)/fashion.h5:/fashion, x_train 1000"))
        let saved = try Checkpoint.read(from: out + "/h.h5")
        #expect(saved.config.data.kind == .hdf5 && saved.config.data.path == dir + "/fashion.h5:/fashion")
        #expect(saved.config.data.arrays == ["x_train", "y_train", "x_test", "y_test"])
        let e = try Zoo.run(["eval", out + "/h.h5", "--elbo"])
        #expect(e.status == 0 && e.stderr.contains("200 test images"), "\(e.stderr)")
        let m = try Zoo.run(["embed", out + "/h.h5", "--plot", out + "/h.png"])
        #expect(m.status == 0 && pngSize(out + "/h.png") != nil, "\(m.stderr)")
        let hs = try Zoo.run(["sample", out + "/h.h5", "--traverse", "--image", "3", "--out", out + "/t.png"])
        #expect(hs.status == 0 && pngSize(out + "/t.png") != nil, "a traversal of an x_test image: \(hs.stderr)")
        let hr = try Zoo.run(["resume", out + "/h.h5", "--epochs", "2"])
        #expect(hr.status == 0, "\(hr.stderr)")

        let plain = try Zoo.run(["train", "--data", dir + "/mnist-plain.npz", "--hidden", "16", "--epochs", "1", "--test-split", "100"])
        #expect(plain.status == 0 && plain.stderr.contains("unlabelled, 900 train / 100 test examples"), "\(plain.stderr)")
    }

    @Test(arguments: [
        ("bad-no-x-train.npz", "it has no x_train array (it holds images)"),
        ("bad-test-shape.npz", "x_test holds examples of shape [28, 20] but x_train of [28, 28]"),
        ("bad-label-count.npz", "it holds labels of shape [999] for 1000 examples"),
        ("bad-object.npz", "it holds Python objects (dtype |O)"),
        ("bad-label-range.npz", "label 300 at index 3; labels must be class indices 0…255"),
        ("bad-label-float.npz", "labels must be integers, not float64"),
        ("bad-no-x-train.h5", "it has no x_train array (it holds images)"),
        ("bad-string.h5", "x_train is fixed-length string[3], expected an integer or floating-point array"),
        ("fashion.h5", "it has no x_train array (it holds none)"),
        ("fashion.h5:/elsewhere", "elsewhere is missing, expected a group"),
        ("mnist.npz --test-split 10", "has its own test split (t10k-* or x_test)"),
    ])
    func badKerasFilesNameTheProblem(file: String, message: String) throws {
        let dir = try Self.kerasFiles.get()
        let parts = file.split(separator: " ").map(String.init)
        let r = try Zoo.run(["train", "--data", dir + "/" + parts[0], "--epochs", "1"] + parts.dropFirst())
        #expect(r.status == 1 && r.stderr.contains(message) && r.stderr.contains(dir), "\(r.stderr)")
    }

    /// scikit-learn's iris as a CSV table: string labels become sorted
    /// classes whose names the checkpoint keeps; the linear Gaussian decoder
    /// models the unscaled measurements.
    @Test func csvTableWithStringLabelsTrainsAndKeepsTheClassNames() throws {
        let iris = repository.appendingPathComponent("Tests/Data/sklearn/iris.csv").path
        let dir = Fixtures.temporaryDirectory("csv")
        let t = try Zoo.run([
            "train", "--data", iris, "--label-column", "species", "--decoder", "gaussian-linear", "--sigma", "1", "--hidden", "16",
            "--latent-dim", "2", "--batch-size", "16", "--epochs", "5", "--test-split", "30", "--save", dir + "/m.h5",
        ])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(
            t.stderr.contains(
                "150 rows × 4 numeric columns, label column 'species' (3 classes: setosa, versicolor, virginica), 120 train / 30 test"))
        let saved = try Checkpoint.read(from: dir + "/m.h5")
        #expect(saved.config.data.kind == .csv && saved.config.data.labelColumn == "species")
        #expect(saved.config.data.classNames == ["setosa", "versicolor", "virginica"] && saved.config.model.inputShape == [4])
        let losses = saved.training?.history.compactMap(\.testLoss) ?? []
        #expect(losses.count == 5 && losses.last! < losses.first!, "the test loss falls: \(losses)")
        let e = try Zoo.run(["embed", dir + "/m.h5", "--split", "all", "--csv", dir + "/e.csv", "--plot", dir + "/e.png"])
        #expect(e.status == 0, "\(e.stderr)")
        let rows = try String(contentsOfFile: dir + "/e.csv", encoding: .utf8).split(separator: "\r\n")
        #expect(rows.count == 151)
        let c = try Zoo.run([
            "train", "--data", iris, "--label-column", "species", "--recipe", "cvae", "--decoder", "gaussian-linear", "--epochs", "1",
        ])
        #expect(c.status == 0, "a conditional model on the CSV's labels: \(c.stderr)")
    }

    @Test(arguments: [
        (["--label-column", "colour"], "there is no column 'colour' for --label-column; the columns are sepal length (cm)"),
        (
            ["--decoder", "gaussian"],
            "holds values in [0.1, 7.9], outside [0, 1], where the bernoulli and gaussian decoders' means lie; use --decoder gaussian-linear"
        ),
    ])
    func badCSVRequestsNameTheProblem(arguments: [String], message: String) throws {
        let iris = repository.appendingPathComponent("Tests/Data/sklearn/iris.csv").path
        let r = try Zoo.run(["train", "--data", iris, "--epochs", "1"] + arguments)
        #expect(r.status == 1 && r.stderr.contains(message), "\(r.stderr)")
    }

    /// scikit-learn's wine, whose 13 measurements range from 0.1 to 1680:
    /// standardized by the training split's statistics, which the checkpoint
    /// keeps, so evaluation and a resume see the same numbers.
    @Test func standardizedCSVTrainsEvaluatesAndResumesToTheSameBits() throws {
        let wine = repository.appendingPathComponent("Tests/Data/sklearn/wine.csv").path
        let dir = Fixtures.temporaryDirectory("wine")
        let common = [
            "--data", wine, "--label-column", "cultivar", "--standardize", "--decoder", "gaussian-linear", "--sigma", "1", "--hidden", "16",
            "--latent-dim", "2", "--batch-size", "16", "--test-split", "40", "--threads", "1",
        ]
        let whole = try Zoo.run(["train"] + common + ["--epochs", "4", "--save", dir + "/whole.h5"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let half = try Zoo.run(["train"] + common + ["--epochs", "2", "--save", dir + "/half.h5"])
        #expect(half.status == 0, "\(half.stderr)")
        let r = try Zoo.run(["resume", dir + "/half.h5", "--epochs", "4"])
        #expect(r.status == 0, "\(r.stderr)")
        let (a, b) = (try Checkpoint.read(from: dir + "/whole.h5"), try Checkpoint.read(from: dir + "/half.h5"))
        #expect(a.parameters == b.parameters && a.optimizer?.secondMoment == b.optimizer?.secondMoment)
        let s = try #require(a.standardization)
        #expect(s.mean.count == 13 && s.std.allSatisfy { $0 > 0 } && s.mean[12] > 500, "proline's mean is in the hundreds: \(s.mean[12])")
        #expect(b.standardization == s)
        let losses = a.training?.history.compactMap(\.testLoss) ?? []
        #expect(losses.count == 4 && losses.last! < losses.first!, "\(losses)")

        let e = try Zoo.run(["eval", dir + "/whole.h5", "--elbo", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        #expect((report["data"] as? [String: Any])?["standardized"] as? Bool == true)
        let elbo = try #require((report["elbo"] as? [String: Any])?["negative_elbo"] as? Double)
        #expect(abs(elbo - losses.last!) < 1e-9 * abs(elbo), "eval reproduces the last test loss: \(elbo) vs \(losses.last!)")
    }

    @Test(arguments: [
        (
            ["--decoder", "bernoulli"],
            "--standardize: standardized data leaves [0, 1], so it needs --decoder gaussian-linear, not bernoulli"
        ),
        (["--decoder", "gaussian-linear", "--binarize", "static"], "standardized data cannot also be binarized (--binarize static)"),
    ])
    func standardizeNeedsTheLinearGaussian(arguments: [String], message: String) throws {
        let wine = repository.appendingPathComponent("Tests/Data/sklearn/wine.csv").path
        let r = try Zoo.run(["train", "--data", wine, "--standardize", "--epochs", "1"] + arguments)
        #expect(r.status != 0 && r.stderr.contains(message), "\(r.stderr)")
    }

    /// A model of vectors has no picture: `zoo sample` writes rows (CSV or
    /// .npy) and `--samples-dir` writes CSV rows each epoch, never nothing.
    @Test func vectorModelsSampleAsRows() throws {
        let iris = repository.appendingPathComponent("Tests/Data/sklearn/iris.csv").path
        let dir = Fixtures.temporaryDirectory("rows")
        let t = try Zoo.run([
            "train", "--data", iris, "--decoder", "gaussian-linear", "--hidden", "8", "--latent-dim", "2", "--epochs", "1",
            "--test-split", "30", "--save", dir + "/m.h5", "--samples-dir", dir + "/s",
        ])
        #expect(t.status == 0, "\(t.stderr)")
        let sampled = try String(contentsOfFile: dir + "/s/sampled-1.csv", encoding: .utf8).split(separator: "\r\n")
        #expect(sampled.count == 129 && sampled[0] == "x_0,x_1,x_2,x_3")
        let pairs = try String(contentsOfFile: dir + "/s/reconst-1.csv", encoding: .utf8).split(separator: "\r\n")
        #expect(pairs.count == 17 && pairs[1].hasPrefix("input,") && pairs[16].hasPrefix("reconstruction,"))
        let csv = try Zoo.run(["sample", dir + "/m.h5", "--n", "5", "--out", dir + "/x.csv"])
        let written = try String(contentsOfFile: dir + "/x.csv", encoding: .utf8)
        #expect(csv.status == 0 && written.split(separator: "\r\n").count == 6, "\(csv.stderr)")
        let npy = try Zoo.run(["sample", dir + "/m.h5", "--n", "5", "--out", dir + "/x.npy"])
        #expect(npy.status == 0, "\(npy.stderr)")
        let array = try NumPyReader.read(path: dir + "/x.npy")
        #expect(array.dtype == .float32 && array.shape == [5, 4])
        let png = try Zoo.run(["sample", dir + "/m.h5", "--out", dir + "/x.png"])
        #expect(png.status == 1 && png.stderr.contains("write the samples as rows with --out NAME.csv or NAME.npy"), "\(png.stderr)")
    }

    /// Colour images of a non-square size, channels-last: grids in colour and in their own shape.
    @Test func colourImagesGetColourGridsOfTheirShape() throws {
        let digits = try DatasetDirectory(path: Fixtures.mnistTestSet).load(.test, limit: 300)
        // (N, 12, 10, 3): the top-left 12×10 of each digit, as red, its negative as green, half as blue.
        var rgb: [UInt8] = []
        for i in 0..<300 {
            for y in 0..<12 {
                for x in 0..<10 {
                    let v = digits.pixels[i * 784 + (y + 8) * 28 + x + 9]
                    rgb += [v, 255 - v, v / 2]
                }
            }
        }
        let dir = Fixtures.temporaryDirectory("rgb")
        Fixtures.write(Fixtures.npy(descr: "|u1", shape: [300, 12, 10, 3], data: rgb), to: dir + "/rgb.npy")
        let t = try Zoo.run([
            "train", "--data", dir + "/rgb.npy", "--hidden", "16", "--latent-dim", "2", "--epochs", "1", "--test-split", "50",
            "--samples-dir", dir + "/s", "--save", dir + "/m.h5",
        ])
        #expect(t.status == 0 && t.stderr.contains("as channels-last (N, H, W, C) images, moved to (C, H, W)"), "\(t.stderr)")
        #expect(try Checkpoint.read(from: dir + "/m.h5").config.model.inputShape == [3, 12, 10])
        for name in ["sampled-1.png", "reconst-1.png"] {
            let bytes = try #require(FileManager.default.contents(atPath: dir + "/s/" + name))
            #expect(bytes.count > 26 && bytes[25] == 2, "\(name) is an RGB PNG (colour type 2)")
        }
        // 10 wide, 12 high at scale 6: 60 × 72 tiles, 1-pixel gutters.
        #expect(pngSize(dir + "/s/sampled-1.png").map { $0.width == 16 * 61 + 1 && $0.height == 8 * 73 + 1 } == true)
        let s = try Zoo.run(["sample", dir + "/m.h5", "--n", "4", "--out", dir + "/g.png"])
        let grid = try Data(contentsOf: URL(fileURLWithPath: dir + "/g.png"))
        #expect(s.status == 0 && grid[25] == 2, "\(s.stderr)")
    }

    /// Patches of scikit-learn's two sample photographs (Tests/Data/photos) in
    /// the ImageFolder layout with train/ and test/: RGB, 24×16, two classes.
    @Test func imageFolderOfPhotographsTrainsEvaluatesEmbedsSamplesAndResumes() throws {
        let photos = repository.appendingPathComponent("Tests/Data/photos").path
        let dir = Fixtures.temporaryDirectory("photos")
        let t = try Zoo.run([
            "train", "--data", photos, "--decoder", "gaussian", "--hidden", "32", "--latent-dim", "3", "--batch-size", "8", "--epochs", "2",
            "--save", dir + "/m.h5", "--samples-dir", dir + "/s",
        ])
        #expect(t.status == 0, "\(t.stderr)")
        #expect(
            t.stderr.contains("image folder \(photos), 2 classes (china, flower), 24×16 (width × height) colour PNGs, 58 train / 14 test"))
        let saved = try Checkpoint.read(from: dir + "/m.h5")
        #expect(saved.config.data.kind == .imageFolder && saved.config.data.classNames == ["china", "flower"])
        #expect(saved.config.model.inputShape == [3, 16, 24])
        // 24 × 16 at scale 4: 96 × 64 tiles.
        #expect(pngSize(dir + "/s/sampled-2.png").map { $0.width == 16 * 97 + 1 && $0.height == 8 * 65 + 1 } == true)
        let e = try Zoo.run(["eval", dir + "/m.h5", "--elbo"])
        #expect(e.status == 0 && e.stderr.contains("14 test images"), "\(e.stderr)")
        let m = try Zoo.run(["embed", dir + "/m.h5", "--split", "all", "--plot", dir + "/e.png"])
        #expect(m.status == 0, "\(m.stderr)")
        let r = try Zoo.run(["resume", dir + "/m.h5", "--epochs", "3"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    /// The continuous Bernoulli on continuous pixels: a proper density, so the
    /// importance-weighted NLL lies below the −ELBO (both may be negative).
    @Test func continuousBernoulliTrainsAndEvaluates() throws {
        let dir = Fixtures.temporaryDirectory("cb")
        let t = try Zoo.run(["train", "--decoder", "continuous-bernoulli", "--limit", "1000", "--epochs", "2", "--save", dir + "/m.h5"])
        #expect(t.status == 0 && t.stderr.contains("continuous-bernoulli decoder"), "\(t.stderr)")
        let losses = try Checkpoint.read(from: dir + "/m.h5").training?.history.compactMap(\.testLoss) ?? []
        #expect(losses.count == 2 && losses[1] < losses[0], "\(losses)")
        let e = try Zoo.run(["eval", dir + "/m.h5", "--elbo", "--nll", "--iw-samples", "20", "--limit", "100", "--json"])
        #expect(e.status == 0, "\(e.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])
        let elbo = try #require((report["elbo"] as? [String: Any])?["negative_elbo"] as? Double)
        let estimates = try #require((report["nll"] as? [String: Any])?["estimates"] as? [[String: Any]])
        let nll = try #require(estimates.last?["nll"] as? Double)
        #expect(nll < elbo, "NLL \(nll) below −ELBO \(elbo)")
    }

    /// Every bad file issue 12 names, through the built binary: exit status 1,
    /// the file and the problem on standard error, no checkpoint written.
    @Test(arguments: [
        "folder-sizes", "folder-not-png", "folder-empty-class", "npy-bad-header", "npy-truncated", "npy-object", "npy-fortran",
        "npy-complex", "npy-nan", "csv-non-numeric", "csv-ragged", "csv-no-numbers",
    ])
    func badFilesAreRefusedByTheBinary(testCase: String) throws {
        let dir = Fixtures.temporaryDirectory("bad-" + testCase)
        let data = repository.appendingPathComponent("Tests/Data").path
        let fm = FileManager.default
        /// Class folders under dir/data, each with copies of the named test images.
        func folder(_ classes: [(String, [String])]) throws -> String {
            for (name, sources) in classes {
                try fm.createDirectory(atPath: "\(dir)/data/\(name)", withIntermediateDirectories: true)
                for (i, source) in sources.enumerated() {
                    try fm.copyItem(atPath: data + "/" + source, toPath: "\(dir)/data/\(name)/\(i).png")
                }
            }
            return dir + "/data"
        }
        func npy(_ bytes: [UInt8]) -> String {
            Fixtures.write(bytes, to: dir + "/x.npy")
            return dir + "/x.npy"
        }
        func csv(_ text: String) throws -> String {
            try text.write(toFile: dir + "/t.csv", atomically: true, encoding: .utf8)
            return dir + "/t.csv"
        }
        let ramp = "png-kinds/grey/0-grey8.png"
        let (path, message): (String, String)
        switch testCase {
        case "folder-sizes":
            (path, message) = (
                try folder([("a", [ramp, "photos/train/china/000.png"])]), "every image must have one size"
            )
        case "folder-not-png":
            path = try folder([("a", [ramp])])
            try "notes".write(toFile: path + "/a/notes.txt", atomically: true, encoding: .utf8)
            message = "notes.txt cannot be read as an image folder: it is not a readable PNG image"
        case "folder-empty-class":
            (path, message) = (try folder([("a", [ramp]), ("b", [])]), "the class folder holds no images")
        case "npy-bad-header":
            (path, message) = (
                npy(Fixtures.npy(descr: "", shape: [], data: [], header: "{'descr': '<f4', 'shape': (2,)")), "is not a NumPy header"
            )
        case "npy-truncated":
            (path, message) = (
                npy(Fixtures.npy(descr: "<f4", shape: [100, 28, 28], data: Array(repeating: 0, count: 64))), "it is truncated"
            )
        case "npy-object":
            (path, message) = (npy(Fixtures.npy(descr: "|O", shape: [2, 2], data: Array(repeating: 0, count: 32))), "zoo never unpickles")
        case "npy-fortran":
            (path, message) = (
                npy(Fixtures.npy(descr: "<f4", shape: [2, 2], data: Array(repeating: 0, count: 16), fortran: true)), "Fortran order"
            )
        case "npy-complex":
            (path, message) = (
                npy(Fixtures.npy(descr: "<c8", shape: [2, 2], data: Array(repeating: 0, count: 32))), "dtype <c8 is not one zoo reads"
            )
        case "npy-nan":
            (path, message) = (
                npy(Fixtures.npy(descr: "<f4", shape: [2, 2], data: Fixtures.bytes([0, 1, .nan, 0] as [Float]))), "nan at index [1, 0]"
            )
        case "csv-non-numeric":
            (path, message) = (try csv("a,b\n1,2\n3,x\n"), "data row 2, column 'b' holds 'x', not a number")
        case "csv-ragged":
            (path, message) = (try csv("a,b\n1,2\n3,4,5\n"), "data row 2 has 3 fields but the header has 2")
        default:
            (path, message) = (try csv("name,kind\nx,y\n"), "no column holds numbers")
        }
        let r = try Zoo.run(["train", "--data", path, "--decoder", "gaussian-linear", "--epochs", "1", "--save", dir + "/m.h5"])
        #expect(r.status == 1 && r.stderr.contains(message) && r.stderr.contains(dir), "\(r.stderr)")
        #expect(!fm.fileExists(atPath: dir + "/m.h5"))
    }
}

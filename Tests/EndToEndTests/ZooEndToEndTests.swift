import Checkpoint
import Foundation
import Support
import TestSupport
import Testing
import Training

/// Width and height from a PNG's IHDR chunk (nil if the file is not a PNG).
func pngSize(_ path: String) -> (width: Int, height: Int)? {
    guard let d = FileManager.default.contents(atPath: path), d.count > 24,
        Array(d.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    else { return nil }
    func be32(_ o: Int) -> Int { d[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}

/// Side of a grid of `n` 28×28 tiles with 2-pixel padding.
/// Pixels across n tiles of 28 × 28 at the default scale (2) with 1-pixel
/// gutters, plus a caption margin of `labelled` characters (6 pixels each, less
/// one, plus 4) or a caption band (`captioned`: 7 + 4 pixels).
func gridSide(_ n: Int, labelled characters: Int = 0, captioned: Bool = false) -> Int {
    n * 57 + 1 + (characters > 0 ? characters * 6 - 1 + 4 : 0) + (captioned ? 11 : 0)
}

/// Every recipe trains (a smoke run on a small subset), and its checkpoint is
/// evaluated, embedded and sampled from.
@Suite(.serialized) struct RecipeEndToEndTests {
    @Test func listShowsEveryRecipeOnOneLine() throws {
        let r = try Zoo.run(["list"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let names = lines.map { String($0.prefix { $0 != " " }) }
        #expect(names == ["vae", "beta-vae", "cvae", "iwae", "vae-2d", "vae-deep", "vae-gaussian", "conv-vae"])
        #expect(lines[0].hasSuffix("(default)"))
    }

    /// A `ZOO_LIBXSMM` that is neither on nor off (in any case) is named in a
    /// note on stderr, once, and the command runs as without it.
    @Test func anUnknownLibxsmmSwitchIsNoted() throws {
        let plain = try Zoo.run(["list"], environment: ["ZOO_LIBXSMM": ""])
        let typo = try Zoo.run(["list"], environment: ["ZOO_LIBXSMM": "of"])
        #expect(typo.status == 0 && typo.stdout == plain.stdout)
        #expect(typo.stderr.components(separatedBy: "note: ZOO_LIBXSMM=of is neither on nor off: ignored").count == 2, "\(typo.stderr)")
        let off = try Zoo.run(["list"], environment: ["ZOO_LIBXSMM": "OFF"])
        #expect(off.status == 0 && !off.stderr.contains("ZOO_LIBXSMM"))
    }

    @Test(arguments: ["vae", "vae-gaussian", "vae-2d", "beta-vae", "cvae", "iwae", "vae-deep", "conv-vae"])
    func recipeTrainsEvaluatesAndEmbeds(recipe: String) throws {
        let dir = Fixtures.temporaryDirectory("recipe")
        let ckpt = "\(dir)/\(recipe).h5"
        let train = try Zoo.run(["train", "--recipe", recipe, "--limit", "600", "--epochs", "2", "--threads", "1", "--save", ckpt])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(train.stderr.contains("recipe \(recipe):"))
        #expect(train.stdout.split(separator: "\n").count == 2)

        // The checkpoint records the recipe and its settings.
        let saved = try Checkpoint.read(from: ckpt)
        #expect(saved.recipe == recipe && saved.config.training.epochs == 2 && saved.config.data.limit == 600)
        let inspect = try Zoo.run(["inspect", ckpt])
        #expect(inspect.status == 0 && inspect.stdout.contains("recipe        \(recipe)"))
        #expect(inspect.stdout.contains("active units"))

        let eval = try Zoo.run(["eval", ckpt, "--nll", "--iw-samples", "20", "--limit", "200", "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let schema = try JSONSchema(
            json: String(contentsOfFile: repository.appendingPathComponent("schemas/eval-report.schema.json").path, encoding: .utf8),
            documents: ["config.schema.json": RunConfig.schemaJSON])
        #expect(schema.violations(of: eval.stdout) == [])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let elbo = try #require((report["elbo"] as? [String: Any])?["negative_elbo"] as? Double)
        let nll = try #require(((report["nll"] as? [String: Any])?["estimates"] as? [[String: Any]])?.last?["nll"] as? Double)
        #expect(nll.isFinite && nll < elbo, "NLL \(nll) must lie below −ELBO \(elbo)")
        let latent = try #require(report["latent"] as? [String: Any])
        let dims = try #require(latent["dimensions"] as? [[String: Any]])
        #expect(dims.count == saved.config.model.latentDim)
        // The per-dimension KLs add up to the KL term (same images, same q).
        let kl = try #require((report["elbo"] as? [String: Any])?["kl"] as? Double)
        #expect(abs(dims.compactMap { $0["kl"] as? Double }.reduce(0, +) - kl) < 1e-6 * max(1, kl))

        let embed = try Zoo.run(["embed", ckpt, "--csv", "\(dir)/z.csv", "--limit", "50"])
        #expect(embed.status == 0, "\(embed.stderr)")
        let rows = try String(contentsOfFile: "\(dir)/z.csv", encoding: .utf8).split(separator: "\r\n")
        #expect(rows.count == 51 && rows[0].split(separator: ",").count == 3 + saved.config.model.latentDim)
        // Interop: numpy's encoder (one-hot labels for cvae) from the h5py-read parameters
        // gives the same μ (continuous pixels only: numpy cannot redraw a binarization).
        if saved.config.data.binarization == .none {
            let (status, output) = try runPython([
                repository.appendingPathComponent("Tests/python/check_embedding.py").path,
                ckpt, "\(dir)/z.csv", Fixtures.fashionMNIST + "/t10k-images-idx3-ubyte.gz", "50",
            ])
            #expect(status == 0, "\(output)")
        }

        let sample = try Zoo.run(["sample", ckpt, "--n", "16", "--out", "\(dir)/s.png"])
        #expect(sample.status == 0, "\(sample.stderr)")
        #expect(pngSize("\(dir)/s.png").map { [$0.width, $0.height] } == [gridSide(4), gridSide(4)])
    }
}

@Suite(.serialized) struct SampleEndToEndTests {
    /// A conditional model trained once: 1000 images, 2 epochs, 4 latents.
    static let cvae: String? = {
        let path = Fixtures.temporaryDirectory("sample") + "/cvae.h5"
        let r = try? Zoo.run(["train", "--recipe", "cvae", "--limit", "1000", "--epochs", "2", "--latent-dim", "4", "--save", path])
        return r?.status == 0 ? path : nil
    }()

    /// --manifold: a --steps × --steps grid of the latent plane for a 2-d model; refused for others.
    @Test func manifoldDrawsTheLatentPlaneOfTwoDimensionalModels() throws {
        let dir = Fixtures.temporaryDirectory("sample")
        let r = try Zoo.run(["train", "--recipe", "vae-2d", "--limit", "500", "--epochs", "1", "--save", dir + "/v2.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        let s = try Zoo.run(["sample", dir + "/v2.h5", "--manifold", "--steps", "12", "--out", dir + "/m.png"])
        #expect(s.status == 0 && s.stderr.contains("12 × 12 prior quantiles"), "\(s.stderr)")
        // z₁ values ("-1.7") at the left, z₀ values above.
        #expect(
            pngSize(dir + "/m.png").map { [$0.width, $0.height] } == [gridSide(12, labelled: 4), gridSide(12, captioned: true)])
        let ckpt = try #require(Self.cvae)
        let bad = try Zoo.run(["sample", ckpt, "--manifold", "--out", dir + "/x.png"])
        #expect(bad.status == 1 && bad.stderr.contains("has 4 latent dimensions"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.png"))
    }

    @Test func gridsHaveTheRequestedLayout() throws {
        let ckpt = try #require(Self.cvae)
        let dir = Fixtures.temporaryDirectory("sample")
        for (args, size) in [
            (["--n", "64"], (gridSide(8), gridSide(8))),
            (["--n", "20", "--label", "3", "--columns", "10"], (gridSide(10), gridSide(2))),
            // 4 latent rows labelled z0…z3, the 7 values above the columns.
            (["--traverse", "--steps", "7", "--image", "5"], (gridSide(7, labelled: 2), gridSide(4, captioned: true))),
            (["--interpolate", "0,1"], (gridSide(12), gridSide(1, captioned: true))),  // 10 steps + both images, t above
            (["--n", "4", "--scale", "1"], (2 * 29 + 1, 2 * 29 + 1)),  // one pixel per pixel
        ] as [([String], (Int, Int))] {
            let out = "\(dir)/g.png"
            unlink(out)
            let r = try Zoo.run(["sample", ckpt, "--out", out] + args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            #expect(pngSize(out).map { [$0.width, $0.height] } == [size.0, size.1], "\(args)")
        }
    }

    /// --label picks the class: decoded samples of different classes differ,
    /// and the same class and seed give the same image.
    @Test func labelSelectsTheClass() throws {
        let ckpt = try #require(Self.cvae)
        let dir = Fixtures.temporaryDirectory("sample")
        for (name, label) in [("a", "1"), ("b", "1"), ("c", "8")] {
            let r = try Zoo.run(["sample", ckpt, "--n", "4", "--label", label, "--out", "\(dir)/\(name).png"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let a = FileManager.default.contents(atPath: "\(dir)/a.png")
        let b = FileManager.default.contents(atPath: "\(dir)/b.png")
        let c = FileManager.default.contents(atPath: "\(dir)/c.png")
        #expect(a != nil && a == b && a != c)
    }

    @Test(arguments: [
        (["--label", "10"], "--label 10 is outside the 10 classes (0…9)"),
        (["--traverse", "--image", "20000"], "test image 20000 does not exist"),
        (["--interpolate", "0,10000"], "test image 10000 does not exist"),
    ])
    func badRequestsNameTheProblem(arguments: [String], message: String) throws {
        let ckpt = try #require(Self.cvae)
        let out = Fixtures.temporaryDirectory("sample") + "/x.png"
        let r = try Zoo.run(["sample", ckpt, "--out", out] + arguments)
        #expect(r.status != 0 && r.stderr.contains(message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func labelNeedsAConditionalModel() throws {
        let ckpt = try #require(smallCheckpoint)
        let r = try Zoo.run(["sample", ckpt, "--label", "2", "--out", Fixtures.temporaryDirectory("sample") + "/x.png"])
        #expect(r.status != 0 && r.stderr.contains("--label needs a conditional model"), "\(r.stderr)")
    }
}

@Suite(.serialized) struct TrainingAidsEndToEndTests {
    /// Parameters frozen by a learning rate of 1e-12: the validation loss
    /// only moves with the evaluation noise, so patience 1 stops the run early.
    @Test func earlyStoppingKeepsTheBestAndTheLastCheckpoint() throws {
        let dir = Fixtures.temporaryDirectory("early")
        let r = try Zoo.run([
            "train", "--limit", "600", "--epochs", "12", "--hidden", "32", "--latent-dim", "4", "--lr", "1e-12",
            "--val-split", "200", "--patience", "1", "--save", "\(dir)/m.h5",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("early stop after epoch"), "\(r.stderr)")
        let last = try Checkpoint.read(from: "\(dir)/m.h5")
        let best = try Checkpoint.read(from: "\(dir)/m-best.h5")
        let lastState = try #require(last.training)
        let bestState = try #require(best.training)
        #expect(lastState.epoch < 12 && lastState.epoch == lastState.bestEpoch + 1)
        #expect(bestState.epoch == lastState.bestEpoch && bestState.bestValidationLoss == lastState.bestValidationLoss)
        #expect(bestState.history.last?.validationLoss == lastState.bestValidationLoss)
        #expect(r.stdout.contains("val ") && r.stdout.contains("*"))
        // Nothing is left to resume.
        let resume = try Zoo.run(["resume", "\(dir)/m.h5", "--epochs", "20"])
        #expect(resume.status != 0 && resume.stderr.contains("stopped early"), "\(resume.stderr)")
    }

    @Test(arguments: [
        (["--patience", "3"], "needs a validation split (--val-split N)"),
        (["--val-split", "600"], "--val-split 600 would hold out every one of the 600 training images"),
        (["--recipe", "bogus"], "there is no recipe named 'bogus'"),
        (["--recipe", "/nonexistent/r.json"], "cannot read the recipe /nonexistent/r.json"),
        (["--label-classes", "5"], "but the conditional model has 5 classes"),
    ])
    func badTrainingRequestsNameTheProblem(arguments: [String], message: String) throws {
        let r = try Zoo.run(["train", "--limit", "600", "--epochs", "1"] + arguments)
        #expect(r.status != 0 && r.stderr.contains(message), "\(r.stderr)")
    }

    /// A recipe file outside the repository works like a built-in one.
    @Test func recipeFilesAreAccepted() throws {
        let dir = Fixtures.temporaryDirectory("recipe")
        let file = "\(dir)/tiny.json"
        try
            #"{"name": "tiny", "description": "A tiny model.", "config": {"model": {"hidden": [16], "latent_dim": 3}, "training": {"kl_warmup": 1}}}"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let r = try Zoo.run(["train", "--recipe", file, "--limit", "300", "--epochs", "1", "--save", "\(dir)/t.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        let saved = try Checkpoint.read(from: "\(dir)/t.h5")
        #expect(saved.recipe == "tiny" && saved.config.model.mlpShorthand?.hidden == [16] && saved.config.training.klWarmup == 1)
    }
}

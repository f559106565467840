import ArgumentParser
import Foundation
import NeuralNet
import TestSupport
import Testing

@testable import ZooCommands

/// Parse-only tests: flags, defaults and validation, without running anything.
@Suite struct TrainParseTests {
    @Test func defaultsAreTheTutorials() throws {
        let t = try Train.parse([])
        let (recipe, c) = try t.runConfig()
        #expect(recipe.name == "vae")
        #expect(c.training.beta == 1 && c.training.klWarmup == 0 && c.training.importanceSamples == 1)
        #expect(
            c.training.validation == 0 && c.training.patience == nil && c.model.labelClasses == 0
                && c.model.mlpShorthand?.activation == .relu)
        #expect(c.training.epochs == 15 && c.training.batchSize == 128 && c.training.optimizer.lr == 1e-3)
        #expect(c.model.mlpShorthand?.hidden == [400] && c.model.latentDim == 20 && c.model.likelihood == .bernoulli)
        #expect(c.data.binarization == .none && c.data.limit == nil && c.data.path == nil)
        #expect(c.training.seed == 1)
    }

    @Test func everyFlagReachesTheConfig() throws {
        let t = try Train.parse([
            "--epochs", "3", "--batch-size", "64", "--lr", "0.002", "--latent-dim", "2", "--hidden", "200,100",
            "--decoder", "gaussian", "--sigma", "0.2", "--seed", "9", "--threads", "1", "--data", "/tmp/x",
            "--binarize", "dynamic", "--limit", "500", "--samples-dir", "/tmp/s", "--beta", "2.5", "--kl-warmup", "4",
            "--iw-samples", "5", "--val-split", "1000", "--patience", "3", "--activation", "tanh", "--label-classes", "10",
        ])
        let c = try t.runConfig().1
        #expect(c.training.beta == 2.5 && c.training.klWarmup == 4 && c.training.importanceSamples == 5)
        #expect(
            c.training.validation == 1000 && c.training.patience == 3 && c.model.mlpShorthand?.activation == .tanh
                && c.model.labelClasses == 10)
        #expect(c.training.epochs == 3 && c.training.batchSize == 64 && c.training.optimizer.lr == 0.002)
        #expect(c.model.latentDim == 2 && c.model.mlpShorthand?.hidden == [200, 100] && c.model.likelihood == .gaussian)
        #expect(c.model.sigma == 0.2 && c.training.seed == 9 && c.training.threads == 1)
        #expect(c.data.path == "/tmp/x" && c.data.binarization == .dynamic && c.data.limit == 500)
        #expect(t.samplesDir == "/tmp/s")
    }

    /// Values are checked by the configuration's one validation (RunConfig.issues)
    /// when the run's configuration is made; the message names the flag.
    @Test(arguments: [
        (["--epochs", "0"], "--epochs: epochs must be between 1 and 1000000, got 0"),
        (["--epochs", "-2"], "--epochs: epochs must be between 1 and 1000000, got -2"),
        (["--batch-size", "0"], "--batch-size: batch size must be between 1 and 65536, got 0"),
        (["--lr", "0"], "--lr: learning rate must be a positive number, got 0.0"),
        (["--lr", "-0.1"], "--lr: learning rate must be a positive number, got -0.1"),
        (["--latent-dim", "0"], "--latent-dim: latent dimension must be between 1 and 16384, got 0"),
        (["--hidden", "0"], "--hidden: hidden layer sizes must be between 1 and 65536, got 0"),
        (["--hidden", "400,abc"], "--hidden takes comma-separated positive integers"),
        (["--sigma", "-1"], "--sigma: sigma must be a positive number, got -1.0"),
        (["--limit", "0"], "--limit: limit must be between 1 and 2147483648, got 0"),
        (["--threads", "0"], "--threads: threads must be between 1 and 256, got 0"),
        (["--beta", "-1"], "--beta: beta must be a number in [0, 1e6], got -1.0"),
        (["--kl-warmup", "-1"], "--kl-warmup: KL warm-up (epochs) must be between 0 and 1000000, got -1"),
        (["--iw-samples", "0"], "--iw-samples: importance samples must be between 1 and 1000, got 0"),
        (["--val-split", "-5"], "--val-split: the validation split (images) must be between 0 and 2147483648, got -5"),
        (["--patience", "0"], "--patience: patience (epochs) must be between 1 and 1000000, got 0"),
        (["--label-classes", "-1"], "--label-classes: label classes must be between 0 and 1000, got -1"),
    ])
    func badValuesAreRejectedWithTheFlagAndValue(arguments: [String], message: String) {
        do {
            _ = try Train.parse(arguments).runConfig()
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect(Train.message(for: error).contains(message), "\(Train.message(for: error))")
        }
    }

    /// A recipe supplies the fields; flags override exactly the fields they name.
    @Test func flagsOverrideTheRecipe() throws {
        let deep = try Train.parse(["--recipe", "vae-deep", "--latent-dim", "10"]).runConfig().1
        #expect(
            deep.model.latentDim == 10 && deep.model.mlpShorthand?.hidden == [200, 200] && deep.model.mlpShorthand?.activation == .tanh)
        #expect(deep.data.binarization == .dynamic)
        let beta = try Train.parse(["--recipe", "beta-vae", "--beta", "2", "--epochs", "3"]).runConfig().1
        #expect(beta.training.beta == 2 && beta.training.epochs == 3)
        let plain = try Train.parse(["--recipe", "vae-deep", "--binarize", "none", "--activation", "relu"]).runConfig().1
        #expect(plain.data.binarization == .none && plain.model.mlpShorthand?.activation == .relu)
    }

    /// `--hidden` replaces a recipe's declared lists by the MLP it describes;
    /// `--activation` alone cannot change a model that is not that MLP.
    @Test func theShorthandFlagsOverARecipeWithLayerLists() throws {
        let path = Fixtures.temporaryPath("lists") + ".json"
        try
            #"{"name": "lists", "description": "d", "config": {"model": {"encoder": [{"type": "linear", "out_features": 9}, {"type": "tanh"}], "decoder": [{"type": "linear", "out_features": 784}]}}}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let lists = try Train.parse(["--recipe", path]).runConfig().1
        #expect(lists.model.encoder == [.linear(outFeatures: 9), .tanh] && lists.model.mlpShorthand == nil)
        let mlp = try Train.parse(["--recipe", path, "--hidden", "50", "--activation", "tanh"]).runConfig().1
        #expect(mlp.model.mlpShorthand == .init(hidden: [50], activation: .tanh))
        do {
            _ = try Train.parse(["--recipe", path, "--activation", "relu"]).runConfig()
            Issue.record("--activation alone was accepted for declared layers")
        } catch {
            #expect(Train.message(for: error).contains("--activation: the model declares its own encoder and decoder layers"))
        }
    }

    @Test func combinationsTheConfigRejectsNameTheProblem() throws {
        do {
            _ = try Train.parse(["--patience", "2"]).runConfig()
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("needs a validation split (--val-split N)"))
        }
        do {
            _ = try Train.parse(["--recipe", "nope"]).runConfig()
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("no recipe named 'nope'"))
        }
    }

    @Test func unknownChoicesAreRejected() {
        #expect(throws: (any Error).self) { try Train.parse(["--decoder", "poisson"]) }
        #expect(throws: (any Error).self) { try Train.parse(["--binarize", "sometimes"]) }
        #expect(throws: (any Error).self) { try Train.parse(["--activation", "sigmoid"]) }
    }

    @Test func rootDispatchesToTrain() throws {
        let command = try Zoo.parseAsRoot(["train", "--epochs", "2"])
        #expect((command as? Train)?.epochs == 2)
    }
}

@Suite struct BenchParseTests {
    @Test func defaultsAndFlags() throws {
        let b = try Bench.parse([])
        #expect(b.epochs == 5 && b.batchSize == 128 && b.threads == nil && !b.layers && !b.json)
        let c = try Bench.parse(["--recipe", "conv-vae", "--epochs", "2", "--threads", "1", "--layers", "--json"])
        #expect(c.epochs == 2 && c.threads == 1 && c.layers && c.json && c.recipe.recipe == "conv-vae")
        #expect(try Zoo.parseAsRoot(["bench", "--layers"]) is Bench)
    }
}

@Suite struct CheckpointParseTests {
    @Test func saveFlagsParse() throws {
        let t = try Train.parse(["--save", "m.h5", "--save-every", "2", "--keep", "3"])
        #expect(t.save == "m.h5" && t.saving.saveEvery == 2 && t.saving.keep == 3)
        let r = try Resume.parse(["m.h5", "--epochs", "30", "--allow-data-change", "--fresh-optimizer"])
        #expect(r.checkpoint == "m.h5" && r.epochs == 30 && r.allowDataChange && r.freshOptimizer)
    }

    @Test(arguments: [
        (["--save-every", "0"], "--save-every must be at least 1, got 0"),
        (["--keep", "-1"], "--keep must be 0 or more, got -1"),
    ])
    func badSaveValues(arguments: [String], message: String) {
        do {
            _ = try Train.parse(arguments)
            Issue.record("accepted")
        } catch {
            #expect(Train.message(for: error).contains(message))
        }
    }

    @Test func resumeNeedsACheckpoint() {
        #expect(throws: (any Error).self) { try Resume.parse([]) }
    }
}

@Suite struct SampleParseTests {
    @Test func defaultsAndFlags() throws {
        let s = try Sample.parse(["m.h5", "--out", "g.png"])
        #expect(s.n == 64 && !s.traverse && s.interpolate == nil && s.label == nil && s.image == 0)
        let t = try Sample.parse(["m.h5", "--out", "g.png", "--traverse", "--image", "5", "--steps", "7", "--label", "3"])
        #expect(t.traverse && t.image == 5 && t.steps == 7 && t.label == 3)
        let i = try Sample.parse(["m.h5", "--out", "g.png", "--interpolate", "2,9"])
        #expect(i.pair! == (2, 9))
        #expect(try Zoo.parseAsRoot(["list"]) is List)
    }

    @Test(arguments: [
        (["--n", "0"], "--n must be between 1 and 10000, got 0"),
        (["--traverse", "--interpolate", "0,1"], "--traverse, --interpolate and --manifold draw different grids; choose one"),
        (["--interpolate", "3"], "--interpolate takes two test-image indices I,J (e.g. 0,1), got '3'"),
        (["--interpolate", "a,b"], "--interpolate takes two test-image indices"),
        (["--interpolate", "-1,2"], "--interpolate takes two test-image indices"),
        (["--steps", "1"], "--steps must be between 2 and 100, got 1"),
        (["--label", "-2"], "--label must be 0 or more, got -2"),
        (["--columns", "0"], "--columns must be between 1 and 64, got 0"),
    ])
    func badValues(arguments: [String], message: String) {
        do {
            _ = try Sample.parse(["m.h5", "--out", "g.png"] + arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(Sample.message(for: error).contains(message), "\(Sample.message(for: error))")
        }
    }

    @Test func outIsRequired() {
        #expect(throws: (any Error).self) { try Sample.parse(["m.h5"]) }
    }
}

@Suite struct BLASKernelChoiceTests {
    /// An AVX-512 OpenBLAS core asked for on a CPU without AVX-512 is
    /// ignored with a note (it would die with an illegal instruction).
    @Test func avx512CoreNeedsAVX512() {
        #expect(Zoo.coreTypeProblem("SkylakeX", cpuHasAVX512: false)?.contains("needs AVX-512, which this CPU lacks") == true)
        #expect(Zoo.coreTypeProblem("cooperlake", cpuHasAVX512: false) != nil)
        #expect(Zoo.coreTypeProblem("SkylakeX", cpuHasAVX512: true) == nil)
        #expect(Zoo.coreTypeProblem("Haswell", cpuHasAVX512: false) == nil)
    }

    /// The widest kernel family the CPU runs replaces an older one OpenBLAS
    /// fell back to; a family as wide as the CPU allows is kept.
    @Test func preferredCore() {
        // Sapphire Rapids under KVM: OpenBLAS 0.3.21 falls back to Prescott.
        #expect(Zoo.preferredCoreType(current: "Prescott", avx512: true, avx2: true) == "SkylakeX")
        // AMD Zen 4/5: OpenBLAS picks its AVX2 kernels.
        #expect(Zoo.preferredCoreType(current: "Zen", avx512: true, avx2: true) == "SkylakeX")
        #expect(Zoo.preferredCoreType(current: "SkylakeX", avx512: true, avx2: true) == nil)
        #expect(Zoo.preferredCoreType(current: "Cooperlake", avx512: true, avx2: true) == nil)
        // AVX2 without AVX-512 (Zen 3): Haswell unless OpenBLAS already has an AVX2 family.
        #expect(Zoo.preferredCoreType(current: "Zen", avx512: false, avx2: true) == nil)
        #expect(Zoo.preferredCoreType(current: "Haswell", avx512: false, avx2: true) == nil)
        #expect(Zoo.preferredCoreType(current: "Sandybridge", avx512: false, avx2: true) == "Haswell")
        #expect(Zoo.preferredCoreType(current: "Prescott", avx512: false, avx2: false) == nil)
    }
}

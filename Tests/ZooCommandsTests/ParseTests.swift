import ArgumentParser
import Testing
@testable import ZooCommands

/// Parse-only tests: flags, defaults and validation, without running anything.
@Suite struct TrainParseTests {
    @Test func defaultsAreTheTutorials() throws {
        let t = try Train.parse([])
        let c = t.runConfig
        #expect(c.training.epochs == 15 && c.training.batchSize == 128 && c.training.optimizer.lr == 1e-3)
        #expect(c.model.hidden == [400] && c.model.latentDim == 20 && c.model.likelihood == .bernoulli)
        #expect(c.data.binarization == .none && c.data.limit == nil && c.data.directory == nil)
        #expect(c.training.seed == 1)
    }

    @Test func everyFlagReachesTheConfig() throws {
        let t = try Train.parse([
            "--epochs", "3", "--batch-size", "64", "--lr", "0.002", "--latent-dim", "2", "--hidden", "200,100",
            "--decoder", "gaussian", "--sigma", "0.2", "--seed", "9", "--threads", "1", "--data", "/tmp/x",
            "--binarize", "dynamic", "--limit", "500", "--samples-dir", "/tmp/s",
        ])
        let c = t.runConfig
        #expect(c.training.epochs == 3 && c.training.batchSize == 64 && c.training.optimizer.lr == 0.002)
        #expect(c.model.latentDim == 2 && c.model.hidden == [200, 100] && c.model.likelihood == .gaussian)
        #expect(c.model.sigma == 0.2 && c.training.seed == 9 && c.training.threads == 1)
        #expect(c.data.directory == "/tmp/x" && c.data.binarization == .dynamic && c.data.limit == 500)
        #expect(t.samplesDir == "/tmp/s")
    }

    @Test(arguments: [
        (["--epochs", "0"], "--epochs must be at least 1, got 0"),
        (["--epochs", "-2"], "--epochs must be at least 1, got -2"),
        (["--batch-size", "0"], "--batch-size must be at least 1, got 0"),
        (["--lr", "0"], "--lr must be a positive number, got 0.0"),
        (["--lr", "-0.1"], "--lr must be a positive number, got -0.1"),
        (["--latent-dim", "0"], "--latent-dim must be at least 1, got 0"),
        (["--hidden", "0"], "--hidden widths must be at least 1, got 0"),
        (["--hidden", "400,abc"], "--hidden takes comma-separated positive integers"),
        (["--sigma", "-1"], "--sigma must be a positive number, got -1.0"),
        (["--limit", "0"], "--limit must be at least 1, got 0"),
        (["--threads", "0"], "--threads must be at least 1, got 0"),
    ])
    func badValuesAreRejectedWithTheFlagAndValue(arguments: [String], message: String) {
        do {
            _ = try Train.parse(arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect(Train.message(for: error).contains(message), "\(Train.message(for: error))")
        }
    }

    @Test func unknownChoicesAreRejected() {
        #expect(throws: (any Error).self) { try Train.parse(["--decoder", "poisson"]) }
        #expect(throws: (any Error).self) { try Train.parse(["--binarize", "sometimes"]) }
    }

    @Test func rootDispatchesToTrain() throws {
        let command = try Zoo.parseAsRoot(["train", "--epochs", "2"])
        #expect((command as? Train)?.epochs == 2)
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
        do { _ = try Train.parse(arguments); Issue.record("accepted") } catch {
            #expect(Train.message(for: error).contains(message))
        }
    }

    @Test func resumeNeedsACheckpointAndAPositiveTotal() {
        #expect(throws: (any Error).self) { try Resume.parse([]) }
        do { _ = try Resume.parse(["m.h5", "--epochs", "0"]); Issue.record("accepted") } catch {
            #expect(Resume.message(for: error).contains("--epochs must be at least 1, got 0"))
        }
    }
}

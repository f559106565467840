import Foundation
import NumericCore
import TestSupport
import Testing

@testable import Datasets
@testable import NeuralNet
@testable import Training

/// A few thousand real Fashion-MNIST images (loaded once).
let realSubset: (train: ImageSet, test: ImageSet)? = {
    guard let dir = try? DatasetDirectory(path: nil) else { return nil }
    guard let train = try? dir.load(.train, limit: 1500), let test = try? dir.load(.test, limit: 500) else { return nil }
    return (train, test)
}()

func smallConfig(seed: UInt64 = 1, binarization: Binarization = .none, threads: Int = 2) -> RunConfig {
    var c = RunConfig()
    c.model = ModelConfig(inputShape: [1, 28, 28], hidden: [64], latentDim: 8)
    c.training.batchSize = 100
    c.training.seed = seed
    c.training.threads = threads
    c.data.binarization = binarization
    return c
}

@Suite(.serialized) struct TrainerTests {
    @Test func sameSeedAndThreadsGiveBitIdenticalRuns() throws {
        let data = try #require(realSubset, "Fashion-MNIST is needed: apt-get install dataset-fashion-mnist")
        for binarization in Binarization.allCases {
            let a = try Trainer(config: smallConfig(binarization: binarization), train: data.train, test: data.test)
            let b = try Trainer(config: smallConfig(binarization: binarization), train: data.train, test: data.test)
            for _ in 0..<2 {
                _ = try a.runEpoch()
                _ = try b.runEpoch()
            }
            #expect(firstDifference(a.model.parameters.values.array, b.model.parameters.values.array) == nil, "\(binarization)")
            #expect(firstDifference(a.optimizer.secondMoment.array, b.optimizer.secondMoment.array) == nil)
            #expect(
                a.history
                    == b.history.map {
                        var r = $0
                        r.seconds = a.history[$0.epoch - 1].seconds
                        return r
                    })
        }
    }

    @Test func differentSeedsGiveDifferentRuns() throws {
        let data = try #require(realSubset)
        let a = try Trainer(config: smallConfig(seed: 1), train: data.train, test: data.test)
        let b = try Trainer(config: smallConfig(seed: 2), train: data.train, test: data.test)
        #expect(a.model.parameters.values.array != b.model.parameters.values.array)
    }

    @Test func trainingLowersTheTestLossOnRealData() throws {
        let data = try #require(realSubset)
        let t = try Trainer(config: smallConfig(), train: data.train, test: data.test)
        let before = t.evaluate(data.test, epoch: 0).loss.loss
        var last = before
        for _ in 0..<4 { last = try #require(try t.runEpoch()?.testLoss) }
        // Measured: 547.9 → 370.6 nats after 4 epochs; a working model falls by far more than 100.
        #expect(last < before - 100, "test loss \(before) → \(last)")
        #expect(t.epoch == 4 && t.globalStep == 4 * 15 && t.stepInEpoch == 0)
    }

    @Test func binarizedInputsAreZeroOrOne() throws {
        let data = try #require(realSubset)
        for b in [Binarization.static, .dynamic] {
            let t = try Trainer(config: smallConfig(binarization: b), train: data.train, test: data.test)
            #expect(t.test!.pixels.allSatisfy { $0 == 0 || $0 == 255 })
            if b == .static { #expect(t.train.pixels.allSatisfy { $0 == 0 || $0 == 255 }) }
            _ = try t.runEpoch()
            let input = t.model.input.array
            #expect(input.allSatisfy { $0 == 0 || $0 == 1 })
            #expect(input.contains(1))
        }
    }

    @Test func nonFiniteLossStopsWithEpochAndStep() throws {
        let data = try #require(realSubset)
        var c = smallConfig()
        c.training.optimizer.lr = 1e4
        let t = try Trainer(config: c, train: data.train, test: data.test)
        do {
            for _ in 0..<3 { _ = try t.runEpoch() }
            Issue.record("expected the loss to diverge")
        } catch let error as TrainingError {
            guard case .nonFiniteLoss(let epoch, let step, _, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(epoch >= 1 && step >= 1)
            #expect(error.description.contains("epoch \(epoch), step \(step)"))
            #expect(t.history.count == epoch - 1, "no record is written for the failed epoch")
        }
    }

    /// A run whose Adam state overflowed while its loss stayed finite stops
    /// at the epoch's end, before anything could be saved.
    @Test func overflowedOptimizerStateStopsTheRun() throws {
        let data = try #require(realSubset)
        let trainer = try Trainer(config: smallConfig(), train: data.train, test: nil)
        _ = try trainer.runEpoch()
        trainer.optimizer.secondMoment.pointer[7] = .infinity
        #expect(throws: TrainingError.nonFiniteState(epoch: 2, step: trainer.stepsPerEpoch, what: "Adam's second moment")) {
            try trainer.runEpoch()
        }
    }

    @Test func inputSizeMismatchIsAnError() throws {
        let data = try #require(realSubset)
        var c = smallConfig()
        try c.model.fit(inputShape: [100])
        #expect(throws: TrainingError.self) { try Trainer(config: c, train: data.train, test: data.test) }
    }
}

@Suite struct RunConfigTests {
    @Test func defaultsAreTheTutorials() {
        let c = RunConfig()
        #expect(c.model.inputShape == [1, 28, 28] && c.model.mlpShorthand == .init(hidden: [400]) && c.model.latentDim == 20)
        #expect(c.model.likelihood == .bernoulli)
        #expect(c.training.epochs == 15 && c.training.batchSize == 128)
        #expect(c.training.optimizer.lr == 1e-3 && c.training.optimizer.beta1 == 0.9)
        #expect(c.training.optimizer.beta2 == 0.999 && c.training.optimizer.eps == 1e-8)
        #expect(c.problems.isEmpty)
    }

    @Test func problemsNameTheOffendingValue() {
        var c = RunConfig()
        c.training.epochs = 0
        c.training.optimizer.lr = -1
        c.model.latentDim = 0
        let text = c.problems.joined(separator: "; ")
        #expect(text.contains("epochs must be between 1 and 1000000, got 0"))
        #expect(text.contains("learning rate must be a positive number, got -1"))
        #expect(text.contains("latent dimension must be between 1 and 16384, got 0"))
    }

    @Test func configRoundTripsThroughJSONWithSnakeCaseKeys() throws {
        var c = RunConfig()
        try c.model.useMLP(hidden: [200, 100])
        c.data.limit = 5
        let json = try JSONEncoder().encode(c)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"latent_dim\":20") && text.contains("\"batch_size\":128"))
        #expect(try JSONDecoder().decode(RunConfig.self, from: json) == c)
    }
}

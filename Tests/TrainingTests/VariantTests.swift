import Foundation
import NumericCore
import TestSupport
import Testing

@testable import Datasets
@testable import NeuralNet
@testable import Training

/// Training aids and model variants: KL warm-up, the validation hold-out and
/// early stopping, the conditional model, the IWAE objective.
@Suite(.serialized) struct VariantTests {
    func variantConfig() -> RunConfig {
        var c = smallConfig(binarization: .dynamic)
        c.model.labelClasses = 10
        c.training.importanceSamples = 3
        c.training.klWarmup = 2
        c.training.validation = 300
        c.training.patience = 5
        return c
    }

    @Test func warmUpRampsBetaLinearlyFromZeroStepByStep() {
        var t = TrainingConfig()
        t.beta = 4
        t.klWarmup = 2
        #expect(t.klWeight(globalStep: 0, stepsPerEpoch: 10) == 0)
        #expect(abs(t.klWeight(globalStep: 5, stepsPerEpoch: 10) - 1) < 1e-12)
        #expect(abs(t.klWeight(globalStep: 10, stepsPerEpoch: 10) - 2) < 1e-12)
        #expect(t.klWeight(globalStep: 20, stepsPerEpoch: 10) == 4)
        #expect(t.klWeight(globalStep: 500, stepsPerEpoch: 10) == 4)
        t.klWarmup = 0
        #expect(t.klWeight(globalStep: 0, stepsPerEpoch: 10) == 4)
    }

    @Test func holdOutIsDisjointCompleteAndIndependentOfTheRunSeed() throws {
        let data = try #require(realSubset)
        let (train, validation) = data.train.holdOut(300)
        #expect(train.count == 1200 && validation.count == 300)
        // Every image ends up in exactly one part: compare multisets of (label, first pixels) rows.
        func rows(_ s: ImageSet) -> [[UInt8]] { (0..<s.count).map { i in [s.labels[i]] + Array(s.pixels[(i * 784)..<(i * 784 + 784)]) } }
        let all = rows(data.train).map { $0.description }.sorted()
        #expect((rows(train) + rows(validation)).map { $0.description }.sorted() == all)
        // Deterministic: the same split again, whatever the run's seed.
        let again = data.train.holdOut(300).validation
        #expect(again.pixels == validation.pixels && again.labels == validation.labels)
        var c1 = smallConfig(seed: 1)
        var c2 = smallConfig(seed: 2)
        c1.training.validation = 300
        c2.training.validation = 300
        let a = try Trainer(config: c1, train: data.train, test: data.test)
        let b = try Trainer(config: c2, train: data.train, test: data.test)
        #expect(a.validation?.pixels == b.validation?.pixels && a.train.pixels == train.pixels)
        // Not simply the last 300 images.
        #expect(validation.pixels != Array(data.train.pixels.suffix(300 * 784)))
    }

    @Test func validationLossIsRecordedAndTheBestEpochTracked() throws {
        let data = try #require(realSubset)
        var c = smallConfig()
        c.training.validation = 300
        let t = try Trainer(config: c, train: data.train, test: data.test)
        for _ in 0..<3 { _ = try t.runEpoch() }
        let losses = t.history.compactMap(\.validationLoss)
        #expect(losses.count == 3 && t.history.allSatisfy { $0.activeUnits != nil && $0.testLoss != nil })
        let best = losses.indices.min { losses[$0] < losses[$1] }! + 1
        #expect(t.bestEpoch == best && t.bestValidationLoss == losses[best - 1])
        // The latent statistics are the validation set's, one entry per dimension.
        let latent = try #require(t.latent)
        #expect(latent.count == 300 && latent.latentDim == 8 && latent.activeUnits == t.history.last?.activeUnits)
    }

    /// With the parameters frozen (a learning rate of 1e-12) the validation
    /// loss only moves with the evaluation noise, so it soon fails to improve
    /// and patience 1 stops the run at once after that epoch.
    @Test func earlyStoppingEndsTheRunAfterPatienceEpochsWithoutImprovement() throws {
        let data = try #require(realSubset)
        var c = smallConfig()
        c.training.validation = 300
        c.training.patience = 1
        c.training.optimizer.lr = 1e-12
        let t = try Trainer(config: c, train: data.train, test: data.test)
        var epochs = 0
        while !t.stoppedEarly && epochs < 12 {
            _ = try t.runEpoch()
            epochs += 1
        }
        #expect(t.stoppedEarly && epochs < 12)
        let losses = t.history.compactMap(\.validationLoss)
        #expect(losses.last! >= losses[t.bestEpoch - 1] && t.epoch == t.bestEpoch + 1)
        #expect(losses.dropLast().enumerated().allSatisfy { $0.offset == 0 || $0.element < losses[$0.offset - 1] })
    }

    /// The conditional IWAE with warm-up, dynamic binarization and a
    /// validation split resumes bit for bit mid-epoch, early-stopping state included.
    @Test func variantResumeIsBitIdentical() throws {
        let data = try #require(realSubset)
        let config = variantConfig()
        let straight = try Trainer(config: config, train: data.train, test: data.test)
        for _ in 0..<3 { _ = try straight.runEpoch() }
        let first = try Trainer(config: config, train: data.train, test: data.test)
        while first.globalStep < 17 { _ = try first.runEpoch(shouldStop: { first.globalStep >= 17 }) }
        let second = try Trainer(config: config, train: data.train, test: data.test)
        second.model.parameters.values.copy(from: first.model.parameters.values)
        second.optimizer.firstMoment.copy(from: first.optimizer.firstMoment)
        second.optimizer.secondMoment.copy(from: first.optimizer.secondMoment)
        try second.restore(first.state)
        while second.epoch < 3 { _ = try second.runEpoch() }
        #expect(firstDifference(second.model.parameters.values.array, straight.model.parameters.values.array) == nil)
        #expect(firstDifference(second.optimizer.secondMoment.array, straight.optimizer.secondMoment.array) == nil)
        #expect(
            second.history.map {
                var r = $0
                r.seconds = 0
                return r
            }
                == straight.history.map {
                    var r = $0
                    r.seconds = 0
                    return r
                })
        #expect(second.bestEpoch == straight.bestEpoch && second.latent == straight.latent)
    }

    @Test func conditionalModelsRejectLabelsOutsideTheirClasses() throws {
        let data = try #require(realSubset)
        var c = smallConfig()
        c.model.labelClasses = 5
        #expect(throws: TrainingError.self) { try Trainer(config: c, train: data.train, test: data.test) }
        do { _ = try Trainer(config: c, train: data.train, test: data.test) } catch {
            #expect("\(error)".contains("but the conditional model has 5 classes"))
        }
    }

    @Test func aValidationSplitMustLeaveTrainingImages() throws {
        let data = try #require(realSubset)
        var c = smallConfig()
        c.training.validation = 1500
        do {
            _ = try Trainer(config: c, train: data.train, test: data.test)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("--val-split 1500 would hold out every one of the 1500 training images"))
        }
    }

    /// A few epochs of each objective on the same data lower their own loss.
    @Test(arguments: [(1, 1.0), (5, 1.0), (1, 4.0)])
    func everyObjectiveTrains(samples: Int, beta: Double) throws {
        let data = try #require(realSubset)
        var c = smallConfig()
        c.training.importanceSamples = samples
        c.training.beta = beta
        let t = try Trainer(config: c, train: data.train, test: data.test)
        for _ in 0..<3 { _ = try t.runEpoch() }
        let losses = t.history.compactMap(\.testLoss)
        #expect(losses[2] < losses[0] - 5, "\(losses)")
    }
}

import NumericCore
import TestSupport
import Testing

@testable import Datasets
@testable import NeuralNet
@testable import Training

/// Resuming from a saved state continues bit for bit (parameters, optimizer
/// moments, history except wall-clock seconds), at an epoch boundary and mid-epoch.
@Suite(.serialized) struct ResumeTests {
    func withoutSeconds(_ h: [EpochRecord]) -> [EpochRecord] {
        h.map {
            var r = $0
            r.seconds = 0
            return r
        }
    }

    /// Trains `epochs` epochs, stopping after `stopAfterSteps` global steps,
    /// rebuilding a fresh trainer from the state, and finishing there.
    func resumedRun(
        _ data: (train: ImageSet, test: ImageSet), binarization: Binarization,
        stopAfterSteps: Int, epochs: Int
    ) throws -> Trainer {
        let config = smallConfig(binarization: binarization)
        let first = try Trainer(config: config, train: data.train, test: data.test)
        while first.globalStep < stopAfterSteps {
            _ = try first.runEpoch(shouldStop: { first.globalStep >= stopAfterSteps })
        }
        let second = try Trainer(config: config, train: data.train, test: data.test)
        second.model.parameters.values.copy(from: first.model.parameters.values)
        second.optimizer.firstMoment.copy(from: first.optimizer.firstMoment)
        second.optimizer.secondMoment.copy(from: first.optimizer.secondMoment)
        try second.restore(first.state)
        while second.epoch < epochs { _ = try second.runEpoch() }
        return second
    }

    @Test(arguments: [Binarization.none, .dynamic], [15, 21])
    func resumeIsBitIdentical(binarization: Binarization, stopAfterSteps: Int) throws {
        let data = try #require(realSubset)
        let straight = try Trainer(config: smallConfig(binarization: binarization), train: data.train, test: data.test)
        for _ in 0..<3 { _ = try straight.runEpoch() }
        // 15 steps per epoch: 15 stops at an epoch boundary, 21 in the middle of epoch 2.
        let resumed = try resumedRun(data, binarization: binarization, stopAfterSteps: stopAfterSteps, epochs: 3)
        #expect(firstDifference(resumed.model.parameters.values.array, straight.model.parameters.values.array) == nil)
        #expect(firstDifference(resumed.optimizer.firstMoment.array, straight.optimizer.firstMoment.array) == nil)
        #expect(firstDifference(resumed.optimizer.secondMoment.array, straight.optimizer.secondMoment.array) == nil)
        #expect(resumed.optimizer.step == straight.optimizer.step)
        #expect(withoutSeconds(resumed.history) == withoutSeconds(straight.history))
        #expect(resumed.state.noise == straight.state.noise && resumed.state.shuffle == straight.state.shuffle)
    }

    @Test func inconsistentStatesAreRefused() throws {
        let data = try #require(realSubset)
        let t = try Trainer(config: smallConfig(), train: data.train, test: data.test)
        _ = try t.runEpoch(shouldStop: { t.globalStep >= 5 })
        var bad = t.state
        bad.shuffle = RandomStream(seed: 99, stream: 1)
        #expect(throws: TrainingStateError.self) { try t.restore(bad) }
        bad = t.state
        bad.globalStep += 1
        #expect(throws: TrainingStateError.self) { try t.restore(bad) }
        bad = t.state
        bad.stepInEpoch = 1000
        #expect(throws: TrainingStateError.self) { try t.restore(bad) }
        try t.restore(t.state)
    }
}

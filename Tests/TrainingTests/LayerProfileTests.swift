import Foundation
import Testing

@testable import NeuralNet
@testable import Training

/// `zoo bench --layers`' numbers: each layer's thread seconds per epoch (the
/// mean over the epochs) and its product rate, from the training steps only.
@Suite(.serialized) struct LayerProfileTests {
    /// The tutorial model, 1,000 images, two epochs of made-up clock readings:
    /// seconds are the epochs' mean; a forward pass is 2 × multiply-adds per
    /// row; backward twice that, once for the first layer; the decoder runs
    /// once per latent draw; layers without parameters have no rate.
    @Test func secondsAndRatesFollowTheLayersWork() throws {
        let config = ModelConfig()
        var a = Trainer.EpochTimes()
        var b = Trainer.EpochTimes()
        a.layers = (0..<6).map { LayerNanoseconds(forward: UInt64(1 + $0) * 1_000_000_000, backward: 2_000_000_000) }
        b.layers = (0..<6).map { LayerNanoseconds(forward: UInt64(3 + $0) * 1_000_000_000, backward: 4_000_000_000) }
        let p = LayerProfile.profile(config, images: 1000, samples: 3, epochs: [a, b])
        #expect(p.map(\.label) == config.runLayers().map(\.label))
        #expect(p.map(\.forwardSeconds) == [2, 3, 4, 5, 6, 7])
        #expect(p.allSatisfy { $0.backwardSeconds == 3 })
        let encoderFLOP = 2.0 * 313_600 * 1000
        #expect(abs(p[0].forwardGFLOPS! - encoderFLOP / 2 / 1e9) < 1e-12)
        #expect(abs(p[0].backwardGFLOPS! - encoderFLOP / 3 / 1e9) < 1e-12)  // first layer: no dX
        #expect(p[1].forwardGFLOPS == nil && p[1].backwardGFLOPS == nil)  // relu
        let decoderFLOP = 2.0 * 313_600 * 1000 * 3  // three draws per image
        #expect(abs(p[5].forwardGFLOPS! - decoderFLOP / 7 / 1e9) < 1e-12)
        #expect(abs(p[5].backwardGFLOPS! - 2 * decoderFLOP / 3 / 1e9) < 1e-12)
        // No layer times (timing off), or times of another model: no profile.
        #expect(LayerProfile.profile(config, images: 1000, samples: 1, epochs: [Trainer.EpochTimes()]).isEmpty)
        #expect(LayerProfile.profile(config, images: 1000, samples: 1, epochs: []).isEmpty)
    }

    /// A real epoch with the clocks on: every layer with parameters has time
    /// in the steps, the layers' thread time fits in the workers' passes, and
    /// the test pass after the steps (which runs the same layers forward) is
    /// left out of the epoch's figures.
    @Test func anEpochsLayerTimesAreItsStepsOnly() throws {
        let data = try #require(realSubset, "Fashion-MNIST is needed: apt-get install dataset-fashion-mnist")
        let trainer = try Trainer(config: smallConfig(), train: data.train, test: data.test)
        trainer.workers.timesLayers = true
        _ = try trainer.runEpoch()
        let epoch = trainer.epochTimes.layers
        let layers = trainer.config.model.runLayers()
        #expect(epoch.count == layers.count)
        for (t, l) in zip(epoch, layers) where l.multiplyAdds > 0 { #expect(t.forward > 0 && t.backward > 0, "\(l.label)") }
        let threadSeconds = epoch.reduce(0.0) { $0 + Double($1.forward + $1.backward) * 1e-9 }
        #expect(threadSeconds <= trainer.epochTimes.passes * Double(trainer.workers.count) * 1.01)
        let all = trainer.workers.layerNanoseconds  // since the trainer was made: the test pass too
        #expect(all[0].forward > epoch[0].forward)
        #expect(all[0].backward == epoch[0].backward)  // evaluation runs no backward pass
    }
}

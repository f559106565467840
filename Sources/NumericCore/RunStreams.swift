/// Every random stream of a run, derived from its seed in one place: the
/// training loop, the evaluators and the commands all take their streams
/// from here, so `zoo eval` redraws exactly what training drew.
public struct RunStreams: Sendable {
    public let seed: UInt64
    public init(seed: UInt64) { self.seed = seed }

    public var initialization: RandomStream { RandomStream(seed: seed, purpose: .initialization) }
    public var shuffle: RandomStream { RandomStream(seed: seed, purpose: .shuffle) }
    /// ε of the training steps.
    public var noise: RandomStream { RandomStream(seed: seed, purpose: .noise) }
    /// Dynamic binarization's fresh draws during training.
    public var binarization: RandomStream { RandomStream(seed: seed, purpose: .binarization) }
    /// Static binarization's one draw of the training split.
    public var staticTrainBinarization: RandomStream { RandomStream(seed: seed, purpose: .binarization, index: 1) }
    /// The one fixed draw of the test split (every binarized protocol).
    public var testBinarization: RandomStream { RandomStream(seed: seed, purpose: .testBinarization) }
    /// Dynamic binarization's one fixed draw of the training split, for evaluation.
    public var fixedTrainBinarization: RandomStream { RandomStream(seed: seed, purpose: .testBinarization, index: 1) }
    /// The one fixed draw of the validation hold-out.
    public var validationBinarization: RandomStream { RandomStream(seed: seed, purpose: .testBinarization, index: 2) }
    /// ε of the held-out −ELBO after `epochs` epochs: the test split (`set` 0) or validation (1).
    public func evaluation(epochs: Int, set: UInt64 = 0) -> RandomStream {
        RandomStream(seed: seed, purpose: .evaluation, index: UInt64(epochs) | set << 32)
    }
    /// The prior draws of sample grids.
    public var sampling: RandomStream { RandomStream(seed: seed, purpose: .sampling) }
}

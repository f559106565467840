import NeuralNet
import NumericCore

/// Where a training run stands, besides its parameters and optimizer moments:
/// what a checkpoint must hold for a resumed run to continue bit for bit.
public struct TrainingState: Equatable, Sendable {
    /// The largest step count (global, in an epoch, or Adam's) a checkpoint may
    /// record: 2^40, beyond any run zoo's limits allow, and far from overflow.
    public static let maximumSteps: Int64 = 1 << 40

    /// Completed epochs, steps taken in the unfinished one, steps in all.
    public var epoch: Int
    public var stepInEpoch: Int
    public var globalStep: Int
    /// Seconds spent training and evaluating so far.
    public var seconds: Double
    public var history: [EpochRecord]
    public var shuffle: RandomStream
    /// The shuffle stream when the current epoch's order was drawn (the order
    /// of an unfinished epoch is drawn again from it on resume).
    public var shuffleAtEpochStart: RandomStream
    public var noise: RandomStream
    public var binarization: RandomStream
    /// Adam's step count.
    public var optimizerStep: Int
    /// Running sums of the unfinished epoch, so its record matches an uninterrupted run.
    public var epochReconstruction: Double
    public var epochKL: Double
    public var epochImages: Int
    public var epochSeconds: Double
    /// Early stopping: the lowest validation loss so far and its epoch.
    public var bestValidationLoss: Double?
    public var bestEpoch: Int
    /// The last finished epoch's posterior-collapse statistics on the held-out set.
    public var latent: LatentSummary?

    public init(
        epoch: Int, stepInEpoch: Int, globalStep: Int, seconds: Double, history: [EpochRecord],
        shuffle: RandomStream, shuffleAtEpochStart: RandomStream, noise: RandomStream,
        binarization: RandomStream, optimizerStep: Int, epochReconstruction: Double, epochKL: Double,
        epochImages: Int, epochSeconds: Double, bestValidationLoss: Double? = nil, bestEpoch: Int = 0,
        latent: LatentSummary? = nil
    ) {
        self.epoch = epoch
        self.stepInEpoch = stepInEpoch
        self.globalStep = globalStep
        self.seconds = seconds
        self.history = history
        self.shuffle = shuffle
        self.shuffleAtEpochStart = shuffleAtEpochStart
        self.noise = noise
        self.binarization = binarization
        self.optimizerStep = optimizerStep
        self.epochReconstruction = epochReconstruction
        self.epochKL = epochKL
        self.epochImages = epochImages
        self.epochSeconds = epochSeconds
        self.bestValidationLoss = bestValidationLoss
        self.bestEpoch = bestEpoch
        self.latent = latent
    }
}

/// A state that cannot belong to this run.
public enum TrainingStateError: Error, CustomStringConvertible, Equatable, Sendable {
    case inconsistent(String)

    public var description: String {
        switch self {
        case .inconsistent(let why): return "the saved training state is inconsistent: \(why)"
        }
    }
}

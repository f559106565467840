import Datasets
import Evaluation
import NeuralNet
import NumericCore
import Support

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why training stopped early.
public enum TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The loss became NaN or infinite (epoch and step are 1-based).
    case nonFiniteLoss(epoch: Int, step: Int, reconstruction: Double, kl: Double)
    case nonFiniteState(epoch: Int, step: Int, what: String)
    case inputSizeMismatch(model: Int, data: Int, path: String)
    /// A conditional model met a label outside [0, classes).
    case labelOutOfRange(label: Int, classes: Int, path: String)
    /// The validation split would leave no training images.
    case validationTooLarge(requested: Int, available: Int, path: String)
    case valuesOutsideUnitInterval(min: Float, max: Float, path: String)
    case unlabeledData(classes: Int, path: String)
    case invalidConfig(String)

    public var description: String {
        switch self {
        case .invalidConfig(let why): return "invalid run configuration: \(why)"
        case .nonFiniteState(let e, let s, let what):
            return "training diverged: \(what) overflowed to infinity or NaN by epoch \(e), step \(s) (the loss itself stayed finite); "
                + "nothing of this epoch is saved. Lower the learning rate (--lr), or bring the data to a unit scale"
        case .nonFiniteLoss(let e, let s, let r, let k):
            return "the loss became non-finite at epoch \(e), step \(s) (reconstruction \(r), KL \(k)); "
                + "training stopped and nothing from this epoch was written. Lower the learning rate (--lr) "
                + "or check the data."
        case .inputSizeMismatch(let m, let d, let path):
            return "the model takes \(m) inputs but the images in \(path) have \(d) pixels"
        case .labelOutOfRange(let label, let classes, let path):
            return "\(path) has label \(label), but the conditional model has \(classes) classes (0…\(classes - 1)); "
                + "set label_classes (--label-classes) to at least \(label + 1)"
        case .valuesOutsideUnitInterval(let lo, let hi, let path):
            return "\(path) holds values in [\(lo), \(hi)], outside [0, 1], where the bernoulli and gaussian decoders' means lie; "
                + "use --decoder gaussian-linear (and --standardize for features of different scales), or rescale the data to [0, 1]"
        case .unlabeledData(let classes, let path):
            return "\(path) has no labels, so a conditional model (\(classes) label classes) cannot train on it; "
                + "train an unconditional recipe, or give data with labels"
        case .validationTooLarge(let n, let available, let path):
            return "--val-split \(n) would hold out every one of the \(available) training images in \(path); "
                + "choose fewer than \(available)"
        }
    }
}

/// Progress within an epoch, after each step.
public struct StepProgress: Sendable {
    public let epoch: Int  // 1-based
    public let step: Int  // 1-based, steps done in this epoch
    public let steps: Int  // steps in the epoch
    public let images: Int  // images seen so far this epoch
    public let meanReconstruction: Double
    public let meanKL: Double
    /// This step alone: its global step (1-based, over the whole run), its
    /// images, and their summed reconstruction and KL terms (nats), and the β it used.
    public var globalStep = 0
    public var batchImages = 0
    public var batchReconstruction = 0.0
    public var batchKL = 0.0
    public var beta = 1.0
}

/// One epoch's figures, per image, in nats.
public struct EpochRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainReconstruction: Double
    public var trainKL: Double
    /// Test negative ELBO (one z sample per image), nil without a test split.
    public var testLoss: Double?
    /// Validation negative ELBO, nil without a validation split.
    public var validationLoss: Double?
    /// Active latent units on the held-out set (validation, else test), nil without one.
    public var activeUnits: Int?
    public var seconds: Double

    public init(
        epoch: Int, trainLoss: Double, trainReconstruction: Double, trainKL: Double, testLoss: Double?,
        validationLoss: Double? = nil, activeUnits: Int? = nil, seconds: Double
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainReconstruction = trainReconstruction
        self.trainKL = trainKL
        self.testLoss = testLoss
        self.validationLoss = validationLoss
        self.activeUnits = activeUnits
        self.seconds = seconds
    }

    enum CodingKeys: String, CodingKey {
        case epoch
        case trainLoss = "train_loss"
        case trainReconstruction = "train_reconstruction"
        case trainKL = "train_kl"
        case testLoss = "test_loss"
        case validationLoss = "val_loss"
        case activeUnits = "active_units"
        case seconds
    }
}

/// Mean negative ELBO of a data split, per image, in nats.
public struct SplitLoss: Sendable {
    public let count: Int
    public let reconstruction: Double
    public let kl: Double
    public var loss: Double { reconstruction + kl }
}

/// Trains a VAE on an image set: shuffles every epoch, draws ε per batch,
/// updates with Adam (on the β-weighted ELBO, with KL warm-up, or on the
/// importance-weighted bound), evaluates the validation and test splits after
/// each epoch and tracks the best validation loss for early stopping.
///
/// Every random draw comes from one of four `RandomStream`s (initialization,
/// shuffle, noise, binarization) so that a run is a pure function of the
/// configuration and the data, given a fixed BLAS thread count.
public final class Trainer {
    public let config: RunConfig
    public let model: VAE
    /// Splits each batch across `config.training.threads` workers (run with single-threaded BLAS).
    public let workers: BatchWorkers
    public let optimizer: Adam
    /// The per-feature standardization the data went through (`--standardize`), else nil.
    public let standardization: Standardization?
    public let train: ImageSet
    public let test: ImageSet?
    /// The hold-out carved from the training set (`config.training.validation` images).
    public let validation: ImageSet?

    /// Completed epochs.
    public private(set) var epoch = 0
    /// Steps taken in the current (unfinished) epoch.
    public private(set) var stepInEpoch = 0
    public private(set) var globalStep = 0
    public private(set) var history: [EpochRecord] = []
    /// Seconds spent training and evaluating so far.
    public private(set) var seconds: Double = 0
    /// The lowest validation loss so far and the epoch that reached it (nil/0 before any).
    public private(set) var bestValidationLoss: Double?
    public private(set) var bestEpoch = 0
    /// Posterior-collapse statistics of the last finished epoch's held-out set
    /// (validation, else test; nil without either).
    public private(set) var latent: LatentSummary?

    /// The initialization stream after drawing the initial parameters (recorded in checkpoints).
    public let initializationStream: RandomStream
    public var shuffleStream: RandomStream
    public var noiseStream: RandomStream
    public var binarizationStream: RandomStream
    /// The shuffle stream's state when the current epoch's order was drawn.
    public private(set) var epochShuffleStart: RandomStream

    private let permutation: UnsafeMutableBufferPointer<Int64>
    private let sequential: UnsafeMutableBufferPointer<Int64>
    private let uniform: UnsafeMutableBufferPointer<UInt32>
    /// The noise stream's words for one batch (`RandomStream.normalWords`).
    private let noiseWords: UnsafeMutableBufferPointer<UInt64>
    /// Where the current epoch's time went (the steps run in this process), in seconds.
    public struct EpochTimes: Sendable, Equatable {
        /// Gathering the batches' images and drawing their noise.
        public var batchPreparation = 0.0
        /// The forward and backward passes (`BatchWorkers.StepTimes.passes`).
        public var passes = 0.0
        /// The optimizer's passes, or nil when they ran inside the backward passes (one worker).
        public var optimizer: Double? = nil
        /// Each layer's forward and backward thread time in the training steps,
        /// added over the workers (`BatchWorkers.layerNanoseconds`), when
        /// `workers.timesLayers` is on; else empty.
        public var layers: [LayerNanoseconds] = []

        /// Adds what the layers' clocks gained between `before` and `now`.
        mutating func addLayers(_ now: [LayerNanoseconds], since before: [LayerNanoseconds]) {
            if layers.count != now.count { layers = Array(repeating: LayerNanoseconds(), count: now.count) }
            for i in now.indices where i < before.count { layers[i] = layers[i] + (now[i] - before[i]) }
        }
    }
    public private(set) var epochTimes = EpochTimes()
    private var epochReconstruction = 0.0
    private var epochKL = 0.0
    private var epochImages = 0
    private var epochSeconds = 0.0

    public var stepsPerEpoch: Int { (train.count + config.training.batchSize - 1) / config.training.batchSize }

    /// Builds a fresh model from `config`; applies static binarization to the data.
    /// - Parameter standardization: the statistics of a run being resumed;
    ///   with `config.data.standardize` and none given, they are fitted on the
    ///   training split (after the validation hold-out).
    public init(config: RunConfig, train: ImageSet, test: ImageSet?, standardization: Standardization? = nil) throws {
        guard config.problems.isEmpty else { throw TrainingError.invalidConfig(config.problems.joined(separator: "; ")) }
        if train.dimension != config.model.inputDim {
            throw TrainingError.inputSizeMismatch(model: config.model.inputDim, data: train.dimension, path: train.imagesPath)
        }
        if let test, test.dimension != config.model.inputDim {
            throw TrainingError.inputSizeMismatch(model: config.model.inputDim, data: test.dimension, path: test.imagesPath)
        }
        for set in [train, test].compactMap({ $0 }) {
            // Bytes are scaled into [0, 1]; only float data can lie outside.
            guard case .floats = set.values, config.model.likelihood.needsUnitInterval, !config.data.standardize else { continue }
            if let r = set.valueRange, r.min < 0 || r.max > 1 {
                throw TrainingError.valuesOutsideUnitInterval(min: r.min, max: r.max, path: set.imagesPath)
            }
        }
        let classes = config.model.labelClasses
        if classes > 0 {
            for set in [train, test].compactMap({ $0 }) {
                if !set.hasLabels { throw TrainingError.unlabeledData(classes: classes, path: set.imagesPath) }
                if let bad = set.firstLabel(outside: classes) {
                    throw TrainingError.labelOutOfRange(label: bad, classes: classes, path: set.labelsPath)
                }
            }
        }
        self.config = config
        let seed = config.training.seed
        var train = train
        var test = test
        var validation: ImageSet?
        let held = config.training.validation
        if held > 0 {
            guard held < train.count else {
                throw TrainingError.validationTooLarge(requested: held, available: train.count, path: train.imagesPath)
            }
            (train, validation) = train.holdOut(held)
        }
        if config.data.standardize {
            let s = standardization ?? Standardization.fit(train)
            guard s.mean.count == train.dimension else {
                throw TrainingError.inputSizeMismatch(model: s.mean.count, data: train.dimension, path: train.imagesPath)
            }
            train = s.apply(to: train)
            test = test.map(s.apply)
            validation = validation.map(s.apply)
            self.standardization = s
        } else {
            self.standardization = nil
        }
        // Static binarization draws the training set once; the held-out sets get
        // one fixed draw under either binarization (dynamic redraws only training batches).
        if config.data.binarization == .static {
            var r = RunStreams(seed: seed).staticTrainBinarization
            train.binarize(using: &r)
        }
        if config.data.binarization != .none {
            var t = RunStreams(seed: seed).testBinarization
            test?.binarize(using: &t)
            var v = RunStreams(seed: seed).validationBinarization
            validation?.binarize(using: &v)
        }
        self.train = train
        self.test = test
        self.validation = validation
        // OpenBLAS's thread count is process-wide: the command sets it
        // (`config.training.threads`), never a constructor that tests call in parallel.
        Kernels.flushDenormals()
        let largest = max(train.count, test?.count ?? 0, validation?.count ?? 0)
        model = try VAE(
            config: config.model, maxRows: min(config.training.batchSize, largest),
            maxSamples: config.training.importanceSamples)
        workers = try BatchWorkers(model, count: config.training.threads)
        var initStream = RunStreams(seed: seed).initialization
        model.initialize(using: &initStream)
        initializationStream = initStream
        optimizer = try Adam(parameterCount: model.parameters.count, config.training.optimizer.adam)
        shuffleStream = RunStreams(seed: seed).shuffle
        epochShuffleStart = shuffleStream
        noiseStream = RunStreams(seed: seed).noise
        binarizationStream = RunStreams(seed: seed).binarization
        permutation = .allocate(capacity: max(train.count, 1))
        let seqCount = max(largest, 1)
        sequential = .allocate(capacity: seqCount)
        for i in 0..<seqCount { sequential[i] = Int64(i) }
        uniform = .allocate(capacity: model.maxRows * config.model.inputDim)
        noiseWords = .allocate(capacity: model.maxRows * model.maxSamples * config.model.latentDim + 2)
    }

    deinit {
        permutation.deallocate()
        sequential.deallocate()
        uniform.deallocate()
        noiseWords.deallocate()
    }

    /// The run's position and random streams (see `TrainingState`).
    public var state: TrainingState {
        TrainingState(
            epoch: epoch, stepInEpoch: stepInEpoch, globalStep: globalStep, seconds: seconds,
            history: history, shuffle: shuffleStream, shuffleAtEpochStart: epochShuffleStart,
            noise: noiseStream, binarization: binarizationStream, optimizerStep: optimizer.step,
            epochReconstruction: epochReconstruction, epochKL: epochKL, epochImages: epochImages,
            epochSeconds: epochSeconds, bestValidationLoss: bestValidationLoss, bestEpoch: bestEpoch,
            latent: latent)
    }

    /// Whether early stopping ends the run: `patience` epochs have passed
    /// without a better validation loss.
    public var stoppedEarly: Bool {
        guard let p = config.training.patience, validation != nil, epoch > 0 else { return false }
        return epoch - bestEpoch >= p
    }

    /// Whether the last finished epoch has the best validation loss so far.
    public var lastEpochIsBest: Bool { validation != nil && epoch > 0 && bestEpoch == epoch && stepInEpoch == 0 }

    /// Puts the run where `state` says. Parameters and optimizer moments are
    /// restored separately (`model.parameters.values`, `optimizer.firstMoment`,
    /// `optimizer.secondMoment`). In an unfinished epoch, the epoch's order is
    /// drawn again from the shuffle state at its start, and must lead to the
    /// saved shuffle state.
    public func restore(_ state: TrainingState) throws {
        let steps = stepsPerEpoch
        guard state.epoch >= 0, state.stepInEpoch >= 0, state.stepInEpoch < steps else {
            throw TrainingStateError.inconsistent("step \(state.stepInEpoch) in an epoch of \(steps) steps")
        }
        guard state.globalStep == state.epoch * steps + state.stepInEpoch, state.optimizerStep == state.globalStep else {
            throw TrainingStateError.inconsistent(
                "global step \(state.globalStep) and optimizer step \(state.optimizerStep) do not match epoch \(state.epoch), step \(state.stepInEpoch) of \(steps)"
            )
        }
        guard state.history.count == state.epoch else {
            throw TrainingStateError.inconsistent("\(state.history.count) history rows for \(state.epoch) epochs")
        }
        if state.stepInEpoch > 0 {
            var s = state.shuffleAtEpochStart
            s.permutation(permutation.baseAddress!, count: train.count)
            guard s == state.shuffle else {
                throw TrainingStateError.inconsistent("the shuffle stream does not follow from its state at the epoch start")
            }
        }
        epoch = state.epoch
        stepInEpoch = state.stepInEpoch
        globalStep = state.globalStep
        seconds = state.seconds
        history = state.history
        shuffleStream = state.shuffle
        epochShuffleStart = state.shuffleAtEpochStart
        noiseStream = state.noise
        binarizationStream = state.binarization
        optimizer.step = state.optimizerStep
        epochReconstruction = state.epochReconstruction
        epochKL = state.epochKL
        epochImages = state.epochImages
        epochSeconds = state.epochSeconds
        bestValidationLoss = state.bestValidationLoss
        bestEpoch = state.bestEpoch
        latent = state.latent
    }

    /// Writes rows `indices[0..<rows]` of `set` into the model's input (and
    /// their labels into `model.labels` for a conditional model).
    private func gather(_ set: ImageSet, indices: UnsafePointer<Int64>, rows: Int) {
        gatherLabels(set, indices: indices, rows: rows)
        set.gather(indices, count: rows, into: model.input.pointer)
    }

    /// The labels of rows `indices[0..<rows]` into `model.labels`, for a conditional model.
    private func gatherLabels(_ set: ImageSet, indices: UnsafePointer<Int64>, rows: Int) {
        guard config.model.isConditional else { return }
        for r in 0..<rows { model.labels[r] = Int32(set.labels[Int(indices[r])]) }
    }

    /// A training batch: rows `indices[0..<rows]` of `set` as `gather` writes
    /// them (a fresh Bernoulli draw of every pixel when `dynamic`), and `noise`
    /// values of ε, both split across the workers' threads once the random
    /// words are drawn in order (the Box–Muller transform took about 3 % of an
    /// MLP epoch on the calling thread alone). The same values as drawn on one thread.
    private func prepareBatch(_ set: ImageSet, indices: UnsafePointer<Int64>, rows: Int, dynamic: Bool, noise: Int) {
        let D = set.dimension
        gatherLabels(set, indices: indices, rows: rows)
        if dynamic { binarizationStream.fillUniform24(uniform.baseAddress!, count: rows * D) }
        noiseStream.normalWords(count: noise, into: noiseWords.baseAddress!)
        let (n, input, epsilon, words, uniform) = (
            workers.count, model.input.pointer, model.epsilon.pointer, UnsafePointer(noiseWords.baseAddress!),
            UnsafePointer(uniform.baseAddress!)
        )
        parallel(n) { t in
            RandomStream.normals(fromWords: words, count: noise, range: (noise * t / n)..<(noise * (t + 1) / n), into: epsilon)
            let part = (rows * t / n)..<(rows * (t + 1) / n)
            guard !part.isEmpty else { return }
            if dynamic {
                set.gatherBernoulli(
                    indices + part.lowerBound, count: part.count, uniform24: uniform + part.lowerBound * D,
                    into: input + part.lowerBound * D)
            } else {
                set.gather(indices + part.lowerBound, count: part.count, into: input + part.lowerBound * D)
            }
        }
    }

    /// Runs the rest of the current epoch (all of it when starting fresh).
    /// - Parameters:
    ///   - progress: called after every step.
    ///   - shouldStop: polled after every step; when it returns true the epoch
    ///     is left unfinished (its position is kept) and nil is returned.
    /// - Returns: the finished epoch's record, or nil if stopped.
    public func runEpoch(
        progress: (StepProgress) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> EpochRecord? {
        let B = config.training.batchSize
        let n = train.count
        let steps = stepsPerEpoch
        if stepInEpoch == 0 {
            epochShuffleStart = shuffleStream
            shuffleStream.permutation(permutation.baseAddress!, count: n)
            epochReconstruction = 0
            epochKL = 0
            epochImages = 0
            epochSeconds = 0
            epochTimes = EpochTimes()
        }
        let dynamic = config.data.binarization == .dynamic
        let K = config.training.importanceSamples
        let start = monotonicSeconds()
        // The layers' clocks also run in evaluation (the same workers): keep the steps' part.
        let layersBefore = workers.timesLayers ? workers.layerNanoseconds : []
        func noteLayerTimes() {
            if workers.timesLayers { epochTimes.addLayers(workers.layerNanoseconds, since: layersBefore) }
        }
        while stepInEpoch < steps {
            let first = stepInEpoch * B
            let rows = min(B, n - first)
            let prepared = monotonicSeconds()
            prepareBatch(
                train, indices: permutation.baseAddress! + first, rows: rows, dynamic: dynamic, noise: rows * K * config.model.latentDim)
            epochTimes.batchPreparation += monotonicSeconds() - prepared
            let beta = config.training.klWeight(globalStep: globalStep, stepsPerEpoch: steps)
            let (epoch, step) = (epoch, stepInEpoch)
            let sums = try workers.step(rows: rows, samples: K, klWeight: Float(beta), optimizer: optimizer) { s in
                guard s.reconstruction.isFinite, s.kl.isFinite, s.objective.isFinite else {
                    throw TrainingError.nonFiniteLoss(epoch: epoch + 1, step: step + 1, reconstruction: s.reconstruction, kl: s.kl)
                }
            }
            let (rec, kl) = (sums.reconstruction, sums.kl)
            let times = workers.lastStepTimes
            epochTimes.passes += times.passes
            if let o = times.optimizer { epochTimes.optimizer = (epochTimes.optimizer ?? 0) + o }
            stepInEpoch += 1
            globalStep += 1
            epochReconstruction += rec
            epochKL += kl
            epochImages += rows
            progress(
                StepProgress(
                    epoch: epoch + 1, step: stepInEpoch, steps: steps, images: epochImages,
                    meanReconstruction: epochReconstruction / Double(epochImages),
                    meanKL: epochKL / Double(epochImages), globalStep: globalStep, batchImages: rows, batchReconstruction: rec,
                    batchKL: kl, beta: beta))
            if stepInEpoch < steps && shouldStop() {
                noteLayerTimes()
                try checkFiniteState()
                let elapsed = monotonicSeconds() - start
                epochSeconds += elapsed
                seconds += elapsed
                return nil
            }
        }
        noteLayerTimes()
        try checkFiniteState()
        epochSeconds += monotonicSeconds() - start
        let evalStart = monotonicSeconds()
        let validationResult = validation.map { evaluate($0, epoch: epoch + 1, stream: 1) }
        let testResult = test.map { evaluate($0, epoch: epoch + 1) }
        let validationLoss = validationResult?.loss.loss
        let testLoss = testResult?.loss.loss
        let evalSeconds = monotonicSeconds() - evalStart
        epoch += 1
        stepInEpoch = 0
        seconds += epochSeconds + evalSeconds
        latent = (validationResult ?? testResult)?.latent
        if let v = validationLoss, bestValidationLoss.map({ v < $0 }) ?? true {
            bestValidationLoss = v
            bestEpoch = epoch
        }
        let record = EpochRecord(
            epoch: epoch, trainLoss: (epochReconstruction + epochKL) / Double(epochImages),
            trainReconstruction: epochReconstruction / Double(epochImages),
            trainKL: epochKL / Double(epochImages), testLoss: testLoss,
            validationLoss: validationLoss, activeUnits: latent?.activeUnits, seconds: epochSeconds)
        history.append(record)
        return record
    }

    /// Refuses to go on (and so to save) with a parameter or Adam moment that
    /// is not finite: a run can diverge that way while its loss stays finite
    /// (squared gradients overflow first). Checked at the end of every epoch
    /// and before a mid-epoch stop; a few microseconds per million values.
    private func checkFiniteState() throws {
        for (what, tensor) in [
            ("a parameter", model.parameters.values), ("Adam's first moment", optimizer.firstMoment),
            ("Adam's second moment", optimizer.secondMoment),
        ] where !Kernels.allFinite(tensor.pointer, count: tensor.count) {
            throw TrainingError.nonFiniteState(epoch: epoch + 1, step: stepInEpoch, what: what)
        }
    }

    /// Mean negative ELBO of `set` (a split as the trainer prepared it) with
    /// one z per image drawn from a stream that depends only on the seed,
    /// `epoch` and `stream` (0 for the test split, 1 for validation), so
    /// evaluating never changes the training streams. The ELBO evaluator's
    /// figure, with the posterior-collapse statistics of the split.
    public func evaluate(_ set: ImageSet, epoch: Int, stream: UInt64 = 0) -> (loss: SplitLoss, latent: LatentSummary) {
        let prepared = EvaluationSet(prepared: set, binarization: config.data.binarization)
        let noise = RunStreams(seed: config.training.seed).evaluation(epochs: epoch, set: stream)
        // Never stops early (no stop condition), so the result exists.
        let r = ELBOEvaluator.evaluate(workers, on: prepared, batchSize: model.maxRows, noise: noise)!
        return (SplitLoss(count: r.count, reconstruction: r.reconstruction, kl: r.kl), r.latent)
    }

    /// Decodes `count` draws z ~ N(0, I) (fixed by the seed) to Bernoulli /
    /// Gaussian means, `count × inputDim` floats in [0, 1]. A conditional
    /// model gives sample i the class i mod labelClasses.
    public func priorSamples(count: Int) -> [Float] {
        var stream = RunStreams(seed: config.training.seed).sampling
        let D = config.model.inputDim
        let L = config.model.latentDim
        var out = [Float](repeating: 0, count: count * D)
        var first = 0
        while first < count {
            let rows = min(model.maxRows, count - first)
            stream.fillNormal(model.z.pointer, count: rows * L)
            // A conditional model cycles through the classes: sample i has class i mod C.
            let C = config.model.labelClasses
            if C > 0 { for r in 0..<rows { model.latentLabels[r] = Int32((first + r) % C) } }
            model.decode(rows: rows)
            out.withUnsafeMutableBufferPointer { model.means(rows: rows, into: $0.baseAddress! + first * D) }
            first += rows
        }
        standardization?.undo(&out)
        return out
    }

    /// The first `count` images of `set` (as the model sees them) followed by
    /// their reconstructions at z = μ: `2 × count × inputDim` floats.
    public func reconstructions(of set: ImageSet, count: Int) -> [Float] {
        let n = min(count, set.count, model.maxRows)
        let D = config.model.inputDim
        gather(set, indices: sequential.baseAddress!, rows: n)
        model.epsilon.fill(0)
        model.forward(rows: n)
        var out = [Float](repeating: 0, count: 2 * n * D)
        out.withUnsafeMutableBufferPointer { buf in
            buf.baseAddress!.update(from: model.input.pointer, count: n * D)
            model.means(rows: n, into: buf.baseAddress! + n * D)
        }
        standardization?.undo(&out)
        return out
    }
}

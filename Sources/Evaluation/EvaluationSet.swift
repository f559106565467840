import Datasets
import NeuralNet
import NumericCore

/// A split prepared for evaluation exactly as training saw it: the same pixel
/// binarization (one fixed Bernoulli draw for binarized protocols, seeded by the
/// training seed, so the test split is the one the training's test loss used).
public struct EvaluationSet: Sendable {
    public let images: ImageSet
    public let binarization: Binarization

    /// - Throws: `EvaluationError.inputSizeMismatch` when the images do not have
    ///   the model's input size; `EvaluationError.emptySet` for a split without images.
    /// - Parameter standardization: the run's per-feature standardization
    ///   (`--standardize`), applied to the images as training did.
    public init(
        _ images: ImageSet, model: ModelConfig, binarization: Binarization, trainingSeed: UInt64,
        standardization: Standardization? = nil
    ) throws {
        if images.count == 0 { throw EvaluationError.emptySet(path: images.imagesPath) }
        if images.dimension != model.inputDim {
            throw EvaluationError.inputSizeMismatch(
                model: model.inputDim, data: images.dimension,
                height: images.height, width: images.width, path: images.imagesPath)
        }
        let classes = model.labelClasses
        if classes > 0, let bad = images.firstLabel(outside: classes) {
            throw EvaluationError.labelOutOfRange(label: bad, classes: classes, path: images.labelsPath)
        }
        var images = images
        switch (binarization, images.split) {
        case (.none, _): break
        // The test split: the draw Trainer makes for its per-epoch test loss.
        case (_, .test):
            var r = RunStreams(seed: trainingSeed).testBinarization
            images.binarize(using: &r)
        // The train split: static binarization's own training draw; for dynamic
        // binarization (a fresh draw each epoch) one fixed draw.
        case (.static, .train):
            var r = RunStreams(seed: trainingSeed).staticTrainBinarization
            images.binarize(using: &r)
        case (.dynamic, .train):
            var r = RunStreams(seed: trainingSeed).fixedTrainBinarization
            images.binarize(using: &r)
        }
        if let standardization {
            guard standardization.mean.count == images.dimension else {
                throw EvaluationError.inputSizeMismatch(
                    model: standardization.mean.count, data: images.dimension, height: images.height, width: images.width,
                    path: images.imagesPath)
            }
            images = standardization.apply(to: images)
        }
        self.images = images
        self.binarization = binarization
    }

    /// Wraps images that are already prepared (binarized as `binarization`
    /// says, by the caller: the trainer's held-out splits).
    public init(prepared images: ImageSet, binarization: Binarization) {
        self.images = images
        self.binarization = binarization
    }

    public var count: Int { images.count }
    public var dimension: Int { images.dimension }

    /// Writes images `first ..< first + rows` into `model.input` and, for a
    /// conditional model, their labels into `model.labels`.
    public func gather(first: Int, rows: Int, into model: VAE, indices: UnsafeMutablePointer<Int64>) {
        gather(first: first, rows: rows, into: model.input.pointer, indices: indices)
        if model.config.isConditional {
            for r in 0..<rows { model.labels[r] = Int32(images.labels[first + r]) }
        }
    }

    /// Writes images `first ..< first + rows` as floats in [0, 1] into `out` ([rows, dimension]).
    public func gather(first: Int, rows: Int, into out: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int64>) {
        for i in 0..<rows { indices[i] = Int64(first + i) }
        images.gather(indices, count: rows, into: out)
    }
}

extension VAE {
    /// Runs the encoder over every image of `set` in batches of `maxRows` and
    /// writes the posteriors, rows [μ | log σ²], into `out` ([set.count, 2·latent]).
    public func encodeAll(_ set: EvaluationSet, into out: UnsafeMutablePointer<Float>) {
        let L = config.latentDim
        let indices = UnsafeMutablePointer<Int64>.allocate(capacity: maxRows)
        defer { indices.deallocate() }
        var first = 0
        while first < set.count {
            let rows = min(maxRows, set.count - first)
            set.gather(first: first, rows: rows, into: self, indices: indices)
            encode(rows: rows)
            out.advanced(by: first * 2 * L).update(from: posterior.pointer, count: rows * 2 * L)
            first += rows
        }
    }
}

/// Errors of evaluation and embedding, each naming the file and what to do.
public enum EvaluationError: Error, CustomStringConvertible, Equatable, Sendable {
    case inputSizeMismatch(model: Int, data: Int, height: Int, width: Int, path: String)
    case emptySet(path: String)
    case labelOutOfRange(label: Int, classes: Int, path: String)

    public var description: String {
        switch self {
        case .inputSizeMismatch(let model, let data, let h, let w, let path):
            return "the model takes \(model) inputs per image but \(path) holds \(h)×\(w) = \(data)-pixel images; "
                + "evaluate it on data of the size it was trained on (--data DIR)"
        case .emptySet(let path):
            return "\(path) holds no images; choose another split or data directory"
        case .labelOutOfRange(let label, let classes, let path):
            return "\(path) has label \(label) but the conditional model knows \(classes) classes (0…\(classes - 1)); "
                + "use the data it was trained on (--data DIR)"
        }
    }
}

import Datasets
import NeuralNet

/// Optimization settings. Defaults are the PyTorch tutorial's.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var epochs: Int = 15
    public var batchSize: Int = 128
    public var optimizer: OptimizerConfig = .init()
    /// Seeds every random stream (initialization, shuffling, noise, binarization).
    public var seed: UInt64 = 1
    /// OpenBLAS threads. Results are bit-identical for a fixed seed and thread count.
    public var threads: Int = 1

    public init() {}

    enum CodingKeys: String, CodingKey { case epochs, batchSize = "batch_size", optimizer, seed, threads }
}

public struct OptimizerConfig: Codable, Equatable, Sendable {
    public var type: String = "adam"
    public var lr: Double = 1e-3
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    public init() {}

    public var adam: Adam.Hyperparameters { .init(lr: lr, beta1: beta1, beta2: beta2, eps: eps) }
}

/// Where the data comes from and how it is presented.
public struct DataConfig: Codable, Equatable, Sendable {
    /// Directory in the MNIST layout; nil means Debian's Fashion-MNIST.
    public var directory: String?
    public var binarization: Binarization = .none
    /// Use only the first `limit` images of each split.
    public var limit: Int?
    public init(directory: String? = nil, binarization: Binarization = .none, limit: Int? = nil) {
        self.directory = directory
        self.binarization = binarization
        self.limit = limit
    }
}

/// Everything that defines a training run: model, optimization, data.
public struct RunConfig: Codable, Equatable, Sendable {
    public var model: ModelConfig = .init()
    public var training: TrainingConfig = .init()
    public var data: DataConfig = .init()
    public init(model: ModelConfig = .init(), training: TrainingConfig = .init(), data: DataConfig = .init()) {
        self.model = model
        self.training = training
        self.data = data
    }

    /// Problems with the configuration, each a sentence naming the value (empty if valid).
    public var problems: [String] {
        var out = model.problems
        let t = training
        if t.epochs < 1 { out.append("epochs must be at least 1, got \(t.epochs)") }
        if t.batchSize < 1 { out.append("batch size must be at least 1, got \(t.batchSize)") }
        if t.threads < 1 { out.append("threads must be at least 1, got \(t.threads)") }
        let o = t.optimizer
        if o.type != "adam" { out.append("optimizer must be \"adam\", got \"\(o.type)\"") }
        if !(o.lr > 0) || !o.lr.isFinite { out.append("learning rate must be a positive number, got \(o.lr)") }
        if !(o.beta1 >= 0 && o.beta1 < 1) { out.append("beta1 must be in [0, 1), got \(o.beta1)") }
        if !(o.beta2 >= 0 && o.beta2 < 1) { out.append("beta2 must be in [0, 1), got \(o.beta2)") }
        if !(o.eps > 0) || !o.eps.isFinite { out.append("eps must be a positive number, got \(o.eps)") }
        if let l = data.limit, l < 1 { out.append("limit must be at least 1, got \(l)") }
        return out
    }
}

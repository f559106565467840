import Datasets
import NeuralNet

/// Optimization settings. Defaults are the PyTorch tutorial's.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var epochs: Int = 15
    public var batchSize: Int = 128
    public var optimizer: OptimizerConfig = .init()
    /// Seeds every random stream (initialization, shuffling, noise, binarization).
    public var seed: UInt64 = 1
    /// Worker threads each batch is split across (`BatchWorkers`), each with
    /// single-threaded OpenBLAS. Results are bit-identical for a fixed seed and thread count.
    public var threads: Int = 1
    /// β: the weight of the KL term (1 is the ELBO; β-VAE uses β > 1).
    public var beta: Double = 1
    /// Epochs over which β ramps linearly from 0 to `beta`, step by step (0: no warm-up).
    public var klWarmup: Int = 0
    /// Latent draws per image in the objective: 1 trains on the ELBO, K > 1 on
    /// the importance-weighted bound (IWAE, Burda et al. 2015).
    public var importanceSamples: Int = 1
    /// Images held out of the training set for validation (0: none): the
    /// last `validation` images of a fixed permutation (seed 0) of the training set,
    /// the same for every run seed.
    public var validation: Int = 0
    /// Stop after this many epochs without a better validation loss (nil: never).
    public var patience: Int?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case epochs
        case batchSize = "batch_size"
        case optimizer, seed, threads, beta
        case klWarmup = "kl_warmup"
        case importanceSamples = "iw_samples"
        case validation = "val_split"
        case patience
    }

    /// Keys added after format version 1 take their defaults when absent.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decode(Int.self, forKey: .epochs)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        optimizer = try c.decode(OptimizerConfig.self, forKey: .optimizer)
        seed = try c.decode(UInt64.self, forKey: .seed)
        threads = try c.decode(Int.self, forKey: .threads)
        beta = try c.decodeIfPresent(Double.self, forKey: .beta) ?? 1
        klWarmup = try c.decodeIfPresent(Int.self, forKey: .klWarmup) ?? 0
        importanceSamples = try c.decodeIfPresent(Int.self, forKey: .importanceSamples) ?? 1
        validation = try c.decodeIfPresent(Int.self, forKey: .validation) ?? 0
        patience = try c.decodeIfPresent(Int.self, forKey: .patience)
    }

    /// β for the step with 0-based index `step` of an epoch of `steps` steps:
    /// `beta · min(1, step / (klWarmup · steps))`, so the first step uses 0.
    public func klWeight(globalStep step: Int, stepsPerEpoch steps: Int) -> Double {
        guard klWarmup > 0 else { return beta }
        return beta * min(1, Double(step) / Double(klWarmup * steps))
    }
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
    /// The data: a directory in the MNIST layout or a NumPy `.npy` file
    /// (stored absolute); nil means Debian's Fashion-MNIST.
    public var path: String?
    /// What `path` is, recognised from the path's contents when training starts.
    public var kind: DataSource.Kind = .mnistDirectory
    public var binarization: Binarization = .none
    /// Use only the first `limit` images of each split.
    public var limit: Int?
    /// Examples held out as the test split of a source that has none (0:
    /// none): the last `testSplit` of a fixed permutation (seed 0).
    public var testSplit: Int = 0
    /// The column of a CSV table that holds the class label (nil: none).
    public var labelColumn: String?
    /// The class names of string labels, in index order (recorded when
    /// training starts; nil when labels are plain numbers).
    public var classNames: [String]?
    /// Standardize every feature by the training split's mean and standard
    /// deviation (stored in the checkpoint).
    public var standardize = false
    /// The Keras-named arrays read from an `.npz` or HDF5 source (recorded when training starts).
    public var arrays: [String]?

    public init(path: String? = nil, binarization: Binarization = .none, limit: Int? = nil) {
        self.path = path
        self.binarization = binarization
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case path, kind, binarization, limit
        case testSplit = "test_split"
        case labelColumn = "label_column"
        case classNames = "class_names"
        case standardize, arrays
        /// Formats 1–3 (always an MNIST-layout directory).
        case directory
    }

    /// Format 4 writes `path`, `kind` and `test_split`; formats 1–3 wrote the
    /// MNIST-layout `directory`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.directory) {
            if c.contains(.path) {
                throw DecodingError.dataCorruptedError(
                    forKey: .directory, in: c, debugDescription: "give path or (formats 1–3) directory, not both")
            }
            path = try c.decodeIfPresent(String.self, forKey: .directory)
        } else {
            path = try c.decodeIfPresent(String.self, forKey: .path)
        }
        kind = try c.decodeIfPresent(DataSource.Kind.self, forKey: .kind) ?? .mnistDirectory
        binarization = try c.decode(Binarization.self, forKey: .binarization)
        limit = try c.decodeIfPresent(Int.self, forKey: .limit)
        testSplit = try c.decodeIfPresent(Int.self, forKey: .testSplit) ?? 0
        labelColumn = try c.decodeIfPresent(String.self, forKey: .labelColumn)
        classNames = try c.decodeIfPresent([String].self, forKey: .classNames)
        standardize = try c.decodeIfPresent(Bool.self, forKey: .standardize) ?? false
        arrays = try c.decodeIfPresent([String].self, forKey: .arrays)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(path, forKey: .path)
        try c.encode(kind, forKey: .kind)
        try c.encode(binarization, forKey: .binarization)
        try c.encode(limit, forKey: .limit)
        try c.encode(testSplit, forKey: .testSplit)
        try c.encode(labelColumn, forKey: .labelColumn)
        try c.encode(classNames, forKey: .classNames)
        try c.encode(standardize, forKey: .standardize)
        try c.encode(arrays, forKey: .arrays)
    }
}

/// Everything that defines a training run: model, optimization, data.
public struct RunConfig: Codable, Equatable, Sendable {
    /// Limits on the run's sizes, so that any configuration that passes
    /// `problems` can be trained without overflow or an absurd allocation.
    public static let maximumEpochs = 1_000_000
    public static let maximumBatchSize = 65_536
    public static let maximumThreads = 256
    public static let maximumImages = 1 << 31
    /// Memory the model, its gradients, Adam's moments and one batch's
    /// workspace may take: 8 GiB.
    public static let maximumTrainingBytes = 8 << 30

    public var model: ModelConfig = .init()
    public var training: TrainingConfig = .init()
    public var data: DataConfig = .init()
    public init(model: ModelConfig = .init(), training: TrainingConfig = .init(), data: DataConfig = .init()) {
        self.model = model
        self.training = training
        self.data = data
    }

    /// Problems with the configuration, each a sentence naming the value
    /// (empty if valid): the one validation that the command line, recipe
    /// files and the checkpoint reader all use.
    public var problems: [String] { issues.map(\.message) }

    /// The same problems with the configuration key each concerns.
    public var issues: [ConfigProblem] {
        var out = model.issues
        let t = training
        func bound(_ key: String, _ name: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                out.append(.init(key, "\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)"))
            }
        }
        func add(_ key: String, _ message: String) { out.append(.init(key, message)) }
        bound("training.epochs", "epochs", t.epochs, 1...Self.maximumEpochs)
        bound("training.batch_size", "batch size", t.batchSize, 1...Self.maximumBatchSize)
        bound("training.threads", "threads", t.threads, 1...Self.maximumThreads)
        let o = t.optimizer
        if o.type != "adam" { add("training.optimizer.type", "optimizer must be \"adam\", got \"\(o.type)\"") }
        if !(o.lr > 0) || !o.lr.isFinite { add("training.optimizer.lr", "learning rate must be a positive number, got \(o.lr)") }
        if !(o.beta1 >= 0 && o.beta1 < 1) { add("training.optimizer.beta1", "beta1 must be in [0, 1), got \(o.beta1)") }
        if !(o.beta2 >= 0 && o.beta2 < 1) { add("training.optimizer.beta2", "beta2 must be in [0, 1), got \(o.beta2)") }
        if !(o.eps > 0) || !o.eps.isFinite { add("training.optimizer.eps", "eps must be a positive number, got \(o.eps)") }
        if let l = data.limit { bound("data.limit", "limit", l, 1...Self.maximumImages) }
        bound("data.test_split", "the test split (examples)", data.testSplit, 0...Self.maximumImages)
        if data.standardize {
            if data.binarization != .none {
                add("data.standardize", "standardized data cannot also be binarized (--binarize \(data.binarization.rawValue))")
            }
            if model.likelihood.needsUnitInterval {
                add(
                    "data.standardize",
                    "standardized data leaves [0, 1], so it needs --decoder gaussian-linear, not \(model.likelihood.rawValue)")
            }
        }
        if !(t.beta >= 0) || !t.beta.isFinite || t.beta > 1e6 { add("training.beta", "beta must be a number in [0, 1e6], got \(t.beta)") }
        bound("training.kl_warmup", "KL warm-up (epochs)", t.klWarmup, 0...Self.maximumEpochs)
        bound("training.iw_samples", "importance samples", t.importanceSamples, 1...1000)
        bound("training.val_split", "the validation split (images)", t.validation, 0...Self.maximumImages)
        if let p = t.patience {
            bound("training.patience", "patience (epochs)", p, 1...Self.maximumEpochs)
            if t.validation == 0 { add("training.patience", "early stopping (patience \(p)) needs a validation split (--val-split N)") }
        }
        if out.isEmpty {
            let bytes = model.trainingBytes(rows: t.batchSize, samples: t.importanceSamples)
            if bytes > Self.maximumTrainingBytes {
                add(
                    "training.batch_size",
                    "the model and one batch need about \(bytes >> 20) MiB, more than the \(Self.maximumTrainingBytes >> 30) GiB zoo allows; "
                        + "use smaller layers, a smaller batch or fewer importance samples")
            }
        }
        return out
    }
}

extension RunConfig {
    /// schemas/config.schema.json (a package resource, embedded in the binary):
    /// the JSON Schema of a checkpoint's /config.
    public static let schemaJSON = String(decoding: PackageResources.config_schema_json, as: UTF8.self)

    /// schemas/config-v3.schema.json: the /config of checkpoint formats 1–3
    /// (an MLP given by `input_dim` and `hidden`), which `RunConfig`'s decoder
    /// reads as the equivalent layer lists.
    public static let legacySchemaJSON = String(decoding: PackageResources.config_v3_schema_json, as: UTF8.self)
}

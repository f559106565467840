import Datasets
import Foundation
import HDF5
import NeuralNet
import NumericCore
import Support
import Training

/// The contents of a zoo checkpoint (layout: schemas/checkpoint-layout.json).
public struct Checkpoint {
    public static let format = "zoo-vae-checkpoint"
    /// 2 added the model's activation and label classes, β, warm-up, IWAE
    /// samples and validation settings to the config, `/training/latent`,
    /// `best_epoch`/`best_val_loss`, and the `val_loss`/`active_units` history
    /// columns; version 1 files still read (those take their defaults).
    /// 3 added the root attribute `metadata_sha256` (MetadataDigest); files of
    /// versions 1 and 2 still read, but their metadata is unprotected.
    /// 4 declares the architecture in the config (`input_shape` and the
    /// `encoder`/`decoder` layer lists, config.schema.json) where 1–3 had an
    /// MLP's `input_dim`, `hidden` and `activation` (config-v3.schema.json);
    /// those read as the equivalent lists, with the same parameter names.
    public static let formatVersion: Int64 = 4

    /// Whether the file it was read from carried a valid whole-file seal (FileSeal).
    public var sealed = false

    /// Whether the file's config and attributes are covered by a digest.
    public var metadataProtected: Bool { fileFormatVersion >= 3 }

    public struct OptimizerState {
        public var hyperparameters: Adam.Hyperparameters
        public var step: Int
        /// Per parameter, by state_dict name (PyTorch's exp_avg and exp_avg_sq).
        public var firstMoment: [String: [Float]]
        public var secondMoment: [String: [Float]]
    }

    public var config: RunConfig
    /// Parameters by state_dict name, in the shapes `config.model` gives.
    public var parameters: [String: [Float]]
    /// nil for a model trained elsewhere (no optimizer state in the file).
    public var optimizer: OptimizerState?
    /// nil when the file holds no training state.
    public var training: TrainingState?
    public var initializationStream: RandomStream?
    public var dataFingerprint: String?
    public var zooVersion: String
    public var createdUTC: String
    /// The recipe the run started from (nil for files without one).
    public var recipe: String?
    /// The per-feature standardization of a `--standardize` run
    /// (`/standardization/mean`, `/standardization/std`), else nil.
    public var standardization: Standardization?
    /// The format version of the file it was read from (`formatVersion` for a new one).
    public var fileFormatVersion: Int64 = Checkpoint.formatVersion

    public init(
        config: RunConfig, parameters: [String: [Float]], optimizer: OptimizerState?, training: TrainingState?,
        initializationStream: RandomStream?, dataFingerprint: String?, zooVersion: String, createdUTC: String
    ) {
        self.config = config
        self.parameters = parameters
        self.optimizer = optimizer
        self.training = training
        self.initializationStream = initializationStream
        self.dataFingerprint = dataFingerprint
        self.zooVersion = zooVersion
        self.createdUTC = createdUTC
    }

    /// A snapshot of a trainer.
    public init(trainer: Trainer, dataFingerprint: String, zooVersion: String, recipe: String? = nil) {
        self.recipe = recipe
        let p = trainer.model.parameters
        config = trainer.config
        parameters = Dictionary(uniqueKeysWithValues: p.entries.map { ($0.name, p.value($0.name).array) })
        func moments(_ t: Tensor) -> [String: [Float]] {
            Dictionary(uniqueKeysWithValues: p.entries.map { ($0.name, View(t, offset: $0.offset, shape: $0.shape).array) })
        }
        optimizer = OptimizerState(
            hyperparameters: trainer.optimizer.hyperparameters, step: trainer.optimizer.step,
            firstMoment: moments(trainer.optimizer.firstMoment),
            secondMoment: moments(trainer.optimizer.secondMoment))
        training = trainer.state
        standardization = trainer.standardization
        initializationStream = trainer.initializationStream
        self.dataFingerprint = dataFingerprint
        self.zooVersion = zooVersion
        createdUTC = ISO8601DateFormatter().string(from: Date())
    }

    /// A model with this checkpoint's architecture and parameters, with
    /// workspace for `maxRows` rows (for evaluation; no optimizer).
    public func makeModel(maxRows: Int, path: String) throws -> VAE {
        let model = try VAE(config: config.model, maxRows: maxRows)
        let p = model.parameters
        for e in p.entries {
            guard let v = parameters[e.name] else { throw CheckpointError.missingParameter(path: path, name: e.name) }
            _ = p.value(e.name).buffer.update(fromContentsOf: v)
        }
        return model
    }

    /// Copies parameters, and optimizer and training state when present, into
    /// `trainer` (built from the same config). Without optimizer state the
    /// trainer keeps a fresh Adam and starts at epoch 0.
    public func apply(to trainer: Trainer, path: String) throws {
        let p = trainer.model.parameters
        for e in p.entries {
            guard let v = parameters[e.name] else { throw CheckpointError.missingParameter(path: path, name: e.name) }
            _ = p.value(e.name).buffer.update(fromContentsOf: v)
        }
        guard let optimizer, let training else { return }
        trainer.optimizer.hyperparameters = optimizer.hyperparameters
        for e in p.entries {
            guard let m = optimizer.firstMoment[e.name], let v = optimizer.secondMoment[e.name] else {
                throw CheckpointError.missingParameter(path: path, name: "optimizer state of \(e.name)")
            }
            _ = View(trainer.optimizer.firstMoment, offset: e.offset, shape: e.shape).buffer.update(fromContentsOf: m)
            _ = View(trainer.optimizer.secondMoment, offset: e.offset, shape: e.shape).buffer.update(fromContentsOf: v)
        }
        do { try trainer.restore(training) } catch {
            throw CheckpointError.badTrainingState(path: path, reason: "\(error)")
        }
    }
}

// MARK: Writing

extension Checkpoint {
    static let streamNames = ["initialization", "shuffle", "shuffle_epoch_start", "noise", "binarization"]

    /// Writes the checkpoint crash-safely: the file is built in memory, then
    /// written to a temporary file in the same directory, fsynced and renamed
    /// over `path` (`writeAtomically`). At any instant `path` holds the previous
    /// file or the new one; a full disk or any other failure leaves the
    /// previous file and no temporary, and is reported naming the path.
    public func write(to path: String) throws {
        let dir = Temporaries.split(path).directory
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw CheckpointError.cannotWrite(path: path, reason: "directory \(dir) does not exist")
        }
        let bytes: [UInt8]
        do { bytes = try image(name: path) } catch {
            throw CheckpointError.cannotWrite(path: path, reason: "\(error)")
        }
        do { try writeAtomically(bytes, to: path) } catch let e as FileWriteError {
            throw CheckpointError.cannotWrite(path: path, reason: e.reason)
        }
    }

    /// Large arrays are stored uncompressed in chunks checksummed in parallel
    /// (Fletcher-32): gzip, even at level 1 on all cores, was most of the save
    /// time and saved only 15-20 % of their bytes (float weights and moments
    /// compress poorly). Small ones are shuffled and gzipped in one chunk.
    private func writeArray(_ g: Group, _ name: String, _ values: [Float], shape: [Int]) throws {
        if values.count >= 1 << 16 {
            let chunks = 2 * ProcessInfo.processInfo.activeProcessorCount
            try values.withUnsafeBufferPointer {
                try g.writeParallel(name, $0, shape: shape, chunks: chunks, compression: .checksumOnly)
            }
        } else {
            try g.write(name, values, shape: shape)
        }
    }

    /// The bytes of the checkpoint file (built with HDF5's in-memory driver).
    func image(name: String) throws -> [UInt8] {
        let f = try HDF5File.createInMemory(name: name, userBlock: FileSeal.size)
        try f.setAttribute("format", Self.format)
        try f.setAttribute("format_version", Self.formatVersion)
        try f.setAttribute("zoo_version", zooVersion)
        try f.setAttribute("created_utc", createdUTC)
        if let recipe { try f.setAttribute("recipe", recipe) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try f.writeString("config", String(decoding: try encoder.encode(config), as: UTF8.self))

        let shapes = Dictionary(uniqueKeysWithValues: config.model.parameterShapes)
        let model = try f.createGroup("model")
        for (name, values) in parameters.sorted(by: { $0.key < $1.key }) {
            try writeArray(model, name, values, shape: shapes[name] ?? [values.count])
        }
        try model.close()

        if let standardization {
            let g = try f.createGroup("standardization")
            try writeArray(g, "mean", standardization.mean, shape: [standardization.mean.count])
            try writeArray(g, "std", standardization.std, shape: [standardization.std.count])
            try g.close()
        }

        if let optimizer {
            let g = try f.createGroup("optimizer")
            try g.setAttribute("type", "adam")
            try g.setAttribute("lr", optimizer.hyperparameters.lr)
            try g.setAttribute("beta1", optimizer.hyperparameters.beta1)
            try g.setAttribute("beta2", optimizer.hyperparameters.beta2)
            try g.setAttribute("eps", optimizer.hyperparameters.eps)
            try g.setAttribute("step", Int64(optimizer.step))
            for (groupName, moments) in [("exp_avg", optimizer.firstMoment), ("exp_avg_sq", optimizer.secondMoment)] {
                let mg = try g.createGroup(groupName)
                for (name, values) in moments.sorted(by: { $0.key < $1.key }) {
                    try writeArray(mg, name, values, shape: shapes[name] ?? [values.count])
                }
                try mg.close()
            }
            try g.close()
        }

        if let t = training {
            let g = try f.createGroup("training")
            try g.setAttribute("epoch", Int64(t.epoch))
            try g.setAttribute("step_in_epoch", Int64(t.stepInEpoch))
            try g.setAttribute("global_step", Int64(t.globalStep))
            try g.setAttribute("seconds", t.seconds)
            try g.setAttribute("epoch_reconstruction", t.epochReconstruction)
            try g.setAttribute("epoch_kl", t.epochKL)
            try g.setAttribute("epoch_images", Int64(t.epochImages))
            try g.setAttribute("epoch_seconds", t.epochSeconds)
            if let dataFingerprint { try g.setAttribute("data_fingerprint", dataFingerprint) }
            try g.setAttribute("best_epoch", Int64(t.bestEpoch))
            if let best = t.bestValidationLoss { try g.setAttribute("best_val_loss", best) }
            if let latent = t.latent {
                let lg = try g.createGroup("latent")
                try lg.setAttribute("images", Int64(latent.count))
                try lg.setAttribute("active_units", Int64(latent.activeUnits))
                try lg.write("mu_mean", latent.meanMu, shape: [latent.latentDim])
                try lg.write("mu_variance", latent.muVariance, shape: [latent.latentDim])
                try lg.write("kl", latent.klPerDimension, shape: [latent.latentDim])
                try lg.close()
            }
            let rng = try g.createGroup("rng")
            let streams = [initializationStream, t.shuffle, t.shuffleAtEpochStart, t.noise, t.binarization]
            for (name, stream) in zip(Self.streamNames, streams) {
                if let stream { try rng.write(name, stream.stateWords, shape: [4]) }
            }
            try rng.close()
            try g.close()

            let h = try f.createGroup("history")
            let rows = t.history
            try h.write("epoch", rows.map { Int64($0.epoch) }, shape: [rows.count])
            try h.write("train_loss", rows.map(\.trainLoss), shape: [rows.count])
            try h.write("train_reconstruction", rows.map(\.trainReconstruction), shape: [rows.count])
            try h.write("train_kl", rows.map(\.trainKL), shape: [rows.count])
            try h.write("test_loss", rows.map { $0.testLoss ?? .nan }, shape: [rows.count])
            try h.write("val_loss", rows.map { $0.validationLoss ?? .nan }, shape: [rows.count])
            try h.write("active_units", rows.map { Int64($0.activeUnits ?? -1) }, shape: [rows.count])
            try h.write("seconds", rows.map(\.seconds), shape: [rows.count])
            try h.close()
        }
        try f.setAttribute(MetadataDigest.attribute, try MetadataDigest.compute(f))
        let bytes = try f.image()
        try f.close()
        return FileSeal.seal(bytes)
    }
}

extension Checkpoint {
    /// Signs a file that was edited in place with an HDF5 tool, as zoo's
    /// writer would have: recomputes the metadata digest and, for a sealed
    /// file, the seal. (The tests use it to build files whose checks behind
    /// the seal and the digest are what is exercised.)
    static func resign(at path: String) throws {
        let f = try HDF5File.open(path, writable: true)
        try f.setAttribute(MetadataDigest.attribute, try MetadataDigest.compute(f))
        try f.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard bytes.count > FileSeal.size, Array(bytes[0..<FileSeal.tag.count]) == FileSeal.tag else { return }
        try Data(FileSeal.seal(Array(bytes[FileSeal.size...]))).write(to: URL(fileURLWithPath: path))
    }
}

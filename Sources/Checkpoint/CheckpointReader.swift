import Datasets
import Foundation
import HDF5
import NeuralNet
import NumericCore
import Support
import Training

extension Checkpoint {
    /// The most bytes of JSON zoo accepts as a /config (a real one is under 2 KB).
    public static let maximumConfigBytes = 1 << 16

    /// Reads and validates a checkpoint. Every object is checked for its
    /// type, rank and size before it is read, every value for its range, and
    /// (format 3 on) the metadata digest over the config and every attribute;
    /// every dataset read verifies its Fletcher-32 checksums. Any problem is a
    /// `CheckpointError` naming the file; nothing is converted or guessed.
    public static func read(from path: String) throws -> Checkpoint {
        // The seal first: a damaged file must not reach HDF5's parser.
        let seal = FileSeal.check(path: path)
        if case .broken(let why) = seal { throw CheckpointError.damaged(path: path, reason: why) }
        let f: HDF5File
        do { f = try HDF5File.open(path) } catch let e as HDF5ContentError {
            guard FileManager.default.fileExists(atPath: path) else {
                throw CheckpointError.notACheckpoint(path: path, reason: "the file does not exist")
            }
            throw CheckpointError.notACheckpoint(path: path, reason: e.detail)
        } catch {
            throw CheckpointError.notACheckpoint(
                path: path,
                reason: FileManager.default.fileExists(atPath: path)
                    ? "it is not an HDF5 file, or it is empty or truncated" : "the file does not exist")
        }
        do {
            var c = try read(f, path: path, sealed: seal == .sealed)
            c.sealed = seal == .sealed
            try f.close()
            return c
        } catch let e as CheckpointError {
            throw e
        } catch let e as HDF5ContentError {
            throw CheckpointError.invalid(path: path, reason: e.detail)
        } catch {
            throw CheckpointError.damaged(path: path, reason: "\(error)")
        }
    }

    private static func read(_ f: HDF5File, path: String, sealed: Bool) throws -> Checkpoint {
        guard let format = try f.stringAttribute("format"), format == Self.format else {
            throw CheckpointError.notACheckpoint(
                path: path, reason: "no root attribute format = \"\(Self.format)\" (an HDF5 file zoo did not write?)")
        }
        guard let version = try f.attribute("format_version", as: Int64.self) else {
            throw CheckpointError.notACheckpoint(path: path, reason: "no format_version attribute")
        }
        if version > Self.formatVersion { throw CheckpointError.newerFormat(path: path, found: version, supported: Self.formatVersion) }
        guard version >= 1 else {
            throw CheckpointError.invalid(path: path, reason: "format_version \(version) is not a version zoo ever wrote")
        }

        // The digest first: nothing the metadata says is trusted before it matches.
        if version >= 3 {
            guard sealed else {
                throw CheckpointError.damaged(
                    path: path, reason: "format \(version) files carry zoo's seal in their user block, and this one has none")
            }
            guard let stored = try f.stringAttribute(MetadataDigest.attribute) else {
                throw CheckpointError.invalid(
                    path: path, reason: "the root attribute \(MetadataDigest.attribute) is missing (format \(version) files carry one)")
            }
            let computed = try MetadataDigest.compute(f)
            guard stored == computed else { throw CheckpointError.digestMismatch(path: path, stored: stored, computed: computed) }
        }

        // Config: bounded in size, valid against the schema, then against its one validation.
        guard try f.objectKind("config") == .dataset else { throw CheckpointError.badConfig(path: path, reason: "/config is missing") }
        let json = try f.readString("config", maxBytes: maximumConfigBytes)
        let violations: [String]
        let schema = version >= 4 ? RunConfig.schemaJSON : RunConfig.legacySchemaJSON
        do { violations = try JSONSchema(json: schema).violations(of: json) } catch {
            throw CheckpointError.badConfig(
                path: path, reason: "zoo's embedded config schema cannot be read (\(error)); this build is broken")
        }
        if !violations.isEmpty {
            let name = version >= 4 ? "config.schema.json" : "config-v3.schema.json"
            throw CheckpointError.badConfig(path: path, reason: "it fails \(name): " + violations.joined(separator: "; "))
        }
        let config: RunConfig
        do { config = try JSONDecoder().decode(RunConfig.self, from: Data(json.utf8)) } catch {
            throw CheckpointError.badConfig(path: path, reason: describe(decodingError: error))
        }
        if !config.problems.isEmpty { throw CheckpointError.badConfig(path: path, reason: config.problems.joined(separator: "; ")) }

        // Parameters: exactly the configured model's, in its shapes, float32, finite.
        let expected = Dictionary(uniqueKeysWithValues: config.model.parameterShapes)
        guard try f.isGroup("model") else { throw CheckpointError.notACheckpoint(path: path, reason: "the /model group is missing") }
        let parameters = try readArrays(try f.openGroup("model"), groupPath: "/model", expected: expected, path: path)

        var checkpoint = Checkpoint(
            config: config, parameters: parameters, optimizer: nil, training: nil,
            initializationStream: nil, dataFingerprint: nil,
            zooVersion: try f.stringAttribute("zoo_version") ?? "unknown",
            createdUTC: try f.stringAttribute("created_utc") ?? "unknown")
        checkpoint.recipe = try f.stringAttribute("recipe")
        checkpoint.fileFormatVersion = version
        if config.data.standardize {
            checkpoint.standardization = try readStandardization(f, dimension: config.model.inputDim, path: path)
        } else if try f.objectKind("standardization") != nil {
            throw CheckpointError.invalid(path: path, reason: "/standardization is present but the config does not standardize")
        }

        if try f.isGroup("optimizer") {
            checkpoint.optimizer = try readOptimizer(try f.openGroup("optimizer"), config: config, expected: expected, path: path)
        }
        if try f.isGroup("training") {
            let (state, initStream, fingerprint) = try readTraining(
                f, optimizerStep: checkpoint.optimizer?.step ?? 0,
                config: config, path: path)
            checkpoint.training = state
            checkpoint.initializationStream = initStream
            checkpoint.dataFingerprint = fingerprint
        }
        return checkpoint
    }

    private static func readOptimizer(_ g: Group, config: RunConfig, expected: [String: [Int]], path: String) throws -> OptimizerState {
        let type = try g.stringAttribute("type")
        guard type == "adam" else {
            throw CheckpointError.wrongType(
                path: path, name: "/optimizer attribute type", found: type.map { "\"\($0)\"" } ?? "missing", expected: "\"adam\"")
        }
        func number(_ n: String) throws -> Double {
            guard let v = try g.attribute(n, as: Double.self) else {
                throw CheckpointError.wrongType(path: path, name: "/optimizer attribute \(n)", found: "missing", expected: "a float64")
            }
            return v
        }
        let h = Adam.Hyperparameters(lr: try number("lr"), beta1: try number("beta1"), beta2: try number("beta2"), eps: try number("eps"))
        var stored = OptimizerConfig()
        (stored.lr, stored.beta1, stored.beta2, stored.eps) = (h.lr, h.beta1, h.beta2, h.eps)
        var probe = config
        probe.training.optimizer = stored
        if let problem = probe.problems.first {
            throw CheckpointError.invalid(path: path, reason: "/optimizer attributes: \(problem)")
        }
        let c = config.training.optimizer
        guard (h.lr, h.beta1, h.beta2, h.eps) == (c.lr, c.beta1, c.beta2, c.eps) else {
            throw CheckpointError.invalid(
                path: path,
                reason: "/optimizer attributes (lr \(h.lr), betas \(h.beta1), \(h.beta2), eps \(h.eps)) "
                    + "differ from the config's optimizer (lr \(c.lr), betas \(c.beta1), \(c.beta2), eps \(c.eps))")
        }
        guard let step = try g.attribute("step", as: Int64.self), step >= 0, step <= TrainingState.maximumSteps else {
            throw CheckpointError.wrongType(
                path: path, name: "/optimizer attribute step", found: "missing or out of range",
                expected: "an int64 in 0...\(TrainingState.maximumSteps)")
        }
        guard try g.isGroup("exp_avg"), try g.isGroup("exp_avg_sq") else {
            throw CheckpointError.notACheckpoint(path: path, reason: "/optimizer lacks exp_avg or exp_avg_sq")
        }
        let second = try readArrays(try g.openGroup("exp_avg_sq"), groupPath: "/optimizer/exp_avg_sq", expected: expected, path: path)
        for (name, values) in second {
            if let i = values.firstIndex(where: { $0 < 0 }) {
                throw CheckpointError.invalid(
                    path: path, reason: "/optimizer/exp_avg_sq/\(name)[\(i)] is negative (\(values[i])); a second moment cannot be")
            }
        }
        return OptimizerState(
            hyperparameters: h, step: Int(step),
            firstMoment: try readArrays(try g.openGroup("exp_avg"), groupPath: "/optimizer/exp_avg", expected: expected, path: path),
            secondMoment: second)
    }

    private static func readArrays(_ g: Group, groupPath: String, expected: [String: [Int]], path: String) throws -> [String: [Float]] {
        let present = try g.memberNames()
        for name in present where expected[name] == nil {
            throw CheckpointError.extraParameter(path: path, name: groupPath == "/model" ? name : "\(groupPath.dropFirst())/\(name)")
        }
        var out: [String: [Float]] = [:]
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            let shown = groupPath == "/model" ? name : "\(groupPath.dropFirst())/\(name)"
            guard present.contains(name) else { throw CheckpointError.missingParameter(path: path, name: shown) }
            let values: [Float]
            do {
                values = try g.read(name, shape: shape) { info in
                    info.typeName != "float32"
                        ? CheckpointError.wrongType(path: path, name: "\(groupPath)/\(name)", found: info.typeName, expected: "float32")
                        : CheckpointError.wrongShape(path: path, name: shown, found: info.shape, expected: shape)
                }
            } catch let e as HDF5Error {
                throw CheckpointError.damaged(path: path, reason: "\(groupPath)/\(name) cannot be read (\(e))")
            }
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw CheckpointError.invalid(path: path, reason: "\(groupPath)/\(name)[\(i)] is \(values[i]); every value must be finite")
            }
            out[name] = values
        }
        return out
    }

    private static func readTraining(_ f: HDF5File, optimizerStep: Int, config: RunConfig, path: String) throws -> (
        TrainingState, RandomStream?, String?
    ) {
        let g = try f.openGroup("training")
        func bad(_ why: String) -> CheckpointError { .badTrainingState(path: path, reason: why) }
        func int(_ n: String, _ range: ClosedRange<Int64>) throws -> Int {
            guard let v = try g.attribute(n, as: Int64.self) else { throw bad("attribute \(n) is missing") }
            guard range.contains(v) else { throw bad("attribute \(n) is \(v), outside \(range.lowerBound)...\(range.upperBound)") }
            return Int(v)
        }
        func double(_ n: String) throws -> Double {
            guard let v = try g.attribute(n, as: Double.self) else { throw bad("attribute \(n) is missing") }
            guard v.isFinite, v >= 0 else { throw bad("attribute \(n) is \(v); it must be a finite number ≥ 0") }
            return v
        }
        func finite(_ n: String) throws -> Double {
            guard let v = try g.attribute(n, as: Double.self) else { throw bad("attribute \(n) is missing") }
            guard v.isFinite else { throw bad("attribute \(n) is \(v); it must be finite") }
            return v
        }
        let maxEpochs = Int64(RunConfig.maximumEpochs)
        let epoch = try int("epoch", 0...maxEpochs)
        guard try g.isGroup("rng") else { throw bad("/training/rng is missing") }
        let rng = try g.openGroup("rng")
        func stream(_ n: String) throws -> RandomStream {
            guard rng.contains(n) else { throw bad("random stream /training/rng/\(n) is missing") }
            let words = try rng.read(n, as: UInt64.self, shape: [4]) {
                bad("random stream /training/rng/\(n) is \($0.description), expected uint64[4]")
            }
            guard let s = RandomStream(state: words) else {
                throw bad("random stream /training/rng/\(n) is all zeros, not a valid state")
            }
            return s
        }
        guard try f.isGroup("history") else { throw bad("/history is missing") }
        let h = try f.openGroup("history")
        // Every column's type and length is checked before any is read.
        func column<T: HDF5Element>(_ n: String, _ type: T.Type) throws -> [T] {
            guard h.contains(n) else { throw bad("/history/\(n) is missing") }
            return try h.read(n, as: T.self, shape: [epoch]) {
                bad("/history/\(n) is \($0.description), expected \(T.typeName)[\(epoch)] (one row per finished epoch)")
            }
        }
        let epochs = try column("epoch", Int64.self)
        let cols = try ["train_loss", "train_reconstruction", "train_kl", "test_loss", "seconds"].map { try column($0, Double.self) }
        // Version 2 columns; absent in version 1 files.
        let validation = h.contains("val_loss") ? try column("val_loss", Double.self) : [Double](repeating: .nan, count: epoch)
        let active = h.contains("active_units") ? try column("active_units", Int64.self) : [Int64](repeating: -1, count: epoch)
        for (i, e) in epochs.enumerated() where e != Int64(i + 1) {
            throw bad("/history/epoch[\(i)] is \(e), expected \(i + 1)")
        }
        if let i = active.firstIndex(where: { $0 < -1 || $0 > Int64(config.model.latentDim) }) {
            throw bad("/history/active_units[\(i)] is \(active[i]), outside -1...\(config.model.latentDim)")
        }
        let history = epochs.indices.map { i in
            EpochRecord(
                epoch: Int(epochs[i]), trainLoss: cols[0][i], trainReconstruction: cols[1][i], trainKL: cols[2][i],
                testLoss: cols[3][i].isNaN ? nil : cols[3][i],
                validationLoss: validation[i].isNaN ? nil : validation[i],
                activeUnits: active[i] < 0 ? nil : Int(active[i]), seconds: cols[4][i])
        }
        var latent: LatentSummary?
        if try g.isGroup("latent") {
            let lg = try g.openGroup("latent")
            let L = config.model.latentDim
            func vector(_ n: String) throws -> [Double] {
                guard lg.contains(n) else { throw bad("/training/latent/\(n) is missing") }
                return try lg.read(n, as: Double.self, shape: [L]) {
                    bad("/training/latent/\(n) is \($0.description), expected float64[\(L)]")
                }
            }
            guard let images = try lg.attribute("images", as: Int64.self), images >= 0 else {
                throw bad("/training/latent lacks its images attribute, or it is negative")
            }
            latent = LatentSummary(
                count: Int(images), meanMu: try vector("mu_mean"), muVariance: try vector("mu_variance"),
                klPerDimension: try vector("kl"))
        }
        let maxSteps = TrainingState.maximumSteps
        let best = try g.attribute("best_val_loss", as: Double.self)
        if let best, !best.isFinite { throw bad("attribute best_val_loss is \(best); it must be finite") }
        let bestEpoch = try g.hasAttribute("best_epoch") ? int("best_epoch", 0...Int64(epoch)) : 0
        let fingerprint = try g.stringAttribute("data_fingerprint")
        if let fingerprint,
            !(fingerprint.hasPrefix("sha256:") && fingerprint.count == 71 && fingerprint.dropFirst(7).allSatisfy(\.isHexDigit))
        {
            throw bad("attribute data_fingerprint is \"\(fingerprint.prefix(80))\", not sha256: and 64 hexadecimal digits")
        }
        let state = TrainingState(
            epoch: epoch, stepInEpoch: try int("step_in_epoch", 0...maxSteps), globalStep: try int("global_step", 0...maxSteps),
            seconds: try double("seconds"), history: history, shuffle: try stream("shuffle"),
            shuffleAtEpochStart: try stream("shuffle_epoch_start"), noise: try stream("noise"),
            binarization: try stream("binarization"), optimizerStep: optimizerStep,
            epochReconstruction: try finite("epoch_reconstruction"), epochKL: try finite("epoch_kl"),
            epochImages: try int("epoch_images", 0...maxSteps), epochSeconds: try double("epoch_seconds"),
            bestValidationLoss: best, bestEpoch: bestEpoch, latent: latent)
        let initStream = rng.contains("initialization") ? try stream("initialization") : nil
        return (state, initStream, fingerprint)
    }

    /// `/standardization/mean` and `/std`: float32 [inputDim] each, finite, every std > 0.
    private static func readStandardization(_ f: HDF5File, dimension: Int, path: String) throws -> Standardization {
        guard try f.isGroup("standardization") else {
            throw CheckpointError.invalid(path: path, reason: "the config standardizes the data but /standardization is missing")
        }
        let g = try f.openGroup("standardization")
        func read(_ name: String) throws -> [Float] {
            let v = try g.read(name, as: Float.self, shape: [dimension]) { info in
                CheckpointError.invalid(
                    path: path, reason: "/standardization/\(name) is \(info.description), expected float32[\(dimension)]")
            }
            if let i = v.firstIndex(where: { !$0.isFinite || (name == "std" && $0 <= 0) }) {
                throw CheckpointError.invalid(
                    path: path, reason: "/standardization/\(name)[\(i)] is \(v[i]); means must be finite and standard deviations positive")
            }
            return v
        }
        let s = Standardization(mean: try read("mean"), std: try read("std"))
        try g.close()
        return s
    }
}

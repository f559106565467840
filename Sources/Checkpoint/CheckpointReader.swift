import Foundation
import HDF5
import NeuralNet
import NumericCore
import Training

extension Checkpoint {
    /// Reads and validates a checkpoint. Every dataset read verifies its
    /// Fletcher-32 checksums; any problem is a `CheckpointError` naming the file.
    public static func read(from path: String) throws -> Checkpoint {
        let f: HDF5File
        do { f = try HDF5File.open(path) } catch {
            throw CheckpointError.notACheckpoint(path: path, reason: FileManager.default.fileExists(atPath: path)
                ? "it is not an HDF5 file, or it is empty or truncated" : "the file does not exist")
        }
        guard let format = try? f.stringAttribute("format"), format == Self.format else {
            throw CheckpointError.notACheckpoint(path: path, reason: "no root attribute format = \"\(Self.format)\" (an HDF5 file zoo did not write?)")
        }
        guard let version = try? f.attribute("format_version", as: Int64.self) else {
            throw CheckpointError.notACheckpoint(path: path, reason: "no format_version attribute")
        }
        if version > Self.formatVersion { throw CheckpointError.newerFormat(path: path, found: version, supported: Self.formatVersion) }

        // Config.
        guard f.contains("config"), let json = try? f.readString("config") else {
            throw CheckpointError.badConfig(path: path, reason: "/config is missing or not a string")
        }
        let violations = (try? JSONSchema(json: configSchemaJSON))?.violations(of: json) ?? []
        if !violations.isEmpty {
            throw CheckpointError.badConfig(path: path, reason: "it fails config.schema.json: " + violations.joined(separator: "; "))
        }
        let config: RunConfig
        do { config = try JSONDecoder().decode(RunConfig.self, from: Data(json.utf8)) } catch {
            throw CheckpointError.badConfig(path: path, reason: describe(decodingError: error))
        }
        if !config.problems.isEmpty { throw CheckpointError.badConfig(path: path, reason: config.problems.joined(separator: "; ")) }

        // Parameters: exactly the configured model's, in its shapes, float32.
        let expected = Dictionary(uniqueKeysWithValues: config.model.parameterShapes)
        guard f.isGroup("model") else { throw CheckpointError.notACheckpoint(path: path, reason: "the /model group is missing") }
        let model = try f.openGroup("model")
        let parameters = try readArrays(model, groupPath: "/model", expected: expected, path: path)

        var checkpoint = Checkpoint(config: config, parameters: parameters, optimizer: nil, training: nil,
                                    initializationStream: nil, dataFingerprint: nil,
                                    zooVersion: (try? f.stringAttribute("zoo_version")) ?? "unknown",
                                    createdUTC: (try? f.stringAttribute("created_utc")) ?? "unknown")
        checkpoint.recipe = try? f.stringAttribute("recipe")
        checkpoint.fileFormatVersion = version

        if f.isGroup("optimizer") {
            let g = try f.openGroup("optimizer")
            guard (try? g.stringAttribute("type")) == "adam" else {
                throw CheckpointError.wrongType(path: path, name: "/optimizer type", found: (try? g.stringAttribute("type")) ?? "missing", expected: "adam")
            }
            func number(_ n: String) throws -> Double {
                guard let v = try? g.attribute(n, as: Double.self) else {
                    throw CheckpointError.wrongType(path: path, name: "/optimizer attribute \(n)", found: "missing", expected: "a float64")
                }
                return v
            }
            guard let step = try? g.attribute("step", as: Int64.self), step >= 0 else {
                throw CheckpointError.wrongType(path: path, name: "/optimizer attribute step", found: "missing or negative", expected: "an int64 ≥ 0")
            }
            guard g.isGroup("exp_avg"), g.isGroup("exp_avg_sq") else {
                throw CheckpointError.notACheckpoint(path: path, reason: "/optimizer lacks exp_avg or exp_avg_sq")
            }
            checkpoint.optimizer = OptimizerState(
                hyperparameters: .init(lr: try number("lr"), beta1: try number("beta1"), beta2: try number("beta2"), eps: try number("eps")),
                step: Int(step),
                firstMoment: try readArrays(try g.openGroup("exp_avg"), groupPath: "/optimizer/exp_avg", expected: expected, path: path),
                secondMoment: try readArrays(try g.openGroup("exp_avg_sq"), groupPath: "/optimizer/exp_avg_sq", expected: expected, path: path))
        }

        if f.isGroup("training") {
            let (state, initStream, fingerprint) = try readTraining(f, optimizerStep: checkpoint.optimizer?.step ?? 0,
                                                                   latentDim: config.model.latentDim, path: path)
            checkpoint.training = state
            checkpoint.initializationStream = initStream
            checkpoint.dataFingerprint = fingerprint
        }
        try f.close()
        return checkpoint
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
            let info = try g.info(name)
            if info.typeName != "float32" {
                throw CheckpointError.wrongType(path: path, name: "\(groupPath)/\(name)", found: info.typeName, expected: "float32")
            }
            if info.shape != shape { throw CheckpointError.wrongShape(path: path, name: shown, found: info.shape, expected: shape) }
            do { out[name] = try g.read(name, as: Float.self).values } catch {
                throw CheckpointError.notACheckpoint(path: path, reason: "\(groupPath)/\(name) cannot be read (\(error)); the file is damaged")
            }
        }
        return out
    }

    private static func readTraining(_ f: HDF5File, optimizerStep: Int, latentDim: Int, path: String) throws -> (TrainingState, RandomStream?, String?) {
        let g = try f.openGroup("training")
        func int(_ n: String) throws -> Int {
            guard let v = try? g.attribute(n, as: Int64.self) else { throw CheckpointError.badTrainingState(path: path, reason: "attribute \(n) is missing") }
            return Int(v)
        }
        func double(_ n: String) throws -> Double {
            guard let v = try? g.attribute(n, as: Double.self) else { throw CheckpointError.badTrainingState(path: path, reason: "attribute \(n) is missing") }
            return v
        }
        guard g.isGroup("rng") else { throw CheckpointError.badTrainingState(path: path, reason: "/training/rng is missing") }
        let rng = try g.openGroup("rng")
        func stream(_ n: String) throws -> RandomStream {
            guard rng.contains(n), let words = try? rng.read(n, as: UInt64.self).values, let s = RandomStream(state: words) else {
                throw CheckpointError.badTrainingState(path: path, reason: "random stream /training/rng/\(n) is missing or invalid")
            }
            return s
        }
        guard f.isGroup("history") else { throw CheckpointError.badTrainingState(path: path, reason: "/history is missing") }
        let h = try f.openGroup("history")
        func column(_ n: String) throws -> [Double] {
            guard h.contains(n), let v = try? h.read(n, as: Double.self).values else {
                throw CheckpointError.badTrainingState(path: path, reason: "/history/\(n) is missing")
            }
            return v
        }
        guard h.contains("epoch"), let epochs = try? h.read("epoch", as: Int64.self).values else {
            throw CheckpointError.badTrainingState(path: path, reason: "/history/epoch is missing")
        }
        let cols = try ["train_loss", "train_reconstruction", "train_kl", "test_loss", "seconds"].map(column)
        guard cols.allSatisfy({ $0.count == epochs.count }) else {
            throw CheckpointError.badTrainingState(path: path, reason: "/history columns differ in length")
        }
        // Version 2 columns; absent in version 1 files.
        let validation = h.contains("val_loss") ? try column("val_loss") : [Double](repeating: .nan, count: epochs.count)
        let active = h.contains("active_units") ? ((try? h.read("active_units", as: Int64.self).values) ?? [])
            : [Int64](repeating: -1, count: epochs.count)
        guard validation.count == epochs.count, active.count == epochs.count else {
            throw CheckpointError.badTrainingState(path: path, reason: "/history columns differ in length")
        }
        let history = epochs.indices.map { i in
            EpochRecord(epoch: Int(epochs[i]), trainLoss: cols[0][i], trainReconstruction: cols[1][i], trainKL: cols[2][i],
                        testLoss: cols[3][i].isNaN ? nil : cols[3][i],
                        validationLoss: validation[i].isNaN ? nil : validation[i],
                        activeUnits: active[i] < 0 ? nil : Int(active[i]), seconds: cols[4][i])
        }
        var latent: LatentSummary?
        if g.isGroup("latent") {
            let lg = try g.openGroup("latent")
            func vector(_ n: String) throws -> [Double] {
                guard lg.contains(n), let v = try? lg.read(n, as: Double.self).values, v.count == latentDim else {
                    throw CheckpointError.badTrainingState(path: path, reason: "/training/latent/\(n) is missing or not \(latentDim) float64 values")
                }
                return v
            }
            guard let images = try? lg.attribute("images", as: Int64.self), images >= 0 else {
                throw CheckpointError.badTrainingState(path: path, reason: "/training/latent lacks its images attribute")
            }
            latent = LatentSummary(count: Int(images), meanMu: try vector("mu_mean"), muVariance: try vector("mu_variance"),
                                      klPerDimension: try vector("kl"))
        }
        let state = TrainingState(
            epoch: try int("epoch"), stepInEpoch: try int("step_in_epoch"), globalStep: try int("global_step"),
            seconds: try double("seconds"), history: history, shuffle: try stream("shuffle"),
            shuffleAtEpochStart: try stream("shuffle_epoch_start"), noise: try stream("noise"),
            binarization: try stream("binarization"), optimizerStep: optimizerStep,
            epochReconstruction: try double("epoch_reconstruction"), epochKL: try double("epoch_kl"),
            epochImages: try int("epoch_images"), epochSeconds: try double("epoch_seconds"),
            bestValidationLoss: try? g.attribute("best_val_loss", as: Double.self),
            bestEpoch: (try? g.attribute("best_epoch", as: Int64.self)).map { Int($0) } ?? 0, latent: latent)
        let initStream = rng.contains("initialization") ? try stream("initialization") : nil
        return (state, initStream, try? g.stringAttribute("data_fingerprint"))
    }

    private static func describe(decodingError error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func at(_ c: DecodingError.Context) -> String {
            c.codingPath.map(\.stringValue).joined(separator: ".").isEmpty ? "" : " at " + c.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch e {
        case .keyNotFound(let key, let c): return "missing key \(key.stringValue)\(at(c))"
        case .typeMismatch(_, let c): return "wrong type\(at(c)): \(c.debugDescription)"
        case .valueNotFound(_, let c): return "missing value\(at(c))"
        case .dataCorrupted(let c): return "invalid\(at(c)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

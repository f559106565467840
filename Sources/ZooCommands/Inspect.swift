import ArgumentParser
import Checkpoint
import Foundation
import HDF5
import NeuralNet
import Support
import Training

/// `zoo inspect`: what a checkpoint holds.
public struct Inspect: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Show a checkpoint: format, config, training position, history, parameter statistics.")

    @Argument(help: ArgumentHelp("The checkpoint to inspect.", valueName: "checkpoint.h5"))
    public var checkpoint: String

    @Flag(help: "Read every dataset in the file (verifying its checksums) and validate the config and layout.")
    public var verify = false

    @Flag(help: "Print one JSON object instead of tables.")
    public var json = false

    public init() {}

    public func run() throws {
        let c = try Checkpoint.read(from: checkpoint)
        let stats = c.parameterStatistics
        let verified = verify ? try Checkpoint.verifyDatasets(at: checkpoint) : nil
        if json { try printJSON(c, stats, verified) } else { printTables(c, stats, verified) }
    }

    func printTables(_ c: Checkpoint, _ stats: [Checkpoint.ParameterStatistics], _ verified: Int?) {
        var out = "\(checkpoint)\n"
        out += "  format        \(Checkpoint.format) v\(c.fileFormatVersion), written by zoo \(c.zooVersion) at \(c.createdUTC)\n"
        out += "  recipe        \(c.recipe ?? "none recorded")\n"
        out += "  model         \(describe(c.config)), \(stats.reduce(0) { $0 + $1.shape.reduce(1, *) }) parameters\n"
        let t = c.config.training
        out +=
            "  training      \(t.epochs) epochs, batch \(t.batchSize), Adam lr \(t.optimizer.lr), seed \(t.seed), \(t.threads) thread(s)"
            + (t.validation > 0 ? ", \(t.validation) validation images" : "") + "\n"
        out +=
            "  data          \(c.config.data.path ?? "Fashion-MNIST (default)") (\(c.config.data.kind.rawValue)), binarization \(c.config.data.binarization.rawValue)"
            + (c.config.data.limit.map { ", first \($0) images" } ?? "")
            + (c.config.data.testSplit > 0 ? ", \(c.config.data.testSplit) examples held out as the test split" : "")
            + (c.config.data.arrays.map { ", arrays \($0.joined(separator: ", "))" } ?? "")
            + (c.config.data.standardize ? ", standardized" : "") + "\n"
        if let s = c.training {
            out +=
                "  position      epoch \(s.epoch) done" + (s.stepInEpoch > 0 ? ", \(s.stepInEpoch) steps into epoch \(s.epoch + 1)" : "")
                + ", \(s.globalStep) steps, \(fmt(s.seconds, 1)) s\n"
            out += "  fingerprint   \(c.dataFingerprint ?? "none")\n"
        } else {
            out += "  position      no training state (parameters only)\n"
        }
        out += "  optimizer     " + (c.optimizer.map { "adam, step \($0.step)" } ?? "none") + "\n"
        if let s = c.training, let best = s.bestValidationLoss {
            out +=
                "  best epoch    \(s.bestEpoch) (validation −ELBO \(fmt(best, 2)))"
                + (t.patience.map { s.epoch - s.bestEpoch >= $0 ? "; stopped early (patience \($0))" : "; patience \($0)" } ?? "") + "\n"
        }
        if let s = c.training, !s.history.isEmpty {
            out += "\n  epoch   train    recon       kl      val     test   active   seconds\n"
            for r in s.history {
                out +=
                    "  " + pad(String(r.epoch), 5) + pad(fmt(r.trainLoss, 2), 9) + pad(fmt(r.trainReconstruction, 2), 9)
                    + pad(fmt(r.trainKL, 2), 9) + pad(r.validationLoss.map { fmt($0, 2) } ?? "-", 9)
                    + pad(r.testLoss.map { fmt($0, 2) } ?? "-", 9) + pad(r.activeUnits.map(String.init) ?? "-", 9)
                    + pad(fmt(r.seconds, 2), 10) + "\n"
            }
        }
        if let latent = c.training?.latent {
            let set = t.validation > 0 ? "validation" : "test"
            out += "\n  latent diagnostics after epoch \(c.training?.history.last?.epoch ?? 0), \(latent.count) \(set) images:\n"
            out += EvalReport.latentTable(EvalReport.Latent(latent))
        }
        // Columns as wide as the longest name and shape (fc1.weight, decoder.5.weight; 64×32×4×4).
        let nameWidth = max(12, stats.map(\.name.count).max() ?? 0)
        let shapeWidth = max(11, (stats.map { $0.shape.map(String.init).joined(separator: "×").count }.max() ?? 0) + 2)
        out +=
            "\n  " + "parameter".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + pad("shape", shapeWidth)
            + "        mean         std        norm\n"
        for p in stats {
            out +=
                "  " + p.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                + pad(p.shape.map(String.init).joined(separator: "×"), shapeWidth)
                + pad(String(format: "%.4e", p.mean), 12) + pad(String(format: "%.4e", p.std), 12) + pad(String(format: "%.4e", p.norm), 12)
                + "\n"
        }
        if let verified { out += "\n  verified      \(verified) datasets read, checksums and layout OK\n" }
        out += notes(c).map { "  note          \($0)\n" }.joined()
        writeStdout(out.trimmingCharacters(in: .newlines))
    }

    /// What a reader should know beyond the contents: unprotected metadata,
    /// temporaries left beside the file by killed saves.
    func notes(_ c: Checkpoint) -> [String] {
        var out: [String] = []
        if c.metadataProtected {
            out.append("seal and metadata digest OK: the file is byte for byte as zoo wrote it")
        } else {
            out.append(
                "format \(c.fileFormatVersion) has no metadata digest: its config and attributes are unprotected (a save by this zoo adds one)"
            )
        }
        for t in Temporaries.stale(for: checkpoint) {
            out.append("stale temporary \(t) left by a killed save; the next save to this path removes it")
        }
        return out
    }

    func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }

    func printJSON(_ c: Checkpoint, _ stats: [Checkpoint.ParameterStatistics], _ verified: Int?) throws {
        struct Report: Encodable {
            let path: String
            let format: String
            let formatVersion: Int64
            let zooVersion: String
            let createdUTC: String
            let config: RunConfig
            let training: Training?
            let optimizerStep: Int?
            let history: [EpochRecord]
            let parameters: [Checkpoint.ParameterStatistics]
            let verifiedDatasets: Int?
            let metadataProtected: Bool
            let notes: [String]
            let recipe: String?
            let bestEpoch: Int?
            let bestValidationLoss: Double?
            let latent: EvalReport.Latent?
            struct Training: Encodable {
                let epoch: Int, stepInEpoch: Int, globalStep: Int, seconds: Double, dataFingerprint: String?
                enum CodingKeys: String, CodingKey {
                    case epoch
                    case stepInEpoch = "step_in_epoch"
                    case globalStep = "global_step"
                    case seconds
                    case dataFingerprint = "data_fingerprint"
                }
            }
            enum CodingKeys: String, CodingKey {
                case path, format
                case formatVersion = "format_version"
                case zooVersion = "zoo_version"
                case createdUTC = "created_utc"
                case config, training
                case optimizerStep = "optimizer_step"
                case history, parameters
                case verifiedDatasets = "verified_datasets"
                case recipe
                case bestEpoch = "best_epoch"
                case bestValidationLoss = "best_val_loss"
                case latent
                case metadataProtected = "metadata_protected"
                case notes
            }
        }
        let report = Report(
            path: checkpoint, format: Checkpoint.format, formatVersion: c.fileFormatVersion, zooVersion: c.zooVersion,
            createdUTC: c.createdUTC, config: c.config,
            training: c.training.map {
                .init(
                    epoch: $0.epoch, stepInEpoch: $0.stepInEpoch, globalStep: $0.globalStep,
                    seconds: $0.seconds, dataFingerprint: c.dataFingerprint)
            },
            optimizerStep: c.optimizer?.step, history: c.training?.history ?? [], parameters: stats, verifiedDatasets: verified,
            metadataProtected: c.metadataProtected, notes: notes(c),
            recipe: c.recipe, bestEpoch: c.training?.bestValidationLoss == nil ? nil : c.training?.bestEpoch,
            bestValidationLoss: c.training?.bestValidationLoss, latent: c.training?.latent.map(EvalReport.Latent.init))
        writeStdout(try prettyJSON(report))
    }
}

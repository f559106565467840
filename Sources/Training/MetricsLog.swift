import Foundation
import Support

/// A run's metrics as they happen, `DIR/metrics.csv`: one row every
/// `every` global steps (`kind` step: that step's batch, per image) and one
/// per epoch (`kind` epoch: the epoch's train loss, its test and validation
/// losses and active units), with the global step, epoch, step in the epoch,
/// training seconds so far, loss (= reconstruction + KL, the −ELBO), β and
/// the learning rate. Losses are in nats per image.
///
/// A resumed run continues the same file: opening it at global step G keeps
/// the rows up to G (what the checkpoint holds) and drops later ones, which
/// the resumed run writes again with the same values (resumes are bit for
/// bit), so the file has each step and epoch once. Rows are appended and
/// flushed as they come; a line cut short by a kill is dropped on resume.
public final class MetricsLog {
    public static let fileName = "metrics.csv"
    public static let columns = [
        "kind", "global_step", "epoch", "step_in_epoch", "wall_seconds", "loss", "reconstruction", "kl", "beta", "lr", "test_loss",
        "validation_loss", "active_units",
    ]
    public let path: String
    public let every: Int
    public static let defaultEvery = 50
    private let handle: FileHandle

    /// Opens DIR/metrics.csv for a run resumed at `globalStep`, or creates it
    /// for a new run (`globalStep` nil), which must not find one with rows.
    /// `every` nil: the file's own spacing (its first step row's global
    /// step) for a resumed run, else `defaultEvery`.
    /// - Throws: `MetricsLogError` naming the path when it cannot be written,
    ///   is not a zoo metrics file, or (new run) holds another run's rows.
    public init(directory: String, every: Int?, resumingAt globalStep: Int?) throws {
        var spacing = every
        path = directory + "/" + Self.fileName
        let header = Self.columns.joined(separator: ",")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MetricsLogError(path: directory, reason: "the directory cannot be created (\(error.localizedDescription))")
        }
        var kept = [header]
        existing: if FileManager.default.fileExists(atPath: path) {
            let bytes: [UInt8]
            do { bytes = try readRegularFile(path, maximumBytes: 1 << 30) } catch {
                throw MetricsLogError(path: path, reason: error.description)
            }
            var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\n")
            if lines.last == "" { lines.removeLast() } else if !lines.isEmpty { lines.removeLast() }  // a line cut short
            guard lines.first == header else {
                throw MetricsLogError(
                    path: path, reason: "it is not a zoo metrics file (its first line is not \(header)); choose another --log")
            }
            guard let globalStep else {
                if lines.count > 1 {
                    throw MetricsLogError(
                        path: path, reason: "it holds the rows of another run; a new run needs a new --log directory (or remove the file)")
                }
                break existing
            }
            if spacing == nil, let first = lines.dropFirst().first(where: { $0.hasPrefix("step,") }) {
                let fields: [Substring] = first.split(separator: ",", omittingEmptySubsequences: false)
                spacing = fields.count > 1 ? Int(fields[1]) : nil
            }
            kept += lines.dropFirst().filter { line in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                return fields.count == Self.columns.count && (Int(fields[1]).map { $0 <= globalStep } ?? false)
            }
        }
        self.every = max(1, spacing ?? Self.defaultEvery)
        do {
            handle = try appendingFile(startingWith: Array((kept.joined(separator: "\n") + "\n").utf8), at: path)
        } catch {
            throw MetricsLogError(path: path, reason: "\(error)")
        }
    }

    deinit { try? handle.close() }

    private func append(_ fields: [String]) throws {
        do { try handle.write(contentsOf: Data((fields.joined(separator: ",") + "\n").utf8)) } catch {
            throw MetricsLogError(path: path, reason: "\(error)")
        }
    }

    private static func number(_ x: Double?) -> String { x.map { String($0) } ?? "" }

    /// Whether step `p` gets a row: its global step is a multiple of `every`.
    public func logs(_ p: StepProgress) -> Bool { p.globalStep % every == 0 && p.batchImages > 0 }

    /// The row of one training step (those `logs` accepts).
    public func step(_ p: StepProgress, seconds: Double, lr: Double) throws {
        let n = Double(p.batchImages)
        try append(
            [
                "step", String(p.globalStep), String(p.epoch), String(p.step), String(seconds),
                String((p.batchReconstruction + p.batchKL) / n),
                String(p.batchReconstruction / n), String(p.batchKL / n), String(p.beta), String(lr), "", "", "",
            ])
    }

    /// The row of one finished epoch.
    public func epoch(_ r: EpochRecord, globalStep: Int, seconds: Double, beta: Double, lr: Double) throws {
        try append(
            [
                "epoch", String(globalStep), String(r.epoch), "", String(seconds), String(r.trainLoss), String(r.trainReconstruction),
                String(r.trainKL), String(beta), String(lr), Self.number(r.testLoss), Self.number(r.validationLoss),
                r.activeUnits.map(String.init) ?? "",
            ])
    }
}

/// A metrics log that cannot be written.
public struct MetricsLogError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot log metrics to \(path): \(reason)" }
}

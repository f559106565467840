import ArgumentParser
import Checkpoint
import Datasets
import Foundation
import ImageIO
import Interchange
import Support
import Synchronization
import Training

/// Checkpoint options shared by `train` and `resume`.
public struct SaveOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Save a checkpoint every E epochs (and at the end).", valueName: "E"))
    public var saveEvery: Int = 1

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Also keep the N most recent earlier checkpoints as NAME-epoch-E.h5 beside the --save path.", valueName: "N"))
    public var keep: Int = 0

    public init() {}

    public func validate() throws {
        if saveEvery < 1 { throw ValidationError("--save-every must be at least 1, got \(saveEvery)") }
        if keep < 0 { throw ValidationError("--keep must be 0 or more, got \(keep)") }
    }
}

/// Where the metrics of a run go as it trains (`MetricsLog`).
public struct LogOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Write DIR/metrics.csv as training goes: a row every --log-every steps and one per epoch (a resume continues it).",
            valueName: "dir"))
    public var log: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Steps between the metrics rows of --log (default 50; a resume keeps the file's).", valueName: "N"))
    public var logEvery: Int?

    public init() {}

    public func validate() throws {
        try checkRange("--log-every", logEvery, 1...1_000_000)
        if log?.isEmpty == true { throw ValidationError("--log needs a directory") }
    }

    /// The logs of a run: new (`resumingAt` nil) or resumed at a global step.
    func open(resumingAt globalStep: Int?) throws -> RunLog? {
        guard let log else { return nil }
        let metrics = try MetricsLog(directory: log, every: logEvery, resumingAt: globalStep)
        return RunLog(
            metrics: metrics, events: try TensorBoardLog(directory: log, resumingAt: globalStep, wallTime: Date().timeIntervalSince1970))
    }
}

/// metrics.csv and the TensorBoard event file of a run, written together.
struct RunLog {
    let metrics: MetricsLog
    let events: TensorBoardLog

    func step(_ p: StepProgress, seconds: Double, lr: Double) throws {
        guard metrics.logs(p) else { return }
        try metrics.step(p, seconds: seconds, lr: lr)
        let n = Double(p.batchImages)
        try events.scalars(
            [
                ("train/loss", (p.batchReconstruction + p.batchKL) / n), ("train/reconstruction", p.batchReconstruction / n),
                ("train/kl", p.batchKL / n), ("train/beta", p.beta), ("train/lr", lr),
            ], step: p.globalStep, wallTime: Date().timeIntervalSince1970)
    }

    func epoch(_ r: EpochRecord, trainer: Trainer, beta: Double, lr: Double, pictures: PictureOptions) throws {
        try metrics.epoch(r, globalStep: trainer.globalStep, seconds: trainer.seconds, beta: beta, lr: lr)
        var scalars = [
            ("epoch/train_loss", r.trainLoss), ("epoch/train_reconstruction", r.trainReconstruction), ("epoch/train_kl", r.trainKL),
            ("epoch/epoch", Double(r.epoch)),
        ]
        if let t = r.testLoss { scalars.append(("epoch/test_loss", t)) }
        if let v = r.validationLoss { scalars.append(("epoch/validation_loss", v)) }
        if let a = r.activeUnits { scalars.append(("epoch/active_units", Double(a))) }
        let now = Date().timeIntervalSince1970
        try events.scalars(scalars, step: trainer.globalStep, wallTime: now)
        // The epoch's prior samples as an image (image models).
        guard let (channels, height, width) = trainer.config.model.imageSize else { return }
        let grid = try pictures.grid(
            trainer.priorSamples(count: 64), count: 64, channels: channels, height: height, width: width, columns: 8)
        try events.image(
            "samples", png: try PNG.encode(grid), height: grid.height, width: grid.width, channels: channels == 1 ? 1 : 3,
            step: trainer.globalStep, wallTime: now)
    }
}

/// Set by SIGINT or SIGTERM; the training loop polls it after every step.
let stopRequested = Atomic<Bool>(false)

/// Routes SIGINT and SIGTERM to `stopRequested` instead of killing the
/// process, so training can save the current step's state and exit.
final class StopSignals {
    private var sources: [DispatchSourceSignal] = []

    init() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { stopRequested.store(true, ordering: .relaxed) }
            source.resume()
            sources.append(source)
        }
    }

    var requested: Bool { stopRequested.load(ordering: .relaxed) }
}

/// Writes checkpoints of a run to `path`, keeping earlier ones as requested.
struct CheckpointSaver {
    let path: String
    let options: SaveOptions
    let fingerprint: String
    /// The recipe the run started from (recorded in the file).
    let recipe: String?

    /// Fails early, before any training, when `path` cannot be written.
    static func checkTarget(_ path: String) throws {
        if let reason = unwritableReason(path) { throw CheckpointError.cannotWrite(path: path, reason: reason) }
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & 0o222 == 0 {
            throw CheckpointError.cannotWrite(
                path: path,
                reason: "the file is read-only (mode \(String(st.st_mode & 0o777, radix: 8))); "
                    + "make it writable (chmod u+w) for zoo to replace it")
        }
    }

    /// Takes the run's lock on `path` (held until the returned lock is
    /// released or the process ends): a second run on the same path refuses.
    static func lock(_ path: String) throws -> RunLock {
        do { return try RunLock(path) } catch let RunLock.Failure.held(p, holder) {
            throw CheckpointError.locked(path: p, holder: holder)
        } catch {
            throw CheckpointError.cannotWrite(path: path, reason: "\(error)")
        }
    }

    /// NAME-best.h5 beside the --save path: the epoch with the best validation loss.
    var bestPath: String { sibling("-best") }

    func saveBest(_ trainer: Trainer) throws {
        try Checkpoint(trainer: trainer, dataFingerprint: fingerprint, zooVersion: Zoo.version, recipe: recipe).write(to: bestPath)
    }

    func save(_ trainer: Trainer) throws {
        try Checkpoint(trainer: trainer, dataFingerprint: fingerprint, zooVersion: Zoo.version, recipe: recipe).write(to: path)
        guard options.keep > 0, trainer.stepInEpoch == 0 else { return }
        // The current epoch's link plus the `keep` most recent earlier ones survive.
        // A hard link keeps this epoch's file when the next save renames a new one over `path`.
        let kept = keptName(epoch: trainer.epoch)
        unlink(kept)
        if link(path, kept) != 0 { throw CheckpointError.cannotWrite(path: kept, reason: String(cString: strerror(errno))) }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw CheckpointError.cannotWrite(
                path: kept, reason: "listing \(dir) to remove older kept checkpoints: \(error.localizedDescription)")
        }
        let epochs = names.compactMap { name -> Int? in
            guard name.hasPrefix(stem + "-epoch-"), name.hasSuffix(".h5") else { return nil }
            return Int(name.dropFirst(stem.count + 7).dropLast(3))
        }.sorted()
        for e in epochs.dropLast(options.keep + 1) { unlink(keptName(epoch: e)) }
    }

    func keptName(epoch: Int) -> String { sibling("-epoch-\(epoch)") }

    /// NAME`suffix`.h5 in the directory of the --save path NAME.h5.
    private func sibling(_ suffix: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(url.deletingPathExtension().lastPathComponent + suffix + ".h5").path
    }
}

/// Runs epochs until `config.training.epochs` are done or early stopping
/// ends the run, printing a summary per epoch, writing samples and
/// checkpoints (and NAME-best.h5 whenever the validation loss improves); on
/// SIGINT/SIGTERM saves the current step and throws `ExitCode(130)`.
func trainLoop(
    _ trainer: Trainer, saver: CheckpointSaver?, samplesDir: String?, metrics: RunLog? = nil, pictures: PictureOptions = .init()
) throws {
    let total = trainer.config.training.epochs
    let lr = trainer.config.training.optimizer.lr
    let signals = saver.map { _ in StopSignals() }
    let progress = ProgressReporter(totalEpochs: total)
    /// "epoch 3" or "epoch 3, step 17": where the trainer stands.
    func position() -> String { "epoch \(trainer.epoch)" + (trainer.stepInEpoch > 0 ? ", step \(trainer.stepInEpoch)" : "") }
    /// Where the file at the --save path stands: what a failed save loses.
    var lastSaved = trainer.epoch > 0 || trainer.stepInEpoch > 0 ? position() : nil
    /// Saves to the --save path (or, `best`, to NAME-best.h5); when that
    /// fails, says on standard error what is lost before the error ends the run.
    func save(_ saver: CheckpointSaver, best: Bool = false) throws {
        let now = position()
        do { try best ? saver.saveBest(trainer) : saver.save(trainer) } catch {
            writeStderr(
                "the save of \(now)\(best ? " as the best epoch" : "") failed: training since "
                    + (lastSaved.map { "\($0) (what \(saver.path) still holds)" } ?? "the start (nothing was saved)") + " is lost\n")
            throw error
        }
        if !best { lastSaved = now }
    }
    var toldETA = false
    while trainer.epoch < total && !trainer.stoppedEarly {
        // Training seconds so far (the checkpoint's count, which a resume continues) for the metrics rows.
        let (secondsBefore, epochStart) = (trainer.seconds, monotonicSeconds())
        var logError: Error?
        var lastBeta = 1.0
        let record = try trainer.runEpoch(
            progress: { p in
                progress.step(p)
                lastBeta = p.beta
                do { try metrics?.step(p, seconds: secondsBefore + monotonicSeconds() - epochStart, lr: lr) } catch { logError = error }
            }, shouldStop: { signals?.requested ?? false || logError != nil })
        progress.endEpoch()
        if let logError { throw logError }
        if let record { try metrics?.epoch(record, trainer: trainer, beta: lastBeta, lr: lr, pictures: pictures) }
        guard let record else {
            guard let saver else { break }
            try save(saver)
            writeStderr(
                "interrupted at epoch \(trainer.epoch + 1), step \(trainer.stepInEpoch) of \(trainer.stepsPerEpoch); "
                    + "saved to \(saver.path). Continue with: zoo resume \(saver.path)\n")
            throw ExitCode(130)
        }
        writeStdout(summaryLine(record, total: total, best: trainer.lastEpochIsBest))
        if !toldETA {
            // An honest estimate once, when the rest of the run is long (--epochs can ask for 10^6).
            toldETA = true
            let remaining = Double(total - record.epoch) * record.seconds
            if remaining > 3600 {
                writeStderr(
                    "note: at \(fmt(record.seconds, 2)) s per epoch, the remaining \(total - record.epoch) epochs take about \(duration(remaining))\n"
                )
            }
        }
        if let dir = samplesDir { try writeSamples(trainer, epoch: record.epoch, to: dir, pictures: pictures) }
        if let saver, trainer.lastEpochIsBest { try save(saver, best: true) }
        let stopping = signals?.requested == true
        let early = trainer.stoppedEarly
        if let saver, stopping || early || record.epoch % saver.options.saveEvery == 0 || record.epoch == total {
            try save(saver)
        }
        if early {
            let best = trainer.bestValidationLoss.map { fmt($0, 2) } ?? "?"
            writeStderr(
                "early stop after epoch \(record.epoch): no better validation loss for \(trainer.epoch - trainer.bestEpoch) epochs; "
                    + "best epoch \(trainer.bestEpoch) (validation \(best))" + (saver.map { ", saved as \($0.bestPath)" } ?? "") + "\n")
        }
        if stopping, let saver {
            writeStderr("interrupted after epoch \(record.epoch); saved to \(saver.path). Continue with: zoo resume \(saver.path)\n")
            throw ExitCode(130)
        }
    }
}

/// One epoch's line; `best` marks a new best validation loss with a star.
func summaryLine(_ r: EpochRecord, total: Int, best: Bool = false) -> String {
    let width = String(total).count
    let e = String(repeating: " ", count: max(0, width - String(r.epoch).count)) + String(r.epoch)
    let validation = r.validationLoss.map { "  val \(fmt($0, 2))\(best ? "*" : "")" } ?? ""
    let test = r.testLoss.map { "  test \(fmt($0, 2))" } ?? ""
    let active = r.activeUnits.map { "  au \($0)" } ?? ""
    return
        "epoch \(e)/\(total)  train \(fmt(r.trainLoss, 2)) (recon \(fmt(r.trainReconstruction, 2)) + kl \(fmt(r.trainKL, 2)))\(validation)\(test)\(active)  \(fmt(r.seconds, 2)) s"
}

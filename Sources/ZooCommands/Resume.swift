import ArgumentParser
import Checkpoint
import Foundation
import Training

/// `zoo resume`: continues a run exactly where its checkpoint left off.
public struct Resume: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Continue training from a checkpoint, bit for bit as if it had never stopped.",
        discussion: """
            Uses the configuration, data, random streams and thread count stored in the checkpoint \
            and saves back to the same file. The training data must have the fingerprint recorded in \
            the checkpoint.
            """)

    @Argument(help: ArgumentHelp("The checkpoint to continue (it is updated in place, atomically).", valueName: "checkpoint.h5"))
    public var checkpoint: String

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Train until this many epochs in total (default: the checkpoint's).", valueName: "total"))
    public var epochs: Int?

    @Option(name: .customLong("data"), help: ArgumentHelp("Read the data from here instead of the recorded path.", valueName: "path"))
    public var directory: String?

    @Flag(help: "Continue even if the training data differs from the data the checkpoint was trained on.")
    public var allowDataChange = false

    @Flag(help: "Resume a checkpoint without optimizer state (a model trained elsewhere) with a fresh Adam from epoch 0.")
    public var freshOptimizer = false

    @OptionGroup(title: "Checkpoints") public var saving: SaveOptions

    @OptionGroup(title: "Metrics") public var logging: LogOptions

    @OptionGroup(title: "Pictures (--samples-dir and the --log image)") public var pictures: PictureOptions

    @Option(help: ArgumentHelp("Write the sample grids here after every epoch.", valueName: "dir"))
    public var samplesDir: String?

    public init() {}

    public func run() throws {
        try CheckpointSaver.checkTarget(checkpoint)
        let lock = try CheckpointSaver.lock(checkpoint)
        defer { lock.release() }
        let saved = try Checkpoint.read(from: checkpoint)
        var config = saved.config
        if let epochs { config.training.epochs = epochs }
        try checkConfig(config)
        if let directory { config.data.path = absolutePath(directory) }
        if saved.optimizer == nil || saved.training == nil {
            guard freshOptimizer else { throw CheckpointError.missingOptimizerState(path: checkpoint) }
        }
        let done = saved.training?.epoch ?? 0
        if saved.training != nil && config.training.epochs <= done && saved.training?.stepInEpoch == 0 {
            throw ValidationError("\(checkpoint) has already trained \(done) epochs; pass --epochs with a larger total to train further")
        }
        if let p = config.training.patience, let t = saved.training, t.stepInEpoch == 0, t.epoch - t.bestEpoch >= p {
            throw ValidationError(
                "\(checkpoint) stopped early at epoch \(t.epoch) (no better validation loss for \(p) epochs; "
                    + "the best epoch \(t.bestEpoch) is in the -best.h5 file beside it); there is nothing to resume")
        }
        if let dir = samplesDir { try prepareOutputDirectory(dir) }
        let (trainer, _, fingerprint) = try makeTrainer(&config, fitInputToData: false, standardization: saved.standardization)
        let now = fingerprint()
        if let recorded = saved.dataFingerprint, recorded != now, !allowDataChange {
            throw CommandError.dataChanged(checkpoint: checkpoint, recorded: recorded, now: now)
        }
        try saved.apply(to: trainer, path: checkpoint)
        writeStderr(
            "resuming \(checkpoint): epoch \(trainer.epoch + 1), step \(trainer.stepInEpoch + 1) of \(trainer.stepsPerEpoch); "
                + "training to epoch \(config.training.epochs)\n")
        try trainLoop(
            trainer, saver: CheckpointSaver(path: checkpoint, options: saving, fingerprint: now, recipe: saved.recipe),
            samplesDir: samplesDir, metrics: try logging.open(resumingAt: trainer.globalStep), pictures: pictures)
    }
}

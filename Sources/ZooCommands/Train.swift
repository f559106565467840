import ArgumentParser
import Datasets
import Foundation
import ImageIO
import NeuralNet
import NumericCore
import Training

/// `zoo train`: trains a VAE from scratch. Defaults are the PyTorch tutorial's.
public struct Train: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Train a VAE (default: the PyTorch tutorial's model on Fashion-MNIST).",
        discussion: """
            The loss is the negative ELBO in nats per image: reconstruction −log p(x|z) plus \
            KL(q(z|x) ‖ N(0, I)). After every epoch one summary line with the test-set negative \
            ELBO goes to standard output; progress goes to standard error.
            """)

    @OptionGroup(title: "Data") public var data: DataOptions
    @OptionGroup(title: "Model") public var model: ModelOptions
    @OptionGroup(title: "Checkpoints") public var saving: SaveOptions

    @Option(help: ArgumentHelp("Save the checkpoint (weights, optimizer, config, training state) here; SIGINT or SIGTERM saves the current step and stops.", valueName: "path.h5"))
    public var save: String?

    // `.unconditional`: a negative number is taken as the value (and then
    // rejected by `validate()` with a clear message), not as a flag.
    @Option(parsing: .unconditional, help: "Training epochs.") public var epochs: Int = 15
    @Option(parsing: .unconditional, help: "Images per batch.") public var batchSize: Int = 128
    @Option(parsing: .unconditional, help: "Adam learning rate.") public var lr: Double = 1e-3
    @Option(help: "Seed of every random stream.") public var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: ArgumentHelp("BLAS threads (default: the number of cores). Same seed and thread count give bit-identical results.", valueName: "n"))
    public var threads: Int?
    @Option(help: ArgumentHelp("Write sampled-E.png (128 prior samples) and reconst-E.png (8 test images over their reconstructions) here after every epoch.", valueName: "dir"))
    public var samplesDir: String?

    public init() {}

    public func validate() throws {
        if epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
        if !(lr > 0) || !lr.isFinite { throw ValidationError("--lr must be a positive number, got \(lr)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    var runConfig: RunConfig {
        var t = TrainingConfig()
        t.epochs = epochs
        t.batchSize = batchSize
        t.optimizer.lr = lr
        t.seed = seed
        t.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        return RunConfig(model: model.config(inputDim: 784), training: t, data: data.config)
    }

    public func run() throws {
        let startup = monotonicSeconds()
        var config = runConfig
        if let dir = samplesDir { try prepareOutputDirectory(dir) }
        if let save { try CheckpointSaver.checkTarget(save) }
        let (trainer, directory, fingerprint) = try makeTrainer(&config)
        let train = trainer.train, test = trainer.test

        writeStderr("zoo \(Zoo.version): \(describe(config.model)), \(trainer.model.parameters.count) parameters\n")
        writeStderr("data: \(directory.path), \(train.count) train / \(test.map { String($0.count) } ?? "no") test images, "
            + "binarization \(config.data.binarization.rawValue); \(config.training.threads) BLAS thread(s); "
            + "ready in \(fmt(monotonicSeconds() - startup, 2)) s\n")
        if test == nil {
            writeStderr("note: \(directory.path) has no test split (t10k-*); the per-epoch test loss is skipped\n")
        }

        let saver = save.map { CheckpointSaver(path: $0, options: saving, fingerprint: fingerprint()) }
        try trainLoop(trainer, saver: saver, samplesDir: samplesDir)
    }
}

func describe(_ m: ModelConfig) -> String {
    let widths = m.hidden.map(String.init)
    let arch = ([String(m.inputDim)] + widths + [String(m.latentDim)] + widths.reversed() + [String(m.inputDim)]).joined(separator: "-")
    let lik = m.likelihood == .gaussian ? "gaussian σ=\(m.sigma)" : "bernoulli"
    return "VAE \(arch), \(lik) decoder"
}

/// Loads the data `config` names (the train split, and the test split when the
/// directory has one), fits the model's input size to the images, and builds a trainer.
func makeTrainer(_ config: inout RunConfig, fitInputToData: Bool = true) throws -> (Trainer, DatasetDirectory, () -> String) {
    let directory = try DatasetDirectory(path: config.data.directory)
    let train = try directory.load(.train, limit: config.data.limit)
    let test = directory.has(.test) ? try directory.load(.test, limit: config.data.limit) : nil
    if fitInputToData { config.model.inputDim = train.dimension }
    // The fingerprint of the training data as read (before any binarization), computed when asked for.
    let fingerprint = { ImageSet.fingerprint(pixels: train.pixels, labels: train.labels) }
    return (try Trainer(config: config, train: train, test: test), directory, fingerprint)
}

/// Creates `dir` (and parents) if needed and checks it is writable, before any training.
func prepareOutputDirectory(_ dir: String) throws {
    let fm = FileManager.default
    var isDir: ObjCBool = false
    if fm.fileExists(atPath: dir, isDirectory: &isDir) {
        if !isDir.boolValue { throw CommandError.outputNotDirectory(dir) }
    } else {
        do { try fm.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw CommandError.cannotCreateDirectory(dir, "\(error.localizedDescription)")
        }
    }
    if access(dir, W_OK) != 0 { throw CommandError.cannotCreateDirectory(dir, "it is not writable") }
}

/// The tutorial's two grids: 128 prior samples, and 8 test images above their reconstructions.
func writeSamples(_ trainer: Trainer, epoch: Int, to dir: String) throws {
    let side = Int(Double(trainer.config.model.inputDim).squareRoot())
    guard side * side == trainer.config.model.inputDim else { return }
    let samples = trainer.priorSamples(count: 128)
    try samples.withUnsafeBufferPointer {
        try PNG.write(ImageGrid.tile($0, count: 128, height: side, width: side, columns: 16), to: "\(dir)/sampled-\(epoch).png")
    }
    let pairs = trainer.reconstructions(of: trainer.test ?? trainer.train, count: 8)
    try pairs.withUnsafeBufferPointer {
        try PNG.write(ImageGrid.tile($0, count: pairs.count / (side * side), height: side, width: side, columns: pairs.count / (2 * side * side)),
                      to: "\(dir)/reconst-\(epoch).png")
    }
}

/// Errors of the command layer itself.
enum CommandError: Error, CustomStringConvertible {
    case outputNotDirectory(String)
    case cannotCreateDirectory(String, String)
    case dataChanged(checkpoint: String, recorded: String, now: String)

    var description: String {
        switch self {
        case .outputNotDirectory(let p): return "\(p) exists and is not a directory; choose another --samples-dir"
        case .cannotCreateDirectory(let p, let why): return "cannot use \(p) as an output directory: \(why)"
        case .dataChanged(let c, let recorded, let now):
            return "the training data differs from the data \(c) was trained on (fingerprint \(recorded), now \(now)); "
                + "pass --allow-data-change to continue anyway"
        }
    }
}

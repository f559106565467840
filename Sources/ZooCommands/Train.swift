import ArgumentParser
import Datasets
import Foundation
import ImageIO
import NeuralNet
import NumericCore
import Recipes
import Support
import Training

/// `zoo train`: trains a VAE from scratch, from a recipe (default: the PyTorch tutorial's model).
public struct Train: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Train a VAE from a recipe (default: vae, the PyTorch tutorial's model on Fashion-MNIST).",
        discussion: """
            The recipe (zoo list) sets the model and training; flags override its fields. The \
            reported loss is the negative ELBO in nats per image: reconstruction −log p(x|z) plus \
            KL(q(z|x) ‖ N(0, I)), unweighted whatever the objective (β, warm-up, IWAE). After \
            every epoch one summary line with the validation and test negative ELBO goes to \
            standard output; progress goes to standard error.
            """)

    @OptionGroup(title: "Recipe") public var recipe: RecipeOption
    @OptionGroup(title: "Data") public var data: DataOptions
    @OptionGroup(title: "Model") public var model: ModelOptions
    @OptionGroup(title: "Checkpoints") public var saving: SaveOptions

    @OptionGroup(title: "Metrics") public var logging: LogOptions

    @OptionGroup(title: "Pictures (--samples-dir and the --log image)") public var pictures: PictureOptions

    @Option(
        help: ArgumentHelp(
            "Save the checkpoint (weights, optimizer, config, training state) here; SIGINT or SIGTERM saves the current step and stops. With --val-split, the best epoch also goes to NAME-best.h5.",
            valueName: "path.h5"))
    public var save: String?

    // `.unconditional`: a negative number is taken as the value (and then
    // rejected by `validate()` with a clear message), not as a flag.
    @Option(parsing: .unconditional, help: "Training epochs (vae: 15).") public var epochs: Int?
    @Option(parsing: .unconditional, help: "Images per batch (vae: 128).") public var batchSize: Int?
    @Option(parsing: .unconditional, help: "Adam learning rate (vae: 0.001).") public var lr: Double?
    @Option(help: "Seed of every random stream (default 1).") public var seed: UInt64?
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Worker threads: each batch is split across them, each running single-threaded products (default: the number of cores). Same seed and thread count give bit-identical results.",
            valueName: "n"))
    public var threads: Int?
    @Option(parsing: .unconditional, help: ArgumentHelp("Weight of the KL term (vae: 1; beta-vae: 4).", valueName: "β"))
    public var beta: Double?
    @Option(parsing: .unconditional, help: ArgumentHelp("Ramp β linearly from 0 over this many epochs, step by step.", valueName: "epochs"))
    public var klWarmup: Int?
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Draws per image in the objective: 1 is the ELBO, K > 1 the importance-weighted bound (iwae: 5).", valueName: "K"))
    public var iwSamples: Int?
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Hold out N training images (a fixed draw, the same for every seed) and report the validation loss each epoch.", valueName: "N")
    )
    public var valSplit: Int?
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Stop after P epochs without a better validation loss (needs --val-split).", valueName: "P"))
    public var patience: Int?
    @Option(
        help: ArgumentHelp(
            "Write sampled-E.png (128 prior samples) and reconst-E.png (8 test images over their reconstructions) here after every epoch.",
            valueName: "dir"))
    public var samplesDir: String?

    public init() {}

    public func validate() throws {
        // Values are the configuration's to check (`runConfig`, RunConfig.issues).
        if save == "" { throw ValidationError("--save needs a file path, got an empty one") }
    }

    /// The recipe and the configuration it gives with every flag applied.
    /// - Throws: `RecipeError` for a bad recipe; `ValidationError` naming each
    ///   problem of the combination (e.g. --patience without a validation split).
    func runConfig() throws -> (Recipe, RunConfig) {
        var (r, c) = try recipe.load()
        data.apply(to: &c.data)
        try model.apply(to: &c.model)
        if let epochs { c.training.epochs = epochs }
        if let batchSize { c.training.batchSize = batchSize }
        if let lr { c.training.optimizer.lr = lr }
        if let seed { c.training.seed = seed }
        if let threads { c.training.threads = threads }
        if let beta { c.training.beta = beta }
        if let klWarmup { c.training.klWarmup = klWarmup }
        if let iwSamples { c.training.importanceSamples = iwSamples }
        if let valSplit { c.training.validation = valSplit }
        if let patience { c.training.patience = patience }
        try checkConfig(c)
        return (r, c)
    }

    public func run() throws {
        let startup = monotonicSeconds()
        var (recipe, config) = try runConfig()
        if let dir = samplesDir { try prepareOutputDirectory(dir) }
        if let save { try CheckpointSaver.checkTarget(save) }
        let lock = try save.map(CheckpointSaver.lock)
        defer { lock?.release() }
        let (trainer, source, fingerprint) = try makeTrainer(&config)
        let train = trainer.train
        let test = trainer.test

        writeStderr("zoo \(Zoo.version): recipe \(recipe.name): \(describe(config)), \(trainer.model.parameters.count) parameters\n")
        let held = trainer.validation.map { " / \($0.count) validation" } ?? ""
        writeStderr(
            "data: \(source), \(train.count) train\(held) / \(test.map { String($0.count) } ?? "no") test examples, "
                + "binarization \(config.data.binarization.rawValue); \(config.training.threads) BLAS thread(s); "
                + "ready in \(fmt(monotonicSeconds() - startup, 2)) s\n")
        if test == nil {
            writeStderr(
                "note: the data has no test split, so the run evaluates on no held-out data (no per-epoch test loss); "
                    + "--test-split N holds out N examples\n")
        }

        if save == nil {
            writeStderr("note: without --save nothing of this run is kept (the model is lost when it ends); --save m.h5 keeps it\n")
        }
        let saver = save.map { CheckpointSaver(path: $0, options: saving, fingerprint: fingerprint(), recipe: recipe.name) }
        try trainLoop(trainer, saver: saver, samplesDir: samplesDir, metrics: try logging.open(resumingAt: nil), pictures: pictures)
    }
}

func describe(_ c: RunConfig) -> String {
    let m = c.model
    var parts = ["\(m.isConditional ? "conditional VAE" : "VAE") \(m.summary)"]
    parts.append(
        m.likelihood == .gaussian || m.likelihood == .gaussianLinear
            ? "\(m.likelihood.rawValue) σ=\(m.sigma) decoder" : "\(m.likelihood.rawValue) decoder")
    if m.isConditional { parts.append("\(m.labelClasses) label classes") }
    let t = c.training
    if t.importanceSamples > 1 { parts.append("IWAE objective K=\(t.importanceSamples)") }
    if t.beta != 1 { parts.append("β=\(fmt(t.beta, 2))") }
    if t.klWarmup > 0 { parts.append("KL warm-up \(t.klWarmup) epochs") }
    if let p = t.patience { parts.append("early stopping after \(p) epochs") }
    return parts.joined(separator: ", ")
}

/// Loads the data `config` names (the train split, and the test split when the
/// source has one or `--test-split` holds one out), records what kind of
/// source it is, fits the model's input shape to the examples (a new run), and
/// builds a trainer. Returns the trainer, a description of the source, and
/// the training data's fingerprint (computed when asked for).
func makeTrainer(
    _ config: inout RunConfig, fitInputToData: Bool = true, standardization: Standardization? = nil
) throws -> (Trainer, String, () -> String) {
    let source = try DataSource(path: config.data.path)
    let loaded = try source.load(limit: config.data.limit, testSplit: config.data.testSplit, labelColumn: config.data.labelColumn)
    let (train, test, description) = (loaded.train, loaded.test, loaded.description)
    config.data.kind = source.kind
    if fitInputToData { config.data.arrays = loaded.arrays }
    // Recorded once, so every later legend uses them (Fashion-MNIST's are known by its directory).
    config.data.classNames = loaded.classNames ?? (fitInputToData ? source.labelNames : config.data.classNames)
    if fitInputToData {
        do { try config.model.fit(inputShape: train.shape) } catch {
            throw TrainingError.invalidConfig(
                "the model does not fit the data \(config.data.path ?? "") (shape \(train.shape)): \(error.message)")
        }
    }
    // The fingerprint of the training data as read (before any binarization), computed when asked for.
    let fingerprint = { train.fingerprint }
    let trainer = try Trainer(config: config, train: train, test: test, standardization: standardization)
    // Process-wide: set here, by the command, once. The workers each run their own products.
    BLAS.setThreads(max(1, config.training.threads / trainer.workers.count))
    return (trainer, description, fingerprint)
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

/// The tutorial's two pictures after each epoch: 128 prior samples, and 8
/// test examples above their reconstructions, as PNG grids for image models
/// (in colour for 3 or 4 channels), as CSV rows for models of vectors.
func writeSamples(_ trainer: Trainer, epoch: Int, to dir: String, pictures: PictureOptions) throws {
    let model = trainer.config.model
    let samples = trainer.priorSamples(count: 128)
    let pairs = trainer.reconstructions(of: trainer.test ?? trainer.train, count: 8)
    let D = model.inputDim
    let n = pairs.count / (2 * D)
    guard let (channels, height, width) = model.imageSize else {
        let kinds = Array(repeating: "input", count: n) + Array(repeating: "reconstruction", count: n)
        try writeAtomically(Array(CSVTable.encode(samples, columns: D).utf8), to: "\(dir)/sampled-\(epoch).csv")
        try writeAtomically(Array(CSVTable.encode(pairs, columns: D, kinds: kinds).utf8), to: "\(dir)/reconst-\(epoch).csv")
        return
    }
    try PNG.write(
        pictures.grid(samples, count: 128, channels: channels, height: height, width: width, columns: 16),
        to: "\(dir)/sampled-\(epoch).png")
    // The inputs in the first row, their reconstructions under them.
    try PNG.write(
        pictures.grid(
            pairs, count: 2 * n, channels: channels, height: height, width: width, columns: n,
            captions: .init(rows: ["input", "reconstruction"])),
        to: "\(dir)/reconst-\(epoch).png")
}

/// Errors of the command layer itself.
enum CommandError: Error, CustomStringConvertible {
    case outputNotDirectory(String)
    case cannotCreateDirectory(String, String)
    case dataChanged(checkpoint: String, recorded: String, now: String)
    case pictureTooLarge(width: Int, height: Int, scale: Int)

    var description: String {
        switch self {
        case .outputNotDirectory(let p): return "\(p) exists and is not a directory; choose another --samples-dir"
        case .cannotCreateDirectory(let p, let why): return "cannot use \(p) as an output directory: \(why)"
        case .pictureTooLarge(let w, let h, let scale):
            return "the picture would be \(w) × \(h) pixels at --scale \(scale), more than the \(ImageGrid.maximumPixels) zoo draws; "
                + "use a smaller --scale or fewer tiles"
        case .dataChanged(let c, let recorded, let now):
            return "the training data differs from the data \(c) was trained on (fingerprint \(recorded), now \(now)); "
                + "pass --allow-data-change to continue anyway"
        }
    }
}

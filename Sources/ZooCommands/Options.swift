import ArgumentParser
import Datasets
import Foundation
import ImageIO
import NeuralNet
import Recipes
import Training

extension Binarization: ExpressibleByArgument {}
extension ModelConfig.Likelihood: ExpressibleByArgument {}
extension ModelConfig.Activation: ExpressibleByArgument {}

// Options that override a recipe are optional: nil means "the recipe's value".

/// Where the data comes from: shared by every command that trains.
public struct DataOptions: ParsableArguments {
    @Option(
        name: .customLong("data"),
        help: ArgumentHelp(
            "The data: a directory in the MNIST layout (train-images-idx3-ubyte[.gz], t10k-…), or a NumPy .npy array of examples (N, D), (N, H, W), (N, H, W, C) or (N, C, H, W).",
            discussion: "Default: Fashion-MNIST from Debian's dataset-fashion-mnist, \(DatasetDirectory.defaultPath).",
            valueName: "path"))
    public var directory: String?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Hold out N examples as the test split of data that has none (a fixed draw, the same for every seed).", valueName: "N"))
    public var testSplit: Int?

    @Option(
        help: ArgumentHelp(
            "The column of a CSV table that holds the class label (numbers, or strings mapped to sorted class indices).", valueName: "name")
    )
    public var labelColumn: String?

    @Flag(help: "Standardize every feature by the training split's mean and standard deviation (needs --decoder gaussian-linear).")
    public var standardize = false

    @Option(
        help:
            "Pixel binarization: none (intensities in [0, 1]), dynamic (a fresh Bernoulli draw each epoch), static (one fixed draw by seed). Default: the recipe's (none for vae)."
    )
    public var binarize: Binarization?

    @Option(parsing: .unconditional, help: ArgumentHelp("Use only the first N images of each split.", valueName: "n"))
    public var limit: Int?

    public init() {}

    /// Sets the fields given; a relative --data path is stored absolute, so
    /// a checkpoint evaluated from another directory reads the same data.
    public func apply(to c: inout DataConfig) {
        if let directory { c.path = absolutePath(directory) }
        if let testSplit { c.testSplit = testSplit }
        if let labelColumn { c.labelColumn = labelColumn }
        if standardize { c.standardize = true }
        if let binarize { c.binarization = binarize }
        if let limit { c.limit = limit }
    }
}

/// The architecture of a new model.
public struct ModelOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Latent dimensions (vae: 20).", valueName: "d"))
    public var latentDim: Int?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Hidden layer widths, comma-separated, encoder order; the decoder mirrors them (vae: 400).", valueName: "widths")
    )
    public var hidden: String?

    @Option(
        help:
            "Decoder likelihood: bernoulli (binary cross-entropy), gaussian (mean sigmoid(logits), fixed σ), gaussian-linear (mean the logits, fixed σ, for data outside [0, 1]) or continuous-bernoulli (a proper density on [0, 1])."
    )
    public var decoder: ModelConfig.Likelihood?

    @Option(parsing: .unconditional, help: ArgumentHelp("σ of the Gaussian decoder (default 0.1).", valueName: "σ"))
    public var sigma: Float?

    @Option(help: "Hidden-layer nonlinearity: relu or tanh.")
    public var activation: ModelConfig.Activation?

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Condition on the label: a conditional VAE over this many classes (0: unconditional; cvae: 10).", valueName: "C")
    )
    public var labelClasses: Int?

    public init() {}

    public var hiddenWidths: [Int]? {
        guard let hidden else { return nil }
        // Empty parts ("400,,400", a trailing comma) are malformed, not skipped.
        let parts = hidden.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
    }

    /// The syntax of --hidden; every size is the configuration's to check (RunConfig.issues).
    public func validate() throws {
        if let hidden, hiddenWidths == nil {
            throw ValidationError("--hidden takes comma-separated positive integers (e.g. 400 or 200,200), got '\(hidden)'")
        }
    }

    /// Sets the fields given. `--hidden` and `--activation` replace the
    /// recipe's encoder and decoder by the MLP they describe (the decoder
    /// mirroring the encoder); `--activation` alone keeps the recipe's widths.
    /// - Throws: `ValidationError` when the widths are out of range, or
    ///   `--activation` is given alone for a recipe whose layers are not an MLP.
    public func apply(to m: inout ModelConfig) throws {
        if let latentDim { m.latentDim = latentDim }
        do { try m.useMLP(hidden: hiddenWidths, activation: activation) } catch {
            throw ValidationError("\(hidden == nil ? "--activation" : "--hidden"): \(error.message)")
        }
        if let decoder { m.likelihood = decoder }
        if let sigma { m.sigma = sigma }
        if let labelClasses { m.labelClasses = labelClasses }
    }
}

/// The recipe a training run starts from.
public struct RecipeOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Start from this recipe (zoo list), or a recipe file (path ending in .json); flags override its fields.", valueName: "name"))
    public var recipe: String = RecipeBook.defaultName

    public init() {}

    /// The recipe's configuration over zoo's defaults, with the thread count
    /// defaulting to the number of cores unless the recipe sets it.
    public func load() throws -> (Recipe, RunConfig) { try Self.load(recipe) }

    /// The recipe `name` (or file) over zoo's defaults, threads defaulting to the cores.
    static func load(_ name: String) throws -> (Recipe, RunConfig) {
        let r = try RecipeBook.recipe(name)
        var defaults = RunConfig()
        defaults.training.threads = ProcessInfo.processInfo.activeProcessorCount
        return (r, try r.config(over: defaults))
    }
}

/// `--scale`: screen pixels per image pixel in the PNG files a command writes.
public struct PictureOptions: ParsableArguments {
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp(
            "Enlarge the PNG pictures N times, nearest neighbour (default for image grids: the smallest N that makes a tile at least 56 pixels, 2 for 28×28; 1 for plots).",
            valueName: "N"))
    public var scale: Int?

    public static let maximumScale = 32

    public init() {}

    public func validate() throws { try checkRange("--scale", scale, 1...Self.maximumScale) }

    /// The scale for tiles of `height` × `width` pixels.
    func scale(height: Int, width: Int) -> Int { scale ?? ImageGrid.defaultScale(height: height, width: width) }

    /// `count` images tiled `columns` per row at this scale, with a 1-pixel
    /// gutter and `captions`; refused before drawing when the grid would be too large.
    func grid(
        _ tiles: [Float], count: Int, channels: Int, height: Int, width: Int, columns: Int, captions: ImageGrid.Captions = .init()
    ) throws -> Image {
        let s = scale(height: height, width: width)
        let size = ImageGrid.size(count: count, height: height, width: width, columns: columns, scale: s, captions: captions)
        // Each side first, so that their product cannot overflow.
        guard size.width <= ImageGrid.maximumPixels, size.height <= ImageGrid.maximumPixels,
            size.width * size.height <= ImageGrid.maximumPixels
        else { throw CommandError.pictureTooLarge(width: size.width, height: size.height, scale: s) }
        return tiles.withUnsafeBufferPointer {
            ImageGrid.tile(
                $0, count: count, channels: channels, height: height, width: width, columns: columns, scale: s, captions: captions)
        }
    }
}

/// Refuses a flag's value outside `range`, naming the flag, the range and the value.
func checkRange(_ flag: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
    if let value, !range.contains(value) {
        throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
    }
}

/// `--threads`: 1 to `RunConfig.maximumThreads` for every command.
func validateThreads(_ threads: Int?) throws { try checkRange("--threads", threads, 1...RunConfig.maximumThreads) }

/// `path` made absolute against the current directory (not resolving links).
func absolutePath(_ path: String) -> String {
    path.hasPrefix("/") ? path : URL(fileURLWithPath: path).standardizedFileURL.path
}

/// The flag that sets each configuration key, to name it in messages.
let configFlags: [String: String] = [
    "training.epochs": "--epochs", "training.batch_size": "--batch-size", "training.optimizer.lr": "--lr",
    "training.threads": "--threads", "training.beta": "--beta", "training.kl_warmup": "--kl-warmup",
    "training.iw_samples": "--iw-samples", "training.val_split": "--val-split", "training.patience": "--patience",
    "model.latent_dim": "--latent-dim", "model.hidden": "--hidden", "model.sigma": "--sigma",
    "model.label_classes": "--label-classes", "data.limit": "--limit", "data.test_split": "--test-split",
    "data.standardize": "--standardize",
]

/// Refuses a configuration with problems (its one validation,
/// `RunConfig.issues`), each prefixed by the flag that sets its field.
func checkConfig(_ c: RunConfig) throws {
    let issues = c.issues
    guard !issues.isEmpty else { return }
    throw ValidationError(issues.map { p in configFlags[p.key].map { "\($0): \(p.message)" } ?? p.message }.joined(separator: "; "))
}

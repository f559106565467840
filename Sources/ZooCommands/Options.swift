import ArgumentParser
import Foundation
import Datasets
import NeuralNet
import Recipes
import Training

extension Binarization: ExpressibleByArgument {}
extension ModelConfig.Likelihood: ExpressibleByArgument {}
extension ModelConfig.Activation: ExpressibleByArgument {}

// Options that override a recipe are optional: nil means "the recipe's value".

/// Where the data comes from: shared by every command that trains.
public struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp(
        "Directory in the MNIST layout (train-images-idx3-ubyte[.gz], t10k-…).",
        discussion: "Default: Fashion-MNIST from Debian's dataset-fashion-mnist, \(DatasetDirectory.defaultPath).",
        valueName: "dir"))
    public var directory: String?

    @Option(help: "Pixel binarization: none (intensities in [0, 1]), dynamic (a fresh Bernoulli draw each epoch), static (one fixed draw by seed). Default: the recipe's (none for vae).")
    public var binarize: Binarization?

    @Option(parsing: .unconditional, help: ArgumentHelp("Use only the first N images of each split.", valueName: "n"))
    public var limit: Int?

    public init() {}

    public func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    public func apply(to c: inout DataConfig) {
        if let directory { c.directory = directory }
        if let binarize { c.binarization = binarize }
        if let limit { c.limit = limit }
    }
}

/// The architecture of a new model.
public struct ModelOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Latent dimensions (vae: 20).", valueName: "d"))
    public var latentDim: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Hidden layer widths, comma-separated, encoder order; the decoder mirrors them (vae: 400).", valueName: "widths"))
    public var hidden: String?

    @Option(help: "Decoder likelihood: bernoulli (binary cross-entropy) or gaussian (fixed σ).")
    public var decoder: ModelConfig.Likelihood?

    @Option(parsing: .unconditional, help: ArgumentHelp("σ of the Gaussian decoder (default 0.1).", valueName: "σ"))
    public var sigma: Float?

    @Option(help: "Hidden-layer nonlinearity: relu or tanh.")
    public var activation: ModelConfig.Activation?

    @Option(parsing: .unconditional, help: ArgumentHelp("Condition on the label: a conditional VAE over this many classes (0: unconditional; cvae: 10).", valueName: "C"))
    public var labelClasses: Int?

    public init() {}

    public var hiddenWidths: [Int]? {
        guard let hidden else { return nil }
        let parts = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
    }

    public func validate() throws {
        if let hidden {
            guard let widths = hiddenWidths else {
                throw ValidationError("--hidden takes comma-separated positive integers (e.g. 400 or 200,200), got '\(hidden)'")
            }
            if let bad = widths.first(where: { $0 < 1 }) { throw ValidationError("--hidden widths must be at least 1, got \(bad)") }
        }
        if let latentDim, latentDim < 1 { throw ValidationError("--latent-dim must be at least 1, got \(latentDim)") }
        if let sigma, !(sigma > 0) || !sigma.isFinite { throw ValidationError("--sigma must be a positive number, got \(sigma)") }
        if let labelClasses, labelClasses < 0 || labelClasses > 1000 {
            throw ValidationError("--label-classes must be between 0 and 1000, got \(labelClasses)")
        }
    }

    public func apply(to m: inout ModelConfig) {
        if let latentDim { m.latentDim = latentDim }
        if let widths = hiddenWidths { m.hidden = widths }
        if let decoder { m.likelihood = decoder }
        if let sigma { m.sigma = sigma }
        if let activation { m.activation = activation }
        if let labelClasses { m.labelClasses = labelClasses }
    }
}

/// The recipe a training run starts from.
public struct RecipeOption: ParsableArguments {
    @Option(help: ArgumentHelp("Start from this recipe (zoo list), or a recipe file (path ending in .json); flags override its fields.", valueName: "name"))
    public var recipe: String = RecipeBook.defaultName

    public init() {}

    /// The recipe's configuration over zoo's defaults, with the thread count
    /// defaulting to the number of cores unless the recipe sets it.
    public func load() throws -> (Recipe, RunConfig) {
        let r = try RecipeBook.recipe(recipe)
        var defaults = RunConfig()
        defaults.training.threads = ProcessInfo.processInfo.activeProcessorCount
        return (r, try r.config(over: defaults))
    }
}

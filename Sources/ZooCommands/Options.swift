import ArgumentParser
import Foundation
import Datasets
import NeuralNet
import Training

extension Binarization: ExpressibleByArgument {}
extension ModelConfig.Likelihood: ExpressibleByArgument {}

/// Where the data comes from: shared by every command that reads images.
public struct DataOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: ArgumentHelp(
        "Directory in the MNIST layout (train-images-idx3-ubyte[.gz], t10k-…).",
        discussion: "Default: Fashion-MNIST from Debian's dataset-fashion-mnist, \(DatasetDirectory.defaultPath).",
        valueName: "dir"))
    public var directory: String?

    @Option(help: "Pixel binarization: none (intensities in [0, 1]), dynamic (a fresh Bernoulli draw each epoch), static (one fixed draw by seed).")
    public var binarize: Binarization = .none

    @Option(parsing: .unconditional, help: ArgumentHelp("Use only the first N images of each split.", valueName: "n"))
    public var limit: Int?

    public init() {}

    public func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    public var config: DataConfig { DataConfig(directory: directory, binarization: binarize, limit: limit) }
}

/// The architecture of a new model.
public struct ModelOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: ArgumentHelp("Latent dimensions.", valueName: "d"))
    public var latentDim: Int = 20

    @Option(parsing: .unconditional, help: ArgumentHelp("Hidden layer widths, comma-separated, encoder order (the decoder mirrors them).", valueName: "widths"))
    public var hidden: String = "400"

    @Option(help: "Decoder likelihood: bernoulli (binary cross-entropy) or gaussian (fixed σ).")
    public var decoder: ModelConfig.Likelihood = .bernoulli

    @Option(parsing: .unconditional, help: ArgumentHelp("σ of the Gaussian decoder.", valueName: "σ"))
    public var sigma: Float = 0.1

    public init() {}

    public var hiddenWidths: [Int]? {
        let parts = hidden.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
    }

    public func validate() throws {
        guard let widths = hiddenWidths else {
            throw ValidationError("--hidden takes comma-separated positive integers (e.g. 400 or 200,200), got '\(hidden)'")
        }
        if let bad = widths.first(where: { $0 < 1 }) { throw ValidationError("--hidden widths must be at least 1, got \(bad)") }
        if latentDim < 1 { throw ValidationError("--latent-dim must be at least 1, got \(latentDim)") }
        if !(sigma > 0) || !sigma.isFinite { throw ValidationError("--sigma must be a positive number, got \(sigma)") }
    }

    public func config(inputDim: Int) -> ModelConfig {
        ModelConfig(inputDim: inputDim, hidden: hiddenWidths ?? [400], latentDim: latentDim, likelihood: decoder, sigma: sigma)
    }
}

import ArgumentParser
import Checkpoint
import Datasets
import Evaluation
import Foundation
import ImageIO
import NeuralNet
import NumericCore
import Support
import Training

/// `zoo sample`: what the decoder makes of chosen latent points, as a PNG grid.
public struct Sample: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Decode latent points to a PNG grid: prior samples, latent traversals, interpolations.",
        discussion: """
            Tiles are the decoder's means (Bernoulli probabilities, or the Gaussian's means) in [0, 1].
            Default: --n prior samples z ~ N(0, I) (seeded by --seed), --columns per row. A conditional \
            model draws class --label, or with no --label class i mod C for tile i (so columns are classes \
            when --columns is C).
            --traverse: one row per latent dimension j; column k sets z_j to the k-th of --steps values \
            evenly spaced over [−3, 3] and keeps every other dimension at μ of test image --image.
            --interpolate I,J: test image I, the decoded points μ_I + t (μ_J − μ_I) for --steps values of \
            t from 0 to 1, then test image J.
            --manifold (2-d latent models, such as the vae-2d recipe): the decoder over a --steps × --steps \
            grid (default 20) of the latent plane at equal-probability quantiles of the prior, z₀ growing \
            to the right and z₁ upwards (Kingma & Welling 2014, figure 4).
            """)

    @Argument(help: ArgumentHelp("The checkpoint whose decoder to use.", valueName: "checkpoint.h5"))
    public var checkpoint: String

    @Option(
        help: ArgumentHelp(
            "Write the grid here (PNG; colour for 3 or 4 channels), or the samples as rows: NAME.csv (one row per sample, header x_0…) or NAME.npy (float32, the model's input shape).",
            valueName: "path"))
    public var out: String

    @Option(parsing: .unconditional, help: ArgumentHelp("Prior samples to draw.", valueName: "n"))
    public var n: Int = 64

    @Option(parsing: .unconditional, help: ArgumentHelp("Tiles per row of the prior-sample grid (default: √n rounded up).", valueName: "c"))
    public var columns: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Class to generate (conditional models).", valueName: "y"))
    public var label: Int?

    @Flag(help: "The decoder over a grid of the 2-d latent plane (prior quantiles); 2-d latent models only.")
    public var manifold = false

    @Flag(help: "One row per latent dimension swept over [−3, 3] around a test image's μ.")
    public var traverse = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Interpolate in latent space between test images I and J.", valueName: "I,J"))
    public var interpolate: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("The test image --traverse starts from.", valueName: "i"))
    public var image: Int = 0

    @Option(
        parsing: .unconditional, help: ArgumentHelp("Points per traversal row (default 11) or interpolation (default 10).", valueName: "s"))
    public var steps: Int?

    @Option(
        name: .customLong("data"),
        help: ArgumentHelp(
            "Directory of the test images (default: the one the checkpoint was trained on).", valueName: "dir"))
    public var directory: String?

    @Option(help: ArgumentHelp("Seed of the prior samples (default: the checkpoint's training seed).", valueName: "n"))
    public var seed: UInt64?

    @OptionGroup(title: "Pictures") public var pictures: PictureOptions

    @Option(
        help: ArgumentHelp(
            "Also write the prior samples' latent points z here (NAME.npy, float32 [n, latent]), to decode them elsewhere.",
            valueName: "z.npy"))
    public var latentOut: String?

    public init() {}

    /// (I, J) of --interpolate, nil when absent or malformed.
    var pair: (Int, Int)? {
        guard let interpolate else { return nil }
        let parts = interpolate.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let i = parts[0], let j = parts[1] else { return nil }
        return (i, j)
    }

    public func validate() throws {
        if [traverse, interpolate != nil, manifold].filter({ $0 }).count > 1 {
            throw ValidationError("--traverse, --interpolate and --manifold draw different grids; choose one")
        }
        if manifold && latentOut != nil { throw ValidationError("--latent-out writes the prior samples' z; not with --manifold") }
        if n < 1 || n > 10_000 { throw ValidationError("--n must be between 1 and 10000, got \(n)") }
        try checkRange("--columns", columns, 1...max(1, n))
        if let label, label < 0 { throw ValidationError("--label must be 0 or more, got \(label)") }
        if image < 0 { throw ValidationError("--image must be 0 or more, got \(image)") }
        if let steps, steps < 2 || steps > 100 { throw ValidationError("--steps must be between 2 and 100, got \(steps)") }
        if let latentOut {
            if traverse || interpolate != nil {
                throw ValidationError("--latent-out writes the prior samples' z; not with --traverse or --interpolate")
            }
            if !latentOut.hasSuffix(".npy") { throw ValidationError("--latent-out writes a NumPy file: give a name ending in .npy") }
        }
        if let interpolate, pair.map({ $0.0 < 0 || $0.1 < 0 }) ?? true {
            throw ValidationError("--interpolate takes two test-image indices I,J (e.g. 0,1), got '\(interpolate)'")
        }
    }

    public func run() throws {
        let start = monotonicSeconds()
        try checkWritable(out)
        let saved = try Checkpoint.read(from: checkpoint)
        let config = saved.config.model
        let D = config.inputDim
        let L = config.latentDim
        let C = config.labelClasses
        let rows = out.hasSuffix(".csv") || out.hasSuffix(".npy")
        if !rows, config.imageSize == nil { throw SampleError.notAnImage(path: checkpoint, shape: config.inputShape) }
        if let label {
            guard C > 0 else { throw SampleError.notConditional(path: checkpoint) }
            guard label < C else { throw SampleError.labelOutOfRange(label: label, classes: C, path: checkpoint) }
        }
        Kernels.flushDenormals()

        let tiles: [Float]
        let tileColumns: Int
        let what: String
        var captions = ImageGrid.Captions()
        if manifold {
            guard L == 2 else { throw SampleError.notTwoDimensional(path: checkpoint, latentDim: L) }
            let s = steps ?? 20
            let model = try saved.makeModel(maxRows: s * s, path: checkpoint)
            _ = model.z.buffer.update(fromContentsOf: LatentGrids.manifold(steps: s))
            for r in 0..<(s * s) { model.latentLabels[r] = Int32(label ?? 0) }
            tiles = decodedMeans(model, rows: s * s, undoing: saved.standardization)
            tileColumns = s
            // z₀ of each column along the top, z₁ of each row at the left.
            let grid = LatentGrids.manifold(steps: s)
            captions = .init(
                rows: (0..<s).map { "\(fmt(Double(grid[($0 * s) * 2 + 1]), 1))" }, columns: (0..<s).map { fmt(Double(grid[$0 * 2]), 1) })
            what = "the latent plane, \(s) × \(s) prior quantiles" + (C > 0 ? ", class \(label ?? 0)" : "")
        } else if traverse || interpolate != nil {
            let test = try saved.split(.test, of: directory, limit: nil).set
            let needed = traverse ? [image] : [pair!.0, pair!.1]
            for i in needed where i >= test.count {
                throw SampleError.imageOutOfRange(index: i, count: test.count, path: test.images.imagesPath)
            }
            let model = try saved.makeModel(maxRows: traverse ? L * (steps ?? 11) : (steps ?? 10) + 2, path: checkpoint)
            let indices = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
            defer { indices.deallocate() }
            /// μ of test image i and its label.
            func encode(_ i: Int) -> ([Float], Int32) {
                test.gather(first: i, rows: 1, into: model, indices: indices)
                model.encode(rows: 1)
                return ((0..<L).map { model.posterior[$0] }, model.labels[0])
            }
            if traverse {
                let s = steps ?? 11
                let (mu, own) = encode(image)
                let y = label.map(Int32.init) ?? own
                let z = LatentGrids.traversal(around: mu, steps: s)
                _ = model.z.buffer.update(fromContentsOf: z)
                for row in 0..<(L * s) { model.latentLabels[row] = y }
                tiles = decodedMeans(model, rows: L * s, undoing: saved.standardization)
                tileColumns = s
                // The dimension at the left of each row, the value above each column.
                captions = .init(rows: (0..<L).map { "z\($0)" }, columns: (0..<s).map { fmt(Double(z[$0 * L]), 1) })
                what = "traversal of test image \(image): \(L) dimensions × \(s) values in [−3, 3]"
            } else {
                let s = steps ?? 10
                let (i, j) = pair!
                let (a, ya) = encode(i)
                let (b, _) = encode(j)
                let y = label.map(Int32.init) ?? ya
                let z = LatentGrids.interpolation(from: a, to: b, steps: s)
                _ = model.z.buffer.update(fromContentsOf: z)
                for k in 0..<s { model.latentLabels[k] = y }
                let decoded = decodedMeans(model, rows: s, undoing: saved.standardization)
                tiles = pixels(test, i, saved.standardization) + decoded + pixels(test, j, saved.standardization)
                tileColumns = s + 2
                captions = .init(columns: ["image \(i)"] + (0..<s).map { "t=" + fmt(Double($0) / Double(s - 1), 2) } + ["image \(j)"])
                what = "interpolation between test images \(i) and \(j) in \(s) steps (the images at both ends)"
            }
        } else {
            let model = try saved.makeModel(maxRows: n, path: checkpoint)
            drawPrior(into: model, count: n, seed: seed ?? saved.config.training.seed, label: label)
            if let latentOut { try writeAtomically(NumPyWriter.encode(Array(model.z.buffer.prefix(n * L)), shape: [n, L]), to: latentOut) }
            tiles = decodedMeans(model, rows: n, undoing: saved.standardization)
            tileColumns = columns ?? Int(Double(n).squareRoot().rounded(.up))
            what = "\(n) prior samples" + (label.map { ", class \($0)" } ?? (C > 0 ? ", class i mod \(C)" : ""))
        }
        let count = tiles.count / D
        if out.hasSuffix(".npy") {
            try writeAtomically(NumPyWriter.encode(tiles, shape: [count] + config.inputShape), to: out)
        } else if out.hasSuffix(".csv") {
            try writeAtomically(Array(CSVTable.encode(tiles, columns: D).utf8), to: out)
        } else if let (channels, height, width) = config.imageSize {
            try PNG.write(
                pictures.grid(
                    tiles, count: count, channels: channels, height: height, width: width, columns: tileColumns, captions: captions),
                to: out)
        }
        writeStderr("wrote \(out): \(what), in \(fmt(monotonicSeconds() - start, 2)) s\n")
    }

    func pixels(_ set: EvaluationSet, _ i: Int, _ standardization: Standardization?) -> [Float] {
        var out = [Float](repeating: 0, count: set.dimension)
        var index: Int64 = 0
        out.withUnsafeMutableBufferPointer { set.gather(first: i, rows: 1, into: $0.baseAddress!, indices: &index) }
        standardization?.undo(&out)
        return out
    }

}

/// The decoder's means for the first `rows` rows of `model.z` (and
/// `latentLabels`), in the data's units.
func decodedMeans(_ model: VAE, rows: Int, undoing standardization: Standardization?) -> [Float] {
    model.decode(rows: rows)
    return means(model, rows: rows, undoing: standardization)
}

/// The means of the model's last decode (or forward pass) of `rows` rows, in the data's units.
func means(_ model: VAE, rows: Int, undoing standardization: Standardization?) -> [Float] {
    var out = [Float](repeating: 0, count: rows * model.config.inputDim)
    out.withUnsafeMutableBufferPointer { model.means(rows: rows, into: $0.baseAddress!) }
    standardization?.undo(&out)
    return out
}

/// `count` prior draws z ~ N(0, I) from `seed`'s sampling stream into
/// `model.z`, as `zoo sample` draws them: a conditional model gets class
/// `label`, or class i mod C for draw i.
func drawPrior(into model: VAE, count: Int, seed: UInt64, label: Int?) {
    var stream = RunStreams(seed: seed).sampling
    stream.fillNormal(model.z.pointer, count: count * model.config.latentDim)
    let C = model.config.labelClasses
    for r in 0..<count { model.latentLabels[r] = Int32(label ?? (C > 0 ? r % C : 0)) }
}

/// A request `zoo sample` cannot draw, naming the file and what to do.
enum SampleError: Error, CustomStringConvertible {
    case notAnImage(path: String, shape: [Int])
    case notConditional(path: String)
    case labelOutOfRange(label: Int, classes: Int, path: String)
    case imageOutOfRange(index: Int, count: Int, path: String)
    case notTwoDimensional(path: String, latentDim: Int)

    var description: String {
        switch self {
        case .notAnImage(let path, let shape):
            return "\(path) models vectors of shape \(shape), not images [channels, height, width], so there is no picture to draw; "
                + "write the samples as rows with --out NAME.csv or NAME.npy"
        case .notConditional(let path):
            return "--label needs a conditional model (e.g. zoo train --recipe cvae); \(path) is not conditional"
        case .labelOutOfRange(let label, let classes, let path):
            return "--label \(label) is outside the \(classes) classes (0…\(classes - 1)) of \(path)"
        case .imageOutOfRange(let index, let count, let path):
            return "test image \(index) does not exist: \(path) has \(count) images (0…\(count - 1))"
        case .notTwoDimensional(let path, let L):
            return
                "--manifold draws the latent plane of a 2-d latent model (zoo train --recipe vae-2d); \(path) has \(L) latent dimensions: "
                + "use --traverse to sweep them one at a time"
        }
    }
}

import Datasets
import NumericCore

/// The rows `zoo embed` writes for each image: a CSV row (`index,split,label`,
/// μ, optionally log σ², then `samples` draws z = μ + σ·ε), and the TSV pair
/// of TensorFlow's embedding projector (μ in vectors.tsv, index/split/label
/// in metadata.tsv). Numbers are Swift's shortest round-trip decimals, so
/// reading them back gives the same float32.
public struct EmbeddingTable {
    public let latentDim: Int
    public let logvar: Bool
    public let samples: Int
    /// Seeds the draws: image i of a split gets its own stream, so its
    /// samples do not depend on batching or on the other images.
    public let seed: UInt64
    private var scratch: [Float]

    public init(latentDim: Int, logvar: Bool, samples: Int, seed: UInt64) {
        self.latentDim = latentDim
        self.logvar = logvar
        self.samples = samples
        self.seed = seed
        scratch = [Float](repeating: 0, count: samples * latentDim + 1)
    }

    /// The CSV header, CRLF-terminated (RFC 4180).
    public var csvHeader: String {
        let L = latentDim
        var h = "index,split,label"
        for j in 0..<L { h += ",mu_\(j)" }
        if logvar { for j in 0..<L { h += ",logvar_\(j)" } }
        for s in 0..<samples { for j in 0..<L { h += ",z_\(s)_\(j)" } }
        return h + "\r\n"
    }

    public static let metadataHeader = "index\tsplit\tlabel\n"

    /// The random stream of image `index` of `split`.
    public func stream(split: Split, index: Int) -> RandomStream {
        RandomStream(seed: seed, purpose: .embedding, index: UInt64(split == .train ? 0 : 1) << 32 | UInt64(index))
    }

    /// Appends the CSV row of one image, whose posterior row is [μ | log σ²].
    public mutating func appendCSVRow(
        to text: inout String, index: Int, split: Split, label: UInt8, posterior row: UnsafePointer<Float>
    ) {
        let L = latentDim
        text += "\(index),\(split.rawValue),\(label)"
        for j in 0..<L { text += ",\(row[j])" }
        if logvar { for j in 0..<L { text += ",\(row[L + j])" } }
        if samples > 0 {
            var s = stream(split: split, index: index)
            for v in LatentGrids.posteriorSamples(row, latentDim: L, samples: samples, stream: &s, scratch: &scratch) { text += ",\(v)" }
        }
        text += "\r\n"
    }

    /// Appends one image's lines of vectors.tsv (μ) and metadata.tsv.
    public func appendTSVRows(
        vectors: inout String, metadata: inout String, index: Int, split: Split, label: UInt8, posterior row: UnsafePointer<Float>
    ) {
        for j in 0..<latentDim { vectors += (j == 0 ? "" : "\t") + "\(row[j])" }
        vectors += "\n"
        metadata += "\(index)\t\(split.rawValue)\t\(label)\n"
    }
}

/// The two coordinates a latent scatter plot shows: z₀ (and z₁) themselves
/// for one or two latent dimensions, else the first two principal components.
public struct PlotCoordinates {
    public let x: [Float]
    public let y: [Float]
    public let xLabel: String
    public let yLabel: String

    /// - Parameters:
    ///   - points: n rows of `latentDim` values (μ of n images).
    ///   - pca: the principal components of those rows (used for latentDim > 2).
    public init(points: [Float], latentDim L: Int, pca: PrincipalComponents) {
        let n = L > 0 ? points.count / L : 0
        if L == 1 {
            (x, y, xLabel, yLabel) = (points, [Float](repeating: 0, count: n), "Z0", "")
        } else if L == 2 {
            x = (0..<n).map { points[2 * $0] }
            y = (0..<n).map { points[2 * $0 + 1] }
            (xLabel, yLabel) = ("Z0", "Z1")
        } else {
            let p = pca.projectOntoFirstTwo(points)
            (x, y) = (p.x, p.y)
            (xLabel, yLabel) = ("PC1 (\(Int(p.percent.0.rounded()))%)", "PC2 (\(Int(p.percent.1.rounded()))%)")
        }
    }
}

import Foundation
import NeuralNet

/// What `zoo eval` measured and how (schemas/eval-report.schema.json).
struct EvalReport: Encodable {
    static let format = "zoo-eval-report"
    static let formatVersion = 1

    struct CheckpointInfo: Encodable {
        let path: String
        let epochsTrained: Int
        let model: ModelConfig
        let trainingSeed: UInt64
        let recipe: String?
        enum CodingKeys: String, CodingKey {
            case path
            case epochsTrained = "epochs_trained"
            case model
            case trainingSeed = "training_seed"
            case recipe
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(epochsTrained, forKey: .epochsTrained)
            try c.encode(model, forKey: .model)
            try c.encode(trainingSeed, forKey: .trainingSeed)
            try c.encode(recipe, forKey: .recipe)  // null when absent
        }
    }

    struct DataInfo: Encodable {
        let directory: String
        let split: String
        let images: Int
        let limit: Int?
        let fingerprint: String
        let binarization: String
        let dimension: Int
        /// Whether the figures are densities of standardized values (`--standardize`), not of the data's own units.
        let standardized: Bool
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(directory, forKey: .directory)
            try c.encode(split, forKey: .split)
            try c.encode(images, forKey: .images)
            try c.encode(limit, forKey: .limit)  // null when absent, not omitted
            try c.encode(fingerprint, forKey: .fingerprint)
            try c.encode(binarization, forKey: .binarization)
            try c.encode(dimension, forKey: .dimension)
            try c.encode(standardized, forKey: .standardized)
        }
        enum CodingKeys: String, CodingKey { case directory, split, images, limit, fingerprint, binarization, dimension, standardized }
    }

    struct ELBO: Encodable {
        let negativeELBO: Double
        let reconstruction: Double
        let kl: Double
        let standardError: Double
        let bitsPerDim: Double
        let samplesPerImage: Int
        let seed: UInt64
        let streamIndex: Int
        let seconds: Double
        enum CodingKeys: String, CodingKey {
            case negativeELBO = "negative_elbo"
            case reconstruction, kl
            case standardError = "standard_error"
            case bitsPerDim = "bits_per_dim"
            case samplesPerImage = "samples_per_image"
            case seed
            case streamIndex = "stream_index"
            case seconds
        }
    }

    struct NLL: Encodable {
        struct Estimate: Encodable {
            let k: Int
            /// Mean over images of −log p̂(x) (over repeats when there are several), nats.
            let nll: Double
            /// Standard error over images (first repeat).
            let standardError: Double
            let bitsPerDim: Double
            /// Standard deviation of the dataset mean over repeats; null for one repeat.
            let repeatStd: Double?
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(k, forKey: .k)
                try c.encode(nll, forKey: .nll)
                try c.encode(standardError, forKey: .standardError)
                try c.encode(bitsPerDim, forKey: .bitsPerDim)
                try c.encode(repeatStd, forKey: .repeatStd)
            }
            enum CodingKeys: String, CodingKey {
                case k, nll
                case standardError = "standard_error"
                case bitsPerDim = "bits_per_dim"
                case repeatStd = "repeat_std"
            }
        }
        let iwSamples: Int
        let seed: UInt64
        let repeats: Int
        let chunk: Int
        let estimates: [Estimate]
        let seconds: Double
        enum CodingKeys: String, CodingKey {
            case iwSamples = "iw_samples"
            case seed, repeats, chunk, estimates, seconds
        }
    }

    /// Posterior-collapse diagnostics (active units, KL per dimension).
    struct Latent: Encodable {
        struct Dimension: Encodable {
            let dim: Int
            let kl: Double
            let muVariance: Double
            let active: Bool
            enum CodingKeys: String, CodingKey {
                case dim, kl
                case muVariance = "mu_variance"
                case active
            }
        }
        let activeUnits: Int
        let threshold: Double
        let latentDim: Int
        let dimensions: [Dimension]
        enum CodingKeys: String, CodingKey {
            case activeUnits = "active_units"
            case threshold
            case latentDim = "latent_dim"
            case dimensions
        }

        init(_ s: LatentSummary) {
            activeUnits = s.activeUnits
            threshold = LatentSummary.activeThreshold
            latentDim = s.latentDim
            dimensions = (0..<s.latentDim).map {
                Dimension(
                    dim: $0, kl: s.klPerDimension[$0], muVariance: s.muVariance[$0],
                    active: s.muVariance[$0] > LatentSummary.activeThreshold)
            }
        }
    }

    struct BLASInfo: Encodable {
        let core: String
        let threads: Int
        /// libxsmm's instruction set when it runs some products (`JITProducts`), else nil.
        let jit: String?
    }

    let zooVersion: String
    let checkpoint: CheckpointInfo
    let data: DataInfo
    let elbo: ELBO
    let latent: Latent
    let nll: NLL?
    let seconds: Double
    let blas: BLASInfo

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.format, forKey: .format)
        try c.encode(Self.formatVersion, forKey: .formatVersion)
        try c.encode(zooVersion, forKey: .zooVersion)
        try c.encode(checkpoint, forKey: .checkpoint)
        try c.encode(data, forKey: .data)
        try c.encode(elbo, forKey: .elbo)
        try c.encode(latent, forKey: .latent)
        try c.encode(nll, forKey: .nll)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(blas, forKey: .blas)
    }

    enum CodingKeys: String, CodingKey {
        case format
        case formatVersion = "format_version"
        case zooVersion = "zoo_version"
        case checkpoint, data, elbo, latent, nll, seconds, blas
    }

    func jsonString() throws -> String { try prettyJSON(self) }

    /// Active units and the KL of each dimension, largest first.
    static func latentTable(_ l: Latent) -> String {
        var s = "  active units          \(l.activeUnits) of \(l.latentDim)  (Var over images of E_q[z_j] > \(l.threshold))\n"
        s += "  KL per dimension, nats (dimension:KL, largest first; * inactive):\n"
        let order = l.dimensions.sorted { $0.kl > $1.kl }
        for start in stride(from: 0, to: order.count, by: 8) {
            let line =
                "   "
                + order[start..<min(start + 8, order.count)].map {
                    " "
                        + "\($0.dim):\(String(format: "%.2f", $0.kl))\($0.active ? "" : "*")".padding(
                            toLength: 10, withPad: " ", startingAt: 0)
                }.joined()
            s += String(line.reversed().drop(while: { $0 == " " }).reversed()) + "\n"
        }
        return s
    }

    /// The human-readable report.
    func table() -> String {
        func num(_ x: Double) -> String { String(format: "%10.2f", x) }
        func bpd(_ x: Double) -> String { String(format: "%8.4f", x) }
        var s =
            "\(checkpoint.path): \(checkpoint.epochsTrained) epochs, \(data.split) split of \(data.directory), "
            + "\(data.images) images, binarization \(data.binarization), \(checkpoint.model.likelihood.rawValue) decoder"
            + (data.standardized ? "; figures in standardized units (--standardize)" : "") + "\n\n"
        s += "                        nats/image     ± s.e.   bits/dim\n"
        s += "  −ELBO                 \(num(elbo.negativeELBO)) \(String(format: "%10.2f", elbo.standardError))   \(bpd(elbo.bitsPerDim))\n"
        s += "    reconstruction      \(num(elbo.reconstruction))\n"
        s += "    KL                  \(num(elbo.kl))\n"
        s += Self.latentTable(latent) + "\n"
        if let nll {
            for e in nll.estimates {
                let label = "  −log p(x), K=\(e.k)"
                s +=
                    label.padding(toLength: 24, withPad: " ", startingAt: 0) + num(e.nll)
                    + String(format: "%10.2f", e.standardError) + "   " + bpd(e.bitsPerDim)
                    + (e.repeatStd.map { String(format: "   ± %.3f over %d repeats", $0, nll.repeats) } ?? "") + "\n"
            }
            s +=
                "\n  importance sampling: K = \(nll.iwSamples), seed \(nll.seed), \(String(format: "%.1f", nll.seconds)) s"
                + " (\(blas.threads) threads, OpenBLAS \(blas.core)\(blas.jit.map { ", libxsmm \($0)" } ?? ""))\n"
        }
        s += "  ELBO: one z per image, seed \(elbo.seed); total \(String(format: "%.1f", seconds)) s"
        return s
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Posterior-collapse diagnostics of a data set: the variance over the data
/// of E_q[z_j] = μ_j per latent dimension (a dimension is *active* when it
/// exceeds 0.01, Burda et al. 2015) and the mean KL(q(z_j|x) ‖ N(0, 1)) per
/// dimension, in nats (they sum to the KL term of the ELBO).
public struct LatentSummary: Equatable, Sendable {
    /// The activity threshold on Var_x(E_q[z_j]).
    public static let activeThreshold = 0.01

    public var count: Int
    public var meanMu: [Double]
    /// Sample variance of μ_j over the images (n − 1 in the denominator).
    public var muVariance: [Double]
    public var klPerDimension: [Double]

    public init(count: Int, meanMu: [Double], muVariance: [Double], klPerDimension: [Double]) {
        precondition(meanMu.count == muVariance.count && meanMu.count == klPerDimension.count)
        self.count = count
        self.meanMu = meanMu
        self.muVariance = muVariance
        self.klPerDimension = klPerDimension
    }

    public var latentDim: Int { meanMu.count }
    /// Dimensions whose μ varies over the data by more than `activeThreshold`.
    public var activeUnits: Int { muVariance.filter { $0 > Self.activeThreshold }.count }
}

/// Accumulates a `LatentSummary` one q(z|x) = N(μ, σ²) at a time, in Double
/// (Welford's update for the variance).
public struct LatentStatistics: Sendable {
    public private(set) var count = 0
    private var meanMu: [Double]
    private var m2: [Double]
    private var klSum: [Double]

    public init(latentDim: Int) {
        meanMu = .init(repeating: 0, count: latentDim)
        m2 = .init(repeating: 0, count: latentDim)
        klSum = .init(repeating: 0, count: latentDim)
    }

    /// Adds `rows` posteriors laid out as the VAE's: [μ (L) | log σ² (L)] per row.
    public mutating func add(_ posterior: UnsafePointer<Float>, rows: Int) {
        let L = meanMu.count
        for r in 0..<rows {
            count += 1
            let n = Double(count)
            for j in 0..<L {
                let mu = Double(posterior[r * 2 * L + j])
                let lv = Double(posterior[r * 2 * L + L + j])
                let d = mu - meanMu[j]
                meanMu[j] += d / n
                m2[j] += d * (mu - meanMu[j])
                klSum[j] += -0.5 * (1 + lv - mu * mu - exp(lv))
            }
        }
    }

    public var summary: LatentSummary {
        LatentSummary(
            count: count, meanMu: meanMu, muVariance: m2.map { count > 1 ? $0 / Double(count - 1) : 0 },
            klPerDimension: klSum.map { count > 0 ? $0 / Double(count) : 0 })
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The latent part of a forward pass, on the model's buffers: q(z|x) as rows
/// [μ | log σ²], the noise ε, and what the objective derives from them.
struct LatentBuffers {
    let latentDim: Int
    /// [rows, 2·L]: μ in columns [0, L), log σ² in [L, 2L).
    let posterior: UnsafeMutablePointer<Float>
    /// [rows·K, L].
    let epsilon: UnsafeMutablePointer<Float>
    /// σ = exp(½ log σ²), [rows, L].
    let sigma: UnsafeMutablePointer<Float>
    /// [rows·K, L].
    let z: UnsafeMutablePointer<Float>
    /// Per image: closed-form KL(q(z|x) ‖ N(0, I)) and −log p(x|z) (the mean over the draws).
    let kl: UnsafeMutablePointer<Double>
    let reconstruction: UnsafeMutablePointer<Double>
    /// Per draw (K > 1): −log p(x|z_k); log p(z_k) − log q(z_k|x) (then scratch for
    /// the weights); the normalized importance weight.
    let sampleReconstruction: UnsafeMutablePointer<Double>
    let sampleLogRatio: UnsafeMutablePointer<Double>
    let sampleWeight: UnsafeMutablePointer<Float>
}

extension LatentBuffers {
    /// σ = exp(½ log σ²) of image `r` into `sigma`; returns Σ_j (1 + log σ² − μ² − σ²)
    /// (−2 KL) and Σ_j ½ log σ², accumulated in float in dimension order.
    func standardDeviations(row r: Int) -> (klSum: Float, halfLogVariance: Float) {
        let L = latentDim
        var rowKL: Float = 0
        var halfLogVar: Float = 0
        for j in 0..<L {
            let mu = posterior[r * 2 * L + j]
            let logvar = posterior[r * 2 * L + L + j]
            let sd = expf(0.5 * logvar)
            sigma[r * L + j] = sd
            rowKL += 1 + logvar - mu * mu - sd * sd
            halfLogVar += 0.5 * logvar
        }
        return (rowKL, halfLogVar)
    }
}

/// What the model minimizes and how its gradient reaches q(z|x): it draws z
/// from the posterior, combines the per-draw reconstruction −log p(x|z) into
/// the loss (scaling dL/dlogits per draw), and turns dL/dz into
/// dL/d[μ | log σ²]. β weights the KL part (the β-VAE, and KL warm-up).
protocol Objective {
    /// Latent draws per image.
    var samples: Int { get }
    var beta: Float { get }

    /// z from μ, σ and ε for `rows` images (`samples` draws each); per-image KL. Returns Σ KL.
    func sample(_ b: LatentBuffers, rows: Int) -> Double

    /// The loss summed over the images from the per-draw reconstruction
    /// (`reconstructionSum` over the images for one draw; per draw in
    /// `b.sampleReconstruction` for several, whose mean per image it writes
    /// into `b.reconstruction`) and Σ KL; scales `gradLogits` ([rows·K, cols]) when given.
    func loss(
        _ b: LatentBuffers, rows: Int, reconstructionSum: Double, klSum: Double,
        gradLogits: UnsafeMutablePointer<Float>?, cols: Int
    ) -> Double

    /// dL/d[μ | log σ²] into `gradPosterior` from dL/dz.
    func posteriorGradient(_ b: LatentBuffers, rows: Int, gradZ: UnsafePointer<Float>, into gradPosterior: UnsafeMutablePointer<Float>)
}

/// The negative β-ELBO with one draw: −log p(x|z) + β·KL in closed form,
/// KL = −½ Σ (1 + log σ² − μ² − σ²).
struct ELBOObjective: Objective {
    let beta: Float
    var samples: Int { 1 }

    func sample(_ b: LatentBuffers, rows: Int) -> Double {
        let L = b.latentDim
        var total = 0.0
        for r in 0..<rows {
            let (rowKL, _) = b.standardDeviations(row: r)
            for j in 0..<L { b.z[r * L + j] = b.posterior[r * 2 * L + j] + b.epsilon[r * L + j] * b.sigma[r * L + j] }
            b.kl[r] = -0.5 * Double(rowKL)
            total += b.kl[r]
        }
        return total
    }

    func loss(
        _ b: LatentBuffers, rows: Int, reconstructionSum: Double, klSum: Double,
        gradLogits: UnsafeMutablePointer<Float>?, cols: Int
    ) -> Double {
        reconstructionSum + Double(beta) * klSum
    }

    /// Through z = μ + ε·σ and β·KL: dμ = dz + β μ; d log σ² = ½ (dz ε σ + β (σ² − 1)).
    func posteriorGradient(_ b: LatentBuffers, rows: Int, gradZ dz: UnsafePointer<Float>, into dpost: UnsafeMutablePointer<Float>) {
        let L = b.latentDim
        let post = b.posterior
        let eps = b.epsilon
        let s = b.sigma
        for r in 0..<rows {
            for j in 0..<L {
                let k = r * L + j
                let mu = post[r * 2 * L + j]
                let sd = s[k]
                dpost[r * 2 * L + j] = dz[k] + beta * mu
                dpost[r * 2 * L + L + j] = 0.5 * (dz[k] * eps[k] * sd + beta * (sd * sd - 1))
            }
        }
    }
}

/// The importance-weighted bound of Burda et al. (2015) with K draws:
/// −log (1/K) Σ_k p(x|z_k)·(p(z_k)/q(z_k|x))^β, whose gradient weighs each
/// draw's by its normalized importance weight.
struct ImportanceWeightedObjective: Objective {
    let samples: Int
    let beta: Float

    /// z_k = μ + ε_k·σ and log p(z_k) − log q(z_k|x) = Σ_j (ε² − z²)/2 + ½ log σ²;
    /// the closed-form KL per image.
    func sample(_ b: LatentBuffers, rows: Int) -> Double {
        let L = b.latentDim
        let K = samples
        let post = b.posterior
        let eps = b.epsilon
        let s = b.sigma
        let zp = b.z
        var total = 0.0
        for r in 0..<rows {
            let (rowKL, halfLogVar) = b.standardDeviations(row: r)
            for k in 0..<K {
                let row = r * K + k
                var ratio = halfLogVar
                for j in 0..<L {
                    let e = eps[row * L + j]
                    let v = post[r * 2 * L + j] + e * s[r * L + j]
                    zp[row * L + j] = v
                    ratio += 0.5 * (e * e - v * v)
                }
                b.sampleLogRatio[row] = Double(ratio)
            }
            b.kl[r] = -0.5 * Double(rowKL)
            total += b.kl[r]
        }
        return total
    }

    /// Per image: log w_k = log p(x|z_k) + β (log p(z_k) − log q(z_k|x));
    /// loss = −(logsumexp_k log w_k − log K); d loss / d log w_k = −w̃_k.
    func loss(
        _ b: LatentBuffers, rows: Int, reconstructionSum: Double, klSum: Double,
        gradLogits: UnsafeMutablePointer<Float>?, cols D: Int
    ) -> Double {
        var total = 0.0
        let K = samples
        let betaD = Double(beta)
        let logK = log(Double(K))
        // sampleLogRatio becomes log w_k, then exp(log w_k − max); backward needs only the weights.
        for r in 0..<rows {
            let base = r * K
            var m = -Double.infinity
            var meanRec = 0.0
            for k in 0..<K {
                let lw = -b.sampleReconstruction[base + k] + betaD * b.sampleLogRatio[base + k]
                b.sampleLogRatio[base + k] = lw
                m = max(m, lw)
                meanRec += b.sampleReconstruction[base + k]
            }
            var sum = 0.0
            for k in 0..<K {
                b.sampleLogRatio[base + k] = exp(b.sampleLogRatio[base + k] - m)
                sum += b.sampleLogRatio[base + k]
            }
            for k in 0..<K { b.sampleWeight[base + k] = Float(b.sampleLogRatio[base + k] / sum) }
            total += -(m + log(sum) - logK)
            b.reconstruction[r] = meanRec / Double(K)
        }
        if let g = gradLogits {
            for row in 0..<(rows * K) {
                let w = b.sampleWeight[row]
                for c in 0..<D { g[row * D + c] *= w }
            }
        }
        return total
    }

    /// −w̃_k β (log p(z_k) − log q(z_k|x)) adds β w̃_k z_k to dz_k and −½ β w̃_k to
    /// d log σ²; then through z_k = μ + ε_k σ, summed over the K draws.
    func posteriorGradient(_ b: LatentBuffers, rows: Int, gradZ dz: UnsafePointer<Float>, into dpost: UnsafeMutablePointer<Float>) {
        let L = b.latentDim
        let K = samples
        let s = b.sigma
        let eps = b.epsilon
        let zp = b.z
        for r in 0..<rows {
            for j in 0..<L {
                let sd = s[r * L + j]
                var dmu: Float = 0
                var dlv: Float = 0
                for k in 0..<K {
                    let row = r * K + k
                    let i = row * L + j
                    let g = dz[i] + beta * b.sampleWeight[row] * zp[i]
                    dmu += g
                    dlv += g * eps[i]
                }
                dpost[r * 2 * L + j] = dmu
                dpost[r * 2 * L + L + j] = 0.5 * (dlv * sd - beta)
            }
        }
    }
}

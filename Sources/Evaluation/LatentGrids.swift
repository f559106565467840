import NumericCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The latent points `zoo sample` decodes and `zoo embed` writes, as plain
/// arrays of rows of `latentDim` values (row-major).
public enum LatentGrids {
    /// One row per latent dimension j and column k: z_j set to the k-th of
    /// `steps` values evenly spaced over [−3, 3] (the prior's ±3σ), every
    /// other dimension at `mu`. `latentDim · steps` rows, dimension-major.
    public static func traversal(around mu: [Float], steps: Int) -> [Float] {
        let L = mu.count
        var z = [Float](repeating: 0, count: L * steps * L)
        for j in 0..<L {
            for k in 0..<steps {
                let row = j * steps + k
                for d in 0..<L { z[row * L + d] = mu[d] }
                z[row * L + j] = -3 + 6 * Float(k) / Float(steps - 1)
            }
        }
        return z
    }

    /// The 2-d latent space as a `steps` × `steps` grid, row-major from the
    /// top left: tile (r, c) at z = (Φ⁻¹((c + ½)/steps), Φ⁻¹(1 − (r + ½)/steps)),
    /// equal-probability quantiles of the N(0, 1) prior (Kingma & Welling
    /// 2014, figure 4), so z₀ grows to the right and z₁ upwards.
    public static func manifold(steps: Int) -> [Float] {
        var z = [Float](repeating: 0, count: steps * steps * 2)
        for r in 0..<steps {
            for c in 0..<steps {
                z[(r * steps + c) * 2] = Float(normalQuantile((Double(c) + 0.5) / Double(steps)))
                z[(r * steps + c) * 2 + 1] = Float(normalQuantile(1 - (Double(r) + 0.5) / Double(steps)))
            }
        }
        return z
    }

    /// Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative
    /// error below 1.2e-9), refined by one Halley step on erfc.
    public static func normalQuantile(_ p: Double) -> Double {
        let a = [
            -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
            2.506628277459239e+00,
        ]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [
            -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
            2.938163982698783e+00,
        ]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x =
                (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5
            let r = q * q
            x =
                (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x =
                -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }

    /// `steps` points a + t (b − a) for t from 0 to 1 inclusive.
    public static func interpolation(from a: [Float], to b: [Float], steps: Int) -> [Float] {
        let L = a.count
        var z = [Float](repeating: 0, count: steps * L)
        for k in 0..<steps {
            let t = Float(k) / Float(steps - 1)
            for d in 0..<L { z[k * L + d] = a[d] + t * (b[d] - a[d]) }
        }
        return z
    }

    /// `samples` draws z = μ + ε·exp(½ log σ²) from one posterior row
    /// [μ | log σ²] (2·latentDim values), with ε from `stream`: draw s is
    /// `result[s·L ..< (s+1)·L]`. `scratch` holds at least samples·L + 1 floats.
    public static func posteriorSamples(
        _ posterior: UnsafePointer<Float>, latentDim L: Int, samples: Int, stream: inout RandomStream,
        scratch: inout [Float]
    ) -> [Float] {
        stream.fillNormal(&scratch, count: samples * L)
        var out = [Float](repeating: 0, count: samples * L)
        for s in 0..<samples {
            for j in 0..<L { out[s * L + j] = posterior[j] + scratch[s * L + j] * expf(0.5 * posterior[L + j]) }
        }
        return out
    }
}

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

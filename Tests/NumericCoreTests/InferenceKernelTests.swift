import Foundation
import Testing

@testable import NumericCore

/// The kernels behind importance sampling, against double-precision references.
@Suite struct InferenceKernelTests {
    /// A deterministic pseudo-random float in [lo, hi).
    struct Draws {
        var stream = RandomStream(seed: 42, stream: 9)
        mutating func next(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * stream.nextFloat() }
    }

    @Test(arguments: [784, 37, 16, 1, 4000])
    func bernoulliLogLikelihoodMatchesDoubleSum(cols: Int) {
        var d = Draws()
        let rows = 7
        var logits = (0..<(rows * cols)).map { _ in d.next(-12, 12) }
        // Saturated logits where log(sigmoid) would underflow.
        logits[0] = 95
        logits[min(1, logits.count - 1)] = -95
        let bias = (0..<cols).map { _ in d.next(-3, 3) }
        let x = (0..<cols).map { _ in d.next(0, 1) }
        var out = [Double](repeating: 0, count: rows)
        Kernels.bernoulliLogLikelihood(logits: logits, bias: bias, target: x, rows: rows, cols: cols, into: &out)
        for r in 0..<rows {
            var ref = 0.0
            var magnitude = 0.0
            for c in 0..<cols {
                let l = Double(logits[r * cols + c] + bias[c])
                let term = Double(x[c]) * l - (max(l, 0) + log1p(exp(-abs(l))))
                ref += term
                magnitude += abs(term)
            }
            // Stated bound: ~1e-7 of Σ|term| (float sums), plus the per-factor roundings.
            #expect(abs(out[r] - ref) <= 2e-7 * magnitude + 1e-7 * Double(cols), "row \(r): \(out[r]) vs \(ref)")
        }
    }

    @Test(arguments: [784, 21])
    func gaussianLogLikelihoodMatchesDoubleSum(cols: Int) {
        var d = Draws()
        let rows = 5
        let logits = (0..<(rows * cols)).map { _ in d.next(-9, 9) }
        let bias = (0..<cols).map { _ in d.next(-1, 1) }
        let x = (0..<cols).map { _ in d.next(0, 1) }
        let sigma: Float = 0.1
        var out = [Double](repeating: 0, count: rows)
        Kernels.gaussianLogLikelihood(
            logits: logits, bias: bias, target: x, inverseVariance: 1 / (sigma * sigma),
            rows: rows, cols: cols, into: &out)
        for r in 0..<rows {
            var ref = 0.0
            for c in 0..<cols {
                let m = 1 / (1 + exp(-Double(logits[r * cols + c] + bias[c])))
                ref -= (Double(x[c]) - m) * (Double(x[c]) - m) / (2 * Double(sigma * sigma))
            }
            #expect(abs(out[r] - ref) <= 1e-5 * max(1, abs(ref)), "row \(r): \(out[r]) vs \(ref)")
        }
    }

    @Test func reparameterizeGivesZAndTheLogDensityRatio() {
        var d = Draws()
        let rows = 9
        let L = 5
        let eps = (0..<(rows * L)).map { _ in d.next(-3, 3) }
        let mu = (0..<L).map { _ in d.next(-2, 2) }
        let sigma = (0..<L).map { _ in d.next(0.05, 2) }
        var z = [Float](repeating: 0, count: rows * L)
        var ratio = [Double](repeating: 0, count: rows)
        Kernels.reparameterize(epsilon: eps, mu: mu, sigma: sigma, rows: rows, latent: L, z: &z, logRatio: &ratio)
        for r in 0..<rows {
            var logPrior = 0.0
            var logPosterior = 0.0
            for j in 0..<L {
                let zj = Double(mu[j]) + Double(sigma[j]) * Double(eps[r * L + j])
                #expect(abs(Double(z[r * L + j]) - zj) <= 1e-6 * max(1, abs(zj)))
                logPrior += -0.5 * zj * zj - 0.5 * log(2 * Double.pi)
                let u = (zj - Double(mu[j])) / Double(sigma[j])
                logPosterior += -0.5 * u * u - log(Double(sigma[j])) - 0.5 * log(2 * Double.pi)
            }
            let sumLogSigma = sigma.reduce(0.0) { $0 + log(Double($1)) }
            // logRatio = log p(z) − log q(z|x) − Σ log σ.
            #expect(abs(ratio[r] - (logPrior - logPosterior - sumLogSigma)) <= 1e-4, "row \(r)")
        }
    }

    @Test func fastNormalsMatchBoxMullerInDoubleForTheSameBits() {
        let pairs = 10_003
        var stream = RandomStream(seed: 3, stream: 4)
        var bits = [UInt64](repeating: 0, count: pairs)
        var out = [Float](repeating: 0, count: 2 * pairs)
        stream.fillNormalFast(&out, pairs: pairs, bits: &bits)
        var worst = 0.0
        for i in 0..<pairs {
            let w = bits[i]
            let u1 = (Double(UInt32(truncatingIfNeeded: w >> 33)) + 0.5) * 0x1p-31
            let t = Double(UInt32(truncatingIfNeeded: w >> 8) & 0xFF_FFFF) * 0x1p-24
            let r = (-2 * log(u1)).squareRoot()
            worst = max(worst, abs(Double(out[2 * i]) - r * cos(2 * .pi * t)), abs(Double(out[2 * i + 1]) - r * sin(2 * .pi * t)))
        }
        #expect(worst < 2e-6, "largest deviation from double Box–Muller: \(worst)")
    }

    @Test func fastNormalsHaveStandardNormalMoments() {
        let pairs = 500_000
        var stream = RandomStream(seed: 5, stream: 6)
        var bits = [UInt64](repeating: 0, count: pairs)
        var out = [Float](repeating: 0, count: 2 * pairs)
        stream.fillNormalFast(&out, pairs: pairs, bits: &bits)
        let n = Double(out.count)
        var m1 = 0.0
        var m2 = 0.0
        var m3 = 0.0
        var m4 = 0.0
        var beyond2 = 0
        for v in out {
            let x = Double(v)
            m1 += x
            m2 += x * x
            m3 += x * x * x
            m4 += x * x * x * x
            if abs(x) > 2 { beyond2 += 1 }
        }
        // Standard errors at n = 10^6: mean 0.001, variance 0.0014, skew 0.0024, kurtosis 0.0049.
        #expect(abs(m1 / n) < 0.005)
        #expect(abs(m2 / n - 1) < 0.007)
        #expect(abs(m3 / n) < 0.012)
        #expect(abs(m4 / n - 3) < 0.03)
        // P(|z| > 2) = 0.0455 (s.e. 0.0002).
        #expect(abs(Double(beyond2) / n - 0.0455) < 0.001)
        // Cosine and sine halves are uncorrelated.
        var cross = 0.0
        for i in 0..<pairs { cross += Double(out[2 * i]) * Double(out[2 * i + 1]) }
        #expect(abs(cross / Double(pairs)) < 0.007)
    }
}

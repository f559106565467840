import Foundation
import NumericCore
import Testing

@testable import NeuralNet

/// `VAE.logLikelihood`, the decoder density used for importance sampling,
/// against a direct evaluation of the density in double precision.
@Suite struct LogLikelihoodTests {
    func model(_ likelihood: ModelConfig.Likelihood, sigma: Float = 0.1) throws -> VAE {
        let config = ModelConfig(inputDim: 784, hidden: [50], latentDim: 3, likelihood: likelihood, sigma: sigma)
        let m = try VAE(config: config, maxRows: 6)
        var r = RandomStream(seed: 2, purpose: .initialization)
        m.initialize(using: &r)
        var z = RandomStream(seed: 2, purpose: .sampling)
        z.fillNormal(m.z.pointer, count: 6 * 3)
        return m
    }

    func image() -> [Float] {
        var r = RandomStream(seed: 8, stream: 1)
        return (0..<784).map { _ in r.nextFloat() }
    }

    /// Decoder logits including the bias, through the ordinary decode path.
    func logits(_ m: VAE, rows: Int) -> [Double] {
        m.decode(rows: rows)
        return (0..<(rows * 784)).map { Double(m.logits.pointer[$0]) }
    }

    @Test(arguments: [Float(0.1), 0.5, 1])
    func gaussianDecoderIsTheNormalDensityWithItsConstants(sigma: Float) throws {
        let m = try model(.gaussian, sigma: sigma)
        let x = image()
        let l = logits(m, rows: 6)
        var out = [Double](repeating: 0, count: 6)
        m.logLikelihood(of: x, rows: 6, into: &out)
        let s = Double(sigma)
        for r in 0..<6 {
            var ref = 0.0
            for c in 0..<784 {
                let mean = 1 / (1 + exp(-l[r * 784 + c]))
                let u = (Double(x[c]) - mean) / s
                ref += -0.5 * u * u - log(s) - 0.5 * log(2 * Double.pi)  // log N(x; mean, σ²)
            }
            #expect(abs(out[r] - ref) < 1e-4 * max(1, abs(ref)), "σ=\(sigma) row \(r): \(out[r]) vs \(ref)")
        }
    }

    @Test func bernoulliDecoderIsTheBernoulliLogProbability() throws {
        let m = try model(.bernoulli)
        // Binary and continuous targets.
        for x in [image().map { $0 < 0.5 ? Float(0) : 1 }, image()] {
            let l = logits(m, rows: 6)
            var out = [Double](repeating: 0, count: 6)
            m.logLikelihood(of: x, rows: 6, into: &out)
            for r in 0..<6 {
                var ref = 0.0
                for c in 0..<784 {
                    let p = 1 / (1 + exp(-l[r * 784 + c]))
                    ref += Double(x[c]) * log(p) + (1 - Double(x[c])) * log(1 - p)
                }
                #expect(abs(out[r] - ref) < 2e-5 * max(1, abs(ref)), "row \(r): \(out[r]) vs \(ref)")
            }
        }
    }

    /// The linear Gaussian is the normal density written out, mean = logits + bias, any sign.
    @Test(arguments: [Float(0.3), 2])
    func linearGaussianIsTheNormalDensity(sigma: Float) {
        let l: [Float] = [-3, 0.5, 12, -0.25]
        let b: [Float] = [0.5, -1, 0, 2]
        let x: [Float] = [-2.75, 1, 11, 0]
        var out = [0.0]
        LinearGaussianLikelihood(sigma: sigma).logLikelihood(logits: l, bias: b, target: x, rows: 1, cols: 4, into: &out)
        let s = Double(sigma)
        let ref = (0..<4).reduce(0.0) { acc, j in
            let d = Double(x[j]) - Double(l[j] + b[j])
            return acc - d * d / (2 * s * s) - log(s) - 0.5 * log(2 * Double.pi)
        }
        #expect(abs(out[0] - ref) < 1e-9 * max(1, abs(ref)), "\(out[0]) vs \(ref)")
        var mean = [Float](repeating: 0, count: 4)
        LinearGaussianLikelihood(sigma: sigma).mean(logits: l, into: &mean, count: 4)
        #expect(mean == l)
    }

    /// The continuous Bernoulli is a density on [0, 1]: ∫ p(x|l) dx = 1 by
    /// Simpson's rule (2000 intervals, error < 1e-9 for these l), near
    /// λ = ½ (l → 0, where the closed form is 0/0 and the series take over)
    /// and far from it; its mean is ∫ x p(x|l) dx.
    @Test(arguments: [-12.0, -3, -0.01, -2.1e-3, -1.9e-3, -1e-6, 0, 1e-9, 5e-4, 0.7, 8])
    func continuousBernoulliIsNormalizedAndItsMeanIsRight(l: Double) {
        let n = 2000
        var integral = 0.0
        var first = 0.0
        for i in 0...n {
            let x = Double(i) / Double(n)
            let w: Double = i == 0 || i == n ? 1 : (i % 2 == 1 ? 4 : 2)
            let p = exp(ContinuousBernoulliLikelihood.logDensity(l, x))
            integral += w * p
            first += w * x * p
        }
        integral /= 3 * Double(n)
        first /= 3 * Double(n)
        #expect(abs(integral - 1) < 1e-9, "∫p = \(integral) at l = \(l)")
        #expect(
            abs(first - ContinuousBernoulliLikelihood.mean(l)) < 1e-9,
            "mean \(ContinuousBernoulliLikelihood.mean(l)) vs \(first) at l = \(l)")
    }

    /// The series and the closed forms agree where they meet, and the
    /// derivative of log C matches its finite difference.
    @Test func continuousBernoulliSeriesMeetTheClosedForms() {
        for l in [1.99e-3, 2.01e-3, -2.01e-3] {
            let closed = log(l / tanh(l / 2))
            #expect(abs(ContinuousBernoulliLikelihood.logNormalizer(l) - closed) < 1e-12)
            let h = 1e-5
            let fd = (log((l + h) / tanh((l + h) / 2)) - log((l - h) / tanh((l - h) / 2))) / (2 * h)
            #expect(abs(ContinuousBernoulliLikelihood.logNormalizerDerivative(l) - fd) < 1e-8)
        }
        #expect(ContinuousBernoulliLikelihood.logNormalizer(0) == log(2) && ContinuousBernoulliLikelihood.mean(0) == 0.5)
        // λ = sigmoid(l) = 0.9: C = 2 artanh(1 − 2λ) / (1 − 2λ), the paper's closed form.
        let l = log(9.0)
        #expect(abs(ContinuousBernoulliLikelihood.logNormalizer(l) - log(2 * atanh(-0.8) / -0.8)) < 1e-12)
    }

    /// The training loss path (forward with ε) and this path agree on −log p(x|z).
    @Test(arguments: [ModelConfig.Likelihood.bernoulli, .gaussian, .gaussianLinear, .continuousBernoulli])
    func agreesWithTheTrainingReconstructionTerm(likelihood: ModelConfig.Likelihood) throws {
        let m = try model(likelihood)
        let x = image()
        for r in 0..<6 { for c in 0..<784 { m.input.pointer[r * 784 + c] = x[c] } }
        var eps = RandomStream(seed: 4, stream: 4)
        eps.fillNormal(m.epsilon.pointer, count: 6 * 3)
        m.forward(rows: 6)
        let reconstruction = (0..<6).map { m.reconstruction[$0] }
        var out = [Double](repeating: 0, count: 6)
        m.logLikelihood(of: x, rows: 6, into: &out)  // from the z forward() just drew
        // Both sum 784 terms in float (in different orders): agree to ~1e-7 relative of the sum.
        for r in 0..<6 {
            #expect(
                abs(out[r] + reconstruction[r]) < 1e-6 * max(1, abs(reconstruction[r]) + 1100),
                "row \(r): \(out[r]) vs −\(reconstruction[r])")
        }
    }
}

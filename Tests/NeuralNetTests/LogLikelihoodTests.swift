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

    /// The training loss path (forward with ε) and this path agree on −log p(x|z).
    @Test(arguments: [ModelConfig.Likelihood.bernoulli, .gaussian, .gaussianLinear])
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

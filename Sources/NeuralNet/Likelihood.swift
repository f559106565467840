import NumericCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The decoder's likelihood p(x | z) given its logits: what training, the
/// ELBO, the importance sampler and the sample grids all use. A new
/// likelihood is one new conforming type plus its kernels.
public protocol DecoderLikelihood: Sendable {
    /// −log p(x|z) per row that does not depend on the logits (nats), for rows of `cols` values.
    func constant(cols: Int) -> Double

    /// −log p(x|z) without the constant for `rows` rows of `cols` values
    /// into `rowLoss`, and dL/dlogits into `grad` when given.
    func negativeLogLikelihoodKernel(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>?,
        rows: Int, cols: Int, rowLoss: UnsafeMutablePointer<Double>)

    /// log p(x | z_r) of one image `x` for each of `rows` rows of logits
    /// without the output bias (the kernel adds `bias`), constants included.
    func logLikelihood(
        logits: UnsafePointer<Float>, bias: UnsafePointer<Float>, target x: UnsafePointer<Float>,
        rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>)

    /// The mean of p(x | z) (what a sample grid shows), element-wise from the logits.
    func mean(logits: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int)
}

extension DecoderLikelihood {
    /// −log p(x|z) per row, constants included, into `rowLoss` (and
    /// dL/dlogits into `grad`); returns the sum over the rows.
    public func negativeLogLikelihood(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>?,
        rows: Int, cols: Int, rowLoss: UnsafeMutablePointer<Double>
    ) -> Double {
        negativeLogLikelihoodKernel(logits: logits, targets: targets, grad: grad, rows: rows, cols: cols, rowLoss: rowLoss)
        let c = constant(cols: cols)
        var total = 0.0
        for r in 0..<rows {
            rowLoss[r] += c
            total += rowLoss[r]
        }
        return total
    }

    public func mean(logits: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        Kernels.sigmoid(logits, into: out, count: count)
    }
}

/// Bernoulli with means sigmoid(logits): binary cross-entropy from logits, in its stable form.
public struct BernoulliLikelihood: DecoderLikelihood {
    public init() {}

    public func constant(cols: Int) -> Double { 0 }

    public func negativeLogLikelihoodKernel(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>?,
        rows: Int, cols: Int, rowLoss: UnsafeMutablePointer<Double>
    ) {
        Kernels.bceWithLogits(logits: logits, targets: targets, grad: grad, rows: rows, cols: cols, rowLoss: rowLoss)
    }

    public func logLikelihood(
        logits: UnsafePointer<Float>, bias: UnsafePointer<Float>, target x: UnsafePointer<Float>,
        rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>
    ) {
        Kernels.bernoulliLogLikelihood(logits: logits, bias: bias, target: x, rows: rows, cols: cols, into: out)
    }
}

/// Normal with mean sigmoid(logits) and fixed standard deviation σ: squared
/// error / (2σ²) plus D·(log σ + ½ log 2π), so the loss is a density in nats.
public struct GaussianLikelihood: DecoderLikelihood {
    public let sigma: Float
    public init(sigma: Float) { self.sigma = sigma }

    public func constant(cols: Int) -> Double { Self.constant(sigma: sigma, cols: cols) }

    /// D·(log σ + ½ log 2π): the normal density's constant over `cols` values.
    static func constant(sigma: Float, cols: Int) -> Double { Double(cols) * (log(Double(sigma)) + 0.5 * log(2 * Double.pi)) }

    public func negativeLogLikelihoodKernel(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>?,
        rows: Int, cols: Int, rowLoss: UnsafeMutablePointer<Double>
    ) {
        Kernels.gaussianSigmoid(
            logits: logits, targets: targets, inverseVariance: 1 / (sigma * sigma),
            grad: grad, rows: rows, cols: cols, rowLoss: rowLoss)
    }

    public func logLikelihood(
        logits: UnsafePointer<Float>, bias: UnsafePointer<Float>, target x: UnsafePointer<Float>,
        rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>
    ) {
        Kernels.gaussianLogLikelihood(
            logits: logits, bias: bias, target: x, inverseVariance: 1 / (sigma * sigma),
            rows: rows, cols: cols, into: out)
        let c = constant(cols: cols)
        for r in 0..<rows { out[r] -= c }
    }
}

/// Normal with mean equal to the logits (the decoder's linear output, no
/// sigmoid) and fixed standard deviation σ, for data that is not confined to
/// [0, 1] (standardized features): (x − μ)² / (2σ²) plus D·(log σ + ½ log 2π)
/// per row, a density in nats. Sums in double precision.
public struct LinearGaussianLikelihood: DecoderLikelihood {
    public let sigma: Float
    public init(sigma: Float) { self.sigma = sigma }

    public func constant(cols: Int) -> Double { GaussianLikelihood.constant(sigma: sigma, cols: cols) }

    public func negativeLogLikelihoodKernel(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>?,
        rows: Int, cols: Int, rowLoss: UnsafeMutablePointer<Double>
    ) {
        let inverseVariance = 1 / (sigma * sigma)
        for r in 0..<rows {
            let l = logits + r * cols
            let x = targets + r * cols
            var sum = 0.0
            if let grad {
                let g = grad + r * cols
                for j in 0..<cols {
                    let d = l[j] - x[j]
                    g[j] = d * inverseVariance
                    sum += Double(d * d)
                }
            } else {
                for j in 0..<cols {
                    let d = l[j] - x[j]
                    sum += Double(d * d)
                }
            }
            rowLoss[r] = 0.5 * Double(inverseVariance) * sum
        }
    }

    public func logLikelihood(
        logits: UnsafePointer<Float>, bias: UnsafePointer<Float>, target x: UnsafePointer<Float>,
        rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>
    ) {
        let half = 0.5 / (Double(sigma) * Double(sigma))
        let c = constant(cols: cols)
        for r in 0..<rows {
            let l = logits + r * cols
            var sum = 0.0
            for j in 0..<cols {
                let d = Double(l[j] + bias[j] - x[j])
                sum += d * d
            }
            out[r] = -half * sum - c
        }
    }

    public func mean(logits: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        out.update(from: logits, count: count)
    }
}

/// The continuous Bernoulli (Loaiza-Ganem & Cunningham, NeurIPS 2019): the
/// Bernoulli density λˣ(1 − λ)¹⁻ˣ made a proper density on [0, 1] by its
/// normalizing constant C(λ) = 2 artanh(1 − 2λ) / (1 − 2λ), λ = sigmoid(l).
/// In the logit l this is C = l / tanh(l/2), so
/// −log p(x|l) = BCE(l, x) − log C(l), with
/// d/dl = sigmoid(l) − x − (1/l − 1/sinh l). Both are 0/0 at l = 0 (λ = ½),
/// where their Taylor series take over (|l| < 2·10⁻³: truncation error below
/// 10⁻¹⁵). The mean is sigmoid(l)/tanh(l/2) − 1/l (½ at l = 0). Computed in
/// double precision per element.
public struct ContinuousBernoulliLikelihood: DecoderLikelihood {
    public init() {}

    /// Below this |l| the series replace the closed forms.
    static let seriesBound = 2e-3

    /// log C(l) = log(l / tanh(l/2)).
    public static func logNormalizer(_ l: Double) -> Double {
        let x = l / 2
        if abs(l) < seriesBound {
            let x2 = x * x
            return log(2) + x2 * (1.0 / 3 + x2 * (-7.0 / 90 + x2 * 62.0 / 2835))
        }
        return log(l / tanh(x))
    }

    /// d/dl log C(l) = 1/l − 1/sinh(l).
    public static func logNormalizerDerivative(_ l: Double) -> Double {
        if abs(l) < seriesBound {
            let l2 = l * l
            return l * (1.0 / 6 + l2 * (-7.0 / 360 + l2 * 31.0 / 15120))
        }
        return 1 / l - 1 / sinh(l)
    }

    /// E[x] = sigmoid(l)/tanh(l/2) − 1/l.
    public static func mean(_ l: Double) -> Double {
        if abs(l) < seriesBound { return 0.5 + l / 12 - l * l * l / 720 }
        return 1 / (1 + exp(-l)) / tanh(l / 2) - 1 / l
    }

    /// log p(x|l) of one value, constants included.
    @inline(__always)
    static func logDensity(_ l: Double, _ x: Double) -> Double {
        // Bernoulli part x·l − softplus(l), in its stable form.
        let softplus = max(l, 0) + log1p(exp(-abs(l)))
        return x * l - softplus + logNormalizer(l)
    }

    public func constant(cols: Int) -> Double { 0 }

    public func negativeLogLikelihoodKernel(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, grad: UnsafeMutablePointer<Float>?,
        rows: Int, cols: Int, rowLoss: UnsafeMutablePointer<Double>
    ) {
        for r in 0..<rows {
            var sum = 0.0
            for j in 0..<cols {
                let i = r * cols + j
                let l = Double(logits[i])
                let x = Double(targets[i])
                sum -= Self.logDensity(l, x)
                if let grad { grad[i] = Float(1 / (1 + exp(-l)) - x - Self.logNormalizerDerivative(l)) }
            }
            rowLoss[r] = sum
        }
    }

    public func logLikelihood(
        logits: UnsafePointer<Float>, bias: UnsafePointer<Float>, target x: UnsafePointer<Float>,
        rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>
    ) {
        for r in 0..<rows {
            var sum = 0.0
            for j in 0..<cols { sum += Self.logDensity(Double(logits[r * cols + j] + bias[j]), Double(x[j])) }
            out[r] = sum
        }
    }

    public func mean(logits: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = Float(Self.mean(Double(logits[i]))) }
    }
}

extension ModelConfig {
    /// The likelihood this configuration names.
    public var decoderLikelihood: any DecoderLikelihood {
        switch likelihood {
        case .bernoulli: return BernoulliLikelihood()
        case .gaussian: return GaussianLikelihood(sigma: sigma)
        case .gaussianLinear: return LinearGaussianLikelihood(sigma: sigma)
        case .continuousBernoulli: return ContinuousBernoulliLikelihood()
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Mean and standard error of a stream of values (Welford's update, in double).
public struct RunningMean: Sendable, Equatable {
    public private(set) var count = 0
    public private(set) var mean = 0.0
    private var m2 = 0.0

    public init() {}

    public mutating func add(_ x: Double) {
        count += 1
        let d = x - mean
        mean += d / Double(count)
        m2 += d * (x - mean)
    }

    /// Sample standard deviation (n − 1 in the denominator); 0 for fewer than 2 values.
    public var standardDeviation: Double { count > 1 ? (m2 / Double(count - 1)).squareRoot() : 0 }
    /// Standard error of the mean, σ/√n.
    public var standardError: Double { count > 1 ? standardDeviation / Double(count).squareRoot() : 0 }
}

/// log Σ exp(wᵢ) of a stream of values, in double with a running maximum, so
/// that no term overflows or underflows whatever the scale of the wᵢ.
public struct LogSumExp: Sendable {
    public private(set) var count = 0
    private var maximum = -Double.infinity
    private var scaledSum = 0.0

    public init() {}

    @inline(__always)
    public mutating func add(_ w: Double) {
        count += 1
        if w > maximum {
            scaledSum = scaledSum * exp(maximum - w) + 1
            maximum = w
        } else {
            scaledSum += exp(w - maximum)
        }
    }

    /// log Σ exp(wᵢ); −∞ when empty.
    public var value: Double { count == 0 ? -.infinity : maximum + log(scaledSum) }
    /// log of the mean of exp(wᵢ): the importance-sampling estimate of log p(x).
    public var logMeanExp: Double { value - log(Double(count)) }
}

/// Nats per image to bits per dimension: nats / (D ln 2).
public func bitsPerDimension(nats: Double, dimension: Int) -> Double { nats / (Double(dimension) * M_LN2) }

/// The NLL estimates of several repeats of the importance sampler: for each
/// reported k, the dataset mean of −log p̂(x) averaged over the repeats, its
/// standard error over the images (first repeat), and the standard deviation
/// of the dataset mean over the repeats.
public struct RepeatedNLL: Sendable {
    public struct Estimate: Equatable, Sendable {
        public let k: Int
        public let nll: Double
        public let standardError: Double
        /// nil for a single repeat.
        public let repeatStd: Double?
    }

    public let ks: [Int]
    /// [repeat][k]: dataset means of −log p̂.
    private var perRepeat: [[Double]] = []
    /// [k]: over the images of the first repeat.
    private var firstRepeat: [RunningMean] = []

    public init(ks: [Int]) { self.ks = ks }

    public var repeats: Int { perRepeat.count }

    /// Adds one repeat: `logLikelihood[j][i]` is log p̂ of image i from the first ks[j] draws.
    public mutating func add(logLikelihood: [[Double]]) {
        var means: [Double] = []
        for j in 0..<ks.count {
            var m = RunningMean()
            for v in logLikelihood[j] { m.add(-v) }
            means.append(m.mean)
            if perRepeat.isEmpty { firstRepeat.append(m) }
        }
        perRepeat.append(means)
    }

    public var estimates: [Estimate] {
        ks.indices.map { j in
            var across = RunningMean()
            for means in perRepeat { across.add(means[j]) }
            return Estimate(
                k: ks[j], nll: across.mean, standardError: firstRepeat[j].standardError,
                repeatStd: perRepeat.count > 1 ? across.standardDeviation : nil)
        }
    }
}

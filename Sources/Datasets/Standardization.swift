/// Per-feature standardization x′ = (x − mean) / std, fitted on a training
/// split (`--standardize`): the model trains and is evaluated on x′, and
/// samples and reconstructions are mapped back by x = x′ · std + mean. A
/// feature that is constant in the training split (std < 1e-12) keeps a
/// scale of 1, so it only moves to 0. Statistics are summed in double
/// precision; the population standard deviation (divisor n).
public struct Standardization: Equatable, Sendable {
    public let mean: [Float]
    public let std: [Float]

    /// - Precondition: equal, non-empty lengths, every std > 0 and finite (the checkpoint reader checks files).
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty)
        self.mean = mean
        self.std = std
    }

    /// The statistics of every example of `set` (as the model sees it: bytes scaled by 1/255).
    public static func fit(_ set: ImageSet) -> Standardization {
        let D = set.dimension
        var sum = [Double](repeating: 0, count: D)
        var squares = [Double](repeating: 0, count: D)
        let indices = (0..<set.count).map(Int64.init)
        var row = [Float](repeating: 0, count: D)
        for i in 0..<set.count {
            indices.withUnsafeBufferPointer { set.gather($0.baseAddress! + i, count: 1, into: &row) }
            for j in 0..<D {
                let v = Double(row[j])
                sum[j] += v
                squares[j] += v * v
            }
        }
        let n = Double(max(set.count, 1))
        var mean = [Float](repeating: 0, count: D)
        var std = [Float](repeating: 1, count: D)
        for j in 0..<D {
            let m = sum[j] / n
            let variance = max(0, squares[j] / n - m * m)
            mean[j] = Float(m)
            let s = variance.squareRoot()
            std[j] = s < 1e-12 || !s.isFinite ? 1 : Float(s)
        }
        return Standardization(mean: mean, std: std)
    }

    /// `set` with every value standardized (stored as floats).
    public func apply(to set: ImageSet) -> ImageSet {
        let D = set.dimension
        precondition(D == mean.count)
        var out = [Float](repeating: 0, count: set.count * D)
        let indices = (0..<set.count).map(Int64.init)
        out.withUnsafeMutableBufferPointer { o in
            indices.withUnsafeBufferPointer { set.gather($0.baseAddress!, count: set.count, into: o.baseAddress!) }
            for i in 0..<set.count {
                for j in 0..<D { o[i * D + j] = (o[i * D + j] - mean[j]) / std[j] }
            }
        }
        return ImageSet(
            split: set.split, shape: set.shape, values: .floats(out), labels: set.labels, hasLabels: set.hasLabels,
            imagesPath: set.imagesPath, labelsPath: set.labelsPath)
    }

    /// Maps standardized rows (of `mean.count` values each) back to the data's units, in place.
    public func undo(_ values: inout [Float]) {
        let D = mean.count
        for i in 0..<values.count { values[i] = values[i] * std[i % D] + mean[i % D] }
    }
}

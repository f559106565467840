import NumericCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Adam (Kingma & Ba 2015) exactly as `torch.optim.Adam` computes it without
/// weight decay or amsgrad: bias-corrected, ε added after the square root.
/// Defaults are PyTorch's: lr 1e-3, β = (0.9, 0.999), ε = 1e-8.
///
/// The moments live in flat buffers laid out like the `ParameterSet`, so the
/// first and second moment of parameter `name` are views at the same offsets.
public final class Adam {
    /// Kept in double precision, like PyTorch's Python floats; each scalar the
    /// update needs is computed in double and rounded to float once.
    public struct Hyperparameters: Codable, Equatable, Sendable {
        public var lr: Double = 1e-3
        public var beta1: Double = 0.9
        public var beta2: Double = 0.999
        public var eps: Double = 1e-8
        public init(lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
            self.lr = lr
            self.beta1 = beta1
            self.beta2 = beta2
            self.eps = eps
        }
    }

    public var hyperparameters: Hyperparameters
    /// Number of updates taken (PyTorch's `state['step']`).
    public var step: Int = 0
    public let firstMoment: Tensor
    public let secondMoment: Tensor

    public init(parameterCount: Int, _ hyperparameters: Hyperparameters = .init()) throws {
        self.hyperparameters = hyperparameters
        firstMoment = try Tensor(shape: [parameterCount])
        secondMoment = try Tensor(shape: [parameterCount])
    }

    /// One update of every parameter from its gradient.
    public func update(_ parameters: ParameterSet) {
        beginStep()
        update(parameters, range: 0..<parameters.count)
    }

    /// Starts an update step (advances the step count used for bias correction);
    /// follow with `update(_:range:)` over ranges that together cover every
    /// parameter once. Updating layer by layer while gradients are still in
    /// cache gives the same result as one `update(_:)`.
    public func beginStep() {
        step += 1
        let h = hyperparameters
        // Scalars in double precision, as PyTorch computes them in Python floats.
        let bc1 = 1 - pow(h.beta1, Double(step))
        let bc2 = 1 - pow(h.beta2, Double(step))
        stepSize = Float(h.lr / bc1)
        sqrtBiasCorrection2 = Float(bc2.squareRoot())
    }

    /// Updates the parameters at flat offsets `range` for the current step.
    public func update(_ parameters: ParameterSet, range: Range<Int>) {
        update(parameters, range: range, gradient: UnsafePointer(parameters.gradients.pointer))
    }

    /// Updates the parameters at flat offsets `range` with the gradient in
    /// `gradient` (laid out like `parameters.gradients`): one worker's, where
    /// it alone computed that part of the batch's gradient.
    public func update(_ parameters: ParameterSet, range: Range<Int>, gradient: UnsafePointer<Float>) {
        precondition(parameters.count == firstMoment.count && range.upperBound <= parameters.count && step > 0)
        let h = hyperparameters
        let o = range.lowerBound
        Kernels.adam(
            parameters: parameters.values.pointer + o, gradients: gradient + o,
            firstMoment: firstMoment.pointer + o, secondMoment: secondMoment.pointer + o,
            count: range.count, beta2: Float(h.beta2), oneMinusBeta1: Float(1 - h.beta1),
            oneMinusBeta2: Float(1 - h.beta2), stepSize: stepSize, sqrtBiasCorrection2: sqrtBiasCorrection2,
            eps: Float(h.eps))
    }

    /// Updates the parameters at flat offsets `range` with the gradient that
    /// is the sum of `parts` (each laid out like `parameters.gradients`, added
    /// in order): the gradients of workers that each differentiated part of
    /// a batch. Two parts are summed inside the update pass and the sum is not
    /// kept (`parameters.gradients` is left as it was); other counts are summed
    /// into `parameters.gradients` first.
    public func update(_ parameters: ParameterSet, range: Range<Int>, summing parts: [UnsafePointer<Float>]) {
        precondition(parameters.count == firstMoment.count && range.upperBound <= parameters.count && step > 0)
        let o = range.lowerBound
        let g = parameters.gradients.pointer
        guard parts.count == 2 else {
            Kernels.sum(parts, range: range, into: g)
            return update(parameters, range: range)
        }
        let h = hyperparameters
        Kernels.adam(
            parameters: parameters.values.pointer + o, summing: parts[0] + o, parts[1] + o,
            firstMoment: firstMoment.pointer + o, secondMoment: secondMoment.pointer + o,
            count: range.count, beta2: Float(h.beta2), oneMinusBeta1: Float(1 - h.beta1),
            oneMinusBeta2: Float(1 - h.beta2), stepSize: stepSize, sqrtBiasCorrection2: sqrtBiasCorrection2,
            eps: Float(h.eps))
    }

    private var stepSize: Float = 0
    private var sqrtBiasCorrection2: Float = 1
}

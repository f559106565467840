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
    public struct Hyperparameters: Codable, Equatable, Sendable {
        public var lr: Float = 1e-3
        public var beta1: Float = 0.9
        public var beta2: Float = 0.999
        public var eps: Float = 1e-8
        public init(lr: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8) {
            self.lr = lr; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        }
    }

    public var hyperparameters: Hyperparameters
    /// Number of updates taken (PyTorch's `state['step']`).
    public var step: Int = 0
    public let firstMoment: Tensor
    public let secondMoment: Tensor

    public init(parameterCount: Int, _ hyperparameters: Hyperparameters = .init()) {
        self.hyperparameters = hyperparameters
        firstMoment = Tensor(shape: [parameterCount])
        secondMoment = Tensor(shape: [parameterCount])
    }

    /// One update of every parameter from its gradient.
    public func update(_ parameters: ParameterSet) {
        precondition(parameters.count == firstMoment.count)
        step += 1
        let h = hyperparameters
        // Scalars in double precision, as PyTorch computes them in Python floats.
        let bc1 = 1 - pow(Double(h.beta1), Double(step))
        let bc2 = 1 - pow(Double(h.beta2), Double(step))
        Kernels.adam(
            parameters: parameters.values.pointer, gradients: parameters.gradients.pointer,
            firstMoment: firstMoment.pointer, secondMoment: secondMoment.pointer,
            count: parameters.count, beta1: h.beta1, beta2: h.beta2,
            stepSize: Float(Double(h.lr) / bc1), sqrtBiasCorrection2: Float(bc2.squareRoot()), eps: h.eps)
    }
}

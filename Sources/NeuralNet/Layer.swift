import Dispatch
import NumericCore

/// A layer of a network, working on caller-owned row-major buffers of
/// `rows` rows, so that nothing is allocated per batch (karpathy/llm.c's
/// style). A `Sequential` stack owns the buffers and runs the loops.
///
/// Element-wise layers (`inPlace`) overwrite their input with their output
/// and, in `backward`, their output gradient with their input gradient: the
/// stack gives them one buffer for both.
public protocol Layer {
    /// Values per row in and out.
    var inputSize: Int { get }
    var outputSize: Int { get }
    /// Whether `forward` is element-wise and writes over its input.
    var inPlace: Bool { get }
    /// The layer's parameters as a contiguous range of its `ParameterSet`'s
    /// flat storage (nil for a layer without parameters).
    var parameterRange: Range<Int>? { get }

    /// y[rows, outputSize] from x[rows, inputSize] (the same buffer when `inPlace`).
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>)

    /// Given x and y of the last forward and dL/dy: writes the parameter
    /// gradients (if any) into the `ParameterSet`'s gradients and, when
    /// `gradInput` is given, dL/dx into it (the same buffer as `gradOutput`
    /// when `inPlace`).
    func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?)
}

/// A layer with parameters, drawn at initialization as PyTorch's default for its module does.
public protocol InitializableLayer: Layer {
    func initialize(using random: inout RandomStream)
}

extension Dense: InitializableLayer {}
extension Conv2d: InitializableLayer {}
extension ConvTranspose2d: InitializableLayer {}

extension Dense: Layer {
    public var inputSize: Int { inFeatures }
    public var outputSize: Int { outFeatures }
    public var inPlace: Bool { false }
    public var parameterRange: Range<Int>? { flatRange }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        backward(input: x, gradOutput: UnsafePointer(dy), rows: rows, gradInput: dx)
    }
}

/// An element-wise nonlinearity, in place: ReLU max(0, x), or tanh
/// (relative error < 3e-7); the backward pass needs only the output.
public struct ActivationLayer: Layer {
    public let function: ModelConfig.Activation
    public let inputSize: Int
    public var outputSize: Int { inputSize }
    public var inPlace: Bool { true }
    public var parameterRange: Range<Int>? { nil }

    public init(_ function: ModelConfig.Activation, size: Int) {
        self.function = function
        inputSize = size
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if UnsafePointer(y) != x { y.update(from: x, count: rows * inputSize) }
        switch function {
        case .relu: Kernels.relu(y, count: rows * inputSize)
        case .tanh: Kernels.tanh(y, count: rows * inputSize)
        }
    }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        guard let dx else { return }
        if dx != dy { dx.update(from: dy, count: rows * inputSize) }
        switch function {
        case .relu: Kernels.reluBackward(dx, output: y, count: rows * inputSize)
        case .tanh: Kernels.tanhBackward(dx, output: y, count: rows * inputSize)
        }
    }
}

/// Layers run one after the other (mlx-swift's `Sequential`), with the
/// buffers they need for up to `maxRows` rows allocated once: one value
/// buffer per layer that is not in place (element-wise layers share their
/// input's) and a gradient buffer for each of those but the last (whose
/// gradient the caller supplies).
public final class Sequential {
    public let layers: [any Layer]
    public let maxRows: Int
    /// values[slot[i]]: the output of layer i.
    let values: [Tensor]
    let gradients: [Tensor?]
    let slot: [Int]
    /// When on, `forward` and `backward` add each layer's wall-clock time to
    /// `layerNanoseconds` (two clock reads per layer and call; off by default).
    public var timesLayers = false
    /// Nanoseconds spent in each layer's `forward` and `backward` while
    /// `timesLayers` was on, since the stack was made.
    public private(set) var layerNanoseconds: [LayerNanoseconds]

    /// - Parameter output: the buffer the last layer writes (allocated here when nil).
    /// - Throws: `ModelError` when consecutive layers' sizes do not match,
    ///   `TensorError` when a buffer cannot be allocated.
    public init(_ layers: [any Layer], maxRows: Int, output: Tensor? = nil) throws {
        guard let last = layers.last else { throw ModelError.invalid("a sequential stack needs at least one layer") }
        var slot: [Int] = []
        var sizes: [Int] = []
        for (i, layer) in layers.enumerated() {
            if i > 0, layers[i - 1].outputSize != layer.inputSize {
                throw ModelError.invalid(
                    "layer \(i) takes \(layer.inputSize) values per row, but layer \(i - 1) gives \(layers[i - 1].outputSize)")
            }
            if layer.inPlace, i > 0 {
                slot.append(slot[i - 1])
            } else {
                slot.append(sizes.count)
                sizes.append(layer.outputSize)
            }
        }
        if let output, output.count < maxRows * last.outputSize {
            throw ModelError.invalid("the output buffer holds \(output.count) values, not \(maxRows) rows of \(last.outputSize)")
        }
        let lastSlot = slot[layers.count - 1]
        values = try sizes.indices.map { s in
            if s == lastSlot, let output { return output }
            return try Tensor(shape: [maxRows, sizes[s]])
        }
        gradients = try sizes.indices.map { s in s == lastSlot ? nil : try Tensor(shape: [maxRows, sizes[s]]) }
        self.layers = layers
        self.maxRows = maxRows
        self.slot = slot
        layerNanoseconds = Array(repeating: LayerNanoseconds(), count: layers.count)
        Self.linkChannelsLastRows(layers)
    }

    /// Lets two convolutions with only element-wise layers between them pass
    /// their rows channels-last (see `ChannelsLastRows`), each taking the
    /// smaller of their chunks (along a chain of them, the smallest).
    private static func linkChannelsLastRows(_ layers: [any Layer]) {
        var links: [(any ChannelsLastRows, any ChannelsLastRows)] = []
        for (i, layer) in layers.enumerated() {
            guard let from = layer as? any ChannelsLastRows else { continue }
            var j = i + 1
            while j < layers.count, layers[j] is ActivationLayer || layers[j] is LeakyReLULayer { j += 1 }
            guard j < layers.count, let to = layers[j] as? any ChannelsLastRows else { continue }
            from.outputChannelsLast = true
            to.inputChannelsLast = true
            links.append((from, to))
        }
        var changed = true
        while changed {
            changed = false
            for (from, to) in links where from.chunk != to.chunk {
                let chunk = min(from.chunk, to.chunk)
                (from.chunk, to.chunk) = (chunk, chunk)
                changed = true
            }
        }
    }

    public var inputSize: Int { layers[0].inputSize }
    public var outputSize: Int { layers[layers.count - 1].outputSize }

    /// The output buffer of layer `i` (valid after `forward`).
    public func output(ofLayer i: Int) -> UnsafeMutablePointer<Float> { values[slot[i]].pointer }

    /// Runs every layer on the first `rows` rows of `x`; returns the last layer's output.
    @discardableResult
    public func forward(_ x: UnsafePointer<Float>, rows: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutablePointer(mutating: forward(x, rows: rows, layers: layers.count))
    }

    /// Runs the first `count` layers; returns the last of their outputs (`x` for none).
    public func forward(_ x: UnsafePointer<Float>, rows: Int, layers count: Int) -> UnsafePointer<Float> {
        run(0..<count, input: x, rows: rows)
    }

    /// Runs layers `first` ..< the last, on the output of layer `first − 1`
    /// already in its buffer (`output(ofLayer:)`; written there by the caller,
    /// as `BatchWorkers` does for a first layer the workers compute together);
    /// returns the last layer's output. A following `backward` reads that
    /// buffer as layer `first`'s input, exactly as after a whole `forward`.
    @discardableResult
    public func forward(fromLayer first: Int, rows: Int) -> UnsafeMutablePointer<Float> {
        precondition(first >= 1 && first < layers.count)
        return UnsafeMutablePointer(mutating: run(first..<layers.count, input: UnsafePointer(output(ofLayer: first - 1)), rows: rows))
    }

    /// Runs `body` as layer `i`'s forward (or `backward`) work: its wall-clock
    /// time goes into `layerNanoseconds` when `timesLayers` is on. The stack's
    /// own passes time each layer this way, and `BatchWorkers` the work it does
    /// for a layer outside them.
    @inline(__always)
    public func timing(layer i: Int, backward: Bool = false, _ body: () -> Void) {
        guard timesLayers else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let elapsed = DispatchTime.now().uptimeNanoseconds &- start
        if backward { layerNanoseconds[i].backward &+= elapsed } else { layerNanoseconds[i].forward &+= elapsed }
    }

    /// The buffer `backward` fills with dL/d(output of layer i), i below the
    /// last layer (nil for the last, whose gradient the caller supplies).
    public func gradient(ofLayerOutput i: Int) -> UnsafeMutablePointer<Float>? { gradients[slot[i]]?.pointer }

    private func run(_ range: Range<Int>, input x: UnsafePointer<Float>, rows: Int) -> UnsafePointer<Float> {
        var input = x
        for i in range {
            let out = output(ofLayer: i)
            timing(layer: i) { layers[i].forward(input, rows: rows, into: out) }
            input = UnsafePointer(out)
        }
        return input
    }

    /// Backpropagates dL/d(output) `gradOutput` through the layers of the
    /// last `forward` (from `x`), last layer first; writes dL/dx into
    /// `gradInput` when given. `layerDone` gets each layer's parameter range
    /// as soon as its gradient is final (an optimizer may update it then).
    /// With `top`, the layers above it are skipped: `gradOutput` is then
    /// dL/d(output of layer top); with `bottom`, the pass stops after layer
    /// `bottom`, leaving dL/d(output of layer bottom − 1) in
    /// `gradient(ofLayerOutput:)` (`BatchWorkers` computes a last or first
    /// layer's backward for all workers together).
    public func backward(
        input x: UnsafePointer<Float>, gradOutput: UnsafeMutablePointer<Float>, rows: Int,
        gradInput: UnsafeMutablePointer<Float>?, from top: Int? = nil, downTo bottom: Int = 0,
        layerDone: (Range<Int>) -> Void = { _ in }
    ) {
        var dy = gradOutput
        for i in stride(from: top ?? layers.count - 1, through: bottom, by: -1) {
            let layer = layers[i]
            let input = i == 0 ? x : UnsafePointer(output(ofLayer: i - 1))
            let dx: UnsafeMutablePointer<Float>?
            if i == 0 { dx = gradInput } else if layer.inPlace { dx = dy } else { dx = gradients[slot[i - 1]]?.pointer }
            timing(layer: i, backward: true) {
                layer.backward(input: input, output: output(ofLayer: i), gradOutput: dy, rows: rows, gradInput: dx)
            }
            if let range = layer.parameterRange { layerDone(range) }
            guard let dx else { continue }
            dy = dx
        }
    }
}

/// Wall-clock nanoseconds one layer spent in its forward and backward passes.
public struct LayerNanoseconds: Equatable, Sendable {
    public var forward: UInt64 = 0
    public var backward: UInt64 = 0
    public init(forward: UInt64 = 0, backward: UInt64 = 0) {
        self.forward = forward
        self.backward = backward
    }

    /// Both clocks added (or, for `-`, what they gained since `b`), wrapping.
    public static func + (a: Self, b: Self) -> Self { Self(forward: a.forward &+ b.forward, backward: a.backward &+ b.backward) }
    public static func - (a: Self, b: Self) -> Self { Self(forward: a.forward &- b.forward, backward: a.backward &- b.backward) }
}

/// One layer of an encoder or decoder as a configuration declares it, in
/// JSON, with PyTorch's names for the layer and its arguments:
///
///     {"type": "linear", "out_features": 400}
///     {"type": "relu"}   {"type": "tanh"}   {"type": "leaky_relu", "negative_slope": 0.2}
///     {"type": "conv2d", "out_channels": 32, "kernel_size": 4, "stride": 2, "padding": 1}
///     {"type": "conv_transpose2d", "out_channels": 1, "kernel_size": 4, "stride": 2, "padding": 1, "output_padding": 0}
///     {"type": "flatten"}   {"type": "unflatten", "shape": [64, 7, 7]}
///
/// Input sizes are never declared: each layer takes what the layer before it
/// gives (`ModelConfig.plan`). `stride` defaults to 1, `padding` and
/// `output_padding` to 0, `negative_slope` to 0.01 (PyTorch's defaults).
///
/// Adding a layer type: a case here (its JSON, its `outputShape`, its
/// parameter shapes), the `Layer` that runs it (`VAE.makeLayer`), and its
/// entry in config.schema.json's `$defs/layer`.
public enum LayerSpec: Equatable, Sendable {
    /// `nn.Linear(in, outFeatures)`: takes its input as one flat vector (the
    /// tutorial's `x.view(-1, 784)`), weight [out, in], bias [out].
    case linear(outFeatures: Int)
    /// An element-wise nonlinearity (`nn.ReLU`, `nn.Tanh`), no parameters.
    case activation(ModelConfig.Activation)
    /// `nn.LeakyReLU(slope)`: x for x > 0, slope·x otherwise (slope in [0, 1]).
    case leakyReLU(slope: Float)
    /// `nn.Conv2d(in, out, kernel, stride, padding)` on a [C, H, W] input:
    /// weight [out, in, k, k], bias [out].
    case conv2d(Convolution)
    /// `nn.ConvTranspose2d(in, out, kernel, stride, padding, output_padding)`
    /// on a [C, H, W] input: weight [in, out, k, k], bias [out].
    case convTranspose2d(Convolution)
    /// `nn.Flatten()`: [C, H, W] to [C·H·W]; moves no value.
    case flatten
    /// `nn.Unflatten(1, shape)`: a vector to `shape` ([C, H, W]); moves no value.
    case unflatten(shape: [Int])

    /// The arguments of a convolution or transposed convolution (square kernels, as PyTorch's `int` arguments).
    public struct Convolution: Equatable, Sendable {
        public var outChannels: Int
        public var kernel: Int
        public var stride: Int
        public var padding: Int
        /// Transposed convolutions only: extra rows and columns on one side of the output (< stride).
        public var outputPadding: Int
        public init(outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) {
            self.outChannels = outChannels
            self.kernel = kernel
            self.stride = stride
            self.padding = padding
            self.outputPadding = outputPadding
        }
    }

    public static let relu = LayerSpec.activation(.relu)
    public static let tanh = LayerSpec.activation(.tanh)

    public static func conv2d(_ out: Int, kernel: Int, stride: Int = 1, padding: Int = 0) -> LayerSpec {
        .conv2d(Convolution(outChannels: out, kernel: kernel, stride: stride, padding: padding))
    }

    public static func convTranspose2d(_ out: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) -> LayerSpec {
        .convTranspose2d(Convolution(outChannels: out, kernel: kernel, stride: stride, padding: padding, outputPadding: outputPadding))
    }

    /// The JSON `type` of each case.
    public static let typeNames = ["linear", "relu", "tanh", "leaky_relu", "conv2d", "conv_transpose2d", "flatten", "unflatten"]

    public var typeName: String {
        switch self {
        case .linear: return "linear"
        case .activation(let f): return f.rawValue
        case .leakyReLU: return "leaky_relu"
        case .conv2d: return "conv2d"
        case .convTranspose2d: return "conv_transpose2d"
        case .flatten: return "flatten"
        case .unflatten: return "unflatten"
        }
    }

    /// Whether the layer has parameters (and so a name in the state_dict).
    public var hasParameters: Bool {
        switch self {
        case .linear, .conv2d, .convTranspose2d: return true
        case .activation, .leakyReLU, .flatten, .unflatten: return false
        }
    }

    /// Whether the layer is element-wise (keeps its input's shape and moves no value between positions).
    public var isElementWise: Bool {
        switch self {
        case .activation, .leakyReLU: return true
        default: return false
        }
    }

    /// The shape this layer gives for an input of shape `input`, or why it cannot take it (with the fix).
    public func outputShape(for input: [Int]) -> Result<[Int], ShapeError> {
        let shown = "[\(input.map(String.init).joined(separator: ", "))]"
        switch self {
        case .linear(let out): return .success([out])
        case .activation, .leakyReLU: return .success(input)
        case .flatten: return .success([input.reduce(1, *)])
        case .unflatten(let shape):
            let (have, want) = (input.reduce(1, *), shape.reduce(1, *))
            guard have == want else {
                return .failure(
                    ShapeError(
                        "it reshapes \(have) values (input \(shown)) to \(shape) (\(want) values); "
                            + "make the layer before it give \(want) values or the shape's product \(have)"))
            }
            return .success(shape)
        case .conv2d(let c), .convTranspose2d(let c):
            let transposed = if case .convTranspose2d = self { true } else { false }
            guard input.count == 3 else {
                return .failure(
                    ShapeError(
                        "it takes an image [channels, height, width], but its input is \(shown); "
                            + (input.count == 1 ? "put an unflatten layer before it" : "check the layers before it")))
            }
            let (h, w) = (input[1], input[2])
            if transposed {
                let ho = (h - 1) * c.stride - 2 * c.padding + c.kernel + c.outputPadding
                let wo = (w - 1) * c.stride - 2 * c.padding + c.kernel + c.outputPadding
                guard ho >= 1, wo >= 1 else {
                    return .failure(
                        ShapeError(
                            "its input \(shown) gives an output of \(ho)×\(wo) ((size − 1)·stride − 2·padding + kernel + output_padding); "
                                + "use less padding"))
                }
                return .success([c.outChannels, ho, wo])
            }
            guard h + 2 * c.padding >= c.kernel, w + 2 * c.padding >= c.kernel else {
                return .failure(
                    ShapeError(
                        "its kernel \(c.kernel)×\(c.kernel) is larger than its input \(h)×\(w) padded by \(c.padding) (input \(shown)); "
                            + "use a kernel of at most \(min(h, w) + 2 * c.padding), more padding, or fewer strided layers before it"))
            }
            return .success([c.outChannels, (h + 2 * c.padding - c.kernel) / c.stride + 1, (w + 2 * c.padding - c.kernel) / c.stride + 1])
        }
    }

    /// (suffix, shape) of each parameter for an input of shape `input`.
    public func parameterShapes(for input: [Int]) -> [(String, [Int])] {
        switch self {
        case .linear(let out): return [("weight", [out, input.reduce(1, *)]), ("bias", [out])]
        case .conv2d(let c): return [("weight", [c.outChannels, input[0], c.kernel, c.kernel]), ("bias", [c.outChannels])]
        case .convTranspose2d(let c): return [("weight", [input[0], c.outChannels, c.kernel, c.kernel]), ("bias", [c.outChannels])]
        case .activation, .leakyReLU, .flatten, .unflatten: return []
        }
    }

    /// Multiply-adds of one forward pass over one example with input shape `input` (0 without parameters).
    public func multiplyAdds(for input: [Int], output: [Int]) -> Int {
        guard let weight = parameterShapes(for: input).first?.1 else { return 0 }
        let count = weight.reduce(1, *)
        switch self {
        case .conv2d: return count * output[1] * output[2]
        case .convTranspose2d: return count * input[1] * input[2]
        default: return count
        }
    }

    /// A short description ("linear 400", "relu", "conv2d 32 k4 s2 p1").
    public var summary: String {
        switch self {
        case .linear(let out): return "linear \(out)"
        case .activation(let f): return f.rawValue
        case .leakyReLU(let s): return "leaky_relu \(s)"
        case .conv2d(let c), .convTranspose2d(let c):
            return "\(typeName) \(c.outChannels) k\(c.kernel) s\(c.stride) p\(c.padding)"
                + (c.outputPadding > 0 ? " op\(c.outputPadding)" : "")
        case .flatten: return "flatten"
        case .unflatten(let s): return "unflatten \(s.map(String.init).joined(separator: "×"))"
        }
    }

    /// Limits on the declared values (`ModelConfig.issues` reports the first one broken).
    public static let maximumKernel = 64
    public static let maximumStride = 64
    public static let maximumPadding = 64

    /// What is wrong with the declared values themselves, whatever the input (nil if nothing).
    func valueProblem(maximumWidth: Int, maximumInput: Int) -> String? {
        func outside(_ name: String, _ v: Int, _ r: ClosedRange<Int>) -> String? {
            r.contains(v) ? nil : "\(name) must be between \(r.lowerBound) and \(r.upperBound), got \(v)"
        }
        switch self {
        case .linear(let n): return outside("out_features", n, 1...maximumWidth)
        case .activation, .flatten: return nil
        case .leakyReLU(let s): return s.isFinite && (0...1).contains(s) ? nil : "negative_slope must be between 0 and 1, got \(s)"
        case .conv2d(let c), .convTranspose2d(let c):
            if let p = outside("out_channels", c.outChannels, 1...maximumWidth) ?? outside("kernel_size", c.kernel, 1...Self.maximumKernel)
                ?? outside("stride", c.stride, 1...Self.maximumStride) ?? outside("padding", c.padding, 0...Self.maximumPadding)
            {
                return p
            }
            if case .conv2d = self, c.outputPadding != 0 { return "a conv2d layer has no output_padding" }
            return outside("output_padding", c.outputPadding, 0...(c.stride - 1)).map { $0 + " (it must be smaller than the stride)" }
        case .unflatten(let shape):
            guard shape.count == 3 else { return "shape must be [channels, height, width], got \(shape)" }
            return shape.lazy.compactMap { outside("each size of shape", $0, 1...maximumInput) }.first
        }
    }
}

/// Why a layer cannot take the shape it is given.
public struct ShapeError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

extension LayerSpec: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case type
        case outFeatures = "out_features"
        case outChannels = "out_channels"
        case kernelSize = "kernel_size"
        case stride, padding
        case outputPadding = "output_padding"
        case negativeSlope = "negative_slope"
        case shape
    }

    /// The keys each type takes besides `type`.
    static func keys(of type: String) -> Set<CodingKeys> {
        switch type {
        case "linear": return [.outFeatures]
        case "leaky_relu": return [.negativeSlope]
        case "conv2d": return [.outChannels, .kernelSize, .stride, .padding]
        case "conv_transpose2d": return [.outChannels, .kernelSize, .stride, .padding, .outputPadding]
        case "unflatten": return [.shape]
        default: return []
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        let allowed = Self.keys(of: type)
        if let stray = CodingKeys.allCases.first(where: { $0 != .type && !allowed.contains($0) && c.contains($0) }) {
            let takes = allowed.isEmpty ? "no other key" : allowed.map(\.rawValue).sorted().joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                forKey: stray, in: c, debugDescription: "a \(type) layer has no \(stray.rawValue) (it takes \(takes))")
        }
        func convolution() throws -> Convolution {
            Convolution(
                outChannels: try c.decode(Int.self, forKey: .outChannels), kernel: try c.decode(Int.self, forKey: .kernelSize),
                stride: try c.decodeIfPresent(Int.self, forKey: .stride) ?? 1,
                padding: try c.decodeIfPresent(Int.self, forKey: .padding) ?? 0,
                outputPadding: try c.decodeIfPresent(Int.self, forKey: .outputPadding) ?? 0)
        }
        switch type {
        case "linear": self = .linear(outFeatures: try c.decode(Int.self, forKey: .outFeatures))
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "leaky_relu": self = .leakyReLU(slope: try c.decodeIfPresent(Float.self, forKey: .negativeSlope) ?? 0.01)
        case "conv2d": self = .conv2d(try convolution())
        case "conv_transpose2d": self = .convTranspose2d(try convolution())
        case "flatten": self = .flatten
        case "unflatten": self = .unflatten(shape: try c.decode([Int].self, forKey: .shape))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c,
                debugDescription: "unknown layer type \"\(type)\"; the types are \(Self.typeNames.joined(separator: ", "))")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(typeName, forKey: .type)
        switch self {
        case .linear(let out): try c.encode(out, forKey: .outFeatures)
        case .leakyReLU(let s): try c.encode(s, forKey: .negativeSlope)
        case .conv2d(let v), .convTranspose2d(let v):
            try c.encode(v.outChannels, forKey: .outChannels)
            try c.encode(v.kernel, forKey: .kernelSize)
            try c.encode(v.stride, forKey: .stride)
            try c.encode(v.padding, forKey: .padding)
            if case .convTranspose2d = self { try c.encode(v.outputPadding, forKey: .outputPadding) }
        case .unflatten(let shape): try c.encode(shape, forKey: .shape)
        case .activation, .flatten: break
        }
    }
}

/// One layer of an encoder or decoder as a configuration declares it, in
/// JSON `{"type": "linear", "out_features": 400}`, `{"type": "relu"}`,
/// `{"type": "tanh"}`. Input sizes are never declared: each layer takes what
/// the layer before it gives (`ModelConfig.plan`).
///
/// Adding a layer type: a case here (its JSON, its `outputShape`, its
/// parameter shapes), the `Layer` that runs it (`ModelConfig.makeLayers`), and
/// its entry in config.schema.json's `$defs/layer`.
public enum LayerSpec: Equatable, Sendable {
    /// `nn.Linear(in, outFeatures)`: takes its input as one flat vector (the
    /// tutorial's `x.view(-1, 784)`), weight [out, in], bias [out].
    case linear(outFeatures: Int)
    /// An element-wise nonlinearity (`nn.ReLU`, `nn.Tanh`), no parameters.
    case activation(ModelConfig.Activation)

    public static let relu = LayerSpec.activation(.relu)
    public static let tanh = LayerSpec.activation(.tanh)

    /// The JSON `type` of each case.
    public static let typeNames = ["linear", "relu", "tanh"]

    public var typeName: String {
        switch self {
        case .linear: return "linear"
        case .activation(let f): return f.rawValue
        }
    }

    /// Whether the layer has parameters (and so a name in the state_dict).
    public var hasParameters: Bool {
        if case .linear = self { return true }
        return false
    }

    /// The shape this layer gives for an input of shape `input`, or why it cannot take it.
    public func outputShape(for input: [Int]) -> Result<[Int], ShapeError> {
        switch self {
        case .linear(let out): return .success([out])
        case .activation: return .success(input)
        }
    }

    /// (suffix, shape) of each parameter for an input of shape `input`: `weight` [out, in], `bias` [out].
    public func parameterShapes(for input: [Int]) -> [(String, [Int])] {
        switch self {
        case .linear(let out): return [("weight", [out, input.reduce(1, *)]), ("bias", [out])]
        case .activation: return []
        }
    }

    /// A short description ("linear 400", "relu").
    public var summary: String {
        switch self {
        case .linear(let out): return "linear \(out)"
        case .activation(let f): return f.rawValue
        }
    }
}

/// Why a layer cannot take the shape it is given.
public struct ShapeError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

extension LayerSpec: Codable {
    enum CodingKeys: String, CodingKey {
        case type
        case outFeatures = "out_features"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "linear": self = .linear(outFeatures: try c.decode(Int.self, forKey: .outFeatures))
        case "relu": self = .relu
        case "tanh": self = .tanh
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c,
                debugDescription: "unknown layer type \"\(type)\"; the types are \(Self.typeNames.joined(separator: ", "))")
        }
        if !hasParameters, c.contains(.outFeatures) {
            throw DecodingError.dataCorruptedError(
                forKey: .outFeatures, in: c, debugDescription: "a \(type) layer has no out_features (it keeps its input's shape)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(typeName, forKey: .type)
        if case .linear(let out) = self { try c.encode(out, forKey: .outFeatures) }
    }
}

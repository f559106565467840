/// The architecture of a VAE: an MLP encoder input → hidden… → (μ, log σ²),
/// and an MLP decoder latent → hidden (reversed) → input, with ReLU (or tanh)
/// between. A conditional VAE (`labelClasses` > 0) appends the one-hot label
/// to the encoder's input and to z. The defaults are the PyTorch tutorial's
/// model: 784-400-20-400-784, ReLU, Bernoulli, unconditional.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// The likelihood p(x|z) of the decoder.
    public enum Likelihood: String, Codable, CaseIterable, Sendable {
        /// Bernoulli with means sigmoid(logits): binary cross-entropy.
        case bernoulli
        /// Normal with mean sigmoid(logits) and fixed standard deviation `sigma`:
        /// squared error / (2σ²) plus D·(log σ + ½ log 2π), so the loss is in nats.
        case gaussian
    }

    /// The nonlinearity after every hidden layer.
    public enum Activation: String, Codable, CaseIterable, Sendable {
        case relu, tanh
    }

    public var inputDim: Int = 784
    public var hidden: [Int] = [400]
    public var latentDim: Int = 20
    public var likelihood: Likelihood = .bernoulli
    /// σ of the Gaussian decoder (ignored for Bernoulli).
    public var sigma: Float = 0.1
    public var activation: Activation = .relu
    /// Number of label classes the model is conditioned on (0: an ordinary VAE).
    /// A conditional model's first encoder layer takes inputDim + labelClasses
    /// inputs, its first decoder layer latentDim + labelClasses.
    public var labelClasses: Int = 0

    public var isConditional: Bool { labelClasses > 0 }

    public init(
        inputDim: Int = 784, hidden: [Int] = [400], latentDim: Int = 20,
        likelihood: Likelihood = .bernoulli, sigma: Float = 0.1,
        activation: Activation = .relu, labelClasses: Int = 0
    ) {
        self.inputDim = inputDim
        self.hidden = hidden
        self.latentDim = latentDim
        self.likelihood = likelihood
        self.sigma = sigma
        self.activation = activation
        self.labelClasses = labelClasses
    }

    enum CodingKeys: String, CodingKey {
        case inputDim = "input_dim"
        case hidden
        case latentDim = "latent_dim"
        case likelihood, sigma, activation
        case labelClasses = "label_classes"
    }

    /// Keys added after format version 1 (activation, label_classes) take their
    /// defaults when absent, so older checkpoints still read.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inputDim = try c.decode(Int.self, forKey: .inputDim)
        hidden = try c.decode([Int].self, forKey: .hidden)
        latentDim = try c.decode(Int.self, forKey: .latentDim)
        likelihood = try c.decode(Likelihood.self, forKey: .likelihood)
        sigma = try c.decode(Float.self, forKey: .sigma)
        activation = try c.decodeIfPresent(Activation.self, forKey: .activation) ?? .relu
        labelClasses = try c.decodeIfPresent(Int.self, forKey: .labelClasses) ?? 0
    }

    /// Layer names in PyTorch order: encoder hidden layers, the μ head, the
    /// log σ² head, decoder hidden layers, output. For the tutorial model:
    /// fc1 (784→400), fc2 (μ), fc3 (log σ²), fc4 (20→400), fc5 (400→784).
    public var layerNames: (encoder: [String], mu: String, logvar: String, decoder: [String], output: String) {
        let h = hidden.count
        let name = { (i: Int) in "fc\(i)" }
        return (
            (0..<h).map { name($0 + 1) }, name(h + 1), name(h + 2),
            (0..<h).map { name(h + 3 + $0) }, name(2 * h + 3)
        )
    }

    /// (name, [out, in]) of every layer in PyTorch order.
    public var layerShapes: [(String, [Int])] {
        let names = layerNames
        var shapes: [(String, [Int])] = []
        var width = inputDim + labelClasses
        for (name, h) in zip(names.encoder, hidden) {
            shapes.append((name, [h, width]))
            width = h
        }
        shapes.append((names.mu, [latentDim, width]))
        shapes.append((names.logvar, [latentDim, width]))
        width = latentDim + labelClasses
        for (name, h) in zip(names.decoder, hidden.reversed()) {
            shapes.append((name, [h, width]))
            width = h
        }
        shapes.append((names.output, [inputDim, width]))
        return shapes
    }

    /// (state_dict name, shape) of every parameter in PyTorch order:
    /// `fc1.weight` [out, in], `fc1.bias` [out], …
    public var parameterShapes: [(String, [Int])] {
        layerShapes.flatMap { [("\($0.0).weight", $0.1), ("\($0.0).bias", [$0.1[0]])] }
    }

    /// Limits that keep every size and product of sizes far from overflow
    /// and every allocation plausible (`RunConfig` bounds the total memory).
    public static let maximumInputDim = 1 << 24
    public static let maximumWidth = 1 << 16
    public static let maximumLatentDim = 1 << 14
    public static let maximumHiddenLayers = 16
    public static let maximumParameters = 1 << 28

    /// Number of parameters (weights and biases of every layer).
    public var parameterCount: Int { layerShapes.reduce(0) { $0 + $1.1[0] * ($1.1[1] + 1) } }

    /// Bytes training needs: parameters, gradients and Adam's two moments,
    /// plus the forward and backward buffers of `rows` images with `samples`
    /// latent draws each (an estimate within a small factor of the real use).
    public func trainingBytes(rows: Int, samples: Int) -> Int {
        let widths = hidden.reduce(0, +)
        let perDraw = 4 * inputDim + 4 * widths + 8 * latentDim + 2 * labelClasses
        let perImage = 2 * (inputDim + labelClasses) + 4 * widths + 8 * latentDim
        return 4 * (4 * parameterCount + rows * (samples * perDraw + perImage))
    }

    /// Problems with this configuration, in words a user can act on (empty if valid).
    public var problems: [String] { issues.map(\.message) }

    /// The same problems with the configuration key each concerns ("model.latent_dim").
    public var issues: [ConfigProblem] {
        var out: [ConfigProblem] = []
        func bound(_ key: String, _ name: String, _ value: Int, _ range: ClosedRange<Int>) {
            if !range.contains(value) {
                out.append(.init(key, "\(name) must be between \(range.lowerBound) and \(range.upperBound), got \(value)"))
            }
        }
        bound("model.input_dim", "input dimension", inputDim, 1...Self.maximumInputDim)
        bound("model.latent_dim", "latent dimension", latentDim, 1...Self.maximumLatentDim)
        if hidden.isEmpty { out.append(.init("model.hidden", "at least one hidden layer is needed")) }
        if hidden.count > Self.maximumHiddenLayers {
            out.append(.init("model.hidden", "at most \(Self.maximumHiddenLayers) hidden layers, got \(hidden.count)"))
        }
        for h in hidden { bound("model.hidden", "hidden layer sizes", h, 1...Self.maximumWidth) }
        if !(sigma > 0) || !sigma.isFinite { out.append(.init("model.sigma", "sigma must be a positive number, got \(sigma)")) }
        bound("model.label_classes", "label classes", labelClasses, 0...1000)
        if out.isEmpty, parameterCount > Self.maximumParameters {
            out.append(
                .init(
                    "model.hidden", "the model would have \(parameterCount) parameters, more than the \(Self.maximumParameters) zoo allows")
            )
        }
        return out
    }
}

/// One thing wrong with a configuration: the JSON key it concerns (as in
/// config.schema.json, "training.batch_size") and a sentence naming the value.
public struct ConfigProblem: Equatable, Sendable, CustomStringConvertible {
    public let key: String
    public let message: String
    public init(_ key: String, _ message: String) {
        self.key = key
        self.message = message
    }
    public var description: String { message }
}

extension ModelConfig {
    /// Matrix-product FLOPs of one training epoch over `images` images with
    /// one latent draw each: per image, forward 2·in·out per layer, backward
    /// 2·in·out for dW and for dX, except the first layer's dX (`zoo bench`
    /// divides it by the measured sgemm rate for the GEMM floor).
    public func epochFlops(images: Int) -> Double {
        let layers = layerShapes.map { Double($0.1[0] * $0.1[1]) }
        return Double(images) * 2 * (3 * layers.reduce(0, +) - layers[0])
    }
}

/// The architecture of a VAE, declared once: the input's shape, the encoder
/// as a list of layers, the latent size (the encoder's output feeds two
/// linear heads, μ and log σ², of `latentDim` outputs each), the decoder as
/// a list of layers whose last one gives the logits of p(x|z), one per
/// input value, and the likelihood. A conditional VAE (`labelClasses` > 0)
/// appends the one-hot label to the encoder's input and to z.
///
/// The defaults are the PyTorch tutorial's model: input 1×28×28, encoder
/// [linear 400, relu], latent 20, decoder [linear 400, relu, linear 784],
/// Bernoulli. `ModelConfig(inputDim:hidden:…)` and `useMLP` build the MLPs
/// that `--hidden` describes (decoder mirroring the encoder).
public struct ModelConfig: Equatable, Sendable {
    /// The likelihood p(x|z) of the decoder.
    public enum Likelihood: String, Codable, CaseIterable, Sendable {
        /// Bernoulli with means sigmoid(logits): binary cross-entropy.
        case bernoulli
        /// Normal with mean sigmoid(logits) and fixed standard deviation `sigma`:
        /// squared error / (2σ²) plus D·(log σ + ½ log 2π), so the loss is in nats.
        case gaussian
        /// Normal with mean the logits themselves (no sigmoid) and fixed σ:
        /// for data outside [0, 1], such as standardized features.
        case gaussianLinear = "gaussian-linear"
        /// The continuous Bernoulli (Loaiza-Ganem & Cunningham 2019): the
        /// Bernoulli with its normalizing constant, a proper density on [0, 1].
        case continuousBernoulli = "continuous-bernoulli"

        /// Whether the decoder's means lie in [0, 1] (so the data must, too).
        public var needsUnitInterval: Bool { self != .gaussianLinear }
    }

    /// An element-wise nonlinearity.
    public enum Activation: String, Codable, CaseIterable, Sendable {
        case relu, tanh
    }

    /// The input of one example: [channels, height, width] for images, [length] for vectors.
    public var inputShape: [Int] = [1, 28, 28]
    public var encoder: [LayerSpec] = [.linear(outFeatures: 400), .relu]
    public var latentDim: Int = 20
    public var decoder: [LayerSpec] = [.linear(outFeatures: 400), .relu, .linear(outFeatures: 784)]
    public var likelihood: Likelihood = .bernoulli
    /// σ of the Gaussian decoder (ignored for Bernoulli).
    public var sigma: Float = 0.1
    /// Number of label classes the model is conditioned on (0: an ordinary VAE).
    /// A conditional model's encoder takes inputDim + labelClasses inputs, its
    /// decoder latentDim + labelClasses.
    public var labelClasses: Int = 0

    public var isConditional: Bool { labelClasses > 0 }

    /// Channels, height and width of an image input ([C, H, W]); nil for vectors.
    public var imageSize: (channels: Int, height: Int, width: Int)? {
        inputShape.count == 3 ? (inputShape[0], inputShape[1], inputShape[2]) : nil
    }

    /// Values per example: the product of `inputShape`.
    public var inputDim: Int { inputShape.reduce(1, *) }

    /// The tutorial's default model.
    public init() {}

    /// The MLP `--hidden` describes: encoder linear h₁, act, …, linear hₙ,
    /// act; decoder the mirror image, then linear to the input's size.
    public init(
        inputShape: [Int], hidden: [Int], latentDim: Int = 20, likelihood: Likelihood = .bernoulli, sigma: Float = 0.1,
        activation: Activation = .relu, labelClasses: Int = 0
    ) {
        let d = inputShape.reduce(1, *)
        self.init(
            inputShape: inputShape, encoder: Self.mlpEncoder(hidden, activation), latentDim: latentDim,
            decoder: Self.mlpDecoder(hidden, activation, output: d), likelihood: likelihood, sigma: sigma,
            labelClasses: labelClasses)
    }

    /// The same MLP for vector inputs of `inputDim` values.
    public init(
        inputDim: Int, hidden: [Int], latentDim: Int = 20, likelihood: Likelihood = .bernoulli, sigma: Float = 0.1,
        activation: Activation = .relu, labelClasses: Int = 0
    ) {
        self.init(
            inputShape: [inputDim], hidden: hidden, latentDim: latentDim, likelihood: likelihood, sigma: sigma,
            activation: activation, labelClasses: labelClasses)
    }

    public init(
        inputShape: [Int], encoder: [LayerSpec], latentDim: Int, decoder: [LayerSpec],
        likelihood: Likelihood = .bernoulli, sigma: Float = 0.1, labelClasses: Int = 0
    ) {
        self.inputShape = inputShape
        self.encoder = encoder
        self.latentDim = latentDim
        self.decoder = decoder
        self.likelihood = likelihood
        self.sigma = sigma
        self.labelClasses = labelClasses
    }

    // MARK: The MLP shorthand

    /// What `--hidden W,…` and `--activation` describe.
    public struct MLPShorthand: Equatable, Sendable {
        public var hidden: [Int]
        public var activation: Activation
        public init(hidden: [Int], activation: Activation = .relu) {
            self.hidden = hidden
            self.activation = activation
        }
    }

    static func mlpEncoder(_ hidden: [Int], _ activation: Activation) -> [LayerSpec] {
        hidden.flatMap { [.linear(outFeatures: $0), .activation(activation)] }
    }

    static func mlpDecoder(_ hidden: [Int], _ activation: Activation, output: Int) -> [LayerSpec] {
        mlpEncoder(hidden.reversed(), activation) + [.linear(outFeatures: output)]
    }

    /// The shorthand this architecture is (an MLP whose decoder mirrors its
    /// encoder, one activation throughout, output of the input's size), or nil.
    public var mlpShorthand: MLPShorthand? {
        var hidden: [Int] = []
        var activation: Activation?
        var i = 0
        while i + 1 < encoder.count, case .linear(let w) = encoder[i], case .activation(let a) = encoder[i + 1],
            activation == nil || activation == a
        {
            hidden.append(w)
            activation = a
            i += 2
        }
        guard let activation, i == encoder.count,
            decoder == Self.mlpDecoder(hidden, activation, output: inputDim)
        else { return nil }
        return MLPShorthand(hidden: hidden, activation: activation)
    }

    /// Replaces the encoder and decoder by the MLP of `hidden` widths and
    /// `activation`; either may be nil to keep the current model's (which
    /// must then be such an MLP).
    /// - Throws: `ConfigProblem` (key "model.hidden") when the widths are
    ///   out of range, or when only the activation is given for a model whose
    ///   layers are not the shorthand's.
    public mutating func useMLP(hidden: [Int]? = nil, activation: Activation? = nil) throws(ConfigProblem) {
        guard hidden != nil || activation != nil else { return }
        let current = mlpShorthand
        guard let widths = hidden ?? current?.hidden else {
            throw ConfigProblem(
                "model.hidden",
                "the model declares its own encoder and decoder layers, so the activation alone cannot be changed; give the hidden widths too"
            )
        }
        if widths.isEmpty { throw ConfigProblem("model.hidden", "at least one hidden layer is needed") }
        if widths.count > Self.maximumHiddenLayers {
            throw ConfigProblem("model.hidden", "at most \(Self.maximumHiddenLayers) hidden layers, got \(widths.count)")
        }
        if let bad = widths.first(where: { !(1...Self.maximumWidth).contains($0) }) {
            throw ConfigProblem("model.hidden", "hidden layer sizes must be between 1 and \(Self.maximumWidth), got \(bad)")
        }
        let a = activation ?? current?.activation ?? .relu
        encoder = Self.mlpEncoder(widths, a)
        decoder = Self.mlpDecoder(widths, a, output: inputDim)
    }

    /// Sets the input shape to the data's and fits the decoder to it (recipes
    /// are templates declared for 28×28 grey images):
    /// - a decoder ending in a linear layer gets that layer resized to the
    ///   input's size (one logit per input value);
    /// - a decoder ending in convolutions gets its last layer's out_channels
    ///   set to the data's channels, and its `unflatten` layer (and the linear
    ///   layer feeding it) resized so the convolutions after it give exactly
    ///   the data's height and width.
    /// - Throws: `ConfigProblem` (key "model.decoder") when the data's shape
    ///   cannot be reached: images for a vector decoder, or a height or width
    ///   that the decoder's strides cannot give (the fix is named).
    public mutating func fit(inputShape shape: [Int]) throws(ConfigProblem) {
        inputShape = shape
        guard let lastIndex = decoder.lastIndex(where: { $0.hasParameters }) else { return }
        switch decoder[lastIndex] {
        case .linear: decoder[lastIndex] = .linear(outFeatures: shape.reduce(1, *))
        case .conv2d(var c), .convTranspose2d(var c):
            let kind = decoder[lastIndex].typeName
            guard shape.count == 3 else {
                throw ConfigProblem(
                    "model.decoder",
                    "the decoder ends in a \(kind) layer, which gives images, but the data are vectors of \(shape.reduce(1, *)) values; "
                        + "use a model whose decoder ends in a linear layer (such as the vae recipe)")
            }
            c.outChannels = shape[0]
            decoder[lastIndex] = decoder[lastIndex].typeName == "conv2d" ? .conv2d(c) : .convTranspose2d(c)
            try fitSpatialDecoder(height: shape[1], width: shape[2])
        default: return
        }
    }

    /// Works back from the data's height and width through the decoder's
    /// convolutions to the `unflatten` layer before them, and resizes it and
    /// the linear layer that feeds it.
    private mutating func fitSpatialDecoder(height: Int, width: Int) throws(ConfigProblem) {
        var (h, w) = (height, width)
        var i = decoder.count - 1
        // The product of the strides of the transposed convolutions: the sizes the decoder can give are its multiples.
        let strides = decoder.reduce(1) { if case .convTranspose2d(let c) = $1 { $0 * c.stride } else { $0 } }
        while i >= 0 {
            let spec = decoder[i]
            switch spec {
            case .convTranspose2d(let c):
                // Output n = (m − 1)·s − 2p + k + op, so m = (n + 2p − k − op)/s + 1 must be a whole number ≥ 1.
                func back(_ n: Int, _ what: String) throws(ConfigProblem) -> Int {
                    let a = n + 2 * c.padding - c.kernel - c.outputPadding
                    guard a >= 0, a % c.stride == 0 else {
                        throw ConfigProblem(
                            "model.decoder",
                            "decoder layer \(i) (\(spec.summary)) cannot give a \(what) of \(n): its outputs are (n − 1)·\(c.stride) − 2·\(c.padding) + \(c.kernel) + \(c.outputPadding) for whole n ≥ 1, "
                                + "so the data's \(height)×\(width) images cannot come out of this decoder; "
                                + "resize or pad the images to a height and width that are multiples of \(strides) (such as \(max(strides, (height / strides) * strides))×\(max(strides, (width / strides) * strides))), or change the layer"
                        )
                    }
                    return a / c.stride + 1
                }
                h = try back(h, "height")
                w = try back(w, "width")
            case .conv2d(let c):
                // The smallest input giving n: (n − 1)·s − 2p + k (≥ 1).
                h = max(1, (h - 1) * c.stride - 2 * c.padding + c.kernel)
                w = max(1, (w - 1) * c.stride - 2 * c.padding + c.kernel)
            case .unflatten(let shape):
                guard shape.count == 3 else { return }
                decoder[i] = .unflatten(shape: [shape[0], h, w])
                if let j = decoder[..<i].lastIndex(where: { !$0.isElementWise }), case .linear = decoder[j] {
                    decoder[j] = .linear(outFeatures: shape[0] * h * w)
                }
                return
            case .activation, .leakyReLU: break
            case .linear, .flatten: return
            }
            i -= 1
        }
    }

    // MARK: Layers, names and shapes

    /// How parameters are named: the tutorial's `fc1`, `fc2`, … for models
    /// made only of linear layers and activations (numbered in order: the
    /// encoder's, μ, log σ², the decoder's), otherwise `encoder.i`, `mu`,
    /// `logvar`, `decoder.i` with i the layer's index in its list, as a
    /// PyTorch module with `nn.Sequential` encoder and decoder names them.
    public enum Naming: String, Sendable {
        case tutorial, sequential
    }

    public var naming: Naming {
        (encoder + decoder).allSatisfy({ if case .linear = $0 { true } else if case .activation = $0 { true } else { false } })
            ? .tutorial : .sequential
    }

    /// Whether a conditional model gives its encoder the label as planes:
    /// when the encoder starts with a convolution, the one-hot label joins
    /// the image as `labelClasses` extra channels, each constant over the
    /// image (`torch.cat([x, onehot[:, :, None, None].expand(-1, -1, H, W)], 1)`);
    /// otherwise it follows the flattened input (`torch.cat([x.view(-1, D), onehot], 1)`).
    public var labelsAsPlanes: Bool {
        guard inputShape.count == 3, let first = encoder.first(where: { !$0.isElementWise }) else { return false }
        if case .conv2d = first { return true }
        return false
    }

    /// Values per example of the encoder's input: the input, plus the label (one value or one plane per class).
    public var encoderInputSize: Int {
        labelsAsPlanes ? (inputShape[0] + labelClasses) * inputShape[1] * inputShape[2] : inputDim + labelClasses
    }

    /// One layer of the planned network: its declaration, the shapes it
    /// takes and gives, and its state_dict name if it has parameters.
    public struct PlannedLayer: Equatable, Sendable {
        public let spec: LayerSpec
        public let input: [Int]
        public let output: [Int]
        public let name: String?
        public var parameterShapes: [(String, [Int])] {
            guard let name else { return [] }
            return spec.parameterShapes(for: input).map { ("\(name).\($0.0)", $0.1) }
        }
        public static func == (a: Self, b: Self) -> Bool {
            a.spec == b.spec && a.input == b.input && a.output == b.output && a.name == b.name
        }
    }

    /// The whole network with every shape worked out.
    public struct Plan: Sendable {
        public let encoder: [PlannedLayer]
        /// The two heads, Linear(encoder output → latentDim) each.
        public let mu: PlannedLayer
        public let logvar: PlannedLayer
        public let decoder: [PlannedLayer]
        /// Every layer with parameters, in PyTorch's state_dict order.
        public var parameterized: [PlannedLayer] { (encoder + [mu, logvar] + decoder).filter { $0.name != nil } }
    }

    /// The network this configuration declares, or the first reason it cannot be built.
    public func plan() -> Result<Plan, ConfigProblem> {
        let tutorial = naming == .tutorial
        var counter = 0
        func name(_ stack: String, _ index: Int, _ spec: LayerSpec) -> String? {
            guard spec.hasParameters else { return nil }
            counter += 1
            return tutorial ? "fc\(counter)" : "\(stack).\(index)"
        }
        func run(_ stack: String, _ specs: [LayerSpec], from start: [Int]) -> Result<([PlannedLayer], [Int]), ConfigProblem> {
            var shape = start
            var out: [PlannedLayer] = []
            for (i, spec) in specs.enumerated() {
                switch spec.outputShape(for: shape) {
                case .failure(let e):
                    return .failure(ConfigProblem("model.\(stack)", "\(stack) layer \(i) (\(spec.summary)): \(e.message)"))
                case .success(let next):
                    var count = 1
                    for n in next {
                        let (p, overflow) = count.multipliedReportingOverflow(by: n)
                        count = overflow ? Int.max : p
                    }
                    guard count <= Self.maximumInputDim else {
                        return .failure(
                            ConfigProblem(
                                "model.\(stack)",
                                "\(stack) layer \(i) (\(spec.summary)) would give \(next) per example, more than the \(Self.maximumInputDim) values zoo allows for one layer"
                            ))
                    }
                    out.append(PlannedLayer(spec: spec, input: shape, output: next, name: name(stack, i, spec)))
                    shape = next
                }
            }
            return .success((out, shape))
        }
        let C = labelClasses
        let encoderInput = C == 0 ? inputShape : labelsAsPlanes ? [inputShape[0] + C, inputShape[1], inputShape[2]] : [inputDim + C]
        let encoded: ([PlannedLayer], [Int])
        switch run("encoder", encoder, from: encoderInput) {
        case .failure(let p): return .failure(p)
        case .success(let r): encoded = r
        }
        let head = LayerSpec.linear(outFeatures: latentDim)
        let mu = PlannedLayer(spec: head, input: encoded.1, output: [latentDim], name: tutorial ? name("", 0, head) : "mu")
        let logvar = PlannedLayer(spec: head, input: encoded.1, output: [latentDim], name: tutorial ? name("", 0, head) : "logvar")
        switch run("decoder", decoder, from: [latentDim + C]) {
        case .failure(let p): return .failure(p)
        case .success(let (layers, output)):
            let fits = output.count == 1 ? output[0] == inputDim : output == inputShape
            guard fits else {
                return .failure(
                    ConfigProblem(
                        "model.decoder",
                        "the decoder gives \(output) per example, but the input is \(inputShape); "
                            + "its last layers must give the input's shape (with convolutions: out_channels \(inputShape[0]) and the input's height and width)"
                    ))
            }
            return .success(Plan(encoder: encoded.0, mu: mu, logvar: logvar, decoder: layers))
        }
    }

    /// (state_dict name, shape) of every parameter in PyTorch order:
    /// `fc1.weight` [out, in], `fc1.bias` [out], … (empty if the plan fails).
    public var parameterShapes: [(String, [Int])] {
        guard case .success(let plan) = plan() else { return [] }
        return plan.parameterized.flatMap(\.parameterShapes)
    }

    /// Limits that keep every size and product of sizes far from overflow
    /// and every allocation plausible (`RunConfig` bounds the total memory).
    public static let maximumInputDim = 1 << 24
    public static let maximumWidth = 1 << 16
    public static let maximumLatentDim = 1 << 14
    public static let maximumHiddenLayers = 16
    /// Layers of each of the encoder and decoder lists.
    public static let maximumLayers = 64
    public static let maximumParameters = 1 << 28

    /// Number of parameters (weights and biases of every layer).
    public var parameterCount: Int { parameterShapes.reduce(0) { $0 + $1.1.reduce(1, *) } }

    /// Bytes training needs: parameters, gradients and Adam's two moments,
    /// plus the forward and backward buffers of `rows` images with `samples`
    /// latent draws each (an estimate within a small factor of the real use).
    public func trainingBytes(rows: Int, samples: Int) -> Int {
        guard case .success(let plan) = plan() else { return 0 }
        // Values held per row: the outputs of layers that are not in place
        // (the decoder's last is counted with the input size below).
        func widths(_ layers: [PlannedLayer]) -> Int {
            layers.filter(\.spec.hasParameters).reduce(0) { $0 + $1.output.reduce(1, *) }
        }
        let encoderWidths = widths(plan.encoder)
        let decoderWidths = widths(plan.decoder) - inputDim
        // Linear layers also hold yᵀ for their transposed forward product.
        func linearWidths(_ layers: [PlannedLayer]) -> Int {
            layers.reduce(0) { sum, layer in
                if case .linear = layer.spec { return sum + layer.output.reduce(1, *) }
                return sum
            }
        }
        let perDraw = 4 * inputDim + 4 * decoderWidths + linearWidths(plan.decoder) + 8 * latentDim + 2 * labelClasses
        let perImage = 2 * encoderInputSize + 4 * encoderWidths + linearWidths(plan.encoder) + 8 * latentDim
        // Convolutions' buffers: the im2col matrices, the planes and the
        // channels-last copies of the images one product takes (`imagesPerProduct`),
        // and the two reordered weights and the weight gradient.
        func columns(_ layers: [PlannedLayer], rows: Int) -> Int {
            layers.reduce(0) { sum, layer in
                let (k, n, other, image): (Int, Int, Int, Int)
                switch layer.spec {
                case .conv2d(let c):
                    (k, n) = (layer.input[0] * c.kernel * c.kernel, layer.output[1] * layer.output[2])
                    (other, image) = (c.outChannels, layer.input.reduce(1, *))
                case .convTranspose2d(let c):
                    (k, n) = (c.outChannels * c.kernel * c.kernel, layer.input[1] * layer.input[2])
                    (other, image) = (layer.input[0], layer.output.reduce(1, *))
                default: return sum
                }
                let perImage = convolutionFloatsPerImage(columnRows: k, positions: n, planes: other, image: image)
                return sum + imagesPerProduct(batch: rows, floatsPerImage: perImage) * perImage + 3 * k * other
            }
        }
        let columns = columns(plan.encoder, rows: rows) + columns(plan.decoder, rows: rows * samples)
        return 4 * (4 * parameterCount + columns + rows * (samples * perDraw + perImage))
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
        if ![1, 3].contains(inputShape.count) {
            out.append(.init("model.input_shape", "the input shape is [length] or [channels, height, width], got \(inputShape)"))
        } else if let bad = inputShape.first(where: { !(1...Self.maximumInputDim).contains($0) }) {
            out.append(.init("model.input_shape", "input shape sizes must be between 1 and \(Self.maximumInputDim), got \(bad)"))
        } else {
            // Each factor is ≤ 2^24, so the product of three cannot overflow.
            bound(
                "model.input_shape", "the input size (\(inputShape.map(String.init).joined(separator: "×")))", inputDim,
                1...Self.maximumInputDim)
        }
        bound("model.latent_dim", "latent dimension", latentDim, 1...Self.maximumLatentDim)
        if !(sigma > 0) || !sigma.isFinite { out.append(.init("model.sigma", "sigma must be a positive number, got \(sigma)")) }
        bound("model.label_classes", "label classes", labelClasses, 0...1000)
        for (stack, specs) in [("encoder", encoder), ("decoder", decoder)] {
            if specs.count > Self.maximumLayers {
                out.append(.init("model.\(stack)", "the \(stack) has \(specs.count) layers, at most \(Self.maximumLayers) are allowed"))
            }
            for (i, spec) in specs.enumerated() {
                if case .linear = spec, stack == "decoder", i == specs.count - 1 { continue }  // reported below against the input
                if let p = spec.valueProblem(maximumWidth: Self.maximumWidth, maximumInput: Self.maximumInputDim) {
                    out.append(.init("model.\(stack)", "\(stack) layer \(i) (\(spec.typeName)): \(p)"))
                }
            }
        }
        if decoder.isEmpty {
            out.append(.init("model.decoder", "the decoder needs at least one layer (the last gives the logits of p(x|z))"))
        } else if case .linear(let n) = decoder[decoder.count - 1] {
            if n != inputDim, out.isEmpty {
                out.append(
                    .init(
                        "model.decoder",
                        "the decoder's last layer gives \(n) values per example, but the input has \(inputDim) (input_shape \(inputShape))")
                )
            }
        } else if let last = decoder.last(where: { $0.typeName != "flatten" && $0.typeName != "unflatten" }), !last.hasParameters {
            out.append(
                .init(
                    "model.decoder",
                    "the decoder's last layer must give the logits of p(x|z) (linear, conv2d or conv_transpose2d), got \(last.summary)"
                ))
        }
        if out.isEmpty, case .failure(let p) = plan() { out.append(p) }
        if out.isEmpty, parameterCount > Self.maximumParameters {
            out.append(
                .init(
                    "model.hidden", "the model would have \(parameterCount) parameters, more than the \(Self.maximumParameters) zoo allows")
            )
        }
        return out
    }

    /// The architecture in a few words: "784-400-20-400-784 (input 1×28×28)"
    /// for the MLP shorthand (with its activation when not ReLU), else the
    /// input shape and the layer lists.
    public var summary: String {
        let shape = inputShape.map(String.init).joined(separator: "×")
        if let m = mlpShorthand {
            let widths = m.hidden.map(String.init)
            var arch = ([String(inputDim)] + widths + [String(latentDim)] + widths.reversed() + [String(inputDim)]).joined(separator: "-")
            if m.activation != .relu { arch += " \(m.activation.rawValue)" }
            return inputShape.count > 1 ? "\(arch) (input \(shape))" : arch
        }
        return
            "\(shape) → [\(encoder.map(\.summary).joined(separator: ", "))] → z \(latentDim) → [\(decoder.map(\.summary).joined(separator: ", "))]"
    }
}

extension ModelConfig: Codable {
    enum CodingKeys: String, CodingKey {
        case inputShape = "input_shape"
        case encoder
        case latentDim = "latent_dim"
        case decoder
        case likelihood, sigma
        case labelClasses = "label_classes"
        // The MLP shorthand (recipes) and formats 1–3.
        case inputDim = "input_dim"
        case hidden, activation
    }

    /// Reads the layer lists, or the MLP shorthand `hidden` (+ `activation`)
    /// of recipes and of checkpoints of formats 1–3, never both. Formats 1–3
    /// stored the input as `input_dim`, a pixel count of square grey
    /// images: a square count reads as [1, s, s], any other as a vector.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latentDim = try c.decode(Int.self, forKey: .latentDim)
        likelihood = try c.decode(Likelihood.self, forKey: .likelihood)
        sigma = try c.decode(Float.self, forKey: .sigma)
        labelClasses = try c.decodeIfPresent(Int.self, forKey: .labelClasses) ?? 0
        if c.contains(.inputShape) {
            if c.contains(.inputDim) {
                throw DecodingError.dataCorruptedError(
                    forKey: .inputDim, in: c, debugDescription: "give input_shape or (formats 1–3) input_dim, not both")
            }
            inputShape = try c.decode([Int].self, forKey: .inputShape)
        } else {
            let d = try c.decode(Int.self, forKey: .inputDim)
            let side = Int(Double(max(d, 0)).squareRoot())
            inputShape = side > 1 && side * side == d ? [1, side, side] : [d]
        }
        let lists = c.contains(.encoder) || c.contains(.decoder)
        let shorthand = c.contains(.hidden) || c.contains(.activation)
        if lists && shorthand {
            throw DecodingError.dataCorruptedError(
                forKey: .hidden, in: c,
                debugDescription: "give either the MLP shorthand (hidden, activation) or the layer lists (encoder, decoder), not both")
        }
        if lists {
            encoder = try c.decode([LayerSpec].self, forKey: .encoder)
            self.decoder = try c.decode([LayerSpec].self, forKey: .decoder)
        } else {
            let hidden = try c.decode([Int].self, forKey: .hidden)
            let activation = try c.decodeIfPresent(Activation.self, forKey: .activation) ?? .relu
            do { try useMLP(hidden: hidden, activation: activation) } catch {
                throw DecodingError.dataCorruptedError(forKey: .hidden, in: c, debugDescription: error.message)
            }
        }
    }

    /// Writes the layer lists (format 4), never the shorthand.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inputShape, forKey: .inputShape)
        try c.encode(self.encoder, forKey: .encoder)
        try c.encode(latentDim, forKey: .latentDim)
        try c.encode(decoder, forKey: .decoder)
        try c.encode(likelihood, forKey: .likelihood)
        try c.encode(sigma, forKey: .sigma)
        try c.encode(labelClasses, forKey: .labelClasses)
    }
}

/// One thing wrong with a configuration: the JSON key it concerns (as in
/// config.schema.json, "training.batch_size") and a sentence naming the value.
public struct ConfigProblem: Error, Equatable, Sendable, CustomStringConvertible {
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
    /// one latent draw each: per image, forward 2·(multiply-adds) per layer
    /// (in·out for a linear layer, weights × output positions for a
    /// convolution, weights × input positions for a transposed one),
    /// backward as much again for dW and for dX, except the first layer's dX
    /// (`zoo bench` divides it by the measured sgemm rate for the GEMM floor).
    public func epochFlops(images: Int) -> Double {
        guard case .success(let plan) = plan() else { return 0 }
        let layers = plan.parameterized.map { Double($0.spec.multiplyAdds(for: $0.input, output: $0.output)) }
        guard let first = layers.first else { return 0 }
        return Double(images) * 2 * (3 * layers.reduce(0, +) - first)
    }
}

extension ModelConfig {
    /// One layer of the stacks a `VAE` runs, as `VAE.layerNanoseconds` lists them.
    public struct RunLayer: Equatable, Sendable {
        /// "encoder.0 conv2d 32 k4 s2 p1", "heads linear 2×20", "decoder.2 linear 784".
        public let label: String
        /// Multiply-adds of one forward pass over one row (0 without parameters).
        public let multiplyAdds: Int
        /// The decoder's layers run once per latent draw.
        public let inDecoder: Bool
        /// The network's first layer with parameters: its backward computes no input gradient.
        public let first: Bool
    }

    /// The encoder's layers, the fused μ/log σ² heads, then the decoder's, in
    /// the order `VAE.layerNanoseconds` gives their times (empty when the
    /// configuration has no plan).
    public func runLayers() -> [RunLayer] {
        guard case .success(let plan) = plan() else { return [] }
        let firstName = plan.parameterized.first?.name
        func row(_ stack: String, _ i: Int, _ l: PlannedLayer, decoder: Bool) -> RunLayer {
            RunLayer(
                label: "\(stack).\(i) \(l.spec.summary)", multiplyAdds: l.spec.multiplyAdds(for: l.input, output: l.output),
                inDecoder: decoder, first: l.name != nil && l.name == firstName)
        }
        let heads = RunLayer(
            label: "heads linear 2×\(latentDim)",
            multiplyAdds: 2 * plan.mu.spec.multiplyAdds(for: plan.mu.input, output: plan.mu.output), inDecoder: false,
            first: plan.mu.name == firstName)
        return plan.encoder.enumerated().map { row("encoder", $0.offset, $0.element, decoder: false) } + [heads]
            + plan.decoder.enumerated().map { row("decoder", $0.offset, $0.element, decoder: true) }
    }
}

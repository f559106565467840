import NumericCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A variational autoencoder (Kingma & Welling 2014) with explicit forward and
/// backward passes over preallocated buffers for up to `maxRows` rows.
///
/// Use: write inputs into `input` and standard-normal noise into `epsilon`
/// (zeros for z = μ), call `forward(rows:)`, read `reconstruction`/`kl` per
/// row; for training call `backward(rows:)` after a forward with
/// `computeGradients: true`, then update with an optimizer.
///
/// The loss is the negative ELBO summed over the rows (the tutorial's
/// `reduction='sum'`): reconstruction −log p(x|z) for one z = μ + ε·σ, plus
/// β·KL(q(z|x) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²).
public final class VAE {
    public let config: ModelConfig
    public let parameters: ParameterSet
    public let maxRows: Int

    let encoder: [Dense]
    /// μ and log σ² heads as one layer of 2·latent outputs: columns [0, L) are μ,
    /// [L, 2L) are log σ² (their parameters are adjacent in storage).
    let head: Dense
    let decoder: [Dense]
    let output: Dense

    /// Inputs, [maxRows, inputDim]: written by the caller before `forward`.
    public let input: Tensor
    /// Standard-normal noise ε, [maxRows, latent]: written by the caller.
    public let epsilon: Tensor
    /// Per-row −log p(x|z) and KL of the last forward pass, in nats.
    public let reconstruction: UnsafeMutableBufferPointer<Double>
    public let kl: UnsafeMutableBufferPointer<Double>
    /// [maxRows, 2·latent]: μ in columns [0, L), log σ² in [L, 2L).
    public let posterior: Tensor
    public let z: Tensor
    /// Decoder output logits, [maxRows, inputDim].
    public let logits: Tensor

    let encoderActivations: [Tensor]
    let decoderActivations: [Tensor]
    let sigma: Tensor
    let gradLogits: Tensor
    let gradDecoder: [Tensor]
    let gradZ: Tensor
    let gradPosterior: Tensor
    let gradEncoder: [Tensor]
    /// The fused head's parameters: both heads' weights, then both biases.
    let headRange: Range<Int>
    /// −log p(x|z) constant per row for the Gaussian decoder: D·(log σ + ½ log 2π).
    let reconstructionConstant: Double
    var klWeight: Float = 1

    public init(config: ModelConfig, maxRows: Int) {
        precondition(config.problems.isEmpty, config.problems.joined(separator: "; "))
        precondition(maxRows >= 1)
        self.config = config
        self.maxRows = maxRows
        let names = config.layerNames
        let shapes = Dictionary(uniqueKeysWithValues: config.layerShapes)
        // Storage order keeps the two heads' weights, then their biases, adjacent.
        var layout: [(String, [Int])] = []
        func add(_ n: String) { layout.append(("\(n).weight", shapes[n]!)); layout.append(("\(n).bias", [shapes[n]![0]])) }
        names.encoder.forEach(add)
        layout.append(("\(names.mu).weight", shapes[names.mu]!))
        layout.append(("\(names.logvar).weight", shapes[names.logvar]!))
        layout.append(("\(names.mu).bias", [config.latentDim]))
        layout.append(("\(names.logvar).bias", [config.latentDim]))
        names.decoder.forEach(add)
        add(names.output)
        let order = config.parameterShapes.map(\.0)
        let p = ParameterSet(layout: layout, stateDictOrder: order)
        parameters = p

        encoder = names.encoder.map { Dense($0, in: p) }
        let width = config.hidden.last!
        let L = config.latentDim
        head = Dense(
            weight: p.span("\(names.mu).weight", "\(names.logvar).weight", shape: [2 * L, width], of: p.values),
            bias: p.span("\(names.mu).bias", "\(names.logvar).bias", shape: [2 * L], of: p.values),
            weightGradient: p.span("\(names.mu).weight", "\(names.logvar).weight", shape: [2 * L, width], of: p.gradients),
            biasGradient: p.span("\(names.mu).bias", "\(names.logvar).bias", shape: [2 * L], of: p.gradients))
        headRange = head.weight.offset..<(head.bias.offset + head.bias.count)
        decoder = names.decoder.map { Dense($0, in: p) }
        output = Dense(names.output, in: p)

        let D = config.inputDim
        input = Tensor(shape: [maxRows, D])
        epsilon = Tensor(shape: [maxRows, L])
        posterior = Tensor(shape: [maxRows, 2 * L])
        sigma = Tensor(shape: [maxRows, L])
        z = Tensor(shape: [maxRows, L])
        logits = Tensor(shape: [maxRows, D])
        encoderActivations = config.hidden.map { Tensor(shape: [maxRows, $0]) }
        decoderActivations = config.hidden.reversed().map { Tensor(shape: [maxRows, $0]) }
        gradLogits = Tensor(shape: [maxRows, D])
        gradDecoder = config.hidden.reversed().map { Tensor(shape: [maxRows, $0]) }
        gradZ = Tensor(shape: [maxRows, L])
        gradPosterior = Tensor(shape: [maxRows, 2 * L])
        gradEncoder = config.hidden.map { Tensor(shape: [maxRows, $0]) }
        reconstruction = .allocate(capacity: maxRows)
        reconstruction.initialize(repeating: 0)
        kl = .allocate(capacity: maxRows)
        kl.initialize(repeating: 0)
        reconstructionConstant = config.likelihood == .gaussian
            ? Double(D) * (log(Double(config.sigma)) + 0.5 * log(2 * Double.pi)) : 0
    }

    deinit {
        reconstruction.deallocate()
        kl.deallocate()
    }

    /// A model with the same configuration and parameters and its own
    /// workspace for `maxRows` rows (for running copies on several threads).
    public func copy(maxRows rows: Int) -> VAE {
        let m = VAE(config: config, maxRows: rows)
        m.parameters.values.pointer.update(from: parameters.values.pointer, count: parameters.count)
        return m
    }

    /// Draws fresh parameters as PyTorch's `nn.Linear` does, layer by layer in
    /// state_dict order.
    public func initialize(using random: inout RandomStream) {
        for layer in encoder { layer.initialize(using: &random) }
        let L = config.latentDim, width = head.inFeatures
        // The fused head holds two layers; initialize each with its own fan-in bound.
        let bound = 1 / Float(width).squareRoot()
        let w = head.weight.buffer, b = head.bias.buffer
        for half in 0..<2 {
            for i in (half * L * width)..<((half + 1) * L * width) { w[i] = (2 * random.nextFloat() - 1) * bound }
            for i in (half * L)..<((half + 1) * L) { b[i] = (2 * random.nextFloat() - 1) * bound }
        }
        for layer in decoder { layer.initialize(using: &random) }
        output.initialize(using: &random)
    }

    /// Forward pass for the first `rows` rows of `input` and `epsilon`.
    /// - Parameters:
    ///   - computeGradients: also write dL/dlogits for a following `backward`.
    ///   - klWeight: β multiplying the KL term in the loss and its gradient.
    /// - Returns: (Σ reconstruction, Σ KL) over the rows, in nats.
    @discardableResult
    public func forward(rows: Int, computeGradients: Bool = false, klWeight: Float = 1) -> (reconstruction: Double, kl: Double) {
        precondition(rows >= 0 && rows <= maxRows)
        self.klWeight = klWeight
        encode(rows: rows)
        let klSum = reparameterize(rows: rows)
        decode(rows: rows)
        let recSum = reconstructionLoss(rows: rows, computeGradients: computeGradients)
        return (recSum, klSum)
    }

    /// Encoder only: q(z|x) of the first `rows` rows of `input` into `posterior`
    /// (μ in columns [0, L), log σ² in [L, 2L)).
    public func encode(rows: Int) {
        precondition(rows >= 0 && rows <= maxRows)
        let x = hiddenLayers(encoder, encoderActivations, from: input, rows: rows)
        head.forward(x, rows: rows, into: posterior.pointer)
    }

    /// log p(x | z_r) in nats, constants included, of one image `x`
    /// (`config.inputDim` values) for each of the first `rows` rows of `z`:
    /// the decoder for many latent draws of the same image. The output bias is
    /// added inside the likelihood kernel, so `logits` holds the logits without
    /// it afterwards.
    public func logLikelihood(of x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Double>) {
        precondition(rows >= 0 && rows <= maxRows)
        let h = hiddenLayers(decoder, decoderActivations, from: z, rows: rows)
        let D = config.inputDim
        BLAS.gemm(transB: true, m: rows, n: D, k: output.inFeatures, a: h, lda: output.inFeatures,
                  b: output.weight.pointer, ldb: output.inFeatures, c: logits.pointer, ldc: D)
        switch config.likelihood {
        case .bernoulli:
            Kernels.bernoulliLogLikelihood(logits: logits.pointer, bias: output.bias.pointer, target: x,
                                           rows: rows, cols: D, into: out)
        case .gaussian:
            let s = config.sigma
            Kernels.gaussianLogLikelihood(logits: logits.pointer, bias: output.bias.pointer, target: x,
                                          inverseVariance: 1 / (s * s), rows: rows, cols: D, into: out)
            for r in 0..<rows { out[r] -= reconstructionConstant }
        }
    }

    /// z = μ + ε·σ with σ = exp(½ log σ²); per-row KL. Returns Σ KL.
    private func reparameterize(rows: Int) -> Double {
        let L = config.latentDim
        let post = posterior.pointer, eps = epsilon.pointer, s = sigma.pointer, zp = z.pointer
        var total = 0.0
        for r in 0..<rows {
            var rowKL: Float = 0
            for j in 0..<L {
                let mu = post[r * 2 * L + j], logvar = post[r * 2 * L + L + j]
                let sd = expf(0.5 * logvar)
                s[r * L + j] = sd
                zp[r * L + j] = mu + eps[r * L + j] * sd
                rowKL += 1 + logvar - mu * mu - sd * sd
            }
            kl[r] = -0.5 * Double(rowKL)
            total += kl[r]
        }
        return total
    }

    /// Decoder from `z` to `logits` for `rows` rows.
    public func decode(rows: Int) {
        let h = hiddenLayers(decoder, decoderActivations, from: z, rows: rows)
        output.forward(h, rows: rows, into: logits.pointer)
    }

    /// Runs ReLU layers from `input`, each into its activation buffer; returns the last output.
    private func hiddenLayers(_ layers: [Dense], _ activations: [Tensor], from input: Tensor, rows: Int) -> UnsafePointer<Float> {
        var x = UnsafePointer(input.pointer)
        for (layer, act) in zip(layers, activations) {
            layer.forward(x, rows: rows, into: act.pointer)
            Kernels.relu(act.pointer, count: rows * layer.outFeatures)
            x = UnsafePointer(act.pointer)
        }
        return x
    }

    private func reconstructionLoss(rows: Int, computeGradients: Bool) -> Double {
        let D = config.inputDim
        let grad = computeGradients ? gradLogits.pointer : nil
        switch config.likelihood {
        case .bernoulli:
            Kernels.bceWithLogits(logits: logits.pointer, targets: input.pointer, grad: grad,
                                  rows: rows, cols: D, rowLoss: reconstruction.baseAddress!)
        case .gaussian:
            let s = config.sigma
            Kernels.gaussianSigmoid(logits: logits.pointer, targets: input.pointer, inverseVariance: 1 / (s * s),
                                    grad: grad, rows: rows, cols: D, rowLoss: reconstruction.baseAddress!)
        }
        var total = 0.0
        for r in 0..<rows {
            reconstruction[r] += reconstructionConstant
            total += reconstruction[r]
        }
        return total
    }

    /// Gradients of the summed loss of the last forward pass (which must have
    /// had `computeGradients: true`) with respect to every parameter, written
    /// into `parameters.gradients`.
    ///
    /// - Parameter layerDone: called with each layer's flat parameter range as
    ///   soon as its gradient is final and its weights are no longer needed by
    ///   this pass, so an optimizer can update it while it is still in cache.
    ///   The ranges cover every parameter exactly once.
    public func backward(rows: Int, layerDone: (Range<Int>) -> Void = { _ in }) {
        let L = config.latentDim
        // Decoder, output layer first.
        var dy = gradLogits.pointer
        for i in stride(from: decoder.count, through: 0, by: -1) {
            let layer = i == decoder.count ? output : decoder[i]
            let input = i == 0 ? z.pointer : decoderActivations[i - 1].pointer
            let dInput = i == 0 ? gradZ.pointer : gradDecoder[i - 1].pointer
            layer.backward(input: input, gradOutput: dy, rows: rows, gradInput: dInput)
            layerDone(layer.parameterRange)
            if i > 0 { Kernels.reluBackward(dInput, output: decoderActivations[i - 1].pointer, count: rows * layer.inFeatures) }
            dy = dInput
        }
        // Through z = μ + ε·σ and β·KL: dμ = dz + β μ; d log σ² = ½ (dz ε σ + β (σ² − 1)).
        let post = posterior.pointer, eps = epsilon.pointer, s = sigma.pointer
        let dz = gradZ.pointer, dpost = gradPosterior.pointer, beta = klWeight
        for r in 0..<rows {
            for j in 0..<L {
                let k = r * L + j, mu = post[r * 2 * L + j], sd = s[k]
                dpost[r * 2 * L + j] = dz[k] + beta * mu
                dpost[r * 2 * L + L + j] = 0.5 * (dz[k] * eps[k] * sd + beta * (sd * sd - 1))
            }
        }
        // Encoder, heads first.
        dy = dpost
        for i in stride(from: encoder.count, through: 0, by: -1) {
            let layer = i == encoder.count ? head : encoder[i]
            let input = i == 0 ? self.input.pointer : encoderActivations[i - 1].pointer
            let dInput: UnsafeMutablePointer<Float>? = i == 0 ? nil : gradEncoder[i - 1].pointer
            layer.backward(input: input, gradOutput: dy, rows: rows, gradInput: dInput)
            layerDone(i == encoder.count ? headRange : layer.parameterRange)
            if let dInput {
                Kernels.reluBackward(dInput, output: encoderActivations[i - 1].pointer, count: rows * layer.inFeatures)
                dy = dInput
            }
        }
    }

    /// Bernoulli means / Gaussian means sigmoid(logits) of the last decode, into `out` ([rows, inputDim]).
    public func means(rows: Int, into out: UnsafeMutablePointer<Float>) {
        Kernels.sigmoid(logits.pointer, into: out, count: rows * config.inputDim)
    }
}

import NumericCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A variational autoencoder (Kingma & Welling 2014) with explicit forward and
/// backward passes over preallocated buffers for up to `maxRows` images and
/// `maxSamples` latent draws per image.
///
/// Use: write inputs into `input` (and, for a conditional model, class
/// indices into `labels`) and standard-normal noise into `epsilon` (zeros for
/// z = μ), call `forward(rows:)`, read `reconstruction`/`kl` per row; for
/// training call `backward(rows:)` after a forward with
/// `computeGradients: true`, then update with an optimizer.
///
/// With one sample per image the loss is the negative ELBO summed over the
/// rows (the tutorial's `reduction='sum'`): reconstruction −log p(x|z) for one
/// z = μ + ε·σ, plus β·KL(q(z|x) ‖ N(0, I)) = −½ Σ (1 + log σ² − μ² − σ²) in
/// closed form. With K > 1 samples it is the importance-weighted bound of
/// Burda et al. (2015): −log (1/K) Σ_k p(x|z_k)·(p(z_k)/q(z_k|x))^β, whose
/// gradient weighs each sample's by its normalized importance weight.
public final class VAE {
    public let config: ModelConfig
    public let parameters: ParameterSet
    public let maxRows: Int
    /// Latent draws per image a forward pass may use (the `samples` argument).
    public let maxSamples: Int

    let encoder: [Dense]
    /// μ and log σ² heads as one layer of 2·latent outputs: columns [0, L) are μ,
    /// [L, 2L) are log σ² (their parameters are adjacent in storage).
    let head: Dense
    let decoder: [Dense]
    let output: Dense

    /// Inputs, [maxRows, inputDim]: written by the caller before `forward`.
    public let input: Tensor
    /// Class index of each input row (conditional models), read by `encode`.
    public let labels: UnsafeMutableBufferPointer<Int32>
    /// Class index of each row of `z` (conditional models), read by `decode`
    /// and `logLikelihood`; `forward` fills it from `labels`.
    public let latentLabels: UnsafeMutableBufferPointer<Int32>
    /// Standard-normal noise ε, [maxRows·maxSamples, latent]: written by the
    /// caller; with K samples, rows r·K ..< (r+1)·K belong to image r.
    public let epsilon: Tensor
    /// Per-row −log p(x|z) (the mean over the samples when K > 1) and KL of the
    /// last forward pass, in nats.
    public let reconstruction: UnsafeMutableBufferPointer<Double>
    public let kl: UnsafeMutableBufferPointer<Double>
    /// The objective of the last forward pass, summed over rows: the negative
    /// β-ELBO with one sample, the negative importance-weighted bound with more.
    public private(set) var objective: Double = 0
    /// [maxRows, 2·latent]: μ in columns [0, L), log σ² in [L, 2L).
    public let posterior: Tensor
    public let z: Tensor
    /// Decoder output logits, [maxRows·maxSamples, inputDim].
    public let logits: Tensor

    /// [x, one-hot label] rows for a conditional encoder (nil otherwise).
    let conditionedInput: Tensor?
    /// [z, one-hot label] rows for a conditional decoder (nil otherwise).
    let conditionedZ: Tensor?
    let encoderActivations: [Tensor]
    let decoderActivations: [Tensor]
    let sigma: Tensor
    let gradLogits: Tensor
    let gradDecoder: [Tensor]
    let gradZ: Tensor
    let gradConditionedZ: Tensor?
    let gradPosterior: Tensor
    let gradEncoder: [Tensor]
    /// Inputs repeated once per sample (K > 1), the likelihood's targets.
    let repeatedInput: Tensor?
    /// Per latent row (K > 1): −log p(x|z_k); log p(z_k) − log q(z_k|x) (reused as
    /// scratch for the weights within `forward`); the normalized importance weight.
    let sampleReconstruction: UnsafeMutableBufferPointer<Double>
    let sampleLogRatio: UnsafeMutableBufferPointer<Double>
    let sampleWeight: UnsafeMutableBufferPointer<Float>
    /// The fused head's parameters: both heads' weights, then both biases.
    let headRange: Range<Int>
    /// −log p(x|z) constant per row for the Gaussian decoder: D·(log σ + ½ log 2π).
    let reconstructionConstant: Double
    var klWeight: Float = 1
    var samples = 1

    /// - Throws: `ModelError` for an invalid configuration or workspace size,
    ///   `TensorError` when the memory cannot be had.
    public init(config: ModelConfig, maxRows: Int, maxSamples: Int = 1) throws {
        guard config.problems.isEmpty else { throw ModelError.invalid(config.problems.joined(separator: "; ")) }
        guard maxRows >= 1, maxSamples >= 1, maxRows <= 1 << 24, maxSamples <= 1 << 16 else {
            throw ModelError.invalid("a workspace of \(maxRows) rows × \(maxSamples) samples is out of range")
        }
        self.config = config
        self.maxRows = maxRows
        self.maxSamples = maxSamples
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
        let p = try ParameterSet(layout: layout, stateDictOrder: order)
        parameters = p

        encoder = names.encoder.map { Dense($0, in: p) }
        let width = config.hidden.last!
        let L = config.latentDim, C = config.labelClasses
        head = Dense(
            weight: p.span("\(names.mu).weight", "\(names.logvar).weight", shape: [2 * L, width], of: p.values),
            bias: p.span("\(names.mu).bias", "\(names.logvar).bias", shape: [2 * L], of: p.values),
            weightGradient: p.span("\(names.mu).weight", "\(names.logvar).weight", shape: [2 * L, width], of: p.gradients),
            biasGradient: p.span("\(names.mu).bias", "\(names.logvar).bias", shape: [2 * L], of: p.gradients))
        headRange = head.weight.offset..<(head.bias.offset + head.bias.count)
        decoder = names.decoder.map { Dense($0, in: p) }
        output = Dense(names.output, in: p)

        let D = config.inputDim, S = maxRows * maxSamples
        input = try Tensor(shape: [maxRows, D])
        labels = .allocate(capacity: maxRows)
        labels.initialize(repeating: 0)
        latentLabels = .allocate(capacity: S)
        latentLabels.initialize(repeating: 0)
        epsilon = try Tensor(shape: [S, L])
        posterior = try Tensor(shape: [maxRows, 2 * L])
        sigma = try Tensor(shape: [maxRows, L])
        z = try Tensor(shape: [S, L])
        logits = try Tensor(shape: [S, D])
        conditionedInput = C > 0 ? try Tensor(shape: [maxRows, D + C]) : nil
        conditionedZ = C > 0 ? try Tensor(shape: [S, L + C]) : nil
        gradConditionedZ = C > 0 ? try Tensor(shape: [S, L + C]) : nil
        encoderActivations = try config.hidden.map { try Tensor(shape: [maxRows, $0]) }
        decoderActivations = try config.hidden.reversed().map { try Tensor(shape: [S, $0]) }
        gradLogits = try Tensor(shape: [S, D])
        gradDecoder = try config.hidden.reversed().map { try Tensor(shape: [S, $0]) }
        gradZ = try Tensor(shape: [S, L])
        gradPosterior = try Tensor(shape: [maxRows, 2 * L])
        gradEncoder = try config.hidden.map { try Tensor(shape: [maxRows, $0]) }
        repeatedInput = maxSamples > 1 ? try Tensor(shape: [S, D]) : nil
        reconstruction = .allocate(capacity: maxRows)
        reconstruction.initialize(repeating: 0)
        kl = .allocate(capacity: maxRows)
        kl.initialize(repeating: 0)
        sampleReconstruction = .allocate(capacity: S)
        sampleReconstruction.initialize(repeating: 0)
        sampleLogRatio = .allocate(capacity: S)
        sampleLogRatio.initialize(repeating: 0)
        sampleWeight = .allocate(capacity: S)
        sampleWeight.initialize(repeating: 0)
        reconstructionConstant = config.likelihood == .gaussian
            ? Double(D) * (log(Double(config.sigma)) + 0.5 * log(2 * Double.pi)) : 0
    }

    deinit {
        reconstruction.deallocate()
        kl.deallocate()
        labels.deallocate()
        latentLabels.deallocate()
        sampleReconstruction.deallocate()
        sampleLogRatio.deallocate()
        sampleWeight.deallocate()
    }

    /// A model with the same configuration and parameters and its own
    /// workspace for `maxRows` rows (for running copies on several threads).
    public func copy(maxRows rows: Int, maxSamples: Int = 1) throws -> VAE {
        let m = try VAE(config: config, maxRows: rows, maxSamples: maxSamples)
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

    /// Forward pass for the first `rows` rows of `input` (and `labels`) and
    /// the first `rows · samples` rows of `epsilon`.
    /// - Parameters:
    ///   - samples: latent draws per image: 1 for the ELBO (closed-form KL),
    ///     K > 1 for the importance-weighted bound (at most `maxSamples`).
    ///   - computeGradients: also write dL/dlogits for a following `backward`.
    ///   - klWeight: β multiplying the KL term (with K > 1, log p(z) − log q(z|x))
    ///     in the objective and its gradient.
    /// - Returns: (Σ reconstruction, Σ KL) over the rows, in nats, unweighted;
    ///   `objective` holds what the gradient is of.
    @discardableResult
    public func forward(rows: Int, samples: Int = 1, computeGradients: Bool = false,
                        klWeight: Float = 1) -> (reconstruction: Double, kl: Double) {
        precondition(rows >= 0 && rows <= maxRows && samples >= 1 && samples <= maxSamples)
        self.klWeight = klWeight
        self.samples = samples
        encode(rows: rows)
        if samples == 1 {
            let klSum = reparameterize(rows: rows)
            if config.isConditional { latentLabels.baseAddress!.update(from: labels.baseAddress!, count: rows) }
            decode(rows: rows)
            let recSum = reconstructionLoss(rows: rows, targets: input.pointer, rowLoss: reconstruction.baseAddress!,
                                            computeGradients: computeGradients)
            objective = recSum + Double(klWeight) * klSum
            return (recSum, klSum)
        }
        let klSum = reparameterizeSamples(rows: rows, samples: samples)
        let D = config.inputDim, targets = repeatedInput!.pointer
        for r in 0..<rows {
            for k in 0..<samples {
                (targets + (r * samples + k) * D).update(from: input.pointer + r * D, count: D)
                latentLabels[r * samples + k] = labels[r]
            }
        }
        decode(rows: rows * samples)
        var recSum = reconstructionLoss(rows: rows * samples, targets: targets, rowLoss: sampleReconstruction.baseAddress!,
                                        computeGradients: computeGradients)
        recSum /= Double(samples)
        // Per image: log w_k = log p(x|z_k) + β (log p(z_k) − log q(z_k|x));
        // loss = −(logsumexp_k log w_k − log K); d loss / d log w_k = −w̃_k.
        var total = 0.0
        let beta = Double(klWeight), logK = log(Double(samples))
        // sampleLogRatio becomes log w_k, then exp(log w_k − max); backward needs only the weights.
        for r in 0..<rows {
            let base = r * samples
            var m = -Double.infinity, meanRec = 0.0
            for k in 0..<samples {
                let lw = -sampleReconstruction[base + k] + beta * sampleLogRatio[base + k]
                sampleLogRatio[base + k] = lw
                m = max(m, lw)
                meanRec += sampleReconstruction[base + k]
            }
            var sum = 0.0
            for k in 0..<samples {
                sampleLogRatio[base + k] = exp(sampleLogRatio[base + k] - m)
                sum += sampleLogRatio[base + k]
            }
            for k in 0..<samples { sampleWeight[base + k] = Float(sampleLogRatio[base + k] / sum) }
            total += -(m + log(sum) - logK)
            reconstruction[r] = meanRec / Double(samples)
        }
        objective = total
        if computeGradients {
            let g = gradLogits.pointer
            for row in 0..<(rows * samples) {
                let w = sampleWeight[row]
                for c in 0..<D { g[row * D + c] *= w }
            }
        }
        return (recSum, klSum)
    }

    /// Encoder only: q(z|x) of the first `rows` rows of `input` (and `labels`)
    /// into `posterior` (μ in columns [0, L), log σ² in [L, 2L)).
    public func encode(rows: Int) {
        precondition(rows >= 0 && rows <= maxRows)
        var first = UnsafePointer(input.pointer)
        if let conditionedInput {
            condition(input.pointer, width: config.inputDim, labels: labels.baseAddress!, rows: rows, into: conditionedInput.pointer)
            first = UnsafePointer(conditionedInput.pointer)
        }
        let x = hiddenLayers(encoder, encoderActivations, from: first, rows: rows)
        head.forward(x, rows: rows, into: posterior.pointer)
    }

    /// Rows of [x, one-hot(label)] from rows of x.
    private func condition(_ x: UnsafePointer<Float>, width: Int, labels: UnsafePointer<Int32>, rows: Int,
                           into out: UnsafeMutablePointer<Float>) {
        let C = config.labelClasses, w = width + C
        for r in 0..<rows {
            let row = out + r * w
            row.update(from: x + r * width, count: width)
            (row + width).update(repeating: 0, count: C)
            let label = Int(labels[r])
            precondition(label >= 0 && label < C, "label \(label) outside [0, \(C))")
            row[width + label] = 1
        }
    }

    /// log p(x | z_r) in nats, constants included, of one image `x`
    /// (`config.inputDim` values) for each of the first `rows` rows of `z`
    /// (with `latentLabels` for a conditional model): the decoder for many
    /// latent draws of the same image. The output bias is added inside the
    /// likelihood kernel, so `logits` holds the logits without it afterwards.
    public func logLikelihood(of x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Double>) {
        precondition(rows >= 0 && rows <= maxRows * maxSamples)
        let h = hiddenLayers(decoder, decoderActivations, from: decoderInput(rows: rows), rows: rows)
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

    /// K draws per image: z_k = μ + ε_k·σ and log p(z_k) − log q(z_k|x) =
    /// Σ_j (ε² − z²)/2 + ½ log σ²; the closed-form KL per image. Returns Σ KL.
    private func reparameterizeSamples(rows: Int, samples K: Int) -> Double {
        let L = config.latentDim
        let post = posterior.pointer, eps = epsilon.pointer, s = sigma.pointer, zp = z.pointer
        var total = 0.0
        for r in 0..<rows {
            var rowKL: Float = 0, halfLogVar: Float = 0
            for j in 0..<L {
                let mu = post[r * 2 * L + j], logvar = post[r * 2 * L + L + j]
                let sd = expf(0.5 * logvar)
                s[r * L + j] = sd
                rowKL += 1 + logvar - mu * mu - sd * sd
                halfLogVar += 0.5 * logvar
            }
            for k in 0..<K {
                let row = r * K + k
                var ratio = halfLogVar
                for j in 0..<L {
                    let e = eps[row * L + j], v = post[r * 2 * L + j] + e * s[r * L + j]
                    zp[row * L + j] = v
                    ratio += 0.5 * (e * e - v * v)
                }
                sampleLogRatio[row] = Double(ratio)
            }
            kl[r] = -0.5 * Double(rowKL)
            total += kl[r]
        }
        return total
    }

    /// Decoder from `z` (and `latentLabels`) to `logits` for `rows` rows.
    public func decode(rows: Int) {
        precondition(rows >= 0 && rows <= maxRows * maxSamples)
        let h = hiddenLayers(decoder, decoderActivations, from: decoderInput(rows: rows), rows: rows)
        output.forward(h, rows: rows, into: logits.pointer)
    }

    /// The decoder's first input: z, or [z, one-hot label] for a conditional model.
    private func decoderInput(rows: Int) -> UnsafePointer<Float> {
        guard let conditionedZ else { return UnsafePointer(z.pointer) }
        condition(z.pointer, width: config.latentDim, labels: latentLabels.baseAddress!, rows: rows, into: conditionedZ.pointer)
        return UnsafePointer(conditionedZ.pointer)
    }

    /// Runs the hidden layers from `input`, each into its activation buffer; returns the last output.
    private func hiddenLayers(_ layers: [Dense], _ activations: [Tensor], from input: UnsafePointer<Float>, rows: Int) -> UnsafePointer<Float> {
        var x = input
        for (layer, act) in zip(layers, activations) {
            layer.forward(x, rows: rows, into: act.pointer)
            switch config.activation {
            case .relu: Kernels.relu(act.pointer, count: rows * layer.outFeatures)
            case .tanh: Kernels.tanh(act.pointer, count: rows * layer.outFeatures)
            }
            x = UnsafePointer(act.pointer)
        }
        return x
    }

    /// dL/d(pre-activation) from dL/d(activation) in place, given the activation.
    private func activationBackward(_ d: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count: Int) {
        switch config.activation {
        case .relu: Kernels.reluBackward(d, output: y, count: count)
        case .tanh: Kernels.tanhBackward(d, output: y, count: count)
        }
    }

    private func reconstructionLoss(rows: Int, targets: UnsafePointer<Float>, rowLoss: UnsafeMutablePointer<Double>,
                                    computeGradients: Bool) -> Double {
        let D = config.inputDim
        let grad = computeGradients ? gradLogits.pointer : nil
        switch config.likelihood {
        case .bernoulli:
            Kernels.bceWithLogits(logits: logits.pointer, targets: targets, grad: grad, rows: rows, cols: D, rowLoss: rowLoss)
        case .gaussian:
            let s = config.sigma
            Kernels.gaussianSigmoid(logits: logits.pointer, targets: targets, inverseVariance: 1 / (s * s),
                                    grad: grad, rows: rows, cols: D, rowLoss: rowLoss)
        }
        var total = 0.0
        for r in 0..<rows {
            rowLoss[r] += reconstructionConstant
            total += rowLoss[r]
        }
        return total
    }

    /// Gradients of the objective of the last forward pass (which must have
    /// had `computeGradients: true`) with respect to every parameter, written
    /// into `parameters.gradients`.
    ///
    /// - Parameter layerDone: called with each layer's flat parameter range as
    ///   soon as its gradient is final and its weights are no longer needed by
    ///   this pass, so an optimizer can update it while it is still in cache.
    ///   The ranges cover every parameter exactly once.
    public func backward(rows: Int, layerDone: (Range<Int>) -> Void = { _ in }) {
        let L = config.latentDim, K = samples, latentRows = rows * K
        // Decoder, output layer first.
        var dy = gradLogits.pointer
        for i in stride(from: decoder.count, through: 0, by: -1) {
            let layer = i == decoder.count ? output : decoder[i]
            let input = i == 0 ? (conditionedZ ?? z).pointer : decoderActivations[i - 1].pointer
            let dInput = i == 0 ? (gradConditionedZ ?? gradZ).pointer : gradDecoder[i - 1].pointer
            layer.backward(input: input, gradOutput: dy, rows: latentRows, gradInput: dInput)
            layerDone(layer.parameterRange)
            if i > 0 { activationBackward(dInput, output: decoderActivations[i - 1].pointer, count: latentRows * layer.inFeatures) }
            dy = dInput
        }
        if let gradConditionedZ {
            let C = config.labelClasses
            for r in 0..<latentRows { (gradZ.pointer + r * L).update(from: gradConditionedZ.pointer + r * (L + C), count: L) }
        }
        let post = posterior.pointer, eps = epsilon.pointer, s = sigma.pointer
        let dz = gradZ.pointer, dpost = gradPosterior.pointer, beta = klWeight
        if K == 1 {
            // Through z = μ + ε·σ and β·KL: dμ = dz + β μ; d log σ² = ½ (dz ε σ + β (σ² − 1)).
            for r in 0..<rows {
                for j in 0..<L {
                    let k = r * L + j, mu = post[r * 2 * L + j], sd = s[k]
                    dpost[r * 2 * L + j] = dz[k] + beta * mu
                    dpost[r * 2 * L + L + j] = 0.5 * (dz[k] * eps[k] * sd + beta * (sd * sd - 1))
                }
            }
        } else {
            // −w̃_k β (log p(z_k) − log q(z_k|x)) adds β w̃_k z_k to dz_k and −½ β w̃_k to
            // d log σ²; then through z_k = μ + ε_k σ, summed over the K draws.
            let zp = z.pointer
            for r in 0..<rows {
                for j in 0..<L {
                    let sd = s[r * L + j]
                    var dmu: Float = 0, dlv: Float = 0
                    for k in 0..<K {
                        let row = r * K + k, i = row * L + j
                        let g = dz[i] + beta * sampleWeight[row] * zp[i]
                        dmu += g
                        dlv += g * eps[i]
                    }
                    dpost[r * 2 * L + j] = dmu
                    dpost[r * 2 * L + L + j] = 0.5 * (dlv * sd - beta)
                }
            }
        }
        // Encoder, heads first.
        dy = dpost
        for i in stride(from: encoder.count, through: 0, by: -1) {
            let layer = i == encoder.count ? head : encoder[i]
            let input = i == 0 ? (conditionedInput ?? self.input).pointer : encoderActivations[i - 1].pointer
            let dInput: UnsafeMutablePointer<Float>? = i == 0 ? nil : gradEncoder[i - 1].pointer
            layer.backward(input: input, gradOutput: dy, rows: rows, gradInput: dInput)
            layerDone(i == encoder.count ? headRange : layer.parameterRange)
            if let dInput {
                activationBackward(dInput, output: encoderActivations[i - 1].pointer, count: rows * layer.inFeatures)
                dy = dInput
            }
        }
    }

    /// Bernoulli means / Gaussian means sigmoid(logits) of the last decode, into `out` ([rows, inputDim]).
    public func means(rows: Int, into out: UnsafeMutablePointer<Float>) {
        Kernels.sigmoid(logits.pointer, into: out, count: rows * config.inputDim)
    }
}

/// A model that cannot be built as asked.
public enum ModelError: Error, CustomStringConvertible, Sendable {
    case invalid(String)
    public var description: String {
        switch self {
        case .invalid(let why): return "invalid model: \(why)"
        }
    }
}

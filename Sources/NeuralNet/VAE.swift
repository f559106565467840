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

    /// Hidden layers (Dense, activation, …) and the μ/log σ² head: one Dense
    /// of 2·latent outputs whose columns [0, L) are μ and [L, 2L) log σ²
    /// (the two heads' parameters are adjacent in storage). Writes `posterior`.
    public let encoder: Sequential
    /// Hidden layers and the output layer; writes `logits`.
    public let decoder: Sequential
    /// The decoder's last layer when it is linear (`logLikelihood` runs it
    /// without its bias, which the likelihood kernel adds); nil otherwise.
    let outputLayer: Dense?
    /// The fused μ/log σ² head (the encoder's last layer).
    let head: Dense
    /// Zeros in place of the output bias for `logLikelihood` when the decoder does not end in a linear layer.
    let zeroBias: Tensor
    /// p(x | z) from the decoder's logits.
    public let likelihood: any DecoderLikelihood
    /// The one-hot label appended to the encoder's input and to z (conditional models).
    let conditioning: LabelConditioning?

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
    let sigma: Tensor
    let gradLogits: Tensor
    let gradZ: Tensor
    let gradConditionedZ: Tensor?
    let gradPosterior: Tensor
    /// Inputs repeated once per sample (K > 1), the likelihood's targets.
    let repeatedInput: Tensor?
    let sampleReconstruction: UnsafeMutableBufferPointer<Double>
    let sampleLogRatio: UnsafeMutableBufferPointer<Double>
    let sampleWeight: UnsafeMutableBufferPointer<Float>
    /// The objective of the last forward pass, which `backward` differentiates.
    private var lastObjective: any Objective = ELBOObjective(beta: 1)

    /// - Throws: `ModelError` for an invalid configuration or workspace size,
    ///   `TensorError` when the memory cannot be had.
    /// - Parameter shared: a model of the same configuration whose parameter
    ///   values this one uses (not copies), with gradients of its own.
    public init(config: ModelConfig, maxRows: Int, maxSamples: Int = 1, sharingParametersWith shared: VAE? = nil) throws {
        guard config.problems.isEmpty else { throw ModelError.invalid(config.problems.joined(separator: "; ")) }
        guard maxRows >= 1, maxSamples >= 1, maxRows <= 1 << 24, maxSamples <= 1 << 16 else {
            throw ModelError.invalid("a workspace of \(maxRows) rows × \(maxSamples) samples is out of range")
        }
        self.config = config
        self.maxRows = maxRows
        self.maxSamples = maxSamples
        guard case .success(let plan) = config.plan() else { throw ModelError.invalid("the configuration has no network plan") }
        // Storage order: each layer's weight then bias, except the two heads,
        // whose weights, then biases, are adjacent (one fused product).
        var layout: [(String, [Int])] = []
        for layer in plan.encoder { layout += layer.parameterShapes }
        let (mu, logvar) = (plan.mu.parameterShapes, plan.logvar.parameterShapes)
        layout += [mu[0], logvar[0], mu[1], logvar[1]]
        for layer in plan.decoder { layout += layer.parameterShapes }
        let p: ParameterSet
        if let shared {
            guard shared.config == config else {
                throw ModelError.invalid("a model can share parameters only with one of its own configuration")
            }
            p = try ParameterSet(sharingValuesOf: shared.parameters)
        } else {
            p = try ParameterSet(layout: layout, stateDictOrder: config.parameterShapes.map(\.0))
        }
        parameters = p

        let width = plan.mu.input.reduce(1, *)
        let D = config.inputDim
        let L = config.latentDim
        let C = config.labelClasses
        let S = maxRows * maxSamples
        let (muName, logvarName) = (plan.mu.name ?? "mu", plan.logvar.name ?? "logvar")
        head = Dense(
            weight: p.span("\(muName).weight", "\(logvarName).weight", shape: [2 * L, width], of: p.values),
            bias: p.span("\(muName).bias", "\(logvarName).bias", shape: [2 * L], of: p.values),
            weightGradient: p.span("\(muName).weight", "\(logvarName).weight", shape: [2 * L, width], of: p.gradients),
            biasGradient: p.span("\(muName).bias", "\(logvarName).bias", shape: [2 * L], of: p.gradients))
        posterior = try Tensor(shape: [maxRows, 2 * L])
        logits = try Tensor(shape: [S, D])
        encoder = try Sequential(
            try plan.encoder.map { try Self.makeLayer($0, in: p, rows: maxRows) } + [head], maxRows: maxRows, output: posterior)
        let decoderLayers = try plan.decoder.map { try Self.makeLayer($0, in: p, rows: S) }
        outputLayer = decoderLayers.last as? Dense
        zeroBias = try Tensor(shape: [D])
        decoder = try Sequential(decoderLayers, maxRows: S, output: logits)
        likelihood = config.decoderLikelihood
        conditioning = C > 0 ? LabelConditioning(classes: C) : nil

        input = try Tensor(shape: [maxRows, D])
        labels = .allocate(capacity: maxRows)
        labels.initialize(repeating: 0)
        latentLabels = .allocate(capacity: S)
        latentLabels.initialize(repeating: 0)
        epsilon = try Tensor(shape: [S, L])
        sigma = try Tensor(shape: [maxRows, L])
        z = try Tensor(shape: [S, L])
        conditionedInput = C > 0 ? try Tensor(shape: [maxRows, config.encoderInputSize]) : nil
        conditionedZ = C > 0 ? try Tensor(shape: [S, L + C]) : nil
        gradConditionedZ = C > 0 ? try Tensor(shape: [S, L + C]) : nil
        gradLogits = try Tensor(shape: [S, D])
        gradZ = try Tensor(shape: [S, L])
        gradPosterior = try Tensor(shape: [maxRows, 2 * L])
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
    }

    /// Whether the encoder and decoder time each layer (see `Sequential.timesLayers`).
    public var timesLayers: Bool {
        get { encoder.timesLayers }
        set {
            encoder.timesLayers = newValue
            decoder.timesLayers = newValue
        }
    }

    /// Each layer's time so far, encoder (its last layer the fused heads)
    /// then decoder: the order of `ModelConfig.runLayers()`.
    public var layerNanoseconds: [LayerNanoseconds] { encoder.layerNanoseconds + decoder.layerNanoseconds }

    /// The layer that runs a planned layer, on the parameters of `p`.
    /// (`rows`: the most rows the stack runs at once; convolutions size their buffers by it.)
    static func makeLayer(_ layer: ModelConfig.PlannedLayer, in p: ParameterSet, rows: Int) throws -> any Layer {
        let size = layer.input.reduce(1, *)
        let name = layer.name ?? ""
        switch layer.spec {
        // Stacks for up to 256 rows (a worker's share of a batch) run their linear
        // layers' forward product transposed; larger ones (the importance
        // sampler's 500-row chunks) plainly, where the transpose back costs more.
        case .linear: return rows <= Dense.transposedRowLimit ? try Dense(name, in: p, rows: rows) : Dense(name, in: p)
        case .activation(let f): return ActivationLayer(f, size: size)
        case .leakyReLU(let slope): return LeakyReLULayer(slope: slope, size: size)
        case .flatten, .unflatten: return ReshapeLayer(size: size)
        case .conv2d(let c):
            let geometry = ConvolutionGeometry(
                channels: layer.input[0], height: layer.input[1], width: layer.input[2], kernel: c.kernel, stride: c.stride,
                padding: c.padding)
            return try Conv2d(name, in: p, geometry: geometry, batch: rows)
        case .convTranspose2d(let c):
            return try ConvTranspose2d(
                name, in: p, inChannels: layer.input[0], inputHeight: layer.input[1], inputWidth: layer.input[2], kernel: c.kernel,
                stride: c.stride, padding: c.padding, outputPadding: c.outputPadding, batch: rows)
        }
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

    /// The latent buffers the objectives work on.
    private var latent: LatentBuffers {
        LatentBuffers(
            latentDim: config.latentDim, posterior: posterior.pointer, epsilon: epsilon.pointer, sigma: sigma.pointer,
            z: z.pointer, kl: kl.baseAddress!, reconstruction: reconstruction.baseAddress!,
            sampleReconstruction: sampleReconstruction.baseAddress!, sampleLogRatio: sampleLogRatio.baseAddress!,
            sampleWeight: sampleWeight.baseAddress!)
    }

    /// A model with the same configuration and parameters and its own
    /// workspace for `maxRows` rows (for running copies on several threads).
    public func copy(maxRows rows: Int, maxSamples: Int = 1) throws -> VAE {
        let m = try VAE(config: config, maxRows: rows, maxSamples: maxSamples)
        m.parameters.values.pointer.update(from: parameters.values.pointer, count: parameters.count)
        return m
    }

    /// Draws fresh parameters as PyTorch's default initialization of each
    /// layer does, layer by layer in state_dict order.
    public func initialize(using random: inout RandomStream) {
        for layer in encoder.layers.dropLast() { (layer as? any InitializableLayer)?.initialize(using: &random) }
        // The fused head holds two layers; initialize each with its own fan-in bound.
        let L = config.latentDim
        let width = head.inFeatures
        let bound = 1 / Float(width).squareRoot()
        let w = head.weight.buffer
        let b = head.bias.buffer
        for half in 0..<2 {
            for i in (half * L * width)..<((half + 1) * L * width) { w[i] = (2 * random.nextFloat() - 1) * bound }
            for i in (half * L)..<((half + 1) * L) { b[i] = (2 * random.nextFloat() - 1) * bound }
        }
        for layer in decoder.layers { (layer as? any InitializableLayer)?.initialize(using: &random) }
    }

    /// Forward pass for the first `rows` rows of `input` (and `labels`) and
    /// the first `rows · samples` rows of `epsilon`.
    /// - Parameters:
    ///   - samples: latent draws per image: 1 for the ELBO (closed-form KL),
    ///     K > 1 for the importance-weighted bound (at most `maxSamples`).
    ///   - computeGradients: also write dL/dlogits for a following `backward`.
    ///   - klWeight: β multiplying the KL term (with K > 1, log p(z) − log q(z|x))
    ///     in the objective and its gradient.
    ///   - encoderFrom: the encoder layer to start at: above 0 when the
    ///     caller has written the output of the layer below it for these rows
    ///     into its buffer (`Sequential.output(ofLayer:)`), as `BatchWorkers`
    ///     does for a layer the workers compute together (having run the
    ///     layers below it with `encodePrefix`, or, for a first layer, on the
    ///     raw input of a model that is not conditional).
    /// - Returns: (Σ reconstruction, Σ KL) over the rows, in nats, unweighted;
    ///   `objective` holds what the gradient is of.
    @discardableResult
    public func forward(
        rows: Int, samples: Int = 1, computeGradients: Bool = false,
        klWeight: Float = 1, encoderFrom: Int = 0
    ) -> (reconstruction: Double, kl: Double) {
        beginForward(rows: rows, samples: samples, klWeight: klWeight, encoderFrom: encoderFrom)
        return endForward(computeGradients: computeGradients)
    }

    /// What `beginForward` leaves for `endForward`.
    private struct PendingForward {
        let rows: Int
        let samples: Int
        let klSum: Double
        let targets: UnsafePointer<Float>
    }
    private var pending: PendingForward?

    /// The first part of `forward` (same parameters): the encoder, the
    /// latent draws and the decoder, all of it or (`decoderUpTo`) its layers
    /// below that one, whose output the caller then writes before
    /// `continueDecoder` (as `BatchWorkers` does for a decoder layer the
    /// workers compute together). `endForward` finishes the pass. With one
    /// draw per image, `targets` (rows of `inputDim` values) are what the
    /// likelihood scores instead of `input`: `BatchWorkers` passes its
    /// model's rows when the encoder ran from the model's `input` (its first
    /// layer split), rather than copying them.
    public func beginForward(
        rows: Int, samples: Int = 1, klWeight: Float = 1, encoderFrom: Int = 0, decoderUpTo: Int? = nil,
        targets targetRows: UnsafePointer<Float>? = nil
    ) {
        precondition(rows >= 0 && rows <= maxRows && samples >= 1 && samples <= maxSamples)
        precondition(encoderFrom >= 0 && encoderFrom < encoder.layers.count)
        precondition(decoderUpTo.map { $0 >= 1 && $0 <= decoder.layers.count } ?? true)
        let objective: any Objective =
            samples == 1
            ? ELBOObjective(beta: klWeight) : ImportanceWeightedObjective(samples: samples, beta: klWeight)
        lastObjective = objective
        let b = latent
        if encoderFrom == 0 {
            encode(rows: rows)
        } else {
            encoder.forward(fromLayer: encoderFrom, rows: rows)
        }
        let klSum = objective.sample(b, rows: rows)
        let D = config.inputDim
        let latentRows = rows * samples
        precondition(targetRows == nil || samples == 1, "K > 1 draws repeat `input` itself")
        var targets = targetRows ?? UnsafePointer(input.pointer)
        if samples == 1 {
            if conditioning != nil { latentLabels.baseAddress!.update(from: labels.baseAddress!, count: rows) }
        } else {
            let repeated = repeatedInput!.pointer
            for r in 0..<rows {
                for k in 0..<samples {
                    (repeated + (r * samples + k) * D).update(from: input.pointer + r * D, count: D)
                    latentLabels[r * samples + k] = labels[r]
                }
            }
            targets = UnsafePointer(repeated)
        }
        if let decoderUpTo {
            _ = decoder.forward(decoderInput(rows: latentRows), rows: latentRows, layers: decoderUpTo)
        } else {
            decode(rows: latentRows)
        }
        pending = PendingForward(rows: rows, samples: samples, klSum: klSum, targets: targets)
    }

    /// The encoder's first `layers` layers on the first `rows` rows of
    /// `input` (and `labels`): what `BatchWorkers` runs on a worker's rows
    /// below an encoder layer the workers compute together, before
    /// `beginForward(encoderFrom:)` above it.
    public func encodePrefix(rows: Int, layers: Int) {
        precondition(rows >= 0 && rows <= maxRows && layers >= 1 && layers < encoder.layers.count)
        _ = encoder.forward(encoderInput(rows: rows), rows: rows, layers: layers)
    }

    /// The decoder's layers from `first` up, on the output of layer `first −
    /// 1` the caller wrote (see `beginForward(decoderUpTo:)`), for the rows of
    /// the pass `beginForward` began (nothing when `first` is past the last layer).
    public func continueDecoder(from first: Int) {
        guard let p = pending else { preconditionFailure("continueDecoder without beginForward") }
        guard first < decoder.layers.count else { return }
        decoder.forward(fromLayer: first, rows: p.rows * p.samples)
    }

    /// The rest of the pass `beginForward` began: the likelihood of `logits`
    /// and the objective. - Returns: as `forward`.
    ///
    /// `logits` and `gradLogits`, when given, stand for this model's buffers
    /// (rows of `inputDim` values): `BatchWorkers` passes its model's rows
    /// when the workers computed the decoder's last layer together, so that
    /// neither is copied.
    @discardableResult
    public func endForward(
        computeGradients: Bool, logits logitsOverride: UnsafePointer<Float>? = nil,
        gradLogits gradOverride: UnsafeMutablePointer<Float>? = nil
    ) -> (reconstruction: Double, kl: Double) {
        guard let p = pending else { preconditionFailure("endForward without beginForward") }
        pending = nil
        let D = config.inputDim
        let latentRows = p.rows * p.samples
        let grad = computeGradients ? gradOverride ?? gradLogits.pointer : nil
        var recSum = likelihood.negativeLogLikelihood(
            logits: logitsOverride ?? UnsafePointer(logits.pointer), targets: p.targets, grad: grad, rows: latentRows, cols: D,
            rowLoss: p.samples == 1 ? latent.reconstruction : latent.sampleReconstruction)
        recSum /= Double(p.samples)
        self.objective = lastObjective.loss(latent, rows: p.rows, reconstructionSum: recSum, klSum: p.klSum, gradLogits: grad, cols: D)
        return (recSum, p.klSum)
    }

    /// Encoder only: q(z|x) of the first `rows` rows of `input` (and `labels`)
    /// into `posterior` (μ in columns [0, L), log σ² in [L, 2L)).
    public func encode(rows: Int) {
        precondition(rows >= 0 && rows <= maxRows)
        encoder.forward(encoderInput(rows: rows), rows: rows)
    }

    /// The encoder's input: x, or [x, one-hot label] for a conditional model.
    private func encoderInput(rows: Int) -> UnsafePointer<Float> {
        guard let conditioning, let conditionedInput else { return UnsafePointer(input.pointer) }
        let planes = config.labelsAsPlanes
        conditioning.append(
            to: input.pointer, width: config.inputDim, labels: labels.baseAddress!, rows: rows,
            planeSize: planes ? config.inputShape[1] * config.inputShape[2] : 1, into: conditionedInput.pointer)
        return UnsafePointer(conditionedInput.pointer)
    }

    /// The decoder's first input: z, or [z, one-hot label] for a conditional model.
    private func decoderInput(rows: Int) -> UnsafePointer<Float> {
        guard let conditioning, let conditionedZ else { return UnsafePointer(z.pointer) }
        conditioning.append(
            to: z.pointer, width: config.latentDim, labels: latentLabels.baseAddress!, rows: rows, into: conditionedZ.pointer)
        return UnsafePointer(conditionedZ.pointer)
    }

    /// log p(x | z_r) in nats, constants included, of one image `x`
    /// (`config.inputDim` values) for each of the first `rows` rows of `z`
    /// (with `latentLabels` for a conditional model): the decoder for many
    /// latent draws of the same image. The output bias is added inside the
    /// likelihood kernel, so `logits` holds the logits without it afterwards.
    public func logLikelihood(of x: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Double>) {
        precondition(rows >= 0 && rows <= maxRows * maxSamples)
        let D = config.inputDim
        guard let output = outputLayer else {
            decoder.forward(decoderInput(rows: rows), rows: rows)
            likelihood.logLikelihood(logits: logits.pointer, bias: zeroBias.pointer, target: x, rows: rows, cols: D, into: out)
            return
        }
        let h = decoder.forward(decoderInput(rows: rows), rows: rows, layers: decoder.layers.count - 1)
        BLAS.gemm(
            transB: true, m: rows, n: D, k: output.inFeatures, a: h, lda: output.inFeatures,
            b: output.weight.pointer, ldb: output.inFeatures, c: logits.pointer, ldc: D)
        likelihood.logLikelihood(logits: logits.pointer, bias: output.bias.pointer, target: x, rows: rows, cols: D, into: out)
    }

    /// Decoder from `z` (and `latentLabels`) to `logits` for `rows` rows.
    public func decode(rows: Int) {
        precondition(rows >= 0 && rows <= maxRows * maxSamples)
        decoder.forward(decoderInput(rows: rows), rows: rows)
    }

    /// Gradients of the objective of the last forward pass (which must have
    /// had `computeGradients: true`) with respect to every parameter, written
    /// into `parameters.gradients`: `backwardDecoder`, `backwardLatent`,
    /// then `backwardEncoder`.
    ///
    /// - Parameter layerDone: called with each layer's flat parameter range as
    ///   soon as its gradient is final and its weights are no longer needed by
    ///   this pass, so an optimizer can update it while it is still in cache.
    ///   The ranges cover every parameter exactly once.
    public func backward(rows: Int, layerDone: (Range<Int>) -> Void = { _ in }) {
        backwardDecoder(rows: rows, layerDone: layerDone)
        backwardLatent(rows: rows)
        backwardEncoder(rows: rows, layerDone: layerDone)
    }

    /// The decoder's part of `backward`: its layers `top` down to `bottom`
    /// (see `Sequential.backward`). From the top (`top` nil) the pass starts
    /// from dL/dlogits; below it, from dL/d(output of layer `top`) the caller
    /// wrote into `decoder.gradient(ofLayerOutput: top)` (as `BatchWorkers`
    /// does after a layer the workers compute together). Down to layer 0 it
    /// also writes dL/dz for `backwardLatent`.
    public func backwardDecoder(rows: Int, from top: Int? = nil, downTo bottom: Int = 0, layerDone: (Range<Int>) -> Void = { _ in }) {
        decoder.backward(
            input: UnsafePointer((conditionedZ ?? z).pointer), gradOutput: gradOutput(of: decoder, above: top, else: gradLogits),
            rows: rows * lastObjective.samples,
            gradInput: (gradConditionedZ ?? gradZ).pointer, from: top, downTo: bottom, layerDone: layerDone)
    }

    /// The latent draws' part of `backward`: dL/d(μ, log σ²) from the dL/dz
    /// of `backwardDecoder` and the objective's own terms.
    public func backwardLatent(rows: Int) {
        let L = config.latentDim
        let latentRows = rows * lastObjective.samples
        if let gradConditionedZ {
            let C = config.labelClasses
            for r in 0..<latentRows { (gradZ.pointer + r * L).update(from: gradConditionedZ.pointer + r * (L + C), count: L) }
        }
        lastObjective.posteriorGradient(latent, rows: rows, gradZ: gradZ.pointer, into: gradPosterior.pointer)
    }

    /// The encoder's part of `backward`, from dL/d(μ, log σ²) (`top` nil) or
    /// from dL/d(output of layer `top`) in `encoder.gradient(ofLayerOutput:)`,
    /// down to layer `bottom` (above 0 leaves dL/d(output of layer bottom − 1)
    /// in its gradient buffer: `BatchWorkers` does that layer for all workers).
    public func backwardEncoder(rows: Int, from top: Int? = nil, downTo bottom: Int = 0, layerDone: (Range<Int>) -> Void = { _ in }) {
        encoder.backward(
            input: UnsafePointer((conditionedInput ?? input).pointer), gradOutput: gradOutput(of: encoder, above: top, else: gradPosterior),
            rows: rows, gradInput: nil, from: top, downTo: bottom, layerDone: layerDone)
    }

    /// Where a backward pass through `stack` starts: dL/d(output of layer
    /// `top`) in its gradient buffer, or `whole`, the gradient of its output, from the top.
    private func gradOutput(of stack: Sequential, above top: Int?, else whole: Tensor) -> UnsafeMutablePointer<Float> {
        guard let top else { return whole.pointer }
        guard let g = stack.gradient(ofLayerOutput: top) else { preconditionFailure("layer \(top) has no gradient buffer") }
        return g
    }

    /// The means of p(x | z) of the last decode (Bernoulli means, Gaussian means sigmoid(logits)), into `out` ([rows, inputDim]).
    public func means(rows: Int, into out: UnsafeMutablePointer<Float>) {
        likelihood.mean(logits: logits.pointer, into: out, count: rows * config.inputDim)
    }
}

/// Conditioning on a class label: the one-hot label appended to each row of
/// a layer's input (the encoder's x, the decoder's z), as `torch.cat([x,
/// y_onehot], 1)` would put it.
struct LabelConditioning {
    let classes: Int

    /// Rows of [x, one-hot(label)] from rows of x (`width` values each),
    /// each label value repeated `planeSize` times (a plane per class for a
    /// convolutional encoder, 1 otherwise).
    func append(
        to x: UnsafePointer<Float>, width: Int, labels: UnsafePointer<Int32>, rows: Int, planeSize: Int = 1,
        into out: UnsafeMutablePointer<Float>
    ) {
        let C = classes
        let w = width + C * planeSize
        for r in 0..<rows {
            let row = out + r * w
            row.update(from: x + r * width, count: width)
            (row + width).update(repeating: 0, count: C * planeSize)
            let label = Int(labels[r])
            precondition(label >= 0 && label < C, "label \(label) outside [0, \(C))")
            (row + width + label * planeSize).update(repeating: 1, count: planeSize)
        }
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

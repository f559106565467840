import Dispatch
import NumericCore

/// Runs each batch of a model split across worker copies that share its
/// parameter values, one thread per worker, each with its own buffers and
/// gradients: data parallelism on the cores of one machine.
///
/// Run it with single-threaded matrix products (`BLAS.setThreads(1)`): two
/// 64-row products on two cores beat one 128-row product on two OpenBLAS
/// threads, whose threads spend much of a small product waiting on each other.
///
/// The caller writes the whole batch into `model` (`input`, `labels`,
/// `epsilon`) exactly as for `model.forward`; the per-row results
/// (`reconstruction`, `kl`, `posterior`) come back into `model`'s buffers.
/// Sums over rows are taken from the per-row values in row order, so they do
/// not depend on the split. The parameter gradient is the workers' gradients
/// added in worker order: a fixed order, so a run is a pure function of its
/// seed and worker count (a different worker count rounds differently).
///
/// Two choices keep each core on weights it wrote itself (the forward
/// products ran about 10 % faster without Adam's writes before them): the
/// workers compute the widest linear layer of the encoder and of the decoder
/// together, each its own units (the rows of the weight it updates, whole
/// 16-unit blocks) over the whole batch, in the model's buffers
/// (`splitLayers`), and Adam gives each thread those rows (`updateShares`).
/// Each worker runs its rows up to such a layer and copies its input rows
/// into the model's buffer; after the layer it copies its rows of the output
/// back and runs on. Going back, each worker copies its rows of
/// dL/d(output); the layer's weight gradient is one product over all rows
/// per thread's units, kept in the owner's gradient buffer and given to Adam
/// alone (no sum), and each thread's part of dL/d(input) is added in worker
/// order for each worker's rows before it runs on down. Units left over
/// from whole blocks (400 = 192 + 192 + 16) are computed by every thread for
/// its rows, their gradient summed like an unsplit layer's. No core then
/// reads weights of those layers that the other core wrote (but for the
/// leftover units). On the tutorial MLP (its first and last layers) this
/// gained 4–6 % with the first layer's forward and Adam by tensor rows (five
/// A/B pairs on a 2-core Xeon, SkylakeX kernels: 1.066–1.097 against
/// 1.114–1.153 s per epoch; Adam's pass 0.13 against 0.17–0.19 s), 2–5 % more
/// with the last layer, 1–2 % more with the first layer's backward, about
/// 1.5 % more with the leftover units shared (ten A/B pairs: median 1.037
/// against 1.053 s). A decoder layer is split only in passes with one latent
/// draw per image (the decoder's rows are then the batch's).
public final class BatchWorkers {
    /// The model whose parameters the workers share, and whose buffers hold the whole batch.
    public let model: VAE
    /// The copies that run the parts of a batch (empty for one worker: `model` runs it all).
    let workers: [VAE]

    /// Each worker's objective in the last step (allocated once: nothing is allocated per batch).
    private let objectives: UnsafeMutableBufferPointer<Double>
    /// The workers' gradient buffers, in worker order.
    private let gradientParts: [UnsafePointer<Float>]
    /// The encoder's and the decoder's layer the workers compute together (see `splitLayers`).
    private let encoderSplit: SplitLayer?
    private let decoderSplit: SplitLayer?

    /// The layers the workers compute together, each its share of the units
    /// over the whole batch: with more than one worker, in an encoder or
    /// decoder of linear layers only, its linear layer with the most weights
    /// (in the encoder not its heads, nor its first layer when the model is
    /// conditional: that layer's input is built per worker; in the decoder
    /// not its first layer, whose input the latent draws build per worker),
    /// among those the model made for the whole batch; the decoder's only in
    /// passes with one latent draw per image. Indices in each stack
    /// (`Sequential.layers`); the tutorial MLP: its first and its last layer.
    /// Not in a stack with convolutions: splitting the convolutional recipe's
    /// two 3136-wide linear layers made Adam 0.02 s per epoch faster (no sum
    /// of the workers' gradients for 90 % of its parameters) but the passes
    /// slower by more (2-core Xeon, 12,800 images, eight A/B pairs: median
    /// 2.12 against 2.08 s per epoch), and neither layer alone gained: their
    /// weights (3.2 MB each) leave a core's cache between Adam and their use anyway.
    public var splitLayers: (encoder: Int?, decoder: Int?) { (encoderSplit?.index, decoderSplit?.index) }

    /// Whether the last step split the decoder's layer (steps with one latent
    /// draw do; the encoder's, when there is one, is split in every step).
    private var lastStepSplitDecoder = false

    /// The split layer the last step split whose parameters hold flat offset
    /// `offset` (the decoder's only when the step split it), or nil.
    private func splitLayer(holding offset: Int) -> SplitLayer? {
        if let e = encoderSplit, e.model.flatRange.contains(offset) { return e }
        if lastStepSplitDecoder, let d = decoderSplit, d.model.flatRange.contains(offset) { return d }
        return nil
    }

    /// What one thread updates in Adam's pass: flat ranges of the parameters
    /// whose gradient is its own worker's (its unit rows of a split layer), and
    /// ranges whose gradient is the sum of the workers'.
    struct UpdateShare: Equatable {
        var own: [Range<Int>] = []
        var summed: [Range<Int>] = []
    }
    /// `updateShares` as computed for each worker count and decoder split (made once each).
    private var updatePlans: [Int: [UpdateShare]] = [:]

    /// Each of `n` threads' part of Adam's pass after a step: thread t updates
    /// its unit rows of every split layer (the weights it computes and reads;
    /// see `splitLayers`), and a run of the other parameters, read by every
    /// worker, so that the threads' work evens out: a summed value costs about
    /// 1.5 own ones (it reads two gradients; 1.04–1.14 against 0.62–0.70 ns
    /// per value on a 2-core Xeon). Each thread used to take its share of every
    /// tensor's rows: the tutorial MLP's 20-row heads then all went to one
    /// thread, whose Adam took 11 % longer than the other's. Which thread
    /// updates a value changes none of its bits.
    func updateShares(_ n: Int) -> [UpdateShare] {
        let key = n * 2 + (lastStepSplitDecoder ? 1 : 0)
        if let plan = updatePlans[key] { return plan }
        var shares = [UpdateShare](repeating: UpdateShare(), count: n)
        var others: [Range<Int>] = []
        func other(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            if let last = others.last, last.upperBound == range.lowerBound {
                others[others.count - 1] = last.lowerBound..<range.upperBound
            } else {
                others.append(range)
            }
        }
        for e in model.parameters.entries.sorted(by: { $0.offset < $1.offset }) where e.count > 0 {
            guard let layer = splitLayer(holding: e.offset) else {
                other(e.offset..<(e.offset + e.count))
                continue
            }
            // The weight's or bias's rows: each thread's own units, then the shared ones (a sum).
            let perRow = e.count / layer.model.outFeatures
            func rows(_ units: Range<Int>) -> Range<Int> { (e.offset + units.lowerBound * perRow)..<(e.offset + units.upperBound * perRow) }
            for t in 0..<n {
                let range = rows(layer.ownUnits(t, of: n))
                if !range.isEmpty { shares[t].own.append(range) }
            }
            other(rows(layer.sharedUnits(of: n)))
        }
        // Work in units of half an own value: own 2, summed 3.
        let own = shares.map { 2 * $0.own.reduce(0) { $0 + $1.count } }
        let summedCount = others.reduce(0) { $0 + $1.count }
        let target = (own.reduce(0, +) + 3 * summedCount) / n
        var next = others.makeIterator()
        var current = next.next()
        for t in 0..<n {
            // A multiple of 16 values (64 bytes), the last thread the rest.
            var quota = t == n - 1 ? summedCount : max(0, (target - own[t]) / 3) / 16 * 16
            while quota > 0, let range = current {
                let take = min(quota, range.count)
                shares[t].summed.append(range.lowerBound..<(range.lowerBound + take))
                quota -= take
                current = take == range.count ? next.next() : (range.lowerBound + take)..<range.upperBound
            }
        }
        updatePlans[key] = shares
        return shares
    }

    /// Where the last `step`'s time went, in seconds: the forward and backward
    /// passes (with the loss check), and the optimizer's pass over the
    /// parameters, or nil when it ran inside the backward pass (one worker:
    /// each layer updated as soon as its gradient is final).
    public struct StepTimes: Sendable, Equatable {
        public var passes: Double = 0
        public var optimizer: Double? = nil
    }
    public private(set) var lastStepTimes = StepTimes()

    /// Workers a batch is split across (1: the model alone, as `model.forward` / `backward`).
    public var count: Int { max(1, workers.count) }

    /// One step's sums over its rows, in nats.
    public struct Sums: Sendable, Equatable {
        public var reconstruction: Double
        public var kl: Double
        /// What the gradient is of (see `VAE.objective`).
        public var objective: Double
    }

    /// - Parameter count: workers to split batches across (at most `model.maxRows`).
    /// - Throws: `TensorError` when a worker's buffers cannot be allocated.
    public init(_ model: VAE, count: Int) throws {
        let n = max(1, min(count, model.maxRows))
        let rowsEach = (model.maxRows + n - 1) / n
        let workers =
            n == 1
            ? []
            : try (0..<n).map { _ in
                try VAE(config: model.config, maxRows: rowsEach, maxSamples: model.maxSamples, sharingParametersWith: model)
            }
        // Everything that can throw before the one allocation deinit frees.
        encoderSplit = try SplitLayer(.encoder, of: model, workers: workers)
        decoderSplit = try SplitLayer(.decoder, of: model, workers: workers)
        self.model = model
        self.workers = workers
        objectives = .allocate(capacity: max(1, workers.count))
        objectives.initialize(repeating: 0)
        gradientParts = workers.map { UnsafePointer($0.parameters.gradients.pointer) }
    }

    /// The model alone: every batch runs unsplit (one worker; nothing to allocate that can fail).
    public init(_ model: VAE) {
        self.model = model
        workers = []
        objectives = .allocate(capacity: 1)
        objectives.initialize(repeating: 0)
        gradientParts = []
        encoderSplit = nil
        decoderSplit = nil
    }

    deinit { objectives.deallocate() }

    /// Whether every copy that runs batches times its layers (see `Sequential.timesLayers`).
    public var timesLayers: Bool {
        get { model.timesLayers }
        set {
            model.timesLayers = newValue
            for w in workers { w.timesLayers = newValue }
        }
    }

    /// Each layer's time so far, added over the workers (thread time: with two
    /// workers busy at once it can reach twice the wall clock), in the order
    /// of `ModelConfig.runLayers()`.
    public var layerNanoseconds: [LayerNanoseconds] {
        workers.reduce(model.layerNanoseconds) { total, w in zip(total, w.layerNanoseconds).map(+) }
    }

    /// Workers taking part in a batch of `rows` (none gets an empty share).
    private func active(_ rows: Int) -> Int { min(workers.count, rows) }

    /// Forward pass over the first `rows` rows of the model's batch (see
    /// `VAE.forward`), without gradients: per-row results into `model`.
    @discardableResult
    public func forward(rows: Int, samples: Int = 1, klWeight: Float = 1) -> Sums {
        let n = active(rows)
        guard n > 1 else {
            model.forward(rows: rows, samples: samples, klWeight: klWeight)
            return sums(rows: rows, objective: model.objective)
        }
        return sums(rows: rows, objective: runShares(n, rows: rows, samples: samples, klWeight: klWeight, backward: false))
    }

    /// One training step on the first `rows` rows of the model's batch:
    /// forward with gradients, `check` of the sums (throw to stop before any
    /// parameter changes), backward, then one `optimizer` step. With one
    /// worker this is `model.forward`, then `model.backward(rows:layerDone:)`
    /// updating each layer as soon as its gradient is final; with more, each
    /// thread adds the workers' gradients over its own slice of the parameters
    /// (in worker order, inside the update pass) and updates that slice.
    /// The batch's gradient is not stored on the way (one memory stream fewer
    /// in a pass bound by memory); `gatherGradient()` writes it into
    /// `model.parameters.gradients` when a caller wants to see it.
    @discardableResult
    public func step(
        rows: Int, samples: Int = 1, klWeight: Float = 1, optimizer: Adam, check: (Sums) throws -> Void = { _ in }
    ) rethrows -> Sums {
        let parameters = model.parameters
        let n = active(rows)
        lastActive = n
        let start = DispatchTime.now().uptimeNanoseconds
        guard n > 1 else {
            model.forward(rows: rows, samples: samples, computeGradients: true, klWeight: klWeight)
            let s = sums(rows: rows, objective: model.objective)
            try check(s)
            optimizer.beginStep()
            model.backward(rows: rows) { optimizer.update(parameters, range: $0) }
            lastStepTimes = StepTimes(passes: seconds(since: start), optimizer: nil)
            return s
        }
        let s = sums(rows: rows, objective: runShares(n, rows: rows, samples: samples, klWeight: klWeight, backward: true))
        try check(s)
        let passes = seconds(since: start)
        optimizer.beginStep()
        let parts = activePrefix(gradientParts, n)
        let shares = updateShares(n)
        parallel(n) { t in
            for range in shares[t].own { optimizer.update(parameters, range: range, gradient: parts[t]) }
            for range in shares[t].summed { optimizer.update(parameters, range: range, summing: parts) }
        }
        lastStepTimes = StepTimes(passes: passes, optimizer: seconds(since: start) - passes)
        return s
    }

    private func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }

    /// Writes the last step's gradient, the workers' gradients added in worker
    /// order (the sum that step's update used, the same bits), into
    /// `model.parameters.gradients`. When the model ran the step alone (one
    /// worker, or a one-row batch) it is already there.
    public func gatherGradient() {
        let n = lastActive
        guard n > 1 else { return }
        let parts = activePrefix(gradientParts, n)
        Kernels.sum(parts, range: 0..<model.parameters.count, into: model.parameters.gradients.pointer)
        // A split layer's own rows: each worker's alone, not a sum.
        for (t, share) in updateShares(n).enumerated() {
            for range in share.own {
                (model.parameters.gradients.pointer + range.lowerBound).update(from: parts[t] + range.lowerBound, count: range.count)
            }
        }
    }

    /// Workers that took part in the last step (their gradients are the step's).
    private var lastActive = 0

    /// Runs workers 0..<n on their shares of the batch (forward, and backward
    /// into their own gradients when asked), with the split layers computed
    /// by all of them together; returns the summed objective. Each
    /// `parallel` region is one phase; the next starts when all are done.
    private func runShares(_ n: Int, rows: Int, samples: Int, klWeight: Float, backward: Bool) -> Double {
        let enc = encoderSplit
        let dec = samples == 1 ? decoderSplit : nil
        if backward { lastStepSplitDecoder = dec != nil }
        if let enc {
            if enc.index > 0 {
                // The encoder's layers below the split one on each worker's rows; their output into the model's buffer.
                parallel(n) { w in
                    let part = rowShare(w, of: n, rows: rows)
                    self.scatter(part, samples: samples, to: self.workers[w])
                    self.workers[w].encodePrefix(rows: part.count, layers: enc.index)
                    enc.gatherInput(part, from: w)
                }
            }
            splitForward(enc, n, rows: rows, scatteringSamples: enc.index == 0 ? samples : nil)
        }
        // With the first layer split and one draw per image, the likelihood scores the model's input rows (not copied).
        let D = model.config.inputDim
        let targets = enc?.index == 0 && samples == 1 ? UnsafePointer(model.input.pointer) : nil
        // Each worker on its rows: from the encoder's split layer (or the input) to
        // the decoder's split layer (or through the likelihood, and back when asked).
        parallel(n) { w in
            let part = rowShare(w, of: n, rows: rows)
            let worker = self.workers[w]
            if let enc { enc.scatterOutput(part, to: w) } else { self.scatter(part, samples: samples, to: worker) }
            worker.beginForward(
                rows: part.count, samples: samples, klWeight: klWeight, encoderFrom: enc.map { $0.index + 1 } ?? 0,
                decoderUpTo: dec?.index, targets: targets.map { $0 + part.lowerBound * D })
            if let dec { return dec.gatherInput(part, from: w) }
            self.finishForward(w, part, backward: backward)
            guard backward else { return }
            worker.backwardDecoder(rows: part.count)
            self.backwardBelowDecoder(w, part)
        }
        guard let dec else { return backwardEncoderSplit(n, rows: rows, backward: backward) }
        splitForward(dec, n, rows: rows)
        // Each worker on its rows: the rest of the decoder, the likelihood, and back to the split layer.
        // A split last layer's rows of the logits and their gradient stay in the model's buffers.
        let last = dec.index == model.decoder.layers.count - 1
        parallel(n) { w in
            let part = rowShare(w, of: n, rows: rows)
            let worker = self.workers[w]
            guard !last else {
                let offset = part.lowerBound * D
                return self.finishForward(w, part, backward: backward, logits: dec.output + offset, gradLogits: dec.gradOutput + offset)
            }
            dec.scatterOutput(part, to: w)
            worker.continueDecoder(from: dec.index + 1)
            self.finishForward(w, part, backward: backward)
            guard backward else { return }
            worker.backwardDecoder(rows: part.count, downTo: dec.index + 1)
            dec.gatherGradOutput(part, from: w)
        }
        guard backward else { return objectives.prefix(n).reduce(0, +) }
        splitBackward(dec, n, rows: rows)
        // Each worker on its rows: dL/d(the split layer's input), then down to the encoder's split layer (or the input).
        parallel(n) { w in
            let part = rowShare(w, of: n, rows: rows)
            dec.sumInputGradient(part, active: n, into: w)
            self.workers[w].backwardDecoder(rows: part.count, from: dec.index - 1)
            self.backwardBelowDecoder(w, part)
        }
        return backwardEncoderSplit(n, rows: rows, backward: true)
    }

    /// Worker `w`'s likelihood and objective on its rows `part`, its per-row
    /// results into the model's (dL/dlogits into its own buffer when
    /// `backward`; `logits` and `gradLogits` in place of its buffers).
    private func finishForward(
        _ w: Int, _ part: Range<Int>, backward: Bool, logits: UnsafePointer<Float>? = nil,
        gradLogits: UnsafeMutablePointer<Float>? = nil
    ) {
        let worker = workers[w]
        worker.endForward(computeGradients: backward, logits: logits, gradLogits: gradLogits)
        objectives[w] = worker.objective
        gatherResults(part, from: worker)
    }

    /// Worker `w`'s backward pass below the decoder (done to its first layer):
    /// the latent draws and the encoder, down to its split layer (then its
    /// rows of dL/d(that layer's output) into the model's buffer) or through.
    private func backwardBelowDecoder(_ w: Int, _ part: Range<Int>) {
        let worker = workers[w]
        worker.backwardLatent(rows: part.count)
        worker.backwardEncoder(rows: part.count, downTo: encoderSplit.map { $0.index + 1 } ?? 0)
        encoderSplit?.gatherGradOutput(part, from: w)
    }

    /// When the encoder has a split layer and the pass goes back: that
    /// layer's backward, then each worker's rows below it. Returns the summed objective.
    private func backwardEncoderSplit(_ n: Int, rows: Int, backward: Bool) -> Double {
        if backward, let enc = encoderSplit {
            splitBackward(enc, n, rows: rows)
            if enc.index > 0 {
                parallel(n) { w in
                    let part = rowShare(w, of: n, rows: rows)
                    enc.sumInputGradient(part, active: n, into: w)
                    self.workers[w].backwardEncoder(rows: part.count, from: enc.index - 1)
                }
            }
        }
        return objectives.prefix(n).reduce(0, +)
    }

    /// A split layer's forward product for the whole batch, each worker its
    /// units (first copying its rows of the batch in, `scatteringSamples`,
    /// when the layer is the encoder's first: nothing runs before it).
    private func splitForward(_ layer: SplitLayer, _ n: Int, rows: Int, scatteringSamples: Int? = nil) {
        parallel(n) { w in
            let worker = self.workers[w]
            if let samples = scatteringSamples {
                // The input rows only for K > 1 draws (repeated as targets); one draw scores the model's rows.
                self.scatter(rowShare(w, of: n, rows: rows), samples: samples, to: worker, input: samples > 1)
            }
            layer.stack(of: worker).timing(layer: layer.index) { layer.forward(thread: w, of: n, rows: rows) }
        }
    }

    /// A split layer's backward for the whole batch, each worker its units:
    /// its weight gradient and its share of dL/d(input).
    private func splitBackward(_ layer: SplitLayer, _ n: Int, rows: Int) {
        parallel(n) { w in
            layer.stack(of: self.workers[w]).timing(layer: layer.index, backward: true) {
                layer.backward(thread: w, of: n, rows: rows)
            }
        }
    }

    /// Copies rows `part` of the model's batch (inputs unless not `input`, labels, noise) into `worker`.
    private func scatter(_ part: Range<Int>, samples: Int, to worker: VAE, input: Bool = true) {
        let D = model.config.inputDim
        let L = model.config.latentDim
        if input { worker.input.pointer.update(from: model.input.pointer + part.lowerBound * D, count: part.count * D) }
        if model.config.isConditional {
            worker.labels.baseAddress!.update(from: model.labels.baseAddress! + part.lowerBound, count: part.count)
        }
        worker.epsilon.pointer.update(
            from: model.epsilon.pointer + part.lowerBound * samples * L, count: part.count * samples * L)
    }

    /// Copies `worker`'s per-row results back into rows `part` of the model's.
    private func gatherResults(_ part: Range<Int>, from worker: VAE) {
        let L = model.config.latentDim
        (model.reconstruction.baseAddress! + part.lowerBound).update(from: worker.reconstruction.baseAddress!, count: part.count)
        (model.kl.baseAddress! + part.lowerBound).update(from: worker.kl.baseAddress!, count: part.count)
        (model.posterior.pointer + part.lowerBound * 2 * L).update(from: worker.posterior.pointer, count: part.count * 2 * L)
    }

    /// The row sums, in row order, of the model's per-row results.
    private func sums(rows: Int, objective: Double) -> Sums {
        var reconstruction = 0.0
        var kl = 0.0
        for r in 0..<rows {
            reconstruction += model.reconstruction[r]
            kl += model.kl[r]
        }
        return Sums(reconstruction: reconstruction, kl: kl, objective: objective)
    }
}

/// The first `n` of the workers' `buffers` (one per worker): all of them
/// but in a batch smaller than the worker count, when the prefix is copied.
private func activePrefix(_ buffers: [UnsafePointer<Float>], _ n: Int) -> [UnsafePointer<Float>] {
    n == buffers.count ? buffers : Array(buffers.prefix(n))
}

/// The rows worker `w` of `n` takes of a batch of `rows`.
private func rowShare(_ w: Int, of n: Int, rows: Int) -> Range<Int> { (rows * w / n)..<(rows * (w + 1) / n) }

/// A linear layer the workers compute together (see `BatchWorkers.splitLayers`),
/// with the buffers its phases read and write: the model's for the whole
/// batch and each worker's for its rows.
private struct SplitLayer {
    enum Side {
        case encoder, decoder
        /// `m`'s stack on this side.
        func stack(of m: VAE) -> Sequential { self == .encoder ? m.encoder : m.decoder }
    }
    let side: Side
    /// The layer's index in its stack (the model's and every worker's).
    let index: Int
    /// The model's copy (its transposed-output buffer holds the whole batch).
    let model: Dense
    /// Each worker's copy, whose gradient views point into that worker's gradient buffer.
    let workers: [Dense]
    /// The layer's input, output and dL/d(output) for the whole batch (the
    /// model's buffers; the input is the model's `input` for an encoder's first layer).
    let input: UnsafeMutablePointer<Float>
    let output: UnsafeMutablePointer<Float>
    let gradOutput: UnsafeMutablePointer<Float>
    /// Each worker's buffers for its rows of the same, and of dL/d(input)
    /// (none for an encoder's first layer: no input gradient).
    let workerInputs: [UnsafeMutablePointer<Float>]
    let workerOutputs: [UnsafeMutablePointer<Float>]
    let workerGradOutputs: [UnsafeMutablePointer<Float>]
    let workerGradInputs: [UnsafeMutablePointer<Float>]
    /// Each worker's share of dL/d(input) for the whole batch, in worker order.
    let partials: [Tensor]
    let partialPointers: [UnsafePointer<Float>]

    func stack(of m: VAE) -> Sequential { side.stack(of: m) }

    /// The split layer of `side` for `workers` (see `BatchWorkers.splitLayers`), or nil.
    /// - Throws: `TensorError` when the input-gradient shares cannot be allocated.
    init?(_ side: Side, of model: VAE, workers: [VAE]) throws {
        guard workers.count > 1 else { return nil }
        let stack = side.stack(of: model)
        let layers = stack.layers
        // Linear layers only: in a stack with convolutions the split gained nothing (see `splitLayers`).
        guard layers.allSatisfy({ $0.parameterRange == nil || $0 is Dense }) else { return nil }
        let candidates =
            side == .encoder
            ? Array(stride(from: model.config.isConditional ? 1 : 0, to: layers.count - 1, by: 1))
            : Array(stride(from: 1, to: layers.count, by: 1))
        var best: (index: Int, weights: Int)?
        for i in candidates {
            guard let d = layers[i] as? Dense, d.takesUnits(rows: model.maxRows) else { continue }
            if d.inFeatures * d.outFeatures > best?.weights ?? 0 { best = (i, d.inFeatures * d.outFeatures) }
        }
        guard let i = best?.index, let dense = layers[i] as? Dense else { return nil }
        let stacks = workers.map(side.stack(of:))
        let copies = stacks.compactMap { $0.layers[i] as? Dense }
        guard copies.count == workers.count else { return nil }
        // dL/d(output of layer i) in `m`: the decoder's last layer's is `gradLogits`.
        func gradientOfOutput(_ m: VAE) -> UnsafeMutablePointer<Float>? {
            let s = side.stack(of: m)
            return i == s.layers.count - 1 ? (side == .decoder ? m.gradLogits.pointer : nil) : s.gradient(ofLayerOutput: i)
        }
        let workerGradOutputs = workers.compactMap(gradientOfOutput)
        guard let modelGradOutput = gradientOfOutput(model), workerGradOutputs.count == workers.count else { return nil }
        self.side = side
        index = i
        self.model = dense
        self.workers = copies
        input = i == 0 ? model.input.pointer : stack.output(ofLayer: i - 1)
        output = stack.output(ofLayer: i)
        gradOutput = modelGradOutput
        workerInputs = i == 0 ? [] : stacks.map { $0.output(ofLayer: i - 1) }
        workerOutputs = stacks.map { $0.output(ofLayer: i) }
        self.workerGradOutputs = workerGradOutputs
        workerGradInputs = i == 0 ? [] : stacks.compactMap { $0.gradient(ofLayerOutput: i - 1) }
        guard workerGradInputs.count == workerInputs.count else { return nil }
        partials = i == 0 ? [] : try workers.map { _ in try Tensor(shape: [model.maxRows, dense.inFeatures]) }
        partialPointers = partials.map { UnsafePointer($0.pointer) }
    }

    /// Worker `w`'s rows `part` of the layer's input into the model's buffer.
    func gatherInput(_ part: Range<Int>, from w: Int) {
        let width = model.inFeatures
        (input + part.lowerBound * width).update(from: workerInputs[w], count: part.count * width)
    }

    /// Rows `part` of the layer's output into worker `w`'s buffer.
    func scatterOutput(_ part: Range<Int>, to w: Int) {
        let width = model.outFeatures
        workerOutputs[w].update(from: output + part.lowerBound * width, count: part.count * width)
    }

    /// Worker `w`'s rows `part` of dL/d(output) into the model's buffer.
    func gatherGradOutput(_ part: Range<Int>, from w: Int) {
        let width = model.outFeatures
        (gradOutput + part.lowerBound * width).update(from: workerGradOutputs[w], count: part.count * width)
    }

    /// dL/d(input) for rows `part`: the `n` active workers' shares added in
    /// worker order, into worker `w`'s gradient buffer.
    func sumInputGradient(_ part: Range<Int>, active n: Int, into w: Int) {
        let width = model.inFeatures
        Kernels.sum(activePrefix(partialPointers, n), offset: part.lowerBound * width, count: part.count * width, into: workerGradInputs[w])
    }

    /// The units thread `t` of `n` computes for the whole batch and updates
    /// alone: an equal run of whole 16-unit blocks (the blocks of OpenBLAS's
    /// kernels, so that each value is summed as in a product of all the
    /// units: a 200-unit part changed the last bits of 3,039 of 51,200 values
    /// with the Haswell and Zen kernels, and an even 200 + 200 / 392 + 392
    /// split of the tutorial MLP ran its products about 4 % slower).
    func ownUnits(_ t: Int, of n: Int) -> Range<Int> { (t * blockUnits(n))..<((t + 1) * blockUnits(n)) }

    /// Each thread's count of own units: its equal part of the whole 16-unit blocks.
    private func blockUnits(_ n: Int) -> Int { model.outFeatures / 16 / n * 16 }

    /// The units left over (400 = 192 + 192 + 16): every thread computes
    /// them for its rows of the batch, and their gradient is the workers'
    /// sum. The threads then do the same work: with the 16 units given to one
    /// thread whole (192 + 208), the other waited 4–9 % of each split layer's time.
    func sharedUnits(of n: Int) -> Range<Int> { (n * blockUnits(n))..<model.outFeatures }

    /// Thread `t` of `n`: its own units' outputs for all `rows` rows, and the
    /// shared units' for its rows of them.
    func forward(thread t: Int, of n: Int, rows: Int) {
        model.forward(input, rows: rows, units: ownUnits(t, of: n), into: output)
        model.forward(input, rows: rows, units: sharedUnits(of: n), part: rowShare(t, of: n, rows: rows), into: output)
    }

    /// Thread `t` of `n`: its own units' weight gradient over all `rows` rows
    /// and the shared units' over its rows (into worker t's gradient buffer),
    /// and the same products' share of dL/d(input).
    func backward(thread t: Int, of n: Int, rows: Int) {
        let (own, shared, part) = (ownUnits(t, of: n), sharedUnits(of: n), rowShare(t, of: n, rows: rows))
        workers[t].backwardWeights(input: input, gradOutput: gradOutput, rows: 0..<rows, units: own)
        workers[t].backwardWeights(input: input, gradOutput: gradOutput, rows: part, units: shared)
        guard !partials.isEmpty else { return }
        model.inputGradientShare(gradOutput: gradOutput, rows: 0..<rows, units: own, into: partials[t].pointer)
        model.inputGradientShare(gradOutput: gradOutput, rows: part, units: shared, into: partials[t].pointer, accumulate: true)
    }
}

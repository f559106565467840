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
/// products ran about 10 % faster without Adam's writes before them): Adam
/// gives thread t share t of the rows of every parameter tensor (not of the
/// flat buffer), and when the encoder starts with a linear layer on the raw
/// input (the MLP recipes), the workers first compute that layer for the
/// whole batch together, each its share of the layer's units (the rows of the
/// weight it updates), before each runs its own rows through the rest
/// (`splitsFirstLayer`), and after their backward passes compute its weight
/// gradient the same way (one product over all rows, kept in the owner's
/// gradient buffer and given to Adam alone). The tutorial MLP trained 4–6 %
/// faster with the forward split and Adam by tensor rows (five A/B pairs on a
/// 2-core Xeon, SkylakeX kernels: 1.066–1.097 against 1.114–1.153 s per
/// epoch; Adam's pass 0.13 against 0.17–0.19 s), 1–2 % more with the
/// backward split (Adam 0.105–0.109 against 0.119–0.124 s). When the
/// decoder ends with a linear layer (and a step draws one latent sample per
/// image), the workers also compute that layer together, each its units over
/// the whole batch: the forward product, the weight gradient (one product
/// over all rows, kept in the owner's gradient buffer and given to Adam
/// alone, no sum), and each unit share's part of dL/d(input), added in worker
/// order for each worker's rows (`splitsLastLayer`). No core then reads
/// weights of those layers that the other core wrote.
public final class BatchWorkers {
    /// The model whose parameters the workers share, and whose buffers hold the whole batch.
    public let model: VAE
    /// The copies that run the parts of a batch (empty for one worker: `model` runs it all).
    let workers: [VAE]

    /// Each worker's objective in the last step (allocated once: nothing is allocated per batch).
    private let objectives: UnsafeMutableBufferPointer<Double>
    /// The workers' gradient buffers, in worker order.
    private let gradientParts: [UnsafePointer<Float>]
    /// The model's first encoder layer when the workers compute it together
    /// (see `splitsFirstLayer`; its output buffer in the model's encoder then
    /// holds the whole batch's first-layer output, and its gradient buffer the
    /// whole batch's dL/d(output)), with each worker's copy (gradient views
    /// into that worker's gradient buffer).
    private let firstLayer: (model: Dense, workers: [Dense])?

    /// Whether the workers compute the encoder's first layer together, each
    /// its share of the units over the whole batch: with more than one worker,
    /// an encoder that starts with a linear layer on the raw input (not
    /// conditional: its input is built per worker) followed by more layers.
    public var splitsFirstLayer: Bool { firstLayer != nil }

    /// The model's last decoder layer when the workers compute it together
    /// (see `splitsLastLayer`), with each worker's copy (whose gradient views
    /// point into that worker's gradient buffer) and each worker's share of
    /// dL/d(the layer's input) for the whole batch.
    private let lastLayer: (model: Dense, workers: [Dense], partials: [Tensor])?

    /// Whether the workers compute the decoder's last layer together in steps
    /// and evaluations with one latent draw per image: with more than one
    /// worker, a decoder of two or more layers ending with a linear layer.
    public var splitsLastLayer: Bool { lastLayer != nil }
    /// Whether the last step split the last layer (steps with one latent draw
    /// do; the first layer, when split, is split in every step).
    private var lastStepSplitLast = false

    /// Whether the tensor at flat offset `offset` belongs to a layer the last
    /// step split (each worker computed its unit rows' gradient alone).
    private func gradientIsOwn(_ offset: Int) -> Bool {
        firstLayer?.model.flatRange.contains(offset) == true
            || (lastStepSplitLast && lastLayer?.model.flatRange.contains(offset) == true)
    }

    /// The flat range of the rows of parameter tensor `e` that thread `t` of
    /// `n` updates (its `unitShare` of the tensor's first dimension).
    private func unitRange(of e: ParameterSet.Entry, thread t: Int, of n: Int) -> Range<Int> {
        let rows = e.shape.first ?? 1
        let perRow = rows > 0 ? e.count / rows : 0
        let mine = unitShare(t, of: n, units: rows)
        return (e.offset + mine.lowerBound * perRow)..<(e.offset + mine.upperBound * perRow)
    }
    /// `lastLayer`'s partials, in worker order.
    private let partialPointers: [UnsafePointer<Float>]

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
    public convenience init(_ model: VAE, count: Int) throws {
        let n = max(1, min(count, model.maxRows))
        let rowsEach = (model.maxRows + n - 1) / n
        let workers =
            n == 1
            ? []
            : try (0..<n).map { _ in
                try VAE(config: model.config, maxRows: rowsEach, maxSamples: model.maxSamples, sharingParametersWith: model)
            }
        var lastLayer: (model: Dense, workers: [Dense], partials: [Tensor])?
        let decoder = model.decoder.layers
        if n > 1, decoder.count >= 2, let last = decoder.last as? Dense, last.takesUnits(rows: model.maxRows) {
            let copies = workers.compactMap { $0.decoder.layers.last as? Dense }
            let partials = try workers.map { _ in try Tensor(shape: [model.maxRows, last.inFeatures]) }
            if copies.count == n { lastLayer = (last, copies, partials) }
        }
        self.init(model: model, workers: workers, lastLayer: lastLayer)
    }

    /// The model alone: every batch runs unsplit (one worker; nothing to allocate that can fail).
    public convenience init(_ model: VAE) {
        self.init(model: model, workers: [], lastLayer: nil)
    }

    private init(model: VAE, workers: [VAE], lastLayer: (model: Dense, workers: [Dense], partials: [Tensor])?) {
        self.model = model
        self.workers = workers
        self.lastLayer = lastLayer
        partialPointers = lastLayer?.partials.map { UnsafePointer($0.pointer) } ?? []
        objectives = .allocate(capacity: max(1, workers.count))
        objectives.initialize(repeating: 0)
        gradientParts = workers.map { UnsafePointer($0.parameters.gradients.pointer) }
        let layers = model.encoder.layers
        let copies = workers.compactMap { $0.encoder.layers.first as? Dense }
        if workers.count > 1, !model.config.isConditional, layers.count >= 2, let first = layers[0] as? Dense,
            first.takesUnits(rows: model.maxRows), copies.count == workers.count
        {
            firstLayer = (first, copies)
        } else {
            firstLayer = nil
        }
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

    /// The rows worker `w` of `n` takes of a batch of `rows`.
    private func share(_ w: Int, of n: Int, rows: Int) -> Range<Int> { (rows * w / n)..<(rows * (w + 1) / n) }

    /// The units of a layer (rows of its weight, of any parameter tensor) thread
    /// `t` of `n` computes and updates: split where `share` would, rounded down
    /// to a multiple of 16 rows, so that each part of a split layer's product is
    /// whole blocks of OpenBLAS's kernels when the layer's are (400 → 192 + 208),
    /// and every value is summed as in a product of all the units (a 200-row
    /// part changed the last bits of 3,039 of 51,200 values with the Haswell
    /// and Zen kernels).
    private func unitShare(_ t: Int, of n: Int, units: Int) -> Range<Int> {
        func boundary(_ i: Int) -> Int { i == n ? units : (units * i / n) / 16 * 16 }
        return boundary(t)..<boundary(t + 1)
    }

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
        // All workers take part but in a batch smaller than their count (then the prefix is copied).
        let parts = n == gradientParts.count ? gradientParts : Array(gradientParts.prefix(n))
        let entries = parameters.entries
        parallel(n) { t in
            // Thread t updates share t of each tensor's rows (first dimension): the
            // weights whose units it computes in a layer the workers split. Those
            // of a split layer have their gradient in worker t's buffer alone.
            for e in entries {
                let range = self.unitRange(of: e, thread: t, of: n)
                guard !range.isEmpty else { continue }
                if self.gradientIsOwn(e.offset) {
                    optimizer.update(parameters, range: range, gradient: parts[t])
                } else {
                    optimizer.update(parameters, range: range, summing: parts)
                }
            }
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
        let parts = n == gradientParts.count ? gradientParts : Array(gradientParts.prefix(n))
        Kernels.sum(parts, range: 0..<model.parameters.count, into: model.parameters.gradients.pointer)
        // A split layer's rows: each worker's own, not a sum.
        for e in model.parameters.entries where gradientIsOwn(e.offset) {
            for t in 0..<n {
                let range = unitRange(of: e, thread: t, of: n)
                (model.parameters.gradients.pointer + range.lowerBound).update(from: parts[t] + range.lowerBound, count: range.count)
            }
        }
    }

    /// Workers that took part in the last step (their gradients are the step's).
    private var lastActive = 0

    /// Runs workers 0..<n on their shares of the batch at once (forward, and
    /// backward into their own gradients when asked); returns the summed objective.
    private func runShares(_ n: Int, rows: Int, samples: Int, klWeight: Float, backward: Bool) -> Double {
        let objectives = self.objectives
        var encoderFrom = 0
        if let first = firstLayer {
            // The first layer for the whole batch, each worker its share of the units, into the model's buffer.
            let output = model.encoder.output(ofLayer: 0)
            let input = UnsafePointer(model.input.pointer)
            parallel(n) { w in
                let worker = self.workers[w]
                self.scatter(self.share(w, of: n, rows: rows), samples: samples, to: worker)
                worker.encoder.timing(layer: 0) {
                    first.model.forward(input, rows: rows, units: self.unitShare(w, of: n, units: first.model.outFeatures), into: output)
                }
            }
            encoderFrom = 1
        }
        let last = samples == 1 ? lastLayer : nil
        if backward { lastStepSplitLast = last != nil }
        let encoderDownTo = firstLayer == nil ? 0 : 1
        parallel(n) { w in
            let part = self.share(w, of: n, rows: rows)
            let worker = self.workers[w]
            if let first = self.firstLayer {
                let width = first.model.outFeatures
                worker.encoder.output(ofLayer: 0).update(
                    from: self.model.encoder.output(ofLayer: 0) + part.lowerBound * width, count: part.count * width)
            } else {
                self.scatter(part, samples: samples, to: worker)
            }
            worker.beginForward(
                rows: part.count, samples: samples, klWeight: klWeight, encoderFrom: encoderFrom, beforeLastLayer: last != nil)
            guard let last else {
                worker.endForward(computeGradients: backward)
                objectives[w] = worker.objective
                self.gatherResults(part, from: worker)
                if backward {
                    worker.backward(rows: part.count, encoderDownTo: encoderDownTo)
                    self.gatherFirstLayerGradient(part, from: worker)
                }
                return
            }
            // The last layer's input rows, into the model's buffer for the whole batch.
            let width = last.model.inFeatures
            let below = worker.decoder.layers.count - 2
            (self.model.decoder.output(ofLayer: below) + part.lowerBound * width).update(
                from: worker.decoder.output(ofLayer: below), count: part.count * width)
        }
        guard let last else {
            if backward { firstLayerBackward(n, rows: rows) }
            return objectives.prefix(n).reduce(0, +)
        }
        let below = model.decoder.layers.count - 2
        let hidden = UnsafePointer(model.decoder.output(ofLayer: below))
        let (D, H) = (last.model.outFeatures, last.model.inFeatures)
        // The last layer for the whole batch, each worker its units.
        parallel(n) { w in
            self.workers[w].decoder.timing(layer: below + 1) {
                last.model.forward(hidden, rows: rows, units: self.unitShare(w, of: n, units: D), into: self.model.logits.pointer)
            }
        }
        // Each worker's likelihood and objective on its rows; dL/dlogits back into the model's buffer.
        parallel(n) { w in
            let part = self.share(w, of: n, rows: rows)
            let worker = self.workers[w]
            worker.logits.pointer.update(from: self.model.logits.pointer + part.lowerBound * D, count: part.count * D)
            worker.endForward(computeGradients: backward)
            objectives[w] = worker.objective
            self.gatherResults(part, from: worker)
            if backward {
                (self.model.gradLogits.pointer + part.lowerBound * D).update(from: worker.gradLogits.pointer, count: part.count * D)
            }
        }
        guard backward else { return objectives.prefix(n).reduce(0, +) }
        let gradLogits = UnsafePointer(model.gradLogits.pointer)
        // The active workers' shares (all but in a batch smaller than the worker count).
        let partials = n == partialPointers.count ? partialPointers : Array(partialPointers.prefix(n))
        // The last layer's backward, each worker its units over the whole batch.
        parallel(n) { w in
            let units = self.unitShare(w, of: n, units: D)
            self.workers[w].decoder.timing(layer: below + 1, backward: true) {
                last.workers[w].backwardWeights(input: hidden, gradOutput: gradLogits, rows: rows, units: units)
                last.model.inputGradientShare(gradOutput: gradLogits, rows: rows, units: units, into: last.partials[w].pointer)
            }
        }
        // Each worker: dL/d(the last layer's input) for its rows (the shares added in worker order), then the rest.
        parallel(n) { w in
            let part = self.share(w, of: n, rows: rows)
            let worker = self.workers[w]
            guard let g = worker.decoder.gradient(ofLayerOutput: below) else { return }
            Kernels.sum(partials, offset: part.lowerBound * H, count: part.count * H, into: g)
            worker.backward(rows: part.count, decoderFrom: below, encoderDownTo: encoderDownTo)
            self.gatherFirstLayerGradient(part, from: worker)
        }
        firstLayerBackward(n, rows: rows)
        return objectives.prefix(n).reduce(0, +)
    }

    /// When the first layer is split: `worker`'s dL/d(first layer's output),
    /// its rows `part`, into the model's buffer for the whole batch.
    private func gatherFirstLayerGradient(_ part: Range<Int>, from worker: VAE) {
        guard let first = firstLayer, let g = worker.encoder.gradient(ofLayerOutput: 0),
            let all = model.encoder.gradient(ofLayerOutput: 0)
        else { return }
        let width = first.model.outFeatures
        (all + part.lowerBound * width).update(from: g, count: part.count * width)
    }

    /// When the first layer is split: its weight gradient for the whole batch
    /// (one product over all rows), each worker its units, into its own gradient buffer.
    private func firstLayerBackward(_ n: Int, rows: Int) {
        guard let first = firstLayer, let all = model.encoder.gradient(ofLayerOutput: 0) else { return }
        let input = UnsafePointer(model.input.pointer)
        let gradient = UnsafePointer(all)
        parallel(n) { w in
            let units = self.unitShare(w, of: n, units: first.model.outFeatures)
            self.workers[w].encoder.timing(layer: 0, backward: true) {
                first.workers[w].backwardWeights(input: input, gradOutput: gradient, rows: rows, units: units)
            }
        }
    }

    /// Copies rows `part` of the model's batch (inputs, labels, noise) into `worker`.
    private func scatter(_ part: Range<Int>, samples: Int, to worker: VAE) {
        let D = model.config.inputDim
        let L = model.config.latentDim
        worker.input.pointer.update(from: model.input.pointer + part.lowerBound * D, count: part.count * D)
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

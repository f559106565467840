import Foundation
import NumericCore
import Testing

@testable import NeuralNet

/// A batch split across workers (issue 16) computes what the whole model
/// computes: the same per-image losses and posteriors, the same summed
/// gradient up to float rounding, every parameter updated exactly once, and
/// bit for bit the same result every time for a given worker count.
@Suite struct BatchWorkersTests {
    static let configs: [(String, ModelConfig)] = [
        ("mlp", ModelConfig(inputDim: 12, hidden: [7, 5], latentDim: 3)),
        // First and last layers wide enough to split by units (16-row multiples: 0..<16, 16..<40 for two workers).
        ("wide", ModelConfig(inputDim: 40, hidden: [40, 6], latentDim: 3)),
        // The widest layers in the middle of the encoder and of the decoder: split there (0..<16, 16..<40).
        ("middle", ModelConfig(inputDim: 8, hidden: [40, 40], latentDim: 3)),
        ("conditional", ModelConfig(inputDim: 12, hidden: [6], latentDim: 2, labelClasses: 3)),
        (
            "conv",
            ModelConfig(
                inputShape: [1, 8, 8],
                encoder: [.conv2d(3, kernel: 4, stride: 2, padding: 1), .relu, .flatten, .linear(outFeatures: 6), .relu],
                latentDim: 2,
                decoder: [
                    .linear(outFeatures: 48), .relu, .unflatten(shape: [3, 4, 4]),
                    .convTranspose2d(1, kernel: 4, stride: 2, padding: 1),
                ])
        ),
    ]

    /// A model with parameters and a batch of `rows` drawn from `seed`.
    static func model(_ config: ModelConfig, rows: Int, samples: Int, seed: UInt64) throws -> VAE {
        let m = try VAE(config: config, maxRows: rows, maxSamples: samples)
        var r = RandomStream(seed: seed, stream: 0)
        m.initialize(using: &r)
        for i in 0..<(rows * config.inputDim) { m.input.pointer[i] = r.nextFloat() }
        r.fillNormal(m.epsilon.pointer, count: rows * samples * config.latentDim)
        if config.labelClasses > 0 { for i in 0..<rows { m.labels[i] = Int32(i % config.labelClasses) } }
        return m
    }

    @Test(arguments: [1, 3], [2, 3])
    func splitBatchesMatchTheWholeModel(samples: Int, workerCount: Int) throws {
        for (name, config) in Self.configs {
            let rows = 9  // uneven shares
            let whole = try Self.model(config, rows: rows, samples: samples, seed: 7)
            whole.forward(rows: rows, samples: samples, computeGradients: true, klWeight: 0.7)
            whole.backward(rows: rows)

            let split = try Self.model(config, rows: rows, samples: samples, seed: 7)
            let workers = try BatchWorkers(split, count: workerCount)
            #expect(workers.count == workerCount)
            let adam = try Adam(parameterCount: split.parameters.count)
            let sums = try workers.step(rows: rows, samples: samples, klWeight: 0.7, optimizer: adam)
            workers.gatherGradient()
            // Every parameter updated exactly once: after Adam's first step its
            // first moment is (1 − β1)·g exactly (twice, or never, it would not be).
            let a1 = Float(1 - 0.9)
            let n = split.parameters.count
            let g = split.parameters.gradients.pointer
            #expect((0..<n).allSatisfy { adam.firstMoment.pointer[$0] == a1 * g[$0] }, "\(name): every parameter updated once")

            // Per-image values and posteriors: each row is computed on its own.
            var expectedRec = 0.0
            var expectedKL = 0.0
            for r in 0..<rows {
                #expect(
                    abs(split.reconstruction[r] - whole.reconstruction[r]) <= 1e-5 * max(1, abs(whole.reconstruction[r])),
                    "\(name) row \(r)")
                #expect(abs(split.kl[r] - whole.kl[r]) <= 1e-5 * max(1, abs(whole.kl[r])), "\(name) row \(r)")
                expectedRec += whole.reconstruction[r]
                expectedKL += whole.kl[r]
            }
            #expect(abs(sums.reconstruction - expectedRec) <= 1e-5 * abs(expectedRec))
            #expect(abs(sums.kl - expectedKL) <= 1e-5 * max(1, abs(expectedKL)))
            #expect(abs(sums.objective - whole.objective) <= 1e-5 * abs(whole.objective))
            let L = config.latentDim
            for i in 0..<(rows * 2 * L) {
                #expect(abs(split.posterior.pointer[i] - whole.posterior.pointer[i]) <= 1e-5 * max(1, abs(whole.posterior.pointer[i])))
            }
            // The summed gradient: float sums in another order, so within a tolerance
            // relative to the largest gradient value.
            let h = whole.parameters.gradients.pointer
            let scale = (0..<n).map { abs(h[$0]) }.max() ?? 1
            let worst = (0..<n).map { abs(g[$0] - h[$0]) }.max() ?? 0
            #expect(worst <= 2e-6 * max(1, scale), "\(name): largest gradient difference \(worst) of \(scale)")

            // The same split again gives the same bits.
            let first = Array(UnsafeBufferPointer(start: g, count: n))
            let replay = try Self.model(config, rows: rows, samples: samples, seed: 7)
            let replayWorkers = try BatchWorkers(replay, count: workerCount)
            let again = try replayWorkers.step(rows: rows, samples: samples, klWeight: 0.7, optimizer: try Adam(parameterCount: n))
            replayWorkers.gatherGradient()
            #expect(again == sums)
            #expect(Array(UnsafeBufferPointer(start: replay.parameters.gradients.pointer, count: n)) == first)
            #expect(
                Array(UnsafeBufferPointer(start: replay.parameters.values.pointer, count: n))
                    == Array(UnsafeBufferPointer(start: split.parameters.values.pointer, count: n)))

            // Evaluation without gradients: the same per-row values.
            let fresh = try Self.model(config, rows: rows, samples: samples, seed: 7)
            let eval = try BatchWorkers(fresh, count: workerCount).forward(rows: rows, samples: samples, klWeight: 0.7)
            #expect(eval.reconstruction == sums.reconstruction && eval.kl == sums.kl)
        }
    }

    /// With more than one worker, the workers compute the widest linear layer
    /// of an MLP encoder and decoder together: not the encoder's heads, nor a
    /// conditional encoder's first layer or a decoder's first (their inputs
    /// are built per worker), nor any layer of a stack with convolutions.
    @Test func whichLayersTheWorkersSplit() throws {
        let expected: [String: (encoder: Int?, decoder: Int?)] = [
            "mlp": (0, 4), "wide": (0, 4), "middle": (2, 2), "conditional": (nil, 2), "conv": (nil, nil),
        ]
        for (name, config) in Self.configs {
            let m = try Self.model(config, rows: 9, samples: 1, seed: 2)
            let want = try #require(expected[name])
            let two = try BatchWorkers(m, count: 2)
            #expect(two.splitLayers.encoder == want.encoder && two.splitLayers.decoder == want.decoder, "\(name): \(two.splitLayers)")
            for one in [BatchWorkers(m), try BatchWorkers(m, count: 1)] {
                #expect(one.splitLayers.encoder == nil && one.splitLayers.decoder == nil, "\(name)")
            }
        }
    }

    /// A step that splits the last layer gives Adam each worker's own rows of
    /// its gradient, not a sum with what another worker's buffer still holds
    /// from a step that did not split it (K = 3 draws): two such steps, K = 3
    /// then K = 1, leave the parameters the model alone leaves, within 2e-6.
    @Test func aSplitStepAfterAnUnsplitOneUsesOnlyItsOwnGradients() throws {
        let config = try #require(Self.configs.first { $0.0 == "wide" }?.1)
        var results: [[Float]] = []
        for count in [1, 2] {
            let m = try Self.model(config, rows: 9, samples: 3, seed: 13)
            let workers = try BatchWorkers(m, count: count)
            #expect((workers.splitLayers.decoder != nil) == (count == 2))
            let adam = try Adam(parameterCount: m.parameters.count)
            try workers.step(rows: 9, samples: 3, optimizer: adam)
            try workers.step(rows: 9, samples: 1, optimizer: adam)
            results.append(m.parameters.values.array)
        }
        let worst = zip(results[0], results[1]).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 2e-6, "largest parameter difference \(worst)")
    }

    /// Adam's shares cover every parameter exactly once; each thread's own
    /// ranges are its unit rows of the split layers (whole 16-unit blocks;
    /// the units left over are summed); on the tutorial MLP the
    /// threads' work (a summed value counted 1.5 own ones) evens out within
    /// 96 half-values (quotas of 16 values), where the old split by tensor rows gave one thread all
    /// of the 20-row heads.
    @Test func adamSharesCoverEveryParameterOnceAndEvenOut() throws {
        let tutorial = ModelConfig(inputDim: 784, hidden: [400], latentDim: 20)
        for (name, config) in Self.configs + [("tutorial", tutorial)] {
            for n in [2, 3] {
                let m = try Self.model(config, rows: 9, samples: 1, seed: 4)
                let workers = try BatchWorkers(m, count: n)
                try workers.step(rows: 9, optimizer: try Adam(parameterCount: m.parameters.count))
                let shares = workers.updateShares(n)
                var hits = [Int](repeating: 0, count: m.parameters.count)
                for share in shares { for r in share.own + share.summed { for i in r { hits[i] += 1 } } }
                #expect(hits.allSatisfy { $0 == 1 }, "\(name), \(n) workers")
                let split = [
                    workers.splitLayers.encoder.map { m.encoder.layers[$0] }, workers.splitLayers.decoder.map { m.decoder.layers[$0] },
                ]
                .compactMap { $0 as? Dense }
                for share in shares {
                    #expect(
                        share.own.allSatisfy { r in
                            split.contains { $0.flatRange.contains(r.lowerBound) && $0.flatRange.contains(r.upperBound - 1) }
                        })
                }
                // Own: each thread's whole 16-unit blocks' rows (weight and bias); the leftover units' rows are summed.
                let ownCount = split.reduce(0) { $0 + $1.outFeatures / 16 / n * 16 * n * ($1.inFeatures + 1) }
                #expect(shares.map { $0.own.reduce(0) { $0 + $1.count } }.reduce(0, +) == ownCount, "\(name), \(n) workers")
                if name == "tutorial" && n == 2 {
                    let work = shares.map { 2 * $0.own.reduce(0) { $0 + $1.count } + 3 * $0.summed.reduce(0) { $0 + $1.count } }
                    #expect(abs(work[0] - work[1]) <= 96, "work \(work)")
                }
            }
        }
    }

    /// A check that throws stops the step before any parameter is updated.
    @Test func aFailedCheckUpdatesNothing() throws {
        let m = try Self.model(Self.configs[0].1, rows: 6, samples: 1, seed: 3)
        let workers = try BatchWorkers(m, count: 2)
        struct Stop: Error {}
        let before = Array(UnsafeBufferPointer(start: m.parameters.values.pointer, count: m.parameters.count))
        let adam = try Adam(parameterCount: m.parameters.count)
        #expect(throws: Stop.self) {
            try workers.step(rows: 6, optimizer: adam) { _ in throw Stop() }
        }
        #expect(adam.step == 0)
        #expect(Array(UnsafeBufferPointer(start: m.parameters.values.pointer, count: m.parameters.count)) == before)
    }

    /// Fewer rows than workers with the layers split: 2 of 3 workers take
    /// part, and only their shares of a split layer's input gradient count
    /// (the third's buffer holds a step of its own, 9 rows, before).
    @Test(arguments: ["wide", "middle"])
    func twoOfThreeWorkersSplitTheLayers(name: String) throws {
        let config = try #require(Self.configs.first { $0.0 == name }?.1)
        let whole = try Self.model(config, rows: 9, samples: 1, seed: 17)
        whole.forward(rows: 2, computeGradients: true)
        whole.backward(rows: 2)
        let split = try Self.model(config, rows: 9, samples: 1, seed: 17)
        let workers = try BatchWorkers(split, count: 3)
        #expect(workers.splitLayers.encoder != nil && workers.splitLayers.decoder != nil)
        let values = split.parameters.values.array
        try workers.step(rows: 9, optimizer: try Adam(parameterCount: split.parameters.count))
        split.parameters.values.pointer.update(from: values, count: values.count)
        try workers.step(rows: 2, optimizer: try Adam(parameterCount: split.parameters.count))
        workers.gatherGradient()
        // Adam's first step moves each parameter by ±lr·(1 − ε-ish) with the sign of its
        // gradient: the model alone's step lands within 2e-6 of the split one.
        let alone = try Self.model(config, rows: 9, samples: 1, seed: 17)
        try BatchWorkers(alone).step(rows: 2, optimizer: try Adam(parameterCount: alone.parameters.count))
        let moved = zip(split.parameters.values.array, alone.parameters.values.array).map { abs($0 - $1) }.max() ?? 0
        #expect(moved <= 2e-6, "largest parameter difference \(moved)")
        let (g, h) = (split.parameters.gradients.array, whole.parameters.gradients.array)
        let scale = h.map { abs($0) }.max() ?? 1
        let worst = zip(g, h).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 2e-6 * max(1, scale), "largest gradient difference \(worst) of \(scale)")
        for r in 0..<2 { #expect(abs(split.reconstruction[r] - whole.reconstruction[r]) <= 1e-5 * max(1, abs(whole.reconstruction[r]))) }
    }

    /// Fewer rows than workers: only as many workers as rows take part.
    @Test func aBatchSmallerThanTheWorkerCount() throws {
        let config = Self.configs[0].1
        let whole = try Self.model(config, rows: 4, samples: 1, seed: 5)
        whole.forward(rows: 1, computeGradients: true)
        whole.backward(rows: 1)
        let split = try Self.model(config, rows: 4, samples: 1, seed: 5)
        let workers = try BatchWorkers(split, count: 4)
        try workers.step(rows: 1, optimizer: try Adam(parameterCount: split.parameters.count))
        workers.gatherGradient()
        #expect(split.reconstruction[0] == whole.reconstruction[0])
        let n = split.parameters.count
        #expect(
            Array(UnsafeBufferPointer(start: split.parameters.gradients.pointer, count: n))
                == Array(UnsafeBufferPointer(start: whole.parameters.gradients.pointer, count: n)))
    }

    /// Per-layer timing (`zoo bench --layers`) only reads clocks: the same bits
    /// with it on; no time without it; with it, time in every layer that has
    /// parameters, forward and backward, added over the workers, one entry per
    /// layer of `ModelConfig.runLayers()`.
    @Test func timingLayersChangesNoBitAndCountsEveryLayer() throws {
        for (name, config) in Self.configs {
            var results: [[Float]] = []
            for timed in [false, true] {
                let m = try Self.model(config, rows: 8, samples: 2, seed: 11)
                let workers = try BatchWorkers(m, count: 2)
                workers.timesLayers = timed
                let adam = try Adam(parameterCount: m.parameters.count)
                for _ in 0..<2 { try workers.step(rows: 8, samples: 2, optimizer: adam) }
                results.append(Array(UnsafeBufferPointer(start: m.parameters.values.pointer, count: m.parameters.count)))
                let times = workers.layerNanoseconds
                let layers = config.runLayers()
                #expect(times.count == layers.count, "\(name)")
                if timed {
                    for (t, l) in zip(times, layers) where l.multiplyAdds > 0 {
                        #expect(t.forward > 0 && t.backward > 0, "\(name) \(l.label)")
                    }
                } else {
                    #expect(times.allSatisfy { $0 == LayerNanoseconds() }, "\(name)")
                }
            }
            #expect(results[0] == results[1], "\(name): timing changed the parameters")
        }
    }
}

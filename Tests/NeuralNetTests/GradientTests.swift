import Foundation
import NumericCore
import Testing

@testable import NeuralNet

/// Finite-difference checks of every backward pass: central differences with
/// step h on float32 networks of small values. Truncation error is O(h²) and
/// rounding error O(ε·|L|/h); with h = 5e-3 both stay below ~1e-3, so the
/// tolerance is |fd − analytic| ≤ 3e-3 + 1e-2·|analytic|.
let fdStep: Float = 5e-3
func closeEnough(_ fd: Double, _ analytic: Double) -> Bool { abs(fd - analytic) <= 3e-3 + 1e-2 * abs(analytic) }

/// Each value of `values` nudged by ±h: the indices where the central
/// difference of `loss` does not match `analytic` within `closeEnough`.
func finiteDifferenceMismatches(_ values: Tensor, analytic: [Float], loss: () -> Double) -> [Int] {
    var mismatches: [Int] = []
    for i in 0..<values.count {
        let old = values[i]
        values[i] = old + fdStep
        let up = loss()
        values[i] = old - fdStep
        let down = loss()
        values[i] = old
        if !closeEnough((up - down) / Double(2 * fdStep), Double(analytic[i])) { mismatches.append(i) }
    }
    return mismatches
}

@Suite struct GradientTests {
    /// With the plain forward product and with the transposed one (a layer made for a number of rows).
    @Test(arguments: [false, true])
    func denseBackwardMatchesFiniteDifferences(transposed: Bool) throws {
        let rows = 3
        let inF = 5
        let outF = 4
        let params = try ParameterSet(layout: [("l.weight", [outF, inF]), ("l.bias", [outF])], stateDictOrder: ["l.weight", "l.bias"])
        let layer = transposed ? try Dense("l", in: params, rows: rows) : Dense("l", in: params)
        var r = RandomStream(seed: 1, stream: 1)
        layer.initialize(using: &r)
        let x = try Tensor((0..<(rows * inF)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, inF])
        // Scalar loss L = Σ c ⊙ y with fixed random c, so dL/dy = c.
        let c = try Tensor((0..<(rows * outF)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, outF])
        let y = try Tensor(shape: [rows, outF])
        func loss() -> Double {
            layer.forward(x.pointer, rows: rows, into: y.pointer)
            return (0..<y.count).reduce(0.0) { $0 + Double(y[$1]) * Double(c[$1]) }
        }
        _ = loss()
        let dx = try Tensor(shape: [rows, inF])
        layer.backward(input: x.pointer, gradOutput: c.pointer, rows: rows, gradInput: dx.pointer)
        #expect(finiteDifferenceMismatches(params.values, analytic: params.gradients.array, loss: loss) == [], "parameters")
        #expect(finiteDifferenceMismatches(x, analytic: dx.array, loss: loss) == [], "inputs")
    }

    /// The transposed forward product (yᵀ = W·xᵀ, then + b) gives the plain
    /// one's values within float rounding (4 ulp of the largest term sum) for
    /// row counts below, at and above a vector's width and a row count
    /// smaller than the buffer.
    @Test(arguments: [1, 3, 8, 64, 130])
    func transposedDenseForwardAgrees(rows: Int) throws {
        let (inF, outF) = (37, 19)
        let params = try ParameterSet(layout: [("l.weight", [outF, inF]), ("l.bias", [outF])], stateDictOrder: ["l.weight", "l.bias"])
        let plain = Dense("l", in: params)
        let transposed = try Dense("l", in: params, rows: 200)
        var r = RandomStream(seed: UInt64(rows), stream: 3)
        plain.initialize(using: &r)
        let x = try Tensor((0..<(rows * inF)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, inF])
        let (a, b) = (try Tensor(shape: [rows, outF]), try Tensor(shape: [rows, outF]))
        plain.forward(x.pointer, rows: rows, into: a.pointer)
        transposed.forward(x.pointer, rows: rows, into: b.pointer)
        for i in 0..<a.count {
            let row = i / outF
            let scale = (0..<inF).reduce(abs(params.values[outF * inF + i % outF])) {
                $0 + abs(params.values[(i % outF) * inF + $1] * x[row * inF + $1])
            }
            #expect(abs(a[i] - b[i]) <= 4 * scale * Float.ulpOfOne, "value \(i)")
        }
    }

    /// The transposed forward in parts by units (`forward(_:rows:units:into:)`,
    /// as `BatchWorkers` splits a layer: 16-row multiples, one part empty, one
    /// uneven; the last part in two parts of the batch's rows, as the threads
    /// share leftover units) writes every value once and gives `forward`'s
    /// values within float rounding (4 ulp of the largest term sum; the same
    /// bits on the kernels zoo picks, which the end-to-end comparison of
    /// checkpoints checked).
    @Test(arguments: [[0, 192, 400], [0, 0, 16, 400], [0, 208, 384, 400]])
    func denseForwardByUnitsCoversEveryValue(bounds: [Int]) throws {
        let (inF, outF, rows) = (37, 400, 21)
        let params = try ParameterSet(layout: [("l.weight", [outF, inF]), ("l.bias", [outF])], stateDictOrder: ["l.weight", "l.bias"])
        let layer = try Dense("l", in: params, rows: 32)
        #expect(layer.takesUnits(rows: rows) && layer.takesUnits(rows: 32) && !layer.takesUnits(rows: 33))
        #expect(!Dense("l", in: params).takesUnits(rows: 1))
        var r = RandomStream(seed: 4, stream: 3)
        layer.initialize(using: &r)
        let x = try Tensor((0..<(rows * inF)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, inF])
        let whole = try Tensor(shape: [rows, outF])
        layer.forward(x.pointer, rows: rows, into: whole.pointer)
        let parts = try Tensor([Float](repeating: .nan, count: rows * outF), shape: [rows, outF])
        for i in 0..<(bounds.count - 2) { layer.forward(x.pointer, rows: rows, units: bounds[i]..<bounds[i + 1], into: parts.pointer) }
        for part in [0..<8, 8..<rows] {
            layer.forward(x.pointer, rows: rows, units: bounds[bounds.count - 2]..<outF, part: part, into: parts.pointer)
        }
        for i in 0..<whole.count {
            let (row, unit) = (i / outF, i % outF)
            let scale = (0..<inF).reduce(abs(params.values[outF * inF + unit])) {
                $0 + abs(params.values[unit * inF + $1] * x[row * inF + $1])
            }
            #expect(abs(parts[i] - whole[i]) <= 4 * scale * Float.ulpOfOne, "value \(i)")
        }
    }

    /// The backward pass in parts by units (as `BatchWorkers` splits a layer):
    /// each part's weight and bias gradient rows, and the parts' input
    /// gradient shares added up, give `backward`'s within float rounding (4 ulp
    /// of the largest term sum); an empty part contributes zeros; the last 8
    /// units in two parts of the batch's rows (as threads share leftover
    /// units: their weight gradients added, their input-gradient shares
    /// accumulated on their own rows) too.
    @Test func denseBackwardByUnitsAddsUpToBackward() throws {
        let (inF, outF, rows) = (23, 40, 9)
        let layout: [(String, [Int])] = [("l.weight", [outF, inF]), ("l.bias", [outF])]
        let (whole, parts) = (
            try ParameterSet(layout: layout, stateDictOrder: ["l.weight", "l.bias"]),
            try ParameterSet(layout: layout, stateDictOrder: ["l.weight", "l.bias"])
        )
        var r = RandomStream(seed: 6, stream: 3)
        for i in 0..<whole.count { whole.values[i] = r.nextFloat() * 2 - 1 }
        parts.values.pointer.update(from: whole.values.pointer, count: whole.count)
        let x = try Tensor((0..<(rows * inF)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, inF])
        let dy = try Tensor((0..<(rows * outF)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, outF])
        let dx = try Tensor(shape: [rows, inF])
        Dense("l", in: whole).backward(input: x.pointer, gradOutput: dy.pointer, rows: rows, gradInput: dx.pointer)
        let layer = Dense("l", in: parts)
        var summed = [Float](repeating: 0, count: rows * inF)
        let share = try Tensor([Float](repeating: .nan, count: rows * inF), shape: [rows, inF])
        for units in [0..<0, 0..<16, 16..<32] {
            layer.backwardWeights(input: x.pointer, gradOutput: dy.pointer, rows: 0..<rows, units: units)
            layer.inputGradientShare(gradOutput: dy.pointer, rows: 0..<rows, units: units, into: share.pointer)
            for i in summed.indices { summed[i] += share[i] }
        }
        let shared = 32..<40
        let sharedOffsets = Array((shared.lowerBound * inF)..<(shared.upperBound * inF)) + shared.map { outF * inF + $0 }
        var sharedGradient = [Float](repeating: 0, count: whole.count)
        let accumulated = try Tensor(shape: [rows, inF])
        for part in [0..<4, 4..<rows] {
            layer.backwardWeights(input: x.pointer, gradOutput: dy.pointer, rows: part, units: shared)
            for k in sharedOffsets { sharedGradient[k] += parts.gradients[k] }
            layer.inputGradientShare(gradOutput: dy.pointer, rows: part, units: shared, into: accumulated.pointer, accumulate: true)
        }
        for k in sharedOffsets { parts.gradients[k] = sharedGradient[k] }
        for i in summed.indices { summed[i] += accumulated[i] }
        /// 4 ulp of Σ|terms| of a sum of `count` products a(k)·b(k).
        func bound(_ count: Int, _ term: (Int) -> Float) -> Float { 4 * (0..<count).reduce(0) { $0 + abs(term($1)) } * Float.ulpOfOne }
        for o in 0..<outF {
            for i in 0..<inF {
                let k = o * inF + i
                #expect(abs(parts.gradients[k] - whole.gradients[k]) <= bound(rows) { dy[$0 * outF + o] * x[$0 * inF + i] }, "dW \(k)")
            }
            let b = outF * inF + o
            #expect(abs(parts.gradients[b] - whole.gradients[b]) <= bound(rows) { dy[$0 * outF + o] }, "db \(o)")
        }
        for row in 0..<rows {
            for i in 0..<inF {
                let k = row * inF + i
                #expect(abs(summed[k] - dx[k]) <= bound(outF) { dy[row * outF + $0] * whole.values[$0 * inF + i] }, "dx \(k)")
            }
        }
    }

    /// The whole VAE: every parameter of every layer (encoder, both heads,
    /// decoder, output), through ReLU, the reparameterization, KL and the likelihood.
    @Test(arguments: [ModelConfig.Likelihood.bernoulli, .gaussian, .gaussianLinear, .continuousBernoulli], [Float(1), 0.5])
    func vaeBackwardMatchesFiniteDifferences(likelihood: ModelConfig.Likelihood, beta: Float) throws {
        try checkVAEGradients(ModelConfig(inputDim: 6, hidden: [5, 4], latentDim: 3, likelihood: likelihood, sigma: 0.8), beta: beta)
    }

    /// The variants: tanh hidden layers (the IWAE paper's), a conditional
    /// model (one-hot labels into the encoder and the decoder), and the
    /// importance-weighted objective with K = 3 draws per image, alone and combined.
    @Test(
        arguments: [
            (ModelConfig.Activation.tanh, 0, 1), (.relu, 4, 1), (.relu, 0, 3), (.tanh, 4, 3),
        ] as [(ModelConfig.Activation, Int, Int)], [Float(1), 0.5])
    func variantBackwardMatchesFiniteDifferences(variant: (ModelConfig.Activation, Int, Int), beta: Float) throws {
        let (activation, classes, samples) = variant
        try checkVAEGradients(
            ModelConfig(inputDim: 6, hidden: [5, 4], latentDim: 3, activation: activation, labelClasses: classes),
            beta: beta, samples: samples)
    }

    /// Declared layer lists no `--hidden` describes: stacks of different
    /// depths, both activations, a linear layer without one, image-shaped
    /// input; plain and conditional, ELBO and K = 2.
    @Test(arguments: [(0, 1), (3, 2)])
    func declaredLayerListsBackwardMatchesFiniteDifferences(classes: Int, samples: Int) throws {
        let config = ModelConfig(
            inputShape: [1, 2, 3],
            encoder: [.linear(outFeatures: 5), .tanh, .linear(outFeatures: 4), .linear(outFeatures: 4), .relu], latentDim: 2,
            decoder: [.linear(outFeatures: 3), .relu, .linear(outFeatures: 6)], labelClasses: classes)
        #expect(config.problems == [] && config.mlpShorthand == nil)
        try checkVAEGradients(config, beta: 1, samples: samples)
    }

    func checkVAEGradients(_ config: ModelConfig, beta: Float, samples: Int = 1) throws {
        let rows = 4
        let L = config.latentDim
        let vae = try VAE(config: config, maxRows: rows, maxSamples: samples)
        var r = RandomStream(seed: 3, stream: 0)
        vae.initialize(using: &r)
        for i in 0..<rows { vae.labels[i] = Int32(config.isConditional ? (i * 3) % config.labelClasses : 0) }
        // Central differences are only valid away from ReLU kinks: draw inputs
        // and noise until every hidden pre-activation is ≥ 3h from zero (a step
        // of h in one parameter moves a pre-activation by about h or less).
        var margin = 0.0
        for _ in 0..<1000 where margin < 3 * Double(fdStep) {
            for i in 0..<(rows * config.inputDim) { vae.input[i] = r.nextFloat() }
            r.fillNormal(vae.epsilon.pointer, count: rows * samples * L)
            vae.forward(rows: rows, samples: samples)
            margin =
                (config.encoder + config.decoder).contains(.relu) ? smallestPreactivation(vae, rows: rows, samples: samples) : .infinity
        }
        #expect(margin >= 3 * Double(fdStep), "no input set found away from ReLU kinks")
        func loss() -> Double {
            vae.forward(rows: rows, samples: samples, klWeight: beta)
            return vae.objective
        }
        vae.forward(rows: rows, samples: samples, computeGradients: true, klWeight: beta)
        var covered = [Bool](repeating: false, count: vae.parameters.count)
        vae.backward(rows: rows) { range in
            for i in range {
                #expect(!covered[i])
                covered[i] = true
            }
        }
        #expect(covered.allSatisfy { $0 }, "backward must report every parameter exactly once")
        let analytic = vae.parameters.gradients.array
        let mismatches = finiteDifferenceMismatches(vae.parameters.values, analytic: analytic, loss: loss)
        let failures = mismatches.count
        #expect(
            failures == 0,
            "\(failures) of \(vae.parameters.count) gradients disagree with finite differences: \(mismatches.prefix(5).map { i in "[\(i)] analytic \(analytic[i]) in \(vae.parameters.entries.first { i >= $0.offset && i < $0.offset + $0.count }?.name ?? "?")" })"
        )
        #expect(analytic.contains { abs($0) > 1e-3 }, "gradients must not be trivially zero")
    }

    /// With K draws per image the objective is −log (1/K) Σ_k w_k, computed
    /// here from the per-sample terms in double precision; it lies below the
    /// average negative ELBO of the same draws (Jensen).
    @Test func importanceWeightedObjectiveIsTheLogMeanOfTheWeights() throws {
        let config = ModelConfig(inputDim: 5, hidden: [4], latentDim: 2)
        let K = 4
        let rows = 2
        let vae = try VAE(config: config, maxRows: rows, maxSamples: K)
        var r = RandomStream(seed: 8, stream: 0)
        vae.initialize(using: &r)
        for i in 0..<(rows * 5) { vae.input[i] = r.nextFloat() }
        r.fillNormal(vae.epsilon.pointer, count: rows * K * 2)
        let (rec, _) = vae.forward(rows: rows, samples: K)
        var expected = 0.0
        var elbo = 0.0
        for row in 0..<rows {
            let mu = (0..<2).map { Double(vae.posterior[row * 4 + $0]) }
            let lv = (0..<2).map { Double(vae.posterior[row * 4 + 2 + $0]) }
            var logw: [Double] = []
            for k in 0..<K {
                var lw = 0.0
                for j in 0..<2 {
                    let e = Double(vae.epsilon[(row * K + k) * 2 + j])
                    let z = mu[j] + e * exp(0.5 * lv[j])
                    lw += -0.5 * z * z + 0.5 * e * e + 0.5 * lv[j]  // log p(z) − log q(z|x)
                }
                // log p(x|z) from a one-row ELBO pass at this z (ε fixed).
                let single = try VAE(config: config, maxRows: 1)
                single.parameters.values.pointer.update(from: vae.parameters.values.pointer, count: vae.parameters.count)
                for c in 0..<5 { single.input[c] = vae.input[row * 5 + c] }
                for j in 0..<2 { single.epsilon[j] = vae.epsilon[(row * K + k) * 2 + j] }
                single.forward(rows: 1)
                lw -= single.reconstruction[0]
                logw.append(lw)
                elbo -= lw / Double(K)
            }
            let m = logw.max()!
            expected -= m + log(logw.map { exp($0 - m) }.reduce(0, +)) - log(Double(K))
        }
        #expect(abs(vae.objective - expected) < 1e-4 * abs(expected))
        #expect(vae.objective <= elbo + 1e-9)
        #expect(rec.isFinite)
    }
}

/// The smallest |pre-activation| of any ReLU unit in the last forward pass.
func smallestPreactivation(_ vae: VAE, rows: Int, samples: Int = 1) -> Double {
    var smallest = Double.infinity
    /// Every Dense layer followed by an activation: recompute its pre-activations from its input.
    func scan(_ stack: Sequential, first: Tensor, rows: Int) {
        for i in stack.layers.indices.dropLast() {
            guard let layer = stack.layers[i] as? Dense, !(stack.layers[i + 1] is Dense) else { continue }
            let input = i == 0 ? UnsafePointer(first.pointer) : UnsafePointer(stack.output(ofLayer: i - 1))
            let w = layer.weight.array
            let b = layer.bias.array
            for r in 0..<rows {
                for o in 0..<layer.outFeatures {
                    var pre = Double(b[o])
                    for j in 0..<layer.inFeatures { pre += Double(w[o * layer.inFeatures + j]) * Double(input[r * layer.inFeatures + j]) }
                    smallest = min(smallest, abs(pre))
                }
            }
        }
    }
    scan(vae.encoder, first: vae.conditionedInput ?? vae.input, rows: rows)
    scan(vae.decoder, first: vae.conditionedZ ?? vae.z, rows: rows * samples)
    return smallest
}

@Suite struct LossTests {
    @Test func klMatchesClosedFormAndQuadrature() throws {
        let config = ModelConfig(inputDim: 4, hidden: [3], latentDim: 2)
        let vae = try VAE(config: config, maxRows: 2)
        var r = RandomStream(seed: 5, stream: 0)
        vae.initialize(using: &r)
        for i in 0..<8 { vae.input[i] = r.nextFloat() }
        vae.epsilon.fill(0)
        vae.forward(rows: 2)
        for row in 0..<2 {
            var closed = 0.0
            var quad = 0.0
            for j in 0..<2 {
                let mu = Double(vae.posterior[row * 4 + j])
                let lv = Double(vae.posterior[row * 4 + 2 + j])
                closed += -0.5 * (1 + lv - mu * mu - exp(lv))
                // ∫ q log(q / p) dz by the midpoint rule on μ ± 12σ.
                let s = exp(0.5 * lv)
                let n = 20_000
                let lo = mu - 12 * s
                let w = 24 * s / Double(n)
                for k in 0..<n {
                    let z = lo + (Double(k) + 0.5) * w
                    let logq = -0.5 * ((z - mu) / s) * ((z - mu) / s) - log(s) - 0.5 * log(2 * .pi)
                    let logp = -0.5 * z * z - 0.5 * log(2 * .pi)
                    quad += exp(logq) * (logq - logp) * w
                }
            }
            #expect(abs(vae.kl[row] - closed) < 1e-5 * max(1, closed))
            #expect(abs(closed - quad) < 1e-6)
        }
    }

    @Test func gaussianDecoderIsATrueLogDensityWithConstants() throws {
        let sigma: Float = 0.3
        let config = ModelConfig(inputDim: 5, hidden: [4], latentDim: 2, likelihood: .gaussian, sigma: sigma)
        let vae = try VAE(config: config, maxRows: 3)
        var r = RandomStream(seed: 6, stream: 0)
        vae.initialize(using: &r)
        for i in 0..<15 { vae.input[i] = r.nextFloat() }
        r.fillNormal(vae.epsilon.pointer, count: 6)
        vae.forward(rows: 3)
        for row in 0..<3 {
            var nll = 0.0
            for c in 0..<5 {
                let m = sigmoidRef(Double(vae.logits[row * 5 + c]))
                let x = Double(vae.input[row * 5 + c])
                let s = Double(sigma)
                // −log N(x; m, s²), written out.
                nll -= log(1 / (s * (2 * Double.pi).squareRoot()) * exp(-(x - m) * (x - m) / (2 * s * s)))
            }
            #expect(abs(vae.reconstruction[row] - nll) < 1e-5 * max(1, abs(nll)))
        }
    }

    @Test func bernoulliReconstructionIsBinaryCrossEntropyOfTheLogits() throws {
        let vae = try VAE(config: ModelConfig(inputDim: 5, hidden: [4], latentDim: 2), maxRows: 2)
        var r = RandomStream(seed: 7, stream: 0)
        vae.initialize(using: &r)
        for i in 0..<10 { vae.input[i] = r.nextFloat() < 0.5 ? 0 : 1 }
        vae.epsilon.fill(0)
        vae.forward(rows: 2)
        for row in 0..<2 {
            var nll = 0.0
            for c in 0..<5 {
                let p = sigmoidRef(Double(vae.logits[row * 5 + c]))
                let x = Double(vae.input[row * 5 + c])
                nll -= x * log(p) + (1 - x) * log(1 - p)
            }
            #expect(abs(vae.reconstruction[row] - nll) < 1e-5 * max(1, nll))
        }
    }
}

func sigmoidRef(_ l: Double) -> Double { 1 / (1 + exp(-l)) }

@Suite struct LatentStatisticsTests {
    /// Welford's running figures against a direct two-pass computation.
    @Test func matchesTwoPassStatistics() {
        let L = 3
        let n = 257
        var r = RandomStream(seed: 11, stream: 0)
        var post = [Float](repeating: 0, count: n * 2 * L)
        for i in 0..<n {
            for j in 0..<L {
                // Dimension 2 barely varies: an inactive unit.
                post[i * 2 * L + j] = j == 2 ? 0.3 + 0.01 * (r.nextFloat() - 0.5) : Float(j + 1) * (r.nextFloat() - 0.5)
                post[i * 2 * L + L + j] = -r.nextFloat()
            }
        }
        var s = LatentStatistics(latentDim: L)
        post.withUnsafeBufferPointer { p in
            s.add(p.baseAddress!, rows: 100)
            s.add(p.baseAddress! + 100 * 2 * L, rows: n - 100)
        }
        let summary = s.summary
        for j in 0..<L {
            let mu = (0..<n).map { Double(post[$0 * 2 * L + j]) }
            let mean = mu.reduce(0, +) / Double(n)
            let variance = mu.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n - 1)
            let kl =
                (0..<n).map { i -> Double in
                    let m = Double(post[i * 2 * L + j])
                    let lv = Double(post[i * 2 * L + L + j])
                    return -0.5 * (1 + lv - m * m - exp(lv))
                }.reduce(0, +) / Double(n)
            #expect(abs(summary.muVariance[j] - variance) < 1e-12 * max(1, variance))
            #expect(abs(summary.klPerDimension[j] - kl) < 1e-12 * max(1, kl))
        }
        #expect(summary.activeUnits == 2)
        #expect(summary.klPerDimension.indices.max { summary.klPerDimension[$0] < summary.klPerDimension[$1] } == 1)
    }
}

/// Each layer type of `Layer.swift`, and a `Sequential` of them, against
/// central finite differences (same step and tolerance as above).
@Suite struct LayerGradientTests {
    /// L = Σ c ⊙ stack(x): checks dL/dx and every parameter's gradient.
    func checkStack(
        _ makeLayers: (ParameterSet) -> [any Layer], layout: [(String, [Int])], inputSize: Int, rows: Int,
        awayFromKinks: Bool
    ) throws {
        let params = try ParameterSet(layout: layout, stateDictOrder: layout.map(\.0))
        let layers = makeLayers(params)
        let stack = try Sequential(layers, maxRows: rows)
        var r = RandomStream(seed: 3, stream: 9)
        for i in 0..<params.count { params.values[i] = r.nextFloat() * 2 - 1 }
        let x = try Tensor(shape: [rows, inputSize])
        let c = try Tensor((0..<(rows * stack.outputSize)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, stack.outputSize])
        func loss() -> Double {
            let y = stack.forward(x.pointer, rows: rows)
            return (0..<(rows * stack.outputSize)).reduce(0.0) { $0 + Double(y[$1]) * Double(c[$1]) }
        }
        /// The smallest |input| of any ReLU in the last forward pass.
        func smallestReLUInput() -> Float {
            var smallest = Float.infinity
            for i in stack.layers.indices where (stack.layers[i] as? ActivationLayer)?.function == .relu {
                if i == 0 { for k in 0..<x.count { smallest = min(smallest, abs(x[k])) } }
                // In place: recompute the input from the layer before (a Dense).
                guard i > 0, let dense = stack.layers[i - 1] as? Dense else { continue }
                let input = i - 1 == 0 ? UnsafePointer(x.pointer) : UnsafePointer(stack.output(ofLayer: i - 2))
                let pre = try? Tensor(shape: [rows, dense.outFeatures])
                guard let pre else { continue }
                dense.forward(input, rows: rows, into: pre.pointer)
                for k in 0..<pre.count { smallest = min(smallest, abs(pre[k])) }
            }
            return smallest
        }
        repeat {
            for i in 0..<x.count { x[i] = r.nextFloat() * 2 - 1 }
            _ = loss()
        } while awayFromKinks && smallestReLUInput() < 3 * fdStep
        let gradOutput = try Tensor(c.array, shape: c.shape)
        let dx = try Tensor(shape: [rows, inputSize])
        var done: [Range<Int>] = []
        stack.backward(input: x.pointer, gradOutput: gradOutput.pointer, rows: rows, gradInput: dx.pointer) { done.append($0) }
        #expect(done.reduce(0) { $0 + $1.count } == params.count, "every parameter's range is reported once")
        #expect(finiteDifferenceMismatches(params.values, analytic: params.gradients.array, loss: loss) == [], "parameters")
        #expect(finiteDifferenceMismatches(x, analytic: dx.array, loss: loss) == [], "inputs")
    }

    @Test func reluAlone() throws {
        try checkStack({ _ in [ActivationLayer(.relu, size: 6)] }, layout: [], inputSize: 6, rows: 3, awayFromKinks: true)
    }

    @Test func tanhAlone() throws {
        try checkStack({ _ in [ActivationLayer(.tanh, size: 6)] }, layout: [], inputSize: 6, rows: 3, awayFromKinks: false)
    }

    @Test func denseTanhDenseReLUDense() throws {
        try checkStack(
            { p in
                [Dense("a", in: p), ActivationLayer(.tanh, size: 5), Dense("b", in: p), ActivationLayer(.relu, size: 4), Dense("c", in: p)]
            },
            layout: [
                ("a.weight", [5, 3]), ("a.bias", [5]), ("b.weight", [4, 5]), ("b.bias", [4]),
                ("c.weight", [2, 4]), ("c.bias", [2]),
            ],
            inputSize: 3, rows: 4, awayFromKinks: true)
    }

    /// `forward(fromLayer:)` on the first layer's output written by hand runs
    /// the rest as a whole `forward` does, and a `backward` after it gives the
    /// same gradients: the same bits.
    @Test func forwardFromALayerContinuesAWholeForward() throws {
        let layout: [(String, [Int])] = [("a.weight", [6, 4]), ("a.bias", [6]), ("b.weight", [3, 6]), ("b.bias", [3])]
        let (rows, p) = (5, try ParameterSet(layout: layout, stateDictOrder: layout.map(\.0)))
        let stack = try Sequential([Dense("a", in: p), ActivationLayer(.relu, size: 6), Dense("b", in: p)], maxRows: rows)
        var r = RandomStream(seed: 8, stream: 1)
        for i in 0..<p.count { p.values[i] = r.nextFloat() * 2 - 1 }
        let x = try Tensor((0..<(rows * 4)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, 4])
        let dy = try Tensor((0..<(rows * 3)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, 3])
        /// Output and parameter gradients of one forward and backward.
        func run(_ forward: () -> UnsafeMutablePointer<Float>) throws -> [[Float]] {
            let y = Array(UnsafeBufferPointer(start: forward(), count: rows * 3))
            let g = try Tensor(dy.array, shape: dy.shape)
            stack.backward(input: x.pointer, gradOutput: g.pointer, rows: rows, gradInput: nil)
            return [y, p.gradients.array]
        }
        let whole = try run { stack.forward(x.pointer, rows: rows) }
        let firstOutput = try Tensor(shape: [rows, 6])
        Dense("a", in: p).forward(x.pointer, rows: rows, into: firstOutput.pointer)
        let resumed = try run {
            stack.output(ofLayer: 0).update(from: firstOutput.pointer, count: rows * 6)
            return stack.forward(fromLayer: 1, rows: rows)
        }
        #expect(resumed == whole)
        // And backward from below the last layer, after the caller did that layer's backward.
        let y = Array(UnsafeBufferPointer(start: stack.forward(x.pointer, rows: rows), count: rows * 3))
        #expect(y == whole[0])
        let below = try #require(stack.gradient(ofLayerOutput: 1))
        #expect(stack.gradient(ofLayerOutput: 2) == nil)
        Dense("b", in: p).backward(input: stack.output(ofLayer: 1), gradOutput: dy.pointer, rows: rows, gradInput: below)
        stack.backward(input: x.pointer, gradOutput: below, rows: rows, gradInput: nil, from: 1)
        #expect(p.gradients.array == whole[1])
    }

    @Test func mismatchedSizesAreRefused() throws {
        #expect(throws: ModelError.self) { try Sequential([ActivationLayer(.relu, size: 3), ActivationLayer(.tanh, size: 4)], maxRows: 2) }
        #expect(throws: ModelError.self) { try Sequential([], maxRows: 2) }
    }
}

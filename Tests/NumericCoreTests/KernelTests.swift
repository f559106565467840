import Foundation
import Testing

@testable import NumericCore

/// Closed forms in double precision.
func bceReference(_ l: Double, _ x: Double) -> Double { max(l, 0) - l * x + log1p(exp(-abs(l))) }
func sigmoidReference(_ l: Double) -> Double { l >= 0 ? 1 / (1 + exp(-l)) : exp(l) / (1 + exp(l)) }

@Suite struct KernelTests {
    /// Column sums added to what `out` holds (a convolution's bias gradient,
    /// chunk after chunk): within float rounding of a double sum (n·ε of the
    /// sum of magnitudes), for one column (summed as a row, in eight lanes),
    /// fewer columns than a vector, whole vectors, more than the 64 summed in
    /// registers at once, and a tail.
    @Test(arguments: [(1, 1571), (7, 392), (8, 392), (13, 100), (64, 392), (72, 49), (3, 1)])
    func columnSumsAreAddedWithinRounding(cols: Int, rows: Int) {
        var r = RandomStream(seed: UInt64(cols * 10_000 + rows), stream: 7)
        let x = (0..<(rows * cols)).map { _ in r.nextFloat() * 2 - 1 }
        var out: [Float] = (0..<cols).map { Float($0) }
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { Kernels.addColumnSums(xb.baseAddress!, rows: rows, cols: cols, to: $0.baseAddress!) }
        }
        for c in 0..<cols {
            let column = (0..<rows).map { x[$0 * cols + c] }
            let exact = Double(c) + column.reduce(0.0) { $0 + Double($1) }
            let magnitude = Double(c) + column.reduce(0.0) { $0 + Double(abs($1)) }
            #expect(abs(Double(out[c]) - exact) <= Double(rows + 1) * Double(Float.ulpOfOne) * magnitude)
        }
    }

    /// The weight reorderings of the channels-last convolutions: taps first
    /// and back are exact inverses, and taps first is the stated permutation.
    @Test func tapsFirstAndLastAreInverses() {
        let (outer, channels, taps) = (3, 5, 9)
        let w = (0..<(outer * channels * taps)).map { Float($0) }
        var first = [Float](repeating: .nan, count: w.count)
        var back = [Float](repeating: .nan, count: w.count)
        w.withUnsafeBufferPointer { wb in
            first.withUnsafeMutableBufferPointer {
                Kernels.tapsFirst(wb.baseAddress!, outer: outer, channels: channels, taps: taps, into: $0.baseAddress!)
            }
        }
        #expect(
            first
                == (0..<w.count).map { i in
                    let (o, t, c) = (i / (channels * taps), (i / channels) % taps, i % channels)
                    return w[(o * channels + c) * taps + t]
                })
        first.withUnsafeBufferPointer { fb in
            back.withUnsafeMutableBufferPointer {
                Kernels.tapsLast(fb.baseAddress!, outer: outer, channels: channels, taps: taps, into: $0.baseAddress!)
            }
        }
        #expect(back == w)
    }

    /// The transpose is exact, for whole 8 × 8 blocks and ragged edges.
    @Test(arguments: [(8, 8), (3, 5), (512, 64), (17, 33)])
    func transposeIsExact(rows: Int, columns: Int) {
        let x = (0..<(rows * columns)).map { Float($0) * 0.5 - 3 }
        var out = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { Kernels.transpose(xb.baseAddress!, rows: rows, columns: columns, into: $0.baseAddress!) }
        }
        #expect(out == (0..<x.count).map { x[($0 % rows) * columns + $0 / rows] })
    }

    @Test func expMatchesLibmToFloatPrecision() {
        let xs = stride(from: -87.0, through: 88.0, by: 0.0137).map { Float($0) }
        var out = [Float](repeating: 0, count: xs.count)
        Kernels.exp(xs, into: &out, count: xs.count)
        for (x, y) in zip(xs, out) {
            let ref = Foundation.exp(Double(x))
            #expect(abs(Double(y) - ref) <= 3e-7 * ref, "exp(\(x))")
        }
    }

    @Test func sigmoidMatchesClosedFormIncludingSaturation() {
        let ls: [Float] = [-1e4, -200, -88, -30, -5, -1, -1e-3, 0, 1e-3, 1, 5, 30, 88, 200, 1e4]
        var out = [Float](repeating: 0, count: ls.count)
        Kernels.sigmoid(ls, into: &out, count: ls.count)
        for (l, s) in zip(ls, out) {
            #expect(s.isFinite && s >= 0 && s <= 1)
            // Absolute error 1e-7, relative 3e-7 (exp clamps at −87: e^−87 ≈ 1.6e−38).
            let ref = sigmoidReference(Double(l))
            #expect(abs(Double(s) - ref) <= max(1e-37, 3e-7 * ref), "sigmoid(\(l))")
        }
    }

    @Test func bceFromLogitsMatchesClosedFormAndIsStableWhenSaturated() {
        // Pairs (logit, target) including saturated logits where the naive
        // log(sigmoid) form gives −∞ or NaN.
        let cases: [(Float, Float)] = [
            (0, 0), (0, 1), (0, 0.5), (2.5, 0.3), (-2.5, 0.3), (100, 0), (100, 1), (-100, 1), (-100, 0),
            (1e4, 1), (1e4, 0), (-1e4, 1), (-1e4, 0), (30, 0.999), (-30, 0.001), (1e-4, 0.7),
        ]
        let l = cases.map(\.0)
        let x = cases.map(\.1)
        var grad = [Float](repeating: 0, count: cases.count)
        var loss = [Double](repeating: 0, count: cases.count)
        // One row per case, so each loss is a single element's.
        Kernels.bceWithLogits(logits: l, targets: x, grad: &grad, rows: cases.count, cols: 1, rowLoss: &loss)
        for i in cases.indices {
            let ref = bceReference(Double(l[i]), Double(x[i]))
            #expect(loss[i].isFinite)
            #expect(abs(loss[i] - ref) <= 1e-6 * max(1, abs(ref)), "bce(\(l[i]), \(x[i])) = \(loss[i]), expected \(ref)")
            let gref = sigmoidReference(Double(l[i])) - Double(x[i])
            #expect(abs(Double(grad[i]) - gref) <= 3e-7, "grad at \(l[i])")
        }
    }

    @Test func bceRowSumsAgreeWithAndWithoutGradient() {
        var r = RandomStream(seed: 2, stream: 2)
        let rows = 5
        let cols = 37
        let l = (0..<(rows * cols)).map { _ in (r.nextFloat() - 0.5) * 20 }
        let x = (0..<(rows * cols)).map { _ in r.nextFloat() }
        var g = [Float](repeating: 0, count: rows * cols)
        var a = [Double](repeating: 0, count: rows)
        var b = a
        Kernels.bceWithLogits(logits: l, targets: x, grad: &g, rows: rows, cols: cols, rowLoss: &a)
        Kernels.bceWithLogits(logits: l, targets: x, grad: nil, rows: rows, cols: cols, rowLoss: &b)
        for i in 0..<rows {
            let ref = (0..<cols).reduce(0.0) { $0 + bceReference(Double(l[i * cols + $1]), Double(x[i * cols + $1])) }
            #expect(abs(a[i] - ref) < 1e-5 * ref)
            #expect(abs(a[i] - b[i]) < 1e-5 * ref)
        }
    }

    @Test func gaussianKernelMatchesSquaredErrorAndItsDerivative() {
        let l: [Float] = [-40, -3, -0.2, 0, 0.7, 4, 40]
        let x: [Float] = [0, 0.1, 0.5, 0.5, 0.9, 1, 1]
        let sigma = 0.25
        let invVar = Float(1 / (sigma * sigma))
        var g = [Float](repeating: 0, count: l.count)
        var loss = [Double](repeating: 0, count: l.count)
        Kernels.gaussianSigmoid(logits: l, targets: x, inverseVariance: invVar, grad: &g, rows: l.count, cols: 1, rowLoss: &loss)
        for i in l.indices {
            let m = sigmoidReference(Double(l[i]))
            let ref = (Double(x[i]) - m) * (Double(x[i]) - m) / (2 * sigma * sigma)
            #expect(abs(loss[i] - ref) <= 1e-6 * max(1, ref))
            let gref = (m - Double(x[i])) / (sigma * sigma) * m * (1 - m)
            #expect(abs(Double(g[i]) - gref) <= 1e-6 * max(1, abs(gref)))
        }
    }

    @Test func reluColumnSumAndGather() {
        var y: [Float] = [-1, 2, 0, -0.5, 3, 4]
        Kernels.relu(&y, count: y.count)
        #expect(y == [0, 2, 0, 0, 3, 4])
        var dy: [Float] = [1, 1, 1, 1, 1, 1]
        Kernels.reluBackward(&dy, output: y, count: 6)
        #expect(dy == [0, 1, 0, 0, 1, 1])
        var sums = [Float](repeating: 9, count: 3)
        Kernels.columnSum([1, 2, 3, 4, 5, 6], rows: 2, cols: 3, into: &sums)
        #expect(sums == [5, 7, 9])
        let bytes: [UInt8] = [0, 255, 51, 102, 204, 255]
        var out = [Float](repeating: -1, count: 4)
        Kernels.gatherBytes(bytes, rows: [2, 0], count: 2, cols: 2, into: &out)
        #expect(out.map { ($0 * 255).rounded() } == [204, 255, 0, 255])
    }

    @Test func bernoulliGatherDrawsWithThePixelProbability() {
        let cols = 4
        let bytes: [UInt8] = [0, 64, 191, 255]
        var r = RandomStream(seed: 4, purpose: .binarization)
        let rows = 20_000
        var u = [UInt32](repeating: 0, count: rows * cols)
        u.withUnsafeMutableBufferPointer { r.fillUniform24($0.baseAddress!, count: $0.count) }
        var out = [Float](repeating: -1, count: rows * cols)
        Kernels.gatherBytesBernoulli(
            bytes, rows: [Int64](repeating: 0, count: rows), count: rows, cols: cols,
            uniform24: u, into: &out)
        #expect(out.allSatisfy { $0 == 0 || $0 == 1 })
        for c in 0..<cols {
            let p = Double(bytes[c]) / 255
            let freq = (0..<rows).reduce(0.0) { $0 + Double(out[$1 * cols + c]) } / Double(rows)
            // Binomial standard error ≤ 0.0036; allow 5.
            #expect(abs(freq - p) < 0.018, "pixel \(bytes[c])")
        }
    }

    @Test func adamKernelMatchesDoublePrecisionReference() {
        var r = RandomStream(seed: 8, stream: 8)
        let n = 1000
        var p = (0..<n).map { _ in r.nextFloat() - 0.5 }
        let g = (0..<n).map { _ in (r.nextFloat() - 0.5) * 1e-2 }
        var m = (0..<n).map { _ in (r.nextFloat() - 0.5) * 1e-3 }
        var v = (0..<n).map { _ in r.nextFloat() * 1e-5 }
        let (p0, m0, v0) = (p, m, v)
        let lr = 1e-3
        let b1 = 0.9
        let b2 = 0.999
        let eps = 1e-8
        let t = 3.0
        let bc1 = 1 - pow(b1, t)
        let bc2 = 1 - pow(b2, t)
        Kernels.adam(
            parameters: &p, gradients: g, firstMoment: &m, secondMoment: &v, count: n,
            beta2: Float(b2), oneMinusBeta1: Float(1 - b1), oneMinusBeta2: Float(1 - b2), stepSize: Float(lr / bc1),
            sqrtBiasCorrection2: Float(bc2.squareRoot()), eps: Float(eps))
        for i in 0..<n {
            let mi = Double(m0[i]) + (1 - b1) * (Double(g[i]) - Double(m0[i]))
            let vi = b2 * Double(v0[i]) + (1 - b2) * Double(g[i]) * Double(g[i])
            let pi = Double(p0[i]) - lr / bc1 * mi / (vi.squareRoot() / bc2.squareRoot() + eps)
            // Float rounding relative to the magnitudes combined (the sums can cancel).
            #expect(abs(Double(m[i]) - mi) <= 3e-7 * (abs(Double(m0[i])) + abs(Double(g[i]))))
            #expect(abs(Double(v[i]) - vi) <= 3e-7 * (Double(v0[i]) + Double(g[i]) * Double(g[i])))
            #expect(abs(Double(p[i]) - pi) <= 2e-7 * max(abs(pi), 1e-3))
        }
    }

    /// The two-worker update gives the bits of the plain one on g0 + g1, and
    /// each value's roundings are the spelled-out ones (two fused multiply-adds),
    /// whatever the element's place in the vector loop or its scalar tail.
    @Test func summingAdamGivesThePlainUpdatesBits() {
        var r = RandomStream(seed: 9, stream: 9)
        let n = 1003  // a scalar tail after the vectors
        let g0 = (0..<n).map { _ in (r.nextFloat() - 0.5) * 1e-2 }
        let g1 = (0..<n).map { _ in (r.nextFloat() - 0.5) * 1e-2 }
        let p0 = (0..<n).map { _ in r.nextFloat() - 0.5 }
        let m0 = (0..<n).map { _ in (r.nextFloat() - 0.5) * 1e-3 }
        let v0 = (0..<n).map { _ in r.nextFloat() * 1e-5 }
        let (b2, a1, a2, step, bc2, eps): (Float, Float, Float, Float, Float, Float) = (0.999, 0.1, 0.001, 2e-3, 0.05, 1e-8)
        var (p, m, v) = (p0, m0, v0)
        Kernels.adam(
            parameters: &p, summing: g0, g1, firstMoment: &m, secondMoment: &v, count: n, beta2: b2, oneMinusBeta1: a1,
            oneMinusBeta2: a2, stepSize: step, sqrtBiasCorrection2: bc2, eps: eps)
        let g = (0..<n).map { g0[$0] + g1[$0] }
        var (q, mq, vq) = (p0, m0, v0)
        Kernels.adam(
            parameters: &q, gradients: g, firstMoment: &mq, secondMoment: &vq, count: n, beta2: b2, oneMinusBeta1: a1,
            oneMinusBeta2: a2, stepSize: step, sqrtBiasCorrection2: bc2, eps: eps)
        #expect(p == q && m == mq && v == vq)
        for i in 0..<n {
            // addingProduct is a fused multiply-add.
            let mi = m0[i].addingProduct(a1, g[i] - m0[i])
            let vi = (b2 * v0[i]).addingProduct(a2 * g[i], g[i])
            let pi = p0[i] - (step * bc2) * mi / (vi.squareRoot() + eps * bc2)
            #expect(m[i] == mi && v[i] == vi && p[i] == pi, "element \(i)")
        }
    }

    @Test func allFiniteDetectsNaNAndInfinity() {
        #expect(Kernels.allFinite([1, 2, 3], count: 3))
        #expect(!Kernels.allFinite([1, .nan, 3], count: 3))
        #expect(!Kernels.allFinite([1, 2, -.infinity], count: 3))
    }
}

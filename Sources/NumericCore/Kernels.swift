import CKernels

/// Swift entry points to the element-wise SIMD kernels (see zoo_kernels.h for
/// the formulas and their accuracy). Pointers must hold the stated counts.
public enum Kernels {
    @inline(__always)
    public static func fillRows(_ y: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        zk_fill_rows(y, bias, rows, cols)
    }

    @inline(__always)
    public static func relu(_ y: UnsafeMutablePointer<Float>, count: Int) { zk_relu(y, count) }

    @inline(__always)
    public static func reluBackward(_ dy: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count: Int) {
        zk_relu_backward(dy, y, count)
    }

    /// y = tanh(y) in place (relative error < 3e-7).
    @inline(__always)
    public static func tanh(_ y: UnsafeMutablePointer<Float>, count: Int) { zk_tanh(y, count) }

    /// dy *= 1 − y² where y is the tanh output.
    @inline(__always)
    public static func tanhBackward(_ dy: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>, count: Int) {
        zk_tanh_backward(dy, y, count)
    }

    @inline(__always)
    public static func columnSum(_ dy: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        zk_col_sum(dy, rows, cols, out)
    }

    /// `columnSum` of `cols` columns of rows `ld` floats apart (columns of a wider matrix).
    @inline(__always)
    public static func columnSum(
        _ dy: UnsafePointer<Float>, rows: Int, cols: Int, ld: Int, into out: UnsafeMutablePointer<Float>
    ) {
        zk_col_sum_ld(dy, rows, cols, ld, out)
    }

    /// Per-row Bernoulli negative log-likelihood from logits; writes the
    /// gradient `sigmoid(l) - x` into `grad` when given.
    @inline(__always)
    public static func bceWithLogits(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>,
        grad: UnsafeMutablePointer<Float>?, rows: Int, cols: Int,
        rowLoss: UnsafeMutablePointer<Double>
    ) {
        zk_bce_logits(logits, targets, grad, rows, cols, rowLoss)
    }

    /// Per-row Σ (x − sigmoid(l))² / (2σ²) and its gradient with respect to l.
    @inline(__always)
    public static func gaussianSigmoid(
        logits: UnsafePointer<Float>, targets: UnsafePointer<Float>, inverseVariance: Float,
        grad: UnsafeMutablePointer<Float>?, rows: Int, cols: Int,
        rowLoss: UnsafeMutablePointer<Double>
    ) {
        zk_gauss_sigmoid(logits, targets, inverseVariance, grad, rows, cols, rowLoss)
    }

    @inline(__always)
    public static func sigmoid(_ l: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        zk_sigmoid(l, out, count)
    }

    @inline(__always)
    public static func exp(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        zk_exp(x, out, count)
    }

    @inline(__always)
    public static func gatherBytes(
        _ src: UnsafePointer<UInt8>, rows: UnsafePointer<Int64>, count: Int, cols: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        zk_gather_u8(src, rows, count, cols, dst)
    }

    @inline(__always)
    public static func gatherBytesBernoulli(
        _ src: UnsafePointer<UInt8>, rows: UnsafePointer<Int64>, count: Int, cols: Int,
        uniform24: UnsafePointer<UInt32>, into dst: UnsafeMutablePointer<Float>
    ) {
        zk_gather_u8_bernoulli(src, rows, count, cols, uniform24, dst)
    }

    /// From the image-minor layout (value m of image b at m·n + b, n images
    /// of `size` values) to rows: x[b·size + m] = src[m·n + b] (+ bias[m /
    /// plane]) for m in `range` and images `images` only (see
    /// `zk_from_image_minor_part`).
    @inline(__always)
    public static func fromImageMinor(
        _ src: UnsafePointer<Float>, images n: Int, part images: Range<Int>, size: Int, range: Range<Int>,
        bias: UnsafePointer<Float>?, plane: Int, into x: UnsafeMutablePointer<Float>
    ) {
        zk_from_image_minor_part(
            src, n, size, range.lowerBound, range.upperBound, images.lowerBound, images.upperBound, bias, plane, x)
    }

    /// n NCHW rows of `channels` × `plane` values to a channels-last chunk
    /// (value (q, c) of image b at (q·n + b)·channels + c), pixels q in `pixels`.
    @inline(__always)
    public static func toChannelsLast(
        _ x: UnsafePointer<Float>, images n: Int, channels: Int, plane: Int, pixels: Range<Int>, into out: UnsafeMutablePointer<Float>
    ) {
        zk_to_channels_last(x, n, channels, plane, pixels.lowerBound, pixels.upperBound, out)
    }

    /// The inverse of `toChannelsLast`, pixels q in `pixels`.
    @inline(__always)
    public static func fromChannelsLast(
        _ src: UnsafePointer<Float>, images n: Int, channels: Int, plane: Int, pixels: Range<Int>, into x: UnsafeMutablePointer<Float>
    ) {
        zk_from_channels_last(src, n, channels, plane, pixels.lowerBound, pixels.upperBound, x)
    }

    /// The transposed im2col matrix of a convolution on a channels-last chunk,
    /// from its index table, for the channels in `part` (see `zk_im2col_last`).
    @inline(__always)
    public static func im2colChannelsLast(
        _ x: UnsafePointer<Float>, images n: Int, channels: Int, taps: Int, positions: Int, source: UnsafePointer<Int32>,
        part: Range<Int>, into col: UnsafeMutablePointer<Float>, ld: Int
    ) {
        zk_im2col_last(x, n, channels, taps, positions, source, part.lowerBound, part.upperBound, col, ld)
    }

    /// The adjoint of `im2colChannelsLast` plus `bias` per channel (see
    /// `zk_col2im_last`): the channels in `part` of x are overwritten.
    @inline(__always)
    public static func col2imChannelsLast(
        _ col: UnsafePointer<Float>, ld: Int, images n: Int, channels: Int, plane: Int, taps: Int, positions: Int,
        source: UnsafePointer<Int32>, part: Range<Int>, bias: UnsafePointer<Float>?, into x: UnsafeMutablePointer<Float>
    ) {
        zk_col2im_last(col, ld, n, channels, plane, taps, positions, source, part.lowerBound, part.upperBound, bias, x)
    }

    /// out[c] += Σ_r x[r, c] (`rows` rows of `cols` values), in a fixed order (see `zk_add_col_sums`).
    @inline(__always)
    public static func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, cols: Int, to out: UnsafeMutablePointer<Float>) {
        zk_add_col_sums(x, rows, cols, out)
    }

    /// A convolution weight [outer][channels][taps] reordered to [outer][taps][channels].
    @inline(__always)
    public static func tapsFirst(
        _ w: UnsafePointer<Float>, outer: Int, channels: Int, taps: Int, into out: UnsafeMutablePointer<Float>
    ) {
        zk_transpose_each(w, outer, channels, taps, out)
    }

    /// The inverse of `tapsFirst`: [outer][taps][channels] to [outer][channels][taps].
    @inline(__always)
    public static func tapsLast(
        _ w: UnsafePointer<Float>, outer: Int, channels: Int, taps: Int, into out: UnsafeMutablePointer<Float>
    ) {
        zk_transpose_each(w, outer, taps, channels, out)
    }

    /// out[c, r] = x[r, c] for a row-major `rows` × `columns` matrix (out holds columns × rows;
    /// 8 × 8 blocks in registers, see `zk_from_image_minor`).
    @inline(__always)
    public static func transpose(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        zk_from_image_minor(x, columns, rows, 0, rows, nil, 1, out)
    }

    /// Rows `rows[0..<count]` of a float matrix with `cols` columns, into `dst`.
    @inline(__always)
    public static func gatherFloats(
        _ src: UnsafePointer<Float>, rows: UnsafePointer<Int64>, count: Int, cols: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        zk_gather_f32(src, rows, count, cols, dst)
    }

    /// The same rows, every value p ∈ [0, 1] replaced by one Bernoulli(p) draw
    /// (1 when uniform24 · 2⁻²⁴ < p).
    @inline(__always)
    public static func gatherFloatsBernoulli(
        _ src: UnsafePointer<Float>, rows: UnsafePointer<Int64>, count: Int, cols: Int,
        uniform24: UnsafePointer<UInt32>, into dst: UnsafeMutablePointer<Float>
    ) {
        zk_gather_f32_bernoulli(src, rows, count, cols, uniform24, dst)
    }

    @inline(__always)
    public static func adam(
        parameters p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>,
        firstMoment m: UnsafeMutablePointer<Float>, secondMoment v: UnsafeMutablePointer<Float>,
        count: Int, beta2: Float, oneMinusBeta1: Float, oneMinusBeta2: Float,
        stepSize: Float, sqrtBiasCorrection2: Float, eps: Float
    ) {
        zk_adam(p, g, m, v, count, beta2, oneMinusBeta1, oneMinusBeta2, stepSize, sqrtBiasCorrection2, eps)
    }

    /// `adam` on the gradient g0 + g1 (added in that order, not stored).
    @inline(__always)
    public static func adam(
        parameters p: UnsafeMutablePointer<Float>, summing g0: UnsafePointer<Float>, _ g1: UnsafePointer<Float>,
        firstMoment m: UnsafeMutablePointer<Float>, secondMoment v: UnsafeMutablePointer<Float>,
        count: Int, beta2: Float, oneMinusBeta1: Float, oneMinusBeta2: Float,
        stepSize: Float, sqrtBiasCorrection2: Float, eps: Float
    ) {
        zk_adam_sum2(p, g0, g1, m, v, count, beta2, oneMinusBeta1, oneMinusBeta2, stepSize, sqrtBiasCorrection2, eps)
    }

    /// z = μ + σ·ε for `rows` draws of one posterior; `logRatio[r]` = Σⱼ (εⱼ² − zⱼ²)/2,
    /// i.e. log p(z) − log q(z|x) − Σⱼ log σⱼ.
    @inline(__always)
    public static func reparameterize(
        epsilon: UnsafePointer<Float>, mu: UnsafePointer<Float>, sigma: UnsafePointer<Float>,
        rows: Int, latent: Int, z: UnsafeMutablePointer<Float>, logRatio: UnsafeMutablePointer<Double>
    ) {
        zk_reparameterize(epsilon, mu, sigma, rows, latent, z, logRatio)
    }

    /// Per row r: log p(x | l_r) of one image `x` under a Bernoulli decoder with
    /// logits `logits[r] + bias` (within ~1e-5 nats for 784 pixels).
    @inline(__always)
    public static func bernoulliLogLikelihood(
        logits: UnsafePointer<Float>, bias: UnsafePointer<Float>, target x: UnsafePointer<Float>,
        rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>
    ) {
        zk_bernoulli_loglik(logits, bias, x, rows, cols, out)
    }

    /// Per row r: −Σ_c (x_c − sigmoid(l_rc))² · inverseVariance / 2 with
    /// l = logits + bias (the Gaussian log density without its constant).
    @inline(__always)
    public static func gaussianLogLikelihood(
        logits: UnsafePointer<Float>, bias: UnsafePointer<Float>, target x: UnsafePointer<Float>,
        inverseVariance: Float, rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>
    ) {
        zk_gaussian_loglik(logits, bias, x, inverseVariance, rows, cols, out)
    }

    /// out[i] = Σ_w parts[w][offset + i] for i in 0..<count, added in the
    /// order of `parts` (a fixed order: the same inputs always give the same bits).
    public static func sum(_ parts: [UnsafePointer<Float>], offset: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        guard let first = parts.first else { return out.update(repeating: 0, count: count) }
        out.update(from: first + offset, count: count)
        for p in parts.dropFirst() { zk_add(out, out, p + offset, count) }
    }

    /// out[i] = Σ_w parts[w][i] for i in `range`, added in the order of `parts`.
    public static func sum(_ parts: [UnsafePointer<Float>], range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        sum(parts, offset: range.lowerBound, count: range.count, into: out + range.lowerBound)
    }

    /// Flush subnormal floats to zero on the calling thread (see zoo_kernels.h).
    /// Training and evaluation set it once at start; results stay deterministic.
    public static func flushDenormals(_ on: Bool = true) { _ = zk_set_flush_denormals(on ? 1 : 0) }

    /// The calling thread's floating-point control word (flush-to-zero among its bits).
    public static func floatControl() -> UInt32 { zk_float_control() }

    /// Sets the calling thread's floating-point control word (one `floatControl` returned).
    public static func setFloatControl(_ word: UInt32) { zk_set_float_control(word) }

    public static func allFinite(_ x: UnsafePointer<Float>, count: Int) -> Bool { zk_all_finite(x, count) != 0 }
}

import NumericCore

/// A fully connected layer y = x Wᵀ + b with W stored [out, in] (PyTorch's
/// `nn.Linear` layout). Forward and backward work on caller-owned row-major
/// buffers for `rows` rows, so nothing is allocated per batch.
public struct Dense {
    public let inFeatures: Int
    public let outFeatures: Int
    public let weight: View
    public let bias: View
    public let weightGradient: View
    public let biasGradient: View
    /// [out, rows]: yᵀ for the transposed forward product (see `forward`), when
    /// the layer was made for a known number of rows.
    let transposedOutput: Tensor?

    public init(weight: View, bias: View, weightGradient: View, biasGradient: View) {
        self.init(weight: weight, bias: bias, weightGradient: weightGradient, biasGradient: biasGradient, transposedOutput: nil)
    }

    private init(weight: View, bias: View, weightGradient: View, biasGradient: View, transposedOutput: Tensor?) {
        precondition(weight.shape.count == 2 && bias.shape == [weight.shape[0]])
        precondition(weightGradient.shape == weight.shape && biasGradient.shape == bias.shape)
        self.outFeatures = weight.shape[0]
        self.inFeatures = weight.shape[1]
        self.weight = weight
        self.bias = bias
        self.weightGradient = weightGradient
        self.biasGradient = biasGradient
        self.transposedOutput = transposedOutput
    }

    /// The layer named `name` of `parameters` (`name.weight`, `name.bias`).
    public init(_ name: String, in parameters: ParameterSet) {
        self.init(
            weight: parameters.value("\(name).weight"), bias: parameters.value("\(name).bias"),
            weightGradient: parameters.gradient("\(name).weight"), biasGradient: parameters.gradient("\(name).bias"))
    }

    /// The most rows a stack may be made for to get transposed linear layers
    /// (`VAE.makeLayer`): with 500-row chunks (the importance sampler's)
    /// the conv-vae's evaluation ran 6–8 % slower transposed, with 64-row shares
    /// the MLP's training 1.5 % faster.
    public static let transposedRowLimit = 256

    /// The same, keeping a buffer of yᵀ for up to `rows` rows: its forward
    /// product then runs transposed (whatever the row count of a call, so a
    /// row's values do not depend on the others).
    public init(_ name: String, in parameters: ParameterSet, rows: Int) throws {
        self.init(
            weight: parameters.value("\(name).weight"), bias: parameters.value("\(name).bias"),
            weightGradient: parameters.gradient("\(name).weight"), biasGradient: parameters.gradient("\(name).bias"),
            transposedOutput: try Tensor(shape: [parameters.value("\(name).weight").shape[0], rows]))
    }

    /// y[rows, out] = x[rows, in] · Wᵀ + b. A layer with a `transposedOutput`
    /// buffer computes yᵀ = W · xᵀ and transposes it (adding b): OpenBLAS runs
    /// the forward products of training's 64-row shares 12–16 % faster that
    /// way (out × 64 rather than 64 × out), and the tutorial MLP trains about
    /// 1.5 % faster. The bits differ from the plain product's (the bias is added
    /// after the sum, not before it), the same for every batch size.
    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if takesUnits(rows: rows) { return forward(x, rows: rows, units: 0..<outFeatures, into: y) }
        Kernels.fillRows(y, bias: bias.pointer, rows: rows, cols: outFeatures)
        BLAS.gemm(
            transB: true, m: rows, n: outFeatures, k: inFeatures,
            a: x, lda: inFeatures, b: weight.pointer, ldb: inFeatures,
            beta: 1, c: y, ldc: outFeatures)
    }

    /// Whether `forward(_:rows:units:into:)` can take `rows` rows (a
    /// transposed-output buffer that holds them).
    public func takesUnits(rows: Int) -> Bool { transposedOutput.map { rows <= $0.shape[1] } ?? false }

    /// Units (output columns) `units` of `forward`: y[:, units] = x · W[units]ᵀ
    /// + b[units], through the transposed product as `forward`, one product
    /// over all `rows`, or over batch rows `part` of them only. Threads that
    /// take disjoint unit ranges (or row parts) write disjoint parts of this
    /// layer's yᵀ buffer and of `y` (`BatchWorkers` splits layers this way).
    /// Each value is summed as by `forward` on the same rows when the units
    /// split at a multiple of 16; against `forward` on fewer rows (a worker's
    /// share) OpenBLAS's Haswell and Zen kernels round some values
    /// differently (1,362 of 25,600 for 128 against 64 rows in a C test; the
    /// SkylakeX kernels none). One product per worker's rows would keep those
    /// bits, but ran 1–2.5 % slower (five A/B pairs). Needs `takesUnits(rows:)`.
    public func forward(
        _ x: UnsafePointer<Float>, rows: Int, units: Range<Int>, part: Range<Int>? = nil, into y: UnsafeMutablePointer<Float>
    ) {
        let part = part ?? 0..<rows
        guard let t = transposedOutput, rows <= t.shape[1], units.lowerBound >= 0, units.upperBound <= outFeatures,
            part.lowerBound >= 0, part.upperBound <= rows
        else {
            preconditionFailure("forward(units:) needs a transposed-output buffer for \(rows) rows and units within \(outFeatures)")
        }
        guard !units.isEmpty, !part.isEmpty else { return }
        BLAS.gemm(
            transB: true, m: units.count, n: part.count, k: inFeatures, a: weight.pointer + units.lowerBound * inFeatures,
            lda: inFeatures, b: x + part.lowerBound * inFeatures, ldb: inFeatures,
            c: t.pointer + units.lowerBound * rows + part.lowerBound, ldc: rows)
        Kernels.fromImageMinor(
            t.pointer, images: rows, part: part, size: outFeatures, range: units, bias: bias.pointer, plane: 1, into: y)
    }

    /// The parameter gradients of units `units` over the batch rows `rows`
    /// (of the batch `x` and `dy` hold), for threads that split a layer's
    /// backward by units (and rows): dW[units] = dy[rows, units]ᵀ · x[rows]
    /// (one product, K = rows.count) and db[units] = Σ_rows dy[rows, units],
    /// into this layer's gradient views (rows `units` of them).
    public func backwardWeights(
        input x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, rows: Range<Int>, units: Range<Int>
    ) {
        guard !units.isEmpty else { return }
        let (a, b) = (dy + rows.lowerBound * outFeatures + units.lowerBound, x + rows.lowerBound * inFeatures)
        BLAS.gemm(
            transA: true, m: units.count, n: inFeatures, k: rows.count, a: a, lda: outFeatures, b: b,
            ldb: inFeatures, c: weightGradient.pointer + units.lowerBound * inFeatures, ldc: inFeatures)
        Kernels.columnSum(a, rows: rows.count, cols: units.count, ld: outFeatures, into: biasGradient.pointer + units.lowerBound)
    }

    /// Units `units`' share of dL/dx for batch rows `rows`: dy[rows, units] ·
    /// W[units, :] into rows `rows` of `partial` ([batch, in]; added to what
    /// they hold when `accumulate`). The shares of disjoint unit ranges
    /// covering the layer add up to dL/dx (in another order than one product).
    public func inputGradientShare(
        gradOutput dy: UnsafePointer<Float>, rows: Range<Int>, units: Range<Int>, into partial: UnsafeMutablePointer<Float>,
        accumulate: Bool = false
    ) {
        let out = partial + rows.lowerBound * inFeatures
        guard !units.isEmpty else {
            if !accumulate { out.update(repeating: 0, count: rows.count * inFeatures) }
            return
        }
        BLAS.gemm(
            m: rows.count, n: inFeatures, k: units.count, a: dy + rows.lowerBound * outFeatures + units.lowerBound,
            lda: outFeatures, b: weight.pointer + units.lowerBound * inFeatures, ldb: inFeatures, beta: accumulate ? 1 : 0,
            c: out, ldc: inFeatures)
    }

    /// Given dL/dy for `rows` rows: writes dL/dW = dyᵀ x and dL/db = Σ_rows dy
    /// (overwriting the gradients), and, when `gradInput` is given,
    /// dL/dx = dy · W (added to `gradInput` when `accumulate`, else written).
    public func backward(
        input x: UnsafePointer<Float>, gradOutput dy: UnsafePointer<Float>, rows: Int,
        gradInput dx: UnsafeMutablePointer<Float>? = nil, accumulate: Bool = false
    ) {
        BLAS.gemm(
            transA: true, m: outFeatures, n: inFeatures, k: rows,
            a: dy, lda: outFeatures, b: x, ldb: inFeatures,
            c: weightGradient.pointer, ldc: inFeatures)
        Kernels.columnSum(dy, rows: rows, cols: outFeatures, into: biasGradient.pointer)
        if let dx {
            BLAS.gemm(
                m: rows, n: inFeatures, k: outFeatures,
                a: dy, lda: outFeatures, b: weight.pointer, ldb: inFeatures,
                beta: accumulate ? 1 : 0, c: dx, ldc: inFeatures)
        }
    }

    /// Flat offsets of this layer's weight and bias in their `ParameterSet`
    /// (they are adjacent for every layer the VAE builds).
    public var flatRange: Range<Int> { adjacentRange(weight, bias) }

    /// PyTorch's default `nn.Linear` initialization: W and b uniform on
    /// [−1/√in, 1/√in] (kaiming_uniform with a = √5), drawn W first, then b.
    public func initialize(using random: inout RandomStream) {
        initializeUniform([weight, bias], bound: 1 / Float(inFeatures).squareRoot(), using: &random)
    }
}

/// The flat range of a layer's weight and bias, adjacent in their `ParameterSet`.
func adjacentRange(_ weight: View, _ bias: View) -> Range<Int> {
    let lo = min(weight.offset, bias.offset)
    return lo..<(lo + weight.count + bias.count)
}

/// PyTorch's default layer initialization: every value of `views`, in order,
/// uniform on [−bound, bound] from `random`.
func initializeUniform(_ views: [View], bound: Float, using random: inout RandomStream) {
    for buffer in views.map(\.buffer) {
        for i in buffer.indices { buffer[i] = (2 * random.nextFloat() - 1) * bound }
    }
}

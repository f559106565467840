import NumericCore

/// The geometry of a 2-D convolution over one [channels, height, width]
/// image (PyTorch's NCHW, one image at a time): kernel kh×kw, stride,
/// zero padding, and the output size it implies.
public struct ConvolutionGeometry: Equatable, Sendable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    public var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// Values per row of the transposed column matrix: one per (kernel row, kernel column, channel).
    public var columnRows: Int { channels * kernel * kernel }
    public var columnCount: Int { outputHeight * outputWidth }

    /// For each output position o and kernel position t = i·k + j, the offset
    /// in the input plane it reads, or −1 in the padding: [Ho·Wo, k·k].
    let source: [Int32]

    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        precondition(channels >= 1 && kernel >= 1 && stride >= 1 && padding >= 0)
        precondition(height + 2 * padding >= kernel && width + 2 * padding >= kernel)
        self.channels = channels
        self.height = height
        self.width = width
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        let (ho, wo) = ((height + 2 * padding - kernel) / stride + 1, (width + 2 * padding - kernel) / stride + 1)
        let n = ho * wo
        let taps = kernel * kernel
        var source = [Int32](repeating: -1, count: taps * n)
        for i in 0..<kernel {
            for j in 0..<kernel {
                let t = i * kernel + j
                for oy in 0..<ho {
                    let y = oy * stride - padding + i
                    guard y >= 0 && y < height else { continue }
                    for ox in 0..<wo {
                        let x = ox * stride - padding + j
                        guard x >= 0 && x < width else { continue }
                        source[(oy * wo + ox) * taps + t] = Int32(y * width + x)
                    }
                }
            }
        }
        self.source = source
    }

    /// The transposed column matrix of n `images` held channels-last in `x`
    /// (value (q, c) of image b at (q·n + b)·C + c): col[o·n + b, (i·k + j)·C + c]
    /// = x[b, c, oy·s − p + i, ox·s − p + j] (0 outside the image), o = oy·Wo + ox,
    /// for the channels in `part` (all by default); rows `ld` values apart
    /// (`columnRows` by default).
    public func im2col(
        channelsLast x: UnsafePointer<Float>, images n: Int, channels part: Range<Int>? = nil, into col: UnsafeMutablePointer<Float>,
        ld: Int? = nil
    ) {
        source.withUnsafeBufferPointer {
            Kernels.im2colChannelsLast(
                x, images: n, channels: channels, taps: kernel * kernel, positions: columnCount, source: $0.baseAddress!,
                part: part ?? 0..<channels, into: col, ld: ld ?? columnRows)
        }
    }

    /// The adjoint of `im2col`: x (channels-last, channels `part`) = bias[c]
    /// (0 without a bias) + for each value the column entries that read it,
    /// added in (output position, kernel position) order (x is overwritten).
    public func col2im(
        _ col: UnsafePointer<Float>, images n: Int, channels part: Range<Int>? = nil, bias: UnsafePointer<Float>? = nil,
        intoChannelsLast x: UnsafeMutablePointer<Float>, ld: Int? = nil
    ) {
        source.withUnsafeBufferPointer {
            Kernels.col2imChannelsLast(
                col, ld: ld ?? columnRows, images: n, channels: channels, plane: height * width, taps: kernel * kernel,
                positions: columnCount, source: $0.baseAddress!, part: part ?? 0..<channels, bias: bias, into: x)
        }
    }
}

/// Images per convolution product: within `productFloats` of buffers
/// (`floatsPerImage` each), in multiples of 8 (one pixel of a one-channel
/// chunk then fills a vector), at least 8, at most `batch`. (Chunks of 4 ran
/// conv-vae's 32↔64-channel layers 2–3 % faster and its one-channel layers
/// 8–15 % slower: no gain over an epoch, 8 A/B pairs on a 2-core Xeon.)
func imagesPerProduct(batch: Int, floatsPerImage: Int) -> Int {
    let fit = productFloats / max(1, floatsPerImage)
    return max(1, min(batch, max(8, fit - fit % 8)))
}

/// The values one convolution product's buffers may hold: 128 Ki floats
/// (512 KiB, a Zen 3 core's L2), so that the copies into the column matrix,
/// the product that reads it and the copies after it stay in cache; chunks
/// are at least 8 images, so conv-vae's 32↔64-channel layers take 8 at a
/// time. Measured on the image-minor layout before the channels-last one
/// (a Xeon with 2 MiB of L2, one thread per worker, SkylakeX kernels): those
/// products ran at 130–145 GFLOP/s over 8 images against 112–129 over 64, and
/// conv-vae trained 2–4 % faster than with 1 MiB and 8–10 % faster than with 2 or 4 MiB.
let productFloats = 1 << 17

/// The floats a convolution's buffers take per image of a chunk: its column
/// matrix (`columnRows` × `positions`), the `planes` on the other side of its
/// products (× `positions`) and a channels-last copy of an `image` of values.
/// The layers size their chunks by it, `ModelConfig.trainingBytes` its memory.
func convolutionFloatsPerImage(columnRows: Int, positions: Int, planes: Int, image: Int) -> Int {
    (columnRows + planes) * positions + image
}

/// A chunk's n NCHW rows of `channels` × `plane` values, channels-last:
/// `rows` themselves when they already are (`linked`, see `ChannelsLastRows`),
/// else their copy in `scratch`.
func channelsLast(
    _ rows: UnsafePointer<Float>, images n: Int, channels: Int, plane: Int, linked: Bool, scratch: Tensor
) -> UnsafePointer<Float> {
    if linked { return rows }
    toChannelsLast(rows, images: n, channels: channels, plane: plane, into: scratch.pointer)
    return UnsafePointer(scratch.pointer)
}

/// n images of `channels` × `plane` values each (NCHW rows) to a channels-last
/// chunk (value (q, c) of image b at (q·n + b)·channels + c), on both cores
/// when BLAS has two threads.
func toChannelsLast(_ x: UnsafePointer<Float>, images n: Int, channels: Int, plane: Int, into out: UnsafeMutablePointer<Float>) {
    forHalves(plane) { Kernels.toChannelsLast(x, images: n, channels: channels, plane: plane, pixels: $0, into: out) }
}

/// The inverse of `toChannelsLast`.
func fromChannelsLast(_ src: UnsafePointer<Float>, images n: Int, channels: Int, plane: Int, into x: UnsafeMutablePointer<Float>) {
    forHalves(plane) { Kernels.fromChannelsLast(src, images: n, channels: channels, plane: plane, pixels: $0, into: x) }
}

/// Runs `body` on 0..<count, split in two halves on two threads when
/// OpenBLAS runs on more than one (one worker): the copies around the
/// products (im2col, col2im, layout changes) then use both cores. Each
/// value is computed the same way either way, so results do not depend on
/// the split.
func forHalves(_ count: Int, _ body: (Range<Int>) -> Void) {
    guard count >= 2, BLAS.threads > 1 else { return body(0..<count) }
    let half = count / 2
    parallel(2) { body($0 == 0 ? 0..<half : half..<count) }
}

/// A convolution that can take its input rows, or give its output rows, in
/// its chunks' channels-last layout instead of NCHW: chunk c (images cC ..<
/// cC + n) at offset cC·size, value (q, ch) of its image b at (q·n + b)·C + ch.
/// `Sequential` turns this on between two convolutions with only element-wise
/// layers (ReLU, tanh, LeakyReLU) between them, and gives both the smaller of
/// their chunks; that skips four layout changes of the rows between them per
/// chunk (two forward, two backward), and every value is computed as in NCHW
/// with the same chunks, so results are the same bits.
protocol ChannelsLastRows: AnyObject {
    /// Images per product (`imagesPerProduct`, at most the buffers' size):
    /// both sides of a link must agree, so `Sequential` lowers the larger.
    var chunk: Int { get set }
    var inputChannelsLast: Bool { get set }
    var outputChannelsLast: Bool { get set }
}

/// `nn.Conv2d(in, out, kernel, stride, padding)` on rows of [in, H, W]
/// values: weight [out, in, k, k], bias [out]. The images go through the
/// products in chunks (`imagesPerProduct`), channels-last (see
/// `toChannelsLast`): X = the chunk's inputs, colᵀ = im2col(X) (n·N × K, K
/// indexed tap·in + channel), yᵀ = colᵀ · Wt + b with Wt [K, out] the weight
/// reordered; backward recomputes the columns unless they are still there,
/// then Wt's gradient = Σ (colᵀ)ᵀ · dyᵀ, db = Σ dy, dcolᵀ = dyᵀ · Wp
/// (Wp = Wtᵀ [out, K]), dx = col2im(dcolᵀ). Every product is A·B or Aᵀ·B, the
/// forms libxsmm runs (`JITProducts`). The buffers are allocated once.
public final class Conv2d: Layer, ChannelsLastRows {
    public let geometry: ConvolutionGeometry
    public let outChannels: Int
    public let weight: View
    public let bias: View
    public let weightGradient: View
    public let biasGradient: View
    /// Images per product (`Sequential` may lower it to match a linked neighbour's).
    var chunk: Int
    /// [chunk·N, K]: the transposed column matrices (also their gradients in backward).
    let columns: Tensor
    /// [chunk·N, out]: the product's output, or dy, channels-last.
    let planes: Tensor
    /// [in·H·W·chunk]: the chunk's inputs (or their gradients) channels-last.
    let inputs: Tensor
    /// [out, K]: the weight with each filter's taps first (index tap·in + channel), Wp.
    let tapsFirstWeight: Tensor
    /// [K, out]: its transpose, Wt.
    let transposedWeight: Tensor
    /// [K, out]: Wt's gradient, Σ (colᵀ)ᵀ · dyᵀ over the chunks.
    let transposedGradient: Tensor
    /// The input whose columns `columns` holds after a forward pass that took
    /// all its rows in one product (backward then needs no second im2col).
    private var columnsHold: (input: UnsafePointer<Float>, rows: Int)?
    /// The rows in (x, dx) and out (y, dy) are in chunked channels-last layout (see `ChannelsLastRows`).
    var inputChannelsLast = false
    var outputChannelsLast = false

    /// - Parameters:
    ///   - name: the layer's parameters in `p` (`name.weight` [out, in, k, k], `name.bias` [out]).
    ///   - batch: the most images one forward or backward call takes (the stack's rows).
    public init(_ name: String, in p: ParameterSet, geometry: ConvolutionGeometry, batch: Int = 1) throws {
        self.geometry = geometry
        weight = p.value("\(name).weight")
        bias = p.value("\(name).bias")
        weightGradient = p.gradient("\(name).weight")
        biasGradient = p.gradient("\(name).bias")
        outChannels = weight.shape[0]
        precondition(weight.shape == [outChannels, geometry.channels, geometry.kernel, geometry.kernel])
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        let inputSize = geometry.channels * geometry.height * geometry.width
        chunk = imagesPerProduct(
            batch: batch, floatsPerImage: convolutionFloatsPerImage(columnRows: K, positions: N, planes: outChannels, image: inputSize))
        columns = try Tensor(shape: [chunk * N, K])
        planes = try Tensor(shape: [chunk * N, outChannels])
        inputs = try Tensor(shape: [inputSize * chunk])
        tapsFirstWeight = try Tensor(shape: [outChannels, K])
        transposedWeight = try Tensor(shape: [K, outChannels])
        transposedGradient = try Tensor(shape: [K, outChannels])
    }

    public var inputSize: Int { geometry.channels * geometry.height * geometry.width }
    public var outputSize: Int { outChannels * geometry.columnCount }
    private var taps: Int { geometry.kernel * geometry.kernel }

    /// The transposed column matrices of `n` images from `x`, one below the other in `columns`.
    private func gatherColumns(_ x: UnsafePointer<Float>, images n: Int) {
        let plane = geometry.height * geometry.width
        let input = channelsLast(x, images: n, channels: geometry.channels, plane: plane, linked: inputChannelsLast, scratch: inputs)
        forHalves(geometry.channels) { geometry.im2col(channelsLast: input, images: n, channels: $0, into: columns.pointer) }
    }
    public var inPlace: Bool { false }
    public var parameterRange: Range<Int>? { adjacentRange(weight, bias) }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        Kernels.tapsFirst(weight.pointer, outer: outChannels, channels: geometry.channels, taps: taps, into: tapsFirstWeight.pointer)
        Kernels.transpose(tapsFirstWeight.pointer, rows: outChannels, columns: K, into: transposedWeight.pointer)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            gatherColumns(x + first * inputSize, images: n)
            let out = y + first * outputSize
            let target = outputChannelsLast ? out : planes.pointer
            Kernels.fillRows(target, bias: bias.pointer, rows: n * N, cols: outChannels)
            BLAS.gemm(
                m: n * N, n: outChannels, k: K, a: columns.pointer, lda: K, b: transposedWeight.pointer, ldb: outChannels, beta: 1,
                c: target, ldc: outChannels)
            if !outputChannelsLast { fromChannelsLast(planes.pointer, images: n, channels: outChannels, plane: N, into: out) }
            first += n
        }
        columnsHold = rows <= chunk ? (x, rows) : nil
    }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        let plane = geometry.height * geometry.width
        if dx != nil {
            Kernels.tapsFirst(weight.pointer, outer: outChannels, channels: geometry.channels, taps: taps, into: tapsFirstWeight.pointer)
        }
        biasGradient.pointer.update(repeating: 0, count: outChannels)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            // dy of the chunk, channels-last: [N·n, out].
            let gradient = channelsLast(
                dy + first * outputSize, images: n, channels: outChannels, plane: N, linked: outputChannelsLast, scratch: planes)
            Kernels.addColumnSums(gradient, rows: n * N, cols: outChannels, to: biasGradient.pointer)
            if !(columnsHold.map { $0.input == x && $0.rows == rows } ?? false) { gatherColumns(x + first * inputSize, images: n) }
            BLAS.gemm(
                transA: true, m: K, n: outChannels, k: n * N, a: columns.pointer, lda: K, b: gradient, ldb: outChannels,
                beta: first == 0 ? 0 : 1, c: transposedGradient.pointer, ldc: outChannels)
            if let dx {
                BLAS.gemm(
                    m: n * N, n: K, k: outChannels, a: gradient, lda: outChannels, b: tapsFirstWeight.pointer, ldb: K,
                    c: columns.pointer, ldc: K)
                columnsHold = nil
                let target = inputChannelsLast ? dx + first * inputSize : inputs.pointer
                forHalves(geometry.channels) { geometry.col2im(columns.pointer, images: n, channels: $0, intoChannelsLast: target) }
                if !inputChannelsLast {
                    fromChannelsLast(inputs.pointer, images: n, channels: geometry.channels, plane: plane, into: dx + first * inputSize)
                }
            }
            first += n
        }
        // Wt's gradient back to the weight's order (through tapsFirstWeight, free now).
        Kernels.transpose(transposedGradient.pointer, rows: K, columns: outChannels, into: tapsFirstWeight.pointer)
        Kernels.tapsLast(
            tapsFirstWeight.pointer, outer: outChannels, channels: geometry.channels, taps: taps, into: weightGradient.pointer)
    }

    /// PyTorch's default initialization: W and b uniform on ±1/√(in·k·k).
    public func initialize(using random: inout RandomStream) {
        initializeUniform([weight, bias], bound: 1 / Float(geometry.columnRows).squareRoot(), using: &random)
    }
}

/// `nn.ConvTranspose2d(in, out, kernel, stride, padding, output_padding)`
/// on rows of [in, Hi, Wi] values: weight [in, out, k, k] (PyTorch's layout),
/// bias [out]; output [out, Ho, Wo] with Ho = (Hi − 1)·s − 2p + k + output_padding.
/// It is the adjoint of the convolution over its output: for a chunk of
/// images at once (channels-last), Xᵀ = the inputs as one [Ni·n, in] matrix,
/// colᵀ = Xᵀ · Wq (Wq [in, K] the weight with taps first, K indexed
/// tap·out + channel), y = col2im(colᵀ) + b; backward dcolᵀ = im2col(dy),
/// Wq's gradient = Σ (Xᵀ)ᵀ · dcolᵀ, db = Σ dy, dXᵀ = dcolᵀ · Wqᵀ.
public final class ConvTranspose2d: Layer, ChannelsLastRows {
    public let inChannels: Int
    public let inputHeight: Int
    public let inputWidth: Int
    /// The convolution whose adjoint this is: over the output image, giving the input's size.
    public let geometry: ConvolutionGeometry
    public let weight: View
    public let bias: View
    public let weightGradient: View
    public let biasGradient: View
    /// Images per product (`Sequential` may lower it to match a linked neighbour's).
    var chunk: Int
    /// [chunk·Ni, K], K = out·k·k.
    let columns: Tensor
    /// [chunk·Ni, in]: the inputs (or their gradients), channels-last.
    let planes: Tensor
    /// [out·Ho·Wo·chunk]: the outputs (or their gradients), channels-last.
    let outputs: Tensor
    /// [in, K]: the weight with taps first (index tap·out + channel), Wq.
    let tapsFirstWeight: Tensor
    /// [K, in]: its transpose.
    let transposedWeight: Tensor
    /// [in, K]: Wq's gradient, Σ (Xᵀ)ᵀ · dcolᵀ over the chunks.
    let tapsFirstGradient: Tensor
    /// The rows in (x, dx) and out (y, dy) are in chunked channels-last layout (see `ChannelsLastRows`).
    var inputChannelsLast = false
    var outputChannelsLast = false

    public init(
        _ name: String, in p: ParameterSet, inChannels: Int, inputHeight: Int, inputWidth: Int, kernel: Int, stride: Int, padding: Int,
        outputPadding: Int, batch: Int = 1
    ) throws {
        weight = p.value("\(name).weight")
        bias = p.value("\(name).bias")
        weightGradient = p.gradient("\(name).weight")
        biasGradient = p.gradient("\(name).bias")
        let out = weight.shape[1]
        precondition(weight.shape == [inChannels, out, kernel, kernel] && outputPadding >= 0 && outputPadding < max(stride, 1))
        self.inChannels = inChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        let Ho = (inputHeight - 1) * stride - 2 * padding + kernel + outputPadding
        let Wo = (inputWidth - 1) * stride - 2 * padding + kernel + outputPadding
        geometry = ConvolutionGeometry(channels: out, height: Ho, width: Wo, kernel: kernel, stride: stride, padding: padding)
        precondition(geometry.outputHeight == inputHeight && geometry.outputWidth == inputWidth)
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        chunk = imagesPerProduct(
            batch: batch, floatsPerImage: convolutionFloatsPerImage(columnRows: K, positions: N, planes: inChannels, image: out * Ho * Wo))
        columns = try Tensor(shape: [chunk * N, K])
        planes = try Tensor(shape: [chunk * N, inChannels])
        outputs = try Tensor(shape: [out * Ho * Wo * chunk])
        tapsFirstWeight = try Tensor(shape: [inChannels, K])
        transposedWeight = try Tensor(shape: [K, inChannels])
        tapsFirstGradient = try Tensor(shape: [inChannels, K])
    }

    public var outChannels: Int { geometry.channels }
    public var inputSize: Int { inChannels * inputHeight * inputWidth }
    public var outputSize: Int { geometry.channels * geometry.height * geometry.width }
    public var inPlace: Bool { false }
    public var parameterRange: Range<Int>? { adjacentRange(weight, bias) }
    private var taps: Int { geometry.kernel * geometry.kernel }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        let plane = geometry.height * geometry.width
        Kernels.tapsFirst(weight.pointer, outer: inChannels, channels: outChannels, taps: taps, into: tapsFirstWeight.pointer)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            // The chunk's inputs, channels-last: [N·n, in].
            let input = channelsLast(
                x + first * inputSize, images: n, channels: inChannels, plane: N, linked: inputChannelsLast, scratch: planes)
            BLAS.gemm(
                m: n * N, n: K, k: inChannels, a: input, lda: inChannels, b: tapsFirstWeight.pointer, ldb: K, c: columns.pointer, ldc: K)
            let out = y + first * outputSize
            let target = outputChannelsLast ? out : outputs.pointer
            forHalves(outChannels) {
                geometry.col2im(columns.pointer, images: n, channels: $0, bias: bias.pointer, intoChannelsLast: target)
            }
            if !outputChannelsLast { fromChannelsLast(outputs.pointer, images: n, channels: outChannels, plane: plane, into: out) }
            first += n
        }
    }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        let plane = geometry.height * geometry.width
        if dx != nil {
            Kernels.tapsFirst(weight.pointer, outer: inChannels, channels: outChannels, taps: taps, into: tapsFirstWeight.pointer)
            Kernels.transpose(tapsFirstWeight.pointer, rows: inChannels, columns: K, into: transposedWeight.pointer)
        }
        biasGradient.pointer.update(repeating: 0, count: outChannels)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            // dy and the inputs of the chunk, channels-last.
            let gradient = channelsLast(
                dy + first * outputSize, images: n, channels: outChannels, plane: plane, linked: outputChannelsLast, scratch: outputs)
            forHalves(outChannels) { geometry.im2col(channelsLast: gradient, images: n, channels: $0, into: columns.pointer) }
            let input = channelsLast(
                x + first * inputSize, images: n, channels: inChannels, plane: N, linked: inputChannelsLast, scratch: planes)
            Kernels.addColumnSums(gradient, rows: plane * n, cols: outChannels, to: biasGradient.pointer)
            BLAS.gemm(
                transA: true, m: inChannels, n: K, k: n * N, a: input, lda: inChannels, b: columns.pointer, ldb: K,
                beta: first == 0 ? 0 : 1, c: tapsFirstGradient.pointer, ldc: K)
            if let dx {
                let target = inputChannelsLast ? dx + first * inputSize : planes.pointer
                BLAS.gemm(
                    m: n * N, n: inChannels, k: K, a: columns.pointer, lda: K, b: transposedWeight.pointer, ldb: inChannels,
                    c: target, ldc: inChannels)
                if !inputChannelsLast {
                    fromChannelsLast(planes.pointer, images: n, channels: inChannels, plane: N, into: dx + first * inputSize)
                }
            }
            first += n
        }
        Kernels.tapsLast(tapsFirstGradient.pointer, outer: inChannels, channels: outChannels, taps: taps, into: weightGradient.pointer)
    }

    /// PyTorch's default initialization for ConvTranspose2d: uniform on ±1/√(out·k·k)
    /// (its fan-in is computed from weight dimension 1).
    public func initialize(using random: inout RandomStream) {
        initializeUniform([weight, bias], bound: 1 / Float(geometry.columnRows).squareRoot(), using: &random)
    }
}

/// `nn.Flatten` / `nn.Unflatten`: rows are already flat in C order, so a
/// reshape moves no value; it exists so that a stack's shapes (and
/// PyTorch's `nn.Sequential` indices) are declared as in the module.
public struct ReshapeLayer: Layer {
    public let inputSize: Int
    public var outputSize: Int { inputSize }
    public var inPlace: Bool { true }
    public var parameterRange: Range<Int>? { nil }
    public init(size: Int) { inputSize = size }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        if UnsafePointer(y) != x { y.update(from: x, count: rows * inputSize) }
    }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        if let dx, dx != dy { dx.update(from: dy, count: rows * inputSize) }
    }
}

/// `nn.LeakyReLU(slope)`, in place: y = x for x > 0, slope·x otherwise. The
/// backward pass reads the sign from the output, which needs slope ≥ 0.
public struct LeakyReLULayer: Layer {
    public let slope: Float
    public let inputSize: Int
    public var outputSize: Int { inputSize }
    public var inPlace: Bool { true }
    public var parameterRange: Range<Int>? { nil }

    public init(slope: Float, size: Int) {
        precondition(slope >= 0 && slope.isFinite)
        self.slope = slope
        inputSize = size
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        for i in 0..<(rows * inputSize) {
            let v = x[i]
            y[i] = v > 0 ? v : slope * v
        }
    }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        guard let dx else { return }
        for i in 0..<(rows * inputSize) { dx[i] = y[i] > 0 ? dy[i] : slope * dy[i] }
    }
}

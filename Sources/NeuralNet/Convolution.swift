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
    /// Rows of the column matrix: one per (channel, kernel row, kernel column).
    public var columnRows: Int { channels * kernel * kernel }
    public var columnCount: Int { outputHeight * outputWidth }

    /// For each kernel position t = i·k + j and output position o, the offset
    /// in the input plane it reads, or −1 in the padding: [k·k, Ho·Wo].
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
        var source = [Int32](repeating: -1, count: kernel * kernel * n)
        for i in 0..<kernel {
            for j in 0..<kernel {
                let t = i * kernel + j
                for oy in 0..<ho {
                    let y = oy * stride - padding + i
                    guard y >= 0 && y < height else { continue }
                    for ox in 0..<wo {
                        let x = ox * stride - padding + j
                        guard x >= 0 && x < width else { continue }
                        source[t * n + oy * wo + ox] = Int32(y * width + x)
                    }
                }
            }
        }
        self.source = source
    }

    /// col[(c·k + i)·k + j, o·n + b] = x[b, c, oy·s − p + i, ox·s − p + j] (0 outside
    /// the image), o = oy·Wo + ox, for n `images` held image-minor in `x` (channel
    /// c's pixel q of image b at (c·H·W + q)·n + b), channels `range` (all by
    /// default); the column matrix's rows are `ld` values apart (n·Ho·Wo by default).
    public func im2col(
        imageMinor x: UnsafePointer<Float>, images n: Int, channels range: Range<Int>? = nil, into col: UnsafeMutablePointer<Float>,
        ld: Int? = nil
    ) {
        let range = range ?? 0..<channels
        source.withUnsafeBufferPointer {
            Kernels.im2colImageMinor(
                x, images: n, plane: height * width, taps: kernel * kernel, positions: columnCount, source: $0.baseAddress!,
                channels: range, into: col, ld: ld ?? n * columnCount)
        }
    }

    /// The adjoint of `im2col`: x (image-minor, channels `range`) = for each
    /// value the sum of the column entries that read it, added in
    /// kernel-position order from 0 (x is overwritten).
    public func col2im(
        _ col: UnsafePointer<Float>, images n: Int, channels range: Range<Int>? = nil, intoImageMinor x: UnsafeMutablePointer<Float>,
        ld: Int? = nil
    ) {
        let range = range ?? 0..<channels
        source.withUnsafeBufferPointer {
            Kernels.col2imImageMinor(
                col, ld: ld ?? n * columnCount, images: n, plane: height * width, taps: kernel * kernel, positions: columnCount,
                source: $0.baseAddress!, channels: range, into: x)
        }
    }
}

/// Images per convolution product: within `productFloats` of buffers
/// (`floatsPerImage` each), in multiples of 8 (the image-minor runs then
/// fill whole vectors), at least 8, at most `batch`.
func imagesPerProduct(batch: Int, floatsPerImage: Int) -> Int {
    let fit = productFloats / max(1, floatsPerImage)
    return max(1, min(batch, max(8, fit - fit % 8)))
}

/// The values one convolution product's buffers may hold: 128 Ki floats
/// (512 KiB, a Zen 3 core's L2), so that the copies into the column matrix,
/// the product that reads it and the copies after it stay in cache; chunks
/// are at least 8 images, so conv-vae's 32↔64-channel layers take 8 at a
/// time. On a Xeon with 2 MiB of L2 (one thread per worker, SkylakeX
/// kernels) those products run at 130–145 GFLOP/s over 8 images against
/// 112–129 over 64, and the thin 1↔32-channel ones at about twice the rate;
/// conv-vae trains 2–4 % faster than with 1 MiB and 8–10 % faster than with 2 or 4 MiB.
let productFloats = 1 << 17

/// The floats a convolution's buffers take per image of a chunk: its column
/// matrix (`columnRows` × `positions`), the `planes` on the other side of its
/// products (× `positions`) and an image-minor copy of an `image` of values.
/// The layers size their chunks by it, `ModelConfig.trainingBytes` its memory.
func convolutionFloatsPerImage(columnRows: Int, positions: Int, planes: Int, image: Int) -> Int {
    (columnRows + planes) * positions + image
}

/// A chunk's n rows of `size` values, image-minor: `rows` themselves when they
/// already are (`linked`, see `ImageMinorRows`), else their copy in `scratch`.
func imageMinor(_ rows: UnsafePointer<Float>, images n: Int, size: Int, linked: Bool, scratch: Tensor) -> UnsafePointer<Float> {
    if linked { return rows }
    toImageMinor(rows, images: n, size: size, into: scratch.pointer)
    return UnsafePointer(scratch.pointer)
}

/// n images of `size` values each (NCHW rows) to image-minor layout
/// (value m of image b at m·n + b), on both cores when BLAS has two threads.
func toImageMinor(_ x: UnsafePointer<Float>, images n: Int, size: Int, into out: UnsafeMutablePointer<Float>) {
    forHalves(size) { Kernels.toImageMinor(x, images: n, size: size, range: $0, into: out) }
}

/// The inverse of `toImageMinor`, plus bias[m / plane] when a bias is given.
func fromImageMinor(
    _ src: UnsafePointer<Float>, images n: Int, size: Int, bias: UnsafePointer<Float>? = nil, plane: Int = 1,
    into x: UnsafeMutablePointer<Float>
) {
    forHalves(size) { Kernels.fromImageMinor(src, images: n, size: size, range: $0, bias: bias, plane: plane, into: x) }
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
/// its chunks' image-minor layout instead of NCHW: chunk c (images cC ..<
/// cC + n) at offset cC·size, value m of its image b at m·n + b. `Sequential`
/// turns this on between two convolutions with the same chunk and only
/// element-wise layers (ReLU, tanh, LeakyReLU) between them, which skips four
/// layout changes of the rows between them per chunk (two forward, two
/// backward); every value is computed as in NCHW, so results are the same bits.
protocol ImageMinorRows: AnyObject {
    /// Images per product (`imagesPerProduct`): both sides of a link must agree.
    var chunk: Int { get }
    var inputImageMinor: Bool { get set }
    var outputImageMinor: Bool { get set }
}

/// `nn.Conv2d(in, out, kernel, stride, padding)` on rows of [in, H, W]
/// values: weight [out, in, k, k], bias [out]. The images go through the
/// products in chunks (`imagesPerProduct`), image-minor: X = the chunk's
/// inputs, col = im2col(X) (K × N·n), y = W · col + b; backward recomputes the
/// columns unless they are still there, then dWᵀ = Σ col · dyᵀ, db = Σ dy,
/// dx = col2im(Wᵀ · dy). The buffers are allocated once.
public final class Conv2d: Layer, ImageMinorRows {
    public let geometry: ConvolutionGeometry
    public let outChannels: Int
    public let weight: View
    public let bias: View
    public let weightGradient: View
    public let biasGradient: View
    /// Images per product.
    let chunk: Int
    /// [K, chunk·N]: the column matrices (also their gradients in backward).
    let columns: Tensor
    /// [out, chunk·N]: the product's output, or dy, image-minor.
    let planes: Tensor
    /// [in·H·W·chunk]: the chunk's inputs (or their gradients) image-minor.
    let inputs: Tensor
    /// [K, out]: the weight gradient transposed (Σ col · dyᵀ over the chunks,
    /// a faster product shape than dy · colᵀ for OpenBLAS).
    let transposedGradient: Tensor
    /// The input whose columns `columns` holds after a forward pass that took
    /// all its rows in one product (backward then needs no second im2col).
    private var columnsHold: (input: UnsafePointer<Float>, rows: Int)?
    /// The rows in (x, dx) and out (y, dy) are in chunked image-minor layout (see `ImageMinorRows`).
    var inputImageMinor = false
    var outputImageMinor = false

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
        columns = try Tensor(shape: [K, chunk * N])
        planes = try Tensor(shape: [outChannels, chunk * N])
        inputs = try Tensor(shape: [inputSize * chunk])
        transposedGradient = try Tensor(shape: [K, outChannels])
    }

    public var inputSize: Int { geometry.channels * geometry.height * geometry.width }
    public var outputSize: Int { outChannels * geometry.columnCount }

    /// The column matrices of `n` images from `x`, side by side in `columns`.
    private func gatherColumns(_ x: UnsafePointer<Float>, images n: Int) {
        let minor = imageMinor(x, images: n, size: inputSize, linked: inputImageMinor, scratch: inputs)
        forHalves(geometry.channels) { geometry.im2col(imageMinor: minor, images: n, channels: $0, into: columns.pointer) }
    }
    public var inPlace: Bool { false }
    public var parameterRange: Range<Int>? { adjacentRange(weight, bias) }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            gatherColumns(x + first * inputSize, images: n)
            let out = y + first * outputSize
            BLAS.gemm(
                m: outChannels, n: n * N, k: K, a: weight.pointer, lda: K, b: columns.pointer, ldb: n * N,
                c: outputImageMinor ? out : planes.pointer, ldc: n * N)
            if outputImageMinor {
                Kernels.addRowBias(out, rows: outChannels, size: n * N, bias: bias.pointer)
            } else {
                fromImageMinor(planes.pointer, images: n, size: outputSize, bias: bias.pointer, plane: N, into: out)
            }
            first += n
        }
        columnsHold = rows <= chunk ? (x, rows) : nil
    }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        biasGradient.pointer.update(repeating: 0, count: outChannels)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            // dy of the chunk, image-minor: [out, N·n].
            let gradient = imageMinor(dy + first * outputSize, images: n, size: outputSize, linked: outputImageMinor, scratch: planes)
            Kernels.addRowSums(gradient, rows: outChannels, size: n * N, to: biasGradient.pointer)
            if !(columnsHold.map { $0.input == x && $0.rows == rows } ?? false) { gatherColumns(x + first * inputSize, images: n) }
            BLAS.gemm(
                transB: true, m: K, n: outChannels, k: n * N, a: columns.pointer, lda: n * N, b: gradient, ldb: n * N,
                beta: first == 0 ? 0 : 1, c: transposedGradient.pointer, ldc: outChannels)
            if let dx {
                BLAS.gemm(
                    transA: true, m: K, n: n * N, k: outChannels, a: weight.pointer, lda: K, b: gradient, ldb: n * N,
                    c: columns.pointer, ldc: n * N)
                columnsHold = nil
                let target = inputImageMinor ? dx + first * inputSize : inputs.pointer
                forHalves(geometry.channels) { geometry.col2im(columns.pointer, images: n, channels: $0, intoImageMinor: target) }
                if !inputImageMinor { fromImageMinor(inputs.pointer, images: n, size: inputSize, into: dx + first * inputSize) }
            }
            first += n
        }
        Kernels.transpose(transposedGradient.pointer, rows: K, columns: outChannels, into: weightGradient.pointer)
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
/// images at once (image-minor), X = the inputs as one [in, Ni·n] matrix,
/// col = Wᵀ · X, y = col2im(col) + b; backward dcol = im2col(dy),
/// dWᵀ = Σ dcol · Xᵀ, db = Σ dy, dX = W · dcol.
public final class ConvTranspose2d: Layer, ImageMinorRows {
    public let inChannels: Int
    public let inputHeight: Int
    public let inputWidth: Int
    /// The convolution whose adjoint this is: over the output image, giving the input's size.
    public let geometry: ConvolutionGeometry
    public let weight: View
    public let bias: View
    public let weightGradient: View
    public let biasGradient: View
    let chunk: Int
    /// [K, chunk·Ni], K = out·k·k.
    let columns: Tensor
    /// [in, chunk·Ni]: the inputs (or their gradients), image-minor.
    let planes: Tensor
    /// [out·Ho·Wo·chunk]: the outputs (or their gradients), image-minor.
    let outputs: Tensor
    /// [K, in]: the weight gradient transposed (Σ dcol · Xᵀ over the chunks).
    let transposedGradient: Tensor
    /// The rows in (x, dx) and out (y, dy) are in chunked image-minor layout (see `ImageMinorRows`).
    var inputImageMinor = false
    var outputImageMinor = false

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
        columns = try Tensor(shape: [K, chunk * N])
        planes = try Tensor(shape: [inChannels, chunk * N])
        outputs = try Tensor(shape: [out * Ho * Wo * chunk])
        transposedGradient = try Tensor(shape: [K, inChannels])
    }

    public var outChannels: Int { geometry.channels }
    public var inputSize: Int { inChannels * inputHeight * inputWidth }
    public var outputSize: Int { geometry.channels * geometry.height * geometry.width }
    public var inPlace: Bool { false }
    public var parameterRange: Range<Int>? { adjacentRange(weight, bias) }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        let plane = geometry.height * geometry.width
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            // The chunk's inputs, image-minor: [in, N·n].
            let input = imageMinor(x + first * inputSize, images: n, size: inputSize, linked: inputImageMinor, scratch: planes)
            BLAS.gemm(
                transA: true, m: K, n: n * N, k: inChannels, a: weight.pointer, lda: K, b: input, ldb: n * N,
                c: columns.pointer, ldc: n * N)
            let out = y + first * outputSize
            let target = outputImageMinor ? out : outputs.pointer
            forHalves(outChannels) { geometry.col2im(columns.pointer, images: n, channels: $0, intoImageMinor: target) }
            if outputImageMinor {
                Kernels.addRowBias(out, rows: outChannels, size: plane * n, bias: bias.pointer)
            } else {
                fromImageMinor(outputs.pointer, images: n, size: outputSize, bias: bias.pointer, plane: plane, into: out)
            }
            first += n
        }
    }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        let plane = geometry.height * geometry.width
        biasGradient.pointer.update(repeating: 0, count: outChannels)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            // dy and the inputs of the chunk, image-minor.
            let gradient = imageMinor(dy + first * outputSize, images: n, size: outputSize, linked: outputImageMinor, scratch: outputs)
            forHalves(outChannels) { geometry.im2col(imageMinor: gradient, images: n, channels: $0, into: columns.pointer) }
            let input = imageMinor(x + first * inputSize, images: n, size: inputSize, linked: inputImageMinor, scratch: planes)
            Kernels.addRowSums(gradient, rows: outChannels, size: plane * n, to: biasGradient.pointer)
            BLAS.gemm(
                transB: true, m: K, n: inChannels, k: n * N, a: columns.pointer, lda: n * N, b: input, ldb: n * N,
                beta: first == 0 ? 0 : 1, c: transposedGradient.pointer, ldc: inChannels)
            if let dx {
                let target = inputImageMinor ? dx + first * inputSize : planes.pointer
                BLAS.gemm(m: inChannels, n: n * N, k: K, a: weight.pointer, lda: K, b: columns.pointer, ldb: n * N, c: target, ldc: n * N)
                if !inputImageMinor { fromImageMinor(planes.pointer, images: n, size: inputSize, into: dx + first * inputSize) }
            }
            first += n
        }
        Kernels.transpose(transposedGradient.pointer, rows: K, columns: inChannels, into: weightGradient.pointer)
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

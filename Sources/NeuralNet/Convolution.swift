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

    /// col[(c·k + i)·k + j, b·Ho·Wo + oy·Wo + ox] = x[b, c, oy·s − p + i, ox·s − p + j]
    /// (0 outside the image) for `images` images one after another in `x`;
    /// the column matrix's rows are `ld` values apart (default images·Ho·Wo).
    public func im2col(_ x: UnsafePointer<Float>, images: Int = 1, into col: UnsafeMutablePointer<Float>, ld: Int? = nil) {
        source.withUnsafeBufferPointer {
            Kernels.im2col(
                x, images: images, channels: channels, plane: height * width, taps: kernel * kernel, n: columnCount,
                source: $0.baseAddress!, into: col, ld: ld ?? images * columnCount)
        }
    }

    /// The adjoint of `im2col`: x[b, c, y, x] = Σ of the column entries that read it,
    /// added in kernel-position order (x is overwritten).
    public func col2im(_ col: UnsafePointer<Float>, images: Int = 1, into x: UnsafeMutablePointer<Float>, ld: Int? = nil) {
        source.withUnsafeBufferPointer {
            Kernels.col2im(
                col, ld: ld ?? images * columnCount, images: images, channels: channels, plane: height * width, taps: kernel * kernel,
                n: columnCount, source: $0.baseAddress!, into: x)
        }
    }
}

/// Images per matrix product for a column matrix of `rows` × `columns` per
/// image: up to `batch`, within about 16 MiB of columns.
func imagesPerProduct(batch: Int, rows: Int, columns: Int) -> Int {
    max(1, min(batch, (1 << 22) / max(1, rows * columns)))
}

/// dst[j, c, n] = src[c, j·N + n] (+ bias[c]) for `images` images of `planes`
/// planes of N values: a [C, ld] product result (ld ≥ images·N) to NCHW rows.
func planesToImages(
    _ src: UnsafePointer<Float>, ld: Int, images: Int, planes: Int, size: Int, bias: UnsafePointer<Float>?,
    into dst: UnsafeMutablePointer<Float>
) {
    for j in 0..<images {
        for c in 0..<planes {
            let from = src + c * ld + j * size
            let to = dst + (j * planes + c) * size
            if let bias {
                let b = bias[c]
                for n in 0..<size { to[n] = from[n] + b }
            } else {
                to.update(from: from, count: size)
            }
        }
    }
}

/// dst[c, j·N + n] = src[j, c, n]: NCHW rows to one [C, ld] matrix.
func imagesToPlanes(_ src: UnsafePointer<Float>, images: Int, planes: Int, size: Int, into dst: UnsafeMutablePointer<Float>, ld: Int) {
    for j in 0..<images {
        for c in 0..<planes { (dst + c * ld + j * size).update(from: src + (j * planes + c) * size, count: size) }
    }
}

/// Runs `body` on images 0..<n, split in two halves on two threads when
/// OpenBLAS runs on more than one: the copies around the products (im2col,
/// col2im, transposes) then use both cores (13% faster training of the
/// conv-vae recipe). Each image's values are computed the same way either
/// way, so results do not depend on the split.
func forHalves(_ n: Int, _ body: (Range<Int>) -> Void) {
    guard n >= 2, BLAS.threads > 1 else { return body(0..<n) }
    let half = n / 2
    parallel(2) { body($0 == 0 ? 0..<half : half..<n) }
}

/// `nn.Conv2d(in, out, kernel, stride, padding)` on rows of [in, H, W]
/// values: weight [out, in, k, k], bias [out]. Up to `batch` images share
/// one `cblas_sgemm`: their im2col matrices side by side (K × n·N), y = W ·
/// col + b; backward recomputes the columns, then dW += dy · colᵀ, db += Σ dy,
/// dx = col2im(Wᵀ · dy). The buffers are allocated once.
public final class Conv2d: Layer {
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
    /// [out, chunk·N]: the product's output, or dy gathered for the backward products.
    let planes: Tensor
    /// The input whose columns `columns` holds after a forward pass that took
    /// all its rows in one product (backward then needs no second im2col).
    private var columnsHold: (input: UnsafePointer<Float>, rows: Int)?

    /// - Parameters:
    ///   - name: the layer's parameters in `p` (`name.weight` [out, in, k, k], `name.bias` [out]).
    ///   - batch: the most images one product takes (the stack's rows).
    public init(_ name: String, in p: ParameterSet, geometry: ConvolutionGeometry, batch: Int = 1) throws {
        self.geometry = geometry
        weight = p.value("\(name).weight")
        bias = p.value("\(name).bias")
        weightGradient = p.gradient("\(name).weight")
        biasGradient = p.gradient("\(name).bias")
        outChannels = weight.shape[0]
        precondition(weight.shape == [outChannels, geometry.channels, geometry.kernel, geometry.kernel])
        chunk = imagesPerProduct(batch: batch, rows: geometry.columnRows, columns: geometry.columnCount)
        columns = try Tensor(shape: [geometry.columnRows, chunk * geometry.columnCount])
        planes = try Tensor(shape: [outChannels, chunk * geometry.columnCount])
    }

    public var inputSize: Int { geometry.channels * geometry.height * geometry.width }
    public var outputSize: Int { outChannels * geometry.columnCount }

    /// The column matrices of `n` images from `x`, side by side in `columns`.
    private func gatherColumns(_ x: UnsafePointer<Float>, images n: Int) {
        let N = geometry.columnCount
        forHalves(n) { r in
            geometry.im2col(x + r.lowerBound * inputSize, images: r.count, into: columns.pointer + r.lowerBound * N, ld: n * N)
        }
    }
    public var inPlace: Bool { false }
    public var parameterRange: Range<Int>? { adjacentRange(weight, bias) }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            gatherColumns(x + first * inputSize, images: n)
            BLAS.gemm(
                m: outChannels, n: n * N, k: K, a: weight.pointer, lda: K, b: columns.pointer, ldb: n * N, c: planes.pointer, ldc: n * N)
            forHalves(n) { r in
                planesToImages(
                    planes.pointer + r.lowerBound * N, ld: n * N, images: r.count, planes: outChannels, size: N, bias: bias.pointer,
                    into: y + (first + r.lowerBound) * outputSize)
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
        weightGradient.pointer.update(repeating: 0, count: weight.count)
        biasGradient.pointer.update(repeating: 0, count: outChannels)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            forHalves(n) { r in
                imagesToPlanes(
                    dy + (first + r.lowerBound) * outputSize, images: r.count, planes: outChannels, size: N,
                    into: planes.pointer + r.lowerBound * N, ld: n * N)
            }
            addRowSums(planes.pointer, rows: outChannels, size: n * N, to: biasGradient.pointer)
            if !(columnsHold.map { $0.input == x && $0.rows == rows } ?? false) { gatherColumns(x + first * inputSize, images: n) }
            BLAS.gemm(
                transB: true, m: outChannels, n: K, k: n * N, a: planes.pointer, lda: n * N, b: columns.pointer, ldb: n * N, beta: 1,
                c: weightGradient.pointer, ldc: K)
            if let dx {
                BLAS.gemm(
                    transA: true, m: K, n: n * N, k: outChannels, a: weight.pointer, lda: K, b: planes.pointer, ldb: n * N,
                    c: columns.pointer, ldc: n * N)
                columnsHold = nil
                forHalves(n) { r in
                    geometry.col2im(
                        columns.pointer + r.lowerBound * N, images: r.count, into: dx + (first + r.lowerBound) * inputSize, ld: n * N)
                }
            }
            first += n
        }
    }

    /// PyTorch's default initialization: W and b uniform on ±1/√(in·k·k).
    public func initialize(using random: inout RandomStream) {
        initializeUniform([weight, bias], bound: 1 / Float(geometry.columnRows).squareRoot(), using: &random)
    }
}

/// `nn.ConvTranspose2d(in, out, kernel, stride, padding, output_padding)`
/// on rows of [in, Hi, Wi] values: weight [in, out, k, k] (PyTorch's layout),
/// bias [out]; output [out, Ho, Wo] with Ho = (Hi − 1)·s − 2p + k + output_padding.
/// It is the adjoint of the convolution over its output: for up to `batch`
/// images at once, X = the inputs as one [in, n·Ni] matrix, col = Wᵀ · X,
/// y = col2im(col) + b; backward dcol = im2col(dy), dW += X · dcolᵀ,
/// db += Σ dy, dX = W · dcol.
public final class ConvTranspose2d: Layer {
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
    /// [in, chunk·Ni]: the inputs (or their gradients) as planes side by side.
    let planes: Tensor

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
        chunk = imagesPerProduct(batch: batch, rows: geometry.columnRows, columns: geometry.columnCount)
        columns = try Tensor(shape: [geometry.columnRows, chunk * geometry.columnCount])
        planes = try Tensor(shape: [inChannels, chunk * geometry.columnCount])
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
            forHalves(n) { r in
                imagesToPlanes(
                    x + (first + r.lowerBound) * inputSize, images: r.count, planes: inChannels, size: N,
                    into: planes.pointer + r.lowerBound * N, ld: n * N)
            }
            BLAS.gemm(
                transA: true, m: K, n: n * N, k: inChannels, a: weight.pointer, lda: K, b: planes.pointer, ldb: n * N,
                c: columns.pointer, ldc: n * N)
            forHalves(n) { r in
                geometry.col2im(
                    columns.pointer + r.lowerBound * N, images: r.count, into: y + (first + r.lowerBound) * outputSize, ld: n * N)
                for j in r {
                    let out = y + (first + j) * outputSize
                    for o in 0..<outChannels {
                        let b = bias.pointer[o]
                        let p = out + o * plane
                        for i in 0..<plane { p[i] += b }
                    }
                }
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
        weightGradient.pointer.update(repeating: 0, count: weight.count)
        biasGradient.pointer.update(repeating: 0, count: outChannels)
        var first = 0
        while first < rows {
            let n = min(chunk, rows - first)
            forHalves(n) { r in
                geometry.im2col(
                    dy + (first + r.lowerBound) * outputSize, images: r.count, into: columns.pointer + r.lowerBound * N, ld: n * N)
                imagesToPlanes(
                    x + (first + r.lowerBound) * inputSize, images: r.count, planes: inChannels, size: N,
                    into: planes.pointer + r.lowerBound * N, ld: n * N)
            }
            for j in 0..<n { addRowSums(dy + (first + j) * outputSize, rows: outChannels, size: plane, to: biasGradient.pointer) }
            BLAS.gemm(
                transB: true, m: inChannels, n: K, k: n * N, a: planes.pointer, lda: n * N, b: columns.pointer, ldb: n * N, beta: 1,
                c: weightGradient.pointer, ldc: K)
            if let dx {
                BLAS.gemm(
                    m: inChannels, n: n * N, k: K, a: weight.pointer, lda: K, b: columns.pointer, ldb: n * N, c: planes.pointer, ldc: n * N)
                forHalves(n) { r in
                    planesToImages(
                        planes.pointer + r.lowerBound * N, ld: n * N, images: r.count, planes: inChannels, size: N, bias: nil,
                        into: dx + (first + r.lowerBound) * inputSize)
                }
            }
            first += n
        }
    }

    /// PyTorch's default initialization for ConvTranspose2d: uniform on ±1/√(out·k·k)
    /// (its fan-in is computed from weight dimension 1).
    public func initialize(using random: inout RandomStream) {
        initializeUniform([weight, bias], bound: 1 / Float(geometry.columnRows).squareRoot(), using: &random)
    }
}

/// out[o] += Σ of row o of `x` (`rows` rows of `size` values): a bias gradient.
private func addRowSums(_ x: UnsafePointer<Float>, rows: Int, size: Int, to out: UnsafeMutablePointer<Float>) {
    for o in 0..<rows {
        var sum: Float = 0
        for i in 0..<size { sum += x[o * size + i] }
        out[o] += sum
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

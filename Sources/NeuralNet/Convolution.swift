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

    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        precondition(channels >= 1 && kernel >= 1 && stride >= 1 && padding >= 0)
        precondition(height + 2 * padding >= kernel && width + 2 * padding >= kernel)
        self.channels = channels
        self.height = height
        self.width = width
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }

    /// col[(c·k + i)·k + j, oy·Wo + ox] = x[c, oy·s − p + i, ox·s − p + j] (0 outside the image).
    public func im2col(_ x: UnsafePointer<Float>, into col: UnsafeMutablePointer<Float>) {
        let (k, s, p, Ho, Wo) = (kernel, stride, padding, outputHeight, outputWidth)
        for c in 0..<channels {
            let plane = x + c * height * width
            for i in 0..<k {
                for j in 0..<k {
                    let row = col + ((c * k + i) * k + j) * Ho * Wo
                    for oy in 0..<Ho {
                        let y = oy * s - p + i
                        let out = row + oy * Wo
                        guard y >= 0 && y < height else {
                            out.update(repeating: 0, count: Wo)
                            continue
                        }
                        let line = plane + y * width
                        for ox in 0..<Wo {
                            let xx = ox * s - p + j
                            out[ox] = xx >= 0 && xx < width ? line[xx] : 0
                        }
                    }
                }
            }
        }
    }

    /// The adjoint of `im2col`: x[c, y, x] = Σ of the column entries that read it (x is overwritten).
    public func col2im(_ col: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>) {
        let (k, s, p, Ho, Wo) = (kernel, stride, padding, outputHeight, outputWidth)
        x.update(repeating: 0, count: channels * height * width)
        for c in 0..<channels {
            let plane = x + c * height * width
            for i in 0..<k {
                for j in 0..<k {
                    let row = col + ((c * k + i) * k + j) * Ho * Wo
                    for oy in 0..<Ho {
                        let y = oy * s - p + i
                        guard y >= 0 && y < height else { continue }
                        let line = plane + y * width
                        let input = row + oy * Wo
                        for ox in 0..<Wo {
                            let xx = ox * s - p + j
                            if xx >= 0 && xx < width { line[xx] += input[ox] }
                        }
                    }
                }
            }
        }
    }
}

/// `nn.Conv2d(in, out, kernel, stride, padding)` on rows of [in, H, W]
/// values: weight [out, in, k, k], bias [out]. Per image, im2col and one
/// `cblas_sgemm` (y = W · col + b); backward recomputes the columns, then
/// dW += dy · colᵀ, db += Σ dy, dx = col2im(Wᵀ · dy). The column buffer is
/// allocated once.
public final class Conv2d: Layer {
    public let geometry: ConvolutionGeometry
    public let outChannels: Int
    public let weight: View
    public let bias: View
    public let weightGradient: View
    public let biasGradient: View
    let columns: Tensor
    let gradColumns: Tensor

    /// - Parameters:
    ///   - name: the layer's parameters in `p` (`name.weight` [out, in, k, k], `name.bias` [out]).
    public init(_ name: String, in p: ParameterSet, geometry: ConvolutionGeometry) throws {
        self.geometry = geometry
        weight = p.value("\(name).weight")
        bias = p.value("\(name).bias")
        weightGradient = p.gradient("\(name).weight")
        biasGradient = p.gradient("\(name).bias")
        outChannels = weight.shape[0]
        precondition(weight.shape == [outChannels, geometry.channels, geometry.kernel, geometry.kernel])
        columns = try Tensor(shape: [geometry.columnRows, geometry.columnCount])
        gradColumns = try Tensor(shape: [geometry.columnRows, geometry.columnCount])
    }

    public var inputSize: Int { geometry.channels * geometry.height * geometry.width }
    public var outputSize: Int { outChannels * geometry.columnCount }
    public var inPlace: Bool { false }
    public var parameterRange: Range<Int>? { adjacentRange(weight, bias) }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        for r in 0..<rows {
            geometry.im2col(x + r * inputSize, into: columns.pointer)
            let out = y + r * outputSize
            for o in 0..<outChannels { (out + o * N).update(repeating: bias.pointer[o], count: N) }
            BLAS.gemm(m: outChannels, n: N, k: K, a: weight.pointer, lda: K, b: columns.pointer, ldb: N, beta: 1, c: out, ldc: N)
        }
    }

    public func backward(
        input x: UnsafePointer<Float>, output y: UnsafePointer<Float>, gradOutput dy: UnsafeMutablePointer<Float>,
        rows: Int, gradInput dx: UnsafeMutablePointer<Float>?
    ) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        weightGradient.pointer.update(repeating: 0, count: weight.count)
        biasGradient.pointer.update(repeating: 0, count: outChannels)
        for r in 0..<rows {
            let g = UnsafePointer(dy + r * outputSize)
            geometry.im2col(x + r * inputSize, into: columns.pointer)
            BLAS.gemm(
                transB: true, m: outChannels, n: K, k: N, a: g, lda: N, b: columns.pointer, ldb: N, beta: 1,
                c: weightGradient.pointer, ldc: K)
            addPlaneSums(g, planes: outChannels, size: N, to: biasGradient.pointer)
            if let dx {
                BLAS.gemm(transA: true, m: K, n: N, k: outChannels, a: weight.pointer, lda: K, b: g, ldb: N, c: gradColumns.pointer, ldc: N)
                geometry.col2im(gradColumns.pointer, into: dx + r * inputSize)
            }
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
/// It is the adjoint of the convolution over its output: per image,
/// col = Wᵀ · x, y = col2im(col) + b; backward dcol = im2col(dy),
/// dW += x · dcolᵀ, db += Σ dy, dx = W · dcol.
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
    let columns: Tensor

    public init(
        _ name: String, in p: ParameterSet, inChannels: Int, inputHeight: Int, inputWidth: Int, kernel: Int, stride: Int, padding: Int,
        outputPadding: Int
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
        columns = try Tensor(shape: [geometry.columnRows, geometry.columnCount])
    }

    public var outChannels: Int { geometry.channels }
    public var inputSize: Int { inChannels * inputHeight * inputWidth }
    public var outputSize: Int { geometry.channels * geometry.height * geometry.width }
    public var inPlace: Bool { false }
    public var parameterRange: Range<Int>? { adjacentRange(weight, bias) }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let (K, N) = (geometry.columnRows, geometry.columnCount)
        let plane = geometry.height * geometry.width
        for r in 0..<rows {
            BLAS.gemm(
                transA: true, m: K, n: N, k: inChannels, a: weight.pointer, lda: K, b: x + r * inputSize, ldb: N, c: columns.pointer, ldc: N
            )
            let out = y + r * outputSize
            geometry.col2im(columns.pointer, into: out)
            for o in 0..<outChannels {
                let b = bias.pointer[o]
                let p = out + o * plane
                for i in 0..<plane { p[i] += b }
            }
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
        for r in 0..<rows {
            let g = UnsafePointer(dy + r * outputSize)
            geometry.im2col(g, into: columns.pointer)
            BLAS.gemm(
                transB: true, m: inChannels, n: K, k: N, a: x + r * inputSize, lda: N, b: columns.pointer, ldb: N, beta: 1,
                c: weightGradient.pointer, ldc: K)
            addPlaneSums(g, planes: outChannels, size: plane, to: biasGradient.pointer)
            if let dx {
                BLAS.gemm(m: inChannels, n: N, k: K, a: weight.pointer, lda: K, b: columns.pointer, ldb: N, c: dx + r * inputSize, ldc: N)
            }
        }
    }

    /// PyTorch's default initialization for ConvTranspose2d: uniform on ±1/√(out·k·k)
    /// (its fan-in is computed from weight dimension 1).
    public func initialize(using random: inout RandomStream) {
        initializeUniform([weight, bias], bound: 1 / Float(geometry.columnRows).squareRoot(), using: &random)
    }
}

/// out[o] += Σ of plane o of `x` (`planes` planes of `size` values): a bias gradient.
private func addPlaneSums(_ x: UnsafePointer<Float>, planes: Int, size: Int, to out: UnsafeMutablePointer<Float>) {
    for o in 0..<planes {
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

import NumericCore
import Testing

@testable import NeuralNet

/// Conv2d, ConvTranspose2d and LeakyReLU against PyTorch: forward outputs and
/// the gradients of L = Σ g ⊙ y (weights, bias, input) printed by
/// Scripts/conv_golden.py (ConvolutionGoldenValues.swift) for odd sizes,
/// strides 1 and 2, padding 0 and 1 and output_padding 1. The inputs are
/// small dyadic rationals, so every product is exact in float32 and only the
/// order of the sums differs from PyTorch's: agreement within 1e-5 absolute
/// (the values are of order 1).
@Suite struct ConvolutionGoldenTests {
    /// The script's pattern: ((a·i + b) mod m − m/2) / scale.
    func pattern(_ n: Int, _ a: Int, _ b: Int, _ m: Int, _ scale: Float) -> [Float] {
        (0..<n).map { Float((a * $0 + b) % m - m / 2) / scale }
    }

    func layer(_ c: ConvolutionGoldenCase) throws -> (any Layer, ParameterSet?) {
        switch c.kind {
        case "conv2d":
            let p = try ParameterSet(
                layout: [("c.weight", [c.outChannels, c.inChannels, c.kernel, c.kernel]), ("c.bias", [c.outChannels])],
                stateDictOrder: ["c.weight", "c.bias"])
            let g = ConvolutionGeometry(
                channels: c.inChannels, height: c.height, width: c.width, kernel: c.kernel, stride: c.stride, padding: c.padding)
            return (try Conv2d("c", in: p, geometry: g), p)
        case "conv_transpose2d":
            let p = try ParameterSet(
                layout: [("c.weight", [c.inChannels, c.outChannels, c.kernel, c.kernel]), ("c.bias", [c.outChannels])],
                stateDictOrder: ["c.weight", "c.bias"])
            let t = try ConvTranspose2d(
                "c", in: p, inChannels: c.inChannels, inputHeight: c.height, inputWidth: c.width, kernel: c.kernel, stride: c.stride,
                padding: c.padding, outputPadding: c.outputPadding)
            return (t, p)
        default:
            return (LeakyReLULayer(slope: c.slope, size: c.inChannels * c.height * c.width), nil)
        }
    }

    func close(_ a: [Float], _ b: [Float], _ what: String, _ name: String) {
        #expect(a.count == b.count, "\(name) \(what): \(a.count) values, PyTorch \(b.count)")
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5, "\(name) \(what): largest difference from PyTorch \(worst)")
    }

    @Test(arguments: convolutionGoldenCases.map(\.name))
    func matchesPyTorch(name: String) throws {
        let c = try #require(convolutionGoldenCases.first { $0.name == name })
        let (layer, params) = try layer(c)
        if let params {
            let w = c.inChannels * c.outChannels * c.kernel * c.kernel
            let values = pattern(w, 5, 1, 13, 16) + pattern(c.outChannels, 3, 2, 7, 8)
            for (name, offset) in [("c.weight", 0), ("c.bias", w)] {
                let v = params.value(name)
                for i in 0..<v.count { v.buffer[i] = values[offset + i] }
            }
        }
        let rows = c.batch
        let x = try Tensor(pattern(rows * layer.inputSize, 7, 3, 19, 8), shape: [rows, layer.inputSize])
        let y = try Tensor(shape: [rows, layer.outputSize])
        layer.forward(x.pointer, rows: rows, into: y.pointer)
        close(y.array, c.y, "output", name)
        let dy = try Tensor(pattern(rows * layer.outputSize, 11, 4, 23, 16), shape: [rows, layer.outputSize])
        let dx = try Tensor(shape: [rows, layer.inputSize])
        layer.backward(input: x.pointer, output: y.pointer, gradOutput: dy.pointer, rows: rows, gradInput: dx.pointer)
        close(dx.array, c.inputGradient, "input gradient", name)
        if let params {
            close(params.gradient("c.weight").buffer.map { $0 }, c.weightGradient, "weight gradient", name)
            close(params.gradient("c.bias").buffer.map { $0 }, c.biasGradient, "bias gradient", name)
        }
    }
}

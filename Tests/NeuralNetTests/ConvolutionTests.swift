import NumericCore
import Testing

@testable import NeuralNet

/// Conv2d and ConvTranspose2d: input and parameter gradients against central
/// finite differences (L = Σ c ⊙ layer(x), c fixed), for odd sizes, strides 1
/// and 2, padding 0 and 1, and output_padding 1; and the transposed
/// convolution as the exact adjoint of the convolution.
@Suite struct ConvolutionTests {
    func check(_ layer: any Layer, params: ParameterSet, rows: Int) throws {
        var r = RandomStream(seed: 5, stream: 2)
        for i in 0..<params.count { params.values[i] = r.nextFloat() * 2 - 1 }
        let x = try Tensor((0..<(rows * layer.inputSize)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, layer.inputSize])
        let c = try Tensor((0..<(rows * layer.outputSize)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, layer.outputSize])
        let y = try Tensor(shape: [rows, layer.outputSize])
        func loss() -> Double {
            layer.forward(x.pointer, rows: rows, into: y.pointer)
            return (0..<y.count).reduce(0.0) { $0 + Double(y[$1]) * Double(c[$1]) }
        }
        _ = loss()
        let dy = try Tensor(c.array, shape: [rows, layer.outputSize])
        let dx = try Tensor(shape: [rows, layer.inputSize])
        layer.backward(input: x.pointer, output: y.pointer, gradOutput: dy.pointer, rows: rows, gradInput: dx.pointer)
        #expect(finiteDifferenceMismatches(params.values, analytic: params.gradients.array, loss: loss) == [], "parameters")
        #expect(finiteDifferenceMismatches(x, analytic: dx.array, loss: loss) == [], "inputs")
        #expect(params.gradients.array.contains { abs($0) > 1e-3 })
    }

    @Test(
        arguments: [
            (2, 3, 5, 7, 3, 1, 0), (2, 3, 5, 7, 3, 1, 1), (1, 2, 7, 5, 4, 2, 1), (3, 2, 6, 6, 3, 2, 0),
        ] as [(Int, Int, Int, Int, Int, Int, Int)])
    func conv2dBackwardMatchesFiniteDifferences(shape: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (cin, cout, h, w, k, s, p) = shape
        let params = try ParameterSet(
            layout: [("c.weight", [cout, cin, k, k]), ("c.bias", [cout])], stateDictOrder: ["c.weight", "c.bias"])
        let layer = try Conv2d(
            "c", in: params, geometry: ConvolutionGeometry(channels: cin, height: h, width: w, kernel: k, stride: s, padding: p))
        #expect(layer.outputSize == cout * ((h + 2 * p - k) / s + 1) * ((w + 2 * p - k) / s + 1))
        try check(layer, params: params, rows: 2)
    }

    @Test(
        arguments: [
            (2, 3, 3, 4, 3, 1, 0, 0), (2, 3, 3, 4, 3, 2, 1, 1), (3, 1, 4, 3, 4, 2, 1, 0), (1, 2, 5, 5, 3, 2, 0, 1),
        ] as [(Int, Int, Int, Int, Int, Int, Int, Int)])
    func convTranspose2dBackwardMatchesFiniteDifferences(shape: (Int, Int, Int, Int, Int, Int, Int, Int)) throws {
        let (cin, cout, h, w, k, s, p, op) = shape
        let params = try ParameterSet(
            layout: [("t.weight", [cin, cout, k, k]), ("t.bias", [cout])], stateDictOrder: ["t.weight", "t.bias"])
        let layer = try ConvTranspose2d(
            "t", in: params, inChannels: cin, inputHeight: h, inputWidth: w, kernel: k, stride: s, padding: p, outputPadding: op)
        #expect(layer.geometry.height == (h - 1) * s - 2 * p + k + op && layer.geometry.width == (w - 1) * s - 2 * p + k + op)
        try check(layer, params: params, rows: 2)
    }

    /// The table-driven im2col and its adjoint on channels-last chunks equal
    /// the definition written out (bit for bit: the adjoint starts from the
    /// bias, or 0, and adds in (output position, kernel position) order), for
    /// odd sizes, strides 1 to 3, padding 0 to 2, one channel and more, 3, 4
    /// and 8 images (4 or 8 with one channel and 16 taps: the register-transpose
    /// path, with an odd number of positions too), a leading dimension wider
    /// than a row, and the channels in two parts as two threads take them.
    @Test(arguments: [
        (2, 5, 7, 3, 1, 1), (3, 6, 5, 4, 2, 1), (1, 9, 8, 3, 3, 2), (2, 4, 4, 4, 2, 0), (1, 7, 7, 1, 2, 0), (2, 5, 6, 5, 1, 2),
        (3, 14, 14, 4, 2, 1), (1, 28, 27, 4, 2, 1), (12, 9, 9, 4, 2, 1), (1, 6, 6, 4, 1, 0),
    ])
    func columnsMatchTheirDefinition(c: Int, h: Int, w: Int, k: Int, s: Int, p: Int) throws {
        let g = ConvolutionGeometry(channels: c, height: h, width: w, kernel: k, stride: s, padding: p)
        let (ho, wo, n) = (g.outputHeight, g.outputWidth, g.columnCount)
        for images in [3, 4, 8] {
            let ld = c * k * k + 5
            var r = RandomStream(seed: UInt64(h * 100 + w), stream: 2)
            // x[b, ch, y, x] of the definition is held at ((y·w + x)·images + b)·c + ch.
            let x = (0..<(images * c * h * w)).map { _ in r.nextFloat() * 2 - 1 }
            let split = [0..<(c / 2), (c / 2)..<c]
            var col = [Float](repeating: .nan, count: n * images * ld)
            x.withUnsafeBufferPointer { xb in
                col.withUnsafeMutableBufferPointer { cb in
                    for part in split {
                        g.im2col(channelsLast: xb.baseAddress!, images: images, channels: part, into: cb.baseAddress!, ld: ld)
                    }
                }
            }
            /// Every column entry (its index in `col`) with the input value it
            /// reads (nil in the padding), in (position, image, tap, channel) order.
            func forEachEntry(_ body: (Int, Int?) -> Void) {
                for oy in 0..<ho {
                    for ox in 0..<wo {
                        for b in 0..<images {
                            for i in 0..<k {
                                for j in 0..<k {
                                    for ch in 0..<c {
                                        let (y, xx) = (oy * s - p + i, ox * s - p + j)
                                        let inside = y >= 0 && y < h && xx >= 0 && xx < w
                                        body(
                                            ((oy * wo + ox) * images + b) * ld + (i * k + j) * c + ch,
                                            inside ? ((y * w + xx) * images + b) * c + ch : nil)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            forEachEntry { entry, read in #expect(col[entry] == (read.map { x[$0] } ?? 0)) }
            // The adjoint: each value the bias (with 4 and 8 images) plus, in (position, tap)
            // order, the entries that read it.
            let entries = (0..<col.count).map { _ in r.nextFloat() * 2 - 1 }
            let bias = images != 3 ? (0..<c).map { _ in r.nextFloat() } : nil
            var expected = (0..<(images * c * h * w)).map { bias?[$0 % c] ?? 0 }
            forEachEntry { entry, read in if let read { expected[read] += entries[entry] } }
            var back = [Float](repeating: .nan, count: expected.count)
            entries.withUnsafeBufferPointer { e in
                back.withUnsafeMutableBufferPointer { bb in
                    if let bias {
                        bias.withUnsafeBufferPointer { biasBuffer in
                            for part in split {
                                g.col2im(
                                    e.baseAddress!, images: images, channels: part, bias: biasBuffer.baseAddress!,
                                    intoChannelsLast: bb.baseAddress!, ld: ld)
                            }
                        }
                    } else {
                        for part in split {
                            g.col2im(e.baseAddress!, images: images, channels: part, intoChannelsLast: bb.baseAddress!, ld: ld)
                        }
                    }
                }
            }
            #expect(back == expected)
        }
    }

    /// Convolutions linked by a `Sequential` (channels-last rows between them,
    /// through ReLU and LeakyReLU) give the same bits as the same layers run
    /// one by one on NCHW rows with the same chunks: outputs, parameter
    /// gradients and the input gradient, over 19 rows (chunks of 8, 8 and 3).
    @Test func linkedConvolutionsGiveTheSameBits() throws {
        let rows = 19
        try expectLinkedEqualsPlain(
            layout: [
                ("a.weight", [8, 4, 3, 3]), ("a.bias", [8]), ("b.weight", [8, 8, 3, 3]), ("b.bias", [8]),
                ("t.weight", [8, 4, 4, 4]), ("t.bias", [4]),
            ], rows: rows, chunks: [8, 8, 8], outputLinks: [true, true, false]
        ) { p in
            let a = try Conv2d(
                "a", in: p, geometry: ConvolutionGeometry(channels: 4, height: 14, width: 14, kernel: 3, stride: 1, padding: 1), batch: rows
            )
            let b = try Conv2d(
                "b", in: p, geometry: ConvolutionGeometry(channels: 8, height: 14, width: 14, kernel: 3, stride: 1, padding: 1), batch: rows
            )
            let t = try ConvTranspose2d(
                "t", in: p, inChannels: 8, inputHeight: 14, inputWidth: 14, kernel: 4, stride: 2, padding: 1, outputPadding: 0, batch: rows)
            return [a, ActivationLayer(.relu, size: a.outputSize), b, LeakyReLULayer(slope: 0.1, size: b.outputSize), t]
        }
    }

    /// Two linked convolutions whose buffers would take different chunks (40
    /// and 32 of 40 rows) both take the smaller, and give the bits of the
    /// plain layers run with it.
    @Test func linkedConvolutionsShareTheSmallerChunk() throws {
        let rows = 40
        try expectLinkedEqualsPlain(
            layout: [("a.weight", [4, 1, 3, 3]), ("a.bias", [4]), ("b.weight", [64, 4, 3, 3]), ("b.bias", [64])], rows: rows,
            chunks: [32, 32], outputLinks: [true, false]
        ) { p in
            let a = try Conv2d(
                "a", in: p, geometry: ConvolutionGeometry(channels: 1, height: 6, width: 6, kernel: 3, stride: 1, padding: 1), batch: rows)
            let b = try Conv2d(
                "b", in: p, geometry: ConvolutionGeometry(channels: 4, height: 6, width: 6, kernel: 3, stride: 1, padding: 1), batch: rows)
            #expect((a.chunk, b.chunk) == (40, 32))
            return [a, ActivationLayer(.relu, size: a.outputSize), b]
        }
    }

    /// Builds `stack` twice on equal parameters, once in a `Sequential` (which
    /// links its convolutions: `chunks`, `outputLinks` expected) and once as
    /// plain layers given the same chunks, and expects the same bits from both.
    func expectLinkedEqualsPlain(
        layout: [(String, [Int])], rows: Int, chunks: [Int], outputLinks: [Bool], stack: (ParameterSet) throws -> [any Layer]
    ) throws {
        let (linkedParameters, plainParameters) = (
            try ParameterSet(layout: layout, stateDictOrder: layout.map(\.0)),
            try ParameterSet(layout: layout, stateDictOrder: layout.map(\.0))
        )
        var r = RandomStream(seed: 21, stream: 5)
        for i in 0..<linkedParameters.count {
            let v = r.nextFloat() * 0.4 - 0.2
            linkedParameters.values[i] = v
            plainParameters.values[i] = v
        }
        let linked = try Sequential(try stack(linkedParameters), maxRows: rows)
        let plain = try stack(plainParameters)
        let convolutions = linked.layers.compactMap { $0 as? any ChannelsLastRows }
        #expect(convolutions.map(\.chunk) == chunks)
        #expect(convolutions.map(\.outputChannelsLast) == outputLinks)
        #expect(convolutions.map(\.inputChannelsLast) == [false] + outputLinks.dropLast())
        let plainConvolutions = plain.compactMap { $0 as? any ChannelsLastRows }
        #expect(plainConvolutions.allSatisfy { !$0.inputChannelsLast && !$0.outputChannelsLast })
        for (layer, chunk) in zip(plainConvolutions, chunks) { layer.chunk = chunk }

        let (inputSize, outputSize) = (plain[0].inputSize, plain[plain.count - 1].outputSize)
        let x = try Tensor((0..<(rows * inputSize)).map { _ in r.nextFloat() * 2 - 1 }, shape: [rows, inputSize])
        let dyValues = (0..<(rows * outputSize)).map { _ in r.nextFloat() * 2 - 1 }
        // Linked: through the Sequential.
        let y = linked.forward(x.pointer, rows: rows)
        let linkedOutput = Array(UnsafeBufferPointer(start: y, count: rows * outputSize))
        let dy = try Tensor(dyValues, shape: [rows, outputSize])
        let dxLinked = try Tensor(shape: [rows, inputSize])
        linked.backward(input: x.pointer, gradOutput: dy.pointer, rows: rows, gradInput: dxLinked.pointer)
        // Plain: layer by layer on buffers of their own.
        var outputs: [Tensor] = []
        var input = UnsafePointer(x.pointer)
        for layer in plain {
            let out = try Tensor(shape: [rows, layer.outputSize])
            layer.forward(input, rows: rows, into: out.pointer)
            outputs.append(out)
            input = UnsafePointer(out.pointer)
        }
        #expect(Array(UnsafeBufferPointer(start: outputs[outputs.count - 1].pointer, count: rows * outputSize)) == linkedOutput)
        var gradient = try Tensor(dyValues, shape: [rows, outputSize])
        let dxPlain = try Tensor(shape: [rows, inputSize])
        for i in stride(from: plain.count - 1, through: 0, by: -1) {
            let layerInput = i == 0 ? UnsafePointer(x.pointer) : UnsafePointer(outputs[i - 1].pointer)
            let dx = i == 0 ? dxPlain : try Tensor(shape: [rows, plain[i].inputSize])
            plain[i].backward(
                input: layerInput, output: outputs[i].pointer, gradOutput: gradient.pointer, rows: rows, gradInput: dx.pointer)
            gradient = dx
        }
        #expect(linkedParameters.gradients.array == plainParameters.gradients.array)
        #expect(dxLinked.array == dxPlain.array)
    }

    /// The layout changes around the products: NCHW rows to a channels-last
    /// chunk and back are exact permutations, for channel counts and planes
    /// that fill whole 8 × 8 blocks and ragged ones, one channel (the
    /// image-minor layout), in one part or in two (as two threads take them).
    @Test(arguments: [(8, 8, 16), (3, 5, 10), (16, 37, 37), (9, 32, 49), (1, 1, 5), (8, 1, 196), (2, 3, 7)])
    func channelsLastLayoutIsAPermutation(n: Int, channels: Int, plane: Int) {
        var r = RandomStream(seed: UInt64(n * 1000 + channels * 10 + plane), stream: 4)
        let size = channels * plane
        let x = (0..<(n * size)).map { _ in r.nextFloat() * 2 - 1 }
        for parts in [[0..<plane], [0..<(plane / 3), (plane / 3)..<plane]] {
            var last = [Float](repeating: .nan, count: n * size)
            x.withUnsafeBufferPointer { xb in
                last.withUnsafeMutableBufferPointer { out in
                    for part in parts {
                        Kernels.toChannelsLast(
                            xb.baseAddress!, images: n, channels: channels, plane: plane, pixels: part, into: out.baseAddress!)
                    }
                }
            }
            // Value (q, c) of image b at (q·n + b)·channels + c.
            #expect(
                last
                    == (0..<(n * size)).map { i in
                        let (q, b, c) = (i / (n * channels), (i / channels) % n, i % channels)
                        return x[(b * channels + c) * plane + q]
                    })
            var back = [Float](repeating: .nan, count: n * size)
            last.withUnsafeBufferPointer { lb in
                back.withUnsafeMutableBufferPointer { out in
                    for part in parts {
                        Kernels.fromChannelsLast(
                            lb.baseAddress!, images: n, channels: channels, plane: plane, pixels: part, into: out.baseAddress!)
                    }
                }
            }
            #expect(back == x)
        }
        // The Swift helpers (both cores when BLAS has two threads) agree.
        var viaHelper = [Float](repeating: .nan, count: n * size)
        x.withUnsafeBufferPointer { xb in
            viaHelper.withUnsafeMutableBufferPointer {
                toChannelsLast(xb.baseAddress!, images: n, channels: channels, plane: plane, into: $0.baseAddress!)
            }
        }
        var back = [Float](repeating: .nan, count: n * size)
        viaHelper.withUnsafeBufferPointer { vb in
            back.withUnsafeMutableBufferPointer {
                fromChannelsLast(vb.baseAddress!, images: n, channels: channels, plane: plane, into: $0.baseAddress!)
            }
        }
        #expect(back == x)
    }

    /// ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ for the same weights (no bias): the
    /// transposed layer is the convolution's adjoint, as PyTorch defines it.
    @Test func transposedConvolutionIsTheAdjoint() throws {
        let (cin, cout, h, w, k, s, p) = (2, 3, 7, 5, 3, 2, 1)
        let g = ConvolutionGeometry(channels: cin, height: h, width: w, kernel: k, stride: s, padding: p)
        let cp = try ParameterSet(layout: [("c.weight", [cout, cin, k, k]), ("c.bias", [cout])], stateDictOrder: ["c.weight", "c.bias"])
        let tp = try ParameterSet(layout: [("t.weight", [cout, cin, k, k]), ("t.bias", [cin])], stateDictOrder: ["t.weight", "t.bias"])
        var r = RandomStream(seed: 8, stream: 1)
        for i in 0..<(cout * cin * k * k) {
            let v = r.nextFloat() * 2 - 1
            cp.values[i] = v
            tp.values[i] = v
        }
        let conv = try Conv2d("c", in: cp, geometry: g)
        // Output padding makes the transposed output exactly h × w (the same remainder for both here).
        let op = (h + 2 * p - k) % s
        #expect(op == (w + 2 * p - k) % s)
        let transposed = try ConvTranspose2d(
            "t", in: tp, inChannels: cout, inputHeight: g.outputHeight, inputWidth: g.outputWidth, kernel: k, stride: s, padding: p,
            outputPadding: op)
        #expect(transposed.outputSize == conv.inputSize)
        let x = try Tensor((0..<conv.inputSize).map { _ in r.nextFloat() * 2 - 1 }, shape: [1, conv.inputSize])
        let y = try Tensor((0..<conv.outputSize).map { _ in r.nextFloat() * 2 - 1 }, shape: [1, conv.outputSize])
        let cx = try Tensor(shape: [1, conv.outputSize])
        let ty = try Tensor(shape: [1, conv.inputSize])
        conv.forward(x.pointer, rows: 1, into: cx.pointer)
        transposed.forward(y.pointer, rows: 1, into: ty.pointer)
        let left = (0..<cx.count).reduce(0.0) { $0 + Double(cx[$1]) * Double(y[$1]) }
        let right = (0..<ty.count).reduce(0.0) { $0 + Double(x[$1]) * Double(ty[$1]) }
        #expect(abs(left - right) < 1e-4 * max(1, abs(left)), "\(left) vs \(right)")
    }

    /// A small conv stack as the conv VAE's encoder wires it, through
    /// LeakyReLU and a flatten into a linear layer, checked end to end.
    @Test func convStackWithLeakyReLUAndFlattenMatchesFiniteDifferences() throws {
        let g = ConvolutionGeometry(channels: 1, height: 6, width: 5, kernel: 3, stride: 2, padding: 1)
        let params = try ParameterSet(
            layout: [("e.0.weight", [2, 1, 3, 3]), ("e.0.bias", [2]), ("e.3.weight", [3, 2 * 3 * 3]), ("e.3.bias", [3])],
            stateDictOrder: ["e.0.weight", "e.0.bias", "e.3.weight", "e.3.bias"])
        let conv = try Conv2d("e.0", in: params, geometry: g)
        let layers: [any Layer] = [
            conv, LeakyReLULayer(slope: 0.2, size: conv.outputSize), ReshapeLayer(size: conv.outputSize), Dense("e.3", in: params),
        ]
        let stack = try Sequential(layers, maxRows: 2)
        var r = RandomStream(seed: 11, stream: 3)
        for i in 0..<params.count { params.values[i] = r.nextFloat() * 2 - 1 }
        let x = try Tensor((0..<(2 * 30)).map { _ in r.nextFloat() * 2 - 1 }, shape: [2, 30])
        let c = try Tensor((0..<6).map { _ in r.nextFloat() * 2 - 1 }, shape: [2, 3])
        func loss() -> Double {
            let y = stack.forward(x.pointer, rows: 2)
            return (0..<6).reduce(0.0) { $0 + Double(y[$1]) * Double(c[$1]) }
        }
        _ = loss()
        // Central differences need the LeakyReLU's inputs away from its kink.
        let pre = stack.output(ofLayer: 0)
        let margin = (0..<(2 * conv.outputSize)).map { abs(pre[$0]) }.min() ?? 0
        let dy = try Tensor(c.array, shape: [2, 3])
        let dx = try Tensor(shape: [2, 30])
        stack.backward(input: x.pointer, gradOutput: dy.pointer, rows: 2, gradInput: dx.pointer)
        if margin > 3 * fdStep {
            #expect(finiteDifferenceMismatches(params.values, analytic: params.gradients.array, loss: loss) == [])
            #expect(finiteDifferenceMismatches(x, analytic: dx.array, loss: loss) == [])
        } else {
            Issue.record("draw inputs further from the LeakyReLU kink (margin \(margin))")
        }
        let leaky = LeakyReLULayer(slope: 0.2, size: 3)
        var v: [Float] = [-2, 0.5, 0]
        v.withUnsafeMutableBufferPointer { leaky.forward(UnsafePointer($0.baseAddress!), rows: 1, into: $0.baseAddress!) }
        #expect(v == [-0.4, 0.5, 0])
    }

    /// Forward passes against the definitions PyTorch documents, written as
    /// direct loops in double precision: Conv2d
    /// y[o, oy, ox] = b[o] + Σ W[o, c, i, j] · x[c, oy·s − p + i, ox·s − p + j], and
    /// ConvTranspose2d scattering x[c, iy, ix] · W[c, o, i, j] to y[o, iy·s − p + i, ix·s − p + j].
    @Test func forwardPassesFollowTheDefinitions() throws {
        let (cin, cout, h, w, k, s, p) = (2, 3, 7, 6, 3, 2, 1)
        var r = RandomStream(seed: 21, stream: 4)
        let cp = try ParameterSet(layout: [("c.weight", [cout, cin, k, k]), ("c.bias", [cout])], stateDictOrder: ["c.weight", "c.bias"])
        for i in 0..<cp.count { cp.values[i] = r.nextFloat() * 2 - 1 }
        let conv = try Conv2d(
            "c", in: cp, geometry: ConvolutionGeometry(channels: cin, height: h, width: w, kernel: k, stride: s, padding: p))
        let x = (0..<conv.inputSize).map { _ in r.nextFloat() * 2 - 1 }
        var y = [Float](repeating: 0, count: conv.outputSize)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { conv.forward(xp.baseAddress!, rows: 1, into: $0.baseAddress!) }
        }
        let (Ho, Wo) = (conv.geometry.outputHeight, conv.geometry.outputWidth)
        let W = cp.value("c.weight").array
        let b = cp.value("c.bias").array
        for o in 0..<cout {
            for oy in 0..<Ho {
                for ox in 0..<Wo {
                    var sum = Double(b[o])
                    for c in 0..<cin {
                        for i in 0..<k {
                            for j in 0..<k {
                                let (iy, ix) = (oy * s - p + i, ox * s - p + j)
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                sum += Double(W[((o * cin + c) * k + i) * k + j]) * Double(x[(c * h + iy) * w + ix])
                            }
                        }
                    }
                    #expect(abs(Double(y[(o * Ho + oy) * Wo + ox]) - sum) < 1e-5)
                }
            }
        }

        let op = 1
        let tp = try ParameterSet(layout: [("t.weight", [cin, cout, k, k]), ("t.bias", [cout])], stateDictOrder: ["t.weight", "t.bias"])
        for i in 0..<tp.count { tp.values[i] = r.nextFloat() * 2 - 1 }
        let t = try ConvTranspose2d(
            "t", in: tp, inChannels: cin, inputHeight: h, inputWidth: w, kernel: k, stride: s, padding: p, outputPadding: op)
        let (To, Tw) = ((h - 1) * s - 2 * p + k + op, (w - 1) * s - 2 * p + k + op)
        var ty = [Float](repeating: 0, count: t.outputSize)
        x.withUnsafeBufferPointer { xp in ty.withUnsafeMutableBufferPointer { t.forward(xp.baseAddress!, rows: 1, into: $0.baseAddress!) } }
        let TW = tp.value("t.weight").array
        let tb = tp.value("t.bias").array
        var reference = [Double](repeating: 0, count: cout * To * Tw)
        for o in 0..<cout { for q in 0..<(To * Tw) { reference[o * To * Tw + q] = Double(tb[o]) } }
        for c in 0..<cin {
            for iy in 0..<h {
                for ix in 0..<w {
                    for o in 0..<cout {
                        for i in 0..<k {
                            for j in 0..<k {
                                let (yy, xx) = (iy * s - p + i, ix * s - p + j)
                                guard yy >= 0, yy < To, xx >= 0, xx < Tw else { continue }
                                reference[(o * To + yy) * Tw + xx] +=
                                    Double(x[(c * h + iy) * w + ix]) * Double(TW[((c * cout + o) * k + i) * k + j])
                            }
                        }
                    }
                }
            }
        }
        #expect(t.outputSize == reference.count)
        for q in 0..<reference.count { #expect(abs(Double(ty[q]) - reference[q]) < 1e-5, "output \(q)") }
    }
}

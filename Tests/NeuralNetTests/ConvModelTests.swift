import Foundation
import NumericCore
import Testing

@testable import NeuralNet

/// Convolutional models declared as layer lists (issue 13): the conv-vae
/// recipe's network has PyTorch's state_dict names and shapes, fits colour
/// and larger images, refuses stacks that do not fit the data with the
/// layer, the shapes and the fix, and its whole backward pass (plain and
/// conditional, ELBO and K = 2) matches finite differences.
@Suite struct ConvModelTests {
    /// The conv-vae recipe's layers for 28×28 grey images (Sources/Recipes/Resources/recipes/conv-vae.json).
    static let convVAE = ModelConfig(
        inputShape: [1, 28, 28],
        encoder: [
            .conv2d(32, kernel: 4, stride: 2, padding: 1), .relu, .conv2d(64, kernel: 4, stride: 2, padding: 1), .relu, .flatten,
            .linear(outFeatures: 256), .relu,
        ], latentDim: 20,
        decoder: [
            .linear(outFeatures: 256), .relu, .linear(outFeatures: 3136), .relu, .unflatten(shape: [64, 7, 7]),
            .convTranspose2d(32, kernel: 4, stride: 2, padding: 1), .relu, .convTranspose2d(1, kernel: 4, stride: 2, padding: 1),
        ])

    @Test func convVAEHasPyTorchsStateDict() throws {
        let m = Self.convVAE
        #expect(m.problems == [] && m.naming == .sequential)
        // sum(p.numel() for p in ConvVAE().parameters()) in PyTorch (Scripts/pytorch_conv_vae.py prints it).
        #expect(m.parameterCount == 1_691_369)
        #expect(
            m.parameterShapes.map { "\($0.0) \($0.1)" } == [
                "encoder.0.weight [32, 1, 4, 4]", "encoder.0.bias [32]", "encoder.2.weight [64, 32, 4, 4]", "encoder.2.bias [64]",
                "encoder.5.weight [256, 3136]", "encoder.5.bias [256]", "mu.weight [20, 256]", "mu.bias [20]",
                "logvar.weight [20, 256]", "logvar.bias [20]", "decoder.0.weight [256, 20]", "decoder.0.bias [256]",
                "decoder.2.weight [3136, 256]", "decoder.2.bias [3136]", "decoder.5.weight [64, 32, 4, 4]", "decoder.5.bias [32]",
                "decoder.7.weight [32, 1, 4, 4]", "decoder.7.bias [1]",
            ])
        let plan = try m.plan().get()
        #expect(plan.encoder.map(\.output) == [[32, 14, 14], [32, 14, 14], [64, 7, 7], [64, 7, 7], [3136], [256], [256]])
        #expect(plan.decoder.last?.output == [1, 28, 28])
        // 5.03 M multiply-adds per image forward; training counts three passes less the first layer's input gradient.
        #expect(m.epochFlops(images: 1) == 2 * (3 * 5_032_960 - 100_352))
    }

    @Test func layerListsRoundTripThroughJSON() throws {
        var m = Self.convVAE
        m.encoder.insert(.leakyReLU(slope: 0.2), at: 1)
        m.decoder[7] = .convTranspose2d(1, kernel: 3, stride: 2, padding: 1, outputPadding: 1)
        let json = try JSONEncoder().encode(m)
        #expect(try JSONDecoder().decode(ModelConfig.self, from: json) == m)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(#""type":"conv_transpose2d""#) && text.contains(#""output_padding":1"#))
        #expect(text.contains(#""negative_slope":0.2"#) && text.contains(#""shape":[64,7,7]"#))
    }

    @Test func theRecipeFitsColourAndLargerImages() throws {
        var m = Self.convVAE
        try m.fit(inputShape: [3, 32, 32])
        #expect(m.problems == [])
        #expect(m.decoder[2] == .linear(outFeatures: 4096) && m.decoder[4] == .unflatten(shape: [64, 8, 8]))
        #expect(m.decoder[7] == .convTranspose2d(3, kernel: 4, stride: 2, padding: 1))
        let shapes = Dictionary(uniqueKeysWithValues: m.parameterShapes)
        #expect(shapes["encoder.0.weight"] == [32, 3, 4, 4] && shapes["encoder.5.weight"] == [256, 4096])
        #expect(shapes["decoder.7.weight"] == [32, 3, 4, 4] && shapes["decoder.7.bias"] == [3])
        var same = Self.convVAE
        try same.fit(inputShape: [1, 28, 28])
        #expect(same == Self.convVAE)
        var wide = Self.convVAE
        try wide.fit(inputShape: [1, 16, 40])
        #expect(wide.decoder[4] == .unflatten(shape: [64, 4, 10]) && wide.problems == [])
    }

    /// Each kind of stack that does not fit the data is refused with the
    /// layer, the shapes and the fix, before any model is built.
    @Test func stacksThatDoNotFitAreRefusedWithTheLayerAndShapes() throws {
        // A height the strides cannot give.
        var odd = Self.convVAE
        #expect {
            try odd.fit(inputShape: [1, 30, 30])
        } throws: { e in
            let m = (e as? ConfigProblem)?.message ?? ""
            return m.contains("decoder layer 5 (conv_transpose2d 32 k4 s2 p1) cannot give a height of 15")
                && m.contains("multiples of 4 (such as 28×28)")
        }
        // A transposed stack that cannot return to the input's size (its outputs are odd).
        var oddOnly = Self.convVAE
        oddOnly.decoder[7] = .convTranspose2d(1, kernel: 3, stride: 2, padding: 1)
        #expect {
            try oddOnly.fit(inputShape: [1, 28, 28])
        } throws: { e in
            ((e as? ConfigProblem)?.message ?? "").contains("decoder layer 7 (conv_transpose2d 1 k3 s2 p1) cannot give a height of 28")
        }
        // The same decoder as stored (no refit): its output is not the input's shape.
        #expect(
            oddOnly.problems.joined().contains(
                "the decoder gives [1, 27, 27] per example, but the input is [1, 28, 28]"))
        // Images for a vector decoder.
        var vector = Self.convVAE
        #expect {
            try vector.fit(inputShape: [13])
        } throws: { e in
            ((e as? ConfigProblem)?.message ?? "").contains("the decoder ends in a conv_transpose2d layer, which gives images")
        }
        // A kernel larger than its input.
        var small = Self.convVAE
        small.encoder.insert(.conv2d(8, kernel: 5), at: 4)
        try small.fit(inputShape: [1, 12, 12])
        #expect(
            small.problems.joined().contains(
                "encoder layer 4 (conv2d 8 k5 s1 p0): its kernel 5×5 is larger than its input 3×3 padded by 0 (input [64, 3, 3]); use a kernel of at most 3"
            ))
        // A convolution on a vector, and an unflatten of the wrong size.
        var flat = Self.convVAE
        flat.encoder = [.flatten, .conv2d(4, kernel: 3)]
        #expect(
            flat.problems.joined().contains(
                "encoder layer 1 (conv2d 4 k3 s1 p0): it takes an image [channels, height, width], but its input is [784]; put an unflatten layer before it"
            ))
        var reshape = Self.convVAE
        reshape.decoder[4] = .unflatten(shape: [64, 8, 8])
        #expect(
            reshape.problems.joined().contains(
                "decoder layer 4 (unflatten 64×8×8): it reshapes 3136 values (input [3136]) to [64, 8, 8] (4096 values)"))
        // Declared values out of range.
        var bad = Self.convVAE
        bad.encoder[0] = .conv2d(.init(outChannels: 0, kernel: 4, stride: 2, padding: 1))
        bad.decoder[5] = .convTranspose2d(32, kernel: 4, stride: 2, padding: 1, outputPadding: 2)
        bad.encoder[1] = .leakyReLU(slope: -1)
        let problems = bad.problems.joined(separator: "; ")
        #expect(problems.contains("encoder layer 0 (conv2d): out_channels must be between 1 and 65536, got 0"))
        #expect(problems.contains("encoder layer 1 (leaky_relu): negative_slope must be between 0 and 1, got -1.0"))
        #expect(
            problems.contains(
                "decoder layer 5 (conv_transpose2d): output_padding must be between 0 and 1, got 2 (it must be smaller than the stride)"))
        // Sizes that would overflow are bounded before anything is allocated.
        var huge = Self.convVAE
        huge.decoder[5] = .convTranspose2d(65536, kernel: 64, stride: 64, padding: 0)
        #expect(huge.problems.joined().contains("would give [65536, 448, 448] per example, more than the 16777216 values"))
    }

    /// Whole-model gradients of a small convolutional VAE (tanh, so that
    /// central differences see no kinks; 32 inputs, so that the float32 loss
    /// is precise enough for differences of h = 5e-3): conv, flatten, linear, unflatten,
    /// transposed conv with output_padding 1, LeakyReLU; conditional models
    /// get the label as planes.
    @Test(arguments: [(0, 1), (3, 1), (2, 2)])
    func convVAEBackwardMatchesFiniteDifferences(classes: Int, samples: Int) throws {
        let config = ModelConfig(
            inputShape: [2, 4, 4],
            encoder: [.conv2d(3, kernel: 3, stride: 2, padding: 1), .tanh, .flatten, .linear(outFeatures: 4), .tanh], latentDim: 2,
            decoder: [
                .linear(outFeatures: 8), .leakyReLU(slope: 1), .unflatten(shape: [2, 2, 2]),
                .convTranspose2d(2, kernel: 3, stride: 2, padding: 1, outputPadding: 1),
            ], labelClasses: classes)
        #expect(config.problems == [])
        #expect(config.labelsAsPlanes)
        if classes > 0 { #expect(Dictionary(uniqueKeysWithValues: config.parameterShapes)["encoder.0.weight"] == [3, 2 + classes, 3, 3]) }
        try GradientTests().checkVAEGradients(config, beta: 1, samples: samples)
    }

    /// The label planes: channel C + k of image r is 1 everywhere when r's label is k, else 0.
    @Test func conditionalConvEncoderSeesTheLabelAsPlanes() throws {
        var config = Self.convVAE
        config.labelClasses = 3
        let vae = try VAE(config: config, maxRows: 2)
        for i in 0..<(2 * 784) { vae.input[i] = Float(i % 7) / 7 }
        vae.labels[0] = 2
        vae.labels[1] = 0
        vae.encode(rows: 2)
        let x = try #require(vae.conditionedInput)
        let row = 4 * 784
        for r in 0..<2 {
            #expect((0..<784).allSatisfy { x[r * row + $0] == vae.input[r * 784 + $0] })
            for k in 0..<3 {
                let expected: Float = k == Int(vae.labels[r]) ? 1 : 0
                #expect((0..<784).allSatisfy { x[r * row + 784 * (1 + k) + $0] == expected })
            }
        }
    }

    /// One product for many images gives the same outputs as one per image
    /// (the batched lowering changes only how the work is grouped).
    @Test func batchedProductsMatchOneImageAtATime() throws {
        let plan = try Self.convVAE.plan().get()
        let p = try ParameterSet(
            layout: plan.parameterized.flatMap(\.parameterShapes), stateDictOrder: plan.parameterized.flatMap(\.parameterShapes).map(\.0))
        var r = RandomStream(seed: 2, stream: 0)
        for i in 0..<p.count { p.values[i] = (r.nextFloat() * 2 - 1) * 0.1 }
        let rows = 5
        for layer in [plan.encoder[2], plan.decoder[5]] {
            let one = try VAE.makeLayer(layer, in: p, rows: 1)
            let many = try VAE.makeLayer(layer, in: p, rows: rows)
            let x = try Tensor((0..<(rows * one.inputSize)).map { _ in r.nextFloat() }, shape: [rows, one.inputSize])
            let (a, b) = (try Tensor(shape: [rows, one.outputSize]), try Tensor(shape: [rows, one.outputSize]))
            one.forward(x.pointer, rows: rows, into: a.pointer)
            many.forward(x.pointer, rows: rows, into: b.pointer)
            let worst = zip(a.array, b.array).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-5, "\(layer.spec.summary): \(worst)")
        }
    }
}

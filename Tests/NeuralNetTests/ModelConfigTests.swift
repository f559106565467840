import Foundation
import NeuralNet
import Testing

/// The architecture as data: layer lists, their JSON, the MLP shorthand,
/// parameter names and shapes, and the problems of a bad declaration.
@Suite struct ModelConfigTests {
    func decode(_ json: String) throws -> ModelConfig { try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) }

    /// The tutorial model: layers 784·400, 2·(400·20), 20·400, 400·784 = 651,200
    /// multiply-adds; an epoch of 60,000 images is 2·(3·651,200 − 313,600)·60,000 FLOPs.
    @Test func epochFlopsOfTheTutorialModel() {
        #expect(ModelConfig().epochFlops(images: 60_000) == 2 * (3 * 651_200 - 313_600) * 60_000)
    }

    /// The layers a VAE runs, in the order of its layer clocks: the encoder,
    /// the fused heads, the decoder; multiply-adds per row, the first layer
    /// with parameters marked (its backward computes no input gradient), and
    /// the sum over layers is what `epochFlops` counts forward.
    @Test func runLayersOfTheTutorialModel() {
        let layers = ModelConfig().runLayers()
        #expect(
            layers.map(\.label) == [
                "encoder.0 linear 400", "encoder.1 relu", "heads linear 2×20", "decoder.0 linear 400",
                "decoder.1 relu", "decoder.2 linear 784",
            ])
        #expect(layers.map(\.multiplyAdds) == [313_600, 0, 16_000, 8_000, 0, 313_600])
        #expect(layers.map(\.first) == [true, false, false, false, false, false])
        #expect(layers.map(\.inDecoder) == [false, false, false, true, true, true])
        #expect(layers.reduce(0) { $0 + $1.multiplyAdds } == 651_200)
    }

    @Test func theDefaultIsTheTutorialsMLPWithItsNames() {
        let m = ModelConfig()
        #expect(m.inputShape == [1, 28, 28] && m.inputDim == 784)
        #expect(m.mlpShorthand == .init(hidden: [400], activation: .relu))
        #expect(m.naming == .tutorial && m.summary == "784-400-20-400-784 (input 1×28×28)")
        #expect(m.parameterShapes.map(\.0) == (1...5).flatMap { ["fc\($0).weight", "fc\($0).bias"] })
        #expect(Dictionary(uniqueKeysWithValues: m.parameterShapes)["fc5.weight"] == [784, 400])
        #expect(m.parameterCount == 652_824 && m.problems == [])
    }

    @Test func layerListsRoundTripThroughJSON() throws {
        let m = ModelConfig(
            inputShape: [3, 4, 5], encoder: [.linear(outFeatures: 7), .tanh], latentDim: 2,
            decoder: [.linear(outFeatures: 9), .relu, .linear(outFeatures: 60)], likelihood: .gaussian, sigma: 0.3, labelClasses: 4)
        let text = String(decoding: try JSONEncoder().encode(m), as: UTF8.self)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let encoder = try #require(object["encoder"] as? [[String: Any]])
        #expect(encoder.count == 2 && encoder[0]["type"] as? String == "linear" && encoder[0]["out_features"] as? Int == 7)
        #expect(encoder[1].count == 1 && encoder[1]["type"] as? String == "tanh")
        #expect(object["input_shape"] as? [Int] == [3, 4, 5])
        #expect(!text.contains("hidden") && !text.contains("input_dim"))
        #expect(try decode(text) == m)
    }

    /// Formats 1–3 stored an MLP as input_dim, hidden and (from 2) activation.
    @Test(arguments: [(784, [1, 28, 28]), (560, [560]), (1, [1])])
    func legacyConfigsReadAsTheEquivalentLists(inputDim: Int, shape: [Int]) throws {
        let m = try decode(
            #"{"input_dim": \#(inputDim), "hidden": [200, 100], "latent_dim": 50, "likelihood": "bernoulli", "sigma": 0.1, "activation": "tanh"}"#
        )
        #expect(m.inputShape == shape)
        #expect(m.encoder == [.linear(outFeatures: 200), .tanh, .linear(outFeatures: 100), .tanh])
        #expect(m.decoder == [.linear(outFeatures: 100), .tanh, .linear(outFeatures: 200), .tanh, .linear(outFeatures: inputDim)])
        #expect(m.mlpShorthand == .init(hidden: [200, 100], activation: .tanh) && m.labelClasses == 0)
        // The same names format 3 used: fc1, fc2 (encoder), fc3 μ, fc4 log σ², fc5, fc6, fc7 output.
        #expect(
            m.parameterShapes.filter { $0.0.hasSuffix("weight") }.map(\.1) == [
                [200, inputDim], [100, 200], [50, 100], [50, 100], [100, 50], [200, 100], [inputDim, 200],
            ])
    }

    @Test(arguments: [
        (
            #"{"input_shape": [784], "hidden": [400], "encoder": [], "decoder": [], "latent_dim": 2, "likelihood": "bernoulli", "sigma": 0.1}"#,
            "either the MLP shorthand"
        ),
        (
            #"{"input_shape": [784], "input_dim": 784, "hidden": [400], "latent_dim": 2, "likelihood": "bernoulli", "sigma": 0.1}"#,
            "not both"
        ),
        (
            #"{"input_shape": [4], "encoder": [{"type": "conv9d"}], "decoder": [], "latent_dim": 2, "likelihood": "bernoulli", "sigma": 0.1}"#,
            "unknown layer type \"conv9d\"; the types are linear, relu, tanh, leaky_relu, conv2d, conv_transpose2d, flatten, unflatten"
        ),
        (
            #"{"input_shape": [4], "encoder": [{"type": "linear"}], "decoder": [], "latent_dim": 2, "likelihood": "bernoulli", "sigma": 0.1}"#,
            "out_features"
        ),
        (
            #"{"input_shape": [4], "encoder": [{"type": "relu", "out_features": 3}], "decoder": [], "latent_dim": 2, "likelihood": "bernoulli", "sigma": 0.1}"#,
            "a relu layer has no out_features"
        ),
        (
            #"{"input_shape": [4], "hidden": [], "latent_dim": 2, "likelihood": "bernoulli", "sigma": 0.1}"#,
            "at least one hidden layer is needed"
        ),
    ])
    func badDeclarationsAreDecodingErrors(json: String, message: String) {
        #expect {
            try decode(json)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func problemsNameTheLayerAndTheValue() {
        func problems(_ encoder: [LayerSpec], _ decoder: [LayerSpec], shape: [Int] = [6]) -> String {
            ModelConfig(inputShape: shape, encoder: encoder, latentDim: 2, decoder: decoder).problems.joined(separator: "; ")
        }
        let good: [LayerSpec] = [.linear(outFeatures: 3), .relu, .linear(outFeatures: 6)]
        #expect(problems([.linear(outFeatures: 4)], good) == "")
        #expect(problems([], good) == "", "an encoder of no layers: the heads read the input")
        #expect(
            problems([.linear(outFeatures: 0)], good).contains("encoder layer 0 (linear): out_features must be between 1 and 65536, got 0"))
        #expect(
            problems([], [.linear(outFeatures: 5)]).contains("the decoder's last layer gives 5 values per example, but the input has 6"))
        #expect(
            problems([], [.linear(outFeatures: 6), .relu]).contains(
                "the decoder's last layer must give the logits of p(x|z) (linear, conv2d or conv_transpose2d), got relu"))
        #expect(problems([], []).contains("the decoder needs at least one layer"))
        #expect(problems([], good, shape: [1, 2]).contains("the input shape is [length] or [channels, height, width], got [1, 2]"))
        #expect(problems([], good, shape: [0, 6, 1]).contains("input shape sizes must be between 1 and 16777216, got 0"))
        let deep = [LayerSpec](repeating: .relu, count: 65)
        #expect(problems(deep, good).contains("the encoder has 65 layers, at most 64 are allowed"))
    }

    @Test func asymmetricListsAreNamedInOrderAndAreNotTheShorthand() {
        let m = ModelConfig(
            inputShape: [1, 2, 5], encoder: [.linear(outFeatures: 8), .relu, .linear(outFeatures: 6), .tanh], latentDim: 3,
            decoder: [.linear(outFeatures: 4), .relu, .linear(outFeatures: 10)])
        #expect(m.mlpShorthand == nil && m.naming == .tutorial)
        #expect(
            m.parameterShapes.filter { $0.0.hasSuffix("weight") }.map { "\($0.0) \($0.1)" } == [
                "fc1.weight [8, 10]", "fc2.weight [6, 8]", "fc3.weight [3, 6]", "fc4.weight [3, 6]", "fc5.weight [4, 3]",
                "fc6.weight [10, 4]",
            ])
        #expect(m.summary == "1×2×5 → [linear 8, relu, linear 6, tanh] → z 3 → [linear 4, relu, linear 10]")
        var conditional = m
        conditional.labelClasses = 2
        #expect(Dictionary(uniqueKeysWithValues: conditional.parameterShapes)["fc1.weight"] == [8, 12])
        #expect(Dictionary(uniqueKeysWithValues: conditional.parameterShapes)["fc5.weight"] == [4, 5])
    }

    @Test func theShorthandReplacesTheListsAndFitsTheInput() throws {
        var m = ModelConfig()
        try m.useMLP(hidden: [200, 100])
        #expect(m.mlpShorthand == .init(hidden: [200, 100], activation: .relu) && m.decoder.last == .linear(outFeatures: 784))
        try m.useMLP(activation: .tanh)
        #expect(m.mlpShorthand == .init(hidden: [200, 100], activation: .tanh))
        try m.fit(inputShape: [1, 8, 8])
        #expect(m.decoder.last == .linear(outFeatures: 64) && m.mlpShorthand == .init(hidden: [200, 100], activation: .tanh))

        var lists = ModelConfig(inputShape: [6], encoder: [.linear(outFeatures: 3)], latentDim: 2, decoder: [.linear(outFeatures: 6)])
        #expect(throws: ConfigProblem.self) { try lists.useMLP(activation: .tanh) }
        try lists.useMLP(hidden: [5])
        #expect(lists.mlpShorthand == .init(hidden: [5], activation: .relu))
        #expect(throws: ConfigProblem("model.hidden", "hidden layer sizes must be between 1 and 65536, got 0")) {
            try lists.useMLP(hidden: [4, 0])
        }
        #expect(throws: ConfigProblem("model.hidden", "at most 16 hidden layers, got 17")) {
            try lists.useMLP(hidden: Array(repeating: 2, count: 17))
        }
    }
}

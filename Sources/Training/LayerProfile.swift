import NeuralNet

/// Where the training steps' forward and backward time went, layer by layer
/// (`zoo bench --layers`): thread seconds per epoch, added over the workers,
/// and the matrix-product rate per thread of the layers with parameters.
public struct LayerProfile: Equatable, Sendable {
    /// "encoder.0 conv2d 32 k4 s2 p1", "heads linear 2×20", …
    public let label: String
    /// Thread seconds per epoch in the forward and backward passes (with
    /// several workers the sum over them: up to workers × the wall clock).
    public let forwardSeconds: Double
    public let backwardSeconds: Double
    /// Product FLOP per second and thread (nil for a layer without
    /// parameters): 2 × multiply-adds per row forward, twice that backward
    /// (dW and dX), once for the network's first layer (no dX).
    public let forwardGFLOPS: Double?
    public let backwardGFLOPS: Double?

    /// The mean over `epochs` (each epoch's `Trainer.EpochTimes`) of each
    /// layer's times, for `images` training images per epoch of a model of
    /// `config` with `samples` latent draws per image (the decoder runs each).
    /// Empty when the epochs carry no layer times.
    public static func profile(_ config: ModelConfig, images: Int, samples: Int, epochs: [Trainer.EpochTimes]) -> [LayerProfile] {
        let layers = config.runLayers()
        guard !epochs.isEmpty, epochs.allSatisfy({ $0.layers.count == layers.count }) else { return [] }
        let n = Double(epochs.count)
        return layers.enumerated().map { i, layer in
            let forward = epochs.reduce(0.0) { $0 + Double($1.layers[i].forward) } * 1e-9 / n
            let backward = epochs.reduce(0.0) { $0 + Double($1.layers[i].backward) } * 1e-9 / n
            let rows = Double(images) * Double(layer.inDecoder ? max(1, samples) : 1)
            let flop = 2 * Double(layer.multiplyAdds) * rows
            func rate(_ f: Double, _ s: Double) -> Double? { layer.multiplyAdds > 0 && s > 0 ? f / s / 1e9 : nil }
            return LayerProfile(
                label: layer.label, forwardSeconds: forward, backwardSeconds: backward, forwardGFLOPS: rate(flop, forward),
                backwardGFLOPS: rate(layer.first ? flop : 2 * flop, backward))
        }
    }
}

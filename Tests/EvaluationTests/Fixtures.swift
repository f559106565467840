import Datasets
import Evaluation
import Foundation
import NeuralNet
import NumericCore
import TestSupport
import Training

/// Real Fashion-MNIST images (loaded once).
let fashion: (train: ImageSet, test: ImageSet)? = {
    guard let dir = try? DatasetDirectory(path: nil) else { return nil }
    guard let train = try? dir.load(.train, limit: 4000), let test = try? dir.load(.test, limit: 300) else { return nil }
    return (train, test)
}()

/// A model trained briefly on real images (a trained model's posterior is far
/// from the prior, so the bounds below are tested where they are not trivial).
func trainedModel(
    latent: Int, hidden: [Int], epochs: Int, likelihood: ModelConfig.Likelihood = .bernoulli,
    seed: UInt64 = 1
) throws -> (Trainer, ImageSet) {
    guard let data = fashion else { throw FixtureError.noData }
    var c = RunConfig()
    try c.model.useMLP(hidden: hidden)
    c.model.latentDim = latent
    c.model.likelihood = likelihood
    c.training.batchSize = 100
    c.training.seed = seed
    c.training.threads = 2
    let trainer = try Trainer(config: c, train: data.train, test: data.test)
    for _ in 0..<epochs { _ = try trainer.runEpoch() }
    return (trainer, data.test)
}

enum FixtureError: Error { case noData }

/// Posteriors [μ | log σ²] of every image of `set`.
func posteriors(_ model: VAE, _ set: EvaluationSet) -> [Float] {
    var out = [Float](repeating: 0, count: set.count * 2 * model.config.latentDim)
    out.withUnsafeMutableBufferPointer { model.encodeAll(set, into: $0.baseAddress!) }
    return out
}

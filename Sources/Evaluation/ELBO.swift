import NeuralNet
import NumericCore

/// The negative ELBO of a data set, per image, with one z ~ q(z|x) per image
/// (the estimate the training loop reports as its test loss).
public struct ELBOResult: Sendable {
    public let count: Int
    /// Means over the images, in nats: −ELBO = reconstruction + KL.
    public let negativeELBO: Double
    public let reconstruction: Double
    public let kl: Double
    /// Standard error of the mean −ELBO over the images.
    public let standardError: Double
    /// Per image −ELBO, in data order.
    public let perImage: [Double]
    /// Posterior-collapse diagnostics of q(z|x) over the set: active units and KL per dimension.
    public let latent: LatentSummary
}

public enum ELBOEvaluator {
    /// Evaluates `model` on `set` in batches of `batchSize` images with ε drawn
    /// from `noise` (`RandomStream.fillNormal`, batch by batch, as
    /// `Trainer.evaluate` draws it: same seed, stream and batch size give the
    /// same figure as the training's test loss).
    ///
    /// - Parameter progress: called after each batch with the images done.
    public static func evaluate(
        _ model: VAE, on set: EvaluationSet, batchSize: Int, noise: RandomStream,
        progress: (Int) -> Void = { _ in }, shouldStop: () -> Bool = { false }
    ) -> ELBOResult? {
        evaluate(BatchWorkers(model), on: set, batchSize: batchSize, noise: noise, progress: progress, shouldStop: shouldStop)
    }

    /// The same, with each batch split across `workers` (the figure does not
    /// depend on how many: per-image values are summed in image order).
    public static func evaluate(
        _ workers: BatchWorkers, on set: EvaluationSet, batchSize: Int, noise: RandomStream,
        progress: (Int) -> Void = { _ in }, shouldStop: () -> Bool = { false }
    ) -> ELBOResult? {
        let model = workers.model
        var noise = noise
        let batch = min(batchSize, model.maxRows)
        let L = model.config.latentDim
        let indices = UnsafeMutablePointer<Int64>.allocate(capacity: batch)
        defer { indices.deallocate() }
        var perImage = [Double](repeating: 0, count: set.count)
        // The means are batch sums over the count, the training loop's own
        // arithmetic, so this is bit for bit its test loss; the standard error
        // comes from a running variance of the per-image values.
        var recSum = 0.0
        var klSum = 0.0
        var total = RunningMean()
        var latent = LatentStatistics(latentDim: L)
        var first = 0
        while first < set.count {
            if shouldStop() { return nil }
            let rows = min(batch, set.count - first)
            set.gather(first: first, rows: rows, into: model, indices: indices)
            noise.fillNormal(model.epsilon.pointer, count: rows * L)
            let sums = workers.forward(rows: rows)
            latent.add(model.posterior.pointer, rows: rows)
            recSum += sums.reconstruction
            klSum += sums.kl
            for r in 0..<rows {
                let loss = model.reconstruction[r] + model.kl[r]
                perImage[first + r] = loss
                total.add(loss)
            }
            first += rows
            progress(first)
        }
        let n = Double(set.count)
        return ELBOResult(
            count: set.count, negativeELBO: recSum / n + klSum / n, reconstruction: recSum / n, kl: klSum / n,
            standardError: total.standardError, perImage: perImage, latent: latent.summary)
    }
}

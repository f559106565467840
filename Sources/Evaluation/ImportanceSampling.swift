import Foundation
import NeuralNet
import NumericCore
import Synchronization

/// The importance-weighted estimate of log p(x) (the IWAE bound of Burda,
/// Grosse & Salakhutdinov 2015):
///
///     log p̂_K(x) = logsumexp_k w_k − log K,   w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x),
///
/// with z_k ~ q(z|x). Its expectation is a lower bound on log p(x) that is
/// non-decreasing in K, equals the ELBO at K = 1 and tends to log p(x) as K → ∞.
///
/// Work and memory: the K draws of an image are made in chunks of `chunk` rows
/// (decoder activations for one chunk, a running log-sum-exp across chunks), so
/// memory does not grow with K. Images are spread over `threads` workers, each
/// with its own copy of the model. For speed, run with `BLAS.setThreads(1)`
/// (`zoo eval` does): each worker then keeps a core busy with its own products.
/// The sampler leaves that process-wide setting alone, so other work in the
/// process (tests running in parallel) keeps the BLAS threads it relies on.
///
/// Determinism: the draws of image i in repeat r come from their own stream
/// (seed, `.importanceSampling`, r·2³² + i), so results do not depend on the
/// thread count, the chunk size or which other images are evaluated, and the
/// estimate for k draws uses the first k draws of the estimate for K ≥ k.
public final class ImportanceSampler: @unchecked Sendable {
    public struct Options: Sendable {
        /// Draws per image (K).
        public var samples: Int
        /// Also report the estimate from the first k draws for each of these (all ≤ samples).
        public var ks: [Int]
        public var seed: UInt64
        public var threads: Int
        /// Decoder rows per chunk.
        public var chunk: Int

        public init(samples: Int = 5000, ks: [Int] = [], seed: UInt64 = 1, threads: Int = 1, chunk: Int = 500) {
            self.samples = samples
            self.ks = ks
            self.seed = seed
            self.threads = threads
            self.chunk = chunk
        }

        /// The sorted, de-duplicated k values reported, always including `samples`.
        public var reportedKs: [Int] { Array(Set(ks + [samples])).sorted() }
    }

    /// Per reported k (ascending): the per-image estimates of log p(x), in nats.
    public struct Result: Sendable {
        public let ks: [Int]
        /// logLikelihood[j][i]: image i's estimate from its first ks[j] draws.
        public let logLikelihood: [[Double]]
    }

    public let options: Options
    private let workers: [VAE]

    /// - Parameter model: supplies the configuration and parameters (copied).
    /// - Throws: `ModelError` for options out of range, `TensorError` when a
    ///   worker's model copy cannot be allocated.
    public init(model: VAE, options: Options) throws {
        guard options.samples >= 1, options.threads >= 1, options.chunk >= 1,
            options.ks.allSatisfy({ $0 >= 1 && $0 <= options.samples })
        else {
            throw ModelError.invalid("importance sampling needs samples, threads and chunk ≥ 1 and every k in 1...samples")
        }
        self.options = options
        let rows = min(options.chunk, options.samples)
        workers = try (0..<options.threads).map { _ in try model.copy(maxRows: rows) }
    }

    /// Estimates log p(x) for every image of `set`, whose posteriors q(z|x)
    /// are given as rows [μ | log σ²] of `posteriors` ([set.count, 2·latent]).
    ///
    /// - Parameters:
    ///   - repeatIndex: selects independent draws (0, 1, ...).
    ///   - progress: called on one worker thread with the number of images done.
    ///   - shouldStop: polled before each image; when it returns true the
    ///     workers finish their current image and `nil` is returned.
    public func run(
        _ set: EvaluationSet, posteriors: UnsafePointer<Float>, repeatIndex: Int = 0,
        progress: @escaping @Sendable (Int) -> Void = { _ in },
        shouldStop: @escaping @Sendable () -> Bool = { false }
    ) -> Result? {
        let ks = options.reportedKs
        let n = set.count
        let results = UnsafeMutablePointer<Double>.allocate(capacity: ks.count * n)
        defer { results.deallocate() }
        let state = RunState()

        let shared = Shared(results: results, posteriors: posteriors)
        // Worker 0 is the calling thread, the others are plain threads (not
        // Dispatch's pool, which must stay free to deliver signal events).
        let body: @Sendable (Int) -> Void = { w in
            Kernels.flushDenormals()
            let worker = Worker(model: self.workers[w], options: self.options, ks: ks)
            while true {
                if state.stopped.load(ordering: .relaxed) { break }
                if shouldStop() {
                    state.stopped.store(true, ordering: .relaxed)
                    break
                }
                let i = state.next.add(1, ordering: .relaxed).oldValue
                if i >= n { break }
                worker.estimate(
                    image: i, of: set, posterior: shared.posteriors + i * 2 * worker.latent,
                    repeatIndex: repeatIndex, into: shared.results, stride: n)
                let finished = state.done.add(1, ordering: .relaxed).newValue
                if w == 0 { progress(finished) }
            }
        }
        let group = DispatchGroup()
        for w in 1..<workers.count {
            group.enter()
            let thread = Thread {
                body(w)
                group.leave()
            }
            thread.start()
        }
        body(0)
        group.wait()
        if state.stopped.load(ordering: .relaxed) { return nil }
        progress(n)
        let table = (0..<ks.count).map { j in Array(UnsafeBufferPointer(start: results + j * n, count: n)) }
        return Result(ks: ks, logLikelihood: table)
    }

    /// Work counters shared by the workers of one run.
    private final class RunState: Sendable {
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
    }

    /// Raw pointers handed to the workers; each worker writes only its own images' entries.
    private struct Shared: @unchecked Sendable {
        let results: UnsafeMutablePointer<Double>
        let posteriors: UnsafePointer<Float>
    }
}

/// One worker's buffers (allocated once per run) and the per-image loop.
private final class Worker {
    let model: VAE
    let samples: Int
    let ks: [Int]
    let chunk: Int
    let latent: Int
    let seed: UInt64
    let image: UnsafeMutablePointer<Float>
    let index: UnsafeMutablePointer<Int64>
    let mu: UnsafeMutablePointer<Float>
    let sigma: UnsafeMutablePointer<Float>
    let bits: UnsafeMutablePointer<UInt64>
    let epsilon: UnsafeMutablePointer<Float>
    let logRatio: UnsafeMutablePointer<Double>
    let logLikelihood: UnsafeMutablePointer<Double>

    init(model: VAE, options: ImportanceSampler.Options, ks: [Int]) {
        self.model = model
        self.samples = options.samples
        self.ks = ks
        self.chunk = model.maxRows
        self.latent = model.config.latentDim
        self.seed = options.seed
        image = .allocate(capacity: model.config.inputDim)
        index = .allocate(capacity: 1)
        mu = .allocate(capacity: latent)
        sigma = .allocate(capacity: latent)
        let pairs = chunk * ((latent + 1) / 2)
        bits = .allocate(capacity: pairs)
        epsilon = .allocate(capacity: 2 * pairs)
        logRatio = .allocate(capacity: chunk)
        logLikelihood = .allocate(capacity: chunk)
    }

    deinit {
        image.deallocate()
        index.deallocate()
        mu.deallocate()
        sigma.deallocate()
        bits.deallocate()
        epsilon.deallocate()
        logRatio.deallocate()
        logLikelihood.deallocate()
    }

    func estimate(
        image i: Int, of set: EvaluationSet, posterior: UnsafePointer<Float>, repeatIndex: Int,
        into results: UnsafeMutablePointer<Double>, stride n: Int
    ) {
        set.gather(first: i, rows: 1, into: image, indices: index)
        if model.config.isConditional {
            // p(x|z, y) with the image's own label for every draw.
            model.latentLabels.update(repeating: Int32(set.images.labels[i]))
        }
        var logSigma = 0.0
        for j in 0..<latent {
            mu[j] = posterior[j]
            let logvar = posterior[latent + j]
            sigma[j] = expf(0.5 * logvar)
            logSigma += 0.5 * Double(logvar)
        }
        var stream = RandomStream(seed: seed, purpose: .importanceSampling, index: UInt64(repeatIndex) << 32 | UInt64(i))
        var acc = LogSumExp()
        var nextK = 0
        var drawn = 0
        while drawn < samples {
            let rows = min(chunk, samples - drawn)
            // Draw j uses the stream's words j·⌈L/2⌉ ..< (j+1)·⌈L/2⌉ whatever the chunk size.
            let perRow = (latent + 1) / 2
            stream.fillNormalFast(epsilon, pairs: rows * perRow, bits: bits)
            if latent % 2 == 1 {
                for r in 0..<rows { for j in 0..<latent { epsilon[r * latent + j] = epsilon[r * 2 * perRow + j] } }
            }
            Kernels.reparameterize(
                epsilon: epsilon, mu: mu, sigma: sigma, rows: rows, latent: latent,
                z: model.z.pointer, logRatio: logRatio)
            model.logLikelihood(of: image, rows: rows, into: logLikelihood)
            for r in 0..<rows {
                // w = log p(x|z) + log p(z) − log q(z|x); log q includes −Σ log σ.
                acc.add(logLikelihood[r] + logRatio[r] + logSigma)
                while nextK < ks.count && ks[nextK] == acc.count {
                    results[nextK * n + i] = acc.logMeanExp
                    nextK += 1
                }
            }
            drawn += rows
        }
    }
}

import ArgumentParser
import Checkpoint
import Datasets
import Evaluation
import Foundation
import ImageIO
import NeuralNet
import NumericCore
import Support
import Synchronization
import Training

extension Split: ExpressibleByArgument {}

/// Which data a command reads the images of a checkpoint's model from.
public struct EvalDataOptions: ParsableArguments {
    @Option(
        name: .customLong("data"),
        help: ArgumentHelp(
            "The data: an MNIST-layout directory or a .npy file (default: what the checkpoint was trained on).", valueName: "path"))
    public var directory: String?

    @Option(help: "Split: test or train.")
    public var split: Split = .test

    @Option(parsing: .unconditional, help: ArgumentHelp("Use only the first N images of the split.", valueName: "n"))
    public var limit: Int?

    public init() {}

    public func validate() throws {
        try checkRange("--limit", limit, 1...RunConfig.maximumImages)
    }
}

/// `zoo eval`: held-out negative ELBO and importance-weighted NLL.
public struct Eval: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Evaluate a checkpoint: negative ELBO and the importance-weighted estimate of −log p(x).",
        discussion: """
            --elbo (always computed): the mean per-image negative ELBO with one z ~ q(z|x) per image, \
            its reconstruction and KL parts and standard error, in nats and bits per dimension. Without \
            --seed, its draws are the training's test-loss draws of the checkpoint's last epoch, so \
            on the same data it reproduces the test loss the training reported; with --seed they \
            depend on that seed alone, so checkpoints of the same model (an export and its \
            import, say) get the same draws.

            --nll: −log p̂(x) = −(logsumexp_k w_k − log K), w_k = log p(x|z_k) + log p(z_k) − log q(z_k|x), \
            z_k ~ q(z|x) (the IWAE bound, Burda et al. 2015), K = --iw-samples draws per image. \
            --ks 1,50,5000 reports the estimate from the first k of the same draws for each k. \
            Deterministic for a seed whatever the thread count. Ctrl-C stops cleanly.

            Binarized models (--binarize static or dynamic) are evaluated on the fixed binarization \
            of the split their training used.
            """)

    @Argument(help: ArgumentHelp("The checkpoint to evaluate.", valueName: "checkpoint.h5"))
    public var checkpoint: String

    @OptionGroup(title: "Data") public var data: EvalDataOptions

    @Flag(help: "Report the negative ELBO (always done; the flag is accepted for explicitness).")
    public var elbo = false

    @Flag(help: "Also estimate −log p(x) by importance sampling.")
    public var nll = false

    @Option(name: .customLong("iw-samples"), parsing: .unconditional, help: ArgumentHelp("Importance samples K per image.", valueName: "K"))
    public var samples: Int = 5000

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Also report the estimate from the first k draws, comma-separated (e.g. 1,5,50,5000).", valueName: "k,..."))
    public var ks: String?

    @Option(
        parsing: .unconditional, help: ArgumentHelp("Independent repetitions of the NLL estimate (mean ± std over them).", valueName: "R"))
    public var repeats: Int = 1

    @Option(
        help: ArgumentHelp(
            "Seed of the evaluation draws (default: the checkpoint's training seed and, for the ELBO, its epoch count).",
            valueName: "n"))
    public var seed: UInt64?

    @Option(parsing: .unconditional, help: ArgumentHelp("Worker threads (default: the number of cores).", valueName: "n"))
    public var threads: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("Decoder rows per chunk of importance samples.", valueName: "rows"))
    public var chunk: Int = 500

    @Flag(help: "Print the report as JSON (schemas/eval-report.schema.json) instead of a table.")
    public var json = false

    @Option(help: ArgumentHelp("Also write the JSON report to this file (atomically).", valueName: "report.json"))
    public var report: String?

    public init() {}

    /// Importance samples per image: 200 times the default, about 4 hours for
    /// the Fashion-MNIST test set on 2 cores.
    public static let maximumSamples = 1_000_000
    /// Decoder rows per chunk: each worker holds chunk × input-dimension floats.
    public static let maximumChunk = 10_000

    var kList: [Int]? {
        guard let ks else { return [] }
        let parts = ks.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return parts.isEmpty || parts.contains(nil) ? nil : parts.map { $0! }
    }

    public func validate() throws {
        try checkRange("--iw-samples", samples, 1...Self.maximumSamples)
        guard let list = kList else {
            throw ValidationError("--ks takes comma-separated positive integers (e.g. 1,5,50,5000), got '\(ks ?? "")'")
        }
        if let bad = list.first(where: { $0 < 1 || $0 > samples }) {
            throw ValidationError("--ks values must be between 1 and --iw-samples (\(samples)), got \(bad)")
        }
        try checkRange("--repeats", repeats, 1...1000)
        try validateThreads(threads)
        try checkRange("--chunk", chunk, 1...Self.maximumChunk)
        if (ks != nil || repeats != 1) && !nll { throw ValidationError("--ks and --repeats apply to --nll; add --nll") }
    }

    public func run() throws {
        let start = monotonicSeconds()
        let signals = StopSignals()  // first: a Ctrl-C during loading stops before any work
        if let report { try checkWritable(report) }
        let loaded = try LoadedCheckpoint(checkpoint, data: data)
        let set = loaded.set
        let model = try loaded.checkpoint.makeModel(maxRows: min(loaded.checkpoint.config.training.batchSize, set.count), path: checkpoint)
        let seed = self.seed ?? loaded.checkpoint.config.training.seed
        // No more workers (each with a model copy) than images.
        let threadCount = min(threads ?? ProcessInfo.processInfo.activeProcessorCount, max(1, set.count))
        BLAS.setThreads(threadCount)
        Kernels.flushDenormals()
        writeStderr(
            "zoo \(Zoo.version): \(checkpoint): \(describe(loaded.checkpoint.config)); \(set.count) \(data.split.rawValue) images from \(loaded.source.path)\n"
        )

        let epochs = loaded.checkpoint.training?.epoch ?? 0
        let (elboResult, streamIndex) = try evaluateELBO(loaded, model: model, seed: self.seed, signals: signals)
        let elboSeconds = monotonicSeconds() - start

        var nllReport: EvalReport.NLL?
        if nll {
            nllReport = try estimateNLL(
                model, set: set, seed: seed, threads: threadCount, samples: samples, ks: kList ?? [], repeats: repeats, chunk: chunk)
        }
        let D = model.config.inputDim
        let out = EvalReport(
            zooVersion: Zoo.version,
            checkpoint: .init(
                path: checkpoint, epochsTrained: epochs, model: model.config,
                trainingSeed: loaded.checkpoint.config.training.seed,
                recipe: loaded.checkpoint.recipe),
            data: .init(
                directory: loaded.source.path, split: data.split.rawValue, images: set.count, limit: data.limit,
                fingerprint: loaded.fingerprint, binarization: set.binarization.rawValue, dimension: D,
                standardized: loaded.checkpoint.standardization != nil),
            elbo: .init(
                negativeELBO: elboResult.negativeELBO, reconstruction: elboResult.reconstruction, kl: elboResult.kl,
                standardError: elboResult.standardError,
                bitsPerDim: bitsPerDimension(nats: elboResult.negativeELBO, dimension: D),
                samplesPerImage: 1, seed: seed, streamIndex: streamIndex, seconds: elboSeconds),
            latent: .init(elboResult.latent),
            nll: nllReport, seconds: monotonicSeconds() - start,
            blas: .init(core: BLAS.coreName, threads: threadCount, jit: JITProducts.isEnabled ? JITProducts.targetArchitecture : nil))
        let encoded = try out.jsonString()
        if let report { try writeAtomically(Array((encoded + "\n").utf8), to: report) }
        writeStdout(json ? encoded : out.table())
    }

}

/// The negative ELBO of a loaded checkpoint's split: with the training's
/// test-loss noise stream (so that on the same data it reproduces the test
/// loss the training reported), or for an explicit `seed` that seed's first
/// stream. Returns the result and the stream index used; exits 130 when
/// `signals` asks to stop.
func evaluateELBO(_ loaded: LoadedCheckpoint, model: VAE, seed explicit: UInt64?, signals: StopSignals) throws -> (ELBOResult, Int) {
    let seed = explicit ?? loaded.checkpoint.config.training.seed
    let streamIndex = explicit == nil ? loaded.checkpoint.training?.epoch ?? 0 : 0
    let noise = RunStreams(seed: seed).evaluation(epochs: streamIndex)
    guard
        let result = ELBOEvaluator.evaluate(
            model, on: loaded.set, batchSize: model.maxRows, noise: noise, shouldStop: { signals.requested })
    else {
        writeStderr("interrupted during the ELBO; nothing written\n")
        throw ExitCode(130)
    }
    return (result, streamIndex)
}

/// −log p(x) of every image of `set` by importance sampling with K = `samples`
/// (and the first k of those draws for each of `ks`), `repeats` times: encodes
/// every image, then runs the sampler once per repeat, its workers running
/// single-threaded products on `threads` threads. Stops on the flag
/// `StopSignals` sets (read directly: the workers' closure must be Sendable)
/// and exits 130.
func estimateNLL(
    _ model: VAE, set: EvaluationSet, seed: UInt64, threads: Int, samples: Int, ks: [Int], repeats: Int, chunk: Int
) throws -> EvalReport.NLL {
    let start = monotonicSeconds()
    let L = model.config.latentDim
    let D = model.config.inputDim
    let posteriors = UnsafeMutablePointer<Float>.allocate(capacity: set.count * 2 * L)
    defer { posteriors.deallocate() }
    model.encodeAll(set, into: posteriors)
    BLAS.setThreads(1)  // each worker runs its own single-threaded products
    let sampler = try ImportanceSampler(
        model: model,
        options: .init(samples: samples, ks: ks, seed: seed, threads: threads, chunk: chunk))
    var summary = RepeatedNLL(ks: sampler.options.reportedKs)
    for r in 0..<repeats {
        let label = repeats > 1 ? "nll K=\(samples) (repeat \(r + 1)/\(repeats))" : "nll K=\(samples)"
        let progress = TaskProgress(label, total: set.count, unit: "images")
        let result = sampler.run(
            set, posteriors: posteriors, repeatIndex: r,
            progress: { progress.update($0) }, shouldStop: { stopRequested.load(ordering: .relaxed) })
        progress.finish()
        guard let result else {
            writeStderr("interrupted during the NLL estimate (repeat \(r + 1) of \(repeats)); nothing written\n")
            throw ExitCode(130)
        }
        summary.add(logLikelihood: result.logLikelihood)
    }
    let estimates = summary.estimates.map { e in
        EvalReport.NLL.Estimate(
            k: e.k, nll: e.nll, standardError: e.standardError,
            bitsPerDim: bitsPerDimension(nats: e.nll, dimension: D), repeatStd: e.repeatStd)
    }
    return .init(
        iwSamples: samples, seed: seed, repeats: repeats, chunk: chunk, estimates: estimates,
        seconds: monotonicSeconds() - start)
}

/// A checkpoint and one split of data prepared for its model.
struct LoadedCheckpoint {
    let checkpoint: Checkpoint
    let source: DataSource
    let set: EvaluationSet
    /// SHA-256 of the split's images and labels as read (before any binarization).
    let fingerprint: String

    init(_ path: String, data: EvalDataOptions) throws {
        checkpoint = try Checkpoint.read(from: path)
        let loaded = try checkpoint.split(data.split, of: data.directory, limit: data.limit)
        (source, set) = (loaded.source, loaded.set)
        fingerprint = set.images.fingerprint
    }
}

extension Checkpoint {
    /// One split of the data this checkpoint was trained on (or of `directory`),
    /// its first `limit` examples, prepared for its model as training saw it
    /// (its hold-out, binarization and standardization).
    func split(_ split: Split, of directory: String?, limit: Int?) throws -> (source: DataSource, set: EvaluationSet) {
        let source = try DataSource(path: directory.map(absolutePath) ?? config.data.path)
        let images = try source.load(split, limit: limit, testSplit: config.data.testSplit, labelColumn: config.data.labelColumn)
        let set = try EvaluationSet(
            images, model: config.model, binarization: config.data.binarization, trainingSeed: config.training.seed,
            standardization: standardization)
        return (source, set)
    }
}

/// Why `path` cannot be created or replaced (its directory is missing or not
/// writable, or it is a directory), or nil when it can: checked before any work.
func unwritableReason(_ path: String) -> String? {
    let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
        return "directory \(dir) does not exist"
    }
    guard access(dir, W_OK) == 0 else { return "directory \(dir) is not writable" }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue { return "it is a directory" }
    return nil
}

/// Fails early when an output file (or "-", standard output) cannot be written.
func checkWritable(_ path: String) throws {
    if path != "-", let reason = unwritableReason(path) { throw FileWriteError(path: path, reason: reason) }
}

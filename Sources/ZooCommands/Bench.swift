import ArgumentParser
import Checkpoint
import Datasets
import Foundation
import NeuralNet
import NumericCore
import Recipes
import Support
import Training

/// `zoo bench`: the training-speed benchmark. Trains the default model and
/// reports the median seconds per epoch, images per second, peak resident
/// memory, and the time from process start to the end of the first batch;
/// with `--layers`, where the steps' time went layer by layer (`LayerProfile`).
public struct Bench: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Measure training speed: median seconds per epoch, images/s, peak memory, startup.",
        discussion: "Build with `swift build -c release` first; a debug build measures the debug build.")

    @OptionGroup(title: "Recipe") public var recipe: RecipeOption
    @OptionGroup(title: "Data") public var data: DataOptions
    @OptionGroup(title: "Model") public var model: ModelOptions

    @Option(parsing: .unconditional, help: "Epochs to time (the median is reported).") public var epochs: Int = 5
    @Option(parsing: .unconditional, help: "Images per batch.") public var batchSize: Int = 128
    @Option(parsing: .unconditional, help: ArgumentHelp("Worker threads, as for zoo train (default: the number of cores).", valueName: "n"))
    public var threads: Int?
    @Flag(
        help: ArgumentHelp(
            "Also time each layer's forward and backward passes and print where the training steps' time went, layer by layer.",
            discussion: "Two clock reads per layer and call; thread seconds, added over the workers."))
    public var layers = false
    @Flag(help: "Print the result as one JSON object.") public var json = false

    public init() {}

    public func validate() throws {
        try checkRange("--epochs", epochs, 1...1000)  // timed epochs; the rest is the configuration's to check
    }

    public func run() throws {
        var (_, config) = try recipe.load()
        data.apply(to: &config.data)
        try model.apply(to: &config.model)
        config.training.epochs = epochs
        config.training.batchSize = batchSize
        config.training.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        try checkConfig(config)
        let (trainer, _, fingerprint) = try makeTrainer(&config)
        let train = trainer.train

        let workers = trainer.workers.count
        // The sgemm rate before each epoch and after the last: the VMs this
        // project meets drift by 5-30 % within minutes, and one reading before
        // the epochs once put the floor 40 % off the rate the epochs then ran at.
        let oneProduct = try sgemmRate(.oneProduct(threads: config.training.threads))
        var readings: [Double] = []
        var firstBatch: Double?
        var times: [Double] = []
        var splits: [Trainer.EpochTimes] = []
        trainer.workers.timesLayers = layers
        for e in 0..<epochs {
            readings.append(try sgemmRate(.perWorker(count: workers)))
            let record = try trainer.runEpoch(progress: { _ in
                if firstBatch == nil { firstBatch = secondsSinceProcessStart() }
            })
            if let record {
                times.append(record.seconds)
                splits.append(trainer.epochTimes)
                if !json { writeStderr("epoch \(e + 1): \(fmt(record.seconds, 3)) s\n") }
            }
        }
        readings.append(try sgemmRate(.perWorker(count: workers)))
        let gflops = SgemmRates(oneProduct: oneProduct, readings: readings)
        let epochFlops = config.model.epochFlops(images: train.count)
        let floor = epochFlops / (gflops.best * 1e9)
        let median = Self.median(times)
        // Where an epoch's time went: the median of each part over the epochs.
        let preparation = Self.median(splits.map(\.batchPreparation))
        let passes = Self.median(splits.map(\.passes))
        let adam = splits.allSatisfy { $0.optimizer != nil } ? Self.median(splits.compactMap(\.optimizer)) : nil
        let rest = Self.median(zip(times, splits).map { $0 - $1.batchPreparation - $1.passes - ($1.optimizer ?? 0) })
        let profile =
            layers
            ? LayerProfile.profile(config.model, images: train.count, samples: config.training.importanceSamples, epochs: splits) : []
        // Training's peak, before the checkpoint round trips add their copies.
        let peakMiB = peakResidentMiB()
        let (saveSeconds, loadSeconds, checkpointBytes) = try checkpointTiming(trainer, fingerprint: fingerprint())
        let imagesPerSecond = Double(train.count) / median
        if json {
            var obj: [String: Any] = [
                "median_seconds_per_epoch": median, "epoch_seconds": times, "images_per_second": imagesPerSecond,
                "peak_resident_mib": peakMiB, "startup_to_first_batch_seconds": firstBatch ?? -1,
                "images": train.count, "batch_size": batchSize, "threads": config.training.threads,
                "checkpoint_save_seconds": saveSeconds, "checkpoint_load_seconds": loadSeconds,
                "checkpoint_bytes": checkpointBytes, "sgemm_gflops": gflops.best,
                "sgemm_gflops_one_product": gflops.oneProduct, "sgemm_gflops_per_worker_products": gflops.perWorker,
                "workers": workers, "cpu": Machine.cpuModel, "instruction_set": BLAS.cpuInstructionSet,
                "blas_core": BLAS.coreName, "zoo_kernels_instruction_set": BLAS.kernelInstructionSet,
                "jit_products": JITProducts.summary,
                "gemm_floor_seconds_per_epoch": floor, "sgemm_gflops_per_worker_readings": gflops.readings,
                "batch_preparation_seconds_per_epoch": preparation, "forward_backward_seconds_per_epoch": passes,
                "optimizer_seconds_per_epoch": adam.map { $0 as Any } ?? NSNull(),
            ]
            if layers {
                obj["layers"] = profile.map { l -> [String: Any] in
                    [
                        "label": l.label, "forward_seconds_per_epoch": l.forwardSeconds, "backward_seconds_per_epoch": l.backwardSeconds,
                        "forward_gflops_per_thread": l.forwardGFLOPS.map { $0 as Any } ?? NSNull(),
                        "backward_gflops_per_thread": l.backwardGFLOPS.map { $0 as Any } ?? NSNull(),
                    ]
                }
            }
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            writeStdout(String(decoding: data, as: UTF8.self))
        } else {
            writeStdout(
                """
                model            \(describe(config)), batch \(batchSize), \(config.training.threads) thread(s), \(workers) worker(s)
                images           \(train.count) per epoch
                epoch seconds    \(times.map { fmt($0, 3) }.joined(separator: " "))
                median           \(fmt(median, 3)) s per epoch
                time split       batch preparation \(fmt(preparation, 3)) s, forward and backward \(fmt(passes, 3)) s, \
                \(adam.map { "Adam \(fmt($0, 3)) s" } ?? "Adam inside the backward passes"), the rest \(fmt(rest, 3)) s \
                (medians over the epochs)
                throughput       \(fmt(imagesPerSecond, 0)) images/s
                peak memory      \(fmt(peakMiB, 1)) MiB resident while training
                first batch      \(fmt(firstBatch ?? -1, 3)) s after process start (data decompressed and converted)
                checkpoint       save \(fmt(saveSeconds * 1000, 1)) ms, load \(fmt(loadSeconds * 1000, 1)) ms \
                (medians of 5; \(fmt(Double(checkpointBytes) / 1_048_576, 1)) MiB with optimizer state)
                cpu              \(Machine.cpuModel), \(BLAS.cpuInstructionSet), OpenBLAS \(BLAS.coreName) kernels, \
                zoo's own kernels \(BLAS.kernelInstructionSet), \(JITProducts.summary)
                machine          OpenBLAS sgemm on 128×784·784×400: \(fmt(gflops.oneProduct, 0)) GFLOP/s as one product on \
                \(config.training.threads) thread(s) (before the epochs), \(fmt(gflops.perWorker, 0)) GFLOP/s as \(workers) \
                single-threaded products at once (median of \(readings.count) readings before each epoch and after the last: \
                \(fmt(readings.min() ?? 0, 0))–\(fmt(readings.max() ?? 0, 0))); \
                \(fmt(epochFlops / 1e9, 0)) GFLOP per epoch, so \(fmt(floor, 3)) s is the GEMM \
                floor and the median epoch \(fmt(median / floor, 2))× it
                """)
            if layers { writeStdout(Self.layerTable(profile, workers: workers)) }
        }
    }
}

extension Bench {
    /// `--layers`' table: each layer's thread seconds per epoch forward and
    /// backward, with the product rate per thread where the layer has one,
    /// and its share of all the layers' time.
    static func layerTable(_ profile: [LayerProfile], workers: Int) -> String {
        let total = profile.reduce(0) { $0 + $1.forwardSeconds + $1.backwardSeconds }
        let width = profile.map(\.label.count).max() ?? 0
        func cell(_ seconds: Double, _ rate: Double?) -> String {
            let text = fmt(seconds, 3) + (rate.map { " (\(fmt($0, 0)) GFLOP/s)" } ?? "")
            return text.padding(toLength: 22, withPad: " ", startingAt: 0)
        }
        var lines = [
            "layers           thread seconds per epoch\(workers > 1 ? ", added over \(workers) workers" : ""), forward / backward, "
                + "product rate per thread, share:"
        ]
        for l in profile {
            let share = total > 0 ? 100 * (l.forwardSeconds + l.backwardSeconds) / total : 0
            lines.append(
                "  \(l.label.padding(toLength: width, withPad: " ", startingAt: 0))  \(cell(l.forwardSeconds, l.forwardGFLOPS)) "
                    + "\(cell(l.backwardSeconds, l.backwardGFLOPS)) \(fmt(share, 1)) %")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Median seconds to save (atomically, fsync included) and to load the
    /// trainer's checkpoint, and its size, over 5 rounds in a temporary directory.
    func checkpointTiming(_ trainer: Trainer, fingerprint: String) throws -> (Double, Double, Int) {
        let dir = NSTemporaryDirectory() + "zoo-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/bench.h5"
        var saves: [Double] = []
        var loads: [Double] = []
        for _ in 0..<5 {
            let t0 = monotonicSeconds()
            try Checkpoint(trainer: trainer, dataFingerprint: fingerprint, zooVersion: Zoo.version).write(to: path)
            let t1 = monotonicSeconds()
            _ = try Checkpoint.read(from: path)
            loads.append(monotonicSeconds() - t1)
            saves.append(t1 - t0)
        }
        let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return (Self.median(saves), Self.median(loads), bytes)
    }
}

/// How `sgemmRate` runs the calibration products.
enum SgemmMode {
    /// One product at a time on this many OpenBLAS threads (which then spin
    /// for a while after it: `zoo bench` takes this one before the epochs only).
    case oneProduct(threads: Int)
    /// This many single-threaded products at once on the threads `parallel`
    /// runs (how `BatchWorkers` runs them), their rates summed.
    case perWorker(count: Int)
}

/// OpenBLAS throughput right now on the tutorial's largest product shape
/// (128×784 · 784×400), GFLOP/s, best of 5 rounds of 50 products (per
/// thread). Puts the epoch time in context: the GEMM floor is the epoch's
/// FLOP at the better of the two modes' rates. Leaves OpenBLAS with the
/// thread count it had.
func sgemmRate(_ mode: SgemmMode) throws -> Double {
    let before = BLAS.threads
    defer { BLAS.setThreads(before) }
    let (m, n, k) = (128, 400, 784)
    let count: Int
    switch mode {
    case .oneProduct: count = 1
    case .perWorker(let workers): count = max(1, workers)
    }
    let buffers = try (0..<count).map { _ in (try Tensor(shape: [m, k]), try Tensor(shape: [n, k]), try Tensor(shape: [m, n])) }
    for (a, b, _) in buffers {
        a.fill(0.5)
        b.fill(0.25)
    }
    let flop = 2.0 * Double(m * n * k)
    func rounds(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let t0 = monotonicSeconds()
            body()
            best = min(best, (monotonicSeconds() - t0) / 50)
        }
        return best
    }
    let products = SendableProducts(buffers: buffers.map { ($0.0.pointer, $0.1.pointer, $0.2.pointer) }, m: m, n: n, k: k)
    // The tensors must outlive the products that write through their pointers.
    return withExtendedLifetime(buffers) {
        switch mode {
        case .oneProduct(let threads):
            BLAS.setThreads(threads)
            return flop / rounds { for _ in 0..<50 { products.run(0) } } / 1e9
        case .perWorker:
            BLAS.setThreads(1)
            return Double(count) * flop / rounds { parallel(count) { w in for _ in 0..<50 { products.run(w) } } } / 1e9
        }
    }
}

/// The calibrations of one `zoo bench` run summed up: the one-product rate
/// (taken once, before the epochs), the median of the per-worker rates
/// (before each epoch and after the last), the better of the two (the
/// floor's rate), and the range of the per-worker readings.
struct SgemmRates {
    let oneProduct: Double
    let readings: [Double]
    var perWorker: Double { Bench.median(readings) }
    var best: Double { max(oneProduct, perWorker) }
}

/// Each worker's own product buffers for the calibration.
private struct SendableProducts: @unchecked Sendable {
    let buffers: [(UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)]
    let m: Int, n: Int, k: Int
    func run(_ w: Int) {
        let (a, b, c) = buffers[w]
        // x·Wᵀ (B transposed) always runs on OpenBLAS (see `JITProducts`): the floor is OpenBLAS's rate.
        BLAS.gemm(transB: true, m: m, n: n, k: k, a: a, lda: k, b: b, ldb: k, c: c, ldc: n)
    }
}

/// Peak resident set size of this process, MiB (Linux reports ru_maxrss in KiB).
func peakResidentMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

/// Seconds since this process started, from /proc/self/stat (clock-tick resolution).
func secondsSinceProcessStart() -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    // Fields after the command name: state is field 3, starttime is field 22.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 19, let ticks = Double(fields[19]) else { return nil }
    var now = timespec()
    clock_gettime(CLOCK_BOOTTIME, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) * 1e-9 - ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
}

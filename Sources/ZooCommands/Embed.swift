import ArgumentParser
import Checkpoint
import Datasets
import Evaluation
import Foundation
import ImageIO
import NeuralNet
import NumericCore
import Support
import Training

/// `zoo embed`: where the encoder puts each image.
public struct Embed: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Write the latent embedding of a split: CSV, the TensorBoard projector's TSV pair, a scatter plot.",
        discussion: """
            --csv: one row per image, `index,split,label,mu_0,…,mu_{d-1}` (RFC 4180: header row, CRLF line \
            ends), written as it goes; `-` writes to standard output. --logvar adds logvar_0…; --samples S \
            adds z_s_j = mu_j + sigma_j·eps columns for s < S (seeded by --seed).
            --tsv DIR: vectors.tsv (μ, no header) and metadata.tsv (index, split, label; header) for \
            projector.tensorflow.org. --plot PNG: μ coloured by label, the two latent dimensions when d = 2, \
            the first two principal components otherwise. Outputs appear complete or not at all.
            """)

    public enum Which: String, ExpressibleByArgument, CaseIterable {
        case test, train, all
    }

    @Argument(help: ArgumentHelp("The checkpoint whose encoder to use.", valueName: "checkpoint.h5"))
    public var checkpoint: String

    @Option(
        name: .customLong("data"),
        help: ArgumentHelp(
            "The data: an MNIST-layout directory or a .npy file (default: what the checkpoint was trained on).", valueName: "path"))
    public var directory: String?

    @Option(help: "Split: test, train, or all (train then test).")
    public var split: Which = .test

    @Option(parsing: .unconditional, help: ArgumentHelp("Use only the first N images of each split.", valueName: "n"))
    public var limit: Int?

    @Option(help: ArgumentHelp("Write the embedding as CSV here (- for standard output).", valueName: "path.csv"))
    public var csv: String?

    @Option(help: ArgumentHelp("Write vectors.tsv and metadata.tsv (TensorBoard projector) into this directory.", valueName: "dir"))
    public var tsv: String?

    @Option(help: ArgumentHelp("Write a scatter plot of the embedding (PNG).", valueName: "path.png"))
    public var plot: String?

    @OptionGroup(title: "Pictures (--plot)") public var pictures: PictureOptions

    @Flag(help: "Add the posterior log-variances (logvar_*) to the CSV.")
    public var logvar = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Add S sampled latents z ~ q(z|x) per image to the CSV (z_s_*).", valueName: "S"))
    public var samples: Int = 0

    @Option(help: ArgumentHelp("Seed of the sampled latents (default: the checkpoint's training seed).", valueName: "n"))
    public var seed: UInt64?

    @Option(parsing: .unconditional, help: ArgumentHelp("BLAS threads (default: the number of cores).", valueName: "n"))
    public var threads: Int?

    public init() {}

    public func validate() throws {
        if csv == nil && tsv == nil && plot == nil { throw ValidationError("nothing to write: give --csv, --tsv or --plot") }
        try checkRange("--limit", limit, 1...RunConfig.maximumImages)
        try checkRange("--samples", samples, 0...Self.maximumSamples)
        if tsv == "-" {
            throw ValidationError("--tsv takes a directory (it writes vectors.tsv and metadata.tsv); '-' (standard output) is for --csv")
        }
        if plot == "-" { throw ValidationError("--plot takes a file path; '-' (standard output) is for --csv") }
        if (logvar || samples > 0) && csv == nil { throw ValidationError("--logvar and --samples add CSV columns; add --csv") }
        try validateThreads(threads)
    }

    /// The most sampled latents per image (each adds latent-dimension columns to every row).
    public static let maximumSamples = 1000

    public func run() throws {
        let start = monotonicSeconds()
        let signals = StopSignals()
        for path in [csv, plot].compactMap({ $0 }) { try checkWritable(path) }
        if plot != nil, let scale = pictures.scale {
            let frame = ScatterPlot(title: "", xLabel: "", yLabel: "")
            if frame.width * scale * frame.height * scale > ImageGrid.maximumPixels {
                throw CommandError.pictureTooLarge(width: frame.width * scale, height: frame.height * scale, scale: scale)
            }
        }
        if let tsv { try prepareOutputDirectory(tsv) }
        let saved = try Checkpoint.read(from: checkpoint)
        let data = try DataSource(path: directory.map(absolutePath) ?? saved.config.data.path)
        let splits: [Split] = split == .all ? [.train, .test] : [split == .train ? .train : .test]
        // Load (and check) every split before writing anything; the source is read once.
        let images = try data.load(splits, limit: limit, testSplit: saved.config.data.testSplit, labelColumn: saved.config.data.labelColumn)
        let sets = try images.map {
            try EvaluationSet(
                $0, model: saved.config.model, binarization: saved.config.data.binarization,
                trainingSeed: saved.config.training.seed, standardization: saved.standardization)
        }
        let total = sets.reduce(0) { $0 + $1.count }
        BLAS.setThreads(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        Kernels.flushDenormals()
        let batch = 1000
        let model = try saved.makeModel(maxRows: batch, path: checkpoint)
        let L = model.config.latentDim

        let csvFile = try csv.map { try OutputFile($0) }
        let vectors = try tsv.map { try OutputFile($0 + "/vectors.tsv") }
        let metadata = try tsv.map { try OutputFile($0 + "/metadata.tsv") }
        var table = EmbeddingTable(latentDim: L, logvar: logvar, samples: samples, seed: seed ?? saved.config.training.seed)
        try csvFile?.write(table.csvHeader)
        try metadata?.write(EmbeddingTable.metadataHeader)
        var plotPoints: [Float] = []
        var plotLabels: [UInt8] = []
        var pca = PrincipalComponents(dimension: L)
        let indices = UnsafeMutablePointer<Int64>.allocate(capacity: batch)
        defer { indices.deallocate() }

        for set in sets {
            let split = set.images.split
            var first = 0
            while first < set.count {
                if signals.requested {
                    writeStderr("interrupted; nothing written\n")
                    throw ExitCode(130)
                }
                let rows = min(batch, set.count - first)
                set.gather(first: first, rows: rows, into: model, indices: indices)
                model.encode(rows: rows)
                let post = model.posterior.pointer
                var text = ""
                var vec = ""
                var meta = ""
                for r in 0..<rows {
                    let i = first + r
                    let row = post + r * 2 * L
                    let label = set.images.labels[i]
                    if csvFile != nil { table.appendCSVRow(to: &text, index: i, split: split, label: label, posterior: row) }
                    if vectors != nil {
                        table.appendTSVRows(vectors: &vec, metadata: &meta, index: i, split: split, label: label, posterior: row)
                    }
                    if plot != nil {
                        pca.add(row)
                        for j in 0..<L { plotPoints.append(row[j]) }
                        plotLabels.append(label)
                    }
                }
                try csvFile?.write(text)
                try vectors?.write(vec)
                try metadata?.write(meta)
                first += rows
            }
        }
        let plotFile = try plot.map { try OutputFile($0) }
        if let plotFile {
            try plotFile.write(
                bytes: try PNG.encode(
                    scatter(
                        points: plotPoints, labels: plotLabels, latent: L, pca: pca, names: saved.config.data.classNames ?? data.labelNames
                    ).scaled(by: pictures.scale ?? 1)))
        }
        // One commit: the CSV, the TSV pair and the plot all appear, or none changes.
        try OutputFile.commit([csvFile, vectors, metadata, plotFile].compactMap { $0 })
        let outputs = [csv.map { "CSV \($0)" }, tsv.map { "TSV \($0)/" }, plot.map { "plot \($0)" }].compactMap { $0 }
        writeStderr(
            "embedded \(total) images (\(splits.map(\.rawValue).joined(separator: " + "))) in "
                + "\(fmt(monotonicSeconds() - start, 2)) s: \(outputs.joined(separator: ", "))\n")
    }

    func scatter(points: [Float], labels: [UInt8], latent L: Int, pca: PrincipalComponents, names: [String]?) -> Image {
        let c = PlotCoordinates(points: points, latentDim: L, pca: pca)
        let base = URL(fileURLWithPath: checkpoint).lastPathComponent
        let plot = ScatterPlot(
            title: "\(base): MU OF \(labels.count) IMAGES (\(split.rawValue.uppercased())), D=\(L)",
            xLabel: c.xLabel, yLabel: c.yLabel, labelNames: names ?? [])
        return plot.render(x: c.x, y: c.y, labels: labels)
    }
}

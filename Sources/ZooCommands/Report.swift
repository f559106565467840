import ArgumentParser
import Checkpoint
import Datasets
import Evaluation
import Foundation
import ImageIO
import NeuralNet
import NumericCore
import Reports
import Support
import Training

/// `zoo report`: a model card as one self-contained HTML page.
public struct Report: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Write a model report: one self-contained HTML page (model, curves, samples, latent space).",
        discussion: """
            The page holds what the model is (recipe, layers, parameters, data and its fingerprint, seed, \
            zoo version), its training curves per epoch (and per logged step with --log), the eval report \
            given with --eval (its figures and the NLL against K), prior samples, reconstructions of the \
            images, a traversal of the most active latent dimensions, the latent scatter plot of --limit \
            images of --split (test) and the KL of each latent dimension. Pictures are inline (SVG and PNG): no \
            network and no script are needed to read it, on a phone or a wide screen.
            """)

    @Argument(help: ArgumentHelp("The checkpoint to report on.", valueName: "checkpoint.h5"))
    public var checkpoint: String

    @Option(help: ArgumentHelp("Write the page here (atomically).", valueName: "report.html"))
    public var out: String

    @Option(help: ArgumentHelp("An eval report to include (zoo eval --report FILE).", valueName: "report.json"))
    public var eval: String?

    @Option(help: ArgumentHelp("The --log directory of the run, for the per-step loss curve (its metrics.csv).", valueName: "dir"))
    public var log: String?

    @Option(
        name: .customLong("data"),
        help: ArgumentHelp("The data (default: what the checkpoint was trained on).", valueName: "path"))
    public var directory: String?

    @Option(help: "The split whose images the pictures use: test or train (data without a test split: train).")
    public var split: Split = .test

    @Option(parsing: .unconditional, help: ArgumentHelp("Images in the latent scatter plot and KL chart.", valueName: "n"))
    public var limit: Int = 2000

    @OptionGroup(title: "Pictures") public var pictures: PictureOptions

    public init() {}

    /// Largest eval report or metrics file read (bytes).
    static let maximumInputBytes = 64 << 20

    public func validate() throws {
        try checkRange("--limit", limit, 1...100_000)
        guard out.hasSuffix(".html") || out.hasSuffix(".htm") else {
            throw ValidationError("--out writes an HTML page: give a name ending in .html")
        }
    }

    public func run() throws {
        let start = monotonicSeconds()
        try checkWritable(out)
        let c = try Checkpoint.read(from: checkpoint)
        let evalReport = try eval.map { try Self.readEvalReport($0) }
        let steps = try log.map { try Self.readStepLosses(directory: $0) }
        Kernels.flushDenormals()
        let name = URL(fileURLWithPath: checkpoint).lastPathComponent
        var sections: [ModelCard.Section] = [Self.layerSection(c.config.model)]
        sections += Self.curveSections(c.training?.history ?? [], steps: steps)
        if let evalReport { sections += Self.evalSections(evalReport) }
        var note: String?
        do {
            sections += try pictureSections(c)
        } catch  where error is DatasetError || error is FileReadError {
            note = "the \(split.rawValue) images could not be read (\(error)); the sections that need them are left out"
            writeStderr("note: \(note!)\n")
        }
        if let note { sections.append(.init("Left out", [.text(note)], wide: true)) }
        let card = ModelCard(
            title: "zoo model report: \(name)", facts: Self.facts(c, path: checkpoint), sections: sections,
            footer: "Written by zoo \(Zoo.version) `zoo report` on \(ISO8601DateFormatter().string(from: Date())).")
        try writeAtomically(Array(card.html().utf8), to: out)
        writeStderr("wrote \(out): \(sections.count + 1) sections, in \(fmt(monotonicSeconds() - start, 2)) s\n")
    }

    static func facts(_ c: Checkpoint, path: String) -> [(String, String)] {
        let t = c.config.training
        let d = c.config.data
        var out: [(String, String)] = [
            ("checkpoint", path), ("recipe", c.recipe ?? "none recorded"), ("model", describe(c.config)),
            ("parameters", grouped(c.config.model.parameterCount)),
            ("data", (d.path ?? "Fashion-MNIST (default)") + " (\(d.kind.rawValue))" + (d.limit.map { ", first \($0) images" } ?? "")),
            ("data fingerprint", c.dataFingerprint ?? "none recorded"),
            ("binarization", d.binarization.rawValue + (d.standardize ? ", standardized" : "")),
            (
                "training",
                "\(c.training?.epoch ?? 0) of \(t.epochs) epochs, batch \(t.batchSize), Adam lr \(t.optimizer.lr), seed \(t.seed), \(t.threads) thread(s)"
            ),
            ("written by", "zoo \(c.zooVersion) at \(c.createdUTC)"),
        ]
        if let s = c.training, let best = s.bestValidationLoss {
            out.append(("best epoch", "\(s.bestEpoch) (validation −ELBO \(fmt(best, 2)))"))
        }
        return out
    }

    static func grouped(_ n: Int) -> String {
        let s = String(n)
        return s.enumerated().map { i, ch in (i > 0 && (s.count - i) % 3 == 0 ? "," : "") + String(ch) }.joined()
    }

    /// Every layer with its shapes and parameter count.
    static func layerSection(_ m: ModelConfig) -> ModelCard.Section {
        guard case .success(let plan) = m.plan() else { return .init("Layers", [.text("the configuration has no plan")], wide: true) }
        var rows: [[String]] = []
        func add(_ part: String, _ layers: [ModelConfig.PlannedLayer]) {
            for l in layers {
                let count = l.parameterShapes.reduce(0) { $0 + $1.1.reduce(1, *) }
                rows.append([
                    part, l.name ?? "–", l.spec.summary, l.input.map(String.init).joined(separator: "×"),
                    l.output.map(String.init).joined(separator: "×"), count > 0 ? grouped(count) : "–",
                ])
            }
        }
        add("encoder", plan.encoder)
        add("posterior μ", [plan.mu])
        add("posterior log σ²", [plan.logvar])
        add("decoder", plan.decoder)
        rows.append(["", "", "total", "", "", grouped(m.parameterCount)])
        return .init("Layers", [.table(headers: ["part", "name", "layer", "input", "output", "parameters"], rows: rows)], wide: true)
    }

    static func curveSections(_ history: [EpochRecord], steps: [(Int, Double)]?) -> [ModelCard.Section] {
        guard !history.isEmpty else { return [.init("Training curves", [.text("no finished epoch in this checkpoint")])] }
        let e = history.map { Double($0.epoch) }
        func series(_ name: String, _ values: [Double?]) -> SVGChart.Series {
            SVGChart.Series(name, zip(e, values).compactMap { x, y in y.map { (x, $0) } })
        }
        var losses = [series("train", history.map(\.trainLoss)), series("test", history.map(\.testLoss))]
        if history.contains(where: { $0.validationLoss != nil }) { losses.append(series("validation", history.map(\.validationLoss))) }
        var out: [ModelCard.Section] = [
            .init("Loss per epoch", [.svg(SVGChart.lines(losses, title: "negative ELBO per image", xLabel: "epoch", yLabel: "nats"))]),
            .init(
                "KL and active units",
                [
                    .svg(
                        SVGChart.lines(
                            [series("train KL", history.map(\.trainKL))], title: "KL(q(z|x) ‖ p(z)) per image", xLabel: "epoch",
                            yLabel: "nats")),
                    .svg(
                        SVGChart.lines(
                            [series("active units", history.map { $0.activeUnits.map(Double.init) })], title: "active latent units",
                            xLabel: "epoch", yLabel: "units")),
                ]),
        ]
        if let steps, !steps.isEmpty {
            out.append(
                .init(
                    "Loss per logged step",
                    [
                        .svg(
                            SVGChart.lines(
                                [SVGChart.Series("batch loss", steps.map { (Double($0.0), $0.1) })], title: "batch negative ELBO per image",
                                xLabel: "global step", yLabel: "nats"))
                    ]))
        }
        let rows = history.map { r in
            [
                String(r.epoch), fmt(r.trainLoss, 2), fmt(r.trainKL, 2), r.testLoss.map { fmt($0, 2) } ?? "–",
                r.validationLoss.map { fmt($0, 2) } ?? "–", r.activeUnits.map(String.init) ?? "–", fmt(r.seconds, 2),
            ]
        }
        out.append(
            .init(
                "History",
                [.table(headers: ["epoch", "train −ELBO", "train KL", "test −ELBO", "validation", "active", "seconds"], rows: rows)],
                wide: true))
        return out
    }

    /// The parts of `zoo eval`'s JSON report the page shows.
    struct EvalFigures {
        var negativeELBO: Double
        var standardError: Double
        var reconstruction: Double
        var kl: Double
        var images: Int
        var split: String
        /// (k, NLL, standard error) per reported k.
        var nll: [(Int, Double, Double)]
    }

    static func readEvalReport(_ path: String) throws -> EvalFigures {
        let bytes = try readRegularFile(path, maximumBytes: maximumInputBytes)
        func bad(_ why: String) -> ReportError { ReportError.badEvalReport(path: path, reason: why) }
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else { throw bad("it is not JSON") }
        guard obj["format"] as? String == EvalReport.format else { throw bad("it is not a zoo eval report (format \(EvalReport.format))") }
        guard let elbo = obj["elbo"] as? [String: Any], let ne = elbo["negative_elbo"] as? Double,
            let se = elbo["standard_error"] as? Double,
            let rec = elbo["reconstruction"] as? Double, let kl = elbo["kl"] as? Double
        else { throw bad("its elbo object lacks negative_elbo, standard_error, reconstruction or kl") }
        let data = obj["data"] as? [String: Any]
        var nll: [(Int, Double, Double)] = []
        if let n = obj["nll"] as? [String: Any], let estimates = n["estimates"] as? [[String: Any]] {
            for e in estimates {
                guard let k = e["k"] as? Int, let v = e["nll"] as? Double, let s = e["standard_error"] as? Double else {
                    throw bad("an NLL estimate lacks k, nll or standard_error")
                }
                nll.append((k, v, s))
            }
        }
        return EvalFigures(
            negativeELBO: ne, standardError: se, reconstruction: rec, kl: kl, images: data?["images"] as? Int ?? 0,
            split: data?["split"] as? String ?? "?", nll: nll.sorted { $0.0 < $1.0 })
    }

    /// (global step, loss per image) of the `step` rows of DIR/metrics.csv.
    static func readStepLosses(directory: String) throws -> [(Int, Double)] {
        let path = directory + "/" + MetricsLog.fileName
        let text = String(decoding: try readRegularFile(path, maximumBytes: maximumInputBytes), as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let header = lines.first, header == MetricsLog.columns.joined(separator: ",") else {
            throw ReportError.badMetrics(path: path, reason: "its header is not zoo's (\(MetricsLog.columns.joined(separator: ",")))")
        }
        lines.removeFirst()
        let (stepColumn, lossColumn) = (MetricsLog.columns.firstIndex(of: "global_step")!, MetricsLog.columns.firstIndex(of: "loss")!)
        return lines.compactMap { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == MetricsLog.columns.count, cells[0] == "step", let s = Int(cells[stepColumn]),
                let l = Double(cells[lossColumn])
            else { return nil }
            return (s, l)
        }
    }

    static func evalSections(_ e: EvalFigures) -> [ModelCard.Section] {
        var rows = [
            ["−ELBO", fmt(e.negativeELBO, 2), fmt(e.standardError, 2)], ["reconstruction", fmt(e.reconstruction, 2), ""],
            ["KL", fmt(e.kl, 2), ""],
        ]
        for (k, v, s) in e.nll { rows.append(["−log p(x), K = \(k)", fmt(v, 2), fmt(s, 2)]) }
        var items: [ModelCard.Item] = [
            .text("zoo eval on \(e.images) \(e.split) images, nats per image."),
            .table(headers: ["figure", "nats", "± s.e."], rows: rows),
        ]
        if e.nll.count >= 2 {
            items.append(
                .svg(
                    SVGChart.lines(
                        [
                            SVGChart.Series("−log p̂(x)", e.nll.map { (Double($0.0), $0.1) }),
                            SVGChart.Series("−ELBO", e.nll.map { (Double($0.0), e.negativeELBO) }),
                        ], title: "importance-weighted estimate against K", xLabel: "K (log scale)", yLabel: "nats", logX: true)))
        }
        return [.init("Evaluation", items)]
    }
}

/// Why a file `zoo report` was given cannot be used.
enum ReportError: Error, CustomStringConvertible {
    case badEvalReport(path: String, reason: String)
    case badMetrics(path: String, reason: String)

    var description: String {
        switch self {
        case .badEvalReport(let path, let reason):
            return "--eval \(path) cannot be used: \(reason); give the file zoo eval --report wrote"
        case .badMetrics(let path, let reason):
            return "--log: \(path) cannot be used: \(reason); give the directory zoo train --log wrote"
        }
    }
}

extension Report {
    /// The sections drawn from the model and the images of `split`: prior samples,
    /// reconstructions, a traversal of the most active dimensions (image
    /// models), the latent scatter plot and the KL of each dimension.
    func pictureSections(_ c: Checkpoint) throws -> [ModelCard.Section] {
        let m = c.config.model
        let (L, D, C) = (m.latentDim, m.inputDim, m.labelClasses)
        let (source, set) = try c.split(split, of: directory, limit: limit)
        let which = split.rawValue
        guard set.count > 0 else { return [.init("Latent space", [.text("the \(which) split is empty")])] }
        let batch = min(500, set.count)
        let steps = 9
        let model = try c.makeModel(maxRows: max(batch, 64, 4 * steps), path: checkpoint)
        let indices = UnsafeMutablePointer<Int64>.allocate(capacity: model.maxRows)
        defer { indices.deallocate() }

        // μ of every image, and the posterior statistics.
        var points: [Float] = []
        var labels: [UInt8] = []
        var statistics = LatentStatistics(latentDim: L)
        var pca = PrincipalComponents(dimension: L)
        var first = 0
        while first < set.count {
            let rows = min(batch, set.count - first)
            set.gather(first: first, rows: rows, into: model, indices: indices)
            model.encode(rows: rows)
            statistics.add(model.posterior.pointer, rows: rows)
            for r in 0..<rows {
                let mu = model.posterior.pointer + r * 2 * L
                pca.add(mu)
                points += UnsafeBufferPointer(start: mu, count: L)
                labels.append(set.images.hasLabels ? UInt8(clamping: set.images.labels[first + r]) : 0)
            }
            first += rows
        }
        let summary = statistics.summary
        let active = Set((0..<L).filter { summary.muVariance[$0] > LatentSummary.activeThreshold })
        let coordinates = PlotCoordinates(points: points, latentDim: L, pca: pca)
        let plot = ScatterPlot(
            title: "MU OF \(set.count) \(which.uppercased()) IMAGES, D=\(L)", xLabel: coordinates.xLabel, yLabel: coordinates.yLabel,
            labelNames: c.config.data.classNames ?? source.labelNames ?? [])
        var sections: [ModelCard.Section] = [
            .init(
                "Latent space",
                [
                    .png(
                        try PNG.encode(plot.render(x: coordinates.x, y: coordinates.y, labels: labels)), alt: "latent scatter plot",
                        caption: L == 2
                            ? "μ of \(set.count) \(which) images, coloured by label."
                            : "μ of \(set.count) \(which) images projected on their first two principal components, coloured by label.")
                ]),
            .init(
                "KL per latent dimension",
                [
                    .svg(
                        SVGChart.bars(
                            summary.klPerDimension, labels: (0..<L).map { "z\($0)" },
                            title: "mean KL(q(z_j|x) ‖ N(0, 1)), \(summary.activeUnits) of \(L) units active", yLabel: "nats",
                            highlight: active))
                ]),
        ]
        guard let (channels, height, width) = m.imageSize else { return sections }

        func decoded(_ rows: Int) -> [Float] { decodedMeans(model, rows: rows, undoing: c.standardization) }
        func png(_ tiles: [Float], count: Int, columns: Int, captions: ImageGrid.Captions = .init()) throws -> [UInt8] {
            try PNG.encode(
                pictures.grid(tiles, count: count, channels: channels, height: height, width: width, columns: columns, captions: captions))
        }
        // 64 prior samples, as zoo sample draws them by default.
        drawPrior(into: model, count: 64, seed: c.config.training.seed, label: nil)
        sections.append(
            .init(
                "Prior samples",
                [
                    .png(
                        try png(decoded(64), count: 64, columns: 8), alt: "64 prior samples",
                        caption: "The decoder's means for 64 draws z ~ N(0, I) (zoo sample's default draws)"
                            + (C > 0 ? ", class i mod \(C) for tile i." : "."))
                ]))
        // The first 8 test images and their reconstructions at z = μ.
        let n = min(8, set.count)
        set.gather(first: 0, rows: n, into: model, indices: indices)
        model.epsilon.fill(0)
        model.forward(rows: n)
        var pairs = Array(UnsafeBufferPointer(start: model.input.pointer, count: n * D))
        c.standardization?.undo(&pairs)
        pairs += means(model, rows: n, undoing: c.standardization)
        sections.append(
            .init(
                "Reconstructions",
                [
                    .png(
                        try png(pairs, count: 2 * n, columns: n, captions: .init(rows: ["input", "reconstruction"])),
                        alt: "\(which) images and their reconstructions",
                        caption: "The first \(n) \(which) images (top) and their means at z = μ.")
                ]))
        // The most active dimensions swept over [−3, 3] around test image 0's μ.
        let chosen = (0..<L).sorted { summary.klPerDimension[$0] > summary.klPerDimension[$1] }.prefix(min(4, L))
        let mu = Array(points.prefix(L))
        let all = LatentGrids.traversal(around: mu, steps: steps)
        var z: [Float] = []
        for j in chosen { z += all[(j * steps * L)..<((j + 1) * steps * L)] }
        _ = model.z.buffer.update(fromContentsOf: z)
        let own = set.images.hasLabels && C > 0 ? Int32(set.images.labels[0]) : 0
        for r in 0..<(chosen.count * steps) { model.latentLabels[r] = own }
        sections.append(
            .init(
                "Traversal of the most active dimensions",
                [
                    .png(
                        try png(
                            decoded(chosen.count * steps), count: chosen.count * steps, columns: steps,
                            captions: .init(rows: chosen.map { "z\($0)" }, columns: (0..<steps).map { fmt(Double(all[$0 * L]), 1) })),
                        alt: "latent traversal",
                        caption:
                            "Row z_j: dimension j swept over [−3, 3], the others at μ of \(which) image 0; the \(chosen.count) dimensions of largest KL."
                    )
                ]))
        return sections
    }
}

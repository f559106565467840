import ArgumentParser
import Checkpoint
import Evaluation
import Foundation
import NeuralNet
import NumericCore
import Support

/// `zoo compare`: checkpoints side by side, ranked where the ranking means something.
public struct Compare: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Put checkpoints side by side: one row each, ranked by test −ELBO or NLL.",
        discussion: """
            Without --elbo or --nll the figures are the checkpoints' own: the test −ELBO and active \
            units of their last finished epoch. --elbo evaluates the −ELBO now (as zoo eval does, with \
            its standard error); --nll also estimates −log p(x) with --iw-samples draws per image and \
            ranks by it.

            Only figures of the same images in the same units are ranked together: checkpoints \
            trained on other data, binarized against continuous pixels, standardized features, or \
            conditional models (p(x | y)) are listed in separate groups, each ranked on its own, \
            and the output says why.
            """)

    @Argument(help: ArgumentHelp("The checkpoints to compare.", valueName: "checkpoint.h5"))
    public var checkpoints: [String] = []

    @OptionGroup(title: "Data (with --elbo or --nll)") public var data: EvalDataOptions

    @Flag(help: "Evaluate the negative ELBO now instead of reading the checkpoints' last test loss.")
    public var elbo = false

    @Flag(help: "Also estimate −log p(x) by importance sampling, and rank by it.")
    public var nll = false

    @Option(name: .customLong("iw-samples"), parsing: .unconditional, help: ArgumentHelp("Importance samples K per image.", valueName: "K"))
    public var samples: Int = 5000

    @Option(help: ArgumentHelp("Seed of the evaluation draws (default: each checkpoint's own, as zoo eval).", valueName: "n"))
    public var seed: UInt64?

    @Option(parsing: .unconditional, help: ArgumentHelp("Worker threads (default: the number of cores).", valueName: "n"))
    public var threads: Int?

    @Flag(help: "Print JSON instead of a table.")
    public var json = false

    @Flag(help: "Print Markdown tables instead of a plain table.")
    public var markdown = false

    public init() {}

    /// Checkpoints one comparison takes.
    public static let maximumCheckpoints = 256

    public func validate() throws {
        guard !checkpoints.isEmpty else { throw ValidationError("give at least one checkpoint to compare") }
        try checkRange("--checkpoints", checkpoints.count, 1...Self.maximumCheckpoints)
        try checkRange("--iw-samples", samples, 1...Eval.maximumSamples)
        try validateThreads(threads)
        if json && markdown { throw ValidationError("--json and --markdown exclusive: choose one output") }
        let evaluating = elbo || nll
        if !evaluating && (data.directory != nil || data.limit != nil || data.split != .test) {
            throw ValidationError("--data, --split and --limit apply when evaluating; add --elbo or --nll")
        }
        if !nll && samples != 5000 { throw ValidationError("--iw-samples applies to --nll; add --nll") }
    }

    var metric: Comparison.Metric { nll ? .nll : .elbo }

    public func run() throws {
        let signals = StopSignals()
        var entries: [Comparison.Entry] = []
        for path in checkpoints {
            entries.append(try (elbo || nll) ? evaluated(path, signals: signals) : fromHistory(path))
        }
        let groups = Comparison.groups(entries, by: metric)
        if json {
            writeStdout(try Self.json(groups, metric: metric))
        } else {
            writeStdout(markdown ? Self.markdown(groups, metric: metric) : Self.table(groups, metric: metric))
        }
    }

    /// A checkpoint's row from what it recorded: its last epoch's test loss and active units.
    func fromHistory(_ path: String) throws -> Comparison.Entry {
        let c = try Checkpoint.read(from: path)
        let d = c.config.data
        let last = c.training?.history.last
        let source = d.path ?? "Fashion-MNIST (default)"
        let held = d.testSplit > 0 ? ", \(d.testSplit) held out as test" : ""
        return entry(
            c, path: path, data: "test split of \(source)" + (d.limit.map { ", first \($0) images" } ?? "") + held,
            dataKey: "history|\(source)|\(d.limit ?? 0)|\(d.testSplit)|\(c.dataFingerprint ?? "")",
            elbo: last?.testLoss, elboError: nil, nll: nil, nllError: nil, activeUnits: last?.activeUnits, source: "history")
    }

    /// A checkpoint's row evaluated now on the chosen split.
    func evaluated(_ path: String, signals: StopSignals) throws -> Comparison.Entry {
        let loaded = try LoadedCheckpoint(path, data: data)
        let c = loaded.checkpoint
        let set = loaded.set
        let model = try c.makeModel(maxRows: min(c.config.training.batchSize, set.count), path: path)
        let threadCount = min(threads ?? ProcessInfo.processInfo.activeProcessorCount, max(1, set.count))
        BLAS.setThreads(threadCount)
        Kernels.flushDenormals()
        writeStderr("zoo \(Zoo.version): \(path): \(set.count) \(data.split.rawValue) images\n")
        let (result, _) = try evaluateELBO(loaded, model: model, seed: seed, signals: signals)
        var nllFigure: (Double, Double)?
        if nll {
            let report = try estimateNLL(
                model, set: set, seed: seed ?? c.config.training.seed, threads: threadCount, samples: samples, ks: [], repeats: 1,
                chunk: 500)
            if let e = report.estimates.last { nllFigure = (e.nll, e.standardError) }
        }
        return entry(
            c, path: path,
            data: "\(data.split.rawValue) split of \(loaded.source.path), \(set.count) images"
                + (data.limit.map { " (first \($0))" } ?? ""),
            dataKey: "evaluated|\(loaded.source.path)|\(data.split.rawValue)|\(loaded.fingerprint)", elbo: result.negativeELBO,
            elboError: result.standardError, nll: nllFigure?.0, nllError: nllFigure?.1, activeUnits: result.latent.activeUnits,
            source: "evaluated")
    }

    func entry(
        _ c: Checkpoint, path: String, data: String, dataKey: String, elbo: Double?, elboError: Double?, nll: Double?, nllError: Double?,
        activeUnits: Int?, source: String
    ) -> Comparison.Entry {
        let m = c.config.model
        let history = c.training?.history ?? []
        let ranking = nll ?? elbo
        return Comparison.Entry(
            checkpoint: path, recipe: c.recipe, architecture: describe(c.config), parameters: m.parameterCount,
            epochs: c.training?.epoch ?? 0, data: data, dataKey: dataKey,
            units: Comparison.units(
                likelihood: m.likelihood.rawValue, binarized: c.config.data.binarization != .none,
                standardized: c.config.data.standardize, conditional: m.isConditional),
            negativeELBO: elbo, elboStandardError: elboError, nll: nll, nllStandardError: nllError,
            bitsPerDim: ranking.map { bitsPerDimension(nats: $0, dimension: m.inputDim) }, activeUnits: activeUnits,
            latentDim: m.latentDim,
            secondsPerEpoch: history.isEmpty ? nil : history.map(\.seconds).reduce(0, +) / Double(history.count), source: source)
    }
}

extension Compare {
    static func figure(_ value: Double?, _ error: Double?) -> String {
        guard let value else { return "–" }
        return fmt(value, 2) + (error.map { " ± " + fmt($0, 2) } ?? "")
    }

    static func cells(_ e: Comparison.Entry, rank: Int) -> [String] {
        [
            String(rank), e.checkpoint, e.recipe ?? "–", e.architecture, String(e.parameters), String(e.epochs),
            figure(e.negativeELBO, e.elboStandardError), figure(e.nll, e.nllStandardError), e.bitsPerDim.map { fmt($0, 4) } ?? "–",
            e.activeUnits.map { "\($0) / \(e.latentDim)" } ?? "–", e.secondsPerEpoch.map { fmt($0, 2) } ?? "–",
        ]
    }

    static let headers = [
        "#", "checkpoint", "recipe", "model", "parameters", "epochs", "test −ELBO", "NLL", "bits/dim", "active", "s/epoch",
    ]

    static func groupTitle(_ g: Comparison.Group, metric: Comparison.Metric) -> String {
        "\(g.data); \(g.units); ranked by \(metric == .nll ? "NLL" : "−ELBO"), lowest first"
    }

    /// Plain columns, one block per group.
    static func table(_ groups: [Comparison.Group], metric: Comparison.Metric) -> String {
        var out = ""
        if let why = Comparison.whySeparate(groups) { out += why + "\n\n" }
        for (i, g) in groups.enumerated() {
            if i > 0 { out += "\n" }
            out += groupTitle(g, metric: metric) + "\n"
            let rows = [headers] + g.entries.enumerated().map { cells($1, rank: $0 + 1) }
            let widths = headers.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
            for row in rows {
                let line = row.indices.map { c in row[c].padding(toLength: widths[c], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                out += String(line.reversed().drop(while: { $0 == " " }).reversed()) + "\n"
            }
        }
        return String(out.dropLast())
    }

    /// A GitHub Markdown table per group.
    static func markdown(_ groups: [Comparison.Group], metric: Comparison.Metric) -> String {
        var out = ""
        if let why = Comparison.whySeparate(groups) { out += "> " + why + "\n\n" }
        for (i, g) in groups.enumerated() {
            if i > 0 { out += "\n" }
            out += "**" + groupTitle(g, metric: metric) + "**\n\n"
            out += "| " + headers.joined(separator: " | ") + " |\n"
            // Names left, numbers right.
            out += "| " + headers.indices.map { (1...3).contains($0) ? "---" : "---:" }.joined(separator: " | ") + " |\n"
            for (r, e) in g.entries.enumerated() {
                out += "| " + cells(e, rank: r + 1).map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
            }
        }
        return String(out.dropLast())
    }

    /// {"metric", "ranked_together", "why_separate", "groups": [{"data", "units", "rows": […]}]}
    /// (JSONEncoder: every figure round-trips exactly; absent figures are null).
    static func json(_ groups: [Comparison.Group], metric: Comparison.Metric) throws -> String {
        let report = Report(
            metric: metric.rawValue, rankedTogether: groups.count <= 1, whySeparate: Comparison.whySeparate(groups),
            groups: groups.map { g in
                Report.Group(data: g.data, units: g.units, rows: g.entries.enumerated().map { Report.Row($1, rank: $0 + 1) })
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self)
    }

    struct Report: Encodable {
        let metric: String
        let rankedTogether: Bool
        let whySeparate: String?
        let groups: [Group]
        struct Group: Encodable {
            let data: String
            let units: String
            let rows: [Row]
        }
        struct Row: Encodable {
            let e: Comparison.Entry
            let rank: Int
            init(_ e: Comparison.Entry, rank: Int) {
                self.e = e
                self.rank = rank
            }
            enum Keys: String, CodingKey {
                case rank, checkpoint, recipe, model, parameters, epochs, source
                case negativeELBO = "negative_elbo"
                case elboStandardError = "elbo_standard_error"
                case nll
                case nllStandardError = "nll_standard_error"
                case bitsPerDim = "bits_per_dim"
                case activeUnits = "active_units"
                case latentDim = "latent_dim"
                case secondsPerEpoch = "seconds_per_epoch"
            }
            func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: Keys.self)
                try c.encode(rank, forKey: .rank)
                try c.encode(e.checkpoint, forKey: .checkpoint)
                try c.encode(e.recipe, forKey: .recipe)
                try c.encode(e.architecture, forKey: .model)
                try c.encode(e.parameters, forKey: .parameters)
                try c.encode(e.epochs, forKey: .epochs)
                try c.encode(e.source, forKey: .source)
                try c.encode(e.negativeELBO, forKey: .negativeELBO)
                try c.encode(e.elboStandardError, forKey: .elboStandardError)
                try c.encode(e.nll, forKey: .nll)
                try c.encode(e.nllStandardError, forKey: .nllStandardError)
                try c.encode(e.bitsPerDim, forKey: .bitsPerDim)
                try c.encode(e.activeUnits, forKey: .activeUnits)
                try c.encode(e.latentDim, forKey: .latentDim)
                try c.encode(e.secondsPerEpoch, forKey: .secondsPerEpoch)
            }
        }
        enum CodingKeys: String, CodingKey {
            case metric, groups
            case rankedTogether = "ranked_together"
            case whySeparate = "why_separate"
        }
        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(metric, forKey: .metric)
            try c.encode(rankedTogether, forKey: .rankedTogether)
            try c.encode(whySeparate, forKey: .whySeparate)
            try c.encode(groups, forKey: .groups)
        }
    }
}

import Checkpoint
import Foundation
import TestSupport
import Testing

/// `zoo compare` (issue 15): checkpoints of the same data ranked by their
/// metric (stored, or evaluated now, or the NLL), and those of other data or
/// units in separate groups with the reason, never ranked together.
@Suite(.serialized) struct CompareEndToEndTests {
    /// Three models of the same 1,000 Fashion-MNIST images, of different sizes.
    static let models: [String]? = {
        let dir = Fixtures.temporaryDirectory("compare")
        var paths: [String] = []
        for (name, args) in [
            ("wide", ["--hidden", "200", "--latent-dim", "10", "--epochs", "2"]), ("narrow", ["--hidden", "16", "--latent-dim", "2"]),
            ("middle", ["--hidden", "64", "--latent-dim", "4"]),
        ] {
            let path = dir + "/\(name).h5"
            guard (try? Zoo.run(["train", "--limit", "1000", "--save", path] + args))?.status == 0 else { return nil }
            paths.append(path)
        }
        return paths
    }()

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    static func rows(_ obj: [String: Any], group: Int = 0) throws -> [[String: Any]] {
        let groups = try #require(obj["groups"] as? [[String: Any]])
        return try #require(groups[group]["rows"] as? [[String: Any]])
    }

    @Test func sameDataIsRankedByTheStoredTestLoss() throws {
        let models = try #require(Self.models, "training the models failed")
        let r = try Zoo.run(["compare"] + models + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try Self.object(r.stdout)
        #expect(obj["ranked_together"] as? Bool == true && obj["why_separate"] is NSNull && obj["metric"] as? String == "elbo")
        let rows = try Self.rows(obj)
        // The order of the checkpoints' own last test losses.
        let stored = try models.map { (path: $0, loss: try #require(try Checkpoint.read(from: $0).training?.history.last?.testLoss)) }
        #expect(rows.compactMap { $0["checkpoint"] as? String } == stored.sorted { $0.loss < $1.loss }.map(\.path))
        // Within 1e-12: Foundation's JSONSerialization on Linux parses the last digit of some doubles imprecisely.
        let figures = rows.compactMap { $0["negative_elbo"] as? Double }
        #expect(figures.count == 3 && zip(figures, stored.map(\.loss).sorted()).allSatisfy { abs($0 - $1) <= 1e-12 * $1 })
        #expect(rows.compactMap { $0["rank"] as? Int } == [1, 2, 3])
        let wide = try #require(rows.first { ($0["checkpoint"] as? String)?.hasSuffix("wide.h5") == true })
        #expect(wide["epochs"] as? Int == 2 && wide["latent_dim"] as? Int == 10 && wide["source"] as? String == "history")
        #expect(wide["parameters"] as? Int == 784 * 200 + 200 + 2 * (200 * 10 + 10) + 10 * 200 + 200 + 200 * 784 + 784)

        // The plain table and the Markdown one list the same order.
        let table = try Zoo.run(["compare"] + models)
        #expect(table.status == 0 && !table.stdout.contains("not ranked together"), "\(table.stdout)")
        let order = rows.compactMap { ($0["checkpoint"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent } }
        let positions = order.compactMap { table.stdout.range(of: $0)?.lowerBound }
        #expect(positions.count == 3 && positions == positions.sorted(), "\(table.stdout)")
        let md = try Zoo.run(["compare"] + models + ["--markdown"])
        #expect(md.status == 0 && md.stdout.contains("| # | checkpoint | recipe |"), "\(md.stdout)")
    }

    @Test func evaluatedFiguresAreZooEvalsAndTheNLLRanks() throws {
        let models = try #require(Self.models, "training the models failed")
        let r = try Zoo.run(["compare"] + models + ["--elbo", "--limit", "300", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        for row in try Self.rows(try Self.object(r.stdout)) {
            let path = try #require(row["checkpoint"] as? String)
            let e = try Zoo.run(["eval", path, "--limit", "300", "--json"])
            let elbo = try #require(try Self.object(e.stdout)["elbo"] as? [String: Any])
            #expect(row["negative_elbo"] as? Double == elbo["negative_elbo"] as? Double, "\(path)")
            #expect(row["elbo_standard_error"] as? Double == elbo["standard_error"] as? Double, "\(path)")
            #expect(row["source"] as? String == "evaluated")
        }
        let n = try Zoo.run(["compare"] + models + ["--nll", "--iw-samples", "20", "--limit", "100", "--json"])
        #expect(n.status == 0, "\(n.stderr)")
        let obj = try Self.object(n.stdout)
        #expect(obj["metric"] as? String == "nll")
        let nlls = try Self.rows(obj).compactMap { $0["nll"] as? Double }
        #expect(nlls.count == 3 && nlls == nlls.sorted())
        let elbos = try Self.rows(obj).compactMap { $0["negative_elbo"] as? Double }
        #expect(zip(nlls, elbos).allSatisfy { $0 <= $1 + 1 }, "the NLL estimate lies below the −ELBO: \(nlls) \(elbos)")
    }

    /// Other data (another --limit), binarized pixels and a conditional model
    /// each get a group of their own, and the output says why.
    @Test func applesAndOrangesAreNotRanked() throws {
        let models = try #require(Self.models, "training the models failed")
        let dir = Fixtures.temporaryDirectory("compare-other")
        for (name, args) in [
            ("fewer", ["--limit", "500"]), ("binarized", ["--limit", "1000", "--binarize", "static"]),
            ("conditional", ["--limit", "1000", "--recipe", "cvae"]),
        ] {
            let t = try Zoo.run(["train", "--epochs", "1", "--hidden", "32", "--latent-dim", "2", "--save", dir + "/\(name).h5"] + args)
            #expect(t.status == 0, "\(t.stderr)")
        }
        let all = [models[0], dir + "/fewer.h5", dir + "/binarized.h5", dir + "/conditional.h5", models[1]]
        let r = try Zoo.run(["compare"] + all + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try Self.object(r.stdout)
        #expect(obj["ranked_together"] as? Bool == false)
        let why = try #require(obj["why_separate"] as? String)
        #expect(why.contains("different data") && why.contains("different units"), "\(why)")
        let groups = try #require(obj["groups"] as? [[String: Any]])
        #expect(groups.count == 4)
        // The two models of the same data and units share the first group.
        #expect(Set(try Self.rows(obj, group: 0).compactMap { $0["checkpoint"] as? String }) == [models[0], models[1]])
        let units = groups.compactMap { $0["units"] as? String }
        #expect(units.contains { $0.contains("binarized") } && units.contains { $0.contains("p(x | y)") }, "\(units)")
        let table = try Zoo.run(["compare"] + all)
        #expect(table.stdout.hasPrefix("not ranked together:"), "\(table.stdout)")
    }

    @Test(arguments: [
        ([String](), "at least one checkpoint"), (["a.h5", "--json", "--markdown"], "--json and --markdown"),
        (["a.h5", "--limit", "10"], "add --elbo or --nll"), (["a.h5", "--iw-samples", "10"], "add --nll"),
        (["a.h5", "--elbo", "--threads", "0"], "--threads must be between 1 and 256"),
    ])
    func badArgumentsAreRefused(arguments: [String], message: String) throws {
        let r = try Zoo.run(["compare"] + arguments)
        #expect(r.status != 0 && r.stderr.contains(message), "\(r.stderr)")
    }

    @Test func aMissingOrForeignFileIsNamed() throws {
        let dir = Fixtures.temporaryDirectory("compare-bad")
        let models = try #require(Self.models, "training the models failed")
        let missing = try Zoo.run(["compare", models[0], dir + "/nope.h5"])
        #expect(missing.status != 0 && missing.stderr.contains("nope.h5"), "\(missing.stderr)")
        FileManager.default.createFile(atPath: dir + "/text.h5", contents: Data("not a checkpoint".utf8))
        let foreign = try Zoo.run(["compare", models[0], dir + "/text.h5"])
        #expect(foreign.status != 0 && foreign.stderr.contains("text.h5"), "\(foreign.stderr)")
        #expect(foreign.stdout.isEmpty, "nothing printed before the error")
    }
}

import ArgumentParser
import Testing

@testable import ZooCommands

@Suite struct EvalParseTests {
    @Test func defaultsAreThePublishedProtocol() throws {
        let e = try Eval.parse(["m.h5"])
        #expect(e.samples == 5000 && e.repeats == 1 && e.data.split == .test && e.data.limit == nil)
        #expect(!e.nll && e.seed == nil && e.kList == [] && e.chunk == 500 && !e.json && e.report == nil)
    }

    @Test func everyFlagIsRead() throws {
        let e = try Eval.parse([
            "m.h5", "--elbo", "--nll", "--iw-samples", "50", "--ks", "1, 5,50", "--repeats", "2",
            "--seed", "4", "--threads", "1", "--chunk", "25", "--split", "train", "--limit", "9",
            "--data", "/d", "--json", "--report", "r.json",
        ])
        #expect(e.elbo && e.nll && e.samples == 50 && e.kList == [1, 5, 50] && e.repeats == 2 && e.seed == 4)
        #expect(e.threads == 1 && e.chunk == 25 && e.data.split == .train && e.data.limit == 9 && e.data.directory == "/d")
        #expect(e.json && e.report == "r.json")
    }

    @Test(arguments: [
        (["--nll", "--iw-samples", "0"], "--iw-samples must be between 1 and 1000000, got 0"),
        (["--nll", "--iw-samples", "-3"], "got -3"),
        (["--nll", "--ks", "1,x"], "--ks takes comma-separated positive integers"),
        (["--nll", "--iw-samples", "10", "--ks", "0,5"], "between 1 and --iw-samples (10), got 0"),
        (["--nll", "--repeats", "0"], "--repeats must be between 1 and 1000"),
        (["--ks", "1,5"], "add --nll"),
        (["--limit", "0"], "--limit must be between 1 and 2147483648"),
        (["--threads", "0"], "--threads must be between 1 and 256"),
        (["--chunk", "0"], "--chunk must be between 1 and 10000"),
    ])
    func rejectsBadValues(arguments: [String], message: String) {
        do {
            _ = try Eval.parse(["m.h5"] + arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(Eval.message(for: error).contains(message), "\(Eval.message(for: error))")
        }
    }

    @Test func splitMustBeKnown() {
        #expect(throws: (any Error).self) { try Eval.parse(["m.h5", "--split", "validation"]) }
    }
}

@Suite struct EmbedParseTests {
    @Test func everyFlagIsRead() throws {
        let e = try Embed.parse([
            "m.h5", "--csv", "-", "--tsv", "t", "--plot", "p.png", "--logvar", "--samples", "3",
            "--seed", "2", "--split", "all", "--limit", "7", "--data", "/d", "--threads", "1",
        ])
        #expect(e.csv == "-" && e.tsv == "t" && e.plot == "p.png" && e.logvar && e.samples == 3 && e.seed == 2)
        #expect(e.split == .all && e.limit == 7 && e.directory == "/d" && e.threads == 1)
    }

    @Test(arguments: [
        ([String](), "nothing to write"),
        (["--csv", "z.csv", "--samples", "-1"], "--samples must be between 0 and 1000"),
        (["--plot", "p.png", "--logvar"], "add --csv"),
        (["--csv", "z.csv", "--limit", "0"], "--limit must be between 1 and 2147483648"),
    ])
    func rejectsBadValues(arguments: [String], message: String) {
        do {
            _ = try Embed.parse(["m.h5"] + arguments)
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(Embed.message(for: error).contains(message), "\(Embed.message(for: error))")
        }
    }
}

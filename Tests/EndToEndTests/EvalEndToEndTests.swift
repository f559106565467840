import Checkpoint
import Foundation
import Support
import TestSupport
import Testing
import Training

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A small model trained once for these tests: 1000 Fashion-MNIST images, 2 epochs.
let smallCheckpoint: String? = {
    let dir = Fixtures.temporaryDirectory("eval")
    let path = dir + "/small.h5"
    let r = try? Zoo.run(["train", "--limit", "1000", "--epochs", "2", "--hidden", "64", "--latent-dim", "4", "--save", path])
    return r?.status == 0 ? path : nil
}()

/// Runs a script with Debian's Python, or (`venv`) with the virtual
/// environment Scripts/install-deps.sh makes for PyPI packages (.venv, or
/// $ZOO_VENV), or with the `python` given.
func runPython(_ arguments: [String], venv: Bool = false, python: String? = nil) throws -> (Int32, String) {
    let environment = ProcessInfo.processInfo.environment["ZOO_VENV"] ?? repository.appendingPathComponent(".venv").path
    return try runProgram(python ?? (venv ? environment + "/bin/python" : "/usr/bin/python3"), arguments)
}

/// Runs `program` with `arguments` to the end: its exit status and its standard output and error together.
func runProgram(_ program: String, _ arguments: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
}

@Suite(.serialized) struct EvalEndToEndTests {
    @Test func reportReproducesTheTrainingTestLossAndValidatesAgainstItsSchema() throws {
        let ckpt = try #require(smallCheckpoint, "training the small model failed")
        let dir = Fixtures.temporaryDirectory("eval")
        let r = try Zoo.run([
            "eval", ckpt, "--elbo", "--nll", "--iw-samples", "200", "--ks", "1,10", "--limit", "1000",
            "--json", "--report", dir + "/report.json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let schema = try JSONSchema(
            json: String(contentsOfFile: repository.appendingPathComponent("schemas/eval-report.schema.json").path, encoding: .utf8),
            documents: ["config.schema.json": RunConfig.schemaJSON])
        #expect(schema.violations(of: r.stdout) == [])
        let saved = try String(contentsOfFile: dir + "/report.json", encoding: .utf8)
        #expect(schema.violations(of: saved) == [])
        // The schema is not vacuous: a report missing a field or with a wrong value fails.
        #expect(!schema.violations(of: r.stdout.replacingOccurrences(of: "\"negative_elbo\"", with: "\"negative_elbo_x\"")).isEmpty)
        #expect(!schema.violations(of: r.stdout.replacingOccurrences(of: "\"none\"", with: "\"sometimes\"")).isEmpty)

        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let elbo = try #require(report["elbo"] as? [String: Any])
        let negativeELBO = try #require(elbo["negative_elbo"] as? Double)
        // Same data, seed and noise stream as the training's per-epoch test loss (BLAS kernels may differ: 1e-3).
        let inspect = try Zoo.run(["inspect", ckpt, "--json"])
        let history = try #require(
            ((try JSONSerialization.jsonObject(with: Data(inspect.stdout.utf8)) as? [String: Any])?["history"]) as? [[String: Any]])
        let testLoss = try #require(history.last?["test_loss"] as? Double)
        #expect(abs(negativeELBO - testLoss) < 1e-3, "eval −ELBO \(negativeELBO), training test loss \(testLoss)")
        let nll = try #require(report["nll"] as? [String: Any])
        let estimates = try #require(nll["estimates"] as? [[String: Any]])
        #expect(estimates.map { $0["k"] as? Int } == [1, 10, 200])
        let values = estimates.compactMap { $0["nll"] as? Double }
        #expect(values.count == 3 && values[0] > values[1] && values[1] > values[2], "\(values)")
        #expect(negativeELBO > values[2], "−ELBO \(negativeELBO) ≥ NLL \(values[2])")
        let bpd = try #require(elbo["bits_per_dim"] as? Double)
        #expect(abs(bpd - negativeELBO / (784 * log(2.0))) < 1e-9)
        let data = try #require(report["data"] as? [String: Any])
        #expect((data["fingerprint"] as? String)?.hasPrefix("sha256:") == true && data["images"] as? Int == 1000)

        // The table names the same figures.
        let table = try Zoo.run(["eval", ckpt, "--nll", "--iw-samples", "200", "--limit", "1000"])
        #expect(
            table.status == 0 && table.stdout.contains("−log p(x), K=200") && table.stdout.contains(String(format: "%.2f", negativeELBO)),
            "\(table.stdout)")
    }

    @Test func repeatsReportTheirSpread() throws {
        let ckpt = try #require(smallCheckpoint)
        let r = try Zoo.run(["eval", ckpt, "--nll", "--iw-samples", "20", "--repeats", "3", "--limit", "100", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let estimate = try #require(((report["nll"] as? [String: Any])?["estimates"] as? [[String: Any]])?.first)
        let spread = try #require(estimate["repeat_std"] as? Double)
        #expect(spread > 0 && spread < 1, "std over repeats \(spread)")
    }

    @Test func badInputsAreRefusedWithClearMessages() throws {
        let ckpt = try #require(smallCheckpoint)
        // K < 1 and friends: refused before any work.
        let k0 = try Zoo.run(["eval", ckpt, "--nll", "--iw-samples", "0"])
        #expect(k0.status != 0 && k0.stderr.contains("--iw-samples must be between 1 and 1000000, got 0"), "\(k0.stderr)")
        let kNeg = try Zoo.run(["eval", ckpt, "--nll", "--iw-samples", "-5"])
        #expect(kNeg.status != 0 && kNeg.stderr.contains("got -5"), "\(kNeg.stderr)")
        let ks = try Zoo.run(["eval", ckpt, "--nll", "--iw-samples", "10", "--ks", "1,50"])
        #expect(ks.status != 0 && ks.stderr.contains("between 1 and --iw-samples (10), got 50"), "\(ks.stderr)")

        // Input size mismatch: 14×14 images for a 784-input model.
        let small = Fixtures.temporaryDirectory("data")
        Fixtures.writeSplit("t10k", count: 20, in: small, side: 14)
        let mismatch = try Zoo.run(["eval", ckpt, "--data", small])
        #expect(mismatch.status != 0 && mismatch.stderr.contains("784 inputs") && mismatch.stderr.contains("14×14"), "\(mismatch.stderr)")
        let embedMismatch = try Zoo.run(["embed", ckpt, "--data", small, "--csv", small + "/z.csv"])
        #expect(embedMismatch.status != 0 && embedMismatch.stderr.contains("784 inputs"), "\(embedMismatch.stderr)")
        #expect(!FileManager.default.fileExists(atPath: small + "/z.csv"))

        // A split the directory does not have, and an empty split.
        let trainOnly = Fixtures.temporaryDirectory("data")
        Fixtures.writeSplit("train", count: 20, in: trainOnly)
        let missing = try Zoo.run(["eval", ckpt, "--data", trainOnly, "--split", "test"])
        #expect(missing.status != 0 && missing.stderr.contains("t10k-images-idx3-ubyte"), "\(missing.stderr)")
        let empty = Fixtures.temporaryDirectory("data")
        Fixtures.writeSplit("t10k", count: 0, in: empty)
        let none = try Zoo.run(["eval", ckpt, "--data", empty])
        #expect(none.status != 0 && none.stderr.contains("no images"), "\(none.stderr)")

        // Unwritable outputs: refused before any work, nothing left behind.
        let out = Fixtures.temporaryDirectory("out")
        let noDir = try Zoo.run(["eval", ckpt, "--report", out + "/missing/r.json"])
        #expect(noDir.status != 0 && noDir.stderr.contains("does not exist"), "\(noDir.stderr)")
        let isDir = try Zoo.run(["embed", ckpt, "--csv", out])
        #expect(isDir.status != 0 && isDir.stderr.contains("is a directory"), "\(isDir.stderr)")
        if let undo = Fixtures.makeUnwritable(out) {
            defer { undo() }
            let ro = try Zoo.run(["eval", ckpt, "--report", out + "/r.json"])
            #expect(ro.status != 0 && ro.stderr.contains("not writable"), "\(ro.stderr)")
            let roPlot = try Zoo.run(["embed", ckpt, "--plot", out + "/p.png"])
            #expect(roPlot.status != 0 && roPlot.stderr.contains("not writable"), "\(roPlot.stderr)")
        } else {
            Issue.record("cannot make a directory unwritable on this machine")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == [])
    }

    /// SIGINT during the importance sampling: exit 130 at once, no report, no temporary.
    @Test func interruptStopsCleanlyWithoutAReport() throws {
        let ckpt = try #require(smallCheckpoint)
        let dir = Fixtures.temporaryDirectory("eval")
        let (p, errPath) = try Zoo.start(["eval", ckpt, "--nll", "--iw-samples", "20000", "--report", dir + "/r.json"])
        // Handshake: the sampler's first progress line says it is under way.
        let deadline = monotonic() + 120
        while monotonic() < deadline, p.isRunning, !((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "").contains("nll K=") {
            usleep(1000)
        }
        let sent = monotonic()
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(monotonic() - sent < 5, "stopped within 5 s")
        #expect(p.terminationStatus == 130)
        let err = try String(contentsOfFile: errPath, encoding: .utf8)
        #expect(err.contains("interrupted during the NLL") && err.contains("nothing written"), "\(err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [])
    }

    /// Issue 3's promise: a checkpoint written by numpy + h5py alone evaluates too.
    @Test func numpyWrittenCheckpointEvaluates() throws {
        let dir = Fixtures.temporaryDirectory("eval")
        let path = dir + "/numpy.h5"
        let (status, text) = try runPython([repository.appendingPathComponent("Tests/python/write_numpy_checkpoint.py").path, path])
        #expect(status == 0, "\(text)")
        let r = try Zoo.run(["eval", path, "--nll", "--iw-samples", "10", "--limit", "50", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((report["checkpoint"] as? [String: Any])?["epochs_trained"] as? Int == 0)
        #expect(((report["elbo"] as? [String: Any])?["negative_elbo"] as? Double ?? 0) > 400, "an untrained model")
    }
}

func monotonic() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

@Suite(.serialized) struct EmbedEndToEndTests {
    @Test func csvHasTheDocumentedColumnsAndMatchesNumpyEncoder() throws {
        let ckpt = try #require(smallCheckpoint)
        let dir = Fixtures.temporaryDirectory("embed")
        let r = try Zoo.run(["embed", ckpt, "--csv", dir + "/z.csv", "--logvar", "--samples", "2", "--limit", "300"])
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: dir + "/z.csv", encoding: .utf8)
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.count == 302 && lines.last == "", "301 CRLF-terminated lines")
        #expect(
            lines[0] == "index,split,label,mu_0,mu_1,mu_2,mu_3,logvar_0,logvar_1,logvar_2,logvar_3,"
                + "z_0_0,z_0_1,z_0_2,z_0_3,z_1_0,z_1_1,z_1_2,z_1_3")
        let first = lines[1].split(separator: ",")
        #expect(first.count == 19 && first[0] == "0" && first[1] == "test")
        #expect(first[3...].allSatisfy { Float($0) != nil })
        // Sampled columns are seeded: the same command gives the same file; another seed does not.
        _ = try Zoo.run(["embed", ckpt, "--csv", dir + "/again.csv", "--logvar", "--samples", "2", "--limit", "300"])
        #expect(try String(contentsOfFile: dir + "/again.csv", encoding: .utf8) == text)
        _ = try Zoo.run(["embed", ckpt, "--csv", dir + "/other.csv", "--logvar", "--samples", "2", "--limit", "300", "--seed", "9"])
        #expect(try String(contentsOfFile: dir + "/other.csv", encoding: .utf8) != text)

        // Interop: numpy's encoder from the h5py-read parameters on the same real images.
        let (status, output) = try runPython([
            repository.appendingPathComponent("Tests/python/check_embedding.py").path,
            ckpt, dir + "/z.csv", Fixtures.fashionMNIST + "/t10k-images-idx3-ubyte.gz", "300",
        ])
        #expect(status == 0, "\(output)")

        // Standard output.
        let stdout = try Zoo.run(["embed", ckpt, "--csv", "-", "--limit", "5"])
        #expect(
            stdout.status == 0 && stdout.stdout.hasPrefix("index,split,label,mu_0")
                && stdout.stdout.components(separatedBy: "\r\n").count == 7)
    }

    @Test func tsvPairAndPlotForBothSplits() throws {
        let ckpt = try #require(smallCheckpoint)
        let dir = Fixtures.temporaryDirectory("embed")
        let r = try Zoo.run(["embed", ckpt, "--split", "all", "--limit", "200", "--tsv", dir + "/proj", "--plot", dir + "/latent.png"])
        #expect(r.status == 0, "\(r.stderr)")
        let vectors = try String(contentsOfFile: dir + "/proj/vectors.tsv", encoding: .utf8).split(separator: "\n")
        let metadata = try String(contentsOfFile: dir + "/proj/metadata.tsv", encoding: .utf8).split(separator: "\n")
        #expect(vectors.count == 400 && metadata.count == 401)
        #expect(metadata[0] == "index\tsplit\tlabel" && metadata[1].hasPrefix("0\ttrain\t") && metadata[201].hasPrefix("0\ttest\t"))
        #expect(vectors[0].split(separator: "\t").count == 4 && vectors[0].split(separator: "\t").allSatisfy { Float($0) != nil })
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/latent.png")))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(png.count > 5000, "a real plot, \(png.count) bytes")
    }

    /// SIGINT while writing: exit 130, and neither the CSV nor a temporary is left.
    @Test func interruptLeavesNothingHalfWritten() throws {
        let ckpt = try #require(smallCheckpoint)
        let dir = Fixtures.temporaryDirectory("embed")
        let (p, _) = try Zoo.start(["embed", ckpt, "--split", "all", "--csv", dir + "/z.csv", "--samples", "300"])
        // Handshake: the CSV's temporary exists, so writing has begun.
        let temporary = dir + "/.z.csv.tmp-\(p.processIdentifier)"
        let deadline = monotonic() + 120
        while monotonic() < deadline, p.isRunning, access(temporary, F_OK) != 0 { usleep(1000) }
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        #expect(p.terminationStatus == 130, "the run was still writing when interrupted (status \(p.terminationStatus))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [])
    }
}

import Checkpoint
import Foundation
import TestSupport
import Testing

/// Issue 10: hostile or unlucky inputs, through the built binary. Every case
/// must end with an exit status between 1 and 127, one clear line on standard
/// error, no backtrace, and nothing half-written.
func expectRefusal(_ r: Zoo.Result, _ parts: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect((1...127).contains(r.status), "\(what): status \(r.status)\n\(r.stderr)", sourceLocation: sourceLocation)
    #expect(
        !r.stderr.contains("crashed") && !r.stderr.contains("Backtrac") && !r.stderr.contains("Fatal error"),
        "\(what): \(r.stderr)", sourceLocation: sourceLocation)
    let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("Usage:") && !$0.hasPrefix("  See '") && !$0.isEmpty }
    #expect(lines.count == 1, "\(what): one line on stderr, got \(lines.count):\n\(r.stderr)", sourceLocation: sourceLocation)
    for part in parts { #expect(r.stderr.contains(part), "\(what): '\(part)' in \(r.stderr)", sourceLocation: sourceLocation) }
}

/// A small trained checkpoint with validation (so every optional object exists).
let hostileBase: String? = {
    let path = Fixtures.temporaryDirectory("hostile") + "/base.h5"
    let r = try? Zoo.run([
        "train", "--limit", "600", "--epochs", "2", "--hidden", "32", "--latent-dim", "4",
        "--val-split", "100", "--batch-size", "100", "--save", path,
    ])
    return r?.status == 0 ? path : nil
}()

func craft(_ testCase: String) throws -> String {
    let base = try #require(hostileBase, "training the base checkpoint failed")
    let out = Fixtures.temporaryDirectory("craft") + "/\(testCase).h5"
    let (status, text) = try runPython([repository.appendingPathComponent("Tests/python/craft_checkpoint.py").path, base, testCase, out])
    #expect(status == 0, "crafting \(testCase): \(text)")
    return out
}

@Suite(.serialized) struct HostileCheckpointTests {
    /// Every reader refuses the file with a message naming it and the problem.
    func expectEveryReaderRefuses(_ path: String, _ parts: [String], readers: [[String]]? = nil) throws {
        let all =
            readers ?? [
                ["inspect"], ["inspect", "--verify"], ["eval", "--limit", "50"], ["embed", "--limit", "50", "--csv", "-"],
                ["sample", "--out", Fixtures.temporaryPath("s") + ".png"], ["resume"],
            ]
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for reader in all {
            let args = [reader[0], path] + reader.dropFirst()
            expectRefusal(try Zoo.run(args), parts + [path], args.joined(separator: " "))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "no reader changed the file")
    }

    @Test(arguments: [
        ("format-version-array", ["attribute format_version is int64[3], expected a scalar int64"]),
        ("format-string-array", ["attribute format is string[2], expected a scalar variable-length string"]),
        ("lr-array", ["attribute lr is float64[3], expected a scalar float64"]),
        ("history-huge", ["/history/train_loss is float64[1099511627776], expected float64[2]"]),
        ("history-zeros", ["/history/train_loss is float64[131072], expected float64[2]"]),
        ("rng-huge", ["/training/rng/noise is uint64[1099511627776], expected uint64[4]"]),
        ("rng-float64", ["/training/rng/noise is float64[4], expected uint64[4]"]),
        ("latent-huge", ["/training/latent/kl is float64[1099511627776], expected float64[4]"]),
        ("latent-dim-1e6", ["latent dimension must be between 1 and 16384, got 1000000"]),
        ("latent-dim-2e33", ["latent dimension must be between 1 and 16384, got 8589934592"]),
        ("batch-size-max", ["batch size must be between 1 and 65536, got 9223372036854775807"]),
        ("kl-warmup-max", ["KL warm-up (epochs) must be between 0 and 1000000"]),
        ("threads-1e5", ["threads must be between 1 and 256, got 100000"]),
        ("config-huge", ["config is too large"]),
        ("lr-negative", ["$.training.optimizer.lr: -0.001 must be greater than 0"]),
        ("lr-differs", ["/optimizer attributes (lr 0.005", "differ from the config's optimizer (lr 0.001"]),
        ("fingerprint-int", ["attribute data_fingerprint is int64 scalar, expected a scalar variable-length string"]),
        ("best-val-loss-string", ["attribute best_val_loss is string scalar, expected a scalar float64"]),
        ("nan-weight", ["/model/fc1.weight[0] is nan; every value must be finite"]),
        ("external-link", ["model is an external link; zoo follows no links"]),
    ])
    func craftedFileIsRefusedByEveryReader(testCase: String, parts: [String]) throws {
        let path = try craft(testCase)
        let start = Date()
        try expectEveryReaderRefuses(path, parts)
        #expect(Date().timeIntervalSince(start) < 60, "six refusals in well under a minute, not a hang")
    }

    /// A soft link where no reader looks is never followed; --verify, which
    /// walks everything, names it. A file of 10^4+ objects is refused by the
    /// walk at once (10^5 objects took 346 s before).
    @Test(arguments: [
        ("soft-link", "alias is a soft link; zoo follows no links"),
        ("many-objects", "the file has 10001 links in one group, more than the 10000 zoo accepts"),
    ])
    func walkRefusesLinksAndFloods(testCase: String, message: String) throws {
        let start = Date()
        try expectEveryReaderRefuses(try craft(testCase), [message], readers: [["inspect", "--verify"]])
        #expect(Date().timeIntervalSince(start) < 60)
    }

    /// A hard link from /training/loop back to the root: readers and --verify
    /// visit each object once instead of recursing forever.
    @Test func hardLinkCycleIsVisitedOnce() throws {
        let path = try craft("hard-link-cycle")
        let r = try Zoo.run(["inspect", "--verify", path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("datasets read, checksums and layout OK") && r.stdout.contains("format 2 has no metadata digest"))
    }

    /// One changed value in a sealed format-3 file (resealed, so only the
    /// metadata digest can tell) is refused: resume would otherwise train another objective.
    @Test(arguments: ["flip-config-beta", "flip-optimizer-lr"])
    func changedMetadataFailsTheDigest(testCase: String) throws {
        try expectEveryReaderRefuses(
            try craft(testCase), ["was modified or damaged", "metadata digest"],
            readers: [["inspect", "--verify"], ["resume"], ["eval", "--limit", "50"]])
    }

    /// An unsealed file (format 2, as older zoo or h5py writes) still reads, with a note.
    @Test func olderFormatReadsWithANote() throws {
        let r = try Zoo.run(["inspect", try craft("plain")])
        #expect(
            r.status == 0 && r.stdout.contains("format 2 has no metadata digest: its config and attributes are unprotected"), "\(r.stderr)")
    }

    /// Damage anywhere in a sealed file is caught before HDF5 parses it.
    @Test func damagedSealedFileIsRefusedBeforeHDF5ReadsIt() throws {
        let base = try #require(hostileBase)
        let dir = Fixtures.temporaryDirectory("seal")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: base)))
        bytes[600] ^= 0x10  // inside HDF5's superblock
        Fixtures.write(bytes, to: dir + "/m.h5")
        expectRefusal(try Zoo.run(["inspect", dir + "/m.h5"]), ["is damaged", "no longer match the CRC-32"], "superblock bit")
        bytes[600] ^= 0x10
        bytes[3] ^= 0x01  // inside the seal itself
        Fixtures.write(bytes, to: dir + "/m.h5")
        expectRefusal(try Zoo.run(["inspect", dir + "/m.h5"]), ["is damaged", "seal"], "seal bit")
    }

    /// A FIFO as the checkpoint: refused at once instead of blocking in open.
    @Test func fifoIsRefusedAtOnce() throws {
        let path = Fixtures.temporaryDirectory("fifo") + "/m.h5"
        #expect(mkfifo(path, 0o644) == 0)
        for args in [["inspect", path], ["eval", path], ["embed", path, "--csv", "-"], ["resume", path]] {
            expectRefusal(try Zoo.run(args), ["a FIFO", "zoo reads only regular files"], args.joined(separator: " "))
        }
    }

    /// Resuming a read-only checkpoint is refused; the file keeps its mode and bytes.
    @Test func readOnlyCheckpointIsNotReplaced() throws {
        let base = try #require(hostileBase)
        let path = Fixtures.temporaryDirectory("ro") + "/m.h5"
        try FileManager.default.copyItem(atPath: base, toPath: path)
        chmod(path, 0o444)
        expectRefusal(try Zoo.run(["resume", path, "--epochs", "3"]), ["is read-only", "chmod u+w"], "read-only resume")
        var st = stat()
        stat(path, &st)
        #expect(st.st_mode & 0o777 == 0o444)
    }
}

@Suite(.serialized) struct HostileDataTests {
    @Test func idxDimensionsThatOverflowOrLieAreRefusedWithoutAllocating() throws {
        let dir = Fixtures.temporaryDirectory("idx")
        // Dimensions whose product overflows Int.
        Fixtures.write(
            Fixtures.gzip(Fixtures.idx(dimensions: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], data: [])),
            to: dir + "/train-images-idx3-ubyte.gz")
        Fixtures.write(Fixtures.gzip(Fixtures.idx(dimensions: [1], data: [0])), to: dir + "/train-labels-idx1-ubyte.gz")
        expectRefusal(try Zoo.run(["train", "--data", dir, "--epochs", "1"]), ["exceed"], "overflowing dimensions")
        // A label file of ~100 bytes announcing 4·10^9 labels.
        Fixtures.writeSplit("train", count: 10, in: dir)
        Fixtures.write(Fixtures.gzip(Fixtures.idx(dimensions: [4_000_000_000], data: [1, 2, 3])), to: dir + "/train-labels-idx1-ubyte.gz")
        let r = try Zoo.run(["train", "--data", dir, "--epochs", "1"])
        expectRefusal(r, ["train-labels-idx1-ubyte.gz is truncated", "4000000000 bytes"], "lying label count")
    }

    @Test func gzipBombIsRefusedQuickly() throws {
        let dir = Fixtures.temporaryDirectory("bomb")
        // 10 images announced, followed by 64 MiB of zeros: the surplus is
        // found after reading one byte past the announced data.
        Fixtures.writeSplit("t10k", count: 10, in: dir)
        let images = Fixtures.idx(dimensions: [10, 28, 28], data: [UInt8](repeating: 0, count: 10 * 784 + (64 << 20)))
        Fixtures.write(Fixtures.gzip(images), to: dir + "/train-images-idx3-ubyte.gz")
        Fixtures.write(
            Fixtures.gzip(Fixtures.idx(dimensions: [10], data: [UInt8](repeating: 1, count: 10))), to: dir + "/train-labels-idx1-ubyte.gz")
        let start = Date()
        expectRefusal(try Zoo.run(["train", "--data", dir, "--epochs", "1"]), ["bytes after the data"], "gzip bomb")
        #expect(Date().timeIntervalSince(start) < 30)
    }

    @Test func fifoInTheDataDirectoryIsRefusedAtOnce() throws {
        let dir = Fixtures.temporaryDirectory("fifo-data")
        Fixtures.writeSplit("t10k", count: 10, in: dir)
        #expect(mkfifo(dir + "/train-images-idx3-ubyte.gz", 0o644) == 0)
        Fixtures.write(
            Fixtures.gzip(Fixtures.idx(dimensions: [10], data: [UInt8](repeating: 1, count: 10))), to: dir + "/train-labels-idx1-ubyte.gz")
        expectRefusal(try Zoo.run(["train", "--data", dir, "--epochs", "1"]), ["not a regular file"], "FIFO in the data")
    }

    /// A data directory zoo may not read is reported as such, not as missing.
    /// (Root reads everything: the test drops the two capabilities that let it, with setpriv.)
    @Test func unreadableDataDirectoryIsNotCalledMissing() throws {
        let dir = Fixtures.temporaryDirectory("noperm")
        Fixtures.writeSplit("train", count: 10, in: dir)
        chmod(dir, 0)
        defer { chmod(dir, 0o755) }
        let r =
            getuid() == 0
            ? try Zoo.run(
                ["train", "--data", dir, "--epochs", "1"],
                wrapper: ["/usr/bin/setpriv", "--bounding-set=-dac_override,-dac_read_search"])
            : try Zoo.run(["train", "--data", dir, "--epochs", "1"])
        expectRefusal(r, ["cannot read \(dir): permission denied"], "unreadable data directory")
        #expect(!r.stderr.contains("does not exist"))
    }

    /// A relative --data is stored absolute: eval from another directory reads the same data.
    @Test func relativeDataPathIsStoredAbsolute() throws {
        let dir = Fixtures.temporaryDirectory("rel")
        let data = Fixtures.temporaryDirectory("reldata")
        Fixtures.writeSplit("train", count: 200, in: data)
        Fixtures.writeSplit("t10k", count: 100, in: data)
        let parent = URL(fileURLWithPath: data).deletingLastPathComponent().path
        let relative = URL(fileURLWithPath: data).lastPathComponent
        let r = try Zoo.run(
            ["train", "--data", relative, "--epochs", "1", "--hidden", "16", "--latent-dim", "2", "--save", dir + "/m.h5"],
            directory: parent)
        #expect(r.status == 0, "\(r.stderr)")
        let c = try Checkpoint.read(from: dir + "/m.h5")
        #expect(c.config.data.path == data, "\(c.config.data.path ?? "nil")")
        let e = try Zoo.run(["eval", dir + "/m.h5"], directory: "/")
        #expect(e.status == 0 && e.stdout.contains("100"), "\(e.stderr)")
    }
}

import Checkpoint
import Foundation
import TestSupport
import Testing

/// Issue 10: runs that are lost, doubled or given absurd values, through the binary.
@Suite(.serialized) struct HostileRunTests {
    /// A full file system (a 1 MiB tmpfs, root only; CI runs as root): the
    /// save fails with "no space left on device" naming the path, the old
    /// checkpoint stays intact, no temporary is left, and the message says what was lost.
    @Test func diskFullDuringASaveKeepsTheOldCheckpoint() throws {
        guard getuid() == 0 else {
            Issue.record("mounting a small tmpfs needs root; run the suite as root (CI does)")
            return
        }
        let mount = Fixtures.temporaryDirectory("full")
        let (status, text) = try runPython([
            "-c", "import subprocess,sys; sys.exit(subprocess.call(['mount','-t','tmpfs','-o','size=1m','tmpfs','\(mount)']))",
        ])
        #expect(status == 0, "mount: \(text)")
        defer { _ = try? runPython(["-c", "import subprocess; subprocess.call(['umount','\(mount)'])"]) }
        let path = mount + "/m.h5"
        let small = try Zoo.run(["train", "--limit", "300", "--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--save", path])
        #expect(small.status == 0, "\(small.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        for args in [
            ["train", "--limit", "300", "--epochs", "2", "--save", path],
            ["train", "--limit", "300", "--epochs", "2", "--val-split", "100", "--save", mount + "/other.h5"],
        ] {
            let r = try Zoo.run(args)
            #expect((1...127).contains(r.status) && !r.stderr.contains("crashed"), "\(r.stderr)")
            #expect(r.stderr.contains("no space left on device") && r.stderr.contains(mount), "\(r.stderr)")
            #expect(r.stderr.contains("is lost"), "says what was lost: \(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the previous checkpoint is intact")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount).filter { $0.contains(".tmp-") } == [])
        #expect(try Checkpoint.read(from: path).training?.epoch == 1)
    }

    /// Two runs on one path: the second refuses at start, naming the path and the process.
    @Test func secondRunOnTheSamePathIsRefused() throws {
        let dir = Fixtures.temporaryDirectory("lock")
        let path = dir + "/m.h5"
        let (first, errPath) = try Zoo.start(["train", "--limit", "600", "--epochs", "1000", "--batch-size", "200", "--save", path])
        defer {
            first.interrupt()
            first.waitUntilExit()
        }
        // Handshake: the first run has its lock once it prints its data line.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, first.isRunning, !((try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "").contains("data:") {
            usleep(1000)
        }
        let second = try Zoo.run(["train", "--limit", "600", "--epochs", "1", "--save", path])
        expectRefusal(second, ["\(path) is in use by another zoo run (process \(first.processIdentifier))"], "second train")
        #expect(!second.stdout.contains("epoch"))
        // Handshake: wait for the first save, then a resume of the same file is refused too.
        while Date() < deadline, first.isRunning, !FileManager.default.fileExists(atPath: path) { usleep(1000) }
        expectRefusal(try Zoo.run(["resume", path, "--epochs", "2000"]), ["is in use by another zoo run"], "concurrent resume")
    }

    /// A temporary left by a killed save is mentioned by inspect and removed by the next save.
    @Test func staleTemporariesAreReportedAndRemoved() throws {
        let dir = Fixtures.temporaryDirectory("stale")
        let path = dir + "/m.h5"
        #expect(
            try Zoo.run(["train", "--limit", "300", "--epochs", "1", "--hidden", "8", "--latent-dim", "2", "--save", path]).status == 0)
        // PID 2^22 + 1 is above Linux's pid_max limit, so no process has it.
        let stale = dir + "/.m.h5.tmp-4194305"
        Fixtures.write([UInt8](repeating: 7, count: 1000), to: stale)
        let r = try Zoo.run(["inspect", path])
        #expect(r.stdout.contains("stale temporary \(stale)"), "\(r.stdout)")
        #expect(try Zoo.run(["resume", path, "--epochs", "2"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: stale))
    }

    /// --keep 1 keeps one earlier epoch besides the current one.
    @Test func keepOneKeepsAnEarlierCheckpoint() throws {
        let dir = Fixtures.temporaryDirectory("keep")
        let r = try Zoo.run([
            "train", "--limit", "300", "--epochs", "3", "--hidden", "8", "--latent-dim", "2", "--keep", "1", "--save", dir + "/m.h5",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Checkpoint.read(from: dir + "/m-epoch-2.h5").training?.epoch == 2)
        #expect(try Checkpoint.read(from: dir + "/m.h5").training?.epoch == 3)
        #expect(!FileManager.default.fileExists(atPath: dir + "/m-epoch-1.h5"))
    }

    /// Command-line values that trapped, hung or allocated gigabytes: each is refused at once.
    @Test(arguments: [
        (["train", "--hidden", "100000000"], "--hidden: hidden layer sizes must be between 1 and 65536, got 100000000"),
        (["train", "--latent-dim", "1000000000"], "--latent-dim: latent dimension must be between 1 and 16384"),
        (["train", "--batch-size", "9223372036854775807"], "--batch-size: batch size must be between 1 and 65536"),
        (["train", "--kl-warmup", "9223372036854775807"], "--kl-warmup: KL warm-up (epochs) must be between 0 and 1000000"),
        (["train", "--threads", "9223372036854775807"], "--threads: threads must be between 1 and 256"),
        (["train", "--threads", "100000"], "--threads: threads must be between 1 and 256, got 100000"),
        (["train", "--epochs", "9223372036854775807"], "--epochs: epochs must be between 1 and 1000000"),
        (["train", "--hidden", "400,,400"], "--hidden takes comma-separated positive integers"),
        (
            ["train", "--hidden", "4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000,4000"],
            "--hidden: at most 16 hidden layers, got 17"
        ),
        (["train", "--hidden", "65536,65536,65536"], "more than the 268435456 zoo allows"),
        (["train", "--save", ""], "--save needs a file path"),
        (["train", "--recipe", "/dev/zero"], "cannot read the recipe /dev/zero: it is not a regular file"),
        (["bench", "--threads", "100000"], "--threads: threads must be between 1 and 256"),
        (["eval", "x.h5", "--threads", "100000"], "--threads must be between 1 and 256"),
        (["eval", "x.h5", "--nll", "--iw-samples", "1000000000"], "--iw-samples must be between 1 and 1000000"),
        (["eval", "x.h5", "--nll", "--iw-samples", "1e9", "--chunk", "1e9"], "1e9"),
        (["eval", "x.h5", "--nll", "--chunk", "1000000000"], "--chunk must be between 1 and 10000"),
        (["eval", "x.h5", "--nll", "--repeats", "1000000000"], "--repeats must be between 1 and 1000"),
        (["embed", "x.h5", "--csv", "-", "--samples", "100000000000"], "--samples must be between 0 and 1000"),
        (["embed", "x.h5", "--threads", "100000", "--csv", "-"], "--threads must be between 1 and 256"),
        (["embed", "x.h5", "--tsv", "-"], "--tsv takes a directory"),
        (["sample", "x.h5", "--out", "x.png", "--columns", "1000000000"], "--columns must be between 1 and 64"),
        (["sample", "x.h5", "--out", "x.png", "--scale", "0"], "--scale must be between 1 and 32, got 0"),
        (["train", "--samples-dir", "s", "--scale", "9223372036854775807"], "--scale must be between 1 and 32"),
        (["embed", "x.h5", "--plot", "p.png", "--scale", "33"], "--scale must be between 1 and 32, got 33"),
    ])
    func absurdCommandLineValuesAreRefused(arguments: [String], message: String) throws {
        let dir = Fixtures.temporaryDirectory("cli")
        let start = Date()
        let r = try Zoo.run(arguments, directory: dir)
        #expect((1...127).contains(r.status) && r.stderr.contains(message) && !r.stderr.contains("crashed"), "\(arguments): \(r.stderr)")
        #expect(!r.stdout.contains("epoch"), "refused before training")
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [], "nothing written")
    }

    /// A picture larger than zoo draws (64 Mi pixels) is refused, naming its
    /// size and the fix, before anything is drawn or written.
    @Test func picturesTooLargeAreRefused() throws {
        let ckpt = try #require(hostileBase)
        let dir = Fixtures.temporaryDirectory("big-picture")
        let r = try Zoo.run(["sample", ckpt, "--n", "10000", "--scale", "32", "--out", dir + "/g.png"])
        #expect(
            r.status == 1 && r.stderr.contains("pixels at --scale 32, more than the 67108864 zoo draws; use a smaller --scale"),
            "\(r.stderr)")
        let e = try Zoo.run(["embed", ckpt, "--limit", "10", "--plot", dir + "/p.png", "--scale", "10"])
        #expect(e.status == 1 && e.stderr.contains("9600 × 7600 pixels at --scale 10"), "\(e.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [], "nothing written")
        let ok = try Zoo.run(["embed", ckpt, "--limit", "10", "--plot", dir + "/p.png", "--scale", "2"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(pngSize(dir + "/p.png").map { [$0.width, $0.height] } == [1920, 1520])
    }

    /// eval with many threads on a handful of images runs one worker per image at most.
    @Test func evalThreadsAreCappedByTheImages() throws {
        let ckpt = try #require(hostileBase)
        let r = try Zoo.run(["eval", ckpt, "--limit", "4", "--nll", "--iw-samples", "10", "--threads", "256", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"threads\" : 4"), "\(r.stdout)")
    }
}

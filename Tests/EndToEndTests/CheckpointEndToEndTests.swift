import Checkpoint
import Foundation
import TestSupport
import Testing
import Training

/// `zoo train --save`, SIGINT and `zoo resume` through the binary.
@Suite(.serialized) struct CheckpointEndToEndTests {
    func expectSameRun(_ a: String, _ b: String) throws {
        let x = try Checkpoint.read(from: a)
        let y = try Checkpoint.read(from: b)
        for name in x.parameters.keys.sorted() {
            #expect(firstDifference(x.parameters[name]!, y.parameters[name]!) == nil, "\(name)")
            #expect(firstDifference(x.optimizer!.secondMoment[name]!, y.optimizer!.secondMoment[name]!) == nil, "moment of \(name)")
        }
        let strip = { (h: [EpochRecord]) in
            h.map {
                var r = $0
                r.seconds = 0
                return r
            }
        }
        #expect(strip(x.training!.history) == strip(y.training!.history))
        #expect(x.training!.globalStep == y.training!.globalStep && x.training!.noise == y.training!.noise)
    }

    @Test func resumeAtAnEpochBoundaryMatchesOneRun() throws {
        let dir = Fixtures.temporaryDirectory("e2e")
        let common = ["--limit", "2000", "--threads", "2", "--binarize", "dynamic"]
        #expect(try Zoo.run(["train", "--epochs", "3", "--save", dir + "/straight.h5"] + common).status == 0)
        #expect(try Zoo.run(["train", "--epochs", "1", "--save", dir + "/split.h5"] + common).status == 0)
        let r = try Zoo.run(["resume", dir + "/split.h5", "--epochs", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("epoch 3/3"))
        try expectSameRun(dir + "/straight.h5", dir + "/split.h5")
    }

    @Test func sigintMidEpochSavesAndResumeMatchesOneRun() throws {
        let dir = Fixtures.temporaryDirectory("e2e")
        let common = ["--limit", "20000", "--threads", "2", "--epochs", "2"]
        let (p, errPath) = try Zoo.start(["train", "--save", dir + "/split.h5"] + common)
        // Interrupt once training is under way (the first progress line).
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, p.isRunning,
            !(String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self).contains("step "))
        {
            usleep(20_000)
        }
        p.interrupt()
        p.waitUntilExit()
        let err = String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(err)")
        #expect(err.contains("interrupted at epoch 1, step") && err.contains("zoo resume"), "\(err)")
        let saved = try Checkpoint.read(from: dir + "/split.h5")
        #expect(saved.training!.stepInEpoch > 0, "stopped mid-epoch")
        let r = try Zoo.run(["resume", dir + "/split.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Zoo.run(["train", "--save", dir + "/straight.h5"] + common).status == 0)
        try expectSameRun(dir + "/straight.h5", dir + "/split.h5")
    }

    @Test func resumeRefusesChangedDataUnlessAllowed() throws {
        let dir = Fixtures.temporaryDirectory("e2e")
        #expect(try Zoo.run(["train", "--limit", "500", "--epochs", "1", "--save", dir + "/m.h5"]).status == 0)
        let changed = try Zoo.run(["resume", dir + "/m.h5", "--epochs", "2", "--data", Fixtures.writeSplitDirectory(count: 500)])
        #expect(changed.status != 0)
        #expect(changed.stderr.contains("differs from the data") && changed.stderr.contains("--allow-data-change"), "\(changed.stderr)")
        let allowed = try Zoo.run([
            "resume", dir + "/m.h5", "--epochs", "2", "--allow-data-change",
            "--data", Fixtures.writeSplitDirectory(count: 500),
        ])
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func saveTargetProblemsAreReportedBeforeTraining() throws {
        let r = try Zoo.run(["train", "--limit", "100", "--epochs", "1", "--save", "/nonexistent-dir/m.h5"])
        #expect(r.status != 0 && r.stderr.contains("/nonexistent-dir") && r.stderr.contains("does not exist"))
        #expect(!r.stdout.contains("epoch"))
        let dir = Fixtures.temporaryDirectory("e2e")
        let notCheckpoint = dir + "/x.h5"
        Fixtures.write(Array("text".utf8), to: notCheckpoint)
        let q = try Zoo.run(["resume", notCheckpoint])
        #expect(q.status != 0 && q.stderr.contains("not a zoo checkpoint"))
    }
}

/// Crash safety and unwritable targets, through the binary.
@Suite(.serialized) struct CrashSafetyTests {
    /// Killed with SIGKILL while saving every epoch, at instants chosen by
    /// handshakes (no sleeps): even rounds the moment a save's temporary file
    /// appears (mid-save), odd rounds the moment the k-th save has landed.
    /// The target is always absent (before the first save) or a complete,
    /// valid checkpoint; the next save removes the temporaries the kills left.
    @Test func killDashNineNeverLeavesABrokenCheckpoint() throws {
        let dir = Fixtures.temporaryDirectory("kill")
        let path = dir + "/m.h5"
        var validAfterKill = 0
        var midSave = 0
        func inode() -> UInt64 {
            var st = stat()
            return stat(path, &st) == 0 ? UInt64(st.st_ino) : 0
        }
        for round in 0..<8 {
            let (p, _) = try Zoo.start(["train", "--limit", "600", "--epochs", "1000", "--batch-size", "200", "--save", path])
            let temporary = dir + "/.m.h5.tmp-\(p.processIdentifier)"
            var landed = 0
            var last = inode()
            let deadline = Date().addingTimeInterval(120)
            while p.isRunning, Date() < deadline {
                if round % 2 == 0, access(temporary, F_OK) == 0 {
                    midSave += 1
                    break
                }
                let now = inode()
                if now != last, now != 0 {
                    landed += 1
                    last = now
                }
                if round % 2 == 1, landed > round / 2 { break }
                if landed > 20 { break }  // the temporary's moment kept slipping past: kill anyway
                usleep(100)
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal)
            if FileManager.default.fileExists(atPath: path) {
                do {
                    let c = try Checkpoint.read(from: path)
                    #expect(c.training != nil && c.parameters.count == 10)
                    validAfterKill += 1
                } catch {
                    Issue.record("after SIGKILL in round \(round) the checkpoint is broken: \(error)")
                }
            }
        }
        #expect(validAfterKill >= 6, "the kills should land after saves began (\(validAfterKill) of 8)")
        #expect(midSave >= 2, "some kills should land while a temporary was being written (\(midSave))")
        let r = try Zoo.run(["train", "--limit", "600", "--epochs", "1", "--batch-size", "200", "--save", path])
        #expect(r.status == 0, "\(r.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        #expect(left == [], "the next save removes the temporaries of killed runs")
    }

    @Test func readOnlyDirectoryIsRefusedAndTheOldCheckpointKept() throws {
        let dir = Fixtures.temporaryDirectory("ro")
        let path = dir + "/m.h5"
        #expect(try Zoo.run(["train", "--limit", "500", "--epochs", "1", "--save", path]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let undo = Fixtures.makeUnwritable(dir) else {
            Issue.record("cannot make a directory unwritable on this machine (no chattr on this filesystem)")
            return
        }
        defer { undo() }
        let train = try Zoo.run(["train", "--limit", "500", "--epochs", "1", "--save", dir + "/other.h5"])
        #expect(train.status != 0 && train.stderr.contains("not writable"), "\(train.stderr)")
        #expect(!train.stdout.contains("epoch"), "refused before training")
        let resume = try Zoo.run(["resume", path, "--epochs", "2"])
        #expect(resume.status != 0 && resume.stderr.contains(dir), "\(resume.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the existing checkpoint is unchanged")
    }
}

import Foundation
import Support
import TestSupport
import Testing

@Suite struct SupportTests {
    /// Several files commit as one: when the second rename fails, the first
    /// target is put back as it was and no temporary is left.
    @Test func multiFileCommitIsAllOrNothing() throws {
        let dir = Fixtures.temporaryDirectory("commit")
        try "old vectors\n".write(toFile: dir + "/vectors.tsv", atomically: false, encoding: .utf8)
        let a = try OutputFile(dir + "/vectors.tsv")
        let b = try OutputFile(dir + "/metadata.tsv")
        try a.write("new vectors\n")
        try b.write("new metadata\n")
        // The second target becomes a non-empty directory after its file was opened: its rename fails.
        try FileManager.default.createDirectory(atPath: dir + "/metadata.tsv/x", withIntermediateDirectories: true)
        #expect(throws: FileWriteError.self) { try OutputFile.commit([a, b]) }
        #expect(try String(contentsOfFile: dir + "/vectors.tsv", encoding: .utf8) == "old vectors\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["metadata.tsv", "vectors.tsv"])
    }

    @Test func staleTemporariesOfGoneProcessesOnly() throws {
        let dir = Fixtures.temporaryDirectory("stale")
        let target = dir + "/m.h5"
        Fixtures.write([1], to: dir + "/.m.h5.tmp-4194305")  // above pid_max: gone
        // A commit's backup link, left by a process killed between its link and unlink (seen in CI once).
        Fixtures.write([1], to: dir + "/.m.h5.tmp-4194305.old")
        Fixtures.write([1], to: dir + "/.m.h5.tmp-\(getpid())")  // this process: alive
        Fixtures.write([1], to: dir + "/.m.h5.tmp-\(getpid()).old")
        Fixtures.write([1], to: dir + "/.other.h5.tmp-4194305")  // another target's
        Fixtures.write([1], to: dir + "/.m.h5.tmp-4194305.new")  // not a name zoo writes
        #expect(Temporaries.stale(for: target) == [dir + "/.m.h5.tmp-4194305", dir + "/.m.h5.tmp-4194305.old"])
        #expect(Temporaries.removeStale(for: target) == 2)
        #expect(
            Set(try FileManager.default.contentsOfDirectory(atPath: dir)) == [
                ".m.h5.tmp-4194305.new", ".m.h5.tmp-\(getpid())", ".m.h5.tmp-\(getpid()).old", ".other.h5.tmp-4194305",
            ])
    }

    @Test func runLockRefusesASecondHolderAndNamesTheFirst() throws {
        let path = Fixtures.temporaryDirectory("lock") + "/m.h5"
        let first = try RunLock(path)
        do {
            _ = try RunLock(path)
            Issue.record("a second lock was granted")
        } catch let e as RunLock.Failure {
            #expect("\(e)".contains("process \(getpid())"), "\(e)")
        }
        first.release()
        let again = try RunLock(path)
        again.release()
    }

    @Test func writeAtomicallyReportsAFailureAndLeavesNoTemporary() throws {
        let dir = Fixtures.temporaryDirectory("atomic")
        try writeAtomically([1, 2, 3], to: dir + "/f")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/f")) == Data([1, 2, 3]))
        #expect(throws: FileWriteError.self) { try writeAtomically([1], to: dir + "/missing/f") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f"])
    }
}

import Foundation
import TestSupport
import Testing

/// `zoo train/resume --log DIR` (issue 15, item 1): metrics.csv rows every
/// --log-every steps and per epoch, the same figures the epoch lines print,
/// continued across a SIGINT and resume with each row once and the same
/// values as an uninterrupted run; TensorBoard's reader (Tests/python/
/// check_tensorboard.py) sees the same in the event file, with a sample grid
/// per epoch; a new run refuses another run's file.
@Suite(.serialized) struct MetricsEndToEndTests {
    static func rows(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// The rows without the wall-clock column (index 4).
    static func withoutSeconds(_ rows: [[String]]) -> [[String]] {
        rows.map { r in r.enumerated().filter { $0.offset != 4 }.map(\.element) }
    }

    @Test func rowsMatchThePrintedEpochsAndSurviveAnInterruptedRun() throws {
        let dir = Fixtures.temporaryDirectory("metrics")
        let common = ["--limit", "4000", "--epochs", "2", "--batch-size", "50", "--hidden", "64", "--log-every", "7", "--threads", "2"]
        let straight = try Zoo.run(["train", "--log", dir + "/straight", "--save", dir + "/straight.h5"] + common)
        #expect(straight.status == 0, "\(straight.stderr)")
        let rows = try Self.rows(dir + "/straight/metrics.csv")
        #expect(
            rows.first?.joined(separator: ",")
                == "kind,global_step,epoch,step_in_epoch,wall_seconds,loss,reconstruction,kl,beta,lr,test_loss,validation_loss,active_units"
        )
        let steps = rows.filter { $0.first == "step" }
        let epochs = rows.filter { $0.first == "epoch" }
        // 80 steps per epoch, a row every 7 global steps: 22 step rows, 2 epoch rows.
        #expect(steps.count == 160 / 7 && epochs.count == 2)
        #expect(steps.map { Int($0[1]) ?? 0 } == Array(stride(from: 7, through: 160, by: 7)))
        // The epoch rows hold the figures the epoch lines print.
        for (line, row) in zip(straight.stdout.split(separator: "\n"), epochs) {
            let train = String(format: "%.2f", Double(row[5]) ?? .nan)
            let test = String(format: "%.2f", Double(row[10]) ?? .nan)
            #expect(line.contains("train \(train)") && line.contains("test \(test)"), "\(line) vs \(row)")
        }
        #expect(steps.allSatisfy { (Double($0[5]) ?? 0) > 0 && $0[10].isEmpty })

        // Interrupted mid-epoch, then resumed: the same rows, each once.
        let (p, errPath) = try Zoo.start(["train", "--log", dir + "/split", "--save", dir + "/split.h5"] + common)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, p.isRunning,
            !(String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self).contains("epoch 2/2 step"))
        {
            usleep(20_000)
        }
        p.interrupt()
        p.waitUntilExit()
        #expect(p.terminationStatus == 130)
        let r = try Zoo.run(["resume", dir + "/split.h5", "--log", dir + "/split"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.withoutSeconds(try Self.rows(dir + "/split/metrics.csv")) == Self.withoutSeconds(rows))
        // TensorBoard's own reader sees the same steps and values, each once, and a sample grid per epoch.
        for run in ["straight", "split"] {
            let (status, output) = try runPython(
                [repository.appendingPathComponent("Tests/python/check_tensorboard.py").path, dir + "/" + run], venv: true)
            #expect(status == 0, "\(run): \(output)")
        }

        // A new run does not overwrite another run's log.
        let again = try Zoo.run(["train", "--log", dir + "/straight"] + common)
        #expect(again.status == 1 && again.stderr.contains("holds the rows of another run"), "\(again.stderr)")
    }
}

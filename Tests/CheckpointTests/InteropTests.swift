import Foundation
import TestSupport
import Testing

@testable import Checkpoint
@testable import Training

/// A checkpoint zoo wrote, read by h5py + numpy (Debian's python3-h5py, python3-numpy).
@Suite(.serialized) struct InteropTests {
    @Test func h5pyReadsTheDocumentedLayoutAndTheSameStatistics() throws {
        let (t, path) = try trainedCheckpoint(stopAfterSteps: 20)
        // The same shape as `zoo inspect --json`'s "parameters" list.
        var stats: [[String: Any]] = []
        for e in t.model.parameters.entries {
            let v = t.model.parameters.value(e.name).array.map(Double.init)
            let mean = v.reduce(0, +) / Double(v.count)
            let std = (v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)).squareRoot()
            stats.append(["name": e.name, "shape": e.shape, "mean": mean, "std": std, "norm": v.reduce(0) { $0 + $1 * $1 }.squareRoot()])
        }
        let statsPath = path + ".stats.json"
        try JSONSerialization.data(withJSONObject: ["parameters": stats]).write(to: URL(fileURLWithPath: statsPath))
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("python/check_checkpoint.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [script, path, statsPath]
        let err = Pipe()
        let out = Pipe()
        p.standardError = err
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "h5py check failed: \(message)")
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).hasPrefix("ok: 10 parameters"))
    }
}

import Foundation
import TestSupport
import Testing

/// The README's "Your own data" block is a script: every line is run, in
/// order, in a scratch directory whose `Tests` links to the repository's,
/// with the built `zoo` first on the PATH; each must succeed.
@Suite(.serialized) struct ReadmeExampleTests {
    static func block() throws -> [String] {
        let readme = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
        guard let section = readme.range(of: "## Your own data"),
            let start = readme.range(of: "```sh\n", range: section.upperBound..<readme.endIndex),
            let end = readme.range(of: "```", range: start.upperBound..<readme.endIndex)
        else { return [] }
        return readme[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init).filter {
            !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty
        }
    }

    @Test func everyCommandOfTheOwnDataSectionRuns() throws {
        let lines = try Self.block()
        #expect(lines.count >= 8 && lines.contains { $0.hasPrefix("zoo train --data Tests/Data/photos") })
        let dir = Fixtures.temporaryDirectory("readme")
        try FileManager.default.createSymbolicLink(
            atPath: dir + "/Tests", withDestinationPath: repository.appendingPathComponent("Tests").path)
        let bin = URL(fileURLWithPath: Zoo.executable).deletingLastPathComponent().path
        for line in lines {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", line]
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = bin + ":/usr/bin:/bin"
            p.environment = env
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "\(line)\n\(text.suffix(600))")
        }
        for made in ["digits-npz.png", "wine.png", "photos/sampled-2.png"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + made), "\(made)")
        }
    }
}

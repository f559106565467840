import Foundation
import Testing

/// ARCHITECTURE.md's module table is the real graph: each module's row lists
/// exactly the zoo modules and library shims its sources import.
@Suite struct ArchitectureTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    /// Imports that are the platform's, not part of the graph.
    static let platform: Set<String> = ["Foundation", "FoundationEssentials", "Glibc", "Darwin", "Dispatch", "Synchronization"]

    func importsOfSources() throws -> [String: Set<String>] {
        let sources = Self.repository.appendingPathComponent("Sources")
        var out: [String: Set<String>] = [:]
        for module in try FileManager.default.contentsOfDirectory(atPath: sources.path) {
            var imports: Set<String> = []
            let files =
                FileManager.default.enumerator(atPath: sources.appendingPathComponent(module).path)?
                .compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
            for file in files {
                let text = try String(contentsOf: sources.appendingPathComponent(module).appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") where line.hasPrefix("import ") || line.hasPrefix("@testable import ") {
                    if let name = line.split(separator: " ").last.map(String.init), !Self.platform.contains(name) { imports.insert(name) }
                }
            }
            out[module] = imports
        }
        return out
    }

    func documentedGraph() throws -> [String: Set<String>] {
        let text = try String(contentsOf: Self.repository.appendingPathComponent("ARCHITECTURE.md"), encoding: .utf8)
        guard let start = text.range(of: "<!-- module-graph") else { return [:] }
        var out: [String: Set<String>] = [:]
        for line in text[start.upperBound...].split(separator: "\n").dropFirst() {
            guard line.hasPrefix("| `") else {
                if line.hasPrefix("| ---") || line.hasPrefix("| module") { continue }
                break
            }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            func names(_ cell: String) -> [String] {
                cell.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }.filter {
                    !$0.isEmpty && $0 != "—"
                }
            }
            for module in names(cells[1]) { out[module] = Set(names(cells[2])) }
        }
        return out
    }

    @Test func moduleTableMatchesTheImports() throws {
        let real = try importsOfSources()
        let documented = try documentedGraph()
        #expect(Set(documented.keys) == Set(real.keys), "modules: documented \(documented.keys.sorted()), real \(real.keys.sorted())")
        for (module, imports) in real.sorted(by: { $0.key < $1.key }) {
            #expect(
                documented[module] == imports,
                "\(module): ARCHITECTURE.md says \((documented[module] ?? []).sorted()), the sources import \(imports.sorted())")
        }
    }

    /// Dependencies point one way: no cycle among the modules.
    @Test func theGraphHasNoCycle() throws {
        let graph = try importsOfSources()
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ m: String) -> Bool {
            if state[m] == 2 { return true }
            if state[m] == 1 { return false }
            state[m] = 1
            for d in graph[m] ?? [] where graph[d] != nil { if !visit(d) { return false } }
            state[m] = 2
            return true
        }
        for m in graph.keys { #expect(visit(m), "a cycle through \(m)") }
    }
}

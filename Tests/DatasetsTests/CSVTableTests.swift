import Foundation
import TestSupport
import Testing

@testable import Datasets

@Suite struct CSVTableTests {
    func table(_ text: String, label: String? = nil) throws -> CSVTable.Loaded {
        let path = Fixtures.temporaryPath("table") + ".csv"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        return try CSVTable.load(path: path, labelColumn: label)
    }

    @Test func numericColumnsAreFeaturesAndStringLabelsSortedClasses() throws {
        let t = try table("id,x,\"note, quoted\",y,kind\nA,1.5,\"a, b\",-2,cat\nB,2,\"c\",3e1,ant\nC,0.25,d,4,cat\n", label: "kind")
        #expect(t.examples.shape == [2] && t.examples.count == 3 && t.examples.hasLabels)
        #expect(t.examples.values == .floats([1.5, -2, 2, 30, 0.25, 4]))
        #expect(t.classNames == ["ant", "cat"] && t.examples.labels == [1, 0, 1])
        #expect(t.description.contains("3 rows × 2 numeric columns, label column 'kind' (2 classes: ant, cat)"))
        #expect(t.description.contains("non-numeric columns left out: id, note, quoted"))
    }

    @Test func integerLabelsAreUsedAsTheyAre() throws {
        let t = try table("a,b,digit\n0,1,7\n1,0,2\n", label: "digit")
        #expect(t.examples.labels == [7, 2] && t.classNames == nil && t.examples.shape == [2])
        let unlabelled = try table("a,b\n0,1\n1,0\n")
        #expect(!unlabelled.examples.hasLabels && unlabelled.examples.shape == [2])
    }

    @Test(
        arguments: [
            ("a,b\n1,2\n3,x\n", nil, "data row 2, column 'b' holds 'x', not a number"),
            ("a,b\n1,2\n3,\n", nil, "data row 2, column 'b' is empty"),
            ("a,b\n1,2\n3,4,5\n", nil, "data row 2 has 3 fields but the header has 2"),
            ("a,b\n1\n", nil, "data row 1 has 1 fields but the header has 2"),
            ("name,kind\nx,y\n", nil, "no column holds numbers"),
            ("a,b\n1,2\n", "label", "there is no column 'label' for --label-column; the columns are a, b"),
            ("a,a\n1,2\n", nil, "the header names column 'a' twice"),
            ("a,b\n1,1e39\n", nil, "holds 1e39, not a finite float32 number"),
            ("a,b\n", nil, "holds no images"),
        ] as [(String, String?, String)])
    func badTablesNameTheRowAndColumn(text: String, label: String?, message: String) {
        #expect {
            try table(text, label: label)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func rowsAreWrittenAsCSVThatReadsBack() throws {
        let text = CSVTable.encode([1.5, -2, 0.1, 3], columns: 2, names: ["a", "b, c"], kinds: ["in", "out\"put"])
        #expect(text == "kind,a,\"b, c\"\r\nin,1.5,-2.0\r\n\"out\"\"put\",0.1,3.0\r\n")
        let back = try table(CSVTable.encode([0.25, 1e-7, 12, 5], columns: 2))
        #expect(back.examples.values == .floats([0.25, 1e-7, 12, 5]) && back.examples.shape == [2])
    }

    @Test func sourceKindIsACSVTableWhenTheContentIsOne() throws {
        let dir = Fixtures.temporaryDirectory("csvsrc")
        try "a,b\n1,2\n".write(toFile: dir + "/data.txt", atomically: true, encoding: .utf8)
        #expect(try DataSource(path: dir + "/data.txt").kind == .csv)
        try "just words\n".write(toFile: dir + "/words.csv", atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.unknownSource(path: dir + "/words.csv")) { try DataSource(path: dir + "/words.csv") }
        #expect(try DataSource(path: dir + "/data.txt").load(limit: nil, testSplit: 0).train.count == 1)
        // --label-column belongs to CSV tables only.
        Fixtures.write(Fixtures.npy(descr: "|u1", shape: [2, 2], data: [0, 1, 2, 3]), to: dir + "/x.npy")
        #expect(throws: DatasetError.self) { try DataSource(path: dir + "/x.npy").load(limit: nil, testSplit: 0, labelColumn: "y") }
    }
}

import Foundation
import TestSupport
import Testing

@testable import Datasets

@Suite struct NumPyTests {
    func parse(_ bytes: [UInt8]) throws -> NumPyArray { try NumPyReader.parse(bytes, path: "/d/x.npy") }

    @Test(arguments: [UInt8(1), 2])
    func readsWhatNumpySaveWrites(version: UInt8) throws {
        let a = try parse(Fixtures.npy(descr: "|u1", shape: [2, 3], data: [1, 2, 3, 4, 5, 6], version: version))
        #expect(a.dtype == .uint8 && a.shape == [2, 3] && a.bytes == [1, 2, 3, 4, 5, 6])
        let f = try parse(Fixtures.npy(descr: "<f8", shape: [1], data: Fixtures.bytes([0.25])))
        #expect(f.dtype == .float64 && f.shape == [1] && f.count == 1)
    }

    static let magicless: [UInt8] = Fixtures.npy(descr: "|u1", shape: [2], data: [1, 2]).enumerated().map {
        $0.offset == 1 ? 0x58 : $0.element
    }
    static let badFiles: [([UInt8], String)] = [
        (magicless, "does not start with NumPy's magic"),
        (Fixtures.npy(descr: "|O", shape: [2], data: Array(repeating: 0, count: 16)), "Python objects (dtype |O)"),
        (Fixtures.npy(descr: "<f4", shape: [2, 2], data: Array(repeating: 0, count: 16), fortran: true), "Fortran order"),
        (Fixtures.npy(descr: "<c8", shape: [1], data: Array(repeating: 0, count: 8)), "dtype <c8 is not one zoo reads"),
        (Fixtures.npy(descr: ">f4", shape: [1], data: Array(repeating: 0, count: 4)), "big-endian"),
        (
            Fixtures.npy(descr: "<f4", shape: [1000, 1000], data: Array(repeating: 0, count: 16)),
            "needs 4000000 bytes of data but the file holds 16"
        ),
        (Fixtures.npy(descr: "<f4", shape: [1_000_000, 1_000_000, 1000], data: []), "larger than zoo's 4 GiB limit"),
        (Fixtures.npy(descr: "|u1", shape: [2], data: [1, 2, 3]), "1 bytes after the data"),
        (
            Fixtures.npy(descr: "", shape: [], data: [], header: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"),
            "structured (record) array"
        ),
        (Fixtures.npy(descr: "", shape: [], data: [], header: "{'descr': '<f4', 'shape': (2,)"), "is not a NumPy header"),
        (Fixtures.npy(descr: "", shape: [], data: [], header: "{'descr': '<f4', 'fortran_order': False}"), "no 'shape' tuple"),
        ([0x93] + Array("NUMPY".utf8) + [1, 0, 0xFF, 0xFF], "the header claims 65535 bytes"),
        ([0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0], "format version 9.0"),
    ]

    /// Every malformed or unsupported file is refused with its reason, before any allocation of its declared size.
    @Test(arguments: badFiles)
    func badFilesAreRefusedWithTheReason(bytes: [UInt8], message: String) {
        #expect {
            try parse(bytes)
        } throws: { error in
            let text = "\(error)"
            return text.contains(message) && text.contains("/d/x.npy")
        }
    }

    @Test func writtenArraysReadBack() throws {
        let values: [Float] = [0, -1.5, 3e38, 1e-30, .pi, 7]
        let bytes = NumPyWriter.encode(values, shape: [2, 3])
        #expect((bytes.count - values.count * 4) % 64 == 0, "the header is padded to 64 bytes as numpy writes it")
        let a = try parse(bytes)
        #expect(a.dtype == .float32 && a.shape == [2, 3])
        let (set, _) = try ArrayExamples.examples(a, path: "x")
        #expect(set.values == .floats(values))
        #expect(try parse(NumPyWriter.encode([1], shape: [1])).shape == [1])
    }

    func examples(_ descr: String, _ shape: [Int], _ data: [UInt8]) throws -> (ImageSet, ArrayLayout) {
        try ArrayExamples.examples(try parse(Fixtures.npy(descr: descr, shape: shape, data: data)), path: "/d/x.npy")
    }

    @Test func shapesMapToExamples() throws {
        let (v, vl) = try examples("|u1", [3, 4], Array(0..<12))
        #expect(v.shape == [4] && v.count == 3 && vl == .vectors && !v.hasLabels && v.values == .bytes(Array(0..<12)))
        let (g, gl) = try examples("|u1", [2, 2, 3], Array(0..<12))
        #expect(g.shape == [1, 2, 3] && gl == .greyImages)
        let (cf, cfl) = try examples("|u1", [1, 2, 2, 2], Array(0..<8))
        #expect(cf.shape == [2, 2, 2] && cfl == .channelsFirst && cf.values == .bytes(Array(0..<8)))
        // (N, H, W, C) = (1, 1, 2, 3): pixel-major RGB triples become planes.
        let (cl, cll) = try examples("|u1", [1, 1, 2, 3], [10, 11, 12, 20, 21, 22])
        #expect(cl.shape == [3, 1, 2] && cll == .channelsLast && cl.values == .bytes([10, 20, 11, 21, 12, 22]))
        let (f, _) = try examples("<f8", [1, 2], Fixtures.bytes([0.5, -2.25]))
        #expect(f.values == .floats([0.5, -2.25]))
    }

    @Test(
        arguments: [
            ("<f4", [2, 2], Fixtures.bytes([0, 1, .nan, 0] as [Float]), "nan at index [1, 0]; every value must be a finite number"),
            ("<f8", [1, 2], Fixtures.bytes([0, 1e300]), "1e+300 at index [0, 1]"),
            ("<f8", [1, 2], Fixtures.bytes([-Double.infinity, 0]), "-inf at index [0, 0]"),
            ("<i2", [1, 2], [0, 0, 0, 0], "an integer type other than uint8"),
            ("|u1", [4], [0, 0, 0, 0], "its shape [4] is not (N, D)"),
            ("|u1", [0, 4], [], "holds no images"),
            ("|u1", [1, 2, 3, 4, 5], Array(repeating: 0, count: 120), "its shape [1, 2, 3, 4, 5] is not"),
        ] as [(String, [Int], [UInt8], String)])
    func badExamplesAreRefused(descr: String, shape: [Int], data: [UInt8], message: String) {
        #expect {
            try examples(descr, shape, data)
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}

@Suite struct DataSourceTests {
    @Test func theKindComesFromWhatThePathIs() throws {
        let dir = Fixtures.temporaryDirectory("src")
        Fixtures.writeSplit("train", count: 5, in: dir)
        #expect(try DataSource(path: dir).kind == .mnistDirectory)
        let npy = dir + "/data.bin"  // the name says nothing; the content does
        Fixtures.write(Fixtures.npy(descr: "|u1", shape: [5, 3], data: Array(0..<15)), to: npy)
        #expect(try DataSource(path: npy).kind == .numpy)
        Fixtures.write(Array("index,x\n".utf8), to: dir + "/table.npy")
        #expect(try DataSource(path: dir + "/table.npy").kind == .csv)
        Fixtures.write([0, 1, 2, 3], to: dir + "/binary.npy")
        #expect(throws: DatasetError.unknownSource(path: dir + "/binary.npy")) { try DataSource(path: dir + "/binary.npy") }
        #expect(throws: DatasetError.sourceMissing(path: dir + "/none.npy")) { try DataSource(path: dir + "/none.npy") }
    }

    /// The held-out test split depends on the data and its size only: disjoint, complete, the same every time.
    @Test func testSplitIsAFixedDisjointHoldOut() throws {
        let path = Fixtures.temporaryPath("split") + ".npy"
        Fixtures.write(Fixtures.npy(descr: "|u1", shape: [50, 1], data: Array(0..<50)), to: path)
        let source = try DataSource(path: path)
        let loaded = try source.load(limit: nil, testSplit: 10)
        let (train, test, description) = (loaded.train, loaded.test, loaded.description)
        #expect(train.count == 40 && test?.count == 10 && test?.split == .test && description.contains("uint8 [50, 1], as vectors"))
        let all = Set(train.pixels + (test?.pixels ?? []))
        #expect(all == Set(0..<50))
        let again = try source.load(.test, limit: nil, testSplit: 10)
        #expect(again.pixels == test?.pixels)
        #expect(try source.load(limit: 20, testSplit: 5).train.count == 15)
        #expect(throws: DatasetError.testSplitTooLarge(path: path, requested: 50, available: 50)) {
            try source.load(limit: nil, testSplit: 50)
        }
        #expect(throws: DatasetError.noTestSplit(path: path)) { try source.load(.test, limit: nil, testSplit: 0) }
    }
}

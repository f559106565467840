import Foundation
import TestSupport
import Testing

@testable import Datasets

@Suite struct ImageFolderTests {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Data")
        .path

    /// Tests/Data/png-kinds holds one 6×4 ramp (0, 10, …, 230) in six PNG
    /// kinds that Pillow wrote: grey 8-bit, grey+alpha, grey 16-bit (v·257),
    /// and RGB (ramp, 255 − ramp, 100) as RGB, RGBA and a palette.
    @Test func everyPNGKindDecodesToTheSamePixels() throws {
        let folder = try ImageFolder.load(root: Self.data + "/png-kinds")
        #expect(folder.classNames == ["colour", "grey"] && folder.test == nil)
        let set = folder.train
        #expect(set.shape == [3, 4, 6] && set.count == 6 && set.labels == [0, 0, 0, 1, 1, 1])
        let ramp = (0..<24).map { UInt8($0 * 10) }
        let plane = 24
        for k in 0..<6 {
            let image = Array(set.pixels[(k * 3 * plane)..<((k + 1) * 3 * plane)])
            if k < 3 {
                #expect(Array(image[0..<plane]) == ramp, "colour image \(k), red")
                #expect(Array(image[plane..<(2 * plane)]) == ramp.map { 255 - $0 }, "colour image \(k), green")
                #expect(image[(2 * plane)...].allSatisfy { $0 == 100 }, "colour image \(k), blue")
            } else {
                // Grey images in a colour folder: the grey value in all three planes; alpha dropped, 16 bits → high byte.
                for c in 0..<3 { #expect(Array(image[(c * plane)..<((c + 1) * plane)]) == ramp, "grey image \(k), plane \(c)") }
            }
        }
    }

    @Test func photographsWithATrainAndTestSplit() throws {
        let folder = try ImageFolder.load(root: Self.data + "/photos")
        #expect(folder.classNames == ["china", "flower"])
        #expect(folder.train.shape == [3, 16, 24] && folder.train.count == 58 && folder.test?.count == 14)
        #expect(folder.test?.split == .test && Set(folder.test?.labels ?? []) == [0, 1])
        #expect(folder.description.contains("24×16 (width × height) colour PNGs"))
    }

    func copy(_ file: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.data + "/" + file, toPath: path)
    }

    @Test func badFoldersNameTheFileAndTheProblem() throws {
        let root = Fixtures.temporaryDirectory("folder")
        // Two sizes: a 6×4 ramp and a 24×16 photo.
        try copy("png-kinds/grey/0-grey8.png", to: root + "/sizes/a/0.png")
        try copy("photos/train/china/000.png", to: root + "/sizes/a/1.png")
        #expect(
            throws: DatasetError.badFolder(
                path: root + "/sizes/a/1.png", reason: "it is 24×16 pixels but \(root)/sizes/a/0.png is 6×4; every image must have one size"
            )
        ) {
            try ImageFolder.load(root: root + "/sizes")
        }
        try copy("png-kinds/grey/0-grey8.png", to: root + "/junk/a/0.png")
        try "not a picture".write(toFile: root + "/junk/a/notes.txt", atomically: true, encoding: .utf8)
        #expect {
            try ImageFolder.load(root: root + "/junk")
        } throws: { "\($0)".contains("junk/a/notes.txt cannot be read as an image folder: it is not a readable PNG image: not a PNG file") }
        try copy("png-kinds/grey/0-grey8.png", to: root + "/empty/a/0.png")
        try FileManager.default.createDirectory(atPath: root + "/empty/b", withIntermediateDirectories: true)
        #expect(throws: DatasetError.badFolder(path: root + "/empty/b", reason: "the class folder holds no images")) {
            try ImageFolder.load(root: root + "/empty")
        }
        try FileManager.default.createDirectory(atPath: root + "/none", withIntermediateDirectories: true)
        #expect(
            throws: DatasetError.badFolder(
                path: root + "/none", reason: "it holds neither MNIST-layout files nor class folders of PNG images")
        ) {
            try ImageFolder.load(root: root + "/none")
        }
        try copy("png-kinds/grey/0-grey8.png", to: root + "/split/train/a/0.png")
        try copy("png-kinds/grey/0-grey8.png", to: root + "/split/test/z/0.png")
        #expect(
            throws: DatasetError.badFolder(
                path: root + "/split/test", reason: "its class folder 'z' has no counterpart in \(root)/split/train")
        ) {
            try ImageFolder.load(root: root + "/split")
        }
        var truncated = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Self.data + "/photos/train/china/000.png")))
        truncated.removeLast(truncated.count / 2)
        try FileManager.default.createDirectory(atPath: root + "/cut/a", withIntermediateDirectories: true)
        Fixtures.write(truncated, to: root + "/cut/a/0.png")
        #expect {
            try ImageFolder.load(root: root + "/cut")
        } throws: { "\($0)".contains("cut/a/0.png cannot be read as an image folder: it is not a readable PNG image") }
    }
}

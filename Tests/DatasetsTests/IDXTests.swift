import Foundation
import TestSupport
import Testing

@testable import Datasets

@Suite struct IDXTests {
    @Test(arguments: [true, false])
    func readsGzipAndRawFiles(gzip: Bool) throws {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.writeSplit("train", count: 5, in: dir, gzip: gzip)
        let set = try DatasetDirectory(path: dir).load(.train)
        #expect(set.count == 5 && set.height == 28 && set.width == 28)
        #expect(set.pixels.count == 5 * 784 && set.labels.count == 5)
        #expect(set.imagesPath.hasSuffix(gzip ? ".gz" : "ubyte"))
    }

    @Test func limitReadsOnlyTheFirstImages() throws {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.writeSplit("train", count: 9, in: dir)
        let all = try DatasetDirectory(path: dir).load(.train)
        let first = try DatasetDirectory(path: dir).load(.train, limit: 4)
        #expect(first.count == 4)
        #expect(firstDifference(first.pixels, Array(all.pixels[0..<(4 * 784)])) == nil)
        #expect(first.labels == Array(all.labels[0..<4]))
        #expect(try DatasetDirectory(path: dir).load(.train, limit: 100).count == 9)
    }

    @Test func realFashionMNISTLoads() throws {
        guard FileManager.default.fileExists(atPath: Fixtures.fashionMNIST) else {
            Issue.record("Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist")
            return
        }
        let dir = try DatasetDirectory(path: nil)
        let train = try dir.load(.train)
        let test = try dir.load(.test)
        #expect(train.count == 60_000 && test.count == 10_000)
        #expect(train.height == 28 && train.width == 28)
        #expect(Set(train.labels) == Set(0..<10))
    }

    @Test func realMNISTTestSetLoadsAndHasNoTrainSplit() throws {
        let dir = try DatasetDirectory(path: Fixtures.mnistTestSet)
        let test = try dir.load(.test)
        #expect(test.count == 10_000 && test.dimension == 784)
        // The first MNIST test digit is a 7.
        #expect(test.labels[0] == 7)
        #expect(!dir.has(.train))
        #expect(throws: DatasetError.self) { try dir.load(.train) }
        do { _ = try dir.load(.train) } catch {
            #expect("\(error)".contains("has no train split"))
        }
    }
}

/// Every bad input: a typed error whose message names the file and the problem.
@Suite struct BadDatasetTests {
    func expectError(_ dir: String, _ split: Split = .train, limit: Int? = nil, containing parts: [String]) {
        do {
            _ = try DatasetDirectory(path: dir).load(split, limit: limit)
            Issue.record("expected an error mentioning \(parts)")
        } catch {
            let message = "\(error)"
            for part in parts { #expect(message.contains(part), "\(message)") }
        }
    }

    @Test func missingDirectoryNamesThePackageAndTheFlag() {
        do {
            _ = try DatasetDirectory(path: "/nonexistent/zoo-data")
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("/nonexistent/zoo-data"))
            #expect("\(error)".contains("--data"))
            #expect("\(error)".contains("dataset-fashion-mnist"))
        }
        #expect(DatasetError.defaultDirectoryMissing(path: "/x").description.contains("apt-get install dataset-fashion-mnist"))
    }

    @Test func missingLabelsFile() throws {
        let dir = Fixtures.temporaryDirectory()
        let (_, labels) = Fixtures.writeSplit("train", count: 3, in: dir)
        try FileManager.default.removeItem(atPath: labels)
        expectError(dir, containing: ["train-labels-idx1-ubyte", "missing"])
    }

    @Test func missingSplitListsWhatWasLookedFor() {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.writeSplit("t10k", count: 3, in: dir)
        expectError(dir, .train, containing: [dir, "no train split", "train-images-idx3-ubyte.gz"])
    }

    @Test func truncatedGzip() {
        let dir = Fixtures.temporaryDirectory()
        let (images, _) = Fixtures.writeSplit("train", count: 50, in: dir)
        let bytes = [UInt8](FileManager.default.contents(atPath: images)!)
        Fixtures.write(Array(bytes[0..<(bytes.count / 2)]), to: images)
        expectError(dir, containing: [images, "truncated"])
    }

    @Test func truncatedRawFile() {
        let dir = Fixtures.temporaryDirectory()
        let (images, _) = Fixtures.writeSplit("train", count: 5, in: dir, gzip: false)
        let bytes = [UInt8](FileManager.default.contents(atPath: images)!)
        Fixtures.write(Array(bytes[0..<(bytes.count - 100)]), to: images)
        expectError(dir, containing: [images, "truncated", "3920 bytes"])
    }

    @Test func corruptGzip() {
        let dir = Fixtures.temporaryDirectory()
        let (images, _) = Fixtures.writeSplit("train", count: 50, in: dir)
        var bytes = [UInt8](FileManager.default.contents(atPath: images)!)
        for i in stride(from: 20, to: bytes.count - 20, by: 7) { bytes[i] ^= 0x5A }
        Fixtures.write(bytes, to: images)
        expectError(dir, containing: [images, "corrupt"])
    }

    @Test func gzipChecksumMismatchIsCaught() {
        let dir = Fixtures.temporaryDirectory()
        let (images, _) = Fixtures.writeSplit("train", count: 5, in: dir)
        var bytes = [UInt8](FileManager.default.contents(atPath: images)!)
        bytes[bytes.count - 6] ^= 0xFF  // the CRC-32 in the gzip trailer
        Fixtures.write(bytes, to: images)
        expectError(dir, containing: [images, "corrupt"])
    }

    @Test func wrongMagic() {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.writeSplit("train", count: 2, in: dir)
        // A labels-kind file (rank 1) where images (rank 3) belong.
        Fixtures.write(Fixtures.gzip(Fixtures.idx(dimensions: [2], data: [1, 2])), to: "\(dir)/train-images-idx3-ubyte.gz")
        expectError(dir, containing: ["train-images-idx3-ubyte.gz", "magic number 0x00000801", "expected 0x00000803"])
    }

    @Test func notAnIDXFileAtAll() {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.writeSplit("train", count: 2, in: dir)
        Fixtures.write(Array("hello, world, not idx".utf8), to: "\(dir)/train-images-idx3-ubyte.gz")
        expectError(dir, containing: ["magic number 0x68656c6c"])
    }

    @Test func emptyFile() {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.writeSplit("train", count: 2, in: dir)
        Fixtures.write([], to: "\(dir)/train-images-idx3-ubyte.gz")
        expectError(dir, containing: ["holds no images"])
    }

    @Test func imageAndLabelCountsMustMatch() {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.writeSplit("train", count: 6, in: dir, labelCount: 5)
        expectError(dir, containing: ["6 images", "5 labels"])
        // Also when only a prefix is read.
        expectError(dir, limit: 2, containing: ["6 images", "5 labels"])
    }

    @Test func trailingBytesAreRejected() {
        let dir = Fixtures.temporaryDirectory()
        let (images, _) = Fixtures.writeSplit("train", count: 2, in: dir, gzip: false)
        let bytes = [UInt8](FileManager.default.contents(atPath: images)!)
        Fixtures.write(bytes + [1, 2, 3], to: images)
        expectError(dir, containing: [images, "bytes after the data"])
    }

    @Test func absurdHeaderIsRejectedWithoutAllocating() {
        let dir = Fixtures.temporaryDirectory()
        Fixtures.writeSplit("train", count: 2, in: dir)
        Fixtures.write(Fixtures.idx(dimensions: [0x7FFF_FFFF, 28, 28], data: []), to: "\(dir)/train-images-idx3-ubyte")
        try? FileManager.default.removeItem(atPath: "\(dir)/train-images-idx3-ubyte.gz")
        expectError(dir, containing: ["exceed"])
    }
}

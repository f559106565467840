import CZlibShim
import Foundation
import Support
import TestSupport
import Testing

@testable import ImageIO

/// Decodes what `PNG.encode` writes (8-bit, filter 0, one IDAT) and checks every CRC.
func decode(_ png: [UInt8]) throws -> Image {
    #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    var i = 8
    var width = 0
    var height = 0
    var channels = 0
    var idat: [UInt8] = []
    func be(_ at: Int) -> Int { png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
    var types: [String] = []
    while i < png.count {
        let length = be(i)
        let type = String(decoding: png[i + 4..<i + 8], as: UTF8.self)
        types.append(type)
        let body = Array(png[i + 8..<i + 8 + length])
        let crc = crc32(crc32(0, Array(type.utf8), 4), body, uInt(body.count))
        #expect(UInt(be(i + 8 + length)) == UInt(crc), "CRC of \(type)")
        if type == "IHDR" {
            width = be(i + 8)
            height = be(i + 12)
            channels = body[9] == 0 ? 1 : 3
            #expect(body[8] == 8)
        }
        if type == "IDAT" { idat += body }
        i += 12 + length
    }
    #expect(types == ["IHDR", "IDAT", "IEND"])
    var raw = [UInt8](repeating: 0, count: (width * channels + 1) * height)
    var rawLength = uLong(raw.count)
    #expect(uncompress(&raw, &rawLength, idat, uLong(idat.count)) == Z_OK)
    var pixels: [UInt8] = []
    let stride = width * channels + 1
    for y in 0..<height {
        let start = y * stride
        #expect(raw[start] == 0, "filter type")
        pixels.append(contentsOf: raw[(start + 1)..<(start + stride)])
    }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
}

@Suite struct PNGTests {
    @Test func grayscaleAndRGBRoundTrip() throws {
        let gray = Image(width: 5, height: 3, pixels: (0..<15).map { UInt8($0 * 17) })
        #expect(try decode(PNG.encode(gray)) == gray)
        let rgb = Image(width: 2, height: 2, channels: 3, pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9])
        #expect(try decode(PNG.encode(rgb)) == rgb)
    }

    @Test func writeIsAtomicAndReadable() throws {
        let dir = Fixtures.temporaryDirectory("png")
        let image = Image(width: 3, height: 1, pixels: [1, 2, 3])
        try PNG.write(image, to: dir + "/a.png")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["a.png"], "no temporary file is left")
        #expect(try decode([UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/a.png")))) == image)
        #expect(throws: FileWriteError.self) { try PNG.write(image, to: dir + "/missing/b.png") }
    }

    @Test func gridPlacesImagesLikeMakeGrid() {
        // Three 2×2 images, two per row, a 1-pixel gutter: 7 × 7 pixels.
        let images: [Float] = [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0, 0.2, 2, -1]
        let grid = images.withUnsafeBufferPointer { ImageGrid.tile($0, count: 3, height: 2, width: 2, columns: 2, gutter: 1) }
        #expect(grid.width == 7 && grid.height == 7)
        #expect(grid.pixels[1 * 7 + 1] == 255)  // first image, top-left
        #expect(grid.pixels[1 * 7 + 4] == 128)  // second image
        #expect(grid.pixels[4 * 7 + 1] == 0 && grid.pixels[4 * 7 + 2] == 51)  // third: 0, 0.2
        #expect(grid.pixels[5 * 7 + 1] == 255 && grid.pixels[5 * 7 + 2] == 0)  // clamped 2 → 255, −1 → 0
        #expect(grid.pixels[0] == 0 && grid.pixels[4 * 7 + 4] == 0)  // gutter and the empty cell
        #expect(ImageGrid.size(count: 3, height: 2, width: 2, columns: 2) == (7, 7))
    }

    /// --scale: every pixel becomes a scale × scale block; the gutter stays 1 pixel.
    @Test func scaledTilesAreNearestNeighbourBlocks() {
        let images: [Float] = [0, 1, 0.5, 0.2, 1, 1, 1, 1]  // two 2×2 images
        let grid = images.withUnsafeBufferPointer { ImageGrid.tile($0, count: 2, height: 2, width: 2, columns: 2, scale: 3) }
        #expect(grid.width == 2 * (6 + 1) + 1 && grid.height == 6 + 2)
        func px(_ x: Int, _ y: Int) -> UInt8 { grid.pixels[y * grid.width + x] }
        // Image 0 at (1, 1): the block of its pixel (1, 0) = 1 spans x 4…6, y 1…3.
        #expect((4...6).allSatisfy { x in (1...3).allSatisfy { y in px(x, y) == 255 } })
        #expect((1...3).allSatisfy { x in (4...6).allSatisfy { y in px(x, y) == 128 } })  // pixel (0, 1) = 0.5
        #expect(px(7, 3) == 0 && (8...13).allSatisfy { px($0, 1) == 255 })  // the gutter, then image 1
        #expect(ImageGrid.defaultScale(height: 28, width: 28) == 2 && ImageGrid.defaultScale(height: 6, width: 10) == 10)
        #expect(ImageGrid.defaultScale(height: 64, width: 64) == 1 && ImageGrid.defaultScale(height: 56, width: 100) == 1)
        let big = Image(width: 2, height: 1, channels: 1, pixels: [10, 20]).scaled(by: 2)
        #expect(big.width == 4 && big.height == 2 && big.pixels == [10, 10, 20, 20, 10, 10, 20, 20])
    }

    /// Captions: a band above the columns and a margin left of the rows, as
    /// wide as the longest label, with light text on the dark gutter.
    @Test func captionsAddALabelledRowAndColumn() {
        let images = [Float](repeating: 0, count: 4 * 4 * 4)  // four black 4×4 images, two per row
        let captions = ImageGrid.Captions(rows: ["z0", "z12"], columns: ["-3.0", "3.0"])
        let grid = images.withUnsafeBufferPointer {
            ImageGrid.tile($0, count: 4, height: 4, width: 4, columns: 2, scale: 5, captions: captions)
        }
        // Left margin: "z12" is 3 × 6 − 1 = 17 pixels, plus 4; top band: 7 + 4.
        let (left, top) = (21, 11)
        #expect(grid.width == left + 2 * 21 + 1 && grid.height == top + 2 * 21 + 1)
        #expect(
            ImageGrid.size(count: 4, height: 4, width: 4, columns: 2, scale: 5, captions: captions) == (grid.width, grid.height))
        func inked(_ xs: Range<Int>, _ ys: Range<Int>) -> Int {
            xs.reduce(0) { n, x in n + ys.filter { grid.pixels[$0 * grid.width + x] > 128 }.count }
        }
        #expect(inked(left..<(left + 22), 0..<top) > 10, "the first column's label")
        #expect(inked((left + 22)..<grid.width, 0..<top) > 10, "the second column's label")
        #expect(inked(0..<left, (top + 22)..<grid.height) > 10, "the second row's label")
        #expect(inked(left..<grid.width, top..<grid.height) == 0, "no text over the tiles")
    }

    /// Channel planes (CHW) become interleaved RGB pixels; a fourth channel
    /// is left out, two channels are shown grey from the first.
    @Test(arguments: [3, 4])
    func colourImagesAreTiledFromTheirFirstThreeChannels(channels: Int) {
        // Two 1×2 images: image k, channel c, pixel x holds (k + 1) · 0.1 · (c + 1) + 0.05 · x.
        var images: [Float] = []
        for k in 0..<2 { for c in 0..<channels { for x in 0..<2 { images.append(Float(k + 1) * 0.1 * Float(c + 1) + 0.05 * Float(x)) } } }
        let grid = images.withUnsafeBufferPointer {
            ImageGrid.tile($0, count: 2, channels: channels, height: 1, width: 2, columns: 2, gutter: 1)
        }
        #expect(grid.channels == 3 && grid.width == 7 && grid.height == 3)
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(grid.pixels[((y * 7 + x) * 3)..<((y * 7 + x) * 3 + 3)]) }
        #expect(pixel(1, 1) == [26, 51, 77])  // image 0, x 0: 0.1, 0.2, 0.3
        #expect(pixel(2, 1) == [38, 64, 89])  // image 0, x 1: +0.05
        #expect(pixel(4, 1) == [51, 102, 153])  // image 1: 0.2, 0.4, 0.6
        #expect(pixel(0, 0) == [0, 0, 0])
        let grey = [Float](repeating: 0.5, count: 4).withUnsafeBufferPointer {
            ImageGrid.tile($0, count: 1, channels: 2, height: 1, width: 2, columns: 1, gutter: 0)
        }
        #expect(grey.channels == 1 && grey.pixels == [128, 128])
    }
}

@Suite struct ScatterPlotTests {
    /// One far outlier (and an infinite one) used to trap when its pixel
    /// position was converted to Int before clipping.
    @Test func farOutliersAreClippedNotTrapped() {
        let n = 500
        var x = (0..<n).map { Float($0) / Float(n) }
        var y = x
        x[0] = 3e38
        y[1] = -3e38
        x[2] = .infinity
        let image = ScatterPlot(title: "T", xLabel: "X", yLabel: "Y", labelNames: []).render(
            x: x, y: y, labels: [UInt8](repeating: 1, count: n))
        #expect(image.pixels.count == image.width * image.height * 3)
        let extreme = ScatterPlot(title: "T", xLabel: "X", yLabel: "Y", labelNames: []).render(
            x: [-3e38, 3e38], y: [3e38, -3e38], labels: [0, 1])
        #expect(extreme.pixels.count > 0)
    }
}

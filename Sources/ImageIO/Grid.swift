/// Tiles equally sized images into one image, like torchvision's
/// `make_grid`: `columns` images per row, each enlarged `scale` times
/// (nearest neighbour), a `gutter` of `padValue` pixels around and between
/// them, and optional captions: a label left of each grid row and above each
/// grid column (the 5×7 font, light on the dark gutter). Images of 3 or more
/// channels are drawn in colour from their first three (RGB; a fourth, alpha,
/// is left out), others in grey from their first channel.
public enum ImageGrid {
    /// Labels for the grid's rows (drawn at their left) and columns (drawn
    /// above them); either may be empty.
    public struct Captions: Sendable, Equatable {
        public var rows: [String]
        public var columns: [String]
        public init(rows: [String] = [], columns: [String] = []) {
            self.rows = rows
            self.columns = columns
        }
    }

    /// The smallest scale at which a tile is at least 56 pixels on its shorter side.
    public static func defaultScale(height: Int, width: Int) -> Int {
        let side = max(1, min(height, width))
        return max(1, (56 + side - 1) / side)
    }

    /// The most pixels a grid may have (64 Mi; 192 MiB in colour).
    public static let maximumPixels = 1 << 26

    /// Width and height of the grid `tile` draws for these arguments, without drawing it
    /// (checked against `maximumPixels` before anything is allocated).
    public static func size(
        count: Int, height: Int, width: Int, columns: Int = 8, scale: Int = 1, gutter: Int = 1, captions: Captions = .init()
    ) -> (width: Int, height: Int) {
        let l = layout(count: count, height: height, width: width, columns: columns, scale: scale, gutter: gutter, captions: captions)
        return (l.width, l.height)
    }

    private struct Layout {
        let cols: Int
        let tileWidth: Int
        let tileHeight: Int
        let left: Int
        let top: Int
        let gutter: Int
        let width: Int
        let height: Int
        let textScale: Int
        func origin(_ k: Int) -> (x: Int, y: Int) {
            (left + gutter + (k % cols) * (tileWidth + gutter), top + gutter + (k / cols) * (tileHeight + gutter))
        }
    }

    private static func layout(
        count: Int, height: Int, width: Int, columns: Int, scale: Int, gutter: Int, captions: Captions
    ) -> Layout {
        let cols = min(columns, max(count, 1))
        let rows = (count + cols - 1) / cols
        let (tw, th) = (width * scale, height * scale)
        let textScale = min(tw, th) >= 112 ? 2 : 1
        let line = Font.height * textScale + 4
        let left = captions.rows.isEmpty ? 0 : (captions.rows.map { Font.width(of: $0, scale: textScale) }.max() ?? 0) + 4
        let top = captions.columns.isEmpty ? 0 : line
        return Layout(
            cols: cols, tileWidth: tw, tileHeight: th, left: left, top: top, gutter: gutter,
            width: left + cols * (tw + gutter) + gutter, height: max(top + rows * (th + gutter) + gutter, 1), textScale: textScale)
    }

    /// - Parameters:
    ///   - images: `count` images of channels×height×width floats in [0, 1]
    ///     (channel planes, row-major: PyTorch's CHW), back to back.
    public static func tile(
        _ images: UnsafeBufferPointer<Float>, count: Int, channels: Int = 1, height: Int, width: Int,
        columns: Int = 8, scale: Int = 1, gutter: Int = 1, captions: Captions = .init(), padValue: UInt8 = 0
    ) -> Image {
        precondition(images.count >= count * channels * height * width && columns >= 1 && channels >= 1 && scale >= 1 && gutter >= 0)
        let shown = channels >= 3 ? 3 : 1
        let l = layout(count: count, height: height, width: width, columns: columns, scale: scale, gutter: gutter, captions: captions)
        let W = l.width
        var image = Image(width: W, height: l.height, channels: shown, pixels: [UInt8](repeating: padValue, count: W * l.height * shown))
        let plane = height * width
        image.pixels.withUnsafeMutableBufferPointer { out in
            for k in 0..<count {
                let (ox, oy) = l.origin(k)
                for c in 0..<shown {
                    for y in 0..<height {
                        for x in 0..<width {
                            let v = images[(k * channels + c) * plane + y * width + x]
                            let clamped = v.isNaN ? 0 : min(max(v, 0), 1)
                            let byte = UInt8((clamped * 255).rounded())
                            for sy in 0..<scale {
                                let row = ((oy + y * scale + sy) * W + ox + x * scale) * shown + c
                                for sx in 0..<scale { out[row + sx * shown] = byte }
                            }
                        }
                    }
                }
            }
        }
        let ink: UInt8 = padValue < 128 ? 230 : 25
        let textHeight = Font.height * l.textScale
        for (c, label) in captions.columns.prefix(l.cols).enumerated() {
            // Centred over its column, cut to the column's width.
            let fitting = fit(label, width: l.tileWidth + l.gutter, scale: l.textScale)
            let (ox, _) = l.origin(c)
            let x = ox + (l.tileWidth - Font.width(of: fitting, scale: l.textScale)) / 2
            draw(fitting, x: x, y: (l.top - textHeight) / 2, scale: l.textScale, value: ink, into: &image)
        }
        let gridRows = (count + l.cols - 1) / l.cols
        for (r, label) in captions.rows.prefix(gridRows).enumerated() {
            let (_, oy) = l.origin(r * l.cols)
            draw(label, x: 2, y: oy + (l.tileHeight - textHeight) / 2, scale: l.textScale, value: ink, into: &image)
        }
        return image
    }

    /// The longest prefix of `text` at most `width` pixels wide.
    static func fit(_ text: String, width: Int, scale: Int) -> String {
        var s = text
        while !s.isEmpty && Font.width(of: s, scale: scale) > width { s.removeLast() }
        return s
    }

    static func draw(_ text: String, x: Int, y: Int, scale: Int, value: UInt8, into image: inout Image) {
        let (W, H, n) = (image.width, image.height, image.channels)
        Font.forEachInkPixel(of: text, scale: scale) { px, py in
            let (ix, iy) = (x + px, y + py)
            guard ix >= 0, ix < W, iy >= 0, iy < H else { return }
            for c in 0..<n { image.pixels[(iy * W + ix) * n + c] = value }
        }
    }
}

/// A scatter plot of labelled 2-d points as an RGB image: points coloured by
/// label (a ten-colour qualitative palette, cycled for more labels), drawn
/// semi-transparent in a fixed shuffled order so no class hides another, with
/// a frame, axis labels, a title and a legend.
public struct ScatterPlot {
    public var title: String
    public var xLabel: String
    public var yLabel: String
    /// Legend text per label value (index = label); missing entries show the number.
    public var labelNames: [String]
    public var width = 960
    public var height = 760

    /// Tableau's ten qualitative colours.
    public static let palette: [(UInt8, UInt8, UInt8)] = [
        (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
        (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
    ]

    public init(title: String, xLabel: String, yLabel: String, labelNames: [String] = []) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.labelNames = labelNames
    }

    /// Renders points (x[i], y[i]) with labels[i]. Axis ranges are the 0.5 and
    /// 99.5 percentiles padded by 5%, so a few outliers do not squash the plot
    /// (points outside are clipped).
    public func render(x: [Float], y: [Float], labels: [UInt8]) -> Image {
        precondition(x.count == y.count && x.count == labels.count)
        var canvas = Canvas(width: width, height: height)
        let left = 125
        let right = width - 230
        let top = 50
        let bottom = height - 60
        func range(_ v: [Float]) -> (Float, Float) {
            let finite = v.filter(\.isFinite).sorted()
            guard let first = finite.first, let last = finite.last else { return (-1, 1) }
            let lo = finite.count > 200 ? finite[finite.count / 200] : first
            let hi = finite.count > 200 ? finite[finite.count - 1 - finite.count / 200] : last
            let pad = max((hi - lo) * 0.05, 1e-3)
            return (lo - pad, hi + pad)
        }
        let (x0, x1) = range(x)
        let (y0, y1) = range(y)
        // Points in a fixed pseudo-random order.
        var order = Array(0..<x.count)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            order.swapAt(i, Int((state >> 33) % UInt64(i + 1)))
        }
        let radius = x.count > 20_000 ? 1 : (x.count > 2_000 ? 2 : 3)
        let alpha: Float = x.count > 20_000 ? 0.35 : 0.6
        for i in order where x[i].isFinite && y[i].isFinite {
            // Clip in floating point first: a far outlier (or a range so wide
            // its width overflows) must not reach the conversion to Int.
            let fx = (x[i] - x0) / (x1 - x0)
            let fy = (y[i] - y0) / (y1 - y0)
            guard fx >= 0, fx <= 1, fy >= 0, fy <= 1 else { continue }
            let px = left + Int(fx * Float(right - left))
            let py = bottom - Int(fy * Float(bottom - top))
            canvas.disc(px, py, radius: radius, color: Self.palette[Int(labels[i]) % Self.palette.count], alpha: alpha)
        }
        // Frame, ticks with the range ends, labels.
        let ink: (UInt8, UInt8, UInt8) = (40, 40, 40)
        canvas.rectangle(left - 1, top - 1, right + 1, bottom + 1, color: ink)
        canvas.text(title, x: left, y: 18, scale: 2, color: ink)
        canvas.text(xLabel, x: (left + right) / 2 - Font.width(of: xLabel, scale: 2) / 2, y: bottom + 32, scale: 2, color: ink)
        canvas.text(yLabel, x: 8, y: (top + bottom) / 2 - 7, scale: 2, color: ink)
        canvas.text(tick(x0), x: left, y: bottom + 10, scale: 1, color: ink)
        canvas.text(tick(x1), x: right - Font.width(of: tick(x1), scale: 1), y: bottom + 10, scale: 1, color: ink)
        canvas.text(tick(y0), x: left - 8 - Font.width(of: tick(y0), scale: 1), y: bottom - 7, scale: 1, color: ink)
        canvas.text(tick(y1), x: left - 8 - Font.width(of: tick(y1), scale: 1), y: top, scale: 1, color: ink)
        // Legend: one entry per label present.
        let present = Array(Set(labels)).sorted()
        var ly = top + 4
        for label in present {
            let color = Self.palette[Int(label) % Self.palette.count]
            canvas.fill(right + 20, ly, right + 34, ly + 14, color: color)
            let name = Int(label) < labelNames.count ? "\(label) \(labelNames[Int(label)])" : "\(label)"
            canvas.text(name, x: right + 42, y: ly, scale: 2, color: ink)
            ly += 24
        }
        return Image(width: width, height: height, channels: 3, pixels: canvas.pixels)
    }

    /// A range end with two decimals (no Foundation in this module).
    private func tick(_ v: Float) -> String {
        guard v.isFinite, abs(v) < 1e12 else { return v.isFinite ? "\(v)" : (v > 0 ? "inf" : v < 0 ? "-inf" : "nan") }
        let hundredths = Int((abs(v) * 100).rounded())
        let frac = hundredths % 100
        return (v < 0 && hundredths > 0 ? "-" : "") + "\(hundredths / 100)." + (frac < 10 ? "0" : "") + "\(frac)"
    }
}

/// An RGB drawing surface, white to start.
struct Canvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 255, count: width * height * 3)
    }

    mutating func blend(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8), _ a: Float) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let i = (y * width + x) * 3
        pixels[i] = UInt8(Float(pixels[i]) * (1 - a) + Float(c.0) * a)
        pixels[i + 1] = UInt8(Float(pixels[i + 1]) * (1 - a) + Float(c.1) * a)
        pixels[i + 2] = UInt8(Float(pixels[i + 2]) * (1 - a) + Float(c.2) * a)
    }

    mutating func disc(_ cx: Int, _ cy: Int, radius r: Int, color: (UInt8, UInt8, UInt8), alpha: Float) {
        for dy in -r...r { for dx in -r...r where dx * dx + dy * dy <= r * r + r / 2 { blend(cx + dx, cy + dy, color, alpha) } }
    }

    mutating func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, color: (UInt8, UInt8, UInt8)) {
        for y in y0...y1 { for x in x0...x1 { blend(x, y, color, 1) } }
    }

    mutating func rectangle(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, color: (UInt8, UInt8, UInt8)) {
        for x in x0...x1 {
            blend(x, y0, color, 1)
            blend(x, y1, color, 1)
        }
        for y in y0...y1 {
            blend(x0, y, color, 1)
            blend(x1, y, color, 1)
        }
    }

    mutating func text(_ s: String, x: Int, y: Int, scale: Int, color: (UInt8, UInt8, UInt8)) {
        Font.forEachInkPixel(of: s, scale: scale) { px, py in blend(x + px, y + py, color, 1) }
    }
}

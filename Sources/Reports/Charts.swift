import Foundation

/// Inline SVG charts for the model report: no script, no external file, text
/// in the page's own font, scaled to the width the page gives them.
public enum SVGChart {
    /// One line of a chart: its name (legend) and (x, y) points.
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(_ name: String, _ points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
        }
    }

    /// Tableau's ten qualitative colours (as the scatter plot's).
    static let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// A line chart of `series` with axes, ticks and a legend; `logX` puts
    /// x on a log₁₀ scale (the K curve). Empty series draw an empty frame.
    public static func lines(_ series: [Series], title: String, xLabel: String, yLabel: String, logX: Bool = false) -> String {
        let (W, H) = (640.0, 360.0)
        let (left, right, top, bottom) = (64.0, 16.0, 34.0, 44.0)
        let tx: (Double) -> Double = { logX ? log10(max($0, 1e-300)) : $0 }
        let all = series.flatMap(\.points)
        let xs = all.map { tx($0.x) }
        let ys = all.map(\.y)
        var (x0, x1) = (xs.min() ?? 0, xs.max() ?? 1)
        var (y0, y1) = (ys.min() ?? 0, ys.max() ?? 1)
        if x1 - x0 < 1e-12 { (x0, x1) = (x0 - 1, x1 + 1) }
        if y1 - y0 < 1e-12 { (y0, y1) = (y0 - 1, y1 + 1) }
        let pad = (y1 - y0) * 0.05
        (y0, y1) = (y0 - pad, y1 + pad)
        let px: (Double) -> Double = { left + ($0 - x0) / (x1 - x0) * (W - left - right) }
        let py: (Double) -> Double = { H - bottom - ($0 - y0) / (y1 - y0) * (H - top - bottom) }
        var svg = header(W, H, title: title)
        svg += axes(W, H, left: left, right: right, top: top, bottom: bottom, xLabel: xLabel, yLabel: yLabel)
        let yTicks = ticks(y0, y1)
        for t in yTicks {
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(W - right))\" y1=\"\(f(py(t)))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(label(t, among: yTicks))</text>"
        }
        let xTicks = ticks(x0, x1)
        for t in xTicks {
            let shown = logX ? label(pow(10, t)) : label(t, among: xTicks)
            svg += "<text x=\"\(f(px(t)))\" y=\"\(f(H - bottom + 16))\" text-anchor=\"middle\">\(shown)</text>"
        }
        for (i, s) in series.enumerated() where !s.points.isEmpty {
            let colour = colours[i % colours.count]
            let path = s.points.map { "\(f(px(tx($0.x)))),\(f(py($0.y)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(path)\"/>"
            if s.points.count <= 40 {
                for p in s.points { svg += "<circle cx=\"\(f(px(tx(p.x))))\" cy=\"\(f(py(p.y)))\" r=\"3\" fill=\"\(colour)\"/>" }
            }
            let ly = top + 4 + Double(i) * 16
            svg += "<rect x=\"\(f(W - right - 150))\" y=\"\(f(ly))\" width=\"12\" height=\"3\" fill=\"\(colour)\"/>"
            svg += "<text x=\"\(f(W - right - 134))\" y=\"\(f(ly + 5))\">\(HTML.escape(s.name))</text>"
        }
        return svg + "</svg>"
    }

    /// Vertical bars, one per value, labelled below (KL per latent dimension).
    public static func bars(_ values: [Double], labels: [String], title: String, yLabel: String, highlight: Set<Int> = []) -> String {
        let (W, H) = (640.0, 300.0)
        let (left, right, top, bottom) = (64.0, 16.0, 34.0, 44.0)
        let top0 = max(values.filter(\.isFinite).max() ?? 1, 1e-12) * 1.05
        let n = max(values.count, 1)
        let slot = (W - left - right) / Double(n)
        let py: (Double) -> Double = { H - bottom - $0 / top0 * (H - top - bottom) }
        var svg = header(W, H, title: title)
        svg += axes(W, H, left: left, right: right, top: top, bottom: bottom, xLabel: "", yLabel: yLabel)
        let yTicks = ticks(0, top0)
        for t in yTicks {
            svg += "<line x1=\"\(f(left))\" x2=\"\(f(W - right))\" y1=\"\(f(py(t)))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\">\(label(t, among: yTicks))</text>"
        }
        for (i, v) in values.enumerated() where v.isFinite {
            let x = left + Double(i) * slot + slot * 0.15
            let colour = highlight.contains(i) ? colours[0] : "#b0b0b0"
            svg +=
                "<rect x=\"\(f(x))\" y=\"\(f(py(max(v, 0))))\" width=\"\(f(slot * 0.7))\" height=\"\(f(H - bottom - py(max(v, 0))))\" fill=\"\(colour)\"><title>\(HTML.escape(labels[i])): \(label(v))</title></rect>"
            if n <= 32 || i % ((n + 31) / 32) == 0 {
                svg +=
                    "<text x=\"\(f(x + slot * 0.35))\" y=\"\(f(H - bottom + 16))\" text-anchor=\"middle\">\(HTML.escape(labels[i]))</text>"
            }
        }
        return svg + "</svg>"
    }

    static func header(_ W: Double, _ H: Double, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(f(W)) \(f(H))\" role=\"img\" aria-label=\"\(HTML.escape(title))\" class=\"chart\">"
            + "<text x=\"\(f(W / 2))\" y=\"20\" text-anchor=\"middle\" class=\"title\">\(HTML.escape(title))</text>"
    }

    static func axes(
        _ W: Double, _ H: Double, left: Double, right: Double, top: Double, bottom: Double, xLabel: String, yLabel: String
    ) -> String {
        "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(H - bottom))\" stroke=\"#444\"/>"
            + "<line x1=\"\(f(left))\" x2=\"\(f(W - right))\" y1=\"\(f(H - bottom))\" y2=\"\(f(H - bottom))\" stroke=\"#444\"/>"
            + "<text x=\"\(f((left + W - right) / 2))\" y=\"\(f(H - 8))\" text-anchor=\"middle\">\(HTML.escape(xLabel))</text>"
            + "<text transform=\"translate(14 \(f((top + H - bottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
    }

    /// About five round tick values in [lo, hi].
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [] }
        let raw = (hi - lo) / 5
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var out: [Double] = []
        var t = ceil(lo / step) * step
        while t <= hi + step * 1e-9 && out.count < 20 {
            out.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return out
    }

    /// A tick value with as many decimals as the ticks' spacing needs (250, 2.5, 0.25).
    static func label(_ v: Double, among ticks: [Double]) -> String {
        guard ticks.count >= 2 else { return label(v) }
        let step = abs(ticks[1] - ticks[0])
        if step >= 1e5 || abs(v) >= 1e6 { return String(format: "%.3g", v) }
        let decimals = max(0, min(6, Int(-floor(log10(step) + 1e-9))))
        return String(format: "%.\(decimals)f", v)
    }

    static func label(_ v: Double) -> String {
        let a = abs(v)
        if a >= 1e5 || (a < 1e-2 && a > 0) { return String(format: "%.2g", v) }
        if a >= 100 || v == v.rounded() { return String(format: "%.0f", v) }
        return String(format: a >= 10 ? "%.1f" : "%.2f", v)
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

/// HTML text escaping.
public enum HTML {
    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}

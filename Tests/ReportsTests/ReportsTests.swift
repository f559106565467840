import Foundation
import Testing

@testable import Reports

/// The model report's building blocks: escaped text, charts whose points are
/// where their values say, and a page with no script and nothing fetched.
@Suite struct ReportsTests {
    @Test func textIsEscaped() {
        #expect(HTML.escape(#"<a href="x">&'</a>"#) == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;")
    }

    @Test func lineChartsPlaceTheirPoints() throws {
        let svg = SVGChart.lines(
            [SVGChart.Series("train", [(1, 300), (2, 260), (3, 250)]), SVGChart.Series("test <b>", [(1, 290), (3, Double.nan)])],
            title: "loss", xLabel: "epoch", yLabel: "nats")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 2, "one line per series")
        #expect(svg.contains("test &lt;b&gt;") && !svg.contains("<b>"), "legend text escaped")
        // The first series' points: x from 1 to 3 spans the plot width left to right, and
        // the highest loss is highest on the page (smallest y).
        let points = try #require(svg.components(separatedBy: "points=\"").dropFirst().first?.components(separatedBy: "\"").first)
        let xy = points.split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
        #expect(xy.count == 3 && xy[0][0] == 64 && xy[2][0] == 624)
        #expect(xy[0][1] < xy[1][1] && xy[1][1] < xy[2][1])
        #expect(SVGChart.ticks(0, 10) == [0, 2, 4, 6, 8, 10] && SVGChart.ticks(240, 300) == [240, 260, 280, 300])
        // log x: K = 1, 10, 100 are equally spaced.
        let k = SVGChart.lines([SVGChart.Series("nll", [(1, 3), (10, 2), (100, 1)])], title: "K", xLabel: "K", yLabel: "nats", logX: true)
        let kp = try #require(k.components(separatedBy: "points=\"").dropFirst().first?.components(separatedBy: "\"").first)
        let kx = kp.split(separator: " ").compactMap { $0.split(separator: ",").first.flatMap { Double($0) } }
        #expect(kx.count == 3 && abs((kx[1] - kx[0]) - (kx[2] - kx[1])) < 0.2)
    }

    @Test func barsAreAsTallAsTheirValues() {
        let svg = SVGChart.bars([1, 2, 0], labels: ["z0", "z1", "z2"], title: "KL", yLabel: "nats", highlight: [1])
        let heights = svg.components(separatedBy: "height=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
        // The chart's own height first, then one per bar.
        #expect(heights.count == 3 + 1 - 1 || heights.count == 3)
        let bars = Array(heights.suffix(3))
        #expect(abs(bars[1] - 2 * bars[0]) < 0.2 && bars[2] == 0)
        #expect(svg.contains("#1f77b4"), "the highlighted bar is coloured")
    }

    @Test func thePageIsSelfContained() {
        let card = ModelCard(
            title: "report <1>", facts: [("recipe", "vae & co")],
            sections: [
                .init("Chart", [.svg(SVGChart.lines([], title: "t", xLabel: "x", yLabel: "y"))]),
                .init("Picture", [.png([0x89, 0x50, 0x4E, 0x47], alt: "a", caption: "c")]),
                .init("Table", [.table(headers: ["a", "b"], rows: [["x", "1.5"]])], wide: true),
            ], footer: "f")
        let html = card.html()
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<meta name=\"viewport\""))
        #expect(html.contains("report &lt;1&gt;") && html.contains("vae &amp; co"))
        #expect(html.contains("src=\"data:image/png;base64,iVBORw==\""))
        #expect(html.contains("<td class=\"num\">1.5</td>") && html.contains("<section class=\"wide\">"))
        #expect(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http"), "nothing to run or fetch")
    }
}

import Foundation

/// A model report as one self-contained HTML page: every picture inline (SVG
/// charts, PNG as data: URLs), no script, no network; laid out in a column
/// on a phone and in two on a wide screen.
public struct ModelCard {
    /// A piece of a section.
    public enum Item {
        /// An inline SVG chart (`SVGChart`).
        case svg(String)
        /// A PNG picture with its alternative text and caption.
        case png([UInt8], alt: String, caption: String)
        /// A table of text cells.
        case table(headers: [String], rows: [[String]])
        /// A paragraph of text.
        case text(String)
    }

    public struct Section {
        public var title: String
        public var items: [Item]
        /// Whether the section spans the page width (tables) or shares a row (figures).
        public var wide: Bool
        public init(_ title: String, _ items: [Item], wide: Bool = false) {
            self.title = title
            self.items = items
            self.wide = wide
        }
    }

    public var title: String
    /// What the model is: (name, value) rows at the top.
    public var facts: [(String, String)]
    public var sections: [Section]
    /// The last line: what wrote the page, and when.
    public var footer: String

    public init(title: String, facts: [(String, String)], sections: [Section], footer: String) {
        self.title = title
        self.facts = facts
        self.sections = sections
        self.footer = footer
    }

    static let style = """
        :root { color-scheme: light; }
        body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d1d1f;
          margin: 0 auto; padding: 16px; max-width: 1180px; background: #fafafa; }
        h1 { font-size: 1.5em; margin: 0.2em 0 0.6em; word-break: break-word; }
        h2 { font-size: 1.1em; margin: 0 0 0.5em; }
        .sections { display: flex; flex-wrap: wrap; gap: 16px; }
        section { background: #fff; border: 1px solid #e2e2e2; border-radius: 8px; padding: 12px 14px;
          box-sizing: border-box; flex: 1 1 440px; min-width: 0; }
        section.wide { flex-basis: 100%; }
        table { border-collapse: collapse; font-size: 0.9em; width: 100%; }
        .scroll { overflow-x: auto; }
        th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
        dt { color: #666; } dd { margin: 0; overflow-wrap: anywhere; }
        figure { margin: 0 0 10px; }
        figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; border: 1px solid #ddd; }
        figcaption { font-size: 0.85em; color: #555; margin-top: 4px; }
        svg.chart { display: block; width: 100%; max-width: 720px; margin: 0 auto; height: auto; font-size: 12px; fill: #333; }
        svg.chart .title { font-size: 14px; font-weight: 600; }
        footer { color: #777; font-size: 0.85em; margin-top: 16px; }
        """

    /// The page.
    public func html() -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        out += "<title>\(HTML.escape(title))</title><style>\(Self.style)</style></head><body>\n"
        out += "<h1>\(HTML.escape(title))</h1>\n<div class=\"sections\">\n"
        out += "<section class=\"wide\" id=\"model\"><h2>The model</h2><dl>"
        for (k, v) in facts { out += "<dt>\(HTML.escape(k))</dt><dd>\(HTML.escape(v))</dd>" }
        out += "</dl></section>\n"
        for s in sections {
            out += "<section\(s.wide ? " class=\"wide\"" : "")><h2>\(HTML.escape(s.title))</h2>"
            for item in s.items { out += Self.render(item) }
            out += "</section>\n"
        }
        out += "</div>\n<footer>\(HTML.escape(footer))</footer>\n</body></html>\n"
        return out
    }

    static func render(_ item: Item) -> String {
        switch item {
        case .svg(let svg): return svg
        case .text(let t): return "<p>\(HTML.escape(t))</p>"
        case .png(let bytes, let alt, let caption):
            return "<figure><img alt=\"\(HTML.escape(alt))\" src=\"data:image/png;base64,\(Data(bytes).base64EncodedString())\">"
                + "<figcaption>\(HTML.escape(caption))</figcaption></figure>"
        case .table(let headers, let rows):
            func numeric(_ s: String) -> Bool { !s.isEmpty && Double(s.replacingOccurrences(of: ",", with: "")) != nil }
            var t = "<div class=\"scroll\"><table><thead><tr>"
            for h in headers { t += "<th>\(HTML.escape(h))</th>" }
            t += "</tr></thead><tbody>"
            for row in rows {
                t += "<tr>" + row.map { "<td\(numeric($0) ? " class=\"num\"" : "")>\(HTML.escape($0))</td>" }.joined() + "</tr>"
            }
            return t + "</tbody></table></div>"
        }
    }
}

import CPNGDecode
import Checkpoint
import Foundation
import TestSupport
import Testing

/// `zoo report` (issue 15): one self-contained HTML page, rendered by a real
/// browser (headless Chromium, Debian's `chromium`, installed by
/// Scripts/install-deps.sh): the page loads, its pictures are decoded and
/// drawn, on a wide screen and on a phone's width.
@Suite(.serialized) struct ReportEndToEndTests {
    static let chromium = "/usr/bin/chromium"

    /// Runs headless Chromium on `page` with `arguments` (a profile of its own in `dir`): its status and output.
    static func browser(_ arguments: [String], page: String, dir: String) throws -> (status: Int32, out: String) {
        try runProgram(
            chromium,
            ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(dir)/profile"] + arguments + [
                "file://" + page
            ])
    }

    /// (width, height, pure black pixels) of a PNG screenshot.
    static func blackPixels(_ path: String) throws -> (Int, Int, Int) {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var (w, h): (UInt32, UInt32) = (0, 0)
        var (colour, depth): (Int32, Int32) = (0, 0)
        var error = [CChar](repeating: 0, count: 256)
        try #require(zoo_png_info(bytes, bytes.count, &w, &h, &colour, &depth, &error, error.count) == 0)
        let channels = colour != 0 ? 3 : 1
        var pixels = [UInt8](repeating: 0, count: Int(w) * Int(h) * channels)
        try #require(zoo_png_decode(bytes, bytes.count, &pixels, pixels.count, &error, error.count) == 0)
        var black = 0
        for i in stride(from: 0, to: pixels.count, by: channels) where pixels[i..<(i + channels)].allSatisfy({ $0 == 0 }) { black += 1 }
        return (Int(w), Int(h), black)
    }

    @Test func theReportRendersInABrowserWithItsPictures() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.chromium), "install chromium (Scripts/install-deps.sh)")
        let dir = Fixtures.temporaryDirectory("report")
        let m = dir + "/m.h5"
        let t = try Zoo.run(["train", "--limit", "2000", "--epochs", "2", "--log", dir + "/log", "--log-every", "4", "--save", m])
        #expect(t.status == 0, "\(t.stderr)")
        let e = try Zoo.run(["eval", m, "--nll", "--iw-samples", "20", "--ks", "1,5,20", "--limit", "100", "--report", dir + "/ev.json"])
        #expect(e.status == 0, "\(e.stderr)")
        let page = dir + "/report.html"
        let r = try Zoo.run(["report", m, "--eval", dir + "/ev.json", "--log", dir + "/log", "--limit", "500", "--out", page])
        #expect(r.status == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: page, encoding: .utf8)

        // What the model is, every section, and nothing to run or fetch.
        let c = try Checkpoint.read(from: m)
        for text in [
            try #require(c.dataFingerprint), "seed 1", "zoo \(c.zooVersion)", "652,824", "Layers", "Loss per epoch", "KL and active units",
            "Loss per logged step", "Evaluation", "−log p(x), K = 20", "Latent space", "KL per latent dimension", "Prior samples",
            "Reconstructions", "Traversal of the most active dimensions",
        ] {
            #expect(html.contains(text), "the page shows \(text)")
        }
        #expect(html.components(separatedBy: "<img ").count - 1 == 4 && html.components(separatedBy: "<svg ").count - 1 == 6)
        #expect(!html.contains("<script") && !html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("@import"))

        // The browser loads it: the whole document is there.
        let dom = try Self.browser(["--dump-dom"], page: page, dir: dir)
        #expect(dom.status == 0 && dom.out.contains("</footer>"), "\(dom.out.suffix(300))")
        #expect(dom.out.components(separatedBy: "<img ").count - 1 == 4)

        // ... and draws the pictures: their gutters and backgrounds are the only pure black on the
        // page, and the same page without them has none.
        let wide = dir + "/wide.png"
        #expect(try Self.browser(["--window-size=1280,4200", "--screenshot=\(wide)"], page: page, dir: dir).status == 0)
        let (w, _, black) = try Self.blackPixels(wide)
        #expect(w == 1280 && black > 5000, "\(black) black pixels")
        let bare = dir + "/bare.html"
        try html.replacingOccurrences(of: "src=\"data:image/png;base64,", with: "src=\"data:,").write(
            toFile: bare, atomically: true, encoding: .utf8)
        let bareShot = dir + "/bare.png"
        #expect(try Self.browser(["--window-size=1280,4200", "--screenshot=\(bareShot)"], page: bare, dir: dir).status == 0)
        #expect(try Self.blackPixels(bareShot).2 < 200, "without the pictures there is no black")
        // A phone's width: one column, the pictures scaled down but drawn.
        let phone = dir + "/phone.png"
        #expect(try Self.browser(["--window-size=390,12000", "--screenshot=\(phone)"], page: page, dir: dir).status == 0)
        let (pw, _, pblack) = try Self.blackPixels(phone)
        #expect(pw == 390 && pblack > 500, "\(pblack) black pixels")
        if let keep = ProcessInfo.processInfo.environment["ZOO_REPORT_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(atPath: wide, toPath: keep)
        }
    }

    @Test func badInputsAreNamed() throws {
        let dir = Fixtures.temporaryDirectory("report-bad")
        let m = dir + "/m.h5"
        #expect(try Zoo.run(["train", "--limit", "300", "--epochs", "1", "--hidden", "16", "--latent-dim", "2", "--save", m]).status == 0)
        #expect(FileManager.default.createFile(atPath: dir + "/bad.json", contents: Data("{\"format\": \"other\"}".utf8)))
        for (args, message) in [
            (["--eval", dir + "/bad.json"], "is not a zoo eval report"), (["--log", dir], "metrics.csv"),
            (["--eval", dir + "/none.json"], "none.json"),
        ] {
            let r = try Zoo.run(["report", m, "--out", dir + "/r.html"] + args)
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        let wrong = try Zoo.run(["report", m, "--out", dir + "/r.txt"])
        #expect(wrong.status != 0 && wrong.stderr.contains("ending in .html"), "\(wrong.stderr)")
        // --split train: the pictures from the training images (data without a test split needs it).
        let train = try Zoo.run(["report", m, "--split", "train", "--limit", "100", "--out", dir + "/train.html"])
        #expect(train.status == 0, "\(train.stderr)")
        let trainPage = try String(contentsOfFile: dir + "/train.html", encoding: .utf8)
        #expect(trainPage.components(separatedBy: "<img ").count - 1 == 4 && trainPage.contains("μ of 100 train images"))
        try FileManager.default.removeItem(atPath: dir + "/train.html")
        // Data that moved: the page is still written, without the sections that need the images.
        let moved = try Zoo.run(["report", m, "--data", dir + "/gone", "--out", dir + "/r.html"])
        #expect(moved.status == 0 && moved.stderr.contains("could not be read"), "\(moved.stderr)")
        let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
        #expect(html.contains("Left out") && !html.contains("<img "))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["bad.json", "m.h5", "r.html"])
    }
}

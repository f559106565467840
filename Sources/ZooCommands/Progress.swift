import Foundation
import Support
import Training

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes all of `s` to a file descriptor, unbuffered (so progress and
/// summary lines appear at once on a pipe too).
func writeAll(_ fd: Int32, _ s: String) {
    var s = s
    s.withUTF8 { buf in
        var done = 0
        while done < buf.count {
            let n = write(fd, buf.baseAddress! + done, buf.count - done)
            if n <= 0 { return }
            done += n
        }
    }
}

func writeStderr(_ s: String) { writeAll(STDERR_FILENO, s) }
func writeStdout(_ s: String) { writeAll(STDOUT_FILENO, s + "\n") }

/// Step progress on standard error: a redrawn bar on a terminal, a plain line
/// every quarter of an epoch otherwise.
final class ProgressReporter {
    let isTerminal: Bool
    let totalEpochs: Int
    private var lastDraw = 0.0
    private var epochStart = 0.0
    private var lastQuarter = 0

    init(totalEpochs: Int, isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.totalEpochs = totalEpochs
        self.isTerminal = isTerminal
    }

    func step(_ p: StepProgress) {
        let now = monotonicSeconds()
        if p.step == 1 {
            epochStart = now
            lastQuarter = 0
        }
        let text = "recon \(fmt(p.meanReconstruction, 2))  kl \(fmt(p.meanKL, 2))"
        if isTerminal {
            guard now - lastDraw > 0.08 || p.step == p.steps else { return }
            lastDraw = now
            let bar = progressBar(p.step, of: p.steps)
            let elapsed = now - epochStart
            let eta = p.step > 0 ? elapsed / Double(p.step) * Double(p.steps - p.step) : 0
            writeStderr("\r\u{1B}[2Kepoch \(p.epoch)/\(totalEpochs) \(bar) \(p.step)/\(p.steps)  \(text)  eta \(fmt(eta, 1)) s")
        } else {
            let quarter = p.step * 4 / max(p.steps, 1)
            if quarter > lastQuarter && p.step < p.steps {
                lastQuarter = quarter
                writeStderr("epoch \(p.epoch)/\(totalEpochs) step \(p.step)/\(p.steps)  \(text)\n")
            }
        }
    }

    /// Clears the bar before a summary line is printed.
    func endEpoch() {
        if isTerminal { writeStderr("\r\u{1B}[2K") }
    }
}

/// A 28-character bar, filled in proportion to done / total.
func progressBar(_ done: Int, of total: Int) -> String {
    let width = 28
    let filled = min(width, done * width / max(total, 1))
    return String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
}

/// Fixed-point formatting.
func fmt(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

/// Progress of a long task of `total` units on standard error: a redrawn bar
/// with the rate and ETA on a terminal, a line every 10% otherwise. Called
/// from one thread at a time.
final class TaskProgress: @unchecked Sendable {
    let label: String
    let total: Int
    let unit: String
    let isTerminal: Bool
    private let start = monotonicSeconds()
    private var lastDraw = 0.0
    private var lastTenth = 0

    init(_ label: String, total: Int, unit: String, isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.label = label
        self.total = total
        self.unit = unit
        self.isTerminal = isTerminal
    }

    func update(_ done: Int) {
        let now = monotonicSeconds()
        let elapsed = now - start
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        if isTerminal {
            guard now - lastDraw > 0.1 || done == total else { return }
            lastDraw = now
            let bar = progressBar(done, of: total)
            writeStderr("\r\u{1B}[2K\(label) \(bar) \(done)/\(total) \(unit)  \(fmt(rate, 1))/s  eta \(duration(eta))")
        } else {
            let tenth = done * 10 / max(total, 1)
            if tenth > lastTenth && done < total {
                lastTenth = tenth
                writeStderr("\(label) \(done)/\(total) \(unit), \(fmt(elapsed, 1)) s, eta \(duration(eta))\n")
            }
        }
    }

    /// Clears the bar.
    func finish() {
        if isTerminal { writeStderr("\r\u{1B}[2K") }
    }

}

/// "42 s", "3 min 5 s", "7 h 12 min", "11.6 days".
func duration(_ s: Double) -> String {
    guard s.isFinite, s < 1e12 else { return "forever" }
    if s >= 2 * 86_400 { return "\(fmt(s / 86_400, 1)) days" }
    if s >= 3 * 3600 { return "\(Int(s) / 3600) h \(Int(s) % 3600 / 60) min" }
    return s >= 90 ? "\(Int(s) / 60) min \(Int(s) % 60) s" : "\(fmt(s, 0)) s"
}

/// zoo's JSON output: sorted keys, pretty-printed, non-finite numbers as strings.
func prettyJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

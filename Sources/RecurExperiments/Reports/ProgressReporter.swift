import Recur
import Foundation

/// Progress of a long run on stderr: a live bar (step/total, rate, ETA, running metrics)
/// when stderr is a terminal, and plain periodic lines without escape codes otherwise.
public final class ProgressReporter: @unchecked Sendable {
    public let total: Int
    public let label: String
    public let unit: String
    /// Plain mode prints every `plainEvery` steps (and at the end).
    public let plainEvery: Int
    public let enabled: Bool
    private let isTerminal: Bool
    private let start = Date()
    private var lastDraw = Date.distantPast

    public init(total: Int, label: String, unit: String = "step", plainEvery: Int = 100, enabled: Bool = true) {
        self.total = max(total, 1)
        self.label = label
        self.unit = unit
        self.plainEvery = max(plainEvery, 1)
        self.enabled = enabled
        isTerminal = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Reports that `done` of `total` are finished, with named metrics (e.g. loss, acc).
    public func update(_ done: Int, metrics: [(String, String)] = []) {
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let stats = metrics.map { "\($0.0) \($0.1)" }.joined(separator: "  ")
        if isTerminal {
            let now = Date()
            guard done == total || now.timeIntervalSince(lastDraw) > 0.1 else { return }
            lastDraw = now
            let width = 24, filled = total > 0 ? min(width, max(0, width * done / total)) : 0
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line = "\(label) \(bar) \(done)/\(total)  \(formatNumber(rate, decimals: 1)) \(unit)/s  ETA \(Self.clock(eta))  \(stats)"
            FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line + (done == total ? "\n" : "")).utf8))
        } else if done % plainEvery == 0 || done == total {
            let line = "\(label) \(done)/\(total)  \(formatNumber(rate, decimals: 1)) \(unit)/s  elapsed \(Self.clock(elapsed))  ETA \(Self.clock(eta))  \(stats)\n"
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    /// A log line on stderr that does not break the bar.
    public func log(_ message: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[2K" : "") + message + "\n").utf8))
    }

    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, abs(seconds) < 1e9 else { return "--:--" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%02d:%02d", s / 60, s % 60)
    }
}

import Recur
import Foundation

/// The `--out DIR` of a run: metrics.jsonl (one line per logging step), results.json (final
/// metrics and the full configuration), report.md and SVG plots. With no directory given,
/// every write is skipped.
public final class RunDirectory: @unchecked Sendable {
    public let url: URL?
    private var metrics: AppendingFile?
    /// The first failed metrics write; `writeResults` throws it, so a run whose log could not
    /// be written does not end with exit 0.
    private var metricsError: Error?

    /// Creates the folder (and parents). Throws a message naming the folder if it cannot.
    /// `resuming`: metrics.jsonl keeps the lines of the run's earlier sittings.
    public init(_ path: String?, resuming: Bool = false) throws {
        guard let path else { url = nil; return }
        let u = URL(fileURLWithPath: path)
        try AtomicFile.createFolder(path)
        url = u
        metrics = try AppendingFile(creating: u.appendingPathComponent("metrics.jsonl").path, keeping: resuming)
    }

    public func subdirectory(_ name: String) throws -> RunDirectory {
        try RunDirectory(url?.appendingPathComponent(name).path)
    }

    /// Appends one JSON object as a line of metrics.jsonl.
    public func logMetrics(_ line: JSON) {
        guard metricsError == nil else { return }
        do { try metrics?.append(line.serialized() + "\n") } catch { metricsError = error }
    }

    /// Rewrites a file while a run goes on (a plot of the log so far); a failure is kept for
    /// `writeResults`, as a failed metrics line is.
    public func update(_ name: String, _ text: String) {
        guard metricsError == nil, url != nil else { return }
        do { try write(name, text) } catch { metricsError = error }
    }

    public func write(_ name: String, _ text: String) throws {
        if let metricsError { throw metricsError }
        guard let url else { return }
        try AtomicFile.write(Data(text.utf8), to: url.appendingPathComponent(name).path)
    }

    public func writeResults(_ results: JSON) throws { try write("results.json", results.serialized(pretty: true) + "\n") }
}

import Recur
import Foundation

/// The `--out DIR` of a run: metrics.jsonl (one line per logging step), results.json (final
/// metrics and the full configuration), report.md and SVG plots. With no directory given,
/// every write is skipped.
public final class RunDirectory: @unchecked Sendable {
    public let url: URL?
    private var metrics: FileHandle?

    /// Creates the folder (and parents). Throws a message naming the folder if it cannot.
    public init(_ path: String?) throws {
        guard let path else { url = nil; return }
        let u = URL(fileURLWithPath: path)
        do { try FileManager.default.createDirectory(at: u, withIntermediateDirectories: true) } catch {
            throw RecurError("cannot create output folder \(path): \(error.localizedDescription)",
                             fix: "choose a writable path for --out")
        }
        url = u
        let m = u.appendingPathComponent("metrics.jsonl")
        _ = FileManager.default.createFile(atPath: m.path, contents: nil)
        metrics = try? FileHandle(forWritingTo: m)
    }

    public func subdirectory(_ name: String) throws -> RunDirectory {
        try RunDirectory(url?.appendingPathComponent(name).path)
    }

    /// Appends one JSON object as a line of metrics.jsonl.
    public func logMetrics(_ line: JSON) {
        metrics?.write(Data((line.serialized() + "\n").utf8))
    }

    public func write(_ name: String, _ text: String) throws {
        guard let url else { return }
        let file = url.appendingPathComponent(name)
        do { try Data(text.utf8).write(to: file, options: .atomic) } catch {
            throw RecurError("cannot write \(file.path): \(error.localizedDescription)", fix: "check free space and permissions")
        }
    }

    public func writeResults(_ results: JSON) throws { try write("results.json", results.serialized(pretty: true) + "\n") }

    deinit { try? metrics?.close() }
}

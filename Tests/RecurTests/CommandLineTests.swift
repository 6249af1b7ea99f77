import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// Runs the built `recur` executable, as a user would.
struct RecurProcess {
    let status: Int32
    let stdout: String
    let stderr: String

    static var executable: URL {
        // The test bundle sits in the products folder next to the executable.
        var dir = Bundle.module.bundleURL.deletingLastPathComponent()
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("recur").path) {
            dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        }
        return dir.appendingPathComponent("recur")
    }

    /// Whether the process was ended by a signal (a trap, abort or kill), and whether that was
    /// the timeout's kill.
    var signalled = false, timedOut = false

    /// Runs with a time limit, after which the process is killed (and `timedOut` set).
    /// `stdout`: a file for the standard output instead of a pipe (its text is then not kept).
    static func run(_ arguments: [String], timeout: TimeInterval, stdout path: String? = nil) throws -> RecurProcess {
        let p = Process()
        p.executableURL = executable
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        if let path, let file = FileHandle(forWritingAtPath: path) {
            p.standardOutput = file
            out.fileHandleForWriting.closeFile()
        } else {
            p.standardOutput = out
        }
        p.standardError = err
        try p.run()
        let deadline = DispatchTime.now() + timeout
        let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: deadline, execute: killer)
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        killer.cancel()
        var r = RecurProcess(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
        r.signalled = p.terminationReason == .uncaughtSignal
        r.timedOut = r.signalled && p.terminationStatus == SIGTERM && DispatchTime.now() >= deadline
        return r
    }

    static func run(_ arguments: [String], stdout path: String? = nil) throws -> RecurProcess { try run(arguments, timeout: 3600, stdout: path) }
}

func temporaryFolder() -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("recur-test-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

@Suite struct CommandLineTests {
    static let tiny = ["palindrome", "--length", "3", "--hidden", "8", "--batch-size", "16", "--steps", "30",
                       "--test-batches", "2", "--log-every", "10"]

    @Test func version() throws {
        let r = try RecurProcess.run(["--version"])
        #expect(r.status == 0 && r.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    @Test(arguments: [
        (["palindrome", "--length", "0"], "--length"),
        (["palindrome", "--cell", "transformer"], "transformer"),
        (["palindrome", "--dropout", "1.5"], "--dropout"),
        (["palindrome", "--lr", "-1"], "--lr"),
        (["palindrome", "--sweep", "--cells", "rnn,foo"], "foo"),
        (["palindrome", "--sweep", "--lengths", "5,x"], "'x'"),
        (["palindrome", "--threads", "0"], "--threads"),
        (["palindrome", "--steps", "ten"], "ten"),
    ])
    func badArgumentsFailClearly(_ args: [String], _ named: String) throws {
        let r = try RecurProcess.run(args)
        #expect(r.status == 64, "exit status \(r.status) for \(args)")
        #expect(r.stderr.contains(named), "stderr names \(named): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func helpShowsDefaults() throws {
        let r = try RecurProcess.run(["palindrome", "--help"])
        #expect(r.status == 0)
        let help = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for d in ["default: 128", "default: 10000", "default: lstm", "default: 42", "default: seed"] {
            #expect(help.contains(d), "help lacks \(d)")
        }
    }

    @Test func jsonAndOutputFolder() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try RecurProcess.run(Self.tiny + ["--json", "--out", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 1, "exactly one JSON object on stdout")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let acc = try #require(obj["test_accuracy"] as? Double)
        #expect(acc >= 0 && acc <= 1)
        for key in ["test_loss", "train_loss", "seconds", "ms_per_step", "sequences_per_second", "config"] {
            #expect(obj[key] != nil, "missing \(key)")
        }
        let config = try #require(obj["config"] as? [String: Any])
        #expect(config["cell"] as? String == "lstm" && config["length"] as? Int == 3)
        #expect(!r.stderr.contains("\u{1B}["), "no escape codes when stderr is not a terminal")
        let metrics = try String(contentsOf: dir.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 3)
        for line in metrics {
            let m = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(m["step"] != nil && m["train_loss"] != nil && m["train_accuracy"] != nil && m["grad_norm"] is Double)
        }
        // The gradient norm before clipping at every log point, beside the clip (1, the default).
        let norms = try String(contentsOf: dir.appendingPathComponent("grad_norm.svg"), encoding: .utf8)
        #expect(SVGInspector.inspect(norms)?.seriesNames == ["gradient norm before clipping", "--clip 1.00"])
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("results.json"))) as? [String: Any]
        #expect(results?["test_accuracy"] as? Double == acc)
        for svg in ["training_loss.svg", "training_accuracy.svg"] {
            let text = try String(contentsOf: dir.appendingPathComponent(svg), encoding: .utf8)
            #expect(SVGInspector.inspect(text)?.seriesNames == ["LSTM"], "\(svg)")
        }
        #expect(try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8).contains("test_accuracy"))
    }

    @Test func sameSeedSameResults() throws {
        func numbers(_ extra: [String]) throws -> [String: Any] {
            let r = try RecurProcess.run(Self.tiny + ["--json", "--quiet"] + extra)
            var obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            for k in ["seconds", "ms_per_step", "sequences_per_second"] { obj[k] = nil }
            return obj
        }
        let a = try numbers([]), b = try numbers([]), c = try numbers(["--seed", "7"])
        #expect(NSDictionary(dictionary: a).isEqual(to: b))
        #expect(a["train_loss"] as? Double != c["train_loss"] as? Double)
    }

    @Test func sweepResultsDoNotDependOnJobs() throws {
        func runs(_ jobs: String) throws -> [[String: Any]] {
            let r = try RecurProcess.run(Self.tiny + ["--sweep", "--cells", "rnn,lstm,gru", "--lengths", "2,3", "--jobs", jobs, "--json", "--quiet"])
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            return (obj["runs"] as? [[String: Any]] ?? []).map { run in run.filter { !["seconds", "ms_per_step", "sequences_per_second"].contains($0.key) } }
        }
        let one = try runs("1"), two = try runs("2")
        #expect(one.count == 6)
        #expect(NSArray(array: one).isEqual(to: two))
    }

    @Test func sweepWritesTableAndPlot() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try RecurProcess.run(Self.tiny + ["--sweep", "--cells", "rnn,gru", "--lengths", "2,5", "--out", dir.path, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect((obj["runs"] as? [Any])?.count == 4)
        let svg = try String(contentsOf: dir.appendingPathComponent("accuracy_by_length.svg"), encoding: .utf8)
        #expect(SVGInspector.inspect(svg)?.seriesNames == ["RNN (Recur)", "GRU (Recur)", "RNN (seed 001)"])
        let report = try String(contentsOf: dir.appendingPathComponent("report.md"), encoding: .utf8)
        #expect(report.contains("| N ") && report.contains("RNN (seed)"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("gru-N5/results.json").path))
    }
}

@Suite struct BenchCommandTests {
    @Test func benchPrintsOneJSONObject() throws {
        let r = try RecurProcess.run(["bench", "--config", "T-LSTM,P-RNN-infer-missing", "--json"])
        #expect(r.status == 64 && r.stderr.contains("P-RNN-infer-missing"))
        let ok = try RecurProcess.run(["bench", "--config", "T-LSTM", "--seconds", "0.05", "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as? [String: Any])
        let rows = try #require(obj["configs"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["config"] as? String == "T-LSTM")
        #expect((rows[0]["ms_per_step"] as? Double).map { $0 > 0 } == true && rows[0]["sequences_per_second"] != nil)
        #expect((obj["sgemm_gflops"] as? Double).map { $0 > 0 } == true)
    }

    /// Every configuration builds and runs a step (not timed: timing belongs to benchmarks).
    @Test func everyConfigRunsAStep() {
        for c in BenchmarkConfig.all where !c.name.hasPrefix("L-medium") && c.name != "I-LSTM" {
            c.makeStep()()
            #expect(c.flopsPerStep > 0, "\(c.name)")
        }
    }
}

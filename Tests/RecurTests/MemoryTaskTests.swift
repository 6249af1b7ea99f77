import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct AddingProblemTests {
    /// Two markers per sequence, one in each half; the target is the sum of the marked values;
    /// values uniform in [0, 1]; predicting 1 gives about 1/6 (computed, not assumed).
    @Test func dataHasTheStatedStatistics() {
        var d = AddingDataset(length: 50, seed: 3)
        let x = Tensor(zeros: [50, 400, 2])
        let sums = d.batch(400, into: x)
        var values: [Float] = []
        for b in 0..<400 {
            let marked = (0..<50).filter { x.pointer[($0 * 400 + b) * 2 + 1] == 1 }
            #expect(marked.count == 2 && marked[0] < 25 && marked[1] >= 25)
            #expect(sums[b] == x.pointer[(marked[0] * 400 + b) * 2] + x.pointer[(marked[1] * 400 + b) * 2])
            for t in 0..<50 { values.append(x.pointer[(t * 400 + b) * 2]) }
        }
        let mean = values.reduce(0, +) / Float(values.count)
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 } && abs(mean - 0.5) < 0.01)
        let baseline = sums.reduce(0.0) { $0 + Double(1 - $1) * Double(1 - $1) } / 400
        #expect(abs(baseline - 1.0 / 6) < 0.03, "\(baseline)")
    }

    /// A short problem an LSTM learns well below the baseline; the JSON has both numbers.
    @Test func lstmLearnsAShortProblem() throws {
        let r = try RecurProcess.run(["adding", "--length", "10", "--hidden", "32", "--steps", "2000", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let mse = try #require(o["test_mse"] as? Double), baseline = try #require(o["baseline_mse"] as? Double)
        #expect(abs(baseline - 1.0 / 6) < 0.03 && mse < baseline / 5, "test MSE \(mse), baseline \(baseline)")
    }
}

@Suite struct CopyTaskTests {
    /// Arjovsky et al.'s layout: 10 data symbols in 1...8 (uniform), T-1 blanks, the
    /// delimiter, 10 blanks; the target is T+10 blanks and then the same 10 symbols.
    @Test func dataHasTheStatedLayoutAndStatistics() {
        let T = 7, B = 300
        var d = CopyDataset(delay: T, seed: 5)
        #expect(d.length == T + 20)
        let x = Tensor(zeros: [T + 20, B, 10])
        let targets = d.batch(B, into: x)
        var counts = [Int](repeating: 0, count: 10)
        for b in 0..<B {
            let symbols = (0..<(T + 20)).map { t in (0..<10).filter { x.pointer[(t * B + b) * 10 + $0] == 1 } }
            #expect(symbols.allSatisfy { $0.count == 1 }, "one-hot at every step")
            let input = symbols.map { Int32($0[0]) }, target = (0..<(T + 20)).map { targets[$0 * B + b] }
            #expect(input[0..<10].allSatisfy { (1...8).contains($0) })
            #expect(input[10..<(T + 9)].allSatisfy { $0 == 0 } && input[T + 9] == 9 && input[(T + 10)...].allSatisfy { $0 == 0 })
            #expect(target[..<(T + 10)].allSatisfy { $0 == 0 } && Array(target[(T + 10)...]) == Array(input[0..<10]))
            for s in input[0..<10] { counts[Int(s)] += 1 }
        }
        // 3000 draws, 375 expected per symbol: within 5 standard deviations.
        #expect(counts[1...8].allSatisfy { abs($0 - 375) < 5 * 18 }, "\(counts)")
        // The memoryless strategy's loss, computed from the targets, is 10 log 8 / (T+20).
        #expect(abs(d.memorylessLoss(targets) - 10 * log(8) / Double(T + 20)) < 1e-12)
    }

    /// A target that the memoryless strategy cannot explain (a data symbol early) gives an
    /// infinite loss: the baseline is computed from the data, not assumed.
    @Test func theBaselineReadsTheTargets() {
        let d = CopyDataset(delay: 2, seed: 1)
        var targets = [Int32](repeating: 0, count: d.length)
        for t in (d.length - 10)..<d.length { targets[t] = 3 }
        #expect(abs(d.memorylessLoss(targets) - 10 * log(8) / 22) < 1e-12)
        targets[0] = 4
        #expect(d.memorylessLoss(targets) == .infinity)
    }

    /// `recur copy --json`: the test and baseline losses and the copy accuracy; T = 1 after
    /// 1500 steps the model is below the baseline (loss 0.990).
    @Test func copyReportsItsLossesAndLearns() throws {
        let r = try RecurProcess.run(["copy", "--length", "1", "--hidden", "32", "--steps", "1500", "--log-every", "500", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let loss = try #require(o["test_loss"] as? Double), baseline = try #require(o["baseline_loss"] as? Double)
        let accuracy = try #require(o["test_copy_accuracy"] as? Double)
        #expect(abs(baseline - 10 * log(8) / 21) < 1e-9)
        #expect(loss < baseline && accuracy > 1.0 / 8, "loss \(loss), baseline \(baseline), accuracy \(accuracy)")
    }
}

@Suite struct MemorySweepTests {
    static func sweep(_ folder: URL, _ extra: [String]) throws -> RecurProcess {
        try RecurProcess.run(["memory-sweep", "--task", "adding", "--cells", "lstm", "--hidden", "8", "--batch-size", "8",
                              "--log-every", "10", "--valid-batches", "1", "--test-batches", "2", "--out", folder.path] + extra)
    }

    static func testMSE(_ folder: URL, _ run: String) throws -> Double {
        let data = try Data(contentsOf: folder.appendingPathComponent(run).appendingPathComponent("results.json"))
        return try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["test_mse"] as? Double)
    }

    /// Finished runs are skipped, an unfinished one resumes from its checkpoint to the result
    /// an uninterrupted run gives, and the table holds every finished run in the folder.
    @Test func aSweepSkipsFinishedRunsAndResumesUnfinishedOnes() throws {
        let whole = temporaryFolder(), parts = temporaryFolder()
        defer { for f in [whole, parts] { try? FileManager.default.removeItem(at: f) } }
        let a = try Self.sweep(whole, ["--lengths", "6", "--steps", "40"])
        #expect(a.status == 0, "\(a.stderr)")
        // A run of 20 steps, then the sweep asks for 40: it continues from the checkpoint.
        let b = try Self.sweep(parts, ["--lengths", "6", "--steps", "20"])
        #expect(b.status == 0, "\(b.stderr)")
        let c = try Self.sweep(parts, ["--lengths", "6,8", "--steps", "40"])
        #expect(c.status == 0 && c.stderr.contains("lstm-T6-seed1: resuming"), "\(c.stderr)")
        #expect(try Self.testMSE(parts, "adding-lstm-T6-seed1") == Self.testMSE(whole, "adding-lstm-T6-seed1"))
        // The resumed run's log holds all its log points, as the uninterrupted run's does.
        let lines = { (f: URL) in try String(contentsOf: f.appendingPathComponent("adding-lstm-T6-seed1/metrics.jsonl"), encoding: .utf8).split(separator: "\n").count }
        #expect(try lines(parts) == lines(whole))
        let d = try Self.sweep(parts, ["--lengths", "6,8", "--steps", "40", "--cells", "gru"])
        #expect(d.status == 0, "\(d.stderr)")
        let e = try Self.sweep(parts, ["--lengths", "6,8", "--steps", "40"])
        let other = try Self.sweep(parts, ["--lengths", "6", "--steps", "40", "--hidden", "9"])
        #expect(other.status != 0 && other.stderr.contains("with other settings (hidden: 8 there, 9 here)"), "\(other.stderr)")
        #expect(e.stderr.contains("lstm-T6-seed1: finished, skipped") && e.stderr.contains("lstm-T8-seed1: finished, skipped"), "\(e.stderr)")
        let table = try String(contentsOf: parts.appendingPathComponent("sweep.md"), encoding: .utf8)
        #expect(table.components(separatedBy: "\n").filter { ["6", "8"].contains($0.split(separator: "|").first?.trimmingCharacters(in: .whitespaces) ?? "") }.count == 4, "\(table)")
        #expect(table.contains("- gru:") && table.contains("- lstm:"))
        #expect(FileManager.default.fileExists(atPath: parts.appendingPathComponent("final_loss.svg").path))
    }

    /// A run that diverges is recorded as such and the sweep goes on to the next run.
    @Test func aDivergedRunIsRecordedAndTheSweepGoesOn() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let r = try Self.sweep(folder, ["--lengths", "6,8", "--steps", "30", "--lr", "1e30", "--clip", "0"])
        #expect(r.status == 0 && r.stderr.contains("recorded as diverged"), "\(r.stderr)")
        let table = try String(contentsOf: folder.appendingPathComponent("sweep.md"), encoding: .utf8)
        #expect(table.components(separatedBy: "diverged").count - 1 == 2, "\(table)")
        let again = try Self.sweep(folder, ["--lengths", "6,8", "--steps", "30", "--lr", "1e30", "--clip", "0"])
        #expect(again.stderr.contains("lstm-T8-seed1: finished, skipped"), "\(again.stderr)")
    }

    @Test func badListsAreNamed() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        for (args, message) in [(["--lengths", "6,x"], "--lengths: 'x'"), (["--cells", "lstm,lsmt"], "--cells: 'lsmt'"), (["--seeds", ""], "--seeds is empty"), (["--seeds", "9223372036854775808"], "--seeds: '9223372036854775808'"),
                              (["--seeds", "9007199254740993"], "--seeds: '9007199254740993'"), (["--lengths", "6,,8"], "has an empty entry"),
                              (["--seeds", "1,2,1"], "lists '1' twice"), (["--out", ""], "--out is empty")] {
            let r = try Self.sweep(folder, args)
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }
}

extension MemorySweepTests {
    /// Other folders beside the runs are left alone; settings that no run started with may
    /// change (a first attempt refused for memory); a report needs a sweep.
    @Test func aSweepFolderHoldsOnlyWhatRan() throws {
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let notes = folder.appendingPathComponent("notes")
        try FileManager.default.createDirectory(at: notes, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: notes.appendingPathComponent("results.json"))
        let refused = try Self.sweep(folder, ["--lengths", "6", "--steps", "10", "--hidden", "1048576"])
        #expect(refused.status == 1 && refused.stderr.contains("of memory"), "\(refused.stderr)")
        let r = try Self.sweep(folder, ["--lengths", "6", "--steps", "10"])
        #expect(r.status == 0, "\(r.stderr)")
        let empty = try Self.sweep(folder.appendingPathComponent("none"), ["--report-only"])
        #expect(empty.status == 1 && empty.stderr.contains("holds no sweep"), "\(empty.stderr)")
    }
}

@Suite struct FloatingPointEnvironmentTests {
    /// With the flush on, a product in the subnormal range is 0 and a subnormal input reads
    /// as 0; off (the default), both keep their values.
    @Test func subnormalsAreFlushedOnlyWhenAsked() {
        // Parsed at run time, so that the compiler cannot fold the arithmetic.
        let values = ["1e-20", "1e-20", "5.6e-45"].map { Float($0)! }
        func product() -> Float { values[0] * values[1] }         // 1e-40: subnormal
        func subnormalPlusZero() -> Float { values[2] + 0 * values[0] }
        let before = FloatingPointEnvironment.flushSubnormals(false)
        defer { FloatingPointEnvironment.flushSubnormals(before) }
        #expect(product() > 0 && product().isSubnormal && subnormalPlusZero() > 0)
        #expect(FloatingPointEnvironment.flushSubnormals(true) == false)
        #expect(product() == 0 && subnormalPlusZero() == 0)
        #expect(FloatingPointEnvironment.flushSubnormals(false) == true)
        #expect(product().isSubnormal)
    }
}

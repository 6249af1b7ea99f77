import Foundation
import Recur

/// A memory benchmark swept over lengths, cells and seeds. Every run has its own folder under
/// the sweep's (`lstm-T100-seed1/`: metrics, plots, `checkpoint.safetensors`, `results.json`
/// when finished), so a sweep can stop and go on: a finished run is skipped, an unfinished one
/// (or one finished with fewer steps than asked) resumes from its checkpoint with the same
/// result as an uninterrupted run. A folder holds one set of settings (`sweep-settings.json`). The report is
/// built from every finished run in the folder, so sweeps started side by side (e.g. one per
/// cell) share one table.
public struct MemorySweep: Sendable {
    /// The settings of every run; its cell, length and seed are replaced per run.
    public var base: MemoryTaskExperiment
    public var cells: [CellType], lengths: [Int], seeds: [UInt64]
    public let folder: URL

    /// adding: a run solves the task when its test MSE is below this (Le, Jaitly & Hinton's
    /// criterion, as used for the frontier).
    public static let addingSolved = 0.01
    /// copy: a run solves the task when at least this fraction of copied symbols is right.
    public static let copySolved = 0.99

    public init(base: MemoryTaskExperiment, cells: [CellType], lengths: [Int], seeds: [UInt64], folder: String) {
        (self.base, self.cells, self.lengths, self.seeds) = (base, cells, lengths, seeds)
        self.folder = URL(fileURLWithPath: folder)
    }

    public struct Run: Sendable, Hashable {
        public let cell: CellType, length: Int, seed: UInt64
        public var name: String { "\(cell.rawValue)-T\(length)-seed\(seed)" }
    }

    /// Shortest sequences first, so the table fills from the cheap end.
    public var runs: [Run] {
        lengths.flatMap { t in cells.flatMap { c in seeds.map { Run(cell: c, length: t, seed: $0) } } }
    }

    public func folder(of run: Run) -> URL { folder.appendingPathComponent("\(base.benchmark.rawValue)-\(run.name)") }

    /// The settings every run of the folder shares: the configuration without what varies
    /// per run (cell, length, seed) or may change between sittings (steps, threads).
    public var settingsIdentity: String {
        TrainingCheckpoint.identity(base.config, ignoring: ["cell", "length", "seed", "steps", "threads"])
    }

    /// Writes the folder's settings, or refuses a folder where runs of other settings have started.
    func claimFolder() throws {
        let file = folder.appendingPathComponent("sweep-settings.json").path
        let kept = FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) }
        guard kept != settingsIdentity else { return }
        // Settings that no run has started with (a first attempt refused, e.g. for memory) may change.
        if let kept, anyRunStarted {
            throw RecurError("\(folder.path) holds a sweep with other settings (\(Self.differences(kept, settingsIdentity)))",
                             fix: "use another --out for these settings, or the settings of that sweep")
        }
        try AtomicFile.createFolder(folder.path)
        try AtomicFile.write(Data(settingsIdentity.utf8), to: file)
    }

    /// The names of the folder's run folders (`adding-...`); other folders (a gradients run,
    /// notes) are not the sweep's.
    var runFolderNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("\(base.benchmark.rawValue)-") }.sorted()
    }

    /// Whether a run folder holds a checkpoint or results: a run that trained.
    var anyRunStarted: Bool { runFolderNames.contains { Self.trained(folder.appendingPathComponent($0)) } }

    /// Whether a run's folder holds a checkpoint or results (a run refused before training holds neither).
    static func trained(_ dir: URL) -> Bool {
        ["checkpoint.safetensors", "results.json"].contains { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) }
    }

    /// "hidden: 16 there, 32 here; lr: ..." for two settings objects (JSON), or both texts.
    static func differences(_ there: String, _ here: String) -> String {
        func object(_ text: String) -> [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] }
        guard let a = object(there), let b = object(here) else { return "\(there) there, \(here) here" }
        func text(_ v: Any?) -> String { v.map { "\($0)" } ?? "not set" }
        let keys = Set(a.keys).union(b.keys).sorted().filter { text(a[$0]) != text(b[$0]) }
        return keys.map { "\($0): \(text(a[$0])) there, \(text(b[$0])) here" }.joined(separator: "; ")
    }

    /// Runs every unfinished run in order, rewriting the report after each. `progress` gives
    /// a run's reporter; `log` hears which runs are skipped or resumed.
    /// A run that diverges is recorded as such (unsolved) and the sweep goes on.
    public func run(progress: (Run) -> ProgressReporter?, log: (String) -> Void) throws {
        try claimFolder()
        let done = Dictionary(try finished().map { ($0.run, $0) }, uniquingKeysWith: { a, _ in a })
        for r in runs {
            let dir = folder(of: r)
            var e = base
            (e.cell, e.length, e.seed) = (r.cell, r.length, r.seed)
            // The settings a run was started with (steps and threads aside) must be this sweep's.
            let identityFile = dir.appendingPathComponent("settings.json").path
            let identity = TrainingCheckpoint.identity(e.config)
            if let kept = FileManager.default.contents(atPath: identityFile), String(decoding: kept, as: UTF8.self) != identity, Self.trained(dir) {
                throw RecurError("\(dir.path) holds a run with other settings: \(String(decoding: kept, as: UTF8.self)), where this sweep has \(identity)",
                                 fix: "use another --out for these settings, or the settings of that run")
            }
            if let f = done[r], f.diverged != nil || f.steps >= e.steps {
                log("\(r.name): finished, skipped" + (f.diverged != nil ? " (it diverged; remove its folder to run it again)"
                    : f.steps > e.steps ? " (it ran \(f.steps) steps)" : ""))
                continue
            }
            let checkpoint = dir.appendingPathComponent("checkpoint.safetensors").path
            let resume = FileManager.default.fileExists(atPath: checkpoint) ? checkpoint : nil
            if resume != nil { log("\(r.name): resuming from \(checkpoint)") }
            let out = try RunDirectory(dir.path, resuming: resume != nil)
            try AtomicFile.write(Data(identity.utf8), to: identityFile)
            do {
                let result = try e.run(save: checkpoint, resume: resume, progress: progress(r), run: out)
                try out.writeResults(result.json)
            } catch let d as TrainingDiverged {
                log("\(r.name): \(d.description); recorded as diverged")
                try out.writeResults(.object([("diverged", .string(d.description)), ("steps_run", JSON(d.step)), ("config", e.config)]))
            }
            try report()
        }
    }

    /// One finished run, read back from its results.json.
    public struct Finished: Sendable {
        public let run: Run
        public let testLoss: Double, baselineLoss: Double, copyAccuracy: Double?
        /// Training time (all sittings) and steps run.
        public let seconds: Double, msPerStep: Double, steps: Int
        /// Why training stopped early, for a run that diverged (its losses are NaN).
        public var diverged: String? = nil
        public var solved: Bool {
            diverged == nil && (copyAccuracy.map { $0 >= MemorySweep.copySolved } ?? (testLoss < MemorySweep.addingSolved))
        }
    }

    /// Every finished run of this sweep in the folder (any cell, length or seed), by length,
    /// cell and seed: folders named for their run whose settings are this sweep's.
    public func finished() throws -> [Finished] {
        let m = base.benchmark.metric
        return try runFolderNames.compactMap { name -> Finished? in
            let file = folder.appendingPathComponent(name).appendingPathComponent("results.json")
            guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
            guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let config = o["config"] as? [String: Any] else {
                throw RecurError("\(file.path) is not a results file of recur \(base.benchmark.rawValue)", fix: "remove that folder and run the sweep again")
            }
            guard config["task"] as? String == base.benchmark.rawValue else { return nil }
            guard let cellName = config["cell"] as? String, let cell = CellType(rawValue: cellName),
                  let length = config["length"] as? Int, let seed = config["seed"] as? Int, let steps = (o["steps_run"] ?? config["steps"]) as? Int else {
                throw RecurError("\(file.path) lacks a field the sweep reads (config.cell, length, seed; steps_run)", fix: "remove that folder and run the sweep again")
            }
            let run = Run(cell: cell, length: length, seed: UInt64(seed))
            // A renamed or copied folder is not a run of this sweep.
            guard folder(of: run).lastPathComponent == name else { return nil }
            var e = base
            (e.cell, e.length, e.seed) = (cell, length, UInt64(seed))
            let kept = FileManager.default.contents(atPath: folder.appendingPathComponent(name).appendingPathComponent("settings.json").path)
            guard kept.map({ String(decoding: $0, as: UTF8.self) }) == TrainingCheckpoint.identity(e.config) else { return nil }
            if let why = o["diverged"] as? String {
                return Finished(run: run, testLoss: .nan, baselineLoss: .nan, copyAccuracy: nil, seconds: 0, msPerStep: .nan, steps: steps, diverged: why)
            }
            guard let test = o["test_\(m)"] as? Double, let baseline = o["baseline_\(m)"] as? Double,
                  let seconds = (o["train_seconds"] ?? o["seconds"]) as? Double, let ms = o["ms_per_step"] as? Double else {
                throw RecurError("\(file.path) lacks a field the sweep reads (test_\(m), baseline_\(m), train_seconds, ms_per_step)",
                                 fix: "remove that folder and run the sweep again")
            }
            return Finished(run: run, testLoss: test, baselineLoss: baseline, copyAccuracy: o["test_copy_accuracy"] as? Double,
                            seconds: seconds, msPerStep: ms, steps: steps)
        }.sorted { ($0.run.length, $0.run.cell.rawValue, $0.run.seed) < ($1.run.length, $1.run.cell.rawValue, $1.run.seed) }
    }

    /// Writes sweep.md (the table and the frontier), sweep.json and final_loss.svg in the folder (the test
    /// loss against T per cell, the mean over seeds, beside the baseline) from the finished
    /// runs; returns the table.
    @discardableResult
    public func report() throws -> MarkdownTable {
        try claimFolder()
        let done = try finished()
        let copy = base.benchmark == .copy
        let what = copy ? "test loss" : "test MSE"
        var table = MarkdownTable(header: ["T", "cell", "seed", what, "baseline", "ratio"] + (copy ? ["copied right"] : []) + ["solved", "steps", "ms/step", "train minutes"],
                                  rightAligned: Set([0, 2, 3, 4, 5] + (copy ? [6] : []) + (copy ? [8, 9, 10] : [7, 8, 9])))
        for f in done {
            if f.diverged != nil {
                table.append(["\(f.run.length)", f.run.cell.rawValue, "\(f.run.seed)", "diverged", "-", "-"] + (copy ? ["-"] : [])
                             + ["no", "\(f.steps)", "-", "-"])
                continue
            }
            table.append(["\(f.run.length)", f.run.cell.rawValue, "\(f.run.seed)", formatScientific(f.testLoss), formatScientific(f.baselineLoss),
                          formatScientific(f.testLoss / f.baselineLoss)]
                         + (f.copyAccuracy.map { [String(format: "%.1f%%", 100 * $0)] } ?? [])
                         + [f.solved ? "yes" : "no", "\(f.steps)", String(format: "%.1f", f.msPerStep), String(format: "%.1f", f.seconds / 60)])
        }
        let criterion = copy ? "at least \(Int(Self.copySolved * 100))% of the copied symbols right" : "test MSE below \(Self.addingSolved)"
        var frontier: [String] = []
        var series: [LineChart.Series] = []
        for (k, cell) in CellType.allCases.enumerated() {
            let mine = done.filter { $0.run.cell == cell }
            let measured = mine.filter { $0.diverged == nil }
            guard !mine.isEmpty else { continue }
            let solved = mine.filter(\.solved).map(\.run.length).max()
            let tried = Set(mine.map(\.run.seed)).sorted().map(String.init).joined(separator: ", ")
            frontier.append("- \(cell.rawValue): " + (solved.map { t in
                let atT = mine.filter { $0.run.length == t }
                return "T = \(t) (\(atT.filter(\.solved).count) of \(atT.count) seeds)"
            } ?? "solved at no T tried") + "; seeds tried: \(tried)")
            let points = Set(measured.map(\.run.length)).sorted().map { t -> (x: Double, y: Double) in
                let atT = measured.filter { $0.run.length == t }
                return (Double(t), atT.reduce(0) { $0 + $1.testLoss } / Double(atT.count))
            }
            series.append(.init(name: cell.rawValue, points: points, colorIndex: k))
        }
        let baselines = Set(done.filter { $0.diverged == nil }.map(\.run.length)).sorted().map { t -> (x: Double, y: Double) in
            let atT = done.filter { $0.run.length == t && $0.diverged == nil }
            return (Double(t), atT.reduce(0) { $0 + $1.baselineLoss } / Double(atT.count))
        }
        if !baselines.isEmpty {
            series.append(.init(name: "baseline", points: baselines, dashed: true, colorIndex: 7))
            if !copy {
                series.append(.init(name: "solved below \(Self.addingSolved)", points: [(baselines.first!.x, Self.addingSolved), (baselines.last!.x, Self.addingSolved)],
                                    dashed: true, colorIndex: 5, width: 1))
            }
        }
        let title = copy ? "Copy task" : "Adding problem"
        let chart = LineChart(title: "\(title): final \(what) against T (mean over seeds)", xLabel: "T", yLabel: what, series: series, logY: true)
        func write(_ name: String, _ text: String) throws {
            try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent(name).path)
        }
        try AtomicFile.createFolder(folder.path)
        try write("sweep.md", "# \(title) sweep\n\n\(table.markdown)\n\nLongest T solved (\(criterion)):\n\n\(frontier.joined(separator: "\n"))\n")
        if !done.isEmpty { try write("final_loss.svg", chart.svg) }
        let runsJSON: [JSON] = done.map { f in
            .object([("cell", .string(f.run.cell.rawValue)), ("length", JSON(f.run.length)), ("seed", JSON(Int(f.run.seed))),
                     ("test_\(base.benchmark.metric)", .number(f.testLoss)), ("baseline_\(base.benchmark.metric)", .number(f.baselineLoss)),
                     ("solved", .bool(f.solved)), ("steps_run", JSON(f.steps)), ("train_seconds", .number(f.seconds))]
                    + (f.diverged.map { [("diverged", .string($0))] } ?? [])
                    + (f.copyAccuracy.map { [("test_copy_accuracy", .number($0))] } ?? []))
        }
        try write("sweep.json", JSON.object([("task", .string(base.benchmark.rawValue)), ("runs", .array(runsJSON))]).serialized(pretty: true) + "\n")
        return table
    }
}

import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct MemorySweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory-sweep",
        abstract: "Sweep the adding problem or the copy task over lengths, cells and seeds; resumable.",
        discussion: "Every run has a folder under --out with its checkpoint; running the same command again skips finished runs "
            + "and resumes an unfinished one. The table (sweep.md, sweep.json) and the plot of the final loss against T "
            + "(final_loss.svg) are rebuilt after every run from all finished runs in --out, so sweeps started side by side "
            + "(e.g. --cells lstm and --cells gru, one per core) share them. Defaults: adding at T = 50, 100, 200, 400, "
            + "copy at T = 50, 100, 200; LSTM and GRU; hidden 128, batch 50, Adam 1e-3, clip 1, 10000 steps."
    )

    @Option(help: "adding or copy.") var task: MemoryBenchmark = .adding
    @Option(help: "Comma-separated T values (default: adding 50,100,200,400; copy 50,100,200).") var lengths: String?
    @Option(help: "Comma-separated cells.") var cells: String = "lstm,gru"
    @Option(help: "Comma-separated seeds.") var seeds: String = "1"
    @Option(help: ArgumentHelp("Folder of the sweep (required).", valueName: "dir")) var out: String
    @Flag(help: "Only rebuild the table and plot from the finished runs.") var reportOnly = false
    @Option(help: "Threads per run.") var threads: Int = 1
    @Flag(help: "No progress output on stderr.") var quiet = false
    @OptionGroup var settings: MemoryTaskOptions

    var lengthList: [Int] {
        get throws {
            try parseList(lengths ?? (task == .adding ? "50,100,200,400" : "50,100,200"), option: "--lengths", expected: "whole numbers from \(task == .adding ? 2 : 1) to 100000") {
                Int($0).flatMap { (task == .adding ? 2 : 1)...100_000 ~= $0 ? $0 : nil }
            }
        }
    }

    var cellList: [CellType] {
        get throws {
            try parseList(cells, option: "--cells", expected: CellType.allCases.map(\.rawValue).joined(separator: ", ")) { CellType(rawValue: $0) }
        }
    }

    var seedList: [UInt64] {
        get throws {
            let range = OptionLimits.table["seed"]!
            return try parseList(seeds, option: "--seeds", expected: "seeds (\(range.text))") { UInt64($0).flatMap { range.contains($0.numberAndText!.0) ? $0 : nil } }
        }
    }

    func validate() throws {
        try OptionLimits.check(self)
        if out.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--out is empty; give the sweep's folder, e.g. sweeps/adding") }
        _ = try (lengthList, cellList, seedList)
    }

    func run() throws {
        BLAS.threads = threads
        let sweep = MemorySweep(base: settings.experiment(task, cell: .lstm, length: 2, seed: 0, patience: nil),
                                cells: try cellList, lengths: try lengthList, seeds: try seedList, folder: out)
        let log = { (m: String) in if !quiet { FileHandle.standardError.write(Data((m + "\n").utf8)) } }
        if reportOnly && !FileManager.default.fileExists(atPath: URL(fileURLWithPath: out).appendingPathComponent("sweep-settings.json").path) {
            throw RecurError("\(out) holds no sweep (it has no sweep-settings.json)", fix: "give --out the folder of a sweep that has run")
        }
        if !reportOnly {
            try sweep.run(progress: { r in
                ProgressReporter(total: settings.steps, label: "\(task.rawValue) \(r.name)", plainEvery: max(settings.steps / 10, 1), enabled: !quiet)
            }, log: log)
        }
        let table = try sweep.report()
        log("\n" + table.plainText + "\nwritten: \(out)/sweep.md, sweep.json" + (table.rows.isEmpty ? " (no run has finished yet)" : ", final_loss.svg"))
    }
}

extension MemoryBenchmark: ExpressibleByArgument {}

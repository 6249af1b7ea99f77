import ArgumentParser
import Foundation
import Recur
import RecurExperiments

/// Options every experiment command shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Random seed: the same seed gives the same numbers.")
    var seed: UInt64 = 42

    @Option(help: "Threads: row blocks, directions and large products share them; the numbers do not depend on it.")
    var threads: Int = 1

    @Option(help: ArgumentHelp("Folder for metrics.jsonl, results.json, report.md and SVG plots.", valueName: "dir"))
    var out: String?

    @Flag(help: "Print exactly one JSON object with the final results on stdout.")
    var json = false

    @Flag(help: "No progress output on stderr.")
    var quiet = false

    /// Applies --threads and opens --out.
    func prepare() throws -> RunDirectory {
        BLAS.threads = threads
        return try RunDirectory(out)
    }

    func emit(_ results: JSON) {
        if json { print(results.serialized()) }
    }

    /// The end of a comparison: results.json with every run, the table on stderr (unless
    /// --json), and the JSON object on stdout with --json.
    func finishComparison(_ out: RunDirectory, runs: [JSON], table: MarkdownTable, extra: [(String, JSON)] = []) throws {
        let summary: JSON = .object([("runs", .array(runs))] + extra)
        try out.writeResults(summary)
        if !json { FileHandle.standardError.write(Data(("\n" + table.plainText).utf8)) }
        emit(summary)
    }

    func log(_ message: String) {
        if !quiet { FileHandle.standardError.write(Data((message + "\n").utf8)) }
    }
}

/// `--proj-size`, for every command that builds an LSTM.
struct ProjectionOption: ParsableArguments {
    @Option(help: "LSTM projection size P (PyTorch proj_size): h and the outputs get width P < --hidden. --cell lstm only; 0: none.")
    var projSize: Int = 0

    func validate(cell: CellType, hidden: Int) throws {
        guard projSize != 0 else { return }
        guard cell == .lstm else { throw ValidationError("--proj-size is for --cell lstm, not \(cell.rawValue)") }
        guard projSize > 0 && projSize < hidden else {
            throw ValidationError("--proj-size must be between 1 and --hidden - 1 (\(hidden - 1)), got \(projSize)")
        }
    }
}

extension CellType: ExpressibleByArgument {}
extension RecurrentInitialization: ExpressibleByArgument {}
extension BidirectionalMerge: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension PalindromeDataset.Encoding: ExpressibleByArgument {}

/// Parses "a,b,c" with `parse`, naming the option and the bad item on failure.
func parseList<T>(_ text: String, option: String, expected: String, _ parse: (String) -> T?) throws -> [T] {
    let items = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    guard items != [""] else { throw ValidationError("\(option) is empty; give \(expected)") }
    if items.contains("") { throw ValidationError("\(option) '\(text)' has an empty entry; give \(expected) separated by single commas") }
    if let twice = items.indices.first(where: { items[..<$0].contains(items[$0]) }) {
        throw ValidationError("\(option) lists '\(items[twice])' twice; give each once")
    }
    return try items.map { item in
        guard let v = parse(item) else { throw ValidationError("\(option): '\(item)' is not valid; expected \(expected)") }
        return v
    }
}

/// `--save`, `--resume` and `--patience`: what every training command does with the Trainer.
struct TrainingFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Save the training state here at every evaluation (for --resume) and the best weights to FILE.best.safetensors.", valueName: "file"))
    var save: String?

    @Option(help: ArgumentHelp("Continue a run saved with --save, up to this run's --epochs or --steps; the results equal an uninterrupted run's.", valueName: "file"))
    var resume: String?

    @Option(help: "Early stopping: stop after N evaluations without a better validation metric and keep the best weights.")
    var patience: Int?

    /// `command`: the mode (e.g. "--sweep") that runs several models, which cannot save.
    func validate(single: Bool, mode: String) throws {
        guard single || (save == nil && resume == nil) else { throw ValidationError("--save and --resume work on one run, not with \(mode)") }
    }

    /// Runs a training job, turning a divergence into a message in the command's own flags.
    func run<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let d as TrainingDiverged {
            let kept = save.map { "; the last good state is in \($0)" } ?? ""
            throw RecurError("\(d.description)\(kept)", fix: "try a lower --lr, or clip gradients with --clip (e.g. --clip 1)")
        }
    }
}

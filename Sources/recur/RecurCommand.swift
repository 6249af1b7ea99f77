import ArgumentParser
import Recur
import RecurExperiments

@main
struct RecurCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recur",
        abstract: "Recurrent neural networks (RNN, LSTM, GRU) trained by backpropagation through time.",
        discussion: "Results: --json prints one JSON object on stdout; --out DIR writes metrics.jsonl, results.json, report.md and SVG plots. Progress goes to stderr.",
        version: Recur.version,
        subcommands: [PalindromeCommand.self, SpeechCommand.self, LanguageModelCommand.self, GenerateCommand.self, ForecastCommand.self, SentimentCommand.self, SummaryCommand.self, BenchCommand.self, InitCommand.self, ImportCommand.self, ExportCommand.self, InferCommand.self]
    )

    /// The library's parameter names in its errors, as this command line spells them.
    static let flags = [
        "batchSize": "--batch-size", "classes": "--classes", "config": "--config", "csv": "--csv", "root": "--data",
        "save": "--save", "hidden": "--hidden", "layers": "--layers", "skipBad": "--skip-bad", "trainFraction": "--split", "window": "--window",
    ]

    static func main() {
        do {
            var command = try parseAsRoot(OptionLimits.joinNegativeValues(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let error as RecurError {
            exit(withError: error.naming(flags))
        } catch {
            exit(withError: error)
        }
    }
}

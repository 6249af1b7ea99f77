import ArgumentParser
import Foundation
import Recur
import RecurExperiments

@main
struct RecurCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recur",
        abstract: "Recurrent neural networks (RNN, LSTM, GRU) trained by backpropagation through time.",
        discussion: "Results: --json prints one JSON object on stdout; --out DIR writes metrics.jsonl, results.json, report.md and SVG plots. Progress goes to stderr.",
        version: Recur.version,
        subcommands: [PalindromeCommand.self, SpeechCommand.self, LanguageModelCommand.self, GenerateCommand.self, ForecastCommand.self, SentimentCommand.self, SummaryCommand.self, GradientsCommand.self, AddingCommand.self, CopyCommand.self, MemorySweepCommand.self, BenchCommand.self, InitCommand.self, ImportCommand.self, ExportCommand.self, InferCommand.self]
    )

    /// The library's parameter names in its errors, as this command line spells them.
    static let flags = [
        "batchSize": "--batch-size", "classes": "--classes", "config": "--config", "csv": "--csv", "root": "--data",
        "save": "--save", "hidden": "--hidden", "layers": "--layers", "skipBad": "--skip-bad", "trainFraction": "--split", "window": "--window",
    ]

    /// Arguments whose bytes are not UTF-8 (e.g. a file name from another encoding), which
    /// Swift would turn into other characters and then report as a missing file.
    static func undecodableArguments() -> [Int] {
        (1..<Int(CommandLine.argc)).filter { i in
            guard let p = CommandLine.unsafeArgv[i] else { return false }
            return String(validatingCString: p) == nil
        }
    }

    /// Results printed on stdout are buffered; a write that fails at the end (a full disk
    /// behind `> file`, /dev/full) would otherwise be lost with exit 0.
    static func flushStandardOutput() throws {
        // fflush(nil) flushes every output stream; stdout is the only buffered one.
        if fflush(nil) != 0 {
            let reason = errno == ENOSPC ? "no space left on the device" : String(cString: strerror(errno))
            throw RecurError("cannot write the standard output: \(reason)", fix: "redirect it to a writable file with free space")
        }
    }

    static func main() {
        if let i = undecodableArguments().first {
            let shown = String(decoding: Array(UnsafeBufferPointer(start: CommandLine.unsafeArgv[i]!, count: strlen(CommandLine.unsafeArgv[i]!))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            exit(withError: RecurError("argument \(i) (\(shown)) is not valid UTF-8, so it cannot name a file or value",
                                       fix: "rename the file to a UTF-8 name (e.g. convmv -f latin1 -t utf8), or pass it through a link with such a name"))
        }
        do {
            var command = try parseAsRoot(OptionLimits.joinNegativeValues(Array(CommandLine.arguments.dropFirst())))
            try command.run()
            try flushStandardOutput()
        } catch let error as RecurError {
            exit(withError: error.naming(flags))
        } catch {
            exit(withError: error)
        }
    }
}

import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct GradientsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradients",
        abstract: "See vanishing gradients: ‖dL/dh_t‖ at every step back from the loss, per cell and initialisation.",
        discussion: "Each setting trains a palindrome model of --length steps (the loss at the last step needs the first input) "
            + "and measures, at each step of --at (0: at initialisation), the mean norm of dL/dh_t of the first layer "
            + "(and dL/dc_t for an LSTM) on a fixed batch. Writes gradient_flow.svg (log scale), a table with each run's "
            + "gradient horizon (steps back until the norm has fallen 100-fold) and, with --json, gradient_norms[k] "
            + "(k steps back) and gradient_horizon."
    )

    @Option(help: "Settings, comma-separated, each CELL or CELL:INIT (inits: pytorch, keras, fan-in (seed 001's), orthogonal, identity).")
    var cells: String = "rnn:pytorch,rnn-relu:identity,lstm:pytorch,gru:pytorch"
    @Option(help: "T: steps per sequence (the palindrome's input digits).") var length: Int = 100
    @Option(help: "Hidden units.") var hidden: Int = 128
    @Option(help: "Sequences per batch (training and the measuring batch).") var batchSize: Int = 128
    @Option(help: ArgumentHelp("Training steps at which to measure, comma-separated (0: at initialisation).", valueName: "n,m")) var at: String = "0"
    @Option(help: "Learning rate (Adam).") var lr: Float = 1e-3
    @Option(help: "Gradient-norm clip (0: off).") var clip: Float = 1
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionLimits.check(self)
        _ = try settings()
        _ = try steps()
    }

    func settings() throws -> [GradientStudy.Setting] {
        let expected = "CELL or CELL:INIT with a cell of " + CellType.allCases.map(\.rawValue).joined(separator: ", ")
            + " and an init of " + RecurrentInitialization.allCases.map(\.rawValue).joined(separator: ", ")
        return try parseList(cells, option: "--cells", expected: expected) { item in
            let parts = item.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count <= 2, let cell = CellType(rawValue: parts[0]) else { return nil }
            guard parts.count == 2 else { return GradientStudy.Setting(cell: cell, initialization: .pytorch) }
            return RecurrentInitialization(rawValue: parts[1]).map { GradientStudy.Setting(cell: cell, initialization: $0) }
        }
    }

    func steps() throws -> [Int] {
        let range = OptionLimits.Range.integer(0...OptionLimits.maxCount)
        return try parseList(at, option: "--at", expected: "training steps (\(range.text)) separated by commas") { item in
            Int(item).flatMap { range.contains(Double($0)) ? $0 : nil }
        }
    }

    func run() throws {
        let out = try common.prepare()
        var study = GradientStudy()
        (study.settings, study.length, study.hidden, study.batchSize, study.at) = (try settings(), length, hidden, batchSize, try steps())
        (study.learningRate, study.clip, study.seed) = (lr, clip, common.seed)
        let runs = try study.run { s, step in
            ProgressReporter(total: step, label: "\(s.label), \(step) steps", plainEvery: max(step / 5, 1), enabled: !common.quiet)
        }
        let table = GradientStudy.table(runs)
        try out.write("gradient_flow.svg", GradientStudy.chart(runs, length: length).svg)
        try out.write("report.md", "# Gradient flow over \(length) steps\n\nMean ‖dL/dh_t‖ of the first layer for the cross-entropy at the last step, on a fixed batch of \(batchSize) palindromes. Horizon: steps back until the norm has fallen 100-fold below its value at the last step.\n\n\(table.markdown)\n![gradient flow](gradient_flow.svg)\n")
        if runs.count == 1 {
            try out.writeResults(runs[0].json)
            common.emit(runs[0].json)
            if !common.json { FileHandle.standardError.write(Data(("\n" + table.plainText).utf8)) }
        } else {
            try common.finishComparison(out, runs: runs.map(\.json), table: table)
        }
    }
}

import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct AddingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adding",
        abstract: "The adding problem: remember two marked values over --length steps and output their sum.",
        discussion: "Built-in data (seeded): two inputs per step, a value in [0, 1] and a marker; one marked step in each half. "
            + "MSE at the last step, beside the baseline of always predicting 1 (about 0.167). Defaults as Le, Jaitly & Hinton "
            + "2015's setup: hidden 128, batch 50, Adam 1e-3, clip 1, 10000 steps."
    )

    @Option(help: "Recurrent cell.") var cell: CellType = .lstm
    @Option(help: "T: steps per sequence.") var length: Int = 100
    @Option(help: "Hidden units.") var hidden: Int = 128
    @Option(name: .customLong("init"), help: "Recurrent initialisation: pytorch, keras, fan-in, orthogonal, identity (IRNN, for rnn-relu).")
    var initialization: RecurrentInitialization = .pytorch
    @Option(help: "Learning rate (Adam).") var lr: Float = 1e-3
    @Option(help: "Gradient-norm clip (0: off).") var clip: Float = 1
    @Option(help: "Sequences per batch.") var batchSize: Int = 50
    @Option(help: "Training steps.") var steps: Int = 10_000
    @Option(help: "Validate and log every N steps.") var logEvery: Int = 100
    @Option(help: "Fixed validation batches (their own stream).") var validBatches: Int = 10
    @Option(help: "Fresh test batches.") var testBatches: Int = 20
    @OptionGroup var training: TrainingFlags
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionLimits.check(self)
        guard length >= 2 else { throw ValidationError("--length must be at least 2 (one marked step in each half), got \(length)") }
    }

    func run() throws {
        let out = try common.prepare()
        var e = AddingExperiment()
        (e.cell, e.length, e.hidden, e.initialization, e.learningRate, e.clip) = (cell, length, hidden, initialization, lr, clip)
        (e.batchSize, e.steps, e.logEvery, e.validBatches, e.testBatches, e.seed, e.patience) = (batchSize, steps, logEvery, validBatches, testBatches, common.seed, training.patience)
        let progress = ProgressReporter(total: steps, label: "adding \(cell.rawValue) T=\(length)", plainEvery: max(steps / 10, 1), enabled: !common.quiet)
        let r = try training.run { try e.run(save: training.save, resume: training.resume, progress: progress, run: out) }
        try out.write("report.md", "# Adding problem, \(cell.rawValue), T = \(length)\n\nTest MSE \(formatScientific(r.testMSE)); always predicting 1: \(formatScientific(r.baselineMSE)).\n")
        try out.writeResults(r.json)
        common.log("test MSE \(formatScientific(r.testMSE)) (baseline \(formatScientific(r.baselineMSE)))")
        common.emit(r.json)
    }
}

import ArgumentParser
import Foundation
import Recur
import RecurExperiments

/// The options `recur adding`, `recur copy` and `recur memory-sweep` share: the model and the
/// training setup of Le, Jaitly & Hinton 2015 and Arjovsky, Shah & Bengio 2016 by default.
struct MemoryTaskOptions: ParsableArguments {
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
    @Flag(help: "Flush subnormal floats to zero (FTZ/DAZ) on the training thread: long runs whose gradients vanish below 1e-38 stay fast; results differ from PyTorch's in those tiny values.")
    var flushSubnormals = false

    /// The experiment for `benchmark` with these settings.
    func experiment(_ benchmark: MemoryBenchmark, cell: CellType, length: Int, seed: UInt64, patience: Int?) -> MemoryTaskExperiment {
        var e = MemoryTaskExperiment(benchmark)
        (e.cell, e.length, e.hidden, e.initialization, e.learningRate, e.clip) = (cell, length, hidden, initialization, lr, clip)
        (e.batchSize, e.steps, e.logEvery, e.validBatches, e.testBatches, e.seed, e.patience) = (batchSize, steps, logEvery, validBatches, testBatches, seed, patience)
        e.flushSubnormals = flushSubnormals
        return e
    }

    /// One run of `benchmark`, with its report, results and JSON: what `recur adding` and `recur copy` do.
    func runOne(_ benchmark: MemoryBenchmark, cell: CellType, length: Int, training: TrainingFlags, common: CommonOptions) throws {
        let out = try common.prepare()
        let e = experiment(benchmark, cell: cell, length: length, seed: common.seed, patience: training.patience)
        let progress = ProgressReporter(total: steps, label: "\(benchmark.rawValue) \(cell.rawValue) T=\(length)", plainEvery: max(steps / 10, 1), enabled: !common.quiet)
        let r = try training.run { try e.run(save: training.save, resume: training.resume, progress: progress, run: out) }
        let what = benchmark == .adding ? "MSE" : "cross-entropy per step"
        let accuracy = r.copyAccuracy.map { String(format: "; copied symbols right: %.1f%%", 100 * $0) } ?? ""
        let title = benchmark == .adding ? "Adding problem" : "Copy task"
        try out.write("report.md", "# \(title), \(cell.rawValue), T = \(length)\n\nTest \(what) \(formatScientific(r.testLoss)); "
            + "\(benchmark.baselineName): \(formatScientific(r.baselineLoss))\(accuracy).\n")
        try out.writeResults(r.json)
        common.log("test \(what) \(formatScientific(r.testLoss)) (baseline \(formatScientific(r.baselineLoss)))\(accuracy)")
        common.emit(r.json)
    }
}

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
    @OptionGroup var task: MemoryTaskOptions
    @OptionGroup var training: TrainingFlags
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionLimits.check(self)
        guard length >= 2 else { throw ValidationError("--length must be at least 2 (one marked step in each half), got \(length)") }
    }

    func run() throws { try task.runOne(.adding, cell: cell, length: length, training: training, common: common) }
}

struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "The copy-memory task: reproduce 10 symbols after a delay of --length steps.",
        discussion: "Built-in data (seeded), as Arjovsky, Shah & Bengio 2016: 10 symbols from an alphabet of 8, T-1 blanks, "
            + "a delimiter and 10 blanks (T+20 steps); the target is T+10 blanks, then the 10 symbols. Cross-entropy over every "
            + "step, beside the memoryless baseline 10 log 8 / (T+20). Defaults: hidden 128, batch 50, Adam 1e-3, clip 1, 10000 steps."
    )

    @Option(help: "Recurrent cell.") var cell: CellType = .lstm
    @Option(help: "T: the delay; sequences have T+20 steps.") var length: Int = 100
    @OptionGroup var task: MemoryTaskOptions
    @OptionGroup var training: TrainingFlags
    @OptionGroup var common: CommonOptions

    func validate() throws { try OptionLimits.check(self) }

    func run() throws { try task.runOne(.copy, cell: cell, length: length, training: training, common: common) }
}

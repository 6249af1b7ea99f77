import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct PalindromeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "palindrome",
        abstract: "Seed 001: remember the first digit of a palindrome (RNN vs LSTM vs GRU).",
        discussion: "Input: the first N digits of a random palindrome of N+1 digits; target: the last digit. "
            + "Defaults are the seed's: hidden 128, batch 128, 10000 steps, Adam 1e-3, clip 1.0, seed 42, "
            + "seed initialisation, 100 test batches. --sweep reproduces the seed's whole study."
    )

    @Option(help: "Recurrent cell.") var cell: CellType = .lstm
    @Option(help: "Input digits N (the palindrome has N+1).") var length: Int = 10
    @Option(help: "Hidden units.") var hidden: Int = 128
    @Option(help: "Stacked layers.") var layers: Int = 1
    @Flag(help: "Bidirectional layers.") var bidirectional = false
    @Option(help: "With --bidirectional: how the two directions' final states combine: concat (PyTorch), sum, mean, multiply (Keras merge_mode).")
    var merge: BidirectionalMerge = .concat
    @Option(help: "Dropout between stacked layers.") var dropout: Float = 0
    @Option(help: "Input encoding: scalar (the seed's input_dim 1) or onehot.") var encoding: PalindromeDataset.Encoding = .scalar
    @Option(help: "Framework defaults: seed (one bias, U(±1/sqrt(fan_in)), zero biases, the head U(±1/sqrt(H))), pytorch, keras or keras1.")
    var convention: Convention = .seed
    @Option(name: .customLong("init"), help: "Recurrent initialisation, overriding the convention's: pytorch, keras, fan-in, orthogonal, identity (IRNN, for rnn-relu).")
    var initialization: RecurrentInitialization?
    @Option(help: "Optimizer.") var optimizer: OptimizerKind = .adam
    @Option(help: "Learning rate.") var lr: Float = 1e-3
    @Option(help: "StepLR: decay the rate every N steps (default: 1000 with rmsprop, as the seed; else never).") var lrStep: Int?
    @Option(help: "StepLR factor.") var lrGamma: Float = 0.1
    @Option(help: "Gradient-norm clip (0: off).") var clip: Float = 1
    @Option(help: "Sequences per batch.") var batchSize: Int = 128
    @Option(help: "Training steps.") var steps: Int = 10_000
    @Option(help: "Fresh test batches.") var testBatches: Int = 100
    @Option(help: "Log loss and accuracy every N steps.") var logEvery: Int = 100
    @Flag(help: "Run every cell in --cells at every length in --lengths (the seed's study).") var sweep = false
    @Option(help: "Cells for --sweep.") var cells: String = "rnn,lstm,gru"
    @Option(help: "Lengths for --sweep.") var lengths: String = "5,10,15,20"
    @Option(help: "Fixed validation batches (their own stream), evaluated every --log-every steps.") var validBatches: Int = 10
    @OptionGroup var training: TrainingFlags
    @Option(help: "Runs of --sweep at once (default: the cores, at most 2). Results do not depend on it.") var jobs: Int?
    @OptionGroup var projection: ProjectionOption
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionLimits.check(self)
        try projection.validate(cell: cell, hidden: hidden)
        guard merge == .concat || bidirectional else { throw ValidationError("--merge needs --bidirectional") }
        guard (1...10_000).contains(length) else { throw ValidationError("--length must be 1...10000, got \(length)") }
        try training.validate(single: !sweep, mode: "--sweep")
        if sweep {
            _ = try sweepCells()
            _ = try sweepLengths()
        }
    }

    func sweepCells() throws -> [CellType] {
        try parseList(cells, option: "--cells", expected: "a comma-separated list of " + CellType.allCases.map(\.rawValue).joined(separator: ", ")) { CellType(rawValue: $0) }
    }

    func sweepLengths() throws -> [Int] {
        try parseList(lengths, option: "--lengths", expected: "comma-separated positive integers, e.g. 5,10,15,20") {
            Int($0).flatMap { $0 >= 1 && $0 <= 10_000 ? $0 : nil }
        }
    }

    func experiment(cell: CellType, length: Int) -> PalindromeExperiment {
        var e = PalindromeExperiment()
        e.cell = cell
        e.length = length
        e.hidden = hidden
        e.layers = layers
        e.bidirectional = bidirectional
        e.projectionSize = cell == .lstm ? projection.projSize : 0
        e.merge = merge
        e.dropout = dropout
        e.encoding = encoding
        e.convention = convention
        e.initialization = initialization
        e.optimizer = optimizer
        e.learningRate = lr
        e.lrStep = lrStep ?? (optimizer == .rmsprop ? 1000 : nil)
        e.lrGamma = lrGamma
        e.clip = clip
        e.batchSize = batchSize
        e.steps = steps
        e.testBatches = testBatches
        e.logEvery = logEvery
        e.validBatches = validBatches
        e.patience = training.patience
        e.seed = common.seed
        return e
    }

    func run() throws {
        let out = try common.prepare()
        if !sweep {
            let e = experiment(cell: cell, length: length)
            let progress = ProgressReporter(total: steps, label: "\(cell.displayName) N=\(length)", plainEvery: logEvery * 10, enabled: !common.quiet)
            let r = try training.run { try e.run(save: training.save, resume: training.resume, progress: progress, run: out) }
            try PalindromeReport.write(r, e, to: out)
            common.log("test accuracy \(formatNumber(r.testAccuracy * 100, decimals: 2))% (\(testBatches * batchSize) sequences), \(formatNumber(r.seconds, decimals: 1)) s")
            common.emit(r.json)
            return
        }
        let cellList = try sweepCells(), lengthList = try sweepLengths()
        let sweepStart = Date()
        var results: [(cell: CellType, length: Int, result: PalindromeExperiment.Result)] = []
        var runs: [JSON] = []
        // Independent runs, spread over --jobs workers (one BLAS thread each), longest first.
        let plan = lengthList.flatMap { n in cellList.map { (cell: $0, length: n) } }
        let experiments = plan.map { experiment(cell: $0.cell, length: $0.length) }
        let dirs = try plan.map { try out.subdirectory("\($0.cell.rawValue)-N\($0.length)") }
        let workers = max(1, min(jobs ?? min(2, ProcessInfo.processInfo.activeProcessorCount), plan.count))
        let cost: (Int) -> Int = { (plan[$0].cell.gateCount > 1 ? 5 : 1) * plan[$0].length }
        let queue = SweepQueue(order: plan.indices.sorted { cost($0) > cost($1) }, count: plan.count)
        let (quiet, every, stepCount) = (common.quiet, logEvery * 10, steps)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = queue.next() {
                let e = experiments[i], label = "\(e.cell.displayName) N=\(e.length)"
                // Live bars of parallel runs would overwrite each other: plain lines then.
                let progress = ProgressReporter(total: stepCount, label: label, plainEvery: every, enabled: !quiet && workers == 1)
                let r: PalindromeExperiment.Result
                do { r = try training.run { try e.run(progress: progress, run: dirs[i]) } } catch {
                    queue.fail(error)
                    continue
                }
                queue.store(r, at: i)
                if !quiet {
                    FileHandle.standardError.write(Data("\(label): test accuracy \(formatNumber(r.testAccuracy * 100, decimals: 2))%, \(formatNumber(r.seconds, decimals: 1)) s\n".utf8))
                }
            }
        }
        if let error = queue.error { throw error }
        for (i, r) in queue.results.enumerated() {
            guard let r else { continue }
            try PalindromeReport.write(r, experiments[i], to: dirs[i])
            results.append((plan[i].cell, plan[i].length, r))
            runs.append(r.json)
        }
        let table = PalindromeReport.sweepTable(results, cells: cellList, lengths: lengthList)
        let chart = PalindromeReport.accuracyByLength(results, cells: cellList, lengths: lengthList)
        try out.write("accuracy_by_length.svg", chart.svg)
        let total = Date().timeIntervalSince(sweepStart)
        try out.write("report.md", """
        # Palindrome study (seed 001)

        Test accuracy on \(testBatches * batchSize) fresh palindromes per run, next to the seed's published numbers.
        \(steps) steps, batch \(batchSize), hidden \(hidden), \(optimizer.rawValue) lr \(lr), clip \(clip), convention \(convention.rawValue), init \((initialization ?? convention.initialization).rawValue), seed \(common.seed). Total \(formatNumber(total, decimals: 0)) s.

        \(table.markdown)
        ![accuracy by length](accuracy_by_length.svg)

        Per-run curves and results are in the sub-folders (`CELL-NLENGTH/`).
        """)
        try common.finishComparison(out, runs: runs, table: table, extra: [("seconds", .number(total))])
    }
}

/// Hands out sweep runs to workers and collects their results (thread-safe).
final class SweepQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var order: [Int]
    private(set) var results: [PalindromeExperiment.Result?]

    init(order: [Int], count: Int) {
        self.order = order.reversed()
        results = Array(repeating: nil, count: count)
    }

    func next() -> Int? { lock.withLock { order.popLast() } }
    private(set) var error: (any Error)?
    func store(_ r: PalindromeExperiment.Result, at i: Int) { lock.withLock { results[i] = r } }
    /// Keeps the first run's error, thrown once every run has ended.
    func fail(_ e: any Error) { lock.withLock { error = error ?? e } }
}

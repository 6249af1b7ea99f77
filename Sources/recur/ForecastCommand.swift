import ArgumentParser
import Foundation
import Recur
import RecurExperiments

struct ForecastCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Seed 003: predict a series' next value from the previous ones (SimpleRNN, LSTM, GRU, Jordan).",
        discussion: "Default series: x = linspace(0, 100, 1000), y = sin(x). Defaults are the seed's Keras setup: "
            + "10 units with relu, Dense(1), MSE, Adam 1e-3, 10 epochs, batch 32, windows of 10, 80/20 chronological split. "
            + "--compare runs SimpleRNN, LSTM, GRU, Jordan and the seed's regularised SimpleRNN side by side."
    )

    @Option(help: ArgumentHelp("CSV file with the series (default: the built-in sine).", valueName: "file")) var csv: String?
    @Option(help: "CSV column with the values: a header name or a 0-based index.") var column: String?
    @Option(help: "CSV column with labels (e.g. dates) for reports.") var dateColumn: String?
    @Option(help: "Missing values: forward (repeat the previous) or drop. Without it a missing value is an error.") var fill: CSVTable.MissingValues?
    @Option(help: "Previous values that predict the next one.") var window: Int = 10
    @Option(help: "Fraction of windows for training (chronological).") var split: Double = 0.8
    @Option(help: "Scaling fit on the training span: none, standard, minmax.") var scale: Scaler.Kind = .none
    @Option(help: "Model.") var cell: ForecastExperiment.Network = .rnn
    @Option(name: [.customLong("units"), .customLong("hidden")], help: "Recurrent units.") var units: Int = 10
    @Option(help: "Activation of the recurrent layer (the seed uses relu).") var activation: Activation = .relu
    @Option(help: "Epochs.") var epochs: Int = 10
    @Option(help: "Windows per batch.") var batchSize: Int = 32
    @Option(help: "Optimizer.") var optimizer: OptimizerKind = .adam
    @Option(help: "Learning rate.") var lr: Float = 1e-3
    @Option(help: "Gradient-norm clip (0: off).") var clip: Float = 0
    @Option(help: "L2 penalty on the kernel and recurrent weights (Keras regularizers.l2).") var l2: Float = 0
    @Option(help: "Variational dropout on the inputs (Keras dropout).") var inputDropout: Float = 0
    @Option(help: "Variational dropout on the recurrent state (Keras recurrent_dropout).") var recurrentDropout: Float = 0
    @OptionGroup var projection: ProjectionOption
    @Option(help: "Framework defaults: keras (the seed's: one bias, glorot/orthogonal, Dense glorot, Adam eps 1e-7), keras1, pytorch or seed.")
    var convention: Convention = .keras
    @Option(name: .customLong("init"), help: "Recurrent initialisation, overriding the convention's: pytorch, keras, fan-in, orthogonal, identity (IRNN, for the relu rnn).")
    var initialization: RecurrentInitialization?
    @Option(help: "Recursive multi-step forecast length from the start of the test span (0: none).") var horizon: Int = 0
    @Flag(help: "Compare SimpleRNN, LSTM, GRU, Jordan and the regularised SimpleRNN.") var compare = false
    @Option(help: "Fraction of the training windows (the last ones) set aside for validation.") var validFraction: Double = 0.1
    @OptionGroup var training: TrainingFlags
    @OptionGroup var common: CommonOptions

    func validate() throws {
        try OptionLimits.check(self)
        if projection.projSize != 0 {
            guard cell == .lstm else { throw ValidationError("--proj-size is for --cell lstm, not \(cell.rawValue)") }
            guard projection.projSize > 0 && projection.projSize < units else {
                throw ValidationError("--proj-size must be between 1 and --units - 1 (\(units - 1)), got \(projection.projSize)")
            }
        }
        if csv != nil && column == nil { throw ValidationError("--csv needs --column (a header name or a 0-based index)") }
        if csv == nil && (column != nil || dateColumn != nil || fill != nil) {
            throw ValidationError("--column, --date-column and --fill need --csv FILE")
        }
        try training.validate(single: !compare, mode: "--compare")
    }

    func experiment(_ series: TimeSeries) -> ForecastExperiment {
        var e = ForecastExperiment()
        e.series = series
        e.window = window
        e.trainFraction = split
        e.scaling = scale
        e.cell = cell
        e.units = units
        e.activation = activation
        e.epochs = epochs
        e.batchSize = batchSize
        e.optimizer = optimizer
        e.learningRate = lr
        e.clip = clip
        e.l2 = l2
        e.inputDropout = inputDropout
        e.recurrentDropout = recurrentDropout
        e.convention = convention
        e.initialization = initialization
        e.projectionSize = projection.projSize
        e.horizon = horizon
        e.seed = common.seed
        e.validFraction = validFraction
        e.patience = training.patience
        return e
    }

    func run() throws {
        let out = try common.prepare()
        let series: TimeSeries
        if let csv, let column {
            series = try TimeSeries.csv(try CSVTable(contentsOf: csv), column: column, labelColumn: dateColumn, fill: fill)
        } else {
            series = .sine
        }
        let base = experiment(series)
        var runs: [ForecastExperiment] = [base]
        if compare {
            runs = [ForecastExperiment.Network.rnn, .lstm, .gru, .jordan].map { c in
                var e = base
                e.cell = c
                if c != .lstm { e.projectionSize = 0 }
                return e
            }
            var regularised = base
            regularised.cell = .rnn
            regularised.l2 = 0.01
            regularised.inputDropout = 0.2
            regularised.recurrentDropout = 0.2
            runs.append(regularised)
        }
        var results: [ForecastExperiment.Result] = []
        for e in runs {
            let steps = e.epochs * ((Int(Double(series.values.count - e.window) * e.trainFraction) + e.batchSize - 1) / e.batchSize)
            let progress = ProgressReporter(total: max(steps, 1), label: e.label, plainEvery: max(steps / 5, 1), enabled: !common.quiet)
            let dir = compare ? try out.subdirectory(e.label.lowercased().filter { $0.isLetter || $0.isNumber || $0 == " " }
                .split(separator: " ").joined(separator: "-")) : out
            let r = try training.run { try e.run(save: training.save, resume: training.resume, progress: progress, run: dir) }
            try ForecastReport.write(r, e, to: dir)
            common.log("\(r.label): test MSE \(formatScientific(r.testMSE)), MAE \(formatScientific(r.testMAE)) (naive MSE \(formatScientific(r.baselineMSE)))")
            results.append(r)
        }
        if compare {
            let table = ForecastReport.table(results)
            try out.write("prediction.svg", ForecastReport.predictionChart(results, seriesName: series.name).svg)
            try out.write("report.md", "# Forecast comparison on \(series.name) (seed 003)\n\n\(table.markdown)\n![predictions](prediction.svg)\n")
            try common.finishComparison(out, runs: results.map(\.json), table: table)
        } else {
            common.emit(results[0].json)
        }
    }
}

extension ForecastExperiment.Network: ExpressibleByArgument {}
extension Scaler.Kind: ExpressibleByArgument {}
extension CSVTable.MissingValues: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}

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
    @Option(help: ArgumentHelp("CSV columns the model sees (comma-separated), with --target the one forecast; the others are features (e.g. calendar columns), scaled, not differenced.", valueName: "a,b,c"))
    var columns: String?
    @Option(help: "With --columns: the column forecast.") var target: String?
    @Option(help: "CSV column with labels (e.g. dates) for reports.") var dateColumn: String?
    @Option(help: "Missing values: forward (repeat the previous) or drop. Without it a missing value is an error.") var fill: CSVTable.MissingValues?
    @Option(help: "Previous values that predict the next one (default 10, or the seasonal period + 1 when that is longer).") var window: Int?
    @Option(help: "Fraction of windows for training (chronological).") var split: Double = 0.8
    @Option(help: "Scaling fit on the training span: none, standard, minmax (default: standard for --csv, none for the built-in sine).")
    var scale: Scaler.Kind?
    @Flag(inversion: .prefixedNo, help: "Predict first differences (for a trend); forecasts are integrated back to the series' units (default: on for --csv, off for the built-in sine).")
    var difference: Bool?
    @Flag(help: "With --columns: feed the feature columns as first differences too (trending covariates such as consumption; not for calendar columns).")
    var differenceFeatures = false
    @Flag(help: "Model the logarithm of the series (and of differenced feature columns): for a positive series whose changes grow with its level, such as GDP; with --difference the model predicts growth rates. Forecasts are exponentiated back.")
    var log = false
    @Option(help: ArgumentHelp("Seasonal differencing with period P (12 for monthly data with a yearly cycle); the seasonal naive forecast is reported too.", valueName: "P"))
    var seasonal: Int?
    @Option(help: "Model.") var cell: ForecastExperiment.Network = .rnn
    @Option(name: [.customLong("units"), .customLong("hidden")], help: "Recurrent units.") var units: Int = 10
    @Option(help: "Activation of the recurrent layer (default: relu, the seed's, for the built-in sine; tanh, Keras' own default, for --csv).")
    var activation: Activation?
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
    @Flag(help: "Try SimpleRNN, LSTM and GRU with and without --difference (and --seasonal, when given; --log, when given, holds for every setting) and pick by the validation span's MSE; only the pick is scored on the test span.")
    var search = false
    @Option(help: ArgumentHelp("With --search: the epoch counts to try (default: --epochs).", valueName: "n,m")) var searchEpochs: String?
    @Option(help: ArgumentHelp("With --search: the window lengths to try (default: --window); every setting is scored on the spans the longest places.", valueName: "a,b")) var searchWindows: String?
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
        if csv != nil && column == nil && columns == nil { throw ValidationError("--csv needs --column (a header name or a 0-based index) or --columns with --target") }
        if column != nil && (columns != nil || target != nil) { throw ValidationError("--column is the one-column form; with --columns a,b,c name the forecast column with --target") }
        if columns != nil && target == nil { throw ValidationError("--columns needs --target: the column to forecast") }
        if target != nil && columns == nil { throw ValidationError("--target goes with --columns a,b,c (for one column, use --column)") }
        if csv == nil && (column != nil || columns != nil || dateColumn != nil || fill != nil) {
            throw ValidationError("--column, --columns, --target, --date-column and --fill need --csv FILE")
        }
        if log && csv == nil { throw ValidationError("--log is for a --csv series (the built-in sine goes below zero)") }
        if differenceFeatures && columns == nil { throw ValidationError("--difference-features needs feature columns: --columns a,b,c with --target") }
        if compare && search { throw ValidationError("--compare and --search cannot be combined: --search compares the networks itself") }
        if searchEpochs != nil && !search { throw ValidationError("--search-epochs goes with --search") }
        if searchWindows != nil && !search { throw ValidationError("--search-windows goes with --search") }
        _ = try epochList()
        _ = try windowList()
        try training.validate(single: !compare && !search, mode: compare ? "--compare" : "--search")
    }

    /// --search-epochs as numbers, each in --epochs' range.
    func epochList() throws -> [Int]? {
        guard let searchEpochs else { return nil }
        let range = OptionLimits.table["epochs"]!
        return try parseList(searchEpochs, option: "--search-epochs", expected: "epoch counts (\(range.text)) separated by commas") {
            Int($0).flatMap { range.contains(Double($0)) ? $0 : nil }
        }
    }

    /// --search-windows as numbers, each in --window's range.
    func windowList() throws -> [Int]? {
        guard let searchWindows else { return nil }
        let range = OptionLimits.table["window"]!
        return try parseList(searchWindows, option: "--search-windows", expected: "window lengths (\(range.text)) separated by commas") {
            Int($0).flatMap { range.contains(Double($0)) ? $0 : nil }
        }
    }

    func experiment(_ series: TimeSeries) -> ForecastExperiment {
        var e = ForecastExperiment()
        e.series = series
        e.window = window ?? max(10, (seasonal ?? 0) + 1)
        e.trainFraction = split
        e.scaling = scale ?? (csv == nil ? .none : .standard)
        e.differencing = Differencing(first: difference ?? (csv != nil), seasonalPeriod: seasonal)
        e.differenceFeatures = differenceFeatures
        e.logTransform = log
        e.seasonalPeriod = seasonal
        e.cell = cell
        e.units = units
        e.activation = activation ?? (csv == nil ? .relu : .tanh)
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
        if let csv {
            let names = columns.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [column!]
            series = try TimeSeries.csv(try CSVTable(contentsOf: csv), columns: names, target: target ?? column!, labelColumn: dateColumn, fill: fill)
        } else {
            series = .sine
        }
        let base = experiment(series)
        if search { return try runSearch(base, out: out) }
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
            let progress = self.progress(e)
            let dir = compare ? try out.subdirectory(e.label.lowercased().filter { $0.isLetter || $0.isNumber || $0 == " " }
                .split(separator: " ").joined(separator: "-")) : out
            let r = try training.run { try e.run(save: training.save, resume: training.resume, progress: progress, run: dir) }
            try ForecastReport.write(r, e, to: dir)
            common.log("\(r.label): test MSE \(formatScientific(r.testMSE)), MAE \(formatScientific(r.testMAE)) (naive MSE \(formatScientific(r.baselineMSE)))")
            warn(r)
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

extension ForecastCommand {
    func progress(_ e: ForecastExperiment) -> ProgressReporter {
        let steps = e.epochs * ((Int(Double(e.series.values.count - e.window) * e.trainFraction) + e.batchSize - 1) / e.batchSize)
        return ProgressReporter(total: max(steps, 1), label: e.label, plainEvery: max(steps / 5, 1), enabled: !common.quiet)
    }

    /// Always on stderr, --quiet or not: a result that loses to the naive forecast misleads.
    func warn(_ r: ForecastExperiment.Result) {
        if let w = r.naiveWarning { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
    }

    /// --search: the grid on the validation span, then the pick's test numbers and report.
    func runSearch(_ base: ForecastExperiment, out: RunDirectory) throws {
        let search = ForecastSearch(base: base, seasonalPeriod: seasonal, epochs: try epochList(), windows: try windowList())
        let outcome = try training.run { try search.run(progress: progress) }
        let best = outcome.best, table = ForecastReport.searchTable(outcome)
        let picked = outcome.candidates[outcome.picked], pick = "\(best.label) (window \(picked.window), \(picked.epochs) epochs)"
        try ForecastReport.write(best, outcome.candidates[outcome.picked], to: out)
        try out.write("search.md", "# Settings compared on the validation span\n\n\(table.markdown)\nThe pick, \(pick), on the test span: MSE \(formatScientific(best.testMSE)), naive \(formatScientific(best.baselineMSE)) (ratio \(formatNumber(best.testMSE / best.baselineMSE, decimals: 3))).\n")
        let candidates: [JSON] = zip(outcome.candidates, outcome.results).map { e, r in
            .object([("label", .string(r.label)), ("valid_mse", .number(r.validMSE)), ("valid_baseline_mse", .number(r.validBaselineMSE)), ("config", e.config)])
        }
        let summary: JSON = .object([("candidates", .array(candidates)), ("picked", JSON(outcome.picked)), ("result", best.json)])
        try out.writeResults(summary)
        if !common.json {
            FileHandle.standardError.write(Data(("\n" + table.plainText + "\npicked: \(pick); test MSE \(formatScientific(best.testMSE)), naive \(formatScientific(best.baselineMSE))\n").utf8))
        }
        warn(best)
        common.emit(summary)
    }
}

extension ForecastExperiment.Network: ExpressibleByArgument {}
extension Scaler.Kind: ExpressibleByArgument {}
extension CSVTable.MissingValues: ExpressibleByArgument {}
extension Activation: ExpressibleByArgument {}

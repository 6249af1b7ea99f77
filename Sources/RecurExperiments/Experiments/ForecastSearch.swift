import Recur

/// Forecast settings compared on the validation span (the end of the training span, in the
/// series' units), never on the test span: every window x network x target transform (x
/// feature differencing, with features) x epoch count of the grid is trained, the one with the
/// lowest validation MSE is picked, and only its test numbers are reported.
public struct ForecastSearch: Sendable {
    public var base: ForecastExperiment
    public var networks: [ForecastExperiment.Network] = [.rnn, .lstm, .gru]
    public var differencings: [Differencing]
    public var epochs: [Int]
    /// Whether the feature columns are differenced: both, when there are features.
    public var differenceFeatures: [Bool]
    /// Window lengths; with more than one, every candidate is scored on the spans the longest
    /// places.
    public var windows: [Int]

    /// The grid around `base`: its network choices, the transforms that fit a seasonal period
    /// (none, first differences, and with a period, seasonal and both), `base.epochs` and
    /// `base.window` unless given. `base.logTransform` holds for every candidate.
    public init(base: ForecastExperiment, seasonalPeriod: Int?, epochs: [Int]? = nil, windows: [Int]? = nil) {
        self.base = base
        differencings = [.none, Differencing(first: true)]
            + (seasonalPeriod.map { [Differencing(first: false, seasonalPeriod: $0), Differencing(first: true, seasonalPeriod: $0)] } ?? [])
        self.epochs = epochs ?? [base.epochs]
        self.windows = windows ?? [base.window]
        differenceFeatures = base.series.features.isEmpty ? [false] : [false, true]
    }

    public var candidates: [ForecastExperiment] {
        let longest = windows.max() ?? base.window
        return windows.flatMap { w in networks.flatMap { n in differencings.flatMap { d in differenceFeatures.flatMap { f in epochs.map { k in
            var e = base
            (e.window, e.cell, e.differencing, e.differenceFeatures, e.epochs) = (w, n, d, f, k)
            if windows.count > 1 { e.splitWindow = longest }
            if n != .lstm { e.projectionSize = 0 }
            return e
        } } } } }
    }

    /// The candidates' validation MSEs, in `candidates` order, and the index of the pick.
    public struct Outcome: Sendable {
        public let candidates: [ForecastExperiment]
        public let results: [ForecastExperiment.Result]
        public let picked: Int
        public var best: ForecastExperiment.Result { results[picked] }
    }

    /// Trains every candidate (`progress` gives each its reporter).
    public func run(progress: (ForecastExperiment) -> ProgressReporter? = { _ in nil }) throws -> Outcome {
        let all = candidates
        let results = try all.map { try $0.run(progress: progress($0)) }
        // A diverged or non-finite run is never the pick.
        let picked = results.indices.min { a, b in
            let (x, y) = (results[a].validMSE, results[b].validMSE)
            return x.isFinite && (!y.isFinite || x < y)
        }!
        return Outcome(candidates: all, results: results, picked: picked)
    }
}

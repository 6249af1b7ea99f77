import Foundation
import Recur

/// A forecast's data as the model sees it, and the way back. The target is log-transformed
/// when asked, differenced (as `ForecastExperiment.differencing` says) and scaled, each
/// feature column scaled, every scaler fit on the training span only; predictions (model
/// units) become values in the series' units by undoing the scaling, integrating the
/// differences and exponentiating.
struct ForecastInputs {
    /// The target in the series' units.
    let y: [Double]
    /// The target as it is differenced: log y with the log transform, else y.
    let u: [Double]
    let logTransform: Bool
    let differencing: Differencing
    let targetScaler: Scaler
    /// The seasonal naive forecast's period, when the series has one.
    let baselinePeriod: Int?
    /// Model units: the differenced, scaled target, then the scaled features; index = time.
    let columns: [[Double]]
    let windows: WindowedSeries

    init(_ e: ForecastExperiment) throws {
        y = e.series.values
        logTransform = e.logTransform
        differencing = e.differencing
        baselinePeriod = e.baselinePeriod
        if logTransform {
            let logged = [(e.series.name, y)] + (e.differenceFeatures ? e.series.features.map { ($0.name, $0.values) } : [])
            for (name, values) in logged {
                if let i = values.firstIndex(where: { !($0 > 0) }) {
                    throw RecurError("--log needs positive values: \(name) is \(values[i]) at \(e.series.labels?[i] ?? "index \(i)")",
                                     fix: "leave out --log for a series that reaches zero or below")
                }
            }
        }
        u = logTransform ? y.map { Foundation.log($0) } : y
        let features = e.differenceFeatures ? Differencing(first: true) : .none
        let logFeatures = logTransform && e.differenceFeatures
        let z = differencing.apply(u), order = max(differencing.order, e.series.features.isEmpty ? 0 : features.order)
        let testStart = WindowedSeries.testStart(count: y.count, window: e.spanWindow, trainFraction: e.trainFraction)
        // A series too short for its windows is refused by WindowedSeries below; until then
        // the range stays inside it.
        let end = min(testStart, y.count), fit = min(order, end)..<end
        targetScaler = Scaler(e.scaling, fitOn: Array(z[fit]))
        columns = [z.map(targetScaler.transform)] + e.series.features.map { c in
            let v = features.apply(logFeatures ? c.values.map { Foundation.log($0) } : c.values), s = Scaler(e.scaling, fitOn: Array(v[fit]))
            return v.map(s.transform)
        }
        windows = try WindowedSeries(columns: columns, first: order, window: e.window, trainFraction: e.trainFraction,
                                     splitWindow: e.spanWindow)
    }

    /// One-step forecasts of the windows in `range`, with the naive forecasts, in the series' units.
    struct OneStep {
        let actual: [Double], predicted: [Double], naive: [Double], seasonalNaive: [Double]?

        static func mean(_ a: [Double], _ b: [Double], _ f: (Double) -> Double) -> Double {
            zip(a, b).reduce(0.0) { $0 + f($1.0 - $1.1) } / Double(a.count)
        }
        var mse: Double { Self.mean(predicted, actual) { $0 * $0 } }
        var mae: Double { Self.mean(predicted, actual) { abs($0) } }
        var naiveMSE: Double { Self.mean(naive, actual) { $0 * $0 } }
        var naiveMAE: Double { Self.mean(naive, actual) { abs($0) } }
        var seasonalNaiveMSE: Double? { seasonalNaive.map { Self.mean($0, actual) { $0 * $0 } } }
    }

    /// `predictions` (model units) of the windows in `range` -> the series' units: the past is
    /// the series itself.
    func oneStep(_ predictions: [Double], range: Range<Int>) -> OneStep {
        let times = range.map { windows.times[$0] }
        return OneStep(actual: times.map { y[$0] },
                       predicted: zip(predictions, times).map { p, t in outward(targetScaler.inverse(p) + differencing.carried(at: t) { u[$0] }) },
                       naive: times.map { y[$0 - 1] },
                       seasonalNaive: baselinePeriod.flatMap { p in times.allSatisfy { $0 >= p } ? times.map { y[$0 - p] } : nil })
    }

    /// Recursive forecasts of `steps` values from each start (a series index with a full
    /// window before it): each prediction is fed back as the next step's target, the features
    /// take their true values (known covariates). Returns, per start, the forecasts in the
    /// series' units.
    func recursive(_ model: ForecastExperiment.Model, starts: [Int], steps: Int) -> [[Double]] {
        let width = windows.width
        var current = starts.map { windows.inputs[$0 - windows.times[0]] }
        var paths = starts.map { _ in [Double]() }  // in the differenced series' units (u)
        for k in 0..<steps {
            let p = ForecastExperiment.predict(model, current, range: 0..<current.count)
            for (j, s) in starts.enumerated() {
                let t = s + k
                paths[j].append(targetScaler.inverse(p[j]) + differencing.carried(at: t) { i in i < s ? u[i] : paths[j][i - s] })
                current[j].removeFirst(width)
                current[j].append(p[j])
                for c in columns.dropFirst() { current[j].append(c[t]) }
            }
        }
        return paths.map { $0.map(outward) }
    }

    /// From the differenced series' units back to the series'.
    func outward(_ value: Double) -> Double { logTransform ? Foundation.exp(value) : value }
}

/// Mean squared errors of recursive forecasts by steps ahead (index k: k + 1 steps), beside
/// the naive forecast (the last value before the start, at every horizon) and the seasonal
/// naive one (the value a whole number of periods before the target, from before the start).
struct HorizonErrors {
    let model: [Double], naive: [Double], seasonalNaive: [Double]?

    static let none = HorizonErrors(model: [], naive: [], seasonalNaive: nil)

    init(model: [Double], naive: [Double], seasonalNaive: [Double]?) {
        (self.model, self.naive, self.seasonalNaive) = (model, naive, seasonalNaive)
    }

    /// paths[j][k]: the forecast of y[starts[j] + k].
    init(paths: [[Double]], starts: [Int], series y: [Double], seasonalPeriod: Int?) {
        let steps = paths.first?.count ?? 0, n = Double(starts.count)
        func mse(_ forecast: (Int, Int) -> Double) -> [Double] {
            (0..<steps).map { k in starts.indices.reduce(0.0) { sum, j in
                let e = forecast(j, k) - y[starts[j] + k]
                return sum + e * e
            } / n }
        }
        model = mse { j, k in paths[j][k] }
        naive = mse { j, _ in y[starts[j] - 1] }
        seasonalNaive = seasonalPeriod.map { p in mse { j, k in y[starts[j] + k - p * ((k + p) / p)] } }
    }
}

import Recur
/// Reports for forecasts: a results table, prediction and loss plots, and the comparison.
public enum ForecastReport {
    public static func predictionChart(_ results: [ForecastExperiment.Result], seriesName: String) -> LineChart {
        guard let first = results.first else { return LineChart(title: "", xLabel: "", yLabel: "") }
        var series: [LineChart.Series] = [.init(name: "actual", points: zip(first.positions, first.actual).map { ($0, $1) })]
        for r in results {
            series.append(.init(name: "predicted: \(r.label)", points: zip(r.positions, r.predicted).map { ($0, $1) }, dashed: true))
        }
        return LineChart(title: "One-step forecast over the test span", xLabel: "x", yLabel: seriesName, series: series)
    }

    public static func table(_ results: [ForecastExperiment.Result]) -> MarkdownTable {
        let seasonal = results.contains { $0.seasonalBaselineMSE != nil }
        var t = MarkdownTable(header: ["model", "test MSE", "test MAE", "naive MSE", "naive MAE"] + (seasonal ? ["seasonal naive MSE"] : [])
                              + ["MSE / naive", "train s"], rightAligned: Set(1...(seasonal ? 7 : 6)))
        for r in results {
            t.append([r.label, formatScientific(r.testMSE), formatScientific(r.testMAE), formatScientific(r.baselineMSE), formatScientific(r.baselineMAE)]
                     + (seasonal ? [r.seasonalBaselineMSE.map(formatScientific) ?? "-"] : [])
                     + [formatNumber(r.testMSE / r.baselineMSE, decimals: 3), formatNumber(r.trainSeconds, decimals: 2)])
        }
        return t
    }

    /// Test MSE by steps ahead, beside the naive forecasts at the same horizons.
    public static func horizonTable(_ r: ForecastExperiment.Result) -> MarkdownTable {
        let seasonal = r.seasonalBaselineMSEByHorizon
        var t = MarkdownTable(header: ["steps ahead", "test MSE", "naive MSE"] + (seasonal != nil ? ["seasonal naive MSE"] : []) + ["MSE / naive"],
                              rightAligned: Set(0...(seasonal != nil ? 4 : 3)))
        for k in r.testMSEByHorizon.indices {
            t.append(["\(k + 1)", formatScientific(r.testMSEByHorizon[k]), formatScientific(r.baselineMSEByHorizon[k])]
                     + (seasonal.map { [formatScientific($0[k])] } ?? []) + [formatNumber(r.testMSEByHorizon[k] / r.baselineMSEByHorizon[k], decimals: 3)])
        }
        return t
    }

    public static func horizonChart(_ r: ForecastExperiment.Result) -> LineChart {
        let k = r.testMSEByHorizon.indices.map { Double($0 + 1) }
        var series: [LineChart.Series] = [.init(name: r.label, points: zip(k, r.testMSEByHorizon).map { ($0, $1) }),
                                          .init(name: "naive (last value)", points: zip(k, r.baselineMSEByHorizon).map { ($0, $1) }, dashed: true)]
        if let s = r.seasonalBaselineMSEByHorizon {
            series.append(.init(name: "seasonal naive", points: zip(k, s).map { ($0, $1) }, dashed: true))
        }
        return LineChart(title: "Test MSE by steps ahead (recursive forecasts from every test point)", xLabel: "steps ahead", yLabel: "MSE", series: series)
    }

    /// The search's candidates by validation MSE; the pick is marked.
    public static func searchTable(_ o: ForecastSearch.Outcome) -> MarkdownTable {
        var t = MarkdownTable(header: ["model", "window", "epochs", "valid MSE", "valid naive MSE", "valid MSE / naive", "picked"],
                              rightAligned: [1, 2, 3, 4, 5])
        for (i, (e, r)) in zip(o.candidates, o.results).enumerated() {
            t.append([r.label, "\(e.window)", "\(e.epochs)", formatScientific(r.validMSE), formatScientific(r.validBaselineMSE),
                      formatNumber(r.validMSE / r.validBaselineMSE, decimals: 3), i == o.picked ? "yes" : ""])
        }
        return t
    }

    /// Writes report.md, results.json and the plots of one run.
    public static func write(_ r: ForecastExperiment.Result, _ e: ForecastExperiment, to dir: RunDirectory) throws {
        try dir.write("prediction.svg", predictionChart([r], seriesName: e.series.name).svg)
        let epochs = r.history.map { Double($0.epoch) }
        try dir.write("loss.svg", LineChart(title: "Loss by epoch: \(r.label)", xLabel: "epoch", yLabel: "MSE (training units)", series: [
            .init(name: "train", points: zip(epochs, r.history.map(\.trainLoss)).map { ($0, $1) }),
            .init(name: "validation (the end of the training span)", points: zip(epochs, r.history.map(\.validLoss)).map { ($0, $1) }),
        ]).svg)
        var extra = ""
        if !r.horizonForecast.isEmpty {
            let n = r.horizonForecast.count
            try dir.write("horizon.svg", LineChart(title: "Recursive \(n)-step forecast from the test start", xLabel: "x", yLabel: e.series.name, series: [
                .init(name: "actual", points: zip(r.positions.prefix(n), r.actual.prefix(n)).map { ($0, $1) }),
                .init(name: "forecast: \(r.label)", points: zip(r.positions.prefix(n), r.horizonForecast).map { ($0, $1) }, dashed: true),
            ]).svg)
            try dir.write("horizon_mse.svg", horizonChart(r).svg)
            extra = "\nRecursive \(n)-step forecast from the test start, MSE: \(formatScientific(r.horizonMSE ?? .nan)).\n\n![horizon](horizon.svg)\n\n"
                + "Recursive forecasts from every test point that has \(n) values after it\(e.series.features.isEmpty ? "" : " (the feature columns take their true future values: known covariates)"):\n\n"
                + horizonTable(r).markdown + "\n![MSE by steps ahead](horizon_mse.svg)\n"
        }
        let warning = r.naiveWarning.map { "\n**Warning:** \($0).\n" } ?? ""
        try dir.write("report.md", """
        # Forecast: \(r.label) on \(e.series.name)

        Window \(e.window) -> next value\(e.series.features.isEmpty ? "" : " (inputs: \(e.series.name) and \(e.series.features.map(\.name).joined(separator: ", "))\(e.differenceFeatures ? ", the features as first differences" : ""))"); the model predicts \(e.differencing == .none ? "the value" : "its " + e.differencing.description), scaling \(e.scaling.rawValue) (fit on the training span); first \(formatNumber(e.trainFraction * 100, decimals: 0))% of windows train (the last \(formatNumber(e.validFraction * 100, decimals: 0))% of those validate), the rest test. Errors in the series' units; "naive" repeats the last value\(e.baselinePeriod.map { ", \"seasonal naive\" the value \($0) steps back" } ?? "").
        \(warning)
        \(table([r]).markdown)
        ![prediction](prediction.svg)
        ![loss](loss.svg)
        \(extra)
        """)
        try dir.writeResults(r.json)
    }
}


import Foundation

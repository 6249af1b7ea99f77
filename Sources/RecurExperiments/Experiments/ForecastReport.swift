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
        var t = MarkdownTable(header: ["model", "test MSE", "test MAE", "naive MSE", "naive MAE", "train s"], rightAligned: [1, 2, 3, 4, 5])
        for r in results {
            t.append([r.label, formatScientific(r.testMSE), formatScientific(r.testMAE), formatScientific(r.baselineMSE),
                      formatScientific(r.baselineMAE), formatNumber(r.trainSeconds, decimals: 2)])
        }
        return t
    }

    /// Writes report.md, results.json and the plots of one run.
    public static func write(_ r: ForecastExperiment.Result, _ e: ForecastExperiment, to dir: RunDirectory) throws {
        try dir.write("prediction.svg", predictionChart([r], seriesName: e.series.name).svg)
        let epochs = r.history.map { Double($0.epoch) }
        try dir.write("loss.svg", LineChart(title: "Loss by epoch: \(r.label)", xLabel: "epoch", yLabel: "MSE (training units)", series: [
            .init(name: "train", points: zip(epochs, r.history.map(\.trainLoss)).map { ($0, $1) }),
            .init(name: "validation (= test span, as the seed)", points: zip(epochs, r.history.map(\.validLoss)).map { ($0, $1) }),
        ]).svg)
        var extra = ""
        if !r.horizonForecast.isEmpty {
            let n = r.horizonForecast.count
            try dir.write("horizon.svg", LineChart(title: "Recursive \(n)-step forecast from the test start", xLabel: "x", yLabel: e.series.name, series: [
                .init(name: "actual", points: zip(r.positions.prefix(n), r.actual.prefix(n)).map { ($0, $1) }),
                .init(name: "forecast: \(r.label)", points: zip(r.positions.prefix(n), r.horizonForecast).map { ($0, $1) }, dashed: true),
            ]).svg)
            extra = "\nRecursive \(n)-step forecast MSE: \(formatScientific(r.horizonMSE ?? .nan)).\n\n![horizon](horizon.svg)\n"
        }
        try dir.write("report.md", """
        # Forecast: \(r.label) on \(e.series.name)

        Window \(e.window) -> next value; first \(formatNumber(e.trainFraction * 100, decimals: 0))% of windows train, the rest test. Errors in original units; "naive" repeats the last value of each window.

        \(table([r]).markdown)
        ![prediction](prediction.svg)
        ![loss](loss.svg)
        \(extra)
        """)
        try dir.writeResults(r.json)
    }
}


import Foundation

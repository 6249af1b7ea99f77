import Recur
/// Reports for palindrome runs: per-run curves and the seed-001 sweep table and plot.
public enum PalindromeReport {
    /// Writes report.md and the loss/accuracy curves of one run, plus results.json.
    public static func write(_ r: PalindromeExperiment.Result, _ e: PalindromeExperiment, to dir: RunDirectory) throws {
        let name = "\(e.cell.displayName), N = \(e.length)"
        let steps = r.history.map { Double($0.step) }
        try dir.write("training_loss.svg", LineChart(
            title: "Training loss: \(name)", xLabel: "step", yLabel: "cross-entropy (mean of 100 steps)",
            series: [.init(name: e.cell.displayName, points: Array(zip(steps, r.history.map(\.loss))).map { ($0, $1) })]).svg)
        try dir.write("training_accuracy.svg", LineChart(
            title: "Training accuracy: \(name)", xLabel: "step", yLabel: "accuracy",
            series: [.init(name: e.cell.displayName, points: Array(zip(steps, r.history.map(\.accuracy))).map { ($0, $1) })],
            yRange: 0...1).svg)
        var table = MarkdownTable(header: ["metric", "value"], rightAligned: [1])
        for (k, v) in [("test_accuracy", r.testAccuracy), ("test_loss", r.testLoss), ("train_loss", r.trainLoss),
                       ("train_accuracy", r.trainAccuracy), ("seconds", r.seconds)] {
            table.append([k, formatNumber(v)])
        }
        table.append(["parameters", "\(r.parameterCount)"])
        var config = MarkdownTable(header: ["setting", "value"])
        if case let .object(pairs) = r.config { for (k, v) in pairs { config.append([k, v.serialized()]) } }
        let report = """
        # Palindrome memorisation: \(name)

        Input: the first \(e.length) digits of a random palindrome; target: the last digit.

        \(table.markdown)
        ![training loss](training_loss.svg)
        ![training accuracy](training_accuracy.svg)

        ## Configuration

        \(config.markdown)
        """
        try dir.write("report.md", report)
        try dir.writeResults(r.json)
    }

    /// Test accuracy by length and cell, with the seed's published numbers beside ours.
    public static func sweepTable(_ results: [(cell: CellType, length: Int, result: PalindromeExperiment.Result)],
                                  cells: [CellType], lengths: [Int]) -> MarkdownTable {
        var header = ["N"]
        for c in cells {
            header.append(c.displayName)
            if PalindromeExperiment.seedResults[c] != nil { header.append("\(c.displayName) (seed)") }
        }
        var table = MarkdownTable(header: header, rightAligned: Set(1..<header.count))
        for n in lengths {
            var row = ["\(n)"]
            for c in cells {
                let mine = results.first { $0.cell == c && $0.length == n }?.result.testAccuracy
                row.append(mine.map { formatNumber($0 * 100, decimals: 1) + "%" } ?? "-")
                if let seed = PalindromeExperiment.seedResults[c] {
                    row.append(seed[n].map { formatNumber($0 * 100, decimals: 1) + "%" } ?? "-")
                }
            }
            table.append(row)
        }
        return table
    }

    /// The seed's final plot: test accuracy against length, one line per cell (seed dashed).
    public static func accuracyByLength(_ results: [(cell: CellType, length: Int, result: PalindromeExperiment.Result)],
                                        cells: [CellType], lengths: [Int]) -> LineChart {
        // One colour per cell; Recur's lines nested by width so equal results stay visible.
        var series: [LineChart.Series] = cells.enumerated().map { i, c in
            .init(name: "\(c.displayName) (Recur)", points: lengths.compactMap { n in
                results.first { $0.cell == c && $0.length == n }.map { (Double(n), $0.result.testAccuracy) }
            }, colorIndex: i, width: 2 + 2.5 * Double(cells.count - 1 - i))
        }
        for (i, c) in cells.enumerated() {
            if let seed = PalindromeExperiment.seedResults[c], lengths.contains(where: { seed[$0] != nil }) {
                series.append(.init(name: "\(c.displayName) (seed 001)", points: lengths.compactMap { n in seed[n].map { (Double(n), $0) } },
                                    dashed: true, colorIndex: i))
            }
        }
        return LineChart(title: "Palindrome test accuracy against length", xLabel: "palindrome length N (input digits)",
                         yLabel: "test accuracy", series: series, yRange: 0...1.04)
    }
}

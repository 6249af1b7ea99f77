import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct CSVTests {
    @Test func quotedFieldsCRLFAndBOM() throws {
        let text = "\u{FEFF}date,\"price, usd\",note\r\n2024-01-01,1.5,\"said \"\"hi\"\"\"\r\n2024-01-02,2.5,\"two\nlines\"\r\n\r\n2024-01-03, 3 ,x\r\n"
        let t = try CSVTable(text: text, source: "p.csv")
        #expect(t.header == ["date", "price, usd", "note"])
        #expect(t.rows.count == 3)
        #expect(t.rows[0][2] == "said \"hi\"")
        #expect(t.rows[1][2] == "two\nlines")
        #expect(t.lines == [2, 3, 6])
        #expect(try t.numbers(column: t.column("price, usd"), fill: nil).values == [1.5, 2.5, 3])
        #expect(try t.column("1") == 1)
    }

    static func error(_ text: String, column: String = "v", fill: CSVTable.MissingValues? = nil) -> String {
        do {
            let t = try CSVTable(text: text, source: "s.csv")
            _ = try t.numbers(column: t.column(column), fill: fill)
            return "no error"
        } catch { return "\(error)" }
    }

    @Test func missingValuesNeedAPolicy() throws {
        let text = "t,v\n1,1\n2,\n3,NA\n4,4\n"
        #expect(Self.error(text).hasPrefix("s.csv:3: column 'v' has a missing value"))
        #expect(Self.error(text).contains("--fill"))
        let t = try CSVTable(text: text)
        #expect(try t.numbers(column: 1, fill: .forward).values == [1, 1, 1, 4])
        let dropped = try t.numbers(column: 1, fill: .drop)
        #expect(dropped.values == [1, 4] && dropped.rows == [0, 3])
        #expect(Self.error("t,v\n1,\n2,3\n", fill: .forward).contains("s.csv:2:"))
    }

    @Test func badInputIsAClearError() {
        #expect(Self.error("t,v\n1,abc\n").hasPrefix("s.csv:2: column 'v' has 'abc', which is not a number"))
        #expect(Self.error("t,v\n1,2\n3\n").hasPrefix("s.csv:3: 1 fields but the header has 2"))
        #expect(Self.error("t,v\n1,\"2\n").hasPrefix("s.csv:2: a quoted field is never closed"))
        #expect(Self.error("t,v\n1,2\n", column: "price").contains("no column 'price'"))
        #expect(Self.error("t,v\n1,2\n", column: "price").contains("'t', 'v'"))
        #expect(Self.error("").contains("empty"))
        #expect(Self.error("t,v\n1,2x\"y\n").contains("quote inside an unquoted field"))
    }

    @Test func fileErrorsNameTheFile() {
        #expect(throws: RecurError.self) { try CSVTable(contentsOf: "/nonexistent/prices.csv") }
    }
}

@Suite struct ForecastTests {
    @Test func windowsAndChronologicalSplit() throws {
        let w = try WindowedSeries((0..<20).map(Double.init), window: 3, trainFraction: 0.8)
        #expect(w.inputs.count == 17 && w.targets.count == 17)
        #expect(w.inputs[0] == [0, 1, 2] && w.targets[0] == 3)
        #expect(w.inputs[16] == [16, 17, 18] && w.targets[16] == 19)
        #expect(w.splitIndex == 13 && w.trainCount == 13 && w.testCount == 4)
        #expect(throws: RecurError.self) { try WindowedSeries([1, 2, 3], window: 3, trainFraction: 0.8) }
        // Seed 003: 1000 values, window 10 -> 990 windows, 792 train, 198 test.
        let seed = try WindowedSeries(TimeSeries.sine.values, window: 10, trainFraction: 0.8)
        #expect(seed.trainCount == 792 && seed.testCount == 198)
    }

    @Test(arguments: Scaler.Kind.allCases)
    func scalingRoundTrip(_ kind: Scaler.Kind) {
        let train: [Double] = [3, 5, 9, -1, 4]
        let s = Scaler(kind, fitOn: train)
        for v in train + [100, -50] { #expect(abs(s.inverse(s.transform(v)) - v) < 1e-12) }
        let t = train.map(s.transform)
        switch kind {
        case .none: #expect(t == train)
        case .standard:
            let mean = t.reduce(0, +) / 5, variance = t.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 5
            #expect(abs(mean) < 1e-12 && abs(variance - 1) < 1e-12)
        case .minmax: #expect(t.min() == 0 && t.max() == 1)
        }
    }

    @Test func sineMatchesTheSeed() {
        let s = TimeSeries.sine
        #expect(s.values.count == 1000 && s.positions?.last == 100)
        #expect(abs(s.values[500] - sin(100.0 * 500 / 999)) < 1e-15)
    }

    /// The seed's SimpleRNN beats the naive last-value forecast by a wide margin.
    @Test func simpleRNNBeatsNaive() throws {
        let r = try ForecastExperiment().run()
        #expect(r.testMSE < r.baselineMSE / 5, "test MSE \(r.testMSE), naive \(r.baselineMSE)")
        #expect(r.history.count == 10 && r.actual.count == 198 && r.predicted.count == 198)
        #expect(r.history.last!.trainLoss < r.history.first!.trainLoss)
    }

    @Test func horizonAndRegularisedRunAndJordan() throws {
        var e = ForecastExperiment()
        e.epochs = 2
        e.horizon = 15
        e.l2 = 0.01
        e.inputDropout = 0.2
        e.recurrentDropout = 0.2
        let r = try e.run()
        #expect(r.horizonForecast.count == 15 && r.horizonMSE != nil)
        #expect(r.label == "SimpleRNN (L2 0.01, dropout 0.2, recurrent dropout 0.2)")
        e.cell = .jordan
        let j = try e.run()
        #expect(j.testMSE.isFinite && j.parameterCount == 10 + 10 + 10 + 10 + 1)
    }

    @Test func cliCSVErrorsExitNonZero() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("prices.csv")
        try "day,close\n1,10\n2,\n3,12\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try RecurProcess.run(["forecast", "--csv", file.path, "--column", "close", "--window", "1"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("prices.csv:3: column 'close' has a missing value"), "\(r.stderr)")
        let noColumn = try RecurProcess.run(["forecast", "--csv", file.path])
        #expect(noColumn.status == 64 && noColumn.stderr.contains("--column"))
    }

    @Test func cliCompareJSON() throws {
        let r = try RecurProcess.run(["forecast", "--compare", "--epochs", "1", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let runs = try #require(obj["runs"] as? [[String: Any]])
        #expect(runs.count == 5)
        for run in runs { #expect(run["test_mse"] is Double && run["test_mae"] is Double && run["baseline_mse"] is Double) }
    }
}

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
        // Fewer values than a window (found by the fuzzer): an error, not a trap.
        let short = dir.appendingPathComponent("short.csv")
        try "t,y\n1,1\n2,2\n3,3\n".write(to: short, atomically: true, encoding: .utf8)
        for extra in [[], ["--seasonal", "12"], ["--no-difference"]] {
            let r = try RecurProcess.run(["forecast", "--csv", short.path, "--column", "y"] + extra)
            #expect(r.status == 1 && r.stderr.contains("the series has 3 values: too few for windows"), "\(extra): \(r.status) \(r.stderr)")
        }
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

@Suite struct RealSeriesForecastTests {
    @Test func differencingRoundTrips() {
        var rng = RandomGenerator(seed: 3)
        let x: [Double] = (0..<200).map { (t: Int) -> Double in
            let trend = 0.3 * Double(t) + 300, season = 5 * sin(Double(t) * 2 * Double.pi / 12)
            return trend + season + Double(rng.normal())
        }
        for d in [Differencing(first: true), Differencing(first: false, seasonalPeriod: 12), Differencing(first: true, seasonalPeriod: 12), .none] {
            let back = d.integrate(d.apply(x), start: Array(x.prefix(d.order)))
            #expect(back.count == x.count)
            #expect(zip(back, x).allSatisfy { abs($0 - $1) <= 1e-12 * abs($1) }, "\(d.description)")
        }
        // By hand: squares.
        let y: [Double] = [1, 4, 9, 16, 25]
        #expect(Array(Differencing(first: true).apply(y).dropFirst()) == [3, 5, 7, 9])
        #expect(Array(Differencing(first: false, seasonalPeriod: 2).apply(y).dropFirst(2)) == [8, 12, 16])
        #expect(Array(Differencing(first: true, seasonalPeriod: 2).apply(y).dropFirst(3)) == [4, 4])
        #expect(Differencing(first: true, seasonalPeriod: 12).order == 13)
    }

    /// Scalers are fit on the training span (before the first test target) only: values in the
    /// test span, however large, change nothing.
    @Test func scalingIsFitOnTheTrainingSpanOnly() throws {
        var e = ForecastExperiment()
        let n = 100, testStart = WindowedSeries.testStart(count: n, window: 10, trainFraction: 0.8)
        let base = (0..<n).map { Double($0 % 7) }
        (e.scaling, e.differencing) = (.standard, Differencing(first: true))
        e.series = TimeSeries(name: "y", values: base, features: [.init(name: "f", values: base.map { 2 * $0 + 1 })])
        let a = try ForecastInputs(e)
        e.series = TimeSeries(name: "y", values: base.enumerated().map { $0 < testStart ? $1 : 1e6 * $1 },
                              features: [.init(name: "f", values: base.enumerated().map { $0 < testStart ? 2 * $1 + 1 : -1e9 })])
        let b = try ForecastInputs(e)
        #expect(a.targetScaler.shift == b.targetScaler.shift && a.targetScaler.scale == b.targetScaler.scale)
        #expect(Array(a.columns[1][..<testStart]) == Array(b.columns[1][..<testStart]))
        // Standardised over the training span [order, testStart).
        let z = Array(a.columns[0][1..<testStart]), f = Array(a.columns[1][1..<testStart])
        #expect(abs(z.reduce(0, +) / Double(z.count)) < 1e-12 && abs(f.reduce(0, +) / Double(f.count)) < 1e-12)
    }

    @Test func multiColumnWindowLayout() throws {
        let target = (0..<20).map(Double.init), feature = (0..<20).map { 100 + Double($0) }
        let w = try WindowedSeries(columns: [target, feature], first: 1, window: 2, trainFraction: 0.8)
        #expect(w.width == 2 && w.times.first == 3 && w.times.last == 19)
        #expect(w.inputs[0] == [1, 101, 2, 102] && w.targets[0] == 3)
        // The split is in the series' time: the first test target is window + ⌊0.8 · 18⌋ = 16.
        #expect(w.times[w.splitIndex] == 16)
        let x = ForecastExperiment.batch([w.inputs[0], w.inputs[1]], width: 2)
        #expect(x.shape == [2, 2, 2] && x.scalars == [1, 101, 2, 102, 2, 102, 3, 103])
    }

    @Test func csvColumnsStayAlignedWhenRowsAreDropped() throws {
        let t = try CSVTable(text: "d,a,b\n1,1,10\n2,,20\n3,3,\n4,4,40\n")
        let s = try TimeSeries.csv(t, columns: ["a", "b"], target: "b", labelColumn: "d", fill: .drop)
        #expect(s.values == [10, 40] && s.features.map(\.name) == ["a"] && s.features[0].values == [1, 4] && s.labels == ["1", "4"])
    }

    /// By hand: two starts, two steps ahead, a period of 2.
    @Test func horizonErrorsByHand() {
        let y: [Double] = [1, 2, 3, 5, 8, 13, 21]
        let e = HorizonErrors(paths: [[4, 6], [9, 12]], starts: [3, 4], series: y, seasonalPeriod: 2)
        // Model: start 3 -> (4-5)², (6-8)²; start 4 -> (9-8)², (12-13)².
        let model: [Double] = [1, 2.5]
        #expect(e.model == model)
        // Naive: the value before the start, y[2] = 3 and y[3] = 5.
        let naive: [Double] = [(4.0 + 9.0) / 2, (25.0 + 64.0) / 2]
        #expect(e.naive == naive)
        // Seasonal naive: one period back from the target for 1 and 2 steps ahead.
        let seasonal: [Double] = [(9.0 + 25.0) / 2, (25.0 + 64.0) / 2]
        #expect(e.seasonalNaive! == seasonal)
    }

    /// One step ahead, the recursive forecasts from every start are the one-step forecasts.
    @Test func horizonOneIsTheOneStepForecast() throws {
        var e = ForecastExperiment()
        (e.epochs, e.horizon, e.differencing) = (2, 4, Differencing(first: true, seasonalPeriod: 12))
        e.window = 13
        let r = try e.run()
        let starts = r.actual.count - e.horizon + 1
        let oneStep = zip(r.predicted.prefix(starts), r.actual.prefix(starts)).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(starts)
        #expect(abs(r.testMSEByHorizon[0] - oneStep) <= 1e-12 * oneStep)
        #expect(r.testMSEByHorizon.count == 4 && r.seasonalBaselineMSEByHorizon?.count == 4)
        e.horizon = r.actual.count + 1
        #expect(throws: RecurError.self) { try e.run() }
    }

    /// A trend the training span never reached: without differencing the model loses to the
    /// naive forecast and says so; with differencing (the default for CSV) it wins. --search
    /// picks by validation.
    @Test func naiveWarningAndSearch() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("trend.csv")
        try ("t,y\n" + (0..<300).map { "\($0),\(Double($0) * 0.5 + 3 * sin(Double($0)))" }.joined(separator: "\n") + "\n")
            .write(to: file, atomically: true, encoding: .utf8)
        let plain = try RecurProcess.run(["forecast", "--csv", file.path, "--column", "y", "--no-difference", "--epochs", "3", "--quiet", "--out", dir.appendingPathComponent("plain").path])
        #expect(plain.status == 0 && plain.stderr.contains("warning: SimpleRNN: the test MSE") && plain.stderr.contains("--difference"), "\(plain.stderr)")
        let report = try String(contentsOf: dir.appendingPathComponent("plain/report.md"), encoding: .utf8)
        #expect(report.contains("**Warning:**"))
        let differenced = try RecurProcess.run(["forecast", "--csv", file.path, "--column", "y", "--epochs", "30", "--json", "--quiet"])
        let d = try #require(try JSONSerialization.jsonObject(with: Data(differenced.stdout.utf8)) as? [String: Any])
        #expect((d["test_mse"] as! Double) < (d["baseline_mse"] as! Double) && !differenced.stderr.contains("warning"), "\(differenced.stderr)")
        #expect((d["config"] as? [String: Any])?["difference"] as? Bool == true)
        let search = try RecurProcess.run(["forecast", "--csv", file.path, "--column", "y", "--epochs", "2", "--seasonal", "6", "--search", "--json", "--quiet"])
        #expect(search.status == 0, "\(search.stderr)")
        let s = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
        let candidates = try #require(s["candidates"] as? [[String: Any]])
        #expect(candidates.count == 12)
        let valid = candidates.map { $0["valid_mse"] as! Double }
        #expect(s["picked"] as? Int == valid.firstIndex(of: valid.min()!))
        let result = try #require(s["result"] as? [String: Any]), config = try #require(result["config"] as? [String: Any])
        #expect(config["window"] as? Int == 10 && config["period"] as? Int == 6 && result["seasonal_baseline_mse"] is Double)
    }

    /// --log: the model sees differences of log y (growth rates); the way back exponentiates.
    /// Perfect predictions of the model's targets give the series back, with and without
    /// features; a value at or below zero is refused, naming it; --search keeps it.
    @Test func logTransformRoundTripsAndIsChecked() throws {
        var rng = RandomGenerator(seed: 4)
        var level = 100.0
        let y: [Double] = (0..<120).map { _ in level *= 1.01 + 0.01 * Double(rng.normal()); return level }
        var e = ForecastExperiment()
        (e.scaling, e.differencing, e.logTransform, e.differenceFeatures) = (.standard, Differencing(first: true), true, true)
        e.series = TimeSeries(name: "gdp", values: y, features: [.init(name: "cons", values: y.map { 0.7 * $0 })])
        let inputs = try ForecastInputs(e)
        // The model's target at step t is the scaled log growth.
        let t0 = inputs.windows.times[0]
        #expect(abs(inputs.targetScaler.inverse(inputs.windows.targets[0]) - (log(y[t0]) - log(y[t0 - 1]))) < 1e-12)
        // Features: scaled log growth too (0.7 y grows as y does).
        let range = 0..<inputs.windows.targets.count
        let back = inputs.oneStep(Array(inputs.windows.targets), range: range)
        #expect(zip(back.predicted, back.actual).allSatisfy { abs($0 - $1) <= 1e-9 * $1 }, "perfect growth forecasts give y back")
        #expect(zip(back.naive, range).allSatisfy { $0 == y[inputs.windows.times[$1] - 1] })
        e.series.values[17] = 0
        #expect(throws: RecurError.self) { try ForecastInputs(e) }
        do { _ = try ForecastInputs(e) } catch { #expect("\(error)".contains("--log needs positive values: gdp is 0.0 at index 17"), "\(error)") }

        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("gdp.csv")
        try ("q,gdp\n" + y.enumerated().map { "\($0),\($1)" }.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let logged = try RecurProcess.run(["forecast", "--csv", file.path, "--column", "gdp", "--log", "--epochs", "3", "--json", "--quiet"])
        #expect(logged.status == 0, "\(logged.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(logged.stdout.utf8)) as? [String: Any])
        #expect((obj["config"] as? [String: Any])?["log"] as? Bool == true && (obj["test_mse"] as? Double)?.isFinite == true)
        let search = try RecurProcess.run(["forecast", "--csv", file.path, "--column", "gdp", "--log", "--epochs", "1", "--search", "--json", "--quiet"])
        let s = try #require(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
        let labels = try #require(s["candidates"] as? [[String: Any]]).map { $0["label"] as? String ?? "" }
        #expect(labels.count == 6 && labels.allSatisfy { $0.contains("log") }, "--search keeps --log: \(labels)")
        // Windows in the grid: every candidate is scored on the spans the longest window places.
        let windows = try RecurProcess.run(["forecast", "--csv", file.path, "--column", "gdp", "--epochs", "1", "--search",
                                            "--search-windows", "3,8", "--json", "--quiet"])
        let w = try #require(try JSONSerialization.jsonObject(with: Data(windows.stdout.utf8)) as? [String: Any])
        let found = try #require(w["candidates"] as? [[String: Any]])
        #expect(Set(found.compactMap { ($0["config"] as? [String: Any])?["window"] as? Int }) == [3, 8] && found.count == 12)
        #expect(Set(found.compactMap { $0["valid_baseline_mse"] as? Double }).count == 1, "one validation span for every window")
        #expect(found.allSatisfy { ($0["config"] as? [String: Any])?["split_window"] as? Int == 8 })
        let noSearch = try RecurProcess.run(["forecast", "--csv", file.path, "--column", "gdp", "--search-windows", "3"])
        #expect(noSearch.status == 64 && noSearch.stderr.contains("--search-windows goes with --search"))
        let sine = try RecurProcess.run(["forecast", "--log"])
        #expect(sine.status == 64 && sine.stderr.contains("--log is for a --csv series"), "\(sine.stderr)")
    }

    @Test func windowFollowsTheSeasonalPeriodAndOptionsAreChecked() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("m.csv")
        try ("m,y,h\n" + (0..<120).map { "\($0 % 12),\(sin(Double($0) * .pi / 6)),\($0 % 12 < 6 ? 1 : 0)" }.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let r = try RecurProcess.run(["forecast", "--csv", file.path, "--columns", "y,m,h", "--target", "y", "--seasonal", "12", "--epochs", "1", "--horizon", "3", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let config = try #require(obj["config"] as? [String: Any])
        #expect(config["window"] as? Int == 13 && config["features"] as? [String] == ["m", "h"] && config["scale"] as? String == "standard")
        #expect((obj["test_mse_by_horizon"] as? [Double])?.count == 3 && (obj["baseline_mse_by_horizon"] as? [Double])?.count == 3)
        for (args, message) in [(["--columns", "y,m"], "--columns needs --target"), (["--column", "y", "--target", "y"], "--column is the one-column form"),
                                (["--column", "y", "--difference-features"], "--difference-features needs feature columns"),
                                (["--column", "y", "--seasonal", "1"], "--seasonal must be"), (["--column", "y", "--search-epochs", "5"], "--search-epochs goes with --search"),
                                (["--column", "y", "--search", "--search-epochs", "5,x"], "--search-epochs: 'x' is not valid; expected epoch counts")] {
            let bad = try RecurProcess.run(["forecast", "--csv", file.path] + args)
            #expect(bad.status == 64 && bad.stderr.contains(message), "\(args): \(bad.stderr)")
        }
    }
}

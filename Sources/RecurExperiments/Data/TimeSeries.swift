import Recur
/// A series to forecast (the target), with optional feature columns observed at the same
/// times (e.g. calendar features) and labels (dates) for plots.
public struct TimeSeries: Sendable {
    public var name: String
    /// The target: what is forecast.
    public var values: [Double]
    /// Other input columns, each as long as `values`: the model sees them beside the target.
    public var features: [Column]
    /// x positions for plots (e.g. seed 003's linspace), or nil for 0, 1, 2, ...
    public var positions: [Double]?
    /// Text labels (e.g. dates), or nil.
    public var labels: [String]?

    public struct Column: Sendable {
        public var name: String
        public var values: [Double]
        public init(name: String, values: [Double]) { (self.name, self.values) = (name, values) }
    }

    public init(name: String, values: [Double], features: [Column] = [], positions: [Double]? = nil, labels: [String]? = nil) {
        precondition(features.allSatisfy { $0.values.count == values.count },
                     "feature columns \(features.map { "\($0.name): \($0.values.count)" }) must have the target's \(values.count) values")
        self.name = name
        self.values = values
        self.features = features
        self.positions = positions
        self.labels = labels
    }

    /// Seed 003's series: x = linspace(0, 100, 1000), y = sin(x).
    public static var sine: TimeSeries {
        let x = (0..<1000).map { 100 * Double($0) / 999 }
        return TimeSeries(name: "sin(x)", values: x.map { _sin($0) }, positions: x)
    }

    /// A column of a CSV file, with an optional label column.
    public static func csv(_ table: CSVTable, column: String, labelColumn: String?, fill: CSVTable.MissingValues?) throws -> TimeSeries {
        try csv(table, columns: [column], target: column, labelColumn: labelColumn, fill: fill)
    }

    /// Columns of a CSV file: `target` is forecast, the other `columns` are features (the
    /// target may be among them or not). With `fill: .drop` a row missing any of them is left out.
    public static func csv(_ table: CSVTable, columns: [String], target: String, labelColumn: String?,
                           fill: CSVTable.MissingValues?) throws -> TimeSeries {
        let t = try table.column(target)
        var indices = [t]
        for name in columns {
            let c = try table.column(name)
            if !indices.contains(c) { indices.append(c) }
        }
        let (values, rows) = try table.numbers(columns: indices, fill: fill)
        let labels = try labelColumn.map { name -> [String] in
            let l = try table.column(name)
            return rows.map { table.rows[$0][l] }
        }
        let features = zip(indices, values).dropFirst().map { Column(name: table.header[$0], values: $1) }
        return TimeSeries(name: table.header[t], values: values[0], features: features, labels: labels)
    }

    public func position(_ i: Int) -> Double { positions?[i] ?? Double(i) }
}

/// Sliding windows over a series and its features: the previous `window` steps predict the
/// next target value. A step is `width` numbers, the target (in model units) first, then the
/// features. The split is chronological and in the series' own time: targets before
/// `testStart` train, the rest test (seed 003's split of the windows, whatever differencing
/// removed from the start).
public struct WindowedSeries: Sendable {
    public let window: Int
    /// Numbers per step: 1 + the feature columns.
    public let width: Int
    /// inputs[i]: window i, `window * width` numbers, step-major (step s, column c at
    /// s * width + c); targets[i]: the target after it; times[i]: the series index of that target.
    public let inputs: [[Double]]
    public let targets: [Double]
    public let times: [Int]
    /// Windows before this index are training windows.
    public let splitIndex: Int

    /// The series index of the first test target: seed 003 splits the windows of the whole
    /// series, so this is `window + ⌊trainFraction · (count − window)⌋`.
    public static func testStart(count: Int, window: Int, trainFraction: Double) -> Int {
        window + Int(trainFraction * Double(max(count - window, 0)))
    }

    /// One column, windows from the start (no differencing).
    public init(_ values: [Double], window: Int, trainFraction: Double) throws {
        try self.init(columns: [values], first: 0, window: window, trainFraction: trainFraction)
    }

    /// - Parameters:
    ///   - columns: the target in model units, then the features; each as long as the series.
    ///   - first: the first index with a value (the differencing order): windows start there.
    ///   - splitWindow: the window that places the split (default: `window`), so that windows
    ///     of other lengths can be scored on the same spans.
    public init(columns: [[Double]], first: Int, window: Int, trainFraction: Double, splitWindow: Int? = nil) throws {
        guard window >= 1 else { throw RecurError("`window` must be at least 1, got \(window)", fix: "e.g. a window of 10") }
        guard trainFraction > 0 && trainFraction < 1 else {
            throw RecurError("`trainFraction` must be between 0 and 1, got \(trainFraction)", fix: "e.g. 0.8")
        }
        precondition(!columns.isEmpty && columns.allSatisfy { $0.count == columns[0].count }, "columns \(columns.map(\.count)) must be equally long")
        let n = columns[0].count, firstTarget = first + window
        let testStart = Self.testStart(count: n, window: max(window, splitWindow ?? window), trainFraction: trainFraction)
        let split = testStart - firstTarget
        guard n - firstTarget >= 2, split >= 1, testStart < n else {
            throw RecurError("the series has \(n) values: too few for windows of \(window)\(first > 0 ? " after differencing (\(first) values)" : "") and a \(trainFraction) split",
                             fix: "use a longer series or a smaller --window\(first > 0 ? " or --seasonal period" : "")")
        }
        self.window = window
        width = columns.count
        times = Array(firstTarget..<n)
        inputs = times.map { t in (t - window..<t).flatMap { s in columns.map { $0[s] } } }
        targets = times.map { columns[0][$0] }
        splitIndex = split
    }

    public var trainCount: Int { splitIndex }
    public var testCount: Int { targets.count - splitIndex }
}

/// Scaling fit on the training values only, undone for reports.
public struct Scaler: Sendable {
    public enum Kind: String, Sendable, CaseIterable, Codable { case none, standard, minmax }
    public let kind: Kind
    public let shift: Double
    public let scale: Double

    public init(_ kind: Kind, fitOn values: [Double]) {
        self.kind = kind
        switch kind {
        case .none: (shift, scale) = (0, 1)
        case .standard:
            let mean = values.reduce(0, +) / Double(max(values.count, 1))
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(values.count, 1))
            (shift, scale) = (mean, variance > 0 ? variance.squareRoot() : 1)
        case .minmax:
            let lo = values.min() ?? 0, hi = values.max() ?? 1
            (shift, scale) = (lo, hi > lo ? hi - lo : 1)
        }
    }

    public func transform(_ v: Double) -> Double { (v - shift) / scale }
    public func inverse(_ v: Double) -> Double { v * scale + shift }
}

import Foundation
@usableFromInline func _sin(_ x: Double) -> Double { Foundation.sin(x) }

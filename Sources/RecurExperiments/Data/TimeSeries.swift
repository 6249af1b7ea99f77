import Recur
/// A univariate series with optional labels (dates) for plots.
public struct TimeSeries: Sendable {
    public var name: String
    public var values: [Double]
    /// x positions for plots (e.g. seed 003's linspace), or nil for 0, 1, 2, ...
    public var positions: [Double]?
    /// Text labels (e.g. dates), or nil.
    public var labels: [String]?

    public init(name: String, values: [Double], positions: [Double]? = nil, labels: [String]? = nil) {
        self.name = name
        self.values = values
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
        let c = try table.column(column)
        let (values, rows) = try table.numbers(column: c, fill: fill)
        let labels = try labelColumn.map { name -> [String] in
            let l = try table.column(name)
            return rows.map { table.rows[$0][l] }
        }
        return TimeSeries(name: table.header[c], values: values, labels: labels)
    }

    public func position(_ i: Int) -> Double { positions?[i] ?? Double(i) }
}

/// Sliding windows: the previous `window` values predict the next one. The split is
/// chronological: the first `trainFraction` of the windows train, the rest test (seed 003).
public struct WindowedSeries: Sendable {
    public let window: Int
    /// inputs[i] = values[i ..< i + window], targets[i] = values[i + window].
    public let inputs: [[Double]]
    public let targets: [Double]
    /// Windows before this index are training windows.
    public let splitIndex: Int

    public init(_ values: [Double], window: Int, trainFraction: Double) throws {
        guard window >= 1 else { throw RecurError("`window` must be at least 1, got \(window)", fix: "e.g. a window of 10") }
        guard trainFraction > 0 && trainFraction < 1 else {
            throw RecurError("`trainFraction` must be between 0 and 1, got \(trainFraction)", fix: "e.g. 0.8")
        }
        let count = values.count - window
        let split = Int(trainFraction * Double(max(count, 0)))
        guard count >= 2, split >= 1, split < count else {
            throw RecurError("the series has \(values.count) values: too few for windows of \(window) and a \(trainFraction) split",
                             fix: "use a longer series or a smaller --window")
        }
        self.window = window
        inputs = (0..<count).map { Array(values[$0..<($0 + window)]) }
        targets = Array(values[window...])
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

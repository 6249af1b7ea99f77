import Foundation

/// A small dense matrix of Doubles, row-major, for the learner-facing cell API.
///
/// Seed 004 works in numpy with columns as examples: x is [n_x, m], a state is [n_a, m] and
/// a bias is [n_a, 1], broadcast over the columns. `Matrix` keeps that layout and numpy's
/// float64 precision, so the cell API reproduces the seed's printed numbers. It is meant for
/// learning and checking, not speed: the training layers use `Tensor` and BLAS.
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let cols: Int
    /// rows * cols values, row-major: element (i, j) is at i * cols + j.
    public var values: [Double]

    public init(rows: Int, cols: Int, values: [Double]) {
        precondition(rows >= 0 && cols >= 0 && values.count == rows * cols,
                     "Matrix [\(rows), \(cols)] needs \(rows * cols) values, got \(values.count)")
        self.rows = rows
        self.cols = cols
        self.values = values
    }

    public init(zeros rows: Int, _ cols: Int) {
        self.init(rows: rows, cols: cols, values: Array(repeating: 0, count: rows * cols))
    }

    /// From nested rows, as numpy prints them: `Matrix([[1, 2], [3, 4]])`.
    public init(_ nested: [[Double]]) {
        let cols = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == cols }, "Matrix rows must all have \(cols) values")
        self.init(rows: nested.count, cols: cols, values: nested.flatMap { $0 })
    }

    public var shape: [Int] { [rows, cols] }

    public subscript(i: Int, j: Int) -> Double {
        get { values[i * cols + j] }
        set { values[i * cols + j] = newValue }
    }

    /// Row i as an array (numpy's `m[i]`).
    public func row(_ i: Int) -> [Double] { Array(values[(i * cols)..<((i + 1) * cols)]) }

    public var transposed: Matrix {
        var t = Matrix(zeros: cols, rows)
        for i in 0..<rows { for j in 0..<cols { t[j, i] = self[i, j] } }
        return t
    }

    /// self · other: [rows, k] · [k, other.cols].
    public func dot(_ other: Matrix) -> Matrix {
        precondition(cols == other.rows, "Matrix.dot: \(shape) · \(other.shape) needs \(cols) == \(other.rows)")
        var out = Matrix(zeros: rows, other.cols)
        for i in 0..<rows {
            for k in 0..<cols {
                let a = self[i, k]
                for j in 0..<other.cols { out.values[i * other.cols + j] += a * other.values[k * other.cols + j] }
            }
        }
        return out
    }

    public func map(_ f: (Double) -> Double) -> Matrix {
        Matrix(rows: rows, cols: cols, values: values.map(f))
    }

    /// Elementwise combination of equal shapes, or of [rows, cols] with a column [rows, 1]
    /// broadcast over the columns (numpy's `W.dot(x) + b`).
    public func zip(_ other: Matrix, _ f: (Double, Double) -> Double) -> Matrix {
        if other.shape == shape {
            return Matrix(rows: rows, cols: cols, values: Swift.zip(values, other.values).map(f))
        }
        precondition(other.rows == rows && other.cols == 1,
                     "Matrix: shapes \(shape) and \(other.shape) do not broadcast")
        var out = self
        for i in 0..<rows { for j in 0..<cols { out[i, j] = f(self[i, j], other[i, 0]) } }
        return out
    }

    public static func + (a: Matrix, b: Matrix) -> Matrix { a.zip(b, +) }
    public static func - (a: Matrix, b: Matrix) -> Matrix { a.zip(b, -) }
    /// Elementwise (numpy's `*`).
    public static func * (a: Matrix, b: Matrix) -> Matrix { a.zip(b, *) }
    public static func * (s: Double, a: Matrix) -> Matrix { a.map { s * $0 } }
    public static func += (a: inout Matrix, b: Matrix) { a = a + b }

    /// Sum over the columns: [rows, 1] (numpy's `sum(axis=1, keepdims=True)`).
    public var rowSums: Matrix {
        Matrix(rows: rows, cols: 1, values: (0..<rows).map { i in row(i).reduce(0, +) })
    }

    /// Rows `range` (numpy's `m[a:b]`).
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, values: Array(values[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// Columns `range` (numpy's `m[:, a:b]`).
    public func columns(_ range: Range<Int>) -> Matrix {
        var out = Matrix(zeros: rows, range.count)
        for i in 0..<rows { for j in range { out[i, j - range.lowerBound] = self[i, j] } }
        return out
    }

    /// [a; b] stacked by rows (numpy's `np.concatenate((a, b), axis=0)`).
    public static func stacked(_ a: Matrix, _ b: Matrix) -> Matrix {
        precondition(a.cols == b.cols, "Matrix.stacked: \(a.shape) and \(b.shape) need the same column count")
        return Matrix(rows: a.rows + b.rows, cols: a.cols, values: a.values + b.values)
    }

    /// [a, b] side by side (numpy's `np.concatenate((a, b), axis=1)`).
    public static func sideBySide(_ a: Matrix, _ b: Matrix) -> Matrix {
        precondition(a.rows == b.rows, "Matrix.sideBySide: \(a.shape) and \(b.shape) need the same row count")
        var out = Matrix(zeros: a.rows, a.cols + b.cols)
        for i in 0..<a.rows {
            for j in 0..<a.cols { out[i, j] = a[i, j] }
            for j in 0..<b.cols { out[i, a.cols + j] = b[i, j] }
        }
        return out
    }

    /// Softmax over each column (seed 004's `softmax`, which normalises over axis 0).
    public var softmaxColumns: Matrix {
        var out = self
        for j in 0..<cols {
            var top = -Double.infinity
            for i in 0..<rows { top = max(top, self[i, j]) }
            var sum = 0.0
            for i in 0..<rows { out[i, j] = Foundation.exp(self[i, j] - top); sum += out[i, j] }
            for i in 0..<rows { out[i, j] /= sum }
        }
        return out
    }

    public var description: String {
        (0..<rows).map { i in row(i).map { String($0) }.joined(separator: " ") }.joined(separator: "\n")
    }
}

/// 1 / (1 + e^-x), as seed 004's `sigmoid`.
@inline(__always) func logistic(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

import Foundation
import Recur
/// A table rendered as GitHub Markdown (reports) or aligned plain text (terminals).
public struct MarkdownTable: Sendable {
    public var header: [String]
    public var rows: [[String]]
    /// Columns aligned right (numbers).
    public var rightAligned: Set<Int>

    public init(header: [String], rows: [[String]] = [], rightAligned: Set<Int> = []) {
        self.header = header
        self.rows = rows
        self.rightAligned = rightAligned
    }

    public mutating func append(_ row: [String]) {
        precondition(row.count == header.count, "table row has \(row.count) cells for \(header.count) columns")
        rows.append(row)
    }

    private var widths: [Int] {
        header.indices.map { c in ([header[c]] + rows.map { $0[c] }).map(\.count).max() ?? 0 }
    }

    private func cell(_ s: String, _ c: Int, _ w: [Int]) -> String {
        let gap = String(repeating: " ", count: w[c] - s.count)
        return rightAligned.contains(c) ? gap + s : s + gap
    }

    public var markdown: String {
        let w = widths.map { max($0, 3) }
        var lines = ["| " + header.indices.map { cell(header[$0], $0, w) }.joined(separator: " | ") + " |"]
        lines.append("|" + header.indices.map { c in
            rightAligned.contains(c) ? String(repeating: "-", count: w[c] + 1) + ":" : String(repeating: "-", count: w[c] + 2)
        }.joined(separator: "|") + "|")
        for row in rows { lines.append("| " + row.indices.map { cell(row[$0], $0, w) }.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n") + "\n"
    }

    public var plainText: String {
        let w = widths
        var lines = [header.indices.map { cell(header[$0], $0, w) }.joined(separator: "  ")]
        lines.append(w.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        for row in rows { lines.append(row.indices.map { cell(row[$0], $0, w) }.joined(separator: "  ")) }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Formats a number for tables: fixed decimals, or "-" when absent or not finite. Any Double
/// is accepted: where fixed decimals would need more than 15 digits, the number is written as
/// mantissa and exponent ("1.23e+20").
public func formatNumber(_ x: Double?, decimals: Int = 4) -> String {
    guard let x, x.isFinite else { return "-" }
    let decimals = min(max(decimals, 0), 12)
    let scaled = (abs(x) * pow10(decimals)).rounded()
    guard scaled < 1e15 else { return exponentForm(x, digits: 2) }
    var s = String(Int64(scaled))
    while s.count <= decimals { s = "0" + s }
    let cut = s.index(s.endIndex, offsetBy: -decimals)
    let body = decimals > 0 ? s[..<cut] + "." + s[cut...] : Substring(s)
    return (x < 0 && body.contains(where: { $0 != "0" && $0 != "." }) ? "-" : "") + body
}

/// 3 significant digits, mantissa and exponent below 0.01 (and for huge values).
public func formatScientific(_ x: Double) -> String {
    guard x.isFinite else { return "-" }
    if x != 0 && abs(x) < 0.01 { return exponentForm(x, digits: 2) }
    return formatNumber(x, decimals: abs(x) < 10 ? 4 : 2)
}

/// "m.mme±E" with `digits` decimals in the mantissa; x finite and non-zero.
private func exponentForm(_ x: Double, digits: Int) -> String {
    var e = Int(floor(log10(abs(x))))
    var m = x / pow(10, Double(e))
    if abs(m).rounded(toPlaces: digits) >= 10 { (m, e) = (m / 10, e + 1) }  // 9.999 -> 1.00e+1
    return formatNumber(m, decimals: digits) + "e" + (e >= 0 ? "+" : "") + String(e)
}

private extension Double {
    func rounded(toPlaces n: Int) -> Double { (self * pow10(n)).rounded() / pow10(n) }
}

private func pow10(_ n: Int) -> Double { (0..<n).reduce(1.0) { r, _ in r * 10 } }

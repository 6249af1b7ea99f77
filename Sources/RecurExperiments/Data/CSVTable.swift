import Recur
import Foundation

/// A CSV file parsed as RFC 4180: comma-separated, fields optionally in double quotes (which
/// may hold commas, newlines and doubled quotes ""), LF or CRLF line ends, a header row.
/// Every data row keeps its line number, so errors can point at the line.
public struct CSVTable: Sendable {
    public let source: String
    public let header: [String]
    public let rows: [[String]]
    /// 1-based line where each row starts.
    public let lines: [Int]

    /// Values read as missing (after trimming spaces).
    public static let missingMarkers: Set<String> = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]

    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecurError("\(path): cannot read the CSV file", fix: "check the path of the `csv` file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RecurError("\(path): the CSV file is not UTF-8 text", fix: "save it as UTF-8")
        }
        try self.init(text: text, source: path)
    }

    public init(text: String, source: String = "<csv>") throws {
        self.source = source
        var records: [[String]] = [], starts: [Int] = []
        var field = "", record: [String] = []
        var inQuotes = false, line = 1, recordStart = 1, quoteStart = 1
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        func endRecord() {
            record.append(field)
            field = ""
            // A blank line is no record.
            if !(record.count == 1 && record[0].trimmingCharacters(in: .whitespaces).isEmpty) {
                records.append(record)
                starts.append(recordStart)
            }
            record = []
        }
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else {
                switch c {
                case "\"":
                    if field.trimmingCharacters(in: .whitespaces).isEmpty {
                        field = ""
                        inQuotes = true
                        quoteStart = line
                    } else {
                        throw RecurError("\(source):\(line): a quote inside an unquoted field", fix: "quote the whole field and double inner quotes (\"\")")
                    }
                case ",": record.append(field); field = ""
                case "\r": break
                case "\n":
                    endRecord()
                    line += 1
                    recordStart = line
                default: field.unicodeScalars.append(c)
                }
            }
            i += 1
        }
        if inQuotes { throw RecurError("\(source):\(quoteStart): a quoted field is never closed", fix: "add the closing double quote") }
        if !field.isEmpty || !record.isEmpty { endRecord() }
        guard let first = records.first else { throw RecurError("\(source): the CSV file is empty", fix: "give a file with a header row and data rows") }
        header = first.map { $0.trimmingCharacters(in: .whitespaces) }
        for (r, l) in zip(records.dropFirst(), starts.dropFirst()) where r.count != header.count {
            throw RecurError("\(source):\(l): \(r.count) fields but the header has \(header.count)",
                             fix: "give every row the header's \(header.count) fields (quote fields that contain commas)")
        }
        rows = Array(records.dropFirst())
        lines = Array(starts.dropFirst())
    }

    /// A column by header name, or by 0-based index.
    public func column(_ nameOrIndex: String) throws -> Int {
        if let i = header.firstIndex(of: nameOrIndex) { return i }
        if let i = Int(nameOrIndex), i >= 0, i < header.count { return i }
        throw RecurError("\(source): no column '\(nameOrIndex)'",
                         fix: "use one of \(header.map { "'\($0)'" }.joined(separator: ", ")) or a 0-based index below \(header.count)")
    }

    public enum MissingValues: String, Sendable, CaseIterable, Codable {
        /// Repeat the previous value.
        case forward
        /// Leave the row out.
        case drop
    }

    /// Numeric columns read together: with `fill: .drop` a row missing a value in any of
    /// them is left out of all, so the columns stay aligned.
    /// - Returns: the values of each column and the rows they came from.
    public func numbers(columns: [Int], fill: MissingValues?) throws -> (values: [[Double]], rows: [Int]) {
        let read = try columns.map { try numbers(column: $0, fill: fill) }
        guard fill == .drop, read.count > 1 else { return (read.map(\.values), read.first?.rows ?? []) }
        let kept = read.dropFirst().reduce(Set(read[0].rows)) { $0.intersection($1.rows) }
        return (read.map { c in zip(c.values, c.rows).filter { kept.contains($0.1) }.map(\.0) }, read[0].rows.filter(kept.contains))
    }

    /// A numeric column. Missing values are an error unless `fill` says what to do.
    /// - Returns: the values and, for each, the index of the row it came from.
    public func numbers(column c: Int, fill: MissingValues?) throws -> (values: [Double], rows: [Int]) {
        var values: [Double] = [], kept: [Int] = []
        for (r, row) in rows.enumerated() {
            let text = row[c].trimmingCharacters(in: .whitespaces)
            if Self.missingMarkers.contains(text) {
                switch fill {
                case nil:
                    throw RecurError("\(source):\(lines[r]): column '\(header[c])' has a missing value",
                                     fix: "fill it in, or pass --fill forward or --fill drop")
                case .drop: continue
                case .forward:
                    guard let previous = values.last else {
                        throw RecurError("\(source):\(lines[r]): column '\(header[c])' starts with a missing value, so there is nothing to carry forward",
                                         fix: "use --fill drop, or fill in the first value")
                    }
                    values.append(previous)
                    kept.append(r)
                }
                continue
            }
            guard let v = Double(text), v.isFinite else {
                throw RecurError("\(source):\(lines[r]): column '\(header[c])' has '\(text)', which is not a number",
                                 fix: "fix the value, or choose a numeric --column")
            }
            values.append(v)
            kept.append(r)
        }
        return (values, kept)
    }
}

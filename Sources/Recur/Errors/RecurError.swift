import Foundation

/// A user-facing error: what went wrong (naming the file, line or field) and how to fix it.
public struct RecurError: Error, CustomStringConvertible, LocalizedError {
    public let message: String
    public let fix: String
    public init(_ message: String, fix: String) {
        self.message = message
        self.fix = fix
    }
    public var description: String { fix.isEmpty ? message : "\(message); \(fix)" }

    /// The same error with the library's parameter names (written in backticks, e.g.
    /// `` `batchSize` ``) replaced by a front end's names for them (e.g. `--batch-size`).
    public func naming(_ names: [String: String]) -> RecurError {
        func rename(_ text: String) -> String {
            names.reduce(text) { $0.replacingOccurrences(of: "`\($1.key)`", with: $1.value) }
        }
        return RecurError(rename(message), fix: rename(fix))
    }
    public var errorDescription: String? { description }
}

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
    public var errorDescription: String? { description }
}

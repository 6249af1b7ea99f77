import ArgumentParser
import Foundation

/// The allowed values of every numeric option of every command, in one table keyed by the
/// option's long name, so that a name means one thing everywhere. `check` finds the options
/// of a parsed command by reflection (its `@Option` properties and option groups), so an
/// option cannot be added without a range: the tests run every command with each numeric
/// option out of range and expect this layer's message.
///
/// The bounds follow from what a value means (a probability is below 1, a sample rate is an
/// audio rate) or keep counts far from overflow (products of the largest sizes stay below
/// 2^53, which JSON numbers hold exactly). Memory is checked separately, from the sizes
/// together (`MemoryBudget`).
enum OptionLimits {
    enum Range {
        /// Whole numbers in `bounds`.
        case integer(ClosedRange<Int>)
        /// Finite numbers in `bounds`, `lowerOpen`: above the lower bound, not equal to it.
        case real(ClosedRange<Double>, lowerOpen: Bool = false, upperOpen: Bool = false)

        func contains(_ x: Double) -> Bool {
            switch self {
            case .integer(let r): return x == x.rounded() && x >= Double(r.lowerBound) && x <= Double(r.upperBound)
            case let .real(r, lowerOpen, upperOpen):
                return x.isFinite && (lowerOpen ? x > r.lowerBound : x >= r.lowerBound) && (upperOpen ? x < r.upperBound : x <= r.upperBound)
            }
        }

        var text: String {
            func n(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
            switch self {
            case .integer(let r): return "a whole number from \(r.lowerBound) to \(r.upperBound)"
            case let .real(r, lowerOpen, upperOpen):
                if r.upperBound == .greatestFiniteMagnitude {
                    return lowerOpen ? "a positive number" + (r.lowerBound == 0 ? "" : " above \(n(r.lowerBound))") : "a number of at least \(n(r.lowerBound))"
                }
                let (a, b) = (n(r.lowerBound), n(r.upperBound))
                switch (lowerOpen, upperOpen) {
                case (false, false): return "a number from \(a) to \(b)"
                case (false, true): return "a number of at least \(a) and below \(b)"
                case (true, false): return "a number above \(a) and at most \(b)"
                case (true, true): return "a number above \(a) and below \(b)"
                }
            }
        }
    }

    static let size = Range.integer(1...1_048_576)
    /// The most steps, epochs or batches a count may ask for.
    static let maxCount = 1_000_000_000
    static let count = Range.integer(1...maxCount)
    static let fraction = Range.real(0...1, lowerOpen: true, upperOpen: true)
    static let probability = Range.real(0...1, upperOpen: true)
    static let positive = Range.real(0...Double.greatestFiniteMagnitude, lowerOpen: true)
    static let nonNegative = Range.real(0...Double.greatestFiniteMagnitude)

    /// Long option name -> allowed values.
    static let table: [String: Range] = [
        // Model sizes.
        "hidden": size, "units": size, "embedding": size, "input": size, "layers": .integer(1...256),
        "proj-size": .integer(0...1_048_575), "classes": .integer(1...1_000_000), "vocab": .integer(5...10_000_000),
        // Lengths of data and runs.
        "length": .integer(1...10_000_000), "maxlen": .integer(1...10_000_000), "window": .integer(1...10_000_000),
        "bptt": .integer(1...10_000_000), "horizon": .integer(0...10_000_000), "seasonal": .integer(2...10_000_000), "batch-size": .integer(1...1_000_000),
        "steps": count, "epochs": .integer(1...10_000_000), "synthetic": .integer(20...100_000_000),
        "test-batches": .integer(1...1_000_000), "valid-batches": .integer(1...1_000_000),
        "log-every": count, "validate-every": count, "patience": count, "lr-step": count, "decay-after": count,
        // Optimisation.
        "lr": positive, "lr-gamma": positive, "decay-factor": .real(0...1, lowerOpen: true), "clip": nonNegative, "l2": nonNegative,
        "dropout": probability, "input-dropout": probability, "recurrent-dropout": probability,
        "temperature": .real(0...1e6),
        // Splits.
        "split": fraction, "valid-fraction": fraction, "valid-from-test": fraction,
        // Audio features.
        "sample-rate": .integer(1000...384_000), "n-fft": .integer(16...65_536), "hop": .integer(1...65_536),
        "n-mels": .integer(1...1024), "n-mfcc": .integer(1...1024),
        // Running.
        "seed": .integer(0...(1 << 53)), "threads": .integer(1...256), "jobs": .integer(1...64),
        "seconds": .real(0...600, lowerOpen: true),
    ]

    /// Checks every numeric option of `command` (and of its option groups) against the table.
    static func check(_ command: Any) throws {
        for (name, value, text) in numericOptions(of: command) {
            guard let range = table[name] else {
                preconditionFailure("--\(name) has no entry in OptionLimits.table; add its allowed range there")
            }
            guard range.contains(value) else {
                throw ValidationError("--\(name) must be \(range.text), got \(text)")
            }
        }
    }

    /// The long names and values of the numeric `@Option`s, recursing into `@OptionGroup`s.
    static func numericOptions(of value: Any) -> [(name: String, value: Double, text: String)] {
        var found: [(String, Double, String)] = []
        for child in Mirror(reflecting: value).children {
            guard let label = child.label, label.hasPrefix("_") else { continue }
            let name = kebab(String(label.dropFirst()))
            let v: (Double, String)?? = number(child.value)
            if let v {
                if let v { found.append((name, v.0, v.1)) }
            } else if String(describing: type(of: child.value)).hasPrefix("OptionGroup<") {
                let inner = Mirror(reflecting: child.value).descendant("_parsedValue") ?? Mirror(reflecting: child.value).children.first?.value
                if let inner { found += numericOptions(of: unwrapParsed(inner)) }
            }
        }
        return found
    }

    /// The long names of the numeric options a command declares (its own and its option
    /// groups'), read from the type, before any parsing: what a test must give values to.
    static func numericOptionNames(of type: ParsableArguments.Type) -> [String] {
        Mirror(reflecting: type.init()).children.flatMap { child -> [String] in
            guard let label = child.label, label.hasPrefix("_") else { return [] }
            if child.value is NumericOption { return [kebab(String(label.dropFirst()))] }
            return (Swift.type(of: child.value) as? OptionGroupType.Type).map { numericOptionNames(of: $0.groupType) } ?? []
        }
    }

    /// The value and its text as given; nil: not a numeric option; .some(nil): a numeric
    /// option without a value.
    static func number(_ wrapped: Any) -> (Double, String)?? {
        (wrapped as? NumericOption).map(\.numberAndText)
    }

    /// An option group's stored value: the group itself once parsed, behind ArgumentParser's
    /// internal enum.
    static func unwrapParsed(_ value: Any) -> Any {
        let m = Mirror(reflecting: value)
        if m.displayStyle == .enum, let payload = m.children.first?.value { return payload }
        return value
    }

    static func kebab(_ camel: String) -> String {
        camel.reduce(into: "") { s, c in
            if c.isUppercase { s += "-" + c.lowercased() } else { s.append(c) }
        }
    }

    /// ArgumentParser reads "-5" after an option as another option ("Missing value for
    /// '--hidden'"). A negative number (or -inf, -nan) right after an option that takes a value
    /// becomes "--option=-5", so the range check can name it.
    static func joinNegativeValues(_ arguments: [String]) -> [String] {
        var out: [String] = []
        for a in arguments {
            if let last = out.last, last.hasPrefix("--"), !last.contains("="), looksNegative(a) {
                out[out.count - 1] = last + "=" + a
            } else {
                out.append(a)
            }
        }
        return out
    }

    static func looksNegative(_ s: String) -> Bool {
        guard s.hasPrefix("-"), s.count > 1 else { return false }
        let rest = s.dropFirst()
        return rest.first!.isNumber || rest.first == "." || ["inf", "infinity", "nan"].contains(rest.lowercased())
    }
}

/// An `@OptionGroup`'s arguments type, so that reflection can reach a group's options
/// before parsing.
protocol OptionGroupType { static var groupType: ParsableArguments.Type { get } }
extension OptionGroup: OptionGroupType { static var groupType: ParsableArguments.Type { Value.self } }

/// The option value types the range table checks (and optionals of them): one list, read
/// both from parsed values and, by type alone, before parsing.
protocol OptionNumber { var numberAndText: (Double, String)? { get } }
// Whole numbers beyond 2^53 (where Double rounds: 2^53 + 1 would pass as 2^53) count as
// infinite, outside every range.
extension Int: OptionNumber { var numberAndText: (Double, String)? { (magnitude > 1 << 53 ? (self < 0 ? -.infinity : .infinity) : Double(self), String(self)) } }
extension UInt64: OptionNumber { var numberAndText: (Double, String)? { (self > 1 << 53 ? .infinity : Double(self), String(self)) } }
extension Float: OptionNumber { var numberAndText: (Double, String)? { (Double(self), description) } }
extension Double: OptionNumber { var numberAndText: (Double, String)? { (self, description) } }
extension Optional: OptionNumber where Wrapped: OptionNumber { var numberAndText: (Double, String)? { self?.numberAndText } }

/// An `@Option` whose value is a number.
protocol NumericOption { var numberAndText: (Double, String)? { get } }
extension Option: NumericOption where Value: OptionNumber { var numberAndText: (Double, String)? { wrappedValue.numberAndText } }

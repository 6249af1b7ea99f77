import Foundation
import Recur

/// The copy-memory task as Arjovsky, Shah & Bengio 2016 set it: an alphabet of 10 symbols,
/// a_0 the blank, a_1...a_8 data, a_9 the delimiter. The input is 10 data symbols drawn
/// uniformly from a_1...a_8, then T-1 blanks, the delimiter and 10 more blanks (T+20 steps);
/// the target is T+10 blanks and then the 10 data symbols. A model that forgets does best by
/// outputting blanks and then guessing uniformly: cross-entropy 10 log 8 / (T+20) per step.
public struct CopyDataset: Sendable {
    /// T: the delay between the last data symbol and the delimiter, plus one.
    public let delay: Int
    public var rng: RandomGenerator

    /// Symbols to copy, alphabet size (blank + data + delimiter) and output classes (blank + data).
    public static let copied = 10, inputSize = 10, classes = 9
    public static let blank: Int32 = 0, delimiter: Int32 = 9

    public init(delay: Int, seed: UInt64) {
        precondition(delay >= 1, "the copy task needs a delay of at least 1, got \(delay)")
        self.delay = delay
        rng = RandomGenerator(seed: seed)
    }

    /// Steps per sequence: T + 20.
    public var length: Int { delay + 2 * Self.copied }

    /// The input symbols [length] and the target classes [length] of one sequence.
    public mutating func sequence() -> (input: [Int32], target: [Int32]) {
        let n = Self.copied
        let data = (0..<n).map { _ in Int32(1 + rng.int(below: 8)) }
        var input = [Int32](repeating: Self.blank, count: length), target = input
        input.replaceSubrange(0..<n, with: data)
        input[n + delay - 1] = Self.delimiter
        target.replaceSubrange((length - n)..<length, with: data)
        return (input, target)
    }

    /// A batch into x: [T+20, B, 10] time-major one-hot; returns the targets [(T+20)*B], row t*B + b.
    public mutating func batch(_ size: Int, into x: Tensor) -> [Int32] {
        precondition(x.shape == [length, size, Self.inputSize], "copy batch: tensor \(x.shape) must be [\(length), \(size), \(Self.inputSize)]")
        let p = x.pointer
        p.update(repeating: 0, count: x.count)
        var targets = [Int32](repeating: 0, count: length * size)
        for b in 0..<size {
            let (input, target) = sequence()
            for t in 0..<length {
                p[(t * size + b) * Self.inputSize + Int(input[t])] = 1
                targets[t * size + b] = target[t]
            }
        }
        return targets
    }

    /// The memoryless strategy's cross-entropy on `targets` (rows t*B + b, `length` steps):
    /// certain of the blank for the first T+10 steps, uniform over the 8 data symbols for the
    /// last 10. Computed from the targets, so a wrong generator shows.
    public func memorylessLoss(_ targets: [Int32]) -> Double {
        let batch = targets.count / length, firstOutput = length - Self.copied
        var total = 0.0
        for (row, y) in targets.enumerated() {
            let q: Double = row / batch < firstOutput ? (y == Self.blank ? 1 : 0) : (y == Self.blank ? 0 : 1.0 / 8)
            total -= log(q)
        }
        return total / Double(targets.count)
    }
}

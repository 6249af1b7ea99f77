import Recur
/// Random palindromes of `length + 1` digits (seed 001's generator): the first `length`
/// digits are the input, the last digit (equal to the first) is the class to predict.
public struct PalindromeDataset: Sendable {
    public enum Encoding: String, Sendable, CaseIterable, Codable {
        /// One input feature: the digit's value 0...9 (the seed's input_dim 1).
        case scalar
        /// Ten features, one-hot.
        case onehot
    }

    public let length: Int
    public let encoding: Encoding
    public var rng: RandomGenerator

    public init(length: Int, encoding: Encoding = .scalar, seed: UInt64) {
        precondition(length >= 1, "palindrome length must be at least 1, got \(length)")
        self.length = length
        self.encoding = encoding
        rng = RandomGenerator(seed: seed)
    }

    public var inputSize: Int { encoding == .scalar ? 1 : 10 }

    /// One palindrome of n digits: ceil(n/2) random digits, then their mirror.
    public mutating func palindrome(digits n: Int) -> [Int] {
        let left = (0..<((n + 1) / 2)).map { _ in rng.int(below: 10) }
        let right = n % 2 == 0 ? Array(left.reversed()) : Array(left.dropLast().reversed())
        return left + right
    }

    /// A batch: inputs [T = length, B, inputSize] time-major and B target digits.
    public mutating func batch(_ size: Int, into x: Tensor) -> [Int32] {
        precondition(x.shape == [length, size, inputSize], "palindrome batch: tensor \(x.shape) must be [\(length), \(size), \(inputSize)]")
        x.zero()
        var targets = [Int32](repeating: 0, count: size)
        let p = x.pointer
        for b in 0..<size {
            let digits = palindrome(digits: length + 1)
            for t in 0..<length {
                let row = p + (t * size + b) * inputSize
                if encoding == .scalar { row[0] = Float(digits[t]) } else { row[digits[t]] = 1 }
            }
            targets[b] = Int32(digits[length])
        }
        return targets
    }
}

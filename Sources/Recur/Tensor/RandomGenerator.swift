/// A seedable random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same numbers on every run and platform. `state` can be saved and
/// restored to resume a stream exactly.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    public var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var s = seed
        func splitMix() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    @inlinable
    func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), 24 random bits.
    @inlinable
    public mutating func uniform() -> Float { Float(next() >> 40) * 0x1p-24 }

    /// Uniform in [low, high).
    @inlinable
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal (Box–Muller, in Double for accuracy in the tails).
    public mutating func normal() -> Float {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53  // (0, 1]
        let u2 = Double(next() >> 11) * 0x1p-53
        return Float((-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2))
    }

    /// 1 with probability p, else 0.
    @inlinable
    public mutating func bernoulli(_ p: Float) -> Float { uniform() < p ? 1 : 0 }

    /// Integer in 0..<n.
    public mutating func int(below n: Int) -> Int {
        precondition(n > 0, "int(below:) needs n > 0, got \(n)")
        return Int(next(upperBound: UInt64(n)))
    }

    /// Fisher–Yates, from the last element down (as the experiments have always shuffled, so
    /// a seed keeps its order).
    public mutating func shuffle<T>(_ items: inout [T]) {
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, int(below: i + 1)) }
    }

    public mutating func fillUniform(_ t: Tensor, _ low: Float, _ high: Float) {
        let p = t.pointer
        for i in 0..<t.count { p[i] = uniform(low, high) }
    }

    public mutating func fillNormal(_ t: Tensor, mean: Float = 0, std: Float = 1) {
        let p = t.pointer
        for i in 0..<t.count { p[i] = mean + std * normal() }
    }
}

import Foundation
@usableFromInline func _log(_ x: Double) -> Double { Foundation.log(x) }
@usableFromInline func _cos(_ x: Double) -> Double { Foundation.cos(x) }

import Recur

/// The adding problem (Hochreiter & Schmidhuber 1997, as Le, Jaitly & Hinton 2015 set it):
/// each step has two inputs, a value uniform in [0, 1] and a marker; exactly two steps are
/// marked, the first uniformly in the first half of the sequence and the second in the second
/// half, and the target is the sum of the two marked values. Always predicting 1 (the mean
/// of the sum) gives MSE 1/6.
public struct AddingDataset: Sendable {
    public let length: Int
    public var rng: RandomGenerator

    public init(length: Int, seed: UInt64) {
        precondition(length >= 2, "the adding problem needs at least 2 steps, got \(length)")
        self.length = length
        rng = RandomGenerator(seed: seed)
    }

    public static let inputSize = 2

    /// A batch into x: [T, B, 2] time-major (channel 0 the value, channel 1 the marker); returns the B sums.
    public mutating func batch(_ size: Int, into x: Tensor) -> [Float] {
        precondition(x.shape == [length, size, 2], "adding batch: tensor \(x.shape) must be [\(length), \(size), 2]")
        let p = x.pointer, half = length / 2
        var sums: [Float] = []
        for b in 0..<size {
            for t in 0..<length {
                p[(t * size + b) * 2] = rng.uniform()
                p[(t * size + b) * 2 + 1] = 0
            }
            let first = rng.int(below: half), second = half + rng.int(below: length - half)
            p[(first * size + b) * 2 + 1] = 1
            p[(second * size + b) * 2 + 1] = 1
            sums.append(p[(first * size + b) * 2] + p[(second * size + b) * 2])
        }
        return sums
    }
}

/// Inverted dropout: in training, zeroes each element with probability p and scales the rest
/// by 1/(1-p); at evaluation, the identity.
public final class Dropout {
    public let probability: Float
    public var training = true
    public var rng: RandomGenerator
    private let workspace = Workspace()
    private var active = false
    private var mask = Tensor(zeros: [0])

    public init(probability: Float, seed: UInt64 = 0) {
        precondition(probability >= 0 && probability < 1, "Dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
        rng = RandomGenerator(seed: seed)
    }

    /// Returns x itself when inactive, else a layer-owned buffer.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        active = training && probability > 0
        guard active else { return x }
        mask = workspace.tensor("mask", x.shape)
        Self.fillMask(mask, probability: probability, rng: &rng)
        let y = workspace.tensor("y", x.shape)
        let m = mask.pointer, xp = x.pointer, yp = y.pointer
        for i in 0..<x.count { yp[i] = xp[i] * m[i] }
        return y
    }

    /// An inverted-dropout mask: 1/(1-p) with probability 1-p, else 0 (one draw per element).
    public static func fillMask(_ mask: Tensor, probability p: Float, rng: inout RandomGenerator) {
        let keep = 1 - p, scale = 1 / keep, m = mask.pointer
        for i in 0..<mask.count { m[i] = rng.uniform() < keep ? scale : 0 }
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard active else { return dy }
        precondition(dy.count == mask.count, "Dropout.backward: gradient shape \(dy.shape) does not match input \(mask.shape)")
        let dx = workspace.tensor("dx", dy.shape)
        let m = mask.pointer, d = dy.pointer, o = dx.pointer
        for i in 0..<dy.count { o[i] = d[i] * m[i] }
        return dx
    }
}

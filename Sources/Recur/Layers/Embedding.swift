/// Looks up rows of a [vocabulary, dimension] table (PyTorch `nn.Embedding`, init N(0, 1)).
///
/// forward ids: N token ids (any shape given separately) -> [shape..., dimension].
public final class Embedding: Layer {
    public let vocabularySize: Int
    public let dimension: Int
    public let weight: Parameter
    private let workspace = Workspace()
    private var ids: [Int32] = []

    public init(vocabularySize: Int, dimension: Int, rng: inout RandomGenerator) {
        precondition(vocabularySize > 0 && dimension > 0,
                     "Embedding sizes must be positive, got \(vocabularySize) x \(dimension)")
        self.vocabularySize = vocabularySize
        self.dimension = dimension
        weight = Parameter("weight", shape: [vocabularySize, dimension])
        rng.fillNormal(weight.value)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

    /// ids laid out as `shape` (e.g. [T, B]) -> [shape..., dimension].
    public func callAsFunction(_ ids: [Int32], shape: [Int]) -> Tensor {
        precondition(shape.reduce(1, *) == ids.count, "Embedding: \(ids.count) ids do not fill shape \(shape)")
        let y = workspace.tensor("y", shape + [dimension])
        let table = weight.value.pointer, out = y.pointer
        for (i, id) in ids.enumerated() {
            precondition(id >= 0 && Int(id) < vocabularySize,
                         "Embedding: id \(id) at position \(i) is outside the vocabulary 0..<\(vocabularySize)")
            (out + i * dimension).update(from: table + Int(id) * dimension, count: dimension)
        }
        self.ids = ids
        return y
    }

    /// Accumulates dy rows into the rows of the table they came from. dy: [N, dimension].
    public func backward(_ dy: Tensor) {
        precondition(dy.count == ids.count * dimension,
                     "Embedding.backward: gradient shape \(dy.shape) does not match \(ids.count) ids x \(dimension)")
        let g = weight.grad.pointer, d = dy.pointer
        for (i, id) in ids.enumerated() {
            VectorMath.axpy(1, d + i * dimension, g + Int(id) * dimension, count: dimension)
        }
    }
}

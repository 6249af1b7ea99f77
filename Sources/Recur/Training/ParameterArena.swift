/// A model's parameters and their gradients in two contiguous blocks, one parameter after the
/// other (llm.c's layout), so that an optimizer step and the gradient-norm clip are each one
/// pass over all of them. Each `Parameter` keeps its name and shape and becomes a view into
/// the blocks (its values and gradient are copied there); a parameter listed twice (tied
/// weights) has one place. Optimizers gather their parameters at construction.
public final class ParameterArena: @unchecked Sendable {
    /// The parameters, each once, in their first order.
    public let parameters: [Parameter]
    /// Floats in each block.
    public let count: Int
    let values: TensorStorage, gradients: TensorStorage

    public init(_ list: [Parameter]) {
        var seen = Set<ObjectIdentifier>(), unique: [Parameter] = []
        for p in list where seen.insert(ObjectIdentifier(p)).inserted { unique.append(p) }
        parameters = unique
        count = unique.reduce(0) { $0 + $1.count }
        values = TensorStorage(count: count)
        gradients = TensorStorage(count: count)
        var offset = 0
        for p in unique {
            let value = Tensor(storage: values, offset: offset, shape: p.shape)
            let grad = Tensor(storage: gradients, offset: offset, shape: p.shape)
            value.pointer.update(from: p.value.pointer, count: p.count)
            grad.pointer.update(from: p.grad.pointer, count: p.count)
            (p.value, p.grad) = (value, grad)
            offset += p.count
        }
    }

    /// The values, gradients and float count of `list` as one run each, when `list` is, in
    /// this order, an arena's whole blocks (and nothing has moved its parameters since); else nil.
    static func whole(_ list: [Parameter]) -> (values: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, count: Int)? {
        guard let first = list.first else { return nil }
        let (values, gradients) = (first.value.storage, first.grad.storage)
        var offset = 0
        for p in list {
            guard p.value.storage === values && p.grad.storage === gradients && p.value.offset == offset && p.grad.offset == offset
            else { return nil }
            offset += p.count
        }
        guard offset == values.count && offset == gradients.count else { return nil }
        return (values.base, gradients.base, offset)
    }
}

extension Tensor {
    /// `count` zeros per shape, in one storage, as views in order: optimizer state that lines up
    /// with a `ParameterArena`.
    static func contiguous(_ shapes: [[Int]]) -> [Tensor] {
        let storage = TensorStorage(count: shapes.reduce(0) { $0 + $1.reduce(1, *) })
        var offset = 0
        return shapes.map { shape in
            defer { offset += shape.reduce(1, *) }
            return Tensor(storage: storage, offset: offset, shape: shape)
        }
    }
}

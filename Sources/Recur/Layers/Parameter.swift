/// A trainable tensor and its gradient, under its PyTorch name (e.g. `weight_ih_l0`).
///
/// Backward passes accumulate into `grad` (`+=`); call `zeroGrad()` between steps.
public final class Parameter: @unchecked Sendable {
    public let name: String
    /// The values; a view into a `ParameterArena` once an optimizer has gathered the model's
    /// parameters into one.
    public internal(set) var value: Tensor
    public internal(set) var grad: Tensor

    public init(_ name: String, shape: [Int]) {
        self.name = name
        value = Tensor(zeros: shape)
        grad = Tensor(zeros: shape)
    }

    public var shape: [Int] { value.shape }
    public var count: Int { value.count }
    public func zeroGrad() { grad.zero() }
}

/// Anything with parameters: layers and models.
public protocol Layer: AnyObject {
    /// Parameters under their PyTorch `state_dict` names, relative to this layer.
    var namedParameters: [(name: String, parameter: Parameter)] { get }
}

extension Layer {
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }
    /// Number of trainable scalars.
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.parameter.count } }
    public func zeroGrad() { for (_, p) in namedParameters { p.zeroGrad() } }
}

/// `prefix.name` for every parameter of `layer`: how models compose state_dict names.
public func prefixed(_ prefix: String, _ layer: any Layer) -> [(name: String, parameter: Parameter)] {
    layer.namedParameters.map { (prefix + "." + $0.name, $0.parameter) }
}

/// Buffers reused between calls: grown when a larger shape is asked for, never shrunk.
/// Tensors it returns are views, valid until the same key is asked for again.
package final class Workspace: @unchecked Sendable {
    private var storages: [String: TensorStorage] = [:]

    package init() {}

    package func tensor(_ key: String, _ shape: [Int], zeroed: Bool = false) -> Tensor {
        let count = shape.reduce(1, *)
        let storage: TensorStorage
        if let s = storages[key], s.count >= count {
            storage = s
        } else {
            storage = TensorStorage(count: count)
            storages[key] = storage
        }
        let t = Tensor(storage: storage, offset: 0, shape: shape)
        if zeroed { t.zero() }
        return t
    }
}

/// A Float32 tensor: a shape and a contiguous, row-major view into shared storage.
///
/// `Tensor` has reference semantics for its elements, like a PyTorch tensor: copies of the
/// struct (and views made by `subscript(_:)` or `reshaped(_:)`) share the same floats. Call
/// `copy()` for an independent tensor. Hot loops work on `pointer` directly.
public struct Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    /// Offset of the first element in `storage`, in floats.
    public let offset: Int
    public let shape: [Int]

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative dimension")
        self.shape = shape
        self.offset = 0
        self.storage = TensorStorage(count: shape.reduce(1, *))
    }

    /// A tensor holding `values` with the given shape.
    public init(_ values: [Float], shape: [Int]) {
        let count = shape.reduce(1, *)
        precondition(values.count == count, "Tensor: \(values.count) values do not fill shape \(shape)")
        self.init(zeros: shape)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// A tensor filled with `value`.
    public init(repeating value: Float, shape: [Int]) {
        self.init(zeros: shape)
        pointer.update(repeating: value, count: count)
    }

    init(storage: TensorStorage, offset: Int, shape: [Int]) {
        self.storage = storage
        self.offset = offset
        self.shape = shape
    }

    public var count: Int { shape.reduce(1, *) }
    public var rank: Int { shape.count }

    /// The first element. Valid while the tensor (or any view of its storage) is alive.
    public var pointer: UnsafeMutablePointer<Float> { storage.base + offset }

    /// Elements as an array, in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// View of index `i` along the first dimension: shape `shape.dropFirst()`.
    public subscript(_ i: Int) -> Tensor {
        precondition(rank >= 1 && i >= 0 && i < shape[0], "Tensor index \(i) out of range for shape \(shape)")
        let inner = Array(shape.dropFirst())
        return Tensor(storage: storage, offset: offset + i * inner.reduce(1, *), shape: inner)
    }

    /// View of rows `range` along the first dimension.
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                     "Tensor rows \(range) out of range for shape \(shape)")
        let inner = shape.dropFirst().reduce(1, *)
        return Tensor(storage: storage, offset: offset + range.lowerBound * inner,
                      shape: [range.count] + shape.dropFirst())
    }

    /// The same elements with another shape of the same count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "Cannot reshape \(shape) to \(newShape)")
        return Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// An independent copy.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.pointer.update(from: pointer, count: count)
        return t
    }

    /// Element at a multi-index (slow path, for tests and tools).
    public subscript(index index: [Int]) -> Float {
        get { pointer[flatIndex(index)] }
        nonmutating set { pointer[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "Index \(index) does not match shape \(shape)")
        var flat = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "Index \(index) out of range for shape \(shape)")
            flat = flat * n + i
        }
        return flat
    }

    /// Index of the largest element of each row of a 2-D tensor (first on ties).
    public func rowArgmax() -> [Int] {
        precondition(rank == 2, "rowArgmax needs a 2-D tensor, got \(shape)")
        let c = shape[1], p = pointer
        return (0..<shape[0]).map { r in
            let row = p + r * c
            var best = 0
            for j in 1..<c where row[j] > row[best] { best = j }
            return best
        }
    }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }
    public func zero() { fill(0) }

    /// Copies `other`'s elements into this tensor; the counts must match.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: shape \(other.shape) into \(shape)")
        pointer.update(from: other.pointer, count: count)
    }
}

/// Owned, 64-byte-aligned float storage shared by tensors and their views.
public final class TensorStorage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        base = raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 1))
    }

    deinit { base.deallocate() }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", …" : "")])"
    }
}

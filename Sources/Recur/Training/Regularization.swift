/// Keras `regularizers.l2(c)` on these parameters: adds c * sum(w²) to the loss (returned)
/// and 2 c w to each gradient. Call after backward, before clipping and the step.
@discardableResult
public func addL2Penalty(_ parameters: [Parameter], coefficient c: Float) -> Double {
    guard c != 0 else { return 0 }
    var penalty = 0.0
    for p in parameters {
        penalty += VectorMath.sumOfSquares(p.value.pointer, count: p.count)
        VectorMath.axpy(2 * c, p.value.pointer, p.grad.pointer, count: p.count)
    }
    return Double(c) * penalty
}

extension RecurrentStack {
    /// The kernels that Keras' `kernel_regularizer` and `recurrent_regularizer` act on:
    /// every `weight_ih*` and `weight_hh*` (not the biases).
    public var weightMatrices: [Parameter] {
        namedParameters.filter { $0.name.hasPrefix("weight_") }.map(\.parameter)
    }
}

import Foundation

/// Seed 004's vanilla RNN cell, in its layout (columns are examples):
///
///     a⟨t⟩ = tanh(Wax x⟨t⟩ + Waa a⟨t-1⟩ + ba),   ŷ⟨t⟩ = softmax(Wya a⟨t⟩ + by)
///
/// Shapes: xt [n_x, m], a [n_a, m], Wax [n_a, n_x], Waa [n_a, n_a], ba [n_a, 1],
/// Wya [n_y, n_a], by [n_y, 1]. A sequence is an array of T matrices (the seed's x[:, :, t]).
/// Gradients are keyed by the seed's names ("dWax", "dWaa", "dba").
///
/// `init(layer:)` and `layer()` convert to and from Recur's `RNN` (PyTorch layout), which
/// computes the same a⟨t⟩ in Float32.
public struct TextbookRNN: Sendable {
    public var Wax: Matrix, Waa: Matrix, ba: Matrix, Wya: Matrix, by: Matrix

    public init(Wax: Matrix, Waa: Matrix, ba: Matrix, Wya: Matrix, by: Matrix) {
        precondition(Waa.shape == [Wax.rows, Wax.rows] && ba.shape == [Wax.rows, 1] && Wya.cols == Wax.rows && by.shape == [Wya.rows, 1],
                     "TextbookRNN: Wax \(Wax.shape), Waa \(Waa.shape), ba \(ba.shape), Wya \(Wya.shape), by \(by.shape) do not fit together")
        (self.Wax, self.Waa, self.ba, self.Wya, self.by) = (Wax, Waa, ba, Wya, by)
    }

    /// What backward needs from a forward step (the seed's `(a_next, a_prev, xt, parameters)`).
    public struct Cache: Sendable {
        public let aNext: Matrix, aPrev: Matrix, xt: Matrix
    }

    /// The parameters by their seed names, for generic code (gradient checks, optimisers).
    public static var parameterKeys: [(name: String, key: WritableKeyPath<TextbookRNN, Matrix>)] {
        [("Wax", \.Wax), ("Waa", \.Waa), ("ba", \.ba)]
    }

    /// One step (`rnn_cell_forward`). xt [n_x, m], aPrev [n_a, m] → aNext [n_a, m], yPred [n_y, m].
    public func forward(_ xt: Matrix, aPrev: Matrix) -> (aNext: Matrix, yPred: Matrix, cache: Cache) {
        let aNext = (Wax.dot(xt) + Waa.dot(aPrev) + ba).map(tanh)
        let yPred = (Wya.dot(aNext) + by).softmaxColumns
        return (aNext, yPred, Cache(aNext: aNext, aPrev: aPrev, xt: xt))
    }

    /// One step back (`rnn_cell_backward`): daNext [n_a, m] is dL/da⟨t⟩.
    /// Returns dxt [n_x, m], daPrev [n_a, m] and "dWax", "dWaa", "dba".
    public func backward(_ daNext: Matrix, cache: Cache) -> StepGradients {
        let dz = daNext * cache.aNext.map { 1 - $0 * $0 }
        return StepGradients(dxt: Wax.transposed.dot(dz), daPrev: Waa.transposed.dot(dz),
                             parameters: ["dWax": dz.dot(cache.xt.transposed),
                                          "dWaa": dz.dot(cache.aPrev.transposed),
                                          "dba": dz.rowSums])
    }

    /// All steps (`rnn_forward`): x is T matrices [n_x, m]; returns T states and predictions.
    public func forward(sequence x: [Matrix], a0: Matrix) -> (a: [Matrix], yPred: [Matrix], caches: [Cache]) {
        var a: [Matrix] = [], y: [Matrix] = [], caches: [Cache] = []
        var state = a0
        for xt in x {
            let step = forward(xt, aPrev: state)
            state = step.aNext
            a.append(step.aNext); y.append(step.yPred); caches.append(step.cache)
        }
        return (a, y, caches)
    }

    /// Back through time (`rnn_backward`). da: dL/da⟨t⟩ for the first da.count steps (at most
    /// caches.count; the seed passes fewer for the GRU). dx has caches.count entries, zero past
    /// da.count, as the seed's `np.zeros(x.shape)`.
    public func backward(sequence da: [Matrix], caches: [Cache]) -> SequenceGradients {
        SequenceGradients.backPropagate(da, caches: caches, xShape: caches.first?.xt.shape ?? [0, 0]) { d, _, cache in
            backward(d, cache: cache)
        }
    }
}

/// Gradients of one cell step: inputs, previous state(s), and parameters under seed names.
public struct StepGradients: Sendable {
    /// dL/dxt [n_x, m].
    public var dxt: Matrix
    /// dL/da⟨t-1⟩ [n_a, m] (the GRU's state is c, so this is also its `dc_prev`).
    public var daPrev: Matrix
    /// dL/dc⟨t-1⟩ [n_a, m], LSTM only.
    public var dcPrev: Matrix?
    /// "dWax", "dWf", "dbu", ...: same shapes as the parameters.
    public var parameters: [String: Matrix]

    public init(dxt: Matrix, daPrev: Matrix, dcPrev: Matrix? = nil, parameters: [String: Matrix]) {
        (self.dxt, self.daPrev, self.dcPrev, self.parameters) = (dxt, daPrev, dcPrev, parameters)
    }

    public subscript(name: String) -> Matrix? { parameters[name] }
}

/// Gradients of a whole sequence: dx per step, the initial state(s), parameter sums.
public struct SequenceGradients: Sendable {
    /// dL/dx⟨t⟩, T matrices [n_x, m].
    public var dx: [Matrix]
    /// dL/da⟨0⟩ [n_a, m] (the seed's `da0`; `dc0` for its GRU).
    public var da0: Matrix
    /// dL/dc⟨0⟩ [n_a, m], LSTM only.
    public var dc0: Matrix?
    public var parameters: [String: Matrix]

    public subscript(name: String) -> Matrix? { parameters[name] }

    /// The seed's loop: for t from da.count-1 down to 0, run the cell backward on da[t] plus
    /// the gradient flowing back from step t+1 (and, with `carriesCell`, the same for the
    /// LSTM's c), adding up the parameter gradients.
    static func backPropagate<Cache>(_ da: [Matrix], dc: [Matrix]? = nil, carriesCell: Bool = false,
                                     caches: [Cache], xShape: [Int],
                                     step: (_ da: Matrix, _ dc: Matrix?, Cache) -> StepGradients) -> SequenceGradients {
        precondition(!da.isEmpty && da.count <= caches.count && (dc == nil || dc!.count == da.count),
                     "backward(sequence:): \(da.count) upstream gradients (dc: \(dc?.count ?? 0)) for \(caches.count) steps")
        var dx = Array(repeating: Matrix(zeros: xShape[0], xShape[1]), count: caches.count)
        var carry = Matrix(zeros: da[0].rows, da[0].cols)
        var carryC: Matrix? = carriesCell ? carry : nil
        var sums: [String: Matrix] = [:]
        for t in (0..<da.count).reversed() {
            let dcIn = carryC.map { c in dc.map { c + $0[t] } ?? c }
            let g = step(da[t] + carry, dcIn, caches[t])
            dx[t] = g.dxt
            carry = g.daPrev
            if carriesCell { carryC = g.dcPrev }
            for (name, value) in g.parameters { sums[name] = sums[name].map { $0 + value } ?? value }
        }
        return SequenceGradients(dx: dx, da0: carry, dc0: carryC, parameters: sums)
    }
}

import Foundation

/// Seed 004's GRU cell (Cho et al., reset before the product), state c = a:
///
///     u = σ(Wu [c⟨t-1⟩; x⟨t⟩] + bu)   r = σ(Wr [c⟨t-1⟩; x⟨t⟩] + br)
///     c̃ = tanh(Wc [r c⟨t-1⟩; x⟨t⟩] + bc)   c⟨t⟩ = u c̃ + (1 - u) c⟨t-1⟩
///     ŷ⟨t⟩ = softmax(Wy c⟨t⟩ + by)
///
/// Shapes: xt [n_x, m], c [n_a, m], Wu/Wr/Wc [n_a, n_a + n_x], biases [n_a, 1].
///
/// Against PyTorch's `nn.GRU` (gates r, z, n; h = (1 - z) n + z h⟨t-1⟩): z = 1 - u, which is
/// σ of the negated pre-activation, so W_z = -Wu and b_z = -bu exactly; and the reset goes
/// before the product, Recur's `GRU(resetAfter: false)`. `init(layer:)` and `layer()` convert.
///
/// `backward` returns the true gradients. Seed 004's own `gru_cell_backward` misses terms
/// in dr (it multiplies by Wc·c⟨t-1⟩ elementwise instead of back-propagating through Wc),
/// so its printed dxt, da_prev, dbr and the whole-sequence values that depend on them
/// differ from these; see docs/seed-004.md.
public struct TextbookGRU: Sendable {
    public var Wu: Matrix, bu: Matrix, Wr: Matrix, br: Matrix, Wc: Matrix, bc: Matrix
    public var Wy: Matrix, by: Matrix

    public init(Wu: Matrix, bu: Matrix, Wr: Matrix, br: Matrix, Wc: Matrix, bc: Matrix, Wy: Matrix, by: Matrix) {
        for (w, b) in [(Wr, br), (Wc, bc)] {
            precondition(w.shape == Wu.shape && b.shape == bu.shape && bu.shape == [Wu.rows, 1] && Wu.cols > Wu.rows,
                         "TextbookGRU: gate weights \(w.shape) vs \(Wu.shape) and biases \(b.shape) vs \(bu.shape) must match, [n_a, n_a + n_x] and [n_a, 1]")
        }
        precondition(Wy.cols == Wu.rows && by.shape == [Wy.rows, 1], "TextbookGRU: Wy \(Wy.shape) and by \(by.shape) must be [n_y, \(Wu.rows)] and [n_y, 1]")
        (self.Wu, self.bu, self.Wr, self.br, self.Wc, self.bc, self.Wy, self.by) = (Wu, bu, Wr, br, Wc, bc, Wy, by)
    }

    public var hiddenSize: Int { Wu.rows }
    public var inputSize: Int { Wu.cols - Wu.rows }

    public static var parameterKeys: [(name: String, key: WritableKeyPath<TextbookGRU, Matrix>)] {
        [("Wu", \.Wu), ("bu", \.bu), ("Wr", \.Wr), ("br", \.br), ("Wc", \.Wc), ("bc", \.bc)]
    }

    /// The seed's `(a_next, c_next, c_prev, ut, rt, cct, xt, parameters)`.
    public struct Cache: Sendable {
        public let cNext: Matrix, cPrev: Matrix, ut: Matrix, rt: Matrix, cct: Matrix, xt: Matrix
    }

    /// One step (`gru_cell_forward`): xt [n_x, m], cPrev [n_a, m].
    public func forward(_ xt: Matrix, cPrev: Matrix) -> (cNext: Matrix, yPred: Matrix, cache: Cache) {
        let concat = Matrix.stacked(cPrev, xt)
        let ut = (Wu.dot(concat) + bu).map(logistic)
        let rt = (Wr.dot(concat) + br).map(logistic)
        let cct = (Wc.dot(Matrix.stacked(rt * cPrev, xt)) + bc).map(tanh)
        let cNext = ut * cct + ut.map { 1 - $0 } * cPrev
        let yPred = (Wy.dot(cNext) + by).softmaxColumns
        return (cNext, yPred, Cache(cNext: cNext, cPrev: cPrev, ut: ut, rt: rt, cct: cct, xt: xt))
    }

    /// One step back (`gru_cell_backward`, corrected): daNext [n_a, m] is dL/dc⟨t⟩.
    /// Returns dxt, daPrev (= dc_prev) and "dWu", "dbu", "dWr", "dbr", "dWc", "dbc".
    public func backward(_ daNext: Matrix, cache k: Cache) -> StepGradients {
        let n = hiddenSize
        let dPreC = daNext * k.ut * k.cct.map { 1 - $0 * $0 }
        let dPreU = daNext * (k.cct - k.cPrev) * k.ut.map { $0 * (1 - $0) }
        let dResetConcat = Wc.transposed.dot(dPreC)        // d[r c⟨t-1⟩; x]
        let dResetC = dResetConcat.rows(0..<n)
        let dPreR = dResetC * k.cPrev * k.rt.map { $0 * (1 - $0) }
        let concatT = Matrix.stacked(k.cPrev, k.xt).transposed
        let dConcat = Wu.transposed.dot(dPreU) + Wr.transposed.dot(dPreR)
        let dcPrev = daNext * k.ut.map { 1 - $0 } + dResetC * k.rt + dConcat.rows(0..<n)
        let dxt = dResetConcat.rows(n..<dResetConcat.rows) + dConcat.rows(n..<dConcat.rows)
        return StepGradients(
            dxt: dxt, daPrev: dcPrev,
            parameters: ["dWu": dPreU.dot(concatT), "dbu": dPreU.rowSums, "dWr": dPreR.dot(concatT), "dbr": dPreR.rowSums,
                         "dWc": dPreC.dot(Matrix.stacked(k.rt * k.cPrev, k.xt).transposed), "dbc": dPreC.rowSums])
    }

    /// All steps (`gru_forward`): x is T matrices [n_x, m]; returns predictions and states.
    public func forward(sequence x: [Matrix], c0: Matrix) -> (yPred: [Matrix], c: [Matrix], caches: [Cache]) {
        var y: [Matrix] = [], c: [Matrix] = [], caches: [Cache] = []
        var state = c0
        for xt in x {
            let step = forward(xt, cPrev: state)
            state = step.cNext
            y.append(step.yPred); c.append(state); caches.append(step.cache)
        }
        return (y, c, caches)
    }

    /// Back through time (`gru_backward`): da are dL/dc⟨t⟩ for the first da.count steps; the
    /// result's da0 is the seed's dc0.
    public func backward(sequence da: [Matrix], caches: [Cache]) -> SequenceGradients {
        SequenceGradients.backPropagate(da, caches: caches, xShape: caches.first?.xt.shape ?? [0, 0]) { d, _, cache in
            backward(d, cache: cache)
        }
    }
}

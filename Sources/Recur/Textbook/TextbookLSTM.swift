import Foundation

/// Seed 004's LSTM cell, in its layout: every gate weight acts on concat = [a⟨t-1⟩; x⟨t⟩].
///
///     f = σ(Wf concat + bf)   i = σ(Wi concat + bi)   c̃ = tanh(Wc concat + bc)
///     c⟨t⟩ = f c⟨t-1⟩ + i c̃   o = σ(Wo concat + bo)   a⟨t⟩ = o tanh(c⟨t⟩)
///     ŷ⟨t⟩ = softmax(Wy a⟨t⟩ + by)
///
/// Shapes: xt [n_x, m], a and c [n_a, m], Wf/Wi/Wc/Wo [n_a, n_a + n_x], biases [n_a, 1],
/// Wy [n_y, n_a], by [n_y, 1]. PyTorch's `nn.LSTM` is the same cell with the gates in the
/// order i, f, g (= c̃), o and separate input and recurrent weights; `init(layer:)` and
/// `layer()` convert.
public struct TextbookLSTM: Sendable {
    public var Wf: Matrix, bf: Matrix, Wi: Matrix, bi: Matrix, Wc: Matrix, bc: Matrix
    public var Wo: Matrix, bo: Matrix, Wy: Matrix, by: Matrix

    public init(Wf: Matrix, bf: Matrix, Wi: Matrix, bi: Matrix, Wc: Matrix, bc: Matrix,
                Wo: Matrix, bo: Matrix, Wy: Matrix, by: Matrix) {
        for (w, b) in [(Wi, bi), (Wc, bc), (Wo, bo)] {
            precondition(w.shape == Wf.shape && b.shape == bf.shape && bf.shape == [Wf.rows, 1] && Wf.cols > Wf.rows,
                         "TextbookLSTM: gate weights \(w.shape) vs \(Wf.shape) and biases \(b.shape) vs \(bf.shape) must match, [n_a, n_a + n_x] and [n_a, 1]")
        }
        precondition(Wy.cols == Wf.rows && by.shape == [Wy.rows, 1], "TextbookLSTM: Wy \(Wy.shape) and by \(by.shape) must be [n_y, \(Wf.rows)] and [n_y, 1]")
        (self.Wf, self.bf, self.Wi, self.bi, self.Wc, self.bc) = (Wf, bf, Wi, bi, Wc, bc)
        (self.Wo, self.bo, self.Wy, self.by) = (Wo, bo, Wy, by)
    }

    public var hiddenSize: Int { Wf.rows }
    public var inputSize: Int { Wf.cols - Wf.rows }

    public static var parameterKeys: [(name: String, key: WritableKeyPath<TextbookLSTM, Matrix>)] {
        [("Wf", \.Wf), ("bf", \.bf), ("Wi", \.Wi), ("bi", \.bi), ("Wc", \.Wc), ("bc", \.bc), ("Wo", \.Wo), ("bo", \.bo)]
    }

    /// The seed's `(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)`.
    public struct Cache: Sendable {
        public let aNext: Matrix, cNext: Matrix, aPrev: Matrix, cPrev: Matrix
        public let ft: Matrix, it: Matrix, cct: Matrix, ot: Matrix, xt: Matrix
    }

    /// One step (`lstm_cell_forward`): xt [n_x, m], aPrev and cPrev [n_a, m].
    public func forward(_ xt: Matrix, aPrev: Matrix, cPrev: Matrix) -> (aNext: Matrix, cNext: Matrix, yPred: Matrix, cache: Cache) {
        let concat = Matrix.stacked(aPrev, xt)
        let ft = (Wf.dot(concat) + bf).map(logistic)
        let it = (Wi.dot(concat) + bi).map(logistic)
        let cct = (Wc.dot(concat) + bc).map(tanh)
        let cNext = ft * cPrev + it * cct
        let ot = (Wo.dot(concat) + bo).map(logistic)
        let aNext = ot * cNext.map(tanh)
        let yPred = (Wy.dot(aNext) + by).softmaxColumns
        return (aNext, cNext, yPred, Cache(aNext: aNext, cNext: cNext, aPrev: aPrev, cPrev: cPrev,
                                            ft: ft, it: it, cct: cct, ot: ot, xt: xt))
    }

    /// One step back: daNext and dcNext [n_a, m] are dL/da⟨t⟩ and dL/dc⟨t⟩ from above.
    /// Returns dxt, daPrev, dcPrev and "dWf", "dbf", "dWi", "dbi", "dWc", "dbc", "dWo", "dbo".
    public func backward(_ daNext: Matrix, dcNext: Matrix, cache k: Cache) -> StepGradients {
        let tanhC = k.cNext.map(tanh)
        let dc = dcNext + daNext * k.ot * tanhC.map { 1 - $0 * $0 }
        let dot = daNext * tanhC * k.ot.map { $0 * (1 - $0) }
        let dcct = dc * k.it * k.cct.map { 1 - $0 * $0 }
        let dit = dc * k.cct * k.it.map { $0 * (1 - $0) }
        let dft = dc * k.cPrev * k.ft.map { $0 * (1 - $0) }
        let concatT = Matrix.stacked(k.aPrev, k.xt).transposed
        let dConcat = Wf.transposed.dot(dft) + Wi.transposed.dot(dit) + Wc.transposed.dot(dcct) + Wo.transposed.dot(dot)
        let n = hiddenSize
        return StepGradients(
            dxt: dConcat.rows(n..<dConcat.rows), daPrev: dConcat.rows(0..<n), dcPrev: dc * k.ft,
            parameters: ["dWf": dft.dot(concatT), "dbf": dft.rowSums, "dWi": dit.dot(concatT), "dbi": dit.rowSums,
                         "dWc": dcct.dot(concatT), "dbc": dcct.rowSums, "dWo": dot.dot(concatT), "dbo": dot.rowSums])
    }

    /// All steps (`lstm_forward`): x is T matrices [n_x, m]; c⟨0⟩ is zero, as in the seed.
    public func forward(sequence x: [Matrix], a0: Matrix) -> (a: [Matrix], yPred: [Matrix], c: [Matrix], caches: [Cache]) {
        var a: [Matrix] = [], y: [Matrix] = [], c: [Matrix] = [], caches: [Cache] = []
        var (h, cell) = (a0, Matrix(zeros: a0.rows, a0.cols))
        for xt in x {
            let step = forward(xt, aPrev: h, cPrev: cell)
            (h, cell) = (step.aNext, step.cNext)
            a.append(h); y.append(step.yPred); c.append(cell); caches.append(step.cache)
        }
        return (a, y, c, caches)
    }

    /// Back through time: da (and optionally dc) are dL/da⟨t⟩, dL/dc⟨t⟩ for the first steps.
    public func backward(sequence da: [Matrix], dc: [Matrix]? = nil, caches: [Cache]) -> SequenceGradients {
        SequenceGradients.backPropagate(da, dc: dc, carriesCell: true, caches: caches,
                                        xShape: caches.first?.xt.shape ?? [0, 0]) { d, dcNext, cache in
            backward(d, dcNext: dcNext!, cache: cache)
        }
    }
}

/// Conversions between seed 004's cells (Double, W on [a⟨t-1⟩; x⟨t⟩], one bias per gate) and
/// Recur's layers (Float32, PyTorch layout: weight_ih [G*H, I], weight_hh [G*H, H], bias_ih
/// and bias_hh [G*H], gates stacked in PyTorch's order).
///
/// | seed 004 | Recur / PyTorch |
/// |---|---|
/// | RNN Wax, Waa, ba | weight_ih_l0, weight_hh_l0, bias_ih_l0 (bias_hh_l0 = 0) |
/// | LSTM Wi, Wf, Wc, Wo: [h \| x] columns | rows i, f, g, o of weight_hh \| weight_ih |
/// | GRU Wr, Wu, Wc | rows r, z = -u, n of `GRU(resetAfter: false)` |
///
/// Going to a layer puts each bias in bias_ih and zeros in bias_hh; coming back adds the two.
/// Only one-layer, one-direction layers convert (the seed's cells); the output weights Wy, by
/// are not part of a recurrent layer and are kept as they are (pass them in).
extension RecurrentStack {
    fileprivate func tensor(_ name: String) -> Tensor? {
        namedParameters.first { $0.name == name }?.parameter.value
    }

    fileprivate func checkSeedShape(_ kind: String) {
        precondition(layers == 1 && !bidirectional,
                     "\(kind): only a 1-layer, 1-direction layer converts to a seed-004 cell (got \(layers) layers, \(directions) directions)")
    }

    /// Gate g's rows of bias_ih + bias_hh, as a column [H, 1].
    fileprivate func seedBias(gate g: Int) -> Matrix {
        let H = hiddenSize
        var b = Matrix(zeros: H, 1)
        for name in ["bias_ih_l0", "bias_hh_l0"] {
            if let t = tensor(name) { b += Matrix(t.rows(g * H..<(g + 1) * H).reshaped([H, 1])) }
        }
        return b
    }

    /// Gate g's seed weight [H, H + I]: recurrent columns first, then input columns.
    fileprivate func seedWeight(gate g: Int) -> Matrix {
        let H = hiddenSize, rows = g * H..<(g + 1) * H
        return Matrix.sideBySide(Matrix(tensor("weight_hh_l0")!.rows(rows)), Matrix(tensor("weight_ih_l0")!.rows(rows)))
    }

    /// Writes seed gate weights [H, H + I] and biases [H, 1], in PyTorch gate order.
    fileprivate func setSeedGates(_ gates: [(weight: Matrix, bias: Matrix)]) {
        let H = hiddenSize
        for (g, gate) in gates.enumerated() {
            let rows = g * H..<(g + 1) * H
            tensor("weight_hh_l0")!.rows(rows).assign(Tensor(gate.weight.columns(0..<H)))
            tensor("weight_ih_l0")!.rows(rows).assign(Tensor(gate.weight.columns(H..<gate.weight.cols)))
            tensor("bias_ih_l0")?.rows(rows).assign(Tensor(gate.bias).reshaped([H]))
            tensor("bias_hh_l0")?.rows(rows).zero()
        }
    }
}

extension Matrix {
    /// From a rank-2 Float tensor (or [H] as [H, 1] after reshaping).
    public init(_ t: Tensor) {
        precondition(t.rank == 2, "Matrix(Tensor): needs a rank-2 tensor, got shape \(t.shape)")
        self.init(rows: t.shape[0], cols: t.shape[1], values: t.scalars.map(Double.init))
    }
}

extension Tensor {
    /// A Float32 copy of a matrix, shape [rows, cols].
    public init(_ m: Matrix) {
        self.init(m.values.map(Float.init), shape: [m.rows, m.cols])
    }
}

extension TextbookRNN {
    /// The seed cell of a 1-layer tanh `RNN`; Wya and by are the output layer's.
    public init(layer: RNN, Wya: Matrix, by: Matrix) {
        layer.checkSeedShape("TextbookRNN(layer:)")
        precondition(layer.activation == .tanh, "TextbookRNN(layer:): the seed's cell is tanh, the layer uses \(layer.activation)")
        self.init(Wax: Matrix(layer.tensor("weight_ih_l0")!), Waa: Matrix(layer.tensor("weight_hh_l0")!),
                  ba: layer.seedBias(gate: 0), Wya: Wya, by: by)
    }

    /// A Float32 `RNN` (PyTorch layout, separate biases) computing the same states.
    public func layer() -> RNN {
        let rnn = RNN(inputSize: Wax.cols, hiddenSize: Wax.rows)
        rnn.setSeedGates([(Matrix.sideBySide(Waa, Wax), ba)])
        return rnn
    }
}

extension TextbookLSTM {
    public init(layer: LSTM, Wy: Matrix, by: Matrix) {
        layer.checkSeedShape("TextbookLSTM(layer:)")
        precondition(layer.activation == .tanh && layer.recurrentActivation == .sigmoid,
                     "TextbookLSTM(layer:): the seed's cell uses sigmoid gates and tanh")
        // PyTorch gate order: i, f, g, o.
        self.init(Wf: layer.seedWeight(gate: 1), bf: layer.seedBias(gate: 1), Wi: layer.seedWeight(gate: 0), bi: layer.seedBias(gate: 0),
                  Wc: layer.seedWeight(gate: 2), bc: layer.seedBias(gate: 2), Wo: layer.seedWeight(gate: 3), bo: layer.seedBias(gate: 3),
                  Wy: Wy, by: by)
    }

    public func layer() -> LSTM {
        let lstm = LSTM(inputSize: inputSize, hiddenSize: hiddenSize)
        lstm.setSeedGates([(Wi, bi), (Wf, bf), (Wc, bc), (Wo, bo)])
        return lstm
    }
}

extension TextbookGRU {
    /// Needs `GRU(resetAfter: false)`: the seed applies the reset before the product.
    public init(layer: GRU, Wy: Matrix, by: Matrix) {
        layer.checkSeedShape("TextbookGRU(layer:)")
        precondition(!layer.resetAfter, "TextbookGRU(layer:): the seed's GRU resets before the product; use GRU(resetAfter: false)")
        precondition(layer.activation == .tanh && layer.recurrentActivation == .sigmoid,
                     "TextbookGRU(layer:): the seed's cell uses sigmoid gates and tanh")
        // PyTorch gate order: r, z, n; u = 1 - z.
        self.init(Wu: -1 * layer.seedWeight(gate: 1), bu: -1 * layer.seedBias(gate: 1),
                  Wr: layer.seedWeight(gate: 0), br: layer.seedBias(gate: 0),
                  Wc: layer.seedWeight(gate: 2), bc: layer.seedBias(gate: 2), Wy: Wy, by: by)
    }

    public func layer() -> GRU {
        let gru = GRU(inputSize: inputSize, hiddenSize: hiddenSize, resetAfter: false)
        gru.setSeedGates([(Wr, br), (-1 * Wu, -1 * bu), (Wc, bc)])
        return gru
    }
}

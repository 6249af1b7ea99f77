/// Gated recurrent unit (PyTorch `nn.GRU`; gates r, z, n), h_t = (1 - z) n + z h_{t-1}:
/// `GRUCell` in a `RecurrentLayer`.
///
/// `resetAfter: true` (default, PyTorch and Keras `reset_after=True`):
/// n = act(x_n + r (W_hn h + b_hn)). `resetAfter: false` (Cho et al., seed 004, Keras
/// `reset_after=False`, usually with `bias: .single`): n = act(x_n + W_hn (r h) + b_hn).
public typealias GRU = RecurrentLayer<GRUCell>

extension RecurrentLayer where Cell == GRUCell {
    public convenience init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
                            dropout: Float = 0, bias: RecurrentBias = .separate, batchFirst: Bool = false,
                            resetAfter: Bool = true, activation: Activation = .tanh,
                            recurrentActivation: Activation = .sigmoid,
                            initialization: RecurrentInitialization = .pytorch, seed: UInt64 = 0) {
        self.init(cell: GRUCell(hiddenSize: hiddenSize, activation: activation, recurrentActivation: recurrentActivation,
                                resetAfter: resetAfter),
                  inputSize: inputSize, layers: layers, bidirectional: bidirectional, dropout: dropout, bias: bias,
                  batchFirst: batchFirst, initialization: initialization, seed: seed)
    }

    public var resetAfter: Bool { cell.resetAfter }
    public var activation: Activation { cell.activation }
    public var recurrentActivation: Activation { cell.recurrentActivation }
}

/// Long short-term memory (PyTorch `nn.LSTM`; gates i, f, g, o): `LSTMCell` in a
/// `RecurrentLayer`.
///
/// i, f, o = recurrentActivation(·), g = activation(·), c_t = f c_{t-1} + i g,
/// h_t = o activation(c_t), or W_hr (o activation(c_t)) with `projectionSize` P > 0 (PyTorch's
/// `proj_size`). Defaults are PyTorch's (sigmoid, tanh, two biases, U(±1/sqrt(H)));
/// Keras' are `bias: .single, initialization: .keras`.
public typealias LSTM = RecurrentLayer<LSTMCell>

extension RecurrentLayer where Cell == LSTMCell {
    public convenience init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
                            dropout: Float = 0, bias: RecurrentBias = .separate, batchFirst: Bool = false,
                            activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                            projectionSize: Int = 0, initialization: RecurrentInitialization = .pytorch, seed: UInt64 = 0) {
        self.init(cell: LSTMCell(hiddenSize: hiddenSize, activation: activation, recurrentActivation: recurrentActivation,
                                 projectionSize: projectionSize),
                  inputSize: inputSize, layers: layers, bidirectional: bidirectional, dropout: dropout, bias: bias,
                  batchFirst: batchFirst, initialization: initialization, seed: seed)
    }

    public var activation: Activation { cell.activation }
    public var recurrentActivation: Activation { cell.recurrentActivation }
    public var projectionSize: Int { cell.projectionSize }
}

/// Long short-term memory (PyTorch `nn.LSTM`; gates i, f, g, o).
///
/// i, f, o = recurrentActivation(·), g = activation(·), c_t = f c_{t-1} + i g,
/// h_t = o activation(c_t). Defaults are PyTorch's (sigmoid, tanh, two biases, U(±1/sqrt(H)));
/// Keras' are `bias: .single, initialization: .keras`.
public final class LSTM: RecurrentLayer {
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
                dropout: Float = 0, bias: RecurrentBias = .separate, batchFirst: Bool = false,
                activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                initialization: RecurrentInitialization = .pytorch, seed: UInt64 = 0) {
        super.init(cell: LSTMKernel(activation: activation, gateActivation: recurrentActivation),
                   inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bidirectional: bidirectional,
                   dropout: dropout, bias: bias, batchFirst: batchFirst, activation: activation,
                   recurrentActivation: recurrentActivation, initialization: initialization, seed: seed)
    }
}

/// Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh (default) or relu
/// (PyTorch `nn.RNN(nonlinearity:)`; Keras `SimpleRNN(activation:)`).
public final class RNN: RecurrentLayer {
    /// - Parameters:
    ///   - activation: `.tanh` (PyTorch default) or `.relu`; Keras also allows others.
    ///   - seed: seeds the initial weights and the between-layer dropout masks.
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
                activation: Activation = .tanh, dropout: Float = 0, bias: RecurrentBias = .separate,
                batchFirst: Bool = false, initialization: RecurrentInitialization = .pytorch, seed: UInt64 = 0) {
        super.init(cell: RNNKernel(activation: activation), inputSize: inputSize, hiddenSize: hiddenSize,
                   layers: layers, bidirectional: bidirectional, dropout: dropout, bias: bias,
                   batchFirst: batchFirst, activation: activation, recurrentActivation: activation,
                   initialization: initialization, seed: seed)
    }
}

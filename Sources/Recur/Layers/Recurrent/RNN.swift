/// Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh (default) or relu
/// (PyTorch `nn.RNN(nonlinearity:)`; Keras `SimpleRNN(activation:)`): `RNNCell` in a
/// `RecurrentLayer`.
public typealias RNN = RecurrentLayer<RNNCell>

extension RecurrentLayer where Cell == RNNCell {
    /// - Parameters:
    ///   - activation: `.tanh` (PyTorch default) or `.relu`; Keras also allows others.
    ///   - initialization: `.identity` with a relu activation is IRNN (Le et al. 2015).
    ///   - seed: seeds the initial weights and the between-layer dropout masks.
    public convenience init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
                            activation: Activation = .tanh, dropout: Float = 0, bias: RecurrentBias = .separate,
                            batchFirst: Bool = false, initialization: RecurrentInitialization = .pytorch,
                            identityScale: Float = 1, seed: UInt64 = 0) {
        self.init(cell: RNNCell(hiddenSize: hiddenSize, activation: activation), inputSize: inputSize, layers: layers,
                  bidirectional: bidirectional, dropout: dropout, bias: bias, batchFirst: batchFirst,
                  initialization: initialization, identityScale: identityScale, seed: seed)
    }

    public var activation: Activation { cell.activation }
}

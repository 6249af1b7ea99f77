/// The recurrent cells a command line or config can name.
public enum CellType: String, Sendable, CaseIterable, Codable {
    case rnn, rnnRelu = "rnn-relu", lstm, gru

    /// Builds a stack of this cell. Keras-style options stay at PyTorch's defaults here.
    public func makeLayer(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
                          dropout: Float = 0, bias: RecurrentBias = .separate, batchFirst: Bool = false,
                          initialization: RecurrentInitialization = .pytorch, seed: UInt64 = 0) -> any RecurrentStack {
        switch self {
        case .rnn, .rnnRelu:
            return RNN(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bidirectional: bidirectional,
                       activation: self == .rnn ? .tanh : .relu, dropout: dropout, bias: bias, batchFirst: batchFirst,
                       initialization: initialization, seed: seed)
        case .lstm:
            return LSTM(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bidirectional: bidirectional,
                        dropout: dropout, bias: bias, batchFirst: batchFirst, initialization: initialization, seed: seed)
        case .gru:
            return GRU(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bidirectional: bidirectional,
                       dropout: dropout, bias: bias, batchFirst: batchFirst, initialization: initialization, seed: seed)
        }
    }

    /// Display name for tables and legends.
    public var displayName: String {
        switch self {
        case .rnn: return "RNN"
        case .rnnRelu: return "RNN-ReLU"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }
}

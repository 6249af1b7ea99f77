/// The recurrent cells a command line or model configuration can name.
public enum CellType: String, Sendable, CaseIterable, Codable {
    case rnn, rnnRelu = "rnn-relu", lstm, gru
    case lstmPeephole = "lstm-peephole", lstmLayerNorm = "lstm-layernorm"

    /// Builds a stack of this cell. Keras-style options stay at PyTorch's defaults here.
    /// - projectionSize: an LSTM's `proj_size` (0: none; only `.lstm` takes one).
    /// - activation: the candidate and output activation of `.rnn`, `.lstm` and `.gru` (nil:
    ///   tanh; Keras' `activation=`); `.rnnRelu` is relu and the other cells tanh.
    /// - resetAfter: where a `.gru` applies its reset gate (`GRU(resetAfter:)`).
    public func makeLayer(inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
                          dropout: Float = 0, bias: RecurrentBias = .separate, batchFirst: Bool = false,
                          projectionSize: Int = 0, activation: Activation? = nil, resetAfter: Bool = true,
                          initialization: RecurrentInitialization = .pytorch,
                          merge: BidirectionalMerge = .concat, seed: UInt64 = 0) -> any RecurrentStack {
        precondition(projectionSize == 0 || self == .lstm, "\(rawValue): only lstm takes a projection size, got \(projectionSize)")
        precondition(activation == nil || takesActivation, "\(rawValue): the activation is fixed, got \(activation!.rawValue)")
        precondition(resetAfter || self == .gru, "\(rawValue): only gru takes resetAfter: false")
        func stack<C: RecurrentCell>(_ cell: C) -> any RecurrentStack {
            RecurrentLayer(cell: cell, inputSize: inputSize, layers: layers, bidirectional: bidirectional, dropout: dropout,
                           bias: bias, batchFirst: batchFirst, initialization: initialization, merge: merge, seed: seed)
        }
        return stack(cell(hiddenSize: hiddenSize, projectionSize: projectionSize, activation: activation, resetAfter: resetAfter))
    }

    /// The cell `makeLayer` stacks: a value that describes the step and its tensors (nothing
    /// is allocated).
    public func cell(hiddenSize: Int, projectionSize: Int = 0, activation: Activation? = nil, resetAfter: Bool = true) -> any RecurrentCell {
        switch self {
        case .rnn: return RNNCell(hiddenSize: hiddenSize, activation: activation ?? .tanh)
        case .rnnRelu: return RNNCell(hiddenSize: hiddenSize, activation: .relu)
        case .lstm: return LSTMCell(hiddenSize: hiddenSize, activation: activation ?? .tanh, projectionSize: projectionSize)
        case .gru: return GRUCell(hiddenSize: hiddenSize, activation: activation ?? .tanh, resetAfter: resetAfter)
        case .lstmPeephole: return PeepholeLSTMCell(hiddenSize: hiddenSize)
        case .lstmLayerNorm: return LayerNormLSTMCell(hiddenSize: hiddenSize)
        }
    }

    /// Whether `makeLayer(activation:)` applies: Keras' `activation=` of SimpleRNN, LSTM, GRU.
    public var takesActivation: Bool { self == .rnn || self == .lstm || self == .gru }

    /// Gate blocks of H in the input projection: 1, 3 or 4.
    public var gateCount: Int {
        switch self {
        case .rnn, .rnnRelu: return 1
        case .gru: return 3
        case .lstm, .lstmPeephole, .lstmLayerNorm: return 4
        }
    }

    /// Whether PyTorch has this cell as a module (`nn.RNN`, `nn.LSTM`, `nn.GRU`).
    public var isPyTorchModule: Bool { self != .lstmPeephole && self != .lstmLayerNorm }

    /// Display name for tables and legends.
    public var displayName: String {
        switch self {
        case .rnn: return "RNN"
        case .rnnRelu: return "RNN-ReLU"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        case .lstmPeephole: return "Peephole LSTM"
        case .lstmLayerNorm: return "LN-LSTM"
        }
    }
}

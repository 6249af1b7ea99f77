/// Which bias vectors a recurrent layer has.
///
/// | option | PyTorch | Keras |
/// |---|---|---|
/// | `.separate` (default) | `bias_ih` and `bias_hh`, as `nn.LSTM` | GRU with `reset_after=True` |
/// | `.single` | `bias_ih` only (`bias_hh` fixed at 0) | `use_bias=True`, one `bias` |
/// | `.none` | `bias=False` | `use_bias=False` |
public enum RecurrentBias: String, Sendable, Codable, CaseIterable {
    case separate, single, none
}

/// How weights are initialised.
///
/// - `pytorch`: every weight and bias U(-1/sqrt(H), 1/sqrt(H)) (`nn.RNN`, `nn.LSTM`, `nn.GRU`).
/// - `keras`: input kernels glorot-uniform (fan over [inputSize, gates*H]), recurrent kernels
///   orthogonal, biases 0 and the LSTM forget-gate bias 1 (`unit_forget_bias=True`).
/// - `fanIn`: seed 001's from-scratch init: W_ih U(±1/sqrt(inputSize)), W_hh U(±1/sqrt(H)),
///   biases 0.
public enum RecurrentInitialization: String, Sendable, Codable, CaseIterable {
    case pytorch, keras, fanIn = "fan-in"
}

/// Hidden (and, for LSTM, cell) state of every layer and direction.
/// h, c: [layers * directions, B, H], index `layer * directions + direction` (PyTorch's h_n).
public struct RecurrentState: @unchecked Sendable {
    public var h: Tensor
    public var c: Tensor?

    public init(h: Tensor, c: Tensor? = nil) {
        self.h = h
        self.c = c
    }
}

/// What a recurrent layer returns: PyTorch's `output, h_n` / `output, (h_n, c_n)`.
public struct RecurrentOutput: @unchecked Sendable {
    /// [T, B, D*H] time-major, or [B, T, D*H] when the layer is batch-first. Padding steps are 0.
    public var output: Tensor
    /// Final state of every layer and direction: each sequence's own last valid state.
    public var state: RecurrentState
}

/// Which framework's defaults a model follows, in one place: its recurrent biases, its
/// initialisation, where the GRU applies its reset gate, Adam's epsilon and how dense layers
/// start. An explicit choice (e.g. an initialisation passed to the model) overrides the
/// convention's default.
public enum Convention: String, Sendable, CaseIterable, Codable {
    /// PyTorch's `nn.RNN`/`nn.LSTM`/`nn.GRU` and `nn.Linear`: two biases, U(±1/√H), GRU
    /// reset after the product, Adam eps 1e-8, `nn.Linear`'s U(±1/√fan_in).
    case pytorch
    /// Keras 2 and 3: one bias (the GRU, `reset_after=True`, two), glorot-uniform kernels,
    /// orthogonal recurrent kernels, zero biases with LSTM forget bias 1, Adam eps 1e-7, Dense
    /// glorot-uniform with zero bias (seed 003's framework).
    case keras
    /// TF 1.x Keras (seed 004's framework): as `keras`, but the GRU resets before the product
    /// with one bias (Cho et al.).
    case keras1
    /// Seed 001's from-scratch cells: one bias, W_ih U(±1/√input), W_hh U(±1/√H), zero
    /// biases, the head U(±1/√H) with zero bias, Adam eps 1e-8.
    case seed

    /// The recurrent biases of a layer of `cell`.
    public func bias(for cell: CellType) -> RecurrentBias {
        switch self {
        case .pytorch: return .separate
        case .keras: return cell == .gru ? .separate : .single
        case .keras1, .seed: return .single
        }
    }

    /// The recurrent layers' initialisation.
    public var initialization: RecurrentInitialization {
        switch self {
        case .pytorch: return .pytorch
        case .keras, .keras1: return .keras
        case .seed: return .fanIn
        }
    }

    /// GRU: reset gate applied after the recurrent product (PyTorch, Keras 2+) or before it.
    public var gruResetAfter: Bool { self != .keras1 }

    /// Adam's epsilon (PyTorch 1e-8, Keras 1e-7).
    public var adamEpsilon: Float { self == .keras || self == .keras1 ? 1e-7 : 1e-8 }

    /// Re-initialises a dense layer as this convention starts one (PyTorch's is how `Linear`
    /// starts already).
    public func initialize(_ dense: Linear, rng: inout RandomGenerator) {
        switch self {
        case .pytorch: return
        case .keras, .keras1:
            let limit = (6 / Float(dense.inputSize + dense.outputSize)).squareRoot()
            rng.fillUniform(dense.weight.value, -limit, limit)
        case .seed:
            let k = 1 / Float(dense.inputSize).squareRoot()
            rng.fillUniform(dense.weight.value, -k, k)
        }
        dense.bias?.value.zero()
    }
}

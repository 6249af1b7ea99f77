/// Jordan network (seed 003's lecture): `JordanCell` in a `RecurrentLayer`, so it stacks, runs
/// in both directions, takes lengths, dropout and an initial y. Its parameters are
/// `weight_ih_l0`, `weight_yh_l0`, `bias_h_l0`, `weight_hy_l0`, `bias_y_l0` (and `_l{k}`,
/// `_reverse` when stacked or bidirectional).
public typealias JordanRNN = RecurrentLayer<JordanCell>

extension RecurrentLayer where Cell == JordanCell {
    /// x [T, B, I] -> y [T, B, O] (D*O when bidirectional).
    public convenience init(inputSize: Int, hiddenSize: Int, outputSize: Int = 1, layers: Int = 1,
                            bidirectional: Bool = false, dropout: Float = 0, activation: Activation = .tanh,
                            outputActivation: Activation = .identity, seed: UInt64 = 0) {
        self.init(cell: JordanCell(hiddenSize: hiddenSize, outputSize: outputSize, activation: activation,
                                   outputActivation: outputActivation),
                  inputSize: inputSize, layers: layers, bidirectional: bidirectional, dropout: dropout, seed: seed)
    }

    /// The outputs y [T, B, O] of every step (a layer-owned buffer).
    public func callAsFunction(_ x: Tensor) -> Tensor { callAsFunction(x, lengths: nil, initialState: nil).output }

    /// dy: [T, B, O] -> dx: [T, B, I]; accumulates every parameter gradient.
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor { backward(outputGradient: dy, stateGradient: nil).input }

    // The first layer's tensors, by their role in the equations.
    public var weightIH: Parameter { passes[0][0].parameters[0] }
    public var weightYH: Parameter { passes[0][0].parameters[1] }
    public var biasH: Parameter { passes[0][0].parameters[2] }
    public var weightHY: Parameter { passes[0][0].parameters[3] }
    public var biasY: Parameter { passes[0][0].parameters[4] }
}

import Testing
@testable import Recur
@testable import RecurExperiments

/// The fused C kernels of RNN, LSTM and GRU against their plain Swift steps
/// (`fastPath: false`), on every variant: the same weights, inputs, lengths, initial state and
/// dropout masks give the same outputs, states and gradients to float rounding.
@Suite struct ReferenceStepTests {
    static let variants = ["rnn-tanh", "rnn-relu", "lstm", "lstm-keras", "gru", "gru-reset-before", "gru-keras"]

    static func pair(_ name: String) -> (fast: any RecurrentStack, reference: any RecurrentStack) {
        let (I, H) = (3, 5)
        func both<C: RecurrentCell>(_ cell: C, _ reference: C, bias: RecurrentBias = .separate) -> (any RecurrentStack, any RecurrentStack) {
            (RecurrentLayer(cell: cell, inputSize: I, layers: 2, bidirectional: true, dropout: 0.3, bias: bias, seed: 7),
             RecurrentLayer(cell: reference, inputSize: I, layers: 2, bidirectional: true, dropout: 0.3, bias: bias, seed: 7))
        }
        func slow<C>(_ c: C, _ set: (inout C) -> Void) -> C { var c = c; set(&c); return c }
        switch name {
        case "rnn-tanh", "rnn-relu":
            let c = RNNCell(hiddenSize: H, activation: name == "rnn-tanh" ? .tanh : .relu)
            return both(c, slow(c) { $0.fastPath = false })
        case "lstm", "lstm-keras":
            let c = LSTMCell(hiddenSize: H, recurrentActivation: name == "lstm" ? .sigmoid : .hardSigmoid)
            return both(c, slow(c) { $0.fastPath = false }, bias: name == "lstm" ? .separate : .single)
        default:
            let c = GRUCell(hiddenSize: H, recurrentActivation: name == "gru-keras" ? .hardSigmoid : .sigmoid,
                            resetAfter: name == "gru")
            return both(c, slow(c) { $0.fastPath = false }, bias: name == "gru-keras" ? .single : .separate)
        }
    }

    @Test(arguments: variants)
    func kernelsEqualTheSwiftStep(_ name: String) {
        let (fast, reference) = Self.pair(name)
        for layer in [fast, reference] {
            layer.inputDropout = 0.2
            layer.recurrentDropout = 0.25
        }
        var rng = RandomGenerator(seed: 3)
        let (T, B, H) = (6, 4, 5)
        let x = randomTensor([T, B, 3], &rng), h0 = randomTensor([4, B, H], &rng), c0 = randomTensor([4, B, H], &rng)
        let dy = randomTensor([T, B, 2 * H], &rng), dh = randomTensor([4, B, H], &rng), dc = randomTensor([4, B, H], &rng)
        let hasC = fast.stateComponents.count == 2, lengths = [6, 2, 5, 1]
        var results: [[Tensor]] = []
        for layer in [fast, reference] {
            layer.zeroGrad()
            let r = layer(x, lengths: lengths, initialState: RecurrentState(h: h0, c: hasC ? c0 : nil))
            var out = [r.output.copy()] + r.state.components.map { $0.copy() }
            let g = layer.backward(outputGradient: dy, stateGradient: RecurrentState(h: dh, c: hasC ? dc : nil))
            out += [g.input.copy()] + g.initialState.components.map { $0.copy() } + layer.parameters.map { $0.grad.copy() }
            results.append(out)
        }
        for (i, (a, b)) in zip(results[0], results[1]).enumerated() { expectClose(b, a, "\(name) tensor \(i)") }
    }
}

import Testing
@testable import Recur
@testable import RecurExperiments

/// Finite-difference checks of BPTT for every cell and option, with the loss
/// L = <output, Wo> + <h_n, Wh> (+ <c_n, Wc>).
@Suite struct RecurrentGradientTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let cell: String
        let layers: Int
        let bidirectional: Bool
        let lengthsAndState: Bool
        var testDescription: String {
            "\(cell) L\(layers) \(bidirectional ? "bi" : "uni") \(lengthsAndState ? "lengths+h0" : "full")"
        }
    }

    static let cells = ["rnn-tanh", "rnn-relu", "lstm", "gru", "gru-reset-before",
                        "lstm-keras", "gru-keras", "rnn-sigmoid-single-bias", "lstm-relu", "gru-relu",
                        "lstm-projection", "lstm-projection-keras", "lstm-peephole", "lstm-layernorm", "lstm-layernorm-keras",
                        "rnn-identity", "gru-orthogonal", "jordan"]
    static let cases: [Case] = cells.flatMap { c in
        [1, 2].flatMap { l in [false, true].flatMap { b in [false, true].map { Case(cell: c, layers: l, bidirectional: b, lengthsAndState: $0) } } }
    }

    static func make(_ cell: String, layers: Int, bidirectional: Bool, dropout: Float = 0, batchFirst: Bool = false) -> any RecurrentStack {
        let (I, H) = (3, 4)
        switch cell {
        case "rnn-tanh": return RNN(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, dropout: dropout, batchFirst: batchFirst, seed: 11)
        case "rnn-relu": return RNN(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, activation: .relu, dropout: dropout, seed: 12)
        case "rnn-sigmoid-single-bias":
            return RNN(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, activation: .sigmoid, bias: .single, seed: 13)
        case "lstm": return LSTM(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, dropout: dropout, batchFirst: batchFirst, seed: 14)
        case "lstm-keras":
            return LSTM(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, bias: .single,
                        recurrentActivation: .hardSigmoid, initialization: .keras, seed: 15)
        case "lstm-relu": return LSTM(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, bias: .single, activation: .relu, initialization: .keras, seed: 19)
        case "gru-relu": return GRU(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, activation: .relu, initialization: .keras, seed: 20)
        case "gru": return GRU(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, dropout: dropout, seed: 16)
        case "gru-reset-before": return GRU(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, resetAfter: false, seed: 17)
        case "gru-keras":
            return GRU(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, bias: .single,
                       resetAfter: false, initialization: .keras, seed: 18)
        case "lstm-projection":
            return LSTM(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, dropout: dropout, projectionSize: 3, seed: 22)
        case "lstm-projection-keras":
            return LSTM(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, bias: .single, projectionSize: 2,
                        initialization: .keras, seed: 23)
        case "lstm-peephole":
            return RecurrentLayer(cell: PeepholeLSTMCell(hiddenSize: H), inputSize: I, layers: layers, bidirectional: bidirectional,
                                  dropout: dropout, seed: 24)
        case "lstm-layernorm":
            return RecurrentLayer(cell: LayerNormLSTMCell(hiddenSize: H), inputSize: I, layers: layers, bidirectional: bidirectional,
                                  dropout: dropout, seed: 27)
        case "lstm-layernorm-keras":
            return RecurrentLayer(cell: LayerNormLSTMCell(hiddenSize: H), inputSize: I, layers: layers, bidirectional: bidirectional,
                                  bias: .single, initialization: .keras, seed: 28)
        case "rnn-identity":
            // IRNN: relu with identity recurrent weights (and the same check with tanh, which has no kinks).
            return RNN(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, activation: .tanh, dropout: dropout,
                       initialization: .identity, identityScale: 0.9, seed: 25)
        case "gru-orthogonal":
            return GRU(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, dropout: dropout,
                       initialization: .orthogonal, seed: 26)
        case "jordan":
            return JordanRNN(inputSize: I, hiddenSize: H, outputSize: 2, layers: layers, bidirectional: bidirectional,
                             dropout: dropout, outputActivation: .tanh, seed: 30)
        default: fatalError("unknown cell \(cell)")
        }
    }

    static func check(_ layer: any RecurrentStack, label: String, lengths: [Int]?, withState: Bool, T: Int = 5, B: Int = 3) {
        var rng = RandomGenerator(seed: 21)
        let H = layer.outputSize, D = layer.directions, L = layer.layers, C = layer.stateComponents.last!.width
        let xShape = layer.batchFirst ? [B, T, layer.inputSize] : [T, B, layer.inputSize]
        let x = randomTensor(xShape, &rng)
        let hasC = layer.stateComponents.count == 2
        let h0 = randomTensor([L * D, B, H], &rng), c0 = randomTensor([L * D, B, C], &rng)
        let state = withState ? RecurrentState(h: h0, c: hasC ? c0 : nil) : nil
        let W = layer.outputWidth, outShape = layer.batchFirst ? [B, T, W] : [T, B, W]
        let wo = randomTensor(outShape, &rng), wh = randomTensor([L * D, B, H], &rng), wc = randomTensor([L * D, B, C], &rng)
        let dropoutRNG = layer.rng
        func loss() -> Double {
            layer.rng = dropoutRNG  // the same dropout masks on every evaluation
            let r = layer(x, lengths: lengths, initialState: state)
            return dot(r.output, wo) + dot(r.state.h, wh) + (hasC ? dot(r.state.c!, wc) : 0)
        }
        layer.zeroGrad()
        _ = loss()
        let g = layer.backward(outputGradient: wo, stateGradient: RecurrentState(h: wh, c: hasC ? wc : nil))
        var tensors: [(name: String, value: Tensor, analytic: Tensor)] = [("x", x, g.input.copy())]
        if withState {
            tensors.append(("h0", h0, g.initialState.h.copy()))
            if hasC { tensors.append(("c0", c0, g.initialState.c!.copy())) }
        }
        tensors += layer.namedParameters.map { ($0.name, $0.parameter.value, $0.parameter.grad.copy()) }
        let kinks = layer.activations.contains { $0 == .relu || $0 == .hardSigmoid }
        // Several relu units can sit within 1e-2 of their kinks; 1e-3 steps past them, and its
        // rounding error (~3e-4 here) still fits the tolerance.
        // A layer normalisation is scale-invariant in its input, so where that input is small
        // (W_hh h for a small h) the loss curves sharply: a step of 1e-3 can be too coarse and
        // one of 4e-4 too close to float32 rounding, so each sample gets both.
        let normalized = layer.namedParameters.contains { $0.name.hasPrefix("ln_") }
        checkGradients(label, tensors, samples: 6, h: kinks || normalized ? 1e-3 : 1e-2, piecewiseLinear: kinks,
                       retryStep: normalized ? 4e-4 : nil, loss: loss)
    }

    @Test(arguments: cases)
    func bptt(_ c: Case) {
        let layer = Self.make(c.cell, layers: c.layers, bidirectional: c.bidirectional)
        Self.check(layer, label: c.testDescription, lengths: c.lengthsAndState ? [5, 2, 3] : nil, withState: c.lengthsAndState)
    }

    @Test func lengthsWithoutInitialState() {
        Self.check(Self.make("lstm", layers: 2, bidirectional: true), label: "lstm lengths", lengths: [1, 5, 4], withState: false)
    }

    @Test func betweenLayerDropout() {
        Self.check(Self.make("lstm", layers: 3, bidirectional: true, dropout: 0.3), label: "lstm dropout", lengths: nil, withState: true)
        Self.check(Self.make("gru", layers: 2, bidirectional: false, dropout: 0.5), label: "gru dropout", lengths: [2, 5, 5], withState: false)
    }

    /// Every cell and option added on the open seam, with everything at once: 2 layers, both
    /// directions, lengths, an initial state, and between-layer, input and recurrent dropout.
    @Test(arguments: ["lstm-projection", "lstm-peephole", "lstm-layernorm", "rnn-identity", "gru-orthogonal", "jordan"])
    func newCellsWithDropout(_ cell: String) {
        let layer = Self.make(cell, layers: 2, bidirectional: true, dropout: 0.3)
        layer.inputDropout = 0.2
        layer.recurrentDropout = 0.25
        Self.check(layer, label: cell + " dropout", lengths: [5, 2, 4], withState: true)
    }

    /// Keras' merge modes for the top layer's two directions (layers below concatenate).
    @Test(arguments: [BidirectionalMerge.sum, .mean, .multiply])
    func mergeModes(_ merge: BidirectionalMerge) {
        let layer = LSTM(inputSize: 3, hiddenSize: 4, layers: 2, bidirectional: true, seed: 29)
        let merged = RecurrentLayer(cell: layer.cell, inputSize: 3, layers: 2, bidirectional: true, merge: merge, seed: 29)
        #expect(merged.outputWidth == 4)
        Self.check(merged, label: "lstm merge \(merge.rawValue)", lengths: [5, 2, 4], withState: true)
    }

    @Test func batchFirst() {
        Self.check(Self.make("rnn-tanh", layers: 2, bidirectional: true, batchFirst: true), label: "rnn batch-first", lengths: [3, 5, 1], withState: true)
    }
}

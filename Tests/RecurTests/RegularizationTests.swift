import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct RegularizationTests {
    @Test(arguments: ["rnn-tanh", "lstm", "gru", "gru-reset-before"])
    func variationalDropoutGradients(_ cell: String) {
        let layer = RecurrentGradientTests.make(cell, layers: 2, bidirectional: true)
        layer.inputDropout = 0.3
        layer.recurrentDropout = 0.4
        // check() restores the layer's RNG before every evaluation: the masks stay fixed.
        RecurrentGradientTests.check(layer, label: "\(cell) variational dropout", lengths: [5, 3, 4], withState: true)
    }

    @Test func inputMaskIsOnePerSequence() {
        let layer = LSTM(inputSize: 6, hiddenSize: 4, seed: 3)
        layer.inputDropout = 0.5
        var rng = RandomGenerator(seed: 4)
        let x = randomTensor([7, 5, 6], &rng)
        let r = layer(x)
        let dx = layer.backward(outputGradient: Tensor(repeating: 1, shape: r.output.shape)).input
        var dropped = 0
        for b in 0..<5 {
            for i in 0..<6 {
                let column = (0..<7).map { dx[index: [$0, b, i]] }
                // A dropped feature is dropped at every step of its sequence, and only then.
                #expect(column.allSatisfy { $0 == 0 } || column.allSatisfy { $0 != 0 }, "feature \(i) of sequence \(b)")
                if column[0] == 0 { dropped += 1 }
            }
        }
        #expect(dropped > 3 && dropped < 27, "about half of 30 features dropped, got \(dropped)")
    }

    @Test func dropoutOnlyInTraining() {
        let layer = GRU(inputSize: 2, hiddenSize: 3, seed: 5)
        layer.inputDropout = 0.5
        layer.recurrentDropout = 0.5
        var rng = RandomGenerator(seed: 6)
        let x = randomTensor([4, 3, 2], &rng)
        layer.training = false
        let a = layer(x).output.copy()
        layer.inputDropout = 0
        layer.recurrentDropout = 0
        #expect(layer(x).output.scalars == a.scalars)
    }

    @Test func l2Penalty() {
        let layer = RNN(inputSize: 2, hiddenSize: 3, seed: 7)
        let weights = layer.weightMatrices
        #expect(weights.map(\.name) == ["weight_ih_l0", "weight_hh_l0"])
        layer.zeroGrad()
        let penalty = addL2Penalty(weights, coefficient: 0.01)
        let expected = weights.reduce(0.0) { $0 + $1.value.scalars.reduce(0.0) { $0 + Double($1 * $1) } } * 0.01
        #expect(abs(penalty - expected) < 1e-7)
        let grads = weights.map { $0.grad.copy() }
        checkGradients("L2", zip(weights, grads).map { ($0.name, $0.value, $1) }, h: 1e-2, atol: 1e-5) {
            weights.reduce(0.0) { $0 + $1.value.scalars.reduce(0.0) { $0 + Double($1) * Double($1) } } * 0.01
        }
    }

    @Test(arguments: [Activation.tanh, .relu])
    func jordanGradients(_ act: Activation) {
        let layer = JordanRNN(inputSize: 3, hiddenSize: 5, outputSize: 2, activation: act, seed: 8)
        var rng = RandomGenerator(seed: 9)
        let x = randomTensor([6, 4, 3], &rng), w = randomTensor([6, 4, 2], &rng)
        layer.zeroGrad()
        _ = layer(x)
        let dx = layer.backward(w).copy()
        checkGradients("Jordan \(act)", [("x", x, dx)] + layer.namedParameters.map { ($0.name, $0.parameter.value, $0.parameter.grad.copy()) },
                       piecewiseLinear: act == .relu) { dot(layer(x), w) }
    }

    @Test func jordanFeedsBackItsOutput() {
        // With W_ih = 0 and b_h = 0 the state can only move through y_{t-1}: from y_{-1} = 0
        // and b_y = 0 everything stays 0; with b_y != 0 later steps differ from the first.
        let layer = JordanRNN(inputSize: 1, hiddenSize: 2, outputSize: 1, seed: 1)
        layer.weightIH.value.zero()
        layer.biasH.value.zero()
        layer.biasY.value.zero()
        let x = Tensor(repeating: 1, shape: [3, 1, 1])
        #expect(layer(x).scalars == [0, 0, 0])
        layer.biasY.value.fill(0.5)
        let y = layer(x).scalars
        #expect(y[0] == 0.5 && y[1] != 0.5)
    }
}

import Testing
@testable import Recur
@testable import RecurExperiments

/// Variable-length semantics, checked against running each sequence on its own.
@Suite struct MaskingTests {
    nonisolated(unsafe) static let makers: [(String, () -> any RecurrentStack)] = [
        ("lstm", { LSTM(inputSize: 3, hiddenSize: 5, layers: 2, bidirectional: true, seed: 1) }),
        ("gru", { GRU(inputSize: 3, hiddenSize: 5, layers: 2, bidirectional: true, seed: 2) }),
        ("gru-reset-before", { GRU(inputSize: 3, hiddenSize: 5, layers: 1, bidirectional: true, resetAfter: false, seed: 3) }),
        ("rnn", { RNN(inputSize: 3, hiddenSize: 5, layers: 2, bidirectional: true, seed: 4) }),
    ]

    @Test(arguments: 0..<4)
    func eachSequenceAsIfAlone(_ which: Int) {
        let (name, make) = Self.makers[which]
        let layer = make()
        let T = 6, B = 3, lengths = [6, 2, 4], H = 5, D = 2, L = layer.layers
        var rng = RandomGenerator(seed: 5)
        let x = randomTensor([T, B, 3], &rng)
        let r = layer(x, lengths: lengths)
        let out = r.output.copy(), hN = r.state.h.copy(), cN = r.state.c?.copy()
        for b in 0..<B {
            let n = lengths[b]
            let alone = Tensor(zeros: [n, 1, 3])
            for t in 0..<n { alone[t][0].assign(x[t][b]) }
            let single = layer(alone)
            for t in 0..<T {
                let got = out[t][b].scalars
                if t < n {
                    #expect(mismatch(got, single.output[t][0].scalars, rtol: 1e-6, atol: 1e-6) == nil, "\(name) row \(b) step \(t)")
                } else {
                    #expect(got.allSatisfy { $0 == 0 }, "\(name) padding output row \(b) step \(t)")
                }
            }
            for k in 0..<(L * D) {
                #expect(mismatch(hN[k][b].scalars, single.state.h[k][0].scalars, rtol: 1e-6, atol: 1e-6) == nil, "\(name) h_n[\(k)] row \(b)")
                if let cN { #expect(mismatch(cN[k][b].scalars, single.state.c![k][0].scalars, rtol: 1e-6, atol: 1e-6) == nil) }
            }
            _ = H
        }
    }

    /// Directions on two threads give exactly the numbers of directions in turn.
    @Test(arguments: [false, true])
    func parallelDirectionsAreExact(_ gru: Bool) {
        func run(_ parallel: Bool) -> [Float] {
            let layer: any RecurrentStack = gru ? GRU(inputSize: 3, hiddenSize: 6, layers: 2, bidirectional: true, dropout: 0.3, seed: 4)
                : LSTM(inputSize: 3, hiddenSize: 6, layers: 2, bidirectional: true, dropout: 0.3, seed: 4)
            layer.parallelDirections = parallel
            layer.recurrentDropout = 0.2
            var rng = RandomGenerator(seed: 8)
            let x = randomTensor([7, 5, 3], &rng)
            let r = layer(x, lengths: [7, 3, 5, 1, 6])
            let out = r.output.scalars
            let g = layer.backward(outputGradient: randomTensor([7, 5, 12], &rng))
            return out + g.input.scalars + g.initialState.h.scalars + layer.parameters.flatMap(\.grad.scalars)
        }
        #expect(run(true) == run(false))
    }

    @Test func fullLengthsEqualNoLengths() {
        let layer = LSTM(inputSize: 2, hiddenSize: 3, layers: 2, bidirectional: true, seed: 9)
        var rng = RandomGenerator(seed: 6)
        let x = randomTensor([4, 2, 2], &rng)
        let a = layer(x).output.copy()
        let b = layer(x, lengths: [4, 4]).output.copy()
        #expect(a.scalars == b.scalars)
    }

    @Test func evaluationModeDisablesDropout() {
        let layer = GRU(inputSize: 2, hiddenSize: 3, layers: 3, dropout: 0.5, seed: 10)
        var rng = RandomGenerator(seed: 7)
        let x = randomTensor([4, 2, 2], &rng)
        layer.training = false
        let a = layer(x).output.copy(), b = layer(x).output.copy()
        #expect(a.scalars == b.scalars)
        layer.training = true
        let c = layer(x).output.copy()
        #expect(c.scalars != a.scalars)
    }
}

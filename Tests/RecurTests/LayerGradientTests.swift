import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct LayerGradientTests {
    @Test func linear() {
        var rng = RandomGenerator(seed: 1)
        let layer = Linear(inputSize: 5, outputSize: 3, rng: &rng)
        let x = randomTensor([4, 5], &rng), w = randomTensor([4, 3], &rng)
        layer.zeroGrad()
        _ = layer(x)
        let dx = layer.backward(w).copy()
        checkGradients("Linear", [("x", x, dx), ("weight", layer.weight.value, layer.weight.grad),
                                  ("bias", layer.bias!.value, layer.bias!.grad)]) { dot(layer(x), w) }
    }

    @Test func linearMatchesDefinition() {
        var rng = RandomGenerator(seed: 2)
        let layer = Linear(inputSize: 2, outputSize: 2, rng: &rng)
        layer.weight.value.assign(Tensor([1, 2, 3, 4], shape: [2, 2]))
        layer.bias!.value.assign(Tensor([0.5, -1], shape: [2]))
        #expect(layer(Tensor([1, 1, 2, 0], shape: [2, 2])).scalars == [3.5, 6, 2.5, 5])
    }

    @Test func embedding() {
        var rng = RandomGenerator(seed: 3)
        let layer = Embedding(vocabularySize: 7, dimension: 4, rng: &rng)
        let ids: [Int32] = [1, 3, 1, 6, 0]
        let w = randomTensor([5, 4], &rng)
        layer.zeroGrad()
        _ = layer(ids, shape: [5])
        layer.backward(w)
        checkGradients("Embedding", [("weight", layer.weight.value, layer.weight.grad)], samples: 28) {
            dot(layer(ids, shape: [5]), w)
        }
        // Row 1 appears twice: its gradient is the sum of both output rows.
        #expect(abs(layer.weight.grad[index: [1, 2]] - (w[index: [0, 2]] + w[index: [2, 2]])) < 1e-6)
    }

    @Test func dropoutIsInvertedAndIdentityInEvaluation() {
        let d = Dropout(probability: 0.5, seed: 4)
        let x = Tensor(repeating: 1, shape: [10_000])
        let y = d(x)
        let values = Set(y.scalars)
        #expect(values == [0, 2])
        let mean = y.scalars.reduce(0, +) / 10_000
        #expect(abs(mean - 1) < 0.05)
        let dx = d.backward(Tensor(repeating: 1, shape: [10_000]))
        #expect(dx.scalars == y.scalars)
        d.training = false
        #expect(d(x).scalars == x.scalars)
    }

    @Test func crossEntropy() {
        var rng = RandomGenerator(seed: 5)
        let logits = randomTensor([6, 5], &rng, scale: 3)
        let targets: [Int32] = [0, 4, -100, 2, 2, 1]
        let loss = SoftmaxCrossEntropy()
        let g = loss(logits, targets: targets).gradient.copy()
        checkGradients("CrossEntropy", [("logits", logits, g)], samples: 30, h: 1e-3, atol: 1e-4) {
            Double(loss(logits, targets: targets).value)
        }
        // Ignored row: no gradient; mean over the 5 counted rows.
        #expect(g[2].scalars.allSatisfy { $0 == 0 })
        #expect(loss(logits, targets: targets).count == 5)
    }

    @Test func crossEntropyValue() {
        // Uniform logits over 4 classes: loss ln 4.
        let r = SoftmaxCrossEntropy()(Tensor(zeros: [2, 4]), targets: [1, 3])
        #expect(abs(r.value - logf(4)) < 1e-6)
        // Large logits stay finite (log-sum-exp).
        let big = SoftmaxCrossEntropy()(Tensor([1000, 0], shape: [1, 2]), targets: [1])
        #expect(abs(big.value - 1000) < 1e-3)
    }

    @Test func binaryCrossEntropy() {
        var rng = RandomGenerator(seed: 6)
        let logits = randomTensor([7], &rng, scale: 4)
        let targets: [Float] = [0, 1, 1, 0, 1, 0, 1]
        let loss = BinaryCrossEntropyWithLogits()
        let g = loss(logits, targets: targets).gradient.copy()
        checkGradients("BCE", [("logits", logits, g)], h: 1e-3, atol: 1e-4) { Double(loss(logits, targets: targets).value) }
        let extreme = loss(Tensor([-200, 200], shape: [2]), targets: [1, 0])
        #expect(abs(extreme.value - 200) < 1e-3)
    }

    @Test func meanSquaredError() {
        var rng = RandomGenerator(seed: 7)
        let p = randomTensor([9], &rng)
        let t = (0..<9).map { Float($0) / 9 }
        let loss = MeanSquaredError()
        let g = loss(p, targets: t).gradient.copy()
        checkGradients("MSE", [("prediction", p, g)], h: 1e-3, atol: 1e-4) { Double(loss(p, targets: t).value) }
        #expect(abs(loss(Tensor([1, 3], shape: [2]), targets: [0, 0]).value - 5) < 1e-6)
    }
}

import Foundation

import Testing
@testable import Recur

/// Parameters gathered into one block (llm.c's layout): optimizer steps and the clip are one
/// pass over it, with the numbers of the tensor-by-tensor loop; names, shapes and tied weights
/// are kept.
@Suite struct ParameterArenaTests {
    static func model(seed: UInt64) -> SequenceModel {
        var rng = RandomGenerator(seed: seed)
        return SequenceModel(recurrent: LSTM(inputSize: 3, hiddenSize: 8, layers: 2, seed: seed), outputs: 4, rng: &rng)
    }

    @Test(arguments: ["adam", "adamw", "sgd-momentum", "rmsprop-centered"])
    func oneRunEqualsTensorByTensor(_ kind: String) {
        let (a, b) = (Self.model(seed: 3), Self.model(seed: 3))
        func optimizer(_ m: SequenceModel) -> any Optimizer {
            switch kind {
            case "adam": return Adam(parameters: m.parameters, learningRate: 0.01, weightDecay: 0.1)
            case "adamw": return Adam(parameters: m.parameters, learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: true)
            case "sgd-momentum": return SGD(parameters: m.parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
            default: return RMSprop(parameters: m.parameters, learningRate: 0.01, momentum: 0.5, centered: true)
            }
        }
        let (oa, ob) = (optimizer(a), optimizer(b))
        #expect(ParameterArena.whole(a.parameters) != nil)
        // Move b's parameters into another arena in another order: its optimizer then runs tensor by tensor.
        _ = ParameterArena(b.parameters.reversed())
        #expect(ParameterArena.whole(b.parameters) == nil)
        var rng = RandomGenerator(seed: 9)
        for _ in 0..<3 {
            for (p, q) in zip(a.parameters, b.parameters) {
                rng.fillUniform(p.grad, -1, 1)
                q.grad.pointer.update(from: p.grad.pointer, count: p.count)
            }
            oa.step()
            ob.step()
        }
        for (p, q) in zip(a.parameters, b.parameters) { #expect(p.value.scalars == q.value.scalars, "\(kind) \(p.name)") }
        for (name, t) in oa.state { #expect(t.scalars == ob.state[name]?.scalars, "\(kind) state \(name)") }
    }

    @Test func clipAndNormOverTheBlockMatchTheTensors() {
        let (a, b) = (Self.model(seed: 4), Self.model(seed: 4))
        _ = ParameterArena(a.parameters)
        var rng = RandomGenerator(seed: 2)
        for (p, q) in zip(a.parameters, b.parameters) {
            rng.fillUniform(p.grad, -3, 3)
            q.grad.pointer.update(from: p.grad.pointer, count: p.count)
        }
        #expect(ParameterArena.whole(a.parameters) != nil && ParameterArena.whole(b.parameters) == nil)
        let (na, nb) = (clipGradientNorm(a.parameters, maxNorm: 1), clipGradientNorm(b.parameters, maxNorm: 1))
        #expect(abs(na - nb) <= 1e-6 * nb && na > 1)
        for (p, q) in zip(a.parameters, b.parameters) { expectClose(p.grad, q.grad, rtol: 1e-6, atol: 0, p.name) }
        #expect(abs(gradientNorm(a.parameters) - 1) < 1e-5)
    }

    @Test func namesShapesValuesAndTiedWeightsAreKept() {
        let lm = LanguageModel(cell: .lstm, vocabularySize: 11, embeddingSize: 6, hiddenSize: 6, layers: 1, dropout: 0, tied: true, seed: 5)
        let before = lm.namedParameters.map { ($0.name, $0.parameter.shape, $0.parameter.value.scalars) }
        let arena = ParameterArena(lm.parameters + [lm.head.weight])
        #expect(arena.parameters.count == lm.parameters.count && arena.count == lm.parameterCount)
        let after = lm.namedParameters.map { ($0.name, $0.parameter.shape, $0.parameter.value.scalars) }
        #expect(before.map(\.0) == after.map(\.0) && before.map(\.1) == after.map(\.1) && before.map(\.2) == after.map(\.2))
        // The head still reads the embedding's values: one tensor, now in the block.
        #expect(lm.head.weight === lm.embedding.weight && lm.head.weight.value.storage === arena.values)
        lm.embedding.weight.value.pointer[0] = 42
        #expect(lm.head.weight.value.pointer[0] == 42)
    }
}

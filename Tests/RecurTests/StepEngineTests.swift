import CRecurKernels
import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// The step engine: the packed step GEMM, the fixed row blocks, the thread budget and the
/// evaluation mode that keeps no steps, against the reference engine (the whole batch on one
/// thread, plain SGEMM products and, for RNN/LSTM/GRU, the plain Swift steps).
@Suite struct StepEngineTests {
    static let cells = ["rnn-tanh", "rnn-relu", "lstm", "lstm-keras", "lstm-projection", "lstm-peephole", "lstm-layernorm",
                        "gru", "gru-reset-before", "gru-keras", "jordan"]

    /// A 2-layer stack of the named cell; `reference`: the reference engine with the cell's
    /// plain Swift step.
    static func stack(_ name: String, input I: Int, hidden H: Int, bidirectional: Bool, dropout: Float = 0.3,
                      reference: Bool) -> any RecurrentStack {
        func make<C: RecurrentCell>(_ cell: C, bias: RecurrentBias = .separate, _ slow: (inout C) -> Void = { _ in }) -> any RecurrentStack {
            var cell = cell
            if reference { slow(&cell) }
            let layer = RecurrentLayer(cell: cell, inputSize: I, layers: 2, bidirectional: bidirectional, dropout: dropout, bias: bias, seed: 41)
            layer.referenceEngine = reference
            return layer
        }
        switch name {
        case "rnn-tanh", "rnn-relu": return make(RNNCell(hiddenSize: H, activation: name == "rnn-tanh" ? .tanh : .relu)) { $0.fastPath = false }
        case "lstm": return make(LSTMCell(hiddenSize: H)) { $0.fastPath = false }
        case "lstm-keras": return make(LSTMCell(hiddenSize: H, recurrentActivation: .hardSigmoid), bias: .single) { $0.fastPath = false }
        case "lstm-projection": return make(LSTMCell(hiddenSize: H, projectionSize: H / 2)) { $0.fastPath = false }
        case "lstm-peephole": return make(PeepholeLSTMCell(hiddenSize: H))
        case "lstm-layernorm": return make(LayerNormLSTMCell(hiddenSize: H))
        case "gru": return make(GRUCell(hiddenSize: H)) { $0.fastPath = false }
        case "gru-reset-before": return make(GRUCell(hiddenSize: H, resetAfter: false)) { $0.fastPath = false }
        case "gru-keras":
            return make(GRUCell(hiddenSize: H, recurrentActivation: .hardSigmoid, resetAfter: false), bias: .single) { $0.fastPath = false }
        case "jordan": return make(JordanCell(hiddenSize: H, outputSize: 3, outputActivation: .tanh))
        default: fatalError("unknown cell \(name)")
        }
    }

    /// Forward and backward with lengths, an initial state and every dropout; returns the
    /// output, final states, input and initial-state gradients and every parameter gradient.
    static func run(_ layer: any RecurrentStack, T: Int, B: Int, seed: UInt64 = 5) -> [Tensor] {
        var rng = RandomGenerator(seed: seed)
        layer.inputDropout = 0.2
        layer.recurrentDropout = 0.25
        layer.rng = RandomGenerator(seed: 99)
        let D = layer.directions, widths = layer.stateComponents.map(\.width)
        let x = randomTensor([T, B, layer.inputSize], &rng)
        let initial = RecurrentState(widths.map { randomTensor([2 * D, B, $0], &rng) })
        let finals = RecurrentState(widths.map { randomTensor([2 * D, B, $0], &rng) })
        let dy = randomTensor([T, B, layer.outputWidth], &rng)
        let lengths = (0..<B).map { 1 + ($0 * 7) % T }
        layer.zeroGrad()
        let r = layer(x, lengths: lengths, initialState: initial)
        var out = [r.output.copy()] + r.state.components.map { $0.copy() }
        let g = layer.backward(outputGradient: dy, stateGradient: finals)
        out += [g.input.copy()] + g.initialState.components.map { $0.copy() } + layer.parameters.map { $0.grad.copy() }
        return out
    }

    static func withThreads<R>(_ n: Int, _ body: () -> R) -> R {
        let saved = BLAS.threads
        BLAS.threads = n
        defer { BLAS.threads = saved }
        return body()
    }

    /// Agreement to float rounding. What rounding can do is measured, not assumed: the tolerance
    /// of each tensor is four times the largest relative change the reference itself shows when
    /// every weight moves by one ulp (at least 1e-4), because some cells magnify rounding (the
    /// layer-norm LSTM's gradients move by up to 2% here, dividing by a small σ).
    @Test(arguments: cells)
    func fastEngineEqualsTheReference(_ name: String) {
        // 70 rows: three row blocks; the weight-gradient products are large enough to be cut in parts.
        for bidirectional in [false, true] {
            let (T, B, I, H) = (9, 70, 6, 24)
            let fast = Self.withThreads(2) {
                Self.run(Self.stack(name, input: I, hidden: H, bidirectional: bidirectional, reference: false), T: T, B: B)
            }
            let reference = Self.run(Self.stack(name, input: I, hidden: H, bidirectional: bidirectional, reference: true), T: T, B: B)
            let nudged = Self.stack(name, input: I, hidden: H, bidirectional: bidirectional, reference: true)
            for p in nudged.parameters { for i in 0..<p.count { p.value.pointer[i] = p.value.pointer[i].nextUp } }
            let sensitivity = Self.run(nudged, T: T, B: B)
            for (i, (a, e)) in zip(fast, reference).enumerated() {
                var moved: Float = 0
                for j in 0..<e.count {
                    moved = max(moved, abs(sensitivity[i].pointer[j] - e.pointer[j]) / (2e-5 + abs(e.pointer[j])))
                }
                expectClose(a, e, rtol: max(1e-4, 4 * moved), atol: 2e-5, "\(name) bidirectional \(bidirectional) tensor \(i)")
            }
        }
    }

    @Test(arguments: cells)
    func everyThreadCountGivesTheSameBits(_ name: String) {
        for bidirectional in [false, true] {
            let results = [1, 2, 4].map { n in
                Self.withThreads(n) {
                    Self.run(Self.stack(name, input: 6, hidden: 40, bidirectional: bidirectional, reference: false), T: 9, B: 70)
                }
            }
            for n in 1..<3 {
                for (i, (a, b)) in zip(results[n], results[0]).enumerated() {
                    #expect(a.scalars == b.scalars, "\(name) bidirectional \(bidirectional) tensor \(i): threads \([1, 2, 4][n]) vs 1")
                }
            }
        }
    }

    /// The packed step GEMM against SGEMM, with row strides wider than the rows, in both
    /// orientations, overwriting and accumulating; and each row's result the same bits whether
    /// it is computed alone or with others (what makes row blocks free to run anywhere).
    @Test func packedGemmEqualsSGEMMAndRowsAreIndependent() {
        var rng = RandomGenerator(seed: 9)
        for (M, N, K) in [(1, 1, 1), (5, 17, 3), (25, 128, 32), (32, 33, 65), (70, 400, 100), (13, 7, 129)] {
            let (lda, ldc) = (K + 3, N + 5)
            let a = randomTensor([M, lda], &rng), w = randomTensor([N, K], &rng), c0 = randomTensor([M, ldc], &rng)
            let packed = Tensor(zeros: [recur_packed_size(Int32(K), Int32(N))])
            recur_pack(Int32(K), Int32(N), w.pointer, 1, K, packed.pointer)  // W^T: (k, n) at w[n * K + k]
            for accumulate in [false, true] {
                let expected = c0.copy(), actual = c0.copy()
                BLAS.gemm(transB: true, m: M, n: N, k: K, a: a.pointer, lda: lda, b: w.pointer, ldb: K,
                          beta: accumulate ? 1 : 0, c: expected.pointer, ldc: ldc)
                recur_packed_gemm(Int32(M), Int32(N), Int32(K), a.pointer, lda, packed.pointer, actual.pointer, ldc, accumulate ? 1 : 0)
                expectClose(actual, expected, rtol: 1e-5, atol: 1e-5, "\(M)x\(N)x\(K) accumulate \(accumulate)")
                // Padding columns of C (beyond N) are untouched.
                for i in 0..<M { for j in N..<ldc { #expect(actual.pointer[i * ldc + j] == c0.pointer[i * ldc + j]) } }
                // Rows computed in other groupings give the same bits.
                let split = c0.copy()
                var r = 0
                while r < M {
                    let n = min(M - r, 1 + r % 4)
                    recur_packed_gemm(Int32(n), Int32(N), Int32(K), a.pointer + r * lda, lda, packed.pointer,
                                      split.pointer + r * ldc, ldc, accumulate ? 1 : 0)
                    r += n
                }
                #expect(split.scalars == actual.scalars, "\(M)x\(N)x\(K): rows in other groups")
            }
            // The other orientation: B = W itself, [N, K] as a [K', N'] = [N, K] matrix.
            let g = randomTensor([M, N], &rng), expected = Tensor(zeros: [M, K]), actual = Tensor(zeros: [M, K])
            let packedW = Tensor(zeros: [recur_packed_size(Int32(N), Int32(K))])
            recur_pack(Int32(N), Int32(K), w.pointer, K, 1, packedW.pointer)
            BLAS.gemm(m: M, n: K, k: N, a: g.pointer, lda: N, b: w.pointer, ldb: K, c: expected.pointer, ldc: K)
            recur_packed_gemm(Int32(M), Int32(K), Int32(N), g.pointer, N, packedW.pointer, actual.pointer, K, 0)
            expectClose(actual, expected, rtol: 1e-5, atol: 1e-5, "\(M)x\(K)x\(N) untransposed")
        }
    }

    /// Large products are cut into parts by their shape, never by the thread count, and the
    /// parts give the product.
    @Test func sgemmPartsDependOnTheShapeOnly() {
        var rng = RandomGenerator(seed: 12)
        // Cut along m, along n, along k (a weight gradient), and in four.
        for (m, n, k) in [(512, 128, 100), (40, 3000, 200), (31, 33, 9000), (1500, 700, 600)] {
            let a = randomTensor([m, k], &rng), b = randomTensor([k, n], &rng)
            let parts = BLAS.partCount(m: m, n: n, k: k)
            #expect(parts == (2.0 * Double(m * n * k) < 4e6 || max(m, n, k) < 64 ? 1 : 2.0 * Double(m * n * k) < 1e9 ? 2 : 4))
            let results = [1, 2, 3].map { threads in
                Self.withThreads(threads) {
                    let c = Tensor(zeros: [m, n])
                    BLAS.gemm(m: m, n: n, k: k, a: a.pointer, lda: k, b: b.pointer, ldb: n, c: c.pointer, ldc: n)
                    return c
                }
            }
            #expect(results[1].scalars == results[0].scalars && results[2].scalars == results[0].scalars, "\(m)x\(n)x\(k)")
            // Against a Double sum at a few places.
            for (i, j) in [(0, 0), (m - 1, n - 1), (m / 2, n / 3)] {
                var s = 0.0
                for p in 0..<k { s += Double(a.pointer[i * k + p]) * Double(b.pointer[p * n + j]) }
                #expect(abs(Double(results[0].pointer[i * n + j]) - s) <= 1e-4 * max(1, abs(s)) + 1e-3, "\(m)x\(n)x\(k) [\(i), \(j)]")
            }
        }
    }

    @Test func rowBlocksCoverTheBatchEvenly() {
        for batch in 1...300 {
            let blocks = RowBlocks.partition(batch: batch)
            #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == batch)
            #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            let sizes = blocks.map(\.count)
            #expect(sizes.max()! <= RowBlocks.maximumRows && sizes.max()! - sizes.min()! <= 1, "batch \(batch): \(sizes)")
            #expect(blocks.count == (batch + RowBlocks.maximumRows - 1) / RowBlocks.maximumRows)
        }
        #expect(RowBlocks.partition(batch: 100).map(\.count) == [25, 25, 25, 25])
    }

    /// Evaluation mode keeps no steps; a backward after it runs the forward again, keeping
    /// them, and gives the same bits as a training-mode forward without dropout: on the inputs
    /// as they were (the caller overwrites its input and initial state in between, as a
    /// language model does) and without dropout (training switched back on in between).
    @Test(arguments: ["lstm", "gru", "lstm-layernorm", "jordan"])
    func evaluationModeKeepsNoStepsAndBackwardStillWorks(_ name: String) {
        var rng = RandomGenerator(seed: 8)
        let (T, B) = (7, 40)
        let trained = Self.stack(name, input: 5, hidden: 16, bidirectional: true, dropout: 0, reference: false)
        let evaluated = Self.stack(name, input: 5, hidden: 16, bidirectional: true, dropout: 0.3, reference: false)
        evaluated.inputDropout = 0.2
        evaluated.recurrentDropout = 0.25
        evaluated.training = false
        let x = randomTensor([T, B, 5], &rng), dy = randomTensor([T, B, evaluated.outputWidth], &rng)
        let initial = evaluated.stateComponents.map { randomTensor([4, B, $0.width], &rng) }
        let lengths = (0..<B).map { 1 + $0 % T }
        func pass(_ layer: any RecurrentStack) -> [Tensor] {
            layer.zeroGrad()
            let xIn = x.copy(), state = RecurrentState(initial.map { $0.copy() })
            let r = layer(xIn, lengths: lengths, initialState: state)
            let out = [r.output.copy()] + r.state.components.map { $0.copy() }
            if !layer.training {
                xIn.zero()
                for (s, f) in zip(state.components, r.state.components) { s.assign(f) }
                layer.training = true
            }
            let g = layer.backward(outputGradient: dy)
            return out + [g.input.copy()] + g.initialState.components.map { $0.copy() } + layer.parameters.map { $0.grad.copy() }
        }
        let a = pass(trained), b = pass(evaluated)
        #expect(a.count == b.count && a.count > 10)
        for (i, (u, v)) in zip(a, b).enumerated() { #expect(u.scalars == v.scalars, "\(name) tensor \(i)") }
        #expect(evaluated.training, "the layer's mode is restored after the re-run")
    }

    /// The commands a user runs give the same metrics to the last bit at --threads 1, 2 and 4,
    /// on data the test makes: batches of several row blocks, bidirectional and stacked models,
    /// products large enough to be cut in parts.
    @Test func commandsGiveTheSameNumbersAtEveryThreadCount() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = RandomGenerator(seed: 3)
        // A text of 300 words drawn at random: a language model with a 300-way softmax.
        var words: [String] = []
        for i in 0..<12_000 { words.append("w\(rng.int(below: 300))" + (i % 17 == 16 ? "\n" : " ")) }
        let text = words.joined()
        for name in ["train", "valid", "test"] {
            try text.write(to: dir.appendingPathComponent("ptb.\(name).txt"), atomically: true, encoding: .utf8)
        }
        let speech = try SpeechTests.makeTree(classes: [("low", 300), ("high", 2000)], perClass: 40)
        defer { try? FileManager.default.removeItem(at: speech) }
        let runs: [[String]] = [
            ["palindrome", "--length", "6", "--hidden", "48", "--batch-size", "70", "--steps", "40", "--log-every", "20", "--test-batches", "2"],
            ["palindrome", "--cell", "gru", "--length", "5", "--hidden", "40", "--layers", "2", "--bidirectional", "--dropout", "0.2",
             "--batch-size", "100", "--steps", "30", "--log-every", "15", "--test-batches", "2"],
            ["speech", "--data", speech.path, "--classes", "low,high", "--model", "bidir", "--cell", "lstm", "--hidden", "32", "--layers", "2",
             "--epochs", "2", "--batch-size", "40"],
            ["speech", "--data", speech.path, "--classes", "low,high", "--model", "rnn", "--cell", "gru", "--hidden", "48", "--layers", "2",
             "--epochs", "2", "--batch-size", "64"],
            ["lm", "--data", dir.path, "--hidden", "64", "--layers", "2", "--dropout", "0.3", "--batch-size", "40", "--bptt", "20",
             "--epochs", "1"],
        ]
        for args in runs {
            let outputs = try [1, 2, 4].map { threads -> String in
                let r = try RecurProcess.run(args + ["--threads", "\(threads)", "--json", "--quiet"])
                #expect(r.status == 0, "\(args): \(r.stderr)")
                var object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
                // Timings and the thread count itself are all that may differ.
                for key in object.keys where key.contains("seconds") || key.contains("per_second") || key.hasPrefix("ms_") {
                    object[key] = nil
                }
                if var config = object["config"] as? [String: Any] {
                    config["threads"] = nil
                    object["config"] = config
                }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                return String(decoding: data, as: UTF8.self)
            }
            #expect(outputs[1] == outputs[0] && outputs[2] == outputs[0], "\(args.prefix(3)): \(outputs)")
        }
    }
}

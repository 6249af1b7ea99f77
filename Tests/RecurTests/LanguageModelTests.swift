import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct LanguageModelTests {
    static let text = "the cat sat on the mat\nthe dog sat\n<unk> ran on the mat\n"

    @Test func unitsAndVocabulary() throws {
        let (units, lines) = TextCorpus.units(ofText: Self.text, level: .word)
        #expect(units.prefix(7) == ["the", "cat", "sat", "on", "the", "mat", "<eos>"])
        #expect(units.count == 17 && lines[7] == 2 && lines.last == 3)
        let v = TokenVocabulary(training: units)
        #expect(v.tokens.prefix(3) == ["the", "<eos>", "sat"])  // the:4, <eos>:3, sat:2 (before on/mat by first use)
        #expect(v.ids["the"] == 0)
        let chars = TextCorpus.units(ofText: "ab c\n", level: .char).units
        #expect(chars == ["a", "b", "_", "c", "<eos>"])
    }

    @Test func unknownWords() throws {
        let v = TokenVocabulary(training: TextCorpus.units(ofText: Self.text, level: .word).units)
        #expect(try v.encode(["the", "zebra"], lines: [1, 1], file: "t.txt") == [0, v.ids["<unk>"]!])
        let noUnk = TokenVocabulary(training: ["a", "b"])
        do {
            _ = try noUnk.encode(["a", "zebra"], lines: [4, 5], file: "test.txt")
            Issue.record("expected an error")
        } catch { #expect("\(error)".hasPrefix("test.txt:5: 'zebra' is not in the training vocabulary")) }
    }

    @Test func batchifyLayout() throws {
        let s = try BatchedStream((0..<23).map(Int32.init), batch: 3)  // 7 steps per stream, 2 dropped
        #expect(s.steps == 7)
        #expect(Array(s.data.prefix(6)) == [0, 7, 14, 1, 8, 15])  // [t, b] = stream b's t-th token
        let w = s.window(at: 0, bptt: 4)
        #expect(w.steps == 4 && w.inputs.prefix(3) == [0, 7, 14] && w.targets.prefix(3) == [1, 8, 15])
        let last = s.window(at: 4, bptt: 4)  // 6 - 4 = 2 steps remain
        #expect(last.steps == 2 && last.targets.suffix(3) == [6, 13, 20])
        #expect(Array(s.windowStarts(bptt: 4)) == [0, 4])
        #expect(throws: RecurError.self) { try BatchedStream([1, 2, 3], batch: 2) }
    }

    func tinyModel(_ cell: CellType = .lstm, dropout: Float = 0) -> LanguageModel {
        LanguageModel(cell: cell, vocabularySize: 11, embeddingSize: 6, hiddenSize: 5, layers: 2, dropout: dropout, seed: 3)
    }

    @Test(arguments: [CellType.lstm, .gru])
    func stateIsCarriedAcrossWindowsAndDetached(_ cell: CellType) {
        let m = tinyModel(cell)
        var rng = RandomGenerator(seed: 5)
        let ids = (0..<(8 * 2)).map { _ in Int32(rng.int(below: 11)) }  // [T=8, B=2]
        // Carried: two windows of 4 give the same logits as one window of 8.
        var s1 = m.zeroState(batch: 2)
        let whole = m(ids, steps: 8, batch: 2, state: &s1).copy()
        var s2 = m.zeroState(batch: 2)
        let first = m(Array(ids.prefix(8)), steps: 4, batch: 2, state: &s2).copy()
        let carried = s2.h.copy(), carriedC = s2.c?.copy()
        let second = m(Array(ids.suffix(8)), steps: 4, batch: 2, state: &s2).copy()
        #expect(mismatch(first.scalars + second.scalars, whole.scalars, rtol: 1e-5, atol: 1e-6) == nil)
        #expect(mismatch(s2.h.scalars, s1.h.scalars, rtol: 1e-5, atol: 1e-6) == nil)
        // Detached: window 2's gradients equal those of window 2 alone from the carried state
        // given as a constant.
        let targets = (0..<8).map { _ in Int32(rng.int(below: 11)) }
        let loss = SoftmaxCrossEntropy()
        m.zeroGrad()
        m.backward(loss(second, targets: targets).gradient.copy())
        let viaCarry = m.parameters.map { $0.grad.copy() }
        var fresh = RecurrentState(h: carried, c: carriedC)
        m.zeroGrad()
        m.backward(loss(m(Array(ids.suffix(8)), steps: 4, batch: 2, state: &fresh), targets: targets).gradient)
        for (a, b) in zip(viaCarry, m.parameters) { #expect(a.scalars == b.grad.scalars) }
        // And the carried state matters.
        var zero = m.zeroState(batch: 2)
        #expect(m(Array(ids.suffix(8)), steps: 4, batch: 2, state: &zero).scalars != second.scalars)
    }

    @Test func perplexityIsExpOfMeanNLL() throws {
        let m = tinyModel()
        var e = LanguageModelExperiment()
        e.bptt = 3
        e.evalBatchSize = 2
        let ids: [Int32] = [1, 4, 2, 9, 9, 3, 0, 5, 7, 1, 2, 6, 10, 4]  // 7 per stream, windows 3+3
        let ppl = try e.perplexity(m, ids)
        // By hand in Double: the same windows, log-softmax of each target.
        m.training = false
        let s = try BatchedStream(ids, batch: 2)
        var state = m.zeroState(batch: 2)
        var nll = 0.0, n = 0
        for start in s.windowStarts(bptt: 3) {
            let w = s.window(at: start, bptt: 3)
            let logits = m(w.inputs, steps: w.steps, batch: 2, state: &state)
            for r in 0..<w.targets.count {
                let row = (0..<11).map { Double(logits[index: [r, $0]]) }
                let mx = row.max()!
                nll += mx + log(row.reduce(0) { $0 + exp($1 - mx) }) - row[Int(w.targets[r])]
                n += 1
            }
        }
        #expect(n == 12)
        #expect(abs(ppl - exp(nll / Double(n))) / ppl < 1e-5, "\(ppl) vs \(exp(nll / Double(n)))")
    }

    func corpus() -> (TokenVocabulary, [Int32]) {
        var rng = RandomGenerator(seed: 9)
        let words = ["a", "b", "c", "d", "e", "f", "<unk>"]
        let units = (0..<600).map { i in i % 9 == 8 ? "<eos>" : words[(i * 3 + rng.int(below: 2)) % 7] }
        let v = TokenVocabulary(training: units)
        return (v, try! v.encode(units, lines: [Int32](repeating: 1, count: units.count), file: "-"))
    }

    @Test(arguments: [OptimizerKind.sgd, .adam])
    func resumedRunEqualsUninterrupted(_ optimizer: OptimizerKind) throws {
        let (vocab, ids) = corpus()
        var e = LanguageModelExperiment()
        (e.layers, e.embeddingSize, e.hiddenSize, e.dropout, e.batchSize, e.bptt, e.epochs, e.decayAfter) = (2, 8, 8, 0.3, 4, 10, 3, 1)
        e.optimizer = optimizer
        e.learningRate = optimizer == .sgd ? 1 : 1e-2
        let straight = try e.run(train: ids, valid: Array(ids.prefix(200)), test: Array(ids.suffix(200)), vocabulary: vocab)
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("lm.safetensors").path
        var first = e
        first.epochs = 2
        _ = try first.run(train: ids, valid: Array(ids.prefix(200)), test: Array(ids.suffix(200)), vocabulary: vocab, save: ckpt)
        #expect(FileManager.default.fileExists(atPath: TrainingCheckpoint.bestPath(ckpt)))
        let resumed = try e.run(train: ids, valid: Array(ids.prefix(200)), test: Array(ids.suffix(200)), vocabulary: vocab, resume: ckpt)
        #expect(resumed.history.count == 3)
        #expect(resumed.history.map(\.trainPerplexity) == straight.history.map(\.trainPerplexity))
        #expect(resumed.history.map(\.validPerplexity) == straight.history.map(\.validPerplexity))
        #expect(resumed.history.last!.trainPerplexity < straight.history.first!.trainPerplexity)
        expectSameResults(resumed.json, straight.json)
    }

    @Test func samplingIsDeterministicPerSeed() throws {
        let (vocab, ids) = corpus()
        var e = LanguageModelExperiment()
        (e.layers, e.embeddingSize, e.hiddenSize, e.batchSize, e.bptt, e.epochs) = (1, 8, 8, 4, 10, 2)
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("lm.safetensors").path
        _ = try e.run(train: ids, valid: ids, test: ids, vocabulary: vocab, save: ckpt)
        let (m, v, _) = try LanguageModelExperiment.load(ckpt)
        #expect(v == vocab)
        let a = try LanguageModelExperiment.generate(m, vocabulary: v, prime: ["a", "b"], length: 30, temperature: 0.8, seed: 1)
        let b = try LanguageModelExperiment.generate(m, vocabulary: v, prime: ["a", "b"], length: 30, temperature: 0.8, seed: 1)
        let c = try LanguageModelExperiment.generate(m, vocabulary: v, prime: ["a", "b"], length: 30, temperature: 0.8, seed: 2)
        #expect(a == b && a.count == 30 && a != c)
        let g1 = try LanguageModelExperiment.generate(m, vocabulary: v, prime: ["a"], length: 10, temperature: 0, seed: 1)
        let g2 = try LanguageModelExperiment.generate(m, vocabulary: v, prime: ["a"], length: 10, temperature: 0, seed: 7)
        #expect(g1 == g2, "greedy ignores the seed")
        // The CLI reads the same checkpoint.
        let r = try RecurProcess.run(["generate", "--checkpoint", ckpt, "--prime", "a b", "--length", "5", "--seed", "1"])
        #expect(r.status == 0 && r.stdout.hasPrefix("a b"), "\(r.stderr)")
    }

    @Test func unigramBaseline() {
        // Uniform counts: perplexity equals the vocabulary size.
        let p = LanguageModelExperiment.unigramPerplexity(train: [0, 1, 2, 3], evaluate: [0, 1, 2, 3], vocabularySize: 4)
        #expect(abs(p - 4) < 1e-9)
    }

    @Test func cliPresetYieldsToExplicitOptions() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = String(repeating: Self.text, count: 30)
        for name in ["train", "valid", "test"] { try text.write(to: dir.appendingPathComponent("ptb.\(name).txt"), atomically: true, encoding: .utf8) }
        let r = try RecurProcess.run(["lm", "--data", dir.path, "--preset", "small", "--epochs", "1", "--hidden", "8", "--batch-size", "4", "--json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let config = try #require(obj["config"] as? [String: Any])
        #expect(config["epochs"] as? Int == 1 && config["hidden"] as? Int == 8 && config["bptt"] as? Int == 20 && config["decay_after"] as? Int == 4)
        #expect((obj["test_perplexity"] as? Double).map { $0 > 1 } == true)
    }

    @Test func cliErrors() throws {
        let r = try RecurProcess.run(["lm"])
        #expect(r.status == 64 && r.stderr.contains("--data"))
        let missing = try RecurProcess.run(["lm", "--data", "/nonexistent"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/ptb.train.txt"))
    }
}

import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct SentimentTests {
    @Test func tokenizer() {
        #expect(Tokenizer.tokens("Great movie!<br /><br />I LOVED it, didn't I?") == ["great", "movie", "i", "loved", "it", "didn't", "i"])
        #expect(Tokenizer.tokens("  a--b\t(c) ") == ["a", "b", "c"])
        #expect(Tokenizer.tokens("").isEmpty)
    }

    @Test func vocabularyIdsFollowKerasImdb() {
        let texts = [["b", "a", "c", "a"], ["c", "a", "d", "b"]]  // a:3, b:2, c:2 (b first), d:1
        let v = Vocabulary(training: texts, size: 7)
        #expect(v.ids == ["a": 4, "b": 5, "c": 6])  // d would be 7: not below the size
        #expect(v.encode(["a", "d", "zzz", "c"]) == [1, 4, 2, 2, 6])
        // Texts already written as ids stay ids (too large ones become unknown).
        #expect(v.encode(["1", "14", "5", "3"]) == [1, 2, 5, 3])
    }

    @Test func padAndTruncate() {
        let s: [Int32] = [1, 5, 6, 7, 8]
        #expect(Padding.apply(s, maxlen: 7, padding: .pre, truncating: .pre) == [0, 0, 1, 5, 6, 7, 8])
        #expect(Padding.apply(s, maxlen: 7, padding: .post, truncating: .pre) == [1, 5, 6, 7, 8, 0, 0])
        #expect(Padding.apply(s, maxlen: 3, padding: .pre, truncating: .pre) == [6, 7, 8])
        #expect(Padding.apply(s, maxlen: 3, padding: .pre, truncating: .post) == [1, 5, 6])
        #expect(Padding.apply(s, maxlen: 5, padding: .post, truncating: .post) == s)
    }

    func writeTemp(_ text: String) throws -> String {
        let url = temporaryFolder().appendingPathComponent("reviews.tsv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func tsvLoader() throws {
        let path = try writeTemp("1\tGood film.\npos\tGreat\nneg\tBad one\r\n\n0\tMeh\n")
        let c = try ReviewCorpus.tsv(path)
        #expect(c.reviews.map(\.label) == [1, 1, 0, 0])
        #expect(c.reviews[2].text == "Bad one")
    }

    @Test(arguments: [("1\tok\nno tab here\n", ":2: no tab"), ("1\tok\nmaybe\tok\n", ":2: label 'maybe'"), ("1\tok\n0\t  \n", ":2: the review text is empty")])
    func tsvMalformed(_ text: String, _ expected: String) throws {
        let path = try writeTemp(text)
        do {
            _ = try ReviewCorpus.tsv(path)
            Issue.record("no error for \(text)")
        } catch {
            #expect("\(error)".contains("reviews.tsv" + expected), "\(error)")
            #expect("\(error)".contains("`skipBad`"), "the library names its own parameter")
        }
        let skipped = try ReviewCorpus.tsv(path, skipBad: true)
        #expect(skipped.reviews.count == 1 && skipped.skipped == 1)
        // The command line names its flag instead.
        let cli = try RecurProcess.run(["sentiment", "--train", path, "--test", path, "--quiet"])
        #expect(cli.status != 0 && cli.stderr.contains("reviews.tsv" + expected) && cli.stderr.contains("--skip-bad"), "\(cli.stderr)")
    }

    @Test func folderLoader() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: RecurError.self) { try ReviewCorpus.folder(dir.path) }
        for (sub, texts) in [("pos", ["a fine film", "loved it"]), ("neg", ["dull"])] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(sub), withIntermediateDirectories: true)
            for (i, t) in texts.enumerated() { try t.write(to: dir.appendingPathComponent("\(sub)/\(i)_7.txt"), atomically: true, encoding: .utf8) }
        }
        let c = try ReviewCorpus.folder(dir.path)
        #expect(c.reviews.map(\.label) == [0, 1, 1] && c.reviews[0].text == "dull")
    }

    @Test func validationSplitIsSeeded() {
        let c = ReviewCorpus.synthetic(count: 100, seed: 1)
        let (a1, b1) = c.split(fraction: 0.5, seed: 3), (_, b2) = c.split(fraction: 0.5, seed: 3)
        #expect(a1.reviews.count == 50 && b1.reviews.count == 50)
        #expect(b1.reviews.map(\.text) == b2.reviews.map(\.text))
    }

    @Test func seedSummaryCountsExactly() {
        let expected: [(SentimentModel.Kind, Int)] = [(.rnn1, 64_034), (.lstm1, 64_136), (.gru1, 64_102), (.rnn100, 77_401)]
        for (kind, n) in expected {
            #expect(ModelSummary.sentiment(kind, vocabularySize: 2000, maxlen: 500, convention: .keras1).total == n, "\(kind)")
        }
        // PyTorch's two biases: one more bias vector per recurrent layer.
        #expect(ModelSummary.sentiment(.rnn1, vocabularySize: 2000, maxlen: 500, convention: .pytorch).total == 64_035)
        // Keras 2's GRU (reset_after=True) has two biases: 3 (32 + 1 + 2) + 64,000.
        #expect(ModelSummary.sentiment(.gru1, vocabularySize: 2000, maxlen: 500, convention: .keras).total == 64_105)
        #expect(ModelSummary.sentiment(.lstm1, vocabularySize: 2000, maxlen: 500, convention: .pytorch).total == 64_140)
        // Seed 002: LSTM with input 200, hidden 200 has 320,800 parameters with one bias.
        #expect(ModelSummary.layer(.lstm, inputSize: 200, hiddenSize: 200, layers: 1, bidirectional: false, bias: .single).total == 320_800)
        #expect(ModelSummary.layer(.lstm, inputSize: 200, hiddenSize: 200, layers: 1, bidirectional: false, bias: .separate).total == 321_600)
        #expect(ModelSummary.grouped(1_234_567) == "1,234,567" && ModelSummary.grouped(12) == "12")
        // Zaremba small with PyTorch's biases: 10000x200 embedding, 2 x 321,600 LSTM, 200->10000 head.
        #expect(ModelSummary.languageModel(.lstm, vocabularySize: 10_000, embeddingSize: 200, hiddenSize: 200, layers: 2, steps: 35,
                                           bias: .separate).total == 2_000_000 + 643_200 + 2_010_000)
    }

    @Test func summaryCommandPrintsTotals() throws {
        let r = try RecurProcess.run(["summary", "--task", "sentiment", "--model", "rnn100", "--vocab", "2000", "--maxlen", "500", "--convention", "keras1"])
        #expect(r.status == 0 && r.stdout.contains("Total params: 77,401") && r.stdout.contains("(None, 500, 32)"))
        let l = try RecurProcess.run(["summary", "--task", "layer", "--cell", "lstm", "--input", "200", "--hidden", "200"])
        #expect(l.stdout.contains("Total params: 320,800"))
    }

    @Test(arguments: SentimentModel.Kind.allCases)
    func maskedAndPaddedAgreeWhenNothingIsPadded(_ kind: SentimentModel.Kind) {
        let m = SentimentModel(kind: kind, vocabularySize: 50, seed: 2)
        m.training = false
        var rng = RandomGenerator(seed: 3)
        let (T, B) = (12, 4)
        let ids = (0..<(T * B)).map { _ in Int32(1 + rng.int(below: 49)) }
        let a = m(ids, steps: T, batch: B).scalars
        let b = m(ids, steps: T, batch: B, lengths: [T, T, T, T]).scalars
        #expect(a == b)
    }

    @Test func learnsAnEasyCorpus() throws {
        var rng = RandomGenerator(seed: 4)
        func corpus(_ n: Int) -> ReviewCorpus {
            ReviewCorpus(reviews: (0..<n).map { _ in
                let label: Float = rng.uniform() < 0.5 ? 0 : 1
                let words = (0..<15).map { _ in rng.uniform() < 0.3 ? (label == 1 ? "good" : "bad") : ["the", "a", "film", "was", "it"][rng.int(below: 5)] }
                return .init(label: label, text: words.joined(separator: " "))
            })
        }
        var e = SentimentExperiment()
        e.model = .lstm100
        e.maxlen = 20
        e.epochs = 4
        e.batchSize = 16
        e.learningRate = 1e-2
        let r = try e.run(train: corpus(400), valid: corpus(100), test: corpus(200))
        #expect(r.testAccuracy > 0.9, "test accuracy \(r.testAccuracy)")
        #expect(r.history.count == 4)
    }

    @Test func cliRequiresData() throws {
        let r = try RecurProcess.run(["sentiment"])
        #expect(r.status == 64 && r.stderr.contains("--synthetic"))
        let missing = try RecurProcess.run(["sentiment", "--train", "/nonexistent.tsv", "--test", "/nonexistent.tsv"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent.tsv"))
    }
}

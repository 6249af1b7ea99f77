import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct PalindromeTests {
    @Test(arguments: [1, 2, 5, 6, 11, 21])
    func generatesPalindromes(_ digits: Int) {
        var data = PalindromeDataset(length: 4, seed: 3)
        for _ in 0..<50 {
            let p = data.palindrome(digits: digits)
            #expect(p.count == digits)
            #expect(p == p.reversed())
            #expect(p.allSatisfy { (0...9).contains($0) })
        }
    }

    @Test func batchLayoutScalarAndOneHot() {
        var scalar = PalindromeDataset(length: 5, encoding: .scalar, seed: 8)
        var onehot = PalindromeDataset(length: 5, encoding: .onehot, seed: 8)
        let xs = Tensor(zeros: [5, 4, 1]), xo = Tensor(zeros: [5, 4, 10])
        let ts = scalar.batch(4, into: xs), to = onehot.batch(4, into: xo)
        #expect(ts == to)  // same seed, same digits
        for b in 0..<4 {
            let digits = (0..<5).map { Int(xs[index: [$0, b, 0]]) }
            #expect(Int32(digits[0]) == ts[b], "the target is the first digit")
            // Palindrome of 6 digits: d0 d1 d2 d2 d1 d0; inputs are its first five.
            #expect(digits[1] == digits[4] && digits[2] == digits[3])
            for t in 0..<5 {
                let row = (0..<10).map { xo[index: [t, b, $0]] }
                #expect(row.reduce(0, +) == 1 && row[digits[t]] == 1)
            }
        }
    }

    @Test func digitsAreUniform() {
        var data = PalindromeDataset(length: 1, seed: 1)
        var counts = [Int](repeating: 0, count: 10)
        for _ in 0..<20_000 { counts[data.palindrome(digits: 1)[0]] += 1 }
        #expect(counts.allSatisfy { abs($0 - 2000) < 200 })
    }

    /// End to end: a small LSTM learns short palindromes well above chance (10%).
    @Test func smallLSTMLearns() throws {
        var e = PalindromeExperiment()
        e.cell = .lstm
        e.length = 3
        e.hidden = 32
        e.batchSize = 32
        e.steps = 1500
        e.learningRate = 1e-2
        e.testBatches = 20
        let r = try e.run()
        #expect(r.testAccuracy > 0.9, "test accuracy \(r.testAccuracy)")
        #expect(r.history.count == 15)
        #expect(r.history.last!.loss < r.history.first!.loss)
    }

    @Test func sameSeedSameNumbers() throws {
        var e = PalindromeExperiment()
        e.cell = .gru
        e.length = 4
        e.hidden = 16
        e.batchSize = 8
        e.steps = 50
        e.testBatches = 3
        let a = try e.run(), b = try e.run()
        #expect(a.testAccuracy == b.testAccuracy && a.testLoss == b.testLoss)
        #expect(a.history.map(\.loss) == b.history.map(\.loss))
        e.seed = 43
        #expect(try e.run().history.map(\.loss) != a.history.map(\.loss))
    }
}

@Suite struct PalindromeCheckpointTests {
    /// 40 steps in one go equal 20 steps, a save, and 20 more after resuming (dropout and the
    /// data stream included); the best weights export with zero bias_hh for the seed's single bias.
    @Test func resumeIsExact() throws {
        var e = PalindromeExperiment()
        (e.cell, e.length, e.hidden, e.layers, e.dropout, e.batchSize, e.steps, e.logEvery, e.testBatches) = (.lstm, 5, 16, 2, 0.2, 16, 40, 10, 4)
        let whole = try e.run()
        let dir = temporaryFolder()
        let path = dir.appendingPathComponent("p.safetensors").path
        e.steps = 20
        _ = try e.run(save: path, resume: nil)
        e.steps = 40
        let resumed = try e.run(save: path, resume: path)
        #expect(resumed.history.map(\.loss) == whole.history.map(\.loss))
        #expect(resumed.testAccuracy == whole.testAccuracy && resumed.testLoss == whole.testLoss)
        expectSameResults(resumed.json, whole.json)
        let out = dir.appendingPathComponent("w.safetensors").path
        let names = try Checkpoint.exportWeights(from: TrainingCheckpoint.bestPath(path), to: out).names
        #expect(names.contains("rnn.bias_hh_l1") && names.contains("rnn.bias_ih_l1"))
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: out))
        #expect(file["rnn.bias_hh_l0"]!.scalars.allSatisfy { $0 == 0 })
        e.hidden = 17
        #expect(throws: RecurError.self) { try e.run(save: nil, resume: path) }
    }
}

import Foundation
import Recur
import Testing

/// The cell of docs/writing-a-cell.md, compiled here outside the module (this target imports
/// Recur without @testable, so the cell can use only the public API): `PeepholeLSTMCell.swift`
/// in this folder is the library's file itself, and the docs quote it whole.
@Suite struct WritingACellTests {
    @Test func theDocumentQuotesTheCell() throws {
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        let cell = try String(contentsOf: here.appendingPathComponent("PeepholeLSTMCell.swift"), encoding: .utf8)
        let doc = try String(contentsOf: here.appendingPathComponent("../../docs/writing-a-cell.md"), encoding: .utf8)
        let start = try #require(doc.range(of: "```swift\nimport Foundation\n"), "docs/writing-a-cell.md lacks the cell's code block")
        let end = try #require(doc.range(of: "\n```", range: start.upperBound..<doc.endIndex))
        let quoted = String(doc[doc.index(start.lowerBound, offsetBy: "```swift\n".count)..<end.lowerBound]) + "\n"
        #expect(quoted == cell, "the code block in docs/writing-a-cell.md differs from PeepholeLSTMCell.swift")
        #expect(cell.split(separator: "\n", omittingEmptySubsequences: false).count < 150)
    }

    /// A few steps of the palindrome task (remember the first digit) with the user-defined cell
    /// in a generic `RecurrentLayer`: the loss falls.
    @Test func trainsWithFallingLoss() {
        let layer = RecurrentLayer(cell: PeepholeLSTMCell(hiddenSize: 16), inputSize: 1, layers: 2, bidirectional: true, seed: 1)
        var rng = RandomGenerator(seed: 2)
        let model = SequenceModel(recurrent: layer, outputs: 10, rng: &rng)
        #expect(model.namedParameters.map(\.name).contains("rnn.weight_ch_l1_reverse"))
        var data = PalindromeDataset(length: 4, encoding: .scalar, seed: 3)
        let x = Tensor(zeros: [4, 32, 1])
        let adam = Adam(parameters: model.parameters, learningRate: 0.01)
        let loss = SoftmaxCrossEntropy()
        var losses: [Double] = []
        for _ in 0..<60 {
            let targets = data.batch(32, into: x)
            model.zeroGrad()
            let r = loss(model(x), targets: targets)
            model.backward(r.gradient)
            adam.step()
            losses.append(Double(r.value))
        }
        let first = losses.prefix(10).reduce(0, +) / 10, last = losses.suffix(10).reduce(0, +) / 10
        #expect(last < 0.8 * first, "loss \(first) -> \(last)")
    }
}

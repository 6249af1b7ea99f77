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

    /// Remember the first of four digits, with the user-defined cell in a generic
    /// `RecurrentLayer`, trained by the `Trainer` through the public API: the loss falls.
    final class FirstDigit: TrainingTask {
        let model: SequenceModel
        let batches = BatchSource.stream
        var rng = RandomGenerator(seed: 3)
        let x = Tensor(zeros: [4, 32, 1])
        let loss = SoftmaxCrossEntropy()
        var losses: [Double] = []
        init(_ model: SequenceModel) { self.model = model }

        func trainStep(_ batch: TrainingBatch) -> StepLoss {
            var targets: [Int32] = []
            for b in 0..<32 {
                let digits = (0..<4).map { _ in rng.int(below: 10) }
                for t in 0..<4 { x.pointer[t * 32 + b] = Float(digits[t]) }
                targets.append(Int32(digits[0]))
            }
            let r = loss(model(x), targets: targets)
            model.backward(r.gradient)
            losses.append(Double(r.value))
            return StepLoss(loss: Double(r.value), weight: 32)
        }

        func validate() -> Metrics { [("last_loss", losses.last ?? .nan)] }
    }

    @Test func trainsWithFallingLoss() throws {
        let layer = RecurrentLayer(cell: PeepholeLSTMCell(hiddenSize: 16), inputSize: 1, layers: 2, bidirectional: true, seed: 1)
        var rng = RandomGenerator(seed: 2)
        let model = SequenceModel(recurrent: layer, outputs: 10, rng: &rng)
        #expect(model.namedParameters.map(\.name).contains("rnn.weight_ch_l1_reverse"))
        let task = FirstDigit(model)
        let options = TrainingOptions(length: .steps(60), evaluateEvery: .steps(20),
                                      selection: .init("last_loss", higherIsBetter: false), learningRate: 0.01)
        let result = try Trainer(task: task, optimizer: Adam(parameters: model.parameters, learningRate: 0.01),
                                 options: options, shuffle: RandomGenerator(seed: 4)).fit()
        #expect(result.steps == 60 && result.history.count == 3)
        let first = task.losses.prefix(10).reduce(0, +) / 10, last = task.losses.suffix(10).reduce(0, +) / 10
        #expect(last < 0.8 * first, "loss \(first) -> \(last)")
    }
}

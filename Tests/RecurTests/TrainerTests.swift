import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// Result objects equal except for the timing keys (`seconds`, `ms_per_step`, `*_per_second`,
/// `seconds_per_epoch`), which no two runs share.
func expectSameResults(_ a: JSON, _ b: JSON, sourceLocation: SourceLocation = #_sourceLocation) {
    func strip(_ j: JSON) -> JSON {
        guard case .object(let pairs) = j else { return j }
        return .object(pairs.filter { !$0.0.contains("second") && $0.0 != "ms_per_step" && $0.0 != "config" })
    }
    #expect(strip(a).serialized() == strip(b).serialized(), sourceLocation: sourceLocation)
}

/// The same for two `--json` outputs of the command line.
func expectSameResults(_ a: String, _ b: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    func strip(_ text: String) throws -> String {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], sourceLocation: sourceLocation)
        let kept = object.filter { !$0.key.contains("second") && $0.key != "ms_per_step" && $0.key != "config" }
        return String(decoding: try JSONSerialization.data(withJSONObject: kept, options: [.sortedKeys]), as: UTF8.self)
    }
    #expect(try strip(a) == strip(b), sourceLocation: sourceLocation)
    #expect(try strip(a).count > 20, "results are there", sourceLocation: sourceLocation)
}

@Suite struct TrainerTests {
    /// A linear model y = w·x whose task reports scripted validation values, so that the
    /// best evaluation and the stop are known in advance.
    final class Line: TrainableModel {
        let w = Parameter("w", shape: [3])
        var training = true
        var randomStates: [RandomGenerator] = []
        var namedParameters: [(name: String, parameter: Parameter)] { [("w", w)] }
    }

    final class Scripted: TrainingTask {
        let model = Line()
        let batches = BatchSource.examples(count: 8, batchSize: 4, shuffle: true)
        var script: [Double]
        var weightsAtEvaluation: [[Float]] = []
        var seen: [[Int]] = []
        init(_ script: [Double]) { self.script = script }

        func trainStep(_ batch: TrainingBatch) -> StepLoss {
            seen.append(batch.rows)
            for (i, r) in batch.rows.enumerated() { model.w.grad.pointer[i % 3] += Float(r + 1) }
            return StepLoss(loss: Double(batch.rows.reduce(0, +)), weight: batch.rows.count)
        }

        func validate() -> Metrics {
            weightsAtEvaluation.append(model.w.value.scalars)
            return [("score", script.removeFirst())]
        }
    }

    func options(epochs: Int, patience: Int?) -> TrainingOptions {
        var o = TrainingOptions(length: .epochs(epochs), evaluateEvery: .epoch,
                                selection: .init("score", higherIsBetter: true), learningRate: 0.1)
        o.patience = patience
        return o
    }

    /// Best at the 2nd evaluation, then two without improvement: with patience 2 the run
    /// stops after the 4th and the model holds the 2nd's weights.
    @Test func earlyStoppingKeepsTheBestWeights() throws {
        let task = Scripted([0.5, 0.7, 0.6, 0.65, 0.9, 0.95])
        let trainer = Trainer(task: task, optimizer: SGD(parameters: task.model.parameters, learningRate: 0.1),
                              options: options(epochs: 6, patience: 2), shuffle: RandomGenerator(seed: 1))
        let r = try trainer.fit()
        #expect(r.stoppedEarly && r.epochs == 4 && r.history.count == 4)
        #expect(r.best == 0.7 && r.bestStep == 4)
        #expect(task.model.w.value.scalars == task.weightsAtEvaluation[1])
        #expect(task.weightsAtEvaluation[3] != task.weightsAtEvaluation[1])
        #expect(!task.model.training, "fit leaves the model in evaluation mode")

        let whole = Scripted([0.5, 0.7, 0.6, 0.65, 0.9, 0.95])
        let all = try Trainer(task: whole, optimizer: SGD(parameters: whole.model.parameters, learningRate: 0.1),
                              options: options(epochs: 6, patience: nil), shuffle: RandomGenerator(seed: 1)).fit()
        #expect(!all.stoppedEarly && all.epochs == 6 && all.best == 0.95)
        #expect(whole.model.w.value.scalars == whole.weightsAtEvaluation[5], "without patience the last weights stay")
    }

    /// Every example once per epoch, shuffled differently each epoch, the same for a seed.
    @Test func everyExampleOncePerEpoch() throws {
        let task = Scripted([Double](repeating: 0, count: 3))
        _ = try Trainer(task: task, optimizer: SGD(parameters: task.model.parameters, learningRate: 0.1),
                        options: options(epochs: 3, patience: nil), shuffle: RandomGenerator(seed: 7)).fit()
        let epochs = stride(from: 0, to: 6, by: 2).map { Array(task.seen[$0..<($0 + 2)].joined()) }
        for e in epochs { #expect(e.sorted() == Array(0..<8)) }
        #expect(Set(epochs.map { $0.map(String.init).joined() }).count == 3)
    }

    /// Bucketing: each sequence exactly once per epoch, batches of similar lengths (far more
    /// alike than a shuffled batch), the same plan for the same stream.
    @Test func bucketingCoversEverySequenceOnce() {
        var rng = RandomGenerator(seed: 3)
        let lengths = (0..<1000).map { _ in 30 + rng.int(below: 371) }
        var order = Array(0..<1000), stream = RandomGenerator(seed: 9)
        let plan = BatchPlan.epoch(order: &order, batchSize: 64, shuffle: true, lengths: lengths, rng: &stream)
        #expect(plan.flatMap { $0 }.sorted() == Array(0..<1000))
        #expect(plan.count == 16 && plan.filter { $0.count < 64 }.count <= 1)
        let spread = plan.map { b in b.map { lengths[$0] }.max()! - b.map { lengths[$0] }.min()! }
        #expect(spread.max()! < 60, "length spread within a batch: \(spread)")
        var order2 = Array(0..<1000), stream2 = RandomGenerator(seed: 9)
        #expect(BatchPlan.epoch(order: &order2, batchSize: 64, shuffle: true, lengths: lengths, rng: &stream2) == plan)
        let second = BatchPlan.epoch(order: &order, batchSize: 64, shuffle: true, lengths: lengths, rng: &stream)
        #expect(second != plan && second.flatMap { $0 }.sorted() == Array(0..<1000))
    }

    /// A non-finite loss stops training at that step with an error naming it; with a save
    /// path, the file left is the last good state (here the initial one).
    @Test func divergenceStopsAtOnce() throws {
        final class Exploding: TrainingTask {
            let model = Line()
            let batches = BatchSource.stream
            func trainStep(_ batch: TrainingBatch) -> StepLoss {
                StepLoss(loss: batch.index == 2 ? .infinity : 1, weight: 1)
            }
            func validate() -> Metrics { [("score", 0)] }
        }
        let task = Exploding()
        var o = TrainingOptions(length: .steps(10), evaluateEvery: .steps(5), selection: .init("score", higherIsBetter: true), learningRate: 1)
        o.clip = 0
        let path = temporaryFolder().appendingPathComponent("x.safetensors").path
        let trainer = Trainer(task: task, optimizer: SGD(parameters: task.model.parameters, learningRate: 1), options: o,
                              shuffle: RandomGenerator(seed: 1))
        #expect {
            _ = try trainer.fit(checkpoint: CheckpointSpec(path: path, resume: nil, format: "test", identity: "{}", architecture: nil))
        } throws: { e in
            (e as? TrainingDiverged).map { $0.step == 3 && $0.quantity == "loss" && $0.description.contains("non-finite") } ?? false
        }
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        #expect(file["w"] != nil && file.metadata["progress"]!.contains("\"step\":0"))
    }

    /// `recur forecast --optimizer sgd --lr 1e30 --save F` exits non-zero, says what happened
    /// and what to try, and F still exports.
    @Test func cliDivergenceKeepsALoadableFile() throws {
        let dir = temporaryFolder()
        let f = dir.appendingPathComponent("f.safetensors").path
        let r = try RecurProcess.run(["forecast", "--optimizer", "sgd", "--lr", "1e30", "--save", f, "--quiet"])
        #expect(r.status != 0 && r.stderr.contains("non-finite") && r.stderr.contains("--lr") && r.stderr.contains("--clip"), "\(r.stderr)")
        let export = try RecurProcess.run(["export", "--checkpoint", f, dir.appendingPathComponent("w.safetensors").path])
        #expect(export.status == 0, "\(export.stderr)")
    }

    /// `recur forecast` and `recur sentiment` resume as the other tasks do: the results of
    /// `--epochs 2 --save F` then `--epochs 4 --resume F` equal `--epochs 4`'s. (Through the
    /// command, one run per process: OpenBLAS called from several test threads at once can
    /// round differently.)
    @Test(arguments: [
        ["forecast", "--cell", "lstm", "--units", "6", "--recurrent-dropout", "0.2"],
        ["sentiment", "--synthetic", "200", "--model", "gru100", "--maxlen", "40", "--batch-size", "16", "--bucket"],
    ])
    func cliResumeIsExact(_ command: [String]) throws {
        let f = temporaryFolder().appendingPathComponent("run.safetensors").path
        func run(_ extra: [String]) throws -> String {
            let r = try RecurProcess.run(command + extra + ["--json", "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout
        }
        let whole = try run(["--epochs", "4"])
        _ = try run(["--epochs", "2", "--save", f])
        let resumed = try run(["--epochs", "4", "--resume", f, "--save", f])
        try expectSameResults(resumed, whole)
        #expect(FileManager.default.fileExists(atPath: TrainingCheckpoint.bestPath(f)))
    }

    /// A checkpoint of another configuration is refused, naming the field that differs.
    @Test func otherConfigurationIsRefused() throws {
        var e = ForecastExperiment()
        (e.cell, e.units, e.epochs) = (.gru, 6, 1)
        let path = temporaryFolder().appendingPathComponent("f.safetensors").path
        _ = try e.run(save: path)
        e.units = 7
        #expect { try e.run(resume: path) } throws: { "\($0)".contains("units 6 in the checkpoint, 7 in this run") }
        let train = ReviewCorpus.synthetic(count: 60, seed: 1)
        var s = SentimentExperiment()
        (s.model, s.maxlen, s.epochs) = (.rnn1, 20, 1)
        let sp = temporaryFolder().appendingPathComponent("s.safetensors").path
        _ = try s.run(train: train, valid: train, test: train, save: sp)
        #expect { try s.run(train: ReviewCorpus.synthetic(count: 60, seed: 5), valid: train, test: train, resume: sp) }
            throws: { "\($0)".contains("vocabulary differs") }
    }

    /// Saved between two validation points (6 steps of 4 per validation): the resumed run
    /// still equals the uninterrupted one, though the short run evaluated at its end.
    @Test func resumeBetweenEvaluationPoints() throws {
        var e = PalindromeExperiment()
        (e.cell, e.length, e.hidden, e.batchSize, e.steps, e.logEvery, e.testBatches, e.validBatches) = (.gru, 4, 8, 8, 12, 4, 2, 2)
        let whole = try e.run()
        let path = temporaryFolder().appendingPathComponent("p.safetensors").path
        e.steps = 6
        let short = try e.run(save: path, resume: nil)
        #expect(short.history.map(\.step) == [4, 6])
        e.steps = 12
        let resumed = try e.run(save: path, resume: path)
        expectSameResults(resumed.json, whole.json)
        #expect(resumed.history.map(\.step) == [4, 8, 12] && resumed.history.map(\.loss) == whole.history.map(\.loss))
    }
}

@Suite struct ModelFileTests {
    /// `recur sentiment --save` writes a model file: `recur infer` runs it with lengths and
    /// gives the model's own outputs; `recur export` takes a 100-unit LSTM and, for the 1-unit
    /// models (sigmoid activations), says that no nn module computes them.
    @Test func sentimentModelFileRunsInInfer() throws {
        let dir = temporaryFolder()
        func train(_ model: String) throws -> String {
            let f = dir.appendingPathComponent("\(model).safetensors").path
            let r = try RecurProcess.run(["sentiment", "--synthetic", "100", "--model", model, "--maxlen", "30", "--epochs", "1", "--save", f, "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
            return TrainingCheckpoint.bestPath(f)
        }
        let best = try train("lstm100")
        let (cfg, layer, _) = try Checkpoint.loadModel(best)
        #expect(cfg.task == .sentiment && cfg.sentimentModel == .lstm100 && cfg.convention == .keras1)
        let model = try #require(layer as? SentimentModel)
        model.training = false
        let (T, B, lengths) = (12, 3, [12, 5, 9])
        let ids = (0..<(T * B)).map { Int32(4 + $0 % 50) }
        var input = Safetensors()
        input["ids"] = Tensor(ids.map(Float.init), shape: [T, B])
        input["lengths"] = Tensor(lengths.map(Float.init), shape: [B])
        let inPath = dir.appendingPathComponent("in.safetensors").path, outPath = dir.appendingPathComponent("out.safetensors").path
        try input.write(to: URL(fileURLWithPath: inPath))
        let r = try RecurProcess.run(["infer", "--checkpoint", best, "--input", inPath, "--output", outPath])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try Safetensors(contentsOf: URL(fileURLWithPath: outPath))
        #expect(out["output"]?.scalars == model(ids, steps: T, batch: B, lengths: lengths).scalars)
        let plain = try RecurProcess.run(["export", "--checkpoint", best, dir.appendingPathComponent("w.safetensors").path])
        #expect(plain.status == 0 && !plain.stderr.contains("note:"), "\(plain.stderr)")
        let noted = try RecurProcess.run(["export", "--checkpoint", try train("gru1"), dir.appendingPathComponent("g.safetensors").path])
        #expect(noted.status == 0 && noted.stderr.contains("note:") && noted.stderr.contains("sigmoid"), "\(noted.stderr)")
        input["ids"] = Tensor([Float](repeating: 5000, count: T * B), shape: [T, B])
        try input.write(to: URL(fileURLWithPath: inPath))
        let bad = try RecurProcess.run(["infer", "--checkpoint", best, "--input", inPath, "--output", outPath])
        #expect(bad.status != 0 && bad.stderr.contains("not a token id below 2000"), "\(bad.stderr)")
    }

    /// Every forecaster writes a model file that reproduces its test predictions: the Jordan
    /// network, a relu LSTM and a TF 1.x GRU (reset before the product) included; the export
    /// says which of them a stock nn module cannot compute.
    @Test(arguments: [(ForecastExperiment.Network.jordan, Convention.keras), (.lstm, .keras), (.gru, .keras1), (.rnn, .keras)])
    func forecastModelFileReproducesPredictions(network: ForecastExperiment.Network, convention: Convention) throws {
        var e = ForecastExperiment()
        (e.cell, e.convention, e.epochs, e.units) = (network, convention, 1, 6)
        let path = temporaryFolder().appendingPathComponent("f.safetensors").path
        let result = try e.run(save: path)
        let (cfg, layer, _) = try Checkpoint.loadModel(TrainingCheckpoint.bestPath(path))
        #expect(cfg == e.modelConfig)
        let data = try WindowedSeries(e.series.values, window: e.window, trainFraction: e.trainFraction)
        let x = ForecastExperiment.batch(Array(data.inputs[data.splitIndex...]))
        let predicted: [Float]
        switch layer {
        case let jordan as JordanRNN: predicted = jordan(x)[e.window - 1].scalars
        case let model as SequenceModel: predicted = model(x).scalars
        default: Issue.record("\(type(of: layer))"); return
        }
        #expect(predicted.count == result.predicted.count)
        for (a, b) in zip(predicted, result.predicted) { #expect(abs(Double(a) - b) <= 1e-5 * max(1, abs(b))) }
        let (_, caveat) = try Checkpoint.exportWeights(from: TrainingCheckpoint.bestPath(path), to: path + ".pt.safetensors")
        #expect((caveat == nil) == (network == .rnn), "\(caveat ?? "")")
    }
}

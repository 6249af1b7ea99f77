import Recur
import Foundation

/// Seed 000: keyword spotting on Speech Commands with stacked or bidirectional recurrent
/// models over MFCC frames. Protocol: validate every 20 steps; whenever validation accuracy
/// reaches its best so far (>=, as the seed), measure test accuracy; report that, the final
/// test accuracy and a confusion matrix.
public struct SpeechExperiment: Sendable {
    public enum Model: String, Sendable, CaseIterable, Codable { case rnn, bidir }

    public var model: Model = .rnn
    public var cell: CellType = .lstm
    public var hidden = 32
    public var layers = 3
    /// An LSTM's projection size (PyTorch `proj_size`); 0: none.
    public var projectionSize = 0
    public var initialization: RecurrentInitialization = .pytorch
    /// How the bidir model combines its directions.
    public var merge: BidirectionalMerge = .concat
    public var epochs = 5
    public var batchSize = 100
    public var learningRate: Float = 0.003
    public var validateEvery = 20
    public var seed: UInt64 = 42
    /// Early stopping: stop after this many validations without a better accuracy and keep
    /// the best weights; nil: never.
    public var patience: Int? = nil
    public var sampleRate = 16000
    public var clipSeconds = 1.0
    public var coefficients = 20, fftSize = 2048, hop = 512, melBands = 128

    public init() {}

    public var name: String { (model == .bidir ? "Bidir-" : "RNN-") + cell.displayName }

    public var config: JSON {
        .object([
            ("task", "speech"), ("model", .string(model.rawValue)), ("cell", .string(cell.rawValue)), ("hidden", JSON(hidden)),
            ("layers", JSON(layers)), ("epochs", JSON(epochs)), ("batch_size", JSON(batchSize)), ("lr", JSON(learningRate)),
            ("validate_every", JSON(validateEvery)), ("seed", JSON(Int(seed))), ("sample_rate", JSON(sampleRate)),
            ("n_mfcc", JSON(coefficients)), ("n_fft", JSON(fftSize)), ("hop", JSON(hop)), ("n_mels", JSON(melBands)),
            ("threads", JSON(BLAS.threads)),
        ] + (patience.map { [("patience", JSON($0))] } ?? [])
          + (projectionSize > 0 ? [("proj_size", JSON(projectionSize))] : [])
          + (initialization != .pytorch ? [("init", .string(initialization.rawValue))] : [])
          + (merge != .concat && model == .bidir ? [("merge", .string(merge.rawValue))] : []))
    }

    /// MFCC frames of every clip: [clips][frames * coefficients], computed once (in parallel).
    public struct Features: Sendable {
        public let frames: Int, coefficients: Int
        public let values: [[Float]]
        public let labels: [Int]
        public let secondsPerClip: Double
    }

    public func features(_ clips: [SpeechCommandsDataset.Clip]) throws -> Features {
        let mfcc = MFCC(sampleRate: sampleRate, coefficients: coefficients, fftSize: fftSize, hop: hop, melBands: melBands)
        let length = Int(Double(sampleRate) * clipSeconds)
        let start = Date()
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: clips.count)
        results.initialize(repeating: [])
        defer { results.deallocate() }
        let errors = UnsafeMutableBufferPointer<RecurError?>.allocate(capacity: clips.count)
        errors.initialize(repeating: nil)
        defer { errors.deallocate() }
        let box = (UncheckedSendable(results), UncheckedSendable(errors))
        DispatchQueue.concurrentPerform(iterations: clips.count) { i in
            do {
                let wav = try WAVFile(contentsOf: clips[i].path)
                let audio = fitLength(Resampler.resample(wav.samples, from: wav.sampleRate, to: sampleRate), length)
                box.0.value[i] = mfcc(audio).flatMap { $0 }
            } catch let e as RecurError { box.1.value[i] = e } catch { box.1.value[i] = RecurError("\(clips[i].path): \(error)", fix: "") }
        }
        if let e = errors.first(where: { $0 != nil }) { throw e! }
        return Features(frames: mfcc.frameCount(samples: length), coefficients: coefficients, values: Array(results),
                        labels: clips.map(\.label), secondsPerClip: Date().timeIntervalSince(start) / Double(max(clips.count, 1)))
    }

    public struct ValidationPoint: Sendable, Codable {
        public let step: Int, trainLoss: Double, validAccuracy: Double
    }

    /// The saved architecture: a `sequence` model file that `recur export` and `recur infer` read.
    /// FNV-1a over every clip's label and feature bits, in order: equal for the same data.
    static func fingerprint(_ splits: [Features]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ x: UInt64) { h = (h ^ x) &* 0x100_0000_01b3 }
        for f in splits {
            for (label, clip) in zip(f.labels, f.values) {
                mix(UInt64(label))
                for v in clip { mix(UInt64(v.bitPattern)) }
            }
        }
        return String(h, radix: 16)
    }

    func modelConfig(classes: Int) -> ModelConfig {
        ModelConfig(sequence: cell, inputSize: coefficients, hiddenSize: hidden, layers: layers, bidirectional: model == .bidir,
                    outputSize: classes, projectionSize: projectionSize, merge: model == .bidir ? merge : .concat)
    }

    public struct Result: Sendable {
        public let name: String
        public let bestValidAccuracy: Double, testAccuracyAtBest: Double, finalTestAccuracy: Double, testLoss: Double
        /// confusion[true][predicted], final model on the test split.
        public let confusion: [[Int]]
        public let history: [ValidationPoint]
        public let seconds: Double, trainSeconds: Double, epochs: Int, steps: Int, sequences: Int
        public let parameterCount: Int
        public let config: JSON

        public var json: JSON {
            .object([
                ("test_accuracy", .number(testAccuracyAtBest)), ("best_valid_accuracy", .number(bestValidAccuracy)),
                ("final_test_accuracy", .number(finalTestAccuracy)), ("test_loss", .number(testLoss)),
                ("confusion_matrix", .array(confusion.map { .array($0.map { JSON($0) }) })),
                ("seconds", .number(seconds)), ("seconds_per_epoch", .number(trainSeconds / Double(max(epochs, 1)))),
                ("ms_per_step", .number(trainSeconds * 1000 / Double(max(steps, 1)))),
                ("sequences_per_second", .number(Double(sequences) / max(trainSeconds, 1e-9))),
                ("parameters", JSON(parameterCount)), ("config", config),
            ])
        }
    }

    func batch(_ f: Features, _ rows: ArraySlice<Int>) -> Tensor {
        let T = f.frames, C = f.coefficients, B = rows.count
        let x = Tensor(zeros: [T, B, C])
        for (b, r) in rows.enumerated() {
            f.values[r].withUnsafeBufferPointer { v in
                for t in 0..<T { (x.pointer + (t * B + b) * C).update(from: v.baseAddress! + t * C, count: C) }
            }
        }
        return x
    }

    /// Accuracy, mean loss and confusion matrix over `f` (the model in evaluation mode).
    func evaluate(_ net: SequenceModel, _ f: Features, classes: Int) -> (accuracy: Double, loss: Double, confusion: [[Int]]) {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var loss = 0.0
        let ce = SoftmaxCrossEntropy()
        for start in stride(from: 0, to: f.labels.count, by: 256) {
            let rows = Array(start..<min(start + 256, f.labels.count))
            let logits = net(batch(f, rows[...]))
            let targets = rows.map { Int32(f.labels[$0]) }
            loss += Double(ce(logits, targets: targets).value) * Double(rows.count)
            for (y, predicted) in zip(targets, logits.rowArgmax()) { confusion[Int(y)][predicted] += 1 }
        }
        let correct = (0..<classes).reduce(0) { $0 + confusion[$1][$1] }
        return (Double(correct) / Double(max(f.labels.count, 1)), loss / Double(max(f.labels.count, 1)), confusion)
    }

    /// The trainer's view: shuffled epochs over the training clips, validation accuracy every
    /// `validateEvery` steps, test accuracy whenever it reaches its best.
    final class Task: TrainingTask {
        let model: SequenceModel
        let batches: BatchSource
        let experiment: SpeechExperiment
        let train: Features, valid: Features, test: Features
        let classes: Int
        let loss = SoftmaxCrossEntropy()

        init(_ e: SpeechExperiment, model: SequenceModel, train: Features, valid: Features, test: Features, classes: Int) {
            (experiment, self.model, self.train, self.valid, self.test, self.classes) = (e, model, train, valid, test, classes)
            batches = .examples(count: train.labels.count, batchSize: e.batchSize, shuffle: true)
        }

        func trainStep(_ batch: TrainingBatch) -> StepLoss {
            let logits = model(experiment.batch(train, batch.rows[...]))
            let r = loss(logits, targets: batch.rows.map { Int32(train.labels[$0]) })
            model.backward(r.gradient)
            return StepLoss(loss: Double(r.value), weight: batch.rows.count)
        }

        func validate() -> Metrics {
            let v = experiment.evaluate(model, valid, classes: classes)
            return [("valid_loss", v.loss), ("valid_accuracy", v.accuracy)]
        }

        func atBest() -> Metrics { [("test_accuracy_at_best", experiment.evaluate(model, test, classes: classes).accuracy)] }
    }

    /// Trains and evaluates. `save`: at every validation point the full training state goes
    /// to `save` (for `resume`, which continues bit-identically), and the weights at each new
    /// best validation accuracy to `<save>.best.safetensors`.
    /// - classNames: the classes in label order, which a resumed run must share (with the
    ///   clips of every split, compared by a fingerprint of their features and labels).
    public func run(train: Features, valid: Features, test: Features, classes: Int, classNames: [String] = [],
                    save: String? = nil, resume: String? = nil,
                    progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        try MemoryBudget.check(training: modelConfig(classes: classes), steps: train.frames, batch: batchSize)
        var rng = RandomGenerator(seed: seed)
        let layer = cell.makeLayer(inputSize: coefficients, hiddenSize: hidden, layers: layers, bidirectional: model == .bidir,
                                   projectionSize: projectionSize, initialization: initialization,
                                   merge: model == .bidir ? merge : .concat, seed: rng.next())
        let net = SequenceModel(recurrent: layer, outputs: classes, rng: &rng)
        let task = Task(self, model: net, train: train, valid: valid, test: test, classes: classes)
        var options = TrainingOptions(length: .epochs(epochs), evaluateEvery: .steps(validateEvery),
                                      selection: .init("valid_accuracy", higherIsBetter: true, tiesImprove: true), learningRate: learningRate)
        options.patience = patience
        let trainer = Trainer(task: task, optimizer: Adam(parameters: net.parameters, learningRate: learningRate), options: options, shuffle: rng)
        trainer.report(to: progress, run: run)
        var checkpoint = CheckpointSpec(path: save, resume: resume, format: "recur-speech-2",
                                        identity: TrainingCheckpoint.identity(config), architecture: modelConfig(classes: classes))
        let data: JSON = .object([("classes", .array(classNames.map { .string($0) })), ("train", JSON(train.labels.count)),
                                  ("valid", JSON(valid.labels.count)), ("test", JSON(test.labels.count)),
                                  ("fingerprint", .string(Self.fingerprint([train, valid, test])))])
        (checkpoint.extra, checkpoint.mustMatch) = (["data": data.serialized()], ["data"])
        let trained = try trainer.fit(checkpoint: checkpoint)
        let final = evaluate(net, test, classes: classes)
        let history = trained.history.map { ValidationPoint(step: $0.step, trainLoss: $0["train_loss"]!, validAccuracy: $0["valid_accuracy"]!) }
        return Result(name: name, bestValidAccuracy: trained.best ?? .nan, testAccuracyAtBest: trained.atBest("test_accuracy_at_best") ?? .nan,
                      finalTestAccuracy: final.accuracy, testLoss: final.loss, confusion: final.confusion, history: history,
                      seconds: Date().timeIntervalSince(start), trainSeconds: trained.trainSeconds, epochs: trained.epochs,
                      steps: trained.steps, sequences: trained.examples, parameterCount: net.parameterCount, config: config)
    }
}

import Recur
import Foundation

/// Seed 001: can a recurrent network remember the first digit of a palindrome until the end?
/// Trains a `SequenceModel` on fresh random batches and tests on fresh batches.
public struct PalindromeExperiment: Sendable {
    public var cell: CellType = .lstm
    /// Input digits N (the palindrome has N + 1).
    public var length = 10
    public var hidden = 128
    public var layers = 1
    public var bidirectional = false
    /// An LSTM's projection size (PyTorch `proj_size`); 0: none.
    public var projectionSize = 0
    /// How a bidirectional model combines its directions.
    public var merge: BidirectionalMerge = .concat
    public var dropout: Float = 0
    public var encoding: PalindromeDataset.Encoding = .scalar
    /// Seed 001's defaults (one bias, fan-in initialisation, the head U(±1/√H)) or another
    /// framework's.
    public var convention: Convention = .seed
    /// Overrides the convention's recurrent initialisation (e.g. `.identity`, IRNN; `.orthogonal`).
    public var initialization: RecurrentInitialization? = nil
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    /// Global gradient-norm limit; 0 disables clipping.
    public var clip: Float = 1
    public var batchSize = 128
    public var steps = 10_000
    public var seed: UInt64 = 42
    /// StepLR: multiply the rate by `lrGamma` every `lrStep` steps (nil: constant; the seed
    /// uses 1000 and 0.1 with RMSprop).
    public var lrStep: Int? = nil
    public var lrGamma: Float = 0.1
    public var testBatches = 100
    /// Fixed validation batches (their own stream), evaluated every `logEvery` steps.
    public var validBatches = 10
    public var logEvery = 100
    /// Early stopping: stop after this many evaluations without a better validation accuracy
    /// and keep the best weights; nil: never.
    public var patience: Int? = nil

    public init() {}

    /// The seed's published mean test accuracies (fractions), by cell and N.
    public static let seedResults: [CellType: [Int: Double]] = [
        .rnn: [5: 1.0, 10: 0.379, 15: 0.179, 20: 0.225],
        .lstm: [5: 1.0, 10: 1.0, 15: 0.600, 20: 0.708],
    ]

    public var schedule: LearningRateSchedule {
        lrStep.map { .step(every: $0, gamma: lrGamma) } ?? .constant
    }

    public var config: JSON {
        .object([
            ("task", "palindrome"), ("cell", .string(cell.rawValue)), ("length", JSON(length)),
            ("hidden", JSON(hidden)), ("layers", JSON(layers)), ("bidirectional", .bool(bidirectional)),
            ("dropout", JSON(dropout)), ("encoding", .string(encoding.rawValue)),
            ("convention", .string(convention.rawValue)), ("init", .string((initialization ?? convention.initialization).rawValue)),
            ("optimizer", .string(optimizer.rawValue)),
            ("lr", JSON(learningRate)), ("lr_step", lrStep.map { JSON($0) } ?? .null), ("lr_gamma", JSON(lrGamma)),
            ("clip", JSON(clip)), ("batch_size", JSON(batchSize)), ("steps", JSON(steps)),
            ("seed", JSON(Int(seed))), ("test_batches", JSON(testBatches)), ("threads", JSON(BLAS.threads)),
        ] + (validBatches != 10 ? [("valid_batches", JSON(validBatches))] : [])
          + (patience.map { [("patience", JSON($0))] } ?? []) + (projectionSize > 0 ? [("proj_size", JSON(projectionSize))] : [])
          + (merge != .concat ? [("merge", .string(merge.rawValue))] : []))
    }

    public struct LogPoint: Sendable, Codable {
        public let step: Int
        public let loss: Double
        public let accuracy: Double
    }

    public struct Result: Sendable {
        public let testAccuracy: Double
        public let testLoss: Double
        public let trainLoss: Double
        public let trainAccuracy: Double
        /// At the last evaluation, and the best over all (fixed batches of their own stream).
        public let validAccuracy: Double, bestValidAccuracy: Double
        public let seconds: Double
        public let history: [LogPoint]
        public let parameterCount: Int
        public let config: JSON
        public let trainSeconds: Double
        public let steps: Int
        public let batchSize: Int

        public var json: JSON {
            .object([
                ("test_accuracy", .number(testAccuracy)), ("test_loss", .number(testLoss)),
                ("train_loss", .number(trainLoss)), ("train_accuracy", .number(trainAccuracy)),
                ("valid_accuracy", .number(validAccuracy)), ("best_valid_accuracy", .number(bestValidAccuracy)),
                ("seconds", .number(seconds)),
                ("ms_per_step", .number(trainSeconds * 1000 / Double(max(steps, 1)))),
                ("sequences_per_second", .number(Double(steps * batchSize) / max(trainSeconds, 1e-9))),
                ("parameters", JSON(parameterCount)), ("config", config),
            ])
        }
    }

    /// Trains and tests without checkpoints (nothing in it can fail then but divergence).
    public func run(progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        try self.run(save: nil, resume: nil, progress: progress, run: run)
    }

    /// The trainer's view of the task: fresh training batches every step, a fixed set of
    /// validation batches from their own stream.
    final class Task: TrainingTask {
        let model: SequenceModel
        let batches = BatchSource.stream
        var data: PalindromeDataset
        let x: Tensor
        let batchSize: Int
        let valid: [(x: Tensor, targets: [Int32])]
        let loss = SoftmaxCrossEntropy()

        init(_ e: PalindromeExperiment, model: SequenceModel, data: PalindromeDataset) {
            (self.model, self.data, batchSize) = (model, data, e.batchSize)
            x = Tensor(zeros: [e.length, e.batchSize, data.inputSize])
            var v = PalindromeDataset(length: e.length, encoding: e.encoding, seed: e.seed &+ 3)
            valid = (0..<e.validBatches).map { _ in
                let x = Tensor(zeros: [e.length, e.batchSize, v.inputSize])
                return (x, v.batch(e.batchSize, into: x))
            }
        }

        func trainStep(_ batch: TrainingBatch) -> StepLoss {
            let targets = data.batch(batchSize, into: x)
            let logits = model(x)
            let r = loss(logits, targets: targets)
            model.backward(r.gradient)
            return StepLoss(loss: Double(r.value), weight: batchSize, correct: PalindromeExperiment.correct(logits, targets))
        }

        func validate() -> Metrics {
            let (l, accuracy) = PalindromeExperiment.score(model, valid, loss)
            return [("valid_loss", l), ("valid_accuracy", accuracy)]
        }

        var randomStates: [RandomGenerator] {
            get { [data.rng] }
            set { data.rng = newValue[0] }
        }
    }

    /// The trainer's options for this experiment.
    var trainingOptions: TrainingOptions {
        var o = TrainingOptions(length: .steps(steps), evaluateEvery: .steps(logEvery),
                                selection: .init("valid_accuracy", higherIsBetter: true), learningRate: learningRate)
        (o.schedule, o.clip, o.patience) = (schedule, clip, patience)
        return o
    }

    /// Trains and tests. Evaluates every `logEvery` steps (metrics.jsonl in `run`, `progress`).
    /// `save`: at every evaluation point the training state goes to `save` (for `resume`,
    /// which continues bit-identically) and, when validation accuracy improves, the weights to
    /// `<save>.best.safetensors`.
    public func run(save: String?, resume: String?, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        let (model, task, trained) = try train(save: save, resume: resume, progress: progress, run: run)
        // Test on fresh batches from another stream, in evaluation mode.
        var test = PalindromeDataset(length: length, encoding: encoding, seed: seed &+ 2)
        var correct = 0, testLoss = 0.0
        for _ in 0..<testBatches {
            let targets = test.batch(batchSize, into: task.x)
            let logits = model(task.x)
            testLoss += Double(task.loss(logits, targets: targets).value)
            correct += Self.correct(logits, targets)
        }
        let history = trained.history.map { LogPoint(step: $0.step, loss: $0["train_loss"]!, accuracy: $0["train_accuracy"]!) }
        let last = history.last ?? LogPoint(step: 0, loss: .nan, accuracy: .nan)
        return Result(testAccuracy: Double(correct) / Double(max(testBatches * batchSize, 1)),
                      testLoss: testLoss / Double(max(testBatches, 1)), trainLoss: last.loss, trainAccuracy: last.accuracy,
                      validAccuracy: trained.history.last?["valid_accuracy"] ?? .nan, bestValidAccuracy: trained.best ?? .nan,
                      seconds: Date().timeIntervalSince(start), history: history, parameterCount: model.parameterCount,
                      config: config, trainSeconds: trained.trainSeconds, steps: trained.steps, batchSize: batchSize)
    }

    /// The model's configuration, refused (a thrown error naming the sizes) when training it on
    /// batches of `batchSize` x `length` steps would not fit in memory.
    func checkedArchitecture(inputSize: Int) throws -> ModelConfig {
        let architecture = ModelConfig(sequence: cell, inputSize: inputSize, hiddenSize: hidden, layers: layers,
                                       bidirectional: bidirectional, outputSize: 10, bias: convention.bias(for: cell),
                                       projectionSize: projectionSize, merge: merge)
        try MemoryBudget.check(training: architecture, steps: length, batch: batchSize)
        return architecture
    }

    /// The model after `steps` training steps (or as initialised, for 0 steps) and its task.
    func train(save: String? = nil, resume: String? = nil, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws
        -> (model: SequenceModel, task: Task, trained: TrainingResult) {
        let data = trainingData()
        let architecture = try checkedArchitecture(inputSize: data.inputSize)
        let (model, recurrent) = makeModel(inputSize: data.inputSize)
        precondition(recurrent.bias == architecture.bias, "the palindrome model's bias \(recurrent.bias) differs from its configuration's \(architecture.bias)")
        let task = Task(self, model: model, data: data)
        let trainer = Trainer(task: task, optimizer: optimizer.make(model.parameters, learningRate: learningRate),
                              options: trainingOptions, shuffle: RandomGenerator(seed: seed))
        trainer.report(to: progress, run: run)
        let trained = try trainer.fit(checkpoint: CheckpointSpec(path: save, resume: resume, format: "recur-palindrome-2",
                                                                 identity: TrainingCheckpoint.identity(config), architecture: architecture))
        return (model, task, trained)
    }

    /// Mean loss (per batch) and accuracy over prepared batches.
    static func score(_ model: SequenceModel, _ batches: [(x: Tensor, targets: [Int32])],
                      _ loss: SoftmaxCrossEntropy) -> (loss: Double, accuracy: Double) {
        var correct = 0, total = 0.0
        for (x, targets) in batches {
            let logits = model(x)
            total += Double(loss(logits, targets: targets).value)
            correct += Self.correct(logits, targets)
        }
        let rows = batches.reduce(0) { $0 + $1.targets.count }
        return (total / Double(max(batches.count, 1)), Double(correct) / Double(max(rows, 1)))
    }

    /// The stream of training batches (its random stream comes from `seed`).
    func trainingData() -> PalindromeDataset {
        PalindromeDataset(length: length, encoding: encoding, seed: seed &+ 1)
    }

    /// The initialised model (its random stream comes from `seed`).
    func makeModel(inputSize: Int) -> (model: SequenceModel, recurrent: any RecurrentStack) {
        var initRNG = RandomGenerator(seed: seed)
        let initSeed = initRNG.next()
        let recurrent = cell.makeLayer(inputSize: inputSize, hiddenSize: hidden, layers: layers,
                                       bidirectional: bidirectional, dropout: dropout,
                                       bias: convention.bias(for: cell), projectionSize: projectionSize,
                                       initialization: initialization ?? convention.initialization, merge: merge, seed: initSeed)
        let model = SequenceModel(recurrent: recurrent, outputs: 10, rng: &initRNG)
        convention.initialize(model.head, rng: &initRNG)
        return (model, recurrent)
    }

    /// Rows whose largest logit is the target.
    public static func correct(_ logits: Tensor, _ targets: [Int32]) -> Int {
        zip(logits.rowArgmax(), targets).filter { $0 == Int($1) }.count
    }
}

import Foundation
import Recur

/// The long-range memory benchmarks of the vanishing-gradient literature.
public enum MemoryBenchmark: String, CaseIterable, Sendable {
    /// Remember two marked values over T steps and output their sum (`AddingDataset`), MSE at the last step.
    case adding
    /// Reproduce 10 symbols after a delay of T steps (`CopyDataset`), cross-entropy at every step.
    case copy

    /// The key of the test metric and of its baseline in results: MSE for adding, loss for copy.
    public var metric: String { self == .adding ? "mse" : "loss" }

    /// What the baseline is.
    public var baselineName: String { self == .adding ? "always predicting 1" : "blanks, then a uniform guess" }
}

/// A long-range memory benchmark: a recurrent layer trained on fresh batches of generated
/// sequences, validated on fixed batches of their own stream, tested on fresh batches of a
/// third stream beside the memoryless baseline computed on the same test batches. The
/// defaults are Le, Jaitly & Hinton 2015's and Arjovsky, Shah & Bengio 2016's setup: hidden
/// 128, batch 50, Adam 1e-3, clip 1, 10,000 steps.
///
/// - adding: the last state -> Linear(1), MSE; baseline: always predicting 1 (MSE 1/6).
/// - copy: every state -> Linear(9), cross-entropy over all T+20 steps; baseline 10 log 8 / (T+20).
public struct MemoryTaskExperiment: Sendable {
    public var benchmark: MemoryBenchmark = .adding
    public var cell: CellType = .lstm
    /// T: steps per sequence (adding) or the delay (copy, T+20 steps per sequence).
    public var length = 100
    public var hidden = 128
    public var initialization: RecurrentInitialization = .pytorch
    public var learningRate: Float = 1e-3
    public var clip: Float = 1
    public var batchSize = 50
    public var steps = 10_000
    public var logEvery = 100
    public var validBatches = 10
    public var testBatches = 20
    public var patience: Int? = nil
    public var seed: UInt64 = 42
    /// Flush subnormal floats to zero while training (`FloatingPointEnvironment.flushSubnormals`).
    public var flushSubnormals = false

    public init(_ benchmark: MemoryBenchmark = .adding) { self.benchmark = benchmark }

    public var config: JSON {
        .object([
            ("task", .string(benchmark.rawValue)), ("cell", .string(cell.rawValue)), ("length", JSON(length)), ("hidden", JSON(hidden)),
            ("init", .string(initialization.rawValue)), ("lr", JSON(learningRate)), ("clip", JSON(clip)),
            ("batch_size", JSON(batchSize)), ("steps", JSON(steps)), ("test_batches", JSON(testBatches)),
            ("valid_batches", JSON(validBatches)), ("seed", JSON(Int(seed))), ("streams", 2), ("threads", JSON(BLAS.threads)),
        ] + (patience.map { [("patience", JSON($0))] } ?? []) + (flushSubnormals ? [("flush_subnormals", .bool(true))] : []))
    }

    /// The data streams' seeds (training, test, validation), drawn from the run's seed so that
    /// the streams of different runs do not overlap (with seed + k, run s + 1 would train on
    /// run s's test batches).
    public var streamSeeds: (train: UInt64, test: UInt64, valid: UInt64) {
        var g = RandomGenerator(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        return (g.next(), g.next(), g.next())
    }

    /// Steps per sequence: T for adding, T + 20 for copy.
    public var sequenceLength: Int { benchmark == .adding ? length : CopyDataset(delay: length, seed: 0).length }

    public struct Result: Sendable {
        public let benchmark: MemoryBenchmark
        /// Test and baseline MSE (adding) or cross-entropy per step (copy), on the same test batches.
        public let testLoss: Double, baselineLoss: Double, validLoss: Double, trainLoss: Double
        /// Copy only: the fraction of the 10 copied symbols that are right (argmax).
        public let copyAccuracy: Double?
        public let history: [TrainingLogPoint]
        public let seconds: Double, trainSeconds: Double, steps: Int
        public let config: JSON

        /// `test_mse`/`baseline_mse`/`valid_mse` (adding) or `test_loss`/`baseline_loss`/`valid_loss` (copy).
        public var json: JSON {
            let m = benchmark.metric
            return .object([("test_\(m)", .number(testLoss)), ("baseline_\(m)", .number(baselineLoss)), ("valid_\(m)", .number(validLoss))]
                + (copyAccuracy.map { [("test_copy_accuracy", .number($0))] } ?? [])
                + [("train_loss", .number(trainLoss)), ("seconds", .number(seconds)),
                   ("ms_per_step", .number(trainSeconds * 1000 / Double(max(steps, 1)))), ("steps_run", JSON(steps)),
                   ("train_seconds", .number(trainSeconds)), ("config", config)])
        }
    }

    public func run(save: String? = nil, resume: String? = nil, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        let previousMode = FloatingPointEnvironment.flushSubnormals(flushSubnormals)
        defer { FloatingPointEnvironment.flushSubnormals(previousMode) }
        let inputs = benchmark == .adding ? AddingDataset.inputSize : CopyDataset.inputSize
        let outputs = benchmark == .adding ? 1 : CopyDataset.classes
        let architecture = ModelConfig(sequence: cell, inputSize: inputs, hiddenSize: hidden, outputSize: outputs, bias: .separate)
        try MemoryBudget.check(training: architecture, steps: sequenceLength, batch: batchSize)
        var rng = RandomGenerator(seed: seed)
        let layer = cell.makeLayer(inputSize: inputs, hiddenSize: hidden, initialization: initialization, seed: rng.next())
        // A copy model is a SequenceTagger, which no model file describes: its checkpoint
        // carries no architecture, so infer and export refuse it rather than misread it.
        let checkpoint = CheckpointSpec(path: save, resume: resume, format: "recur-\(benchmark.rawValue)-1",
                                        identity: TrainingCheckpoint.identity(config), architecture: benchmark == .adding ? architecture : nil)
        func train<T: TrainingTask>(_ task: T) throws -> TrainingResult {
            var options = TrainingOptions(length: .steps(steps), evaluateEvery: .steps(logEvery),
                                          selection: .init("valid_\(benchmark.metric)", higherIsBetter: false), learningRate: learningRate)
            (options.clip, options.patience) = (clip, patience)
            let trainer = Trainer(task: task, optimizer: OptimizerKind.adam.make(task.model.parameters, learningRate: learningRate),
                                  options: options, shuffle: RandomGenerator(seed: seed))
            trainer.report(to: progress, run: run)
            return try trainer.fit(checkpoint: checkpoint)
        }
        let trained: TrainingResult, test: (loss: Double, baseline: Double, copyAccuracy: Double?)
        switch benchmark {
        case .adding:
            let task = AddingTask(self, model: SequenceModel(recurrent: layer, outputs: 1, rng: &rng))
            trained = try train(task)
            test = task.test(batches: testBatches, seed: streamSeeds.test)
        case .copy:
            let task = CopyTask(self, model: SequenceTagger(recurrent: layer, outputs: CopyDataset.classes, rng: &rng))
            trained = try train(task)
            test = task.test(batches: testBatches, seed: streamSeeds.test)
        }
        return Result(benchmark: benchmark, testLoss: test.loss, baselineLoss: test.baseline,
                      validLoss: trained.history.last?["valid_\(benchmark.metric)"] ?? .nan,
                      trainLoss: trained.history.last?["train_loss"] ?? .nan, copyAccuracy: test.copyAccuracy,
                      history: trained.history, seconds: Date().timeIntervalSince(start), trainSeconds: trained.trainSeconds,
                      steps: trained.steps, config: config)
    }
}

/// A benchmark's data stream: batches into a fixed input tensor, with their targets.
protocol GeneratedBatches {
    associatedtype Targets
    var rng: RandomGenerator { get set }
    mutating func batch(_ size: Int, into x: Tensor) -> Targets
}

extension AddingDataset: GeneratedBatches {}
extension CopyDataset: GeneratedBatches {}

/// What the two tasks share: a training stream, fixed validation batches of their own stream,
/// one input buffer, and the stream's state in checkpoints.
class GeneratedTask<Data: GeneratedBatches, Model: TrainableModel> {
    let model: Model
    let batches = BatchSource.stream
    var data: Data
    let x: Tensor
    let valid: [(x: Tensor, targets: Data.Targets)]

    /// make(seed): the benchmark's stream; shape: the input tensor's [steps, batch, inputs].
    init(model: Model, validBatches: Int, shape: [Int], seeds: (train: UInt64, test: UInt64, valid: UInt64), make: (UInt64) -> Data) {
        self.model = model
        data = make(seeds.train)
        x = Tensor(zeros: shape)
        var v = make(seeds.valid)
        valid = (0..<validBatches).map { _ in
            let x = Tensor(zeros: shape)
            return (x, v.batch(shape[1], into: x))
        }
    }

    var randomStates: [RandomGenerator] {
        get { [data.rng] }
        set { data.rng = newValue[0] }
    }
}

final class AddingTask: GeneratedTask<AddingDataset, SequenceModel>, TrainingTask {
    let loss = MeanSquaredError()

    init(_ e: MemoryTaskExperiment, model: SequenceModel) {
        super.init(model: model, validBatches: e.validBatches, shape: [e.length, e.batchSize, AddingDataset.inputSize], seeds: e.streamSeeds) {
            AddingDataset(length: e.length, seed: $0)
        }
    }

    func trainStep(_ batch: TrainingBatch) -> StepLoss {
        let targets = data.batch(x.shape[1], into: x)
        let r = loss(model(x).reshaped([x.shape[1]]), targets: targets)
        model.backward(r.gradient.reshaped([x.shape[1], 1]))
        return StepLoss(loss: Double(r.value), weight: x.shape[1])
    }

    func validate() -> Metrics {
        let mse = valid.reduce(0.0) { $0 + Double(loss(model($1.x).reshaped([$1.targets.count]), targets: $1.targets).value) } / Double(valid.count)
        return [("valid_mse", mse)]
    }

    /// MSE of the model and of always predicting 1, on `batches` fresh batches of the stream `seed`.
    func test(batches: Int, seed: UInt64) -> (loss: Double, baseline: Double, copyAccuracy: Double?) {
        var test = AddingDataset(length: data.length, seed: seed)
        var modelError = 0.0, baselineError = 0.0, n = 0
        model.training = false
        for _ in 0..<batches {
            let targets = test.batch(x.shape[1], into: x)
            for (y, t) in zip(model(x).scalars, targets) {
                modelError += Double(y - t) * Double(y - t)
                baselineError += Double(1 - t) * Double(1 - t)
            }
            n += targets.count
        }
        return (modelError / Double(n), baselineError / Double(n), nil)
    }
}

final class CopyTask: GeneratedTask<CopyDataset, SequenceTagger>, TrainingTask {
    let loss = SoftmaxCrossEntropy()

    init(_ e: MemoryTaskExperiment, model: SequenceTagger) {
        super.init(model: model, validBatches: e.validBatches, shape: [e.sequenceLength, e.batchSize, CopyDataset.inputSize], seeds: e.streamSeeds) {
            CopyDataset(delay: e.length, seed: $0)
        }
    }

    func trainStep(_ batch: TrainingBatch) -> StepLoss {
        let targets = data.batch(x.shape[1], into: x)
        let r = loss(model(x), targets: targets)
        model.backward(r.gradient)
        return StepLoss(loss: Double(r.value), weight: x.shape[1])
    }

    func validate() -> Metrics {
        let l = valid.reduce(0.0) { $0 + Double(loss(model($1.x), targets: $1.targets).value) } / Double(valid.count)
        return [("valid_loss", l)]
    }

    /// Cross-entropy per step of the model and of the memoryless strategy, and the fraction of
    /// copied symbols the model gets right, on `batches` fresh batches of the stream `seed`.
    func test(batches: Int, seed: UInt64) -> (loss: Double, baseline: Double, copyAccuracy: Double?) {
        var test = CopyDataset(delay: data.delay, seed: seed)
        let (T, B, C) = (x.shape[0], x.shape[1], CopyDataset.classes)
        var modelLoss = 0.0, baseline = 0.0, right = 0
        model.training = false
        for _ in 0..<batches {
            let targets = test.batch(B, into: x)
            let logits = model(x)
            baseline += test.memorylessLoss(targets)
            modelLoss += Double(loss(logits, targets: targets).value)
            let p = logits.scalars
            for row in ((T - CopyDataset.copied) * B)..<(T * B) {
                let scores = p[(row * C)..<((row + 1) * C)]
                if scores.firstIndex(of: scores.max()!)! - row * C == Int(targets[row]) { right += 1 }
            }
        }
        return (modelLoss / Double(batches), baseline / Double(batches), Double(right) / Double(batches * B * CopyDataset.copied))
    }
}

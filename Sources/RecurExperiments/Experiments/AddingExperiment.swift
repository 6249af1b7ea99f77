import Recur
import Foundation

/// The adding problem as a long-range memory benchmark: a recurrent layer and Linear(1)
/// read the last state and regress the sum of the two marked values (MSE), trained on fresh
/// batches, validated on fixed batches of their own stream, tested on fresh ones beside the
/// baseline of always predicting 1 (computed on the same test batches).
public struct AddingExperiment: Sendable {
    public var cell: CellType = .lstm
    /// T: steps per sequence.
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

    public init() {}

    public var config: JSON {
        .object([
            ("task", "adding"), ("cell", .string(cell.rawValue)), ("length", JSON(length)), ("hidden", JSON(hidden)),
            ("init", .string(initialization.rawValue)), ("lr", JSON(learningRate)), ("clip", JSON(clip)),
            ("batch_size", JSON(batchSize)), ("steps", JSON(steps)), ("test_batches", JSON(testBatches)),
            ("valid_batches", JSON(validBatches)), ("seed", JSON(Int(seed))), ("threads", JSON(BLAS.threads)),
        ] + (patience.map { [("patience", JSON($0))] } ?? []))
    }

    public struct Result: Sendable {
        public let testMSE: Double, baselineMSE: Double, validMSE: Double, trainLoss: Double
        public let history: [TrainingLogPoint]
        public let seconds: Double, trainSeconds: Double, steps: Int
        public let config: JSON

        public var json: JSON {
            .object([("test_mse", .number(testMSE)), ("baseline_mse", .number(baselineMSE)), ("valid_mse", .number(validMSE)),
                     ("train_loss", .number(trainLoss)), ("seconds", .number(seconds)),
                     ("ms_per_step", .number(trainSeconds * 1000 / Double(max(steps, 1)))), ("config", config)])
        }
    }

    final class Task: TrainingTask {
        let model: SequenceModel
        let batches = BatchSource.stream
        var data: AddingDataset
        let x: Tensor
        let valid: [(x: Tensor, targets: [Float])]
        let loss = MeanSquaredError()

        init(_ e: AddingExperiment, model: SequenceModel) {
            self.model = model
            data = AddingDataset(length: e.length, seed: e.seed &+ 1)
            x = Tensor(zeros: [e.length, e.batchSize, AddingDataset.inputSize])
            var v = AddingDataset(length: e.length, seed: e.seed &+ 3)
            valid = (0..<e.validBatches).map { _ in
                let x = Tensor(zeros: [e.length, e.batchSize, AddingDataset.inputSize])
                return (x, v.batch(e.batchSize, into: x))
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

        var randomStates: [RandomGenerator] {
            get { [data.rng] }
            set { data.rng = newValue[0] }
        }
    }

    public func run(save: String? = nil, resume: String? = nil, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        let architecture = ModelConfig(sequence: cell, inputSize: AddingDataset.inputSize, hiddenSize: hidden, outputSize: 1, bias: .separate)
        try MemoryBudget.check(training: architecture, steps: length, batch: batchSize)
        var rng = RandomGenerator(seed: seed)
        let layer = cell.makeLayer(inputSize: AddingDataset.inputSize, hiddenSize: hidden, initialization: initialization, seed: rng.next())
        let model = SequenceModel(recurrent: layer, outputs: 1, rng: &rng)
        let task = Task(self, model: model)
        var options = TrainingOptions(length: .steps(steps), evaluateEvery: .steps(logEvery),
                                      selection: .init("valid_mse", higherIsBetter: false), learningRate: learningRate)
        (options.clip, options.patience) = (clip, patience)
        let trainer = Trainer(task: task, optimizer: OptimizerKind.adam.make(model.parameters, learningRate: learningRate),
                              options: options, shuffle: RandomGenerator(seed: seed))
        trainer.report(to: progress, run: run)
        let trained = try trainer.fit(checkpoint: CheckpointSpec(path: save, resume: resume, format: "recur-adding-1",
                                                                 identity: TrainingCheckpoint.identity(config), architecture: architecture))
        // Test on fresh batches of another stream; the baseline predicts 1 on the same batches.
        var test = AddingDataset(length: length, seed: seed &+ 2)
        var modelError = 0.0, baselineError = 0.0, n = 0
        model.training = false
        for _ in 0..<testBatches {
            let targets = test.batch(batchSize, into: task.x)
            let p = model(task.x).scalars
            for (y, t) in zip(p, targets) {
                modelError += Double(y - t) * Double(y - t)
                baselineError += Double(1 - t) * Double(1 - t)
            }
            n += targets.count
        }
        return Result(testMSE: modelError / Double(n), baselineMSE: baselineError / Double(n),
                      validMSE: trained.history.last?["valid_mse"] ?? .nan, trainLoss: trained.history.last?["train_loss"] ?? .nan,
                      history: trained.history, seconds: Date().timeIntervalSince(start), trainSeconds: trained.trainSeconds,
                      steps: trained.steps, config: config)
    }
}

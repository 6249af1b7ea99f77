/// A model the `Trainer` can train: its parameters (`Layer`), its mode, and the random streams
/// it draws from while training (dropout masks), which a checkpoint saves.
public protocol TrainableModel: Layer {
    /// Dropout and other training-only behaviour is active when true.
    var training: Bool { get set }
    /// The model's own random streams, in a fixed order (empty when it draws none).
    var randomStates: [RandomGenerator] { get set }
}

/// How a task's training batches are drawn.
public enum BatchSource: Sendable, Equatable {
    /// A fresh batch every step, drawn by the task (`TrainingBatch.rows` is empty).
    case stream
    /// Epochs over `count` examples in batches of `batchSize`: shuffled every epoch
    /// (Fisher–Yates on the trainer's stream) or in order. With `lengths` and bucketing on,
    /// examples of similar length share a batch (see `BatchPlan`).
    case examples(count: Int, batchSize: Int, shuffle: Bool)
}

/// One training batch: its index in the epoch and the examples it holds.
public struct TrainingBatch: Sendable {
    public let index: Int
    public let rows: [Int]
}

/// What one training step returns: the mean loss over the batch, the weight of that mean
/// (examples or tokens) and, for classifiers, how many examples were right.
public struct StepLoss: Sendable {
    public var loss: Double
    public var weight: Int
    public var correct: Int?

    public init(loss: Double, weight: Int, correct: Int? = nil) {
        (self.loss, self.weight, self.correct) = (loss, weight, correct)
    }
}

/// Named metric values, in the order they are reported.
public typealias Metrics = [(name: String, value: Double)]

/// What an experiment gives the `Trainer`: its model, its data and its metrics. The trainer
/// owns the loop (batches, optimizer step, L2, clipping, schedule, evaluation, logging,
/// checkpoints, early stopping); the task owns forward, loss and backward.
public protocol TrainingTask: AnyObject {
    associatedtype Model: TrainableModel
    var model: Model { get }
    var batches: BatchSource { get }

    /// Forward, loss and backward of one batch (gradients are zero on entry; the trainer adds
    /// L2, clips and steps afterwards).
    func trainStep(_ batch: TrainingBatch) -> StepLoss

    /// Metrics on the validation split, in evaluation mode. Must contain the trainer's
    /// selection metric.
    func validate() -> Metrics

    /// Extra metrics measured whenever validation improves (e.g. test accuracy at the best
    /// validation accuracy); default none.
    func atBest() -> Metrics

    /// Called before the first batch of every epoch (1-based), e.g. to reset a carried state.
    func startEpoch(_ epoch: Int)

    /// The training metrics of an interval from its weighted mean loss and accuracy (nil for
    /// tasks without one); default `train_loss` and `train_accuracy`.
    func trainMetrics(loss: Double, accuracy: Double?) -> Metrics

    /// The parameters L2 acts on (default: none).
    var regularized: [Parameter] { get }

    /// The task's own random streams (e.g. a data generator), saved in checkpoints.
    var randomStates: [RandomGenerator] { get set }

    /// For every example, its length, when batches may be bucketed by length (default nil).
    var exampleLengths: [Int]? { get }
}

extension TrainingTask {
    public func atBest() -> Metrics { [] }
    public func startEpoch(_ epoch: Int) {}
    public func trainMetrics(loss: Double, accuracy: Double?) -> Metrics {
        [("train_loss", loss)] + (accuracy.map { [("train_accuracy", $0)] } ?? [])
    }
    public var regularized: [Parameter] { [] }
    public var randomStates: [RandomGenerator] {
        get { [] }
        set {}
    }
    public var exampleLengths: [Int]? { nil }
}

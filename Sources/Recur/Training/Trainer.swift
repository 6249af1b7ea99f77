import Foundation

/// How long to train, when to evaluate, and what to optimise: everything the `Trainer` needs
/// besides the task and the optimizer.
public struct TrainingOptions: Sendable {
    public enum Length: Sendable, Equatable {
        case steps(Int), epochs(Int)
    }
    public enum Interval: Sendable, Equatable {
        /// Every N steps (and after the last step).
        case steps(Int)
        /// After every epoch.
        case epoch
    }
    /// What the learning-rate schedule counts: steps (1-based) or epochs (0-based).
    public enum Clock: Sendable, Equatable { case step, epoch }

    /// The validation metric that picks the best weights, drives early stopping and is
    /// compared with `>=` or `>` (`ties`), higher or lower being better.
    public struct Selection: Sendable, Equatable {
        public var metric: String
        public var higherIsBetter: Bool
        /// A tie with the best so far counts as an improvement (seed 000's protocol).
        public var tiesImprove: Bool
        public init(_ metric: String, higherIsBetter: Bool, tiesImprove: Bool = false) {
            (self.metric, self.higherIsBetter, self.tiesImprove) = (metric, higherIsBetter, tiesImprove)
        }
        func improves(_ value: Double, on best: Double?) -> Bool {
            guard let best else { return !value.isNaN }
            return higherIsBetter ? (value > best || (tiesImprove && value == best)) : (value < best || (tiesImprove && value == best))
        }
    }

    public var length: Length
    public var evaluateEvery: Interval
    public var selection: Selection
    public var learningRate: Float
    public var schedule: LearningRateSchedule = .constant
    public var scheduleClock: Clock = .step
    /// Global gradient-norm limit; 0: no clipping.
    public var clip: Float = 0
    /// Keras-style L2 coefficient on the task's `regularized` parameters; 0: none.
    public var l2: Float = 0
    /// Stop after this many evaluations without a better validation metric, and keep the
    /// best weights; nil: train to the end (and keep the last weights).
    public var patience: Int? = nil
    /// Group examples of similar length into batches (needs the task's `exampleLengths`).
    public var bucket = false

    public init(length: Length, evaluateEvery: Interval, selection: Selection, learningRate: Float) {
        (self.length, self.evaluateEvery, self.selection, self.learningRate) = (length, evaluateEvery, selection, learningRate)
    }
}

/// Where and as what a run's training state is saved (`TrainingCheckpoint`).
public struct CheckpointSpec: Sendable {
    /// `--save`'s file: the full state at every evaluation point (and at the start), the best
    /// weights to `TrainingCheckpoint.bestPath(path)`.
    public var path: String?
    /// A file to continue from.
    public var resume: String?
    /// The kind of run (e.g. `recur-speech-2`) and the configuration a resume must match.
    public var format: String
    public var identity: String
    public var architecture: ModelConfig?
    /// More metadata for the task's readers (e.g. a vocabulary); `mustMatch` keys of it must
    /// be equal on resume.
    public var extra: [String: String] = [:]
    public var mustMatch: [String] = []

    public init(path: String?, resume: String?, format: String, identity: String, architecture: ModelConfig?) {
        (self.path, self.resume, self.format, self.identity, self.architecture) = (path, resume, format, identity, architecture)
    }
}

/// A loss or gradient norm that became NaN or infinite: training stops there.
public struct TrainingDiverged: Error, CustomStringConvertible {
    /// "loss" or "gradient norm".
    public let quantity: String
    public let value: Double
    /// The step (1-based) and, for epoch-based runs, the epoch where it happened.
    public let step: Int
    public let epoch: Int?
    public var description: String {
        "training diverged: the \(quantity) became non-finite (\(value)) at step \(step)" + (epoch.map { " (epoch \($0))" } ?? "")
    }
}

/// One evaluation point: training metrics since the previous one, validation metrics, and
/// the learning rate and gradient norm (before clipping) of its last step.
public struct TrainingLogPoint: Sendable, Codable {
    public struct Metric: Sendable, Codable {
        public let name: String
        public let value: Double
    }
    public let step: Int
    /// 1-based; 0 for step-based runs.
    public let epoch: Int
    public let metrics: [Metric]
    /// The time of the interval's training steps.
    public let seconds: Double
    public subscript(_ name: String) -> Double? { metrics.first { $0.name == name }?.value }

    public var json: JSON {
        .object([("step", JSON(step))] + (epoch > 0 ? [("epoch", JSON(epoch))] : []) + metrics.map { ($0.name, .number($0.value)) }
                + [("seconds", .number(seconds))])
    }
}

/// What a finished run reports.
public struct TrainingResult: Sendable {
    public let history: [TrainingLogPoint]
    /// The best validation metric and every metric measured at it (validation and `atBest`).
    public let best: Double?
    public let bestStep: Int
    public let atBest: [TrainingLogPoint.Metric]
    public let steps: Int
    public let epochs: Int
    /// Examples (or tokens) the training steps saw.
    public let examples: Int
    /// The time of the training steps alone (no evaluation, no saving).
    public let trainSeconds: Double
    public let stoppedEarly: Bool

    public func atBest(_ name: String) -> Double? { atBest.first { $0.name == name }?.value }
    public var msPerStep: Double { trainSeconds * 1000 / Double(max(steps, 1)) }
}

/// The one training loop: batches, step, L2, clipping, optimizer, schedule, evaluation,
/// `metrics.jsonl`, progress, timing, checkpoints, divergence guard and early stopping.
/// Results are the same bit for bit whether a run goes through or is saved and resumed at any
/// evaluation point.
public final class Trainer<Task: TrainingTask> {
    public let task: Task
    public let optimizer: any Optimizer
    public let options: TrainingOptions
    /// Called after every training step (and after its evaluation, when it has one) with the
    /// step (1-based), the run's total steps when known, the epoch (nil for step-based runs)
    /// and the interval's training metrics up to that step.
    public var onStep: ((_ step: Int, _ total: Int?, _ epoch: Int?, _ metrics: Metrics) -> Void)?
    /// Called at every evaluation point (e.g. to append it to `metrics.jsonl`).
    public var onEvaluation: ((TrainingLogPoint) -> Void)?
    /// The last evaluation point, for progress displays.
    public var lastEvaluation: TrainingLogPoint? { state.history.last }
    /// Shuffles the batches (the task's stream before the first epoch).
    var rng: RandomGenerator
    var state = State()
    /// The best weights, kept in memory when early stopping or a checkpoint needs them.
    var bestWeights: [[Float]]?
    var keepsBest: Bool { options.patience != nil || checkpointing }
    var checkpointing = false

    struct Sums: Codable {
        var loss = 0.0, weight = 0, correct = 0, steps = 0
        var hasAccuracy = false
        var seconds = 0.0
    }

    /// Everything a resumed run needs besides weights, optimizer state and random streams.
    struct State: Codable {
        var step = 0, epoch = 0, batchInEpoch = 0
        /// The examples in their last shuffled order, and the current epoch's batches.
        var order: [Int] = []
        var plan: [[Int]] = []
        var sums = Sums()
        var history: [TrainingLogPoint] = []
        var best: Double? = nil
        var bestStep = 0, sinceBest = 0, examples = 0
        var atBest: [TrainingLogPoint.Metric] = []
        var trainSeconds = 0.0
        var stoppedEarly = false
    }

    public init(task: Task, optimizer: any Optimizer, options: TrainingOptions, shuffle rng: RandomGenerator) {
        precondition(!options.bucket || task.exampleLengths != nil, "Trainer: bucketing needs the task's exampleLengths")
        (self.task, self.optimizer, self.options, self.rng) = (task, optimizer, options, rng)
    }

    var randomStreams: [RandomGenerator] {
        get { [rng] + task.randomStates + task.model.randomStates }
        set {
            let t = task.randomStates.count
            rng = newValue[0]
            task.randomStates = Array(newValue[1..<(1 + t)])
            task.model.randomStates = Array(newValue[(1 + t)...])
        }
    }

    /// Trains to the end of `options.length` (or an early stop) and leaves the model in
    /// evaluation mode with the last weights, or the best ones when `patience` is set.
    /// `checkpoint`: resumes from `checkpoint.resume` first, saves to `checkpoint.path`.
    public func fit(checkpoint: CheckpointSpec? = nil) throws -> TrainingResult {
        let lock = try checkpoint?.path.map(CheckpointLock.init)
        defer { withExtendedLifetime(lock) {} }
        checkpointing = checkpoint?.path != nil
        if let c = checkpoint, let resume = c.resume { try restore(resume, c) }
        if let c = checkpoint, c.path != nil, c.resume == nil { try save(c, best: false) }  // the initial state is good
        task.model.training = true
        while !state.stoppedEarly, let batch = nextBatch() {
            let scheduled = evaluationDue(afterStep: state.step + 1), last = state.step + 1 == totalSteps
            let evaluate = scheduled || last
            let t0 = Date()
            optimizer.learningRate = options.schedule.rate(
                base: options.learningRate, at: options.scheduleClock == .step ? state.step + 1 : state.epoch - 1)
            task.model.zeroGrad()
            var result = task.trainStep(batch)
            result.loss += addL2Penalty(task.regularized, coefficient: options.l2)
            let step = state.step + 1, epoch = epochBased ? state.epoch : nil
            guard result.loss.isFinite else { throw TrainingDiverged(quantity: "loss", value: result.loss, step: step, epoch: epoch) }
            var norm: Float?
            if options.clip > 0 {
                norm = clipGradientNorm(task.model.parameters, maxNorm: options.clip)
            } else if evaluate {
                norm = gradientNorm(task.model.parameters)
            }
            if let norm, !norm.isFinite {
                throw TrainingDiverged(quantity: "gradient norm", value: Double(norm), step: step, epoch: epoch)
            }
            optimizer.step()
            let seconds = Date().timeIntervalSince(t0)
            state.trainSeconds += seconds
            state.sums.seconds += seconds
            state.step = step
            state.batchInEpoch += 1
            state.examples += result.weight
            accumulate(result)
            // Reported after this step's evaluation, so that the progress shows its validation metric.
            let shown = trainMetrics()
            if evaluate { try evaluatePoint(gradientNorm: norm.map(Double.init), scheduled: scheduled, checkpoint: checkpoint) }
            onStep?(step, totalSteps, epoch, shown)
        }
        if state.sums.steps > 0 { try evaluatePoint(gradientNorm: nil, scheduled: false, checkpoint: checkpoint) }
        if options.patience != nil, let best = bestWeights {
            for (p, v) in zip(task.model.parameters, best) { p.value.pointer.update(from: v, count: p.count) }
        }
        task.model.training = false
        return TrainingResult(history: state.history, best: state.best, bestStep: state.bestStep, atBest: state.atBest,
                              steps: state.step, epochs: state.epoch, examples: state.examples, trainSeconds: state.trainSeconds,
                              stoppedEarly: state.stoppedEarly)
    }

    /// One training step outside `fit` (benchmarks): the next batch, forward, backward,
    /// clipping and the optimizer step, without evaluation, logging or checks.
    public func step() {
        guard let batch = nextBatch() ?? restartedBatch() else { return }
        task.model.zeroGrad()
        _ = task.trainStep(batch)
        addL2Penalty(task.regularized, coefficient: options.l2)
        if options.clip > 0 { clipGradientNorm(task.model.parameters, maxNorm: options.clip) }
        optimizer.step()
        state.step += 1
        state.batchInEpoch += 1
    }

    var epochBased: Bool { if case .epochs = options.length { return true } else { return false } }

    var totalSteps: Int? {
        switch (options.length, task.batches) {
        case (.steps(let s), _): return s
        case (.epochs(let e), .examples(let n, let b, _)): return e * ((n + b - 1) / b)
        case (.epochs, .stream): return nil
        }
    }

    /// The next batch, starting a new epoch when the current one is used up; nil at the end.
    func nextBatch() -> TrainingBatch? {
        if case .steps(let s) = options.length, state.step >= s { return nil }
        switch task.batches {
        case .stream:
            return TrainingBatch(index: state.step, rows: [])
        case let .examples(count, batchSize, shuffle):
            if state.batchInEpoch >= state.plan.count {
                if case .epochs(let e) = options.length, state.epoch >= e { return nil }
                state.epoch += 1
                state.batchInEpoch = 0
                if state.order.count != count { state.order = Array(0..<count) }
                state.plan = BatchPlan.epoch(order: &state.order, batchSize: batchSize, shuffle: shuffle,
                                             lengths: options.bucket ? task.exampleLengths : nil, rng: &rng)
                task.startEpoch(state.epoch)
            }
            return TrainingBatch(index: state.batchInEpoch, rows: state.plan[state.batchInEpoch])
        }
    }

    /// For `step()` past the planned length: begins another epoch.
    func restartedBatch() -> TrainingBatch? {
        state = State()
        return nextBatch()
    }

    /// Whether the interval ends with this step. The last step of a run is evaluated too, but
    /// off the schedule: a longer run would not evaluate there.
    func evaluationDue(afterStep step: Int) -> Bool {
        switch options.evaluateEvery {
        case .steps(let n): return step % n == 0
        case .epoch:
            if case .examples = task.batches { return state.batchInEpoch + 1 == state.plan.count }
            return false
        }
    }

    func accumulate(_ r: StepLoss) {
        state.sums.loss += r.loss * Double(r.weight)
        state.sums.weight += r.weight
        state.sums.steps += 1
        if let c = r.correct {
            state.sums.correct += c
            state.sums.hasAccuracy = true
        }
    }

    func trainMetrics() -> Metrics {
        let s = state.sums, w = Double(max(s.weight, 1))
        return task.trainMetrics(loss: s.loss / w, accuracy: s.hasAccuracy ? Double(s.correct) / w : nil)
    }

    /// Validates, logs and saves. An evaluation off the schedule (the end of a run between two
    /// evaluation points) is reported, but the checkpoint keeps the state from before it, so
    /// that resuming continues as a longer run would have, and the best file is not touched.
    func evaluatePoint(gradientNorm norm: Double?, scheduled: Bool, checkpoint: CheckpointSpec?) throws {
        let before = scheduled ? nil : state  // only an off-schedule point saves the earlier state
        var metrics = trainMetrics()
        metrics.append(("lr", Double(optimizer.learningRate)))
        if let norm { metrics.append(("grad_norm", norm)) }
        let wasTraining = task.model.training
        task.model.training = false
        let valid = task.validate()
        guard let value = valid.first(where: { $0.name == options.selection.metric })?.value else {
            preconditionFailure("Trainer: validate() returned \(valid.map(\.name)), without the selection metric \(options.selection.metric)")
        }
        let improved = options.selection.improves(value, on: state.best)
        var extra: Metrics = []
        if improved {
            extra = task.atBest()
            state.best = value
            state.bestStep = state.step
            state.sinceBest = 0
            state.atBest = (valid + extra).map { TrainingLogPoint.Metric(name: $0.name, value: $0.value) }
            if keepsBest { bestWeights = task.model.parameters.map { Array($0.value.scalars) } }
        } else {
            state.sinceBest += 1
        }
        task.model.training = wasTraining
        let point = TrainingLogPoint(step: state.step, epoch: epochBased ? state.epoch : 0,
                                     metrics: (metrics + valid + extra).map { TrainingLogPoint.Metric(name: $0.name, value: $0.value) },
                                     seconds: state.sums.seconds)
        state.history.append(point)
        state.sums = Sums()
        onEvaluation?(point)
        if let p = options.patience, state.sinceBest >= p { state.stoppedEarly = true }
        if let c = checkpoint {
            if scheduled {
                try save(c, best: improved)
            } else if let before {
                let after = state
                state = before
                try save(c, best: false)
                state = after
            }
        }
    }

    func save(_ c: CheckpointSpec, best: Bool) throws {
        guard let path = c.path else { return }
        let model = task.model
        if best { try saveBest(c, path: path) }
        let bestTensors = bestWeights.map { zip(model.parameters, $0).map { Tensor($1, shape: $0.shape) } }
        try TrainingCheckpoint.save(model, optimizer: optimizer, progress: state, random: randomStreams, format: c.format,
                                    identity: c.identity, architecture: c.architecture, extra: c.extra, best: bestTensors, to: path)
    }

    /// The model's current weights to the best file, marked with the best step.
    func saveBest(_ c: CheckpointSpec, path: String) throws {
        try TrainingCheckpoint.saveBest(task.model, step: state.bestStep, format: c.format, identity: c.identity,
                                        architecture: c.architecture, extra: c.extra, save: path)
    }

    func restore(_ path: String, _ c: CheckpointSpec) throws {
        let streams = randomStreams.count
        let saved = try TrainingCheckpoint.resume(path, model: task.model, optimizer: optimizer, format: c.format, identity: c.identity,
                                                  mustMatch: c.extra.filter { c.mustMatch.contains($0.key) },
                                                  randomCount: streams, as: State.self)
        state = saved.progress
        randomStreams = saved.random
        if state.best != nil, keepsBest {
            guard let best = TrainingCheckpoint.bestWeights(in: saved.file, model: task.model) else {
                throw RecurError("\(path): has no copy of its best weights (written by an older version)", fix: "start the run again")
            }
            bestWeights = best.map { Array($0.scalars) }
            // A kill between the best file and the checkpoint leaves the two out of step: the
            // checkpoint's copy is the one that belongs to it.
            if let save = c.path, TrainingCheckpoint.bestStep(of: save) != state.bestStep {
                let current = task.model.parameters.map { Array($0.value.scalars) }
                for (p, v) in zip(task.model.parameters, bestWeights!) { p.value.pointer.update(from: v, count: p.count) }
                try saveBest(c, path: save)
                for (p, v) in zip(task.model.parameters, current) { p.value.pointer.update(from: v, count: p.count) }
            }
        }
        if case .examples(let count, _, _) = task.batches, state.epoch > 0, state.order.count != count {
            throw RecurError("\(path): saved for \(state.order.count) training examples, this data has \(count)",
                             fix: "resume with the data the checkpoint was trained on")
        }
    }
}

/// The global L2 norm of all gradients (what `clipGradientNorm` measures).
public func gradientNorm(_ parameters: [Parameter]) -> Float {
    if let run = ParameterArena.whole(parameters) { return Float(VectorMath.sumOfSquares(run.gradients, count: run.count).squareRoot()) }
    return Float(parameters.reduce(0.0) { $0 + VectorMath.sumOfSquares($1.grad.pointer, count: $1.count) }.squareRoot())
}

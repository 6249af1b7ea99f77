import Recur
import Foundation

/// Seed 003's hands-on part: predict the next value of a series from the previous `window`
/// values with SimpleRNN / LSTM / GRU (Keras conventions) or a Jordan network, trained with
/// MSE and Adam; optional L2 on the kernels and variational input/recurrent dropout.
public struct ForecastExperiment: Sendable {
    /// The network trained: a Keras recurrent layer (SimpleRNN, LSTM, GRU) or a peephole or
    /// layer-norm LSTM (tanh, whatever `activation` says) with Dense(1), or a Jordan network
    /// whose single output is the forecast.
    public enum Network: String, Sendable, CaseIterable, Codable {
        case rnn, lstm, gru, jordan
        case lstmPeephole = "lstm-peephole", lstmLayerNorm = "lstm-layernorm"
        public var displayName: String {
            switch self {
            case .rnn: return "SimpleRNN"
            case .lstm: return "LSTM"
            case .gru: return "GRU"
            case .jordan: return "Jordan"
            case .lstmPeephole: return "Peephole LSTM"
            case .lstmLayerNorm: return "LN-LSTM"
            }
        }
    }

    public var series: TimeSeries = .sine
    public var window = 10
    public var trainFraction = 0.8
    public var scaling: Scaler.Kind = .none
    public var cell: Network = .rnn
    public var units = 10
    public var activation: Activation = .relu
    public var epochs = 10
    public var batchSize = 32
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    /// 0: no clipping.
    public var clip: Float = 0
    /// Keras kernel_regularizer and recurrent_regularizer l2(c).
    public var l2: Float = 0
    public var inputDropout: Float = 0
    public var recurrentDropout: Float = 0
    /// Keras' defaults (seed 003's framework) or another's.
    public var convention: Convention = .keras
    /// Overrides the convention's recurrent initialisation (e.g. `.identity`, IRNN, for the
    /// relu SimpleRNN).
    public var initialization: RecurrentInitialization? = nil
    /// The LSTM's projection size (PyTorch `proj_size`); 0: none.
    public var projectionSize = 0
    public var seed: UInt64 = 42
    /// The end of the training span set aside for validation (best weights, early stopping).
    public var validFraction = 0.1
    /// Early stopping: stop after this many epochs without a better validation loss and keep
    /// the best weights; nil: never.
    public var patience: Int? = nil
    /// Steps of the recursive multi-step forecast from the start of the test span (0: none).
    public var horizon = 0

    public init() {}

    /// A short name for tables: the cell plus its regularisation.
    public var label: String {
        var parts: [String] = []
        if l2 > 0 { parts.append("L2 \(l2)") }
        if inputDropout > 0 { parts.append("dropout \(inputDropout)") }
        if recurrentDropout > 0 { parts.append("recurrent dropout \(recurrentDropout)") }
        return cell.displayName + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
    }

    public var config: JSON {
        .object([
            ("task", "forecast"), ("series", .string(series.name)), ("values", JSON(series.values.count)),
            ("window", JSON(window)), ("split", .number(trainFraction)), ("scale", .string(scaling.rawValue)),
            ("cell", .string(cell.rawValue)), ("units", JSON(units)), ("activation", .string(activation.rawValue)),
            ("epochs", JSON(epochs)), ("batch_size", JSON(batchSize)), ("optimizer", .string(optimizer.rawValue)),
            ("lr", JSON(learningRate)), ("clip", JSON(clip)), ("l2", JSON(l2)), ("input_dropout", JSON(inputDropout)),
            ("recurrent_dropout", JSON(recurrentDropout)), ("convention", .string(convention.rawValue)),
            ("init", .string((initialization ?? convention.initialization).rawValue)),
            ("seed", JSON(Int(seed))), ("horizon", JSON(horizon)), ("threads", JSON(BLAS.threads)),
        ] + (validFraction != 0.1 ? [("valid_fraction", .number(validFraction))] : [])
          + (patience.map { [("patience", JSON($0))] } ?? []) + (projectionSize > 0 ? [("proj_size", JSON(projectionSize))] : []))
    }

    public struct EpochPoint: Sendable {
        public let epoch: Int
        public let trainLoss: Double
        public let validLoss: Double
    }

    public struct Result: Sendable {
        public let label: String
        public let testMSE: Double, testMAE: Double, baselineMSE: Double, baselineMAE: Double
        public let horizonMSE: Double?
        public let history: [EpochPoint]
        /// Test span, original units: positions, actual values, one-step predictions.
        public let positions: [Double], actual: [Double], predicted: [Double]
        /// Recursive forecast from the start of the test span, original units.
        public let horizonForecast: [Double]
        public let seconds: Double, trainSeconds: Double, steps: Int, sequences: Int
        public let parameterCount: Int
        public let config: JSON

        public var json: JSON {
            var pairs: [(String, JSON)] = [
                ("test_mse", .number(testMSE)), ("test_mae", .number(testMAE)),
                ("baseline_mse", .number(baselineMSE)), ("baseline_mae", .number(baselineMAE)),
            ]
            if let h = horizonMSE { pairs.append(("horizon_mse", .number(h))) }
            pairs += [
                ("train_loss", .number(history.last?.trainLoss ?? .nan)), ("valid_loss", .number(history.last?.validLoss ?? .nan)),
                ("seconds", .number(seconds)), ("ms_per_step", .number(trainSeconds * 1000 / Double(max(steps, 1)))),
                ("sequences_per_second", .number(Double(sequences) / max(trainSeconds, 1e-9))),
                ("parameters", JSON(parameterCount)), ("config", config),
            ]
            return .object(pairs)
        }
    }

    /// The model file's architecture: a `sequence` model with one output, or a `jordan` network.
    var modelConfig: ModelConfig {
        guard let (cellType, act) = recurrentCell else {
            return ModelConfig(jordan: 1, hiddenSize: units, outputSize: 1, activation: activation)
        }
        return ModelConfig(sequence: cellType, inputSize: 1, hiddenSize: units, outputSize: 1, bias: convention.bias(for: cellType),
                           projectionSize: projectionSize, activation: act, resetAfter: cellType != .gru || convention.gruResetAfter)
    }

    /// The recurrent layer's cell and activation (nil: the cell's own); nil for a Jordan network.
    /// The peephole and layer-norm LSTMs keep tanh.
    var recurrentCell: (CellType, Activation?)? {
        switch cell {
        case .rnn: return activation == .relu ? (.rnnRelu, nil) : (.rnn, activation)
        case .lstm: return (.lstm, activation)
        case .gru: return (.gru, activation)
        case .lstmPeephole: return (.lstmPeephole, nil)
        case .lstmLayerNorm: return (.lstmLayerNorm, nil)
        case .jordan: return nil
        }
    }

    /// The model: a recurrent layer and Dense(1), or a Jordan network with one output.
    final class Model: TrainableModel {
        let sequence: SequenceModel?
        let jordan: JordanRNN?
        private let workspace = Workspace()
        /// Window length (steps per sequence).
        let steps: Int

        init(_ e: ForecastExperiment, rng: inout RandomGenerator) {
            steps = e.window
            let seed = rng.next()
            if e.cell == .jordan {
                sequence = nil
                jordan = JordanRNN(inputSize: 1, hiddenSize: e.units, outputSize: 1, activation: e.activation, seed: seed)
                return
            }
            let c = e.convention, (cell, activation) = e.recurrentCell!
            let layer = cell.makeLayer(inputSize: 1, hiddenSize: e.units, bias: c.bias(for: cell), projectionSize: e.projectionSize,
                                       activation: activation, resetAfter: cell != .gru || c.gruResetAfter,
                                       initialization: e.initialization ?? c.initialization, seed: seed)
            layer.inputDropout = e.inputDropout
            layer.recurrentDropout = e.recurrentDropout
            let model = SequenceModel(recurrent: layer, outputs: 1, rng: &rng)
            c.initialize(model.head, rng: &rng)
            sequence = model
            jordan = nil
        }

        var namedParameters: [(name: String, parameter: Parameter)] { sequence?.namedParameters ?? jordan!.namedParameters }
        /// What Keras' kernel and recurrent regularizers act on.
        var regularized: [Parameter] {
            if let s = sequence { return s.recurrent.weightMatrices }
            return [jordan!.weightIH, jordan!.weightYH]
        }
        var training: Bool {
            get { sequence?.training ?? jordan!.training }
            set {
                sequence?.training = newValue
                jordan?.training = newValue
            }
        }
        var randomStates: [RandomGenerator] {
            get { [sequence?.recurrent.rng ?? jordan!.rng] }
            set {
                sequence?.recurrent.rng = newValue[0]
                jordan?.rng = newValue[0]
            }
        }

        /// x: [T, B, 1] -> [B] predictions (a view).
        func callAsFunction(_ x: Tensor) -> Tensor {
            if let s = sequence { return s(x).reshaped([x.shape[1]]) }
            let y = jordan!(x)
            return y[x.shape[0] - 1].reshaped([x.shape[1]])
        }

        func backward(_ d: Tensor) {
            if let s = sequence { s.backward(d.reshaped([d.count, 1])); return }
            // Only the last step's output is the prediction.
            let dy = workspace.tensor("dy", [steps, d.count, 1], zeroed: true)
            dy[steps - 1].pointer.update(from: d.pointer, count: d.count)
            jordan!.backward(dy)
        }
    }

    /// The trainer's view: shuffled epochs over the training windows (Keras shuffles every
    /// epoch), MSE on the validation windows (the end of the training span) after each.
    final class Task: TrainingTask {
        let model: Model
        let batches: BatchSource
        let inputs: [[Double]], targets: [Double]
        let validRange: Range<Int>
        let loss = MeanSquaredError()

        init(model: Model, inputs: [[Double]], targets: [Double], trainCount: Int, validRange: Range<Int>, batchSize: Int) {
            (self.model, self.inputs, self.targets, self.validRange) = (model, inputs, targets, validRange)
            batches = .examples(count: trainCount, batchSize: batchSize, shuffle: true)
        }

        func trainStep(_ batch: TrainingBatch) -> StepLoss {
            let prediction = model(ForecastExperiment.batch(batch.rows.map { inputs[$0] }))
            let r = loss(prediction, targets: batch.rows.map { Float(targets[$0]) })
            model.backward(r.gradient)
            return StepLoss(loss: Double(r.value), weight: batch.rows.count)
        }

        func validate() -> Metrics {
            let p = ForecastExperiment.predict(model, inputs, range: validRange)
            let mse = zip(p, targets[validRange]).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(validRange.count)
            return [("valid_loss", mse)]
        }

        var regularized: [Parameter] { model.regularized }
    }

    /// Training and validation windows: the validation windows are the last `validFraction`
    /// of the training span (at least one), never the test span.
    func split(_ data: WindowedSeries) throws -> (train: Int, valid: Range<Int>) {
        let valid = max(1, Int(validFraction * Double(data.trainCount)))
        guard data.trainCount - valid >= 1 else {
            throw RecurError("the training span has \(data.trainCount) windows: too few to set \(valid) aside for validation",
                             fix: "use a longer series, a larger train fraction or a smaller window")
        }
        return (data.trainCount - valid, (data.trainCount - valid)..<data.trainCount)
    }

    /// Trains, evaluates on the test span, and forecasts `horizon` steps recursively.
    public func run(save: String? = nil, resume: String? = nil, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        let data = try WindowedSeries(series.values, window: window, trainFraction: trainFraction)
        let (trainCount, validRange) = try split(data)
        let scaler = Scaler(scaling, fitOn: Array(series.values[0..<(data.splitIndex + window)]))
        let inputs = data.inputs.map { $0.map(scaler.transform) }, targets = data.targets.map(scaler.transform)
        var rng = RandomGenerator(seed: seed)
        try MemoryBudget.check(training: modelConfig, steps: window, batch: batchSize)
        let model = Model(self, rng: &rng)
        let opt: any Optimizer = optimizer == .adam
            ? Adam(parameters: model.parameters, learningRate: learningRate, epsilon: convention.adamEpsilon)
            : optimizer.make(model.parameters, learningRate: learningRate)
        let task = Task(model: model, inputs: inputs, targets: targets, trainCount: trainCount, validRange: validRange, batchSize: batchSize)
        var options = TrainingOptions(length: .epochs(epochs), evaluateEvery: .epoch,
                                      selection: .init("valid_loss", higherIsBetter: false), learningRate: learningRate)
        (options.clip, options.l2, options.patience) = (clip, l2, patience)
        let trainer = Trainer(task: task, optimizer: opt, options: options, shuffle: rng)
        trainer.report(to: progress, run: run)
        let trained = try trainer.fit(checkpoint: CheckpointSpec(path: save, resume: resume, format: "recur-forecast-1",
                                                                 identity: TrainingCheckpoint.identity(config), architecture: modelConfig))
        let history = trained.history.map { EpochPoint(epoch: $0.epoch, trainLoss: $0["train_loss"]!, validLoss: $0["valid_loss"]!) }
        // Test metrics in original units, beside the naive last-value forecast.
        let testRange = data.splitIndex..<data.targets.count
        let predicted = Self.predict(model, inputs, range: testRange).map(scaler.inverse)
        let actual = Array(data.targets[testRange])
        let naive = testRange.map { data.inputs[$0][window - 1] }
        func meanError(_ a: [Double], _ b: [Double], _ f: (Double) -> Double) -> Double {
            zip(a, b).reduce(0.0) { $0 + f($1.0 - $1.1) } / Double(a.count)
        }
        var forecast: [Double] = []
        if horizon > 0 {
            var windowValues = inputs[data.splitIndex]
            for _ in 0..<min(horizon, data.testCount) {
                let next = Self.predict(model, [windowValues], range: 0..<1)[0]
                forecast.append(scaler.inverse(next))
                windowValues = Array(windowValues.dropFirst()) + [next]
            }
        }
        return Result(
            label: label,
            testMSE: meanError(predicted, actual) { $0 * $0 }, testMAE: meanError(predicted, actual) { abs($0) },
            baselineMSE: meanError(naive, actual) { $0 * $0 }, baselineMAE: meanError(naive, actual) { abs($0) },
            horizonMSE: forecast.isEmpty ? nil : meanError(forecast, Array(actual.prefix(forecast.count))) { $0 * $0 },
            history: history, positions: testRange.map { series.position($0 + window) }, actual: actual, predicted: predicted,
            horizonForecast: forecast, seconds: Date().timeIntervalSince(start), trainSeconds: trained.trainSeconds, steps: trained.steps,
            sequences: trained.examples, parameterCount: model.parameterCount, config: config)
    }

    /// Windows -> [window, B, 1] time-major.
    static func batch(_ windows: [[Double]]) -> Tensor {
        let T = windows[0].count, B = windows.count
        let x = Tensor(zeros: [T, B, 1])
        for (b, w) in windows.enumerated() { for t in 0..<T { x.pointer[t * B + b] = Float(w[t]) } }
        return x
    }

    /// One-step predictions for windows in `range` (the model in evaluation mode).
    static func predict(_ model: Model, _ inputs: [[Double]], range: Range<Int>) -> [Double] {
        var out: [Double] = []
        var i = range.lowerBound
        while i < range.upperBound {
            let end = min(range.upperBound, i + 256)
            let p = model(batch(Array(inputs[i..<end])))
            out += p.scalars.map(Double.init)
            i = end
        }
        return out
    }
}

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
    /// The window that places the test and validation spans (default: `window`): a search
    /// over windows sets the longest, so that every candidate is scored on the same values.
    public var splitWindow: Int? = nil
    /// The window the spans are counted from.
    var spanWindow: Int { max(window, splitWindow ?? window) }
    public var trainFraction = 0.8
    /// Scaling of the (differenced) target and of each feature column, fit on the training span.
    public var scaling: Scaler.Kind = .none
    /// What the model predicts: the value itself, or its first and/or seasonal differences
    /// (forecasts are integrated back, so every reported number is in the series' units).
    public var differencing: Differencing = .none
    /// The series' cycle in steps (12 for monthly data): the seasonal naive forecast, the value
    /// a period back, is reported beside the naive one. Seasonal differencing uses its own
    /// period (`differencing`), which sets this too when this is nil.
    public var seasonalPeriod: Int? = nil
    /// The period of the seasonal naive forecast, if any.
    var baselinePeriod: Int? { seasonalPeriod ?? differencing.seasonalPeriod }
    /// Feature columns as first differences (trending covariates); otherwise they are scaled only.
    public var differenceFeatures = false
    /// The model works on log y (and on the log of differenced feature columns): for a positive
    /// series whose changes grow with its level (GDP, sales), where first differences of the
    /// logarithm are growth rates. Forecasts are exponentiated back to the series' units.
    public var logTransform = false
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
    /// Steps ahead of the recursive multi-step forecasts, scored from every test point, and
    /// of the one plotted from the start of the test span (0: none).
    public var horizon = 0

    public init() {}

    /// A short name for tables: the cell plus its regularisation.
    public var label: String {
        var parts: [String] = []
        if activation == .identity { parts.append("linear") }
        if logTransform { parts.append("log") }
        if differencing != .none { parts.append(differencing.description) }
        if differenceFeatures { parts.append("features differenced") }
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
        ] + (differencing.first ? [("difference", .bool(true))] : [])
          + (differencing.seasonalPeriod.map { [("seasonal", JSON($0))] } ?? [])
          + (seasonalPeriod.map { [("period", JSON($0))] } ?? [])
          + (series.features.isEmpty ? [] : [("features", .array(series.features.map { .string($0.name) }))])
          + (differenceFeatures ? [("difference_features", .bool(true))] : [])
          + (logTransform ? [("log", .bool(true))] : [])
          + (splitWindow.map { _ in [("split_window", JSON(spanWindow))] } ?? [])
          + (validFraction != 0.1 ? [("valid_fraction", .number(validFraction))] : [])
          + (patience.map { [("patience", JSON($0))] } ?? []) + (projectionSize > 0 ? [("proj_size", JSON(projectionSize))] : []))
    }

    public struct EpochPoint: Sendable {
        public let epoch: Int
        public let trainLoss: Double
        public let validLoss: Double
    }

    public struct Result: Sendable {
        public let label: String
        /// Set when the model is worse than the naive forecast on the test span, with what to try.
        public let naiveWarning: String?
        /// Test span, one step ahead, in the series' units, beside the naive forecast (the last
        /// value) and, with a seasonal period, the seasonal naive one (the value a period back).
        public let testMSE: Double, testMAE: Double, baselineMSE: Double, baselineMAE: Double
        public let seasonalBaselineMSE: Double?
        /// The validation span (the end of the training span), one step ahead, in the series'
        /// units: what settings are compared on.
        public let validMSE: Double, validBaselineMSE: Double
        /// MSE of the one recursive forecast from the start of the test span.
        public let horizonMSE: Double?
        /// Index k: k + 1 steps ahead, over recursive forecasts started from every test point
        /// that has k + 1 values after it; the naive and seasonal naive forecasts at the same horizons.
        public let testMSEByHorizon: [Double], baselineMSEByHorizon: [Double], seasonalBaselineMSEByHorizon: [Double]?
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
            if let m = seasonalBaselineMSE { pairs.append(("seasonal_baseline_mse", .number(m))) }
            pairs += [("valid_mse", .number(validMSE)), ("valid_baseline_mse", .number(validBaselineMSE))]
            if let h = horizonMSE { pairs.append(("horizon_mse", .number(h))) }
            if !testMSEByHorizon.isEmpty {
                pairs += [("test_mse_by_horizon", .array(testMSEByHorizon.map { .number($0) })),
                          ("baseline_mse_by_horizon", .array(baselineMSEByHorizon.map { .number($0) }))]
                if let s = seasonalBaselineMSEByHorizon { pairs.append(("seasonal_baseline_mse_by_horizon", .array(s.map { .number($0) }))) }
            }
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
            return ModelConfig(jordan: inputSize, hiddenSize: units, outputSize: 1, activation: activation)
        }
        return ModelConfig(sequence: cellType, inputSize: inputSize, hiddenSize: units, outputSize: 1, bias: convention.bias(for: cellType),
                           projectionSize: projectionSize, activation: act, resetAfter: cellType != .gru || convention.gruResetAfter)
    }

    /// Numbers per step: the target and the feature columns.
    var inputSize: Int { 1 + series.features.count }

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
        /// Window length (steps per sequence) and numbers per step.
        let steps: Int, width: Int

        init(_ e: ForecastExperiment, rng: inout RandomGenerator) {
            (steps, width) = (e.window, e.inputSize)
            let seed = rng.next()
            if e.cell == .jordan {
                sequence = nil
                jordan = JordanRNN(inputSize: e.inputSize, hiddenSize: e.units, outputSize: 1, activation: e.activation, seed: seed)
                return
            }
            let c = e.convention, (cell, activation) = e.recurrentCell!
            let layer = cell.makeLayer(inputSize: e.inputSize, hiddenSize: e.units, bias: c.bias(for: cell), projectionSize: e.projectionSize,
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

        /// x: [T, B, inputSize] -> [B] predictions (a view).
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
            let prediction = model(ForecastExperiment.batch(batch.rows.map { inputs[$0] }, width: model.width))
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
    /// of the training span (at least one), never the test span. The span is counted in the
    /// series' time, before differencing, so that every transform is validated on the same values.
    func split(_ data: WindowedSeries) throws -> (train: Int, valid: Range<Int>) {
        let valid = max(1, Int(validFraction * Double(data.times[data.splitIndex] - spanWindow)))
        guard data.trainCount - valid >= 1 else {
            throw RecurError("the training span has \(data.trainCount) windows: too few to set \(valid) aside for validation",
                             fix: "use a longer series, a larger train fraction or a smaller window")
        }
        return (data.trainCount - valid, (data.trainCount - valid)..<data.trainCount)
    }

    /// Trains, evaluates on the validation and test spans, and forecasts `horizon` steps
    /// recursively.
    public func run(save: String? = nil, resume: String? = nil, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        let inputs = try ForecastInputs(self)
        let data = inputs.windows
        let (trainCount, validRange) = try split(data)
        var rng = RandomGenerator(seed: seed)
        try MemoryBudget.check(training: modelConfig, steps: window, batch: batchSize)
        let model = Model(self, rng: &rng)
        let opt: any Optimizer = optimizer == .adam
            ? Adam(parameters: model.parameters, learningRate: learningRate, epsilon: convention.adamEpsilon)
            : optimizer.make(model.parameters, learningRate: learningRate)
        let task = Task(model: model, inputs: data.inputs, targets: data.targets, trainCount: trainCount, validRange: validRange, batchSize: batchSize)
        var options = TrainingOptions(length: .epochs(epochs), evaluateEvery: .epoch,
                                      selection: .init("valid_loss", higherIsBetter: false), learningRate: learningRate)
        (options.clip, options.l2, options.patience) = (clip, l2, patience)
        let trainer = Trainer(task: task, optimizer: opt, options: options, shuffle: rng)
        trainer.report(to: progress, run: run)
        let trained = try trainer.fit(checkpoint: CheckpointSpec(path: save, resume: resume, format: "recur-forecast-1",
                                                                 identity: TrainingCheckpoint.identity(config), architecture: modelConfig))
        let history = trained.history.map { EpochPoint(epoch: $0.epoch, trainLoss: $0["train_loss"]!, validLoss: $0["valid_loss"]!) }
        // Errors in the series' units, beside the naive forecasts.
        let testRange = data.splitIndex..<data.targets.count
        let test = inputs.oneStep(Self.predict(model, data.inputs, range: testRange), range: testRange)
        let valid = inputs.oneStep(Self.predict(model, data.inputs, range: validRange), range: validRange)
        let testStart = data.times[data.splitIndex], y = series.values
        var forecast: [Double] = [], byHorizon = HorizonErrors.none
        if horizon > 0 {
            let steps = y.count - testStart
            guard horizon <= steps else {
                throw RecurError("--horizon \(horizon) is longer than the test span's \(steps) values", fix: "use a --horizon of at most \(steps)")
            }
            let starts = Array(testStart...(y.count - horizon))
            let paths = inputs.recursive(model, starts: starts, steps: horizon)
            forecast = paths[0]
            byHorizon = HorizonErrors(paths: paths, starts: starts, series: y, seasonalPeriod: baselinePeriod.flatMap { testStart >= $0 ? $0 : nil })
        }
        return Result(
            label: label, naiveWarning: test.mse <= test.naiveMSE ? nil : naiveWarning(test),
            testMSE: test.mse, testMAE: test.mae, baselineMSE: test.naiveMSE, baselineMAE: test.naiveMAE,
            seasonalBaselineMSE: test.seasonalNaiveMSE, validMSE: valid.mse, validBaselineMSE: valid.naiveMSE,
            horizonMSE: forecast.isEmpty ? nil : zip(forecast, y[testStart...]).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(forecast.count),
            testMSEByHorizon: byHorizon.model, baselineMSEByHorizon: byHorizon.naive, seasonalBaselineMSEByHorizon: byHorizon.seasonalNaive,
            history: history, positions: testRange.map { series.position(data.times[$0]) }, actual: test.actual, predicted: test.predicted,
            horizonForecast: forecast, seconds: Date().timeIntervalSince(start), trainSeconds: trained.trainSeconds, steps: trained.steps,
            sequences: trained.examples, parameterCount: model.parameterCount, config: config)
    }

    /// What to say when the model loses to the naive forecast: the settings not yet tried.
    func naiveWarning(_ test: ForecastInputs.OneStep) -> String {
        let tries = (differencing.first ? [] : ["--difference (for a trend)"]) + (differencing.seasonalPeriod == nil ? ["--seasonal P (for a cycle of P steps)"] : [])
            + (logTransform || !series.values.allSatisfy({ $0 > 0 }) ? [] : ["--log (for growth that scales with the level)"])
            + (scaling == .none ? ["--scale standard"] : []) + ["more --epochs", "--search"]
        return "\(label): the test MSE \(formatScientific(test.mse)) is worse than the naive last-value forecast's \(formatScientific(test.naiveMSE)); try "
            + tries.joined(separator: ", ")
    }

    /// Windows -> [window, B, width] time-major (a window is step-major, `width` per step).
    static func batch(_ windows: [[Double]], width: Int = 1) -> Tensor {
        let T = windows[0].count / width, B = windows.count
        let x = Tensor(zeros: [T, B, width])
        for (b, w) in windows.enumerated() {
            for t in 0..<T { for c in 0..<width { x.pointer[(t * B + b) * width + c] = Float(w[t * width + c]) } }
        }
        return x
    }

    /// One-step predictions for windows in `range` (the model in evaluation mode).
    static func predict(_ model: Model, _ inputs: [[Double]], range: Range<Int>) -> [Double] {
        var out: [Double] = []
        var i = range.lowerBound
        while i < range.upperBound {
            let end = min(range.upperBound, i + 256)
            let p = model(batch(Array(inputs[i..<end]), width: model.width))
            out += p.scalars.map(Double.init)
            i = end
        }
        return out
    }
}

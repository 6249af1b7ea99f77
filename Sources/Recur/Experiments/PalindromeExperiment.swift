import Foundation

/// Seed 001: can a recurrent network remember the first digit of a palindrome until the end?
/// Trains a `SequenceModel` on fresh random batches and tests on fresh batches.
public struct PalindromeExperiment: Sendable {
    public enum Initialization: String, Sendable, CaseIterable, Codable {
        /// Seed 001's: W_ih U(±1/sqrt(input_dim)), W_hh and head U(±1/sqrt(H)), zero biases,
        /// one bias per gate (as its from-scratch cells).
        case seed
        /// PyTorch's `nn.RNN/LSTM/GRU` + `nn.Linear` defaults.
        case pytorch
        /// PyTorch's, with orthogonal recurrent weights.
        case orthogonal
        /// IRNN (Le et al. 2015; seed 003's remedy for vanishing gradients, meant for rnn-relu):
        /// identity recurrent weights, input weights N(0, 0.001²), zero biases; PyTorch's head.
        case identity

        var recurrent: RecurrentInitialization {
            switch self {
            case .seed: return .fanIn
            case .pytorch: return .pytorch
            case .orthogonal: return .orthogonal
            case .identity: return .identity
            }
        }
    }

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
    public var initialization: Initialization = .seed
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
    public var logEvery = 100

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
            ("init", .string(initialization.rawValue)), ("optimizer", .string(optimizer.rawValue)),
            ("lr", JSON(learningRate)), ("lr_step", lrStep.map { JSON($0) } ?? .null), ("lr_gamma", JSON(lrGamma)),
            ("clip", JSON(clip)), ("batch_size", JSON(batchSize)), ("steps", JSON(steps)),
            ("seed", JSON(Int(seed))), ("test_batches", JSON(testBatches)), ("threads", JSON(BLAS.threads)),
        ] + (projectionSize > 0 ? [("proj_size", JSON(projectionSize))] : [])
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
                ("seconds", .number(seconds)),
                ("ms_per_step", .number(trainSeconds * 1000 / Double(max(steps, 1)))),
                ("sequences_per_second", .number(Double(steps * batchSize) / max(trainSeconds, 1e-9))),
                ("parameters", JSON(parameterCount)), ("config", config),
            ])
        }
    }

    /// Trains and tests without checkpoints (nothing in it can fail then).
    public func run(progress: ProgressReporter? = nil, run: RunDirectory? = nil) -> Result {
        // Only saving and resuming throw.
        try! self.run(save: nil, resume: nil, progress: progress, run: run)
    }

    /// What a resumed run needs besides weights, optimizer state and random streams.
    struct Progress: Codable {
        var step = 0, windowCorrect = 0, windowCount = 0
        var windowLoss = 0.0, bestAccuracy = -1.0, trainSeconds = 0.0
        var history: [LogPoint] = []
    }

    /// Trains and tests. Logs every `logEvery` steps to `run` (metrics.jsonl) and `progress`.
    /// `save`: at every log point the training state goes to `save` (for `resume`, which
    /// continues bit-identically) and, when the logged training accuracy improves, the
    /// weights to `<save>.best.safetensors`.
    public func run(save: String?, resume: String?, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        var data = trainingData()
        let (model, recurrent) = makeModel(inputSize: data.inputSize)
        let opt = optimizer.make(model.parameters, learningRate: learningRate)
        let lossFunction = SoftmaxCrossEntropy()
        let x = Tensor(zeros: [length, batchSize, data.inputSize])
        let format = "recur-palindrome-1", identity = TrainingCheckpoint.identity(config)
        let architecture = ModelConfig(sequence: cell, inputSize: data.inputSize, hiddenSize: hidden, layers: layers,
                                       bidirectional: bidirectional, outputSize: 10, bias: recurrent.bias,
                                       projectionSize: projectionSize, merge: merge)
        var state = Progress()
        if let resume {
            let saved = try TrainingCheckpoint.resume(resume, model: model, optimizer: opt, format: format, identity: identity,
                                                      randomCount: 2, as: Progress.self)
            state = saved.progress
            (data.rng, recurrent.rng) = (saved.random[0], saved.random[1])
        }
        var (history, windowLoss, windowCorrect, windowCount) = (state.history, state.windowLoss, state.windowCorrect, state.windowCount)
        var bestAccuracy = state.bestAccuracy
        var trainStart = Date().addingTimeInterval(-state.trainSeconds)
        for step in (state.step + 1)..<(steps + 1) {
            opt.learningRate = schedule.rate(base: learningRate, at: step)
            let targets = data.batch(batchSize, into: x)
            model.zeroGrad()
            let logits = model(x)
            let loss = lossFunction(logits, targets: targets)
            model.backward(loss.gradient)
            if clip > 0 { clipGradientNorm(model.parameters, maxNorm: clip) }
            opt.step()
            windowLoss += Double(loss.value)
            windowCorrect += Self.correct(logits, targets)
            windowCount += 1
            if step % logEvery == 0 || step == steps {
                let point = LogPoint(step: step, loss: windowLoss / Double(windowCount),
                                     accuracy: Double(windowCorrect) / Double(windowCount * batchSize))
                history.append(point)
                run?.logMetrics(.object([("step", JSON(step)), ("train_loss", .number(point.loss)),
                                         ("train_accuracy", .number(point.accuracy)), ("lr", JSON(opt.learningRate))]))
                progress?.update(step, metrics: [("loss", formatNumber(point.loss)), ("acc", formatNumber(point.accuracy, decimals: 3))])
                windowLoss = 0; windowCorrect = 0; windowCount = 0
                if let save {
                    if point.accuracy > bestAccuracy {
                        bestAccuracy = point.accuracy
                        try TrainingCheckpoint.saveBest(model, format: format, identity: identity, architecture: architecture, save: save)
                    }
                    let p = Progress(step: step, windowCorrect: 0, windowCount: 0, windowLoss: 0, bestAccuracy: bestAccuracy,
                                     trainSeconds: Date().timeIntervalSince(trainStart), history: history)
                    try TrainingCheckpoint.save(model, optimizer: opt, progress: p, random: [data.rng, recurrent.rng],
                                                format: format, identity: identity, architecture: architecture, to: save)
                    trainStart = Date().addingTimeInterval(-p.trainSeconds)  // saving is not training time
                }
            }
        }
        let trainSeconds = Date().timeIntervalSince(trainStart)
        // Test on fresh batches from another stream, in evaluation mode.
        model.training = false
        var test = PalindromeDataset(length: length, encoding: encoding, seed: seed &+ 2)
        var correct = 0, testLoss = 0.0
        for _ in 0..<testBatches {
            let targets = test.batch(batchSize, into: x)
            let logits = model(x)
            testLoss += Double(lossFunction(logits, targets: targets).value)
            correct += Self.correct(logits, targets)
        }
        let last = history.last ?? LogPoint(step: 0, loss: .nan, accuracy: .nan)
        return Result(testAccuracy: Double(correct) / Double(max(testBatches * batchSize, 1)),
                      testLoss: testLoss / Double(max(testBatches, 1)), trainLoss: last.loss, trainAccuracy: last.accuracy,
                      seconds: Date().timeIntervalSince(start), history: history, parameterCount: model.parameterCount,
                      config: config, trainSeconds: trainSeconds, steps: steps, batchSize: batchSize)
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
                                       bias: initialization == .seed ? .single : .separate, projectionSize: projectionSize,
                                       initialization: initialization.recurrent, merge: merge, seed: initSeed)
        let model = SequenceModel(recurrent: recurrent, outputs: 10, rng: &initRNG)
        if initialization == .seed {
            let k = 1 / Float(recurrent.outputWidth).squareRoot()
            initRNG.fillUniform(model.head.weight.value, -k, k)
            model.head.bias!.value.zero()
        }
        return (model, recurrent)
    }

    /// Rows whose largest logit is the target.
    public static func correct(_ logits: Tensor, _ targets: [Int32]) -> Int {
        zip(logits.rowArgmax(), targets).filter { $0 == Int($1) }.count
    }
}

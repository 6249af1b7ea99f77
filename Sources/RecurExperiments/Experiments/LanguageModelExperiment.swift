import Recur
import Foundation

/// Seed 002's practical part: word-level language models (Zaremba et al. 2014) with LSTM or
/// GRU, truncated BPTT with the state carried across windows, SGD with decay or Adam,
/// perplexity after every epoch, checkpoints with exact resume.
public struct LanguageModelExperiment: Sendable {
    public enum Preset: String, Sendable, CaseIterable, Codable { case small, medium }

    public var cell: CellType = .lstm
    public var layers = 2
    public var embeddingSize = 200
    public var hiddenSize = 200
    public var dropout: Float = 0
    public var tied = false
    /// An LSTM's projection size (PyTorch `proj_size`); the head reads P features. 0: none.
    public var projectionSize = 0
    /// The recurrent stack's initialisation; nil: Zaremba's uniform ±initScale like the rest.
    public var recurrentInitialization: RecurrentInitialization? = nil
    public var optimizer: OptimizerKind = .sgd
    public var learningRate: Float = 1
    public var clip: Float = 5
    /// SGD: the first `decayAfter` epochs at the base rate, then multiplied by `decayFactor`.
    public var decayAfter = 4
    public var decayFactor: Float = 0.5
    public var epochs = 13
    public var batchSize = 20
    public var bptt = 35
    public var evalBatchSize = 10
    public var initScale: Float = 0.1
    public var seed: UInt64 = 42
    public var level: TextCorpus.Level = .word
    /// Early stopping: stop after this many epochs without a better validation perplexity
    /// and keep the best weights; nil: never.
    public var patience: Int? = nil

    public init() {}

    /// Zaremba et al.'s small (13 epochs, 200 units, no dropout) and medium (39 epochs, 650
    /// units, dropout 0.5) configurations.
    public mutating func apply(_ preset: Preset) {
        switch preset {
        case .small:
            (layers, embeddingSize, hiddenSize, dropout, epochs, bptt, decayAfter, decayFactor, initScale) = (2, 200, 200, 0, 13, 20, 4, 0.5, 0.1)
        case .medium:
            (layers, embeddingSize, hiddenSize, dropout, epochs, bptt, decayAfter, decayFactor, initScale) = (2, 650, 650, 0.5, 39, 35, 6, 0.8, 0.05)
        }
        (optimizer, learningRate, clip, batchSize) = (.sgd, 1, 5, 20)
    }

    public var schedule: LearningRateSchedule { optimizer == .sgd ? .decayAfter(epochs: decayAfter, factor: decayFactor) : .constant }

    public var config: JSON {
        .object([
            ("task", "lm"), ("cell", .string(cell.rawValue)), ("layers", JSON(layers)), ("embedding", JSON(embeddingSize)),
            ("hidden", JSON(hiddenSize)), ("dropout", JSON(dropout)), ("tied", .bool(tied)), ("optimizer", .string(optimizer.rawValue)),
            ("lr", JSON(learningRate)), ("clip", JSON(clip)), ("decay_after", JSON(decayAfter)), ("decay_factor", JSON(decayFactor)),
            ("epochs", JSON(epochs)), ("batch_size", JSON(batchSize)), ("bptt", JSON(bptt)), ("eval_batch_size", JSON(evalBatchSize)),
            ("init_scale", JSON(initScale)), ("seed", JSON(Int(seed))), ("level", .string(level.rawValue)), ("threads", JSON(BLAS.threads)),
        ] + (patience.map { [("patience", JSON($0))] } ?? []) + (projectionSize > 0 ? [("proj_size", JSON(projectionSize))] : [])
          + (recurrentInitialization.map { [("init", .string($0.rawValue))] } ?? []))
    }

    public func makeModel(vocabularySize: Int) -> LanguageModel {
        LanguageModel(cell: cell, vocabularySize: vocabularySize, embeddingSize: embeddingSize, hiddenSize: hiddenSize, layers: layers,
                      dropout: dropout, tied: tied, initScale: initScale, projectionSize: projectionSize,
                      recurrentInitialization: recurrentInitialization, seed: seed)
    }

    public struct EpochPoint: Sendable, Codable {
        public let epoch: Int
        public let learningRate: Double
        public let trainPerplexity: Double, validPerplexity: Double, testPerplexity: Double
        public let seconds: Double, tokensPerSecond: Double
    }

    public struct Result: Sendable {
        public let history: [EpochPoint]
        public let bestValidPerplexity: Double
        /// Test perplexity of the model with the best validation perplexity.
        public let testPerplexityAtBest: Double
        public let unigramPerplexity: Double
        public let seconds: Double
        public let parameterCount: Int
        public let config: JSON

        public var json: JSON {
            let last = history.last
            return .object([
                ("train_perplexity", .number(last?.trainPerplexity ?? .nan)), ("valid_perplexity", .number(last?.validPerplexity ?? .nan)),
                ("test_perplexity", .number(last?.testPerplexity ?? .nan)), ("best_valid_perplexity", .number(bestValidPerplexity)),
                ("test_perplexity_at_best_valid", .number(testPerplexityAtBest)), ("unigram_test_perplexity", .number(unigramPerplexity)),
                ("tokens_per_second", .number(history.map(\.tokensPerSecond).reduce(0, +) / Double(max(history.count, 1)))),
                ("seconds_per_epoch", .number(history.map(\.seconds).reduce(0, +) / Double(max(history.count, 1)))),
                ("seconds", .number(seconds)), ("epochs_run", JSON(history.count)), ("parameters", JSON(parameterCount)), ("config", config),
            ])
        }
    }

    /// exp(mean NLL per token) over a stream, in evaluation mode, state carried across windows.
    public func perplexity(_ model: LanguageModel, _ ids: [Int32]) throws -> Double {
        let stream = try BatchedStream(ids, batch: min(evalBatchSize, max(1, ids.count / 2)))
        let wasTraining = model.training
        model.training = false
        defer { model.training = wasTraining }
        var state = model.zeroState(batch: stream.batch)
        let loss = SoftmaxCrossEntropy()
        var nll = 0.0, tokens = 0
        for start in stream.windowStarts(bptt: bptt) {
            let w = stream.window(at: start, bptt: bptt)
            let r = loss(model(w.inputs, steps: w.steps, batch: stream.batch, state: &state), targets: w.targets)
            nll += Double(r.value) * Double(r.count)
            tokens += r.count
        }
        return exp(nll / Double(max(tokens, 1)))
    }

    /// Add-one unigram model estimated on train, evaluated on `ids`: the baseline to beat.
    public static func unigramPerplexity(train: [Int32], evaluate ids: [Int32], vocabularySize: Int) -> Double {
        var counts = [Double](repeating: 1, count: vocabularySize)
        for id in train { counts[Int(id)] += 1 }
        let total = Double(train.count + vocabularySize)
        return exp(-ids.reduce(0.0) { $0 + log(counts[Int($1)] / total) } / Double(ids.count))
    }

    /// The trainer's view: the training stream's BPTT windows in order, the state carried from
    /// one window to the next and reset at every epoch; perplexities after every epoch.
    final class Task: TrainingTask {
        let model: LanguageModel
        let batches: BatchSource
        let experiment: LanguageModelExperiment
        let stream: BatchedStream
        let starts: [Int]
        let valid: [Int32], test: [Int32]
        var state: RecurrentState
        let loss = SoftmaxCrossEntropy()

        init(_ e: LanguageModelExperiment, model: LanguageModel, train: [Int32], valid: [Int32], test: [Int32]) throws {
            (experiment, self.model, self.valid, self.test) = (e, model, valid, test)
            stream = try BatchedStream(train, batch: e.batchSize)
            starts = Array(stream.windowStarts(bptt: e.bptt))
            batches = .examples(count: starts.count, batchSize: 1, shuffle: false)
            state = model.zeroState(batch: e.batchSize)
        }

        func startEpoch(_ epoch: Int) { state = model.zeroState(batch: stream.batch) }

        func trainStep(_ batch: TrainingBatch) -> StepLoss {
            let w = stream.window(at: starts[batch.rows[0]], bptt: experiment.bptt)
            let r = loss(model(w.inputs, steps: w.steps, batch: stream.batch, state: &state), targets: w.targets)
            model.backward(r.gradient)
            return StepLoss(loss: Double(r.value), weight: r.count)
        }

        func trainMetrics(loss: Double, accuracy: Double?) -> Metrics { [("train_perplexity", exp(loss))] }

        func validate() -> Metrics {
            // Errors cannot happen here: run() checked that both streams are long enough.
            let v = try! experiment.perplexity(model, valid)
            return [("valid_perplexity", v), ("test_perplexity", valid == test ? v : try! experiment.perplexity(model, test))]
        }
    }

    /// Trains for `epochs` (or what remains after `resume`), evaluating after every epoch.
    /// `save`: the state after every epoch goes to `save` (for --resume), the best weights to
    /// `<save>.best.safetensors`.
    public func run(train: [Int32], valid: [Int32], test: [Int32], vocabulary: TokenVocabulary,
                    save: String? = nil, resume: String? = nil, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        for (name, ids) in [("validation", valid), ("test", test)] where ids.count < 2 {
            throw RecurError("the \(name) text has \(ids.count) tokens; perplexity needs at least 2", fix: "give a longer \(name) text")
        }
        let architecture = ModelConfig(languageModel: cell, vocabularySize: vocabulary.count, embeddingSize: embeddingSize,
                                       hiddenSize: hiddenSize, layers: layers, tied: tied, projectionSize: projectionSize)
        try MemoryBudget.check(training: architecture, steps: bptt, batch: batchSize)
        let model = makeModel(vocabularySize: vocabulary.count)
        let task = try Task(self, model: model, train: train, valid: valid, test: test)
        var options = TrainingOptions(length: .epochs(epochs), evaluateEvery: .epoch,
                                      selection: .init("valid_perplexity", higherIsBetter: false), learningRate: learningRate)
        (options.schedule, options.scheduleClock, options.clip, options.patience) = (schedule, .epoch, clip, patience)
        let trainer = Trainer(task: task, optimizer: optimizer.make(model.parameters, learningRate: learningRate), options: options,
                              shuffle: RandomGenerator(seed: seed))
        trainer.report(to: progress, run: run)
        var checkpoint = CheckpointSpec(path: save, resume: resume, format: "recur-lm-2", identity: TrainingCheckpoint.identity(config),
                                        architecture: architecture)
        (checkpoint.extra, checkpoint.mustMatch) = (checkpointMetadata(vocabulary), ["vocabulary"])
        let trained = try trainer.fit(checkpoint: checkpoint)
        let history = trained.history.map {
            EpochPoint(epoch: $0.epoch, learningRate: $0["lr"]!, trainPerplexity: $0["train_perplexity"]!,
                       validPerplexity: $0["valid_perplexity"]!, testPerplexity: $0["test_perplexity"]!, seconds: $0.seconds,
                       tokensPerSecond: Double(task.stream.batch * (task.stream.steps - 1)) / max($0.seconds, 1e-9))
        }
        return Result(history: history, bestValidPerplexity: trained.best ?? .infinity, testPerplexityAtBest: trained.atBest("test_perplexity") ?? .nan,
                      unigramPerplexity: Self.unigramPerplexity(train: train, evaluate: test, vocabularySize: vocabulary.count),
                      seconds: Date().timeIntervalSince(start), parameterCount: model.parameterCount, config: config)
    }

    /// The configuration and vocabulary that `load` and `recur generate` read.
    func checkpointMetadata(_ vocabulary: TokenVocabulary) -> [String: String] {
        let vocab = String(decoding: try! JSONEncoder().encode(vocabulary.tokens), as: UTF8.self)
        return ["config": config.serialized(), "vocabulary": vocab]
    }

    /// Rebuilds the model and vocabulary saved by `run(save:)`.
    public static func load(_ path: String) throws -> (LanguageModel, TokenVocabulary, LanguageModelExperiment) {
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        guard ["recur-lm-1", "recur-lm-2"].contains(file.metadata["format"] ?? ""), let configText = file.metadata["config"],
              let vocabText = file.metadata["vocabulary"] else {
            throw RecurError("\(path): not a Recur language-model checkpoint", fix: "give a file that a language-model run saved (`save`)")
        }
        guard let tokens = try? JSONDecoder().decode([String].self, from: Data(vocabText.utf8)) else {
            throw RecurError("\(path): its vocabulary metadata is not a JSON list of strings", fix: "the checkpoint is damaged; use another one")
        }
        try TokenVocabulary.check(tokens, source: path)
        guard let c = (try? JSONSerialization.jsonObject(with: Data(configText.utf8))) as? [String: Any],
              let cell = (c["cell"] as? String).flatMap(CellType.init(rawValue:)), let layers = c["layers"] as? Int,
              let emb = c["embedding"] as? Int, let hidden = c["hidden"] as? Int else {
            throw RecurError("\(path): the saved configuration is incomplete", fix: "the checkpoint is damaged; use another one")
        }
        var e = LanguageModelExperiment()
        e.cell = cell
        e.layers = layers
        e.embeddingSize = emb
        e.hiddenSize = hidden
        e.tied = c["tied"] as? Bool ?? false
        e.projectionSize = c["proj_size"] as? Int ?? 0
        e.recurrentInitialization = (c["init"] as? String).flatMap(RecurrentInitialization.init(rawValue:))
        e.level = (c["level"] as? String).flatMap(TextCorpus.Level.init(rawValue:)) ?? .word
        let vocabulary = TokenVocabulary(tokens: tokens)
        let architecture = ModelConfig(languageModel: cell, vocabularySize: tokens.count, embeddingSize: emb, hiddenSize: hidden,
                                       layers: layers, tied: e.tied, projectionSize: e.projectionSize)
        try architecture.validate(source: path + " (its configuration)")
        try Checkpoint.checkShapes(architecture, file: file, source: path)
        let model = e.makeModel(vocabularySize: vocabulary.count)
        try Checkpoint.restore(model, from: file, source: path)
        return (model, vocabulary, e)
    }

    /// Samples `length` units after `prime`. temperature 0 is greedy.
    /// - emit: called with each unit as soon as it is sampled (to stream the text).
    public static func generate(_ model: LanguageModel, vocabulary: TokenVocabulary, prime: [String], length: Int,
                                temperature: Float, seed: UInt64, emit: ((String) -> Void)? = nil) throws -> [String] {
        model.training = false
        var state = model.zeroState(batch: 1)
        let unk = vocabulary.ids[TextCorpus.unknown]
        var ids = try prime.map { w -> Int32 in
            guard let id = vocabulary.ids[w] ?? unk else {
                throw RecurError("prime word '\(w)' is not in the model's vocabulary", fix: "use words the model was trained on")
            }
            return id
        }
        if ids.isEmpty { ids = [vocabulary.ids[TextCorpus.endOfSentence] ?? 0] }
        var rng = RandomGenerator(seed: seed)
        var logits = model(ids, steps: ids.count, batch: 1, state: &state)
        var out: [String] = []
        let V = vocabulary.count
        for _ in 0..<length {
            let last = logits.pointer + (logits.shape[0] - 1) * V
            var next = 0
            if temperature <= 0 {
                next = logits.rows((logits.shape[0] - 1)..<logits.shape[0]).rowArgmax()[0]
            } else {
                var m = -Float.infinity
                for j in 0..<V { m = max(m, last[j]) }
                var p = (0..<V).map { Double(exp((last[$0] - m) / temperature)) }
                let total = p.reduce(0, +)
                var u = Double(rng.uniform()) * total
                next = V - 1
                for j in 0..<V { u -= p[j]; if u <= 0 { next = j; break } }
                p.removeAll()
            }
            out.append(vocabulary.tokens[next])
            emit?(vocabulary.tokens[next])
            logits = model([Int32(next)], steps: 1, batch: 1, state: &state)
        }
        return out
    }
}

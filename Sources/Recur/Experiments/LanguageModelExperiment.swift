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
        ] + (projectionSize > 0 ? [("proj_size", JSON(projectionSize))] : [])
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

    /// Trains for `epochs` (or what remains after `resume`), evaluating after every epoch.
    /// `save`: the last state goes to `save` (for --resume), the best weights to
    /// `<save>.best.safetensors`.
    public func run(train: [Int32], valid: [Int32], test: [Int32], vocabulary: TokenVocabulary,
                    save: String? = nil, resume: String? = nil, progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        let model = makeModel(vocabularySize: vocabulary.count)
        let opt: any Optimizer = optimizer.make(model.parameters, learningRate: learningRate)
        let stream = try BatchedStream(train, batch: batchSize)
        let loss = SoftmaxCrossEntropy()
        let format = "recur-lm-1", identity = TrainingCheckpoint.identity(config), extra = checkpointMetadata(vocabulary)
        let architecture = ModelConfig(languageModel: cell, vocabularySize: vocabulary.count, embeddingSize: embeddingSize,
                                       hiddenSize: hiddenSize, layers: layers, tied: tied, projectionSize: projectionSize)
        var saved = Progress()
        if let resume {
            let r = try TrainingCheckpoint.resume(resume, model: model, optimizer: opt, format: format, identity: identity,
                                                  mustMatch: ["vocabulary": extra["vocabulary"]!], randomCount: 3, as: Progress.self)
            (saved, model.randomStates) = (r.progress, r.random)
        }
        var (history, best, testAtBest) = (saved.history, saved.best, saved.testAtBest)
        let firstEpoch = history.count
        let windowsPerEpoch = (stream.steps - 1 + bptt - 1) / bptt
        var stepsDone = firstEpoch * windowsPerEpoch
        for epoch in firstEpoch..<epochs {
            let epochStart = Date()
            opt.learningRate = schedule.rate(base: learningRate, at: epoch)
            model.training = true
            var state = model.zeroState(batch: batchSize)  // reset at every epoch start
            var nll = 0.0, tokens = 0
            for windowStart in stream.windowStarts(bptt: bptt) {
                let w = stream.window(at: windowStart, bptt: bptt)
                model.zeroGrad()
                let logits = model(w.inputs, steps: w.steps, batch: batchSize, state: &state)
                let r = loss(logits, targets: w.targets)
                model.backward(r.gradient)
                if clip > 0 { clipGradientNorm(model.parameters, maxNorm: clip) }
                opt.step()
                nll += Double(r.value) * Double(r.count)
                tokens += r.count
                stepsDone += 1
                let elapsed = Date().timeIntervalSince(epochStart)
                progress?.update(stepsDone, metrics: [("epoch", "\(epoch + 1)/\(epochs)"), ("ppl", formatNumber(exp(nll / Double(tokens)), decimals: 1)),
                                                      ("tok/s", formatNumber(Double(tokens) / max(elapsed, 1e-9), decimals: 0))])
            }
            let trainSeconds = Date().timeIntervalSince(epochStart)
            let validPPL = try perplexity(model, valid)
            let testPPL = valid == test ? validPPL : try perplexity(model, test)  // one pass when they are the same text
            let point = EpochPoint(epoch: epoch + 1, learningRate: Double(opt.learningRate), trainPerplexity: exp(nll / Double(tokens)),
                                   validPerplexity: validPPL, testPerplexity: testPPL, seconds: trainSeconds,
                                   tokensPerSecond: Double(tokens) / max(trainSeconds, 1e-9))
            history.append(point)
            run?.logMetrics(.object([("epoch", JSON(point.epoch)), ("lr", .number(point.learningRate)),
                                     ("train_perplexity", .number(point.trainPerplexity)), ("valid_perplexity", .number(validPPL)),
                                     ("test_perplexity", .number(testPPL)), ("tokens_per_second", .number(point.tokensPerSecond))]))
            progress?.log("epoch \(epoch + 1): train ppl \(formatNumber(point.trainPerplexity, decimals: 2)), valid \(formatNumber(validPPL, decimals: 2)), test \(formatNumber(testPPL, decimals: 2)), \(formatNumber(point.tokensPerSecond, decimals: 0)) tok/s")
            let improved = validPPL < best
            if improved { best = validPPL; testAtBest = testPPL }
            if let save {
                try TrainingCheckpoint.save(model, optimizer: opt, progress: Progress(history: history, best: best, testAtBest: testAtBest),
                                            random: model.randomStates, format: format, identity: identity,
                                            architecture: architecture, extra: extra, to: save)
                if improved {
                    try TrainingCheckpoint.saveBest(model, format: format, identity: identity, architecture: architecture, extra: extra, save: save)
                }
            }
        }
        return Result(history: history, bestValidPerplexity: best, testPerplexityAtBest: testAtBest,
                      unigramPerplexity: Self.unigramPerplexity(train: train, evaluate: test, vocabularySize: vocabulary.count),
                      seconds: Date().timeIntervalSince(start), parameterCount: model.parameterCount, config: config)
    }

    /// What a resumed run needs besides weights, optimizer state and dropout streams.
    struct Progress: Codable {
        var history: [EpochPoint] = []
        var best = Double.infinity, testAtBest = Double.nan
    }

    /// The configuration and vocabulary that `load` and `recur generate` read.
    func checkpointMetadata(_ vocabulary: TokenVocabulary) -> [String: String] {
        let vocab = String(decoding: try! JSONEncoder().encode(vocabulary.tokens), as: UTF8.self)
        return ["config": config.serialized(), "vocabulary": vocab]
    }

    /// Rebuilds the model and vocabulary saved by `run(save:)`.
    public static func load(_ path: String) throws -> (LanguageModel, TokenVocabulary, LanguageModelExperiment) {
        let file = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        guard file.metadata["format"] == "recur-lm-1", let configText = file.metadata["config"],
              let vocabText = file.metadata["vocabulary"] else {
            throw RecurError("\(path): not a Recur language-model checkpoint", fix: "give a file written by recur lm --save")
        }
        let tokens = try JSONDecoder().decode([String].self, from: Data(vocabText.utf8))
        guard let c = try JSONSerialization.jsonObject(with: Data(configText.utf8)) as? [String: Any],
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
        let model = e.makeModel(vocabularySize: vocabulary.count)
        try Checkpoint.restore(model, from: file, source: path)
        return (model, vocabulary, e)
    }

    /// Samples `length` units after `prime`. temperature 0 is greedy.
    public static func generate(_ model: LanguageModel, vocabulary: TokenVocabulary, prime: [String], length: Int,
                                temperature: Float, seed: UInt64) throws -> [String] {
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
            logits = model([Int32(next)], steps: 1, batch: 1, state: &state)
        }
        return out
    }
}

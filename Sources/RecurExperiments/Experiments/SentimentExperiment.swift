import Recur
import Foundation

/// Seed 004's Keras experiment: review sentiment with Embedding -> recurrent -> sigmoid,
/// binary cross-entropy, Adam 1e-3, batch 64, 3 epochs, reviews cut or padded to 500 tokens.
public struct SentimentExperiment: Sendable {
    public var model: SentimentModel.Kind = .lstm1
    /// The seed's TF 1.x Keras by default.
    public var convention: Convention = .keras1
    /// Overrides the convention's recurrent initialisation; nil: the convention's.
    public var recurrentInitialization: RecurrentInitialization? = nil
    /// Replaces the 100-unit models' cell; nil: the model's own.
    public var cell: CellType? = nil
    public var vocabularySize = 2000
    public var maxlen = 500
    public var padding: Padding = .pre
    public var truncating: Padding = .pre
    /// Per-review lengths with masking instead of padded steps (batches then run only to
    /// their longest review).
    public var useLengths = false
    /// Batches of reviews of similar length, each run to its own longest review with lengths
    /// (implies `useLengths`).
    public var bucket = false
    /// Early stopping: stop after this many epochs without a better validation accuracy and
    /// keep the best weights; nil: never.
    public var patience: Int? = nil
    public var epochs = 3
    public var batchSize = 64
    public var learningRate: Float = 1e-3
    public var seed: UInt64 = 42
    /// Describes where the data came from, for reports.
    public var dataDescription = ""

    public init() {}

    public var config: JSON {
        .object([
            ("task", "sentiment"), ("model", .string(model.rawValue)), ("convention", .string(convention.rawValue)),
            ("vocab", JSON(vocabularySize)), ("maxlen", JSON(maxlen)), ("padding", .string(padding.rawValue)),
            ("truncating", .string(truncating.rawValue)), ("lengths", .bool(useLengths)), ("epochs", JSON(epochs)),
            ("batch_size", JSON(batchSize)), ("lr", JSON(learningRate)), ("seed", JSON(Int(seed))),
            ("data", .string(dataDescription)), ("threads", JSON(BLAS.threads)),
        ] + (bucket ? [("bucket", .bool(true))] : []) + (patience.map { [("patience", JSON($0))] } ?? []) + (recurrentInitialization.map { [("init", .string($0.rawValue))] } ?? [])
          + (cell.map { [("cell", .string($0.rawValue))] } ?? []))
    }

    public struct EpochPoint: Sendable {
        public let epoch: Int
        public let trainLoss: Double, trainAccuracy: Double, validLoss: Double, validAccuracy: Double
    }

    public struct Result: Sendable {
        public let model: SentimentModel.Kind
        public let testAccuracy: Double, testLoss: Double
        public let history: [EpochPoint]
        public let seconds: Double, trainSeconds: Double, steps: Int, sequences: Int
        public let parameterCount: Int
        public let config: JSON

        public var json: JSON {
            .object([
                ("test_accuracy", .number(testAccuracy)), ("test_loss", .number(testLoss)),
                ("best_valid_accuracy", .number(history.map(\.validAccuracy).max() ?? .nan)),
                ("train_loss", .number(history.last?.trainLoss ?? .nan)), ("train_accuracy", .number(history.last?.trainAccuracy ?? .nan)),
                ("valid_loss", .number(history.last?.validLoss ?? .nan)), ("valid_accuracy", .number(history.last?.validAccuracy ?? .nan)),
                ("seconds", .number(seconds)), ("seconds_per_epoch", .number(trainSeconds / Double(max(history.count, 1)))),
                ("ms_per_step", .number(trainSeconds * 1000 / Double(max(steps, 1)))),
                ("sequences_per_second", .number(Double(sequences) / max(trainSeconds, 1e-9))),
                ("parameters", JSON(parameterCount)), ("config", config),
            ])
        }
    }

    /// Encoded reviews: ids (start token first) cut to maxlen, and labels.
    struct Encoded {
        let sequences: [[Int32]]
        let labels: [Float]
    }

    func encode(_ corpus: ReviewCorpus, _ vocabulary: Vocabulary) -> Encoded {
        Encoded(sequences: corpus.reviews.map { r in
            let ids = vocabulary.encode(Tokenizer.tokens(r.text))
            return ids.count <= maxlen ? ids : (truncating == .pre ? Array(ids.suffix(maxlen)) : Array(ids.prefix(maxlen)))
        }, labels: corpus.reviews.map(\.label))
    }

    /// A batch as time-major ids [T, B] with T = maxlen (padded) or the longest review (lengths).
    func batch(_ data: Encoded, _ rows: [Int]) -> (ids: [Int32], steps: Int, lengths: [Int]?, labels: [Float]) {
        let seqs = rows.map { data.sequences[$0] }
        let lengths = useLengths || bucket
        let T = lengths ? seqs.map(\.count).max()! : maxlen
        var ids = [Int32](repeating: Vocabulary.pad, count: T * rows.count)
        for (b, s) in seqs.enumerated() {
            let padded = lengths ? s + [Int32](repeating: Vocabulary.pad, count: T - s.count)
                : Padding.apply(s, maxlen: maxlen, padding: padding, truncating: truncating)
            for t in 0..<T { ids[t * rows.count + b] = padded[t] }
        }
        return (ids, T, lengths ? seqs.map(\.count) : nil, rows.map { data.labels[$0] })
    }

    /// Mean loss and accuracy over a data set (the model in evaluation mode).
    func evaluate(_ net: SentimentModel, _ data: Encoded) -> (loss: Double, accuracy: Double) {
        var loss = 0.0, correct = 0
        for start in stride(from: 0, to: data.labels.count, by: 256) {
            let rows = Array(start..<min(start + 256, data.labels.count))
            let b = batch(data, rows)
            let out = net(b.ids, steps: b.steps, batch: rows.count, lengths: b.lengths)
            let (l, c) = Self.score(net, out, b.labels)
            loss += l * Double(rows.count)
            correct += c
        }
        return (loss / Double(data.labels.count), Double(correct) / Double(data.labels.count))
    }

    static func score(_ net: SentimentModel, _ out: Tensor, _ labels: [Float]) -> (loss: Double, correct: Int) {
        let loss = net.outputsProbability ? BinaryCrossEntropy()(out, targets: labels).value
            : BinaryCrossEntropyWithLogits()(out, targets: labels).value
        return (Double(loss), correct(net, out, labels))
    }

    /// Outputs on the right side of the decision threshold (0.5 for probabilities, 0 for logits).
    static func correct(_ net: SentimentModel, _ out: Tensor, _ labels: [Float]) -> Int {
        let threshold: Float = net.outputsProbability ? 0.5 : 0
        return zip(out.scalars, labels).filter { ($0 > threshold) == ($1 > 0.5) }.count
    }

    /// The trainer's view: shuffled epochs (or length buckets) over the encoded reviews,
    /// validation loss and accuracy after each.
    final class Task: TrainingTask {
        let model: SentimentModel
        let batches: BatchSource
        let experiment: SentimentExperiment
        let train: Encoded, valid: Encoded
        let probabilityLoss = BinaryCrossEntropy(), logitLoss = BinaryCrossEntropyWithLogits()

        init(_ e: SentimentExperiment, model: SentimentModel, train: Encoded, valid: Encoded) {
            (experiment, self.model, self.train, self.valid) = (e, model, train, valid)
            batches = .examples(count: train.labels.count, batchSize: e.batchSize, shuffle: true)
        }

        func trainStep(_ batch: TrainingBatch) -> StepLoss {
            let b = experiment.batch(train, batch.rows)
            let out = model(b.ids, steps: b.steps, batch: batch.rows.count, lengths: b.lengths)
            let loss = model.outputsProbability ? probabilityLoss(out, targets: b.labels) : logitLoss(out, targets: b.labels)
            let correct = SentimentExperiment.correct(model, out, b.labels)
            model.backward(loss.gradient)
            return StepLoss(loss: Double(loss.value), weight: batch.rows.count, correct: correct)
        }

        func validate() -> Metrics {
            let v = experiment.evaluate(model, valid)
            return [("valid_loss", v.loss), ("valid_accuracy", v.accuracy)]
        }

        var exampleLengths: [Int]? { train.sequences.map(\.count) }
    }

    /// Trains for `epochs`, validating after each, and tests. `save`: the training state after
    /// every epoch (for `resume`, which continues bit-identically), the best weights to
    /// `<save>.best.safetensors`.
    public func run(train: ReviewCorpus, valid: ReviewCorpus, test: ReviewCorpus, save: String? = nil, resume: String? = nil,
                    progress: ProgressReporter? = nil, run: RunDirectory? = nil) throws -> Result {
        let start = Date()
        for (name, corpus) in [("training", train), ("validation", valid), ("test", test)] where corpus.reviews.isEmpty {
            throw RecurError("the \(name) set has no reviews", fix: "give more reviews, or another validation fraction")
        }
        let vocabulary = Vocabulary(training: train.reviews.map { Tokenizer.tokens($0.text) }, size: vocabularySize)
        let trainData = encode(train, vocabulary), validData = encode(valid, vocabulary), testData = encode(test, vocabulary)
        let architecture = ModelConfig(sentiment: model, cell: cell, vocabularySize: vocabularySize, convention: convention)
        try MemoryBudget.check(training: architecture, steps: maxlen, batch: batchSize)
        var rng = RandomGenerator(seed: seed)
        let net = SentimentModel(kind: model, vocabularySize: vocabularySize, convention: convention,
                                 recurrentInitialization: recurrentInitialization, cell: cell, seed: rng.next())
        let adam = Adam(parameters: net.parameters, learningRate: learningRate, epsilon: convention.adamEpsilon)
        let task = Task(self, model: net, train: trainData, valid: validData)
        var options = TrainingOptions(length: .epochs(epochs), evaluateEvery: .epoch,
                                      selection: .init("valid_accuracy", higherIsBetter: true), learningRate: learningRate)
        (options.patience, options.bucket) = (patience, bucket)
        let trainer = Trainer(task: task, optimizer: adam, options: options, shuffle: rng)
        trainer.report(to: progress, run: run)
        var checkpoint = CheckpointSpec(path: save, resume: resume, format: "recur-sentiment-1",
                                        identity: TrainingCheckpoint.identity(config),
                                        architecture: architecture)
        let words = vocabulary.ids.sorted { $0.value < $1.value }.map(\.key)
        (checkpoint.extra, checkpoint.mustMatch) = (["vocabulary": JSON.array(words.map { .string($0) }).serialized()], ["vocabulary"])
        let trained = try trainer.fit(checkpoint: checkpoint)
        let history = trained.history.map {
            EpochPoint(epoch: $0.epoch, trainLoss: $0["train_loss"]!, trainAccuracy: $0["train_accuracy"]!,
                       validLoss: $0["valid_loss"]!, validAccuracy: $0["valid_accuracy"]!)
        }
        let t = evaluate(net, testData)
        return Result(model: model, testAccuracy: t.accuracy, testLoss: t.loss, history: history, seconds: Date().timeIntervalSince(start),
                      trainSeconds: trained.trainSeconds, steps: trained.steps, sequences: trained.examples,
                      parameterCount: net.parameterCount, config: config)
    }
}

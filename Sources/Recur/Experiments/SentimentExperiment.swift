import Foundation

/// Seed 004's Keras experiment: review sentiment with Embedding -> recurrent -> sigmoid,
/// binary cross-entropy, Adam 1e-3, batch 64, 3 epochs, reviews cut or padded to 500 tokens.
public struct SentimentExperiment: Sendable {
    public var model: SentimentModel.Kind = .lstm1
    public var convention: SentimentModel.Convention = .keras
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
        ] + (recurrentInitialization.map { [("init", .string($0.rawValue))] } ?? [])
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
        let T = useLengths ? seqs.map(\.count).max()! : maxlen
        var ids = [Int32](repeating: Vocabulary.pad, count: T * rows.count)
        for (b, s) in seqs.enumerated() {
            let padded = useLengths ? s + [Int32](repeating: Vocabulary.pad, count: T - s.count)
                : Padding.apply(s, maxlen: maxlen, padding: padding, truncating: truncating)
            for t in 0..<T { ids[t * rows.count + b] = padded[t] }
        }
        return (ids, T, useLengths ? seqs.map(\.count) : nil, rows.map { data.labels[$0] })
    }

    /// Mean loss and accuracy over a data set, in evaluation mode.
    func evaluate(_ net: SentimentModel, _ data: Encoded) -> (loss: Double, accuracy: Double) {
        net.training = false
        defer { net.training = true }
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
        let threshold: Float = net.outputsProbability ? 0.5 : 0
        let correct = zip(out.scalars, labels).filter { ($0 > threshold) == ($1 > 0.5) }.count
        return (Double(loss), correct)
    }

    public func run(train: ReviewCorpus, valid: ReviewCorpus, test: ReviewCorpus,
                    progress: ProgressReporter? = nil, run: RunDirectory? = nil) -> Result {
        let start = Date()
        let vocabulary = Vocabulary(training: train.reviews.map { Tokenizer.tokens($0.text) }, size: vocabularySize)
        let trainData = encode(train, vocabulary), validData = encode(valid, vocabulary), testData = encode(test, vocabulary)
        var rng = RandomGenerator(seed: seed)
        let net = SentimentModel(kind: model, vocabularySize: vocabularySize, convention: convention,
                                 recurrentInitialization: recurrentInitialization, cell: cell, seed: rng.next())
        let adam = Adam(parameters: net.parameters, learningRate: learningRate, epsilon: convention == .keras ? 1e-7 : 1e-8)
        let probabilityLoss = BinaryCrossEntropy(), logitLoss = BinaryCrossEntropyWithLogits()
        var order = Array(trainData.labels.indices)
        var history: [EpochPoint] = []
        var steps = 0
        let trainStart = Date()
        for epoch in 1...epochs {
            for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, rng.int(below: i + 1)) }
            var lossSum = 0.0, correct = 0
            for startRow in stride(from: 0, to: order.count, by: batchSize) {
                let rows = Array(order[startRow..<min(startRow + batchSize, order.count)])
                let b = batch(trainData, rows)
                net.zeroGrad()
                let out = net(b.ids, steps: b.steps, batch: rows.count, lengths: b.lengths)
                let loss = net.outputsProbability ? probabilityLoss(out, targets: b.labels) : logitLoss(out, targets: b.labels)
                correct += Self.score(net, out, b.labels).correct
                net.backward(loss.gradient)
                adam.step()
                lossSum += Double(loss.value) * Double(rows.count)
                steps += 1
                progress?.update(steps, metrics: [("epoch", "\(epoch)/\(epochs)"), ("loss", formatNumber(lossSum / Double(startRow + rows.count))),
                                                  ("acc", formatNumber(Double(correct) / Double(startRow + rows.count), decimals: 3))])
            }
            let v = evaluate(net, validData)
            let point = EpochPoint(epoch: epoch, trainLoss: lossSum / Double(order.count), trainAccuracy: Double(correct) / Double(order.count),
                                   validLoss: v.loss, validAccuracy: v.accuracy)
            history.append(point)
            run?.logMetrics(.object([("epoch", JSON(epoch)), ("train_loss", .number(point.trainLoss)), ("train_accuracy", .number(point.trainAccuracy)),
                                     ("valid_loss", .number(point.validLoss)), ("valid_accuracy", .number(point.validAccuracy))]))
        }
        let trainSeconds = Date().timeIntervalSince(trainStart)
        let t = evaluate(net, testData)
        return Result(model: model, testAccuracy: t.accuracy, testLoss: t.loss, history: history, seconds: Date().timeIntervalSince(start),
                      trainSeconds: trainSeconds, steps: steps, sequences: epochs * order.count, parameterCount: net.parameterCount, config: config)
    }
}

import Recur
/// A Keras-style model summary: layer, output shape, parameter count and totals. Counts
/// are read from the constructed Recur layers.
public struct ModelSummary: Sendable {
    public struct Row: Sendable {
        public let name: String, type: String, outputShape: String, parameters: Int
    }
    public var rows: [Row] = []

    public init() {}

    public mutating func add(_ name: String, _ type: String, _ shape: [Int?], _ parameters: Int) {
        rows.append(Row(name: name, type: type, outputShape: "(" + shape.map { $0.map(String.init) ?? "None" }.joined(separator: ", ") + ")",
                        parameters: parameters))
    }

    public var total: Int { rows.reduce(0) { $0 + $1.parameters } }

    /// 12345 -> "12,345".
    public static func grouped(_ n: Int) -> String {
        let s = String(n)
        return s.enumerated().map { i, c in (i > 0 && (s.count - i) % 3 == 0 ? "," : "") + String(c) }.joined()
    }

    public var text: String {
        var t = MarkdownTable(header: ["Layer (type)", "Output Shape", "Param #"], rightAligned: [2])
        for r in rows { t.append(["\(r.name) (\(r.type))", r.outputShape, Self.grouped(r.parameters)]) }
        return t.plainText + "Total params: \(Self.grouped(total))\nTrainable params: \(Self.grouped(total))\nNon-trainable params: 0\n"
    }

    public var json: JSON {
        .object([("layers", .array(rows.map { .object([("name", .string($0.name)), ("type", .string($0.type)),
                                                        ("output_shape", .string($0.outputShape)), ("params", JSON($0.parameters))]) })),
                 ("total_params", JSON(total))])
    }

    /// Seed 004's models.
    public static func sentiment(_ kind: SentimentModel.Kind, vocabularySize: Int, maxlen: Int, convention: Convention) -> ModelSummary {
        let m = SentimentModel(kind: kind, vocabularySize: vocabularySize, convention: convention, seed: 0)
        var s = ModelSummary()
        s.add("embedding", "Embedding", [nil, maxlen, 32], m.embedding.parameterCount)
        s.add("dropout", "Dropout", [nil, maxlen, 32], 0)
        let type = ["rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"][kind.cell == .rnn ? "rnn" : kind.cell.rawValue]!
        s.add(type.lowercased(), type, [nil, kind.units], m.recurrent.parameterCount)
        if let head = m.head {
            s.add("dropout_1", "Dropout", [nil, 100], 0)
            if let dense = m.dense {
                s.add("dense", "Dense", [nil, 100], dense.parameterCount)
                s.add("dropout_2", "Dropout", [nil, 100], 0)
            }
            s.add(m.dense == nil ? "dense" : "dense_1", "Dense", [nil, 1], head.parameterCount)
            s.add("activation", "Activation", [nil, 1], 0)
        }
        return s
    }

    /// A bare recurrent stack (e.g. seed 002's LSTM with input 200 and hidden 200).
    public static func layer(_ cell: CellType, inputSize: Int, hiddenSize: Int, layers: Int, bidirectional: Bool,
                             bias: RecurrentBias) -> ModelSummary {
        let l = cell.makeLayer(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bidirectional: bidirectional, bias: bias)
        var s = ModelSummary()
        s.add(cell.rawValue, cell.displayName + (bidirectional ? " (bidirectional)" : ""), [nil, nil, l.outputWidth], l.parameterCount)
        return s
    }

    /// Seed 002's language model (Embedding -> stacked recurrent -> Linear over the vocabulary).
    public static func languageModel(_ cell: CellType, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int,
                                     steps: Int, bias: RecurrentBias) -> ModelSummary {
        var rng = RandomGenerator(seed: 0)
        let embedding = Embedding(vocabularySize: vocabularySize, dimension: embeddingSize, rng: &rng)
        let rnn = cell.makeLayer(inputSize: embeddingSize, hiddenSize: hiddenSize, layers: layers, bias: bias)
        let head = Linear(inputSize: hiddenSize, outputSize: vocabularySize, rng: &rng)
        var s = ModelSummary()
        s.add("embedding", "Embedding", [nil, steps, embeddingSize], embedding.parameterCount)
        s.add(cell.rawValue, cell.displayName + " x\(layers)", [nil, steps, hiddenSize], rnn.parameterCount)
        s.add("head", "Linear", [nil, steps, vocabularySize], head.parameterCount)
        return s
    }

    /// A many-to-one classifier or regressor (palindrome, forecast, speech).
    public static func sequenceModel(_ cell: CellType, inputSize: Int, hiddenSize: Int, layers: Int, bidirectional: Bool,
                                     outputs: Int, bias: RecurrentBias) -> ModelSummary {
        var rng = RandomGenerator(seed: 0)
        let m = SequenceModel(recurrent: cell.makeLayer(inputSize: inputSize, hiddenSize: hiddenSize, layers: layers,
                                                        bidirectional: bidirectional, bias: bias), outputs: outputs, rng: &rng)
        var s = ModelSummary()
        s.add(cell.rawValue, cell.displayName, [nil, m.recurrent.outputWidth], m.recurrent.parameterCount)
        s.add("head", "Linear", [nil, outputs], m.head.parameterCount)
        return s
    }
}

import Foundation

/// What a model file needs besides its tensors: the architecture, as JSON with snake_case keys.
///
///     {"task": "sequence", "cell": "lstm", "input_size": 20, "hidden_size": 32, "layers": 3,
///      "bidirectional": true, "output_size": 3}
///     {"task": "language-model", "cell": "lstm", "vocabulary_size": 10000, "embedding_size": 200,
///      "hidden_size": 200, "layers": 2, "tied": false}
///     {"task": "jordan", "input_size": 1, "hidden_size": 10, "output_size": 1, "activation": "relu"}
///
/// `sequence` is `SequenceModel` (tensors `rnn.*`, `head.*`: PyTorch's `nn.LSTM`/`nn.GRU`/
/// `nn.RNN` as `rnn` and `nn.Linear(D*H, output_size)` as `head`); `language-model` is
/// `LanguageModel` (`embedding.*`, `rnn.*`, `head.*`); `jordan` is `JordanRNN`, whose output
/// feeds back (`weight_ih_l0`, `weight_yh_l0`, `bias_h_l0`, `weight_hy_l0`, `bias_y_l0`). Recur writes it into checkpoints as
/// the `model` metadata entry; `recur import` reads it from a file next to PyTorch weights.
public struct ModelConfig: Codable, Equatable, Sendable {
    public enum Task: String, Codable, Sendable, CaseIterable {
        case sequence, languageModel = "language-model", sentiment, jordan
    }

    public var task: Task
    public var cell: CellType
    public var hiddenSize: Int
    public var layers: Int
    public var bidirectional: Bool
    /// sequence: features per step and outputs per sequence.
    public var inputSize: Int?
    public var outputSize: Int?
    /// language-model: vocabulary and embedding sizes, and whether head.weight is embedding.weight.
    public var vocabularySize: Int?
    public var embeddingSize: Int?
    public var tied: Bool
    /// Recurrent biases: `separate` (PyTorch's bias_ih and bias_hh, the default), `single`
    /// (bias_ih only; `recur export` writes bias_hh as zeros) or `none` (`bias=False`).
    public var bias: RecurrentBias
    /// An LSTM's projection size (PyTorch `proj_size`); 0: none. Stored only when set.
    public var projectionSize: Int
    /// How `recur init` initialises the recurrent weights (default PyTorch's); stored only when set.
    public var initialization: RecurrentInitialization?
    /// How a bidirectional sequence model merges its top layer's directions (Keras'
    /// `merge_mode`); stored only when not `concat`.
    public var merge: BidirectionalMerge
    /// sentiment: which of seed 004's models (`SentimentModel.Kind`) and the framework
    /// defaults it was built with; `cell` is its recurrent cell.
    public var sentimentModel: SentimentModel.Kind?
    public var convention: Convention?
    /// The candidate and output activation of an rnn, lstm or gru sequence model (Keras'
    /// `activation=`) or of a Jordan network's hidden layer; nil: tanh. Stored only when set.
    public var activation: Activation?
    /// A gru sequence model's reset placement: true (PyTorch's and Keras 2's) or false
    /// (reset before the recurrent product, TF 1.x Keras). Stored only when false.
    public var resetAfter: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case task, cell, layers, bidirectional, tied, bias
        case projectionSize = "proj_size", initialization = "init", merge
        case hiddenSize = "hidden_size", inputSize = "input_size", outputSize = "output_size"
        case vocabularySize = "vocabulary_size", embeddingSize = "embedding_size"
        case sentimentModel = "model", convention, activation, resetAfter = "reset_after"

        static let sizes: [CodingKeys] = [.hiddenSize, .layers, .inputSize, .outputSize, .vocabularySize, .embeddingSize, .projectionSize]
    }

    /// The largest size a field may hold (2^24), so that products of sizes cannot overflow.
    public static let maximumSize = 1 << 24
    /// The most stacked layers.
    public static let maximumLayers = 256

    public init(sequence cell: CellType, inputSize: Int, hiddenSize: Int, layers: Int = 1, bidirectional: Bool = false,
                outputSize: Int, bias: RecurrentBias = .separate, projectionSize: Int = 0,
                initialization: RecurrentInitialization? = nil, merge: BidirectionalMerge = .concat,
                activation: Activation? = nil, resetAfter: Bool = true) {
        (task, self.cell, self.inputSize, self.hiddenSize, self.layers, self.bidirectional, self.outputSize) =
            (.sequence, cell, inputSize, hiddenSize, layers, bidirectional, outputSize)
        tied = false
        self.bias = bias
        self.projectionSize = projectionSize
        self.initialization = initialization
        self.merge = merge
        self.activation = activation == .tanh ? nil : activation
        self.resetAfter = resetAfter
    }

    /// A Jordan network (`JordanRNN`) with an identity output activation.
    public init(jordan inputSize: Int, hiddenSize: Int, outputSize: Int, layers: Int = 1, bidirectional: Bool = false,
                activation: Activation = .tanh) {
        (task, cell, self.inputSize, self.hiddenSize, self.outputSize, self.layers, self.bidirectional) =
            (.jordan, .rnn, inputSize, hiddenSize, outputSize, layers, bidirectional)
        (tied, bias, projectionSize, merge, resetAfter) = (false, .separate, 0, .concat, true)
        self.activation = activation == .tanh ? nil : activation
    }

    public init(languageModel cell: CellType, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int, tied: Bool = false,
                projectionSize: Int = 0) {
        (task, self.cell, self.vocabularySize, self.embeddingSize, self.hiddenSize, self.layers, self.tied) =
            (.languageModel, cell, vocabularySize, embeddingSize, hiddenSize, layers, tied)
        bidirectional = false
        bias = .separate
        self.projectionSize = projectionSize
        merge = .concat
        resetAfter = true
    }

    public init(sentiment kind: SentimentModel.Kind, cell: CellType? = nil, vocabularySize: Int, embeddingSize: Int = 32,
                convention: Convention) {
        (task, self.cell, self.vocabularySize, self.embeddingSize, hiddenSize, layers) =
            (.sentiment, cell ?? kind.cell, vocabularySize, embeddingSize, kind.units, 1)
        (bidirectional, tied, projectionSize, merge, resetAfter) = (false, false, 0, .concat, true)
        bias = convention.bias(for: cell ?? kind.cell)
        (sentimentModel, self.convention) = (kind, convention)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        task = try c.decode(Task.self, forKey: .task)
        // A Jordan network has its own cell; the field is optional there.
        cell = task == .jordan ? try c.decodeIfPresent(CellType.self, forKey: .cell) ?? .rnn : try c.decode(CellType.self, forKey: .cell)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? 1
        bidirectional = try c.decodeIfPresent(Bool.self, forKey: .bidirectional) ?? false
        inputSize = try c.decodeIfPresent(Int.self, forKey: .inputSize)
        outputSize = try c.decodeIfPresent(Int.self, forKey: .outputSize)
        vocabularySize = try c.decodeIfPresent(Int.self, forKey: .vocabularySize)
        embeddingSize = try c.decodeIfPresent(Int.self, forKey: .embeddingSize)
        tied = try c.decodeIfPresent(Bool.self, forKey: .tied) ?? false
        convention = try c.decodeIfPresent(Convention.self, forKey: .convention)
        // A sentiment model's biases follow its convention unless given (as `SentimentModel` builds them).
        bias = try c.decodeIfPresent(RecurrentBias.self, forKey: .bias)
            ?? (task == .sentiment ? (convention ?? .keras1).bias(for: cell) : .separate)
        projectionSize = try c.decodeIfPresent(Int.self, forKey: .projectionSize) ?? 0
        initialization = try c.decodeIfPresent(RecurrentInitialization.self, forKey: .initialization)
        merge = try c.decodeIfPresent(BidirectionalMerge.self, forKey: .merge) ?? .concat
        sentimentModel = try c.decodeIfPresent(SentimentModel.Kind.self, forKey: .sentimentModel)
        activation = try c.decodeIfPresent(Activation.self, forKey: .activation)
        resetAfter = try c.decodeIfPresent(Bool.self, forKey: .resetAfter) ?? true
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(task, forKey: .task)
        if task != .jordan { try c.encode(cell, forKey: .cell) }
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(layers, forKey: .layers)
        try c.encode(bidirectional, forKey: .bidirectional)
        try c.encodeIfPresent(inputSize, forKey: .inputSize)
        try c.encodeIfPresent(outputSize, forKey: .outputSize)
        try c.encodeIfPresent(vocabularySize, forKey: .vocabularySize)
        try c.encodeIfPresent(embeddingSize, forKey: .embeddingSize)
        try c.encode(tied, forKey: .tied)
        try c.encode(bias, forKey: .bias)
        if projectionSize != 0 { try c.encode(projectionSize, forKey: .projectionSize) }
        try c.encodeIfPresent(initialization, forKey: .initialization)
        if merge != .concat { try c.encode(merge, forKey: .merge) }
        try c.encodeIfPresent(sentimentModel, forKey: .sentimentModel)
        try c.encodeIfPresent(convention, forKey: .convention)
        try c.encodeIfPresent(activation, forKey: .activation)
        if !resetAfter { try c.encode(resetAfter, forKey: .resetAfter) }
    }

    /// Parses and checks a configuration; errors name `source` and the field.
    public init(json: Data, source: String) throws {
        let fix = "see docs/interop.md for the fields, e.g. {\"task\": \"sequence\", \"cell\": \"lstm\", \"input_size\": 20, \"hidden_size\": 32, \"output_size\": 3}"
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw RecurError("\(source): the model configuration is not a JSON object", fix: fix)
        }
        let known = CodingKeys.allCases.map(\.stringValue)
        for key in object.keys.sorted() where !known.contains(key) {
            let near = nearest(key, in: known)
            throw RecurError("\(source): unknown field '\(key)'" + (near.map { ", did you mean '\($0)'?" } ?? ""),
                             fix: near.map { "rename it to \"\($0)\"" } ?? "remove it; the fields are " + known.joined(separator: ", "))
        }
        for key in CodingKeys.sizes.map(\.stringValue) {
            if let n = object[key] as? Double, n != n.rounded() {
                throw RecurError("\(source): field '\(key)' must be a whole number, got \(n)", fix: "e.g. \"\(key)\": \(max(1, Int(max(0, min(1e9, n.rounded(.down))))))")
            }
        }
        do {
            self = try JSONDecoder().decode(ModelConfig.self, from: json)
        } catch let DecodingError.keyNotFound(key, _) {
            throw RecurError("\(source): the model configuration has no '\(key.stringValue)'", fix: fix)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw RecurError("\(source): field '\(field)' has the wrong type" + (CodingKeys.sizes.map(\.stringValue).contains(field) ? ": it must be a whole number" : ""),
                             fix: fix)
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            let allowed = field == "cell" ? CellType.allCases.map(\.rawValue) : field == "task" ? Task.allCases.map(\.rawValue)
                : field == "bias" ? RecurrentBias.allCases.map(\.rawValue)
                : field == "init" ? RecurrentInitialization.allCases.map(\.rawValue)
                : field == "merge" ? BidirectionalMerge.allCases.map(\.rawValue)
                : field == "activation" ? Activation.allCases.map(\.rawValue) : []
            throw RecurError("\(source): " + (field.isEmpty ? "the model configuration is not valid JSON" : "field '\(field)' has an unknown value"),
                             fix: allowed.isEmpty ? fix : "use one of: " + allowed.joined(separator: ", "))
        }
        try validate(source: source)
    }

    public static func load(_ path: String) throws -> ModelConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecurError("cannot read the model configuration \(path)", fix: "check the path of the `config` file")
        }
        return try ModelConfig(json: data, source: path)
    }

    /// Checks the fields against each other and bounds every size; errors name `source`.
    public func validate(source: String) throws {
        func need(_ value: Int?, _ field: String) throws {
            guard let value, value > 0 else {
                throw RecurError("\(source): a \(task.rawValue) model needs a positive '\(field)'", fix: "add \"\(field)\": N to the configuration")
            }
        }
        for (field, value) in [("hidden_size", hiddenSize), ("input_size", inputSize ?? 1), ("output_size", outputSize ?? 1),
                               ("vocabulary_size", vocabularySize ?? 1), ("embedding_size", embeddingSize ?? 1), ("proj_size", projectionSize)]
        where value > Self.maximumSize {
            throw RecurError("\(source): '\(field)' is \(value), above the largest size Recur builds (\(Self.maximumSize))", fix: "check the configuration")
        }
        guard layers <= Self.maximumLayers else {
            throw RecurError("\(source): 'layers' is \(layers), above \(Self.maximumLayers)", fix: "check the configuration")
        }
        try need(hiddenSize, "hidden_size")
        try need(layers, "layers")
        guard merge == .concat || (task == .sequence && bidirectional) else {
            throw RecurError("\(source): 'merge' is for bidirectional sequence models", fix: "remove \"merge\" or set \"bidirectional\": true")
        }
        if projectionSize != 0 {
            guard cell == .lstm else {
                throw RecurError("\(source): 'proj_size' is for \"cell\": \"lstm\", not \(cell.rawValue)", fix: "remove \"proj_size\" or use an lstm")
            }
            guard projectionSize > 0 && projectionSize < hiddenSize else {
                throw RecurError("\(source): 'proj_size' must be in 1..<hidden_size (\(hiddenSize)), got \(projectionSize)",
                                 fix: "choose a projection smaller than the hidden size, as nn.LSTM requires")
            }
        }
        if let activation, task != .jordan {
            guard task == .sequence, cell.takesActivation else {
                throw RecurError("\(source): 'activation' is for rnn, lstm and gru sequence models and Jordan networks, not a \(task.rawValue) \(cell.rawValue) model",
                                 fix: "remove \"activation\": \"\(activation.rawValue)\"")
            }
        }
        guard resetAfter || (task == .sequence && cell == .gru) else {
            throw RecurError("\(source): 'reset_after' is for gru sequence models", fix: "remove \"reset_after\"")
        }
        switch task {
        case .sequence, .jordan:
            try need(inputSize, "input_size")
            try need(outputSize, "output_size")
        case .sentiment:
            guard let kind = sentimentModel else {
                throw RecurError("\(source): a sentiment model needs 'model'", fix: "add \"model\": one of " + SentimentModel.Kind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            try need(vocabularySize, "vocabulary_size")
            try need(embeddingSize, "embedding_size")
            guard hiddenSize == kind.units, layers == 1, !bidirectional, cell == kind.cell || kind.units == 100 else {
                throw RecurError("\(source): \(kind.rawValue) is one \(kind.units)-unit layer of \(kind.cell.rawValue) (another cell only for the 100-unit models)",
                                 fix: "set hidden_size \(kind.units), layers 1, bidirectional false")
            }
        case .languageModel:
            guard bias == .separate else { throw RecurError("\(source): language models use separate biases", fix: "remove \"bias\"") }
            try need(vocabularySize, "vocabulary_size")
            try need(embeddingSize, "embedding_size")
            guard !bidirectional else { throw RecurError("\(source): a language model cannot be bidirectional", fix: "set \"bidirectional\": false") }
            guard !tied || embeddingSize == (projectionSize > 0 ? projectionSize : hiddenSize) else {
                throw RecurError("\(source): tied weights need embedding_size == hidden_size (or proj_size)", fix: "set \"tied\": false or make the sizes equal")
            }
        }
    }

    /// The configuration as one line of JSON (sorted keys), as stored in checkpoints.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// A freshly initialised model (PyTorch's initialisation for `sequence`).
    public func makeModel(seed: UInt64) -> any Layer {
        switch task {
        case .sequence:
            var rng = RandomGenerator(seed: seed)
            let rnn = cell.makeLayer(inputSize: inputSize!, hiddenSize: hiddenSize, layers: layers,
                                     bidirectional: bidirectional, bias: bias, projectionSize: projectionSize,
                                     activation: activation, resetAfter: resetAfter, initialization: initialization ?? .pytorch, merge: merge, seed: rng.next())
            return SequenceModel(recurrent: rnn, outputs: outputSize!, rng: &rng)
        case .jordan:
            return JordanRNN(inputSize: inputSize!, hiddenSize: hiddenSize, outputSize: outputSize!, layers: layers,
                             bidirectional: bidirectional, activation: activation ?? .tanh, seed: seed)
        case .languageModel:
            return LanguageModel(cell: cell, vocabularySize: vocabularySize!, embeddingSize: embeddingSize!,
                                 hiddenSize: hiddenSize, layers: layers, dropout: 0, tied: tied, projectionSize: projectionSize, seed: seed)
        case .sentiment:
            let kind = sentimentModel!
            return SentimentModel(kind: kind, vocabularySize: vocabularySize!, embeddingSize: embeddingSize!,
                                  convention: convention ?? .keras1, recurrentInitialization: initialization,
                                  cell: cell == kind.cell ? nil : cell, seed: seed)
        }
    }
}

/// Levenshtein's nearest of `candidates` to `word`, if it is close (at most a third of its
/// letters differ).
func nearest(_ word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var row = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var previous = row[0]
            row[0] = i + 1
            for (j, cb) in b.enumerated() {
                let next = min(row[j + 1] + 1, row[j] + 1, previous + (ca == cb ? 0 : 1))
                (previous, row[j + 1]) = (row[j + 1], next)
            }
        }
        return row[b.count]
    }
    let w = Array(word.lowercased())
    guard let best = candidates.map({ ($0, distance(w, Array($0))) }).min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(1, w.count / 3) ? best.0 : nil
}

extension ModelConfig {
    /// Every tensor of the model this configuration describes, by state-dict name and shape,
    /// computed without allocating (`validate` has bounded the sizes). A model file's tensors
    /// are checked against it before the model is built.
    public var parameterShapes: [(name: String, shape: [Int])] {
        func prefixed(_ prefix: String, _ list: [(name: String, shape: [Int])]) -> [(name: String, shape: [Int])] {
            list.map { (prefix + "." + $0.name, $0.shape) }
        }
        func linear(_ prefix: String, _ input: Int, _ output: Int) -> [(name: String, shape: [Int])] {
            [(prefix + ".weight", [output, input]), (prefix + ".bias", [output])]
        }
        let features = projectionSize > 0 ? projectionSize : hiddenSize
        switch task {
        case .sequence:
            let c = cell.cell(hiddenSize: hiddenSize, projectionSize: projectionSize, activation: activation, resetAfter: resetAfter)
            let D = bidirectional ? 2 : 1
            return prefixed("rnn", c.stackParameterShapes(inputSize: inputSize!, layers: layers, bidirectional: bidirectional, bias: bias))
                + linear("head", merge == .concat ? D * features : features, outputSize!)
        case .jordan:
            return JordanCell(hiddenSize: hiddenSize, outputSize: outputSize!, activation: activation ?? .tanh)
                .stackParameterShapes(inputSize: inputSize!, layers: layers, bidirectional: bidirectional, bias: bias)
        case .languageModel:
            let c = cell.cell(hiddenSize: hiddenSize, projectionSize: projectionSize)
            let head = linear("head", features, vocabularySize!)
            return [("embedding.weight", [vocabularySize!, embeddingSize!])]
                + prefixed("rnn", c.stackParameterShapes(inputSize: embeddingSize!, layers: layers, bidirectional: false, bias: bias))
                + (tied ? [head[1]] : head)
        case .sentiment:
            let kind = sentimentModel!, units = kind.units
            // The recurrent tensors' shapes do not depend on the activation or reset placement.
            let c = cell.cell(hiddenSize: units)
            return [("embedding.weight", [vocabularySize!, embeddingSize!])]
                + prefixed("rnn", c.stackParameterShapes(inputSize: embeddingSize!, layers: 1, bidirectional: false, bias: bias))
                + (kind == .gru100 ? linear("dense", 100, 100) : []) + (units == 100 ? linear("head", 100, 1) : [])
        }
    }

    /// How many numbers the model holds.
    public var parameterCount: Int { parameterShapes.reduce(0) { $0 + $1.shape.reduce(1, *) } }

    /// About how many bytes training this model takes for batches of `batch` sequences of
    /// `steps` steps: weights, gradients and two optimizer moments, plus what forward keeps
    /// for backward and backward's own buffers (every gate, state and output, per step and
    /// sequence). nil when the count passes Int.max.
    public func trainingBytes(steps: Int, batch: Int) -> Int? {
        let c = task == .jordan ? JordanCell(hiddenSize: hiddenSize, outputSize: outputSize!) as any RecurrentCell
            : cell.cell(hiddenSize: sentimentModel?.units ?? hiddenSize, projectionSize: projectionSize)
        let perStep = c.inputProjectionWidth + c.state.reduce(0) { $0 + $1.width } + c.buffers.reduce(0) { $0 + $1.width } + 2 * c.hiddenSize
        let (D, V) = (bidirectional ? 2 : 1, task == .languageModel ? vocabularySize! : 0)
        var (total, overflow) = 16.multipliedReportingOverflow(by: parameterCount)
        if overflow { return nil }
        for term in [[8, steps, batch, layers, D, perStep], [8, steps, batch, (embeddingSize ?? 0) + (inputSize ?? 0) + V]] {
            var product = 1
            for factor in term {
                let (p, overflow) = product.multipliedReportingOverflow(by: max(factor, 0))
                if overflow { return nil }
                product = p
            }
            let (sum, overflow) = total.addingReportingOverflow(product)
            if overflow { return nil }
            total = sum
        }
        return total
    }
}

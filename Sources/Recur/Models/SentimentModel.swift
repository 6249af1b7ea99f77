/// Seed 004's review classifiers (Keras): Embedding(vocab, 32) -> Dropout(0.2) -> a recurrent
/// layer, then either
/// - `rnn1`, `lstm1`, `gru1`: the layer has 1 unit with sigmoid activation, and its final
///   output is the probability; or
/// - `rnn100`, `lstm100`, `gru100`: 100 units (tanh) -> Dropout(0.2) [-> Dense(100) ->
///   Dropout(0.2) for the GRU, as the seed] -> Dense(1, normal init) -> sigmoid.
///
/// ids: [T, B] time-major; with `lengths`, steps past each length are padding (masking).
/// State-dict names: `embedding.*`, `rnn.*`, `dense.*` (GRU100's Dense(100)), `head.*`.
public final class SentimentModel: Layer {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case rnn1, lstm1, gru1, rnn100, lstm100, gru100
        public var units: Int { rawValue.hasSuffix("100") ? 100 : 1 }
        public var cell: CellType { rawValue.hasPrefix("lstm") ? .lstm : rawValue.hasPrefix("gru") ? .gru : .rnn }
        /// Seed 004's printed test accuracies.
        public var seedAccuracy: Double? { ["rnn1": 0.57, "lstm1": 0.75, "gru1": 0.71, "rnn100": 0.62][rawValue] }
    }

    public let kind: Kind
    public let embedding: Embedding
    public let recurrent: any RecurrentStack
    public let dense: Linear?
    public let head: Linear?
    let embeddingDropout: Dropout, outputDropout: Dropout, denseDropout: Dropout
    private let workspace = Workspace()
    private var steps = 0, batch = 0

    /// - recurrentInitialization: overrides the convention's initialisation of the recurrent
    ///   layer (e.g. `.identity`, `.orthogonal`).
    /// - cell: another cell for the 100-unit models' recurrent layer (e.g. `.lstmPeephole`),
    ///   with its own activations; the 1-unit models need their sigmoid cell.
    /// - convention: `.keras1` is the seed's TF 1.x Keras (one bias, GRU reset before the
    ///   product, glorot/orthogonal, Keras' embedding and dense initialisers).
    public init(kind: Kind, vocabularySize: Int, embeddingSize: Int = 32, convention: Convention = .keras1,
                recurrentInitialization: RecurrentInitialization? = nil, cell: CellType? = nil, seed: UInt64) {
        precondition(cell == nil || kind.units == 100, "SentimentModel: a replacement cell needs a 100-unit model, got \(kind.rawValue)")
        self.kind = kind
        var rng = RandomGenerator(seed: seed)
        embedding = Embedding(vocabularySize: vocabularySize, dimension: embeddingSize, rng: &rng)
        let keras = convention == .keras || convention == .keras1
        if keras { rng.fillUniform(embedding.weight.value, -0.05, 0.05) }  // Keras' embeddings_initializer
        let units = kind.units, act: Activation = units == 1 ? .sigmoid : .tanh
        let initialization = recurrentInitialization ?? convention.initialization
        let layerSeed = rng.next()
        switch cell ?? kind.cell {
        case let other where cell != nil:
            recurrent = other.makeLayer(inputSize: embeddingSize, hiddenSize: units, bias: convention.bias(for: other),
                                        initialization: initialization, seed: layerSeed)
        case .lstm:
            recurrent = LSTM(inputSize: embeddingSize, hiddenSize: units, bias: convention.bias(for: .lstm), activation: act,
                             initialization: initialization, seed: layerSeed)
        case .gru:
            recurrent = GRU(inputSize: embeddingSize, hiddenSize: units, bias: convention.bias(for: .gru), resetAfter: convention.gruResetAfter, activation: act,
                            initialization: initialization, seed: layerSeed)
        default:
            recurrent = RNN(inputSize: embeddingSize, hiddenSize: units, activation: act, bias: convention.bias(for: .rnn),
                            initialization: initialization, seed: layerSeed)
        }
        dense = kind == .gru100 ? Linear(inputSize: 100, outputSize: 100, rng: &rng) : nil
        head = units == 100 ? Linear(inputSize: 100, outputSize: 1, rng: &rng) : nil
        if let d = dense { convention.initialize(d, rng: &rng) }
        if keras {
            if let h = head {  // seed 004's kernel_initializer='normal': N(0, 0.05)
                rng.fillNormal(h.weight.value, std: 0.05)
                h.bias?.value.zero()
            }
        }
        embeddingDropout = Dropout(probability: 0.2, seed: rng.next())
        outputDropout = Dropout(probability: 0.2, seed: rng.next())
        denseDropout = Dropout(probability: 0.2, seed: rng.next())
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("embedding", embedding) + prefixed("rnn", recurrent) + (dense.map { prefixed("dense", $0) } ?? [])
            + (head.map { prefixed("head", $0) } ?? [])
    }

    public var training: Bool {
        get { recurrent.training }
        set {
            recurrent.training = newValue
            for d in [embeddingDropout, outputDropout, denseDropout] { d.training = newValue }
        }
    }

    /// True when the output is a probability (1-unit models); else it is a logit.
    public var outputsProbability: Bool { head == nil }

    /// ids: T*B token ids, time-major -> [B] probabilities or logits (see `outputsProbability`).
    public func callAsFunction(_ ids: [Int32], steps T: Int, batch B: Int, lengths: [Int]? = nil) -> Tensor {
        steps = T
        batch = B
        let e = embeddingDropout(embedding(ids, shape: [T, B]))
        let r = recurrent(e, lengths: lengths)
        var features = r.state.h[0]  // [B, units], the final state
        if let head {
            features = outputDropout(features)
            if let dense { features = denseDropout(dense(features)) }
            return head(features).reshaped([B])
        }
        return features.reshaped([B])
    }

    /// d: [B] gradient of the output. Accumulates every parameter gradient.
    public func backward(_ d: Tensor) {
        let H = recurrent.hiddenSize
        var dFeatures = d.reshaped([batch, 1])
        if let head {
            dFeatures = head.backward(dFeatures)
            if let dense { dFeatures = dense.backward(denseDropout.backward(dFeatures)) }
            dFeatures = outputDropout.backward(dFeatures)
        }
        let dh = dFeatures.reshaped([1, batch, H])
        let dx = recurrent.backward(outputGradient: nil, stateGradient: RecurrentState(h: dh)).input
        embedding.backward(embeddingDropout.backward(dx))
    }
}

extension SentimentModel: TrainableModel {
    /// The dropout streams: embedding, output, dense, recurrent.
    public var randomStates: [RandomGenerator] {
        get { [embeddingDropout.rng, outputDropout.rng, denseDropout.rng, recurrent.rng] }
        set { (embeddingDropout.rng, outputDropout.rng, denseDropout.rng, recurrent.rng) = (newValue[0], newValue[1], newValue[2], newValue[3]) }
    }
}

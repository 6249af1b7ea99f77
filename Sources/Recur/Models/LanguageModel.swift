/// Word- or character-level language model (Zaremba et al. 2014; seed 002):
/// Embedding -> Dropout -> stacked LSTM/GRU (dropout between layers) -> Dropout -> Linear(V),
/// softmax cross-entropy on every step.
///
/// ids: [T, B] time-major. The hidden state is carried from window to window by the caller
/// (`state`), and gradients never flow across windows: the carried state enters as a
/// constant initial state. State-dict names: `embedding.weight`, `rnn.*`, `head.weight`,
/// `head.bias` (with tying, `head.weight` is `embedding.weight`).
public final class LanguageModel: Layer {
    public let vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int
    public let cell: CellType
    public let tied: Bool
    public let embedding: Embedding
    public let recurrent: any RecurrentStack
    public let head: Linear
    public let inputDropout: Dropout, outputDropout: Dropout

    /// - initScale: every weight and bias U(-s, s) (Zaremba: 0.1 small, 0.05 medium); a
    ///   layer-norm LSTM's gains start at 1 and shifts at 0.
    /// - projectionSize: an LSTM's `proj_size`; the head then reads P features.
    /// - recurrentInitialization: if given, the recurrent stack starts by this scheme instead
    ///   of the uniform one (the embedding and head stay uniform).
    public init(cell: CellType, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, layers: Int,
                dropout: Float, tied: Bool = false, initScale: Float = 0.1, projectionSize: Int = 0,
                recurrentInitialization: RecurrentInitialization? = nil, seed: UInt64) {
        let features = projectionSize > 0 ? projectionSize : hiddenSize
        precondition(!tied || embeddingSize == features, "weight tying needs embedding size \(embeddingSize) == output size \(features)")
        self.vocabularySize = vocabularySize
        self.embeddingSize = embeddingSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.cell = cell
        self.tied = tied
        var rng = RandomGenerator(seed: seed)
        embedding = Embedding(vocabularySize: vocabularySize, dimension: embeddingSize, rng: &rng)
        recurrent = cell.makeLayer(inputSize: embeddingSize, hiddenSize: hiddenSize, layers: layers, dropout: dropout,
                                   projectionSize: projectionSize, initialization: recurrentInitialization ?? .pytorch,
                                   seed: rng.next())
        head = tied ? Linear(sharing: embedding.weight, rng: &rng) : Linear(inputSize: features, outputSize: vocabularySize, rng: &rng)
        inputDropout = Dropout(probability: dropout, seed: rng.next())
        outputDropout = Dropout(probability: dropout, seed: rng.next())
        let keep = recurrentInitialization == nil ? [] : Set(recurrent.parameters.map(ObjectIdentifier.init))
        for (_, p) in namedParameters where !keep.contains(ObjectIdentifier(p)) { rng.fillUniform(p.value, -initScale, initScale) }
        for (p, role) in zip(recurrent.parameters, recurrent.parameterRoles) where role == .gain || role == .shift {
            p.value.fill(role == .gain ? 1 : 0)
        }
        head.bias?.value.zero()
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("embedding", embedding) + prefixed("rnn", recurrent)
            + (tied ? head.bias.map { [("head.bias", $0)] } ?? [] : prefixed("head", head))
    }

    public var training: Bool {
        get { recurrent.training }
        set {
            recurrent.training = newValue
            inputDropout.training = newValue
            outputDropout.training = newValue
        }
    }

    /// The random streams of every dropout, for exact resumes.
    public var randomStates: [RandomGenerator] {
        get { [inputDropout.rng, recurrent.rng, outputDropout.rng] }
        set { (inputDropout.rng, recurrent.rng, outputDropout.rng) = (newValue[0], newValue[1], newValue[2]) }
    }

    /// A zero state for `batch` streams.
    public func zeroState(batch: Int) -> RecurrentState { recurrent.zeroState(batch: batch) }

    /// ids [T, B] -> logits [T*B, V]; `state` is read as the initial state and replaced by the
    /// final one (copied, so the next window starts from it without a gradient path).
    public func callAsFunction(_ ids: [Int32], steps T: Int, batch B: Int, state: inout RecurrentState) -> Tensor {
        steps = T
        batch = B
        let x = inputDropout(embedding(ids, shape: [T, B]))
        let r = recurrent(x, initialState: state)
        for (k, final) in r.state.components.enumerated() { state.components[k].assign(final) }
        return head(outputDropout(r.output).reshaped([T * B, recurrent.outputSize]))
    }

    /// dlogits [T*B, V]. Accumulates every parameter gradient.
    public func backward(_ dLogits: Tensor) {
        let dOut = outputDropout.backward(head.backward(dLogits)).reshaped([steps, batch, recurrent.outputSize])
        let dx = recurrent.backward(outputGradient: dOut).input
        embedding.backward(inputDropout.backward(dx).reshaped([steps * batch, embeddingSize]))
    }

    private var steps = 0, batch = 0
}

extension LanguageModel: TrainableModel {}

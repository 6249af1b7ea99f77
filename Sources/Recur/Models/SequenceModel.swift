/// Many-to-one: recurrent stack -> final hidden state -> Linear. Gives class logits (seed
/// 001's palindromes, seed 000's keywords) or regression values (seed 003's forecasts).
///
/// The features are the top layer's final state of each direction, concatenated:
/// [B, D*H] = concat(forward h_T, reverse h_0), or the two merged into [B, H] when the stack
/// has another `merge` (Keras' `Bidirectional(merge_mode=)`). With `lengths`, each sequence's
/// own last valid state is used. State-dict names: `rnn.*` and `head.*`.
public final class SequenceModel: Layer {
    public let recurrent: any RecurrentStack
    public let head: Linear
    private let workspace = Workspace()

    /// - outputs: classes (logits) or regression targets per sequence.
    /// The model reads no gradient of its input features, so it turns the stack's
    /// `computesInputGradient` off.
    public init(recurrent: any RecurrentStack, outputs: Int, rng: inout RandomGenerator) {
        self.recurrent = recurrent
        recurrent.computesInputGradient = false
        head = Linear(inputSize: recurrent.outputWidth, outputSize: outputs, rng: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("rnn", recurrent) + prefixed("head", head)
    }

    /// Dropout between recurrent layers is active only in training.
    public var training: Bool {
        get { recurrent.training }
        set { recurrent.training = newValue }
    }

    /// x: [T, B, I] (or [B, T, I] for a batch-first layer) -> [B, outputs].
    public func callAsFunction(_ x: Tensor, lengths: [Int]? = nil) -> Tensor {
        run(x, lengths: lengths).logits
    }

    /// The recurrent layer's output and final states together with the logits they give.
    /// Tensors are views of the model's buffers, valid until its next call.
    public func run(_ x: Tensor, lengths: [Int]? = nil) -> (recurrent: RecurrentOutput, logits: Tensor) {
        let r = recurrent(x, lengths: lengths)
        let (L, D, H) = (recurrent.layers, recurrent.directions, recurrent.outputSize)
        let B = r.state.h.shape[1]
        let both = workspace.tensor("bothDirections", [B, D * H])
        for d in 0..<D {
            let h = r.state.h[(L - 1) * D + d].pointer
            for b in 0..<B { (both.pointer + b * D * H + d * H).update(from: h + b * H, count: H) }
        }
        guard recurrent.merge != .concat else { return (r, head(both)) }
        let features = workspace.tensor("features", [B, H])
        recurrent.merge.merge(both.pointer, rows: B, width: H, into: features.pointer)
        return (r, head(features))
    }

    /// dlogits: [B, outputs]. Accumulates every parameter gradient.
    public func backward(_ dLogits: Tensor) {
        var dFeatures = head.backward(dLogits)
        let (L, D, H) = (recurrent.layers, recurrent.directions, recurrent.outputSize)
        let B = dLogits.shape[0]
        if recurrent.merge != .concat {
            let both = workspace.tensor("dBothDirections", [B, D * H])
            recurrent.merge.unmerge(dFeatures.pointer, workspace.tensor("bothDirections", [B, D * H]).pointer, rows: B, width: H,
                                    into: both.pointer)
            dFeatures = both
        }
        let dh = workspace.tensor("dh", [L * D, B, H], zeroed: true)
        for d in 0..<D {
            let g = dh[(L - 1) * D + d].pointer
            for b in 0..<B { (g + b * H).update(from: dFeatures.pointer + b * D * H + d * H, count: H) }
        }
        recurrent.backward(outputGradient: nil, stateGradient: RecurrentState(h: dh))
    }
}

extension SequenceModel: TrainableModel {
    /// The recurrent stack's dropout stream.
    public var randomStates: [RandomGenerator] {
        get { [recurrent.rng] }
        set { recurrent.rng = newValue[0] }
    }
}

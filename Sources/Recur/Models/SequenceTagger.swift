/// Many-to-many: recurrent stack -> the same Linear at every step. Gives per-step logits
/// (the copy-memory task, any per-step labelling). State-dict names: `rnn.*` and `head.*`,
/// as `SequenceModel`'s.
public final class SequenceTagger: Layer {
    public let recurrent: any RecurrentStack
    public let head: Linear
    private var steps = 0, batch = 0

    /// - outputs: classes (logits) per step. The model reads no gradient of its input, so it
    ///   turns the stack's `computesInputGradient` off.
    public init(recurrent: any RecurrentStack, outputs: Int, rng: inout RandomGenerator) {
        precondition(!recurrent.batchFirst, "SequenceTagger reads time-major output [T, B, H]; the stack is batch-first")
        self.recurrent = recurrent
        recurrent.computesInputGradient = false
        head = Linear(inputSize: recurrent.outputWidth, outputSize: outputs, rng: &rng)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        prefixed("rnn", recurrent) + prefixed("head", head)
    }

    /// x: [T, B, I] time-major -> logits [T*B, outputs], row t*B + b for step t of sequence b.
    /// A view of the model's buffers, valid until its next call.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 3, "SequenceTagger: input \(x.shape) must be [T, B, I]")
        (steps, batch) = (x.shape[0], x.shape[1])
        return head(recurrent(x).output.reshaped([steps * batch, recurrent.outputWidth]))
    }

    /// dlogits: [T*B, outputs] of the last call. Accumulates every parameter gradient.
    public func backward(_ dLogits: Tensor) {
        precondition(dLogits.rank == 2 && dLogits.shape[0] == steps * batch,
                     "SequenceTagger.backward: dlogits \(dLogits.shape) must be [\(steps * batch), \(head.weight.value.shape[0])]")
        let dOut = head.backward(dLogits).reshaped([steps, batch, recurrent.outputWidth])
        _ = recurrent.backward(outputGradient: dOut)
    }
}

extension SequenceTagger: TrainableModel {
    /// Dropout between recurrent layers is active only in training.
    public var training: Bool {
        get { recurrent.training }
        set { recurrent.training = newValue }
    }

    /// The recurrent stack's dropout stream.
    public var randomStates: [RandomGenerator] {
        get { [recurrent.rng] }
        set { recurrent.rng = newValue[0] }
    }
}

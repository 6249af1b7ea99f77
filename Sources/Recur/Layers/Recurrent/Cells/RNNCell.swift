import CRecurKernels

/// Elman RNN cell: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu
/// (PyTorch `nn.RNN`, Keras `SimpleRNN`). Parameters `weight_ih` [H, I], `weight_hh` [H, H],
/// `bias_ih`, `bias_hh` [H]; both biases fold into the input projection.
/// Buffers: none; `gates(t)` keeps act(pre-activation), from which backward takes act'.
public struct RNNCell: RecurrentCell {
    public let hiddenSize: Int
    public let activation: Activation
    /// Runs the fused C kernels (true, the default) or the plain Swift step of
    /// RNNCell+Reference.swift, which computes the same to float rounding.
    public var fastPath = true

    public init(hiddenSize: Int, activation: Activation = .tanh) {
        self.hiddenSize = hiddenSize
        self.activation = activation
    }

    public var inputProjectionWidth: Int { hiddenSize }
    public var state: [StateComponent] { [StateComponent("h", width: hiddenSize)] }
    public var activations: [Activation] { [activation] }

    public func parameters(inputSize: Int, bias: RecurrentBias) -> [CellParameter] {
        CellParameter.standard(gates: hiddenSize, inputSize: inputSize, recurrentSize: hiddenSize, bias: bias)
    }

    public func forward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, r0 = rows.lowerBound, g = p.gates(t) + r0 * H
        p.multiply(p.recurrentInput(t) + r0 * H, lda: H, rows: rows.count, by: p.parameters[1], count: H,
                   into: g, ldc: H, accumulate: true)
        guard fastPath else { return referenceForward(p, step: t, rows: rows) }
        recur_rnn_forward_step(Int32(rows.count), Int32(H), Int32(t), p.lengths(from: r0), g,
                               p.h(p.previous(t)) + r0 * H, p.h(p.next(t)) + r0 * H, p.output(t) + r0 * p.ldo,
                               Int32(p.ldo), activation.kernelCode)
    }

    public func backward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, r0 = rows.lowerBound, dg = p.gateGradient(t) + r0 * H
        if fastPath {
            recur_rnn_backward_step(Int32(rows.count), Int32(H), Int32(t), p.lengths(from: r0), p.gates(t) + r0 * H,
                                p.outputGradient(t).map { $0 + r0 * p.lddy }, Int32(p.lddy),
                                p.stateGradient(0) + r0 * H, dg, activation.kernelCode)
        } else {
            referenceBackward(p, step: t, rows: rows)
        }
        p.multiplyGradient(dg, ldg: H, rows: rows.count, by: p.parameters[1], count: H,
                           into: p.recurrentInputGradient + r0 * H, ldd: H)
    }

    public func accumulateWeightGradients(_ p: DirectionPass) {
        p.accumulateWeightGradient(p.parameters[1], gradient: p.gateGradient(0), ldg: hiddenSize,
                                   inputs: p.recurrentInputs, lda: hiddenSize)
    }
}

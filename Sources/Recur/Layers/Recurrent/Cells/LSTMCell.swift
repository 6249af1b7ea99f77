import CRecurKernels

/// LSTM cell, gates [i f g o] (PyTorch's order):
/// i, f, o = σ(·), g = act(·), c_t = f c_{t-1} + i g, h_t = o act(c_t).
/// σ is `recurrentActivation` (sigmoid; Keras' `recurrent_activation`), act is `activation` (tanh).
///
/// With `projectionSize` P > 0 (PyTorch's `proj_size`), h_t = W_hr (o act(c_t)): h and the
/// output have width P, c keeps width H (see LSTMCell+Projection.swift).
///
/// Parameters: `weight_ih` [4H, I], `weight_hh` [4H, H or P], `bias_ih`, `bias_hh` [4H] (both
/// folded into the input projection; Keras' init sets the forget block of `bias_ih` to 1),
/// and `weight_hr` [P, H] with a projection.
/// State: h [B, H or P], c [B, H]. Buffers: act(c_t) [T, B, H]; `gates(t)` keeps the
/// activated gates.
public struct LSTMCell: RecurrentCell {
    public let hiddenSize: Int
    public let activation: Activation
    public let recurrentActivation: Activation
    /// P: the projected width of h (PyTorch's `proj_size`), 0 for none.
    public let projectionSize: Int
    /// Runs the fused C kernels (true, the default) or the plain Swift step of
    /// LSTMCell+Reference.swift (the projection always uses the kernels), which computes the same to float rounding.
    public var fastPath = true

    public init(hiddenSize: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                projectionSize: Int = 0) {
        precondition(projectionSize >= 0 && projectionSize < hiddenSize,
                     "LSTMCell: projectionSize must be in 0..<hiddenSize (\(hiddenSize)), got \(projectionSize)")
        self.hiddenSize = hiddenSize
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.projectionSize = projectionSize
    }

    public var inputProjectionWidth: Int { 4 * hiddenSize }
    public var state: [StateComponent] {
        [StateComponent("h", width: projectionSize > 0 ? projectionSize : hiddenSize), StateComponent("c", width: hiddenSize)]
    }
    public var activations: [Activation] { [activation, recurrentActivation] }
    public var buffers: [CellBuffer] {
        [CellBuffer("act_c", width: hiddenSize)] + (projectionSize > 0 ? projectionBuffers : [])
    }

    public func parameters(inputSize: Int, bias: RecurrentBias) -> [CellParameter] {
        let H = hiddenSize
        return CellParameter.standard(gates: 4 * H, inputSize: inputSize, recurrentSize: state[0].width, bias: bias, forgetGate: H..<(2 * H))
            + (projectionSize > 0 ? [CellParameter("weight_hr", shape: [projectionSize, H], role: .weight)] : [])
    }

    public func forward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        if projectionSize > 0 { return projectedForward(p, step: t, rows: rows) }
        let H = hiddenSize, r0 = rows.lowerBound, g = p.gates(t) + r0 * 4 * H, prev = p.previous(t), next = p.next(t)
        p.multiply(p.recurrentInput(t) + r0 * H, lda: H, rows: rows.count, by: p.parameters[1], count: 4 * H,
                   into: g, ldc: 4 * H, accumulate: true)
        guard fastPath else { return referenceForward(p, step: t, rows: rows) }
        recur_lstm_forward_step(Int32(rows.count), Int32(H), Int32(t), p.lengths(from: r0), g,
                                p.state(1, prev) + r0 * H, p.state(1, next) + r0 * H, p.buffer(0, t) + r0 * H,
                                p.h(prev) + r0 * H, p.h(next) + r0 * H, p.output(t) + r0 * p.ldo, Int32(p.ldo),
                                recurrentActivation.kernelCode, activation.kernelCode)
    }

    public func backward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        if projectionSize > 0 { return projectedBackward(p, step: t, rows: rows) }
        let H = hiddenSize, r0 = rows.lowerBound, dg = p.gateGradient(t) + r0 * 4 * H
        if fastPath {
            recur_lstm_backward_step(Int32(rows.count), Int32(H), Int32(t), p.lengths(from: r0), p.gates(t) + r0 * 4 * H,
                                 p.state(1, p.previous(t)) + r0 * H, p.buffer(0, t) + r0 * H,
                                 p.outputGradient(t).map { $0 + r0 * p.lddy }, Int32(p.lddy),
                                 p.stateGradient(0) + r0 * H, p.stateGradient(1) + r0 * H, dg,
                                 recurrentActivation.kernelCode, activation.kernelCode)
        } else {
            referenceBackward(p, step: t, rows: rows)
        }
        p.multiplyGradient(dg, ldg: 4 * H, rows: rows.count, by: p.parameters[1], count: 4 * H,
                           into: p.recurrentInputGradient + r0 * H, ldd: H)
    }

    public func accumulateWeightGradients(_ p: DirectionPass) {
        p.accumulateWeightGradient(p.parameters[1], gradient: p.gateGradient(0), ldg: 4 * hiddenSize,
                                   inputs: p.recurrentInputs, lda: state[0].width)
        if projectionSize > 0 { accumulateProjectionGradient(p) }
    }
}

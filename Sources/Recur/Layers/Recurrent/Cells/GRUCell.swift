import CRecurKernels

/// GRU cell, gates [r z n] (PyTorch's order), h_t = (1 - z) n + z h_{t-1}.
///
/// - `resetAfter: true` (PyTorch; Keras `reset_after=True`): n = act(x_n + r (W_hn h + b_hn)).
/// - `resetAfter: false` (Cho et al. 2014, seed 004, Keras `reset_after=False`):
///   n = act(x_n + W_hn (r h) + b_hn). The reset must be known before the n-block product, so
///   each step does two recurrent products.
///
/// Parameters: `weight_ih` [3H, I], `weight_hh` [3H, H], `bias_ih` [3H] (folded into the input
/// projection), `bias_hh` [3H] (kept apart: r multiplies it).
/// Buffers: hp [T, B, 3H] the recurrent projections W_hh h + b_hh; rh [T, B, H] r * h_prev
/// (reset-before); dGh [T, B, 3H] the gradient of hp; drh [B, H] scratch.
public struct GRUCell: RecurrentCell {
    public let hiddenSize: Int
    public let activation: Activation
    public let recurrentActivation: Activation
    public let resetAfter: Bool
    /// Runs the fused C kernels (true, the default) or the plain Swift step of
    /// GRUCell+Reference.swift, which computes the same to float rounding.
    public var fastPath = true

    public init(hiddenSize: Int, activation: Activation = .tanh, recurrentActivation: Activation = .sigmoid,
                resetAfter: Bool = true) {
        self.hiddenSize = hiddenSize
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        self.resetAfter = resetAfter
    }

    public var inputProjectionWidth: Int { 3 * hiddenSize }
    public var state: [StateComponent] { [StateComponent("h", width: hiddenSize)] }
    public var activations: [Activation] { [activation, recurrentActivation] }
    public var buffers: [CellBuffer] {
        let H = hiddenSize
        return [CellBuffer("hp", width: 3 * H), CellBuffer("rh", width: H), CellBuffer("dGh", width: 3 * H),
                CellBuffer("drh", width: H, .perRow)]
    }

    public func parameters(inputSize: Int, bias: RecurrentBias) -> [CellParameter] {
        CellParameter.standard(gates: 3 * hiddenSize, inputSize: inputSize, recurrentSize: hiddenSize, bias: bias, foldRecurrentBias: false)
    }

    /// bias_hh, present when the layer has separate biases (the fourth parameter).
    private func recurrentBias(_ p: DirectionPass) -> Parameter? { p.parameters.count == 4 ? p.parameters[3] : nil }

    /// Fills rows of hp with b_hh[first ..< first+n] (zeros without it), for a product with beta = 1.
    private func fillRecurrentBias(_ p: DirectionPass, _ c: UnsafeMutablePointer<Float>, rows: Int, first: Int, count n: Int) {
        if let b = recurrentBias(p) {
            VectorMath.broadcastRows(b.value.pointer + first, rows: rows, cols: n, ld: 3 * hiddenSize, into: c)
        } else {
            for r in 0..<rows { (c + r * 3 * hiddenSize).update(repeating: 0, count: n) }
        }
    }

    public func forward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let (H, r0, n) = (hiddenSize, rows.lowerBound, rows.count), B = Int32(n), whh = p.parameters[1]
        let hp = p.buffer(0, t) + r0 * 3 * H, g = p.gates(t) + r0 * 3 * H, lengths = p.lengths(from: r0)
        let hPrev = p.h(p.previous(t)) + r0 * H, hNext = p.h(p.next(t)) + r0 * H, hIn = p.recurrentInput(t) + r0 * H
        let out = p.output(t) + r0 * p.ldo
        if resetAfter {
            fillRecurrentBias(p, hp, rows: n, first: 0, count: 3 * H)
            p.multiply(hIn, lda: H, rows: n, by: whh, count: 3 * H, into: hp, ldc: 3 * H, accumulate: true)
            guard fastPath else { return referenceForward(p, step: t, rows: rows) }
            recur_gru_forward_step(B, Int32(H), Int32(t), lengths, g, hp, hPrev, hNext, out,
                                   Int32(p.ldo), recurrentActivation.kernelCode, activation.kernelCode)
        } else {
            let rh = p.buffer(1, t) + r0 * H
            fillRecurrentBias(p, hp, rows: n, first: 0, count: 2 * H)
            p.multiply(hIn, lda: H, rows: n, by: whh, count: 2 * H, into: hp, ldc: 3 * H, accumulate: true)
            if fastPath {
                recur_gru_rb_forward_rz(B, Int32(H), g, hp, hIn, rh, recurrentActivation.kernelCode)
            } else {
                referenceForwardResetGate(p, step: t, rows: rows)
            }
            fillRecurrentBias(p, hp + 2 * H, rows: n, first: 2 * H, count: H)
            p.multiply(rh, lda: H, rows: n, by: whh, firstRow: 2 * H, count: H, into: hp + 2 * H, ldc: 3 * H, accumulate: true)
            guard fastPath else { return referenceForwardCandidate(p, step: t, rows: rows) }
            recur_gru_rb_forward_n(B, Int32(H), Int32(t), lengths, g, hp + 2 * H, Int32(3 * H), hPrev, hNext,
                                   out, Int32(p.ldo), activation.kernelCode)
        }
    }

    public func backward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let (H, r0, n) = (hiddenSize, rows.lowerBound, rows.count), B = Int32(n), whh = p.parameters[1]
        let hPrev = p.h(p.previous(t)) + r0 * H, lengths = p.lengths(from: r0), gates = p.gates(t) + r0 * 3 * H
        let dgi = p.gateGradient(t) + r0 * 3 * H, dgh = p.buffer(2, t) + r0 * 3 * H, dh = p.stateGradient(0) + r0 * H
        let dy = p.outputGradient(t).map { $0 + r0 * p.lddy }, dIn = p.recurrentInputGradient + r0 * H
        if !fastPath { referenceBackward(p, step: t, rows: rows) }
        if resetAfter {
            if fastPath {
                recur_gru_backward_step(B, Int32(H), Int32(t), lengths, gates, p.buffer(0, t) + r0 * 3 * H, hPrev, dy,
                                    Int32(p.lddy), dh, dgi, dgh, recurrentActivation.kernelCode, activation.kernelCode)
            }
            p.multiplyGradient(dgh, ldg: 3 * H, rows: n, by: whh, count: 3 * H, into: dIn, ldd: H)
        } else {
            let drh = p.buffer(3) + r0 * H
            if fastPath {
                recur_gru_rb_backward_n(B, Int32(H), Int32(t), lengths, gates, hPrev, dy, Int32(p.lddy),
                                        dh, dgi, dgh, recurrentActivation.kernelCode, activation.kernelCode)
            }
            // Gradient of r h_prev through the n-block product.
            p.multiplyGradient(dgh + 2 * H, ldg: 3 * H, rows: n, by: whh, firstRow: 2 * H, count: H, into: drh, ldd: H,
                               accumulate: false)
            if fastPath {
                recur_gru_rb_backward_r(B, Int32(H), Int32(t), lengths, gates, p.recurrentInput(t) + r0 * H, drh, dIn,
                                        dgi, dgh, recurrentActivation.kernelCode)
            } else {
                referenceBackwardResetGate(p, step: t, rows: rows, drh: drh, into: dIn)
            }
            p.multiplyGradient(dgh, ldg: 3 * H, rows: n, by: whh, count: 2 * H, into: dIn, ldd: H)
        }
    }

    public func accumulateWeightGradients(_ p: DirectionPass) {
        let H = hiddenSize, whh = p.parameters[1], dgh = p.buffer(2, 0)
        if resetAfter {
            p.accumulateWeightGradient(whh, gradient: dgh, ldg: 3 * H, inputs: p.recurrentInputs, lda: H)
        } else {
            // r, z blocks saw h_prev; the n block saw r * h_prev.
            p.accumulateWeightGradient(whh, count: 2 * H, gradient: dgh, ldg: 3 * H, inputs: p.recurrentInputs, lda: H)
            p.accumulateWeightGradient(whh, firstRow: 2 * H, count: H, gradient: dgh + 2 * H, ldg: 3 * H,
                                       inputs: p.buffer(1, 0), lda: H)
        }
        if let b = recurrentBias(p) {
            VectorMath.addColumnSums(dgh, rows: p.T * p.B, cols: 3 * H, ld: 3 * H, into: b.grad.pointer)
        }
    }
}

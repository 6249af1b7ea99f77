import CRecurKernels

/// Elman RNN step: h_t = act(x W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).
struct RNNKernel: CellKernel {
    let activation: Activation
    var gateCount: Int { 1 }

    func forwardStep(_ p: DirectionPass, t: Int) {
        let g = p.gates(t), H = p.hiddenSize
        p.recurrentProduct(p.productInput(t), rows: H, into: g, ldc: H, accumulate: true)
        recur_rnn_forward_step(Int32(p.B), Int32(H), Int32(t), p.lengths, g, p.h(p.previous(t)),
                               p.h(p.next(t)), p.out(t), Int32(p.ldo), activation.kernelCode)
    }

    func backwardStep(_ p: DirectionPass, t: Int, dy: UnsafePointer<Float>?, lddy: Int) {
        let H = p.hiddenSize
        recur_rnn_backward_step(Int32(p.B), Int32(H), Int32(t), p.lengths, p.gates(t), dy, Int32(lddy),
                                p.dh, p.dGi(t), activation.kernelCode)
        p.recurrentGradient(p.dGi(t), ldg: H, rows: H, into: p.dProduct)
    }
}

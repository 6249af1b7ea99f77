import CRecurKernels

/// LSTM step, gates [i f g o] (PyTorch's order):
/// i, f, o = σ(·), g = act(·), c_t = f c_{t-1} + i g, h_t = o act(c_t).
/// σ is `gateActivation` (sigmoid; Keras' `recurrent_activation`), act is `activation` (tanh).
struct LSTMKernel: CellKernel {
    let activation: Activation
    let gateActivation: Activation
    var gateCount: Int { 4 }
    var hasCellState: Bool { true }

    func forwardStep(_ p: DirectionPass, t: Int) {
        let g = p.gates(t), H = p.hiddenSize, prev = p.previous(t), next = p.next(t)
        p.recurrentProduct(p.productInput(t), rows: 4 * H, into: g, ldc: 4 * H, accumulate: true)
        recur_lstm_forward_step(Int32(p.B), Int32(H), Int32(t), p.lengths, g, p.c(prev), p.c(next),
                                p.actC(t), p.h(prev), p.h(next), p.out(t), Int32(p.ldo),
                                gateActivation.kernelCode, activation.kernelCode)
    }

    func backwardStep(_ p: DirectionPass, t: Int, dy: UnsafePointer<Float>?, lddy: Int) {
        let H = p.hiddenSize
        recur_lstm_backward_step(Int32(p.B), Int32(H), Int32(t), p.lengths, p.gates(t), p.c(p.previous(t)),
                                 p.actC(t), dy, Int32(lddy), p.dh, p.dc, p.dGi(t),
                                 gateActivation.kernelCode, activation.kernelCode)
        p.recurrentGradient(p.dGi(t), ldg: 4 * H, rows: 4 * H, into: p.dProduct)
    }
}

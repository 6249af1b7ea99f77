import CRecurKernels

/// GRU step, gates [r z n] (PyTorch's order), h_t = (1 - z) n + z h_{t-1}.
///
/// - `resetAfter: true` (PyTorch; Keras `reset_after=True`): n = act(x_n + r (W_hn h + b_hn)).
/// - `resetAfter: false` (Cho et al. 2014, seed 004, Keras `reset_after=False`):
///   n = act(x_n + W_hn (r h) + b_hn). The reset must be known before the n-block product, so
///   each step does two recurrent products.
struct GRUKernel: CellKernel {
    let activation: Activation
    let gateActivation: Activation
    let resetAfter: Bool
    var gateCount: Int { 3 }
    var hasRecurrentProjection: Bool { true }
    var foldsRecurrentBias: Bool { false }

    func forwardStep(_ p: DirectionPass, t: Int) {
        let B = Int32(p.B), H = p.hiddenSize, hp = p.hp(t), g = p.gates(t)
        let hPrev = p.h(p.previous(t)), hNext = p.h(p.next(t)), hIn = p.productInput(t)
        if resetAfter {
            p.fillRecurrentBias(hp, ldc: 3 * H, firstRow: 0, count: 3 * H)
            p.recurrentProduct(hIn, rows: 3 * H, into: hp, ldc: 3 * H, accumulate: true)
            recur_gru_forward_step(B, Int32(H), Int32(t), p.lengths, g, hp, hPrev, hNext, p.out(t),
                                   Int32(p.ldo), gateActivation.kernelCode, activation.kernelCode)
        } else {
            p.fillRecurrentBias(hp, ldc: 3 * H, firstRow: 0, count: 2 * H)
            p.recurrentProduct(hIn, rows: 2 * H, into: hp, ldc: 3 * H, accumulate: true)
            recur_gru_rb_forward_rz(B, Int32(H), g, hp, hIn, p.rh(t), gateActivation.kernelCode)
            p.fillRecurrentBias(hp + 2 * H, ldc: 3 * H, firstRow: 2 * H, count: H)
            p.recurrentProduct(p.rh(t), rows: H, firstRow: 2 * H, into: hp + 2 * H, ldc: 3 * H, accumulate: true)
            recur_gru_rb_forward_n(B, Int32(H), Int32(t), p.lengths, g, hp + 2 * H, Int32(3 * H), hPrev, hNext,
                                   p.out(t), Int32(p.ldo), activation.kernelCode)
        }
    }

    func backwardStep(_ p: DirectionPass, t: Int, dy: UnsafePointer<Float>?, lddy: Int) {
        let B = Int32(p.B), H = p.hiddenSize, hPrev = p.h(p.previous(t))
        let dgi = p.dGi(t), dgh = p.dGh(t)
        if resetAfter {
            recur_gru_backward_step(B, Int32(H), Int32(t), p.lengths, p.gates(t), p.hp(t), hPrev, dy,
                                    Int32(lddy), p.dh, dgi, dgh, gateActivation.kernelCode, activation.kernelCode)
            p.recurrentGradient(dgh, ldg: 3 * H, rows: 3 * H, into: p.dProduct)
        } else {
            recur_gru_rb_backward_n(B, Int32(H), Int32(t), p.lengths, p.gates(t), hPrev, dy, Int32(lddy),
                                    p.dh, dgi, dgh, gateActivation.kernelCode, activation.kernelCode)
            // Gradient of r h_prev through the n-block product.
            p.recurrentGradient(dgh + 2 * H, ldg: 3 * H, rows: H, firstRow: 2 * H, into: p.drh, accumulate: false)
            recur_gru_rb_backward_r(B, Int32(H), Int32(t), p.lengths, p.gates(t), p.productInput(t), p.drh, p.dProduct,
                                    dgi, dgh, gateActivation.kernelCode)
            p.recurrentGradient(dgh, ldg: 3 * H, rows: 2 * H, into: p.dProduct)
        }
    }

    func accumulateRecurrentWeightGradient(_ p: DirectionPass) {
        let H = p.hiddenSize, rows = p.T * p.B, dW = p.weightHH.grad.pointer
        if resetAfter {
            BLAS.gemm(transA: true, m: 3 * H, n: H, k: rows, a: p.dGh, lda: 3 * H, b: p.previousStates,
                      ldb: H, beta: 1, c: dW, ldc: H)
        } else {
            // r, z blocks saw h_prev; the n block saw r * h_prev.
            BLAS.gemm(transA: true, m: 2 * H, n: H, k: rows, a: p.dGh, lda: 3 * H, b: p.previousStates,
                      ldb: H, beta: 1, c: dW, ldc: H)
            BLAS.gemm(transA: true, m: H, n: H, k: rows, a: p.dGh + 2 * H, lda: 3 * H, b: p.rh,
                      ldb: H, beta: 1, c: dW + 2 * H * H, ldc: H)
        }
    }
}

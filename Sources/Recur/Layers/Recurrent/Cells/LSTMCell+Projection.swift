import CRecurKernels

/// The projected LSTM (PyTorch `proj_size` P, Sak et al. 2014): m_t = o act(c_t) as in the
/// plain cell, then h_t = m_t W_hr^T with `weight_hr` [P, H]; `weight_hh` is [4H, P].
///
/// Buffers after act(c): m [T, B, H], the gradient of h_t [T, B, P] (for dW_hr in one GEMM),
/// and two [B, H] scratch rows for the fused kernel.
extension LSTMCell {
    var projectionBuffers: [CellBuffer] {
        [CellBuffer("m", width: hiddenSize), CellBuffer("dh_total", width: projectionSize),
         CellBuffer("dm", width: hiddenSize, .perRow), CellBuffer("sink", width: hiddenSize, .perRow)]
    }

    func projectedForward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let (H, P, r0, n) = (hiddenSize, projectionSize, rows.lowerBound, rows.count)
        let g = p.gates(t) + r0 * 4 * H, prev = p.previous(t), next = p.next(t), m = p.buffer(1, t) + r0 * H
        let whr = p.parameters[p.parameters.count - 1]
        p.multiply(p.recurrentInput(t) + r0 * P, lda: P, rows: n, by: p.parameters[1], count: 4 * H,
                   into: g, ldc: 4 * H, accumulate: true)
        // The kernel writes m where the plain cell writes h; its padding rows are never read.
        recur_lstm_forward_step(Int32(n), Int32(H), Int32(t), p.lengths(from: r0), g,
                                p.state(1, prev) + r0 * H, p.state(1, next) + r0 * H, p.buffer(0, t) + r0 * H,
                                p.buffer(3) + r0 * H, m, p.buffer(4) + r0 * H, Int32(H),
                                recurrentActivation.kernelCode, activation.kernelCode)
        let hPrev = p.h(prev) + r0 * P, hNext = p.h(next) + r0 * P, out = p.output(t) + r0 * p.ldo
        p.multiply(m, lda: H, rows: n, by: whr, count: P, into: hNext, ldc: P, accumulate: false)
        for i in 0..<n {
            if p.isPadding(row: r0 + i, step: t) {
                (hNext + i * P).update(from: hPrev + i * P, count: P)
                (out + i * p.ldo).update(repeating: 0, count: P)
            } else {
                (out + i * p.ldo).update(from: hNext + i * P, count: P)
            }
        }
    }

    func projectedBackward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let (H, P, r0, n) = (hiddenSize, projectionSize, rows.lowerBound, rows.count)
        let dh = p.stateGradient(0) + r0 * P, dhTotal = p.buffer(2, t) + r0 * P, dm = p.buffer(3) + r0 * H
        let dy = p.outputGradient(t).map { $0 + r0 * p.lddy }
        for i in 0..<n {
            let total = dhTotal + i * P, carried = dh + i * P
            if p.isPadding(row: r0 + i, step: t) { total.update(repeating: 0, count: P); continue }
            if let dy { for j in 0..<P { total[j] = carried[j] + dy[i * p.lddy + j] } } else { total.update(from: carried, count: P) }
            carried.update(repeating: 0, count: P)
        }
        let whr = p.parameters[p.parameters.count - 1], dg = p.gateGradient(t) + r0 * 4 * H
        p.multiplyGradient(dhTotal, ldg: P, rows: n, by: whr, count: P, into: dm, ldd: H, accumulate: false)
        recur_lstm_backward_step(Int32(n), Int32(H), Int32(t), p.lengths(from: r0), p.gates(t) + r0 * 4 * H,
                                 p.state(1, p.previous(t)) + r0 * H, p.buffer(0, t) + r0 * H, nil, 0,
                                 dm, p.stateGradient(1) + r0 * H, dg, recurrentActivation.kernelCode, activation.kernelCode)
        p.multiplyGradient(dg, ldg: 4 * H, rows: n, by: p.parameters[1], count: 4 * H,
                           into: p.recurrentInputGradient + r0 * P, ldd: P)
    }

    func accumulateProjectionGradient(_ p: DirectionPass) {
        p.accumulateWeightGradient(p.parameters[p.parameters.count - 1], gradient: p.buffer(2, 0), ldg: projectionSize,
                                   inputs: p.buffer(1, 0), lda: hiddenSize)
    }
}

/// The RNN step in plain Swift: what the fused C kernels compute, written out for reading and
/// for the tests that hold the kernels to it (`fastPath: false` selects it).
extension RNNCell {
    func referenceForward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize
        for r in rows {
            if p.isPadding(row: r, step: t) { p.passThrough(row: r, step: t); continue }
            let g = p.gates(t) + r * H, hNext = p.h(p.next(t)) + r * H, out = p.output(t) + r * p.ldo
            activation.apply(g, into: g, count: H)  // g keeps h_t = act(pre), from which backward takes act'
            hNext.update(from: g, count: H)
            out.update(from: g, count: H)
        }
    }

    /// Leaves dL/d pre-activation in `gateGradient(t)` and 0 in dh for valid rows (the caller
    /// adds dG W_hh); padding rows keep their dh and get no gradient.
    func referenceBackward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, dy = p.outputGradient(t)
        for r in rows {
            let dG = p.gateGradient(t) + r * H, dh = p.stateGradient(0) + r * H
            if p.isPadding(row: r, step: t) { dG.update(repeating: 0, count: H); continue }
            for j in 0..<H { dG[j] = dh[j] + (dy.map { $0[r * p.lddy + j] } ?? 0) }
            activation.backward(output: p.gates(t) + r * H, gradient: dG, into: dG, count: H)
            dh.update(repeating: 0, count: H)
        }
    }
}

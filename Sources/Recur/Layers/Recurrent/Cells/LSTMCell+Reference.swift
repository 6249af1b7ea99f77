/// The LSTM step in plain Swift: what the fused C kernels compute, written out for reading
/// and for the tests that hold the kernels to it (`fastPath: false` selects it).
extension LSTMCell {
    func referenceForward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, prev = p.previous(t), next = p.next(t)
        for r in rows {
            if p.isPadding(row: r, step: t) { p.passThrough(row: r, step: t); continue }
            let cp = p.state(1, prev) + r * H, cn = p.state(1, next) + r * H
            let hn = p.h(next) + r * H, out = p.output(t) + r * p.ldo
            // Activate in place: i, f and o by the gate activation, g by the cell activation.
            let g = p.gates(t) + r * 4 * H, actC = p.buffer(0, t) + r * H
            recurrentActivation.apply(g, into: g, count: 2 * H)
            activation.apply(g + 2 * H, into: g + 2 * H, count: H)
            recurrentActivation.apply(g + 3 * H, into: g + 3 * H, count: H)
            for j in 0..<H { cn[j] = g[H + j] * cp[j] + g[j] * g[2 * H + j] }
            activation.apply(cn, into: actC, count: H)
            for j in 0..<H {
                hn[j] = g[3 * H + j] * actC[j]
                out[j] = hn[j]
            }
        }
    }

    /// dh, dc in: the gradients of h_t, c_t from later steps; out: dc_{t-1}, and dh 0 for valid
    /// rows (the caller adds dG W_hh). dG: the gradients of the four pre-activations.
    func referenceBackward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, dy = p.outputGradient(t)
        for r in rows {
            let dG = p.gateGradient(t) + r * 4 * H
            if p.isPadding(row: r, step: t) { dG.update(repeating: 0, count: 4 * H); continue }
            let g = p.gates(t) + r * 4 * H, actC = p.buffer(0, t) + r * H, cp = p.state(1, p.previous(t)) + r * H
            let dh = p.stateGradient(0) + r * H, dc = p.stateGradient(1) + r * H
            let dAct = dG + 2 * H  // d act(c_t) waits in the g block until d g replaces it
            for j in 0..<H {
                let dht = dh[j] + (dy.map { $0[r * p.lddy + j] } ?? 0)
                dG[3 * H + j] = dht * actC[j]  // d o, before σ'
                dAct[j] = dht * g[3 * H + j]   // d act(c_t)
                dh[j] = 0
            }
            activation.backward(output: actC, gradient: dAct, into: dAct, count: H)
            for j in 0..<H {
                let dct = dc[j] + dAct[j]
                dG[j] = dct * g[2 * H + j]      // d i
                dG[H + j] = dct * cp[j]         // d f
                dG[2 * H + j] = dct * g[j]      // d g
                dc[j] = dct * g[H + j]
            }
            recurrentActivation.backward(output: g, gradient: dG, into: dG, count: 2 * H)
            activation.backward(output: g + 2 * H, gradient: dG + 2 * H, into: dG + 2 * H, count: H)
            recurrentActivation.backward(output: g + 3 * H, gradient: dG + 3 * H, into: dG + 3 * H, count: H)
        }
    }
}

/// The GRU steps in plain Swift: what the fused C kernels compute, written out for reading
/// and for the tests that hold the kernels to it (`fastPath: false` selects it).
/// `gates(t)` holds x W_ih^T + b_ih in and the activated [r z n] out; hp (buffer 0) the
/// recurrent projections W_hh h + b_hh; rh (buffer 1) r * h_prev for reset-before.
extension GRUCell {
    /// Reset after: everything but the recurrent product, which the caller has put in hp.
    func referenceForward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        for r in rows where !passThrough(p, step: t, row: r) {
            let H = hiddenSize, g = p.gates(t) + r * 3 * H, hp = p.buffer(0, t) + r * 3 * H
            for j in 0..<(2 * H) { g[j] += hp[j] }
            recurrentActivation.apply(g, into: g, count: 2 * H)
            for j in 0..<H { g[2 * H + j] += g[j] * hp[2 * H + j] }
            activation.apply(g + 2 * H, into: g + 2 * H, count: H)
            finish(p, step: t, row: r)
        }
    }

    /// Reset before, first half: r, z activated and rh = r * (what the product multiplies).
    func referenceForwardResetGate(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize
        for r in rows {
            let g = p.gates(t) + r * 3 * H, hp = p.buffer(0, t) + r * 3 * H
            let hIn = p.recurrentInput(t) + r * H, rh = p.buffer(1, t) + r * H
            for j in 0..<(2 * H) { g[j] += hp[j] }
            recurrentActivation.apply(g, into: g, count: 2 * H)
            for j in 0..<H { rh[j] = g[j] * hIn[j] }
        }
    }

    /// Reset before, second half, once hp's n block holds W_hn (r h) + b_hn.
    func referenceForwardCandidate(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        for r in rows where !passThrough(p, step: t, row: r) {
            let H = hiddenSize, g = p.gates(t) + r * 3 * H, hp = p.buffer(0, t) + r * 3 * H
            for j in 0..<H { g[2 * H + j] += hp[2 * H + j] }
            activation.apply(g + 2 * H, into: g + 2 * H, count: H)
            finish(p, step: t, row: r)
        }
    }

    /// A padding row keeps its state and outputs 0.
    private func passThrough(_ p: DirectionPass, step t: Int, row r: Int) -> Bool {
        guard p.isPadding(row: r, step: t) else { return false }
        p.passThrough(row: r, step: t)
        return true
    }

    /// h_t = (1 - z) n + z h_{t-1}, also the output.
    private func finish(_ p: DirectionPass, step t: Int, row r: Int) {
        let H = hiddenSize, g = p.gates(t) + r * 3 * H, hPrev = p.h(p.previous(t)) + r * H
        let hNext = p.h(p.next(t)) + r * H, out = p.output(t) + r * p.ldo
        for j in 0..<H {
            let z = g[H + j]
            hNext[j] = (1 - z) * g[2 * H + j] + z * hPrev[j]
            out[j] = hNext[j]
        }
    }

    /// Both forms, first half: from dh (+ dy) the z and n pre-activation gradients into dgi
    /// and dgh (whose n block is the gradient of W_hn h + b_hn, or of W_hn (r h) + b_hn), dh
    /// replaced by its direct path z dh; reset-after also does the r block. Padding rows get
    /// no gradient and keep dh.
    func referenceBackward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, dy = p.outputGradient(t)
        for r in rows {
            let dgi = p.gateGradient(t) + r * 3 * H, dgh = p.buffer(2, t) + r * 3 * H
            if p.isPadding(row: r, step: t) {
                dgi.update(repeating: 0, count: 3 * H)
                dgh.update(repeating: 0, count: 3 * H)
                continue
            }
            let g = p.gates(t) + r * 3 * H, hPrev = p.h(p.previous(t)) + r * H, dh = p.stateGradient(0) + r * H
            for j in 0..<H {
                let dht = dh[j] + (dy.map { $0[r * p.lddy + j] } ?? 0), z = g[H + j], n = g[2 * H + j]
                dgi[2 * H + j] = dht * (1 - z)      // d n, before act'
                dgi[H + j] = dht * (hPrev[j] - n)   // d z, before σ'
                dh[j] = dht * z
            }
            activation.backward(output: g + 2 * H, gradient: dgi + 2 * H, into: dgi + 2 * H, count: H)
            recurrentActivation.backward(output: g + H, gradient: dgi + H, into: dgi + H, count: H)
            (dgh + H).update(from: dgi + H, count: H)
            if resetAfter {
                let hp = p.buffer(0, t) + r * 3 * H
                for j in 0..<H {
                    dgh[2 * H + j] = dgi[2 * H + j] * g[j]  // through r (W_hn h + b_hn)
                    dgi[j] = dgi[2 * H + j] * hp[2 * H + j]  // d r, before σ'
                }
                recurrentActivation.backward(output: g, gradient: dgi, into: dgi, count: H)
                dgh.update(from: dgi, count: H)
            } else {
                (dgh + 2 * H).update(from: dgi + 2 * H, count: H)
            }
        }
    }

    /// Reset before, second half: given drh = dgh_n W_hn (the gradient of r h), the r block
    /// of dgi and dgh, and r drh added to the gradient of what the products multiplied.
    func referenceBackwardResetGate(_ p: DirectionPass, step t: Int, rows: Range<Int>, drh: UnsafePointer<Float>,
                                    into dIn: UnsafeMutablePointer<Float>) {
        let H = hiddenSize, r0 = rows.lowerBound
        for r in rows where !p.isPadding(row: r, step: t) {
            let g = p.gates(t) + r * 3 * H, hIn = p.recurrentInput(t) + r * H, d = drh + (r - r0) * H
            let dgi = p.gateGradient(t) + r * 3 * H, dgh = p.buffer(2, t) + r * 3 * H, dx = dIn + (r - r0) * H
            for j in 0..<H {
                dgi[j] = d[j] * hIn[j]
                dx[j] += d[j] * g[j]
            }
            recurrentActivation.backward(output: g, gradient: dgi, into: dgi, count: H)
            dgh.update(from: dgi, count: H)
        }
    }
}

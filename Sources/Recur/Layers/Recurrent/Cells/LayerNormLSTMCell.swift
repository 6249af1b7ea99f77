import Foundation

/// Layer-normalised LSTM, exactly Ba, Kiros & Hinton 2016 (eq. 20–22), gates [i f g o]:
///
///     a = LN(W_hh h_{t-1}; α1, β1) + LN(W_ih x_t; α2, β2) + b       (each LN over all 4H)
///     c_t = σ(f) c_{t-1} + σ(i) tanh(g)                             (c carried un-normalised)
///     h_t = σ(o) tanh(LN(c_t; α3, β3))
///
/// LN(z; α, β) = α (z - mean z) / sqrt(var z + 1e-5) + β, the variance biased (PyTorch's
/// `LayerNorm`). Gains start at 1 and shifts at 0 under every initialisation.
///
/// TF-Addons' `LayerNormLSTMCell` normalises the same two 4H projections, but it carries
/// the normalised LN(c_t) as the next cell state, where the paper (and this cell) carry c_t
/// itself; its epsilon defaults to 1e-3.
///
/// Parameters: `weight_ih` [4H, I], `weight_hh` [4H, H], biases `bias_ih` (and `bias_hh`)
/// [4H] added after the normalisations, then `ln_ih_weight`, `ln_ih_bias` (α2, β2, [4H]),
/// `ln_hh_weight`, `ln_hh_bias` (α1, β1, [4H]) and `ln_c_weight`, `ln_c_bias` (α3, β3, [H]).
public struct LayerNormLSTMCell: RecurrentCell {
    public let hiddenSize: Int
    public static let epsilon: Float = 1e-5
    public init(hiddenSize: Int) { self.hiddenSize = hiddenSize }

    public var inputProjectionWidth: Int { 4 * hiddenSize }
    public var state: [StateComponent] { [StateComponent("h", width: hiddenSize), StateComponent("c", width: hiddenSize)] }
    public var activations: [Activation] { [.tanh, .sigmoid] }
    /// Legend (per step unless said): the normalised projections x̂ and ĥ [4H]; 1/σ of the
    /// three normalisations [3] (input, recurrent, c); ĉ = normalised c_t [H]; a = tanh(LN(c_t))
    /// [H]; the gradients of the pre-activation a [4H], of W_hh h [4H] and of LN(c_t) [H];
    /// and a [B, 4H] scratch for the recurrent product.
    public var buffers: [CellBuffer] {
        let H = hiddenSize
        return [CellBuffer("x_hat", width: 4 * H), CellBuffer("h_hat", width: 4 * H), CellBuffer("inv_std", width: 3),
                CellBuffer("c_hat", width: H), CellBuffer("act_ln_c", width: H), CellBuffer("d_pre", width: 4 * H),
                CellBuffer("d_hh", width: 4 * H), CellBuffer("d_ln_c", width: H), CellBuffer("hh", width: 4 * H, .perRow)]
    }

    public func parameters(inputSize: Int, bias: RecurrentBias) -> [CellParameter] {
        let H = hiddenSize
        var list = [CellParameter("weight_ih", shape: [4 * H, inputSize], role: .inputWeight),
                    CellParameter("weight_hh", shape: [4 * H, H], role: .recurrentWeight)]
        if bias != .none { list.append(CellParameter("bias_ih", shape: [4 * H], role: .bias, kerasOnes: H..<(2 * H))) }
        if bias == .separate { list.append(CellParameter("bias_hh", shape: [4 * H], role: .bias)) }
        for (name, width) in [("ih", 4 * H), ("hh", 4 * H), ("c", H)] {
            list += [CellParameter("ln_\(name)_weight", shape: [width], role: .gain),
                     CellParameter("ln_\(name)_bias", shape: [width], role: .shift)]
        }
        return list
    }

    /// The biases added after the normalisations, and the six LN tensors (α2 β2 α1 β1 α3 β3).
    private func split(_ p: DirectionPass) -> (biases: ArraySlice<Parameter>, ln: ArraySlice<Parameter>) {
        let n = p.parameters.count
        return (p.parameters[2..<(n - 6)], p.parameters[(n - 6)...])
    }

    /// y = (z - mean) / sqrt(var + ε) over n values; returns 1 / sqrt(var + ε). The sums run
    /// in Double: the division by σ magnifies their rounding.
    private func normalize(_ z: UnsafePointer<Float>, _ n: Int, into y: UnsafeMutablePointer<Float>) -> Float {
        var sum = 0.0, squares = 0.0
        for j in 0..<n { sum += Double(z[j]) }
        let mean = sum / Double(n)
        for j in 0..<n { squares += (Double(z[j]) - mean) * (Double(z[j]) - mean) }
        let inv = 1 / (squares / Double(n) + Double(Self.epsilon)).squareRoot()
        for j in 0..<n { y[j] = Float((Double(z[j]) - mean) * inv) }
        return Float(inv)
    }

    /// dz = inv (dy - mean(dy) - ŷ mean(dy ŷ)): the gradient through a normalisation.
    private func normalizeBackward(_ dy: UnsafePointer<Float>, _ yHat: UnsafePointer<Float>, _ inv: Float, _ n: Int,
                                   into dz: UnsafeMutablePointer<Float>) {
        var m1 = 0.0, m2 = 0.0
        for j in 0..<n { m1 += Double(dy[j]); m2 += Double(dy[j]) * Double(yHat[j]) }
        m1 /= Double(n)
        m2 /= Double(n)
        for j in 0..<n { dz[j] = Float(Double(inv) * (Double(dy[j]) - m1 - Double(yHat[j]) * m2)) }
    }

    private func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    public func forward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, G = 4 * H, (biases, ln) = split(p), prev = p.previous(t), next = p.next(t)
        let hh = p.buffer(8)
        p.multiply(p.recurrentInput(t) + rows.lowerBound * H, lda: H, rows: rows.count, by: p.parameters[1], count: G,
                   into: hh + rows.lowerBound * G, ldc: G, accumulate: false)
        let (a2, b2, a1, b1, a3, b3) = (ln[ln.startIndex].value.pointer, ln[ln.startIndex + 1].value.pointer,
                                        ln[ln.startIndex + 2].value.pointer, ln[ln.startIndex + 3].value.pointer,
                                        ln[ln.startIndex + 4].value.pointer, ln[ln.startIndex + 5].value.pointer)
        for r in rows {
            if p.isPadding(row: r, step: t) { p.passThrough(row: r, step: t); continue }
            let cp = p.state(1, prev) + r * H, cn = p.state(1, next) + r * H
            let hn = p.h(next) + r * H, out = p.output(t) + r * p.ldo
            let g = p.gates(t) + r * G, xHat = p.buffer(0, t) + r * G, hHat = p.buffer(1, t) + r * G
            let inv = p.buffer(2, t) + r * 3, cHat = p.buffer(3, t) + r * H, act = p.buffer(4, t) + r * H
            inv[0] = normalize(g, G, into: xHat)
            inv[1] = normalize(hh + r * G, G, into: hHat)
            for j in 0..<G {
                var a = a1[j] * hHat[j] + b1[j] + a2[j] * xHat[j] + b2[j]
                for b in biases { a += b.value.pointer[j] }
                g[j] = a
            }
            for j in 0..<H {
                let (i, f, gg) = (sigmoid(g[j]), sigmoid(g[H + j]), tanh(g[2 * H + j]))
                (g[j], g[H + j], g[2 * H + j], g[3 * H + j]) = (i, f, gg, sigmoid(g[3 * H + j]))
                cn[j] = f * cp[j] + i * gg
            }
            inv[2] = normalize(cn, H, into: cHat)
            for j in 0..<H {
                act[j] = tanh(a3[j] * cHat[j] + b3[j])
                hn[j] = g[3 * H + j] * act[j]
                out[j] = hn[j]
            }
        }
    }

    public func backward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, G = 4 * H, ln = split(p).ln, dy = p.outputGradient(t)
        let (a2, a1, a3) = (ln[ln.startIndex].value.pointer, ln[ln.startIndex + 2].value.pointer, ln[ln.startIndex + 4].value.pointer)
        for r in rows {
            let dPre = p.buffer(5, t) + r * G, dHH = p.buffer(6, t) + r * G, dLnC = p.buffer(7, t) + r * H
            let dX = p.gateGradient(t) + r * G
            if p.isPadding(row: r, step: t) {
                for d in [dPre, dHH, dX] { d.update(repeating: 0, count: G) }
                dLnC.update(repeating: 0, count: H)
                continue
            }
            let g = p.gates(t) + r * G, inv = p.buffer(2, t) + r * 3, cHat = p.buffer(3, t) + r * H, act = p.buffer(4, t) + r * H
            let cp = p.state(1, p.previous(t)) + r * H, dh = p.stateGradient(0) + r * H, dc = p.stateGradient(1) + r * H
            let dcHat = p.buffer(8) + r * G  // scratch: the first H of the row's G
            for j in 0..<H {
                let dht = dh[j] + (dy.map { $0[r * p.lddy + j] } ?? 0), o = g[3 * H + j]
                dPre[3 * H + j] = dht * act[j] * o * (1 - o)
                dLnC[j] = dht * o * (1 - act[j] * act[j])
                dcHat[j] = dLnC[j] * a3[j]
                dh[j] = 0
            }
            normalizeBackward(dcHat, cHat, inv[2], H, into: dcHat)
            for j in 0..<H {
                let (i, f, gg) = (g[j], g[H + j], g[2 * H + j])
                let dct = dc[j] + dcHat[j]
                dPre[j] = dct * gg * i * (1 - i)
                dPre[H + j] = dct * cp[j] * f * (1 - f)
                dPre[2 * H + j] = dct * i * (1 - gg * gg)
                dc[j] = dct * f
            }
            for j in 0..<G { dX[j] = dPre[j] * a2[j]; dHH[j] = dPre[j] * a1[j] }
            normalizeBackward(dX, p.buffer(0, t) + r * G, inv[0], G, into: dX)
            normalizeBackward(dHH, p.buffer(1, t) + r * G, inv[1], G, into: dHH)
        }
        p.multiplyGradient(p.buffer(6, t) + rows.lowerBound * G, ldg: G, rows: rows.count, by: p.parameters[1], count: G,
                           into: p.recurrentInputGradient + rows.lowerBound * H, ldd: H)
    }

    public func accumulateWeightGradients(_ p: DirectionPass) {
        let H = hiddenSize, G = 4 * H, (biases, ln) = split(p), n = p.T * p.B
        p.accumulateWeightGradient(p.parameters[1], gradient: p.buffer(6), ldg: G, inputs: p.recurrentInputs, lda: H)
        let dPre = p.buffer(5), xHat = p.buffer(0), hHat = p.buffer(1), cHat = p.buffer(3), dLnC = p.buffer(7)
        for b in biases { VectorMath.addColumnSums(dPre, rows: n, cols: G, ld: G, into: b.grad.pointer) }
        let g = ln.map(\.grad.pointer)  // dα2 dβ2 dα1 dβ1 dα3 dβ3
        VectorMath.addColumnSums(dPre, rows: n, cols: G, ld: G, into: g[1])
        VectorMath.addColumnSums(dPre, rows: n, cols: G, ld: G, into: g[3])
        VectorMath.addColumnSums(dLnC, rows: n, cols: H, ld: H, into: g[5])
        for row in 0..<n {
            for j in 0..<G {
                g[0][j] += dPre[row * G + j] * xHat[row * G + j]
                g[2][j] += dPre[row * G + j] * hHat[row * G + j]
            }
            for j in 0..<H { g[4][j] += dLnC[row * H + j] * cHat[row * H + j] }
        }
    }
}

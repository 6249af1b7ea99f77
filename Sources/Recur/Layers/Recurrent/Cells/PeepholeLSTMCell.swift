import Foundation

/// LSTM with peephole connections (Gers, Schraudolph & Schmidhuber 2002): the gates also
/// see the cell state through diagonal weights w_ci, w_cf (c_{t-1}) and w_co (c_t).
///
///     i = σ(x_i + W_hi h_{t-1} + b_i + w_ci ⊙ c_{t-1})     g = tanh(x_g + W_hg h_{t-1} + b_g)
///     f = σ(x_f + W_hf h_{t-1} + b_f + w_cf ⊙ c_{t-1})     c_t = f ⊙ c_{t-1} + i ⊙ g
///     o = σ(x_o + W_ho h_{t-1} + b_o + w_co ⊙ c_t)         h_t = o ⊙ tanh(c_t)
///
/// Parameters: PyTorch's four (`weight_ih` [4H, I], `weight_hh` [4H, H], `bias_ih`, `bias_hh`
/// [4H], gates i, f, g, o) and `weight_ch` [3, H], rows w_ci, w_cf, w_co.
/// State: h, c [B, H]. Buffers: act_c [T, B, H] = tanh(c_t); `gates(t)` keeps i, f, g, o.
public struct PeepholeLSTMCell: RecurrentCell {
    public let hiddenSize: Int
    public init(hiddenSize: Int) { self.hiddenSize = hiddenSize }

    public var inputProjectionWidth: Int { 4 * hiddenSize }
    public var state: [StateComponent] { [StateComponent("h", width: hiddenSize), StateComponent("c", width: hiddenSize)] }
    public var buffers: [CellBuffer] { [CellBuffer("act_c", width: hiddenSize)] }
    public var activations: [Activation] { [.tanh, .sigmoid] }

    public func parameters(inputSize: Int, bias: RecurrentBias) -> [CellParameter] {
        let H = hiddenSize
        return CellParameter.standard(gates: 4 * H, inputSize: inputSize, recurrentSize: H, bias: bias, forgetGate: H..<(2 * H))
            + [CellParameter("weight_ch", shape: [3, H], role: .diagonal)]
    }

    private func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }
    private func peepholes(_ p: DirectionPass) -> UnsafeMutablePointer<Float> { p.parameters[p.parameters.count - 1].value.pointer }

    public func forward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, w = peepholes(p), prev = p.previous(t), next = p.next(t)
        // gates += h_{t-1} W_hh^T for this block of rows.
        p.multiply(p.recurrentInput(t) + rows.lowerBound * H, lda: H, rows: rows.count, by: p.parameters[1],
                   count: 4 * H, into: p.gates(t) + rows.lowerBound * 4 * H, ldc: 4 * H, accumulate: true)
        for r in rows {
            if p.isPadding(row: r, step: t) { p.passThrough(row: r, step: t); continue }  // h, c kept; output 0
            let cp = p.state(1, prev) + r * H, cn = p.state(1, next) + r * H
            let hn = p.h(next) + r * H, out = p.output(t) + r * p.ldo
            let g = p.gates(t) + r * 4 * H, actC = p.buffer(0, t) + r * H
            for j in 0..<H {
                let i = sigmoid(g[j] + w[j] * cp[j])
                let f = sigmoid(g[H + j] + w[H + j] * cp[j])
                let gg = tanh(g[2 * H + j])
                let c = f * cp[j] + i * gg
                let o = sigmoid(g[3 * H + j] + w[2 * H + j] * c)
                (g[j], g[H + j], g[2 * H + j], g[3 * H + j]) = (i, f, gg, o)
                cn[j] = c
                actC[j] = tanh(c)
                hn[j] = o * actC[j]
                out[j] = hn[j]
            }
        }
    }

    public func backward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let H = hiddenSize, w = peepholes(p), dy = p.outputGradient(t)
        for r in rows {
            let dG = p.gateGradient(t) + r * 4 * H
            if p.isPadding(row: r, step: t) {  // no gradient; dh and dc pass through
                dG.update(repeating: 0, count: 4 * H)
                continue
            }
            let g = p.gates(t) + r * 4 * H, actC = p.buffer(0, t) + r * H
            let cp = p.state(1, p.previous(t)) + r * H
            let dh = p.stateGradient(0) + r * H, dc = p.stateGradient(1) + r * H
            for j in 0..<H {
                let (i, f, gg, o) = (g[j], g[H + j], g[2 * H + j], g[3 * H + j])
                let dht = dh[j] + (dy.map { $0[r * p.lddy + j] } ?? 0)
                let dpo = dht * actC[j] * o * (1 - o)
                let dct = dc[j] + dht * o * (1 - actC[j] * actC[j]) + dpo * w[2 * H + j]
                let dpi = dct * gg * i * (1 - i)
                let dpf = dct * cp[j] * f * (1 - f)
                dG[j] = dpi
                dG[H + j] = dpf
                dG[2 * H + j] = dct * i * (1 - gg * gg)
                dG[3 * H + j] = dpo
                dc[j] = dct * f + dpi * w[j] + dpf * w[H + j]
                dh[j] = 0  // what reaches h_{t-1} goes through W_hh, added below
            }
        }
        p.multiplyGradient(p.gateGradient(t) + rows.lowerBound * 4 * H, ldg: 4 * H, rows: rows.count, by: p.parameters[1],
                           count: 4 * H, into: p.recurrentInputGradient + rows.lowerBound * H, ldd: H)
    }

    public func accumulateWeightGradients(_ p: DirectionPass) {
        let H = hiddenSize, dG = p.gateGradient(0)
        p.accumulateWeightGradient(p.parameters[1], gradient: dG, ldg: 4 * H, inputs: p.recurrentInputs, lda: H)
        // The peepholes, summed over every step and row (padding rows have dG = 0).
        let dw = p.parameters[p.parameters.count - 1].grad.pointer
        let cPrev = p.previousStates(1), cNext = p.nextStates(1)
        for row in 0..<(p.T * p.B) {
            for j in 0..<H {
                dw[j] += dG[row * 4 * H + j] * cPrev[row * H + j]
                dw[H + j] += dG[row * 4 * H + H + j] * cPrev[row * H + j]
                dw[2 * H + j] += dG[row * 4 * H + 3 * H + j] * cNext[row * H + j]
            }
        }
    }
}

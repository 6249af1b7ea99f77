/// How far back in time the gradient of a loss reaches: the norms of dL/dh_t (and, for an
/// LSTM, dL/dc_t) of a recurrent layer's states at every step, for a loss that depends on
/// the last step. A vanilla RNN's norms fall geometrically as k grows (vanishing gradients)
/// or grow (exploding ones); an LSTM's cell state carries them further.
///
/// Index k is k steps back from the last step: t = T - 1 - k. Each value is the mean over
/// the batch of the per-sequence L2 norm (a sum over the state's width).
public struct GradientFlow: Sendable {
    /// ‖dL/dh_t‖: the total gradient of h_t, through the later steps and its own output.
    public let hidden: [Double]
    /// ‖dL/dc_t‖ for an LSTM without projection (through c_{t+1} and through h_t); nil for other cells.
    public let cell: [Double]?

    /// Steps back until the norm of dL/dh has fallen 100-fold below its value at the last
    /// step; nil when it never does within T.
    public var horizon: Int? { Self.horizon(hidden) }

    /// The first k with norms[k] <= norms[0] / 100, or nil.
    public static func horizon(_ norms: [Double]) -> Int? {
        guard let first = norms.first, first > 0 else { return nil }
        return norms.firstIndex { $0 <= first / 100 }
    }

    public init(hidden: [Double], cell: [Double]?) {
        (self.hidden, self.cell) = (hidden, cell)
    }

    /// Runs `model` on x: [T, B, I] in evaluation mode (no dropout), takes the cross-entropy
    /// of its logits against `targets` (the loss at the last step), and records the norms of
    /// the first layer's forward direction during backward. Parameter gradients are zeroed
    /// afterwards, so a training run can continue as if nothing had happened.
    public static func measure(_ model: SequenceModel, x: Tensor, targets: [Int32]) -> GradientFlow {
        let recurrent = model.recurrent
        let T = x.shape[0], B = x.shape[1], H = recurrent.outputSize
        let lstm = (recurrent.recurrentCell as? LSTMCell).flatMap { $0.projectionSize == 0 && $0.activation == .tanh ? $0 : nil }
        var hidden = [Double](repeating: 0, count: T), cell = [Double](repeating: 0, count: T)
        let dh = Tensor(zeros: [B, H])
        recurrent.observeBackward(layer: 0, direction: 0) { p, t in
            let k = T - 1 - t, g = dh.pointer, carried = p.stateGradient(0)
            g.update(from: carried, count: B * H)
            if let dy = p.outputGradient(t) {
                for r in 0..<B { for j in 0..<H { g[r * H + j] += dy[r * p.lddy + j] } }
            }
            hidden[k] = meanRowNorm(g, rows: B, width: H)
            if lstm != nil {
                // dL/dc_t = (through c_{t+1}) + dL/dh_t * o_t * (1 - tanh²(c_t)); the gates
                // buffer keeps the activated gates [i f g o], buffer 0 is tanh(c_t).
                let dc = p.stateGradient(1), gates = p.gates(t), tanhC = p.buffer(0, t)
                var sum = 0.0
                for r in 0..<B {
                    var s = 0.0
                    for j in 0..<H {
                        let a = Double(tanhC[r * H + j]), o = Double(gates[r * 4 * H + 3 * H + j])
                        let v = Double(dc[r * H + j]) + Double(g[r * H + j]) * o * (1 - a * a)
                        s += v * v
                    }
                    sum += s.squareRoot()
                }
                cell[k] = sum / Double(B)
            }
        }
        defer { recurrent.observeBackward(layer: 0, direction: 0, nil) }
        let wasTraining = model.training
        model.training = false
        defer { model.training = wasTraining }
        let loss = SoftmaxCrossEntropy()
        model.backward(loss(model(x), targets: targets).gradient)
        model.zeroGrad()
        return GradientFlow(hidden: hidden, cell: lstm == nil ? nil : cell)
    }

    static func meanRowNorm(_ g: UnsafePointer<Float>, rows: Int, width: Int) -> Double {
        var sum = 0.0
        for r in 0..<rows {
            var s = 0.0
            for j in 0..<width { s += Double(g[r * width + j]) * Double(g[r * width + j]) }
            sum += s.squareRoot()
        }
        return sum / Double(rows)
    }
}

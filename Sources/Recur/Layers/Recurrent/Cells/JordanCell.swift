/// Jordan network cell (seed 003's lecture): the previous *output* is fed back instead of the
/// hidden state, so the carried state is y, of width O.
///
///     h_t = act(x_t W_ih^T + y_{t-1} W_yh^T + b_h)
///     y_t = outputActivation(h_t W_hy^T + b_y),   y_{-1} = 0 (or the initial state)
///
/// Parameters: `weight_ih` [H, I], `weight_yh` [H, O], `bias_h` [H] (folded into the input
/// projection), `weight_hy` [O, H], `bias_y` [O]; every one U(±1/√H) in PyTorch's convention.
/// State: y [B, O], also the step's output. Buffers: dL/d(output pre-activation) [T, B, O];
/// `gates(t)` keeps h_t.
public struct JordanCell: RecurrentCell {
    public let hiddenSize: Int
    public let outputSize: Int
    public let activation: Activation
    public let outputActivation: Activation

    public init(hiddenSize: Int, outputSize: Int, activation: Activation = .tanh, outputActivation: Activation = .identity) {
        precondition(hiddenSize > 0 && outputSize > 0, "JordanCell sizes must be positive: hidden \(hiddenSize), output \(outputSize)")
        self.hiddenSize = hiddenSize
        self.outputSize = outputSize
        self.activation = activation
        self.outputActivation = outputActivation
    }

    public var inputProjectionWidth: Int { hiddenSize }
    public var state: [StateComponent] { [StateComponent("y", width: outputSize)] }
    public var buffers: [CellBuffer] { [CellBuffer("dz", width: outputSize)] }
    public var activations: [Activation] { [activation, outputActivation] }

    /// The biases are always there (the lecture's network has them); `bias` does not apply.
    public func parameters(inputSize: Int, bias: RecurrentBias) -> [CellParameter] {
        let (H, O) = (hiddenSize, outputSize)
        return [CellParameter("weight_ih", shape: [H, inputSize], role: .inputWeight),
                CellParameter("weight_yh", shape: [H, O], role: .recurrentWeight),
                CellParameter("bias_h", shape: [H], role: .bias, foldsIntoInputProjection: true),
                CellParameter("weight_hy", shape: [O, H], role: .weight),
                CellParameter("bias_y", shape: [O], role: .bias)]
    }

    public func forward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let (H, O, r0, n) = (hiddenSize, outputSize, rows.lowerBound, rows.count)
        let a = p.gates(t) + r0 * H, y = p.h(p.next(t)) + r0 * O
        p.multiply(p.recurrentInput(t) + r0 * O, lda: O, rows: n, by: p.parameters[1], count: H, into: a, ldc: H, accumulate: true)
        activation.apply(a, into: a, count: n * H)
        VectorMath.broadcastRows(p.parameters[4].value.pointer, rows: n, cols: O, ld: O, into: y)
        p.multiply(a, lda: H, rows: n, by: p.parameters[3], count: O, into: y, ldc: O, accumulate: true)
        outputActivation.apply(y, into: y, count: n * O)
        for i in 0..<n {
            if p.isPadding(row: r0 + i, step: t) { p.passThrough(row: r0 + i, step: t); continue }
            (p.output(t) + (r0 + i) * p.ldo).update(from: y + i * O, count: O)
        }
    }

    public func backward(_ p: DirectionPass, step t: Int, rows: Range<Int>) {
        let (H, O, r0, n) = (hiddenSize, outputSize, rows.lowerBound, rows.count)
        let dz = p.buffer(0, t) + r0 * O, da = p.gateGradient(t) + r0 * H, dy = p.stateGradient(0) + r0 * O
        let y = p.h(p.next(t)) + r0 * O, g = p.outputGradient(t)
        for i in 0..<n {
            let d = dz + i * O, carried = dy + i * O
            if p.isPadding(row: r0 + i, step: t) { d.update(repeating: 0, count: O); continue }
            for j in 0..<O { d[j] = carried[j] + (g.map { $0[(r0 + i) * p.lddy + j] } ?? 0) }
            carried.update(repeating: 0, count: O)
        }
        outputActivation.backward(output: y, gradient: dz, into: dz, count: n * O)
        p.multiplyGradient(dz, ldg: O, rows: n, by: p.parameters[3], count: O, into: da, ldd: H, accumulate: false)
        activation.backward(output: p.gates(t) + r0 * H, gradient: da, into: da, count: n * H)
        p.multiplyGradient(da, ldg: H, rows: n, by: p.parameters[1], count: H, into: p.recurrentInputGradient + r0 * O, ldd: O)
    }

    public func accumulateWeightGradients(_ p: DirectionPass) {
        let (H, O) = (hiddenSize, outputSize)
        p.accumulateWeightGradient(p.parameters[1], gradient: p.gateGradient(0), ldg: H, inputs: p.recurrentInputs, lda: O)
        p.accumulateWeightGradient(p.parameters[3], gradient: p.buffer(0), ldg: O, inputs: p.gates(0), lda: H)
        VectorMath.addColumnSums(p.buffer(0), rows: p.T * p.B, cols: O, ld: O, into: p.parameters[4].grad.pointer)
    }
}

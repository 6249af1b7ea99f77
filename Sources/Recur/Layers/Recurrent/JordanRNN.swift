/// Jordan network (seed 003's lecture): the previous *output* is fed back instead of the
/// hidden state.
///
///     h_t = act(x_t W_ih^T + y_{t-1} W_yh^T + b_h)
///     y_t = outputActivation(h_t W_hy^T + b_y),   y_{-1} = 0
///
/// Shapes: x [T, B, I] time-major -> y [T, B, O]. Parameters: `weight_ih` [H, I],
/// `weight_yh` [H, O], `bias_h` [H], `weight_hy` [O, H], `bias_y` [O]; init U(±1/sqrt(H)).
/// Inputs are projected for all steps with one GEMM; each step does two small GEMMs (the
/// feedback and the output); backward computes the weight gradients with one GEMM each.
public final class JordanRNN: Layer {
    public let inputSize: Int, hiddenSize: Int, outputSize: Int
    public let activation: Activation, outputActivation: Activation
    public let weightIH: Parameter, weightYH: Parameter, biasH: Parameter, weightHY: Parameter, biasY: Parameter
    private let workspace = Workspace()
    private var input: Tensor?
    private var a = Tensor(zeros: [0]), ys = Tensor(zeros: [0])

    public init(inputSize: Int, hiddenSize: Int, outputSize: Int = 1, activation: Activation = .tanh,
                outputActivation: Activation = .identity, seed: UInt64 = 0) {
        precondition(inputSize > 0 && hiddenSize > 0 && outputSize > 0,
                     "JordanRNN sizes must be positive: \(inputSize), \(hiddenSize), \(outputSize)")
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.outputSize = outputSize
        self.activation = activation
        self.outputActivation = outputActivation
        weightIH = Parameter("weight_ih", shape: [hiddenSize, inputSize])
        weightYH = Parameter("weight_yh", shape: [hiddenSize, outputSize])
        biasH = Parameter("bias_h", shape: [hiddenSize])
        weightHY = Parameter("weight_hy", shape: [outputSize, hiddenSize])
        biasY = Parameter("bias_y", shape: [outputSize])
        var rng = RandomGenerator(seed: seed)
        let k = 1 / Float(hiddenSize).squareRoot()
        for p in [weightIH, weightYH, biasH, weightHY, biasY] { rng.fillUniform(p.value, -k, k) }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [weightIH, weightYH, biasH, weightHY, biasY].map { ($0.name, $0) }
    }

    /// x: [T, B, I] -> y: [T, B, O] (a layer-owned buffer).
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == inputSize, "JordanRNN: input shape \(x.shape) must be [T, B, \(inputSize)]")
        let (T, B, H, O, I) = (x.shape[0], x.shape[1], hiddenSize, outputSize, inputSize)
        a = workspace.tensor("a", [T, B, H])        // pre-activations, then h
        ys = workspace.tensor("ys", [T + 1, B, O])  // ys[0] = 0, ys[t+1] = y_t
        ys[0].zero()
        VectorMath.broadcastRows(biasH.value.pointer, rows: T * B, cols: H, ld: H, into: a.pointer)
        BLAS.gemm(transB: true, m: T * B, n: H, k: I, a: x.pointer, lda: I, b: weightIH.value.pointer, ldb: I,
                  beta: 1, c: a.pointer, ldc: H)
        for t in 0..<T {
            let at = a.pointer + t * B * H, yPrev = ys.pointer + t * B * O, y = ys.pointer + (t + 1) * B * O
            BLAS.gemm(transB: true, m: B, n: H, k: O, a: yPrev, lda: O, b: weightYH.value.pointer, ldb: O,
                      beta: 1, c: at, ldc: H)
            activation.apply(at, into: at, count: B * H)
            VectorMath.broadcastRows(biasY.value.pointer, rows: B, cols: O, ld: O, into: y)
            BLAS.gemm(transB: true, m: B, n: O, k: H, a: at, lda: H, b: weightHY.value.pointer, ldb: H,
                      beta: 1, c: y, ldc: O)
            outputActivation.apply(y, into: y, count: B * O)
        }
        input = x
        return ys.rows(1..<(T + 1))
    }

    /// dy: [T, B, O] -> dx: [T, B, I]; accumulates every parameter gradient.
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("JordanRNN.backward called before forward") }
        let (T, B, H, O, I) = (x.shape[0], x.shape[1], hiddenSize, outputSize, inputSize)
        precondition(dy.shape == [T, B, O], "JordanRNN.backward: gradient shape \(dy.shape) must be [\(T), \(B), \(O)]")
        let dz = workspace.tensor("dz", [T, B, O]), da = workspace.tensor("da", [T, B, H])
        let carry = workspace.tensor("carry", [B, O], zeroed: true)  // dL/dy_t from step t+1
        for t in stride(from: T - 1, through: 0, by: -1) {
            let dzt = dz.pointer + t * B * O, dat = da.pointer + t * B * H
            let y = ys.pointer + (t + 1) * B * O, dyt = dy.pointer + t * B * O
            for i in 0..<(B * O) { dzt[i] = dyt[i] + carry.pointer[i] }
            outputActivation.backward(output: y, gradient: dzt, into: dzt, count: B * O)
            BLAS.gemm(m: B, n: H, k: O, a: dzt, lda: O, b: weightHY.value.pointer, ldb: H, c: dat, ldc: H)
            activation.backward(output: a.pointer + t * B * H, gradient: dat, into: dat, count: B * H)
            BLAS.gemm(m: B, n: O, k: H, a: dat, lda: H, b: weightYH.value.pointer, ldb: O, c: carry.pointer, ldc: O)
        }
        let rows = T * B
        BLAS.gemm(transA: true, m: O, n: H, k: rows, a: dz.pointer, lda: O, b: a.pointer, ldb: H, beta: 1, c: weightHY.grad.pointer, ldc: H)
        VectorMath.addColumnSums(dz.pointer, rows: rows, cols: O, ld: O, into: biasY.grad.pointer)
        BLAS.gemm(transA: true, m: H, n: O, k: rows, a: da.pointer, lda: H, b: ys.pointer, ldb: O, beta: 1, c: weightYH.grad.pointer, ldc: O)
        BLAS.gemm(transA: true, m: H, n: I, k: rows, a: da.pointer, lda: H, b: x.pointer, ldb: I, beta: 1, c: weightIH.grad.pointer, ldc: I)
        VectorMath.addColumnSums(da.pointer, rows: rows, cols: H, ld: H, into: biasH.grad.pointer)
        let dx = workspace.tensor("dx", x.shape)
        BLAS.gemm(m: rows, n: I, k: H, a: da.pointer, lda: H, b: weightIH.value.pointer, ldb: I, c: dx.pointer, ldc: I)
        return dx
    }
}

/// y = x W^T + b (PyTorch `nn.Linear`).
///
/// - weight: [out, in], bias: [out]; init U(-1/sqrt(in), 1/sqrt(in)) for both, as PyTorch.
/// - forward x: [N, in] -> [N, out]. Any leading shape works: x is read as [count/in, in].
/// The returned tensors are buffers owned by the layer, valid until its next call.
public final class Linear: Layer {
    public let inputSize: Int
    public let outputSize: Int
    public let weight: Parameter
    public let bias: Parameter?
    private let workspace = Workspace()
    private var input: Tensor?

    public init(inputSize: Int, outputSize: Int, bias: Bool = true, rng: inout RandomGenerator) {
        precondition(inputSize > 0 && outputSize > 0, "Linear sizes must be positive, got \(inputSize) -> \(outputSize)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        weight = Parameter("weight", shape: [outputSize, inputSize])
        self.bias = bias ? Parameter("bias", shape: [outputSize]) : nil
        let k = 1 / Float(inputSize).squareRoot()
        rng.fillUniform(weight.value, -k, k)
        if let b = self.bias { rng.fillUniform(b.value, -k, k) }
    }

    /// A Linear layer that uses an existing weight [out, in] (weight tying: gradients of both
    /// users accumulate into the one parameter).
    public init(sharing weight: Parameter, bias: Bool = true, rng: inout RandomGenerator) {
        precondition(weight.shape.count == 2, "Linear(sharing:) needs a 2-D weight, got \(weight.shape)")
        outputSize = weight.shape[0]
        inputSize = weight.shape[1]
        self.weight = weight
        self.bias = bias ? Parameter("bias", shape: [outputSize]) : nil
        let k = 1 / Float(inputSize).squareRoot()
        if let b = self.bias { rng.fillUniform(b.value, -k, k) }
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    /// x: [..., in] -> [..., out].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 1 && x.shape.last == inputSize,
                     "Linear(\(inputSize) -> \(outputSize)): input shape \(x.shape) must end in \(inputSize)")
        let n = x.count / inputSize
        let y = workspace.tensor("y", Array(x.shape.dropLast()) + [outputSize])
        if let b = bias {
            VectorMath.broadcastRows(b.value.pointer, rows: n, cols: outputSize, ld: outputSize, into: y.pointer)
        }
        BLAS.gemm(transB: true, m: n, n: outputSize, k: inputSize, a: x.pointer, lda: inputSize,
                  b: weight.value.pointer, ldb: inputSize, beta: bias == nil ? 0 : 1,
                  c: y.pointer, ldc: outputSize)
        input = x
        return y
    }

    /// dy: [..., out] -> dx: [..., in]; accumulates dW += dy^T x and db += sum of dy rows.
    @discardableResult
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Linear.backward called before forward") }
        let n = x.count / inputSize
        precondition(dy.count == n * outputSize,
                     "Linear.backward: gradient shape \(dy.shape) does not match output [\(n), \(outputSize)] of input \(x.shape)")
        BLAS.gemm(transA: true, m: outputSize, n: inputSize, k: n, a: dy.pointer, lda: outputSize,
                  b: x.pointer, ldb: inputSize, beta: 1, c: weight.grad.pointer, ldc: inputSize)
        if let b = bias {
            VectorMath.addColumnSums(dy.pointer, rows: n, cols: outputSize, ld: outputSize, into: b.grad.pointer)
        }
        let dx = workspace.tensor("dx", x.shape)
        BLAS.gemm(m: n, n: inputSize, k: outputSize, a: dy.pointer, lda: outputSize,
                  b: weight.value.pointer, ldb: inputSize, c: dx.pointer, ldc: inputSize)
        return dx
    }
}

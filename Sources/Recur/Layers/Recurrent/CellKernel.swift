/// The per-step work of one cell type, run by `DirectionPass` over a sequence.
///
/// A new cell variant supplies only its step passes; the sequence loop, stacking,
/// directions, masking and weight gradients come from `DirectionPass` and `RecurrentLayer`.
/// forwardStep adds the recurrent product(s) to the step's gates and runs one fused kernel;
/// backwardStep runs the fused backward kernel and adds dG W_hh to the carried dh.
protocol CellKernel: Sendable {
    /// Gate blocks of H in W_ih / W_hh: 1 (RNN), 3 (GRU), 4 (LSTM).
    var gateCount: Int { get }
    /// LSTM: keeps a cell state c next to h.
    var hasCellState: Bool { get }
    /// GRU: keeps W_hh h + b_hh per step apart from the input projection.
    var hasRecurrentProjection: Bool { get }
    /// Whether b_hh can simply be added to the input projection's bias.
    var foldsRecurrentBias: Bool { get }
    func forwardStep(_ p: DirectionPass, t: Int)
    /// dy: [B, lddy] gradient of this step's output, or nil.
    func backwardStep(_ p: DirectionPass, t: Int, dy: UnsafePointer<Float>?, lddy: Int)
    /// dW_hh += (gradient of the recurrent pre-activations)^T x (states that fed them).
    func accumulateRecurrentWeightGradient(_ p: DirectionPass)
}

extension CellKernel {
    var hasCellState: Bool { false }
    var hasRecurrentProjection: Bool { false }
    var foldsRecurrentBias: Bool { true }

    func accumulateRecurrentWeightGradient(_ p: DirectionPass) {
        BLAS.gemm(transA: true, m: p.GH, n: p.hiddenSize, k: p.T * p.B, a: p.dGh, lda: p.GH,
                  b: p.previousStates, ldb: p.hiddenSize, beta: 1, c: p.weightHH.grad.pointer,
                  ldc: p.hiddenSize)
    }
}

extension DirectionPass {
    /// c[B, n] (+)= h[B, H] x W_hh[rows]^T, for the block of W_hh rows starting at `firstRow`.
    @inline(__always)
    func recurrentProduct(_ h: UnsafePointer<Float>, rows n: Int, firstRow: Int = 0,
                          into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        BLAS.gemm(transB: true, m: B, n: n, k: hiddenSize, a: h, lda: hiddenSize,
                  b: weightHH.value.pointer + firstRow * hiddenSize, ldb: hiddenSize,
                  beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }

    /// dh[B, H] += dg[B, n] (row stride ldg) x W_hh[rows].
    @inline(__always)
    func recurrentGradient(_ dg: UnsafePointer<Float>, ldg: Int, rows n: Int, firstRow: Int = 0,
                           into d: UnsafeMutablePointer<Float>, accumulate: Bool = true) {
        BLAS.gemm(m: B, n: hiddenSize, k: n, a: dg, lda: ldg,
                  b: weightHH.value.pointer + firstRow * hiddenSize, ldb: hiddenSize,
                  beta: accumulate ? 1 : 0, c: d, ldc: hiddenSize)
    }

    /// Fills each row of the step's recurrent projection block with b_hh[firstRow ..< firstRow+n]
    /// (zeros without a recurrent bias), ready for a product with beta = 1.
    @inline(__always)
    func fillRecurrentBias(_ c: UnsafeMutablePointer<Float>, ldc: Int, firstRow: Int, count n: Int) {
        if let b = biasHH {
            VectorMath.broadcastRows(b.value.pointer + firstRow, rows: B, cols: n, ld: ldc, into: c)
        } else {
            for r in 0..<B { (c + r * ldc).update(repeating: 0, count: n) }
        }
    }
}

/// One direction of one layer: its weights and the buffers that forward fills and backward
/// reads. Buffers grow to the largest T*B seen and are reused; nothing is allocated per step.
///
/// Legend: T steps, B batch, I input size, H hidden size, G gate blocks (1 RNN, 3 GRU, 4 LSTM).
/// - gates: [T, B, G*H]   pre-activations, then activated gates (kernel order)
/// - hs:    [T+1, B, H]   states; forward: hs[0] = h0, hs[t+1] after step t;
///                        reverse: hs[T] = h0, hs[t] after step t. So the states that feed
///                        steps 0..<T are one contiguous [T*B, H] block (`previousStates`).
/// - cs:    [T+1, B, H]   LSTM cell states, laid out as hs; actC: [T, B, H] act(c)
/// - hp:    [T, B, G*H]   GRU recurrent projections W_hh h + b_hh
/// - rh:    [T, B, H]     GRU reset-before: r * h_prev
/// - dGi, dGh: [T, B, G*H] gradients of the input / recurrent pre-activations (same buffer
///                        unless the cell is a GRU)
/// - hm:    [T, B, H]     with recurrent dropout: h_prev * mask, what the recurrent products
///                        saw at step t (`productInput`); dhm: [B, H] its gradient
final class DirectionPass: @unchecked Sendable {
    let inputSize: Int, hiddenSize: Int, gateCount: Int
    let reverse: Bool
    let cell: any CellKernel
    let weightIH: Parameter, weightHH: Parameter
    let biasIH: Parameter?, biasHH: Parameter?

    private(set) var T = 0, B = 0
    private var capacity = (steps: 0, rows: 0)
    private var store: [String: TensorStorage] = [:]
    var gates: UnsafeMutablePointer<Float>
    var hs: UnsafeMutablePointer<Float>
    var cs: UnsafeMutablePointer<Float>
    var actC: UnsafeMutablePointer<Float>
    var hp: UnsafeMutablePointer<Float>
    var rh: UnsafeMutablePointer<Float>
    var dGi: UnsafeMutablePointer<Float>
    var dGh: UnsafeMutablePointer<Float>
    var dh: UnsafeMutablePointer<Float>
    var dc: UnsafeMutablePointer<Float>
    var drh: UnsafeMutablePointer<Float>
    var foldedBias: UnsafeMutablePointer<Float>
    var hm: UnsafeMutablePointer<Float>
    var dhm: UnsafeMutablePointer<Float>
    /// Variational recurrent dropout: one [B, H] mask for the whole sequence, applied to the
    /// state that feeds the recurrent products (not to the carried state). nil: off.
    var recurrentMask: UnsafePointer<Float>?
    /// Per-row valid lengths for the current batch (nil: all T).
    var lengths: UnsafePointer<Int32>?
    /// Where this direction writes its outputs: [T, B, ldo] with this direction's H columns.
    var out: UnsafeMutablePointer<Float>
    var ldo = 0

    init(cell: any CellKernel, inputSize: Int, hiddenSize: Int, reverse: Bool,
         weightIH: Parameter, weightHH: Parameter, biasIH: Parameter?, biasHH: Parameter?) {
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.gateCount = cell.gateCount
        self.reverse = reverse
        self.weightIH = weightIH
        self.weightHH = weightHH
        self.biasIH = biasIH
        self.biasHH = biasHH
        // Cells that need no cell state or recurrent projection leave those buffers here.
        let placeholder = TensorStorage(count: 1)
        store["placeholder"] = placeholder
        let p = placeholder.base
        (gates, hs, cs, actC, hp, rh, dGi, dGh, dh, dc, drh, foldedBias, out, hm, dhm) = (p, p, p, p, p, p, p, p, p, p, p, p, p, p, p)
        reserve(steps: 1, batch: 1)
    }

    var GH: Int { gateCount * hiddenSize }

    /// Makes room for T steps of B rows. Contents are not preserved.
    func reserve(steps: Int, batch: Int) {
        T = steps
        B = batch
        if steps <= capacity.steps && batch <= capacity.rows { return }
        capacity = (max(steps, capacity.steps), max(batch, capacity.rows))
        let (cT, cB, H) = (capacity.steps, capacity.rows, hiddenSize)
        func buffer(_ key: String, _ count: Int) -> UnsafeMutablePointer<Float> {
            let s = TensorStorage(count: count)
            store[key] = s
            return s.base
        }
        gates = buffer("gates", cT * cB * GH)
        hs = buffer("hs", (cT + 1) * cB * H)
        dGi = buffer("dGi", cT * cB * GH)
        dh = buffer("dh", cB * H)
        hm = buffer("hm", cT * cB * H)
        dhm = buffer("dhm", cB * H)
        foldedBias = buffer("bias", GH)
        if cell.hasCellState {
            cs = buffer("cs", (cT + 1) * cB * H)
            actC = buffer("actC", cT * cB * H)
            dc = buffer("dc", cB * H)
        }
        if cell.hasRecurrentProjection {
            hp = buffer("hp", cT * cB * GH)
            rh = buffer("rh", cT * cB * H)
            drh = buffer("drh", cB * H)
            dGh = buffer("dGh", cT * cB * GH)
        } else {
            dGh = dGi
        }
    }

    // Pointers for step t (all [B, ...] blocks).
    @inline(__always) func gates(_ t: Int) -> UnsafeMutablePointer<Float> { gates + t * B * GH }
    @inline(__always) func h(_ i: Int) -> UnsafeMutablePointer<Float> { hs + i * B * hiddenSize }
    @inline(__always) func c(_ i: Int) -> UnsafeMutablePointer<Float> { cs + i * B * hiddenSize }
    @inline(__always) func actC(_ t: Int) -> UnsafeMutablePointer<Float> { actC + t * B * hiddenSize }
    @inline(__always) func hp(_ t: Int) -> UnsafeMutablePointer<Float> { hp + t * B * GH }
    @inline(__always) func rh(_ t: Int) -> UnsafeMutablePointer<Float> { rh + t * B * hiddenSize }
    @inline(__always) func dGi(_ t: Int) -> UnsafeMutablePointer<Float> { dGi + t * B * GH }
    @inline(__always) func dGh(_ t: Int) -> UnsafeMutablePointer<Float> { dGh + t * B * GH }
    @inline(__always) func out(_ t: Int) -> UnsafeMutablePointer<Float> { out + t * B * ldo }

    /// Index into hs/cs of the state that feeds step t, and of the one step t produces.
    @inline(__always) func previous(_ t: Int) -> Int { reverse ? t + 1 : t }
    @inline(__always) func next(_ t: Int) -> Int { reverse ? t : t + 1 }
    var initialIndex: Int { reverse ? T : 0 }
    var finalIndex: Int { reverse ? 0 : T }
    /// The states that fed the recurrent products of steps 0..<T, as one [T*B, H] block.
    var previousStates: UnsafeMutablePointer<Float> { recurrentMask != nil ? hm : (reverse ? h(1) : h(0)) }
    /// What step t's recurrent products multiply: h_prev, or h_prev * mask with recurrent dropout.
    @inline(__always) func productInput(_ t: Int) -> UnsafeMutablePointer<Float> {
        recurrentMask != nil ? hm + t * B * hiddenSize : h(previous(t))
    }
    /// Where backward accumulates the gradient of `productInput`: dh itself, or dhm (then
    /// masked into dh) with recurrent dropout.
    var dProduct: UnsafeMutablePointer<Float> { recurrentMask != nil ? dhm : dh }

    /// Runs the direction over x: [T*B, I] (time-major rows). h0, c0: [B, H] or nil for zeros.
    func forward(_ x: UnsafePointer<Float>, h0: UnsafePointer<Float>?, c0: UnsafePointer<Float>?) {
        let H = hiddenSize, rows = T * B
        // All input projections at once: gates = x W_ih^T + b_ih (+ b_hh where it folds in).
        var hasBias = false
        if let bih = biasIH {
            foldedBias.update(from: bih.value.pointer, count: GH)
            if let bhh = biasHH, cell.foldsRecurrentBias {
                VectorMath.axpy(1, bhh.value.pointer, foldedBias, count: GH)
            }
            VectorMath.broadcastRows(foldedBias, rows: rows, cols: GH, ld: GH, into: gates)
            hasBias = true
        }
        BLAS.gemm(transB: true, m: rows, n: GH, k: inputSize, a: x, lda: inputSize,
                  b: weightIH.value.pointer, ldb: inputSize, beta: hasBias ? 1 : 0, c: gates, ldc: GH)
        let first = initialIndex
        if let h0 { h(first).update(from: h0, count: B * H) } else { h(first).update(repeating: 0, count: B * H) }
        if cell.hasCellState {
            if let c0 { c(first).update(from: c0, count: B * H) } else { c(first).update(repeating: 0, count: B * H) }
        }
        for s in 0..<T {
            let t = reverse ? T - 1 - s : s
            if let m = recurrentMask {
                let src = h(previous(t)), dst = productInput(t)
                for r in 0..<B { for j in 0..<H { dst[r * H + j] = src[r * H + j] * m[r * H + j] } }
            }
            cell.forwardStep(self, t: t)
        }
    }

    /// Backward through time. dy: [T, B, lddy] gradient of this direction's outputs (or nil);
    /// dhN, dcN: [B, H] gradients of the final state (or nil). Accumulates parameter gradients,
    /// writes dx: [T*B, I] (added to what is there when `accumulate`), and leaves the
    /// gradients of the initial state in `dh` and `dc`.
    func backward(dy: UnsafePointer<Float>?, lddy: Int, dhN: UnsafePointer<Float>?, dcN: UnsafePointer<Float>?,
                  x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let H = hiddenSize, rows = T * B
        if let dhN { dh.update(from: dhN, count: B * H) } else { dh.update(repeating: 0, count: B * H) }
        if cell.hasCellState {
            if let dcN { dc.update(from: dcN, count: B * H) } else { dc.update(repeating: 0, count: B * H) }
        }
        for s in 0..<T {
            let t = reverse ? s : T - 1 - s
            if recurrentMask != nil { dhm.update(repeating: 0, count: B * H) }
            cell.backwardStep(self, t: t, dy: dy.map { $0 + t * B * lddy }, lddy: lddy)
            if let m = recurrentMask {
                for i in 0..<(B * H) { dh[i] += m[i] * dhm[i] }
            }
        }
        // Whole-sequence weight gradients: one GEMM each.
        BLAS.gemm(transA: true, m: GH, n: inputSize, k: rows, a: dGi, lda: GH, b: x, ldb: inputSize,
                  beta: 1, c: weightIH.grad.pointer, ldc: inputSize)
        cell.accumulateRecurrentWeightGradient(self)
        if let bih = biasIH {
            VectorMath.addColumnSums(dGi, rows: rows, cols: GH, ld: GH, into: bih.grad.pointer)
        }
        if let bhh = biasHH {
            VectorMath.addColumnSums(dGh, rows: rows, cols: GH, ld: GH, into: bhh.grad.pointer)
        }
        BLAS.gemm(m: rows, n: inputSize, k: GH, a: dGi, lda: GH, b: weightIH.value.pointer, ldb: inputSize,
                  beta: accumulate ? 1 : 0, c: dx, ldc: inputSize)
    }
}

import CRecurKernels
/// One direction of one layer over a sequence: its parameters, the buffers that forward fills
/// and backward reads, and the sequence loop that calls its cell at every step. Buffers grow
/// to the largest T*B seen and are reused; nothing is allocated per step.
///
/// The step engine: the batch is split into fixed row blocks (`RowBlocks`), and each block
/// runs every step of the sequence on its own, so up to `workers` threads share the blocks
/// with no synchronisation per step. The recurrent weights are laid out once per pass for the
/// packed step GEMM (`PackedWeights`), and each step multiplies a block of rows and applies the
/// cell's gate step to those rows while they are in cache. Whole-sequence products (weight
/// gradients, dx, and the input projection of large input weights) are single GEMMs over all
/// T*B rows.
///
/// What the engine does to read the [T, B, G] gate buffers fewer times (they rarely fit in
/// cache: 5 MB for a 128-unit LSTM over 19 steps of 128 rows, 51 MB for 500 steps of 64):
/// - a small input weight (I*G up to 32K floats) is laid out once and its projection computed
///   per block and step, just before the cell's recurrent product, so the gates are written
///   once, while in cache, instead of being filled, projected and reread;
/// - the folded biases' gradient (the column sums of the gate gradients) is summed per block
///   as backward writes each step, then over the blocks in order;
/// - dx is not computed when the layer's input needs no gradient.
///
/// In evaluation mode (`keepsSteps` false) forward stores nothing that only backward needs:
/// the states alternate between two [B, w_k] blocks and the per-step buffers share one.
///
/// What a cell sees (T steps, B batch rows, G input-projection width, w_k state widths):
/// - gates: [T, B, G]       x_t W_ih^T + folded biases: for every step with one GEMM before
///                          the loop, or for the block's rows just before the cell's step;
///                          the cell may overwrite step t's block
/// - gateGradient: [T, B, G] written by the cell's backward: dL/d gates; after the loop the
///                          engine turns it into dW_ih, the folded biases' gradients and dx
/// - states: [T+1, B, w_k]  per component; forward: index 0 is the initial state and t+1
///                          the state after step t; reverse: index T is the initial state
///                          and t the state after step t. So the states that feed steps
///                          0..<T form one contiguous [T*B, w_k] block (`previousStates`)
/// - stateGradient(k): [B, w_k] the gradient carried backward through time
/// - recurrentInput(t): [B, w_0] h_prev, or h_prev * mask under recurrent dropout (what the
///                          recurrent products must multiply); its gradient goes to
///                          `recurrentInputGradient`, [B, w_0]
/// - buffer(k, t): the cell's own buffers, in the order of `RecurrentCell.buffers`
/// - output(t): [B, ldo] where this direction writes its output columns
public final class DirectionPass: @unchecked Sendable {
    public let inputSize: Int
    /// G: the input projection's width.
    public let projectionWidth: Int
    public let reverse: Bool
    /// The cell's parameters, in the order of `RecurrentCell.parameters`.
    public let parameters: [Parameter]
    let cell: any RecurrentCell
    private let stateWidths: [Int], bufferSpecs: [CellBuffer]
    private let foldedBiases: [Parameter]

    public private(set) var T = 0, B = 0
    private var capacity = (steps: 0, rows: 0)
    private var storage: [TensorStorage] = []
    private var gateBase: UnsafeMutablePointer<Float>
    private var gateGradientBase: UnsafeMutablePointer<Float>
    private var stateBases: [UnsafeMutablePointer<Float>]
    private var stateGradientBases: [UnsafeMutablePointer<Float>]
    private var bufferBases: [UnsafeMutablePointer<Float>]
    private var foldedBias: UnsafeMutablePointer<Float>
    private var maskedInputs: UnsafeMutablePointer<Float>
    private var maskedInputGradient: UnsafeMutablePointer<Float>

    /// Variational recurrent dropout: one [B, w_0] mask for the whole sequence, applied to the
    /// state that feeds the recurrent products (not to the carried state). nil: off.
    var recurrentMask: UnsafePointer<Float>?
    /// Per-row valid lengths for the current batch (nil: all T).
    public internal(set) var lengths: UnsafePointer<Int32>?
    /// Where this direction writes its outputs: [T, B, ldo], its own w_0 columns.
    var out: UnsafeMutablePointer<Float>
    public internal(set) var ldo = 0
    /// Threads the row blocks of this pass may use (set by the layer from the thread budget).
    var workers = 1
    /// Whether backward computes dx (false for a first layer whose input is data).
    var computesInputGradient = true
    /// [blocks, G]: each row block's sum of the gate gradients over its rows and steps.
    private var biasPartials: UnsafeMutablePointer<Float>
    /// The engine as written for reading, which the tests hold the fast one to: the whole
    /// batch as one block on one thread, the recurrent products by plain SGEMM.
    var usesReferenceEngine = false
    /// Whether forward keeps every step's states and buffers for backward (training), or only
    /// the current ones (evaluation).
    var keepsSteps = true
    private var blocks: [Range<Int>] = []
    private let packed = PackedWeights()

    /// Called in backward before step t's cell backward, when the carried `stateGradient(k)`
    /// holds dL/d(state k after step t) through the later steps and `outputGradient(t)` the
    /// gradient of step t's output: what a study of gradient flow reads (`GradientFlow`).
    public var backwardObserver: ((DirectionPass, Int) -> Void)?
    /// The gradient of this direction's outputs during backward: [T, B, lddy], or nil.
    private var dy: UnsafePointer<Float>?
    public private(set) var lddy = 0

    init(cell: any RecurrentCell, inputSize: Int, reverse: Bool, parameters: [Parameter], folded: [Parameter]) {
        self.cell = cell
        self.inputSize = inputSize
        self.projectionWidth = cell.inputProjectionWidth
        self.reverse = reverse
        self.parameters = parameters
        self.foldedBiases = folded
        stateWidths = cell.state.map(\.width)
        bufferSpecs = cell.buffers
        let placeholder = TensorStorage(count: 1)
        storage = [placeholder]
        let p = placeholder.base
        (gateBase, gateGradientBase, foldedBias, maskedInputs, maskedInputGradient, out, biasPartials) = (p, p, p, p, p, p, p)
        stateBases = stateWidths.map { _ in p }
        stateGradientBases = stateBases
        bufferBases = bufferSpecs.map { _ in p }
        reserve(steps: 1, batch: 1)
    }

    /// Makes room for T steps of B rows. Contents are not preserved.
    func reserve(steps: Int, batch: Int) {
        T = steps
        if batch != B || blocks.isEmpty { blocks = RowBlocks.partition(batch: batch) }
        B = batch
        if steps <= capacity.steps && batch <= capacity.rows { return }
        capacity = (max(steps, capacity.steps), max(batch, capacity.rows))
        let (cT, cB, G, w0) = (capacity.steps, capacity.rows, projectionWidth, stateWidths[0])
        storage = []
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let s = TensorStorage(count: count)
            storage.append(s)
            return s.base
        }
        gateBase = buffer(cT * cB * G)
        gateGradientBase = buffer(cT * cB * G)
        stateBases = stateWidths.map { buffer((cT + 1) * cB * $0) }
        stateGradientBases = stateWidths.map { buffer(cB * $0) }
        bufferBases = bufferSpecs.map { buffer(($0.extent == .perStep ? cT : 1) * cB * $0.width) }
        foldedBias = buffer(G)
        biasPartials = buffer(RowBlocks.partition(batch: cB).count * G)
        maskedInputs = buffer(cT * cB * w0)
        maskedInputGradient = buffer(cB * w0)
    }

    // MARK: What a cell reads and writes (each a [B, width] block unless said otherwise)

    /// Step t's input projection [B, G] (the whole [T*B, G] block at t = 0).
    @inline(__always) public func gates(_ t: Int) -> UnsafeMutablePointer<Float> { gateBase + t * B * projectionWidth }
    /// Step t's gradient of `gates` [B, G].
    @inline(__always) public func gateGradient(_ t: Int) -> UnsafeMutablePointer<Float> { gateGradientBase + t * B * projectionWidth }
    /// State component k at index i (see `previous` and `next`).
    @inline(__always) public func state(_ k: Int, _ i: Int) -> UnsafeMutablePointer<Float> {
        stateBases[k] + (keepsSteps ? i : i & 1) * B * stateWidths[k]
    }
    /// h, the first state component, at index i.
    @inline(__always) public func h(_ i: Int) -> UnsafeMutablePointer<Float> { state(0, i) }
    /// The carried gradient of state component k, [B, w_k].
    @inline(__always) public func stateGradient(_ k: Int) -> UnsafeMutablePointer<Float> { stateGradientBases[k] }
    /// The cell's buffer k: step t's [B, width] block, or the [B, width] scratch of a per-row buffer.
    @inline(__always) public func buffer(_ k: Int, _ t: Int = 0) -> UnsafeMutablePointer<Float> {
        bufferBases[k] + (keepsSteps ? t : 0) * B * bufferSpecs[k].width
    }
    /// Step t's output rows, [B, ldo].
    @inline(__always) public func output(_ t: Int) -> UnsafeMutablePointer<Float> { out + t * B * ldo }
    /// The gradient of step t's output, [B, lddy], or nil when the loss does not read the outputs.
    @inline(__always) public func outputGradient(_ t: Int) -> UnsafePointer<Float>? { dy.map { $0 + t * B * lddy } }

    /// Index into the states of the one that feeds step t, and of the one step t produces.
    @inline(__always) public func previous(_ t: Int) -> Int { reverse ? t + 1 : t }
    @inline(__always) public func next(_ t: Int) -> Int { reverse ? t : t + 1 }
    var initialIndex: Int { reverse ? T : 0 }
    var finalIndex: Int { reverse ? 0 : T }
    /// The states (component k) that fed steps 0..<T, one [T*B, w_k] block.
    public func previousStates(_ k: Int) -> UnsafeMutablePointer<Float> { reverse ? state(k, 1) : state(k, 0) }
    /// The states (component k) that steps 0..<T produced, one [T*B, w_k] block.
    public func nextStates(_ k: Int) -> UnsafeMutablePointer<Float> { reverse ? state(k, 0) : state(k, 1) }
    /// What the recurrent products of all steps multiplied: `previousStates(0)`, or the masked
    /// copies under recurrent dropout. [T*B, w_0].
    public var recurrentInputs: UnsafeMutablePointer<Float> { recurrentMask != nil ? maskedInputs : previousStates(0) }
    /// What step t's recurrent products multiply: h_prev, or h_prev * mask under recurrent dropout.
    @inline(__always) public func recurrentInput(_ t: Int) -> UnsafeMutablePointer<Float> {
        recurrentMask != nil ? maskedInputs + t * B * stateWidths[0] : h(previous(t))
    }
    /// Where backward adds the gradient of `recurrentInput(t)`: the carried dh itself, or a
    /// buffer that the engine masks into dh after the step.
    public var recurrentInputGradient: UnsafeMutablePointer<Float> { recurrentMask != nil ? maskedInputGradient : stateGradientBases[0] }
    /// Whether row r is padding at step t (t >= its length).
    @inline(__always) public func isPadding(row r: Int, step t: Int) -> Bool { lengths.map { t >= Int($0[r]) } ?? false }
    /// For a padding row at step t: every state component passes through unchanged and the
    /// output is 0 (PyTorch's packed semantics).
    public func passThrough(row r: Int, step t: Int) {
        for (k, w) in stateWidths.enumerated() { (state(k, next(t)) + r * w).update(from: state(k, previous(t)) + r * w, count: w) }
        (output(t) + r * ldo).update(repeating: 0, count: stateWidths[0])
    }

    /// The lengths from row r on, for kernels that take a block of rows.
    @inline(__always) public func lengths(from r: Int) -> UnsafePointer<Int32>? { lengths.map { $0 + r } }

    // MARK: The sequence loop

    /// Whether the input projection runs per block and step (see the type's notes).
    var projectsPerStep: Bool {
        #if canImport(Accelerate)
        return false
        #else
        return !usesReferenceEngine && inputSize * projectionWidth <= 32_768
        #endif
    }

    /// Runs the direction over x: [T*B, I] (time-major rows). initial[k]: [B, w_k] or nil for zeros.
    func forward(_ x: UnsafePointer<Float>, initial: [UnsafePointer<Float>?]) {
        let rows = T * B, G = projectionWidth, I = inputSize
        for (i, b) in foldedBiases.enumerated() {
            if i == 0 { foldedBias.update(from: b.value.pointer, count: G) } else { VectorMath.axpy(1, b.value.pointer, foldedBias, count: G) }
        }
        packed.invalidate()
        let perStep = projectsPerStep
        if !perStep {
            // All input projections at once: gates = x W_ih^T + the folded biases.
            if !foldedBiases.isEmpty { VectorMath.broadcastRows(foldedBias, rows: rows, cols: G, ld: G, into: gateBase) }
            BLAS.gemm(transB: true, m: rows, n: G, k: I, a: x, lda: I,
                      b: parameters[0].value.pointer, ldb: I, beta: foldedBiases.isEmpty ? 0 : 1, c: gateBase, ldc: G)
        }
        for k in stateWidths.indices {
            let s = state(k, initialIndex), n = B * stateWidths[k]
            if let s0 = k < initial.count ? initial[k] : nil { s.update(from: s0, count: n) } else { s.update(repeating: 0, count: n) }
        }
        let w0 = stateWidths[0], folded = !foldedBiases.isEmpty
        let blocks = usesReferenceEngine ? [0..<B] : blocks
        BlockQueue.run(blocks.count, workers: workers) { b in
            let rows = blocks[b], r0 = rows.lowerBound
            for s in 0..<T {
                let t = reverse ? T - 1 - s : s
                if perStep {
                    let g = gates(t) + r0 * G
                    if folded { VectorMath.broadcastRows(foldedBias, rows: rows.count, cols: G, ld: G, into: g) }
                    multiply(x + (t * B + r0) * I, lda: I, rows: rows.count, by: parameters[0], count: G, into: g, ldc: G,
                             accumulate: folded)
                }
                if let m = recurrentMask {
                    let src = h(previous(t)), dst = recurrentInput(t)
                    for i in (rows.lowerBound * w0)..<(rows.upperBound * w0) { dst[i] = src[i] * m[i] }
                }
                cell.forward(self, step: t, rows: rows)
            }
        }
    }

    /// Backward through time. dy: [T, B, lddy] gradient of this direction's outputs (or nil);
    /// final[k]: [B, w_k] gradient of the final state (or nil). Accumulates parameter
    /// gradients, writes dx: [T*B, I] (added to what is there when `accumulate`; untouched when
    /// `computesInputGradient` is false), and leaves the gradients of the initial state in
    /// `stateGradient(k)`.
    func backward(dy: UnsafePointer<Float>?, lddy: Int, final: [UnsafePointer<Float>?],
                  x: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let rows = T * B, G = projectionWidth, w0 = stateWidths[0]
        self.dy = dy
        self.lddy = lddy
        defer { self.dy = nil }
        for k in stateWidths.indices {
            let g = stateGradient(k), n = B * stateWidths[k]
            if let d = k < final.count ? final[k] : nil { g.update(from: d, count: n) } else { g.update(repeating: 0, count: n) }
        }
        precondition(keepsSteps, "DirectionPass.backward after a forward that kept no steps (evaluation mode)")
        let dh = stateGradient(0)
        packed.invalidate()
        // An observer reads the whole batch's gradients at each step: one block then.
        let blocks = backwardObserver == nil && !usesReferenceEngine ? blocks : [0..<B]
        let sumsBiases = !foldedBiases.isEmpty
        BlockQueue.run(blocks.count, workers: workers) { b in
            let rows = blocks[b], span = (rows.lowerBound * w0)..<(rows.upperBound * w0)
            let partial = biasPartials + b * G
            if sumsBiases { partial.update(repeating: 0, count: G) }
            for s in 0..<T {
                let t = reverse ? s : T - 1 - s
                if recurrentMask != nil { (maskedInputGradient + span.lowerBound).update(repeating: 0, count: span.count) }
                backwardObserver?(self, t)
                cell.backward(self, step: t, rows: rows)
                if sumsBiases {
                    VectorMath.addColumnSums(gateGradient(t) + rows.lowerBound * G, rows: rows.count, cols: G, ld: G, into: partial)
                }
                if let m = recurrentMask {
                    for i in span { dh[i] += m[i] * maskedInputGradient[i] }
                }
            }
        }
        // Whole-sequence gradients of the input projection: one GEMM each.
        let wih = parameters[0]
        BLAS.gemm(transA: true, m: G, n: inputSize, k: rows, a: gateGradientBase, lda: G, b: x, ldb: inputSize,
                  beta: 1, c: wih.grad.pointer, ldc: inputSize)
        cell.accumulateWeightGradients(self)
        if sumsBiases {
            // The blocks' sums, in block order; every folded bias gets the same gradient.
            for b in 1..<blocks.count { VectorMath.axpy(1, biasPartials + b * G, biasPartials, count: G) }
            for bias in foldedBiases { VectorMath.axpy(1, biasPartials, bias.grad.pointer, count: G) }
        }
        if computesInputGradient {
            BLAS.gemm(m: rows, n: inputSize, k: G, a: gateGradientBase, lda: G, b: wih.value.pointer, ldb: inputSize,
                      beta: accumulate ? 1 : 0, c: dx, ldc: inputSize)
        }
    }
}

extension DirectionPass {
    /// c[rows, n] (+)= a[rows, k] x W[firstRow ..< firstRow+n, 0..<k]^T, for a weight W [*, k]
    /// in PyTorch's layout: the product of step inputs or states with a block of W's rows.
    ///
    /// On Linux this is the packed step GEMM, with W's block laid out once per pass; on macOS
    /// and in the reference engine, SGEMM.
    @inline(__always)
    public func multiply(_ a: UnsafePointer<Float>, lda: Int, rows m: Int, by w: Parameter, firstRow: Int = 0,
                         count n: Int, into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        product(a, lda, rows: m, w, firstRow: firstRow, count: n, transposed: true, into: c, ldc, accumulate: accumulate)
    }

    /// d[rows, k] (+)= g[rows, n] x W[firstRow ..< firstRow+n, 0..<k]: the gradient of what
    /// `multiply` multiplied.
    @inline(__always)
    public func multiplyGradient(_ g: UnsafePointer<Float>, ldg: Int, rows m: Int, by w: Parameter, firstRow: Int = 0,
                                 count n: Int, into d: UnsafeMutablePointer<Float>, ldd: Int, accumulate: Bool = true) {
        product(g, ldg, rows: m, w, firstRow: firstRow, count: n, transposed: false, into: d, ldd, accumulate: accumulate)
    }

    /// c[m, cols] (+)= a[m, inner] x B, B the block W[firstRow ..< firstRow+n, :] of W [*, k]:
    /// transposed ([k, n]) or not ([n, k]).
    @inline(__always)
    private func product(_ a: UnsafePointer<Float>, _ lda: Int, rows m: Int, _ w: Parameter, firstRow: Int, count n: Int,
                         transposed: Bool, into c: UnsafeMutablePointer<Float>, _ ldc: Int, accumulate: Bool) {
        let k = w.shape[1], (inner, cols) = transposed ? (k, n) : (n, k)
        precondition(firstRow >= 0 && firstRow + n <= w.shape[0] && lda >= inner && ldc >= cols,
                     "product with rows \(firstRow)..<\(firstRow + n) of \(w.name) \(w.shape): lda \(lda) < \(inner) or ldc \(ldc) < \(cols)")
        #if !canImport(Accelerate)
        if !usesReferenceEngine {
            let panels = packed.panels(of: w, firstRow: firstRow, count: n, transposed: transposed)
            return recur_packed_gemm(Int32(m), Int32(cols), Int32(inner), a, lda, panels, c, ldc, accumulate ? 1 : 0)
        }
        #endif
        BLAS.gemm(transB: transposed, m: m, n: cols, k: inner, a: a, lda: lda, b: w.value.pointer + firstRow * k, ldb: k,
                  beta: accumulate ? 1 : 0, c: c, ldc: ldc)
    }

    /// dW[firstRow ..< firstRow+n, :] += g[T*B, n]^T x a[T*B, k]: a weight gradient over the
    /// whole sequence in one GEMM.
    public func accumulateWeightGradient(_ w: Parameter, firstRow: Int = 0, count n: Int? = nil,
                                         gradient g: UnsafePointer<Float>, ldg: Int, inputs a: UnsafePointer<Float>, lda: Int) {
        let k = w.shape[1], n = n ?? w.shape[0]
        BLAS.gemm(transA: true, m: n, n: k, k: T * B, a: g, lda: ldg, b: a, ldb: lda, beta: 1,
                  c: w.grad.pointer + firstRow * k, ldc: k)
    }
}

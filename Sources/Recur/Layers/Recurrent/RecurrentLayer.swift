import Foundation

/// A stack of recurrent layers, optionally bidirectional, trained by backpropagation through
/// time. `RNN`, `LSTM` and `GRU` are this class with their cell chosen.
///
/// Shapes (T steps, B batch, I input, H hidden, D directions, L layers):
/// - input x: [T, B, I] time-major, or [B, T, I] when `batchFirst`
/// - output: [T, B, D*H] (or [B, T, D*H]); the reverse direction fills columns H..<2H
/// - state h, c: [L*D, B, H], index `layer * D + direction`
///
/// Parameters carry PyTorch's names and shapes: `weight_ih_l{k}` [G*H, I_k],
/// `weight_hh_l{k}` [G*H, H], `bias_ih_l{k}`, `bias_hh_l{k}` [G*H], with `_reverse` for the
/// second direction, where G is 1 (RNN), 3 (GRU: r, z, n) or 4 (LSTM: i, f, g, o).
///
/// `lengths` gives each sequence its valid length (1...T): padding steps output 0 and keep
/// the state, each final state is the sequence's own last valid state, and the reverse
/// direction starts at the last valid step (PyTorch packed-sequence semantics).
///
/// Returned tensors are buffers owned by the layer and valid until its next call. The input
/// must stay unchanged until `backward`.
public class RecurrentLayer: Layer {
    public let inputSize: Int
    public let hiddenSize: Int
    public let layers: Int
    public let bidirectional: Bool
    /// Dropout on each layer's output except the last, in training (PyTorch's `dropout`).
    public let dropout: Float
    public let batchFirst: Bool
    public let bias: RecurrentBias
    public let activation: Activation
    public let recurrentActivation: Activation
    /// Variational dropout on each layer's input (Keras `dropout`): one [B, I] mask per
    /// sequence, the same at every step. Training only.
    public var inputDropout: Float = 0 {
        didSet { precondition(inputDropout >= 0 && inputDropout < 1, "inputDropout must be in [0, 1), got \(inputDropout)") }
    }
    /// Variational dropout on the state that feeds the recurrent product (Keras
    /// `recurrent_dropout`, Gal & Ghahramani): one [B, H] mask per sequence and direction.
    public var recurrentDropout: Float = 0 {
        didSet { precondition(recurrentDropout >= 0 && recurrentDropout < 1, "recurrentDropout must be in [0, 1), got \(recurrentDropout)") }
    }
    public var training = true
    /// Draws the dropout masks.
    public var rng: RandomGenerator

    public var directions: Int { bidirectional ? 2 : 1 }
    let cell: any CellKernel
    let passes: [[DirectionPass]]
    private let workspace = Workspace()
    private var lengths: [Int32]? = nil
    private var layerInputs: [Tensor] = []
    private var dropoutMasks: [Tensor?] = []
    private var inputMasks: [Tensor?] = []
    private var steps = 0, batch = 0

    init(cell: any CellKernel, inputSize: Int, hiddenSize: Int, layers: Int, bidirectional: Bool,
         dropout: Float, bias: RecurrentBias, batchFirst: Bool, activation: Activation,
         recurrentActivation: Activation, initialization: RecurrentInitialization, seed: UInt64) {
        precondition(inputSize > 0 && hiddenSize > 0 && layers > 0,
                     "Recurrent layer sizes must be positive: inputSize \(inputSize), hiddenSize \(hiddenSize), layers \(layers)")
        precondition(dropout >= 0 && dropout < 1, "Recurrent dropout must be in [0, 1), got \(dropout)")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.batchFirst = batchFirst
        self.bias = bias
        self.activation = activation
        self.recurrentActivation = recurrentActivation
        var rng = RandomGenerator(seed: seed)
        let D = bidirectional ? 2 : 1, GH = cell.gateCount * hiddenSize
        var passes: [[DirectionPass]] = []
        for l in 0..<layers {
            let inSize = l == 0 ? inputSize : D * hiddenSize
            var row: [DirectionPass] = []
            for d in 0..<D {
                let suffix = "_l\(l)" + (d == 1 ? "_reverse" : "")
                let wih = Parameter("weight_ih" + suffix, shape: [GH, inSize])
                let whh = Parameter("weight_hh" + suffix, shape: [GH, hiddenSize])
                let bih = bias == .none ? nil : Parameter("bias_ih" + suffix, shape: [GH])
                let bhh = bias == .separate ? Parameter("bias_hh" + suffix, shape: [GH]) : nil
                Self.initialize(initialization, cell: cell, hiddenSize: hiddenSize,
                                wih: wih, whh: whh, bih: bih, bhh: bhh, rng: &rng)
                row.append(DirectionPass(cell: cell, inputSize: inSize, hiddenSize: hiddenSize, reverse: d == 1,
                                         weightIH: wih, weightHH: whh, biasIH: bih, biasHH: bhh))
            }
            passes.append(row)
        }
        self.passes = passes
        self.rng = RandomGenerator(seed: seed &+ 0x5EED)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        passes.flatMap { row in
            row.flatMap { p in
                [p.weightIH, p.weightHH, p.biasIH, p.biasHH].compactMap { $0 }.map { ($0.name, $0) }
            }
        }
    }

    /// Runs the stack over a batch.
    /// - Parameters:
    ///   - x: [T, B, I], or [B, T, I] when `batchFirst`.
    ///   - lengths: B valid lengths in 1...T, or nil when every sequence has all T steps.
    ///   - initialState: h (and c for LSTM) [L*D, B, H], or nil for zeros.
    public func callAsFunction(_ x: Tensor, lengths: [Int]? = nil, initialState: RecurrentState? = nil) -> RecurrentOutput {
        precondition(x.rank == 3 && x.shape[2] == inputSize,
                     "\(kindName): input shape \(x.shape) must be \(batchFirst ? "[B, T, \(inputSize)]" : "[T, B, \(inputSize)]")")
        let T = batchFirst ? x.shape[1] : x.shape[0], B = batchFirst ? x.shape[0] : x.shape[1]
        precondition(T > 0 && B > 0, "\(kindName): empty input shape \(x.shape)")
        let H = hiddenSize, D = directions, stateShape = [layers * D, B, H]
        if let lengths {
            precondition(lengths.count == B, "\(kindName): \(lengths.count) lengths for a batch of \(B)")
            precondition(lengths.allSatisfy { $0 >= 1 && $0 <= T },
                         "\(kindName): lengths must be in 1...\(T), got \(lengths)")
        }
        if let s = initialState {
            precondition(s.h.shape == stateShape, "\(kindName): initial h shape \(s.h.shape) must be \(stateShape)")
            if cell.hasCellState {
                precondition(s.c?.shape == stateShape, "\(kindName): initial c shape \(s.c?.shape ?? []) must be \(stateShape)")
            }
        }
        steps = T
        batch = B
        self.lengths = lengths.map { $0.map { Int32($0) } }
        var input = batchFirst ? Self.swapFirstAxes(x, into: workspace.tensor("xT", [T, B, inputSize])) : x
        let hN = workspace.tensor("hN", stateShape)
        let cN = cell.hasCellState ? workspace.tensor("cN", stateShape) : nil
        layerInputs = []
        dropoutMasks = []
        inputMasks = []
        var output = input
        withLengths { lengthPointer in
            for l in 0..<layers {
                if training && inputDropout > 0 {
                    let width = input.shape[2]
                    let mask = dropoutMask("inmask\(l)", [B, width], inputDropout)
                    let dropped = workspace.tensor("indropped\(l)", input.shape)
                    let m = mask.pointer, src = input.pointer, dst = dropped.pointer
                    for t in 0..<T {
                        for i in 0..<(B * width) { dst[t * B * width + i] = src[t * B * width + i] * m[i] }
                    }
                    inputMasks.append(mask)
                    input = dropped
                } else {
                    inputMasks.append(nil)
                }
                layerInputs.append(input)
                output = workspace.tensor("out\(l)", [T, B, D * H])
                for d in 0..<D {
                    let p = passes[l][d]
                    p.reserve(steps: T, batch: B)
                    p.lengths = lengthPointer
                    p.recurrentMask = training && recurrentDropout > 0
                        ? UnsafePointer(dropoutMask("recmask\(l).\(d)", [B, H], recurrentDropout).pointer) : nil
                    p.out = output.pointer + d * H
                    p.ldo = D * H
                }
                let x = UncheckedSendable(input), state = UncheckedSendable(initialState)
                eachDirection(of: l) { p, k in
                    p.forward(x.value.pointer, h0: state.value.map { $0.h[k].pointer }, c0: state.value?.c.map { $0[k].pointer })
                }
                for d in 0..<D {
                    let p = passes[l][d], k = l * D + d
                    hN[k].pointer.update(from: p.h(p.finalIndex), count: B * H)
                    if let cN { cN[k].pointer.update(from: p.c(p.finalIndex), count: B * H) }
                }
                if l < layers - 1 && training && dropout > 0 {
                    let mask = dropoutMask("mask\(l)", output.shape, dropout)
                    let dropped = workspace.tensor("dropped\(l)", output.shape)
                    let m = mask.pointer, o = output.pointer, y = dropped.pointer
                    for i in 0..<output.count { y[i] = o[i] * m[i] }
                    dropoutMasks.append(mask)
                    input = dropped
                } else {
                    dropoutMasks.append(nil)
                    input = output
                }
            }
        }
        let y = batchFirst ? Self.swapFirstAxes(output, into: workspace.tensor("yB", [B, T, D * H])) : output
        return RecurrentOutput(output: y, state: RecurrentState(h: hN, c: cN))
    }

    /// Backpropagation through time for the last forward call.
    /// - Parameters:
    ///   - outputGradient: dL/d output, shaped as the output, or nil when only states are used.
    ///   - stateGradient: dL/d final h (and c), [L*D, B, H], or nil.
    /// - Returns: dL/dx shaped as x, and dL/d initial state. Parameter gradients are accumulated.
    @discardableResult
    public func backward(outputGradient: Tensor?, stateGradient: RecurrentState? = nil) -> (input: Tensor, initialState: RecurrentState) {
        let T = steps, B = batch, H = hiddenSize, D = directions
        precondition(T > 0, "\(kindName).backward called before forward")
        let outShape = batchFirst ? [B, T, D * H] : [T, B, D * H], stateShape = [layers * D, B, H]
        if let g = outputGradient {
            precondition(g.shape == outShape, "\(kindName).backward: output gradient shape \(g.shape) must be \(outShape)")
        }
        if let s = stateGradient {
            precondition(s.h.shape == stateShape, "\(kindName).backward: h gradient shape \(s.h.shape) must be \(stateShape)")
            if let c = s.c { precondition(c.shape == stateShape, "\(kindName).backward: c gradient shape \(c.shape) must be \(stateShape)") }
        }
        var dOut: Tensor? = outputGradient.map {
            batchFirst ? Self.swapFirstAxes($0, into: workspace.tensor("dyT", [T, B, D * H])) : $0
        }
        let dh0 = workspace.tensor("dh0", stateShape)
        let dc0 = cell.hasCellState ? workspace.tensor("dc0", stateShape) : nil
        var dInput = Tensor(zeros: [0])
        withLengths { lengthPointer in
            for l in stride(from: layers - 1, through: 0, by: -1) {
                let x = layerInputs[l]
                dInput = workspace.tensor("din\(l)", x.shape)
                // Each direction writes its own input gradient; the reverse one's is added after.
                let dx = [dInput, D == 2 ? workspace.tensor("dinReverse\(l)", x.shape) : dInput]
                for d in 0..<D { passes[l][d].lengths = lengthPointer }
                let args = UncheckedSendable((dOut, stateGradient, x, dx))
                eachDirection(of: l) { p, k in
                    let (dOut, stateGradient, x, dx) = args.value
                    let d = p.reverse ? 1 : 0
                    p.backward(dy: dOut.map { UnsafePointer($0.pointer + d * H) }, lddy: D * H,
                               dhN: stateGradient.map { UnsafePointer($0.h[k].pointer) },
                               dcN: stateGradient?.c.map { UnsafePointer($0[k].pointer) },
                               x: x.pointer, dx: dx[d].pointer, accumulate: false)
                }
                if D == 2 { VectorMath.axpy(1, dx[1].pointer, dInput.pointer, count: dInput.count) }
                for d in 0..<D {
                    let p = passes[l][d], k = l * D + d
                    dh0[k].pointer.update(from: p.dh, count: B * H)
                    if let dc0 { dc0[k].pointer.update(from: p.dc, count: B * H) }
                }
                if let mask = inputMasks[l] {
                    let width = x.shape[2], m = mask.pointer, g = dInput.pointer
                    for t in 0..<T {
                        for i in 0..<(B * width) { g[t * B * width + i] *= m[i] }
                    }
                }
                if l > 0 {
                    if let mask = dropoutMasks[l - 1] {
                        let m = mask.pointer, g = dInput.pointer
                        for i in 0..<dInput.count { g[i] *= m[i] }
                    }
                    dOut = dInput
                }
            }
        }
        let dx = batchFirst ? Self.swapFirstAxes(dInput, into: workspace.tensor("dxB", [B, T, inputSize])) : dInput
        return (dx, RecurrentState(h: dh0, c: dc0))
    }

    /// Whether the two directions of a bidirectional layer run on two threads. nil (default):
    /// when the thread budget (`BLAS.threads`, i.e. --threads) is at least 2, each direction
    /// then getting half the BLAS threads; with a budget of 1 everything stays on one core.
    /// The results do not depend on it.
    public var parallelDirections: Bool? = nil

    /// Runs `body(pass, stateIndex)` for each direction of layer l, concurrently when allowed.
    private func eachDirection(of l: Int, _ body: (DirectionPass, Int) -> Void) {
        let D = directions, budget = BLAS.threads
        if D == 2 && (parallelDirections ?? (budget >= 2)) {
            // Small per-step GEMMs gain more from one direction per core than from a
            // multithreaded BLAS inside each step.
            if budget >= 2 { BLAS.threads = budget / 2 }
            defer { if budget >= 2 { BLAS.threads = budget } }
            withoutActuallyEscaping(body) { body in
                let work = UncheckedSendable((passes[l], body))
                DispatchQueue.concurrentPerform(iterations: 2) { d in work.value.1(work.value.0[d], l * 2 + d) }
            }
        } else {
            for d in 0..<D { body(passes[l][d], l * D + d) }
        }
    }

    /// Inverted-dropout mask: 1/(1-p) with probability 1-p, else 0.
    private func dropoutMask(_ key: String, _ shape: [Int], _ p: Float) -> Tensor {
        let mask = workspace.tensor(key, shape)
        Dropout.fillMask(mask, probability: p, rng: &rng)
        return mask
    }

    private func withLengths(_ body: (UnsafePointer<Int32>?) -> Void) {
        if let lengths { lengths.withUnsafeBufferPointer { body($0.baseAddress) } } else { body(nil) }
    }

    var kindName: String { String(describing: type(of: self)) }

    /// [A, B, C] -> [B, A, C] into `out`.
    static func swapFirstAxes(_ x: Tensor, into out: Tensor) -> Tensor {
        let (a, b, c) = (x.shape[0], x.shape[1], x.shape[2])
        let src = x.pointer, dst = out.pointer
        for i in 0..<a {
            for j in 0..<b { (dst + (j * a + i) * c).update(from: src + (i * b + j) * c, count: c) }
        }
        return out
    }
}

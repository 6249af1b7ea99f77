import Foundation

/// A stack of recurrent layers of one cell, optionally bidirectional, trained by
/// backpropagation through time. `RNN`, `LSTM` and `GRU` are this class with their cell
/// chosen; any `RecurrentCell` runs here.
///
/// Shapes (T steps, B batch, I input, H the cell's output width h: hidden size, or the
/// projection size P of a projected LSTM; D directions, L layers):
/// - input x: [T, B, I] time-major, or [B, T, I] when `batchFirst`
/// - output: [T, B, D*H] (or [B, T, D*H]); the reverse direction fills columns H..<2H
/// - state: one tensor per state component (h; h and c), [L*D, B, width], index
///   `layer * D + direction`
///
/// Parameters carry the cell's names with `_l{k}` and, for the second direction,
/// `_reverse`: PyTorch's `weight_ih_l{k}` [G, I_k], `weight_hh_l{k}`, `bias_ih_l{k}`, ...
///
/// `lengths` gives each sequence its valid length (1...T): padding steps output 0 and keep
/// the state, each final state is the sequence's own last valid state, and the reverse
/// direction starts at the last valid step (PyTorch packed-sequence semantics).
///
/// Returned tensors are buffers owned by the layer and valid until its next call. The input
/// must stay unchanged until `backward`.
public final class RecurrentLayer<Cell: RecurrentCell>: RecurrentStack {
    public let cell: Cell
    public let inputSize: Int
    public let layers: Int
    public let bidirectional: Bool
    /// Dropout on each layer's output except the last, in training (PyTorch's `dropout`).
    public let dropout: Float
    public let batchFirst: Bool
    public let bias: RecurrentBias
    public let initialization: RecurrentInitialization
    /// How the top layer's two directions combine into the output (bidirectional only).
    public let merge: BidirectionalMerge
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
    /// Whether `backward` computes dL/dx (false when the input is data that needs no gradient,
    /// as in a classifier of features: the first layer then skips its dx product, and the
    /// returned input gradient is an empty tensor).
    public var computesInputGradient = true
    /// Draws the dropout masks.
    public var rng: RandomGenerator

    public var hiddenSize: Int { cell.hiddenSize }
    public var outputSize: Int { cell.outputSize }
    public var stateComponents: [StateComponent] { cell.state }
    public var directions: Int { bidirectional ? 2 : 1 }
    let passes: [[DirectionPass]]
    private let workspace = Workspace()
    private var lengths: [Int32]? = nil
    private var layerInputs: [Tensor] = []
    private var dropoutMasks: [Tensor?] = []
    private var inputMasks: [Tensor?] = []
    private var steps = 0, batch = 0
    /// The last forward's arguments, for a backward after a forward in evaluation mode (which
    /// kept no steps): it runs that forward again, keeping them.
    private var lastCall: (x: Tensor, lengths: [Int]?, initialState: RecurrentState?)?
    private var keptSteps = false, keepingForBackward = false

    /// - Parameters:
    ///   - initialization: how every tensor starts (see `RecurrentInitialization`);
    ///     `identityScale` is the diagonal of `.identity`.
    ///   - seed: seeds the initial weights and the dropout masks.
    public init(cell: Cell, inputSize: Int, layers: Int = 1, bidirectional: Bool = false,
                dropout: Float = 0, bias: RecurrentBias = .separate, batchFirst: Bool = false,
                initialization: RecurrentInitialization = .pytorch, identityScale: Float = 1,
                merge: BidirectionalMerge = .concat, seed: UInt64 = 0) {
        precondition(inputSize > 0 && cell.hiddenSize > 0 && layers > 0,
                     "Recurrent layer sizes must be positive: inputSize \(inputSize), hiddenSize \(cell.hiddenSize), layers \(layers)")
        precondition(dropout >= 0 && dropout < 1, "Recurrent dropout must be in [0, 1), got \(dropout)")
        self.cell = cell
        self.inputSize = inputSize
        self.layers = layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.batchFirst = batchFirst
        self.bias = bias
        self.initialization = initialization
        self.merge = bidirectional ? merge : .concat
        var rng = RandomGenerator(seed: seed)
        let D = bidirectional ? 2 : 1
        var passes: [[DirectionPass]] = []
        for (l, (inSize, specs)) in cell.stackLayout(inputSize: inputSize, layers: layers, bidirectional: bidirectional, bias: bias).enumerated() {
            precondition(specs.first?.role == .inputWeight && specs[0].shape == [cell.inputProjectionWidth, inSize],
                         "\(Cell.self): the first parameter must be the input weight [\(cell.inputProjectionWidth), \(inSize)], got \(specs.first.map { "\($0.name) \($0.shape)" } ?? "none")")
            var row: [DirectionPass] = []
            for d in 0..<D {
                let suffix = Cell.nameSuffix(layer: l, reverse: d == 1)
                let params = specs.map { Parameter($0.name + suffix, shape: $0.shape) }
                initialization.initialize(Array(zip(specs, params)), hiddenSize: cell.hiddenSize,
                                          identityScale: identityScale, rng: &rng)
                let folded = zip(specs, params).filter { $0.0.foldsIntoInputProjection }.map(\.1)
                row.append(DirectionPass(cell: cell, inputSize: inSize, reverse: d == 1, parameters: params, folded: folded))
            }
            passes.append(row)
        }
        self.passes = passes
        self.rng = RandomGenerator(seed: seed &+ 0x5EED)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        passes.flatMap { row in row.flatMap { p in p.parameters.map { ($0.name, $0) } } }
    }

    /// Runs the stack over a batch.
    /// - Parameters:
    ///   - x: [T, B, I], or [B, T, I] when `batchFirst`.
    ///   - lengths: B valid lengths in 1...T, or nil when every sequence has all T steps.
    ///   - initialState: every state component [L*D, B, width], or nil for zeros.
    public func callAsFunction(_ x: Tensor, lengths: [Int]? = nil, initialState: RecurrentState? = nil) -> RecurrentOutput {
        precondition(x.rank == 3 && x.shape[2] == inputSize,
                     "\(kindName): input shape \(x.shape) must be \(batchFirst ? "[B, T, \(inputSize)]" : "[T, B, \(inputSize)]")")
        let T = batchFirst ? x.shape[1] : x.shape[0], B = batchFirst ? x.shape[0] : x.shape[1]
        precondition(T > 0 && B > 0, "\(kindName): empty input shape \(x.shape)")
        let H = outputSize, D = directions, components = cell.state
        let shapes = components.map { [layers * D, B, $0.width] }
        if let lengths {
            precondition(lengths.count == B, "\(kindName): \(lengths.count) lengths for a batch of \(B)")
            precondition(lengths.allSatisfy { $0 >= 1 && $0 <= T },
                         "\(kindName): lengths must be in 1...\(T), got \(lengths)")
        }
        if let s = initialState {
            for (k, c) in components.enumerated() {
                let shape = k < s.components.count ? s.components[k].shape : []
                precondition(shape == shapes[k], "\(kindName): initial \(c.name) shape \(shape) must be \(shapes[k])")
            }
        }
        steps = T
        batch = B
        self.lengths = lengths.map { $0.map { Int32($0) } }
        keptSteps = training || keepingForBackward
        if !keptSteps {
            // A backward after this forward runs it again: keep its inputs, copied, because
            // callers reuse them (a language model writes its final state into its initial one).
            let xCopy = workspace.tensor("evaluatedInput", x.shape)
            xCopy.assign(x)
            let stateCopy = initialState.map { s in
                RecurrentState(s.components.enumerated().map { k, c in
                    let t = workspace.tensor("evaluatedState\(k)", c.shape)
                    t.assign(c)
                    return t
                })
            }
            lastCall = (xCopy, lengths, stateCopy)
        } else if !keepingForBackward {
            lastCall = nil
        }
        var input = batchFirst ? Self.swapFirstAxes(x, into: workspace.tensor("xT", [T, B, inputSize])) : x
        let finals = components.indices.map { workspace.tensor("final\($0)", shapes[$0]) }
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
                    p.keepsSteps = keptSteps
                    p.lengths = lengthPointer
                    p.recurrentMask = training && recurrentDropout > 0
                        ? UnsafePointer(dropoutMask("recmask\(l).\(d)", [B, H], recurrentDropout).pointer) : nil
                    p.out = output.pointer + d * H
                    p.ldo = D * H
                }
                let x = UncheckedSendable(input), state = UncheckedSendable(initialState)
                eachDirection(of: l) { p, k in
                    p.forward(x.value.pointer, initial: state.value.map { $0.components.map { UnsafePointer($0[k].pointer) } } ?? [])
                }
                for d in 0..<D {
                    let p = passes[l][d], k = l * D + d
                    for (j, c) in components.enumerated() {
                        finals[j][k].pointer.update(from: p.state(j, p.finalIndex), count: B * c.width)
                    }
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
        if merge != .concat {
            let merged = workspace.tensor("merged", [T, B, H])
            merge.merge(output.pointer, rows: T * B, width: H, into: merged.pointer)
            output = merged
        }
        let W = outputWidth
        let y = batchFirst ? Self.swapFirstAxes(output, into: workspace.tensor("yB", [B, T, W])) : output
        return RecurrentOutput(output: y, state: RecurrentState(finals))
    }

    /// Backpropagation through time for the last forward call.
    /// - Parameters:
    ///   - outputGradient: dL/d output, shaped as the output, or nil when only states are used.
    ///   - stateGradient: dL/d final state, [L*D, B, width] per component (missing ones: 0), or nil.
    /// - Returns: dL/dx shaped as x (empty when `computesInputGradient` is false), and dL/d
    ///   initial state. Parameter gradients are accumulated.
    @discardableResult
    public func backward(outputGradient: Tensor?, stateGradient: RecurrentState? = nil) -> (input: Tensor, initialState: RecurrentState) {
        precondition(steps > 0, "\(kindName).backward called before forward")
        if !keptSteps, let call = lastCall {
            // The forward ran in evaluation mode and kept only the current step: run it again,
            // keeping every step (same inputs, no dropout, same numbers).
            let wasTraining = training
            keepingForBackward = true
            training = false
            defer { keepingForBackward = false; training = wasTraining }
            _ = self(call.x, lengths: call.lengths, initialState: call.initialState)
        }
        let T = steps, B = batch, H = outputSize, D = directions, components = cell.state
        let W = outputWidth, outShape = batchFirst ? [B, T, W] : [T, B, W], shapes = components.map { [layers * D, B, $0.width] }
        if let g = outputGradient {
            precondition(g.shape == outShape, "\(kindName).backward: output gradient shape \(g.shape) must be \(outShape)")
        }
        if let s = stateGradient {
            precondition(s.components.count <= components.count, "\(kindName).backward: \(s.components.count) state gradients for \(components.count) state components")
            for (k, g) in s.components.enumerated() {
                precondition(g.shape == shapes[k], "\(kindName).backward: \(components[k].name) gradient shape \(g.shape) must be \(shapes[k])")
            }
        }
        var dOut: Tensor? = outputGradient.map {
            batchFirst ? Self.swapFirstAxes($0, into: workspace.tensor("dyT", [T, B, W])) : $0
        }
        if merge != .concat, let g = dOut {
            let unmerged = workspace.tensor("dUnmerged", [T, B, D * H])
            merge.unmerge(g.pointer, workspace.tensor("out\(layers - 1)", [T, B, D * H]).pointer, rows: T * B, width: H,
                          into: unmerged.pointer)
            dOut = unmerged
        }
        let initialGradients = components.indices.map { workspace.tensor("dstate\($0)", shapes[$0]) }
        var dInput = Tensor(zeros: [0])
        withLengths { lengthPointer in
            for l in stride(from: layers - 1, through: 0, by: -1) {
                let x = layerInputs[l]
                dInput = workspace.tensor("din\(l)", x.shape)
                // Each direction writes its own input gradient; the reverse one's is added after.
                let dx = [dInput, D == 2 ? workspace.tensor("dinReverse\(l)", x.shape) : dInput]
                let wantsDx = l > 0 || computesInputGradient
                for d in 0..<D {
                    passes[l][d].lengths = lengthPointer
                    passes[l][d].computesInputGradient = wantsDx
                }
                let args = UncheckedSendable((dOut, stateGradient, x, dx))
                eachDirection(of: l) { p, k in
                    let (dOut, stateGradient, x, dx) = args.value
                    let d = p.reverse ? 1 : 0
                    p.backward(dy: dOut.map { UnsafePointer($0.pointer + d * H) }, lddy: D * H,
                               final: stateGradient.map { $0.components.map { UnsafePointer($0[k].pointer) } } ?? [],
                               x: x.pointer, dx: dx[d].pointer, accumulate: false)
                }
                if D == 2 && wantsDx { VectorMath.axpy(1, dx[1].pointer, dInput.pointer, count: dInput.count) }
                for d in 0..<D {
                    let p = passes[l][d], k = l * D + d
                    for (j, c) in components.enumerated() {
                        initialGradients[j][k].pointer.update(from: p.stateGradient(j), count: B * c.width)
                    }
                }
                if wantsDx, let mask = inputMasks[l] {
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
        if !computesInputGradient { return (Tensor(zeros: [0]), RecurrentState(initialGradients)) }
        let dx = batchFirst ? Self.swapFirstAxes(dInput, into: workspace.tensor("dxB", [B, T, inputSize])) : dInput
        return (dx, RecurrentState(initialGradients))
    }

    /// Whether the two directions of a bidirectional layer run on two threads. nil (default):
    /// when the thread budget (`BLAS.threads`, i.e. --threads) is at least 2, each direction
    /// then getting half the BLAS threads; with a budget of 1 everything stays on one core.
    /// The results do not depend on it.
    public var parallelDirections: Bool? = nil

    /// Runs the reference engine instead of the fast one: each direction steps the whole batch
    /// on one thread, with the recurrent products by plain SGEMM (and, with cells whose
    /// `fastPath` is false, their plain Swift steps). For tests and reading; the numbers agree
    /// with the fast engine to float rounding.
    public var referenceEngine = false {
        didSet { for row in passes { for p in row { p.usesReferenceEngine = referenceEngine } } }
    }

    /// Runs `body(pass, stateIndex)` for each direction of layer l, concurrently when allowed.
    /// Each pass's row blocks share the threads left to it.
    private func eachDirection(of l: Int, _ body: (DirectionPass, Int) -> Void) {
        let D = directions, budget = BLAS.threads
        if D == 2 && !referenceEngine && (parallelDirections ?? (budget >= 2)) {
            // One direction per core: no synchronisation at all between the two.
            for p in passes[l] { p.workers = max(1, budget / 2) }
            if budget >= 2 { BLAS.threads = budget / 2 }
            defer { if budget >= 2 { BLAS.threads = budget } }
            withoutActuallyEscaping(body) { body in
                let work = UncheckedSendable((passes[l], body))
                DispatchQueue.concurrentPerform(iterations: 2) { d in work.value.1(work.value.0[d], l * 2 + d) }
            }
        } else {
            for d in 0..<D {
                passes[l][d].workers = budget
                body(passes[l][d], l * D + d)
            }
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

    /// The cell's name without "Cell", for messages: "LSTM", "PeepholeLSTM".
    var kindName: String { String(String(describing: Cell.self).replacing("Cell", with: "")) }

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

extension RecurrentCell {
    /// Each layer's input size and the cell's tensors there: layer 0 reads `inputSize`
    /// features, layer k > 0 the D directions' outputs of layer k-1 (D is 2 when
    /// bidirectional; only the size of later layers depends on it).
    public func stackLayout(inputSize: Int, layers: Int, bidirectional: Bool, bias: RecurrentBias) -> [(inputSize: Int, parameters: [CellParameter])] {
        let D = bidirectional ? 2 : 1
        return (0..<layers).map { l in
            let size = l == 0 ? inputSize : D * outputSize
            return (size, parameters(inputSize: size, bias: bias))
        }
    }

    /// PyTorch's suffix of a tensor name: `_l{k}`, and `_reverse` for the second direction.
    public static func nameSuffix(layer: Int, reverse: Bool) -> String { "_l\(layer)" + (reverse ? "_reverse" : "") }

    /// Every tensor of a stack by name and shape, as `RecurrentLayer` names them, without
    /// allocating any.
    public func stackParameterShapes(inputSize: Int, layers: Int, bidirectional: Bool, bias: RecurrentBias) -> [(name: String, shape: [Int])] {
        stackLayout(inputSize: inputSize, layers: layers, bidirectional: bidirectional, bias: bias).enumerated().flatMap { l, layer in
            (bidirectional ? [false, true] : [false]).flatMap { reverse in
                layer.parameters.map { ($0.name + Self.nameSuffix(layer: l, reverse: reverse), $0.shape) }
            }
        }
    }
}

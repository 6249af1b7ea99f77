/// What models need of a recurrent stack whatever its cell: `RecurrentLayer<Cell>` for any
/// cell conforms. Shapes as in `RecurrentLayer`.
public protocol RecurrentStack: Layer {
    var inputSize: Int { get }
    /// H: the cell's hidden size.
    var hiddenSize: Int { get }
    /// Width of each direction's output and of h (H, or P for a projected LSTM).
    var outputSize: Int { get }
    var layers: Int { get }
    var bidirectional: Bool { get }
    var directions: Int { get }
    var dropout: Float { get }
    var batchFirst: Bool { get }
    var bias: RecurrentBias { get }
    var initialization: RecurrentInitialization { get }
    /// How the top layer's directions combine (`concat` unless bidirectional with another mode).
    var merge: BidirectionalMerge { get }
    /// The cell's carried state (h first).
    var stateComponents: [StateComponent] { get }
    /// Nonlinearities the cell applies.
    var activations: [Activation] { get }
    /// What each parameter is, in the order of `namedParameters`.
    var parameterRoles: [CellParameter.Role] { get }
    var inputDropout: Float { get set }
    var recurrentDropout: Float { get set }
    var training: Bool { get set }
    /// Whether backward computes the input gradient (see `RecurrentLayer.computesInputGradient`).
    var computesInputGradient: Bool { get set }
    var rng: RandomGenerator { get set }
    var parallelDirections: Bool? { get set }

    /// Sets (or with nil removes) the backward observer of one layer and direction (see
    /// `DirectionPass.backwardObserver`).
    func observeBackward(layer: Int, direction: Int, _ observer: ((DirectionPass, Int) -> Void)?)
    /// The cell, for code that reads a cell's own buffers (e.g. the LSTM's gates).
    var recurrentCell: any RecurrentCell { get }

    func callAsFunction(_ x: Tensor, lengths: [Int]?, initialState: RecurrentState?) -> RecurrentOutput
    @discardableResult
    func backward(outputGradient: Tensor?, stateGradient: RecurrentState?) -> (input: Tensor, initialState: RecurrentState)
}

extension RecurrentStack {
    public func callAsFunction(_ x: Tensor, lengths: [Int]? = nil) -> RecurrentOutput {
        callAsFunction(x, lengths: lengths, initialState: nil)
    }

    public func callAsFunction(_ x: Tensor, initialState: RecurrentState?) -> RecurrentOutput {
        callAsFunction(x, lengths: nil, initialState: initialState)
    }

    @discardableResult
    public func backward(outputGradient: Tensor?) -> (input: Tensor, initialState: RecurrentState) {
        backward(outputGradient: outputGradient, stateGradient: nil)
    }

    /// Width of the output per step: D*H with `concat`, H with the other merges.
    public var outputWidth: Int { merge == .concat ? directions * outputSize : outputSize }

    /// A zero state for a batch of B: every component [L*D, B, width].
    public func zeroState(batch: Int) -> RecurrentState {
        RecurrentState(stateComponents.map { Tensor(zeros: [layers * directions, batch, $0.width]) })
    }
}

extension RecurrentLayer {
    public var activations: [Activation] { cell.activations }
    public var recurrentCell: any RecurrentCell { cell }

    public func observeBackward(layer: Int, direction: Int, _ observer: ((DirectionPass, Int) -> Void)?) {
        precondition(layer >= 0 && layer < layers && direction >= 0 && direction < directions,
                     "observeBackward: layer \(layer) direction \(direction) of a stack of \(layers) layers and \(directions) directions")
        passes[layer][direction].backwardObserver = observer
    }

    public var parameterRoles: [CellParameter.Role] {
        (0..<layers).flatMap { l in
            Array(repeating: cell.parameters(inputSize: l == 0 ? inputSize : directions * outputSize, bias: bias).map(\.role),
                  count: directions).joined()
        }
    }
}

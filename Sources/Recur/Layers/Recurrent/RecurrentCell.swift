/// One recurrent cell: the step that a `RecurrentLayer` runs at every time step, in every
/// layer and direction. A new cell is one type conforming to this protocol; the layer brings
/// the sequence loop, the whole-sequence input projection and its gradients, stacking,
/// directions, per-sequence lengths, dropout, initial states, parameter names and model files.
///
/// What a cell declares, and what the engine gives it (see `DirectionPass` for the pointers):
/// - `parameters(inputSize:bias:)`: its tensors for one layer and direction, with PyTorch's
///   base names (`weight_ih`, `weight_hh`, ...; the layer adds `_l{k}` and `_reverse`). The
///   first is the input weight [G, inputSize]: the engine computes x_t W^T for all steps with
///   one GEMM into `gates`, adds the biases marked `foldsIntoInputProjection`, and after the
///   backward loop turns `gateGradient` into dW, their bias gradients and dx.
/// - `state`: what is carried from step to step, each [B, width]. The first component is the
///   cell's output h (written to the layer's output, fed to the next layer, masked by the
///   recurrent dropout); an LSTM adds c.
/// - `buffers`: what its backward needs beyond the states: [T, B, width] per step or [B, width]
///   scratch. This is the cell's legend: name each buffer and say what it holds.
/// - `forward` and `backward`: one step t over the batch rows `rows`. They touch only those
///   rows (and step t's blocks), so the batch can be split between threads with no change to
///   any cell. Padding rows (`DirectionPass.isPadding`) keep their state, output 0 and get
///   no gradient (PyTorch packed-sequence semantics).
/// - `accumulateWeightGradients`: after the backward loop, the gradients of every parameter
///   the engine does not handle, ideally one GEMM each over the whole sequence.
///
/// Conventions: row-major, time-major; gradients accumulate (`+=`) into `Parameter.grad`.
public protocol RecurrentCell: Sendable {
    /// H: the size of the cell's hidden units (per gate block).
    var hiddenSize: Int { get }
    /// G: columns of the input projection per row (H for an RNN, 3H for a GRU, 4H for an LSTM).
    var inputProjectionWidth: Int { get }
    /// The carried state, first component the output h.
    var state: [StateComponent] { get }
    /// Per-step and per-row buffers that backward reads (default: none).
    var buffers: [CellBuffer] { get }
    /// Parameters of one layer and direction, the input weight [G, inputSize] first.
    func parameters(inputSize: Int, bias: RecurrentBias) -> [CellParameter]

    /// Step t, forward: `gates(t)` holds x_t W_ih^T plus the folded biases; read the previous
    /// state (`recurrentInput(t)` for the product with h), write the next state, `output(t)`
    /// and whatever backward needs.
    func forward(_ pass: DirectionPass, step t: Int, rows: Range<Int>)
    /// Step t, backward: `stateGradient(k)` holds dL/d(state k after step t) from later steps
    /// and `outputGradient(t)` the gradient of this step's output (nil: none). Write
    /// `gateGradient(t)` (dL/d gates(t) before activation), replace each state gradient by
    /// dL/d(state k before step t), and add the gradient of `recurrentInput(t)` to
    /// `recurrentInputGradient`.
    func backward(_ pass: DirectionPass, step t: Int, rows: Range<Int>)
    /// After the backward loop: accumulate the gradients of the cell's own parameters.
    func accumulateWeightGradients(_ pass: DirectionPass)

    /// Nonlinearities the cell applies (finite-difference checks avoid kinks).
    var activations: [Activation] { get }
}

extension RecurrentCell {
    public var buffers: [CellBuffer] { [] }
    /// Width of h, each direction's output: `state[0].width`.
    public var outputSize: Int { state[0].width }
}

/// One component of a cell's carried state, e.g. h [B, H] or c [B, H].
public struct StateComponent: Sendable, Equatable {
    public var name: String
    public var width: Int
    public init(_ name: String, width: Int) {
        self.name = name
        self.width = width
    }
}

/// A buffer a cell keeps for its backward pass.
public struct CellBuffer: Sendable, Equatable {
    public enum Extent: Sendable, Equatable {
        /// [T, B, width]: one block per step, contiguous over the whole sequence.
        case perStep
        /// [B, width]: scratch reused by every step.
        case perRow
    }
    public var name: String
    public var width: Int
    public var extent: Extent
    public init(_ name: String, width: Int, _ extent: Extent = .perStep) {
        self.name = name
        self.width = width
        self.extent = extent
    }
}

/// A tensor a cell owns in each layer and direction, and how it is initialised.
public struct CellParameter: Sendable, Equatable {
    /// What the tensor is, which decides its initialisation under each `RecurrentInitialization`.
    public enum Role: Sendable, Equatable {
        /// The input weight [G, I] (always the first parameter).
        case inputWeight
        /// A weight on the carried state, [G, state width]: orthogonal in Keras' convention,
        /// the identity in IRNN's.
        case recurrentWeight
        /// Any other matrix (e.g. an LSTM's projection [P, H]): Glorot-uniform in Keras'.
        case weight
        /// A bias; zero except in PyTorch's convention.
        case bias
        /// Per-unit weights such as peepholes [k, H]: U(±1/√H) in PyTorch's convention,
        /// Glorot over (H, H) in Keras', zero otherwise.
        case diagonal
        /// A normalisation gain: always starts at 1.
        case gain
        /// A normalisation shift: always starts at 0.
        case shift
    }
    /// Base name without layer or direction, e.g. `weight_hh`.
    public var name: String
    public var shape: [Int]
    public var role: Role
    /// The engine adds this [G] vector to every row of the input projection and accumulates
    /// its gradient as the column sums of `gateGradient`.
    public var foldsIntoInputProjection: Bool
    /// Rows set to 1 by Keras' initialisation (`unit_forget_bias`: an LSTM's forget gate).
    public var kerasOnes: Range<Int>?

    public init(_ name: String, shape: [Int], role: Role, foldsIntoInputProjection: Bool = false,
                kerasOnes: Range<Int>? = nil) {
        self.name = name
        self.shape = shape
        self.role = role
        self.foldsIntoInputProjection = foldsIntoInputProjection
        self.kerasOnes = kerasOnes
    }

    /// PyTorch's four: `weight_ih` [G, I], `weight_hh` [G, R], and by `bias` `bias_ih`, `bias_hh`
    /// [G], both folded into the input projection when `foldRecurrentBias`.
    public static func standard(gates G: Int, inputSize: Int, recurrentSize R: Int, bias: RecurrentBias,
                                foldRecurrentBias: Bool = true, forgetGate: Range<Int>? = nil) -> [CellParameter] {
        var list = [CellParameter("weight_ih", shape: [G, inputSize], role: .inputWeight),
                    CellParameter("weight_hh", shape: [G, R], role: .recurrentWeight)]
        if bias != .none {
            list.append(CellParameter("bias_ih", shape: [G], role: .bias, foldsIntoInputProjection: true, kerasOnes: forgetGate))
        }
        if bias == .separate {
            list.append(CellParameter("bias_hh", shape: [G], role: .bias, foldsIntoInputProjection: foldRecurrentBias))
        }
        return list
    }
}

/// Which bias vectors a recurrent layer has.
///
/// | option | PyTorch | Keras |
/// |---|---|---|
/// | `.separate` (default) | `bias_ih` and `bias_hh`, as `nn.LSTM` | GRU with `reset_after=True` |
/// | `.single` | `bias_ih` only (`bias_hh` fixed at 0) | `use_bias=True`, one `bias` |
/// | `.none` | `bias=False` | `use_bias=False` |
public enum RecurrentBias: String, Sendable, Codable, CaseIterable {
    case separate, single, none
}

/// How a bidirectional stack combines its top layer's two directions (Keras' `merge_mode`).
/// Layers below always concatenate, as PyTorch's. `concat` gives [.., 2H]; the others [.., H],
/// element by element: forward + reverse, their mean, or their product.
public enum BidirectionalMerge: String, Sendable, Codable, CaseIterable {
    case concat, sum, mean, multiply

    /// The merged value of a forward and a reverse element.
    @inline(__always) public func combine(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .concat, .sum: return a + b
        case .mean: return 0.5 * (a + b)
        case .multiply: return a * b
        }
    }

    /// The gradients of `combine(a, b)` with respect to a and b, given dy.
    @inline(__always) public func gradients(_ dy: Float, _ a: Float, _ b: Float) -> (Float, Float) {
        switch self {
        case .concat, .sum: return (dy, dy)
        case .mean: return (0.5 * dy, 0.5 * dy)
        case .multiply: return (dy * b, dy * a)
        }
    }

    /// Merges rows of [rows, 2w] (forward columns first) into [rows, w].
    public func merge(_ x: UnsafePointer<Float>, rows: Int, width w: Int, into y: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for j in 0..<w { y[r * w + j] = combine(x[r * 2 * w + j], x[r * 2 * w + w + j]) }
        }
    }

    /// dx [rows, 2w] from dy [rows, w] and the unmerged x [rows, 2w].
    public func unmerge(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, width w: Int,
                        into dx: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            for j in 0..<w {
                (dx[r * 2 * w + j], dx[r * 2 * w + w + j]) = gradients(dy[r * w + j], x[r * 2 * w + j], x[r * 2 * w + w + j])
            }
        }
    }
}

/// How weights are initialised.
///
/// - `pytorch`: every weight and bias U(-1/sqrt(H), 1/sqrt(H)) (`nn.RNN`, `nn.LSTM`, `nn.GRU`).
/// - `keras`: input kernels glorot-uniform (fan over [inputSize, gates*H]), recurrent kernels
///   orthogonal, biases 0 and the LSTM forget-gate bias 1 (`unit_forget_bias=True`).
/// - `fanIn`: seed 001's from-scratch init: W_ih U(±1/sqrt(inputSize)), W_hh U(±1/sqrt(H)),
///   biases 0.
/// - `orthogonal`: PyTorch's, with every recurrent weight orthogonal (orthonormal columns, as
///   `nn.init.orthogonal_` on `weight_hh`).
/// - `identity`: IRNN (Le, Jaitly & Hinton 2015): recurrent weights the identity (in each gate
///   block) times `identityScale` (default 1), input weights N(0, 0.001²), biases 0; meant for
///   a relu RNN.
///
/// The cell's `CellParameter.Role`s say which tensor is which; normalisation gains start at
/// 1 and shifts at 0 under every scheme.
public enum RecurrentInitialization: String, Sendable, Codable, CaseIterable {
    case pytorch, keras, fanIn = "fan-in", orthogonal, identity
}

/// The carried state of every layer and direction, one tensor per component of the cell's
/// state (h; h and c for an LSTM), each [layers * directions, B, width], index
/// `layer * directions + direction` (PyTorch's h_n, c_n).
public struct RecurrentState: @unchecked Sendable {
    /// In the order of `RecurrentCell.state`.
    public var components: [Tensor]

    public init(_ components: [Tensor]) {
        precondition(!components.isEmpty, "RecurrentState needs at least h")
        self.components = components
    }

    public init(h: Tensor, c: Tensor? = nil) {
        self.init([h] + (c.map { [$0] } ?? []))
    }

    /// The first component: h.
    public var h: Tensor {
        get { components[0] }
        set { components[0] = newValue }
    }

    /// The second component (an LSTM's c), if any.
    public var c: Tensor? {
        get { components.count > 1 ? components[1] : nil }
        set {
            if let newValue { if components.count > 1 { components[1] = newValue } else { components.append(newValue) } }
            else if components.count > 1 { components.removeSubrange(1...) }
        }
    }
}

/// What a recurrent layer returns: PyTorch's `output, h_n` / `output, (h_n, c_n)`.
public struct RecurrentOutput: @unchecked Sendable {
    /// [T, B, D*H] time-major, or [B, T, D*H] when the layer is batch-first. Padding steps are 0.
    public var output: Tensor
    /// Final state of every layer and direction: each sequence's own last valid state.
    public var state: RecurrentState
}

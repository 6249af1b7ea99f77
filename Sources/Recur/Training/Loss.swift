import CRecurKernels

/// A loss value and its gradient with respect to the loss's input.
public struct LossResult: @unchecked Sendable {
    /// The mean loss over the counted elements.
    public let value: Float
    /// dL/d input, shaped as the input. A buffer owned by the loss, valid until its next call.
    public let gradient: Tensor
    /// Elements that counted (rows not ignored).
    public let count: Int
}

/// Softmax cross-entropy on logits with class targets (PyTorch `nn.CrossEntropyLoss`, mean).
///
/// logits: [N, C]. For a classifier on the last step, N = B; for a loss on every step (a
/// language model), N = T*B with targets laid out the same way. Rows whose target equals
/// `ignoreIndex` contribute neither loss nor gradient, and the mean is over the other rows.
public final class SoftmaxCrossEntropy {
    public let ignoreIndex: Int32
    private let workspace = Workspace()

    public init(ignoreIndex: Int32 = -100) { self.ignoreIndex = ignoreIndex }

    public func callAsFunction(_ logits: Tensor, targets: [Int32]) -> LossResult {
        precondition(logits.rank == 2 && logits.shape[0] == targets.count,
                     "SoftmaxCrossEntropy: logits \(logits.shape) need [\(targets.count), classes] for \(targets.count) targets")
        let n = logits.shape[0], c = logits.shape[1]
        let grad = workspace.tensor("grad", logits.shape)
        let x = logits.pointer, g = grad.pointer
        var counted = 0
        for (r, y) in targets.enumerated() where y != ignoreIndex {
            precondition(y >= 0 && Int(y) < c, "SoftmaxCrossEntropy: target \(y) in row \(r) is outside 0..<\(c)")
            counted += 1
        }
        let scale = counted > 0 ? 1 / Float(counted) : 0
        var total = 0.0
        for r in 0..<n {
            let y = targets[r]
            if y == ignoreIndex { (g + r * c).update(repeating: 0, count: c); continue }
            // One fused C pass per row: max, exp, sum, normalise, scale (vectorised).
            total += Double(recur_softmax_xent_row(x + r * c, g + r * c, c, Int(y), scale))
        }
        return LossResult(value: counted > 0 ? Float(total / Double(counted)) : 0, gradient: grad, count: counted)
    }
}

/// Binary cross-entropy on logits (PyTorch `nn.BCEWithLogitsLoss`, mean), computed stably:
/// max(x, 0) - x y + log(1 + exp(-|x|)). logits and targets: N values, targets in [0, 1].
public final class BinaryCrossEntropyWithLogits {
    private let workspace = Workspace()
    public init() {}

    public func callAsFunction(_ logits: Tensor, targets: [Float]) -> LossResult {
        meanOverElements(logits, targets, workspace, "BinaryCrossEntropyWithLogits") { x, y in
            (Double(max(x, 0) - x * y + log1pf(expf(-abs(x)))), 1 / (1 + expf(-x)) - y)
        }
    }
}

/// Binary cross-entropy on probabilities (Keras `binary_crossentropy` on a sigmoid output,
/// PyTorch `nn.BCELoss`): -mean(y log p + (1 - y) log(1 - p)), with p clipped to
/// [1e-7, 1 - 1e-7] as Keras does (no gradient where the clip is active).
public final class BinaryCrossEntropy {
    public static let epsilon: Float = 1e-7
    private let workspace = Workspace()
    public init() {}

    public func callAsFunction(_ probabilities: Tensor, targets: [Float]) -> LossResult {
        meanOverElements(probabilities, targets, workspace, "BinaryCrossEntropy") { p, y in
            let eps = Self.epsilon, q = min(max(p, eps), 1 - eps)
            let loss = -(Double(y) * log(Double(q)) + Double(1 - y) * log(Double(1 - q)))
            return (loss, p > eps && p < 1 - eps ? (q - y) / (q * (1 - q)) : 0)
        }
    }
}

/// Mean squared error (PyTorch `nn.MSELoss`, mean; Keras `mse`). prediction, target: N values.
public final class MeanSquaredError {
    private let workspace = Workspace()
    public init() {}

    public func callAsFunction(_ prediction: Tensor, targets: [Float]) -> LossResult {
        meanOverElements(prediction, targets, workspace, "MeanSquaredError") { p, y in
            (Double(p - y) * Double(p - y), 2 * (p - y))
        }
    }
}

/// mean_i f(x_i, y_i).loss, with gradient f(x_i, y_i).gradient / N.
@inline(__always)
private func meanOverElements(_ input: Tensor, _ targets: [Float], _ workspace: Workspace, _ name: String,
                              _ f: (Float, Float) -> (loss: Double, gradient: Float)) -> LossResult {
    precondition(input.count == targets.count, "\(name): input \(input.shape) vs \(targets.count) targets")
    let n = input.count
    let grad = workspace.tensor("grad", input.shape)
    let x = input.pointer, g = grad.pointer
    var total = 0.0
    let scale = 1 / Float(max(n, 1))
    for i in 0..<n {
        let (l, d) = f(x[i], targets[i])
        total += l
        g[i] = d * scale
    }
    return LossResult(value: Float(total / Double(max(n, 1))), gradient: grad, count: n)
}

import Foundation

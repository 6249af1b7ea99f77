/// Scales all gradients together so that their global L2 norm is at most `maxNorm`
/// (PyTorch `clip_grad_norm_`: coefficient maxNorm / (norm + 1e-6), applied when below 1).
/// - Returns: the global norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipGradientNorm: maxNorm must be positive, got \(maxNorm)")
    let total = gradientNorm(parameters)
    let coefficient = maxNorm / (total + 1e-6)
    if coefficient < 1 {
        // One pass over an arena's gradient block, else tensor by tensor.
        let runs = ParameterArena.whole(parameters).map { [($0.gradients, $0.count)] } ?? parameters.map { ($0.grad.pointer, $0.count) }
        for (g, n) in runs {
            for i in 0..<n { g[i] *= coefficient }
        }
    }
    return total
}

/// Learning rate as a function of a counter the caller advances (steps or epochs).
public enum LearningRateSchedule: Sendable, Equatable {
    case constant
    /// PyTorch `StepLR`: base * gamma^floor(n / every) (seed 001: every 1000 steps, gamma 0.1).
    case step(every: Int, gamma: Float)
    /// Zaremba et al.: the first `epochs` epochs at base, then multiplied by `factor` each epoch:
    /// base * factor^max(0, n + 1 - epochs) for 0-based epoch n.
    case decayAfter(epochs: Int, factor: Float)

    public func rate(base: Float, at n: Int) -> Float {
        switch self {
        case .constant: return base
        case let .step(every, gamma): return base * powf(gamma, Float(n / max(every, 1)))
        case let .decayAfter(epochs, factor): return base * powf(factor, Float(max(0, n + 1 - epochs)))
        }
    }
}

import Foundation

/// Updates parameters from their gradients, with PyTorch's `torch.optim` semantics.
///
/// State (momentum buffers, moment estimates) is kept per parameter, in the order of the
/// parameter list passed at construction, and is visible in `state` for checkpoints.
///
/// At construction an optimizer gathers its parameters into a `ParameterArena`, and lays its
/// state out the same way, so that a step is one pass over all the floats (per tensor only if
/// something has moved the parameters since).
public protocol Optimizer: AnyObject {
    var learningRate: Float { get set }
    var parameters: [Parameter] { get }
    /// Steps taken so far.
    var stepCount: Int { get set }
    /// Named state tensors (e.g. `exp_avg.3` for parameter 3), for checkpoints.
    var state: [String: Tensor] { get }
    func step()
}

extension Optimizer {
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// Calls `update(values, gradients, offset, count)` once over every parameter when they are
    /// an arena's whole blocks, else once per tensor; `offset` is where the run starts in the
    /// optimizer's state (laid out like the arena).
    func forEachRun(_ update: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int, Int) -> Void) {
        if let run = ParameterArena.whole(parameters) { return update(run.values, run.gradients, 0, run.count) }
        var offset = 0
        for p in parameters {
            update(p.value.pointer, p.grad.pointer, offset, p.count)
            offset += p.count
        }
    }
}

/// Stochastic gradient descent with optional momentum, dampening, Nesterov and L2 weight decay
/// (`torch.optim.SGD`): g = grad + wd p; buf = g on the first step, then
/// momentum buf + (1 - dampening) g; the step uses g + momentum buf (Nesterov) or buf.
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float, nesterov: Bool
    public let parameters: [Parameter]
    public var stepCount = 0
    private let buffers: [Tensor]

    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0, dampening: Float = 0,
                weightDecay: Float = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov needs momentum > 0 and dampening 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        _ = ParameterArena(parameters)
        buffers = momentum != 0 ? Tensor.contiguous(parameters.map(\.shape)) : []
    }

    public var state: [String: Tensor] {
        Dictionary(uniqueKeysWithValues: buffers.enumerated().map { ("momentum_buffer.\($0)", $1) })
    }

    public func step() {
        let (lr, mu, damp, wd) = (learningRate, momentum, dampening, weightDecay)
        let first = stepCount == 0, momentumBase = buffers.first?.storage.base
        forEachRun { w, g, offset, n in
            guard let base = momentumBase else {
                for i in 0..<n { w[i] -= lr * (g[i] + wd * w[i]) }
                return
            }
            let b = base + offset
            for i in 0..<n {
                let d = g[i] + wd * w[i]
                b[i] = first ? d : mu * b[i] + (1 - damp) * d
                w[i] -= lr * (nesterov ? d + mu * b[i] : b[i])
            }
        }
        stepCount += 1
    }
}

/// Adam (`torch.optim.Adam`), and AdamW with `decoupledWeightDecay` (`torch.optim.AdamW`).
///
/// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g², p -= lr/(1 - b1^t) m / (sqrt(v)/sqrt(1 - b2^t) + eps).
/// `epsilonInsideSquareRoot` gives seed 004's form p -= lr m̂ / sqrt(v̂ + eps).
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public let decoupledWeightDecay: Bool, epsilonInsideSquareRoot: Bool
    public let parameters: [Parameter]
    public var stepCount = 0
    private let m: [Tensor], v: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0, decoupledWeightDecay: Bool = false,
                epsilonInsideSquareRoot: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        self.epsilonInsideSquareRoot = epsilonInsideSquareRoot
        _ = ParameterArena(parameters)
        m = Tensor.contiguous(parameters.map(\.shape))
        v = Tensor.contiguous(parameters.map(\.shape))
    }

    public var state: [String: Tensor] {
        var s: [String: Tensor] = [:]
        for k in parameters.indices { s["exp_avg.\(k)"] = m[k]; s["exp_avg_sq.\(k)"] = v[k] }
        return s
    }

    public func step() {
        stepCount += 1
        let t = Float(stepCount), (b1, b2, eps, lr, wd) = (beta1, beta2, epsilon, learningRate, weightDecay)
        let bc1 = 1 - powf(b1, t), bc2 = 1 - powf(b2, t)
        let stepSize = lr / bc1, bc2Sqrt = bc2.squareRoot()
        guard let mBase = m.first?.storage.base, let vBase = v.first?.storage.base else { return }
        forEachRun { w, g, offset, n in
            let mp = mBase + offset, vp = vBase + offset
            if decoupledWeightDecay && wd != 0 {
                let f = 1 - lr * wd
                for i in 0..<n { w[i] *= f }
            }
            let l2 = decoupledWeightDecay ? 0 : wd
            for i in 0..<n {
                let d = g[i] + l2 * w[i]
                mp[i] = b1 * mp[i] + (1 - b1) * d
                vp[i] = b2 * vp[i] + (1 - b2) * d * d
                if epsilonInsideSquareRoot {
                    w[i] -= lr * (mp[i] / bc1) / (vp[i] / bc2 + eps).squareRoot()
                } else {
                    w[i] -= stepSize * mp[i] / (vp[i].squareRoot() / bc2Sqrt + eps)
                }
            }
        }
    }
}

/// RMSprop (`torch.optim.RMSprop`): sq = alpha sq + (1 - alpha) g²; avg = sqrt(sq) + eps
/// (centered: sqrt(sq - mean(g)²) + eps); p -= lr g / avg, or through a momentum buffer.
public final class RMSprop: Optimizer {
    public var learningRate: Float
    public let alpha: Float, epsilon: Float, weightDecay: Float, momentum: Float, centered: Bool
    public let parameters: [Parameter]
    public var stepCount = 0
    private let squareAverage: [Tensor], gradientAverage: [Tensor], buffers: [Tensor]

    public init(parameters: [Parameter], learningRate: Float = 1e-2, alpha: Float = 0.99, epsilon: Float = 1e-8,
                weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        _ = ParameterArena(parameters)
        let shapes = parameters.map(\.shape)
        squareAverage = Tensor.contiguous(shapes)
        gradientAverage = centered ? Tensor.contiguous(shapes) : []
        buffers = momentum > 0 ? Tensor.contiguous(shapes) : []
    }

    public var state: [String: Tensor] {
        var s: [String: Tensor] = [:]
        for k in parameters.indices {
            s["square_avg.\(k)"] = squareAverage[k]
            if centered { s["grad_avg.\(k)"] = gradientAverage[k] }
            if momentum > 0 { s["momentum_buffer.\(k)"] = buffers[k] }
        }
        return s
    }

    public func step() {
        let (a, eps, lr, wd, mu) = (alpha, epsilon, learningRate, weightDecay, momentum)
        guard let sqBase = squareAverage.first?.storage.base else { stepCount += 1; return }
        let gaBase = gradientAverage.first?.storage.base ?? sqBase, bufBase = buffers.first?.storage.base ?? sqBase
        forEachRun { w, g, offset, n in
            let sq = sqBase + offset, ga = gaBase + offset, buf = bufBase + offset
            for i in 0..<n {
                let d = g[i] + wd * w[i]
                sq[i] = a * sq[i] + (1 - a) * d * d
                var avg: Float
                if centered {
                    ga[i] = a * ga[i] + (1 - a) * d
                    avg = (sq[i] - ga[i] * ga[i]).squareRoot() + eps
                } else {
                    avg = sq[i].squareRoot() + eps
                }
                if mu > 0 {
                    buf[i] = mu * buf[i] + d / avg
                    w[i] -= lr * buf[i]
                } else {
                    w[i] -= lr * d / avg
                }
            }
        }
        stepCount += 1
    }
}

import Foundation

import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// Five steps of each optimizer against torch.optim on the same gradient sequence.
@Suite struct OptimizerParityTests {
    static let names = fixtureNames(in: "torch", prefix: "optim_")

    @Test func fixturesArePresent() { #expect(Self.names.count == 9) }

    @Test(arguments: names)
    func matchesTorch(_ name: String) throws {
        let f = try Safetensors(contentsOf: fixtureURL("torch/\(name).safetensors"))
        let config = try JSONSerialization.jsonObject(with: Data(f.metadata["config"]!.utf8)) as! [String: Any]
        func value(_ k: String, _ d: Float) -> Float { (config[k] as? Double).map(Float.init) ?? d }
        let count = Int(f.metadata["params"]!)!, steps = Int(f.metadata["steps"]!)!
        let params = (0..<count).map { i -> Parameter in
            let p = Parameter("p\(i)", shape: f["p\(i).init"]!.shape)
            p.value.assign(f["p\(i).init"]!)
            return p
        }
        let lr = value("lr", 0), wd = value("weight_decay", 0)
        let optimizer: any Optimizer
        switch config["kind"] as! String {
        case "sgd":
            optimizer = SGD(parameters: params, learningRate: lr, momentum: value("momentum", 0), dampening: value("dampening", 0),
                            weightDecay: wd, nesterov: config["nesterov"] as? Bool ?? false)
        case "adam", "adamw":
            optimizer = Adam(parameters: params, learningRate: lr, beta1: value("beta1", 0.9), beta2: value("beta2", 0.999),
                             epsilon: value("eps", 1e-8), weightDecay: config["kind"] as! String == "adamw" ? value("weight_decay", 0.01) : wd,
                             decoupledWeightDecay: config["kind"] as! String == "adamw")
        default:
            optimizer = RMSprop(parameters: params, learningRate: lr, alpha: value("alpha", 0.99), epsilon: value("eps", 1e-8),
                                weightDecay: wd, momentum: value("momentum", 0), centered: config["centered"] as? Bool ?? false)
        }
        for s in 0..<steps {
            for (i, p) in params.enumerated() { p.grad.assign(f["p\(i).grad\(s)"]!) }
            optimizer.step()
            for (i, p) in params.enumerated() { expectClose(p.value, f["p\(i).step\(s)"]!, "\(name) p\(i) step \(s)") }
        }
    }

    @Test func adamWithEpsilonInsideSquareRoot() {
        // Seed 004's update: p -= lr m̂ / sqrt(v̂ + eps), by hand for two steps.
        let p = Parameter("w", shape: [2])
        p.value.assign(Tensor([1, -2], shape: [2]))
        let adam = Adam(parameters: [p], learningRate: 0.1, epsilon: 1e-2, epsilonInsideSquareRoot: true)
        var w: [Double] = [1, -2], m: [Double] = [0, 0], v: [Double] = [0, 0]
        for (t, g) in [[0.5, -1.0], [0.2, 0.3]].enumerated() {
            p.grad.assign(Tensor(g.map(Float.init), shape: [2]))
            adam.step()
            for i in 0..<2 {
                m[i] = 0.9 * m[i] + 0.1 * g[i]
                v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
                let mh = m[i] / (1 - pow(0.9, Double(t + 1))), vh = v[i] / (1 - pow(0.999, Double(t + 1)))
                w[i] -= 0.1 * mh / (vh + 1e-2).squareRoot()
            }
        }
        #expect(mismatch(p.value.scalars, w.map(Float.init), rtol: 1e-6, atol: 1e-7) == nil)
    }

    @Test func clippingReturnsNormAndScales() {
        let a = Parameter("a", shape: [2]), b = Parameter("b", shape: [1])
        a.grad.assign(Tensor([3, 0], shape: [2]))
        b.grad.assign(Tensor([4], shape: [1]))
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        #expect(abs(norm - 5) < 1e-6)
        #expect(mismatch(a.grad.scalars + b.grad.scalars, [0.6, 0, 0.8], rtol: 1e-5, atol: 1e-6) == nil)
        // Below the limit: unchanged.
        #expect(abs(clipGradientNorm([a, b], maxNorm: 10) - 1) < 1e-5)
        #expect(mismatch(a.grad.scalars, [0.6, 0], rtol: 1e-6, atol: 0) == nil)
    }

    @Test func schedules() {
        let s = LearningRateSchedule.step(every: 1000, gamma: 0.1)
        #expect(s.rate(base: 1e-3, at: 999) == 1e-3)
        #expect(abs(s.rate(base: 1e-3, at: 1000) - 1e-4) < 1e-10)
        #expect(abs(s.rate(base: 1e-3, at: 2500) - 1e-5) < 1e-11)
        let z = LearningRateSchedule.decayAfter(epochs: 4, factor: 0.5)
        #expect((0..<7).map { z.rate(base: 1, at: $0) } == [1, 1, 1, 1, 0.5, 0.25, 0.125])
        #expect(LearningRateSchedule.constant.rate(base: 0.3, at: 100) == 0.3)
    }
}

import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// Training side by side with PyTorch: the same start, the same batches, step by step.
/// Fixtures come from `Scripts/palindrome_torch.py --fixture` (seed 001's LSTM palindrome at
/// N = 50, the seed's initialisation, Adam, clipping at 1). Set RECUR_PALINDROME_TRACE to a file
/// written by `palindrome_torch.py --trace` to print the side-by-side table of a longer run;
/// RECUR_PALINDROME_SWAP=init (Recur's own initial weights) or =data (Recur's own batches)
/// replaces one half of the trace, to see which of them a difference in training comes from.
@Suite struct PalindromeTrainingParityTests {
    static let names = fixtureNames(in: "torch-training")

    /// Per-step loss and gradient norm before clipping, and the raw gradients at the recorded steps.
    struct Trace {
        var loss: [Float] = [], gradNorm: [Float] = []
        var gradients: [Int: [String: Tensor]] = [:]
    }

    /// Trains a model built from the trace's start on the trace's batches.
    static func replay(_ f: Safetensors, steps: Int? = nil) throws -> Trace {
        let m = f.metadata
        let H = Int(m["hidden"]!)!, N = Int(m["length"]!)!, B = Int(m["batch"]!)!
        let layers = Int(m["layers"]!)!, clip = Float(m["clip"]!)!, lr = Float(m["lr"]!)!
        let bias: RecurrentBias = m["bias"] == "single" ? .single : .separate
        let cell = CellType(rawValue: m["cell"]!)!
        let record = Set(m["record"]!.split(separator: ",").compactMap { Int($0) })
        let recurrent = cell.makeLayer(inputSize: 1, hiddenSize: H, layers: layers, bidirectional: false, dropout: 0,
                                       bias: bias, initialization: .fanIn, seed: 0)
        var rng = RandomGenerator(seed: 0)
        let model = SequenceModel(recurrent: recurrent, outputs: 10, rng: &rng)
        // Recur's own seed-42 draws (the experiment's defaults) can replace one half of the trace.
        let swap = ProcessInfo.processInfo.environment["RECUR_PALINDROME_SWAP"]
        var own = PalindromeExperiment()
        (own.length, own.hidden, own.batchSize) = (N, H, B)
        let ownStart = swap == "init" ? own.makeModel(inputSize: 1).model.namedParameters : nil
        for (k, (name, p)) in model.namedParameters.enumerated() {
            let value = try ownStart.map { $0[k].parameter.value } ?? #require(f["start." + name], "trace lacks start.\(name)")
            p.value.assign(value)
        }
        var ownData = own.trainingData()
        let opt = Adam(parameters: model.parameters, learningRate: lr)
        let loss = SoftmaxCrossEntropy()
        let digits = f["digits"]!, x = Tensor(zeros: [N, B, 1])
        var trace = Trace()
        for step in 1...(steps ?? digits.shape[0]) {
            let d = digits[min(step, digits.shape[0]) - 1].pointer
            var targets = [Int32](repeating: 0, count: B)
            if swap == "data" {
                targets = ownData.batch(B, into: x)
            } else {
                for b in 0..<B {
                    for t in 0..<N { x.pointer[t * B + b] = d[b * (N + 1) + t] }
                    targets[b] = Int32(d[b * (N + 1) + N])
                }
            }
            model.zeroGrad()
            let l = loss(model(x), targets: targets)
            model.backward(l.gradient)
            if record.contains(step) {
                trace.gradients[step] = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.grad.copy()) })
            }
            trace.gradNorm.append(clipGradientNorm(model.parameters, maxNorm: clip))
            opt.step()
            trace.loss.append(l.value)
        }
        return trace
    }

    @Test func fixturesArePresent() {
        #expect(Self.names.count == 2, "expected 2 training fixtures, found \(Self.names.count)")
    }

    /// 50 steps at N = 50: every recorded gradient to 1e-5 relative / 1e-6 absolute at step 1, and
    /// the losses step by step within float tolerance.
    @Test(arguments: names)
    func trainsAsPyTorch(_ name: String) throws {
        let f = try Safetensors(contentsOf: fixtureURL("torch-training/\(name).safetensors"))
        try Self.expectMatches(Self.replay(f), f, steps: 50, name)
    }

    /// The first `steps` losses to 1e-4 relative, gradient norms to 1e-3, and every step-1
    /// gradient to 1e-5 relative / 1e-6 absolute. (Past the plateau the runs may part by float
    /// rounding, so long traces are checked over their first steps.)
    static func expectMatches(_ trace: Trace, _ f: Safetensors, steps: Int, _ name: String) throws {
        let torchLoss = f["loss"]!.scalars.prefix(steps), torchNorm = f["grad_norm"]!.scalars.prefix(steps)
        for (step, (a, e)) in zip(trace.loss, torchLoss).enumerated() {
            #expect(abs(a - e) <= 1e-4 * abs(e), "\(name) step \(step + 1): loss \(a) vs PyTorch \(e)")
        }
        for (step, (a, e)) in zip(trace.gradNorm, torchNorm).enumerated() {
            #expect(abs(a - e) <= 1e-3 * abs(e), "\(name) step \(step + 1): gradient norm \(a) vs PyTorch \(e)")
        }
        for (pname, g) in try #require(trace.gradients[1], "\(name): step 1 was not recorded") {
            expectClose(g, try #require(f["grad.1.\(pname)"]), "\(name) step 1 grad \(pname)")
        }
    }

    /// RECUR_PALINDROME_TRACE=FILE: prints step, PyTorch and Recur loss and gradient norm, and the
    /// largest gradient difference per parameter at the recorded steps. Without a swap it also
    /// checks the first 50 steps as `trainsAsPyTorch` does.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["RECUR_PALINDROME_TRACE"] != nil))
    func sideBySide() throws {
        let path = ProcessInfo.processInfo.environment["RECUR_PALINDROME_TRACE"]!
        let swapData = ProcessInfo.processInfo.environment["RECUR_PALINDROME_SWAP"] == "data"
        let f = try Safetensors(contentsOf: URL(fileURLWithPath: path))
        // With Recur's own batches a replay can run past the trace (RECUR_PALINDROME_STEPS).
        let steps = swapData ? ProcessInfo.processInfo.environment["RECUR_PALINDROME_STEPS"].flatMap { Int($0) } : nil
        let trace = try Self.replay(f, steps: steps)
        if ProcessInfo.processInfo.environment["RECUR_PALINDROME_SWAP"] == nil {
            try Self.expectMatches(trace, f, steps: 50, path)
        }
        let torchLoss = f["loss"]!.scalars, torchNorm = f["grad_norm"]!.scalars
        print("| step | PyTorch loss | Recur loss | PyTorch grad norm | Recur grad norm |")
        print("|---:|---:|---:|---:|---:|")
        let shown = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1500, 2000, 2250, 2500, 2750, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000]
        for s in shown where s <= trace.loss.count {
            let torch = s <= torchLoss.count ? "\(torchLoss[s - 1]) | " : "– | "
            let torchN = s <= torchNorm.count ? "\(torchNorm[s - 1]) | " : "– | "
            print("| \(s) | " + torch + "\(trace.loss[s - 1]) | " + torchN + "\(trace.gradNorm[s - 1]) |")
        }
        for step in trace.gradients.keys.sorted() {
            for (pname, g) in trace.gradients[step]!.sorted(by: { $0.key < $1.key }) {
                guard let e = f["grad.\(step).\(pname)"] else { continue }
                let a = g.scalars, b = e.scalars
                let diff = zip(a, b).map { abs($0 - $1) }.max()!, scale = b.map { abs($0) }.max()!
                print("step \(step) \(pname): max |Δ| \(diff), max |g| \(scale)")
            }
        }
    }
}

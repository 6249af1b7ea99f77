import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

@Suite struct GradientFlowTests {
    /// The recorded norms of dL/dh_t (and dL/dc_t) equal finite differences: the loss as a
    /// function of the state after step t is the model run from that state over steps t+1...
    @Test(arguments: [CellType.rnn, .lstm, .gru])
    func normsEqualFiniteDifferences(_ cellType: CellType) throws {
        let (T, B, I, H) = (6, 3, 2, 4)
        var rng = RandomGenerator(seed: 5)
        let layer = cellType.makeLayer(inputSize: I, hiddenSize: H, seed: 9)
        let model = SequenceModel(recurrent: layer, outputs: 3, rng: &rng)
        let x = Tensor(zeros: [T, B, I])
        for i in 0..<x.count { x.pointer[i] = rng.normal() }
        let targets: [Int32] = [0, 2, 1]
        let flow = GradientFlow.measure(model, x: x, targets: targets)
        #expect(flow.hidden.count == T && (flow.cell != nil) == (cellType == .lstm))
        #expect(model.parameters.allSatisfy { p in (0..<p.grad.count).allSatisfy { p.grad.pointer[$0] == 0 } })
        model.training = false
        let loss = SoftmaxCrossEntropy()
        for t in 0..<T {
            // The state after step t, from a run over steps 0...t.
            let prefix = Tensor(zeros: [t + 1, B, I])
            prefix.pointer.update(from: x.pointer, count: (t + 1) * B * I)
            let state = layer(prefix).state
            let start = state.components.map { c in Tensor(zeros: c.shape).copying(c) }
            func lossFrom(_ s: [Tensor]) -> Double {
                let h: Tensor
                if t == T - 1 {
                    h = s[0]
                } else {
                    let suffix = Tensor(zeros: [T - 1 - t, B, I])
                    suffix.pointer.update(from: x.pointer + (t + 1) * B * I, count: suffix.count)
                    h = layer(suffix, initialState: RecurrentState(s)).state.h
                }
                return Double(loss(model.head(h.reshaped([B, H])), targets: targets).value)
            }
            // Central differences of the loss in every entry of state component k.
            func gradient(_ k: Int) -> [Double] {
                (0..<(B * H)).map { i in
                    let eps: Float = 1e-2
                    let plus = start.map { Tensor(zeros: $0.shape).copying($0) }, minus = start.map { Tensor(zeros: $0.shape).copying($0) }
                    plus[k].pointer[i] += eps
                    minus[k].pointer[i] -= eps
                    return (lossFrom(plus) - lossFrom(minus)) / Double(2 * eps)
                }
            }
            func meanRowNorm(_ g: [Double]) -> Double {
                (0..<B).reduce(0.0) { sum, r in sum + (0..<H).reduce(0.0) { $0 + g[r * H + $1] * g[r * H + $1] }.squareRoot() } / Double(B)
            }
            func close(_ fd: Double, _ recorded: Double, _ what: String) {
                #expect(abs(fd - recorded) <= 2e-2 * max(fd, 1e-4), "\(cellType) \(what) at t=\(t): finite differences \(fd), recorded \(recorded)")
            }
            let gh = gradient(0)
            close(meanRowNorm(gh), flow.hidden[T - 1 - t], "dL/dh")
            if let cellNorms = flow.cell {
                // The total dL/dc_t: through c_{t+1} (h_t held) and through h_t = o_t tanh(c_t),
                // with o_t = h_t / tanh(c_t) from the state itself.
                let gc = gradient(1), h = start[0].scalars, c = start[1].scalars
                let total = (0..<(B * H)).map { i -> Double in
                    let a = tanh(Double(c[i])), o = Double(h[i]) / a
                    return gc[i] + gh[i] * o * (1 - a * a)
                }
                close(meanRowNorm(total), cellNorms[T - 1 - t], "dL/dc")
            }
        }
    }

    /// `recur gradients`: one run gives gradient_norms and gradient_horizon at the top level,
    /// several a `runs` list; the tanh RNN's gradient vanishes within T, the IRNN's does not.
    @Test func commandReportsNormsAndHorizons() throws {
        let dir = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let one = try RecurProcess.run(["gradients", "--cells", "lstm", "--length", "12", "--hidden", "8", "--batch-size", "4", "--json", "--quiet"])
        #expect(one.status == 0, "\(one.stderr)")
        let o = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [String: Any])
        #expect((o["gradient_norms"] as? [Double])?.count == 12 && (o["cell_gradient_norms"] as? [Double])?.count == 12 && o["gradient_horizon"] != nil)
        let both = try RecurProcess.run(["gradients", "--cells", "rnn,rnn-relu:identity", "--length", "60", "--hidden", "16", "--batch-size", "8",
                                         "--at", "0,3", "--json", "--quiet", "--out", dir.path])
        #expect(both.status == 0, "\(both.stderr)")
        let b = try #require(try JSONSerialization.jsonObject(with: Data(both.stdout.utf8)) as? [String: Any])
        let runs = try #require(b["runs"] as? [[String: Any]])
        #expect(runs.map { $0["step"] as? Int } == [0, 3, 0, 3])
        #expect(runs[0]["gradient_horizon"] is Int && runs[2]["gradient_horizon"] is NSNull, "\(runs.map { $0["gradient_horizon"] ?? "?" })")
        let svg = try String(contentsOf: dir.appendingPathComponent("gradient_flow.svg"), encoding: .utf8)
        #expect(svg.contains(">1e-") && svg.components(separatedBy: "class=\"series\"").count == 5)
        for (args, message) in [(["--cells", "lstm:glorot"], "--cells: 'lstm:glorot' is not valid"), (["--at", "0,-1"], "--at"),
                                (["--length", "0"], "--length must be")] {
            let bad = try RecurProcess.run(["gradients"] + args)
            #expect(bad.status == 64 && bad.stderr.contains(message), "\(args): \(bad.stderr)")
        }
        // Sizes within every option's range but beyond memory together: refused before allocating.
        let huge = try RecurProcess.run(["gradients", "--cells", "rnn", "--length", "5", "--hidden", "1048576", "--quiet"])
        #expect(huge.status == 1 && huge.stderr.contains("of memory"), "\(huge.status): \(huge.stderr)")
    }

    @Test func horizonIsTheFirstHundredfoldFall() {
        #expect(GradientFlow.horizon([1, 0.5, 0.02, 0.009, 0.001]) == 3)
        #expect(GradientFlow.horizon([1, 0.5, 0.2]) == nil)
        #expect(GradientFlow.horizon([0, 0]) == nil)
    }
}

extension Tensor {
    /// This tensor with `other`'s values (same count).
    fileprivate func copying(_ other: Tensor) -> Tensor {
        pointer.update(from: other.pointer, count: count)
        return self
    }
}

import Testing
@testable import Recur
@testable import RecurExperiments

/// Central finite differences in Float32, done carefully: a loss that is linear in the
/// outputs (accumulated in Double), step h = 1e-2 (truncation ~h², rounding ~1e-7 |L| / h),
/// and a tolerance of 2e-3 absolute + 2e-2 relative that both errors fit well inside.
/// `tensors` pairs each input with the analytic gradient computed before the call.
///
/// `piecewiseLinear` (relu, hard sigmoid): a step may cross a kink, where the central
/// difference mixes two slopes. The point's own slope is then one of the one-sided
/// differences, so the analytic value must match the central or a one-sided difference.
func checkGradients(_ label: String, _ tensors: [(name: String, value: Tensor, analytic: Tensor)],
                    samples: Int = 8, h: Float = 1e-2, rtol: Float = 2e-2, atol: Float = 2e-3, piecewiseLinear: Bool = false,
                    retryStep: Float? = nil,
                    sourceLocation: SourceLocation = #_sourceLocation, loss: () -> Double) {
    var rng = RandomGenerator(seed: 99)
    var checked = 0
    let base = loss()
    for (name, value, analytic) in tensors {
        precondition(value.count == analytic.count, "\(label) \(name): value \(value.shape) vs grad \(analytic.shape)")
        let indices = value.count <= samples ? Array(0..<value.count) : (0..<samples).map { _ in rng.int(below: value.count) }
        for i in indices {
            let saved = value.pointer[i]
            value.pointer[i] = saved + h
            let plus = loss()
            value.pointer[i] = saved - h
            let minus = loss()
            value.pointer[i] = saved
            let numeric = Float((plus - minus) / Double(2 * h))
            let right = Float((plus - base) / Double(h)), left = Float((base - minus) / Double(h))
            let a = analytic.pointer[i]
            func agrees(_ n: Float) -> Bool { abs(n - a) <= atol + rtol * max(abs(n), abs(a)) }
            func agreesAtRetryStep() -> Bool {
                guard let h2 = retryStep else { return false }
                value.pointer[i] = saved + h2
                let plus = loss()
                value.pointer[i] = saved - h2
                let minus = loss()
                value.pointer[i] = saved
                return agrees(Float((plus - minus) / Double(2 * h2)))
            }
            if !(agrees(numeric) || (piecewiseLinear && (agrees(left) || agrees(right))) || agreesAtRetryStep()) {
                Issue.record("\(label) d/d\(name)[\(i)]: analytic \(a), numeric \(numeric)", sourceLocation: sourceLocation)
            }
            checked += 1
        }
    }
    #expect(checked > 0, "\(label): nothing checked", sourceLocation: sourceLocation)
}

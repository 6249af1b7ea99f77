import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// Folder of committed fixtures (copied into the test bundle).
func fixtureURL(_ relative: String) -> URL {
    Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(relative)
}

func fixtureNames(in folder: String, prefix: String = "") -> [String] {
    let dir = fixtureURL(folder)
    let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(".safetensors") }
        .map { String($0.dropLast(".safetensors".count)) }.sorted()
}

/// Largest violation of |a - e| <= atol + rtol |e|, as (index, a, e), or nil when all agree.
func mismatch(_ actual: [Float], _ expected: [Float], rtol: Float, atol: Float) -> (Int, Float, Float)? {
    precondition(actual.count == expected.count, "compare: \(actual.count) vs \(expected.count) values")
    var worst: (Int, Float, Float)? = nil
    var worstExcess: Float = 0
    for i in 0..<actual.count {
        let a = actual[i], e = expected[i]
        let excess = abs(a - e) - (atol + rtol * abs(e))
        if !(excess <= 0) && (worst == nil || excess > worstExcess || excess.isNaN) {
            worst = (i, a, e)
            worstExcess = excess
        }
    }
    return worst
}

func expectClose(_ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6,
                 _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == expected.shape, "\(label): shape \(actual.shape) vs \(expected.shape)",
            sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    if let (i, a, e) = mismatch(actual.scalars, expected.scalars, rtol: rtol, atol: atol) {
        Issue.record("\(label)[\(i)]: got \(a), expected \(e) (rtol \(rtol), atol \(atol))",
                     sourceLocation: sourceLocation)
    }
}

/// sum(a * b) in Double.
func dot(_ a: Tensor, _ b: Tensor) -> Double {
    precondition(a.count == b.count)
    var s = 0.0
    for i in 0..<a.count { s += Double(a.pointer[i]) * Double(b.pointer[i]) }
    return s
}

func randomTensor(_ shape: [Int], _ rng: inout RandomGenerator, scale: Float = 1) -> Tensor {
    let t = Tensor(zeros: shape)
    rng.fillUniform(t, -scale, scale)
    return t
}

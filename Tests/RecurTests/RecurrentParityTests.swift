import Foundation
import Testing
@testable import Recur
@testable import RecurExperiments

/// Forward outputs, final states and every gradient against PyTorch fixtures written by
/// Scripts/make_fixtures.py (float64 reference from float32 inputs).
@Suite struct RecurrentParityTests {
    static let names = fixtureNames(in: "torch").filter { !$0.hasPrefix("optim_") }

    @Test func fixturesArePresent() {
        #expect(Self.names.count == 63, "expected 63 recurrent fixtures, found \(Self.names.count)")
    }

    @Test(arguments: names)
    func matchesPyTorch(_ name: String) throws {
        let f = try Safetensors(contentsOf: fixtureURL("torch/\(name).safetensors"))
        let m = f.metadata
        let cell = m["cell"]!, layers = Int(m["layers"]!)!, bidirectional = m["bidirectional"] == "1"
        let batchFirst = m["batch_first"] == "1", I = Int(m["input_size"]!)!, H = Int(m["hidden_size"]!)!
        let lengths = try JSONDecoder().decode([Int]?.self, from: Data(m["lengths"]!.utf8))
        let layer: any RecurrentStack
        switch cell {
        case "lstm":
            layer = LSTM(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, batchFirst: batchFirst,
                         projectionSize: Int(m["proj_size"] ?? "0")!)
        case "gru": layer = GRU(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, batchFirst: batchFirst)
        default:
            layer = RNN(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional,
                        activation: m["nonlinearity"] == "relu" ? .relu : .tanh, batchFirst: batchFirst)
        }
        try Self.expectMatches(layer, f, lengths: lengths, name)
    }

    /// The cells PyTorch has no module for, against float64 references written from their
    /// equations (Scripts/make_cell_fixtures.py): peephole and layer-normalised LSTMs.
    @Test(arguments: fixtureNames(in: "cells"))
    func matchesReference(_ name: String) throws {
        let f = try Safetensors(contentsOf: fixtureURL("cells/\(name).safetensors"))
        let m = f.metadata
        let layers = Int(m["layers"]!)!, bidirectional = m["bidirectional"] == "1", I = Int(m["input_size"]!)!, H = Int(m["hidden_size"]!)!
        let lengths = try JSONDecoder().decode([Int]?.self, from: Data(m["lengths"]!.utf8))
        let layer: any RecurrentStack = m["cell"] == "peephole"
            ? RecurrentLayer(cell: PeepholeLSTMCell(hiddenSize: H), inputSize: I, layers: layers, bidirectional: bidirectional)
            : RecurrentLayer(cell: LayerNormLSTMCell(hiddenSize: H), inputSize: I, layers: layers, bidirectional: bidirectional)
        try Self.expectMatches(layer, f, lengths: lengths, name)
    }

    @Test func referenceFixturesArePresent() {
        #expect(fixtureNames(in: "cells").count == 4)
    }

    /// Loads the fixture's parameters into `layer` (their names must be the layer's), runs it
    /// forward and backward with the fixture's loss, and compares everything.
    static func expectMatches(_ layer: any RecurrentStack, _ f: Safetensors, lengths: [Int]?, _ name: String) throws {
        let hasC = layer.stateComponents.count == 2
        let torchNames = Set(f.names.filter { $0.hasPrefix("weight_") || $0.hasPrefix("bias_") || $0.hasPrefix("ln_") })
        #expect(Set(layer.namedParameters.map(\.name)) == torchNames, "parameter names differ from PyTorch's")
        for (pname, p) in layer.namedParameters {
            let t = try #require(f[pname], "fixture lacks \(pname)")
            #expect(p.shape == t.shape, "\(pname): shape \(p.shape) vs PyTorch \(t.shape)")
            p.value.assign(t)
        }
        let state = RecurrentState(h: f["h0"]!, c: f["c0"])
        let result = layer(f["x"]!, lengths: lengths, initialState: state)
        let check = { (actual: Tensor, key: String) in Self.expectExact(actual, f, key, "\(name) \(key)") }
        check(result.output, "output")
        check(result.state.h, "h_n")
        if hasC { check(result.state.c!, "c_n") }

        layer.zeroGrad()
        let grads = layer.backward(outputGradient: f["grad_output"]!,
                                   stateGradient: RecurrentState(h: f["grad_h_n"]!, c: f["grad_c_n"]))
        check(grads.input, "grad_x")
        check(grads.initialState.h, "grad_h0")
        if hasC { check(grads.initialState.c!, "grad_c0") }
        for (pname, p) in layer.namedParameters { check(p.grad, "grad." + pname) }
    }

    /// Within 1e-5 relative / 1e-6 absolute of the float64 reference. The long-sequence
    /// fixtures also hold PyTorch's own float32 answer (`torch32.*`): over 50-100 saturated
    /// steps float32 itself can miss that bound (PyTorch by up to 3e-6 on `weight_ih_l1` of the
    /// T = 100 fixture), so there a tensor also passes when its largest error is at most twice
    /// PyTorch float32's, or at most 1e-6 of the tensor's largest magnitude (a few float32 ulps
    /// at its scale: sums in another order, as another BLAS kernel family adds them, land there;
    /// e.g. 4.3e-6 on a layer-norm gain gradient of size 6.2 with AVX-512 kernels).
    static func expectExact(_ actual: Tensor, _ f: Safetensors, _ key: String, _ label: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        let expected = f[key]!
        guard let torch32 = f["torch32." + key], actual.shape == expected.shape,
              mismatch(actual.scalars, expected.scalars, rtol: 1e-5, atol: 1e-6) != nil else {
            expectClose(actual, expected, label, sourceLocation: sourceLocation)
            return
        }
        let e = expected.scalars
        let ours = zip(actual.scalars, e).map { abs($0 - $1) }.max()!
        let theirs = zip(torch32.scalars, e).map { abs($0 - $1) }.max()!
        let scale = e.map { abs($0) }.max()!
        #expect(ours <= 2 * theirs || ours <= 1e-6 * scale, "\(label): largest error \(ours), PyTorch float32's \(theirs)",
                sourceLocation: sourceLocation)
    }
}

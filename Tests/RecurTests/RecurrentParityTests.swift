import Foundation
import Testing
@testable import Recur

/// Forward outputs, final states and every gradient against PyTorch fixtures written by
/// Scripts/make_fixtures.py (float64 reference from float32 inputs).
@Suite struct RecurrentParityTests {
    static let names = fixtureNames(in: "torch").filter { !$0.hasPrefix("optim_") }

    @Test func fixturesArePresent() {
        #expect(Self.names.count == 52, "expected 52 recurrent fixtures, found \(Self.names.count)")
    }

    @Test(arguments: names)
    func matchesPyTorch(_ name: String) throws {
        let f = try Safetensors(contentsOf: fixtureURL("torch/\(name).safetensors"))
        let m = f.metadata
        let cell = m["cell"]!, layers = Int(m["layers"]!)!, bidirectional = m["bidirectional"] == "1"
        let batchFirst = m["batch_first"] == "1", I = Int(m["input_size"]!)!, H = Int(m["hidden_size"]!)!
        let lengths = try JSONDecoder().decode([Int]?.self, from: Data(m["lengths"]!.utf8))
        let layer: RecurrentLayer
        switch cell {
        case "lstm": layer = LSTM(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, batchFirst: batchFirst)
        case "gru": layer = GRU(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional, batchFirst: batchFirst)
        default:
            layer = RNN(inputSize: I, hiddenSize: H, layers: layers, bidirectional: bidirectional,
                        activation: m["nonlinearity"] == "relu" ? .relu : .tanh, batchFirst: batchFirst)
        }
        let torchNames = Set(f.names.filter { $0.hasPrefix("weight_") || $0.hasPrefix("bias_") })
        #expect(Set(layer.namedParameters.map(\.name)) == torchNames, "parameter names differ from PyTorch's")
        for (pname, p) in layer.namedParameters {
            let t = try #require(f[pname], "fixture lacks \(pname)")
            #expect(p.shape == t.shape, "\(pname): shape \(p.shape) vs PyTorch \(t.shape)")
            p.value.assign(t)
        }
        let state = RecurrentState(h: f["h0"]!, c: f["c0"])
        let result = layer(f["x"]!, lengths: lengths, initialState: state)
        expectClose(result.output, f["output"]!, "\(name) output")
        expectClose(result.state.h, f["h_n"]!, "\(name) h_n")
        if cell == "lstm" { expectClose(result.state.c!, f["c_n"]!, "\(name) c_n") }

        layer.zeroGrad()
        let grads = layer.backward(outputGradient: f["grad_output"]!,
                                   stateGradient: RecurrentState(h: f["grad_h_n"]!, c: f["grad_c_n"]))
        expectClose(grads.input, f["grad_x"]!, "\(name) grad x")
        expectClose(grads.initialState.h, f["grad_h0"]!, "\(name) grad h0")
        if cell == "lstm" { expectClose(grads.initialState.c!, f["grad_c0"]!, "\(name) grad c0") }
        for (pname, p) in layer.namedParameters {
            expectClose(p.grad, f["grad." + pname]!, "\(name) grad \(pname)")
        }
    }
}

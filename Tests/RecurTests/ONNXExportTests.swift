import Foundation
import Testing
@testable import Recur
@testable import RecurExport

@Suite struct ONNXExportTests {
    static func exported(_ config: ModelConfig, lengths: Bool = false, initialState: Bool = false) throws -> Onnx_ModelProto {
        let model = config.makeModel(seed: 3)
        return try ONNXExporter(lengths: lengths, initialState: initialState).export(model, config: config)
    }

    static func initializer(_ m: Onnx_ModelProto, _ name: String) throws -> (dims: [Int], values: [Float]) {
        let t = try #require(m.graph.initializer.first { $0.name == name }, "no initializer \(name)")
        let values = t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return (t.dims.map(Int.init), values)
    }

    static func attribute(_ node: Onnx_NodeProto, _ name: String) -> Onnx_AttributeProto? { node.attribute.first { $0.name == name } }

    /// A 2-layer bidirectional LSTM classifier with lengths: the op sequence, the LSTM
    /// attributes, the W/R/B shapes, PyTorch's i f g o blocks in ONNX's i o f c order, the
    /// biases side by side, the graph's inputs and outputs with named dynamic axes.
    @Test func aBidirectionalLSTMClassifierHasONNXsLayout() throws {
        let (I, H) = (3, 4)
        let config = ModelConfig(sequence: .lstm, inputSize: I, hiddenSize: H, layers: 2, bidirectional: true, outputSize: 5)
        let model = config.makeModel(seed: 3)
        let m = try ONNXExporter(lengths: true).export(model, config: config)
        #expect(m.opsetImport.map(\.version) == [14])
        #expect(m.graph.node.map(\.opType) == ["LSTM", "Transpose", "Reshape", "LSTM", "Transpose", "Reshape", "Concat", "Concat", "Transpose", "Reshape", "Gemm"])
        let lstm = m.graph.node[0]
        #expect(lstm.input == ["x", "rnn.W_l0", "rnn.R_l0", "rnn.B_l0", "lengths", "", ""])
        #expect(Self.attribute(lstm, "hidden_size")?.i == Int64(H))
        #expect(Self.attribute(lstm, "direction")?.s == Data("bidirectional".utf8))
        #expect(Self.attribute(lstm, "activations")?.strings.map { String(decoding: $0, as: UTF8.self) } == ["Sigmoid", "Tanh", "Tanh", "Sigmoid", "Tanh", "Tanh"])
        #expect(m.graph.node[3].input[0] == m.graph.node[2].output[0], "layer 1 reads layer 0's [T, B, D*H]")
        let W = try Self.initializer(m, "rnn.W_l1"), R = try Self.initializer(m, "rnn.R_l0"), B = try Self.initializer(m, "rnn.B_l0")
        #expect(W.dims == [2, 4 * H, 2 * H] && R.dims == [2, 4 * H, H] && B.dims == [2, 8 * H])
        // Reverse direction of layer 0, ONNX block o (1) = PyTorch block o (3).
        let params = Dictionary(model.namedParameters.map { ($0.name, $0.parameter.value.scalars) }, uniquingKeysWith: { a, _ in a })
        let whhReverse = try #require(params["rnn.weight_hh_l0_reverse"]), bihReverse = try #require(params["rnn.bias_ih_l0_reverse"])
        let bhh = try #require(params["rnn.bias_hh_l0"])
        let block = H * H
        for (onnx, torch) in [(0, 0), (1, 3), (2, 1), (3, 2)] {
            #expect(Array(R.values[(4 * block + onnx * block)..<(4 * block + (onnx + 1) * block)]) == Array(whhReverse[(torch * block)..<((torch + 1) * block)]))
            // B per direction: [Wb (4H), Rb (4H)].
            #expect(Array(B.values[(8 * H + onnx * H)..<(8 * H + (onnx + 1) * H)]) == Array(bihReverse[(torch * H)..<((torch + 1) * H)]))
            #expect(Array(B.values[(4 * H + onnx * H)..<(4 * H + (onnx + 1) * H)]) == Array(bhh[(torch * H)..<((torch + 1) * H)]))
        }
        let inputs = m.graph.input.map { ($0.name, $0.type.tensorType.elemType, $0.type.tensorType.shape.dim.map { $0.dimParam.isEmpty ? "\($0.dimValue)" : $0.dimParam }) }
        #expect(inputs.map(\.0) == ["x", "lengths"])
        #expect(inputs[0].2 == ["sequence", "batch", "\(I)"] && inputs[1].2 == ["batch"])
        #expect(inputs[1].1 == Int32(Onnx_TensorProto.DataType.int32.rawValue))
        #expect(m.graph.output.map(\.name) == ["logits", "output", "h_n", "c_n"])
        #expect(m.graph.output[2].type.tensorType.shape.dim.map(\.dimValue) == [4, 0, Int64(H)])
    }

    /// GRU: z r h from PyTorch's r z n, linear_before_reset 1 (reset after, PyTorch) or 0
    /// (reset before, Keras reset_after=False); an RNN's relu; h0 through Split per layer.
    @Test func gruAndRNNAttributes() throws {
        let H = 4
        for resetAfter in [true, false] {
            let config = ModelConfig(sequence: .gru, inputSize: 2, hiddenSize: H, outputSize: 1, resetAfter: resetAfter)
            let model = config.makeModel(seed: 1)
            let m = try ONNXExporter().export(model, config: config)
            let gru = try #require(m.graph.node.first { $0.opType == "GRU" })
            #expect(Self.attribute(gru, "linear_before_reset")?.i == (resetAfter ? 1 : 0))
            let wih = try #require(model.namedParameters.first { $0.name == "rnn.weight_ih_l0" }).parameter.value.scalars
            let W = try Self.initializer(m, "rnn.W_l0").values, block = H * 2
            #expect(Array(W[0..<block]) == Array(wih[block..<(2 * block)]), "ONNX z = PyTorch block 1")
            #expect(Array(W[block..<(2 * block)]) == Array(wih[0..<block]), "ONNX r = PyTorch block 0")
            #expect(Array(W[(2 * block)...]) == Array(wih[(2 * block)...]))
        }
        let relu = try Self.exported(ModelConfig(sequence: .rnnRelu, inputSize: 2, hiddenSize: H, layers: 3, outputSize: 1), initialState: true)
        let rnns = relu.graph.node.filter { $0.opType == "RNN" }
        #expect(rnns.count == 3 && rnns.allSatisfy { Self.attribute($0, "activations")?.strings == [Data("Relu".utf8)] })
        #expect(relu.graph.node.first?.opType == "Split" && relu.graph.node.first?.output.count == 3)
        #expect(rnns.map { $0.input[5] } == relu.graph.node[0].output)
    }

    /// A tied language model reads embedding.weight twice (Gather and the transposed head):
    /// one tensor, no head.weight; a sentiment model ends in `output` [B].
    @Test func languageAndSentimentModels() throws {
        let lm = try Self.exported(ModelConfig(languageModel: .lstm, vocabularySize: 11, embeddingSize: 6, hiddenSize: 6, layers: 2, tied: true))
        #expect(lm.graph.input.map(\.name) == ["ids"] && lm.graph.input[0].type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.int64.rawValue))
        #expect(!lm.graph.initializer.contains { $0.name == "head.weight" })
        #expect(lm.graph.node.filter { $0.input.contains("embedding.weight") }.map(\.opType) == ["Gather", "Transpose"])
        #expect(lm.graph.output.first?.name == "logits" && lm.graph.output.first?.type.tensorType.shape.dim.last?.dimValue == 11)
        let s = try Self.exported(ModelConfig(sentiment: .gru100, vocabularySize: 9, convention: .keras1), lengths: true)
        #expect(s.graph.output.map(\.name) == ["output"] && s.graph.output[0].type.tensorType.shape.dim.map(\.dimParam) == ["batch"])
        #expect(s.graph.node.filter { $0.opType == "Gemm" }.map { $0.input[1] } == ["dense.weight", "head.weight"])
    }

    /// What ONNX's ops cannot express is refused, naming it.
    @Test func unsupportedModelsAreRefused() throws {
        let cases: [(ModelConfig, String)] = [
            (ModelConfig(sequence: .lstm, inputSize: 2, hiddenSize: 4, outputSize: 1, projectionSize: 2), "projection"),
            (ModelConfig(sequence: .lstmLayerNorm, inputSize: 2, hiddenSize: 4, outputSize: 1), "LayerNormLSTMCell"),
            (ModelConfig(sequence: .gru, inputSize: 2, hiddenSize: 4, bidirectional: true, outputSize: 1, merge: .sum), "merged by sum"),
            (ModelConfig(jordan: 1, hiddenSize: 4, outputSize: 1), "jordan"),
        ]
        for (config, message) in cases {
            #expect { try Self.exported(config) } throws: { "\($0)".contains(message) }
        }
        #expect { try Self.exported(ModelConfig(languageModel: .gru, vocabularySize: 5, embeddingSize: 2, hiddenSize: 2, layers: 1), lengths: true) } throws: {
            "\($0)".contains("--lengths")
        }
    }

    /// The committed model, exported today, gives the committed .onnx bytes that onnxruntime
    /// ran (Scripts/make_onnx_fixture.py); Recur's forward gives onnxruntime's outputs.
    @Test func recurAgreesWithOnnxruntimesFixture() throws {
        let (config, layer, _) = try Checkpoint.loadModel(fixtureURL("onnx/lstm_bidirectional.safetensors").path)
        let bytes = try ONNXExporter(lengths: true).export(layer, config: config).serializedData()
        #expect(bytes == (try Data(contentsOf: fixtureURL("onnx/lstm_bidirectional.onnx"))), "the exporter's bytes differ from the file onnxruntime ran")
        let expected = try Safetensors(contentsOf: fixtureURL("onnx/lstm_bidirectional_onnxruntime.safetensors"))
        let model = try #require(layer as? SequenceModel)
        model.training = false
        let x = try #require(expected["x"]), lengths = try #require(expected["lengths"]).scalars.map { Int($0) }
        let (r, logits) = model.run(x, lengths: lengths)
        for (name, got) in [("logits", logits), ("output", r.output), ("h_n", r.state.h), ("c_n", r.state.c!)] {
            let want = try #require(expected[name])
            #expect(got.shape == want.shape, "\(name)")
            #expect(mismatch(got.scalars, want.scalars, rtol: 0, atol: 1e-5) == nil, "\(name) differs from onnxruntime's")
        }
    }
}

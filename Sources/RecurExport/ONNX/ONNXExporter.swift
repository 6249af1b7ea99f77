import Foundation
import Recur
import SwiftProtobuf

/// Writes a Recur model as an ONNX model (opset 14) that onnxruntime runs with the same
/// inputs and outputs as `recur infer`:
///
/// - sequence: `x` [T, B, I] float -> `logits` [B, O], `output` [T, B, D*H], `h_n` [L*D, B, H], `c_n` (LSTM)
/// - language-model: `ids` [T, B] int64 -> `logits` [T, B, V], `h_n`, `c_n`
/// - sentiment: `ids` [T, B] int64 -> `output` [B]
///
/// T and B are named dynamic axes (`sequence`, `batch`); time-major as `recur infer`. With
/// `lengths`, a graph input `lengths` [B] int32 feeds every recurrent op's `sequence_lens`;
/// with `initialState`, graph inputs `h0` (and `c0`) [L*D, B, H] feed `initial_h`/`initial_c`.
///
/// The recurrent layers become ONNX's `RNN`, `LSTM` and `GRU` ops: PyTorch's gate blocks
/// reordered to ONNX's (LSTM i f g o -> i o f c; GRU r z n -> z r h), the two biases side by
/// side in `B`, `linear_before_reset` 1 for the reset-after GRU and 0 for reset-before, and
/// `activations` from the cell (Keras' hard sigmoid, relu or sigmoid variants), a peephole
/// LSTM's `weight_ch` as `P`. Cells ONNX's ops cannot express (projection and layer-norm
/// LSTMs, Jordan networks) and
/// merges other than concatenation are refused with an error naming them.
public struct ONNXExporter: Sendable {
    public static let opset: Int64 = 14
    public var lengths = false
    public var initialState = false

    public init(lengths: Bool = false, initialState: Bool = false) {
        (self.lengths, self.initialState) = (lengths, initialState)
    }

    /// The ONNX model of `model`, described by `config` (as a model file holds them).
    public func export(_ model: any Layer, config: ModelConfig) throws -> Onnx_ModelProto {
        var b = Builder(parameters: Dictionary(model.namedParameters.map { ($0.name, $0.parameter.value) }, uniquingKeysWith: { a, _ in a }))
        switch model {
        case let m as SequenceModel:
            try b.sequence(m.recurrent, outputs: config.outputSize ?? m.head.weight.value.shape[0], self)
        case let m as LanguageModel:
            guard !lengths else { throw RecurError("a language model reads every step; --lengths is for sequence and sentiment models", fix: "export without --lengths") }
            try b.languageModel(m, self)
        case let m as SentimentModel:
            guard !initialState else { throw RecurError("a sentiment model starts from zeros; --initial-state is for sequence and language models", fix: "export without --initial-state") }
            try b.sentiment(m, self)
        default:
            throw RecurError("a \(config.task.rawValue) model has no ONNX export: its output feeds back into the recurrence, which ONNX's RNN, LSTM and GRU ops cannot express",
                             fix: "export it for PyTorch (recur export --to pytorch) and run it there")
        }
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        (opset.domain, opset.version) = ("", Self.opset)
        m.opsetImport = [opset]
        m.producerName = "recur"
        m.graph = b.graph.proto
        var meta = Onnx_StringStringEntryProto()
        (meta.key, meta.value) = ("recur_model", config.json)
        m.metadataProps = [meta]
        return m
    }

    /// Exports `model` and writes the serialized protobuf to `path`.
    public func write(_ model: any Layer, config: ModelConfig, to path: String) throws -> Onnx_ModelProto {
        let proto = try export(model, config: config)
        try AtomicFile.write(try proto.serializedData(), to: path)
        return proto
    }

    /// Fills one graph from a model's parameters (by state-dict name).
    struct Builder {
        var graph = ONNXGraph(name: "recur")
        let parameters: [String: Tensor]

        init(parameters: [String: Tensor]) { self.parameters = parameters }

        func tensor(_ name: String) throws -> Tensor {
            guard let t = parameters[name] else { preconditionFailure("ONNX export: the model has no parameter \(name); it has \(parameters.keys.sorted())") }
            return t
        }

        /// x [T, B, I] -> logits [B, O] and the stack's outputs.
        mutating func sequence(_ stack: any RecurrentStack, outputs: Int, _ e: ONNXExporter) throws {
            let (L, D, H) = (stack.layers, stack.directions, stack.hiddenSize)
            graph.input("x", .float, [.named("sequence"), .named("batch"), .fixed(stack.inputSize)])
            let r = try recurrent(stack, input: "x", e)
            graph.output("logits", .float, [.named("batch"), .fixed(outputs)])
            let features = flatten(graph.node("Transpose", [r.topState], [Attribute.ints("perm", [1, 0, 2])]), width: D * H)
            _ = graph.node("Gemm", [features, "head.weight", "head.bias"], [Attribute.int("transB", 1)], output: "logits")
            try weights(["head.weight", "head.bias"])
            graph.output("output", .float, [.named("sequence"), .named("batch"), .fixed(D * H)])
            stateOutputs(stack, L: L, D: D, H: H)
        }

        /// ids [T, B] -> logits [T, B, V]; the head reads embedding.weight when tied.
        mutating func languageModel(_ m: LanguageModel, _ e: ONNXExporter) throws {
            let stack = m.recurrent
            graph.input("ids", .int64, [.named("sequence"), .named("batch")])
            try weights(["embedding.weight"])
            let embedded = graph.node("Gather", ["embedding.weight", "ids"], [Attribute.int("axis", 0)])
            let r = try recurrent(stack, input: embedded, e)
            let headWeight = m.tied ? "embedding.weight" : "head.weight"
            if !m.tied { try weights(["head.weight"]) }
            let transposed = graph.node("Transpose", [headWeight], [Attribute.ints("perm", [1, 0])])
            let product = graph.node("MatMul", [r.output, transposed])
            try weights(["head.bias"])
            _ = graph.node("Add", [product, "head.bias"], output: "logits")
            graph.output("logits", .float, [.named("sequence"), .named("batch"), .fixed(m.vocabularySize)])
            graph.output("output", .float, [.named("sequence"), .named("batch"), .fixed(stack.outputWidth)])
            stateOutputs(stack, L: stack.layers, D: 1, H: stack.hiddenSize)
        }

        /// ids [T, B] -> output [B]: the final state through the dense and head layers, or the
        /// 1-unit state itself.
        mutating func sentiment(_ m: SentimentModel, _ e: ONNXExporter) throws {
            let stack = m.recurrent, H = stack.hiddenSize
            graph.input("ids", .int64, [.named("sequence"), .named("batch")])
            try weights(["embedding.weight"])
            let embedded = graph.node("Gather", ["embedding.weight", "ids"], [Attribute.int("axis", 0)])
            let r = try recurrent(stack, input: embedded, e, outputName: nil)
            var features = flatten(r.topState, width: H)
            for layer in ["dense", "head"] where parameters["\(layer).weight"] != nil {
                try weights(["\(layer).weight", "\(layer).bias"])
                features = graph.node("Gemm", [features, "\(layer).weight", "\(layer).bias"], [Attribute.int("transB", 1)])
            }
            _ = graph.node("Reshape", [features, constant("shape_batch", [-1])], output: "output")
            graph.output("output", .float, [.named("batch")])
        }

        /// The names `h_n` (and `c_n`) as graph outputs.
        mutating func stateOutputs(_ stack: any RecurrentStack, L: Int, D: Int, H: Int) {
            graph.output("h_n", .float, [.fixed(L * D), .named("batch"), .fixed(stack.outputSize)])
            if stack.recurrentCell.state.count == 2 { graph.output("c_n", .float, [.fixed(L * D), .named("batch"), .fixed(H)]) }
        }

        /// [B, ..., ] -> [B, width].
        mutating func flatten(_ value: String, width: Int) -> String {
            graph.node("Reshape", [value, constant("shape_rows", [-1, Int64(width)])])
        }

        /// An int64 constant, added once.
        mutating func constant(_ name: String, _ values: [Int64]) -> String {
            if !graph.proto.initializer.contains(where: { $0.name == name }) { graph.initializer(name, int64: values) }
            return name
        }

        /// Adds the named parameters as initializers under their own names.
        mutating func weights(_ names: [String]) throws {
            for n in names where !graph.proto.initializer.contains(where: { $0.name == n }) {
                let t = try tensor(n)
                graph.initializer(n, t.scalars, dims: t.shape)
            }
        }

        /// What ONNX op a cell maps to, with its gate order and attributes.
        struct CellOp {
            let op: String
            /// PyTorch block k of the ONNX order (LSTM i o f c from i f g o; GRU z r h from r z n).
            let blocks: [Int]
            let activations: [String]
            let attributes: [Onnx_AttributeProto]
            /// A peephole LSTM's `weight_ch` rows (w_ci, w_cf, w_co) in ONNX's P order (i, o, f).
            var peepholes: [Int]? = nil
        }

        static func onnxName(_ a: Activation, cell: String) throws -> String {
            switch a {
            case .tanh: return "Tanh"
            case .relu: return "Relu"
            case .sigmoid: return "Sigmoid"
            case .hardSigmoid: return "HardSigmoid"  // ONNX's defaults alpha 0.2, beta 0.5: Keras 2's
            case .identity:
                throw RecurError("a \(cell) with identity activation has no ONNX export here", fix: "use tanh, relu, sigmoid or hard_sigmoid")
            }
        }

        func cellOp(_ stack: any RecurrentStack) throws -> CellOp {
            guard stack.merge == .concat else {
                throw RecurError("a bidirectional stack merged by \(stack.merge.rawValue) has no ONNX export here; ONNX's ops concatenate the directions",
                                 fix: "train with the default merge (concat)")
            }
            switch stack.recurrentCell {
            case let c as RNNCell:
                return CellOp(op: "RNN", blocks: [0], activations: [try Self.onnxName(c.activation, cell: "rnn")], attributes: [])
            case let c as LSTMCell:
                guard c.projectionSize == 0 else {
                    throw RecurError("an LSTM with a projection (proj_size \(c.projectionSize)) has no ONNX op", fix: "export it for PyTorch (recur export --to pytorch)")
                }
                let (f, g) = (try Self.onnxName(c.recurrentActivation, cell: "lstm"), try Self.onnxName(c.activation, cell: "lstm"))
                return CellOp(op: "LSTM", blocks: [0, 3, 1, 2], activations: [f, g, g], attributes: [])
            case let c as GRUCell:
                let (f, g) = (try Self.onnxName(c.recurrentActivation, cell: "gru"), try Self.onnxName(c.activation, cell: "gru"))
                return CellOp(op: "GRU", blocks: [1, 0, 2], activations: [f, g], attributes: [Attribute.int("linear_before_reset", c.resetAfter ? 1 : 0)])
            case is PeepholeLSTMCell:
                return CellOp(op: "LSTM", blocks: [0, 3, 1, 2], activations: ["Sigmoid", "Tanh", "Tanh"], attributes: [], peepholes: [0, 2, 1])
            case let c:
                throw RecurError("the \(type(of: c)) cell has no ONNX op (ONNX has RNN, LSTM with or without peepholes, and GRU)",
                                 fix: "export it for PyTorch (recur export --to pytorch), or train an rnn, lstm or gru")
            }
        }

        /// PyTorch's gate blocks (rows of `H`) in ONNX's order.
        static func reordered(_ t: Tensor, blocks: [Int], hidden H: Int) -> [Float] {
            let v = t.scalars, width = v.count / (blocks.count * H)
            return blocks.flatMap { k in v[(k * H * width)..<((k + 1) * H * width)] }
        }

        /// Every layer of `stack` as one ONNX op: x [T, B, I] -> (output [T, B, D*H] named
        /// `outputName`, top layer's Y_h [D, B, H]), with `h_n` and `c_n` named.
        mutating func recurrent(_ stack: any RecurrentStack, input: String, _ e: ONNXExporter, outputName: String? = "output") throws -> (output: String, topState: String) {
            let cell = try cellOp(stack)
            let (L, D, H, G) = (stack.layers, stack.directions, stack.hiddenSize, cell.blocks.count)
            let lstm = cell.op == "LSTM"
            if e.lengths { graph.input("lengths", .int32, [.named("batch")]) }
            var initial: (h: [String], c: [String])? = nil
            if e.initialState {
                graph.input("h0", .float, [.fixed(L * D), .named("batch"), .fixed(H)])
                if lstm { graph.input("c0", .float, [.fixed(L * D), .named("batch"), .fixed(H)]) }
                func perLayer(_ name: String) -> [String] {
                    guard L > 1 else { return [name] }
                    let outs = (0..<L).map { graph.fresh("\(name)_l\($0)") }
                    graph.node("Split", [name, constant("split_\(D)x\(L)", Array(repeating: Int64(D), count: L))], outputs: outs, [Attribute.int("axis", 0)])
                    return outs
                }
                initial = (perLayer("h0"), lstm ? perLayer("c0") : [])
            }
            var x = input
            var hs: [String] = [], cs: [String] = [], topState = ""
            for l in 0..<L {
                var W: [Float] = [], R: [Float] = [], Bias: [Float] = [], P: [Float] = []
                var inputWidth = 0
                for d in 0..<D {
                    let suffix = "_l\(l)" + (d == 1 ? "_reverse" : "")
                    let wih = try tensor("rnn.weight_ih\(suffix)"), whh = try tensor("rnn.weight_hh\(suffix)")
                    inputWidth = wih.shape[1]
                    W += Self.reordered(wih, blocks: cell.blocks, hidden: H)
                    R += Self.reordered(whh, blocks: cell.blocks, hidden: H)
                    // Missing biases (bias none, or a single bias) are zeros in ONNX's B.
                    for name in ["rnn.bias_ih\(suffix)", "rnn.bias_hh\(suffix)"] {
                        Bias += parameters[name].map { Self.reordered($0, blocks: cell.blocks, hidden: H) } ?? [Float](repeating: 0, count: G * H)
                    }
                    if let order = cell.peepholes { P += Self.reordered(try tensor("rnn.weight_ch\(suffix)"), blocks: order, hidden: 1) }
                }
                let names = (w: "rnn.W_l\(l)", r: "rnn.R_l\(l)", b: "rnn.B_l\(l)")
                graph.initializer(names.w, W, dims: [D, G * H, inputWidth])
                graph.initializer(names.r, R, dims: [D, G * H, H])
                graph.initializer(names.b, Bias, dims: [D, 2 * G * H])
                if cell.peepholes != nil { graph.initializer("rnn.P_l\(l)", P, dims: [D, 3 * H]) }
                let outputs = [graph.fresh("Y_l\(l)"), graph.fresh("Y_h_l\(l)")] + (lstm ? [graph.fresh("Y_c_l\(l)")] : [])
                let inputs = [x, names.w, names.r, names.b, e.lengths ? "lengths" : "", initial?.h[l] ?? ""] + (lstm ? [initial?.c[l] ?? ""] : [])
                    + (cell.peepholes != nil ? ["rnn.P_l\(l)"] : [])
                let attributes = [Attribute.int("hidden_size", H), Attribute.string("direction", D == 2 ? "bidirectional" : "forward"),
                                  Attribute.strings("activations", Array([[String]](repeating: cell.activations, count: D).joined()))] + cell.attributes
                graph.node(cell.op, inputs, outputs: outputs, attributes)
                // Y [T, D, B, H] -> [T, B, D*H], the next layer's input.
                let timeBatch = graph.node("Transpose", [outputs[0]], [Attribute.ints("perm", [0, 2, 1, 3])])
                x = graph.node("Reshape", [timeBatch, constant("shape_time_batch", [0, 0, -1])], output: l == L - 1 ? outputName : nil)
                hs.append(outputs[1])
                if lstm { cs.append(outputs[2]) }
                topState = outputs[1]
            }
            _ = graph.node(L == 1 ? "Identity" : "Concat", hs, L == 1 ? [] : [Attribute.int("axis", 0)], output: "h_n")
            if lstm { _ = graph.node(L == 1 ? "Identity" : "Concat", cs, L == 1 ? [] : [Attribute.int("axis", 0)], output: "c_n") }
            return (x, topState)
        }
    }
}

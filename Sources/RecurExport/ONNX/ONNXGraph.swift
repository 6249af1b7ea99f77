import Foundation
import Recur

/// An ONNX graph under construction: nodes in order, initializers (weights), graph inputs and
/// outputs, and fresh value names. The messages are swift-protobuf's types generated from
/// onnx.proto (onnx.pb.swift); this type only fills them in.
struct ONNXGraph {
    private(set) var proto = Onnx_GraphProto()
    private var counter = 0

    init(name: String) { proto.name = name }

    /// A fresh value name: `stem_k`.
    mutating func fresh(_ stem: String) -> String {
        counter += 1
        return "\(stem)_\(counter)"
    }

    /// Appends a node; returns its outputs. An empty input name is an omitted optional input.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> [String] {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = "\(op)_\(proto.node.count)"
        n.input = inputs
        n.output = outputs
        n.attribute = attributes
        proto.node.append(n)
        return outputs
    }

    /// A node with one output, named fresh from `op` unless given.
    mutating func node(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], output: String? = nil) -> String {
        node(op, inputs, outputs: [output ?? fresh(op.lowercased())], attributes)[0]
    }

    /// A float initializer with `dims` (row-major values).
    @discardableResult
    mutating func initializer(_ name: String, _ values: [Float], dims: [Int]) -> String {
        precondition(values.count == dims.reduce(1, *), "ONNX initializer \(name): \(values.count) values for dims \(dims)")
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = dims.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }  // little-endian, as ONNX stores raw data
        proto.initializer.append(t)
        return name
    }

    /// An int64 initializer (shapes, axes, split sizes).
    @discardableResult
    mutating func initializer(_ name: String, int64 values: [Int64]) -> String {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = [Int64(values.count)]
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.int64Data = values
        proto.initializer.append(t)
        return name
    }

    /// A graph input or output: element type and dims, a String dim being a named dynamic axis.
    static func value(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dim]) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.rawValue)
        tensor.shape.dim = dims.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            switch d {
            case .fixed(let n): dim.dimValue = Int64(n)
            case .named(let s): dim.dimParam = s
            }
            return dim
        }
        v.type.tensorType = tensor
        return v
    }

    enum Dim { case fixed(Int), named(String) }

    mutating func input(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dim]) { proto.input.append(Self.value(name, type, dims)) }
    mutating func output(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [Dim]) { proto.output.append(Self.value(name, type, dims)) }
}

/// ONNX attributes by type.
enum Attribute {
    static func int(_ name: String, _ v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.i) = (name, .int, Int64(v))
        return a
    }

    static func ints(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.ints) = (name, .ints, v.map(Int64.init))
        return a
    }

    static func float(_ name: String, _ v: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.f) = (name, .float, v)
        return a
    }

    static func floats(_ name: String, _ v: [Float]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.floats) = (name, .floats, v)
        return a
    }

    static func string(_ name: String, _ v: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.s) = (name, .string, Data(v.utf8))
        return a
    }

    static func strings(_ name: String, _ v: [String]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.strings) = (name, .strings, v.map { Data($0.utf8) })
        return a
    }
}

import Foundation
import NeuralNet
import SwiftProtobuf

/// A VAE as two ONNX models (opset 17, IR version 8), so that its encoder
/// and decoder run in any ONNX runtime:
/// - `encoder.onnx`: input `x` [N, C, H, W] (or [N, D] for vectors) and, for a
///   conditional model, `label` [N, classes] (one-hot); outputs `mu` and
///   `logvar` [N, latent] (the posterior's parameters, not a sample);
/// - `decoder.onnx`: input `z` [N, latent] (and `label`); outputs `mean`, the
///   mean of p(x|z) in the input's shape, and `logits`, the decoder's output
///   before the likelihood's mean function.
/// N is a dynamic axis. The layers map one to one (Gemm, Relu, Tanh,
/// LeakyRelu, Conv, ConvTranspose, Flatten, Reshape), the parameters are
/// initializers named as in the state_dict, and the metadata properties hold
/// the run configuration (`config`) and the zoo version (`zoo_version`).
public enum ONNXExport {
    public static let opset: Int64 = 17
    public static let irVersion: Int64 = 8

    /// The serialized encoder and decoder models.
    /// - Throws: `ONNXExportError` when a parameter is missing or the configuration has no plan.
    public static func models(config: ModelConfig, parameters: [String: [Float]], metadata: [String: String]) throws -> (
        encoder: [UInt8], decoder: [UInt8]
    ) {
        guard case .success(let plan) = config.plan() else { throw ONNXExportError.noPlan(config.problems.joined(separator: "; ")) }
        let props = metadata.sorted { $0.key < $1.key }.map { kv in
            Onnx_StringStringEntryProto.with {
                $0.key = kv.key
                $0.value = kv.value
            }
        }
        let batch = "N"
        let L = config.latentDim
        let C = config.labelClasses

        // Encoder.
        var e = Graph(parameters: parameters)
        var x = "x"
        var inputs = [valueInfo("x", [batch] + config.inputShape.map(String.init))]
        if C > 0 {
            inputs.append(valueInfo("label", [batch, String(C)]))
            if config.labelsAsPlanes {
                let (h, w) = (config.inputShape[1], config.inputShape[2])
                let column = e.node("Reshape", ["label", e.int64Constant("label_shape", [-1, Int64(C), 1, 1])])
                let planes = e.node("Mul", [column, e.floatConstant("label_planes", [1, C, h, w], .init(repeating: 1, count: C * h * w))])
                x = e.node("Concat", [x, planes], [int("axis", 1)])
            } else {
                let flat = config.inputShape.count > 1 ? e.node("Flatten", [x], [int("axis", 1)]) : x
                x = e.node("Concat", [flat, "label"], [int("axis", 1)])
            }
        }
        for layer in plan.encoder { x = try e.emit(layer, x) }
        if plan.mu.input.count > 1 { x = e.node("Flatten", [x], [int("axis", 1)]) }
        _ = try e.linear(x, plan.mu.name ?? "mu", output: "mu")
        _ = try e.linear(x, plan.logvar.name ?? "logvar", output: "logvar")
        let encoder = model(
            e, name: "encoder", inputs: inputs, outputs: [valueInfo("mu", [batch, String(L)]), valueInfo("logvar", [batch, String(L)])],
            props: props)

        // Decoder.
        var d = Graph(parameters: parameters)
        var z = "z"
        inputs = [valueInfo("z", [batch, String(L)])]
        if C > 0 {
            inputs.append(valueInfo("label", [batch, String(C)]))
            z = d.node("Concat", [z, "label"], [int("axis", 1)])
        }
        for layer in plan.decoder { z = try d.emit(layer, z) }
        if config.inputShape.count > 1, plan.decoder.last?.output.count == 1 {
            z = d.node("Reshape", [z, d.int64Constant("image_shape", [-1] + config.inputShape.map(Int64.init))])
        }
        _ = d.node("Identity", [z], output: "logits")
        switch config.likelihood {
        case .bernoulli, .gaussian: _ = d.node("Sigmoid", ["logits"], output: "mean")
        case .gaussianLinear: _ = d.node("Identity", ["logits"], output: "mean")
        case .continuousBernoulli:
            // 1/(1 − e^(−l)) − 1/l, and its series ½ + l/12 − l³/720 where |l| < 0.1 (both ½ at 0).
            let one = d.floatConstant("one", [], [1])
            let exact = d.node(
                "Sub",
                [
                    d.node("Reciprocal", [d.node("Sub", [one, d.node("Exp", [d.node("Neg", ["logits"])])])]),
                    d.node("Reciprocal", ["logits"]),
                ])
            let l3 = d.node("Mul", ["logits", d.node("Mul", ["logits", "logits"])])
            let series = d.node(
                "Sub",
                [
                    d.node("Add", [d.floatConstant("half", [], [0.5]), d.node("Div", ["logits", d.floatConstant("twelve", [], [12])])]),
                    d.node("Div", [l3, d.floatConstant("seven_twenty", [], [720])]),
                ])
            let near = d.node("Less", [d.node("Abs", ["logits"]), d.floatConstant("series_bound", [], [0.1])])
            _ = d.node("Where", [near, series, exact], output: "mean")
        }
        let imageShape = [batch] + config.inputShape.map(String.init)
        let decoder = model(
            d, name: "decoder", inputs: inputs, outputs: [valueInfo("mean", imageShape), valueInfo("logits", imageShape)], props: props)
        return (try encoder.serializedBytes(), try decoder.serializedBytes())
    }

    static func model(
        _ g: Graph, name: String, inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto], props: [Onnx_StringStringEntryProto]
    )
        -> Onnx_ModelProto
    {
        Onnx_ModelProto.with { m in
            m.irVersion = irVersion
            m.opsetImport = [Onnx_OperatorSetIdProto.with { $0.version = opset }]
            m.producerName = "zoo"
            m.producerVersion = props.first { $0.key == "zoo_version" }?.value ?? ""
            m.metadataProps = props
            m.graph = Onnx_GraphProto.with {
                $0.name = name
                $0.node = g.nodes
                $0.initializer = g.initializers
                $0.input = inputs
                $0.output = outputs
            }
        }
    }

    /// A float tensor's name, with its dimensions as numbers or named (dynamic) axes.
    static func valueInfo(_ name: String, _ dims: [String]) -> Onnx_ValueInfoProto {
        Onnx_ValueInfoProto.with { v in
            v.name = name
            v.type = Onnx_TypeProto.with {
                $0.tensorType = Onnx_TypeProto.Tensor.with { t in
                    t.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                    t.shape = Onnx_TensorShapeProto.with {
                        $0.dim = dims.map { d in
                            Onnx_TensorShapeProto.Dimension.with { if let n = Int64(d) { $0.dimValue = n } else { $0.dimParam = d } }
                        }
                    }
                }
            }
        }
    }

    static func int(_ name: String, _ value: Int64) -> Onnx_AttributeProto {
        Onnx_AttributeProto.with {
            $0.name = name
            $0.type = .int
            $0.i = value
        }
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        Onnx_AttributeProto.with {
            $0.name = name
            $0.type = .ints
            $0.ints = values.map(Int64.init)
        }
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        Onnx_AttributeProto.with {
            $0.name = name
            $0.type = .float
            $0.f = value
        }
    }

    /// Nodes and initializers of one graph, with fresh names for intermediate values.
    struct Graph {
        let parameters: [String: [Float]]
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []
        var counter = 0

        init(parameters: [String: [Float]]) { self.parameters = parameters }

        /// Adds an `op` node; returns its output's name.
        mutating func node(_ op: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [], output: String? = nil) -> String {
            counter += 1
            let out = output ?? "\(op.lowercased())_\(counter)"
            nodes.append(
                Onnx_NodeProto.with {
                    $0.opType = op
                    $0.name = "\(op)_\(counter)"
                    $0.input = inputs
                    $0.output = [out]
                    $0.attribute = attributes
                })
            return out
        }

        mutating func floatConstant(_ name: String, _ shape: [Int], _ values: [Float]) -> String {
            initializers.append(
                Onnx_TensorProto.with {
                    $0.name = name
                    $0.dims = shape.map(Int64.init)
                    $0.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
                    $0.rawData = values.withUnsafeBufferPointer { p in
                        Data(p.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) })
                    }
                })
            return name
        }

        mutating func int64Constant(_ name: String, _ values: [Int64]) -> String {
            initializers.append(
                Onnx_TensorProto.with {
                    $0.name = name
                    $0.dims = [Int64(values.count)]
                    $0.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
                    $0.int64Data = values
                })
            return name
        }

        /// The parameter `name` of the state_dict as an initializer of `shape`.
        mutating func parameter(_ name: String, _ shape: [Int]) throws -> String {
            guard let values = parameters[name], values.count == shape.reduce(1, *) else {
                throw ONNXExportError.missingParameter(name, shape)
            }
            return floatConstant(name, shape, values)
        }

        /// Gemm(x, W, b) with W [out, in] transposed: nn.Linear.
        mutating func linear(_ x: String, _ name: String, output: String? = nil) throws -> String {
            guard let w = parameters["\(name).weight"], let b = parameters["\(name).bias"], !b.isEmpty, w.count % b.count == 0 else {
                throw ONNXExportError.missingParameter("\(name).weight", [])
            }
            let weight = try parameter("\(name).weight", [b.count, w.count / b.count])
            let bias = try parameter("\(name).bias", [b.count])
            return node("Gemm", [x, weight, bias], [int("transB", 1)], output: output)
        }

        /// The nodes of one planned layer applied to `x`.
        mutating func emit(_ layer: ModelConfig.PlannedLayer, _ x: String) throws -> String {
            let name = layer.name ?? ""
            switch layer.spec {
            case .linear:
                let flat = layer.input.count > 1 ? node("Flatten", [x], [int("axis", 1)]) : x
                return try linear(flat, name)
            case .activation(.relu): return node("Relu", [x])
            case .activation(.tanh): return node("Tanh", [x])
            case .leakyReLU(let slope): return node("LeakyRelu", [x], [float("alpha", slope)])
            case .flatten: return node("Flatten", [x], [int("axis", 1)])
            case .unflatten(let shape):
                return node("Reshape", [x, int64Constant("\(name.isEmpty ? "shape" : name)_\(counter)", [-1] + shape.map(Int64.init))])
            case .conv2d(let c), .convTranspose2d(let c):
                let shapes = layer.spec.parameterShapes(for: layer.input)
                let weight = try parameter("\(name).weight", shapes[0].1)
                let bias = try parameter("\(name).bias", shapes[1].1)
                var attributes = [
                    ints("kernel_shape", [c.kernel, c.kernel]), ints("strides", [c.stride, c.stride]),
                    ints("pads", [c.padding, c.padding, c.padding, c.padding]),
                ]
                if case .convTranspose2d = layer.spec {
                    attributes.append(ints("output_padding", [c.outputPadding, c.outputPadding]))
                    return node("ConvTranspose", [x, weight, bias], attributes)
                }
                return node("Conv", [x, weight, bias], attributes)
            }
        }
    }
}

/// Why a model could not be exported.
public enum ONNXExportError: Error, CustomStringConvertible {
    case noPlan(String)
    case missingParameter(String, [Int])
    public var description: String {
        switch self {
        case .noPlan(let why): return "the model cannot be exported: \(why)"
        case .missingParameter(let name, let shape): return "the checkpoint has no parameter \(name) of shape \(shape)"
        }
    }
}

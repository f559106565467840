import ArgumentParser
import Checkpoint
import Foundation
import Interchange
import Support
import Training

/// `zoo export`: a checkpoint's weights in a format other tools read.
public struct Export: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Write a checkpoint for other tools: ONNX models of its encoder and decoder, a safetensors file of its weights.",
        discussion: """
            --onnx DIR writes DIR/encoder.onnx (input x, and label, the one-hot class, for a \
            conditional model; outputs mu and logvar) and DIR/decoder.onnx (input z [and label]; \
            outputs mean, the mean of p(x|z) in the input's shape, and logits), opset \(ONNXExport.opset), \
            with a dynamic batch axis N and the run configuration ("config") and zoo version \
            ("zoo_version") in their metadata properties. Both files are written together or not at all.

            --safetensors FILE writes every parameter as float32 under its state_dict name \
            (fc1.weight, …, or encoder.0.weight, mu.weight, …), exact bytes, with the run \
            configuration (JSON), the recipe and the zoo version as strings in the header's \
            __metadata__ ("config", "recipe", "zoo_version", and "format": "pt", the Hugging \
            Face convention). Load it with safetensors.torch.load_file or \
            safetensors.numpy.load_file. The optimizer, RNG and history stay in the HDF5 \
            checkpoint, which remains the training format; `zoo import` makes a checkpoint \
            from such a file. The file is written through a temporary, so a failed export \
            leaves nothing half-written.
            """)

    @Argument(help: ArgumentHelp("The checkpoint to export.", valueName: "checkpoint.h5"))
    public var checkpoint: String

    @Option(help: ArgumentHelp("Write the weights to this safetensors file.", valueName: "file"))
    public var safetensors: String?

    @Option(help: ArgumentHelp("Write encoder.onnx and decoder.onnx into this directory (created if needed).", valueName: "dir"))
    public var onnx: String?

    public init() {}

    public func validate() throws {
        if safetensors == nil && onnx == nil { throw ValidationError("give --onnx DIR, --safetensors FILE, or both") }
        if safetensors?.isEmpty == true { throw ValidationError("--safetensors needs a file name") }
        if onnx?.isEmpty == true { throw ValidationError("--onnx needs a directory") }
    }

    public func run() throws {
        let c = try Checkpoint.read(from: checkpoint)
        let tensors = try Self.tensors(of: c, source: checkpoint)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let config = String(decoding: try encoder.encode(c.config), as: UTF8.self)
        if let dir = onnx {
            try prepareOutputDirectory(dir)
            let (e, d) = try ONNXExport.models(
                config: c.config.model, parameters: c.parameters, metadata: ["config": config, "zoo_version": Zoo.version])
            let files = [try OutputFile(dir + "/encoder.onnx"), try OutputFile(dir + "/decoder.onnx")]
            try files[0].write(bytes: e)
            try files[1].write(bytes: d)
            try OutputFile.commit(files)
            print("wrote \(dir)/encoder.onnx (x → mu, logvar) and \(dir)/decoder.onnx (z → mean, logits), opset \(ONNXExport.opset)")
        }
        if let safetensors {
            var metadata = ["format": "pt", "zoo_version": Zoo.version, "config": config]
            if let recipe = c.recipe { metadata["recipe"] = recipe }
            try Safetensors.write(tensors, metadata: metadata, to: safetensors)
            let count = tensors.reduce(0) { $0 + $1.values.count }
            print("wrote \(tensors.count) tensors (\(count) parameters, float32) to \(safetensors)")
        }
    }

    /// The checkpoint's parameters in state_dict order with their shapes.
    /// - Throws: `InterchangeError` when an array is missing or has the wrong size.
    static func tensors(of c: Checkpoint, source: String) throws -> [NamedTensor] {
        try c.config.model.parameterShapes.map { name, shape in
            guard let values = c.parameters[name] else { throw InterchangeError.missingTensor(file: source, name: name, shape: shape) }
            guard values.count == shape.reduce(1, *) else {
                throw InterchangeError.wrongShape(file: source, name: name, expected: shape, found: "\(values.count) values")
            }
            return NamedTensor(name: name, shape: shape, values: values)
        }
    }
}

/// Tensors that do not fit the architecture they are exported from or imported into.
enum InterchangeError: Error, CustomStringConvertible {
    case missingTensor(file: String, name: String, shape: [Int])
    case wrongShape(file: String, name: String, expected: [Int], found: String)
    case mismatched(file: String, problems: [String], architecture: String)
    case noArchitecture(file: String)

    var description: String {
        switch self {
        case .missingTensor(let f, let name, let shape): return "\(f) has no tensor \(name) (expected \(shape))"
        case .wrongShape(let f, let name, let expected, let found): return "\(f): \(name) is \(found), expected \(expected)"
        case .mismatched(let f, let problems, let arch):
            return "the tensors of \(f) do not fit the model \(arch): " + problems.joined(separator: "; ")
                + ". Give the --recipe or --config the weights were trained with (and --data, for the input's shape)"
        case .noArchitecture(let f):
            return
                "\(f) does not say which model its tensors belong to (no zoo config in its metadata); give --recipe NAME or --config CONFIG.json"
        }
    }
}

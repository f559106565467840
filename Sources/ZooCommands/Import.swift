import ArgumentParser
import Checkpoint
import Datasets
import Foundation
import Interchange
import NeuralNet
import Recipes
import Support
import Training

/// `zoo import`: a checkpoint from weights trained elsewhere.
public struct Import: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Make a zoo checkpoint from a file of weights: safetensors (a PyTorch state_dict, or a zoo export), .npz or HDF5.",
        discussion: """
            The file is recognised by its content: a safetensors file, a NumPy .npz archive \
            (numpy.savez(f, **{k: v.numpy() for k, v in model.state_dict().items()})) or an HDF5 \
            file with one dataset per state_dict name at its root (float32 or float64).
            The architecture comes from --recipe or --config (a run configuration JSON, as \
            `zoo inspect --json` prints under "config"), or, for a file `zoo export` wrote, \
            from its metadata. The data (--data, default the recipe's) fixes the input's \
            shape, as for `zoo train`. Every tensor's name and shape is checked against the \
            model before anything is written; the checkpoint gets a fresh Adam state at \
            epoch 0, so `zoo eval`, `embed`, `sample` and `resume` work on it like on any \
            other.
            """)

    @Argument(help: ArgumentHelp("The weights: a safetensors, .npz or HDF5 file.", valueName: "file"))
    public var file: String

    @Option(help: ArgumentHelp("The recipe (zoo list) or recipe file the weights belong to.", valueName: "name"))
    public var recipe: String?

    @Option(help: ArgumentHelp("A run configuration JSON the weights belong to.", valueName: "config.json"))
    public var config: String?

    @Option(help: ArgumentHelp("The data (as for zoo train); default: the configuration's.", valueName: "path"))
    public var data: String?

    @Option(help: ArgumentHelp("Write the checkpoint here.", valueName: "checkpoint.h5"))
    public var save: String

    public init() {}

    public func validate() throws {
        if recipe != nil && config != nil { throw ValidationError("give --recipe or --config, not both") }
    }

    public func run() throws {
        let (tensors, metadata) = try Self.weights(file)
        var (runConfig, recipeName) = try architecture(metadata: metadata)
        if let data { runConfig.data.path = data }
        try CheckpointSaver.checkTarget(save)
        let lock = try CheckpointSaver.lock(save)
        defer { lock.release() }
        let (trainer, _, fingerprint) = try makeTrainer(&runConfig)
        let p = trainer.model.parameters
        let expected = runConfig.model.parameterShapes
        var problems: [String] = []
        let given = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (name, shape) in expected {
            guard let t = given[name] else {
                problems.append("\(name) \(shape) is missing")
                continue
            }
            if t.shape != shape { problems.append("\(name) is \(t.shape), the model's is \(shape)") }
        }
        let extra = tensors.map(\.name).filter { n in !expected.contains { $0.0 == n } }
        if !extra.isEmpty { problems.append("the model has no \(extra.joined(separator: ", "))") }
        guard problems.isEmpty else {
            throw InterchangeError.mismatched(file: file, problems: problems, architecture: runConfig.model.summary)
        }
        for (name, _) in expected {
            guard let t = given[name] else { continue }
            let v = p.value(name)
            t.values.withUnsafeBufferPointer { v.pointer.update(from: $0.baseAddress!, count: v.count) }
        }
        try Checkpoint(trainer: trainer, dataFingerprint: fingerprint(), zooVersion: Zoo.version, recipe: recipeName).write(to: save)
        print(
            "imported \(tensors.count) tensors (\(p.count) parameters) into \(save): \(describe(runConfig)); "
                + "fresh Adam state at epoch 0 of \(runConfig.training.epochs)")
    }

    /// The tensors (and metadata) of a safetensors, `.npz` or HDF5 file.
    static func weights(_ path: String) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        let arrays: [(name: String, array: NumPyArray)]
        switch WeightsFileKind(path: path) {
        case .npz: arrays = try KerasArrays.allArrays(npz: path)
        case .hdf5: arrays = try KerasArrays.allArrays(hdf5: path, group: nil)
        case .other: return try Safetensors.read(from: path)
        }
        let tensors = try arrays.map { name, array in
            let floats: [Float]?
            do throws(NonFiniteValue) { floats = try array.floatValues() } catch {
                throw InterchangeError.wrongShape(
                    file: path, name: name, expected: [], found: "not finite at index \(error.index) (\(error.value))")
            }
            guard let values = floats else {
                throw InterchangeError.wrongShape(file: path, name: name, expected: [], found: "\(array.dtype) (integers, not weights)")
            }
            return NamedTensor(name: name, shape: array.shape, values: values)
        }
        return (tensors, [:])
    }

    /// The run configuration the weights belong to, and the recipe's name.
    func architecture(metadata: [String: String]) throws -> (RunConfig, String?) {
        if let recipe {
            let (r, c) = try RecipeOption.load(recipe)
            return (c, r.name)
        }
        let json: String
        let source: String
        if let config {
            json = String(decoding: try readRegularFile(config, maximumBytes: 1 << 20), as: UTF8.self)
            source = config
        } else if let stored = metadata["config"] {
            json = stored
            source = "the config in \(file)'s metadata"
        } else {
            throw InterchangeError.noArchitecture(file: file)
        }
        do {
            let c = try JSONDecoder().decode(RunConfig.self, from: Data(json.utf8))
            if !c.problems.isEmpty { throw TrainingError.invalidConfig("\(source): " + c.problems.joined(separator: "; ")) }
            return (c, config == nil ? metadata["recipe"] : nil)
        } catch let e as TrainingError {
            throw e
        } catch {
            throw TrainingError.invalidConfig("\(source) is not a run configuration: \(describe(decodingError: error))")
        }
    }
}

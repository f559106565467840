import HDF5
import NeuralNet

extension Checkpoint {
    /// Mean, standard deviation and L2 norm of one parameter array.
    public struct ParameterStatistics: Encodable, Equatable, Sendable {
        public let name: String
        public let shape: [Int]
        public let mean: Double
        public let std: Double
        public let norm: Double
    }

    /// Per-parameter statistics in state_dict order (what `zoo inspect` shows
    /// and h5py + numpy reproduce), computed in double precision.
    public var parameterStatistics: [ParameterStatistics] {
        config.model.parameterShapes.map { name, shape in
            let v = (parameters[name] ?? []).map(Double.init)
            let n = Double(max(v.count, 1))
            let mean = v.reduce(0, +) / n
            let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
            return ParameterStatistics(
                name: name, shape: shape, mean: mean, std: variance.squareRoot(),
                norm: v.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
    }

    /// The most elements `--verify` reads from one dataset: more than any
    /// checkpoint of a model within zoo's limits holds in one array.
    public static let maximumVerifiedElements = ModelConfig.maximumParameters

    /// Reads every dataset in the file (each object once, hard links only);
    /// returns how many were read.
    public static func verifyDatasets(at checkpoint: String) throws -> Int {
        if case .broken(let why) = FileSeal.check(path: checkpoint) { throw CheckpointError.damaged(path: checkpoint, reason: why) }
        var count = 0
        do {
            let f = try HDF5File.open(checkpoint)
            try f.walk { g, name, path, kind in
                guard kind == .dataset else { return }
                let info = try g.info(name)
                let limit = maximumVerifiedElements
                do {
                    switch info.typeName {
                    case "string": _ = try g.readString(name)
                    case "uint64": _ = try g.read(name, as: UInt64.self, maxCount: limit)
                    case "int64": _ = try g.read(name, as: Int64.self, maxCount: limit)
                    case "float64": _ = try g.read(name, as: Double.self, maxCount: limit)
                    case "float32": _ = try g.read(name, as: Float.self, maxCount: limit)
                    default:
                        throw CheckpointError.invalid(path: checkpoint, reason: "\(path) is \(info.description), a type zoo never writes")
                    }
                } catch let e as HDF5Error {
                    throw CheckpointError.damaged(path: checkpoint, reason: "\(path) cannot be read (\(e))")
                }
                count += 1
            }
            try f.close()
        } catch let e as HDF5ContentError {
            throw CheckpointError.invalid(path: checkpoint, reason: e.detail)
        }
        return count
    }
}

/// Everything that can be wrong with a checkpoint file, naming the file.
public enum CheckpointError: Error, CustomStringConvertible, Sendable {
    case notACheckpoint(path: String, reason: String)
    case newerFormat(path: String, found: Int64, supported: Int64)
    case missingParameter(path: String, name: String)
    case extraParameter(path: String, name: String)
    case wrongShape(path: String, name: String, found: [Int], expected: [Int])
    case wrongType(path: String, name: String, found: String, expected: String)
    case badConfig(path: String, reason: String)
    case badTrainingState(path: String, reason: String)
    case missingOptimizerState(path: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case .notACheckpoint(let p, let why):
            return "\(p) is not a zoo checkpoint: \(why)"
        case .newerFormat(let p, let found, let supported):
            return "\(p) has format_version \(found), newer than this zoo reads (\(supported)); upgrade zoo"
        case .missingParameter(let p, let name):
            return "\(p): parameter /model/\(name) is missing"
        case .extraParameter(let p, let name):
            return "\(p): /model/\(name) is not a parameter of the configured model"
        case .wrongShape(let p, let name, let found, let expected):
            return "\(p): /model/\(name) has shape \(found), the configured model needs \(expected)"
        case .wrongType(let p, let name, let found, let expected):
            return "\(p): \(name) is \(found), expected \(expected)"
        case .badConfig(let p, let why):
            return "\(p): /config is not a valid configuration: \(why)"
        case .badTrainingState(let p, let why):
            return "\(p): /training is not a valid training state: \(why)"
        case .missingOptimizerState(let p):
            return "\(p) has no optimizer state (a model trained elsewhere?); pass --fresh-optimizer to resume with a new Adam"
        case .cannotWrite(let p, let why):
            return "cannot write \(p): \(why); the existing file, if any, is unchanged"
        }
    }
}

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
    /// A value or object zoo never writes (wrong type, out of range, not finite, a link).
    case invalid(path: String, reason: String)
    /// Data that exists but cannot be read (a checksum failure, a damaged chunk).
    case damaged(path: String, reason: String)
    /// The config or an attribute differs from what was saved.
    case digestMismatch(path: String, stored: String, computed: String)
    /// Another process holds the run's lock.
    case locked(path: String, holder: String)

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
        case .invalid(let p, let why):
            return "\(p) is not a valid zoo checkpoint: \(why)"
        case .damaged(let p, let why):
            return "\(p) is damaged: \(why); restore it from a copy"
        case .digestMismatch(let p, let stored, let computed):
            return "\(p) was modified or damaged: its config and attributes no longer match the metadata digest saved with them "
                + "(stored \(stored.prefix(16))…, now \(computed.prefix(16))…); restore it from a copy"
        case .locked(let p, let holder):
            return "\(p) is in use by another zoo run (\(holder)); wait for it to finish or choose another path"
        }
    }
}

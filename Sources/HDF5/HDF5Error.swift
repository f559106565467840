import CHDF5

/// A failed HDF5 call, with HDF5's own error stack.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// What zoo was doing ("opening /x.h5", "reading /model/fc1.weight").
    public let operation: String
    /// The path of the file involved, when known.
    public let file: String?
    /// HDF5's error stack, innermost first, one line per frame.
    public let stack: [String]

    public var description: String {
        var s = (file.map { "\($0): " } ?? "") + operation + " failed"
        if !stack.isEmpty { s += " (HDF5: " + stack.joined(separator: "; ") + ")" }
        return s
    }
}

/// HDF5 prints its error stack to stderr by default; zoo turns that off and
/// puts the stack into `HDF5Error` instead.
enum HDF5Library {
    /// Switches off automatic error printing for the calling thread.
    static func quiet() {
        H5Eset_auto2(zoo_H5E_DEFAULT(), nil, nil)
    }

    /// The current error stack as text (and clears it).
    static func errorStack() -> [String] {
        final class Lines { var items: [String] = [] }
        let lines = Lines()
        let walker: H5E_walk2_t = { _, error, data in
            guard let error, let data else { return 0 }
            let lines = Unmanaged<Lines>.fromOpaque(data).takeUnretainedValue()
            let e = error.pointee
            let function = e.func_name.map { String(cString: $0) } ?? "?"
            let description = e.desc.map { String(cString: $0) } ?? ""
            var major = ""
            var minor = ""
            var buf = [CChar](repeating: 0, count: 256)
            if H5Eget_msg(e.maj_num, nil, &buf, 256) > 0 { major = String(cString: buf) }
            if H5Eget_msg(e.min_num, nil, &buf, 256) > 0 { minor = String(cString: buf) }
            lines.items.append("\(function): \(description) [\(major) / \(minor)]")
            return 0
        }
        H5Ewalk2(zoo_H5E_DEFAULT(), H5E_WALK_UPWARD, walker, Unmanaged.passUnretained(lines).toOpaque())
        H5Eclear2(zoo_H5E_DEFAULT())
        return lines.items
    }
}

/// Throws an `HDF5Error` with the current stack when `status` is negative.
@discardableResult
func check<T: BinaryInteger>(_ status: T, _ operation: @autoclosure () -> String, file: String?) throws -> T {
    if status < 0 { throw HDF5Error(operation: operation(), file: file, stack: HDF5Library.errorStack()) }
    return status
}

/// A file whose content is not what the reader expects: a link it will not
/// follow, an object of another type, rank or size than it reads into, or
/// more of something than any file zoo writes holds. Raised before any data
/// is read or any memory sized by the file is allocated.
public enum HDF5ContentError: Error, CustomStringConvertible, Sendable {
    case notARegularFile(file: String, reason: String)
    case link(file: String?, object: String, kind: LinkKind)
    case wrongKind(file: String?, object: String, found: String, expected: String)
    case wrongType(file: String?, object: String, found: String, expected: String)
    case tooLarge(file: String?, object: String, found: String, limit: String)
    case tooMany(file: String?, what: String, found: Int, limit: Int)

    public var description: String {
        switch self {
        case .notARegularFile(let f, _): return "\(f) " + detail
        case .link(let f, _, _), .wrongKind(let f, _, _, _), .wrongType(let f, _, _, _), .tooLarge(let f, _, _, _),
            .tooMany(let f, _, _, _):
            return (f.map { "\($0): " } ?? "") + detail
        }
    }

    /// The problem without the file's path.
    public var detail: String {
        switch self {
        case .notARegularFile(_, let why):
            return "cannot be opened: \(why); zoo reads only regular files"
        case .link(_, let o, let kind):
            return "\(o) is a\(kind == .external ? "n" : "") \(kind.rawValue) link; zoo follows no links (store the object itself)"
        case .wrongKind(_, let o, let found, let expected):
            return "\(o) is \(found), expected \(expected)"
        case .wrongType(_, let o, let found, let expected):
            return "\(o) is \(found), expected \(expected)"
        case .tooLarge(_, let o, let found, let limit):
            return "\(o) is too large: \(found), at most \(limit)"
        case .tooMany(_, let what, let found, let limit):
            return "the file has \(found) \(what), more than the \(limit) zoo accepts"
        }
    }
}

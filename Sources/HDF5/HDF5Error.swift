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
            var major = "", minor = ""
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

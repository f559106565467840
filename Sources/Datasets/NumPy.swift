#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An array read from a NumPy `.npy` file: its element type, its shape and
/// its raw little-endian bytes in C order.
public struct NumPyArray: Sendable, Equatable {
    /// The element types zoo reads: unsigned bytes and floats for data,
    /// integers for labels.
    public enum DType: String, Sendable, CaseIterable {
        case uint8 = "u1"
        case int8 = "i1"
        case uint16 = "u2"
        case int16 = "i2"
        case uint32 = "u4"
        case int32 = "i4"
        case uint64 = "u8"
        case int64 = "i8"
        case float32 = "f4"
        case float64 = "f8"

        public var size: Int { Int(rawValue.dropFirst()) ?? 1 }
        public var isInteger: Bool { self != .float32 && self != .float64 }
    }

    public let dtype: DType
    public let shape: [Int]
    public let bytes: [UInt8]
    public var count: Int { shape.reduce(1, *) }
}

/// Reads NumPy's `.npy` format (versions 1.0, 2.0 and 3.0): the magic
/// `\x93NUMPY`, a version, a header length, a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (N, 8, 8), }`, then
/// the data. Only plain numeric arrays in C order are accepted: object arrays
/// (pickles) are refused without being loaded, as are structured dtypes,
/// big-endian data and Fortran order. The declared size is checked against
/// the file's real size before anything is allocated.
public enum NumPyReader {
    public static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
    /// Largest array accepted (the same bound as an IDX payload), 4 GiB.
    public static let maximumBytes = 1 << 32
    /// NumPy writes headers of at most a few hundred bytes; 64 KiB is generous.
    public static let maximumHeaderBytes = 1 << 16

    /// Reads the array of the regular file at `path`.
    /// - Throws: `DatasetError` naming the file and what is wrong with it.
    public static func read(path: String) throws -> NumPyArray {
        let bytes = try readRegularFile(path, maximumBytes: maximumBytes + maximumHeaderBytes)
        return try parse(bytes, path: path)
    }

    /// Parses the bytes of a `.npy` file (`path` names it in errors).
    public static func parse(_ file: [UInt8], path: String) throws -> NumPyArray {
        func bad(_ why: String) -> DatasetError { .badArray(path: path, reason: why) }
        guard file.count >= 10, Array(file[0..<6]) == magic else {
            throw bad("it does not start with NumPy's magic \\x93NUMPY; save arrays with numpy.save")
        }
        let major = file[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(file[8]) | Int(file[9]) << 8
            headerStart = 10
        case 2, 3:
            guard file.count >= 12 else { throw bad("the header is cut short") }
            headerLength = (0..<4).reduce(0) { $0 | Int(file[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw bad("format version \(major).\(file[7]) is not one zoo reads (1.0, 2.0, 3.0)")
        }
        guard headerLength <= maximumHeaderBytes, headerStart + headerLength <= file.count else {
            throw bad("the header claims \(headerLength) bytes, more than the file or zoo's \(maximumHeaderBytes)-byte limit allows")
        }
        guard let header = String(validating: file[headerStart..<(headerStart + headerLength)], as: UTF8.self) else {
            throw bad("the header is not text")
        }
        let dict: [String: HeaderValue]
        var parser = HeaderParser(header)
        do { dict = try parser.dictionary() } catch let e as ParseError {
            throw bad("the header \(header.trimmed) is not a NumPy header: \(e.message)")
        }
        guard case .string(let descr)? = dict["descr"] else {
            if case .list? = dict["descr"] { throw bad("it holds a structured (record) array; zoo reads plain numeric arrays") }
            throw bad("the header has no 'descr' string")
        }
        guard case .bool(let fortran)? = dict["fortran_order"] else { throw bad("the header has no 'fortran_order'") }
        guard case .tuple(let shape)? = dict["shape"] else { throw bad("the header has no 'shape' tuple") }
        if descr.dropFirst().hasPrefix("O") {
            throw bad("it holds Python objects (dtype \(descr)), which only a pickle can load; zoo never unpickles. Save a numeric array")
        }
        guard descr.count >= 3, let order = descr.first, let dtype = NumPyArray.DType(rawValue: String(descr.dropFirst())) else {
            throw bad("dtype \(descr) is not one zoo reads (uint8, float32, float64 for data; integers for labels)")
        }
        if order == ">" && dtype.size > 1 {
            throw bad("dtype \(descr) is big-endian; convert it with array.astype('<\(dtype.rawValue)')")
        }
        guard order == "<" || order == "|" || (order == ">" && dtype.size == 1) || order == "=" else {
            throw bad("dtype \(descr) has an unknown byte order")
        }
        if fortran { throw bad("it is in Fortran order; save numpy.ascontiguousarray(array) instead") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("the shape \(shape) has a negative size") }
        var elements = 1
        for d in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maximumBytes else { throw bad("the shape \(shape) is larger than zoo's 4 GiB limit") }
            elements = product
        }
        let dataStart = headerStart + headerLength
        let declared = elements * dtype.size
        let present = file.count - dataStart
        if declared > present {
            throw bad("the shape \(shape) of \(descr) needs \(declared) bytes of data but the file holds \(present); it is truncated")
        }
        if declared < present { throw bad("it has \(present - declared) bytes after the data its header declares") }
        return NumPyArray(dtype: dtype, shape: shape, bytes: Array(file[dataStart...]))
    }

    // MARK: The header's Python literal

    enum HeaderValue: Equatable {
        case string(String)
        case bool(Bool)
        case int(Int)
        case tuple([Int])
        case list
    }

    struct ParseError: Error {
        let message: String
    }

    /// A strict parser for the one dict literal NumPy writes: string keys,
    /// values that are strings, True/False, integers, tuples of integers (a
    /// list, a structured dtype, is recognised only to be refused).
    struct HeaderParser {
        let chars: [Character]
        var i = 0
        init(_ text: String) { chars = Array(text) }

        mutating func skipSpace() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

        mutating func expect(_ c: Character) throws {
            skipSpace()
            guard i < chars.count, chars[i] == c else { throw ParseError(message: "expected '\(c)' at character \(i)") }
            i += 1
        }

        mutating func peek() -> Character? {
            skipSpace()
            return i < chars.count ? chars[i] : nil
        }

        mutating func string() throws -> String {
            skipSpace()
            guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else {
                throw ParseError(message: "expected a string at character \(i)")
            }
            let quote = chars[i]
            i += 1
            let start = i
            while i < chars.count, chars[i] != quote {
                if chars[i] == "\\" { throw ParseError(message: "escapes are not expected") }
                i += 1
            }
            guard i < chars.count else { throw ParseError(message: "an unterminated string") }
            defer { i += 1 }
            return String(chars[start..<i])
        }

        mutating func integer() throws -> Int {
            skipSpace()
            let start = i
            if i < chars.count, chars[i] == "-" { i += 1 }
            while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
            // Python 2 wrote long integers with an L suffix.
            let digits = String(chars[start..<i])
            if i < chars.count, chars[i] == "L" { i += 1 }
            guard let v = Int(digits) else { throw ParseError(message: "expected an integer at character \(start)") }
            return v
        }

        mutating func value() throws -> HeaderValue {
            switch peek() {
            case "'", "\"": return .string(try string())
            case "(":
                i += 1
                var items: [Int] = []
                while peek() != ")" {
                    items.append(try integer())
                    if peek() == "," { i += 1 } else { break }
                }
                try expect(")")
                return .tuple(items)
            case "[":
                return .list
            case "T", "F":
                for (word, v) in [("True", true), ("False", false)] where String(chars[i..<min(i + word.count, chars.count)]) == word {
                    i += word.count
                    return .bool(v)
                }
                throw ParseError(message: "expected True or False at character \(i)")
            default:
                return .int(try integer())
            }
        }

        mutating func dictionary() throws -> [String: HeaderValue] {
            try expect("{")
            var out: [String: HeaderValue] = [:]
            while peek() != "}" {
                let key = try string()
                try expect(":")
                let v = try value()
                out[key] = v
                if case .list = v { return out }  // a structured dtype: refused by the caller
                if peek() == "," { i += 1 } else { break }
            }
            try expect("}")
            return out
        }
    }
}

extension String {
    fileprivate var trimmed: String {
        let s = self.trimmingSpaces
        return s.count > 120 ? String(s.prefix(120)) + "…" : s
    }

    private var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        return String(s)
    }
}

/// Writes float32 arrays in NumPy's `.npy` format 1.0 (what numpy.load reads).
public enum NumPyWriter {
    /// The bytes of a little-endian float32 array of `shape` in C order.
    public static func encode(_ values: [Float], shape: [Int]) -> [UInt8] {
        precondition(values.count == shape.reduce(1, *))
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(dims), }"
        // Magic (6) + version (2) + length (2) + header, padded to 64 bytes, ending in a newline.
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let n = header.utf8.count
        var out = NumPyReader.magic + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8)
        out.reserveCapacity(out.count + 4 * values.count)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    }
}

import Foundation

/// A validator for the JSON Schema keywords zoo's schemas use: type, properties,
/// required, additionalProperties (boolean), enum, const, minimum, maximum,
/// exclusiveMinimum, exclusiveMaximum, items, minItems, maxItems, and `$ref`
/// to a definition (`#/$defs/NAME` in the same document, or
/// `FILE#/$defs/NAME` in one of the `documents` given by file name).
/// Anything else in a schema is ignored (documentation keywords such as
/// title and description).
public struct JSONSchema {
    let root: [String: Any]
    let documents: [String: [String: Any]]

    /// - Parameter documents: other schemas `$ref`s may point into, by file name.
    /// - Throws: `JSONSchemaError` when a document is not a JSON object.
    public init(json: String, documents: [String: String] = [:]) throws {
        func object(_ text: String) throws -> [String: Any] {
            guard let o = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw JSONSchemaError.notAnObject
            }
            return o
        }
        root = try object(json)
        var parsed: [String: [String: Any]] = [:]
        for (name, text) in documents { parsed[name] = try object(text) }
        self.documents = parsed
    }

    /// Every violation, as "location: problem" (empty when the document is valid).
    public func violations(of json: String) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else {
            return ["$: not valid JSON"]
        }
        var out: [String] = []
        check(value, against: root, in: root, at: "$", into: &out)
        return out
    }

    /// The schema a `$ref` names and the document it lives in (for its own refs).
    private func resolve(_ ref: String, in document: [String: Any]) -> ([String: Any], [String: Any])? {
        let parts = ref.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        guard let doc = parts[0].isEmpty ? document : documents[String(parts[0])] else { return nil }
        var node: Any = doc
        for key in parts[1].split(separator: "/") {
            guard let next = (node as? [String: Any])?[String(key)] else { return nil }
            node = next
        }
        return (node as? [String: Any]).map { ($0, doc) }
    }

    private func typeName(_ v: Any) -> String {
        switch v {
        case is NSNull: return "null"
        case let n as NSNumber:
            // JSONSerialization's NSNumbers: booleans are chars, JSON integers
            // integer types, numbers written with a fraction or exponent doubles.
            switch String(cString: n.objCType) {
            case "c", "B": return "boolean"
            case "d", "f": return "number"
            default: return "integer"
            }
        case is String: return "string"
        case is [Any]: return "array"
        case is [String: Any]: return "object"
        default: return "unknown"
        }
    }

    private func check(_ v: Any, against s: [String: Any], in document: [String: Any], at path: String, into out: inout [String]) {
        if let ref = s["$ref"] as? String {
            guard let (target, doc) = resolve(ref, in: document) else {
                out.append("\(path): the schema's $ref \(ref) names no definition")
                return
            }
            check(v, against: target, in: doc, at: path, into: &out)
            return
        }
        let actual = typeName(v)
        if let t = s["type"] {
            let allowed = (t as? [String]) ?? [(t as? String) ?? ""]
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok {
                out.append("\(path): expected \(allowed.joined(separator: " or ")), found \(actual)")
                return
            }
        }
        if let e = s["enum"] as? [Any], !e.contains(where: { equal($0, v) }) {
            out.append("\(path): \(render(v)) is not one of \(e.map(render).joined(separator: ", "))")
        }
        if let c = s["const"], !equal(c, v) { out.append("\(path): must be \(render(c)), found \(render(v))") }
        if let n = (v as? NSNumber)?.doubleValue, actual == "integer" || actual == "number" {
            if let m = (s["minimum"] as? NSNumber)?.doubleValue, n < m {
                out.append("\(path): \(render(v)) is below the minimum \(render(m))")
            }
            if let m = (s["maximum"] as? NSNumber)?.doubleValue, n > m {
                out.append("\(path): \(render(v)) is above the maximum \(render(m))")
            }
            if let m = (s["exclusiveMinimum"] as? NSNumber)?.doubleValue, n <= m {
                out.append("\(path): \(render(v)) must be greater than \(render(m))")
            }
            if let m = (s["exclusiveMaximum"] as? NSNumber)?.doubleValue, n >= m {
                out.append("\(path): \(render(v)) must be less than \(render(m))")
            }
        }
        if let a = v as? [Any] {
            if let m = s["minItems"] as? Int, a.count < m { out.append("\(path): needs at least \(m) items, found \(a.count)") }
            if let m = s["maxItems"] as? Int, a.count > m { out.append("\(path): takes at most \(m) items, found \(a.count)") }
            if let items = s["items"] as? [String: Any] {
                for (i, x) in a.enumerated() { check(x, against: items, in: document, at: "\(path)[\(i)]", into: &out) }
            }
        }
        if let o = v as? [String: Any] {
            let properties = s["properties"] as? [String: Any] ?? [:]
            for key in (s["required"] as? [String] ?? []) where o[key] == nil {
                out.append("\(path): missing required key \"\(key)\"")
            }
            for key in o.keys.sorted() {
                if let sub = properties[key] as? [String: Any] {
                    check(o[key]!, against: sub, in: document, at: "\(path).\(key)", into: &out)
                } else if (s["additionalProperties"] as? Bool) == false {
                    out.append("\(path): unknown key \"\(key)\"")
                }
            }
        }
    }

    private func equal(_ a: Any, _ b: Any) -> Bool {
        if let x = a as? NSNumber, let y = b as? NSNumber { return x == y }
        if let x = a as? String, let y = b as? String { return x == y }
        return a is NSNull && b is NSNull
    }

    private func render(_ v: Any) -> String {
        if let s = v as? String { return "\"\(s)\"" }
        if let d = v as? Double, d.rounded() == d, abs(d) < 1e15 { return String(Int(d)) }
        return "\(v)"
    }
}

/// A schema that cannot be used.
public enum JSONSchemaError: Error, CustomStringConvertible, Sendable {
    case notAnObject
    public var description: String { "the schema is not a JSON object" }
}

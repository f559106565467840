import Foundation

/// A validator for the JSON Schema keywords zoo's schemas use: type, properties,
/// required, additionalProperties (boolean), enum, const, minimum, maximum,
/// exclusiveMinimum, exclusiveMaximum, items, minItems. Anything else in a
/// schema is ignored (documentation keywords such as title and description).
public struct JSONSchema {
    let root: [String: Any]

    public init(json: String) throws {
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw CheckpointError.badConfig(path: "schema", reason: "the schema is not a JSON object")
        }
        root = object
    }

    /// Every violation, as "location: problem" (empty when the document is valid).
    public func violations(of json: String) -> [String] {
        guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else {
            return ["$: not valid JSON"]
        }
        var out: [String] = []
        check(value, against: root, at: "$", into: &out)
        return out
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

    private func check(_ v: Any, against s: [String: Any], at path: String, into out: inout [String]) {
        let actual = typeName(v)
        if let t = s["type"] {
            let allowed = (t as? [String]) ?? [(t as? String) ?? ""]
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok { out.append("\(path): expected \(allowed.joined(separator: " or ")), found \(actual)"); return }
        }
        if let e = s["enum"] as? [Any], !e.contains(where: { equal($0, v) }) {
            out.append("\(path): \(render(v)) is not one of \(e.map(render).joined(separator: ", "))")
        }
        if let c = s["const"], !equal(c, v) { out.append("\(path): must be \(render(c)), found \(render(v))") }
        if let n = (v as? NSNumber)?.doubleValue, actual == "integer" || actual == "number" {
            if let m = (s["minimum"] as? NSNumber)?.doubleValue, n < m { out.append("\(path): \(render(v)) is below the minimum \(render(m))") }
            if let m = (s["maximum"] as? NSNumber)?.doubleValue, n > m { out.append("\(path): \(render(v)) is above the maximum \(render(m))") }
            if let m = (s["exclusiveMinimum"] as? NSNumber)?.doubleValue, n <= m { out.append("\(path): \(render(v)) must be greater than \(render(m))") }
            if let m = (s["exclusiveMaximum"] as? NSNumber)?.doubleValue, n >= m { out.append("\(path): \(render(v)) must be less than \(render(m))") }
        }
        if let a = v as? [Any] {
            if let m = s["minItems"] as? Int, a.count < m { out.append("\(path): needs at least \(m) items, found \(a.count)") }
            if let items = s["items"] as? [String: Any] {
                for (i, x) in a.enumerated() { check(x, against: items, at: "\(path)[\(i)]", into: &out) }
            }
        }
        if let o = v as? [String: Any] {
            let properties = s["properties"] as? [String: Any] ?? [:]
            for key in (s["required"] as? [String] ?? []) where o[key] == nil {
                out.append("\(path): missing required key \"\(key)\"")
            }
            for key in o.keys.sorted() {
                if let sub = properties[key] as? [String: Any] {
                    check(o[key]!, against: sub, at: "\(path).\(key)", into: &out)
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

/// schemas/config.schema.json, embedded so the binary validates without the
/// repository at hand (a test keeps the two identical).
public let configSchemaJSON = #"""
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://zoo.invalid/schemas/config.schema.json",
  "title": "zoo run configuration",
  "description": "Everything that defines a training run: model architecture, optimization, data. Stored in checkpoints and used by recipes (zoo/*.json).",
  "type": "object",
  "required": ["model", "training", "data"],
  "additionalProperties": false,
  "properties": {
    "model": {
      "type": "object",
      "required": ["input_dim", "hidden", "latent_dim", "likelihood", "sigma"],
      "additionalProperties": false,
      "properties": {
        "input_dim": { "type": "integer", "minimum": 1, "description": "Pixels per image (784 for 28×28)." },
        "hidden": { "type": "array", "minItems": 1, "items": { "type": "integer", "minimum": 1 }, "description": "Encoder hidden widths; the decoder mirrors them." },
        "latent_dim": { "type": "integer", "minimum": 1 },
        "likelihood": { "enum": ["bernoulli", "gaussian"], "description": "Decoder p(x|z)." },
        "sigma": { "type": "number", "exclusiveMinimum": 0, "description": "σ of the Gaussian decoder (unused for Bernoulli)." },
        "activation": { "enum": ["relu", "tanh"], "description": "Nonlinearity after every hidden layer (absent: relu)." },
        "label_classes": { "type": "integer", "minimum": 0, "maximum": 1000, "description": "Classes of a conditional VAE: the one-hot label joins the encoder input and z (absent or 0: unconditional)." }
      }
    },
    "training": {
      "type": "object",
      "required": ["epochs", "batch_size", "optimizer", "seed", "threads"],
      "additionalProperties": false,
      "properties": {
        "epochs": { "type": "integer", "minimum": 1 },
        "batch_size": { "type": "integer", "minimum": 1 },
        "optimizer": {
          "type": "object",
          "required": ["type", "lr", "beta1", "beta2", "eps"],
          "additionalProperties": false,
          "properties": {
            "type": { "const": "adam" },
            "lr": { "type": "number", "exclusiveMinimum": 0 },
            "beta1": { "type": "number", "minimum": 0, "exclusiveMaximum": 1 },
            "beta2": { "type": "number", "minimum": 0, "exclusiveMaximum": 1 },
            "eps": { "type": "number", "exclusiveMinimum": 0 }
          }
        },
        "seed": { "type": "integer", "minimum": 0, "maximum": 18446744073709551615 },
        "threads": { "type": "integer", "minimum": 1, "description": "BLAS threads; same seed and threads give bit-identical runs." },
        "beta": { "type": "number", "minimum": 0, "description": "Weight of the KL term (absent: 1)." },
        "kl_warmup": { "type": "integer", "minimum": 0, "description": "Epochs over which β ramps linearly from 0 (absent: 0)." },
        "iw_samples": { "type": "integer", "minimum": 1, "maximum": 1000, "description": "Draws per image: 1 trains on the ELBO, K > 1 on the IWAE bound (absent: 1)." },
        "val_split": { "type": "integer", "minimum": 0, "description": "Training images held out for validation (absent: 0)." },
        "patience": { "type": ["integer", "null"], "minimum": 1, "description": "Early stopping: epochs without a better validation loss (absent or null: never)." }
      }
    },
    "data": {
      "type": "object",
      "required": ["binarization"],
      "additionalProperties": false,
      "properties": {
        "directory": { "type": ["string", "null"], "description": "MNIST-layout directory; absent or null means Debian's Fashion-MNIST." },
        "binarization": { "enum": ["none", "dynamic", "static"] },
        "limit": { "type": ["integer", "null"], "minimum": 1, "description": "Only the first N images of each split." }
      }
    }
  }
}
"""#

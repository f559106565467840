import Foundation
import Support
import Training

/// A named model recipe: a description and the fields of the run
/// configuration it sets (zoo/NAME.json, validated by schemas/recipe.schema.json).
/// Fields it does not set keep zoo's defaults; command-line flags override both.
public struct Recipe: Sendable {
    public let name: String
    public let description: String
    public let reference: String?
    /// The recipe's `config` object as JSON text (a partial `RunConfig`).
    public let configJSON: String
    /// Where it came from: "built-in" or a file path.
    public let source: String

    /// Parses and validates a recipe document.
    /// - Throws: `RecipeError.invalid` naming `source` and every schema violation.
    public init(json: String, source: String) throws {
        let schema = try JSONSchema(json: recipeSchemaJSON, documents: ["config.schema.json": RunConfig.schemaJSON])
        let violations = schema.violations(of: json)
        guard violations.isEmpty else { throw RecipeError.invalid(source: source, problems: violations) }
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            let name = object["name"] as? String, let description = object["description"] as? String,
            let config = object["config"] as? [String: Any]
        else {
            throw RecipeError.invalid(source: source, problems: ["$: not a recipe object"])
        }
        self.name = name
        self.description = description
        self.reference = object["reference"] as? String
        self.configJSON = String(decoding: try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]), as: UTF8.self)
        self.source = source
        // Fail now, not at training time, if the merged configuration is invalid.
        // A decoder that ends in convolutions is a template whose spatial
        // sizes `ModelConfig.fit` works out from the data; check it as fitted
        // to the recipe's input shape (28×28 grey unless it declares one).
        var merged = try self.config(over: RunConfig())
        if let last = merged.model.decoder.last(where: \.hasParameters), last.typeName != "linear" {
            do { try merged.model.fit(inputShape: merged.model.inputShape) } catch {
                throw RecipeError.invalid(
                    source: source,
                    problems: [error.message + " (for images of \(merged.model.inputShape) unless the recipe declares input_shape)"])
            }
        }
        if !merged.problems.isEmpty { throw RecipeError.invalid(source: source, problems: merged.problems) }
    }

    /// `defaults` with every field this recipe sets replaced by the recipe's
    /// value (objects merged key by key, arrays replaced whole).
    ///
    /// The architecture is set one way or the other: a recipe that gives the
    /// MLP shorthand (`hidden`, `activation`) replaces the defaults' encoder
    /// and decoder by the MLP it describes (a missing `hidden` or
    /// `activation` is the defaults' own); one that gives `encoder` and
    /// `decoder` replaces them by its lists. Giving both is an error.
    public func config(over defaults: RunConfig) throws -> RunConfig {
        var base = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(defaults)) as? [String: Any] ?? [:]
        let fields = try JSONSerialization.jsonObject(with: Data(configJSON.utf8)) as? [String: Any] ?? [:]
        if let model = fields["model"] as? [String: Any], model["hidden"] != nil || model["activation"] != nil,
            var baseModel = base["model"] as? [String: Any]
        {
            baseModel["encoder"] = nil
            baseModel["decoder"] = nil
            if let shorthand = defaults.model.mlpShorthand {
                baseModel["hidden"] = shorthand.hidden
                baseModel["activation"] = shorthand.activation.rawValue
            }
            base["model"] = baseModel
        }
        let merged = Self.merge(base, fields)
        do {
            return try JSONDecoder().decode(RunConfig.self, from: try JSONSerialization.data(withJSONObject: merged))
        } catch {
            throw RecipeError.invalid(source: source, problems: ["config: \(describe(decodingError: error))"])
        }
    }

    private static func merge(_ a: [String: Any], _ b: [String: Any]) -> [String: Any] {
        var out = a
        for (k, v) in b {
            if let inner = v as? [String: Any], let base = a[k] as? [String: Any] { out[k] = merge(base, inner) } else { out[k] = v }
        }
        return out
    }
}

/// The built-in recipes (package resources, embedded in the binary) and recipe files.
public enum RecipeBook {
    /// The recipe `zoo train` uses without --recipe.
    public static let defaultName = "vae"

    /// Every built-in recipe, the default first.
    /// - Throws: `RecipeError` naming a broken built-in (a build defect the tests catch).
    public static func builtin() throws -> [Recipe] {
        try builtinRecipeFiles.map { try Recipe(json: $0.json, source: "built-in") }
    }

    /// A built-in recipe by name, or a recipe file by path (anything ending in
    /// .json or containing a slash).
    public static func recipe(_ nameOrPath: String) throws -> Recipe {
        if nameOrPath.hasSuffix(".json") || nameOrPath.contains("/") {
            // A regular file of plausible size only: /dev/zero or a FIFO would never end.
            let attributes = try? FileManager.default.attributesOfItem(atPath: nameOrPath)
            if let attributes {
                guard attributes[.type] as? FileAttributeType == .typeRegular else {
                    throw RecipeError.unreadable(path: nameOrPath, reason: "it is not a regular file")
                }
                if let size = attributes[.size] as? Int, size > 1 << 20 {
                    throw RecipeError.unreadable(path: nameOrPath, reason: "it holds \(size) bytes; a recipe is at most 1 MiB")
                }
            }
            let text: String
            do { text = try String(contentsOfFile: nameOrPath, encoding: .utf8) } catch {
                throw RecipeError.unreadable(
                    path: nameOrPath,
                    reason: FileManager.default.fileExists(atPath: nameOrPath)
                        ? "it is not readable UTF-8 text" : "the file does not exist")
            }
            return try Recipe(json: text, source: nameOrPath)
        }
        // Parse only the recipe asked for (`builtin` parses all of them).
        guard let file = builtinRecipeFiles.first(where: { $0.name == nameOrPath }) else {
            throw RecipeError.unknown(name: nameOrPath, available: builtinRecipeFiles.map(\.name))
        }
        return try Recipe(json: file.json, source: "built-in")
    }
}

/// A recipe that cannot be used, naming it and what to do.
public enum RecipeError: Error, CustomStringConvertible, Equatable, Sendable {
    case unknown(name: String, available: [String])
    case unreadable(path: String, reason: String)
    case invalid(source: String, problems: [String])

    public var description: String {
        switch self {
        case .unknown(let name, let available):
            return "there is no recipe named '\(name)'; the recipes are \(available.joined(separator: ", ")) (zoo list), "
                + "or pass a recipe file (path ending in .json)"
        case .unreadable(let path, let reason):
            return "cannot read the recipe \(path): \(reason)"
        case .invalid(let source, let problems):
            return "the recipe \(source) is invalid (schemas/recipe.schema.json): " + problems.joined(separator: "; ")
        }
    }
}

import Checkpoint
import Foundation
import Support
import TestSupport
import Testing
import Training

@testable import Recipes

let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func read(_ relative: String) throws -> String {
    try String(contentsOf: repository.appendingPathComponent(relative), encoding: .utf8)
}

@Suite struct RecipeFileTests {
    /// The recipe files are package resources embedded in the binary; every
    /// file there is a built-in recipe under its file name (BuiltinRecipes.swift
    /// lists them), and zoo/ and schemas/ at the root reach the same files.
    @Test func everyRecipeFileIsBuiltIn() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("zoo").path)
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
        #expect(
            builtinRecipeFiles.map(\.name).sorted() == files, "add each file of Sources/Recipes/Resources/recipes to BuiltinRecipes.swift")
        for (name, json) in builtinRecipeFiles {
            #expect(try read("zoo/\(name).json") == json, "zoo/\(name).json")
        }
        #expect(try read("schemas/recipe.schema.json") == recipeSchemaJSON)
        #expect(try read("schemas/config.schema.json") == RunConfig.schemaJSON)
        #expect(try RecipeBook.builtin().count == builtinRecipeFiles.count, "every built-in recipe must parse")
        #expect(try RecipeBook.builtin().first?.name == "vae")
    }

    @Test func everyRecipeValidatesAndNamesItsFile() throws {
        let schema = try JSONSchema(json: try read("schemas/recipe.schema.json"), documents: ["config.schema.json": RunConfig.schemaJSON])
        let configSchema = try JSONSchema(json: RunConfig.schemaJSON)
        for (name, json) in builtinRecipeFiles {
            #expect(schema.violations(of: json) == [], "\(name)")
            let r = try Recipe(json: json, source: name)
            #expect(r.name == name)
            let config = try r.config(over: RunConfig())
            #expect(config.problems == [], "\(name)")
            let encoded = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
            #expect(configSchema.violations(of: encoded) == [], "\(name)")
        }
    }

    /// The recipe schema's config part is the config schema without `required`:
    /// every field a checkpoint config has, a recipe may set.
    @Test func recipeSchemaCoversEveryConfigField() throws {
        func paths(_ schema: [String: Any], _ prefix: String) -> Set<String> {
            var out: Set<String> = []
            for (k, v) in schema["properties"] as? [String: Any] ?? [:] {
                out.insert(prefix + k)
                if let sub = v as? [String: Any] { out.formUnion(paths(sub, prefix + k + ".")) }
            }
            return out
        }
        let config = try #require(try JSONSerialization.jsonObject(with: Data(RunConfig.schemaJSON.utf8)) as? [String: Any])
        let recipe = try #require(try JSONSerialization.jsonObject(with: Data(recipeSchemaJSON.utf8)) as? [String: Any])
        let recipeConfig = try #require((recipe["properties"] as? [String: Any])?["config"] as? [String: Any])
        // Recipes may also give the MLP shorthand, which the config never stores.
        #expect(paths(config, "").union(["model.hidden", "model.activation"]) == paths(recipeConfig, ""))
    }

    @Test func theIssuesRecipesHaveTheirDefiningSettings() throws {
        func config(_ name: String) throws -> RunConfig { try RecipeBook.recipe(name).config(over: RunConfig()) }
        // vae is zoo's default configuration (the tutorial's).
        #expect(try config("vae") == RunConfig())
        #expect(try config("vae-gaussian").model.likelihood == .gaussian)
        #expect(try config("vae-2d").model.latentDim == 2)
        #expect(try config("beta-vae").training.beta == 4)
        #expect(try config("cvae").model.labelClasses == 10)
        #expect(try config("iwae").training.importanceSamples == 5)
        let deep = try config("vae-deep")
        #expect(deep.model.mlpShorthand?.hidden == [200, 200] && deep.model.latentDim == 50 && deep.data.binarization == .dynamic)
        #expect(deep.model.mlpShorthand?.activation == .tanh)
    }

    @Test func fieldsTheRecipeDoesNotSetKeepTheGivenDefaults() throws {
        var defaults = RunConfig()
        defaults.training.threads = 7
        defaults.training.seed = 42
        let c = try RecipeBook.recipe("beta-vae").config(over: defaults)
        #expect(c.training.threads == 7 && c.training.seed == 42 && c.training.beta == 4)
        // A field the recipe sets replaces the given default.
        defaults.training.epochs = 99
        #expect(try RecipeBook.recipe("vae").config(over: defaults).training.epochs == 15)
        #expect(try RecipeBook.recipe("beta-vae").config(over: defaults).training.epochs == 99)
    }
}

@Suite struct BadRecipeTests {
    /// The architecture comes whole from one place: the shorthand replaces the
    /// defaults' lists (keeping what it does not name), declared lists replace them.
    @Test func shorthandAndListsEachReplaceTheDefaultsArchitecture() throws {
        func recipe(_ model: String) throws -> RunConfig {
            try Recipe(json: #"{"name": "x", "description": "d", "config": {"model": \#(model)}}"#, source: "test").config(
                over: RunConfig())
        }
        #expect(try recipe(#"{"activation": "tanh"}"#).model.mlpShorthand == .init(hidden: [400], activation: .tanh))
        #expect(try recipe(#"{"hidden": [30, 20]}"#).model.mlpShorthand == .init(hidden: [30, 20], activation: .relu))
        let lists = try recipe(
            #"{"encoder": [{"type": "linear", "out_features": 9}], "decoder": [{"type": "relu"}, {"type": "linear", "out_features": 784}]}"#
        )
        #expect(lists.model.encoder == [.linear(outFeatures: 9)] && lists.model.decoder == [.relu, .linear(outFeatures: 784)])
        #expect(lists.model.latentDim == 20 && lists.model.inputShape == [1, 28, 28])
    }

    @Test func unknownNamesListTheRecipes() {
        do {
            _ = try RecipeBook.recipe("vea")
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("no recipe named 'vea'") && "\(error)".contains("beta-vae"))
        }
    }

    @Test(arguments: [
        (#"{"name": "x", "description": "d", "config": {"model": {"latent_dims": 3}}}"#, "unknown key \"latent_dims\""),
        (#"{"name": "x", "description": "d", "config": {"training": {"beta": -1}}}"#, "below the minimum"),
        (#"{"name": "x", "description": "d", "config": {"model": {"hidden": "400"}}}"#, "expected array"),
        (#"{"name": "x", "config": {}}"#, "missing required key \"description\""),
        (#"{"name": "x", "description": "d", "config": {"training": {"patience": 3}}}"#, "needs a validation split"),
        (#"not json"#, "not valid JSON"),
        (
            #"{"name": "x", "description": "d", "config": {"model": {"hidden": [8], "encoder": [{"type": "linear", "out_features": 8}], "decoder": [{"type": "linear", "out_features": 784}]}}}"#,
            "give either the MLP shorthand (hidden, activation) or the layer lists (encoder, decoder), not both"
        ),
        (
            #"{"name": "x", "description": "d", "config": {"model": {"encoder": [{"type": "conv"}]}}}"#,
            "$.config.model.encoder[0].type: \"conv\" is not one of"
        ),
        (
            #"{"name": "x", "description": "d", "config": {"model": {"encoder": [], "decoder": [{"type": "linear", "out_features": 100}]}}}"#,
            "the decoder's last layer gives 100 values per example, but the input has 784"
        ),
    ])
    func invalidRecipeFilesAreRejectedWithTheReason(json: String, message: String) throws {
        let path = Fixtures.temporaryPath("zoo-recipe") + ".json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        do {
            _ = try RecipeBook.recipe(path)
            Issue.record("accepted \(json)")
        } catch {
            #expect("\(error)".contains(path) && "\(error)".contains(message), "\(error)")
        }
    }

    @Test func missingRecipeFilesSaySo() {
        do {
            _ = try RecipeBook.recipe("/nonexistent/r.json")
            Issue.record("accepted")
        } catch {
            #expect("\(error)" == "cannot read the recipe /nonexistent/r.json: the file does not exist")
        }
    }
}

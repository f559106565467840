import ArgumentParser
import Recipes
import Training

/// `zoo list`: the built-in recipes, one line each.
public struct List: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "List the recipes `zoo train --recipe NAME` accepts, one line each.",
        discussion: "The recipes are the files in zoo/ of the repository, built into the binary; --recipe also takes a recipe file.")

    @Flag(help: "Also print each recipe's full configuration (its fields over zoo's defaults) as JSON.")
    public var verbose = false

    public init() {}

    public func run() throws {
        let recipes = try RecipeBook.builtin()
        let width = recipes.map(\.name.count).max() ?? 0
        for r in recipes {
            let config = try r.config(over: RunConfig())
            let pad = String(repeating: " ", count: width - r.name.count)
            writeStdout("\(r.name)\(pad)  \(r.description)\(r.name == RecipeBook.defaultName ? " (default)" : "")")
            if verbose {
                writeStdout("\(String(repeating: " ", count: width))  \(describe(config))")
                writeStdout(try prettyJSON(config))
            }
        }
    }
}

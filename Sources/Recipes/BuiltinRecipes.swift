// The recipe files and the recipe schema are package resources
// (Sources/Recipes/Resources, embedded in the binary by SwiftPM's
// `embedInCode`, so `zoo` works from any directory). `zoo/` at the
// repository's root links to the recipes. A new built-in recipe is a new
// file there plus its line below; a test checks the two lists agree.

/// schemas/recipe.schema.json.
public let recipeSchemaJSON = String(decoding: PackageResources.recipe_schema_json, as: UTF8.self)

/// Every built-in recipe file, the default (vae) first.
let builtinRecipeFiles: [(name: String, json: String)] = [
    ("vae", PackageResources.vae_json),
    ("beta-vae", PackageResources.beta_vae_json),
    ("cvae", PackageResources.cvae_json),
    ("iwae", PackageResources.iwae_json),
    ("vae-2d", PackageResources.vae_2d_json),
    ("vae-deep", PackageResources.vae_deep_json),
    ("vae-gaussian", PackageResources.vae_gaussian_json),
    ("conv-vae", PackageResources.conv_vae_json),
].map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }

import Datasets
import Foundation
import NeuralNet
import Testing

@testable import Training

let repositoryRoot: URL = {
    var u = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { u.deleteLastPathComponent() }
    return u
}()

func jsonObject(_ relative: String) throws -> [String: Any] {
    let data = try Data(contentsOf: repositoryRoot.appendingPathComponent(relative))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// The JSON Schema must agree with the Swift types (recipes: RecipesTests).
@Suite struct SchemaTests {
    /// Every key the encoder writes is a schema property, every required schema
    /// property is written, at every level.
    @Test func schemaPropertiesMatchTheEncodedConfiguration() throws {
        let schema = try jsonObject("schemas/config.schema.json")
        var config = RunConfig()
        config.data.path = "/data"
        config.data.limit = 10
        let encoded = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
        func check(_ value: [String: Any], against schema: [String: Any], path: String) {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            let required = schema["required"] as? [String] ?? []
            #expect(
                Set(value.keys).isSubset(of: Set(properties.keys)), "\(path): \(Set(value.keys).subtracting(properties.keys)) not in schema"
            )
            #expect(Set(required).isSubset(of: Set(value.keys)), "\(path): required \(Set(required).subtracting(value.keys)) not encoded")
            for (key, sub) in value {
                if let object = sub as? [String: Any], let subSchema = properties[key] as? [String: Any] {
                    check(object, against: subSchema, path: path + "." + key)
                }
            }
        }
        check(encoded, against: schema, path: "config")
    }

    @Test func schemaEnumsListEveryCase() throws {
        let schema = try jsonObject("schemas/config.schema.json")
        let props = schema["properties"] as! [String: Any]
        let model = (props["model"] as! [String: Any])["properties"] as! [String: Any]
        let data = (props["data"] as! [String: Any])["properties"] as! [String: Any]
        #expect(Set((model["likelihood"] as! [String: Any])["enum"] as! [String]) == Set(ModelConfig.Likelihood.allCases.map(\.rawValue)))
        #expect(Set((data["binarization"] as! [String: Any])["enum"] as! [String]) == Set(Binarization.allCases.map(\.rawValue)))
        #expect(Set((data["kind"] as! [String: Any])["enum"] as! [String]) == Set(DataSource.Kind.allCases.map(\.rawValue)))
    }
}

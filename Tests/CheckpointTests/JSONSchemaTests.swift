import Foundation
import Support
import Testing

@testable import Checkpoint
@testable import HDF5
@testable import Training

@Suite struct JSONSchemaTests {
    let schema = try! JSONSchema(json: RunConfig.schemaJSON)

    func json(_ c: RunConfig) -> String { String(decoding: try! JSONEncoder().encode(c), as: UTF8.self) }

    @Test func validConfigurationsPass() {
        var c = RunConfig()
        #expect(schema.violations(of: json(c)).isEmpty)
        c.data.path = "/d"
        c.data.limit = 5
        try! c.model.useMLP(hidden: [200, 200])
        c.data.binarization = .dynamic
        #expect(schema.violations(of: json(c)).isEmpty)
    }

    @Test(arguments: [
        (#"{"model": {}, "training": {}, "data": {}}"#, "missing required key \"input_shape\""),
        (
            #"{"model": {"input_shape": [784], "encoder": [], "decoder": [], "latent_dim": 20, "likelihood": "poisson", "sigma": 0.1}}"#,
            "\"poisson\" is not one of"
        ),
        (#"{"model": {"encoder": [{"type": "conv9d"}]}}"#, "$.model.encoder[0].type: \"conv9d\" is not one of"),
        (#"{"model": {"decoder": [{"type": "linear", "width": 3}]}}"#, "$.model.decoder[0]: unknown key \"width\""),
        (#"{"model": {"input_shape": [1, 2, 3, 4]}}"#, "$.model.input_shape: takes at most 3 items, found 4"),
        (#"{"model": {"input_dim": 784, "hidden": [400]}}"#, "$.model: unknown key \"hidden\""),
        (#"{"extra": 1}"#, "unknown key \"extra\""),
    ])
    func violationsNameTheLocation(document: String, message: String) {
        let v = schema.violations(of: document).joined(separator: "; ")
        #expect(v.contains(message), "\(v)")
    }

    @Test func numbersTypesAndItemsAreChecked() throws {
        var object = try #require(try JSONSerialization.jsonObject(with: Data(json(RunConfig()).utf8)) as? [String: Any])
        var model = object["model"] as! [String: Any]
        model["latent_dim"] = 0
        model["encoder"] = [["type": "linear", "out_features": -1]]
        model["sigma"] = "wide"
        object["model"] = model
        var training = object["training"] as! [String: Any]
        training["batch_size"] = 1.5
        training["extra_knob"] = true
        object["training"] = training
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let v = schema.violations(of: text).joined(separator: "; ")
        for part in [
            "$.model.latent_dim: 0 is below the minimum 1", "$.model.encoder[0].out_features: -1 is below the minimum 1",
            "$.model.sigma: expected number, found string", "$.training.batch_size: expected integer, found number",
            "$.training: unknown key \"extra_knob\"",
        ] {
            #expect(v.contains(part), "\(part) in \(v)")
        }
    }

    @Test func checkpointWithAConfigFailingTheSchemaIsRejected() throws {
        let (_, path) = try trainedCheckpoint()
        let f = try HDF5File.open(path, writable: true)
        let text = try f.readString("config")
        try f.remove("config")
        try f.writeString("config", text.replacingOccurrences(of: "\"seed\"", with: "\"unexpected\" : 1, \"seed\""))
        try f.close()
        try Checkpoint.resign(at: path)
        do {
            _ = try Checkpoint.read(from: path)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("fails config.schema.json") && "\(error)".contains("unknown key \"unexpected\""), "\(error)")
        }
    }
}

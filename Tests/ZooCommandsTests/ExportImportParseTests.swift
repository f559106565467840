import ArgumentParser
import Testing

@testable import ZooCommands

@Suite struct ExportImportParseTests {
    @Test func exportReadsItsFlags() throws {
        let e = try Export.parse(["m.h5", "--safetensors", "m.safetensors"])
        #expect(e.checkpoint == "m.h5" && e.safetensors == "m.safetensors")
        let o = try Export.parse(["m.h5", "--onnx", "out"])
        #expect(o.onnx == "out" && o.safetensors == nil)
        #expect {
            try Export.parse(["m.h5"])
        } throws: { error in
            Export.message(for: error).contains("give --onnx DIR, --safetensors FILE, or both")
        }
        #expect(throws: (any Error).self) { try Export.parse(["m.h5", "--safetensors", ""]) }
    }

    @Test func importReadsItsFlags() throws {
        let i = try Import.parse(["w.safetensors", "--recipe", "conv-vae", "--data", "/d", "--save", "m.h5"])
        #expect(i.file == "w.safetensors" && i.recipe == "conv-vae" && i.config == nil && i.data == "/d" && i.save == "m.h5")
        let c = try Import.parse(["w.safetensors", "--config", "c.json", "--save", "m.h5"])
        #expect(c.config == "c.json" && c.recipe == nil && c.data == nil)
        #expect(throws: (any Error).self) { try Import.parse(["w.safetensors"]) }
        #expect {
            try Import.parse(["w.safetensors", "--recipe", "vae", "--config", "c.json", "--save", "m.h5"])
        } throws: { error in
            Import.message(for: error).contains("give --recipe or --config, not both")
        }
    }

    @Test func sampleWritesLatentPointsOnlyForPriorSamples() throws {
        #expect(try Sample.parse(["m.h5", "--out", "s.npy", "--latent-out", "z.npy"]).latentOut == "z.npy")
        #expect(try Sample.parse(["m.h5", "--manifold", "--steps", "9", "--out", "p.png"]).manifold)
        for args in [
            ["--latent-out", "z.csv"], ["--traverse", "--latent-out", "z.npy"], ["--manifold", "--traverse"],
            ["--manifold", "--latent-out", "z.npy"],
        ] {
            #expect(throws: (any Error).self) { try Sample.parse(["m.h5", "--out", "s.png"] + args) }
        }
    }
}

@Suite struct LogParseTests {
    @Test func logFlagsReachTrainAndResume() throws {
        let t = try Train.parse(["--log", "runs/a", "--log-every", "7"])
        #expect(t.logging.log == "runs/a" && t.logging.logEvery == 7)
        #expect(try Train.parse([]).logging.log == nil && (try Train.parse([]).logging.logEvery) == nil)
        let r = try Resume.parse(["m.h5", "--log", "runs/a"])
        #expect(r.logging.log == "runs/a" && r.logging.logEvery == nil)
        #expect {
            try Train.parse(["--log", "d", "--log-every", "0"])
        } throws: { error in
            Train.message(for: error).contains("--log-every must be between 1 and 1000000, got 0")
        }
    }
}

import Checkpoint
import Foundation
import Interchange
import TestSupport
import Testing

/// `zoo export --onnx`, `zoo export --safetensors` and `zoo import` through
/// the binary (issue 14, items 1, 2, 3 and 5): ONNX's checker and runtime
/// agree with zoo; safetensors' own reader sees exactly the checkpoint's
/// arrays and config; an export imports back to a checkpoint that evaluates
/// to the same −ELBO and trains on; tensors that do not fit the model, files
/// without an architecture, lying headers and unwritable targets are refused
/// and nothing is written.
@Suite(.serialized) struct ExportEndToEndTests {
    /// A small MLP and a small conv model, trained once.
    static let models: [String: String] = {
        let dir = Fixtures.temporaryDirectory("export")
        var out: [String: String] = [:]
        for (name, args) in [
            ("mlp", ["--hidden", "64", "--latent-dim", "4"]), ("conv", ["--recipe", "conv-vae"]),
            ("cvae", ["--recipe", "cvae", "--hidden", "32", "--latent-dim", "3"]),
        ] {
            let path = "\(dir)/\(name).h5"
            if (try? Zoo.run(["train", "--limit", "300", "--epochs", "1", "--save", path] + args))?.status == 0 { out[name] = path }
        }
        return out
    }()

    func elbo(_ path: String) throws -> String {
        let r = try Zoo.run(["eval", path, "--elbo", "--limit", "200", "--seed", "5"])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout.split(separator: "\n").filter { $0.contains("−ELBO") || $0.contains("KL  ") }.joined(separator: "\n")
    }

    @Test(arguments: ["mlp", "conv", "cvae"])
    func exportReadsInSafetensorsAndImportsBackToTheSameModel(model: String) throws {
        let ckpt = try #require(Self.models[model], "training the \(model) model failed")
        let dir = Fixtures.temporaryDirectory("export")
        let file = dir + "/m.safetensors"
        let e = try Zoo.run(["export", ckpt, "--safetensors", file])
        #expect(e.status == 0 && e.stdout.contains("wrote"), "\(e.stderr)")
        let (status, output) = try runPython(
            [repository.appendingPathComponent("Tests/python/check_safetensors.py").path, file, ckpt], venv: true)
        #expect(status == 0, "\(output)")

        // Back in: the architecture from the file's metadata, the data from the config.
        let i = try Zoo.run(["import", file, "--save", dir + "/back.h5"])
        #expect(i.status == 0 && i.stdout.contains("fresh Adam state"), "\(i.stderr)")
        let back = try Checkpoint.read(from: dir + "/back.h5")
        let original = try Checkpoint.read(from: ckpt)
        #expect(back.config.model == original.config.model && back.optimizer?.step == 0 && back.training?.epoch == 0)
        for (name, values) in original.parameters { #expect(back.parameters[name] == values, "\(name)") }
        #expect(try elbo(dir + "/back.h5") == elbo(ckpt))
        // It trains on, embeds and samples like any other checkpoint.
        let r = try Zoo.run(["resume", dir + "/back.h5", "--epochs", "1"])
        #expect(r.status == 0 && r.stdout.contains("epoch 1/1"), "\(r.stderr)")
        #expect(try Zoo.run(["embed", dir + "/back.h5", "--csv", dir + "/z.csv", "--limit", "20"]).status == 0)
        let label = model == "cvae" ? ["--label", "2"] : []
        #expect(try Zoo.run(["sample", dir + "/back.h5", "--out", dir + "/s.png"] + label).status == 0)
    }

    /// onnx.checker passes; onnxruntime's μ and log σ² on 1,000 test images equal
    /// `zoo embed`'s, and its decoded means of `zoo sample`'s latent points
    /// equal zoo's, within 1e-4 (Tests/python/check_onnx.py, run in .venv).
    @Test(arguments: ["mlp", "conv", "cvae"])
    func onnxModelsRunInOnnxruntimeLikeZoo(model: String) throws {
        let ckpt = try #require(Self.models[model], "training the \(model) model failed")
        let dir = Fixtures.temporaryDirectory("onnx")
        let e = try Zoo.run(["export", ckpt, "--onnx", dir + "/onnx"])
        #expect(e.status == 0 && e.stdout.contains("opset 17"), "\(e.stderr)")
        let label = model == "cvae" ? ["--label", "2"] : []
        let s = try Zoo.run(["sample", ckpt, "--n", "24", "--out", dir + "/s.npy", "--latent-out", dir + "/z.npy"] + label)
        #expect(s.status == 0, "\(s.stderr)")
        #expect(try Zoo.run(["embed", ckpt, "--csv", dir + "/e.csv", "--logvar", "--limit", "1000"]).status == 0)
        let (status, output) = try runPython(
            [
                repository.appendingPathComponent("Tests/python/check_onnx.py").path, dir + "/onnx", dir + "/e.csv",
                Fixtures.fashionMNIST + "/t10k-images-idx3-ubyte.gz", "1000", dir + "/s.npy", dir + "/z.npy",
            ] + (model == "cvae" ? ["2"] : []), venv: true)
        #expect(status == 0, "\(output)")
        // A target that is a file: refused, and neither model is written.
        Fixtures.write(Array("x".utf8), to: dir + "/file")
        let bad = try Zoo.run(["export", ckpt, "--onnx", dir + "/file"])
        #expect(bad.status == 1 && bad.stderr.contains(dir + "/file"), "\(bad.stderr)")
    }

    @Test func importWithARecipeChecksEveryNameAndShape() throws {
        let ckpt = try #require(Self.models["conv"])
        let dir = Fixtures.temporaryDirectory("import")
        let c = try Checkpoint.read(from: ckpt)
        let all = c.config.model.parameterShapes.map { NamedTensor(name: $0.0, shape: $0.1, values: c.parameters[$0.0] ?? []) }
        // A plain state_dict (no metadata), as PyTorch's save_file writes it: --recipe gives the architecture.
        try Safetensors.write(all, metadata: [:], to: dir + "/plain.safetensors")
        let ok = try Zoo.run(["import", dir + "/plain.safetensors", "--recipe", "conv-vae", "--save", dir + "/ok.h5"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try Checkpoint.read(from: dir + "/ok.h5").recipe == "conv-vae")

        var wrongShape = all
        wrongShape[0] = NamedTensor(name: all[0].name, shape: [32, 1, 2, 8], values: all[0].values)
        let cases: [([NamedTensor], [String], String)] = [
            (Array(all.dropLast()), ["--recipe", "conv-vae"], "decoder.7.bias [1] is missing"),
            (wrongShape, ["--recipe", "conv-vae"], "encoder.0.weight is [32, 1, 2, 8], the model's is [32, 1, 4, 4]"),
            (
                all + [NamedTensor(name: "extra.weight", shape: [1], values: [0])], ["--recipe", "conv-vae"],
                "the model has no extra.weight"
            ),
            (all, ["--recipe", "vae"], "fc1.weight [400, 784] is missing"),
            (all, [], "does not say which model its tensors belong to"),
        ]
        for (n, (tensors, args, message)) in cases.enumerated() {
            let file = dir + "/bad\(n).safetensors"
            try Safetensors.write(tensors, metadata: [:], to: file)
            let r = try Zoo.run(["import", file, "--save", dir + "/bad\(n).h5"] + args)
            #expect(r.status == 1 && r.stderr.contains(message), "case \(n): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/bad\(n).h5"))
        }
        // A header that lies about its tensors' offsets.
        var lying = try Safetensors.encode(Array(all.prefix(2)), metadata: [:])
        let header = String(decoding: lying[8..<(8 + Int(lying[0]) + Int(lying[1]) << 8)], as: UTF8.self)
        let shifted = header.replacingOccurrences(of: "[0,2048]", with: "[4,2052]")
        #expect(shifted != header)
        lying.replaceSubrange(8..<(8 + shifted.utf8.count), with: Array(shifted.utf8))
        Fixtures.write(lying, to: dir + "/lying.safetensors")
        let r = try Zoo.run(["import", dir + "/lying.safetensors", "--recipe", "conv-vae", "--save", dir + "/lying.h5"])
        #expect(r.status == 1 && r.stderr.contains("is not a safetensors file zoo can read"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/lying.h5"))
    }

    /// A state_dict as numpy.savez and h5py write it (float64 in the HDF5
    /// file), imported with --recipe: the same parameters (float64 rounded).
    @Test func npzAndHDF5StateDictsImport() throws {
        let ckpt = try #require(Self.models["conv"])
        let dir = Fixtures.temporaryDirectory("import")
        let script = """
            import sys, h5py, numpy as np
            with h5py.File(sys.argv[1], "r") as f:
                sd = {k: np.asarray(f["model"][k]) for k in f["model"]}
            np.savez(sys.argv[2], **sd)
            with h5py.File(sys.argv[3], "w") as g:
                for k, v in sd.items():
                    g[k] = v.astype(np.float64)
            """
        let (status, output) = try runPython(["-c", script, ckpt, dir + "/sd.npz", dir + "/sd.h5"])
        #expect(status == 0, "\(output)")
        let original = try Checkpoint.read(from: ckpt)
        for file in ["sd.npz", "sd.h5"] {
            let r = try Zoo.run(["import", dir + "/" + file, "--recipe", "conv-vae", "--save", dir + "/\(file).ckpt.h5"])
            #expect(r.status == 0, "\(file): \(r.stderr)")
            let back = try Checkpoint.read(from: dir + "/\(file).ckpt.h5")
            for (name, values) in original.parameters { #expect(back.parameters[name] == values, "\(file) \(name)") }
        }
    }

    /// A checkpoint with a tensor deleted, or replaced by one of another
    /// shape, is refused by both exports, naming the file; nothing is written.
    @Test(arguments: ["del f['model/fc2.bias']", "b = f['model/fc2.bias'][()]; del f['model/fc2.bias']; f['model/fc2.bias'] = b[:2]"])
    func aDamagedCheckpointIsNotExported(damage: String) throws {
        let ckpt = try #require(Self.models["mlp"])
        let dir = Fixtures.temporaryDirectory("export")
        let bad = dir + "/bad.h5"
        try FileManager.default.copyItem(atPath: ckpt, toPath: bad)
        let (status, output) = try runPython(["-c", "import sys, h5py\nwith h5py.File(sys.argv[1], 'r+') as f:\n    \(damage)", bad])
        #expect(status == 0, "\(output)")
        let r = try Zoo.run(["export", bad, "--safetensors", dir + "/w.safetensors", "--onnx", dir + "/onnx"])
        #expect(r.status == 1 && r.stderr.contains(bad), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/w.safetensors"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/onnx/encoder.onnx"))
    }

    @Test func anUnwritableTargetLeavesNothing() throws {
        let ckpt = try #require(Self.models["mlp"])
        let r = try Zoo.run(["export", ckpt, "--safetensors", "/nonexistent-dir/m.safetensors"])
        #expect(r.status == 1 && r.stderr.contains("/nonexistent-dir/m.safetensors"), "\(r.stderr)")
        let dir = Fixtures.temporaryDirectory("export")
        let s = try Zoo.run(["export", ckpt, "--safetensors", dir])
        #expect(s.status == 1 && s.stderr.contains("directory"), "\(s.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "no temporary left")
    }
}

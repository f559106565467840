import Foundation
import TestSupport
import Testing

/// A Python that can import torch, h5py and numpy: $ZOO_TORCH_PYTHON, else
/// .venv's Python if torch is installed there (Scripts/install-deps.sh does
/// not install it: PyTorch's wheels are gigabytes).
let torchPython: String? = {
    let candidates: [String?] = [
        ProcessInfo.processInfo.environment["ZOO_TORCH_PYTHON"], repository.appendingPathComponent(".venv/bin/python").path,
    ]
    for case let path? in candidates where FileManager.default.isExecutableFile(atPath: path) {
        if (try? runPython(["-c", "import torch, h5py, numpy"], python: path))?.0 == 0 { return path }
    }
    return nil
}()

/// python/zoo_torch.py against zoo (issue 14, item 4): the module built from
/// a checkpoint loads strict, encodes and decodes as zoo does, its −ELBO
/// agrees with `zoo eval`'s and its KL exactly, and the optimizer it loads
/// makes zoo's next Adam step (Tests/python/check_zoo_torch.py). Skipped
/// where no Python can import torch; set ZOO_TORCH_PYTHON to one that can.
@Suite(.serialized) struct TorchBridgeEndToEndTests {
    @Test(
        .enabled(if: torchPython != nil, "needs a Python that imports torch (set ZOO_TORCH_PYTHON); skipped"),
        arguments: [
            ("mlp", ["--hidden", "64", "--latent-dim", "4"]), ("conv", ["--recipe", "conv-vae"]), ("cvae", ["--recipe", "cvae"]),
        ])
    func moduleAndOptimizerMatchZoo(model: String, flags: [String]) throws {
        let python = try #require(torchPython)
        let dir = Fixtures.temporaryDirectory("torch")
        // One batch per epoch, so that resuming one epoch is exactly one Adam step.
        let train = try Zoo.run(["train", "--limit", "128", "--batch-size", "128", "--epochs", "3", "--save", dir + "/a.h5"] + flags)
        #expect(train.status == 0, "\(train.stderr)")
        try FileManager.default.copyItem(atPath: dir + "/a.h5", toPath: dir + "/b.h5")
        #expect(try Zoo.run(["resume", dir + "/b.h5", "--epochs", "4"]).status == 0)
        let label = model == "cvae" ? ["--label", "3"] : []
        #expect(
            try Zoo.run(["sample", dir + "/a.h5", "--n", "12", "--out", dir + "/s.npy", "--latent-out", dir + "/z.npy"] + label).status == 0
        )
        #expect(try Zoo.run(["embed", dir + "/a.h5", "--csv", dir + "/e.csv", "--logvar", "--limit", "500"]).status == 0)
        #expect(try Zoo.run(["eval", dir + "/a.h5", "--elbo", "--limit", "500", "--report", dir + "/r.json"]).status == 0)
        let (status, text) = try runPython(
            [
                repository.appendingPathComponent("Tests/python/check_zoo_torch.py").path, dir + "/a.h5", dir + "/b.h5", dir + "/e.csv",
                Fixtures.fashionMNIST + "/t10k-images-idx3-ubyte.gz", "40", dir + "/s.npy", dir + "/z.npy", dir + "/r.json",
            ] + (model == "cvae" ? ["3"] : []), python: python)
        #expect(status == 0, "\(text)")
    }
}

import Checkpoint
import Foundation
import TestSupport
import Testing
import Training

/// Convolutional models through the binary (issue 13): the conv-vae recipe
/// trains, saves, resumes bit for bit from a SIGINT mid-epoch, traverses,
/// interpolates, inspects and benches (RecipeEndToEndTests evaluates, embeds
/// with numpy's μ and samples it like every recipe); it fits colour images of other sizes; a stack no built-in recipe
/// uses trains from a recipe file; a conditional conv model samples by
/// label; stacks that do not fit the data are refused before training and
/// nothing is written.
@Suite(.serialized) struct ConvEndToEndTests {
    static func text(_ path: String) -> String {
        String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
    }

    @Test func convVAETrainsSamplesAndInspects() throws {
        let dir = Fixtures.temporaryDirectory("conv")
        let m = dir + "/m.h5"
        let r = try Zoo.run([
            "train", "--recipe", "conv-vae", "--limit", "600", "--epochs", "1", "--save", m, "--samples-dir", dir + "/s",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("recipe conv-vae") && r.stderr.contains("conv2d 32 k4 s2 p1") && r.stderr.contains("1691369 parameters"))
        #expect(r.stdout.contains("epoch 1/1"))
        let c = try Checkpoint.read(from: m)
        #expect(c.config.model.naming == .sequential && c.parameters["decoder.7.weight"]?.count == 32 * 16)
        #expect(Set(c.parameters.keys) == Set(c.config.model.parameterShapes.map(\.0)))
        #expect(
            FileManager.default.fileExists(atPath: dir + "/s/sampled-1.png")
                && FileManager.default.fileExists(atPath: dir + "/s/reconst-1.png"))

        // Eval, embed (with numpy's μ), sample and inspect of every recipe, conv-vae included: RecipeEndToEndTests.
        for (args, file) in [
            (["--out", dir + "/grid.png"], "grid.png"), (["--traverse", "--out", dir + "/trav.png"], "trav.png"),
            (["--interpolate", "0,1", "--out", dir + "/int.png"], "int.png"),
        ] {
            let s = try Zoo.run(["sample", m] + args)
            #expect(s.status == 0, "\(args): \(s.stderr)")
            #expect(FileManager.default.fileExists(atPath: dir + "/" + file))
        }
        let i = try Zoo.run(["inspect", m])
        #expect(i.status == 0 && i.stdout.contains("decoder.5.weight  64×32×4×4"), "\(i.stdout)")
    }

    @Test func sigintMidEpochResumesBitForBit() throws {
        let dir = Fixtures.temporaryDirectory("conv-resume")
        let common = ["--recipe", "conv-vae", "--limit", "2000", "--threads", "2", "--epochs", "2", "--batch-size", "32"]
        let (p, errPath) = try Zoo.start(["train", "--save", dir + "/split.h5"] + common)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, p.isRunning, !Self.text(errPath).contains("step ") { usleep(20_000) }
        p.interrupt()
        p.waitUntilExit()
        let err = Self.text(errPath)
        #expect(p.terminationStatus == 130, "\(err)")
        let saved = try Checkpoint.read(from: dir + "/split.h5")
        #expect(saved.training?.epoch == 0 && saved.training?.stepInEpoch ?? 0 > 0, "stopped mid-epoch")
        let r = try Zoo.run(["resume", dir + "/split.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Zoo.run(["train", "--save", dir + "/straight.h5"] + common).status == 0)
        let (a, b) = (try Checkpoint.read(from: dir + "/split.h5"), try Checkpoint.read(from: dir + "/straight.h5"))
        #expect(a.training?.epoch == 2 && a.training?.globalStep == b.training?.globalStep)
        for name in b.parameters.keys.sorted() {
            #expect(firstDifference(try #require(a.parameters[name]), try #require(b.parameters[name])) == nil, "\(name)")
            #expect(
                firstDifference(try #require(a.optimizer?.secondMoment[name]), try #require(b.optimizer?.secondMoment[name])) == nil,
                "moment of \(name)")
        }
        #expect(a.training?.history.map(\.testLoss) == b.training?.history.map(\.testLoss))
    }

    /// Tests/Data/photos: 24×16 colour PNGs in class folders.
    @Test func theRecipeFitsColourImagesOfAnotherSize() throws {
        let dir = Fixtures.temporaryDirectory("conv-rgb")
        let photos = repository.appendingPathComponent("Tests/Data/photos").path
        let r = try Zoo.run([
            "train", "--recipe", "conv-vae", "--data", photos, "--epochs", "2", "--save", dir + "/m.h5", "--samples-dir", dir + "/s",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let c = try Checkpoint.read(from: dir + "/m.h5")
        #expect(c.config.model.inputShape == [3, 16, 24] || c.config.model.inputShape == [3, 24, 16])
        let shapes = Dictionary(uniqueKeysWithValues: c.config.model.parameterShapes)
        #expect(shapes["encoder.0.weight"] == [32, 3, 4, 4] && shapes["decoder.7.weight"] == [32, 3, 4, 4])
        #expect(shapes["decoder.2.weight"] == [64 * 4 * 6, 256] && shapes["encoder.5.weight"] == [256, 64 * 4 * 6])
        #expect(FileManager.default.fileExists(atPath: dir + "/s/sampled-2.png"))
        let e = try Zoo.run(["eval", dir + "/m.h5", "--elbo", "--nll", "--iw-samples", "8"])
        #expect(e.status == 0, "\(e.stderr)")
    }

    /// Stride-1 convolutions, LeakyReLU, output_padding 1, 16 channels, z 8: layers no built-in recipe uses.
    static let ownStack = #"""
        {"name": "own-conv", "description": "A stack of my own.", "config": {"model": {
          "encoder": [{"type": "conv2d", "out_channels": 8, "kernel_size": 3, "padding": 1}, {"type": "leaky_relu", "negative_slope": 0.2},
                      {"type": "conv2d", "out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1}, {"type": "leaky_relu"},
                      {"type": "flatten"}],
          "latent_dim": 8,
          "decoder": [{"type": "linear", "out_features": 3136}, {"type": "leaky_relu", "negative_slope": 0.2},
                      {"type": "unflatten", "shape": [16, 14, 14]},
                      {"type": "conv_transpose2d", "out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1},
                      {"type": "tanh"},
                      {"type": "conv2d", "out_channels": 1, "kernel_size": 3, "padding": 1}]},
          "training": {"batch_size": 64}}}
        """#

    @Test func aStackOfItsOwnTrainsFromARecipeFile() throws {
        let dir = Fixtures.temporaryDirectory("conv-own")
        let recipe = dir + "/own.json"
        try Self.ownStack.write(toFile: recipe, atomically: true, encoding: .utf8)
        let r = try Zoo.run(["train", "--recipe", recipe, "--limit", "400", "--epochs", "2", "--save", dir + "/m.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        let c = try Checkpoint.read(from: dir + "/m.h5")
        let history = try #require(c.training?.history)
        #expect(history.count == 2 && history[1].trainLoss < history[0].trainLoss, "\(history.map(\.trainLoss))")
        #expect(Dictionary(uniqueKeysWithValues: c.config.model.parameterShapes)["decoder.3.weight"] == [16, 8, 3, 3])
        #expect(try Zoo.run(["sample", dir + "/m.h5", "--out", dir + "/g.png"]).status == 0)
    }

    @Test func aConditionalConvModelSamplesByLabel() throws {
        let dir = Fixtures.temporaryDirectory("conv-cond")
        let r = try Zoo.run([
            "train", "--recipe", "conv-vae", "--label-classes", "10", "--limit", "500", "--epochs", "1", "--save", dir + "/m.h5",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let c = try Checkpoint.read(from: dir + "/m.h5")
        // The label joins the image as 10 planes, and z as 10 values.
        #expect(Dictionary(uniqueKeysWithValues: c.config.model.parameterShapes)["encoder.0.weight"] == [32, 11, 4, 4])
        #expect(Dictionary(uniqueKeysWithValues: c.config.model.parameterShapes)["decoder.0.weight"] == [256, 30])
        let s = try Zoo.run(["sample", dir + "/m.h5", "--label", "3", "--out", dir + "/three.png"])
        #expect(s.status == 0 && FileManager.default.fileExists(atPath: dir + "/three.png"), "\(s.stderr)")
        let e = try Zoo.run(["eval", dir + "/m.h5", "--elbo", "--nll", "--iw-samples", "8", "--limit", "40"])
        #expect(e.status == 0, "\(e.stderr)")
        // The label planes as numpy builds them give zoo's μ.
        let csv = dir + "/z.csv"
        #expect(try Zoo.run(["embed", dir + "/m.h5", "--csv", csv, "--limit", "30"]).status == 0)
        let (status, output) = try runPython([
            repository.appendingPathComponent("Tests/python/check_embedding.py").path,
            dir + "/m.h5", csv, Fixtures.fashionMNIST + "/t10k-images-idx3-ubyte.gz", "30",
        ])
        #expect(status == 0, "\(output)")
    }

    /// A recipe whose layers do not fit the data: exit 1 before training, the
    /// layer, the shapes and the fix named, no checkpoint written.
    @Test(arguments: [
        (
            #"{"type": "conv_transpose2d", "out_channels": 1, "kernel_size": 3, "stride": 2, "padding": 1}"#, "",
            "decoder layer 7 (conv_transpose2d 1 k3 s2 p1) cannot give a height of 28"
        ),
        (
            #"{"type": "conv_transpose2d", "out_channels": 1, "kernel_size": 4, "stride": 2, "padding": 1}"#,
            #"{"type": "conv2d", "out_channels": 64, "kernel_size": 9}, "#,
            "encoder layer 4 (conv2d 64 k9 s1 p0): its kernel 9×9 is larger than its input 7×7 padded by 0 (input [64, 7, 7])"
        ),
        (
            #"{"type": "conv_transpose2d", "out_channels": 1, "kernel_size": 4, "stride": 2, "padding": 1}"#,
            #"{"type": "flatten"}, {"type": "conv2d", "out_channels": 4, "kernel_size": 3}, "#,
            "encoder layer 5 (conv2d 4 k3 s1 p0): it takes an image [channels, height, width], but its input is [3136]; put an unflatten layer before it"
        ),
    ])
    func stacksThatDoNotFitAreRefusedBeforeTraining(last: String, extra: String, message: String) throws {
        let dir = Fixtures.temporaryDirectory("conv-bad")
        let recipe = dir + "/bad.json"
        try #"""
        {"name": "bad", "description": "Does not fit.", "config": {"model": {
          "encoder": [{"type": "conv2d", "out_channels": 32, "kernel_size": 4, "stride": 2, "padding": 1}, {"type": "relu"},
                      {"type": "conv2d", "out_channels": 64, "kernel_size": 4, "stride": 2, "padding": 1}, {"type": "relu"},
                      \#(extra){"type": "flatten"}, {"type": "linear", "out_features": 256}, {"type": "relu"}],
          "latent_dim": 20,
          "decoder": [{"type": "linear", "out_features": 256}, {"type": "relu"}, {"type": "linear", "out_features": 3136}, {"type": "relu"},
                      {"type": "unflatten", "shape": [64, 7, 7]},
                      {"type": "conv_transpose2d", "out_channels": 32, "kernel_size": 4, "stride": 2, "padding": 1}, {"type": "relu"},
                      \#(last)]}}}
        """#.write(toFile: recipe, atomically: true, encoding: .utf8)
        let r = try Zoo.run(["train", "--recipe", recipe, "--limit", "100", "--epochs", "1", "--save", dir + "/m.h5"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains(message), "\(r.stderr)")
        #expect(!r.stdout.contains("epoch") && !FileManager.default.fileExists(atPath: dir + "/m.h5"))
    }

    /// Images of 30×30: the conv-vae recipe's strides give only multiples of 4.
    @Test func aHeightTheStridesCannotGiveIsRefused() throws {
        let dir = Fixtures.temporaryDirectory("conv-30")
        let data = dir + "/x.npy"
        Fixtures.write(
            Fixtures.npy(descr: "|u1", shape: [20, 30, 30], data: (0..<(20 * 900)).map { UInt8(truncatingIfNeeded: $0 * 7) }), to: data)
        let r = try Zoo.run(["train", "--recipe", "conv-vae", "--data", data, "--epochs", "1", "--save", dir + "/m.h5"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.contains("cannot give a height of 15") && r.stderr.contains("multiples of 4 (such as 28×28)"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.h5"))
    }

    @Test func benchReportsTheConvolutionsFloorAndMemory() throws {
        let r = try Zoo.run(["bench", "--recipe", "conv-vae", "--limit", "512", "--epochs", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = r.stdout + r.stderr
        #expect(out.contains("GFLOP per epoch") && out.contains("peak") && out.contains("time split"), "\(out)")
        #expect(out.contains("(median of 3 readings before each epoch and after the last:") && out.contains("the median epoch"), "\(out)")
        #expect(!out.contains("thread seconds per epoch"), "no layer table unless asked: \(out)")
        // The machine it ran on (issue 16): CPU, instruction set, the OpenBLAS
        // kernels zoo chose for it (the widest the CPU runs), the workers.
        let j = try Zoo.run(["bench", "--recipe", "conv-vae", "--limit", "256", "--epochs", "1", "--json", "--layers"])
        #expect(j.status == 0, "\(j.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any])
        let cpu = try #require(obj["cpu"] as? String)
        #expect(!cpu.isEmpty && cpu != "unknown CPU")
        let isa = try #require(obj["instruction_set"] as? String)
        let core = try #require(obj["blas_core"] as? String).lowercased()
        switch isa {
        case "AVX-512": #expect(["skylakex", "cooperlake", "sapphirerapids"].contains(core), "\(core)")
        case "AVX2+FMA": #expect(["haswell", "zen"].contains(core), "\(core)")
        default: #expect(isa == "SSE")
        }
        // zoo's own C kernels: the widest of their clones this CPU runs (the tests' build has them all).
        let kernels = try #require(obj["zoo_kernels_instruction_set"] as? String)
        #expect(kernels == ["AVX-512": "AVX-512", "AVX2+FMA": "AVX2"][isa, default: "x86-64"], "\(kernels) on \(isa)")
        #expect(out.contains("kernels, zoo's own kernels \(kernels)"), "\(out)")
        // libxsmm's products: on with AVX2 or AVX-512 (unless ZOO_LIBXSMM says otherwise).
        let jit = try #require(obj["jit_products"] as? String)
        #expect(jit.hasPrefix("libxsmm "), "\(jit)")
        if ProcessInfo.processInfo.environment["ZOO_LIBXSMM"] == nil {
            #expect(jit.contains("not used") == (isa == "SSE"), "\(jit) on \(isa)")
        }
        #expect(out.contains("zoo's own kernels \(kernels), \(jit)"), "\(out)")
        #expect(obj["workers"] as? Int == ProcessInfo.processInfo.activeProcessorCount)
        // Where the epoch went: parts that are positive and add up to no more than the epoch.
        let epoch = try #require(obj["median_seconds_per_epoch"] as? Double)
        let preparation = try #require(obj["batch_preparation_seconds_per_epoch"] as? Double)
        let passes = try #require(obj["forward_backward_seconds_per_epoch"] as? Double)
        let adam = obj["optimizer_seconds_per_epoch"] as? Double ?? 0
        #expect(preparation > 0 && passes > 0 && (adam > 0 || ProcessInfo.processInfo.activeProcessorCount == 1))
        #expect(preparation + passes + adam <= epoch * 1.001, "\(preparation) + \(passes) + \(adam) of \(epoch)")
        #expect(passes > adam && passes > preparation)
        let one = try #require(obj["sgemm_gflops_one_product"] as? Double)
        let split = try #require(obj["sgemm_gflops_per_worker_products"] as? Double)
        #expect(one > 0 && split > 0 && obj["sgemm_gflops"] as? Double == max(one, split))
        // The per-worker rate read before the epoch and after it: their median.
        let readings = try #require(obj["sgemm_gflops_per_worker_readings"] as? [Double])
        #expect(readings.count == 2 && readings.allSatisfy { $0 > 0 })
        #expect(split >= readings.min()! && split <= readings.max()!)
        let floor = try #require(obj["gemm_floor_seconds_per_epoch"] as? Double)
        #expect(floor > 0)
        #expect(out.contains("cpu              \(cpu), \(isa), OpenBLAS"), "\(out)")
        // --layers: every layer of the stacks, in order, with time in each one
        // that has parameters and a product rate for exactly those; all of it
        // within the workers' passes.
        let layers = try #require(obj["layers"] as? [[String: Any]])
        let labels = [
            "encoder.0 conv2d 32 k4 s2 p1", "encoder.1 relu", "encoder.2 conv2d 64 k4 s2 p1", "encoder.3 relu", "encoder.4 flatten",
            "encoder.5 linear 256", "encoder.6 relu", "heads linear 2×20", "decoder.0 linear 256", "decoder.1 relu",
            "decoder.2 linear 3136", "decoder.3 relu", "decoder.4 unflatten 64×7×7", "decoder.5 conv_transpose2d 32 k4 s2 p1",
            "decoder.6 relu", "decoder.7 conv_transpose2d 1 k4 s2 p1",
        ]
        #expect(layers.compactMap { $0["label"] as? String } == labels)
        var threadSeconds = 0.0
        for (row, label) in zip(layers, labels) {
            let forward = try #require(row["forward_seconds_per_epoch"] as? Double)
            let backward = try #require(row["backward_seconds_per_epoch"] as? Double)
            threadSeconds += forward + backward
            #expect(forward >= 0 && backward >= 0)
            if label.contains("conv") || label.contains("linear") {
                #expect(forward > 0 && backward > 0, "\(label)")
                #expect((row["forward_gflops_per_thread"] as? Double ?? 0) > 0, "\(label)")
            } else {
                #expect(row["forward_gflops_per_thread"] is NSNull, "\(label)")
            }
        }
        #expect(threadSeconds <= passes * Double(obj["workers"] as? Int ?? 1) * 1.01, "\(threadSeconds) in \(passes) s of passes")
        let table = try Zoo.run(["bench", "--limit", "256", "--epochs", "1", "--layers"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("thread seconds per epoch") && table.stdout.contains("encoder.0 linear 400"), "\(table.stdout)")
    }
}

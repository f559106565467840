// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way (commands → format/models → numeric core → C shims);
// ARCHITECTURE.md has the module graph, which a test checks against the imports.
let package = Package(
    name: "zoo",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "zoo", targets: ["zoo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // .npz archives are zip files.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        // CSV tables (RFC 4180 quoting) for --data table.csv.
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.0"),
        // ONNX export: the protobuf runtime (onnx.proto's Swift code is generated once and committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: C shims, one per system library
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlibShim",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]
        ),
        .systemLibrary(
            name: "CLibXSMM",
            pkgConfig: "libxsmm",
            providers: [.apt(["libxsmm-dev"])]
        ),
        .systemLibrary(
            name: "CLibPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]
        ),
        // PNG decoding through libpng's setjmp-based API, wrapped in C for Swift.
        .target(name: "CPNGDecode", dependencies: ["CLibPNG"]),
        // libxsmm's just-in-time products, wrapped in C for Swift (NumericCore's BLAS picks which products go there).
        .target(name: "CJITGEMM", dependencies: ["CLibXSMM"]),
        // MARK: SIMD element-wise kernels (C with runtime ISA dispatch; see its header)
        .target(name: "CKernels"),

        // MARK: Swift modules
        .target(name: "NumericCore", dependencies: ["COpenBLAS", "CKernels", "CJITGEMM"]),
        .target(name: "NeuralNet", dependencies: ["NumericCore"]),
        .target(name: "Datasets", dependencies: ["CZlibShim", "HDF5", "NumericCore", "CPNGDecode", "Support", .product(name: "CSV", package: "CSV.swift"), "ZIPFoundation"]),
        .target(name: "Support"),
        .target(name: "ImageIO", dependencies: ["CZlibShim", "Support"]),
        .target(name: "HDF5", dependencies: ["CHDF5", "CZlibShim"]),
        .target(name: "Evaluation", dependencies: ["NeuralNet", "Datasets", "NumericCore"]),
        .target(name: "Checkpoint", dependencies: ["CZlibShim", "HDF5", "Support", "Training", "Datasets", "NeuralNet", "NumericCore"]),
        .target(name: "Training", dependencies: ["NeuralNet", "Datasets", "Evaluation", "NumericCore", "Support"],
                resources: [.embedInCode("Resources")]),
        .target(name: "Recipes", dependencies: ["Training", "Support"], resources: [.embedInCode("Resources")]),
        .target(name: "Reports"),
        .target(name: "Interchange", dependencies: ["NeuralNet", "Support", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),
        .target(
            name: "ZooCommands",
            dependencies: [
                "NumericCore", "NeuralNet", "Datasets", "ImageIO", "Support", "Training", "Checkpoint", "HDF5", "Evaluation", "Recipes",
                "Interchange", "Reports",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "zoo", dependencies: ["ZooCommands"]),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["CZlibShim"], path: "Tests/TestSupport"),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5", "CHDF5", "TestSupport"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "HDF5", "Support", "Training", "Datasets", "NeuralNet", "NumericCore", "TestSupport"]),
        .testTarget(name: "CShimTests", dependencies: ["CHDF5", "COpenBLAS", "CZlibShim"]),
        .testTarget(name: "NumericCoreTests", dependencies: ["NumericCore", "CJITGEMM"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "NumericCore", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TestSupport"]),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "Support", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Datasets", "NeuralNet", "NumericCore", "TestSupport"]),
        .testTarget(name: "ZooCommandsTests", dependencies: ["ZooCommands", "NeuralNet", "TestSupport"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Training", "Datasets", "NeuralNet", "NumericCore", "TestSupport"]),
        .testTarget(name: "RecipesTests", dependencies: ["Recipes", "Training", "Checkpoint", "Support", "TestSupport"]),
        .testTarget(name: "SupportTests", dependencies: ["Support", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports"]),
        .testTarget(name: "InterchangeTests", dependencies: ["Interchange", "Support", "TestSupport"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TestSupport", "Checkpoint", "CPNGDecode", "Datasets", "Interchange", "NeuralNet", "Support", "Training"]),
    ],
    swiftLanguageModes: [.v6]
)

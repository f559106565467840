import CZlibShim
import Foundation

/// Small IDX datasets written on the fly, and the real ones on this machine.
public enum Fixtures {
    /// Debian's Fashion-MNIST (dataset-fashion-mnist).
    public static let fashionMNIST = "/usr/share/datasets/fashion-mnist"

    /// The real MNIST test set (10,000 digits, the published t10k files), kept in the repository.
    public static var mnistTestSet: String {
        var dir = URL(fileURLWithPath: #filePath)
        for _ in 0..<2 { dir.deleteLastPathComponent() }  // Tests/TestSupport/Fixtures.swift → Tests
        return dir.appendingPathComponent("Data/mnist-t10k").path
    }

    /// One directory per test process for every temporary file the tests
    /// make: removed when the process exits (and, should a run be killed,
    /// by the next run, which removes the roots of processes that are gone).
    public static let root: String = {
        let base = NSTemporaryDirectory() + "zoo-tests-"
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? [] where name.hasPrefix("zoo-tests-") {
            if let pid = Int32(name.dropFirst("zoo-tests-".count)), kill(pid, 0) != 0, errno == ESRCH {
                removeTree(NSTemporaryDirectory() + name)
            }
        }
        let path = base + "\(getpid())"
        do { try fm.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            fatalError("cannot create the tests' temporary root \(path): \(error)")
        }
        atexit { Fixtures.removeTree(Fixtures.root) }
        return path
    }()

    /// Removes a tree, first clearing the immutable attribute a test may have left on a directory.
    static func removeTree(_ path: String) {
        if getuid() == 0 { runQuietly("/usr/bin/chattr", ["-R", "-i", path]) }
        try? FileManager.default.removeItem(atPath: path)
    }

    static func runQuietly(_ tool: String, _ arguments: [String]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        if (try? p.run()) != nil { p.waitUntilExit() }
    }

    /// A new empty directory under `root`.
    public static func temporaryDirectory(_ tag: String = "zoo") -> String {
        let path = root + "/\(tag)-\(UUID().uuidString)"
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            fatalError("cannot create \(path): \(error)")
        }
        return path
    }

    /// A path for a temporary file under `root` (not created).
    public static func temporaryPath(_ tag: String) -> String { root + "/\(tag)-\(UUID().uuidString)" }

    /// Makes `dir` unwritable even for root (chmod for other users, the immutable attribute for root); returns a closure that undoes it.
    public static func makeUnwritable(_ dir: String) -> (() -> Void)? {
        if getuid() != 0 {
            chmod(dir, 0o500)
            return { chmod(dir, 0o700) }
        }
        let chattr = Process()
        chattr.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        chattr.arguments = ["+i", dir]
        chattr.standardError = FileHandle.nullDevice
        if (try? chattr.run()) != nil {
            chattr.waitUntilExit()
            if chattr.terminationStatus == 0 {
                return {
                    let undo = Process()
                    undo.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
                    undo.arguments = ["-i", dir]
                    try? undo.run()
                    undo.waitUntilExit()
                }
            }
        }
        return nil
    }

    /// The bytes of an IDX file of unsigned bytes.
    public static func idx(dimensions: [Int], data: [UInt8], magic: [UInt8]? = nil) -> [UInt8] {
        var out = magic ?? [0, 0, 0x08, UInt8(dimensions.count)]
        for d in dimensions { out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
        return out + data
    }

    public static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        let path = temporaryPath("gz")
        let f = gzopen(path, "wb")!
        _ = bytes.withUnsafeBytes { gzwrite(f, $0.baseAddress, UInt32($0.count)) }
        gzclose(f)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return [UInt8](FileManager.default.contents(atPath: path)!)
    }

    public static func write(_ bytes: [UInt8], to path: String) {
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    /// The bytes of a NumPy `.npy` file (format 1.0 unless `version` 2) as
    /// numpy.save writes it: magic, version, header length, the dict literal
    /// padded with spaces to a multiple of 64 and ending in a newline, data.
    public static func npy(descr: String, shape: [Int], data: [UInt8], fortran: Bool = false, version: UInt8 = 1, header: String? = nil)
        -> [UInt8]
    {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var text = header ?? "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(dims), }"
        let prefix = version == 1 ? 10 : 12
        while (prefix + text.utf8.count + 1) % 64 != 0 { text += " " }
        text += "\n"
        let n = text.utf8.count
        let length: [UInt8] = version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), 0, 0]
        return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + Array(text.utf8) + data
    }

    /// Little-endian bytes of float32 values.
    public static func bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    /// Little-endian bytes of float64 values.
    public static func bytes(_ values: [Double]) -> [UInt8] {
        values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
    }

    /// A new directory holding random train and test splits of `count` images.
    public static func writeSplitDirectory(count: Int) -> String {
        let dir = temporaryDirectory("data")
        writeSplit("train", count: count, in: dir, seed: 11)
        writeSplit("t10k", count: count, in: dir, seed: 12)
        return dir
    }

    /// Writes a split of `count` random side×side (or side×width) images with labels into `dir`.
    @discardableResult
    public static func writeSplit(
        _ prefix: String, count: Int, in dir: String, gzip compress: Bool = true,
        labelCount: Int? = nil, side: Int = 28, width: Int? = nil, seed: UInt64 = 1
    ) -> (images: String, labels: String) {
        var state = seed
        func byte() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(state >> 56)
        }
        let w = width ?? side
        let images = idx(dimensions: [count, side, w], data: (0..<(count * side * w)).map { _ in byte() })
        let n = labelCount ?? count
        let labels = idx(dimensions: [n], data: (0..<n).map { _ in byte() % 10 })
        let ext = compress ? ".gz" : ""
        let ip = "\(dir)/\(prefix)-images-idx3-ubyte\(ext)"
        let lp = "\(dir)/\(prefix)-labels-idx1-ubyte\(ext)"
        write(compress ? gzip(images) : images, to: ip)
        write(compress ? gzip(labels) : labels, to: lp)
        return (ip, lp)
    }
}

/// Runs the `zoo` executable that `swift build` put beside the test bundle.
public enum Zoo {
    public struct Result {
        public let status: Int32
        public let stdout: String
        public let stderr: String
    }

    public static var executable: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("zoo").path
    }

    /// Starts `zoo` in the background with stderr going to a file; returns the
    /// process and that file's path.
    public static func start(_ arguments: [String]) throws -> (Process, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let errPath = Fixtures.temporaryPath("zoo-err")
        FileManager.default.createFile(atPath: errPath, contents: nil)
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try p.run()
        return (p, errPath)
    }

    /// Runs `zoo` (through `wrapper`, a command and its arguments, when given) and collects its output.
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        wrapper: [String] = []
    ) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: wrapper.first ?? executable)
        p.arguments = wrapper.isEmpty ? arguments : Array(wrapper.dropFirst()) + [executable] + arguments
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        p.environment = env
        // Output goes to files, so neither stream can fill a pipe and block.
        let base = Fixtures.temporaryPath("zoo-run")
        FileManager.default.createFile(atPath: base + ".out", contents: nil)
        FileManager.default.createFile(atPath: base + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        p.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        p.standardError = FileHandle(forWritingAtPath: base + ".err")
        p.standardInput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        let outData = FileManager.default.contents(atPath: base + ".out") ?? Data()
        let errData = FileManager.default.contents(atPath: base + ".err") ?? Data()
        return Result(
            status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }
}

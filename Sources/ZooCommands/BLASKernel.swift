import Foundation
import NumericCore

#if canImport(Glibc)
    import Glibc
#endif

extension Zoo {
    /// Commands dominated by large matrix products (`zoo eval`: thousands of
    /// decoder rows per image for the importance-weighted NLL) run with
    /// OpenBLAS's AVX-512 kernels when the CPU has AVX-512 but OpenBLAS would
    /// pick its AVX2 ones (AMD Zen 4/5 with OpenBLAS 0.3.21): measured 1.8x
    /// faster sgemm for these shapes. OpenBLAS reads its kernel choice only
    /// when it loads, so the process re-executes itself once with
    /// OPENBLAS_CORETYPE=SkylakeX. Training does not, so that resumed runs stay
    /// bit-identical (a different kernel rounds differently).
    ///
    /// This overrides an OPENBLAS_CORETYPE in the environment (some machine
    /// images set it to Haswell for all programs); ZOO_BLAS_CORETYPE=keep
    /// leaves OpenBLAS's own choice alone, any other value of it is used as
    /// the core type instead of SkylakeX.
    ///
    /// Call first thing in `main`; returns normally when nothing is to be done
    /// (or when re-executing fails, which only costs speed).
    /// OpenBLAS's core types whose kernels use AVX-512: on a CPU without it
    /// they die with an illegal instruction.
    static let avx512CoreTypes: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// Why `core` cannot be used on this CPU, or nil when it can.
    static func coreTypeProblem(_ core: String, cpuHasAVX512: Bool) -> String? {
        guard avx512CoreTypes.contains(core.lowercased()), !cpuHasAVX512 else { return nil }
        return "ZOO_BLAS_CORETYPE=\(core) needs AVX-512, which this CPU lacks; keeping OpenBLAS's own kernel (\(BLAS.coreName))"
    }

    public static func selectBLASKernel(arguments: [String] = CommandLine.arguments) {
        guard arguments.count > 1, arguments[1] == "eval", getenv("ZOO_BLAS_REEXEC") == nil else { return }
        let requested = getenv("ZOO_BLAS_CORETYPE").map { String(cString: $0) }
        if requested == "keep" { return }
        if requested == nil && !BLAS.cpuSupportsAVX512Kernels { return }
        let core = requested ?? "SkylakeX"
        if let problem = coreTypeProblem(core, cpuHasAVX512: BLAS.cpuSupportsAVX512Kernels) {
            writeStderr("note: \(problem)\n")
            return
        }
        if BLAS.coreName.lowercased() == core.lowercased() { return }
        let previous = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("ZOO_BLAS_REEXEC", "1", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", argv)
        // Still here: exec failed; carry on with the kernels already loaded.
        if let previous { setenv("OPENBLAS_CORETYPE", previous, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
    }
}

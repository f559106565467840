import Foundation
import NumericCore

#if canImport(Glibc)
    import Glibc
#endif

extension Zoo {
    /// OpenBLAS 0.3.21 picks its kernels by CPU model, and falls back to old
    /// ones on CPUs it does not know: its SSE3 "Prescott" kernels on a recent
    /// Intel Xeon (Sapphire/Emerald Rapids under KVM: sgemm 60 GFLOP/s against
    /// 180-230 with its AVX-512 kernels, training 2.8x slower), its AVX2
    /// kernels on AMD Zen 4/5, which have AVX-512 (1.8x slower sgemm on the
    /// importance sampler's shapes). OpenBLAS reads its kernel choice only when
    /// it loads, so zoo re-executes itself once, first thing, with
    /// OPENBLAS_CORETYPE set to the widest kernel family the CPU can run:
    /// SkylakeX with AVX-512, Haswell with AVX2 and FMA.
    ///
    /// Every command does, so that training, resuming and evaluating on one
    /// machine use the same kernels (a different kernel rounds differently:
    /// resumes stay bit-identical on the machine that trained). This overrides
    /// an OPENBLAS_CORETYPE in the environment (some machine images set one
    /// for all programs); ZOO_BLAS_CORETYPE=keep leaves OpenBLAS's own choice
    /// alone, any other value of it is used instead of zoo's choice.
    ///
    /// Returns normally when nothing is to be done (or when re-executing
    /// fails, which only costs speed).
    public static func selectBLASKernel(arguments: [String] = CommandLine.arguments) {
        guard arguments.count > 1, !arguments[1].hasPrefix("-"), arguments[1] != "help", getenv("ZOO_BLAS_REEXEC") == nil
        else { return }
        let requested = getenv("ZOO_BLAS_CORETYPE").map { String(cString: $0) }
        if requested == "keep" { return }
        let avx512 = BLAS.cpuSupportsAVX512Kernels
        if let requested, let problem = coreTypeProblem(requested, cpuHasAVX512: avx512) {
            writeStderr("note: \(problem)\n")
            return
        }
        guard
            let core = requested
                ?? preferredCoreType(current: BLAS.coreName, avx512: avx512, avx2: BLAS.cpuSupportsAVX2Kernels),
            BLAS.coreName.lowercased() != core.lowercased()
        else { return }
        let previous = getenv("OPENBLAS_CORETYPE").map { String(cString: $0) }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("ZOO_BLAS_REEXEC", "1", 1)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", argv)
        // Still here: exec failed; carry on with the kernels already loaded.
        if let previous { setenv("OPENBLAS_CORETYPE", previous, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
    }

    /// Notes on stderr the settings in the environment that zoo ignores (a
    /// `ZOO_LIBXSMM` other than on or off), once per process, before a command runs.
    public static func noteIgnoredEnvironment() {
        if let problem = JITProducts.environmentProblem { writeStderr("note: \(problem)\n") }
    }

    /// OpenBLAS's core types whose kernels use AVX-512: on a CPU without it
    /// they die with an illegal instruction.
    static let avx512CoreTypes: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    /// Core types whose kernels use AVX2 and FMA (or wider).
    static let avx2CoreTypes: Set<String> = avx512CoreTypes.union(["haswell", "zen"])

    /// The kernel family zoo asks OpenBLAS for, given the one OpenBLAS picked
    /// (`current`) and what the CPU can run; nil to keep OpenBLAS's.
    static func preferredCoreType(current: String, avx512: Bool, avx2: Bool) -> String? {
        let c = current.lowercased()
        if avx512 { return avx512CoreTypes.contains(c) ? nil : "SkylakeX" }
        if avx2 { return avx2CoreTypes.contains(c) ? nil : "Haswell" }
        return nil
    }

    /// Why `core` cannot be used on this CPU, or nil when it can.
    static func coreTypeProblem(_ core: String, cpuHasAVX512: Bool) -> String? {
        guard avx512CoreTypes.contains(core.lowercased()), !cpuHasAVX512 else { return nil }
        return "ZOO_BLAS_CORETYPE=\(core) needs AVX-512, which this CPU lacks; keeping OpenBLAS's own kernel (\(BLAS.coreName))"
    }
}

import CKernels
import COpenBLAS

/// Matrix products on OpenBLAS's `cblas_sgemm`, and some on libxsmm's
/// just-in-time kernels (`JITProducts` says which). All matrices are row-major.
public enum BLAS {
    /// Number of threads OpenBLAS uses for the next products. Results are
    /// bit-identical run to run for a fixed thread count.
    public static var threads: Int {
        Int(openblas_get_num_threads())
    }

    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// The kernel family OpenBLAS picked for this CPU (e.g. "Haswell", "SkylakeX").
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// Whether the CPU can run OpenBLAS's AVX-512 ("SkylakeX") kernels. OpenBLAS
    /// 0.3.21 picks its AVX2 ("Haswell") kernels on AMD Zen 4/5 although they
    /// have AVX-512; for large products the SkylakeX sgemm is ~1.8x faster there.
    /// The choice is made when the library loads (environment variable
    /// OPENBLAS_CORETYPE), so a process that wants it must be started with it.
    public static var cpuSupportsAVX512Kernels: Bool { zk_cpu_has_avx512() != 0 }

    /// Whether the CPU has AVX2 and FMA (what OpenBLAS's "Haswell" kernels need).
    public static var cpuSupportsAVX2Kernels: Bool { zk_cpu_has_avx2_fma() != 0 }

    /// The widest vector instruction set the CPU offers OpenBLAS's kernels:
    /// "AVX-512", "AVX2+FMA" or "SSE" (older or other CPUs).
    public static var cpuInstructionSet: String {
        cpuSupportsAVX512Kernels ? "AVX-512" : cpuSupportsAVX2Kernels ? "AVX2+FMA" : "SSE"
    }

    /// The instruction set zoo's own element-wise kernels (its C kernels, not
    /// OpenBLAS's) run with here: "AVX-512", "AVX2" or "x86-64". Never
    /// "AVX-512" in a build with `-Xcc -DZK_AVX2_ONLY`, which emulates a CPU
    /// without it (see `Sources/CKernels/zk_clones.h`).
    public static var kernelInstructionSet: String { String(cString: zk_kernel_instruction_set()) }

    /// The OpenBLAS build description (version, kernel, threading).
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// C = alpha · op(A) · op(B) + beta · C, where op(A) is m×k, op(B) is k×n, C is m×n.
    /// `lda`, `ldb`, `ldc` are row strides of the stored (untransposed) matrices.
    /// Products `JITProducts.takes` run on libxsmm, the others on OpenBLAS.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if JITProducts.takes(transB: transB, n: n, k: k, alpha: alpha, beta: beta),
            JITProducts.run(transA: transA, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        {
            return
        }
        cblas_sgemm(
            CblasRowMajor,
            transA ? CblasTrans : CblasNoTrans,
            transB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc)
        )
    }
}

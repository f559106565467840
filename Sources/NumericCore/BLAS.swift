import COpenBLAS

/// Matrix products on OpenBLAS's `cblas_sgemm`. All matrices are row-major.
public enum BLAS {
    /// Number of threads OpenBLAS uses for the next products. Results are
    /// bit-identical run to run for a fixed thread count.
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
    }

    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// The OpenBLAS build description (version, kernel, threading).
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// C = alpha · op(A) · op(B) + beta · C, where op(A) is m×k, op(B) is k×n, C is m×n.
    /// `lda`, `ldb`, `ldc` are row strides of the stored (untransposed) matrices.
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

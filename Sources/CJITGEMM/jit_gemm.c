#include "jit_gemm.h"

#include <libxsmm.h>

int zj_sgemm(int transA, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta, float *C,
             int ldc) {
    // Row-major C = op(A)·B is column-major Cᵀ = Bᵀ·op(A)ᵀ: libxsmm's m is N,
    // its n is M, its A is our B and its B our A (transposed when op(A) is Aᵀ).
    const libxsmm_blasint m = N, n = M, k = K, la = ldb, lb = lda, lc = ldc;
    const float alpha = 1;
    const int flags = transA ? LIBXSMM_GEMM_FLAG_TRANS_B : LIBXSMM_GEMM_FLAG_NONE;
    const libxsmm_smmfunction kernel = libxsmm_smmdispatch(m, n, k, &la, &lb, &lc, &alpha, &beta, &flags, NULL);
    if (!kernel) return 0;
    kernel(B, A, C);
    return 1;
}

const char *zj_target_arch(void) {
    libxsmm_init();
    return libxsmm_get_target_arch();
}

int zj_target_is_avx512(void) {
    libxsmm_init();
    return libxsmm_get_target_archid() >= LIBXSMM_X86_AVX512_CORE;
}

int zj_target_is_avx2(void) {
    libxsmm_init();
    return libxsmm_get_target_archid() >= LIBXSMM_X86_AVX2;
}

const char *zj_version(void) { return LIBXSMM_VERSION; }

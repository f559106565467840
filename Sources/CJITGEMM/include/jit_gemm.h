// Row-major single-precision products on libxsmm's just-in-time kernels,
// wrapped in C for Swift (libxsmm's header is macros all the way down).
// NumericCore's BLAS decides which products come here (see JITProducts.swift);
// these functions only run them.
#pragma once

/// C = op(A)·B + beta·C for row-major C (M×N) (libxsmm sets itself up on the
/// first call; thread-safe), op(A) = A (M×K, row stride lda)
/// or, with transA, Aᵀ (A stored K×M), B (K×N, row stride ldb), beta 0 or 1.
/// A value of C does not depend on M, nor on N but in the last N mod 16
/// columns with AVX-512 (see JITProducts.swift). Returns 1 when it ran the product, 0 when
/// libxsmm has no kernel for it (the caller then runs it on BLAS); C is
/// untouched then.
int zj_sgemm(int transA, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta, float *C,
             int ldc);

/// The instruction set libxsmm generates code for on this CPU ("hsw" for
/// AVX2, "skx", "clx", "cpx", "spr" for AVX-512 families, ...).
const char *zj_target_arch(void);

/// 1 when libxsmm generates AVX-512 code here (Skylake-SP or newer), else 0.
int zj_target_is_avx512(void);

/// 1 when libxsmm generates AVX2 code or wider here (Haswell, Zen or newer), else 0.
int zj_target_is_avx2(void);

/// libxsmm's version, e.g. "1.17".
const char *zj_version(void);

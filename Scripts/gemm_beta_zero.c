// What OpenBLAS's beta = 0 costs: it zeroes C in a pass of its own (sgemm_beta,
// a memset when C is contiguous) and then runs the same kernel as for beta = 1,
// which adds into C. For each of zoo's products with a large C (one training
// step's 64-row share of the tutorial MLP and of conv-vae), one thread, best of
// 7 rounds: the product with beta 0; with beta 1 into C as it is (what a product
// into a buffer already at +0 costs); and memset + beta 1 (beta 0 spelled out).
// On these figures conv-vae's column products were moved to beta 1 into buffers
// col2im leaves at +0 (commit 37b6335), and back (3879c00): the zero stores cost
// what the memset did (results/parallel-layouts-2026-11-28.txt, section 9).
// (Since the shared bench_common.h, A and B hold its fill pattern, not i % 31 / 100.)
//
//   clang -O2 -o /tmp/gemm_beta_zero Scripts/gemm_beta_zero.c \
//       -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas
//   OPENBLAS_CORETYPE=SkylakeX /tmp/gemm_beta_zero; OPENBLAS_CORETYPE=Haswell /tmp/gemm_beta_zero
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

extern void openblas_set_num_threads(int);

// Row-major C[M, N] = op(A) op(B), the three ways.
static void run(const char *name, int transA, int transB, int M, int N, int K) {
    float *A = alloc_floats((size_t)M * K), *B = alloc_floats((size_t)K * N), *C = alloc_floats((size_t)M * N);
    const int lda = transA ? M : K, ldb = transB ? K : N;
    double best[3] = {1, 1, 1};
    int calls = (int)(4e9 / (2.0 * M * N * K));
    if (calls < 20) calls = 20;
    for (int round = 0; round < 7; round++)
        for (int mode = 0; mode < 3; mode++) {
            double t = now();
            for (int i = 0; i < calls; i++) {
                if (mode == 2) memset(C, 0, (size_t)M * N * sizeof(float));
                cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K, 1,
                            A, lda, B, ldb, mode == 0 ? 0 : 1, C, N);
            }
            t = (now() - t) / calls;
            if (t < best[mode]) best[mode] = t;
        }
    const double flop = 2.0 * M * N * K;
    printf("%-34s beta 0 %7.1f us (%5.1f GFLOP/s)   beta 1 %7.1f us (%5.1f)   memset + beta 1 %7.1f us\n", name,
           best[0] * 1e6, flop / best[0] / 1e9, best[1] * 1e6, flop / best[1] / 1e9, best[2] * 1e6);
    free(A);
    free(B);
    free(C);
}

int main(void) {
    openblas_set_num_threads(1);
    run("MLP dW 400x784, K 64 (dyT x)", 1, 0, 400, 784, 64);
    run("MLP dW 784x400, K 64 (dyT x)", 1, 0, 784, 400, 64);
    run("MLP dx 64x400, K 784 (dy W)", 0, 0, 64, 400, 784);
    run("MLP forward 400x64, K 784 (W xT)", 0, 1, 400, 64, 784);
    run("conv-vae dW 256x3136, K 64", 1, 0, 256, 3136, 64);
    run("conv-vae dW 3136x256, K 64", 1, 0, 3136, 256, 64);
    run("Conv2d dcol 512x392, K 64 (WT dy)", 1, 0, 512, 392, 64);
    run("ConvT col 512x392, K 64 (WT x)", 1, 0, 512, 392, 64);
    run("ConvT col 16x1568, K 32 (dec.7)", 1, 0, 16, 1568, 32);
    return 0;
}

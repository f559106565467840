// OpenBLAS's single-threaded sgemm rate on the tutorial MLP's products of one
// training step's 64-row share (and two 128-row ones for comparison), the
// best of 200 calls each. zoo's choices of product forms (the transposed
// linear forward, dW = dyᵀ·x) were measured this way.
//
//   clang -O2 -o /tmp/sgemm_shapes Scripts/sgemm_shapes.c \
//       -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas
//   OPENBLAS_CORETYPE=SkylakeX /tmp/sgemm_shapes; OPENBLAS_CORETYPE=Haswell /tmp/sgemm_shapes
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_common.h"

extern void openblas_set_num_threads(int);

typedef struct {
    const char *name;
    int transA, transB, M, N, K;
} Shape;

int main(void) {
    openblas_set_num_threads(1);
    const Shape shapes[] = {
        {"fc1 forward, W·xT", 0, 1, 400, 64, 784},  {"fc1 forward, x·WT", 0, 1, 64, 400, 784},
        {"fc1 dW = dyT·x", 1, 0, 400, 784, 64},      {"fc1 dx (not needed)", 0, 0, 64, 784, 400},
        {"fc5 forward, W·hT", 0, 1, 784, 64, 400},  {"fc5 forward, h·WT", 0, 1, 64, 784, 400},
        {"fc5 dW = dyT·h", 1, 0, 784, 400, 64},      {"fc5 dx = dy·W", 0, 0, 64, 400, 784},
        {"128 rows: x·WT", 0, 1, 128, 400, 784},    {"128 rows: dW = dyT·x", 1, 0, 400, 784, 128},
    };
    const size_t n = (size_t)1 << 22;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float));
    if (!a || !b || !c) return 1;
    for (size_t i = 0; i < n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.1f;
        c[i] = 0;
    }
    for (size_t j = 0; j < sizeof shapes / sizeof shapes[0]; j++) {
        const Shape s = shapes[j];
        const int lda = s.transA ? s.M : s.K, ldb = s.transB ? s.K : s.N;
        double best = 1e9;
        for (int it = 0; it < 200; it++) {
            const double t = now();
            cblas_sgemm(CblasRowMajor, s.transA ? CblasTrans : CblasNoTrans, s.transB ? CblasTrans : CblasNoTrans, s.M,
                        s.N, s.K, 1, a, lda, b, ldb, 0, c, s.N);
            const double d = now() - t;
            if (d < best) best = d;
        }
        printf("%-22s M %4d N %4d K %4d  %6.1f GFLOP/s\n", s.name, s.M, s.N, s.K, 2.0 * s.M * s.N * s.K / best / 1e9);
    }
    free(a);
    free(b);
    free(c);
    return 0;
}

// OpenBLAS's sgemm against libxsmm's just-in-time kernels on zoo's products,
// one thread, the median of 201 calls each (and the largest difference
// between their results). zoo runs a product on libxsmm when its form is A·B
// or Aᵀ·B and its B fits in half a core's L2 and 1024 columns (Sources/NumericCore/JITProducts.swift);
// the last column says whether it does with this CPU's L2. The "candidate" rows are forms
// zoo does not run: the split layers' forward as W·(xᵀ) with xᵀ stored (libxsmm 20-70 %
// faster than OpenBLAS's W·xᵀ alone, but in training no faster: README, "Built, measured
// and dropped"), and a 64-channel convolution's three products with channels-last
// activations (all three on libxsmm, 165-172 GFLOP/s, where zoo's image-minor layout leaves
// the weight gradient on OpenBLAS at about 125; measured 2026-11-28, not built).
//
//   clang -O2 -o /tmp/jit_products Scripts/jit_products.c -I/usr/include/x86_64-linux-gnu/openblas-pthread \
//       -L/usr/lib -lxsmm -lopenblas -lm -ldl -lpthread
//   OPENBLAS_CORETYPE=SkylakeX /tmp/jit_products
//   OPENBLAS_CORETYPE=Haswell LIBXSMM_TARGET=hsw /tmp/jit_products      # both held to AVX2
//   (taskset -c 0 /tmp/jit_products & taskset -c 1 /tmp/jit_products)   # both cores busy, as in training
#include <cblas.h>
#include <libxsmm.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "bench_common.h"

extern void openblas_set_num_threads(int);

typedef struct {
    const char *name;
    int transA, transB, M, N, K;
    int candidate;  // 1: a form zoo does not run today (it would need the input transposed first)
} Shape;

static int by_value(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

enum { calls = 201 };

int main(void) {
    openblas_set_num_threads(1);
    libxsmm_init();
    const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    const long bound = (l2 > 0 ? l2 : 512 * 1024) / 2;
    printf("libxsmm %s, target %s; B bound %ld KiB\n", LIBXSMM_VERSION, libxsmm_get_target_arch(), bound / 1024);
    const Shape shapes[] = {
        // The tutorial MLP, 2 workers: the split layers' products over the batch's 128 rows.
        {"mlp enc0 fwd W·xT", 0, 1, 192, 128, 784},
        {"mlp enc0 fwd W·(xT)", 0, 0, 192, 128, 784, 1},
        {"mlp enc0 dW dyT·x", 1, 0, 192, 784, 128},
        {"mlp dec2 fwd W·hT", 0, 1, 384, 128, 400},
        {"mlp dec2 fwd W·(hT)", 0, 0, 384, 128, 400, 1},
        {"mlp dec2 dW dyT·h", 1, 0, 384, 400, 128},
        {"mlp dec2 dx dy·W", 0, 0, 128, 400, 384},
        {"mlp heads dW", 1, 0, 40, 400, 64},
        {"mlp heads dx", 0, 0, 64, 400, 40},
        // conv-vae: 64-channel convolutions on chunks of 8 images (49 positions each).
        {"conv W·col", 0, 0, 64, 392, 512},
        {"conv WT·dy", 1, 0, 512, 392, 64},
        {"conv dW col·dyT", 0, 1, 512, 64, 392},
        // The same three products with the activations channels-last (col stored transposed,
        // position·images × taps·channels; W transposed once per step, 128 KB): all A·B or Aᵀ·B.
        {"conv colT·Wt", 0, 0, 392, 64, 512, 1},
        {"conv col·dyT as TN", 1, 0, 512, 64, 392, 1},
        {"conv dyT·W", 0, 0, 392, 512, 64, 1},
        // conv-vae: its 3136 <-> 256 linear layers, 64 rows.
        {"lin3136 dW dyT·x", 1, 0, 3136, 256, 64},
        {"lin256 dW dyT·x", 1, 0, 256, 3136, 64},
        {"lin3136 dx dy·W", 0, 0, 64, 256, 3136},
        {"lin256 dx dy·W", 0, 0, 64, 3136, 256},
    };
    float *a = alloc_floats(1 << 21), *b = alloc_floats(1 << 21), *c = alloc_floats(1 << 21), *d = alloc_floats(1 << 21);
    static double t[calls];
    for (size_t j = 0; j < sizeof shapes / sizeof shapes[0]; j++) {
        const Shape s = shapes[j];
        const int lda = s.transA ? s.M : s.K, ldb = s.transB ? s.K : s.N, ldc = s.N;
        const double flop = 2.0 * s.M * s.N * s.K;
        for (int i = 0; i < calls; i++) {
            const double t0 = now();
            cblas_sgemm(CblasRowMajor, s.transA ? CblasTrans : CblasNoTrans, s.transB ? CblasTrans : CblasNoTrans, s.M,
                        s.N, s.K, 1, a, lda, b, ldb, 0, c, ldc);
            t[i] = now() - t0;
        }
        qsort(t, calls, sizeof t[0], by_value);
        const double blas = flop / t[calls / 2] / 1e9;
        // Row-major C = op(A)·B is column-major Cᵀ = Bᵀ·op(A)ᵀ (as in Sources/CJITGEMM/jit_gemm.c).
        const libxsmm_blasint m = s.N, n = s.M, k = s.K, la = ldb, lb = lda, lc = ldc;
        const float alpha = 1, beta = 0;
        const int flags = (s.transA ? LIBXSMM_GEMM_FLAG_TRANS_B : 0) | (s.transB ? LIBXSMM_GEMM_FLAG_TRANS_A : 0);
        const libxsmm_smmfunction f = libxsmm_smmdispatch(m, n, k, &la, &lb, &lc, &alpha, &beta, &flags, NULL);
        const int taken = !s.transB && s.N <= 1024 && (long)s.K * s.N * 4 <= bound;
        if (!f) {
            printf("%-18s M %4d N %4d K %4d  OpenBLAS %6.1f  libxsmm   none GFLOP/s\n", s.name, s.M, s.N, s.K, blas);
            continue;
        }
        for (int i = 0; i < calls; i++) {
            const double t0 = now();
            f(b, a, d);
            t[i] = now() - t0;
        }
        qsort(t, calls, sizeof t[0], by_value);
        float diff = 0;
        for (long i = 0; i < (long)s.M * s.N; i++) diff = fmaxf(diff, fabsf(c[i] - d[i]));
        printf("%-18s M %4d N %4d K %4d  OpenBLAS %6.1f  libxsmm %6.1f GFLOP/s  max diff %.1e  %s\n", s.name, s.M, s.N,
               s.K, blas, flop / t[calls / 2] / 1e9, diff,
               s.candidate ? "(a candidate form)" : taken ? "zoo: libxsmm" : "zoo: OpenBLAS");
    }
    return 0;
}

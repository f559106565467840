// One convolution of conv-vae (encoder.2: 32 -> 64 channels, 14x14 -> 7x7, kernel 4, stride 2,
// padding 1), forward and backward over a worker's 64 images in chunks of 8, in two layouts, to
// price a redesign before writing it (as parallel_layouts.c did for the MLP):
//
//   image-minor    zoo today (Sources/NeuralNet/Convolution.swift): value (channel·HW + pixel)·n + image
//                  of a chunk of n images; col = im2col (taps·channels rows × positions·n), y = W·col
//                  (libxsmm), dWᵀ = Σ col·dyᵀ (OpenBLAS: libxsmm 1.17 has no A·Bᵀ kernels), dcol = Wᵀ·dy
//                  (libxsmm), col2im.
//   channels-last  value (pixel·n + image)·channels + channel; colᵀ (positions·n × taps·channels, rows
//                  of whole channel vectors), yᵀ = colᵀ·Wt, dWtᵀ = Σ (colᵀ)ᵀ·dyᵀ, dcolᵀ = dyᵀ·Wp: all
//                  three on libxsmm, with the weight permuted twice per step (Wt, Wp; 32K values) and the
//                  gradient once back.
//
// Both compute the same values from the same logical tensors (checked first: y, dW and dx within 1e-4 of
// each other), then each runs 300 times per round, alternating, and the median step per layout is printed,
// with the products alone (the copies skipped) for comparison. The copies here are plain loops; zoo's own
// im2col/col2im kernels are tuned, so read the product lines first.
//
//   clang -O2 -march=native -o /tmp/conv_layouts Scripts/conv_layouts.c Sources/CJITGEMM/jit_gemm.c \
//       -ISources/CJITGEMM/include -I/usr/include/x86_64-linux-gnu/openblas-pthread -L/usr/lib -lxsmm -lopenblas \
//       -lm -ldl -lpthread
//   OPENBLAS_CORETYPE=SkylakeX taskset -c 1 /tmp/conv_layouts        # one core
//
// 2026-11-28 (Xeon, AVX-512, libxsmm cpx, one core, a noisy hour; layouts agree to 2.7e-7): the whole step
// 4.9-6.9 ms channels-last against 6.0-8.8 image-minor (17-24 % less in every round), the products alone
// 4.3-5.8 against 4.7-6.8 ms (9-15 % less).
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../Sources/CJITGEMM/include/jit_gemm.h"
#include "bench_common.h"

extern void openblas_set_num_threads(int);

enum { CI = 32, CO = 64, H = 14, HO = 7, T = 16, P = 49, HW = H * H, N = 8, CHUNKS = 8, K = CI * T, ITER = 300 };
enum { IMAGES = N * CHUNKS };

static int src[P][T];  // the input pixel of output position p, tap t (-1: padding)

static int by_value(const void *x, const void *y) {
    const double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

// zoo's own libxsmm wrapper (Sources/CJITGEMM), compiled in by the command above; exits when it makes no kernel.
static void jit(int transA, int M, int Nc, int Kk, const float *a, int lda, const float *b, int ldb, float beta, float *c,
                int ldc) {
    if (!zj_sgemm(transA, M, Nc, Kk, a, lda, b, ldb, beta, c, ldc)) {
        fprintf(stderr, "libxsmm has no kernel for %d x %d x %d\n", M, Nc, Kk);
        exit(1);
    }
}

typedef struct {
    float *x, *dy, *W;      // the layer's input, dL/dy and weight, in the layout's order (W: [o][ch][tap])
    float *y, *dx, *gW;     // its outputs
    float *col, *dcol, *tg, *Wt, *Wp;
} Buffers;

static Buffers buffers(void) {
    Buffers b = {alloc_floats((size_t)IMAGES * CI * HW), alloc_floats((size_t)IMAGES * CO * P), alloc_floats(CO * K),
                 alloc_floats((size_t)IMAGES * CO * P), alloc_floats((size_t)IMAGES * CI * HW), alloc_floats(CO * K),
                 alloc_floats((size_t)K * P * N), alloc_floats((size_t)K * P * N), alloc_floats(CO * K),
                 alloc_floats(CO * K), alloc_floats(CO * K)};
    return b;
}

// The column matrix of a chunk, image-minor: rows channel·T + tap, columns position·N + image.
static void im2col_minor(const float *x, float *col) {
    for (int ch = 0; ch < CI; ch++)
        for (int t = 0; t < T; t++) {
            float *row = col + (size_t)(ch * T + t) * P * N;
            for (int p = 0; p < P; p++) {
                const int s = src[p][t];
                if (s < 0) memset(row + p * N, 0, N * sizeof(float));
                else memcpy(row + p * N, x + (size_t)(ch * HW + s) * N, N * sizeof(float));
            }
        }
}

// Its adjoint: adds each column entry into the input value it read.
static void col2im_minor(const float *col, float *dx) {
    for (int ch = 0; ch < CI; ch++)
        for (int t = 0; t < T; t++) {
            const float *row = col + (size_t)(ch * T + t) * P * N;
            for (int p = 0; p < P; p++) {
                const int s = src[p][t];
                if (s < 0) continue;
                float *d = dx + (size_t)(ch * HW + s) * N;
                for (int b = 0; b < N; b++) d[b] += row[p * N + b];
            }
        }
}

// The transposed column matrix of a chunk, channels-last: rows position·N + image, columns tap·CI + channel.
static void im2col_last(const float *x, float *col) {
    for (int p = 0; p < P; p++)
        for (int b = 0; b < N; b++) {
            float *row = col + (size_t)(p * N + b) * K;
            for (int t = 0; t < T; t++) {
                const int s = src[p][t];
                if (s < 0) memset(row + t * CI, 0, CI * sizeof(float));
                else memcpy(row + t * CI, x + (size_t)(s * N + b) * CI, CI * sizeof(float));
            }
        }
}

// Its adjoint.
static void col2im_last(const float *col, float *dx) {
    for (int p = 0; p < P; p++)
        for (int b = 0; b < N; b++) {
            const float *row = col + (size_t)(p * N + b) * K;
            for (int t = 0; t < T; t++) {
                const int s = src[p][t];
                if (s < 0) continue;
                float *d = dx + (size_t)(s * N + b) * CI;
                for (int ch = 0; ch < CI; ch++) d[ch] += row[t * CI + ch];
            }
        }
}

static void image_minor(Buffers *B, int copies) {
    const int cols = P * N;
    for (int c = 0; c < CHUNKS; c++) {
        const float *x = B->x + (size_t)c * CI * HW * N;
        if (copies) im2col_minor(x, B->col);
        jit(0, CO, cols, K, B->W, K, B->col, cols, 0, B->y + (size_t)c * CO * cols, cols);
    }
    memset(B->dx, 0, sizeof(float) * IMAGES * CI * HW);
    for (int c = 0; c < CHUNKS; c++) {
        const float *x = B->x + (size_t)c * CI * HW * N, *dy = B->dy + (size_t)c * CO * cols;
        float *dx = B->dx + (size_t)c * CI * HW * N;
        if (copies) im2col_minor(x, B->col);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, K, CO, cols, 1, B->col, cols, dy, cols, c ? 1 : 0, B->tg, CO);
        jit(1, K, cols, CO, B->W, K, dy, cols, 0, B->dcol, cols);
        if (copies) col2im_minor(B->dcol, dx);
    }
    for (int o = 0; o < CO; o++)
        for (int k = 0; k < K; k++) B->gW[o * K + k] = B->tg[k * CO + o];
}

static void channels_last(Buffers *B, int copies) {
    const int rows = P * N;
    for (int o = 0; o < CO; o++)
        for (int ch = 0; ch < CI; ch++)
            for (int t = 0; t < T; t++) {
                const float w = B->W[(o * CI + ch) * T + t];
                B->Wt[(t * CI + ch) * CO + o] = w;
                B->Wp[o * K + t * CI + ch] = w;
            }
    for (int c = 0; c < CHUNKS; c++) {
        const float *x = B->x + (size_t)c * CI * HW * N;
        if (copies) im2col_last(x, B->col);
        jit(0, rows, CO, K, B->col, K, B->Wt, CO, 0, B->y + (size_t)c * CO * rows, CO);
    }
    memset(B->dx, 0, sizeof(float) * IMAGES * CI * HW);
    for (int c = 0; c < CHUNKS; c++) {
        const float *x = B->x + (size_t)c * CI * HW * N, *dy = B->dy + (size_t)c * CO * rows;
        float *dx = B->dx + (size_t)c * CI * HW * N;
        if (copies) im2col_last(x, B->col);
        jit(1, K, CO, rows, B->col, K, dy, CO, c ? 1 : 0, B->tg, CO);
        jit(0, rows, K, CO, dy, CO, B->Wp, K, 0, B->dcol, K);
        if (copies) col2im_last(B->dcol, dx);
    }
    for (int o = 0; o < CO; o++)
        for (int ch = 0; ch < CI; ch++)
            for (int t = 0; t < T; t++) B->gW[(o * CI + ch) * T + t] = B->tg[(t * CI + ch) * CO + o];
}

// Offsets of logical values in each layout (chunk c holds images c·N ..< c·N + N).
static size_t minor_at(int image, int channel, int pixel, int channels, int pixels) {
    return (size_t)(image / N) * channels * pixels * N + (size_t)(channel * pixels + pixel) * N + image % N;
}
static size_t last_at(int image, int channel, int pixel, int channels, int pixels) {
    return (size_t)(image / N) * channels * pixels * N + (size_t)(pixel * N + image % N) * channels + channel;
}

int main(void) {
    openblas_set_num_threads(1);
    for (int p = 0; p < P; p++)
        for (int t = 0; t < T; t++) {
            const int iy = p / HO * 2 - 1 + t / 4, ix = p % HO * 2 - 1 + t % 4;
            src[p][t] = iy < 0 || iy >= H || ix < 0 || ix >= H ? -1 : iy * H + ix;
        }
    Buffers m = buffers(), l = buffers();
    // The same logical x, dy and W in both layouts.
    memcpy(l.W, m.W, sizeof(float) * CO * K);
    for (int i = 0; i < IMAGES; i++) {
        for (int ch = 0; ch < CI; ch++)
            for (int q = 0; q < HW; q++) l.x[last_at(i, ch, q, CI, HW)] = m.x[minor_at(i, ch, q, CI, HW)];
        for (int o = 0; o < CO; o++)
            for (int p = 0; p < P; p++) l.dy[last_at(i, o, p, CO, P)] = m.dy[minor_at(i, o, p, CO, P)];
    }
    image_minor(&m, 1);
    channels_last(&l, 1);
    float diff = 0;
    for (int i = 0; i < IMAGES; i++) {
        for (int o = 0; o < CO; o++)
            for (int p = 0; p < P; p++) diff = fmaxf(diff, fabsf(m.y[minor_at(i, o, p, CO, P)] - l.y[last_at(i, o, p, CO, P)]));
        for (int ch = 0; ch < CI; ch++)
            for (int q = 0; q < HW; q++)
                diff = fmaxf(diff, fabsf(m.dx[minor_at(i, ch, q, CI, HW)] - l.dx[last_at(i, ch, q, CI, HW)]));
    }
    for (int k = 0; k < CO * K; k++) diff = fmaxf(diff, fabsf(m.gW[k] - l.gW[k]));
    printf("largest difference between the layouts (y, dW, dx): %.1e%s\n", diff, diff < 1e-4f ? "" : "  MISMATCH");
    if (!(diff < 1e-4f)) return 1;
    static double t[2][2][ITER];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < ITER; i++)
            for (int copies = 1; copies >= 0; copies--) {
                double t0 = now();
                image_minor(&m, copies);
                t[0][copies][i] = now() - t0;
                t0 = now();
                channels_last(&l, copies);
                t[1][copies][i] = now() - t0;
            }
        for (int a = 0; a < 2; a++)
            for (int c = 0; c < 2; c++) qsort(t[a][c], ITER, sizeof(double), by_value);
        printf("round %d  step (64 images, forward and backward): image-minor %5.0f us, channels-last %5.0f us;"
               "  products alone: %5.0f us, %5.0f us\n",
               round, t[0][1][ITER / 2] * 1e6, t[1][1][ITER / 2] * 1e6, t[0][0][ITER / 2] * 1e6, t[1][0][ITER / 2] * 1e6);
    }
    return 0;
}

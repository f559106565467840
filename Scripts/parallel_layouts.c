// One training step of the tutorial MLP VAE (784-400-20, batch 128) on two
// threads, seven ways, with OpenBLAS's single-threaded products and the same
// element-wise work and Adam in plain C (no data, no loss value: only the
// memory traffic and arithmetic of a step), to decide whether a redesign of
// BatchWorkers pays before writing it:
//
//   data      how zoo trains today: each thread runs 64 of the rows through
//             all of the network (products out x 64 x in, weight gradients
//             over 64 rows), then each thread runs Adam on half of the flat
//             parameters, adding both threads' gradients. Every thread reads
//             every weight in its forward, half of which the other thread
//             has just written.
//   tensor    Megatron-style: each thread owns half of every layer's units
//             (rows of W1, W3; columns of Wh, W4), runs its half of every
//             product over all 128 rows, adds the other thread's partial
//             sums where a row-split layer needs them (the latent's 128x40,
//             the logits' 128x784, dz's 128x20), and runs Adam on its own
//             parameters with its own gradient (no sum).
//   uneven    the data split with Adam divided by layer: thread 0 takes
//             `firstRows` rows (argument; 64 by default), then updates the
//             decoder and latent head (final early in thread 1's backward)
//             while thread 1 finishes its rows and updates the first layer.
//   split     data-parallel forward and deltas (no weight gradients), then
//             each thread computes its half of every layer's weight rows'
//             gradient over all 128 rows (one product with K 128, no sum of
//             two gradients) and updates those rows at once, the gradient
//             still in its cache (`chunk` rows at a time: second argument).
//             zoo itself tried this once, per layer with a barrier (README,
//             "Tried and dropped"): slower there too.
//   clear     the data step with the weight gradients' products adding into
//             gradients Adam left at +0 (beta 1; OpenBLAS's beta 0 zeroes C
//             in a pass of its own first), Adam writing the zeros.
//   aligned   data, with Adam giving each thread half of the rows of every
//             parameter tensor instead of half of the flat buffer.
//   units1    aligned, and the first layer's forward for all 128 rows split
//             by units (each thread the weight rows it updates), one barrier,
//             then data-parallel on: each core reads the first layer's
//             weights it wrote itself. zoo adopted this (BatchWorkers).
//
// Prints the median of 400 steps for each, alternating blocks of 50 so the
// VM's drift hits both alike. (Without -fno-math-errno and libmvec the
// element-wise loops stay scalar and both take ~3 ms a step; with them the
// data-parallel step takes what zoo's does, ~1.1 s per epoch.)
//
//   clang -O3 -march=native -fno-math-errno -fveclib=libmvec -o /tmp/parallel_layouts \
//       Scripts/parallel_layouts.c -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -lpthread -lm -lmvec
//   OPENBLAS_CORETYPE=SkylakeX /tmp/parallel_layouts [firstRows [chunk]]
//
// Results on 2026-11-28 (results/parallel-layouts-2026-11-28.txt): tensor
// 1.5-4 % slower than data, uneven within 0.5-2.4 % of it, split 2-3 %
// slower, clear 0.8-1.6 % faster with SkylakeX kernels and 1.9 % slower
// with Haswell ones, aligned 0.3-6 % faster, units1 3-8 % faster (both
// kernel families): zoo took units1.
#include <cblas.h>
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

extern void openblas_set_num_threads(int);

enum { B = 128, D = 784, H = 400, Z = 20, L = 2 * Z, HALF = B / 2, HH = H / 2 };

// Parameters in one flat array (PyTorch's order), with Adam's moments and
// per-thread gradients.
enum {
    oW1 = 0, ob1 = oW1 + H * D, oWh = ob1 + H, obh = oWh + L * H, oW3 = obh + L, ob3 = oW3 + H * Z, oW4 = ob3 + H,
    ob4 = oW4 + D * H, NP = ob4 + D
};
static float *p, *m, *v, *g[2], *x, *eps;

// Worker 1's decoder and latent-head gradients are final (a count of steps).
static atomic_int decoderGradients, firstWorkerDone;
static int firstRows = HALF;  // worker 0's rows in the uneven step
// beta of the weight gradients' products: 1 in the clear step (Adam left the gradients +0).
static _Thread_local float dWBeta = 0;

// When this thread's Adam began, this step.
static _Thread_local double adamStart;

// Spin barrier for two threads.
static atomic_int arrived, generation;
static void barrier(void) {
    int gen = atomic_load(&generation);
    if (atomic_fetch_add(&arrived, 1) == 1) {
        atomic_store(&arrived, 0);
        atomic_fetch_add(&generation, 1);
    } else {
        while (atomic_load(&generation) == gen) {}
    }
}

// One Adam step on n parameters with the gradient g0 (+ g1 when given); with
// `clear`, the gradients are left +0 (the clear step's products add into them).
static void adam(float *restrict pp, float *restrict mm, float *restrict vv, float *restrict g0, float *restrict g1,
                 size_t n, int clear) {
    for (size_t i = 0; i < n; i++) {
        float gr = g1 ? g0[i] + g1[i] : g0[i];
        if (clear) {
            g0[i] = 0;
            if (g1) g1[i] = 0;
        }
        mm[i] = 0.9f * mm[i] + 0.1f * gr;
        vv[i] = 0.999f * vv[i] + 0.001f * gr * gr;
        pp[i] -= 1e-3f * mm[i] / (sqrtf(vv[i]) + 1e-8f);
    }
}

// yT [n, rows] -> y [rows, n] + bias, ReLU when asked.
static void untranspose(const float *yT, int n, int rows, const float *bias, int relu, float *y) {
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < n; j++) {
            float s = yT[j * rows + r] + bias[j];
            y[r * n + j] = relu && s < 0 ? 0 : s;
        }
}

static void colsum(const float *a, int rows, int cols, float *out) {
    memset(out, 0, cols * sizeof(float));
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) out[c] += a[r * cols + c];
}

// ---- data parallel: worker w, rows w*64 ..< w*64+64 ----
typedef struct {
    float *t, *h1, *ml, *z, *h3, *lo, *dlo, *dh3, *dz, *dml, *dh1;
} DataBuffers;

// Rows first ..< first + n of the batch through the network into gradient g[w].
static void data_passes(int w, int first, int n, DataBuffers *s, int mode) {
    const int HALF = n;
    const float *xw = x + (size_t)first * D, *ew = eps + first * Z;
    float *gw = g[w];
    if (mode != 4) {  // 4: the first layer's output is in s->h1 already (units1)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, HALF, D, 1, p + oW1, D, xw, D, 0, s->t, HALF);
        untranspose(s->t, H, HALF, p + ob1, 1, s->h1);
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, HALF, H, 1, p + oWh, H, s->h1, H, 0, s->t, HALF);
    untranspose(s->t, L, HALF, p + obh, 0, s->ml);
    for (int r = 0; r < HALF; r++)
        for (int j = 0; j < Z; j++) s->z[r * Z + j] = s->ml[r * L + j] + ew[r * Z + j] * expf(0.5f * s->ml[r * L + Z + j]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, H, HALF, Z, 1, p + oW3, Z, s->z, Z, 0, s->t, HALF);
    untranspose(s->t, H, HALF, p + ob3, 1, s->h3);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, D, HALF, H, 1, p + oW4, H, s->h3, H, 0, s->t, HALF);
    untranspose(s->t, D, HALF, p + ob4, 0, s->lo);
    for (int i = 0; i < HALF * D; i++) s->dlo[i] = 1 / (1 + expf(-s->lo[i])) - xw[i];
    // backward
    const int wg = mode != 3;
    if (wg) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D, H, HALF, 1, s->dlo, D, s->h3, H, dWBeta, gw + oW4, H);
    if (wg) colsum(s->dlo, HALF, D, gw + ob4);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, HALF, H, D, 1, s->dlo, D, p + oW4, H, 0, s->dh3, H);
    for (int i = 0; i < HALF * H; i++) s->dh3[i] = s->h3[i] > 0 ? s->dh3[i] : 0;
    if (wg) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, Z, HALF, 1, s->dh3, H, s->z, Z, dWBeta, gw + oW3, Z);
    if (wg) colsum(s->dh3, HALF, H, gw + ob3);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, HALF, Z, H, 1, s->dh3, H, p + oW3, Z, 0, s->dz, Z);
    for (int r = 0; r < HALF; r++)
        for (int j = 0; j < Z; j++) {
            float sd = expf(0.5f * s->ml[r * L + Z + j]);
            s->dml[r * L + j] = s->dz[r * Z + j] + s->ml[r * L + j];
            s->dml[r * L + Z + j] = 0.5f * s->dz[r * Z + j] * ew[r * Z + j] * sd + 0.5f * (sd * sd - 1);
        }
    if (wg) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L, H, HALF, 1, s->dml, L, s->h1, H, dWBeta, gw + oWh, H);
    if (wg) colsum(s->dml, HALF, L, gw + obh);
    if (mode == 2 && w == 1) atomic_fetch_add(&decoderGradients, 1);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, HALF, H, L, 1, s->dml, L, p + oWh, H, 0, s->dh1, H);
    for (int i = 0; i < HALF * H; i++) s->dh1[i] = s->h1[i] > 0 ? s->dh1[i] : 0;
    if (wg) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, H, D, HALF, 1, s->dh1, H, xw, D, dWBeta, gw + oW1, D);
    if (wg) colsum(s->dh1, HALF, H, gw + ob1);
}

// The data step; with `clear` (the clear step) the weight gradients'
// products add into gradients Adam left at +0. (The first steps of a block
// add to what the mode before left: they are the warm-up, not timed.)
static void data_step(int w, DataBuffers *s, int clear) {
    dWBeta = clear ? 1 : 0;
    data_passes(w, w * HALF, HALF, s, 0);
    barrier();
    adamStart = now();
    size_t lo = w == 0 ? 0 : (NP / 2) & ~(size_t)15, hi = w == 0 ? (NP / 2) & ~(size_t)15 : NP;
    adam(p + lo, m + lo, v + lo, g[0] + lo, g[1] + lo, hi - lo, clear);
    barrier();
}

// ---- uneven data parallel: worker 0 takes fewer rows, then updates the
// decoder and latent head (its own and worker 1's gradients, final early in
// worker 1's backward) while worker 1 finishes; worker 1 then updates the
// first layer alone. Adam is bound by something both cores share (one core
// runs it nearly as fast as two), so one core's Adam can hide behind the
// other core's products. ----
static int stepCount[2];
static void uneven_step(int w, DataBuffers *s) {
    const int n = w == 0 ? firstRows : B - firstRows, first = w == 0 ? 0 : firstRows;
    data_passes(w, first, n, s, 2);
    stepCount[w]++;
    if (w == 0) atomic_fetch_add(&firstWorkerDone, 1);
    if (w == 0) {
        while (atomic_load(&decoderGradients) < stepCount[0]) {}
        adamStart = now();
        adam(p + oWh, m + oWh, v + oWh, g[0] + oWh, g[1] + oWh, NP - oWh, 0);
    } else {
        while (atomic_load(&firstWorkerDone) < stepCount[1]) {}
        adamStart = now();
        adam(p, m, v, g[0], g[1], oWh, 0);
    }
    barrier();
}

// ---- tensor parallel: thread c owns units c*200 ..< c*200+200 of each hidden layer ----
typedef struct {
    float *h1T, *h3T, *dh1T, *dh3T;
} TensorBuffers;
static float *partial[2], *mlT, *dloT, *dzp[2], *zsh;

// hT[200, 128] = relu(hT + bias[j]) over this thread's units.
static void bias_relu_T(float *hT, const float *bias) {
    for (int j = 0; j < HH; j++)
        for (int r = 0; r < B; r++) {
            float t = hT[j * B + r] + bias[j];
            hT[j * B + r] = t > 0 ? t : 0;
        }
}

// dT = dT where the ReLU's output hT > 0, else 0; biasGradient[j] = its row sums.
static void relu_backward_T(const float *hT, float *dT, float *biasGradient) {
    for (int j = 0; j < HH; j++) {
        float sum = 0;
        for (int r = 0; r < B; r++) {
            float d = hT[j * B + r] > 0 ? dT[j * B + r] : 0;
            dT[j * B + r] = d;
            sum += d;
        }
        biasGradient[j] = sum;
    }
}

static void tensor_step(int c, TensorBuffers *s) {
    float *gc = g[0];  // each parameter has one owner: one gradient array
    const int u = c * HH;
    // h1T[200, 128] = relu(W1[u..] x^T + b1)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, HH, B, D, 1, p + oW1 + (size_t)u * D, D, x, D, 0, s->h1T, B);
    bias_relu_T(s->h1T, p + ob1 + u);
    // partial mlT[40, 128] = Wh[:, u..] h1T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, L, B, HH, 1, p + oWh + u, H, s->h1T, B, 0, partial[c], B);
    barrier();
    // both threads: mlT = p0 + p1 + bh; zT = mu + eps * sd (the same values on both)
    float *ml = c == 0 ? mlT : zsh;  // thread 1 computes its own copy (tiny)
    for (int j = 0; j < L; j++)
        for (int r = 0; r < B; r++) ml[j * B + r] = partial[0][j * B + r] + partial[1][j * B + r] + p[obh + j];
    float zl[Z * B];
    for (int j = 0; j < Z; j++)
        for (int r = 0; r < B; r++) zl[j * B + r] = ml[j * B + r] + eps[r * Z + j] * expf(0.5f * ml[(Z + j) * B + r]);
    // h3T[200, 128] = relu(W3[u..] z^T + b3)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, HH, B, Z, 1, p + oW3 + u * Z, Z, zl, B, 0, s->h3T, B);
    bias_relu_T(s->h3T, p + ob3 + u);
    barrier();  // partial[] free again
    // partial logitsT[784, 128] = W4[:, u..] h3T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, D, B, HH, 1, p + oW4 + u, H, s->h3T, B, 0, partial[c], B);
    barrier();
    // logits of features c*392.. (both partials + bias), dlogits; db4 of those features
    for (int j = c * (D / 2); j < (c + 1) * (D / 2); j++) {
        float sum = 0;
        for (int r = 0; r < B; r++) {
            float lo = partial[0][j * B + r] + partial[1][j * B + r] + p[ob4 + j];
            float d = 1 / (1 + expf(-lo)) - x[r * D + j];
            dloT[j * B + r] = d;
            sum += d;
        }
        gc[ob4 + j] = sum;
    }
    barrier();
    // dW4[:, u..] = dloT h3T^T (784 x 200, K 128); dh3T = W4[:, u..]^T dloT, masked
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, D, HH, B, 1, dloT, B, s->h3T, B, 0, gc + oW4 + u, H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, HH, B, D, 1, p + oW4 + u, H, dloT, B, 0, s->dh3T, B);
    relu_backward_T(s->h3T, s->dh3T, gc + ob3 + u);
    // dW3[u..] = dh3T zT^T (200 x 20, K 128); partial dzT[20, 128] = W3[u..]^T dh3T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, HH, Z, B, 1, s->dh3T, B, zl, B, 0, gc + oW3 + u * Z, Z);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Z, B, HH, 1, p + oW3 + u * Z, Z, s->dh3T, B, 0, dzp[c], B);
    barrier();
    float dml[L * B];
    for (int j = 0; j < Z; j++)
        for (int r = 0; r < B; r++) {
            float dz = dzp[0][j * B + r] + dzp[1][j * B + r], sd = expf(0.5f * ml[(Z + j) * B + r]);
            dml[j * B + r] = dz + ml[j * B + r];
            dml[(Z + j) * B + r] = 0.5f * dz * eps[r * Z + j] * sd + 0.5f * (sd * sd - 1);
        }
    if (c == 0)
        for (int j = 0; j < L; j++) {
            float sum = 0;
            for (int r = 0; r < B; r++) sum += dml[j * B + r];
            gc[obh + j] = sum;
        }
    // dWh[:, u..] = dmlT h1T^T (40 x 200, K 128); dh1T = Wh[:, u..]^T dmlT, masked
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, L, HH, B, 1, dml, B, s->h1T, B, 0, gc + oWh + u, H);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, HH, B, L, 1, p + oWh + u, H, dml, B, 0, s->dh1T, B);
    relu_backward_T(s->h1T, s->dh1T, gc + ob1 + u);
    // dW1[u..] = dh1T x (200 x 784, K 128)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, HH, D, B, 1, s->dh1T, B, x, D, 0, gc + oW1 + (size_t)u * D, D);
    // Adam on what this thread owns
    barrier();  // (only to time Adam apart from the passes, as in the data step)
    adamStart = now();
    adam(p + oW1 + (size_t)u * D, m + oW1 + (size_t)u * D, v + oW1 + (size_t)u * D, gc + oW1 + (size_t)u * D, 0,
         (size_t)HH * D, 0);
    adam(p + ob1 + u, m + ob1 + u, v + ob1 + u, gc + ob1 + u, 0, HH, 0);
    for (int j = 0; j < L; j++) adam(p + oWh + j * H + u, m + oWh + j * H + u, v + oWh + j * H + u, gc + oWh + j * H + u, 0, HH, 0);
    if (c == 0) adam(p + obh, m + obh, v + obh, gc + obh, 0, L, 0);
    adam(p + oW3 + u * Z, m + oW3 + u * Z, v + oW3 + u * Z, gc + oW3 + u * Z, 0, HH * Z, 0);
    adam(p + ob3 + u, m + ob3 + u, v + ob3 + u, gc + ob3 + u, 0, HH, 0);
    for (int j = 0; j < D; j++) adam(p + oW4 + j * H + u, m + oW4 + j * H + u, v + oW4 + j * H + u, gc + oW4 + j * H + u, 0, HH, 0);
    adam(p + ob4 + c * (D / 2), m + ob4 + c * (D / 2), v + ob4 + c * (D / 2), gc + ob4 + c * (D / 2), 0, D / 2, 0);
    barrier();  // the next step's partials
}


// ---- split weight gradients: each thread runs its 64 rows forward and
// back through the deltas only (no weight gradients), into buffers that hold
// the whole batch; then each thread computes its half of every layer's rows
// of weights' gradient over all 128 rows (one product with K = 128, no sum of
// two gradients) and updates those weights at once, the gradient still in its
// cache, `chunk` weight rows at a time. ----
static DataBuffers whole;  // 128 rows
static int chunk = 1 << 30;
static void colsum_range(const float *a, int rows, int cols, int lo, int hi, float *out) {
    for (int c = lo; c < hi; c++) out[c] = 0;
    for (int r = 0; r < rows; r++)
        for (int c = lo; c < hi; c++) out[c] += a[r * cols + c];
}
// Rows lo..<hi of W [out, in] (gradient = dY[:, lo..hi]^T X over 128 rows), then Adam on them.
static void grad_adam(int po, int bo, int out, int in, const float *dY, const float *X, int lo, int hi) {
    float *gg = g[0];
    for (int a = lo; a < hi; a += chunk) {
        int b = a + chunk < hi ? a + chunk : hi;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, b - a, in, B, 1, dY + a, out, X, in, 0, gg + po + (size_t)a * in, in);
        adam(p + po + (size_t)a * in, m + po + (size_t)a * in, v + po + (size_t)a * in, gg + po + (size_t)a * in, 0, (size_t)(b - a) * in, 0);
    }
    colsum_range(dY, B, out, lo, hi, gg + bo);
    adam(p + bo + lo, m + bo + lo, v + bo + lo, gg + bo + lo, 0, hi - lo, 0);
}
static void split_step(int w, DataBuffers *own) {
    const int f = w * HALF;
    DataBuffers s = {own->t, whole.h1 + f * H, whole.ml + f * L, whole.z + f * Z, whole.h3 + f * H, whole.lo + f * D,
                     whole.dlo + f * D, whole.dh3 + f * H, whole.dz + f * Z, whole.dml + f * L, whole.dh1 + f * H};
    data_passes(w, f, HALF, &s, 3);
    barrier();
    adamStart = now();
    grad_adam(oW4, ob4, D, H, whole.dlo, whole.h3, w * D / 2, (w + 1) * D / 2);
    grad_adam(oW3, ob3, H, Z, whole.dh3, whole.z, w * HH, (w + 1) * HH);
    grad_adam(oWh, obh, L, H, whole.dml, whole.h1, w * Z, (w + 1) * Z);
    grad_adam(oW1, ob1, H, D, whole.dh1, x, w * HH, (w + 1) * HH);
    barrier();
}

// Adam with each thread updating its half of the rows of every parameter block.
static void adam_aligned(int w) {
    static const int blocks[8][3] = {{oW1, H, D}, {ob1, H, 1}, {oWh, L, H}, {obh, L, 1},
                                     {oW3, H, Z}, {ob3, H, 1}, {oW4, D, H}, {ob4, D, 1}};
    for (int b = 0; b < 8; b++) {
        size_t lo = blocks[b][0] + (size_t)(w * blocks[b][1] / 2) * blocks[b][2];
        size_t hi = blocks[b][0] + (size_t)((w + 1) * blocks[b][1] / 2) * blocks[b][2];
        adam(p + lo, m + lo, v + lo, g[0] + lo, g[1] + lo, hi - lo, 0);
    }
}
static float *wholeH1, *firstT[2];
// aligned: data with Adam by rows of each tensor; units1: that, and the first layer's forward split by units.
static void aligned_step(int w, DataBuffers *s, int unitsFirst) {
    if (unitsFirst) {
        float *t = firstT[w];
        const int u = w * HH;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, HH, B, D, 1, p + oW1 + (size_t)u * D, D, x, D, 0, t, B);
        for (int r = 0; r < B; r++)
            for (int j = 0; j < HH; j++) {
                float a = t[j * B + r] + p[ob1 + u + j];
                wholeH1[r * H + u + j] = a > 0 ? a : 0;
            }
        barrier();
        DataBuffers own = *s;
        own.h1 = wholeH1 + (size_t)w * HALF * H;
        data_passes(w, w * HALF, HALF, &own, 4);
    } else {
        data_passes(w, w * HALF, HALF, s, 0);
    }
    barrier();
    adamStart = now();
    adam_aligned(w);
    barrier();
}

static double times[7][1000], adamTimes[7][1000];
enum { ROUNDS = 8, BLOCK = 50 };

static void *run(void *arg) {
    int id = (int)(size_t)arg;
    _mm_setcsr(_mm_getcsr() | 0x8040);  // flush to zero, denormals are zero (as zoo's Trainer sets)
    DataBuffers d = {alloc_floats(D * B), alloc_floats(B * H), alloc_floats(B * L), alloc_floats(B * Z), alloc_floats(B * H), alloc_floats(B * D),
                     alloc_floats(B * D), alloc_floats(B * H), alloc_floats(B * Z), alloc_floats(B * L), alloc_floats(B * H)};
    TensorBuffers t = {alloc_floats(HH * B), alloc_floats(HH * B), alloc_floats(HH * B), alloc_floats(HH * B)};
    int k[7] = {0};
    for (int round = 0; round < ROUNDS; round++)
        for (int mode = 0; mode < 7; mode++)
            for (int i = 0; i < BLOCK + 5; i++) {
                barrier();
                double t0 = now();
                if (mode == 0) data_step(id, &d, 0);
                else if (mode == 1) tensor_step(id, &t);
                else if (mode == 2) uneven_step(id, &d);
                else if (mode == 3) split_step(id, &d);
                else if (mode == 4) data_step(id, &d, 1);
                else aligned_step(id, &d, mode == 6);
                if (id == 0 && i >= 5) {
                    double t1 = now();
                    adamTimes[mode][k[mode]] = t1 - adamStart;
                    times[mode][k[mode]++] = t1 - t0;
                }
            }
    return 0;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    openblas_set_num_threads(1);
    if (argc > 1) firstRows = atoi(argv[1]);
    if (argc > 2) chunk = atoi(argv[2]);
    whole = (DataBuffers){0, alloc_floats(B * H), alloc_floats(B * L), alloc_floats(B * Z), alloc_floats(B * H), alloc_floats(B * D),
                          alloc_floats(B * D), alloc_floats(B * H), alloc_floats(B * Z), alloc_floats(B * L), alloc_floats(B * H)};
    p = alloc_floats(NP);
    for (size_t i = 0; i < NP; i++) p[i] *= 0.5f;
    m = alloc_floats(NP);
    v = alloc_floats(NP);
    memset(m, 0, NP * sizeof(float));
    memset(v, 0, NP * sizeof(float));
    g[0] = alloc_floats(NP);
    g[1] = alloc_floats(NP);
    x = alloc_floats((size_t)B * D);
    for (size_t i = 0; i < (size_t)B * D; i++) x[i] = x[i] > 0 ? 1 : 0;
    eps = alloc_floats(B * Z);
    partial[0] = alloc_floats(D * B);
    partial[1] = alloc_floats(D * B);
    mlT = alloc_floats(L * B);
    zsh = alloc_floats(L * B);
    dloT = alloc_floats(D * B);
    dzp[0] = alloc_floats(Z * B);
    dzp[1] = alloc_floats(Z * B);
    wholeH1 = alloc_floats((size_t)B * H);
    firstT[0] = alloc_floats((size_t)HH * B);
    firstT[1] = alloc_floats((size_t)HH * B);
    pthread_t th[2];
    for (size_t i = 0; i < 2; i++) pthread_create(&th[i], 0, run, (void *)i);
    for (int i = 0; i < 2; i++) pthread_join(th[i], 0);
    const int n = ROUNDS * BLOCK;
    for (int mode = 0; mode < 7; mode++) {
        qsort(times[mode], n, sizeof(double), cmp);
        qsort(adamTimes[mode], n, sizeof(double), cmp);
        printf("%-7s median %.3f ms per step (%.3f s per 469-step epoch), quartiles %.3f-%.3f ms; Adam %.3f ms\n",
               (const char *[]){"data", "tensor", "uneven", "split", "clear", "aligned", "units1"}[mode], times[mode][n / 2] * 1e3, times[mode][n / 2] * 469, times[mode][n / 4] * 1e3,
               times[mode][3 * n / 4] * 1e3, adamTimes[mode][n / 2] * 1e3);
    }
    return 0;
}

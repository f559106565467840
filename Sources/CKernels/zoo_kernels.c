#include "zoo_kernels.h"
#include "zk_clones.h"
#include <math.h>
#include <string.h>

typedef float zk_v8 __attribute__((ext_vector_type(8)));
/// 8 floats at any float-aligned address.
typedef float zk_v8u __attribute__((ext_vector_type(8), aligned(4)));

// Let the compiler fuse multiply-adds; the clones differ by ISA anyway.
#pragma clang fp contract(fast)

// exp(x) for x in [-87, 88]: Cody-Waite range reduction x = n ln2 + r and the
// Cephes minimax polynomial on |r| <= ln2/2 (relative error ~1.2e-7).
static inline float zk_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float n = __builtin_rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { float f; int32_t i; } scale;
    scale.i = ((int32_t)n + 127) << 23;
    return p * scale.f;
}

// log1p(e) for e in [0, 1]: 2 atanh(s) with s = e / (2 + e) in [0, 1/3],
// the odd series to s^15 (truncation error < 1e-8 relative).
static inline float zk_log1p_unit(float e) {
    float s = e / (2.0f + e);
    float s2 = s * s;
    float q = 1.0f / 15.0f;
    q = q * s2 + 1.0f / 13.0f;
    q = q * s2 + 1.0f / 11.0f;
    q = q * s2 + 1.0f / 9.0f;
    q = q * s2 + 1.0f / 7.0f;
    q = q * s2 + 1.0f / 5.0f;
    q = q * s2 + 1.0f / 3.0f;
    q = q * s2 + 1.0f;
    return 2.0f * s * q;
}

ZK_CLONES
void zk_fill_rows(float *y, const float *b, size_t rows, size_t cols) {
    if (cols >= 64) {
        for (size_t r = 0; r < rows; r++) memcpy(y + r * cols, b, cols * sizeof(float));
        return;
    }
    // Short rows (a convolution's channels): vector stores, not a call per row.
    for (size_t r = 0; r < rows; r++) {
        float *row = y + r * cols;
        size_t c = 0;
        for (; c + 8 <= cols; c += 8) *(zk_v8u *)(row + c) = *(const zk_v8u *)(b + c);
        for (; c < cols; c++) row[c] = b[c];
    }
}

ZK_CLONES
void zk_relu(float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

ZK_CLONES
void zk_relu_backward(float *restrict dy, const float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) dy[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

ZK_CLONES
void zk_col_sum_ld(const float *restrict dy, size_t rows, size_t cols, size_t ld, float *restrict out) {
    for (size_t c = 0; c < cols; c++) out[c] = 0.0f;
    for (size_t r = 0; r < rows; r++) {
        const float *row = dy + r * ld;
        for (size_t c = 0; c < cols; c++) out[c] += row[c];
    }
}

void zk_col_sum(const float *restrict dy, size_t rows, size_t cols, float *restrict out) {
    zk_col_sum_ld(dy, rows, cols, cols, out);
}

// Per-row sums run in float over lanes (reassociated so they vectorize) and
// are returned as double; callers add rows in double.
ZK_CLONES
void zk_bce_logits(const float *restrict logits, const float *restrict x, float *restrict grad,
                   size_t rows, size_t cols, double *loss) {
#pragma clang fp reassociate(on)
    for (size_t r = 0; r < rows; r++) {
        const float *l = logits + r * cols;
        const float *t = x + r * cols;
        float acc = 0.0f;
        if (grad) {
            float *g = grad + r * cols;
            for (size_t c = 0; c < cols; c++) {
                float lc = l[c];
                float e = zk_expf(-fabsf(lc));          // in (0, 1]
                acc += fmaxf(lc, 0.0f) - lc * t[c] + zk_log1p_unit(e);
                float inv = 1.0f / (1.0f + e);
                g[c] = (lc >= 0.0f ? inv : e * inv) - t[c];
            }
        } else {
            for (size_t c = 0; c < cols; c++) {
                float lc = l[c];
                acc += fmaxf(lc, 0.0f) - lc * t[c] + zk_log1p_unit(zk_expf(-fabsf(lc)));
            }
        }
        loss[r] = (double)acc;
    }
}

ZK_CLONES
void zk_gauss_sigmoid(const float *restrict logits, const float *restrict x, float inv_var, float *restrict grad,
                      size_t rows, size_t cols, double *loss) {
#pragma clang fp reassociate(on)
    for (size_t r = 0; r < rows; r++) {
        const float *l = logits + r * cols;
        const float *t = x + r * cols;
        float acc = 0.0f;
        if (grad) {
            float *g = grad + r * cols;
            for (size_t c = 0; c < cols; c++) {
                float lc = l[c];
                float e = zk_expf(-fabsf(lc));
                float inv = 1.0f / (1.0f + e);
                float d = (lc >= 0.0f ? inv : e * inv) - t[c];
                acc += d * d;
                // dm/dl = m (1 - m) = e / (1 + e)^2 whatever the sign of l.
                g[c] = d * inv_var * (e * inv * inv);
            }
        } else {
            for (size_t c = 0; c < cols; c++) {
                float lc = l[c];
                float e = zk_expf(-fabsf(lc));
                float inv = 1.0f / (1.0f + e);
                float d = (lc >= 0.0f ? inv : e * inv) - t[c];
                acc += d * d;
            }
        }
        loss[r] = 0.5 * (double)acc * (double)inv_var;
    }
}

ZK_CLONES
void zk_sigmoid(const float *restrict l, float *restrict out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float e = zk_expf(-fabsf(l[i]));
        float inv = 1.0f / (1.0f + e);
        out[i] = l[i] >= 0.0f ? inv : e * inv;
    }
}

ZK_CLONES
void zk_exp(const float *restrict x, float *restrict out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = zk_expf(x[i]);
}

// One parameter's Adam update with its roundings spelled out: m + a1 (g - m)
// and (a2 g) g + beta2 v as fused multiply-adds, every other operation
// rounded on its own. Left to the compiler's contraction, which product got
// fused changed with unrelated edits to the loop (dropping a store turned
// fma(a2 g, g, beta2 v) into fma(beta2, v, a2 g g)), and the bits with it.
// step_size m / (sqrt(v)/sqrt_bc2 + eps) = (step_size sqrt_bc2) m / (sqrt(v) + eps sqrt_bc2):
// one division per element instead of two. __builtin_elementwise_sqrt and
// _fma: no errno, so the loops vectorize (the baseline clone, for CPUs without
// FMA instructions, calls fmaf: the same bits, slowly).
static inline __attribute__((always_inline)) void adam_one(float *restrict p, float gi, float *restrict m,
                                                            float *restrict v, float beta2, float a1, float a2,
                                                            float scaled_step, float scaled_eps) {
    const float d = gi - *m;
    const float mi = __builtin_elementwise_fma(a1, d, *m);
    const float decayed = beta2 * *v;
    const float ag = a2 * gi;
    const float vi = __builtin_elementwise_fma(ag, gi, decayed);
    *m = mi;
    *v = vi;
    const float step = scaled_step * mi;
    const float denominator = __builtin_elementwise_sqrt(vi) + scaled_eps;
    const float update = step / denominator;
    *p = *p - update;
}

ZK_CLONES
void zk_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
             float beta2, float one_minus_beta1, float one_minus_beta2, float step_size, float sqrt_bc2,
             float eps) {
    const float scaled_step = step_size * sqrt_bc2, scaled_eps = eps * sqrt_bc2;
    for (size_t i = 0; i < n; i++)
        adam_one(p + i, g[i], m + i, v + i, beta2, one_minus_beta1, one_minus_beta2, scaled_step, scaled_eps);
}

// zk_adam on the gradient g0 + g1 (two workers' parts, added in that order):
// one pass instead of a sum and then the update. The sum is not stored: one
// memory stream fewer of nine (1.35 -> 1.03 ms for conv-vae's 1.7 M parameters
// on two cores of the 2-vCPU Xeon, best of 50, C micro-benchmark).
ZK_CLONES
void zk_adam_sum2(float *restrict p, const float *restrict g0, const float *restrict g1,
                  float *restrict m, float *restrict v, size_t n, float beta2, float one_minus_beta1,
                  float one_minus_beta2, float step_size, float sqrt_bc2, float eps) {
    const float scaled_step = step_size * sqrt_bc2, scaled_eps = eps * sqrt_bc2;
    for (size_t i = 0; i < n; i++)
        adam_one(p + i, g0[i] + g1[i], m + i, v + i, beta2, one_minus_beta1, one_minus_beta2, scaled_step,
                 scaled_eps);
}

// Rows gathered ahead of the one being converted: a shuffled batch's rows lie
// anywhere in the data set, and the hardware prefetcher follows a row only
// once it is being read (the tutorial MLP's batch preparation took 0.027–0.028
// s per epoch with it, 0.031–0.032 without: six A/B pairs on a 2-core Xeon).
#define ZK_GATHER_AHEAD 4
static inline __attribute__((always_inline)) void zk_prefetch_row(const uint8_t *row, size_t bytes) {
    for (size_t b = 0; b < bytes; b += 64) __builtin_prefetch(row + b, 0, 3);
    if (bytes > 0) __builtin_prefetch(row + bytes - 1, 0, 3);
}

ZK_CLONES
void zk_gather_u8(const uint8_t *restrict src, const int64_t *restrict rows, size_t nrows, size_t cols,
                  float *restrict dst) {
    const float scale = 1.0f / 255.0f;
    for (size_t i = 0; i < nrows; i++) {
        if (i + ZK_GATHER_AHEAD < nrows) zk_prefetch_row(src + (size_t)rows[i + ZK_GATHER_AHEAD] * cols, cols);
        const uint8_t *s = src + (size_t)rows[i] * cols;
        float *d = dst + i * cols;
        for (size_t c = 0; c < cols; c++) d[c] = (float)s[c] * scale;
    }
}

ZK_CLONES
void zk_gather_u8_bernoulli(const uint8_t *restrict src, const int64_t *restrict rows, size_t nrows,
                            size_t cols, const uint32_t *restrict u, float *restrict dst) {
    // u < p with u uniform on [0, 2^24) and p = s / 255: compare u * 255 < s * 2^24.
    for (size_t i = 0; i < nrows; i++) {
        if (i + ZK_GATHER_AHEAD < nrows) zk_prefetch_row(src + (size_t)rows[i + ZK_GATHER_AHEAD] * cols, cols);
        const uint8_t *s = src + (size_t)rows[i] * cols;
        const uint32_t *ui = u + i * cols;
        float *d = dst + i * cols;
        for (size_t c = 0; c < cols; c++)
            d[c] = ((uint64_t)ui[c] * 255u < ((uint64_t)s[c] << 24)) ? 1.0f : 0.0f;
    }
}

void zk_gather_f32(const float *restrict src, const int64_t *restrict rows, size_t nrows, size_t cols,
                   float *restrict dst) {
    for (size_t i = 0; i < nrows; i++) memcpy(dst + i * cols, src + (size_t)rows[i] * cols, cols * sizeof(float));
}

void zk_gather_f32_bernoulli(const float *restrict src, const int64_t *restrict rows, size_t nrows,
                             size_t cols, const uint32_t *restrict u, float *restrict dst) {
    const float scale = 1.0f / 16777216.0f;  // 2^-24: u * scale is exact for u < 2^24
    for (size_t i = 0; i < nrows; i++) {
        const float *s = src + (size_t)rows[i] * cols;
        const uint32_t *ui = u + i * cols;
        float *d = dst + i * cols;
        for (size_t c = 0; c < cols; c++) d[c] = ((float)ui[c] * scale < s[c]) ? 1.0f : 0.0f;
    }
}

int zk_all_finite(const float *x, size_t n) {
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= isfinite(x[i]) ? 1 : 0;
    return ok;
}

#include <xmmintrin.h>

unsigned zk_set_flush_denormals(int on) {
    unsigned old = _mm_getcsr();
    unsigned bits = 0x8040;  // FTZ (bit 15) | DAZ (bit 6)
    _mm_setcsr(on ? (old | bits) : (old & ~bits));
    return old;
}

unsigned zk_float_control(void) { return _mm_getcsr(); }

void zk_set_float_control(unsigned csr) { _mm_setcsr(csr); }

int zk_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

int zk_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// The same tests the loader's choice of a ZK_CLONES clone makes.
const char *zk_kernel_instruction_set(void) {
    __builtin_cpu_init();
#ifndef ZK_AVX2_ONLY
    if (__builtin_cpu_supports("x86-64-v4")) return "AVX-512";
#endif
    if (__builtin_cpu_supports("x86-64-v3")) return "AVX2";
    return "x86-64";
}

ZK_CLONES
void zk_add(float *out, const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

// tanh(x) = sign(x) (1 − e) / (1 + e) with e = exp(−2|x|); below |x| = 0.0625
// the odd Taylor series to x⁷ instead (it avoids the cancellation in 1 − e).
// Relative error < 3e-7 everywhere.
ZK_CLONES
void zk_tanh(float *y, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float x = y[i], a = fabsf(x);
        float e = zk_expf(-2.0f * a);
        float big = (1.0f - e) / (1.0f + e);
        float x2 = x * x;
        float small = a * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f))));
        float t = a < 0.0625f ? small : big;
        y[i] = x < 0.0f ? -t : t;
    }
}

ZK_CLONES
void zk_tanh_backward(float *restrict dy, const float *restrict y, size_t n) {
    for (size_t i = 0; i < n; i++) dy[i] *= 1.0f - y[i] * y[i];
}

// ---- Transposes (the convolutions' layout changes, split layers' outputs) ----

// r[i][j] <- r[j][i]: an 8 × 8 block transposed in registers.
static inline __attribute__((always_inline)) void zk_transpose8_registers(zk_v8 r[8]) {
    zk_v8 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = __builtin_shufflevector(r[i], r[i + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[i + 1] = __builtin_shufflevector(r[i], r[i + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = __builtin_shufflevector(t[i], t[i + 2], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 1] = __builtin_shufflevector(t[i], t[i + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        u[i + 2] = __builtin_shufflevector(t[i + 1], t[i + 3], 0, 1, 8, 9, 4, 5, 12, 13);
        u[i + 3] = __builtin_shufflevector(t[i + 1], t[i + 3], 2, 3, 10, 11, 6, 7, 14, 15);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = __builtin_shufflevector(u[i], u[i + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        r[i + 4] = __builtin_shufflevector(u[i], u[i + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

// dst[c·dst_ld + r] = src[r·src_ld + c] (+ add[r] if add is not NULL) for an 8 × 8 block, in registers.
static inline __attribute__((always_inline)) void zk_transpose8(const float *src, size_t src_ld, float *dst, size_t dst_ld,
                                                                const float *add) {
    zk_v8 r[8];
    for (int i = 0; i < 8; i++) __builtin_memcpy(&r[i], src + i * src_ld, sizeof(zk_v8));
    zk_transpose8_registers(r);
    zk_v8 a = 0.0f;
    if (add) __builtin_memcpy(&a, add, sizeof(zk_v8));
    for (int i = 0; i < 8; i++) {
        zk_v8 v = r[i];
        if (add) v += a;
        __builtin_memcpy(dst + i * dst_ld, &v, sizeof(zk_v8));
    }
}

// dst[c·dst_ld + r] = src[r·src_ld + c] (+ bias[r / plane] when bias is not
// NULL) for rows [r0, r1) and columns [c0, c1) of src: 8 × 8 blocks in
// registers, the edges one value at a time. The destination rows 16 ahead
// are prefetched for writing: in training they are rows of a batch buffer
// that the other core read last (a split layer's output, a convolution's
// planes), and each 8 × 8 block touches eight of them at once, which the
// hardware prefetcher does not foresee (the tutorial MLP's last layer's
// forward 0.305-0.319 against 0.325-0.346 thread-seconds per epoch, six A/B
// pairs on a 2-core Xeon; conv-vae about 1-2 % faster per epoch, four pairs).
#define ZK_TRANSPOSE_AHEAD 16
static inline __attribute__((always_inline)) void zk_transpose(const float *restrict src, size_t src_ld, size_t r0, size_t r1,
                                                               size_t c0, size_t c1, float *restrict dst, size_t dst_ld,
                                                               const float *restrict bias, size_t plane) {
    size_t r = r0;
    for (; r + 8 <= r1; r += 8) {
        float add[8] = {0};
        if (bias)
            for (int i = 0; i < 8; i++) add[i] = bias[(r + i) / plane];
        size_t c = c0;
        for (; c + 8 <= c1; c += 8) {
            if (c + 8 + ZK_TRANSPOSE_AHEAD <= c1)
                for (int i = 0; i < 8; i++) __builtin_prefetch(dst + (c + ZK_TRANSPOSE_AHEAD + i) * dst_ld + r, 1, 3);
            zk_transpose8(src + r * src_ld + c, src_ld, dst + c * dst_ld + r, dst_ld, bias ? add : 0);
        }
        for (; c < c1; c++)
            for (int i = 0; i < 8; i++) dst[c * dst_ld + r + i] = bias ? src[(r + i) * src_ld + c] + add[i] : src[(r + i) * src_ld + c];
    }
    for (; r < r1; r++) {
        const float b = bias ? bias[r / plane] : 0.0f;
        for (size_t c = c0; c < c1; c++) dst[c * dst_ld + r] = bias ? src[r * src_ld + c] + b : src[r * src_ld + c];
    }
}

ZK_CLONES
void zk_from_image_minor(const float *restrict src, size_t n, size_t size, size_t m0, size_t m1, const float *restrict bias,
                         size_t plane, float *restrict x) {
    zk_transpose(src, n, m0, m1, 0, n, x, size, bias, plane);
}

ZK_CLONES
void zk_from_image_minor_part(const float *restrict src, size_t n, size_t size, size_t m0, size_t m1, size_t i0, size_t i1,
                              const float *restrict bias, size_t plane, float *restrict x) {
    zk_transpose(src, n, m0, m1, i0, i1, x, size, bias, plane);
}

ZK_CLONES
void zk_add_row_sums(const float *restrict x, size_t rows, size_t size, float *restrict out) {
    for (size_t o = 0; o < rows; o++) {
        const float *row = x + o * size;
        zk_v8 acc = 0.0f;
        size_t i = 0;
        for (; i + 8 <= size; i += 8) acc += *(const zk_v8u *)(row + i);
        float sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < size; i++) sum += row[i];
        out[o] += sum;
    }
}

// ---- Channels-last chunks (the convolutions' layout) ----
//
// A chunk of n images of C channels over `plane` pixels holds value (q, c) of
// image b at (q·n + b)·C + c: for each pixel, the n images' channel vectors
// side by side. With one channel it is the image-minor layout q·n + b, where
// one pixel of 8 images fills a vector.

ZK_CLONES
void zk_to_channels_last(const float *restrict x, size_t n, size_t channels, size_t plane, size_t q0, size_t q1,
                         float *restrict out) {
    if (channels == 1) {
        zk_transpose(x, plane, 0, n, q0, q1, out, n, 0, 1);
        return;
    }
    for (size_t b = 0; b < n; b++)
        zk_transpose(x + b * channels * plane, plane, 0, channels, q0, q1, out + b * channels, n * channels, 0, 1);
}

ZK_CLONES
void zk_from_channels_last(const float *restrict src, size_t n, size_t channels, size_t plane, size_t q0, size_t q1,
                           float *restrict x) {
    if (channels == 1) {
        zk_transpose(src, n, q0, q1, 0, n, x, plane, 0, 1);
        return;
    }
    for (size_t b = 0; b < n; b++)
        zk_transpose(src + b * channels, n * channels, q0, q1, 0, channels, x + b * channels * plane, plane, 0, 1);
}

// Copies (or zeroes, src NULL) `count` floats: vectors of 8, then the tail.
static inline __attribute__((always_inline)) void zk_copy_run(float *restrict dst, const float *restrict src, size_t count) {
    size_t i = 0;
    if (src) {
        for (; i + 8 <= count; i += 8) *(zk_v8u *)(dst + i) = *(const zk_v8u *)(src + i);
        for (; i < count; i++) dst[i] = src[i];
    } else {
        for (; i + 8 <= count; i += 8) *(zk_v8u *)(dst + i) = (zk_v8u)0.0f;
        for (; i < count; i++) dst[i] = 0.0f;
    }
}

// dst[i] += src[i] for `count` floats.
static inline __attribute__((always_inline)) void zk_add_run(float *restrict dst, const float *restrict src, size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) *(zk_v8u *)(dst + i) += *(const zk_v8u *)(src + i);
    for (; i < count; i++) dst[i] += src[i];
}

// One channel, n = 4 or 8 images (a constant after inlining): 8 consecutive
// rows of the transposed column matrix (8/n positions × n images) and 8 taps
// are an 8 × 8 block, gathered as runs of n images (one per tap and
// position; padding reads zeros) and transposed in registers. Returns the
// positions done (all but those left over when 8/n does not divide them).
static inline __attribute__((always_inline)) size_t zk_im2col_one_channel(const float *restrict x, size_t n, size_t taps,
                                                                        size_t positions, const int32_t *restrict source,
                                                                        float *restrict col, size_t ld) {
    static const float zero[8] = {0};
    const size_t group = 8 / n, whole = positions - positions % group;
    for (size_t o = 0; o < whole; o += group)
        for (size_t t = 0; t < taps; t += 8) {
            zk_v8 r[8];
            for (int j = 0; j < 8; j++)
                for (size_t g = 0; g < group; g++) {
                    const int32_t s = source[(o + g) * taps + t + j];
                    __builtin_memcpy((float *)&r[j] + g * n, s >= 0 ? x + (size_t)s * n : zero, n * sizeof(float));
                }
            zk_transpose8_registers(r);
            for (int i = 0; i < 8; i++) __builtin_memcpy(col + (o * n + i) * ld + t, &r[i], sizeof(zk_v8));
        }
    return whole;
}

// Its adjoint: each 8 × 8 block transposed back, then each tap's run of n
// images added into its source pixel (padding into a scratch run), in
// (position, tap) order. Returns the positions done, as zk_im2col_one_channel.
static inline __attribute__((always_inline)) size_t zk_col2im_one_channel(const float *restrict col, size_t ld, size_t n,
                                                                        size_t taps, size_t positions,
                                                                        const int32_t *restrict source, float *restrict x) {
    float sink[8];
    const size_t group = 8 / n, whole = positions - positions % group;
    zk_v8 r[taps];  // the group's blocks, tap t in r[t]
    for (size_t o = 0; o < whole; o += group) {
        for (size_t t = 0; t < taps; t += 8) {
            for (int i = 0; i < 8; i++) __builtin_memcpy(&r[t + i], col + (o * n + i) * ld + t, sizeof(zk_v8));
            zk_transpose8_registers(r + t);
        }
        for (size_t g = 0; g < group; g++)
            for (size_t t = 0; t < taps; t++) {
                const int32_t s = source[(o + g) * taps + t];
                float *out = s >= 0 ? x + (size_t)s * n : sink;
                const float *in = (const float *)&r[t] + g * n;
                for (size_t b = 0; b < n; b++) out[b] += in[b];
            }
    }
    return whole;
}

ZK_CLONES
void zk_im2col_last(const float *restrict x, size_t n, size_t channels, size_t taps, size_t positions,
                    const int32_t *restrict source, size_t c0, size_t c1, float *restrict col, size_t ld) {
    if (c0 >= c1) return;
    if (channels == 1) {
        // The register-transpose blocks where they fit, one value at a time for the rest.
        size_t done = 0;
        if ((n == 4 || n == 8) && taps % 8 == 0)
            done = n == 8 ? zk_im2col_one_channel(x, 8, taps, positions, source, col, ld)
                          : zk_im2col_one_channel(x, 4, taps, positions, source, col, ld);
        for (size_t o = done; o < positions; o++) {
            const int32_t *idx = source + o * taps;
            for (size_t b = 0; b < n; b++) {
                float *restrict row = col + (o * n + b) * ld;
                for (size_t t = 0; t < taps; t++) row[t] = idx[t] >= 0 ? x[(size_t)idx[t] * n + b] : 0.0f;
            }
        }
        return;
    }
    const size_t width = c1 - c0;
    for (size_t o = 0; o < positions; o++) {
        const int32_t *idx = source + o * taps;
        for (size_t b = 0; b < n; b++) {
            float *restrict row = col + (o * n + b) * ld + c0;
            for (size_t t = 0; t < taps; t++)
                zk_copy_run(row + t * channels, idx[t] >= 0 ? x + ((size_t)idx[t] * n + b) * channels + c0 : NULL, width);
        }
    }
}

ZK_CLONES
void zk_col2im_last(const float *restrict col, size_t ld, size_t n, size_t channels, size_t plane, size_t taps,
                    size_t positions, const int32_t *restrict source, size_t c0, size_t c1, const float *restrict bias,
                    float *restrict x) {
    if (c0 >= c1) return;
    if (channels == 1) {
        const float start = bias ? bias[0] : 0.0f;
        for (size_t q = 0; q < plane * n; q++) x[q] = start;
        size_t done = 0;
        if ((n == 4 || n == 8) && taps % 8 == 0 && taps <= 256)  // (its blocks live on the stack)
            done = n == 8 ? zk_col2im_one_channel(col, ld, 8, taps, positions, source, x)
                          : zk_col2im_one_channel(col, ld, 4, taps, positions, source, x);
        for (size_t o = done; o < positions; o++) {
            const int32_t *idx = source + o * taps;
            for (size_t b = 0; b < n; b++) {
                const float *restrict row = col + (o * n + b) * ld;
                for (size_t t = 0; t < taps; t++)
                    if (idx[t] >= 0) x[(size_t)idx[t] * n + b] += row[t];
            }
        }
        return;
    }
    const size_t width = c1 - c0;
    for (size_t q = 0; q < plane * n; q++) zk_copy_run(x + q * channels + c0, bias ? bias + c0 : NULL, width);
    for (size_t o = 0; o < positions; o++) {
        const int32_t *idx = source + o * taps;
        for (size_t b = 0; b < n; b++) {
            const float *restrict row = col + (o * n + b) * ld + c0;
            for (size_t t = 0; t < taps; t++)
                if (idx[t] >= 0) zk_add_run(x + ((size_t)idx[t] * n + b) * channels + c0, row + t * channels, width);
        }
    }
}

ZK_CLONES
void zk_add_col_sums(const float *restrict x, size_t rows, size_t cols, float *restrict out) {
    if (cols == 1) {
        zk_add_row_sums(x, 1, rows, out);
        return;
    }
    // Up to 64 columns at a time summed in registers over all rows (adding
    // into `out` row by row would chain every addition through memory).
    size_t c = 0;
    while (c + 8 <= cols) {
        const size_t vectors = (cols - c) / 8 < 8 ? (cols - c) / 8 : 8;
        zk_v8 acc[8] = {0};
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < vectors; j++) acc[j] += *(const zk_v8u *)(x + r * cols + c + 8 * j);
        for (size_t j = 0; j < vectors; j++) *(zk_v8u *)(out + c + 8 * j) += acc[j];
        c += 8 * vectors;
    }
    for (; c < cols; c++) {
        float acc = 0.0f;
        for (size_t r = 0; r < rows; r++) acc += x[r * cols + c];
        out[c] += acc;
    }
}

void zk_transpose_each(const float *restrict w, size_t count, size_t rows, size_t cols, float *restrict out) {
    for (size_t i = 0; i < count; i++)
        zk_transpose(w + i * rows * cols, cols, 0, rows, 0, cols, out + i * rows * cols, rows, 0, 1);
}

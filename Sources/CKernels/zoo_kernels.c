#include "zoo_kernels.h"
#include <math.h>
#include <string.h>

// Let the compiler fuse multiply-adds; the clones differ by ISA anyway.
#pragma clang fp contract(fast)

#define ZK_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

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
    for (size_t r = 0; r < rows; r++) memcpy(y + r * cols, b, cols * sizeof(float));
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
void zk_col_sum(const float *restrict dy, size_t rows, size_t cols, float *restrict out) {
    for (size_t c = 0; c < cols; c++) out[c] = 0.0f;
    for (size_t r = 0; r < rows; r++) {
        const float *row = dy + r * cols;
        for (size_t c = 0; c < cols; c++) out[c] += row[c];
    }
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

ZK_CLONES
void zk_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
             float beta2, float one_minus_beta1, float one_minus_beta2, float step_size, float sqrt_bc2,
             float eps) {
    const float a1 = one_minus_beta1, a2 = one_minus_beta2;
    // step_size m / (sqrt(v)/sqrt_bc2 + eps) = (step_size sqrt_bc2) m / (sqrt(v) + eps sqrt_bc2):
    // one division per element instead of two (the loop is bound by divider throughput).
    const float scaled_step = step_size * sqrt_bc2, scaled_eps = eps * sqrt_bc2;
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] + a1 * (gi - m[i]);
        float vi = beta2 * v[i] + a2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        // __builtin_elementwise_sqrt: sqrtf without errno, so the loop vectorizes.
        p[i] -= scaled_step * mi / (__builtin_elementwise_sqrt(vi) + scaled_eps);
    }
}

// zk_adam on the gradient g = g0 + g1 (two workers' parts, added in that
// order and stored in g): one pass instead of a sum and then the update.
ZK_CLONES
void zk_adam_sum2(float *restrict p, float *restrict g, const float *restrict g0, const float *restrict g1,
                  float *restrict m, float *restrict v, size_t n, float beta2, float one_minus_beta1,
                  float one_minus_beta2, float step_size, float sqrt_bc2, float eps) {
    const float a1 = one_minus_beta1, a2 = one_minus_beta2;
    const float scaled_step = step_size * sqrt_bc2, scaled_eps = eps * sqrt_bc2;
    for (size_t i = 0; i < n; i++) {
        float gi = g0[i] + g1[i];
        g[i] = gi;
        float mi = m[i] + a1 * (gi - m[i]);
        float vi = beta2 * v[i] + a2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= scaled_step * mi / (__builtin_elementwise_sqrt(vi) + scaled_eps);
    }
}

ZK_CLONES
void zk_gather_u8(const uint8_t *restrict src, const int64_t *restrict rows, size_t nrows, size_t cols,
                  float *restrict dst) {
    const float scale = 1.0f / 255.0f;
    for (size_t i = 0; i < nrows; i++) {
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

int zk_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
}

int zk_cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
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

// ---- Convolutions: im2col and its adjoint for a batch of NCHW images ----
// Both run on index tables made once per layer (ConvolutionGeometry): one
// long loop per (channel, tap, image) instead of one short loop per output
// row, which the compiler turns into masked gathers.

ZK_CLONES
void zk_im2col(const float *restrict x, size_t images, size_t channels, size_t plane, size_t taps, size_t n,
               const int32_t *restrict source, float *restrict col, size_t ld) {
    const size_t image = channels * plane;
    for (size_t c = 0; c < channels; c++) {
        for (size_t t = 0; t < taps; t++) {
            float *row = col + (c * taps + t) * ld;
            const int32_t *idx = source + t * n;
            for (size_t b = 0; b < images; b++) {
                const float *src = x + b * image + c * plane;
                float *out = row + b * n;
                for (size_t i = 0; i < n; i++) {
                    int32_t s = idx[i];
                    out[i] = s >= 0 ? src[s] : 0.0f;
                }
            }
        }
    }
}

ZK_CLONES
void zk_col2im(const float *restrict col, size_t ld, size_t images, size_t channels, size_t plane, size_t taps, size_t n,
               const int32_t *restrict source, float *restrict x) {
    const size_t image = channels * plane;
    for (size_t b = 0; b < images; b++) {
        for (size_t c = 0; c < channels; c++) {
            float *dst = x + b * image + c * plane;
            for (size_t q = 0; q < plane; q++) dst[q] = 0.0f;
            for (size_t t = 0; t < taps; t++) {
                const float *row = col + (c * taps + t) * ld + b * n;
                const int32_t *idx = source + t * n;
                for (size_t i = 0; i < n; i++) {
                    int32_t s = idx[i];
                    if (s >= 0) dst[s] += row[i];
                }
            }
        }
    }
}

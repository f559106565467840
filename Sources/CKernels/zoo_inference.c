// Kernels for inference with many latent samples per image (importance-weighted
// log-likelihood estimates): normal draws, the reparameterization with its log
// density ratio, and per-row decoder log-likelihoods against one broadcast image.
//
// Written with clang's vector extensions (16 float lanes) so that the per-lane
// product trick below is under our control; `target_clones` compiles them for
// AVX-512, AVX2 and baseline x86-64 (where a 16-lane vector is split into
// narrower registers); see zk_clones.h.
#include "zoo_kernels.h"
#include "zk_clones.h"
#include <math.h>

#pragma clang fp contract(fast)

typedef float v16f __attribute__((ext_vector_type(16)));
typedef int32_t v16i __attribute__((ext_vector_type(16)));
typedef uint32_t v16u __attribute__((ext_vector_type(16)));

// Helpers are macros: passing 16-lane vectors by value to a function is an ABI
// error in the clones compiled without AVX-512.
#define loadu(p) ({ v16f v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define storeu(p, v) do { v16f s_ = (v); __builtin_memcpy((p), &s_, sizeof s_); } while (0)
#define hsum(v) ({ v16f h_ = (v); float s_ = 0.0f; for (int i_ = 0; i_ < 16; i_++) s_ += h_[i_]; s_; })

// exp(x) for x in [-87, 88], lane-wise: the same Cody-Waite reduction and
// Cephes polynomial as zk_expf in zoo_kernels.c (relative error ~1.2e-7).
#define expv(x_in) ({                                                              \
    v16f x_ = __builtin_elementwise_min(__builtin_elementwise_max((x_in), (v16f)(-87.0f)), (v16f)(88.0f)); \
    v16f n_ = __builtin_elementwise_roundeven(x_ * 1.44269504088896341f);         \
    v16f r_ = x_ - n_ * 0.693359375f;                                              \
    r_ = r_ + n_ * 2.12194440e-4f;                                                 \
    v16f p_ = (v16f)(1.9875691500e-4f);                                            \
    p_ = p_ * r_ + 1.3981999507e-3f;                                               \
    p_ = p_ * r_ + 8.3334519073e-3f;                                               \
    p_ = p_ * r_ + 4.1665795894e-2f;                                               \
    p_ = p_ * r_ + 1.6666665459e-1f;                                               \
    p_ = p_ * r_ + 5.0000001201e-1f;                                               \
    p_ = p_ * r_ * r_ + r_ + 1.0f;                                                 \
    v16i b_ = (__builtin_convertvector(n_, v16i) + 127) << 23;                     \
    p_ * __builtin_bit_cast(v16f, b_);                                             \
})

// log(x) for positive normal x, lane-wise: x = 2^e m with m in [sqrt(1/2), sqrt(2))
// (found by biasing the bits with those of sqrt(1/2), 0x3f3504f3), log m = 2 atanh(s),
// s = (m - 1)/(m + 1), |s| < 0.1716, odd series to s^11 (truncation < 3e-10; the
// result is within a few float ulps).
#define logv(x_in) ({                                                              \
    v16i k_ = __builtin_bit_cast(v16i, (x_in)) - 0x3f3504f3;                       \
    v16i e_ = k_ >> 23;                                                            \
    v16f m_ = __builtin_bit_cast(v16f, (k_ & 0x007fffff) + 0x3f3504f3);            \
    v16f s_ = (m_ - 1.0f) / (m_ + 1.0f);                                           \
    v16f s2_ = s_ * s_;                                                            \
    v16f q_ = (v16f)(1.0f / 11.0f);                                                \
    q_ = q_ * s2_ + 1.0f / 9.0f;                                                   \
    q_ = q_ * s2_ + 1.0f / 7.0f;                                                   \
    q_ = q_ * s2_ + 1.0f / 5.0f;                                                   \
    q_ = q_ * s2_ + 1.0f / 3.0f;                                                   \
    q_ = q_ * s2_ + 1.0f;                                                          \
    __builtin_convertvector(e_, v16f) * 0.693147180559945309f + 2.0f * s_ * q_;    \
})

ZK_CLONES
void zk_normal(const uint64_t *restrict bits, size_t pairs, float *restrict out) {
    // Box–Muller on a pair of 32-bit uniforms per 64-bit word:
    //   u1 = (floor(a / 2) + 1/2) 2^-31 in (0, 1),  t = b 2^-32 in [0, 1),
    //   r = sqrt(-2 log u1),  z1 = r cos(2 pi t),  z2 = r sin(2 pi t).
    // sin and cos use an exact quadrant split of t (t - q/4 is exact in float
    // arithmetic for t with 24 significant bits) and the Cephes polynomials on
    // [-pi/4, pi/4] (error ~1e-7). |z| < 6.67 (the smallest u1 is 2^-32).
    size_t i = 0;
    for (; i + 16 <= pairs; i += 16) {
        v16u a, b;
        for (int j = 0; j < 16; j++) {
            uint64_t w = bits[i + j];
            a[j] = (uint32_t)(w >> 33);          // 31 bits
            b[j] = (uint32_t)(w >> 8) & 0xFFFFFF; // 24 bits
        }
        v16f u1 = (__builtin_convertvector(__builtin_bit_cast(v16i, a), v16f) + 0.5f) * 0x1p-31f;
        v16f t = __builtin_convertvector(__builtin_bit_cast(v16i, b), v16f) * 0x1p-24f;
        v16f r = __builtin_elementwise_sqrt(-2.0f * logv(u1));
        v16f q = __builtin_elementwise_roundeven(t * 4.0f);           // 0 ... 4
        v16f f = (t - q * 0.25f) * 6.28318530717958648f;              // [-pi/4, pi/4]
        v16f f2 = f * f;
        v16f sn = ((-1.9515295891e-4f * f2 + 8.3321608736e-3f) * f2 - 1.6666654611e-1f) * f2 * f + f;
        v16f cs = ((2.443315711809948e-5f * f2 - 1.388731625493765e-3f) * f2 + 4.166664568298827e-2f) * f2 * f2
                  - 0.5f * f2 + 1.0f;
        v16i qi = __builtin_convertvector(q, v16i) & 3;
        // angle = f + q pi/2: cos = {c, -s, -c, s}[q], sin = {s, c, -s, -c}[q]
        v16f c0 = (qi & 1) != 0 ? sn : cs;
        v16f s0 = (qi & 1) != 0 ? cs : sn;
        v16f cosv = ((qi == 1) | (qi == 2)) != 0 ? -c0 : c0;
        v16f sinv = (qi >= 2) != 0 ? -s0 : s0;
        v16f zc = r * cosv, zs = r * sinv;
        storeu(out + 2 * i, __builtin_shufflevector(zc, zs, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
        storeu(out + 2 * i + 16, __builtin_shufflevector(zc, zs, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
    }
    for (; i < pairs; i++) {
        uint64_t w = bits[i];
        double u1 = ((double)(uint32_t)(w >> 33) + 0.5) * 0x1p-31;
        double t = (double)((uint32_t)(w >> 8) & 0xFFFFFF) * 0x1p-24;
        double r = sqrt(-2.0 * log(u1));
        out[2 * i] = (float)(r * cos(6.283185307179586 * t));
        out[2 * i + 1] = (float)(r * sin(6.283185307179586 * t));
    }
}

ZK_CLONES
void zk_reparameterize(const float *restrict eps, const float *restrict mu, const float *restrict sigma,
                       size_t rows, size_t latent, float *restrict z, double *restrict log_ratio) {
    for (size_t r = 0; r < rows; r++) {
        const float *e = eps + r * latent;
        float *zr = z + r * latent;
        float acc = 0.0f;
        for (size_t j = 0; j < latent; j++) {
            float zj = mu[j] + sigma[j] * e[j];
            zr[j] = zj;
            acc += e[j] * e[j] - zj * zj;
        }
        log_ratio[r] = 0.5 * (double)acc;
    }
}

// Per lane, the product of up to 64 factors in (1, 2] stays below 2^64, far
// from float overflow; its logarithm is then taken once.
#define ZK_PRODUCT_BLOCKS 64

ZK_CLONES
void zk_bernoulli_loglik(const float *restrict logits, const float *restrict bias, const float *restrict x,
                         size_t rows, size_t cols, double *restrict out) {
    // log p(x|l) = sum_c x l - softplus(l), softplus(l) = max(l, 0) + log(1 + exp(-|l|)).
    // The log(1 + exp(-|l|)) terms are multiplied per lane and logged every
    // ZK_PRODUCT_BLOCKS vectors: one logarithm per 64 x 16 elements instead of one
    // each. Each factor carries one rounding (~6e-8 relative, ~1e-5 nats over 784
    // pixels); the float sums of the linear terms dominate the error, ~1e-7 of
    // sum_c |term_c| (tested against double).
    const size_t full = cols / 16 * 16;
    for (size_t r = 0; r < rows; r++) {
        const float *l = logits + r * cols;
        v16f linear = (v16f)(0.0f), logs = (v16f)(0.0f), prod = (v16f)(1.0f);
        size_t blocks = 0;
        for (size_t c = 0; c < full; c += 16) {
            v16f lc = loadu(l + c) + loadu(bias + c);
            linear += lc * loadu(x + c) - __builtin_elementwise_max(lc, (v16f)(0.0f));
            prod *= 1.0f + expv(-__builtin_elementwise_abs(lc));
            if (++blocks == ZK_PRODUCT_BLOCKS) {
                logs += logv(prod);
                prod = (v16f)(1.0f);
                blocks = 0;
            }
        }
        logs += logv(prod);
        double acc = (double)hsum(linear) - (double)hsum(logs);
        for (size_t c = full; c < cols; c++) {
            double lc = (double)l[c] + (double)bias[c];
            acc += lc * x[c] - (lc > 0 ? lc : 0) - log1p(exp(-fabs(lc)));
        }
        out[r] = acc;
    }
}

ZK_CLONES
void zk_gaussian_loglik(const float *restrict logits, const float *restrict bias, const float *restrict x,
                        float inv_var, size_t rows, size_t cols, double *restrict out) {
    // -sum_c (x - m)^2 inv_var / 2 with m = sigmoid(l), without the normalizing constant.
    const size_t full = cols / 16 * 16;
    for (size_t r = 0; r < rows; r++) {
        const float *l = logits + r * cols;
        v16f acc = (v16f)(0.0f);
        for (size_t c = 0; c < full; c += 16) {
            v16f lc = loadu(l + c) + loadu(bias + c);
            v16f e = expv(-__builtin_elementwise_abs(lc));
            v16f inv = 1.0f / (1.0f + e);
            v16f d = loadu(x + c) - (lc >= 0.0f ? inv : e * inv);
            acc += d * d;
        }
        double sum = (double)hsum(acc);
        for (size_t c = full; c < cols; c++) {
            double lc = (double)l[c] + (double)bias[c];
            double d = x[c] - 1.0 / (1.0 + exp(-lc));
            sum += d * d;
        }
        out[r] = -0.5 * (double)inv_var * sum;
    }
}

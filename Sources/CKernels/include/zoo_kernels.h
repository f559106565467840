// Element-wise SIMD kernels for zoo's numeric core.
//
// Why C: Swift packages may not pass `unsafeFlags`, so Swift code is compiled
// for baseline x86-64 (SSE2). These loops are compiled three times with
// `target_clones` (x86-64-v4 = AVX-512, x86-64-v3 = AVX2+FMA, baseline) and the
// loader picks the widest one the CPU supports. Matrix products are not here:
// they go to OpenBLAS (see NumericCore/BLAS.swift).
//
// Determinism: every kernel is a pure function of its inputs for a given CPU,
// so the same machine gives bit-identical results run after run.
//
// Accuracy: exp, log1p and the sigmoid are polynomial approximations with a
// relative error below 2e-7 over the ranges used (tested in NumericCoreTests).
#pragma once
#include <stddef.h>
#include <stdint.h>

/// y[r, c] = b[c] for r < rows (prepares a bias before a beta = 1 GEMM).
void zk_fill_rows(float *y, const float *b, size_t rows, size_t cols);

/// y = max(y, 0), in place.
void zk_relu(float *y, size_t n);

/// dy = (y > 0) ? dy : 0, in place; y is the ReLU's output.
void zk_relu_backward(float *restrict dy, const float *restrict y, size_t n);

/// y = tanh(y) in place (relative error < 3e-7).
void zk_tanh(float *y, size_t n);

/// dy *= 1 − y², y the tanh output.
void zk_tanh_backward(float *restrict dy, const float *restrict y, size_t n);

/// out[c] = sum over r of dy[r, c] (the bias gradient). Summed in row order.
void zk_col_sum(const float *restrict dy, size_t rows, size_t cols, float *restrict out);
/// zk_col_sum over `cols` columns of rows `ld` floats apart.
void zk_col_sum_ld(const float *restrict dy, size_t rows, size_t cols, size_t ld, float *restrict out);

/// Bernoulli negative log-likelihood from logits, the numerically stable form
///   bce(l, x) = max(l, 0) - l*x + log1p(exp(-|l|)),
/// summed per row into loss[r]; grad[r, c] = sigmoid(l) - x (d bce / d l).
/// grad may be NULL (evaluation only).
void zk_bce_logits(const float *restrict logits, const float *restrict x, float *restrict grad,
                   size_t rows, size_t cols, double *loss);

/// Gaussian negative log-likelihood with mean sigmoid(l) and fixed variance
/// 1/inv_var, without the constant: loss[r] = sum_c (x - m)^2 * inv_var / 2;
/// grad = (m - x) * inv_var * m * (1 - m) (d loss / d l). grad may be NULL.
void zk_gauss_sigmoid(const float *restrict logits, const float *restrict x, float inv_var, float *restrict grad,
                      size_t rows, size_t cols, double *loss);

/// out = sigmoid(l) = 1 / (1 + exp(-l)).
void zk_sigmoid(const float *restrict l, float *restrict out, size_t n);

/// out = exp(x) (x clamped to [-87, 88]).
void zk_exp(const float *restrict x, float *restrict out, size_t n);

/// One Adam step, PyTorch's formulation (torch.optim.Adam, no weight decay):
///   m = m + (1 - beta1) (g - m);  v = beta2 v + (1 - beta2) g^2
///   p = p - step_size * m / (sqrt(v) / sqrt_bc2 + eps)
/// with step_size = lr / (1 - beta1^t), sqrt_bc2 = sqrt(1 - beta2^t), evaluated
/// as (step_size sqrt_bc2) m / (sqrt(v) + eps sqrt_bc2), the same quantity with
/// one division (agrees with PyTorch to float rounding, ~1e-7 relative).
/// 1 - beta1 and 1 - beta2 are passed in, computed in double precision as
/// PyTorch does (1 - 0.999f in float is off by 1.3e-5 relative).
void zk_adam(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
             float beta2, float one_minus_beta1, float one_minus_beta2, float step_size, float sqrt_bc2,
             float eps);
// zk_adam on g = g0 + g1 (the sum of two workers' gradients, not stored).
void zk_adam_sum2(float *restrict p, const float *restrict g0, const float *restrict g1,
                  float *restrict m, float *restrict v, size_t n, float beta2, float one_minus_beta1,
                  float one_minus_beta2, float step_size, float sqrt_bc2, float eps);


/// dst[i, c] = src[rows[i], c] / 255 for i < nrows.
void zk_gather_u8(const uint8_t *restrict src, const int64_t *restrict rows, size_t nrows, size_t cols,
                  float *restrict dst);

/// dst[i, c] = 1 if u[i*cols + c] < src[rows[i], c] / 255 else 0, where u holds
/// uniform 24-bit integers (a Bernoulli draw of every pixel).
void zk_gather_u8_bernoulli(const uint8_t *restrict src, const int64_t *restrict rows, size_t nrows,
                            size_t cols, const uint32_t *restrict u, float *restrict dst);

/// Rows `rows[0..nrows)` of a float32 matrix with `cols` columns, copied into dst.
void zk_gather_f32(const float *restrict src, const int64_t *restrict rows, size_t nrows, size_t cols,
                   float *restrict dst);

/// The same rows with every value p in [0, 1] replaced by one Bernoulli(p)
/// draw: 1 when u[i] * 2^-24 < p, with u uniform on [0, 2^24).
void zk_gather_f32_bernoulli(const float *restrict src, const int64_t *restrict rows, size_t nrows,
                             size_t cols, const uint32_t *restrict u, float *restrict dst);

/// From the image-minor layout (value m of image b at m·n + b; n images of
/// `size` values) to rows: x[b·size + m] = src[m·n + b] (+ bias[m / plane] when
/// bias is not NULL) for m in [m0, m1). (A transpose with a bias: 8 × 8 blocks
/// in registers.)
void zk_from_image_minor(const float *restrict src, size_t n, size_t size, size_t m0, size_t m1, const float *restrict bias,
                         size_t plane, float *restrict x);

/// The same for images [i0, i1) only (src still holds n images).
void zk_from_image_minor_part(const float *restrict src, size_t n, size_t size, size_t m0, size_t m1, size_t i0, size_t i1,
                              const float *restrict bias, size_t plane, float *restrict x);

/// out[o] += the sum of row o of x (`rows` rows of `size` values): eight
/// running lanes, added pairwise at the end, then the tail; the same order on
/// every CPU.
void zk_add_row_sums(const float *restrict x, size_t rows, size_t size, float *restrict out);

// Channels-last chunks, the convolutions' layout: value (q, c) of image b of
// a chunk of n images with C channels over `plane` pixels at (q·n + b)·C + c
// (one channel: the image-minor layout q·n + b). The convolutions' index
// tables here are source[o·taps + t]: the pixel kernel position t reads for
// output position o, −1 in the padding.

/// out (channels-last) from x (n NCHW rows of C·plane values), pixels [q0, q1).
void zk_to_channels_last(const float *restrict x, size_t n, size_t channels, size_t plane, size_t q0, size_t q1,
                         float *restrict out);
/// The inverse: x (NCHW rows) from src (channels-last), pixels [q0, q1).
void zk_from_channels_last(const float *restrict src, size_t n, size_t channels, size_t plane, size_t q0, size_t q1,
                           float *restrict x);

/// The transposed im2col matrix of a convolution on a channels-last chunk:
/// col[(o·n + b)·ld + t·C + c] = x[(source[o·taps + t]·n + b)·C + c], 0 where
/// the source is −1, for channels [c0, c1) (each entry copies a run of
/// channels; one channel and 8 images go through 8 × 8 register transposes).
void zk_im2col_last(const float *restrict x, size_t n, size_t channels, size_t taps, size_t positions,
                    const int32_t *restrict source, size_t c0, size_t c1, float *restrict col, size_t ld);

/// The adjoint of zk_im2col_last: x[(q·n + b)·C + c] = bias[c] (0 when bias is
/// NULL) + the entries whose source is q, added in (position, tap) order
/// (x's channels [c0, c1) are overwritten).
void zk_col2im_last(const float *restrict col, size_t ld, size_t n, size_t channels, size_t plane, size_t taps,
                    size_t positions, const int32_t *restrict source, size_t c0, size_t c1, const float *restrict bias,
                    float *restrict x);

/// out[c] += Σ_r x[r, c] (`rows` rows of `cols` values): each column summed
/// from 0 in row order, in registers, then added (one column: as one row of
/// zk_add_row_sums, in eight lanes); the same order on every CPU.
void zk_add_col_sums(const float *restrict x, size_t rows, size_t cols, float *restrict out);

/// `count` row-major rows × cols matrices, one after the other in w, each
/// transposed into out (cols × rows, at the same offset): a convolution
/// weight [outer][channels][taps] to [outer][taps][channels] and back.
void zk_transpose_each(const float *restrict w, size_t count, size_t rows, size_t cols, float *restrict out);

/// 1 if every x[i] is finite, else 0.
int zk_all_finite(const float *x, size_t n);

/// Sets (on != 0) or clears flush-to-zero and denormals-are-zero for the
/// calling thread's SSE/AVX arithmetic. Subnormal floats (|x| < 1.2e-38) are
/// then treated as zero: Adam's second moments of tiny gradients otherwise
/// fall into the subnormal range, where arithmetic is many times slower.
/// Returns the previous MXCSR register value.
unsigned zk_set_flush_denormals(int on);

/// The calling thread's SSE/AVX control word (MXCSR: rounding, flush-to-zero,
/// denormals-are-zero), and setting it: threads that share a computation copy it.
unsigned zk_float_control(void);
void zk_set_float_control(unsigned csr);

// ---- Inference with many latent samples per image (zoo_inference.c) ----

/// 2 * pairs standard normal draws from `pairs` random 64-bit words (Box–Muller,
/// float polynomials, ~1e-7 relative error; |z| < 6.67): word i gives
/// out[2i] (the cosine half) and out[2i + 1] (the sine half), so draw j depends
/// only on word j / 2 whatever the block size.
void zk_normal(const uint64_t *restrict bits, size_t pairs, float *restrict out);

/// z[r, j] = mu[j] + sigma[j] eps[r, j] (one posterior, `rows` draws) and
/// log_ratio[r] = sum_j (eps^2 - z^2) / 2, which is log p(z) - log q(z|x)
/// minus sum_j log sigma[j] (the 2 pi terms cancel).
void zk_reparameterize(const float *restrict eps, const float *restrict mu, const float *restrict sigma,
                       size_t rows, size_t latent, float *restrict z, double *restrict log_ratio);

/// Bernoulli log-likelihood of one image x against each row of logits + bias:
/// out[r] = sum_c x_c l_rc - softplus(l_rc), with l = logits + bias (bias added
/// here, so the GEMM before it needs no bias pass). Accumulated in float: the
/// error is ~1e-7 of sum_c |term_c| (~3e-5 nats for a 784-pixel image at 240
/// nats), see zoo_inference.c.
void zk_bernoulli_loglik(const float *restrict logits, const float *restrict bias, const float *restrict x,
                         size_t rows, size_t cols, double *restrict out);

/// Gaussian log-likelihood with mean sigmoid(logits + bias) and variance
/// 1/inv_var of one image x, per row, without the constant -cols (log sigma + log(2 pi)/2):
/// out[r] = -sum_c (x_c - m_rc)^2 inv_var / 2.
void zk_gaussian_loglik(const float *restrict logits, const float *restrict bias, const float *restrict x,
                        float inv_var, size_t rows, size_t cols, double *restrict out);

/// 1 if the CPU has the AVX-512 subsets OpenBLAS's SkylakeX kernels use (F, BW, DQ, VL).
int zk_cpu_has_avx512(void);
int zk_cpu_has_avx2_fma(void);
/// The instruction set zoo's own element-wise kernels run with on this CPU:
/// "AVX-512", "AVX2" or "x86-64" (the widest of their clones the CPU runs;
/// never AVX-512 in a build with -DZK_AVX2_ONLY, see zk_clones.h).
const char *zk_kernel_instruction_set(void);

// out[i] = a[i] + b[i] (out may be a).
void zk_add(float *out, const float *a, const float *b, size_t n);

/* gancl/ops.h - the ops every backend implements.
 *
 * Conventions (llm.c style):
 *   - outputs first, then inputs, then parameters;
 *   - every op checks shapes once and aborts on a mismatch (a programmer
 *     error), then dispatches to the tensors' backend;
 *   - ops are queued, not finished, when they return: call
 *     gc_backend_sync() or read a tensor to wait;
 *   - backward passes WRITE the gradient of their input (dx = ...) and
 *     ACCUMULATE into parameter gradients (dw += ...), so a zero-grad step
 *     (gc_fill(grads, 0)) is explicit and D's gradients from a real and a
 *     fake batch simply add up.  A NULL dx means "not needed".
 *   - tensors of one call live on one backend.
 */
#ifndef GANCL_OPS_H
#define GANCL_OPS_H

#include <stdint.h>

#include "gancl/status.h"
#include "gancl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- elementwise and reductions ------------------------------------- */

gc_status gc_fill(const gc_tensor *y, float value);
/* y = x (same numel). */
gc_status gc_copy(const gc_tensor *y, const gc_tensor *x);
/* y = a + b (same numel; y may alias a or b). */
gc_status gc_add(const gc_tensor *y, const gc_tensor *a, const gc_tensor *b);
/* y = alpha * x (y may alias x). */
gc_status gc_scale(const gc_tensor *y, const gc_tensor *x, float alpha);
/* y[0] = sum of all elements of x (y has one element). */
gc_status gc_sum(const gc_tensor *y, const gc_tensor *x);
/* y[0] = mean of all elements of x. */
gc_status gc_mean(const gc_tensor *y, const gc_tensor *x);

/* ---- GEMM -------------------------------------------------------------
 * C = alpha * op(A) * op(B) + beta * C, row-major, op(A) is M x K, op(B)
 * K x N.  A, B, C are the tensors' first elements; lda/ldb/ldc are row
 * strides in floats.  This one function is where per-device tuning and
 * alternative GEMM kernels slot in. */
typedef struct gc_gemm_args {
    int trans_a, trans_b;
    int64_t m, n, k;
    float alpha, beta;
    int64_t lda, ldb, ldc;
} gc_gemm_args;
gc_status gc_gemm(const gc_tensor *c, const gc_tensor *a, const gc_tensor *b,
                  const gc_gemm_args *args);

/* ---- dense: y (N, out) = x (N, in) @ w^T + b;  w (out, in), b (out) ---- */
gc_status gc_dense_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *w,
                           const gc_tensor *b /* or NULL */);
gc_status gc_dense_backward(const gc_tensor *dx /* or NULL */, const gc_tensor *dw,
                            const gc_tensor *db /* or NULL */, const gc_tensor *dy,
                            const gc_tensor *x, const gc_tensor *w);

/* ---- convolutions -----------------------------------------------------
 * conv2d:            x (N, C, H, W), w (OC, C, KH, KW), b (OC)
 *                    y (N, OC, (H + 2*pad_h - KH)/stride_h + 1, ...)
 * conv_transpose2d:  x (N, C, H, W), w (C, OC, KH, KW) as in PyTorch,
 *                    y (N, OC, (H-1)*stride_h - 2*pad_h + KH + out_pad_h, ...)
 */
typedef struct gc_conv_params {
    int stride_h, stride_w;
    int pad_h, pad_w;
    int out_pad_h, out_pad_w; /* conv_transpose2d only */
} gc_conv_params;

/* Output extent along one axis. */
int64_t gc_conv_out_size(int64_t in, int kernel, int stride, int pad);
int64_t gc_conv_transpose_out_size(int64_t in, int kernel, int stride, int pad, int out_pad);

gc_status gc_conv2d_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *w,
                            const gc_tensor *b /* or NULL */, const gc_conv_params *p);
gc_status gc_conv2d_backward(const gc_tensor *dx /* or NULL */, const gc_tensor *dw,
                             const gc_tensor *db /* or NULL */, const gc_tensor *dy,
                             const gc_tensor *x, const gc_tensor *w, const gc_conv_params *p);
gc_status gc_conv_transpose2d_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *w,
                                      const gc_tensor *b /* or NULL */, const gc_conv_params *p);
gc_status gc_conv_transpose2d_backward(const gc_tensor *dx /* or NULL */, const gc_tensor *dw,
                                       const gc_tensor *db /* or NULL */, const gc_tensor *dy,
                                       const gc_tensor *x, const gc_tensor *w,
                                       const gc_conv_params *p);

/* ---- activations ------------------------------------------------------
 * y = f(x), elementwise, y may alias x.  The backward pass needs only the
 * output: dx = dy * f'(y) (for leaky ReLU, slope must be > 0 or the pass is
 * plain ReLU's; y > 0 exactly where x > 0).  dx may alias dy. */
typedef enum gc_act {
    GC_ACT_RELU,
    GC_ACT_LEAKY_RELU,
    GC_ACT_SIGMOID,
    GC_ACT_TANH,
} gc_act;
gc_status gc_act_forward(const gc_tensor *y, const gc_tensor *x, gc_act act, float slope);
gc_status gc_act_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_tensor *y, gc_act act,
                          float slope);

/* ---- batchnorm2d over (N, H, W) per channel --------------------------
 * Training: normalises with the batch mean and biased variance, saves mean
 * and 1/sqrt(var + eps) per channel for backward, and updates the running
 * statistics as PyTorch does: r = (1 - momentum) * r + momentum * stat,
 * with the unbiased variance for running_var.  Evaluation uses the running
 * statistics.  gamma, beta, running_*, save_* have C elements. */
gc_status gc_batchnorm_forward_train(const gc_tensor *y, const gc_tensor *save_mean,
                                     const gc_tensor *save_invstd, const gc_tensor *x,
                                     const gc_tensor *gamma, const gc_tensor *beta,
                                     const gc_tensor *running_mean, const gc_tensor *running_var,
                                     float momentum, float eps);
gc_status gc_batchnorm_forward_eval(const gc_tensor *y, const gc_tensor *x, const gc_tensor *gamma,
                                    const gc_tensor *beta, const gc_tensor *running_mean,
                                    const gc_tensor *running_var, float eps);
gc_status gc_batchnorm_backward(const gc_tensor *dx, const gc_tensor *dgamma,
                                const gc_tensor *dbeta, const gc_tensor *dy, const gc_tensor *x,
                                const gc_tensor *gamma, const gc_tensor *save_mean,
                                const gc_tensor *save_invstd);

/* ---- pooling ----------------------------------------------------------
 * Output size (H + 2*pad - kernel)/stride + 1 (floor).  Max pooling pads
 * with -inf and takes the first maximum; its backward recomputes the
 * argmax from x.  Average pooling divides by the window's size including
 * padding when count_include_pad, else by the number of real pixels. */
typedef struct gc_pool_params {
    int kernel_h, kernel_w;
    int stride_h, stride_w;
    int pad_h, pad_w;
    int count_include_pad; /* avg only */
} gc_pool_params;
gc_status gc_max_pool2d_forward(const gc_tensor *y, const gc_tensor *x, const gc_pool_params *p);
gc_status gc_max_pool2d_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_tensor *x,
                                 const gc_pool_params *p);
gc_status gc_avg_pool2d_forward(const gc_tensor *y, const gc_tensor *x, const gc_pool_params *p);
gc_status gc_avg_pool2d_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_pool_params *p);
/* y (N, C, 1, 1) = mean over H, W of x (N, C, H, W). */
gc_status gc_global_avg_pool_forward(const gc_tensor *y, const gc_tensor *x);
gc_status gc_global_avg_pool_backward(const gc_tensor *dx, const gc_tensor *dy);

/* ---- channel concat ---------------------------------------------------
 * y (N, sum C_i, H, W) = [x_0, x_1, ...] along channels; backward splits dy
 * back into dxs (a NULL entry skips that input). */
gc_status gc_concat_forward(const gc_tensor *y, const gc_tensor *xs, int count);
gc_status gc_concat_backward(const gc_tensor *dxs, int count, const gc_tensor *dy);

/* ---- channels-last (NHWC) inference ----------------------------------
 * For a network that keeps its activations as (N, H, W, C): a gc_tensor's
 * four dims read in that order.  The conv and pooling write channels
 * [c0, c0 + OC) of a wider y (N, OH, OW, CY), so the branches of a channel
 * concatenation write straight into it (c0 = 0, CY = OC: all of y).
 *   conv2d_nhwc:  x (N, H, W, C), w (KH, KW, C, OC), b (OC) or NULL;
 *                 OH, OW as conv2d; relu: max(0, .) of the result (fused
 *                 where the backend can)
 *   pool2d_nhwc:  max (max != 0) or average pooling of x (N, H, W, C) into
 *                 OC = C channels, with max/avg_pool2d's semantics
 *   nhwc_layout:  y (N, H, W, C) = x (N, C, H, W) when to_nhwc, else
 *                 y (N, C, H, W) = x (N, H, W, C) */
gc_status gc_conv2d_nhwc_forward(const gc_tensor *y, int64_t c0, const gc_tensor *x,
                                 const gc_tensor *w, const gc_tensor *b /* or NULL */,
                                 const gc_conv_params *p, int relu);
gc_status gc_pool2d_nhwc_forward(const gc_tensor *y, int64_t c0, const gc_tensor *x,
                                 const gc_pool_params *p, int max);
gc_status gc_nhwc_layout(const gc_tensor *y, const gc_tensor *x, int to_nhwc);

/* ---- bilinear resize, PyTorch's align_corners=False ------------------ */
gc_status gc_resize_bilinear_forward(const gc_tensor *y, const gc_tensor *x);

/* ---- binary cross-entropy with logits --------------------------------
 * loss[0] = mean_i [max(z,0) - z*t + log(1 + exp(-|z|))] over the N logits
 * of z, with one target t for the whole batch (1 real, 0 fake, or a
 * smoothed value).  Backward WRITES dz = scale * (sigmoid(z) - t) / N. */
gc_status gc_bce_logits_forward(const gc_tensor *loss, const gc_tensor *z, float target);
gc_status gc_bce_logits_backward(const gc_tensor *dz, const gc_tensor *z, float target,
                                 float scale);

/* ---- softmax cross-entropy with class labels ----------------------------
 * z (N, K) holds logits, labels (N) class indices stored as floats (the
 * tensor layer is fp32 only; every integer up to 2^24 is exact), each in
 * [0, K).  Forward WRITES loss[0] = mean_i [logsumexp(z_i) - z_i[label_i]]
 * (PyTorch's cross_entropy, reduction="mean"), computed with the row maximum
 * subtracted, and, when correct is not NULL, correct[0] = the number of
 * rows whose argmax (the first maximum) is label_i, as a float.  Backward
 * WRITES dz = scale * (softmax(z) - onehot(labels)) / N; dz may alias z.
 * A label that is not an integer in [0, K) is an input error: the CPU
 * backend, whose labels are host memory, returns GC_ERR_ARG before writing
 * anything; a device backend cannot see the labels without a sync, so it
 * writes NaN into that row's loss term (so loss[0] is NaN, and the row is
 * not counted as correct) and into that row of dz. */
gc_status gc_softmax_ce_forward(const gc_tensor *loss, const gc_tensor *correct /* or NULL */,
                                const gc_tensor *z, const gc_tensor *labels);
gc_status gc_softmax_ce_backward(const gc_tensor *dz, const gc_tensor *z, const gc_tensor *labels,
                                 float scale);

/* ---- class conditioning ------------------------------------------------
 * A conditional GAN's two uses of a per-class table e (K, F), with labels
 * (N) as in softmax cross-entropy (class indices stored as floats):
 *   class_embed:    y (N, F) += e[label_n]   (a learned class embedding
 *                   added to a layer's output: the same as concatenating a
 *                   one-hot label to that layer's input)
 *                   backward: de[k] += sum of dy[n] over the rows n with
 *                   label_n = k
 *   class_project:  y (N) += <e[label_n], x[n]>,  x (N, F)  (the projection
 *                   discriminator's class term, Miyato & Koyama 2018)
 *                   backward: dx[n] += dy[n] * e[label_n] and
 *                   de[k] += sum of dy[n] * x[n] over the rows with label k.
 * Unlike the other backward passes these ACCUMULATE into dx too: the class
 * term sits beside a dense head whose backward has already written dx.
 * Both forwards accumulate into y (the dense head wrote it first); dx may
 * be NULL.  Bad labels are handled as in softmax cross-entropy: GC_ERR_ARG
 * on the CPU backend before anything is written; NaN in that row of y (and
 * of dx, and no contribution to de) on a device. */
gc_status gc_class_embed_forward(const gc_tensor *y, const gc_tensor *e, const gc_tensor *labels);
gc_status gc_class_embed_backward(const gc_tensor *de, const gc_tensor *dy,
                                  const gc_tensor *labels);
gc_status gc_class_project_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *e,
                                   const gc_tensor *labels);
gc_status gc_class_project_backward(const gc_tensor *dx /* or NULL */, const gc_tensor *de,
                                    const gc_tensor *dy, const gc_tensor *x, const gc_tensor *e,
                                    const gc_tensor *labels);

/* ---- against mode collapse -------------------------------------------
 * Building blocks of the remedies a trainer can switch on.
 *
 * Hinge loss (Lim & Ye 2017, as in Miyato et al. 2018), one term per call
 * over the N logits of z:
 *   GC_HINGE_REAL:  loss[0] = mean_i max(0, 1 - z_i)   (D on real samples)
 *   GC_HINGE_FAKE:  loss[0] = mean_i max(0, 1 + z_i)   (D on fake samples)
 *   GC_HINGE_GEN:   loss[0] = -mean_i z_i              (G's loss)
 * Backward WRITES dz = scale * dloss/dz, i.e. -scale/N where 1 - z > 0
 * (REAL), scale/N where 1 + z > 0 (FAKE), 0 elsewhere (the kink itself
 * included, as PyTorch's relu), and -scale/N everywhere (GEN); dz may
 * alias z. */
typedef enum gc_hinge_term {
    GC_HINGE_REAL,
    GC_HINGE_FAKE,
    GC_HINGE_GEN,
} gc_hinge_term;
gc_status gc_hinge_forward(const gc_tensor *loss, const gc_tensor *z, gc_hinge_term term);
gc_status gc_hinge_backward(const gc_tensor *dz, const gc_tensor *z, gc_hinge_term term,
                            float scale);

/* Minibatch standard deviation (Karras et al. 2018, ProGAN), x (N, C, H, W),
 * y (N, C + 1, H, W), group size G dividing N, M = N / G groups.  As in
 * ProGAN's and StyleGAN's code, group m holds the samples n with
 * n mod M == m (so G = N is one group of the whole batch).  y's first C
 * channels are x; its last channel holds, at every pixel of every sample of
 * group m,
 *   s_m = mean over (c, h, w) of sqrt(var_m(c, h, w) + 1e-8)
 * where var_m is the BIASED variance (divided by G) over the group's
 * samples.  Backward WRITES dx (N, C, H, W) from dy (N, C + 1, H, W),
 * recomputing the statistics from x; dx must not alias dy or x. */
#define GC_MBSTD_EPS 1e-8f
gc_status gc_mbstd_forward(const gc_tensor *y, const gc_tensor *x, int group);
gc_status gc_mbstd_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_tensor *x,
                            int group);

/* Spectral normalisation (Miyato et al. 2018).  w (any shape) is seen as
 * the matrix W (out, in) with out = w->shape[0] and in = numel / out (a
 * conv2d weight (OC, C, KH, KW) gives (OC, C*KH*KW)); u (out) is state the
 * caller owns and keeps across steps (start it random, not zero).  Forward
 * runs `iters` >= 1 power-iteration steps, each
 *   v = W^T u / max(||W^T u||, 1e-12),   u = W v / max(||W v||, 1e-12)
 * (PyTorch's normalize), updating u in place and WRITING v (in), then
 *   sigma[0] = u^T W v  (= ||W v||^2 / max(||W v||, 1e-12))
 * and, when w_sn is not NULL, WRITES w_sn = w / sigma (same numel as w).
 * Backward treats u and v as constants (as PyTorch's spectral_norm in
 * training): with G = dw_sn,
 *   dw += (G - <G, w / sigma> u v^T) / sigma
 * ACCUMULATING into dw like any parameter gradient; dw must not alias
 * dw_sn or w. */
#define GC_SN_EPS 1e-12f
gc_status gc_spectral_norm_forward(const gc_tensor *w_sn /* or NULL */, const gc_tensor *u,
                                   const gc_tensor *v, const gc_tensor *sigma, const gc_tensor *w,
                                   int iters);
gc_status gc_spectral_norm_backward(const gc_tensor *dw, const gc_tensor *dw_sn, const gc_tensor *w,
                                    const gc_tensor *u, const gc_tensor *v, const gc_tensor *sigma);

/* Exponential moving average of weights (G's, for sampling), one launch
 * over a whole buffer: avg = decay * avg + (1 - decay) * x. */
gc_status gc_ema_update(const gc_tensor *avg, const gc_tensor *x, float decay);

/* DiffAugment (Zhao et al. 2020): the same differentiable augmentation of
 * real and generated images before D, so that D cannot memorise a small
 * data set, with gradients flowing back to G.  x, y (N, C, H, W); r
 * (N, GC_DIFFAUG_PARAMS) holds each sample's uniform [0, 1) draws (fill
 * it with gc_rng_uniform), mapped as DiffAugment's PyTorch code draws:
 *   colour (GC_DIFFAUG_COLOR), in this order, on the whole image:
 *     brightness  x += r0 - 0.5
 *     saturation  x = (x - mean_c) * (2 r1) + mean_c    mean over channels, per pixel
 *     contrast    x = (x - mean) * (r2 + 0.5) + mean    mean over (C, H, W)
 *   translation (GC_DIFFAUG_TRANSLATION), ratio 1/8: with sh = (int)(H/8 + 0.5),
 *     sw = (int)(W/8 + 0.5), ty = -sh + floor(r3 (2 sh + 1)) and
 *     tx = -sw + floor(r4 (2 sw + 1)) (each clamped to its upper bound),
 *     y[c, i, j] = x[c, i + ty, j + tx], 0 where that falls outside
 *   cutout (GC_DIFFAUG_CUTOUT), ratio 1/2: with ch = (int)(H/2 + 0.5),
 *     cw = (int)(W/2 + 0.5), oy = floor(r5 (H + 1 - ch % 2)),
 *     ox = floor(r6 (W + 1 - cw % 2)) (clamped likewise), zero the rows
 *     [oy - ch/2, oy - ch/2 + ch) and columns [ox - cw/2, ox - cw/2 + cw)
 *     of every channel (clipped to the image)
 * applied colour, then translation, then cutout, for the bits set in
 * policy (0: y = x).  Every step is affine in x for fixed r, so backward
 * WRITES dx (N, C, H, W) = the adjoint of its linear part applied to dy,
 * with the same r and policy.  r is (N, GC_DIFFAUG_PARAMS).  y must not
 * alias x, nor dx dy. */
#define GC_DIFFAUG_PARAMS 7
enum { GC_DIFFAUG_COLOR = 1, GC_DIFFAUG_TRANSLATION = 2, GC_DIFFAUG_CUTOUT = 4 };
gc_status gc_diffaug_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *r,
                             int policy);
gc_status gc_diffaug_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_tensor *r,
                              int policy);

/* ---- Adam -------------------------------------------------------------
 * One launch over a whole buffer of parameters.  step is 1 for the first
 * update (bias correction 1 - beta^step). */
typedef struct gc_adam_params {
    float lr, beta1, beta2, eps;
    int64_t step;
} gc_adam_params;
gc_status gc_adam_update(const gc_tensor *param, const gc_tensor *grad, const gc_tensor *m,
                         const gc_tensor *v, const gc_adam_params *p);

/* ---- random numbers ---------------------------------------------------
 * Counter-based (Philox4x32-10): element i of a fill uses counter
 * (offset + i), so the stream is the same whichever backend runs it and
 * a run that records (seed, offset) is reproducible.  Each call advances
 * rng->offset by the tensor's numel. */
typedef struct gc_rng {
    uint64_t seed;
    uint64_t offset;
} gc_rng;
gc_status gc_rng_uniform(const gc_tensor *y, gc_rng *rng, float lo, float hi);
gc_status gc_rng_normal(const gc_tensor *y, gc_rng *rng, float mean, float std);

#ifdef __cplusplus
}
#endif
#endif

/* src/backend/cpu/cpu_ops.h - the CPU reference backend's ops.
 *
 * Plain C, clarity first: direct loops in the order the maths is written,
 * double accumulation wherever a sum runs over more than a handful of
 * terms.  This backend is the oracle the OpenCL backend is tested against,
 * and it must also be usable (`--device cpu`), so loops are ordered for
 * contiguous access, but nothing is tiled or vectorised by hand.
 *
 * Buffers are host memory: the float data of a tensor t is
 * gc_cpu_data(t) = (float *)t->buf->handle + t->off.
 */
#ifndef GANCL_CPU_OPS_H
#define GANCL_CPU_OPS_H

#include "backend/backend.h"

static inline float *gc_cpu_data(const gc_tensor *t)
{
    return t ? (float *)t->buf->handle + t->off : (float *)0;
}

/* cpu_elementwise.c */
gc_status gc_cpu_fill(gc_t y, float value);
gc_status gc_cpu_copy(gc_t y, gc_t x);
gc_status gc_cpu_add(gc_t y, gc_t a, gc_t b);
gc_status gc_cpu_scale(gc_t y, gc_t x, float alpha);
gc_status gc_cpu_sum(gc_t y, gc_t x, float mul);
gc_status gc_cpu_act_forward(gc_t y, gc_t x, gc_act act, float slope);
gc_status gc_cpu_act_backward(gc_t dx, gc_t dy, gc_t y, gc_act act, float slope);

/* cpu_gemm.c */
gc_status gc_cpu_gemm(gc_t c, gc_t a, gc_t b, const gc_gemm_args *args);
gc_status gc_cpu_dense_forward(gc_t y, gc_t x, gc_t w, gc_t b);
gc_status gc_cpu_dense_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w);

/* cpu_conv.c */
gc_status gc_cpu_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p);
gc_status gc_cpu_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                 const gc_conv_params *p);
gc_status gc_cpu_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p);
gc_status gc_cpu_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                           const gc_conv_params *p);

/* cpu_norm.c */
gc_status gc_cpu_batchnorm_forward_train(gc_t y, gc_t save_mean, gc_t save_invstd, gc_t x,
                                         gc_t gamma, gc_t beta, gc_t running_mean, gc_t running_var,
                                         float momentum, float eps);
gc_status gc_cpu_batchnorm_forward_eval(gc_t y, gc_t x, gc_t gamma, gc_t beta, gc_t running_mean,
                                        gc_t running_var, float eps);
gc_status gc_cpu_batchnorm_backward(gc_t dx, gc_t dgamma, gc_t dbeta, gc_t dy, gc_t x, gc_t gamma,
                                    gc_t save_mean, gc_t save_invstd);

/* cpu_pool.c */
gc_status gc_cpu_max_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p);
gc_status gc_cpu_max_pool2d_backward(gc_t dx, gc_t dy, gc_t x, const gc_pool_params *p);
gc_status gc_cpu_avg_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p);
gc_status gc_cpu_avg_pool2d_backward(gc_t dx, gc_t dy, const gc_pool_params *p);
gc_status gc_cpu_global_avg_pool_forward(gc_t y, gc_t x);
gc_status gc_cpu_global_avg_pool_backward(gc_t dx, gc_t dy);

/* cpu_shape.c */
gc_status gc_cpu_channel_copy(gc_t y, gc_t x, int64_t c0, int to_y);
gc_status gc_cpu_resize_bilinear_forward(gc_t y, gc_t x);
/* cpu_conv.c, cpu_pool.c, cpu_shape.c: channels-last inference */
gc_status gc_cpu_conv2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, gc_t w, gc_t b,
                                     const gc_conv_params *p, int relu);
gc_status gc_cpu_pool2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, const gc_pool_params *p, int max);
gc_status gc_cpu_nhwc_layout(gc_t y, gc_t x, int to_nhwc);

/* cpu_train.c */
gc_status gc_cpu_bce_logits_forward(gc_t loss, gc_t z, float target);
gc_status gc_cpu_bce_logits_backward(gc_t dz, gc_t z, float target, float scale);
gc_status gc_cpu_adam_update(gc_t param, gc_t grad, gc_t m, gc_t v, const gc_adam_params *p);
gc_status gc_cpu_rng_fill(gc_t y, uint64_t seed, uint64_t offset, int normal, float a, float b);
gc_status gc_cpu_nonfinite_flag(gc_t flag, gc_t x, float value); /* cpu_check.c */

/* cpu_loss.c */
/* GC_ERR_ARG naming op and the row unless each of the n labels is an
 * integer class index in [0, k) (softmax CE and the class ops). */
gc_status gc_cpu_check_labels(const float *lab, int64_t n, int64_t k, const char *op);
gc_status gc_cpu_softmax_ce_forward(gc_t loss, gc_t correct, gc_t z, gc_t labels);
gc_status gc_cpu_softmax_ce_backward(gc_t dz, gc_t z, gc_t labels, float scale);

/* cpu_class.c */
gc_status gc_cpu_class_embed_forward(gc_t y, gc_t e, gc_t labels);
gc_status gc_cpu_class_embed_backward(gc_t de, gc_t dy, gc_t labels);
gc_status gc_cpu_class_project_forward(gc_t y, gc_t x, gc_t e, gc_t labels);
gc_status gc_cpu_class_project_backward(gc_t dx, gc_t de, gc_t dy, gc_t x, gc_t e, gc_t labels);

/* cpu_gan_ops.c */
gc_status gc_cpu_hinge_forward(gc_t loss, gc_t z, gc_hinge_term term);
gc_status gc_cpu_hinge_backward(gc_t dz, gc_t z, gc_hinge_term term, float scale);
gc_status gc_cpu_mbstd_forward(gc_t y, gc_t x, int group);
gc_status gc_cpu_mbstd_backward(gc_t dx, gc_t dy, gc_t x, int group);
gc_status gc_cpu_spectral_norm_forward(gc_t w_sn, gc_t u, gc_t v, gc_t sigma, gc_t w, int iters);
gc_status gc_cpu_spectral_norm_backward(gc_t dw, gc_t dw_sn, gc_t w, gc_t u, gc_t v, gc_t sigma);
gc_status gc_cpu_ema_update(gc_t avg, gc_t x, float decay);

/* cpu_diffaug.c */
gc_status gc_cpu_diffaug_forward(gc_t y, gc_t x, gc_t r, int policy);
gc_status gc_cpu_diffaug_backward(gc_t dx, gc_t dy, gc_t r, int policy);

#endif

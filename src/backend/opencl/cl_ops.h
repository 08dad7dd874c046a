/* src/backend/opencl/cl_ops.h - the OpenCL backend's op launchers.
 *
 * Each launcher sets its kernel's arguments with the helpers of
 * cl_internal.h and enqueues it; nothing waits.  Kernels live in cl/NAME.cl,
 * one file per family, named after the launcher's file (cl_conv.c <->
 * cl/conv.cl).  GEMM goes through gc_cl_gemm (cl_gemm.c), the one place
 * where CLBlast is called.
 */
#ifndef GANCL_CL_OPS_H
#define GANCL_CL_OPS_H

#include "backend/backend.h"

/* cl_elementwise.c */
gc_status gc_cl_fill(gc_t y, float value);
gc_status gc_cl_copy(gc_t y, gc_t x);
gc_status gc_cl_add(gc_t y, gc_t a, gc_t b);
gc_status gc_cl_scale(gc_t y, gc_t x, float alpha);
gc_status gc_cl_sum(gc_t y, gc_t x, float mul);
gc_status gc_cl_act_forward(gc_t y, gc_t x, gc_act act, float slope);
gc_status gc_cl_act_backward(gc_t dx, gc_t dy, gc_t y, gc_act act, float slope);
/* dst[g] = alpha * sum_{i < len} src[g*g_stride + (i/inner)*outer_stride + i%inner]
 * for g < groups, or += when accumulate: sums, bias gradients, pooling. */
gc_status gc_cl_reduce_sum(gc_t dst, gc_t src, int64_t groups, int64_t g_stride, int64_t len,
                           int64_t inner, int64_t outer_stride, float alpha, int accumulate);

/* cl_gemm.c */
gc_status gc_cl_gemm(gc_t c, gc_t a, gc_t b, const gc_gemm_args *args);

/* cl_dense.c */
gc_status gc_cl_dense_forward(gc_t y, gc_t x, gc_t w, gc_t b);
gc_status gc_cl_dense_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w);

/* cl_conv.c */
gc_status gc_cl_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p);
gc_status gc_cl_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                const gc_conv_params *p);
gc_status gc_cl_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p);
gc_status gc_cl_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                          const gc_conv_params *p);

/* cl_norm.c */
gc_status gc_cl_batchnorm_forward_train(gc_t y, gc_t save_mean, gc_t save_invstd, gc_t x,
                                        gc_t gamma, gc_t beta, gc_t running_mean, gc_t running_var,
                                        float momentum, float eps);
gc_status gc_cl_batchnorm_forward_eval(gc_t y, gc_t x, gc_t gamma, gc_t beta, gc_t running_mean,
                                       gc_t running_var, float eps);
gc_status gc_cl_batchnorm_backward(gc_t dx, gc_t dgamma, gc_t dbeta, gc_t dy, gc_t x, gc_t gamma,
                                   gc_t save_mean, gc_t save_invstd);

/* cl_pool.c */
gc_status gc_cl_max_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p);
gc_status gc_cl_max_pool2d_backward(gc_t dx, gc_t dy, gc_t x, const gc_pool_params *p);
gc_status gc_cl_avg_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p);
gc_status gc_cl_avg_pool2d_backward(gc_t dx, gc_t dy, const gc_pool_params *p);
gc_status gc_cl_global_avg_pool_forward(gc_t y, gc_t x);
gc_status gc_cl_global_avg_pool_backward(gc_t dx, gc_t dy);

/* cl_shape.c */
gc_status gc_cl_channel_copy(gc_t y, gc_t x, int64_t c0, int to_y);
/* cl_conv.c, cl_pool.c, cl_shape.c: channels-last inference */
gc_status gc_cl_conv2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, gc_t w, gc_t b,
                                    const gc_conv_params *p, int relu);
gc_status gc_cl_pool2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, const gc_pool_params *p, int max);
gc_status gc_cl_nhwc_layout(gc_t y, gc_t x, int to_nhwc);
gc_status gc_cl_resize_bilinear_forward(gc_t y, gc_t x);

/* cl_train.c */
gc_status gc_cl_bce_logits_forward(gc_t loss, gc_t z, float target);
gc_status gc_cl_bce_logits_backward(gc_t dz, gc_t z, float target, float scale);
gc_status gc_cl_adam_update(gc_t param, gc_t grad, gc_t m, gc_t v, const gc_adam_params *p);
gc_status gc_cl_rng_fill(gc_t y, uint64_t seed, uint64_t offset, int normal, float a, float b);
gc_status gc_cl_nonfinite_flag(gc_t flag, gc_t x, float value); /* cl_check.c */

/* cl_loss.c */
gc_status gc_cl_softmax_ce_forward(gc_t loss, gc_t correct, gc_t z, gc_t labels);
gc_status gc_cl_softmax_ce_backward(gc_t dz, gc_t z, gc_t labels, float scale);

/* cl_class.c */
gc_status gc_cl_class_embed_forward(gc_t y, gc_t e, gc_t labels);
gc_status gc_cl_class_embed_backward(gc_t de, gc_t dy, gc_t labels);
gc_status gc_cl_class_project_forward(gc_t y, gc_t x, gc_t e, gc_t labels);
gc_status gc_cl_class_project_backward(gc_t dx, gc_t de, gc_t dy, gc_t x, gc_t e, gc_t labels);

/* cl_gan_ops.c */
gc_status gc_cl_hinge_forward(gc_t loss, gc_t z, gc_hinge_term term);
gc_status gc_cl_hinge_backward(gc_t dz, gc_t z, gc_hinge_term term, float scale);
gc_status gc_cl_mbstd_forward(gc_t y, gc_t x, int group);
gc_status gc_cl_mbstd_backward(gc_t dx, gc_t dy, gc_t x, int group);
gc_status gc_cl_spectral_norm_forward(gc_t w_sn, gc_t u, gc_t v, gc_t sigma, gc_t w, int iters);
gc_status gc_cl_spectral_norm_backward(gc_t dw, gc_t dw_sn, gc_t w, gc_t u, gc_t v, gc_t sigma);
gc_status gc_cl_ema_update(gc_t avg, gc_t x, float decay);

/* cl_diffaug.c */
gc_status gc_cl_diffaug_forward(gc_t y, gc_t x, gc_t r, int policy);
gc_status gc_cl_diffaug_backward(gc_t dx, gc_t dy, gc_t r, int policy);

#endif

/* src/backend/backend.h - the private backend interface.
 *
 * A backend is a table of function pointers (struct gc_backend_i) plus the
 * device it drives.  The public wrappers in src/tensor/ops.c check shapes and
 * then call these members; a member therefore may assume shapes agree with
 * the documentation in gancl/ops.h.  Every op member is required: the CPU
 * reference and the OpenCL backend implement all of them, and a new
 * backend (Vulkan, CUDA, a tuned CPU one) would too.
 */
#ifndef GANCL_SRC_BACKEND_H
#define GANCL_SRC_BACKEND_H

#include "gancl/backend.h"
#include "gancl/ops.h"
#include "gancl/tensor.h"

typedef const gc_tensor *gc_t; /* shorthand for the op signatures below */

struct gc_backend_i {
    /* Releases everything the backend owns (buffers must be freed first). */
    void (*free)(gc_backend *be);

    /* Memory.  Offsets and sizes in bytes. */
    gc_status (*buffer_alloc)(gc_backend *be, size_t nbytes, gc_buffer **out);
    void (*buffer_free)(gc_backend *be, gc_buffer *buf);
    gc_status (*buffer_write)(gc_backend *be, gc_buffer *buf, size_t off, const void *src,
                              size_t nbytes);
    gc_status (*buffer_read)(gc_backend *be, gc_buffer *buf, size_t off, void *dst, size_t nbytes);
    gc_status (*synchronize)(gc_backend *be);

    /* Ops: same meaning and argument order as the public gc_* function of
     * the same name in gancl/ops.h. */
    gc_status (*fill)(gc_t y, float value);
    gc_status (*copy)(gc_t y, gc_t x);
    gc_status (*add)(gc_t y, gc_t a, gc_t b);
    gc_status (*scale)(gc_t y, gc_t x, float alpha);
    gc_status (*sum)(gc_t y, gc_t x, float mul); /* y[0] = mul * sum(x) */

    gc_status (*gemm)(gc_t c, gc_t a, gc_t b, const gc_gemm_args *args);

    gc_status (*dense_forward)(gc_t y, gc_t x, gc_t w, gc_t b);
    gc_status (*dense_backward)(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w);

    gc_status (*conv2d_forward)(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p);
    gc_status (*conv2d_backward)(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                 const gc_conv_params *p);
    gc_status (*conv_transpose2d_forward)(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p);
    gc_status (*conv_transpose2d_backward)(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                           const gc_conv_params *p);

    gc_status (*act_forward)(gc_t y, gc_t x, gc_act act, float slope);
    gc_status (*act_backward)(gc_t dx, gc_t dy, gc_t y, gc_act act, float slope);

    gc_status (*batchnorm_forward_train)(gc_t y, gc_t save_mean, gc_t save_invstd, gc_t x,
                                         gc_t gamma, gc_t beta, gc_t running_mean, gc_t running_var,
                                         float momentum, float eps);
    gc_status (*batchnorm_forward_eval)(gc_t y, gc_t x, gc_t gamma, gc_t beta, gc_t running_mean,
                                        gc_t running_var, float eps);
    gc_status (*batchnorm_backward)(gc_t dx, gc_t dgamma, gc_t dbeta, gc_t dy, gc_t x, gc_t gamma,
                                    gc_t save_mean, gc_t save_invstd);

    gc_status (*max_pool2d_forward)(gc_t y, gc_t x, const gc_pool_params *p);
    gc_status (*max_pool2d_backward)(gc_t dx, gc_t dy, gc_t x, const gc_pool_params *p);
    gc_status (*avg_pool2d_forward)(gc_t y, gc_t x, const gc_pool_params *p);
    gc_status (*avg_pool2d_backward)(gc_t dx, gc_t dy, const gc_pool_params *p);
    gc_status (*global_avg_pool_forward)(gc_t y, gc_t x);
    gc_status (*global_avg_pool_backward)(gc_t dx, gc_t dy);

    /* Copies x (N, Cx, H, W) into channels [c0, c0 + Cx) of y (N, Cy, H, W)
     * when to_y, or that channel slice of y into x otherwise.  Concat
     * forward and backward are loops over this. */
    gc_status (*channel_copy)(gc_t y, gc_t x, int64_t c0, int to_y);

    gc_status (*resize_bilinear_forward)(gc_t y, gc_t x);

    /* Channels-last inference (gancl/ops.h): y's channels [c0, c0 + OC). */
    gc_status (*conv2d_nhwc_forward)(gc_t y, int64_t c0, gc_t x, gc_t w, gc_t b,
                                     const gc_conv_params *p, int relu);
    gc_status (*pool2d_nhwc_forward)(gc_t y, int64_t c0, gc_t x, const gc_pool_params *p, int max);
    gc_status (*nhwc_layout)(gc_t y, gc_t x, int to_nhwc);

    gc_status (*bce_logits_forward)(gc_t loss, gc_t z, float target);
    gc_status (*bce_logits_backward)(gc_t dz, gc_t z, float target, float scale);
    gc_status (*softmax_ce_forward)(gc_t loss, gc_t correct, gc_t z, gc_t labels);
    gc_status (*softmax_ce_backward)(gc_t dz, gc_t z, gc_t labels, float scale);

    /* Class conditioning (gancl/ops.h); dx may be NULL. */
    gc_status (*class_embed_forward)(gc_t y, gc_t e, gc_t labels);
    gc_status (*class_embed_backward)(gc_t de, gc_t dy, gc_t labels);
    gc_status (*class_project_forward)(gc_t y, gc_t x, gc_t e, gc_t labels);
    gc_status (*class_project_backward)(gc_t dx, gc_t de, gc_t dy, gc_t x, gc_t e, gc_t labels);

    /* Against mode collapse (gancl/ops.h); w_sn may be NULL. */
    gc_status (*hinge_forward)(gc_t loss, gc_t z, gc_hinge_term term);
    gc_status (*hinge_backward)(gc_t dz, gc_t z, gc_hinge_term term, float scale);
    gc_status (*mbstd_forward)(gc_t y, gc_t x, int group);
    gc_status (*mbstd_backward)(gc_t dx, gc_t dy, gc_t x, int group);
    gc_status (*spectral_norm_forward)(gc_t w_sn, gc_t u, gc_t v, gc_t sigma, gc_t w, int iters);
    gc_status (*spectral_norm_backward)(gc_t dw, gc_t dw_sn, gc_t w, gc_t u, gc_t v, gc_t sigma);
    gc_status (*ema_update)(gc_t avg, gc_t x, float decay);
    gc_status (*diffaug_forward)(gc_t y, gc_t x, gc_t r, int policy);
    gc_status (*diffaug_backward)(gc_t dx, gc_t dy, gc_t r, int policy);

    gc_status (*adam_update)(gc_t param, gc_t grad, gc_t m, gc_t v, const gc_adam_params *p);

    /* Fills y with Philox4x32-10 draws for counters offset .. offset+numel-1
     * (see gancl/ops.h); normal when `normal`, else uniform in [a, b). For
     * normal, a is the mean and b the standard deviation. */
    gc_status (*rng_fill)(gc_t y, uint64_t seed, uint64_t offset, int normal, float a, float b);

    /* flag[0] = value when any element of x (contiguous) is NaN or +-Inf
     * and flag[0] is 0; left as it is otherwise, so that a flag keeps the
     * value of the first check that set it.  The trainer's divergence
     * check. */
    gc_status (*nonfinite_flag)(gc_t flag, gc_t x, float value);
};

struct gc_backend {
    const struct gc_backend_i *i;
    void *ctx; /* the backend's own state */
    gc_device_info device;
    char name[160];
};

/* The nonfinite_flag member for the library above the backends (which
 * has no public op for it): flag and x on the same backend. */
gc_status gc_backend_nonfinite_flag(const gc_tensor *flag, const gc_tensor *x, float value);

/* Constructors, one per backend. */
gc_status gc_cpu_backend_init(gc_backend **out);
gc_status gc_opencl_backend_init(int global_index, gc_backend **out);
/* Enumerates OpenCL devices for gc_device_list (src/backend/opencl). */
gc_status gc_opencl_device_list(gc_device_info **out, int *count, const char **notice);

/* Buffer layout shared by every backend: the wrapper stores the byte size
 * so gc_buffer_size works without a vtable call. */
struct gc_buffer {
    size_t nbytes;
    void *handle; /* a host pointer (cpu) or a cl_mem (OpenCL) */
};

#endif

/* src/backend/opencl/cl_gan_ops.c - the ops against mode collapse: hinge
 * loss, minibatch standard deviation, spectral normalisation, weight EMA
 * (cl/gan_ops.cl; the power iteration's products are gc_cl_gemm calls). */
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

/* A power-of-two local size for a one-group (or group-per-row) reduction
 * over n elements: up to 256, no larger than n needs. */
static size_t reduce_wg(gc_cl_call *c, int64_t n)
{
    size_t want = 1;
    while (want < 256 && (int64_t)want < n)
        want *= 2;
    return gc_cl_wg_size(c, want);
}

/* ---- hinge loss ------------------------------------------------------------ */

gc_status gc_cl_hinge_forward(gc_t loss, gc_t z, gc_hinge_term term)
{
    int64_t n = gc_tensor_numel(z);
    GC_TRY(gc_cl_check_int(n, "hinge: logits"));
    gc_cl_call c = gc_cl_begin(z->be, "hinge_forward");
    size_t wg = reduce_wg(&c, n);
    gc_cl_arg_tensor(&c, loss);
    gc_cl_arg_tensor(&c, z);
    gc_cl_arg_int(&c, (int)term);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    return gc_cl_run(&c, 1, &wg, &wg);
}

gc_status gc_cl_hinge_backward(gc_t dz, gc_t z, gc_hinge_term term, float scale)
{
    int64_t n = gc_tensor_numel(z);
    GC_TRY(gc_cl_check_int(n, "hinge backward: logits"));
    gc_cl_call c = gc_cl_begin(z->be, "hinge_backward");
    gc_cl_arg_tensor(&c, dz);
    gc_cl_arg_tensor(&c, z);
    gc_cl_arg_int(&c, (int)term);
    /* scale / n in double, as the CPU reference rounds it. */
    gc_cl_arg_float(&c, (float)((double)scale / (double)n));
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

/* ---- minibatch standard deviation ------------------------------------------ */

/* Both passes: one work-group per group of the batch.  y_or_dy is the
 * (N, C + 1, H, W) tensor; dx is NULL for the forward pass. */
static gc_status mbstd(gc_t dx, gc_t y_or_dy, gc_t x, int group)
{
    int64_t n = GC_N(x), hw = GC_H(x) * GC_W(x), chw = GC_C(x) * hw;
    int64_t groups = n / group;
    GC_TRY(gc_cl_check_int(gc_tensor_numel(y_or_dy), "mbstd: elements"));
    gc_cl_call c = gc_cl_begin(x->be, dx ? "mbstd_backward" : "mbstd_forward");
    size_t wg = reduce_wg(&c, chw > group * hw ? chw : group * hw);
    size_t global = (size_t)groups * wg;
    if (dx) gc_cl_arg_tensor(&c, dx);
    gc_cl_arg_tensor(&c, y_or_dy);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_int(&c, (int)groups);
    gc_cl_arg_int(&c, group);
    gc_cl_arg_int(&c, (int)chw);
    gc_cl_arg_int(&c, (int)hw);
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    return gc_cl_run(&c, 1, &global, &wg);
}

gc_status gc_cl_mbstd_forward(gc_t y, gc_t x, int group)
{
    return mbstd(NULL, y, x, group);
}

gc_status gc_cl_mbstd_backward(gc_t dx, gc_t dy, gc_t x, int group)
{
    return mbstd(dx, dy, x, group);
}

/* ---- spectral normalisation -------------------------------------------------- */

/* a /= max(||a||, eps), and sigma[0] from the norm when sigma is given. */
static gc_status sn_normalize(gc_t a, gc_t sigma)
{
    int64_t n = gc_tensor_numel(a);
    gc_cl_call c = gc_cl_begin(a->be, "sn_normalize");
    size_t wg = reduce_wg(&c, n);
    gc_cl_arg_tensor(&c, a);
    gc_cl_arg_tensor(&c, sigma);
    gc_cl_arg_int(&c, sigma != NULL);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    return gc_cl_run(&c, 1, &wg, &wg);
}

gc_status gc_cl_spectral_norm_forward(gc_t w_sn, gc_t u, gc_t v, gc_t sigma, gc_t w, int iters)
{
    int64_t rows = w->shape[0], cols = gc_tensor_numel(w) / rows;
    GC_TRY(gc_cl_check_int(rows * cols, "spectral_norm: weights"));
    /* v (cols x 1) = W^T u and u (rows x 1) = W v, W stored (rows, cols). */
    gc_gemm_args wt_u = {.trans_a = 1,
                         .m = cols,
                         .n = 1,
                         .k = rows,
                         .alpha = 1.0f,
                         .beta = 0.0f,
                         .lda = cols,
                         .ldb = 1,
                         .ldc = 1};
    gc_gemm_args w_v = {.trans_a = 0,
                        .m = rows,
                        .n = 1,
                        .k = cols,
                        .alpha = 1.0f,
                        .beta = 0.0f,
                        .lda = cols,
                        .ldb = 1,
                        .ldc = 1};
    for (int it = 0; it < iters; it++) {
        GC_TRY(gc_cl_gemm(v, w, u, &wt_u));
        GC_TRY(sn_normalize(v, NULL));
        GC_TRY(gc_cl_gemm(u, w, v, &w_v));
        GC_TRY(sn_normalize(u, sigma));
    }
    if (!w_sn) return GC_OK;
    gc_cl_call c = gc_cl_begin(w->be, "sn_scale");
    gc_cl_arg_tensor(&c, w_sn);
    gc_cl_arg_tensor(&c, w);
    gc_cl_arg_tensor(&c, sigma);
    gc_cl_arg_int(&c, (int)(rows * cols));
    return gc_cl_run_1d(&c, (size_t)(rows * cols));
}

gc_status gc_cl_spectral_norm_backward(gc_t dw, gc_t dw_sn, gc_t w, gc_t u, gc_t v, gc_t sigma)
{
    int64_t rows = w->shape[0], cols = gc_tensor_numel(w) / rows, n = rows * cols;
    GC_TRY(gc_cl_check_int(n, "spectral_norm backward: weights"));
    /* <G, w / sigma> goes through the shared workspace: the queue runs in
     * order, so the next op that uses it starts after sn_backward. */
    cl_mem dot;
    GC_TRY(gc_cl_workspace(w->be, sizeof(float), &dot));
    gc_cl_call c = gc_cl_begin(w->be, "sn_dot");
    size_t wg = reduce_wg(&c, n);
    gc_cl_arg_mem(&c, dot, 0);
    gc_cl_arg_tensor(&c, dw_sn);
    gc_cl_arg_tensor(&c, w);
    gc_cl_arg_tensor(&c, sigma);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    GC_TRY(gc_cl_run(&c, 1, &wg, &wg));

    c = gc_cl_begin(w->be, "sn_backward");
    gc_cl_arg_tensor(&c, dw);
    gc_cl_arg_tensor(&c, dw_sn);
    gc_cl_arg_tensor(&c, u);
    gc_cl_arg_tensor(&c, v);
    gc_cl_arg_tensor(&c, sigma);
    gc_cl_arg_mem(&c, dot, 0);
    gc_cl_arg_int(&c, (int)rows);
    gc_cl_arg_int(&c, (int)cols);
    return gc_cl_run_1d(&c, (size_t)n);
}

/* ---- weight EMA -------------------------------------------------------------- */

gc_status gc_cl_ema_update(gc_t avg, gc_t x, float decay)
{
    int64_t n = gc_tensor_numel(avg);
    GC_TRY(gc_cl_check_int(n, "ema: elements"));
    gc_cl_call c = gc_cl_begin(avg->be, "ema_update");
    gc_cl_arg_tensor(&c, avg);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_float(&c, decay);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

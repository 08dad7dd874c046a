/* src/tensor/ops.c - the public op entry points.
 *
 * Each checks its arguments' shapes once (a mismatch is a programmer error
 * and aborts with file and line) and dispatches to the backend of its
 * tensors.  Backends may rely on these checks.
 */
#include "gancl/ops.h"

#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "util/error.h"

#define CHECK(cond)          GC_ASSERT(cond)
#define SAME_BE(a, b)        CHECK((a)->be == (b)->be)
#define DISPATCH(t, op, ...) ((t)->be->i->op(__VA_ARGS__))

static int64_t numel(const gc_tensor *t)
{
    return gc_tensor_numel(t);
}

int64_t gc_conv_out_size(int64_t in, int kernel, int stride, int pad)
{
    return (in + 2 * (int64_t)pad - kernel) / stride + 1;
}

int64_t gc_conv_transpose_out_size(int64_t in, int kernel, int stride, int pad, int out_pad)
{
    return (in - 1) * stride - 2 * (int64_t)pad + kernel + out_pad;
}

gc_status gc_fill(const gc_tensor *y, float value)
{
    return DISPATCH(y, fill, y, value);
}

gc_status gc_copy(const gc_tensor *y, const gc_tensor *x)
{
    SAME_BE(y, x);
    CHECK(numel(y) == numel(x));
    return DISPATCH(y, copy, y, x);
}

gc_status gc_add(const gc_tensor *y, const gc_tensor *a, const gc_tensor *b)
{
    SAME_BE(y, a);
    SAME_BE(y, b);
    CHECK(numel(y) == numel(a) && numel(y) == numel(b));
    return DISPATCH(y, add, y, a, b);
}

gc_status gc_scale(const gc_tensor *y, const gc_tensor *x, float alpha)
{
    SAME_BE(y, x);
    CHECK(numel(y) == numel(x));
    return DISPATCH(y, scale, y, x, alpha);
}

gc_status gc_sum(const gc_tensor *y, const gc_tensor *x)
{
    SAME_BE(y, x);
    CHECK(numel(y) == 1);
    return DISPATCH(y, sum, y, x, 1.0f);
}

gc_status gc_mean(const gc_tensor *y, const gc_tensor *x)
{
    SAME_BE(y, x);
    CHECK(numel(y) == 1);
    return DISPATCH(y, sum, y, x, (float)(1.0 / (double)numel(x)));
}

gc_status gc_gemm(const gc_tensor *c, const gc_tensor *a, const gc_tensor *b, const gc_gemm_args *g)
{
    SAME_BE(c, a);
    SAME_BE(c, b);
    CHECK(g->m >= 1 && g->n >= 1 && g->k >= 1);
    int64_t a_rows = g->trans_a ? g->k : g->m, a_cols = g->trans_a ? g->m : g->k;
    int64_t b_rows = g->trans_b ? g->n : g->k, b_cols = g->trans_b ? g->k : g->n;
    CHECK(g->lda >= a_cols && g->ldb >= b_cols && g->ldc >= g->n);
    CHECK(numel(a) >= (a_rows - 1) * g->lda + a_cols);
    CHECK(numel(b) >= (b_rows - 1) * g->ldb + b_cols);
    CHECK(numel(c) >= (g->m - 1) * g->ldc + g->n);
    return DISPATCH(c, gemm, c, a, b, g);
}

/* ---- dense -------------------------------------------------------------- */

static void check_dense(const gc_tensor *y, const gc_tensor *x, const gc_tensor *w,
                        const gc_tensor *b)
{
    int64_t n = x->shape[0], in = numel(x) / n, out = w->shape[0];
    CHECK(numel(w) == out * in);
    CHECK(y->shape[0] == n && numel(y) == n * out);
    if (b) CHECK(numel(b) == out);
    SAME_BE(y, x);
    SAME_BE(y, w);
}

gc_status gc_dense_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *w,
                           const gc_tensor *b)
{
    check_dense(y, x, w, b);
    return DISPATCH(y, dense_forward, y, x, w, b);
}

gc_status gc_dense_backward(const gc_tensor *dx, const gc_tensor *dw, const gc_tensor *db,
                            const gc_tensor *dy, const gc_tensor *x, const gc_tensor *w)
{
    check_dense(dy, x, w, db);
    CHECK(numel(dw) == numel(w));
    if (dx) CHECK(numel(dx) == numel(x));
    return DISPATCH(dy, dense_backward, dx, dw, db, dy, x, w);
}

/* ---- convolutions ------------------------------------------------------- */

static void check_conv(const gc_tensor *y, const gc_tensor *x, const gc_tensor *w,
                       const gc_tensor *b, const gc_conv_params *p, int transposed)
{
    CHECK(p->stride_h >= 1 && p->stride_w >= 1 && p->pad_h >= 0 && p->pad_w >= 0);
    CHECK(x->ndim == 4 && y->ndim == 4 && w->ndim == 4);
    SAME_BE(y, x);
    SAME_BE(y, w);
    int64_t oc = transposed ? w->shape[1] : w->shape[0];
    int64_t ic = transposed ? w->shape[0] : w->shape[1];
    int kh = (int)w->shape[2], kw = (int)w->shape[3];
    CHECK(GC_C(x) == ic && GC_C(y) == oc && GC_N(x) == GC_N(y));
    if (transposed) {
        CHECK(p->out_pad_h >= 0 && p->out_pad_h < p->stride_h);
        CHECK(p->out_pad_w >= 0 && p->out_pad_w < p->stride_w);
        CHECK(GC_H(y) ==
              gc_conv_transpose_out_size(GC_H(x), kh, p->stride_h, p->pad_h, p->out_pad_h));
        CHECK(GC_W(y) ==
              gc_conv_transpose_out_size(GC_W(x), kw, p->stride_w, p->pad_w, p->out_pad_w));
    } else {
        CHECK(GC_H(y) == gc_conv_out_size(GC_H(x), kh, p->stride_h, p->pad_h));
        CHECK(GC_W(y) == gc_conv_out_size(GC_W(x), kw, p->stride_w, p->pad_w));
    }
    CHECK(GC_H(y) >= 1 && GC_W(y) >= 1);
    if (b) CHECK(numel(b) == oc);
}

gc_status gc_conv2d_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *w,
                            const gc_tensor *b, const gc_conv_params *p)
{
    check_conv(y, x, w, b, p, 0);
    return DISPATCH(y, conv2d_forward, y, x, w, b, p);
}

gc_status gc_conv2d_backward(const gc_tensor *dx, const gc_tensor *dw, const gc_tensor *db,
                             const gc_tensor *dy, const gc_tensor *x, const gc_tensor *w,
                             const gc_conv_params *p)
{
    check_conv(dy, x, w, db, p, 0);
    CHECK(gc_tensor_same_shape(dw, w));
    if (dx) CHECK(gc_tensor_same_shape(dx, x));
    return DISPATCH(dy, conv2d_backward, dx, dw, db, dy, x, w, p);
}

gc_status gc_conv_transpose2d_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *w,
                                      const gc_tensor *b, const gc_conv_params *p)
{
    check_conv(y, x, w, b, p, 1);
    return DISPATCH(y, conv_transpose2d_forward, y, x, w, b, p);
}

gc_status gc_conv_transpose2d_backward(const gc_tensor *dx, const gc_tensor *dw,
                                       const gc_tensor *db, const gc_tensor *dy, const gc_tensor *x,
                                       const gc_tensor *w, const gc_conv_params *p)
{
    check_conv(dy, x, w, db, p, 1);
    CHECK(gc_tensor_same_shape(dw, w));
    if (dx) CHECK(gc_tensor_same_shape(dx, x));
    return DISPATCH(dy, conv_transpose2d_backward, dx, dw, db, dy, x, w, p);
}

/* ---- activations -------------------------------------------------------- */

gc_status gc_act_forward(const gc_tensor *y, const gc_tensor *x, gc_act act, float slope)
{
    SAME_BE(y, x);
    CHECK(numel(y) == numel(x));
    return DISPATCH(y, act_forward, y, x, act, slope);
}

gc_status gc_act_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_tensor *y, gc_act act,
                          float slope)
{
    SAME_BE(dx, dy);
    SAME_BE(dx, y);
    CHECK(numel(dx) == numel(dy) && numel(dx) == numel(y));
    return DISPATCH(dx, act_backward, dx, dy, y, act, slope);
}

/* ---- batchnorm ---------------------------------------------------------- */

static void check_bn(const gc_tensor *y, const gc_tensor *x, const gc_tensor *const *per_c,
                     int count)
{
    CHECK(x->ndim >= 2 && gc_tensor_same_shape(x, y));
    SAME_BE(y, x);
    for (int i = 0; i < count; i++) {
        CHECK(numel(per_c[i]) == GC_C(x));
        SAME_BE(per_c[i], x);
    }
}

gc_status gc_batchnorm_forward_train(const gc_tensor *y, const gc_tensor *save_mean,
                                     const gc_tensor *save_invstd, const gc_tensor *x,
                                     const gc_tensor *gamma, const gc_tensor *beta,
                                     const gc_tensor *running_mean, const gc_tensor *running_var,
                                     float momentum, float eps)
{
    check_bn(
        y, x,
        (const gc_tensor *const[]){save_mean, save_invstd, gamma, beta, running_mean, running_var},
        6);
    CHECK(numel(x) / GC_C(x) > 1); /* the unbiased variance needs two values */
    return DISPATCH(y, batchnorm_forward_train, y, save_mean, save_invstd, x, gamma, beta,
                    running_mean, running_var, momentum, eps);
}

gc_status gc_batchnorm_forward_eval(const gc_tensor *y, const gc_tensor *x, const gc_tensor *gamma,
                                    const gc_tensor *beta, const gc_tensor *running_mean,
                                    const gc_tensor *running_var, float eps)
{
    check_bn(y, x, (const gc_tensor *const[]){gamma, beta, running_mean, running_var}, 4);
    return DISPATCH(y, batchnorm_forward_eval, y, x, gamma, beta, running_mean, running_var, eps);
}

gc_status gc_batchnorm_backward(const gc_tensor *dx, const gc_tensor *dgamma,
                                const gc_tensor *dbeta, const gc_tensor *dy, const gc_tensor *x,
                                const gc_tensor *gamma, const gc_tensor *save_mean,
                                const gc_tensor *save_invstd)
{
    check_bn(dy, x, (const gc_tensor *const[]){dgamma, dbeta, gamma, save_mean, save_invstd}, 5);
    CHECK(gc_tensor_same_shape(dx, x));
    return DISPATCH(dy, batchnorm_backward, dx, dgamma, dbeta, dy, x, gamma, save_mean,
                    save_invstd);
}

/* ---- pooling ------------------------------------------------------------ */

static void check_pool(const gc_tensor *y, const gc_tensor *x, const gc_pool_params *p)
{
    CHECK(p->kernel_h >= 1 && p->kernel_w >= 1 && p->stride_h >= 1 && p->stride_w >= 1);
    /* PyTorch's rule: padding at most half the kernel, so no window is empty. */
    CHECK(p->pad_h >= 0 && p->pad_w >= 0 && 2 * p->pad_h <= p->kernel_h &&
          2 * p->pad_w <= p->kernel_w);
    CHECK(x->ndim == 4 && y->ndim == 4);
    SAME_BE(y, x);
    CHECK(GC_N(y) == GC_N(x) && GC_C(y) == GC_C(x));
    CHECK(GC_H(y) == gc_conv_out_size(GC_H(x), p->kernel_h, p->stride_h, p->pad_h));
    CHECK(GC_W(y) == gc_conv_out_size(GC_W(x), p->kernel_w, p->stride_w, p->pad_w));
}

gc_status gc_max_pool2d_forward(const gc_tensor *y, const gc_tensor *x, const gc_pool_params *p)
{
    check_pool(y, x, p);
    return DISPATCH(y, max_pool2d_forward, y, x, p);
}

gc_status gc_max_pool2d_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_tensor *x,
                                 const gc_pool_params *p)
{
    check_pool(dy, x, p);
    CHECK(gc_tensor_same_shape(dx, x));
    return DISPATCH(dx, max_pool2d_backward, dx, dy, x, p);
}

gc_status gc_avg_pool2d_forward(const gc_tensor *y, const gc_tensor *x, const gc_pool_params *p)
{
    check_pool(y, x, p);
    return DISPATCH(y, avg_pool2d_forward, y, x, p);
}

gc_status gc_avg_pool2d_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_pool_params *p)
{
    check_pool(dy, dx, p);
    return DISPATCH(dx, avg_pool2d_backward, dx, dy, p);
}

gc_status gc_global_avg_pool_forward(const gc_tensor *y, const gc_tensor *x)
{
    CHECK(x->ndim == 4 && numel(y) == GC_N(x) * GC_C(x));
    SAME_BE(y, x);
    return DISPATCH(y, global_avg_pool_forward, y, x);
}

gc_status gc_global_avg_pool_backward(const gc_tensor *dx, const gc_tensor *dy)
{
    CHECK(dx->ndim == 4 && numel(dy) == GC_N(dx) * GC_C(dx));
    SAME_BE(dy, dx);
    return DISPATCH(dx, global_avg_pool_backward, dx, dy);
}

/* ---- concat ------------------------------------------------------------- */

static void check_concat(const gc_tensor *y, const gc_tensor *xs, int count)
{
    CHECK(count >= 1 && y->ndim == 4);
    int64_t c = 0;
    for (int i = 0; i < count; i++) {
        CHECK(xs[i].ndim == 4 && GC_N(&xs[i]) == GC_N(y) && GC_H(&xs[i]) == GC_H(y) &&
              GC_W(&xs[i]) == GC_W(y));
        c += GC_C(&xs[i]);
    }
    CHECK(c == GC_C(y));
}

gc_status gc_concat_forward(const gc_tensor *y, const gc_tensor *xs, int count)
{
    check_concat(y, xs, count);
    int64_t c0 = 0;
    for (int i = 0; i < count; i++) {
        SAME_BE(y, &xs[i]);
        GC_TRY(DISPATCH(y, channel_copy, y, &xs[i], c0, 1));
        c0 += GC_C(&xs[i]);
    }
    return GC_OK;
}

gc_status gc_concat_backward(const gc_tensor *dxs, int count, const gc_tensor *dy)
{
    check_concat(dy, dxs, count);
    int64_t c0 = 0;
    for (int i = 0; i < count; i++) {
        if (dxs[i].buf) {
            SAME_BE(dy, &dxs[i]);
            GC_TRY(DISPATCH(dy, channel_copy, dy, &dxs[i], c0, 0));
        }
        c0 += GC_C(&dxs[i]);
    }
    return GC_OK;
}

gc_status gc_resize_bilinear_forward(const gc_tensor *y, const gc_tensor *x)
{
    CHECK(x->ndim == 4 && y->ndim == 4 && GC_N(x) == GC_N(y) && GC_C(x) == GC_C(y));
    SAME_BE(y, x);
    return DISPATCH(y, resize_bilinear_forward, y, x);
}

/* ---- channels-last inference ------------------------------------------- */

gc_status gc_conv2d_nhwc_forward(const gc_tensor *y, int64_t c0, const gc_tensor *x,
                                 const gc_tensor *w, const gc_tensor *b, const gc_conv_params *p,
                                 int relu)
{
    CHECK(p->stride_h >= 1 && p->stride_w >= 1 && p->pad_h >= 0 && p->pad_w >= 0);
    CHECK(x->ndim == 4 && y->ndim == 4 && w->ndim == 4);
    SAME_BE(y, x);
    SAME_BE(y, w);
    int kh = (int)w->shape[0], kw = (int)w->shape[1];
    int64_t oc = w->shape[3];
    CHECK(w->shape[2] == x->shape[3] && x->shape[0] == y->shape[0]);
    CHECK(c0 >= 0 && c0 + oc <= y->shape[3]);
    CHECK(y->shape[1] == gc_conv_out_size(x->shape[1], kh, p->stride_h, p->pad_h));
    CHECK(y->shape[2] == gc_conv_out_size(x->shape[2], kw, p->stride_w, p->pad_w));
    CHECK(y->shape[1] >= 1 && y->shape[2] >= 1);
    if (b) {
        SAME_BE(y, b);
        CHECK(numel(b) == oc);
    }
    return DISPATCH(y, conv2d_nhwc_forward, y, c0, x, w, b, p, relu);
}

gc_status gc_pool2d_nhwc_forward(const gc_tensor *y, int64_t c0, const gc_tensor *x,
                                 const gc_pool_params *p, int max)
{
    CHECK(x->ndim == 4 && y->ndim == 4);
    SAME_BE(y, x);
    CHECK(p->kernel_h >= 1 && p->kernel_w >= 1 && p->stride_h >= 1 && p->stride_w >= 1);
    CHECK(p->pad_h >= 0 && p->pad_w >= 0 && 2 * p->pad_h <= p->kernel_h &&
          2 * p->pad_w <= p->kernel_w);
    CHECK(x->shape[0] == y->shape[0] && c0 >= 0 && c0 + x->shape[3] <= y->shape[3]);
    CHECK(y->shape[1] == gc_conv_out_size(x->shape[1], p->kernel_h, p->stride_h, p->pad_h));
    CHECK(y->shape[2] == gc_conv_out_size(x->shape[2], p->kernel_w, p->stride_w, p->pad_w));
    CHECK(y->shape[1] >= 1 && y->shape[2] >= 1);
    return DISPATCH(y, pool2d_nhwc_forward, y, c0, x, p, max);
}

gc_status gc_nhwc_layout(const gc_tensor *y, const gc_tensor *x, int to_nhwc)
{
    CHECK(x->ndim == 4 && y->ndim == 4);
    SAME_BE(y, x);
    CHECK(y->shape[0] == x->shape[0]);
    if (to_nhwc)
        CHECK(y->shape[1] == x->shape[2] && y->shape[2] == x->shape[3] &&
              y->shape[3] == x->shape[1]);
    else
        CHECK(y->shape[1] == x->shape[3] && y->shape[2] == x->shape[1] &&
              y->shape[3] == x->shape[2]);
    return DISPATCH(y, nhwc_layout, y, x, to_nhwc);
}

/* ---- loss, optimiser, rng ---------------------------------------------- */

gc_status gc_bce_logits_forward(const gc_tensor *loss, const gc_tensor *z, float target)
{
    CHECK(numel(loss) == 1);
    SAME_BE(loss, z);
    return DISPATCH(z, bce_logits_forward, loss, z, target);
}

gc_status gc_bce_logits_backward(const gc_tensor *dz, const gc_tensor *z, float target, float scale)
{
    CHECK(numel(dz) == numel(z));
    SAME_BE(dz, z);
    return DISPATCH(z, bce_logits_backward, dz, z, target, scale);
}

/* Label values are checked by the backends (see gancl/ops.h): reading
 * device labels here would stall the queue on every training step. */
gc_status gc_softmax_ce_forward(const gc_tensor *loss, const gc_tensor *correct, const gc_tensor *z,
                                const gc_tensor *labels)
{
    CHECK(z->ndim == 2 && z->shape[0] >= 1 && z->shape[1] >= 1);
    CHECK(numel(labels) == z->shape[0]);
    CHECK(numel(loss) == 1);
    SAME_BE(loss, z);
    SAME_BE(labels, z);
    if (correct) {
        CHECK(numel(correct) == 1);
        SAME_BE(correct, z);
    }
    return DISPATCH(z, softmax_ce_forward, loss, correct, z, labels);
}

gc_status gc_softmax_ce_backward(const gc_tensor *dz, const gc_tensor *z, const gc_tensor *labels,
                                 float scale)
{
    CHECK(z->ndim == 2 && z->shape[0] >= 1 && z->shape[1] >= 1);
    CHECK(numel(labels) == z->shape[0]);
    CHECK(numel(dz) == numel(z));
    SAME_BE(dz, z);
    SAME_BE(labels, z);
    return DISPATCH(z, softmax_ce_backward, dz, z, labels, scale);
}

/* ---- class conditioning ------------------------------------------------ */

/* The table is (K, F); labels have one entry per row of t, whose numel is
 * N * per_row (t seen as N rows flattened per sample).  Label values are
 * the backends' to check, as for softmax cross-entropy. */
static void check_class(const gc_tensor *t, int64_t per_row, const gc_tensor *table,
                        const gc_tensor *labels)
{
    CHECK(table->ndim == 2 && table->shape[0] >= 1 && table->shape[1] >= 1);
    CHECK(t->ndim >= 1 && t->shape[0] >= 1);
    CHECK(numel(labels) == t->shape[0]);
    CHECK(numel(t) == t->shape[0] * per_row);
    SAME_BE(t, table);
    SAME_BE(t, labels);
}

gc_status gc_class_embed_forward(const gc_tensor *y, const gc_tensor *e, const gc_tensor *labels)
{
    check_class(y, e->shape[1], e, labels);
    return DISPATCH(y, class_embed_forward, y, e, labels);
}

gc_status gc_class_embed_backward(const gc_tensor *de, const gc_tensor *dy, const gc_tensor *labels)
{
    check_class(dy, de->shape[1], de, labels);
    return DISPATCH(dy, class_embed_backward, de, dy, labels);
}

/* y is (N) or (N, 1); x (N, ...) holds F = e's columns per sample. */
gc_status gc_class_project_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *e,
                                   const gc_tensor *labels)
{
    check_class(x, e->shape[1], e, labels);
    check_class(y, 1, e, labels);
    CHECK(y->shape[0] == x->shape[0]);
    return DISPATCH(y, class_project_forward, y, x, e, labels);
}

gc_status gc_class_project_backward(const gc_tensor *dx, const gc_tensor *de, const gc_tensor *dy,
                                    const gc_tensor *x, const gc_tensor *e, const gc_tensor *labels)
{
    check_class(x, e->shape[1], e, labels);
    check_class(dy, 1, e, labels);
    CHECK(dy->shape[0] == x->shape[0]);
    CHECK(gc_tensor_same_shape(de, e));
    SAME_BE(de, e);
    if (dx) {
        CHECK(numel(dx) == numel(x) && dx->shape[0] == x->shape[0]);
        SAME_BE(dx, x);
    }
    return DISPATCH(x, class_project_backward, dx, de, dy, x, e, labels);
}

/* ---- against mode collapse --------------------------------------------- */

gc_status gc_hinge_forward(const gc_tensor *loss, const gc_tensor *z, gc_hinge_term term)
{
    CHECK(numel(loss) == 1 && numel(z) >= 1);
    CHECK(term == GC_HINGE_REAL || term == GC_HINGE_FAKE || term == GC_HINGE_GEN);
    SAME_BE(loss, z);
    return DISPATCH(z, hinge_forward, loss, z, term);
}

gc_status gc_hinge_backward(const gc_tensor *dz, const gc_tensor *z, gc_hinge_term term,
                            float scale)
{
    CHECK(numel(dz) == numel(z) && numel(z) >= 1);
    CHECK(term == GC_HINGE_REAL || term == GC_HINGE_FAKE || term == GC_HINGE_GEN);
    SAME_BE(dz, z);
    return DISPATCH(z, hinge_backward, dz, z, term, scale);
}

/* y (N, C + 1, H, W) against x (N, C, H, W), G dividing N. */
static void check_mbstd(const gc_tensor *y, const gc_tensor *x, int group)
{
    CHECK(x->ndim == 4 && y->ndim == 4);
    CHECK(GC_N(y) == GC_N(x) && GC_C(y) == GC_C(x) + 1 && GC_H(y) == GC_H(x) && GC_W(y) == GC_W(x));
    CHECK(numel(x) >= 1);
    CHECK(group >= 1 && GC_N(x) % group == 0);
    SAME_BE(y, x);
}

gc_status gc_mbstd_forward(const gc_tensor *y, const gc_tensor *x, int group)
{
    check_mbstd(y, x, group);
    return DISPATCH(x, mbstd_forward, y, x, group);
}

gc_status gc_mbstd_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_tensor *x, int group)
{
    check_mbstd(dy, x, group);
    CHECK(gc_tensor_same_shape(dx, x));
    SAME_BE(dx, x);
    return DISPATCH(x, mbstd_backward, dx, dy, x, group);
}

/* u has W's rows, v its columns (w seen as (shape[0], numel / shape[0])). */
static void check_sn(const gc_tensor *w, const gc_tensor *u, const gc_tensor *v,
                     const gc_tensor *sigma)
{
    CHECK(w->ndim >= 1 && w->shape[0] >= 1 && numel(w) >= 1);
    CHECK(numel(u) == w->shape[0]);
    CHECK(numel(v) == numel(w) / w->shape[0]);
    CHECK(numel(sigma) == 1);
    SAME_BE(w, u);
    SAME_BE(w, v);
    SAME_BE(w, sigma);
}

gc_status gc_spectral_norm_forward(const gc_tensor *w_sn, const gc_tensor *u, const gc_tensor *v,
                                   const gc_tensor *sigma, const gc_tensor *w, int iters)
{
    check_sn(w, u, v, sigma);
    CHECK(iters >= 1);
    if (w_sn) {
        CHECK(numel(w_sn) == numel(w));
        SAME_BE(w_sn, w);
    }
    return DISPATCH(w, spectral_norm_forward, w_sn, u, v, sigma, w, iters);
}

gc_status gc_spectral_norm_backward(const gc_tensor *dw, const gc_tensor *dw_sn, const gc_tensor *w,
                                    const gc_tensor *u, const gc_tensor *v, const gc_tensor *sigma)
{
    check_sn(w, u, v, sigma);
    CHECK(numel(dw) == numel(w) && numel(dw_sn) == numel(w));
    SAME_BE(dw, w);
    SAME_BE(dw_sn, w);
    return DISPATCH(w, spectral_norm_backward, dw, dw_sn, w, u, v, sigma);
}

gc_status gc_ema_update(const gc_tensor *avg, const gc_tensor *x, float decay)
{
    CHECK(numel(avg) == numel(x));
    SAME_BE(avg, x);
    return DISPATCH(avg, ema_update, avg, x, decay);
}

/* out and in (N, C, H, W) of one shape, not overlapping; r (N, 7). */
static void check_diffaug(const gc_tensor *out, const gc_tensor *in, const gc_tensor *r, int policy)
{
    CHECK(in->ndim == 4 && numel(in) >= 1);
    CHECK(gc_tensor_same_shape(out, in));
    CHECK(numel(r) == GC_N(in) * GC_DIFFAUG_PARAMS && r->shape[0] == GC_N(in));
    CHECK((policy & ~(GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT)) == 0);
    CHECK(out->buf != in->buf || out->off + (size_t)numel(out) <= in->off ||
          in->off + (size_t)numel(in) <= out->off);
    SAME_BE(out, in);
    SAME_BE(r, in);
}

gc_status gc_diffaug_forward(const gc_tensor *y, const gc_tensor *x, const gc_tensor *r, int policy)
{
    check_diffaug(y, x, r, policy);
    return DISPATCH(x, diffaug_forward, y, x, r, policy);
}

gc_status gc_diffaug_backward(const gc_tensor *dx, const gc_tensor *dy, const gc_tensor *r,
                              int policy)
{
    check_diffaug(dx, dy, r, policy);
    return DISPATCH(dy, diffaug_backward, dx, dy, r, policy);
}

gc_status gc_adam_update(const gc_tensor *param, const gc_tensor *grad, const gc_tensor *m,
                         const gc_tensor *v, const gc_adam_params *p)
{
    int64_t n = numel(param);
    CHECK(numel(grad) == n && numel(m) == n && numel(v) == n);
    CHECK(p->step >= 1);
    SAME_BE(param, grad);
    SAME_BE(param, m);
    SAME_BE(param, v);
    return DISPATCH(param, adam_update, param, grad, m, v, p);
}

gc_status gc_rng_uniform(const gc_tensor *y, gc_rng *rng, float lo, float hi)
{
    gc_status s = DISPATCH(y, rng_fill, y, rng->seed, rng->offset, 0, lo, hi);
    rng->offset += (uint64_t)numel(y);
    return s;
}

gc_status gc_rng_normal(const gc_tensor *y, gc_rng *rng, float mean, float std)
{
    gc_status s = DISPATCH(y, rng_fill, y, rng->seed, rng->offset, 1, mean, std);
    rng->offset += (uint64_t)numel(y);
    return s;
}

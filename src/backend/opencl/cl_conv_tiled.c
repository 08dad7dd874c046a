/* src/backend/opencl/cl_conv_tiled.c - conv2d, conv_transpose2d and the
 * channels-last forward for the GPU family: each pass one implicit GEMM
 * on cl/tiled.cl (cl_tiled.h), reading NCHW (or NHWC) tensors in place.
 *
 * As in cl_conv.c, both ops are one convolution from an "image" side to
 * an "output" side with weights (OC, C, KH, KW) as (output-side channels,
 * image-side channels, taps):
 *
 *   conv2d            image = x, output = y
 *   conv_transpose2d  image = y, output = x
 *
 * and there are three passes, each a mode of the tiled kernel:
 *
 *   FWD    output = im2col(image) x W^T (+ bias)    conv2d forward,
 *                                                   conv_transpose2d dx
 *   DGRAD  image = col2im(output x W) (+ bias)      conv2d dx,
 *                                                   conv_transpose2d forward
 *   WGRAD  dW += output^T x im2col(image)           both weight gradients
 *
 * No workspace, no transposes and no chunks of the batch: the kernels
 * gather the operands' tiles themselves.  Bias gradients are the work-
 * group reduction of cl_elementwise.c.
 */
#include "backend/opencl/cl_conv_tiled.h"

#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "backend/opencl/cl_tiled.h"
#include "util/error.h"

static gc_cl_mat whole(const gc_tensor *t)
{
    return gc_cl_mat_rows(gc_cl_mem(t), (int64_t)t->off, 1);
}

/* output (N, OC, OH, OW) = im2col(image) x W^T (+ b): w as (OC, K) rows. */
static gc_status pass_fwd(const gc_tensor *output, const gc_tensor *image, const gc_tensor *w,
                          const gc_tensor *b, const gc_cl_conv_geom *g)
{
    int64_t k = gc_cl_conv_k(g), ohw = g->oh * g->ow;
    gc_cl_mat a = whole(image), bw = gc_cl_mat_t(gc_cl_mem(w), (int64_t)w->off, k);
    gc_cl_mat c = gc_cl_mat_nchw(gc_cl_mem(output), (int64_t)output->off, g->oc, ohw);
    return gc_cl_tiled(output->be, GC_CL_TL_FWD, g->n * ohw, g->oc, k, 1.0f, 0.0f, &a, &bw, &c, b,
                       0, g);
}

/* image (N, C, H, W) = col2im(output x W) (+ b). */
static gc_status pass_dgrad(const gc_tensor *image, const gc_tensor *output, const gc_tensor *w,
                            const gc_tensor *b, const gc_cl_conv_geom *g)
{
    gc_cl_mat a = whole(output), bw = whole(w), c = whole(image);
    c.cs = g->ih * g->iw;
    return gc_cl_tiled(image->be, GC_CL_TL_DGRAD, g->n, g->ic, 0, 1.0f, 0.0f, &a, &bw, &c, b, 0, g);
}

/* dW (OC, K) += output^T x im2col(image). */
static gc_status pass_wgrad(const gc_tensor *dw, const gc_tensor *output, const gc_tensor *image,
                            const gc_cl_conv_geom *g)
{
    int64_t k = gc_cl_conv_k(g);
    gc_cl_mat a = whole(output), bx = whole(image);
    gc_cl_mat c = gc_cl_mat_rows(gc_cl_mem(dw), (int64_t)dw->off, k);
    return gc_cl_tiled(dw->be, GC_CL_TL_WGRAD, g->oc, k, g->n * g->oh * g->ow, 1.0f, 1.0f, &a, &bx,
                       &c, NULL, 0, g);
}

/* db[c] += sum over n, p of d[n][c][p]. */
static gc_status bias_grad(const gc_tensor *db, const gc_tensor *d)
{
    int64_t hw = GC_H(d) * GC_W(d);
    return gc_cl_reduce_sum(db, d, GC_C(d), hw, GC_N(d) * hw, hw, GC_C(d) * hw, 1.0f, 1);
}

gc_status gc_cl_tiled_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    GC_TRY(gc_cl_conv_check(x, y, w));
    gc_cl_conv_geom g = gc_cl_conv_geom_nchw(x, y, w, p);
    return pass_fwd(y, x, w, b, &g);
}

gc_status gc_cl_tiled_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                      const gc_conv_params *p)
{
    GC_TRY(gc_cl_conv_check(x, dy, w));
    gc_cl_conv_geom g = gc_cl_conv_geom_nchw(x, dy, w, p);
    if (db) GC_TRY(bias_grad(db, dy));
    GC_TRY(pass_wgrad(dw, dy, x, &g));
    return dx ? pass_dgrad(dx, dy, w, NULL, &g) : GC_OK;
}

gc_status gc_cl_tiled_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b,
                                               const gc_conv_params *p)
{
    GC_TRY(gc_cl_conv_check(y, x, w));
    gc_cl_conv_geom g = gc_cl_conv_geom_nchw(y, x, w, p); /* image = y, output = x */
    return pass_dgrad(y, x, w, b, &g);
}

gc_status gc_cl_tiled_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                                const gc_conv_params *p)
{
    GC_TRY(gc_cl_conv_check(dy, x, w));
    gc_cl_conv_geom g = gc_cl_conv_geom_nchw(dy, x, w, p); /* image = dy, output = x */
    if (db) GC_TRY(bias_grad(db, dy));
    GC_TRY(pass_wgrad(dw, x, dy, &g));
    return dx ? pass_fwd(dx, dy, w, NULL, &g) : GC_OK;
}

/* Channels-last: x (N, H, W, C), w (KH, KW, C, OC) rows of OC, y's channels
 * [c0, c0 + OC) of (N, OH, OW, CY), bias and ReLU in the epilogue.  A 1x1
 * stride-1 convolution is a plain GEMM on x's rows. */
gc_status gc_cl_tiled_conv2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, gc_t w, gc_t b,
                                          const gc_conv_params *p, int relu)
{
    gc_backend *be = y->be;
    GC_TRY(gc_cl_conv_check(x, y, w));
    gc_cl_conv_geom g = gc_cl_conv_geom_nhwc(x, y, w, p);
    int64_t rows = g.n * g.oh * g.ow, k = g.ic * g.kh * g.kw, cy = y->shape[3];
    gc_cl_mat bw = gc_cl_mat_rows(gc_cl_mem(w), (int64_t)w->off, g.oc);
    gc_cl_mat c = gc_cl_mat_rows(gc_cl_mem(y), (int64_t)y->off + c0, cy);
    if (g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0) {
        gc_cl_mat a = gc_cl_mat_rows(gc_cl_mem(x), (int64_t)x->off, g.ic);
        return gc_cl_tiled(be, GC_CL_TL_GEMM, rows, g.oc, k, 1.0f, 0.0f, &a, &bw, &c, b, relu,
                           NULL);
    }
    gc_cl_mat a = whole(x);
    return gc_cl_tiled(be, GC_CL_TL_NHWC, rows, g.oc, k, 1.0f, 0.0f, &a, &bw, &c, b, relu, &g);
}

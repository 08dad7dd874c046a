/* src/backend/opencl/cl_conv.c - conv2d and conv_transpose2d on OpenCL via
 * im2col + one large GEMM per chunk of images (kernels in cl/conv.cl).
 *
 * Both ops are described as a plain convolution from an "image" side to an
 * "output" side with weights viewed as [out channels][image channels*KH*KW]:
 *
 *   conv2d            image = x, output = y, w (OC, C, KH, KW)
 *   conv_transpose2d  image = y, output = x, w (C, OC, KH, KW)
 *
 * so a transposed convolution's forward pass is a convolution's
 * backward-data pass and vice versa.  With K = image channels*KH*KW and
 * cols = nb*OH*OW (output side extent) the passes are:
 *
 *   forward       col = im2col(image);  Ocn[oc][cols] = W x col
 *   backward-data dcol = W^T x dOcn;    image = col2im(dcol)
 *   weight grad   dW += dOcn x col^T    (beta = 1, also across chunks)
 *
 * The workspace holds col and the CN-layout output for nb images; when a
 * whole batch would need more than gc_cl_workspace_limit(), the batch is
 * processed in chunks of nb images.
 */
#include <limits.h>

#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

typedef struct conv_geom {
    int64_t n;          /* batch */
    int64_t c, h, w;    /* image side */
    int64_t oc, oh, ow; /* output side */
    int kh, kw, sh, sw, ph, pw;
} conv_geom;

static int64_t geom_k(const conv_geom *g)
{
    return g->c * g->kh * g->kw;
}
static int64_t geom_ohw(const conv_geom *g)
{
    return g->oh * g->ow;
}

static conv_geom geom_make(const gc_tensor *image, const gc_tensor *output, const gc_tensor *w,
                           const gc_conv_params *p)
{
    conv_geom g = {
        .n = GC_N(image),
        .c = GC_C(image),
        .h = GC_H(image),
        .w = GC_W(image),
        .oc = GC_C(output),
        .oh = GC_H(output),
        .ow = GC_W(output),
        .kh = (int)w->shape[2],
        .kw = (int)w->shape[3],
        .sh = p->stride_h,
        .sw = p->stride_w,
        .ph = p->pad_h,
        .pw = p->pad_w,
    };
    return g;
}

/* Sizes every kernel indexes with int. */
static gc_status geom_check(const conv_geom *g, const gc_tensor *image, const gc_tensor *output,
                            const gc_tensor *w)
{
    GC_TRY(gc_cl_check_int(gc_tensor_numel(image), "conv: image elements"));
    GC_TRY(gc_cl_check_int(gc_tensor_numel(output), "conv: output elements"));
    GC_TRY(gc_cl_check_int(gc_tensor_numel(w), "conv: weight elements"));
    return gc_cl_check_int(geom_k(g), "conv: im2col rows");
}

/* The chunk size nb for a pass needing per_image workspace floats per
 * image, and the workspace itself. */
static gc_status plan_chunks(gc_backend *be, const conv_geom *g, int64_t per_image, int64_t *nb,
                             cl_mem *ws)
{
    int64_t limit = (int64_t)(gc_cl_workspace_limit(be) / sizeof(float));
    if (limit > INT_MAX) limit = INT_MAX; /* kernels index the workspace with int */
    int64_t k = limit / per_image;
    if (k < 1) k = 1;
    if (k > g->n) k = g->n;
    /* Fails only when one image alone is too large. */
    GC_TRY(gc_cl_check_int(k * per_image, "conv: workspace floats"));
    *nb = k;
    return gc_cl_workspace(be, (size_t)(k * per_image) * sizeof(float), ws);
}

static gc_status im2col(gc_backend *be, cl_mem col, int64_t col_off, const gc_tensor *image,
                        int64_t n0, int64_t nb, const conv_geom *g)
{
    int64_t total = geom_k(g) * nb * geom_ohw(g);
    gc_cl_call c = gc_cl_begin(be, "conv_im2col");
    gc_cl_arg_mem(&c, col, (int)col_off);
    gc_cl_arg_tensor(&c, image);
    gc_cl_arg_int(&c, (int)n0);
    gc_cl_arg_int(&c, (int)nb);
    gc_cl_arg_int(&c, (int)g->c);
    gc_cl_arg_int(&c, (int)g->h);
    gc_cl_arg_int(&c, (int)g->w);
    gc_cl_arg_int(&c, (int)g->oh);
    gc_cl_arg_int(&c, (int)g->ow);
    gc_cl_arg_int(&c, g->kh);
    gc_cl_arg_int(&c, g->kw);
    gc_cl_arg_int(&c, g->sh);
    gc_cl_arg_int(&c, g->sw);
    gc_cl_arg_int(&c, g->ph);
    gc_cl_arg_int(&c, g->pw);
    gc_cl_arg_int(&c, (int)total);
    return gc_cl_run_1d(&c, (size_t)total);
}

static gc_status col2im(gc_backend *be, const gc_tensor *image, const gc_tensor *bias, cl_mem col,
                        int64_t col_off, int64_t n0, int64_t nb, const conv_geom *g)
{
    int64_t total = nb * g->c * g->h * g->w;
    gc_cl_call c = gc_cl_begin(be, "conv_col2im");
    gc_cl_arg_tensor(&c, image);
    gc_cl_arg_tensor(&c, bias);
    gc_cl_arg_int(&c, bias != NULL);
    gc_cl_arg_mem(&c, col, (int)col_off);
    gc_cl_arg_int(&c, (int)n0);
    gc_cl_arg_int(&c, (int)nb);
    gc_cl_arg_int(&c, (int)g->c);
    gc_cl_arg_int(&c, (int)g->h);
    gc_cl_arg_int(&c, (int)g->w);
    gc_cl_arg_int(&c, (int)g->oh);
    gc_cl_arg_int(&c, (int)g->ow);
    gc_cl_arg_int(&c, g->kh);
    gc_cl_arg_int(&c, g->kw);
    gc_cl_arg_int(&c, g->sh);
    gc_cl_arg_int(&c, g->sw);
    gc_cl_arg_int(&c, g->ph);
    gc_cl_arg_int(&c, g->pw);
    gc_cl_arg_int(&c, (int)total);
    return gc_cl_run_1d(&c, (size_t)total);
}

/* Images n0 .. n0+nb-1 of t (N, ch, hw) into dst[ch][nb*hw]. */
static gc_status to_cn(gc_backend *be, cl_mem dst, int64_t dst_off, const gc_tensor *t, int64_t n0,
                       int64_t nb, int64_t ch, int64_t hw)
{
    int64_t total = nb * ch * hw;
    gc_cl_call c = gc_cl_begin(be, "conv_nchw_to_cn");
    gc_cl_arg_mem(&c, dst, (int)dst_off);
    gc_cl_arg_tensor(&c, t);
    gc_cl_arg_int(&c, (int)n0);
    gc_cl_arg_int(&c, (int)nb);
    gc_cl_arg_int(&c, (int)ch);
    gc_cl_arg_int(&c, (int)hw);
    gc_cl_arg_int(&c, (int)total);
    return gc_cl_run_1d(&c, (size_t)total);
}

/* src[ch][nb*hw] (+ bias) into images n0 .. n0+nb-1 of t (N, ch, hw). */
static gc_status from_cn(gc_backend *be, const gc_tensor *t, const gc_tensor *bias, cl_mem src,
                         int64_t src_off, int64_t n0, int64_t nb, int64_t ch, int64_t hw)
{
    int64_t total = nb * ch * hw;
    gc_cl_call c = gc_cl_begin(be, "conv_cn_to_nchw");
    gc_cl_arg_tensor(&c, t);
    gc_cl_arg_tensor(&c, bias);
    gc_cl_arg_int(&c, bias != NULL);
    gc_cl_arg_mem(&c, src, (int)src_off);
    gc_cl_arg_int(&c, (int)n0);
    gc_cl_arg_int(&c, (int)nb);
    gc_cl_arg_int(&c, (int)ch);
    gc_cl_arg_int(&c, (int)hw);
    gc_cl_arg_int(&c, (int)total);
    return gc_cl_run_1d(&c, (size_t)total);
}

static gc_status gemm(gc_backend *be, int ta, int tb, int64_t m, int64_t n, int64_t k, float beta,
                      cl_mem a, size_t a_off, int64_t lda, cl_mem b, size_t b_off, int64_t ldb,
                      cl_mem c, size_t c_off, int64_t ldc)
{
    gc_gemm_args g = {ta, tb, m, n, k, 1.0f, beta, lda, ldb, ldc};
    return gc_cl_gemm_mem(be, &g, a, a_off, b, b_off, c, c_off);
}

/* db[c] += sum over n, p of dimage[n][c][p]: the bias of the image side
 * (conv_transpose2d) or output side (conv2d) is per channel of dy. */
static gc_status bias_grad(const gc_tensor *db, const gc_tensor *dy)
{
    int64_t hw = GC_H(dy) * GC_W(dy);
    return gc_cl_reduce_sum(db, dy, GC_C(dy), hw, GC_N(dy) * hw, hw, GC_C(dy) * hw, 1.0f, 1);
}

/* ---- conv2d ----------------------------------------------------------------- */

gc_status gc_cl_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    gc_backend *be = y->be;
    conv_geom g = geom_make(x, y, w, p);
    GC_TRY(geom_check(&g, x, y, w));
    int64_t k = geom_k(&g), ohw = geom_ohw(&g), nb;
    cl_mem ws, wm = gc_cl_mem(w);
    GC_TRY(plan_chunks(be, &g, (k + g.oc) * ohw, &nb, &ws));
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb, cols = cnt * ohw;
        size_t col_off = 0, ycn_off = (size_t)(k * cols);
        GC_TRY(im2col(be, ws, (int64_t)col_off, x, n0, cnt, &g));
        GC_TRY(gemm(be, 0, 0, g.oc, cols, k, 0.0f, wm, w->off, k, ws, col_off, cols, ws, ycn_off,
                    cols));
        GC_TRY(from_cn(be, y, b, ws, (int64_t)ycn_off, n0, cnt, g.oc, ohw));
    }
    return GC_OK;
}

gc_status gc_cl_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                const gc_conv_params *p)
{
    gc_backend *be = dy->be;
    conv_geom g = geom_make(x, dy, w, p);
    GC_TRY(geom_check(&g, x, dy, w));
    if (db) GC_TRY(bias_grad(db, dy));
    int64_t k = geom_k(&g), ohw = geom_ohw(&g), nb;
    cl_mem ws, wm = gc_cl_mem(w), dwm = gc_cl_mem(dw);
    GC_TRY(plan_chunks(be, &g, (k + g.oc) * ohw, &nb, &ws));
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb, cols = cnt * ohw;
        size_t col_off = 0, dycn_off = (size_t)(k * cols);
        GC_TRY(im2col(be, ws, (int64_t)col_off, x, n0, cnt, &g));
        GC_TRY(to_cn(be, ws, (int64_t)dycn_off, dy, n0, cnt, g.oc, ohw));
        /* dW[oc][k] += dYcn[oc][cols] x col[k][cols]^T */
        GC_TRY(gemm(be, 0, 1, g.oc, k, cols, 1.0f, ws, dycn_off, cols, ws, col_off, cols, dwm,
                    dw->off, k));
        if (!dx) continue;
        /* dcol[k][cols] = W[oc][k]^T x dYcn, over col (already consumed). */
        GC_TRY(gemm(be, 1, 0, k, cols, g.oc, 0.0f, wm, w->off, k, ws, dycn_off, cols, ws, col_off,
                    cols));
        GC_TRY(col2im(be, dx, NULL, ws, (int64_t)col_off, n0, cnt, &g));
    }
    return GC_OK;
}

/* ---- conv_transpose2d ------------------------------------------------------ */

gc_status gc_cl_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    gc_backend *be = y->be;
    conv_geom g = geom_make(y, x, w, p); /* image = y, output = x */
    GC_TRY(geom_check(&g, y, x, w));
    int64_t k = geom_k(&g), ohw = geom_ohw(&g), nb;
    cl_mem ws, wm = gc_cl_mem(w);
    GC_TRY(plan_chunks(be, &g, (k + g.oc) * ohw, &nb, &ws));
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb, cols = cnt * ohw;
        size_t col_off = 0, xcn_off = (size_t)(k * cols);
        GC_TRY(to_cn(be, ws, (int64_t)xcn_off, x, n0, cnt, g.oc, ohw));
        /* col[k][cols] = W[C][k]^T x Xcn[C][cols] */
        GC_TRY(gemm(be, 1, 0, k, cols, g.oc, 0.0f, wm, w->off, k, ws, xcn_off, cols, ws, col_off,
                    cols));
        GC_TRY(col2im(be, y, b, ws, (int64_t)col_off, n0, cnt, &g));
    }
    return GC_OK;
}

gc_status gc_cl_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                          const gc_conv_params *p)
{
    gc_backend *be = dy->be;
    conv_geom g = geom_make(dy, x, w, p); /* image = dy, output = x */
    GC_TRY(geom_check(&g, dy, x, w));
    if (db) GC_TRY(bias_grad(db, dy));
    int64_t k = geom_k(&g), ohw = geom_ohw(&g), nb;
    cl_mem ws, wm = gc_cl_mem(w), dwm = gc_cl_mem(dw);
    int64_t per_image = (k + g.oc + (dx ? g.oc : 0)) * ohw;
    GC_TRY(plan_chunks(be, &g, per_image, &nb, &ws));
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb, cols = cnt * ohw;
        size_t col_off = 0, xcn_off = (size_t)(k * cols),
               dxcn_off = xcn_off + (size_t)(g.oc * cols);
        GC_TRY(im2col(be, ws, (int64_t)col_off, dy, n0, cnt, &g));
        GC_TRY(to_cn(be, ws, (int64_t)xcn_off, x, n0, cnt, g.oc, ohw));
        /* dW[C][k] += Xcn[C][cols] x col[k][cols]^T */
        GC_TRY(gemm(be, 0, 1, g.oc, k, cols, 1.0f, ws, xcn_off, cols, ws, col_off, cols, dwm,
                    dw->off, k));
        if (!dx) continue;
        /* dXcn[C][cols] = W[C][k] x col[k][cols]: the forward of a conv2d. */
        GC_TRY(gemm(be, 0, 0, g.oc, cols, k, 0.0f, wm, w->off, k, ws, col_off, cols, ws, dxcn_off,
                    cols));
        GC_TRY(from_cn(be, dx, NULL, ws, (int64_t)dxcn_off, n0, cnt, g.oc, ohw));
    }
    return GC_OK;
}

/* src/backend/opencl/cl_conv.c - conv2d and conv_transpose2d on OpenCL in
 * the CPU family: im2row + one GEMM per pass and chunk of images (kernels
 * in cl/conv.cl), and the channels-last forward used for inference (at the
 * end: direct kernel, GEMM on the input itself, or im2row + GEMM per layer
 * shape).  The GPU family's forms are implicit GEMMs (cl_conv_tiled.c);
 * each entry point below hands over to them when the profile says gpu.
 *
 * Both ops are described as a plain convolution from an "image" side to an
 * "output" side with weights viewed as [out channels][image channels*KH*KW]:
 *
 *   conv2d            image = x, output = y, w (OC, C, KH, KW)
 *   conv_transpose2d  image = y, output = x, w (C, OC, KH, KW)
 *
 * so a transposed convolution's forward pass is a convolution's
 * backward-data pass and vice versa.  With K = KH*KW*C and rows =
 * nb*OH*OW (output-side pixels), every pass is a GEMM whose long side is
 * the pixels, the form gancl's GEMM runs fastest on a CPU:
 *
 *   forward       col = im2row(image rows);  O = col x W'^T (+ bias)
 *   backward-data dcol = dOr x W';           image = row2im(dcol)
 *   weight grad   dW' += dOr^T x col         (beta = 1, also across chunks)
 *
 * W' is W with taps before channels (permuted in, and dW' back out); "rows"
 * are a tensor transposed per image to pixels x channels (gc_cl_transpose).
 * The output side needs no transpose where the GEMM reads or writes it
 * through an NCHW view (gc_cl_mat_nchw): O above, and the forward of a
 * transposed convolution reads x that way.
 * A side with one channel is already in rows layout and is used as is.
 * The workspace holds the rows, col and W' for nb images; when a whole
 * batch would need more than gc_cl_workspace_limit(), the batch runs in
 * chunks of nb.
 */
#include <limits.h>
#include <stdlib.h>

#include "backend/opencl/cl_conv_direct.h"
#include "backend/opencl/cl_conv_tiled.h"
#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "backend/opencl/cl_tune.h"
#include "util/error.h"

/* The channels-last forward's im2row block: 8 Mi floats (32 MiB), which
 * stays in the last-level cache until the GEMM reads it. */
#define NHWC_COL_FLOATS ((int64_t)8 << 20)

/* The leading dimension of col and W' (both K wide).  K = C*KH*KW is a
 * multiple of 512 floats for every 4x4 layer with 32 or more channels, and
 * then the rows of a GEMM operand lie a multiple of 2 KiB apart: a tile
 * reading down K then touches one L1 set per row (a 12-way set holds
 * twelve), its B panel never stays in L1 for the next tile, and every row
 * starts a new page, where the hardware prefetcher stops.  A row 64 bytes
 * longer spreads them over all sets. */
static int64_t geom_ld(const gc_cl_conv_geom *g)
{
    int64_t k = gc_cl_conv_k(g);
    return g->ic > 1 && k % 512 == 0 ? k + 16 : k;
}

static int64_t geom_ohw(const gc_cl_conv_geom *g)
{
    return g->oh * g->ow;
}

gc_cl_conv_geom gc_cl_conv_geom_nchw(const gc_tensor *image, const gc_tensor *output,
                                     const gc_tensor *w, const gc_conv_params *p)
{
    return (gc_cl_conv_geom){.n = GC_N(image),
                             .ic = GC_C(image),
                             .ih = GC_H(image),
                             .iw = GC_W(image),
                             .oc = GC_C(output),
                             .oh = GC_H(output),
                             .ow = GC_W(output),
                             .kh = (int)w->shape[2],
                             .kw = (int)w->shape[3],
                             .sh = p->stride_h,
                             .sw = p->stride_w,
                             .ph = p->pad_h,
                             .pw = p->pad_w};
}

gc_cl_conv_geom gc_cl_conv_geom_nhwc(const gc_tensor *x, const gc_tensor *y, const gc_tensor *w,
                                     const gc_conv_params *p)
{
    return (gc_cl_conv_geom){.n = x->shape[0],
                             .ic = x->shape[3],
                             .ih = x->shape[1],
                             .iw = x->shape[2],
                             .oc = w->shape[3],
                             .oh = y->shape[1],
                             .ow = y->shape[2],
                             .kh = (int)w->shape[0],
                             .kw = (int)w->shape[1],
                             .sh = p->stride_h,
                             .sw = p->stride_w,
                             .ph = p->pad_h,
                             .pw = p->pad_w};
}

gc_status gc_cl_conv_check(const gc_tensor *image, const gc_tensor *output, const gc_tensor *w)
{
    GC_TRY(gc_cl_check_int(gc_tensor_numel(image), "conv: image elements"));
    GC_TRY(gc_cl_check_int(gc_tensor_numel(output), "conv: output elements"));
    return gc_cl_check_int(gc_tensor_numel(w), "conv: weight elements");
}

/* Sizes every kernel indexes with int. */
static gc_status geom_check(const gc_cl_conv_geom *g, const gc_tensor *image,
                            const gc_tensor *output, const gc_tensor *w)
{
    GC_TRY(gc_cl_conv_check(image, output, w));
    return gc_cl_check_int(gc_cl_conv_k(g), "conv: im2col rows");
}

/* The chunk size nb for a pass needing `fixed` workspace floats plus
 * per_image floats per image, and the workspace itself. */
static gc_status plan_chunks(gc_backend *be, const gc_cl_conv_geom *g, int64_t fixed,
                             int64_t per_image, int64_t *nb, cl_mem *ws)
{
    int64_t limit = (int64_t)(gc_cl_workspace_limit(be) / sizeof(float));
    if (limit > INT_MAX) limit = INT_MAX; /* kernels index the workspace with int */
    int64_t k = (limit - fixed) / per_image;
    if (k < 1) k = 1;
    if (k > g->n) k = g->n;
    /* Fails only when one image alone is too large. */
    GC_TRY(gc_cl_check_int(fixed + k * per_image, "conv: workspace floats"));
    *nb = k;
    return gc_cl_workspace(be, (size_t)(fixed + k * per_image) * sizeof(float), ws);
}

/* A place in device memory: a buffer and an offset in floats. */
typedef struct place {
    cl_mem m;
    int64_t off;
} place;

static place at(cl_mem m, int64_t off)
{
    place p = {m, off};
    return p;
}
static place tensor_at(const gc_tensor *t, int64_t off)
{
    return at(gc_cl_mem(t), (int64_t)t->off + off);
}

/* Images n0 .. n0+nb-1 of t (N, ch, hw) as rows [nb*hw][ch]: transposed
 * into dst, or t itself when it has one channel (the layouts coincide). */
static gc_status to_rows(gc_backend *be, place dst, const gc_tensor *t, int64_t n0, int64_t nb,
                         int64_t ch, int64_t hw, place *rows)
{
    if (ch == 1) {
        *rows = tensor_at(t, n0 * hw);
        return GC_OK;
    }
    *rows = dst;
    return gc_cl_transpose(be, dst.m, dst.off, ch, hw * ch, gc_cl_mem(t),
                           (int64_t)t->off + n0 * ch * hw, hw, ch * hw, NULL, 0, ch, hw, nb);
}

/* rows (image side) of nb images into col [nb*OH*OW][K]. */
static gc_status im2row(gc_backend *be, place col, place rows, int64_t nb, const gc_cl_conv_geom *g)
{
    gc_cl_call c = gc_cl_begin(be, "conv_im2row");
    gc_cl_arg_mem(&c, col.m, (int)col.off);
    gc_cl_arg_int(&c, (int)geom_ld(g));
    gc_cl_arg_mem(&c, rows.m, (int)rows.off);
    gc_cl_arg_int(&c, (int)g->ic);
    gc_cl_arg_int(&c, (int)g->ih);
    gc_cl_arg_int(&c, (int)g->iw);
    gc_cl_arg_int(&c, (int)g->oh);
    gc_cl_arg_int(&c, (int)g->ow);
    gc_cl_arg_int(&c, g->kh);
    gc_cl_arg_int(&c, g->kw);
    gc_cl_arg_int(&c, g->sh);
    gc_cl_arg_int(&c, g->sw);
    gc_cl_arg_int(&c, g->ph);
    gc_cl_arg_int(&c, g->pw);
    size_t global[3] = {(size_t)g->ow, (size_t)g->oh, (size_t)nb}, local[3] = {1, 1, 1};
    return gc_cl_run(&c, 3, global, local);
}

/* col [nb*OH*OW][K] summed back into image-side rows (+ bias); for an
 * image with one channel the rows are images n0 .. of the tensor itself,
 * otherwise they go to `rows` and are transposed into the tensor. */
static gc_status row2im(gc_backend *be, const gc_tensor *image, place rows, const gc_tensor *bias,
                        place col, int64_t n0, int64_t nb, const gc_cl_conv_geom *g)
{
    int64_t hw = g->ih * g->iw;
    if (g->ic == 1) rows = tensor_at(image, n0 * hw);
    gc_cl_call c = gc_cl_begin(be, "conv_row2im");
    gc_cl_arg_mem(&c, rows.m, (int)rows.off);
    gc_cl_arg_tensor(&c, bias);
    gc_cl_arg_int(&c, bias != NULL);
    gc_cl_arg_mem(&c, col.m, (int)col.off);
    gc_cl_arg_int(&c, (int)geom_ld(g));
    gc_cl_arg_int(&c, (int)g->ic);
    gc_cl_arg_int(&c, (int)g->ih);
    gc_cl_arg_int(&c, (int)g->iw);
    gc_cl_arg_int(&c, (int)g->oh);
    gc_cl_arg_int(&c, (int)g->ow);
    gc_cl_arg_int(&c, g->kh);
    gc_cl_arg_int(&c, g->kw);
    gc_cl_arg_int(&c, g->sh);
    gc_cl_arg_int(&c, g->sw);
    gc_cl_arg_int(&c, g->ph);
    gc_cl_arg_int(&c, g->pw);
    size_t global[3] = {(size_t)g->iw, (size_t)g->ih, (size_t)nb}, local[3] = {1, 1, 1};
    GC_TRY(gc_cl_run(&c, 3, global, local));
    if (g->ic == 1) return GC_OK;
    /* rows [nb*hw][C] -> images n0 .. of the NCHW tensor */
    return gc_cl_transpose(be, gc_cl_mem(image), (int64_t)image->off + n0 * g->ic * hw, hw,
                           g->ic * hw, rows.m, rows.off, g->ic, hw * g->ic, NULL, 0, hw, g->ic, nb);
}

/* W (O, C, KH, KW) as W' (O, KH, KW, C), the column order of col, rows
 * geom_ld apart: into dst, or W itself when C is 1. */
static gc_status permute_w(gc_backend *be, place dst, const gc_tensor *w, const gc_cl_conv_geom *g,
                           place *wp)
{
    int64_t o = w->shape[0], taps = (int64_t)g->kh * g->kw;
    if (g->ic == 1) {
        *wp = tensor_at(w, 0);
        return GC_OK;
    }
    *wp = dst;
    return gc_cl_transpose(be, dst.m, dst.off, g->ic, geom_ld(g), gc_cl_mem(w), (int64_t)w->off,
                           taps, g->ic * taps, NULL, 0, g->ic, taps, o);
}

/* dW (O, C, KH, KW) += dW' (O, KH, KW, C). */
static gc_status unpermute_grad_w(gc_backend *be, const gc_tensor *dw, place dwp,
                                  const gc_cl_conv_geom *g)
{
    int64_t o = dw->shape[0], taps = (int64_t)g->kh * g->kw;
    return gc_cl_transpose(be, gc_cl_mem(dw), (int64_t)dw->off, taps, g->ic * taps, dwp.m, dwp.off,
                           g->ic, taps * g->ic, NULL, 1, taps, g->ic, o);
}

/* Views for the GEMMs: a row-major matrix in the workspace, its
 * transpose, and images n0 .. of an NCHW tensor as rows of pixels. */
static gc_cl_mat mrows(place p, int64_t ld)
{
    return gc_cl_mat_rows(p.m, p.off, ld);
}
static gc_cl_mat mtrans(place p, int64_t ld)
{
    return gc_cl_mat_t(p.m, p.off, ld);
}
static gc_cl_mat mnchw(const gc_tensor *t, int64_t n0, int64_t ch, int64_t hw)
{
    return gc_cl_mat_nchw(gc_cl_mem(t), (int64_t)t->off + n0 * ch * hw, ch, hw);
}

static gc_status gemm(gc_backend *be, int64_t m, int64_t n, int64_t k, float beta, gc_cl_mat a,
                      gc_cl_mat b, gc_cl_mat c, const gc_tensor *bias)
{
    return gc_cl_gemm_ex(be, m, n, k, 1.0f, beta, &a, &b, &c, bias);
}

/* db[c] += sum over n, p of dimage[n][c][p]: the bias of the image side
 * (conv_transpose2d) or output side (conv2d) is per channel of dy. */
static gc_status bias_grad(const gc_tensor *db, const gc_tensor *dy)
{
    int64_t hw = GC_H(dy) * GC_W(dy);
    return gc_cl_reduce_sum(db, dy, GC_C(dy), hw, GC_N(dy) * hw, hw, GC_C(dy) * hw, 1.0f, 1);
}

/* Workspace floats of a weight-shaped buffer when W' differs from W. */
static int64_t w_floats(const gc_cl_conv_geom *g)
{
    return g->ic == 1 ? 0 : g->oc * geom_ld(g);
}

/* ---- conv2d ----------------------------------------------------------------- */

gc_status gc_cl_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    if (!gc_cl_cpu_forms(y->be)) return gc_cl_tiled_conv2d_forward(y, x, w, b, p);
    if (gc_cl_conv1_applies(y->be, GC_C(x), w->shape[2], w->shape[3]))
        return gc_cl_conv1_conv2d_forward(y, x, w, b, p);
    gc_backend *be = y->be;
    gc_cl_conv_geom g = gc_cl_conv_geom_nchw(x, y, w, p);
    GC_TRY(geom_check(&g, x, y, w));
    int64_t k = gc_cl_conv_k(&g), ld = geom_ld(&g), ohw = geom_ohw(&g), hw = g.ih * g.iw, nb;
    int64_t fixed = w_floats(&g), xr_img = g.ic == 1 ? 0 : hw * g.ic;
    cl_mem ws;
    GC_TRY(plan_chunks(be, &g, fixed, xr_img + ohw * ld, &nb, &ws));
    place wp;
    GC_TRY(permute_w(be, at(ws, 0), w, &g, &wp));
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb, rows = cnt * ohw;
        place xr, col = at(ws, fixed + cnt * xr_img);
        GC_TRY(to_rows(be, at(ws, fixed), x, n0, cnt, g.ic, hw, &xr));
        GC_TRY(im2row(be, col, xr, cnt, &g));
        /* y[rows][OC] (NCHW) = col[rows][K] x W'[OC][K]^T + b */
        GC_TRY(gemm(be, rows, g.oc, k, 0.0f, mrows(col, ld), mtrans(wp, ld),
                    mnchw(y, n0, g.oc, ohw), b));
    }
    return GC_OK;
}

gc_status gc_cl_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                const gc_conv_params *p)
{
    if (!gc_cl_cpu_forms(dy->be)) return gc_cl_tiled_conv2d_backward(dx, dw, db, dy, x, w, p);
    if (gc_cl_conv1_applies(dy->be, GC_C(x), w->shape[2], w->shape[3]))
        return gc_cl_conv1_conv2d_backward(dx, dw, db, dy, x, w, p);
    gc_backend *be = dy->be;
    gc_cl_conv_geom g = gc_cl_conv_geom_nchw(x, dy, w, p);
    GC_TRY(geom_check(&g, x, dy, w));
    if (db) GC_TRY(bias_grad(db, dy));
    int64_t k = gc_cl_conv_k(&g), ld = geom_ld(&g), ohw = geom_ohw(&g), hw = g.ih * g.iw, nb;
    int64_t wf = w_floats(&g), fixed = wf * (dx ? 2 : 1);
    int64_t xr_img = g.ic == 1 ? 0 : hw * g.ic, dyr_img = g.oc == 1 ? 0 : ohw * g.oc;
    cl_mem ws;
    GC_TRY(plan_chunks(be, &g, fixed, xr_img + ohw * ld + dyr_img, &nb, &ws));
    /* dW' accumulates in the workspace unless it is dW itself. */
    place dwp = g.ic == 1 ? tensor_at(dw, 0) : at(ws, 0), wp = {0};
    if (dx) GC_TRY(permute_w(be, at(ws, wf), w, &g, &wp));
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb, rows = cnt * ohw;
        place xr, dyr, col = at(ws, fixed + cnt * xr_img);
        GC_TRY(to_rows(be, at(ws, fixed), x, n0, cnt, g.ic, hw, &xr));
        GC_TRY(im2row(be, col, xr, cnt, &g));
        GC_TRY(to_rows(be, at(ws, col.off + rows * ld), dy, n0, cnt, g.oc, ohw, &dyr));
        /* dW'[OC][K] (+)= dYr[rows][OC]^T x col[rows][K] */
        float beta = g.ic == 1 || n0 > 0 ? 1.0f : 0.0f;
        GC_TRY(
            gemm(be, g.oc, k, rows, beta, mtrans(dyr, g.oc), mrows(col, ld), mrows(dwp, k), NULL));
        if (!dx) continue;
        /* dcol[rows][K] = dYr[rows][OC] x W'[OC][K], over col (consumed);
         * dx's rows over xr (consumed too). */
        GC_TRY(
            gemm(be, rows, k, g.oc, 0.0f, mrows(dyr, g.oc), mrows(wp, ld), mrows(col, ld), NULL));
        GC_TRY(row2im(be, dx, at(ws, fixed), NULL, col, n0, cnt, &g));
    }
    if (g.ic > 1) GC_TRY(unpermute_grad_w(be, dw, dwp, &g));
    return GC_OK;
}

/* ---- conv_transpose2d ------------------------------------------------------ */

gc_status gc_cl_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    if (!gc_cl_cpu_forms(y->be)) return gc_cl_tiled_conv_transpose2d_forward(y, x, w, b, p);
    if (gc_cl_conv1_applies(y->be, GC_C(y), w->shape[2], w->shape[3]))
        return gc_cl_conv1_conv_transpose2d_forward(y, x, w, b, p);
    gc_backend *be = y->be;
    gc_cl_conv_geom g = gc_cl_conv_geom_nchw(y, x, w, p); /* image = y, output = x */
    GC_TRY(geom_check(&g, y, x, w));
    int64_t k = gc_cl_conv_k(&g), ld = geom_ld(&g), ohw = geom_ohw(&g), hw = g.ih * g.iw, nb;
    int64_t fixed = w_floats(&g), yr_img = g.ic == 1 ? 0 : hw * g.ic;
    cl_mem ws;
    GC_TRY(plan_chunks(be, &g, fixed, ohw * ld + yr_img, &nb, &ws));
    place wp;
    GC_TRY(permute_w(be, at(ws, 0), w, &g, &wp));
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb, rows = cnt * ohw;
        place col = at(ws, fixed);
        /* col[rows][K] = x[rows][C] (NCHW) x W'[C][K] */
        GC_TRY(gemm(be, rows, k, g.oc, 0.0f, mnchw(x, n0, g.oc, ohw), mrows(wp, ld), mrows(col, ld),
                    NULL));
        GC_TRY(row2im(be, y, at(ws, col.off + rows * ld), b, col, n0, cnt, &g));
    }
    return GC_OK;
}

gc_status gc_cl_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                          const gc_conv_params *p)
{
    if (!gc_cl_cpu_forms(dy->be))
        return gc_cl_tiled_conv_transpose2d_backward(dx, dw, db, dy, x, w, p);
    if (gc_cl_conv1_applies(dy->be, GC_C(dy), w->shape[2], w->shape[3]))
        return gc_cl_conv1_conv_transpose2d_backward(dx, dw, db, dy, x, w, p);
    gc_backend *be = dy->be;
    gc_cl_conv_geom g = gc_cl_conv_geom_nchw(dy, x, w, p); /* image = dy, output = x */
    GC_TRY(geom_check(&g, dy, x, w));
    if (db) GC_TRY(bias_grad(db, dy));
    int64_t k = gc_cl_conv_k(&g), ld = geom_ld(&g), ohw = geom_ohw(&g), hw = g.ih * g.iw, nb;
    int64_t wf = w_floats(&g), fixed = wf * (dx ? 2 : 1);
    int64_t dyr_img = g.ic == 1 ? 0 : hw * g.ic, xr_img = g.oc == 1 ? 0 : ohw * g.oc;
    cl_mem ws;
    GC_TRY(plan_chunks(be, &g, fixed, dyr_img + ohw * ld + xr_img, &nb, &ws));
    place dwp = g.ic == 1 ? tensor_at(dw, 0) : at(ws, 0), wp = {0};
    if (dx) GC_TRY(permute_w(be, at(ws, wf), w, &g, &wp));
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb, rows = cnt * ohw;
        place dyr, xr, col = at(ws, fixed + cnt * dyr_img);
        GC_TRY(to_rows(be, at(ws, fixed), dy, n0, cnt, g.ic, hw, &dyr));
        GC_TRY(im2row(be, col, dyr, cnt, &g));
        GC_TRY(to_rows(be, at(ws, col.off + rows * ld), x, n0, cnt, g.oc, ohw, &xr));
        /* dW'[C][K] (+)= Xr[rows][C]^T x col[rows][K] */
        float beta = g.ic == 1 || n0 > 0 ? 1.0f : 0.0f;
        GC_TRY(
            gemm(be, g.oc, k, rows, beta, mtrans(xr, g.oc), mrows(col, ld), mrows(dwp, k), NULL));
        if (!dx) continue;
        /* dx[rows][C] (NCHW) = col[rows][K] x W'[C][K]^T: a conv2d's forward. */
        GC_TRY(gemm(be, rows, g.oc, k, 0.0f, mrows(col, ld), mtrans(wp, ld),
                    mnchw(dx, n0, g.oc, ohw), NULL));
    }
    if (g.ic > 1) GC_TRY(unpermute_grad_w(be, dw, dwp, &g));
    return GC_OK;
}

/* col floats per block of the channels-last forward (GANCL_NHWC_COL
 * overrides, for tuning). */
static int64_t nhwc_col_floats(void)
{
    const char *e = getenv("GANCL_NHWC_COL");
    return e && atoll(e) > 0 ? atoll(e) : NHWC_COL_FLOATS;
}

/* The direct kernel beats im2row + GEMM where the input has few channels
 * (col would be many times the input, for little work per column) and the
 * stride is 1: 1.4-2.7x on Inception-v3's stem and 35x35 layers (batch 50,
 * per layer); with hundreds of channels or stride 2, im2row's GEMM (K in
 * cache-sized chunks) was up to 2x faster.  GANCL_NHWC_DIRECT=0 or 1
 * forces the choice, for tests. */
static int use_direct(const gc_cl_conv_geom *g)
{
    if (g->oc % 16) return 0;
    const char *e = getenv("GANCL_NHWC_DIRECT");
    if (e) return atoi(e) != 0;
    /* A 1x1 convolution is a GEMM on x itself, except where OC leaves 16
     * columns over: the GEMM's edge tile builds B from scalar loads. */
    if (g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->ph == 0 && g->pw == 0)
        return g->oc % 32 != 0;
    /* A 1 x k tap row pads along W, so most tiles of a narrow image need the
     * masked loop: slower than im2row there. */
    return g->ic >= 16 && g->ic <= 192 && g->sh == 1 && g->sw == 1 && !(g->kh == 1 && g->kw > 1);
}

/* GANCL_NHWC_1XK=0 sends 1 x k convolutions through im2row, for tests. */
static int nhwc_1xk(void)
{
    const char *e = getenv("GANCL_NHWC_1XK");
    return !e || atoi(e) != 0;
}

/* max(0, .) over channels [c0, c0 + cols) of y's rows (the GEMM has no
 * activation of its own). */
static gc_status relu_rows(gc_backend *be, const gc_tensor *y, int64_t c0, int64_t rows,
                           int64_t cols)
{
    int64_t per = (4096 + cols - 1) / cols;
    gc_cl_call c = gc_cl_begin(be, "conv_relu_rows");
    gc_cl_arg_mem(&c, gc_cl_mem(y), (int)((int64_t)y->off + c0));
    gc_cl_arg_int(&c, (int)y->shape[3]);
    gc_cl_arg_int(&c, (int)rows);
    gc_cl_arg_int(&c, (int)cols);
    gc_cl_arg_int(&c, (int)per);
    size_t global = (size_t)((rows + per - 1) / per), one = 1;
    return gc_cl_run(&c, 1, &global, &one);
}

/* im2row of output rows [r0, r0 + rows) of the channels-last x into ws. */
static gc_status im2row_range(gc_backend *be, cl_mem ws, const gc_tensor *x, int64_t r0,
                              int64_t rows, const gc_cl_conv_geom *g)
{
    /* Rows per work-item: about 16 Ki floats of col each. */
    int64_t k = gc_cl_conv_k(g), per = (16384 + k - 1) / k;
    gc_cl_call c = gc_cl_begin(be, "conv_im2row_range");
    gc_cl_arg_mem(&c, ws, 0);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_int(&c, (int)r0);
    gc_cl_arg_int(&c, (int)rows);
    gc_cl_arg_int(&c, (int)per);
    const int64_t dims[] = {g->ic, g->ih, g->iw, g->oh, g->ow, g->kh,
                            g->kw, g->sh, g->sw, g->ph, g->pw};
    for (int d = 0; d < 11; d++)
        gc_cl_arg_int(&c, (int)dims[d]);
    size_t global = (size_t)((rows + per - 1) / per), one = 1;
    return gc_cl_run(&c, 1, &global, &one);
}

/* A 1 x KW stride-1 convolution without padding rows: x padded along W
 * into ws (im2row with a 1 x 1 kernel), whose KW consecutive pixels
 * are then each output row's receptive field in place, so the GEMM reads
 * overlapping rows of it (A: rows (n, y) groups of OW rows, C floats
 * apart, K = KW*C) instead of a col KW times the input.  0 with *done = 0
 * when the padded copy does not fit the workspace. */
static gc_status conv_1xk(gc_backend *be, const gc_tensor *y, int64_t c0, const gc_tensor *x,
                          gc_cl_mat wm, const gc_tensor *b, const gc_cl_conv_geom *g, int *done)
{
    int64_t wp = g->iw + 2 * g->pw, rows = g->n * g->ih * wp, k = gc_cl_conv_k(g);
    *done = 0;
    if (rows * g->ic > (int64_t)(gc_cl_workspace_limit(be) / sizeof(float)) ||
        rows * g->ic > INT_MAX)
        return GC_OK;
    gc_cl_conv_geom pad = *g;
    pad.kh = pad.kw = 1;
    pad.sh = pad.sw = 1;
    pad.ph = 0;
    pad.oh = g->ih;
    pad.ow = wp;
    cl_mem ws;
    GC_TRY(gc_cl_workspace(be, (size_t)(rows * g->ic) * sizeof(float), &ws));
    GC_TRY(im2row_range(be, ws, x, 0, rows, &pad));
    gc_cl_mat a = {ws, 0, g->ic, 1, g->ow, wp * g->ic};
    *done = 1;
    return gemm(be, g->n * g->oh * g->ow, g->oc, k, 0.0f, a, wm,
                mrows(tensor_at(y, c0), y->shape[3]), b);
}

/* The direct kernel on output channels [o0, o0 + count) (count a multiple
 * of 32, or 16). */
static gc_status direct(gc_backend *be, const gc_tensor *y, int64_t c0, const gc_tensor *x,
                        const gc_tensor *w, const gc_tensor *b, int relu, const gc_cl_conv_geom *g,
                        int64_t o0, int64_t count)
{
    int nv = count % 32 == 0 ? 2 : 1;
    int64_t m = g->n * g->oh * g->ow, cy = y->shape[3];
    GC_TRY(gc_cl_check_int(m * cy, "conv: output elements"));
    gc_cl_call c = gc_cl_begin(be, nv == 2 ? "conv_nhwc_direct_32" : "conv_nhwc_direct_16");
    gc_cl_arg_mem(&c, gc_cl_mem(y), (int)((int64_t)y->off + c0 + o0));
    gc_cl_arg_int(&c, (int)cy);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_mem(&c, gc_cl_mem(w), (int)((int64_t)w->off + o0));
    if (b)
        gc_cl_arg_mem(&c, gc_cl_mem(b), (int)((int64_t)b->off + o0));
    else
        gc_cl_arg_tensor(&c, NULL);
    gc_cl_arg_int(&c, b != NULL);
    gc_cl_arg_int(&c, relu != 0);
    const int64_t dims[] = {m,     g->ic, g->ih, g->iw, count, g->oc, g->oh,
                            g->ow, g->kh, g->kw, g->sh, g->sw, g->ph, g->pw};
    for (int d = 0; d < 14; d++)
        gc_cl_arg_int(&c, (int)dims[d]);
    /* Row tiles per work-item: about 4 Ki multiply-adds per output (K of
     * them per tile row), but at least 64 work-items per OC block. */
    int64_t k = gc_cl_conv_k(g), row_tiles = (m + 11) / 12, tiles = (4096 + k - 1) / k;
    if (tiles > row_tiles / 64) tiles = row_tiles / 64;
    if (tiles < 1) tiles = 1;
    gc_cl_arg_int(&c, (int)tiles);
    size_t global[2] = {(size_t)(count / (16 * nv)), (size_t)((row_tiles + tiles - 1) / tiles)};
    size_t local[2] = {1, 1};
    return gc_cl_run(&c, 2, global, local);
}

/* ---- channels-last forward --------------------------------------------------
 * x (N, H, W, C) already is the rows layout im2row reads, and w (KH, KW,
 * C, OC) is W'^T, so the pass is im2row and one GEMM per chunk, with no
 * transposes: y's channel slice is a row-major C of leading dimension CY,
 * written at column c0.  A 1x1 stride-1 convolution needs no im2row
 * either: x itself is col. */
gc_status gc_cl_conv2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, gc_t w, gc_t b,
                                    const gc_conv_params *p, int relu)
{
    if (!gc_cl_cpu_forms(y->be)) return gc_cl_tiled_conv2d_nhwc_forward(y, c0, x, w, b, p, relu);
    gc_backend *be = y->be;
    gc_cl_conv_geom g = gc_cl_conv_geom_nhwc(x, y, w, p);
    GC_TRY(geom_check(&g, x, y, w));
    int64_t k = gc_cl_conv_k(&g), ohw = geom_ohw(&g), hw = g.ih * g.iw, cy = y->shape[3];
    gc_cl_mat wm = mrows(tensor_at(w, 0), g.oc);
    if (g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0 &&
        !use_direct(&g)) {
        GC_TRY(gemm(be, g.n * hw, g.oc, g.ic, 0.0f, mrows(tensor_at(x, 0), g.ic), wm,
                    mrows(tensor_at(y, c0), cy), b));
        return relu ? relu_rows(be, y, c0, g.n * ohw, g.oc) : GC_OK;
    }
    if (use_direct(&g)) {
        /* No col at all: the direct kernel reads x through each tap; 32
         * output channels per work-item, the last 16 (if any) apart. */
        int64_t main = g.oc - g.oc % 32;
        if (main) GC_TRY(direct(be, y, c0, x, w, b, relu, &g, 0, main));
        if (main < g.oc) GC_TRY(direct(be, y, c0, x, w, b, relu, &g, main, 16));
        return GC_OK;
    }
    if (g.kh == 1 && g.ph == 0 && g.sh == 1 && g.sw == 1 && nhwc_1xk()) {
        int done;
        GC_TRY(conv_1xk(be, y, c0, x, wm, b, &g, &done));
        if (done) return relu ? relu_rows(be, y, c0, g.n * ohw, g.oc) : GC_OK;
    }
    /* Rows per block: col within NHWC_COL_FLOATS, and within int. */
    int64_t total = g.n * ohw, block = nhwc_col_floats() / k;
    if (block < 1) block = 1;
    if (block > total) block = total;
    GC_TRY(gc_cl_check_int(total, "conv: output pixels"));
    GC_TRY(gc_cl_check_int(block * k, "conv: workspace floats"));
    cl_mem ws;
    GC_TRY(gc_cl_workspace(be, (size_t)(block * k) * sizeof(float), &ws));
    for (int64_t r0 = 0; r0 < total; r0 += block) {
        int64_t rows = total - r0 < block ? total - r0 : block;
        GC_TRY(im2row_range(be, ws, x, r0, rows, &g));
        GC_TRY(gemm(be, rows, g.oc, k, 0.0f, mrows(at(ws, 0), k), wm,
                    mrows(tensor_at(y, r0 * cy + c0), cy), b));
    }
    return relu ? relu_rows(be, y, c0, total, g.oc) : GC_OK;
}

/* src/backend/opencl/cl_conv_direct.c - conv2d and conv_transpose2d whose
 * image side has one channel, with the direct kernels of
 * cl/conv_direct.cl instead of im2row + GEMM.
 *
 * As in cl_conv.c, both ops are one convolution from an "image" side (one
 * channel here) to a multi-channel "output" side O, so every pass of either
 * op is a few of five passes around the tap matrix colT (K x pixels per
 * image, in the workspace), all modes of the one kernel conv1_run:
 *
 *   conv2d            forward  colT = im2colT(x);  y = fwd(colT, W, b)
 *                     backward colT = im2colT(x);  dW += wgrad(dy, colT)
 *                              dx = col2im(bwd_data(dy, W))
 *   conv_transpose2d  forward  y = col2im(bwd_data(x, W)) + b
 *                     backward colT = im2colT(dy); dW += wgrad(x, colT)
 *                              dx = fwd(colT, W)
 *
 * The workspace holds colT for a chunk of images (the whole batch unless
 * that exceeds gc_cl_workspace_limit()).
 */
#include "backend/opencl/cl_conv_direct.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

#define CONV1_KMAX 16 /* as in cl/conv_direct.cl */

/* The geometry's taps per output pixel, and its output pixels per image
 * rounded up to 16. */
static int taps(const gc_cl_conv_geom *g)
{
    return g->kh * g->kw;
}
static int64_t ohwp(const gc_cl_conv_geom *g)
{
    return (g->oh * g->ow + 15) / 16 * 16;
}

int gc_cl_conv1_applies(const gc_backend *be, int64_t image_c, int64_t kh, int64_t kw)
{
    /* A CPU-family form: the GPU family's implicit GEMM covers one channel. */
    return gc_cl_cpu_forms(be) && gc_cl_forms_of(be)->conv1_direct && image_c == 1 &&
           kh * kw <= CONV1_KMAX;
}

static gc_status geom(const gc_tensor *image, const gc_tensor *out, const gc_tensor *w,
                      const gc_conv_params *p, gc_cl_conv_geom *g)
{
    *g = gc_cl_conv_geom_nchw(image, out, w, p);
    GC_TRY(gc_cl_conv_check(image, out, w));
    return gc_cl_check_int(ohwp(g) * taps(g), "conv: taps per image");
}

/* Images per chunk and the workspace for their colT. */
static gc_status plan(gc_backend *be, const gc_cl_conv_geom *g, int64_t *nb, cl_mem *ws)
{
    int64_t per = ohwp(g) * taps(g), limit = (int64_t)(gc_cl_workspace_limit(be) / sizeof(float));
    if (limit > INT_MAX) limit = INT_MAX;
    int64_t k = limit / per;
    if (k < 1) k = 1;
    if (k > g->n) k = g->n;
    *nb = k;
    return gc_cl_workspace(be, (size_t)(k * per) * sizeof(float), ws);
}

/* Passes of conv1_run (cl/conv_direct.cl). */
enum { IM2COLT, FWD, BWD_DATA, COL2IM, WGRAD };
#define CONV1_WG_TAPS 8 /* taps per WGRAD work-item, as in cl/conv_direct.cl */

/* A tensor's images n0 .. (per_image floats each) as a kernel argument. */
typedef struct arg {
    cl_mem m;
    int64_t off;
} arg;

static arg images(const gc_tensor *t, int64_t n0, int64_t per_image)
{
    arg a = {gc_cl_mem(t), (int64_t)t->off + n0 * per_image};
    return a;
}

static arg whole(const gc_tensor *t)
{
    return images(t, 0, 0);
}

static arg none(void)
{
    arg a = {NULL, 0};
    return a;
}

/* One pass over nb images: a, b, c, d as conv1_run documents them per
 * mode; d (the bias) may be none(). */
static gc_status run(gc_backend *be, int mode, arg a, arg b, arg c, arg d, int64_t nb,
                     const gc_cl_conv_geom *g)
{
    static const char *names[] = {"conv1_run im2colT", "conv1_run fwd", "conv1_run bwd_data",
                                  "conv1_run col2im", "conv1_run wgrad"};
    gc_cl_call call = gc_cl_begin(be, "conv1_run");
    call.name = names[mode]; /* errors and profiles name the pass */
    arg t[4] = {a, b, c, d};
    for (int i = 0; i < 4; i++)
        GC_TRY(gc_cl_check_int(t[i].off, "conv: tensor offset"));
    gc_cl_arg_int(&call, mode);
    for (int i = 0; i < 4; i++) {
        if (t[i].m)
            gc_cl_arg_mem(&call, t[i].m, (int)t[i].off);
        else
            gc_cl_arg_tensor(&call, NULL);
    }
    const int ints[] = {d.m != NULL, (int)nb,    (int)g->oc, taps(g), (int)g->ih,
                        (int)g->iw,  (int)g->oh, (int)g->ow, g->kh,   g->kw,
                        g->sh,       g->sw,      g->ph,      g->pw};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        gc_cl_arg_int(&call, ints[i]);
    size_t global[2] = {0, (size_t)nb}, local[2] = {1, 1};
    switch (mode) {
    case IM2COLT: global[0] = (size_t)taps(g); break;
    case FWD:
    case BWD_DATA: global[0] = (size_t)(ohwp(g) / 16); break;
    case COL2IM: global[0] = (size_t)g->ih; break;
    default: /* WGRAD: channel pairs x groups of taps, over the whole chunk */
        global[0] = (size_t)((g->oc + 1) / 2);
        global[1] = (size_t)((taps(g) + CONV1_WG_TAPS - 1) / CONV1_WG_TAPS);
    }
    return gc_cl_run(&call, 2, global, local);
}

/* db[c] += sum over n, p of d[n][c][p]. */
static gc_status bias_grad(const gc_tensor *db, const gc_tensor *d)
{
    int64_t hw = GC_H(d) * GC_W(d);
    return gc_cl_reduce_sum(db, d, GC_C(d), hw, GC_N(d) * hw, hw, GC_C(d) * hw, 1.0f, 1);
}

gc_status gc_cl_conv1_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    gc_backend *be = y->be;
    gc_cl_conv_geom g;
    int64_t nb;
    cl_mem ws;
    GC_TRY(geom(x, y, w, p, &g));
    GC_TRY(plan(be, &g, &nb, &ws));
    arg col = {ws, 0}, bias = b ? whole(b) : none();
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb;
        GC_TRY(run(be, IM2COLT, col, images(x, n0, g.ih * g.iw), none(), none(), cnt, &g));
        GC_TRY(run(be, FWD, images(y, n0, g.oc * g.oh * g.ow), col, whole(w), bias, cnt, &g));
    }
    return GC_OK;
}

gc_status gc_cl_conv1_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                      const gc_conv_params *p)
{
    gc_backend *be = dy->be;
    gc_cl_conv_geom g;
    int64_t nb;
    cl_mem ws;
    GC_TRY(geom(x, dy, w, p, &g));
    if (db) GC_TRY(bias_grad(db, dy));
    GC_TRY(plan(be, &g, &nb, &ws));
    arg col = {ws, 0};
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb;
        arg o = images(dy, n0, g.oc * g.oh * g.ow);
        if (dw) {
            GC_TRY(run(be, IM2COLT, col, images(x, n0, g.ih * g.iw), none(), none(), cnt, &g));
            GC_TRY(run(be, WGRAD, whole(dw), o, col, none(), cnt, &g));
        }
        if (dx) {
            GC_TRY(run(be, BWD_DATA, col, o, whole(w), none(), cnt, &g));
            GC_TRY(run(be, COL2IM, images(dx, n0, g.ih * g.iw), col, none(), none(), cnt, &g));
        }
    }
    return GC_OK;
}

gc_status gc_cl_conv1_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b,
                                               const gc_conv_params *p)
{
    gc_backend *be = y->be;
    gc_cl_conv_geom g;
    int64_t nb;
    cl_mem ws;
    GC_TRY(geom(y, x, w, p, &g));
    GC_TRY(plan(be, &g, &nb, &ws));
    arg col = {ws, 0}, bias = b ? whole(b) : none();
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb;
        GC_TRY(
            run(be, BWD_DATA, col, images(x, n0, g.oc * g.oh * g.ow), whole(w), none(), cnt, &g));
        GC_TRY(run(be, COL2IM, images(y, n0, g.ih * g.iw), col, none(), bias, cnt, &g));
    }
    return GC_OK;
}

gc_status gc_cl_conv1_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                                const gc_conv_params *p)
{
    gc_backend *be = dy->be;
    gc_cl_conv_geom g;
    int64_t nb;
    cl_mem ws;
    GC_TRY(geom(dy, x, w, p, &g));
    if (db) GC_TRY(bias_grad(db, dy));
    GC_TRY(plan(be, &g, &nb, &ws));
    arg col = {ws, 0};
    for (int64_t n0 = 0; n0 < g.n; n0 += nb) {
        int64_t cnt = g.n - n0 < nb ? g.n - n0 : nb;
        arg o = images(x, n0, g.oc * g.oh * g.ow);
        GC_TRY(run(be, IM2COLT, col, images(dy, n0, g.ih * g.iw), none(), none(), cnt, &g));
        if (dw) GC_TRY(run(be, WGRAD, whole(dw), o, col, none(), cnt, &g));
        if (dx)
            GC_TRY(
                run(be, FWD, images(dx, n0, g.oc * g.oh * g.ow), col, whole(w), none(), cnt, &g));
    }
    return GC_OK;
}

/* src/backend/cpu/cpu_conv.c - CPU reference: conv2d and conv_transpose2d,
 * forward and backward, as direct loops (no im2col, so that this file is an
 * independent oracle for the OpenCL backend's im2col + GEMM path).
 *
 * Both convolutions relate a "small" plane s (conv2d's output, or
 * conv_transpose2d's input) to a "big" plane B through one kernel tap
 * (kh, kw):
 *
 *     s[i][j]  <->  B[i*stride_h - pad_h + kh][j*stride_w - pad_w + kw]
 *
 * where taps that land in the padding are dropped.  Every pass is one of
 * three loops over that correspondence, each summed into double planes:
 *   gather   s_acc += w * B   (conv2d forward, conv_transpose2d dx)
 *   scatter  B_acc += w * s   (conv2d dx, conv_transpose2d forward)
 *   dot      sum s * B        (dw of both)
 * The range of i (and j) whose tap lands inside B is computed once per tap,
 * so the inner loops carry no padding tests.
 */
#include <stdlib.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

/* The tap geometry along both axes. */
typedef struct tap {
    int64_t sh, sw; /* small plane */
    int64_t bh, bw; /* big plane */
    int stride_h, stride_w;
    int64_t off_h, off_w; /* kh - pad_h, kw - pad_w */
} tap;

/* [*lo, *hi) = the small indices i with 0 <= i*stride + off < big. */
static void tap_range(int64_t small, int64_t big, int stride, int64_t off, int64_t *lo, int64_t *hi)
{
    *lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    *hi = big - 1 - off < 0 ? 0 : (big - 1 - off) / stride + 1;
    if (*hi > small) *hi = small;
    if (*lo > *hi) *lo = *hi;
}

static tap make_tap(int64_t sh, int64_t sw, int64_t bh, int64_t bw, const gc_conv_params *p, int kh,
                    int kw)
{
    tap t = {sh, sw, bh, bw, p->stride_h, p->stride_w, kh - p->pad_h, kw - p->pad_w};
    return t;
}

static void tap_gather(const tap *t, double *s_acc, const float *big, double wv)
{
    int64_t i0, i1, j0, j1;
    tap_range(t->sh, t->bh, t->stride_h, t->off_h, &i0, &i1);
    tap_range(t->sw, t->bw, t->stride_w, t->off_w, &j0, &j1);
    for (int64_t i = i0; i < i1; i++) {
        const float *brow = big + (i * t->stride_h + t->off_h) * t->bw;
        double *srow = s_acc + i * t->sw;
        for (int64_t j = j0; j < j1; j++)
            srow[j] += wv * brow[j * t->stride_w + t->off_w];
    }
}

static void tap_scatter(const tap *t, double *b_acc, const float *small, double wv)
{
    int64_t i0, i1, j0, j1;
    tap_range(t->sh, t->bh, t->stride_h, t->off_h, &i0, &i1);
    tap_range(t->sw, t->bw, t->stride_w, t->off_w, &j0, &j1);
    for (int64_t i = i0; i < i1; i++) {
        double *brow = b_acc + (i * t->stride_h + t->off_h) * t->bw;
        const float *srow = small + i * t->sw;
        for (int64_t j = j0; j < j1; j++)
            brow[j * t->stride_w + t->off_w] += wv * srow[j];
    }
}

static double tap_dot(const tap *t, const float *small, const float *big)
{
    int64_t i0, i1, j0, j1;
    tap_range(t->sh, t->bh, t->stride_h, t->off_h, &i0, &i1);
    tap_range(t->sw, t->bw, t->stride_w, t->off_w, &j0, &j1);
    double s = 0.0;
    for (int64_t i = i0; i < i1; i++) {
        const float *brow = big + (i * t->stride_h + t->off_h) * t->bw;
        const float *srow = small + i * t->sw;
        for (int64_t j = j0; j < j1; j++)
            s += (double)srow[j] * brow[j * t->stride_w + t->off_w];
    }
    return s;
}

static double *plane_alloc(int64_t n)
{
    return malloc((size_t)n * sizeof(double));
}

static void plane_zero(double *acc, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        acc[i] = 0.0;
}

static gc_status nomem(const char *what)
{
    return gc_error(GC_ERR_NOMEM, "cpu: out of host memory in %s", what);
}

/* dw[a][b][kh][kw] += sum_n dot(small[n][a], big[n][b]) at tap (kh, kw).
 * Both weight layouts put the small side's channel first: conv2d's
 * (OC, C, KH, KW) with small = dy, conv_transpose2d's (C, OC, KH, KW) with
 * small = x. */
static void conv_weight_grad(float *dw, int kh_n, int kw_n, const float *small, int64_t ca,
                             int64_t sh, int64_t sw, const float *big, int64_t cb, int64_t bh,
                             int64_t bw, int64_t batch, const gc_conv_params *p)
{
    int64_t splane = sh * sw, bplane = bh * bw;
    for (int64_t a = 0; a < ca; a++) {
        for (int64_t b = 0; b < cb; b++) {
            for (int kh = 0; kh < kh_n; kh++) {
                for (int kw = 0; kw < kw_n; kw++) {
                    tap t = make_tap(sh, sw, bh, bw, p, kh, kw);
                    double s = 0.0;
                    for (int64_t n = 0; n < batch; n++)
                        s +=
                            tap_dot(&t, small + (n * ca + a) * splane, big + (n * cb + b) * bplane);
                    float *d = dw + ((a * cb + b) * kh_n + kh) * kw_n + kw;
                    *d = (float)(*d + s);
                }
            }
        }
    }
}

/* db[c] += sum over batch and plane of dy[n][c]. */
static void bias_grad(float *db, const float *dy, int64_t batch, int64_t channels, int64_t plane)
{
    for (int64_t c = 0; c < channels; c++) {
        double s = 0.0;
        for (int64_t n = 0; n < batch; n++) {
            const float *d = dy + (n * channels + c) * plane;
            for (int64_t i = 0; i < plane; i++)
                s += d[i];
        }
        db[c] = (float)(db[c] + s);
    }
}

/* One data pass: out[n][o] = bias[o] + sum over input channels i and taps of
 * in[n][i] gathered (out is the small side) or scattered (out is the big
 * side) with weight w[o * w_os + i * w_is][kh][kw].  The four data passes
 * of the two convolutions are this with the roles of the planes and the
 * weight strides exchanged. */
typedef struct plane_pass {
    const float *in;
    int64_t in_c, in_h, in_w;
    float *out;
    int64_t out_c, out_h, out_w;
    const float *w, *bias;
    int64_t w_os, w_is;
    int kh_n, kw_n, gather;
} plane_pass;

static gc_status run_pass(const plane_pass *q, int64_t batch, const gc_conv_params *p,
                          const char *what)
{
    int64_t in_hw = q->in_h * q->in_w, out_hw = q->out_h * q->out_w, kk = q->kh_n * q->kw_n;
    double *acc = plane_alloc(out_hw);
    if (!acc) return nomem(what);
    for (int64_t n = 0; n < batch; n++)
        for (int64_t o = 0; o < q->out_c; o++) {
            plane_zero(acc, out_hw);
            for (int64_t i = 0; i < q->in_c; i++) {
                const float *ip = q->in + (n * q->in_c + i) * in_hw;
                const float *wp = q->w + (o * q->w_os + i * q->w_is) * kk;
                for (int kh = 0; kh < q->kh_n; kh++)
                    for (int kw = 0; kw < q->kw_n; kw++) {
                        double wv = wp[kh * q->kw_n + kw];
                        if (q->gather) {
                            tap t = make_tap(q->out_h, q->out_w, q->in_h, q->in_w, p, kh, kw);
                            tap_gather(&t, acc, ip, wv);
                        } else {
                            tap t = make_tap(q->in_h, q->in_w, q->out_h, q->out_w, p, kh, kw);
                            tap_scatter(&t, acc, ip, wv);
                        }
                    }
            }
            float *op = q->out + (n * q->out_c + o) * out_hw;
            double bias = q->bias ? q->bias[o] : 0.0;
            for (int64_t k = 0; k < out_hw; k++)
                op[k] = (float)(acc[k] + bias);
        }
    free(acc);
    return GC_OK;
}

gc_status gc_cpu_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    /* w (OC, C, KH, KW): output channel o, input channel c at o * C + c. */
    plane_pass q = {gc_cpu_data(x), GC_C(x), GC_H(x),          GC_W(x),          gc_cpu_data(y),
                    GC_C(y),        GC_H(y), GC_W(y),          gc_cpu_data(w),   gc_cpu_data(b),
                    GC_C(x),        1,       (int)w->shape[2], (int)w->shape[3], 1};
    return run_pass(&q, GC_N(x), p, "conv2d forward");
}

gc_status gc_cpu_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                 const gc_conv_params *p)
{
    int64_t batch = GC_N(x), ic = GC_C(x), h = GC_H(x), wd = GC_W(x);
    int64_t oc = GC_C(dy), oh = GC_H(dy), ow = GC_W(dy);
    int kh_n = (int)w->shape[2], kw_n = (int)w->shape[3];
    if (dx) {
        /* dx is the big side: scatter dy through w[o * C + c]. */
        plane_pass q = {gc_cpu_data(dy),
                        oc,
                        oh,
                        ow,
                        gc_cpu_data(dx),
                        ic,
                        h,
                        wd,
                        gc_cpu_data(w),
                        NULL,
                        1,
                        ic,
                        kh_n,
                        kw_n,
                        0};
        GC_TRY(run_pass(&q, batch, p, "conv2d backward"));
    }
    conv_weight_grad(gc_cpu_data(dw), kh_n, kw_n, gc_cpu_data(dy), oc, oh, ow, gc_cpu_data(x), ic,
                     h, wd, batch, p);
    if (db) bias_grad(gc_cpu_data(db), gc_cpu_data(dy), batch, oc, oh * ow);
    return GC_OK;
}

gc_status gc_cpu_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    /* w (C, OC, KH, KW): input channel c, output channel o at c * OC + o;
     * y is the big side. */
    plane_pass q = {gc_cpu_data(x),   GC_C(x),          GC_H(x), GC_W(x),
                    gc_cpu_data(y),   GC_C(y),          GC_H(y), GC_W(y),
                    gc_cpu_data(w),   gc_cpu_data(b),   1,       GC_C(y),
                    (int)w->shape[2], (int)w->shape[3], 0};
    return run_pass(&q, GC_N(x), p, "conv_transpose2d forward");
}

gc_status gc_cpu_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                           const gc_conv_params *p)
{
    int64_t batch = GC_N(x), ic = GC_C(x), h = GC_H(x), wd = GC_W(x);
    int64_t oc = GC_C(dy), oh = GC_H(dy), ow = GC_W(dy);
    int kh_n = (int)w->shape[2], kw_n = (int)w->shape[3];
    if (dx) {
        /* dx is the small side: gather dy through w[c * OC + o]. */
        plane_pass q = {gc_cpu_data(dy),
                        oc,
                        oh,
                        ow,
                        gc_cpu_data(dx),
                        ic,
                        h,
                        wd,
                        gc_cpu_data(w),
                        NULL,
                        oc,
                        1,
                        kh_n,
                        kw_n,
                        1};
        GC_TRY(run_pass(&q, batch, p, "conv_transpose2d backward"));
    }
    conv_weight_grad(gc_cpu_data(dw), kh_n, kw_n, gc_cpu_data(x), ic, h, wd, gc_cpu_data(dy), oc,
                     oh, ow, batch, p);
    if (db) bias_grad(gc_cpu_data(db), gc_cpu_data(dy), batch, oc, oh * ow);
    return GC_OK;
}

/* ---- channels-last forward --------------------------------------------------
 * Its own loop over output pixels (not the plane passes above): per pixel,
 * every tap's C input channels against w's rows (KH, KW, C, OC), summed in
 * double over OC accumulators. */
gc_status gc_cpu_conv2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, gc_t w, gc_t b,
                                     const gc_conv_params *p, int relu)
{
    int64_t n = x->shape[0], h = x->shape[1], wd = x->shape[2], c = x->shape[3];
    int64_t oh = y->shape[1], ow = y->shape[2], cy = y->shape[3], oc = w->shape[3];
    int kh = (int)w->shape[0], kw = (int)w->shape[1];
    const float *px = gc_cpu_data(x), *pw = gc_cpu_data(w), *pb = b ? gc_cpu_data(b) : NULL;
    float *py = gc_cpu_data(y);
    double *acc = malloc((size_t)oc * sizeof *acc);
    if (!acc) return gc_error(GC_ERR_NOMEM, "cpu: out of host memory in conv2d (NHWC)");
    for (int64_t i = 0; i < n * oh * ow; i++) {
        int64_t img = i / (oh * ow), oy = i / ow % oh, ox = i % ow;
        for (int64_t o = 0; o < oc; o++)
            acc[o] = pb ? pb[o] : 0.0;
        for (int ky = 0; ky < kh; ky++) {
            int64_t iy = oy * p->stride_h - p->pad_h + ky;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < kw; kx++) {
                int64_t ix = ox * p->stride_w - p->pad_w + kx;
                if (ix < 0 || ix >= wd) continue;
                const float *xv = px + ((img * h + iy) * wd + ix) * c;
                const float *wt = pw + ((int64_t)ky * kw + kx) * c * oc;
                for (int64_t ci = 0; ci < c; ci++) {
                    double xc = xv[ci];
                    const float *wr = wt + ci * oc;
                    for (int64_t o = 0; o < oc; o++)
                        acc[o] += xc * wr[o];
                }
            }
        }
        float *yo = py + i * cy + c0;
        for (int64_t o = 0; o < oc; o++)
            yo[o] = relu && !(acc[o] >= 0.0) ? 0.0f : (float)acc[o];
    }
    free(acc);
    return GC_OK;
}

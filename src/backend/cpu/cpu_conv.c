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

gc_status gc_cpu_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    int64_t batch = GC_N(x), ic = GC_C(x), h = GC_H(x), wd = GC_W(x);
    int64_t oc = GC_C(y), oh = GC_H(y), ow = GC_W(y);
    int kh_n = (int)w->shape[2], kw_n = (int)w->shape[3];
    const float *px = gc_cpu_data(x), *pw = gc_cpu_data(w), *pb = gc_cpu_data(b);
    float *py = gc_cpu_data(y);
    double *acc = plane_alloc(oh * ow);
    if (!acc) return nomem("conv2d forward");
    for (int64_t n = 0; n < batch; n++) {
        for (int64_t o = 0; o < oc; o++) {
            plane_zero(acc, oh * ow);
            for (int64_t c = 0; c < ic; c++) {
                const float *xp = px + (n * ic + c) * h * wd;
                const float *wp = pw + (o * ic + c) * kh_n * kw_n;
                for (int kh = 0; kh < kh_n; kh++)
                    for (int kw = 0; kw < kw_n; kw++) {
                        tap t = make_tap(oh, ow, h, wd, p, kh, kw);
                        tap_gather(&t, acc, xp, wp[kh * kw_n + kw]);
                    }
            }
            float *yp = py + (n * oc + o) * oh * ow;
            double bias = pb ? pb[o] : 0.0;
            for (int64_t i = 0; i < oh * ow; i++)
                yp[i] = (float)(acc[i] + bias);
        }
    }
    free(acc);
    return GC_OK;
}

gc_status gc_cpu_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                 const gc_conv_params *p)
{
    int64_t batch = GC_N(x), ic = GC_C(x), h = GC_H(x), wd = GC_W(x);
    int64_t oc = GC_C(dy), oh = GC_H(dy), ow = GC_W(dy);
    int kh_n = (int)w->shape[2], kw_n = (int)w->shape[3];
    const float *px = gc_cpu_data(x), *pw = gc_cpu_data(w), *pdy = gc_cpu_data(dy);
    float *pdx = gc_cpu_data(dx), *pdw = gc_cpu_data(dw), *pdb = gc_cpu_data(db);

    if (pdx) {
        double *acc = plane_alloc(h * wd);
        if (!acc) return nomem("conv2d backward");
        for (int64_t n = 0; n < batch; n++) {
            for (int64_t c = 0; c < ic; c++) {
                plane_zero(acc, h * wd);
                for (int64_t o = 0; o < oc; o++) {
                    const float *dyp = pdy + (n * oc + o) * oh * ow;
                    const float *wp = pw + (o * ic + c) * kh_n * kw_n;
                    for (int kh = 0; kh < kh_n; kh++)
                        for (int kw = 0; kw < kw_n; kw++) {
                            tap t = make_tap(oh, ow, h, wd, p, kh, kw);
                            tap_scatter(&t, acc, dyp, wp[kh * kw_n + kw]);
                        }
                }
                float *dxp = pdx + (n * ic + c) * h * wd;
                for (int64_t i = 0; i < h * wd; i++)
                    dxp[i] = (float)acc[i];
            }
        }
        free(acc);
    }
    conv_weight_grad(pdw, kh_n, kw_n, pdy, oc, oh, ow, px, ic, h, wd, batch, p);
    if (pdb) bias_grad(pdb, pdy, batch, oc, oh * ow);
    return GC_OK;
}

gc_status gc_cpu_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    int64_t batch = GC_N(x), ic = GC_C(x), h = GC_H(x), wd = GC_W(x);
    int64_t oc = GC_C(y), oh = GC_H(y), ow = GC_W(y);
    int kh_n = (int)w->shape[2], kw_n = (int)w->shape[3];
    const float *px = gc_cpu_data(x), *pw = gc_cpu_data(w), *pb = gc_cpu_data(b);
    float *py = gc_cpu_data(y);
    double *acc = plane_alloc(oh * ow);
    if (!acc) return nomem("conv_transpose2d forward");
    for (int64_t n = 0; n < batch; n++) {
        for (int64_t o = 0; o < oc; o++) {
            plane_zero(acc, oh * ow);
            for (int64_t c = 0; c < ic; c++) {
                const float *xp = px + (n * ic + c) * h * wd;
                const float *wp = pw + (c * oc + o) * kh_n * kw_n;
                for (int kh = 0; kh < kh_n; kh++)
                    for (int kw = 0; kw < kw_n; kw++) {
                        tap t = make_tap(h, wd, oh, ow, p, kh, kw);
                        tap_scatter(&t, acc, xp, wp[kh * kw_n + kw]);
                    }
            }
            float *yp = py + (n * oc + o) * oh * ow;
            double bias = pb ? pb[o] : 0.0;
            for (int64_t i = 0; i < oh * ow; i++)
                yp[i] = (float)(acc[i] + bias);
        }
    }
    free(acc);
    return GC_OK;
}

gc_status gc_cpu_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                           const gc_conv_params *p)
{
    int64_t batch = GC_N(x), ic = GC_C(x), h = GC_H(x), wd = GC_W(x);
    int64_t oc = GC_C(dy), oh = GC_H(dy), ow = GC_W(dy);
    int kh_n = (int)w->shape[2], kw_n = (int)w->shape[3];
    const float *px = gc_cpu_data(x), *pw = gc_cpu_data(w), *pdy = gc_cpu_data(dy);
    float *pdx = gc_cpu_data(dx), *pdw = gc_cpu_data(dw), *pdb = gc_cpu_data(db);

    if (pdx) {
        double *acc = plane_alloc(h * wd);
        if (!acc) return nomem("conv_transpose2d backward");
        for (int64_t n = 0; n < batch; n++) {
            for (int64_t c = 0; c < ic; c++) {
                plane_zero(acc, h * wd);
                for (int64_t o = 0; o < oc; o++) {
                    const float *dyp = pdy + (n * oc + o) * oh * ow;
                    const float *wp = pw + (c * oc + o) * kh_n * kw_n;
                    for (int kh = 0; kh < kh_n; kh++)
                        for (int kw = 0; kw < kw_n; kw++) {
                            tap t = make_tap(h, wd, oh, ow, p, kh, kw);
                            tap_gather(&t, acc, dyp, wp[kh * kw_n + kw]);
                        }
                }
                float *dxp = pdx + (n * ic + c) * h * wd;
                for (int64_t i = 0; i < h * wd; i++)
                    dxp[i] = (float)acc[i];
            }
        }
        free(acc);
    }
    conv_weight_grad(pdw, kh_n, kw_n, px, ic, h, wd, pdy, oc, oh, ow, batch, p);
    if (pdb) bias_grad(pdb, pdy, batch, oc, oh * ow);
    return GC_OK;
}

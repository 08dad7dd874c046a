/* src/backend/cpu/cpu_pool.c - CPU reference: max and average pooling with
 * their backward passes, global average pooling, and channels-last
 * pooling (inference).
 *
 * Window bounds follow PyTorch's CPU kernels exactly: a window starts at
 * o*stride - pad, is clipped to the image, and (for average pooling with
 * count_include_pad) is divided by its size clipped to the padded image
 * only, so a window hanging past the padding at the far edge counts fewer
 * cells than kernel_h * kernel_w. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

/* One window along one axis: [lo, hi) inside the image; `padded` is its
 * extent clipped to the padded image (PyTorch's count_include_pad size). */
typedef struct window {
    int64_t lo, hi, padded;
} window;

static window window_at(int64_t o, int64_t in, int kernel, int stride, int pad)
{
    int64_t start = o * stride - pad;
    int64_t end = start + kernel;
    if (end > in + pad) end = in + pad;
    window w = {start, end, end - start};
    if (w.lo < 0) w.lo = 0;
    if (w.hi > in) w.hi = in;
    return w;
}

/* The flat index (in its H x W plane) of the first maximum of the window;
 * NaN wins, as in PyTorch, so it propagates. */
static int64_t window_argmax(const float *plane, int64_t width, window wh, window ww)
{
    int64_t best = wh.lo * width + ww.lo;
    float best_v = -INFINITY;
    for (int64_t h = wh.lo; h < wh.hi; h++)
        for (int64_t w = ww.lo; w < ww.hi; w++) {
            float v = plane[h * width + w];
            if (v > best_v || isnan(v)) {
                best_v = v;
                best = h * width + w;
            }
        }
    return best;
}

gc_status gc_cpu_max_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p)
{
    int64_t planes = GC_N(x) * GC_C(x), h = GC_H(x), wd = GC_W(x), oh = GC_H(y), ow = GC_W(y);
    const float *px = gc_cpu_data(x);
    float *py = gc_cpu_data(y);
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = px + pl * h * wd;
        float *yp = py + pl * oh * ow;
        for (int64_t i = 0; i < oh; i++) {
            window wh = window_at(i, h, p->kernel_h, p->stride_h, p->pad_h);
            for (int64_t j = 0; j < ow; j++) {
                window ww = window_at(j, wd, p->kernel_w, p->stride_w, p->pad_w);
                yp[i * ow + j] = xp[window_argmax(xp, wd, wh, ww)];
            }
        }
    }
    return GC_OK;
}

gc_status gc_cpu_max_pool2d_backward(gc_t dx, gc_t dy, gc_t x, const gc_pool_params *p)
{
    int64_t planes = GC_N(x) * GC_C(x), h = GC_H(x), wd = GC_W(x), oh = GC_H(dy), ow = GC_W(dy);
    const float *px = gc_cpu_data(x), *pdy = gc_cpu_data(dy);
    float *pdx = gc_cpu_data(dx);
    for (int64_t i = 0; i < planes * h * wd; i++)
        pdx[i] = 0.0f;
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = px + pl * h * wd, *dyp = pdy + pl * oh * ow;
        float *dxp = pdx + pl * h * wd;
        for (int64_t i = 0; i < oh; i++) {
            window wh = window_at(i, h, p->kernel_h, p->stride_h, p->pad_h);
            for (int64_t j = 0; j < ow; j++) {
                window ww = window_at(j, wd, p->kernel_w, p->stride_w, p->pad_w);
                dxp[window_argmax(xp, wd, wh, ww)] += dyp[i * ow + j];
            }
        }
    }
    return GC_OK;
}

static int64_t avg_divisor(window wh, window ww, int count_include_pad)
{
    return count_include_pad ? wh.padded * ww.padded : (wh.hi - wh.lo) * (ww.hi - ww.lo);
}

gc_status gc_cpu_avg_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p)
{
    int64_t planes = GC_N(x) * GC_C(x), h = GC_H(x), wd = GC_W(x), oh = GC_H(y), ow = GC_W(y);
    const float *px = gc_cpu_data(x);
    float *py = gc_cpu_data(y);
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = px + pl * h * wd;
        float *yp = py + pl * oh * ow;
        for (int64_t i = 0; i < oh; i++) {
            window wh = window_at(i, h, p->kernel_h, p->stride_h, p->pad_h);
            for (int64_t j = 0; j < ow; j++) {
                window ww = window_at(j, wd, p->kernel_w, p->stride_w, p->pad_w);
                double s = 0.0;
                for (int64_t a = wh.lo; a < wh.hi; a++)
                    for (int64_t b = ww.lo; b < ww.hi; b++)
                        s += xp[a * wd + b];
                yp[i * ow + j] = (float)(s / (double)avg_divisor(wh, ww, p->count_include_pad));
            }
        }
    }
    return GC_OK;
}

gc_status gc_cpu_avg_pool2d_backward(gc_t dx, gc_t dy, const gc_pool_params *p)
{
    int64_t planes = GC_N(dx) * GC_C(dx), h = GC_H(dx), wd = GC_W(dx);
    int64_t oh = GC_H(dy), ow = GC_W(dy);
    const float *pdy = gc_cpu_data(dy);
    float *pdx = gc_cpu_data(dx);
    for (int64_t i = 0; i < planes * h * wd; i++)
        pdx[i] = 0.0f;
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *dyp = pdy + pl * oh * ow;
        float *dxp = pdx + pl * h * wd;
        for (int64_t i = 0; i < oh; i++) {
            window wh = window_at(i, h, p->kernel_h, p->stride_h, p->pad_h);
            for (int64_t j = 0; j < ow; j++) {
                window ww = window_at(j, wd, p->kernel_w, p->stride_w, p->pad_w);
                float g =
                    (float)(dyp[i * ow + j] / (double)avg_divisor(wh, ww, p->count_include_pad));
                for (int64_t a = wh.lo; a < wh.hi; a++)
                    for (int64_t b = ww.lo; b < ww.hi; b++)
                        dxp[a * wd + b] += g;
            }
        }
    }
    return GC_OK;
}

gc_status gc_cpu_global_avg_pool_forward(gc_t y, gc_t x)
{
    int64_t planes = GC_N(x) * GC_C(x), plane = GC_H(x) * GC_W(x);
    const float *px = gc_cpu_data(x);
    float *py = gc_cpu_data(y);
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = px + pl * plane;
        double s = 0.0;
        for (int64_t i = 0; i < plane; i++)
            s += xp[i];
        py[pl] = (float)(s / (double)plane);
    }
    return GC_OK;
}

gc_status gc_cpu_global_avg_pool_backward(gc_t dx, gc_t dy)
{
    int64_t planes = GC_N(dx) * GC_C(dx), plane = GC_H(dx) * GC_W(dx);
    const float *pdy = gc_cpu_data(dy);
    float *pdx = gc_cpu_data(dx);
    for (int64_t pl = 0; pl < planes; pl++) {
        float g = (float)(pdy[pl] / (double)plane);
        for (int64_t i = 0; i < plane; i++)
            pdx[pl * plane + i] = g;
    }
    return GC_OK;
}

/* Channels-last pooling into channels [c0, c0 + C) of y: the windows,
 * maxima and divisors of the NCHW functions above. */
gc_status gc_cpu_pool2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, const gc_pool_params *p, int max)
{
    int64_t n = x->shape[0], h = x->shape[1], wd = x->shape[2], c = x->shape[3];
    int64_t oh = y->shape[1], ow = y->shape[2], cy = y->shape[3];
    const float *px = gc_cpu_data(x);
    float *py = gc_cpu_data(y);
    for (int64_t img = 0; img < n; img++)
        for (int64_t i = 0; i < oh; i++) {
            window wh = window_at(i, h, p->kernel_h, p->stride_h, p->pad_h);
            for (int64_t j = 0; j < ow; j++) {
                window ww = window_at(j, wd, p->kernel_w, p->stride_w, p->pad_w);
                float *yo = py + ((img * oh + i) * ow + j) * cy + c0;
                for (int64_t ch = 0; ch < c; ch++) {
                    double s = 0.0;
                    float best = -INFINITY;
                    for (int64_t a = wh.lo; a < wh.hi; a++)
                        for (int64_t b = ww.lo; b < ww.hi; b++) {
                            float v = px[((img * h + a) * wd + b) * c + ch];
                            s += v;
                            if (v > best || isnan(v)) best = v;
                        }
                    yo[ch] =
                        max ? best : (float)(s / (double)avg_divisor(wh, ww, p->count_include_pad));
                }
            }
        }
    return GC_OK;
}

/* src/backend/cpu/cpu_diffaug.c - CPU reference: DiffAugment (gancl/ops.h),
 * colour, translation and cutout of each image from its row of draws r.
 *
 * Both passes are gathers over output pixels: translation never maps two
 * outputs to one input, so its adjoint (the backward's scatter) is the
 * inverse shift read as a gather too.  The colour steps fold into
 *   y = c s x + c (1 - s) m_c + (1 - c) M + b
 * (m_c the pixel's mean over channels, M the image's mean, both of x;
 * saturation keeps the image's mean at M + b), whose adjoint is
 *   dx = c s g + c (1 - s) / C sum_ch g + (1 - c) / (C H W) sum_all g.
 * Sums are in double. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

/* One image's draws mapped as gancl/ops.h says; identity for the steps
 * that policy leaves out. */
typedef struct da_draws {
    double b, s, c; /* brightness shift, saturation and contrast factors */
    int64_t ty, tx; /* y[i, j] = x[i + ty, j + tx] */
    int64_t y0, x0; /* the cutout's first row and column (may be < 0) */
    int64_t ch, cw; /* its size; 0 without cutout */
    int color;
} da_draws;

/* floor(u n) for u in [0, 1), clamped to n - 1 (the product is exact in
 * double: 24 bits times a small integer). */
static int64_t draw_int(float u, int64_t n)
{
    int64_t k = (int64_t)floor((double)u * (double)n);
    return k > n - 1 ? n - 1 : k < 0 ? 0 : k;
}

static da_draws draws(const float *r, int64_t h, int64_t w, int policy)
{
    da_draws d = {.s = 1.0, .c = 1.0};
    if (policy & GC_DIFFAUG_COLOR) {
        d.color = 1;
        d.b = (double)r[0] - 0.5;
        d.s = 2.0 * (double)r[1];
        d.c = (double)r[2] + 0.5;
    }
    if (policy & GC_DIFFAUG_TRANSLATION) {
        int64_t sh = (int64_t)((double)h / 8.0 + 0.5), sw = (int64_t)((double)w / 8.0 + 0.5);
        d.ty = -sh + draw_int(r[3], 2 * sh + 1);
        d.tx = -sw + draw_int(r[4], 2 * sw + 1);
    }
    if (policy & GC_DIFFAUG_CUTOUT) {
        d.ch = (int64_t)((double)h / 2.0 + 0.5);
        d.cw = (int64_t)((double)w / 2.0 + 0.5);
        d.y0 = draw_int(r[5], h + 1 - d.ch % 2) - d.ch / 2;
        d.x0 = draw_int(r[6], w + 1 - d.cw % 2) - d.cw / 2;
    }
    return d;
}

/* The input pixel that output pixel (i, j) reads, or -1 when it is cut
 * out or shifted in from outside. */
static int64_t source(const da_draws *d, int64_t i, int64_t j, int64_t h, int64_t w)
{
    if (i >= d->y0 && i < d->y0 + d->ch && j >= d->x0 && j < d->x0 + d->cw) return -1;
    int64_t si = i + d->ty, sj = j + d->tx;
    if (si < 0 || si >= h || sj < 0 || sj >= w) return -1;
    return si * w + sj;
}

gc_status gc_cpu_diffaug_forward(gc_t y, gc_t x, gc_t r, int policy)
{
    int64_t n = GC_N(x), c = GC_C(x), h = GC_H(x), w = GC_W(x), hw = h * w, chw = c * hw;
    const float *px = gc_cpu_data(x), *pr = gc_cpu_data(r);
    float *py = gc_cpu_data(y);
    for (int64_t m = 0; m < n; m++) {
        const float *xm = px + m * chw;
        float *ym = py + m * chw;
        da_draws d = draws(pr + m * GC_DIFFAUG_PARAMS, h, w, policy);
        double mean = 0.0;
        if (d.color) {
            for (int64_t k = 0; k < chw; k++)
                mean += xm[k];
            mean /= (double)chw;
        }
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++) {
                int64_t p = i * w + j, q = source(&d, i, j, h, w);
                if (q < 0) {
                    for (int64_t k = 0; k < c; k++)
                        ym[k * hw + p] = 0.0f;
                    continue;
                }
                if (!d.color) {
                    for (int64_t k = 0; k < c; k++)
                        ym[k * hw + p] = xm[k * hw + q];
                    continue;
                }
                double mc = 0.0;
                for (int64_t k = 0; k < c; k++)
                    mc += xm[k * hw + q];
                mc /= (double)c;
                double base = d.c * (1.0 - d.s) * mc + (1.0 - d.c) * mean + d.b;
                for (int64_t k = 0; k < c; k++)
                    ym[k * hw + p] = (float)(d.c * d.s * (double)xm[k * hw + q] + base);
            }
    }
    return GC_OK;
}

gc_status gc_cpu_diffaug_backward(gc_t dx, gc_t dy, gc_t r, int policy)
{
    int64_t n = GC_N(dy), c = GC_C(dy), h = GC_H(dy), w = GC_W(dy), hw = h * w, chw = c * hw;
    const float *pdy = gc_cpu_data(dy), *pr = gc_cpu_data(r);
    float *pdx = gc_cpu_data(dx);
    for (int64_t m = 0; m < n; m++) {
        const float *gm = pdy + m * chw;
        float *dm = pdx + m * chw;
        da_draws d = draws(pr + m * GC_DIFFAUG_PARAMS, h, w, policy);
        /* Input pixel (i, j) receives output pixel (i - ty, j - tx)'s
         * gradient when that pixel reads it (in range and not cut out). */
        double total = 0.0;
        if (d.color)
            for (int64_t i = 0; i < h; i++)
                for (int64_t j = 0; j < w; j++) {
                    int64_t q = source(&d, i, j, h, w);
                    if (q < 0) continue;
                    for (int64_t k = 0; k < c; k++)
                        total += gm[k * hw + i * w + j];
                }
        double fall = (1.0 - d.c) * total / (double)chw;
        for (int64_t si = 0; si < h; si++)
            for (int64_t sj = 0; sj < w; sj++) {
                int64_t q = si * w + sj, i = si - d.ty, j = sj - d.tx;
                int64_t p = (i >= 0 && i < h && j >= 0 && j < w) ? i * w + j : -1;
                if (p >= 0 && source(&d, i, j, h, w) != q) p = -1;
                if (!d.color) {
                    for (int64_t k = 0; k < c; k++)
                        dm[k * hw + q] = p < 0 ? 0.0f : gm[k * hw + p];
                    continue;
                }
                double gsum = 0.0;
                if (p >= 0)
                    for (int64_t k = 0; k < c; k++)
                        gsum += gm[k * hw + p];
                double base = d.c * (1.0 - d.s) * gsum / (double)c + fall;
                for (int64_t k = 0; k < c; k++) {
                    double g = p < 0 ? 0.0 : (double)gm[k * hw + p];
                    dm[k * hw + q] = (float)(d.c * d.s * g + base);
                }
            }
    }
    return GC_OK;
}

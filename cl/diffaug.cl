/* cl/diffaug.cl - DiffAugment (gancl/ops.h): colour, translation and cutout
 * of each image, forward and adjoint, from the image's row of draws r.
 *
 * One work-group per image m = get_group_id(0); its work-items take the
 * image's pixels p = l, l + L, ... and handle every channel of a pixel:
 *
 *     image m     pixel p ->          work-item l takes
 *     channel 0  [ . l . . l . ]      the C values of each of its
 *     channel 1  [ . l . . l . ]      pixels, so the pixel's channel
 *     channel 2  [ . l . . l . ]      mean needs no exchange
 *
 * Both passes are gathers: output pixel (i, j) reads input pixel
 * (i + ty, j + tx) unless it is cut out or that lies outside, and the
 * backward reads the inverse shift (no input is read by two outputs).
 * The colour steps fold into y = c s x + c (1 - s) m_c + (1 - c) M + b
 * (m_c the pixel's channel mean, M the image's mean), so the only
 * exchange is one compensated work-group sum per pass: M of x forward,
 * the sum of the gathered gradient backward.
 */

typedef struct gc_diffaug_draws {
    float b, s, c; /* brightness shift, saturation and contrast factors */
    int ty, tx;    /* y[i, j] = x[i + ty, j + tx] */
    int y0, x0;    /* the cutout's first row and column (may be < 0) */
    int ch, cw;    /* its size; 0 without cutout */
} gc_diffaug_draws;

/* floor(u n) for u in [0, 1), clamped to n - 1.  The float product may
 * round up onto an integer; the fused u n - k is exact in sign and undoes
 * that, so the draw equals the CPU reference's exact one. */
int gc_diffaug_int(float u, int n)
{
    int k = (int)floor(u * (float)n);
    if (k > 0 && fma(u, (float)n, -(float)k) < 0.0f) k--;
    return min(max(k, 0), n - 1);
}

gc_diffaug_draws gc_diffaug_map(__global const float *r, int policy, int h, int w)
{
    gc_diffaug_draws d = {0.0f, 1.0f, 1.0f, 0, 0, 0, 0, 0, 0};
    if (policy & 1) {
        d.b = r[0] - 0.5f;
        d.s = 2.0f * r[1];
        d.c = r[2] + 0.5f;
    }
    if (policy & 2) {
        const int sh = (int)((float)h / 8.0f + 0.5f), sw = (int)((float)w / 8.0f + 0.5f);
        d.ty = -sh + gc_diffaug_int(r[3], 2 * sh + 1);
        d.tx = -sw + gc_diffaug_int(r[4], 2 * sw + 1);
    }
    if (policy & 4) {
        d.ch = (int)((float)h / 2.0f + 0.5f);
        d.cw = (int)((float)w / 2.0f + 0.5f);
        d.y0 = gc_diffaug_int(r[5], h + 1 - d.ch % 2) - d.ch / 2;
        d.x0 = gc_diffaug_int(r[6], w + 1 - d.cw % 2) - d.cw / 2;
    }
    return d;
}

/* The input pixel that output pixel (i, j) reads, or -1. */
int gc_diffaug_source(const gc_diffaug_draws *d, int i, int j, int h, int w)
{
    if (i >= d->y0 && i < d->y0 + d->ch && j >= d->x0 && j < d->x0 + d->cw) return -1;
    const int si = i + d->ty, sj = j + d->tx;
    if (si < 0 || si >= h || sj < 0 || sj >= w) return -1;
    return si * w + sj;
}

/* y, x (N, C, H, W); r (N, 7). */
__kernel void diffaug_forward(GC_TENSOR(y), GC_CTENSOR(x), GC_CTENSOR(r), int policy, int n, int c,
                              int h, int w, __local float *scratch)
{
    const int m = (int)get_group_id(0), lid = (int)get_local_id(0), ls = (int)get_local_size(0);
    if (m >= n) return; /* whole images only: gc_wg_sum's barriers stay uniform */
    const int hw = h * w, chw = c * hw, color = policy & 1;
    const gc_diffaug_draws d = gc_diffaug_map(r + r_off + m * 7, policy, h, w);
    __global const float *xm = x + x_off + m * chw;
    __global float *ym = y + y_off + m * chw;
    float mean = 0.0f;
    if (color) {
        float s = 0.0f, cs = 0.0f;
        for (int k = lid; k < chw; k += ls)
            GC_KAHAN_ADD(s, cs, xm[k]);
        mean = gc_wg_sum(scratch, s, cs) / (float)chw;
    }
    const float scale = d.c * d.s, fc = d.c * (1.0f - d.s) / (float)c;
    const float shift = (1.0f - d.c) * mean + d.b;
    for (int p = lid; p < hw; p += ls) {
        const int i = p / w, j = p - i * w, q = gc_diffaug_source(&d, i, j, h, w);
        if (q < 0) {
            for (int k = 0; k < c; k++)
                ym[k * hw + p] = 0.0f;
        } else if (!color) {
            for (int k = 0; k < c; k++)
                ym[k * hw + p] = xm[k * hw + q];
        } else {
            float sum = 0.0f;
            for (int k = 0; k < c; k++)
                sum += xm[k * hw + q];
            const float base = fc * sum + shift;
            for (int k = 0; k < c; k++)
                ym[k * hw + p] = scale * xm[k * hw + q] + base;
        }
    }
}

/* The output pixel whose gradient input pixel q = (si, sj) receives, or -1. */
int gc_diffaug_target(const gc_diffaug_draws *d, int si, int sj, int h, int w)
{
    const int i = si - d->ty, j = sj - d->tx;
    if (i < 0 || i >= h || j < 0 || j >= w) return -1;
    return gc_diffaug_source(d, i, j, h, w) < 0 ? -1 : i * w + j;
}

/* dx, dy (N, C, H, W); r (N, 7).  dx = c s g + c (1 - s) / C sum_ch g +
 * (1 - c) / (C H W) sum_all g, g the gathered dy. */
__kernel void diffaug_backward(GC_TENSOR(dx), GC_CTENSOR(dy), GC_CTENSOR(r), int policy, int n,
                               int c, int h, int w, __local float *scratch)
{
    const int m = (int)get_group_id(0), lid = (int)get_local_id(0), ls = (int)get_local_size(0);
    if (m >= n) return;
    const int hw = h * w, chw = c * hw, color = policy & 1;
    const gc_diffaug_draws d = gc_diffaug_map(r + r_off + m * 7, policy, h, w);
    __global const float *gm = dy + dy_off + m * chw;
    __global float *dm = dx + dx_off + m * chw;
    float total = 0.0f;
    if (color) {
        float s = 0.0f, cs = 0.0f;
        for (int p = lid; p < hw; p += ls) {
            const int i = p / w, j = p - i * w;
            if (gc_diffaug_source(&d, i, j, h, w) < 0) continue;
            for (int k = 0; k < c; k++)
                GC_KAHAN_ADD(s, cs, gm[k * hw + p]);
        }
        total = gc_wg_sum(scratch, s, cs);
    }
    const float scale = d.c * d.s, fc = d.c * (1.0f - d.s) / (float)c;
    const float fall = (1.0f - d.c) * total / (float)chw;
    for (int q = lid; q < hw; q += ls) {
        const int si = q / w, sj = q - si * w, p = gc_diffaug_target(&d, si, sj, h, w);
        if (!color) {
            for (int k = 0; k < c; k++)
                dm[k * hw + q] = p < 0 ? 0.0f : gm[k * hw + p];
        } else if (p < 0) {
            for (int k = 0; k < c; k++)
                dm[k * hw + q] = fall;
        } else {
            float sum = 0.0f;
            for (int k = 0; k < c; k++)
                sum += gm[k * hw + p];
            const float base = fc * sum + fall;
            for (int k = 0; k < c; k++)
                dm[k * hw + q] = scale * gm[k * hw + p] + base;
        }
    }
}

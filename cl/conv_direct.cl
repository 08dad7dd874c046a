/* cl/conv_direct.cl - direct convolution for an image side of one channel
 * (D's first convolution, G's last transposed one): K = KH*KW <= 16 taps.
 *
 * Through im2row + GEMM these layers have 9 or 16 columns or a depth of 9,
 * where a GEMM tile mostly loads and stores (~15 GFLOP/s).  Here the work
 * is vectorised along 16 consecutive output pixels of one image, and the
 * taps live in registers:
 *
 *   colT   [n][K][OHWp]  the image's value under tap t for output pixel p
 *                        (0 in the padding and past OHW; OHWp = OHW rounded
 *                        up to 16, so every row is whole float16 vectors)
 *   O      [n][OC][OHW]  the multi-channel side, NCHW (y of a conv2d, x of
 *                        a transposed convolution)
 *   W      [OC][K]       the weights as stored (OC, 1, KH, KW), or (C, 1,
 *                        KH, KW) for a transposed convolution
 *
 *   CONV1_IM2COLT   image -> colT
 *   CONV1_FWD       O[n][o][p] = b[o] + sum_t colT[n][t][p] W[o][t]
 *   CONV1_BWD_DATA  colT[n][t][p] = sum_o O[n][o][p] W[o][t]
 *   CONV1_COL2IM    image[n][y][x] = b + the colT entries landing on (y, x)
 *   CONV1_WGRAD     W[o][t] += sum_n,p O[n][o][p] colT[n][t][p]
 *
 * The five passes are one kernel, conv1_run, switching on a mode argument:
 * every work-group is one work-item (explicit float16 code, nothing for
 * PoCL to vectorise across work-items), so the uniform switch costs
 * nothing at run time, while each kernel of the program costs PoCL a fixed
 * compile time on a cold start (~0.2 s; five kernels measured 3.8 s against
 * 1.5 s for one under load).
 *
 * A work-item of FWD / BWD_DATA owns one 16-pixel block of one image (K
 * inputs or accumulators in registers: the tap loops are fully unrolled
 * with a guard, so K is a run-time argument); one of WGRAD owns a pair of
 * output channels and up to 8 taps, and walks every pixel of the chunk,
 * summing in 16 lanes that are added up at the end.  The multi-channel
 * side is read and written with masked tails (OHW need not be a multiple of
 * 16); colT's padding is zero, so it needs none.
 */

#define CONV1_KMAX     16 /* taps, FWD and BWD_DATA */
#define CONV1_WG_TAPS  8  /* taps per WGRAD work-item (two channels: 16 accumulators) */
#define CONV1_IM2COLT  0
#define CONV1_FWD      1
#define CONV1_BWD_DATA 2
#define CONV1_COL2IM   3
#define CONV1_WGRAD    4

/* 16 floats from p, the first `count` of them real (the rest 0). */
float16 conv1_load(__global const float *p, int count)
{
    if (count >= 16) return vload16(0, p);
    float tmp[16];
    for (int l = 0; l < 16; l++)
        tmp[l] = l < count ? p[l] : 0.0f;
    return vload16(0, tmp);
}

void conv1_store(float16 v, __global float *p, int count)
{
    if (count >= 16) {
        vstore16(v, 0, p);
        return;
    }
    float tmp[16];
    vstore16(v, 0, tmp);
    for (int l = 0; l < count; l++)
        p[l] = tmp[l];
}

float conv1_hsum(float16 v)
{
    float8 a8 = v.lo + v.hi;
    float4 a4 = a8.lo + a8.hi;
    float2 a2 = a4.lo + a4.hi;
    return a2.lo + a2.hi;
}

/* The geometry every pass reads. */
typedef struct conv1_geom {
    int oc, k, h, w, oh, ow, ohw, ohwp, kh, kw, sh, sw, ph, pw;
} conv1_geom;

/* colT[n][t][p] = img[n][oy*SH - PH + ky][ox*SW - PW + kx] for p = oy*OW + ox
 * and t = ky*KW + kx; 0 outside the image and for p >= OHW.  One row
 * (n, t) per work-item. */
void conv1_im2colt(__global float *colt, __global const float *img, int t, int n,
                   const conv1_geom *g)
{
    const int ky = t / g->kw, kx = t - ky * g->kw;
    __global float *out = colt + (n * g->k + t) * g->ohwp;
    __global const float *src = img + n * g->h * g->w;
    for (int oy = 0; oy < g->oh; oy++, out += g->ow) {
        const int iy = oy * g->sh - g->ph + ky;
        if (iy < 0 || iy >= g->h) {
            for (int ox = 0; ox < g->ow; ox++)
                out[ox] = 0.0f;
            continue;
        }
        for (int ox = 0, ix = kx - g->pw; ox < g->ow; ox++, ix += g->sw)
            out[ox] = ix >= 0 && ix < g->w ? src[iy * g->w + ix] : 0.0f;
    }
    for (int p = g->ohw; p < g->ohwp; p++, out++)
        *out = 0.0f;
}

/* O[n][o][p0 .. p0+15] for every o. */
void conv1_fwd(__global float *o, __global const float *colt, __global const float *wt,
               __global const float *bias, int has_bias, int p0, int n, const conv1_geom *g)
{
    __global const float *cn = colt + n * g->k * g->ohwp + p0;
    float16 in[CONV1_KMAX];
#pragma unroll
    for (int t = 0; t < CONV1_KMAX; t++)
        in[t] = t < g->k ? vload16(0, cn + t * g->ohwp) : (float16)0.0f;
    __global float *out = o + n * g->oc * g->ohw + p0;
    const int count = g->ohw - p0;
    for (int c = 0; c < g->oc; c++, wt += g->k, out += g->ohw) {
        float16 acc = (float16)(has_bias ? bias[c] : 0.0f);
#pragma unroll
        for (int t = 0; t < CONV1_KMAX; t++)
            if (t < g->k) acc = fma(in[t], (float16)wt[t], acc);
        conv1_store(acc, out, count);
    }
}

/* colT[n][t][p0 .. p0+15] for every t. */
void conv1_bwd_data(__global float *colt, __global const float *o, __global const float *wt, int p0,
                    int n, const conv1_geom *g)
{
    float16 acc[CONV1_KMAX];
#pragma unroll
    for (int t = 0; t < CONV1_KMAX; t++)
        acc[t] = (float16)0.0f;
    __global const float *src = o + n * g->oc * g->ohw + p0;
    const int count = g->ohw - p0;
    for (int c = 0; c < g->oc; c++, wt += g->k, src += g->ohw) {
        const float16 d = conv1_load(src, count);
#pragma unroll
        for (int t = 0; t < CONV1_KMAX; t++)
            if (t < g->k) acc[t] = fma(d, (float16)wt[t], acc[t]);
    }
    __global float *cn = colt + n * g->k * g->ohwp + p0;
#pragma unroll
    for (int t = 0; t < CONV1_KMAX; t++)
        if (t < g->k) vstore16(acc[t], 0, cn + t * g->ohwp);
}

/* Image row y of image n: each pixel gets the colT entries whose window
 * position lands on it.  The row is set to the bias, then every tap (ky,
 * kx) that reaches it adds its output row along x, with no division per
 * pixel; each pixel still sums in the order of conv_row2im (ky, then kx). */
void conv1_col2im(__global float *img, __global const float *colt, __global const float *bias,
                  int has_bias, int y, int n, const conv1_geom *g)
{
    __global const float *cn = colt + n * g->k * g->ohwp;
    __global float *out = img + (n * g->h + y) * g->w;
    const float b = has_bias ? bias[0] : 0.0f;
    for (int xx = 0; xx < g->w; xx++)
        out[xx] = 0.0f;
    for (int ky = (y + g->ph) % g->sh, oy = (y + g->ph) / g->sh; ky < g->kh && oy >= 0;
         ky += g->sh, oy--) {
        if (oy >= g->oh) continue;
        for (int kx = 0; kx < g->kw; kx++) {
            /* x = ox*SW - PW + kx inside [0, W) */
            int ox = kx >= g->pw ? 0 : (g->pw - kx + g->sw - 1) / g->sw;
            __global const float *src = cn + (ky * g->kw + kx) * g->ohwp + oy * g->ow;
            for (int xx = ox * g->sw - g->pw + kx; ox < g->ow && xx < g->w; ox++, xx += g->sw)
                out[xx] += src[ox];
        }
    }
    for (int xx = 0; xx < g->w; xx++)
        out[xx] += b;
}

/* dW[c][t] and dW[c+1][t] (if c+1 < OC) for t in [t0, t0 + 8) ∩ [0, K),
 * over nb images. */
void conv1_wgrad(__global float *dw, __global const float *o, __global const float *colt, int c,
                 int t0, int nb, const conv1_geom *g)
{
    const int c1 = c + 1 < g->oc ? c + 1 : c; /* a lone last channel: computed twice, stored once */
    const int nt = g->k - t0 < CONV1_WG_TAPS ? g->k - t0 : CONV1_WG_TAPS;
    float16 a0[CONV1_WG_TAPS], a1[CONV1_WG_TAPS];
#pragma unroll
    for (int t = 0; t < CONV1_WG_TAPS; t++)
        a0[t] = a1[t] = (float16)0.0f;
    for (int n = 0; n < nb; n++) {
        __global const float *s0 = o + (n * g->oc + c) * g->ohw;
        __global const float *s1 = o + (n * g->oc + c1) * g->ohw;
        __global const float *cn = colt + (n * g->k + t0) * g->ohwp;
        for (int p0 = 0; p0 < g->ohw; p0 += 16) {
            const float16 d0 = conv1_load(s0 + p0, g->ohw - p0);
            const float16 d1 = conv1_load(s1 + p0, g->ohw - p0);
#pragma unroll
            for (int t = 0; t < CONV1_WG_TAPS; t++) {
                if (t < nt) {
                    const float16 v = vload16(0, cn + t * g->ohwp + p0);
                    a0[t] = fma(d0, v, a0[t]);
                    a1[t] = fma(d1, v, a1[t]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < CONV1_WG_TAPS; t++) {
        if (t < nt) {
            dw[c * g->k + t0 + t] += conv1_hsum(a0[t]);
            if (c1 != c) dw[c1 * g->k + t0 + t] += conv1_hsum(a1[t]);
        }
    }
}

/* One pass (mode) over nb images of a chunk.  Tensors by role:
 *   IM2COLT   a = colT,  b = image                 global (K, nb)
 *   FWD       a = O,     b = colT, c = W, d = bias global (OHWp/16, nb)
 *   BWD_DATA  a = colT,  b = O,    c = W           global (OHWp/16, nb)
 *   COL2IM    a = image, b = colT,         d = bias global (H, nb)
 *   WGRAD     a = dW,    b = O,    c = colT       global (ceil(OC/2), ceil(K/8))
 * Work-groups of one work-item. */
__kernel void conv1_run(int mode, GC_TENSOR(a), GC_CTENSOR(b), GC_CTENSOR(c), GC_CTENSOR(d),
                        int has_bias, int nb, int oc, int k, int h, int w, int oh, int ow, int kh,
                        int kw, int sh, int sw, int ph, int pw)
{
    const int i0 = (int)get_global_id(0), i1 = (int)get_global_id(1);
    conv1_geom g = {oc, k, h, w, oh, ow, oh * ow, (oh * ow + 15) / 16 * 16, kh, kw, sh, sw, ph, pw};
    __global float *pa = a + a_off;
    __global const float *pb = b + b_off, *pc = c + c_off, *pd = d + d_off;
    switch (mode) {
    case CONV1_IM2COLT:
        if (i0 < k) conv1_im2colt(pa, pb, i0, i1, &g);
        break;
    case CONV1_FWD:
        if (i0 * 16 < g.ohwp) conv1_fwd(pa, pb, pc, pd, has_bias, i0 * 16, i1, &g);
        break;
    case CONV1_BWD_DATA:
        if (i0 * 16 < g.ohwp) conv1_bwd_data(pa, pb, pc, i0 * 16, i1, &g);
        break;
    case CONV1_COL2IM:
        if (i0 < h) conv1_col2im(pa, pb, pd, has_bias, i0, i1, &g);
        break;
    case CONV1_WGRAD:
        if (2 * i0 < oc && i1 * CONV1_WG_TAPS < k)
            conv1_wgrad(pa, pb, pc, 2 * i0, i1 * CONV1_WG_TAPS, nb, &g);
        break;
    }
}

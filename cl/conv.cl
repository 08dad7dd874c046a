/* cl/conv.cl - the data movement around convolution GEMMs: im2row, which
 * lays each output pixel's receptive field out as one row, and row2im, its
 * adjoint (a gather, so no atomics and a fixed summation order); then the
 * channels-last inference kernels (im2row over a range of rows, a direct
 * convolution with im2row fused into the GEMM micro-kernel, and a ReLU
 * over a channel slice).
 *
 * Images are first transposed to rows of channels ("rows" layout, NHWC per
 * chunk; gemm_transpose in cl/gemm.cl), so a receptive field is KH*KW
 * runs of C contiguous floats and both kernels move whole channel vectors:
 *
 *   image rows  [nb][H][W][C]
 *   col         [nb*OH*OW][KH*KW*C]   row n*OH*OW + oy*OW + ox,
 *                                      column (ky*KW + kx)*C + c

 *
 *              K = KH*KW*C
 *          +------------------------+
 *   pixel 0| tap 0: c.. | tap 1: c..|   col x W'^T  = output rows  (forward)
 *   pixel 1|                        |   dOut rows x W' = d col     (data gradient)
 *     ...  |                        |   dOut rows^T x col = dW'    (weight gradient)
 *          +------------------------+
 *
 * W' is the weight tensor with its taps before its channels, (O, KH, KW, C)
 * (cl_conv.c permutes it, and dW' back).  One work-item per output pixel
 * (im2row) or image pixel (row2im); no division per element.
 */

/* One row of col: the KH*KW channel vectors (each C long) of image img
 * (H, W, C) under output pixel (oy, ox), zeros in the padding. */
void gc_im2row_pixel(__global float *out, __global const float *img, int oy, int ox, int c, int h,
                     int w, int kh, int kw, int sh, int sw, int ph, int pw)
{
    for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * sh - ph + ky;
        for (int kx = 0; kx < kw; kx++, out += c) {
            const int ix = ox * sw - pw + kx;
            int i = 0;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                for (; i + 16 <= c; i += 16)
                    vstore16((float16)0.0f, 0, out + i);
                for (; i < c; i++)
                    out[i] = 0.0f;
            } else {
                __global const float *src = img + (iy * w + ix) * c;
                for (; i + 16 <= c; i += 16)
                    vstore16(vload16(0, src + i), 0, out + i);
                for (; i < c; i++)
                    out[i] = src[i];
            }
        }
    }
}

/* col[(n*OH + oy)*OW + ox][(ky*KW + kx)*C + c] =
 *     xr[n][oy*SH - PH + ky][ox*SW - PW + kx][c], or 0 in the padding,
 * with col's rows ldc >= C*KH*KW floats apart (the columns past K are
 * neither written nor read).  Global size (OW, OH, nb). */
__kernel void conv_im2row(__global float *col, int col_off, int ldc, __global const float *xr,
                          int xr_off, int c, int h, int w, int oh, int ow, int kh, int kw, int sh,
                          int sw, int ph, int pw)
{
    const int ox = (int)get_global_id(0), oy = (int)get_global_id(1), n = (int)get_global_id(2);
    if (ox >= ow || oy >= oh) return;
    gc_im2row_pixel(col + col_off + ((n * oh + oy) * ow + ox) * ldc, xr + xr_off + n * h * w * c,
                    oy, ox, c, h, w, kh, kw, sh, sw, ph, pw);
}

/* imgr[n][y][x][c] = (bias[c] if has_bias) + the sum of every col entry
 * whose window position lands on (y, x): taps ky with (y + PH - ky)
 * divisible by SH, from output row oy = (y + PH - ky) / SH in [0, OH),
 * likewise along x.  The first such ky is (y + PH) % SH, and oy falls by
 * one per step of SH.  Taps are added in order (ky, then kx), so each
 * pixel's sum has a fixed order; col's rows are ldc apart.  (Writing NCHW
 * directly, a channel vector scattered with stride H*W, measured slower
 * than rows plus a transpose.)
 * Global size (W, H, nb). */
__kernel void conv_row2im(__global float *imgr, int imgr_off, GC_CTENSOR(bias), int has_bias,
                          __global const float *col, int col_off, int ldc, int c, int h, int w,
                          int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const int xx = (int)get_global_id(0), y = (int)get_global_id(1), n = (int)get_global_id(2);
    if (xx >= w || y >= h) return;
    const int k = ldc;
    __global float *out = imgr + imgr_off + ((n * h + y) * w + xx) * c;
    __global const float *cn = col + col_off + n * oh * ow * k;
    const int ky0 = (y + ph) % sh, oy0 = (y + ph) / sh;
    const int kx0 = (xx + pw) % sw, ox0 = (xx + pw) / sw;
    int i = 0;
    for (; i + 16 <= c; i += 16) {
        float16 s = (float16)0.0f;
        for (int ky = ky0, oy = oy0; ky < kh && oy >= 0; ky += sh, oy--) {
            if (oy >= oh) continue;
            for (int kx = kx0, ox = ox0; kx < kw && ox >= 0; kx += sw, ox--)
                if (ox < ow) s += vload16(0, cn + (oy * ow + ox) * k + (ky * kw + kx) * c + i);
        }
        if (has_bias) s += vload16(0, bias + bias_off + i);
        vstore16(s, 0, out + i);
    }
    for (; i < c; i++) {
        float s = 0.0f;
        for (int ky = ky0, oy = oy0; ky < kh && oy >= 0; ky += sh, oy--) {
            if (oy >= oh) continue;
            for (int kx = kx0, ox = ox0; kx < kw && ox >= 0; kx += sw, ox--)
                if (ox < ow) s += cn[(oy * ow + ox) * k + (ky * kw + kx) * c + i];
        }
        if (has_bias) s += bias[bias_off + i];
        out[i] = s;
    }
}

/* im2row over output rows [r0, r0 + rows) of the whole batch (row
 * r = (n*OH + oy)*OW + ox), into col[r - r0]: the channels-last forward
 * fills col in blocks small enough to stay in cache until its GEMM reads
 * them.  Each work-item fills `per` consecutive rows (one row per
 * work-group was mostly PoCL's per-group overhead); global size
 * ceil(rows / per). */
__kernel void conv_im2row_range(__global float *col, int col_off, __global const float *xr,
                                int xr_off, int r0, int rows, int per, int c, int h, int w, int oh,
                                int ow, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const int first = (int)get_global_id(0) * per, last = min(first + per, rows);
    const int k = c * kh * kw;
    for (int i = first; i < last; i++) {
        const int r = r0 + i, n = r / (oh * ow), p = r - n * (oh * ow), oy = p / ow;
        const int ox = p - oy * ow;
        gc_im2row_pixel(col + col_off + i * k, xr + xr_off + n * h * w * c, oy, ox, c, h, w, kh, kw,
                        sh, sw, ph, pw);
    }
}

/* ---- direct channels-last convolution --------------------------------------
 * y[r][c0 + o] = b[o] + sum over (ky, kx, c) of x[n][iy][ix][c] * w[ky][kx][c][o]
 * for output rows r = (n*OH + oy)*OW + ox: im2row fused into the GEMM
 * micro-kernel of cl/gemm.cl.  One work-item computes NHWC_MR consecutive
 * rows x NV*16 output channels in registers; per tap it finds each row's
 * input pixel once (or that it lies in the padding), then per input
 * channel loads NV vectors of w and broadcasts one x per row.  Taps where
 * every row is inside the image (the interior, all of an unpadded
 * convolution) run without the padding test.  Rows past m repeat the last
 * row and are not stored.  The launch covers oc output channels of w's
 * ldw (the host offsets y, w and bias to the first).  Global size
 * (oc / (NV*16), ceil(m / (NHWC_MR * tiles))), one work-item per work-group, as for
 * the GEMM, each running `tiles` row tiles. */
#define NHWC_MR 12

inline __attribute__((always_inline)) void
conv_nhwc_tile(const int NV, __global float *y, int y_off, int cy, __global const float *x,
               int x_off, __global const float *wt, int w_off, __global const float *bias,
               int b_off, int has_bias, int relu, int m, int c, int h, int w, int oc, int ldw,
               int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int r0, int o0)
{
    if (r0 >= m || o0 >= oc) return;
    /* Two divisions per tile; the row's (n, oy, ox) is then carried. */
    int iy0[NHWC_MR], ix0[NHWC_MR], base[NHWC_MR];
    int n = r0 / (oh * ow), p = r0 - n * (oh * ow), oy = p / ow, ox = p - oy * ow;
#pragma unroll
    for (int i = 0; i < NHWC_MR; i++) {
        if (r0 + i < m) { /* rows past m repeat the last one */
            iy0[i] = oy * sh - ph;
            ix0[i] = ox * sw - pw;
            base[i] = x_off + n * h * w * c;
        } else {
            iy0[i] = iy0[i > 0 ? i - 1 : 0];
            ix0[i] = ix0[i > 0 ? i - 1 : 0];
            base[i] = base[i > 0 ? i - 1 : 0];
        }
        if (++ox == ow) {
            ox = 0;
            if (++oy == oh) {
                oy = 0;
                n++;
            }
        }
    }
    float16 acc[NHWC_MR][2];
#pragma unroll
    for (int i = 0; i < NHWC_MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++)
            acc[i][v] = (float16)0.0f;
    __global const float *wp = wt + w_off + o0;
    for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++, wp += c * ldw) {
            int off[NHWC_MR], all_in = 1;
#pragma unroll
            for (int i = 0; i < NHWC_MR; i++) {
                const int iy = iy0[i] + ky, ix = ix0[i] + kx;
                const int in = iy >= 0 && iy < h && ix >= 0 && ix < w;
                all_in &= in;
                /* Out-of-image rows read pixel 0 of their image, masked below. */
                off[i] = base[i] + (in ? (iy * w + ix) * c : 0);
            }
            __global const float *bp = wp;
            if (all_in) {
                for (int cc = 0; cc < c; cc++, bp += ldw) {
                    float16 bv[2];
#pragma unroll
                    for (int v = 0; v < NV; v++)
                        bv[v] = vload16(v, bp);
#pragma unroll
                    for (int i = 0; i < NHWC_MR; i++) {
                        const float16 av = (float16)x[off[i] + cc];
#pragma unroll
                        for (int v = 0; v < NV; v++)
                            acc[i][v] = fma(av, bv[v], acc[i][v]);
                    }
                }
            } else {
                int in[NHWC_MR];
#pragma unroll
                for (int i = 0; i < NHWC_MR; i++) {
                    const int iy = iy0[i] + ky, ix = ix0[i] + kx;
                    in[i] = iy >= 0 && iy < h && ix >= 0 && ix < w;
                }
                for (int cc = 0; cc < c; cc++, bp += ldw) {
                    float16 bv[2];
#pragma unroll
                    for (int v = 0; v < NV; v++)
                        bv[v] = vload16(v, bp);
#pragma unroll
                    for (int i = 0; i < NHWC_MR; i++) {
                        /* An unconditional load (off is always valid), then a select. */
                        const float xv = x[off[i] + cc];
                        const float16 av = (float16)(in[i] ? xv : 0.0f);
#pragma unroll
                        for (int v = 0; v < NV; v++)
                            acc[i][v] = fma(av, bv[v], acc[i][v]);
                    }
                }
            }
        }
    float16 bv[2];
#pragma unroll
    for (int v = 0; v < NV; v++)
        bv[v] = has_bias ? vload16(v, bias + b_off + o0) : (float16)0.0f;
#pragma unroll
    for (int i = 0; i < NHWC_MR; i++) {
        if (r0 + i >= m) continue;
        __global float *row = y + y_off + (r0 + i) * cy + o0;
#pragma unroll
        for (int v = 0; v < NV; v++) {
            const float16 r = acc[i][v] + bv[v];
            vstore16(relu ? fmax(r, (float16)0.0f) : r, v, row);
        }
    }
}

#define NHWC_DIRECT_ARGS                                                                           \
    __global float *y, int y_off, int cy, __global const float *x, int x_off,                      \
        __global const float *wt, int w_off, __global const float *bias, int b_off, int has_bias,  \
        int relu, int m, int c, int h, int w, int oc, int ldw, int oh, int ow, int kh, int kw,     \
        int sh, int sw, int ph, int pw, int tiles
#define NHWC_DIRECT_PASS                                                                           \
    y, y_off, cy, x, x_off, wt, w_off, bias, b_off, has_bias, relu, m, c, h, w, oc, ldw, oh, ow,   \
        kh, kw, sh, sw, ph, pw
/* Each work-item runs `tiles` consecutive row tiles: with a short K, one
 * tile per work-group was mostly PoCL's per-group overhead. */
#define NHWC_DIRECT_LOOP(NV)                                                                       \
    const int o0 = (int)get_global_id(0) * NV * 16, t0 = (int)get_global_id(1) * tiles;            \
    for (int t = t0; t < t0 + tiles; t++)                                                          \
        conv_nhwc_tile(NV, NHWC_DIRECT_PASS, t *NHWC_MR, o0);

/* 32 output channels per work-item (OC a multiple of 32). */
__kernel void conv_nhwc_direct_32(NHWC_DIRECT_ARGS){NHWC_DIRECT_LOOP(2)}

/* 16 output channels per work-item (OC a multiple of 16). */
__kernel void conv_nhwc_direct_16(NHWC_DIRECT_ARGS){NHWC_DIRECT_LOOP(1)}

/* max(0, .) over cols columns of rows rows of leading dimension ld (a
 * channel slice of a channels-last tensor, after its GEMM): `per` rows per
 * work-item, global size ceil(rows / per). */
__kernel void conv_relu_rows(__global float *y, int y_off, int ld, int rows, int cols, int per)
{
    const int first = (int)get_global_id(0) * per, last = min(first + per, rows);
    for (int r = first; r < last; r++) {
        __global float *p = y + y_off + r * ld;
        int j = 0;
        for (; j + 16 <= cols; j += 16)
            vstore16(fmax(vload16(0, p + j), (float16)0.0f), 0, p + j);
        for (; j < cols; j++)
            p[j] = fmax(p[j], 0.0f);
    }
}

/* cl/conv.cl - the data movement around convolution GEMMs: im2row, which
 * lays each output pixel's receptive field out as one row, and row2im, its
 * adjoint (a gather, so no atomics and a fixed summation order).
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

/* col[(n*OH + oy)*OW + ox][(ky*KW + kx)*C + c] =
 *     xr[n][oy*SH - PH + ky][ox*SW - PW + kx][c], or 0 in the padding.
 * Global size (OW, OH, nb). */
__kernel void conv_im2row(__global float *col, int col_off, __global const float *xr, int xr_off,
                          int c, int h, int w, int oh, int ow, int kh, int kw, int sh, int sw,
                          int ph, int pw)
{
    const int ox = (int)get_global_id(0), oy = (int)get_global_id(1), n = (int)get_global_id(2);
    if (ox >= ow || oy >= oh) return;
    const int k = c * kh * kw;
    __global float *out = col + col_off + ((n * oh + oy) * ow + ox) * k;
    __global const float *img = xr + xr_off + n * h * w * c;
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

/* imgr[n][y][x][c] = (bias[c] if has_bias) + the sum of every col entry
 * whose window position lands on (y, x): taps ky with (y + PH - ky)
 * divisible by SH, from output row oy = (y + PH - ky) / SH in [0, OH),
 * likewise along x.  The first such ky is (y + PH) % SH, and oy falls by
 * one per step of SH.  Taps are added in order (ky, then kx), so each
 * pixel's sum has a fixed order.  (Writing NCHW directly, a channel vector
 * scattered with stride H*W, measured slower than rows plus a transpose.)
 * Global size (W, H, nb). */
__kernel void conv_row2im(__global float *imgr, int imgr_off, GC_CTENSOR(bias), int has_bias,
                          __global const float *col, int col_off, int c, int h, int w, int oh,
                          int ow, int kh, int kw, int sh, int sw, int ph, int pw)
{
    const int xx = (int)get_global_id(0), y = (int)get_global_id(1), n = (int)get_global_id(2);
    if (xx >= w || y >= h) return;
    const int k = c * kh * kw;
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

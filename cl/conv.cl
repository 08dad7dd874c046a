/* cl/conv.cl - the data movement around convolution GEMMs: im2col, col2im
 * and the permutes between NCHW and a channel-major "CN" layout.
 *
 * A chunk of nb images is laid out so each pass is one large GEMM:
 *
 *   image chunk  (nb, C, H, W)          images n0 .. n0+nb-1 of an NCHW tensor
 *   col          [C*KH*KW][nb*OH*OW]    row (c, ky, kx), column n*OH*OW + p
 *   CN           [C][nb*HW]             column n*HW + p
 *
 *        col (K rows)                         Ycn = W [OC][K] x col
 *   +---------+---------+-- ... --+            +---------+---------+--
 *   | image 0 | image 1 |         |   --->     | image 0 | image 1 |
 *   | OH*OW   | OH*OW   |         |            | OH*OW   | OH*OW   |
 *   +---------+---------+-- ... --+            +---------+---------+--
 *
 * col2im is a gather: one work-item per image pixel sums the col entries
 * that map to it, so no atomics and a fixed summation order.
 */

/* col[(c*KH + ky)*KW + kx][n*OH*OW + oy*OW + ox] =
 *     x[n0 + n][c][oy*SH - PH + ky][ox*SW - PW + kx], or 0 in the padding. */
__kernel void conv_im2col(__global float *col, int col_off, GC_CTENSOR(x), int n0, int nb, int c,
                          int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph,
                          int pw, int total)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int ohw = oh * ow, cols = nb * ohw;
    const int r = i / cols, j = i - r * cols;
    const int n = j / ohw, p = j - n * ohw;
    const int oy = p / ow, ox = p - oy * ow;
    const int kx = r % kw, t = r / kw;
    const int ky = t % kh, ch = t / kh;
    const int yy = oy * sh - ph + ky, xx = ox * sw - pw + kx;
    float v = 0.0f;
    if (yy >= 0 && yy < h && xx >= 0 && xx < w)
        v = x[x_off + (((n0 + n) * c + ch) * h + yy) * w + xx];
    col[col_off + i] = v;
}

/* img[n0 + n][c][y][x] = (bias[c] if has_bias) + the sum of every col entry
 * whose window position lands on (y, x).  The inverse mapping: ky with
 * (y + PH - ky) divisible by SH and oy = (y + PH - ky) / SH in [0, OH). */
__kernel void conv_col2im(GC_TENSOR(img), GC_CTENSOR(bias), int has_bias, __global const float *col,
                          int col_off, int n0, int nb, int c, int h, int w, int oh, int ow, int kh,
                          int kw, int sh, int sw, int ph, int pw, int total)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int xx = i % w, t0 = i / w;
    const int yy = t0 % h, t1 = t0 / h;
    const int ch = t1 % c, n = t1 / c;
    const int ohw = oh * ow, cols = nb * ohw;
    __global const float *cp = col + col_off + n * ohw;
    float s = 0.0f;
    for (int ky = 0; ky < kh; ky++) {
        const int ty = yy + ph - ky;
        if (ty < 0) break; /* ty only decreases with ky */
        if (ty % sh) continue;
        const int oy = ty / sh;
        if (oy >= oh) continue;
        for (int kx = 0; kx < kw; kx++) {
            const int tx = xx + pw - kx;
            if (tx < 0) break;
            if (tx % sw) continue;
            const int ox = tx / sw;
            if (ox >= ow) continue;
            s += cp[((ch * kh + ky) * kw + kx) * cols + oy * ow + ox];
        }
    }
    if (has_bias) s += bias[bias_off + ch];
    img[img_off + n0 * c * h * w + i] = s;
}

/* dst[c][n*HW + p] = src[n0 + n][c][p]  (NCHW chunk -> CN). */
__kernel void conv_nchw_to_cn(__global float *dst, int dst_off, GC_CTENSOR(src), int n0, int nb,
                              int c, int hw, int total)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int p = i % hw, t = i / hw;
    const int n = t % nb, ch = t / nb;
    dst[dst_off + i] = src[src_off + ((n0 + n) * c + ch) * hw + p];
}

/* dst[n0 + n][c][p] = src[c][n*HW + p] (+ bias[c])  (CN -> NCHW chunk). */
__kernel void conv_cn_to_nchw(GC_TENSOR(dst), GC_CTENSOR(bias), int has_bias,
                              __global const float *src, int src_off, int n0, int nb, int c, int hw,
                              int total)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int p = i % hw, t = i / hw;
    const int ch = t % c, n = t / c;
    float v = src[src_off + (ch * nb + n) * hw + p];
    if (has_bias) v += bias[bias_off + ch];
    dst[dst_off + n0 * c * hw + i] = v;
}

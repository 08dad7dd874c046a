/* cl/pool.cl - max and average pooling, forward and backward, the
 * backward of global average pooling (its forward is reduce_sum), and
 * channels-last pooling for inference (pool_nhwc_forward, at the end).
 *
 * Planes are the N*C images of HxW; one work-item per output pixel
 * forward, one per input pixel backward.  Backward passes gather: an
 * input pixel (y, x) is covered by the windows oy in [lo, hi] with
 *   lo = ceil((y + PH - KH + 1) / SH),  hi = floor((y + PH) / SH),
 * clipped to [0, OH), so no atomics are needed and contributions are
 * added in output raster order, as the CPU reference's scatter does.
 */

#define POOL_ARGS                                                                                  \
    int h, int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int total

/* The first window index covering position v (may be past the last). */
int pool_lo(int v, int pad, int k, int s)
{
    const int t = v + pad - k + 1;
    return t <= 0 ? 0 : (t + s - 1) / s;
}

int pool_hi(int v, int pad, int s, int out)
{
    return min((v + pad) / s, out - 1);
}

/* Max over the window's real pixels, the first maximum winning (a NaN
 * wins, as in PyTorch).  arg (if want_arg) receives y*W + x of the winner. */
__kernel void max_pool_forward(GC_TENSOR(y), GC_CTENSOR(x), __global int *arg, int arg_off,
                               int want_arg, POOL_ARGS)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int ox = i % ow, t = i / ow;
    const int oy = t % oh, plane = t / oh;
    const int hs = oy * sh - ph, ws = ox * sw - pw;
    const int h0 = max(hs, 0), h1 = min(hs + kh, h), w0 = max(ws, 0), w1 = min(ws + kw, w);
    __global const float *xp = x + x_off + plane * h * w;
    float best = -INFINITY;
    int bi = -1;
    for (int yy = h0; yy < h1; yy++)
        for (int xx = w0; xx < w1; xx++) {
            const float v = xp[yy * w + xx];
            if (bi < 0 || v > best || isnan(v)) {
                best = v;
                bi = yy * w + xx;
            }
        }
    y[y_off + i] = best;
    if (want_arg) arg[arg_off + i] = bi;
}

__kernel void max_pool_backward(GC_TENSOR(dx), GC_CTENSOR(dy), __global const int *arg, int arg_off,
                                POOL_ARGS)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int xx = i % w, t = i / w;
    const int yy = t % h, plane = t / h;
    const int me = yy * w + xx;
    const int base = plane * oh * ow;
    const int oy0 = pool_lo(yy, ph, kh, sh), oy1 = pool_hi(yy, ph, sh, oh);
    const int ox0 = pool_lo(xx, pw, kw, sw), ox1 = pool_hi(xx, pw, sw, ow);
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            const int o = base + oy * ow + ox;
            if (arg[arg_off + o] == me) s += dy[dy_off + o];
        }
    dx[dx_off + i] = s;
}

/* The divisor of window (oy, ox): its size clipped to the padded image
 * when count_include_pad, else its number of real pixels. */
float pool_divisor(int oy, int ox, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                   int include_pad)
{
    const int hs = oy * sh - ph, ws = ox * sw - pw;
    if (include_pad) return (float)((min(hs + kh, h + ph) - hs) * (min(ws + kw, w + pw) - ws));
    return (float)((min(hs + kh, h) - max(hs, 0)) * (min(ws + kw, w) - max(ws, 0)));
}

__kernel void avg_pool_forward(GC_TENSOR(y), GC_CTENSOR(x), int include_pad, POOL_ARGS)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int ox = i % ow, t = i / ow;
    const int oy = t % oh, plane = t / oh;
    const int hs = oy * sh - ph, ws = ox * sw - pw;
    const int h0 = max(hs, 0), h1 = min(hs + kh, h), w0 = max(ws, 0), w1 = min(ws + kw, w);
    __global const float *xp = x + x_off + plane * h * w;
    float s = 0.0f;
    for (int yy = h0; yy < h1; yy++)
        for (int xx = w0; xx < w1; xx++)
            s += xp[yy * w + xx];
    y[y_off + i] = s / pool_divisor(oy, ox, h, w, kh, kw, sh, sw, ph, pw, include_pad);
}

__kernel void avg_pool_backward(GC_TENSOR(dx), GC_CTENSOR(dy), int include_pad, POOL_ARGS)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int xx = i % w, t = i / w;
    const int yy = t % h, plane = t / h;
    const int base = plane * oh * ow;
    const int oy0 = pool_lo(yy, ph, kh, sh), oy1 = pool_hi(yy, ph, sh, oh);
    const int ox0 = pool_lo(xx, pw, kw, sw), ox1 = pool_hi(xx, pw, sw, ow);
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++)
            s += dy[dy_off + base + oy * ow + ox] /
                 pool_divisor(oy, ox, h, w, kh, kw, sh, sw, ph, pw, include_pad);
    dx[dx_off + i] = s;
}

/* dx[n][c][p] = dy[n][c] / HW. */
__kernel void global_avg_pool_backward(GC_TENSOR(dx), GC_CTENSOR(dy), int hw, int total)
{
    const int i = (int)get_global_id(0);
    if (i < total) dx[dx_off + i] = dy[dy_off + i / hw] / (float)hw;
}

/* Channels-last pooling (max when is_max, else average): x (N, H, W, C)
 * into channels [c0, c0 + C) of y (N, OH, OW, CY), y_off already at c0.
 * One work-item per output pixel, over its channels 16 at a time, so every
 * load is a contiguous channel vector; global size (OW, OH, N).  Same
 * windows, order of summation and NaN rule as the NCHW kernels. */
__kernel void pool_nhwc_forward(GC_TENSOR(y), GC_CTENSOR(x), int c, int cy, int is_max,
                                int include_pad, int h, int w, int oh, int ow, int kh, int kw,
                                int sh, int sw, int ph, int pw)
{
    const int ox = (int)get_global_id(0), oy = (int)get_global_id(1), n = (int)get_global_id(2);
    if (ox >= ow || oy >= oh) return;
    const int hs = oy * sh - ph, ws = ox * sw - pw;
    const int h0 = max(hs, 0), h1 = min(hs + kh, h), w0 = max(ws, 0), w1 = min(ws + kw, w);
    const float div =
        is_max ? 1.0f : pool_divisor(oy, ox, h, w, kh, kw, sh, sw, ph, pw, include_pad);
    __global float *out = y + y_off + ((n * oh + oy) * ow + ox) * cy;
    __global const float *img = x + x_off + n * h * w * c;
    int i = 0;
    for (; i + 16 <= c; i += 16) {
        float16 acc = is_max ? (float16)(-INFINITY) : (float16)0.0f;
        for (int yy = h0; yy < h1; yy++)
            for (int xx = w0; xx < w1; xx++) {
                const float16 v = vload16(0, img + (yy * w + xx) * c + i);
                if (is_max)
                    acc = select(acc, v, (v > acc) | isnan(v));
                else
                    acc += v;
            }
        vstore16(is_max ? acc : acc / div, 0, out + i);
    }
    for (; i < c; i++) {
        float acc = is_max ? -INFINITY : 0.0f;
        for (int yy = h0; yy < h1; yy++)
            for (int xx = w0; xx < w1; xx++) {
                const float v = img[(yy * w + xx) * c + i];
                if (is_max)
                    acc = (v > acc || isnan(v)) ? v : acc;
                else
                    acc += v;
            }
        out[i] = is_max ? acc : acc / div;
    }
}

/* The same pooling for the GPU family: one work-item per output element,
 * channels fastest, so neighbouring items read neighbouring channels of
 * each window pixel.  Global size N*OH*OW*C, rounded up. */
__kernel void pool_nhwc_forward_el(GC_TENSOR(y), GC_CTENSOR(x), int c, int cy, int is_max,
                                   int include_pad, int h, int w, int oh, int ow, int kh, int kw,
                                   int sh, int sw, int ph, int pw, int total)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int ch = i % c, pix = i / c, ox = pix % ow, t = pix / ow, oy = t % oh, n = t / oh;
    const int hs = oy * sh - ph, ws = ox * sw - pw;
    const int h0 = max(hs, 0), h1 = min(hs + kh, h), w0 = max(ws, 0), w1 = min(ws + kw, w);
    __global const float *img = x + x_off + n * h * w * c + ch;
    float acc = is_max ? -INFINITY : 0.0f;
    for (int yy = h0; yy < h1; yy++)
        for (int xx = w0; xx < w1; xx++) {
            const float v = img[(yy * w + xx) * c];
            if (is_max)
                acc = (v > acc || isnan(v)) ? v : acc;
            else
                acc += v;
        }
    y[y_off + pix * cy + ch] =
        is_max ? acc : acc / pool_divisor(oy, ox, h, w, kh, kw, sh, sw, ph, pw, include_pad);
}

/* cl/elementwise.cl - fill, copy, add, scale, activations, and the strided
 * sum reduction that sum/mean, bias gradients and global pooling share.
 *
 * The elementwise kernels are one work-item per element.  The reduction
 * comes in two forms with one meaning.  reduce_sum (GPUs) is one
 * work-group per output element ("group" g), each work-item summing a
 * strided subset with compensation before a tree over the group;
 * reduce_sum_seq (CPU drivers, where a work-group's barriers and tree cost
 * more than the sum) is one work-item per group, or per 16 adjacent groups
 * of a column sum, summing 16 lanes at a time with compensation:
 *
 *   element i of group g (0 <= i < len) sits at
 *       src[g * g_stride + (i / inner) * outer_stride + i % inner]
 *
 *   per-channel sum of NCHW data:  g = c, g_stride = HW, inner = HW,
 *                                  outer_stride = C*HW, len = N*HW
 *   column sums of a row-major N x M matrix: g_stride = 1, inner = 1,
 *                                  outer_stride = M, len = N
 */

__kernel void ew_fill(GC_TENSOR(y), float value, int n)
{
    const int i = (int)get_global_id(0);
    if (i < n) y[y_off + i] = value;
}

__kernel void ew_copy(GC_TENSOR(y), GC_CTENSOR(x), int n)
{
    const int i = (int)get_global_id(0);
    if (i < n) y[y_off + i] = x[x_off + i];
}

/* y may alias a or b: each work-item reads its element before writing it. */
__kernel void ew_add(GC_TENSOR(y), GC_CTENSOR(a), GC_CTENSOR(b), int n)
{
    const int i = (int)get_global_id(0);
    if (i < n) y[y_off + i] = a[a_off + i] + b[b_off + i];
}

__kernel void ew_scale(GC_TENSOR(y), GC_CTENSOR(x), float alpha, int n)
{
    const int i = (int)get_global_id(0);
    if (i < n) y[y_off + i] = alpha * x[x_off + i];
}

/* One kernel per activation and direction: a switch on the activation
 * inside one kernel kept CPU drivers from vectorizing the backward pass
 * (4x slower on PoCL).  dx = dy * f'(x) is written in terms of the output
 * y (see gancl/ops.h). */
__kernel void act_relu_forward(GC_TENSOR(y), GC_CTENSOR(x), float slope, int n)
{
    const int i = (int)get_global_id(0);
    (void)slope;
    if (i >= n) return;
    const float v = x[x_off + i];
    y[y_off + i] = v > 0.0f ? v : 0.0f;
}

__kernel void act_leaky_relu_forward(GC_TENSOR(y), GC_CTENSOR(x), float slope, int n)
{
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    const float v = x[x_off + i];
    y[y_off + i] = v > 0.0f ? v : v * slope;
}

__kernel void act_sigmoid_forward(GC_TENSOR(y), GC_CTENSOR(x), float slope, int n)
{
    const int i = (int)get_global_id(0);
    (void)slope;
    if (i < n) y[y_off + i] = gc_sigmoid(x[x_off + i]);
}

__kernel void act_tanh_forward(GC_TENSOR(y), GC_CTENSOR(x), float slope, int n)
{
    const int i = (int)get_global_id(0);
    (void)slope;
    if (i < n) y[y_off + i] = tanh(x[x_off + i]);
}

__kernel void act_relu_backward(GC_TENSOR(dx), GC_CTENSOR(dy), GC_CTENSOR(y), float slope, int n)
{
    const int i = (int)get_global_id(0);
    (void)slope;
    if (i < n) dx[dx_off + i] = y[y_off + i] > 0.0f ? dy[dy_off + i] : 0.0f;
}

__kernel void act_leaky_relu_backward(GC_TENSOR(dx), GC_CTENSOR(dy), GC_CTENSOR(y), float slope,
                                      int n)
{
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    const float g = dy[dy_off + i];
    dx[dx_off + i] = y[y_off + i] > 0.0f ? g : g * slope;
}

__kernel void act_sigmoid_backward(GC_TENSOR(dx), GC_CTENSOR(dy), GC_CTENSOR(y), float slope, int n)
{
    const int i = (int)get_global_id(0);
    (void)slope;
    if (i >= n) return;
    const float o = y[y_off + i];
    dx[dx_off + i] = dy[dy_off + i] * (1.0f - o) * o;
}

__kernel void act_tanh_backward(GC_TENSOR(dx), GC_CTENSOR(dy), GC_CTENSOR(y), float slope, int n)
{
    const int i = (int)get_global_id(0);
    (void)slope;
    if (i >= n) return;
    const float o = y[y_off + i];
    dx[dx_off + i] = dy[dy_off + i] * (1.0f - o * o);
}

/* dst[g] = alpha * sum (or dst[g] += alpha * sum when accumulate), one
 * work-group per g; scratch holds two floats per work-item. */
__kernel void reduce_sum(GC_TENSOR(dst), GC_CTENSOR(src), int g_stride, int len, int inner,
                         int outer_stride, float alpha, int accumulate, __local float *scratch)
{
    const int g = (int)get_group_id(0);
    const int step = (int)get_local_size(0);
    __global const float *p = src + src_off + g * g_stride;
    float s = 0.0f, c = 0.0f;
    for (int i = (int)get_local_id(0); i < len; i += step) {
        const int o = i / inner;
        GC_KAHAN_ADD(s, c, p[o * outer_stride + (i - o * inner)]);
    }
    const float total = gc_wg_sum(scratch, s, c);
    if (get_local_id(0) == 0) {
        const float r = alpha * total;
        dst[dst_off + g] = accumulate ? dst[dst_off + g] + r : r;
    }
}

inline void gc_reduce_store(__global float *dst, int g, float alpha, int accumulate, float total)
{
    const float r = alpha * total;
    dst[g] = accumulate ? dst[g] + r : r;
}

/* reduce_sum's meaning, for CPU drivers.  Global size: groups, or
 * ceil(groups / 16) when cols16 (inner == 1 and g_stride == 1, a column sum
 * of a row-major matrix: a work-item then sums 16 adjacent columns as one
 * vector).  Otherwise a work-item sums its group's runs of `inner`
 * contiguous floats 16 at a time, then folds the lanes with TwoSum. */
__kernel void reduce_sum_seq(GC_TENSOR(dst), GC_CTENSOR(src), int groups, int g_stride, int len,
                             int inner, int outer_stride, float alpha, int accumulate, int cols16)
{
    const int id = (int)get_global_id(0);
    __global const float *base = src + src_off;
    if (cols16) {
        const int g0 = id * 16;
        if (g0 >= groups) return;
        if (g0 + 16 <= groups) {
            float16 s = (float16)0.0f, c = (float16)0.0f;
            for (int o = 0; o < len; o++)
                GC_KAHAN_ADD16(s, c, vload16(0, base + o * outer_stride + g0));
            const float16 r = alpha * (s - c);
            __global float *d = dst + dst_off + g0;
            vstore16(accumulate ? vload16(0, d) + r : r, 0, d);
            return;
        }
        for (int g = g0; g < groups; g++) {
            float s = 0.0f, c = 0.0f;
            for (int o = 0; o < len; o++)
                GC_KAHAN_ADD(s, c, base[o * outer_stride + g]);
            gc_reduce_store(dst + dst_off, g, alpha, accumulate, s - c);
        }
        return;
    }
    if (id >= groups) return;
    __global const float *p = base + id * g_stride;
    float16 s = (float16)0.0f, c = (float16)0.0f;
    float ss = 0.0f, cs = 0.0f;
    for (int o = 0; o * inner < len; o++) {
        const int run = min(inner, len - o * inner);
        __global const float *q = p + o * outer_stride;
        int i = 0;
        for (; i + 16 <= run; i += 16)
            GC_KAHAN_ADD16(s, c, vload16(0, q + i));
        for (; i < run; i++)
            GC_KAHAN_ADD(ss, cs, q[i]);
    }
    gc_reduce_store(dst + dst_off, id, alpha, accumulate, gc_fold16(s, c, ss, cs));
}

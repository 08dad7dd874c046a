/* cl/elementwise.cl - fill, copy, add, scale, activations, and the strided
 * sum reduction that sum/mean, bias gradients and global pooling share.
 *
 * The elementwise kernels are one work-item per element.  The reduction is
 * one work-group per output element ("group" g), each work-item summing a
 * strided subset with compensation before a tree over the group:
 *
 *   element i of group g (0 <= i < len) sits at
 *       src[g * g_stride + (i / inner) * outer_stride + i % inner]
 *
 *   per-channel sum of NCHW data:  g = c, g_stride = HW, inner = HW,
 *                                  outer_stride = C*HW, len = N*HW
 *   column sums of a row-major N x M matrix: g_stride = 1, inner = 1,
 *                                  outer_stride = M, len = N
 */

/* Matches gc_act in gancl/ops.h. */
#define GC_ACT_RELU       0
#define GC_ACT_LEAKY_RELU 1
#define GC_ACT_SIGMOID    2
#define GC_ACT_TANH       3

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

__kernel void act_forward(GC_TENSOR(y), GC_CTENSOR(x), int act, float slope, int n)
{
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    const float v = x[x_off + i];
    float r;
    switch (act) {
    case GC_ACT_RELU: r = v > 0.0f ? v : 0.0f; break;
    case GC_ACT_LEAKY_RELU: r = v > 0.0f ? v : v * slope; break;
    case GC_ACT_SIGMOID: r = gc_sigmoid(v); break;
    default: r = tanh(v); break;
    }
    y[y_off + i] = r;
}

/* dx = dy * f'(x) written in terms of the output y (see gancl/ops.h). */
__kernel void act_backward(GC_TENSOR(dx), GC_CTENSOR(dy), GC_CTENSOR(y), int act, float slope,
                           int n)
{
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    const float g = dy[dy_off + i], o = y[y_off + i];
    float r;
    switch (act) {
    case GC_ACT_RELU: r = o > 0.0f ? g : 0.0f; break;
    case GC_ACT_LEAKY_RELU: r = o > 0.0f ? g : g * slope; break;
    case GC_ACT_SIGMOID: r = g * (1.0f - o) * o; break;
    default: r = g * (1.0f - o * o); break;
    }
    dx[dx_off + i] = r;
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

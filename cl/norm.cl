/* cl/norm.cl - batch normalisation over (N, H, W) per channel.
 *
 * Training forward and backward are one work-group per channel: the group
 * reduces its channel (compensated per-item sums, then a tree), every
 * work-item learns the result, and the same group then writes its
 * channel's outputs.  The variance is two-pass (mean first, then the mean
 * squared deviation), which avoids the cancellation of E[x^2] - E[x]^2.
 * Channel c of an (N, C, HW) tensor is N runs of HW floats, C*HW apart.
 *
 * On CPU drivers the _seq forms do the same with one work-item per channel
 * walking the runs 16 floats at a time (16 Kahan lanes, folded with TwoSum,
 * gc_fold16): a work-group's barriers and the division per element of
 * BN_AT cost PoCL more than the arithmetic (BatchNorm was 22% of a dcgan
 * training step).
 */

#define BN_AT(t, i) t[t##_off + ((i) / hw * c + ch) * hw + (i) % hw]

__kernel void bn_forward_train(GC_TENSOR(y), GC_TENSOR(save_mean), GC_TENSOR(save_invstd),
                               GC_CTENSOR(x), GC_CTENSOR(gamma), GC_CTENSOR(beta),
                               GC_TENSOR(running_mean), GC_TENSOR(running_var), int n, int c,
                               int hw, float momentum, float eps, __local float *scratch)
{
    const int ch = (int)get_group_id(0), m = n * hw;
    const int lid = (int)get_local_id(0), step = (int)get_local_size(0);
    float s = 0.0f, k = 0.0f;
    for (int i = lid; i < m; i += step)
        GC_KAHAN_ADD(s, k, BN_AT(x, i));
    const float mean = gc_wg_sum(scratch, s, k) / (float)m;
    s = 0.0f;
    k = 0.0f;
    for (int i = lid; i < m; i += step) {
        const float d = BN_AT(x, i) - mean;
        GC_KAHAN_ADD(s, k, d * d);
    }
    const float var = gc_wg_sum(scratch, s, k) / (float)m;
    const float invstd = 1.0f / sqrt(var + eps);
    const float g = gamma[gamma_off + ch], b = beta[beta_off + ch];
    /* Every read of x above precedes this write (the barrier in gc_wg_sum),
     * so y may alias x. */
    for (int i = lid; i < m; i += step)
        BN_AT(y, i) = (BN_AT(x, i) - mean) * invstd * g + b;
    if (lid == 0) {
        save_mean[save_mean_off + ch] = mean;
        save_invstd[save_invstd_off + ch] = invstd;
        const float unbiased = var * (float)m / (float)(m - 1);
        running_mean[running_mean_off + ch] =
            (1.0f - momentum) * running_mean[running_mean_off + ch] + momentum * mean;
        running_var[running_var_off + ch] =
            (1.0f - momentum) * running_var[running_var_off + ch] + momentum * unbiased;
    }
}

__kernel void bn_forward_eval(GC_TENSOR(y), GC_CTENSOR(x), GC_CTENSOR(gamma), GC_CTENSOR(beta),
                              GC_CTENSOR(running_mean), GC_CTENSOR(running_var), int c, int hw,
                              float eps, int total)
{
    const int i = (int)get_global_id(0);
    if (i >= total) return;
    const int ch = i / hw % c;
    const float invstd = 1.0f / sqrt(running_var[running_var_off + ch] + eps);
    y[y_off + i] =
        (x[x_off + i] - running_mean[running_mean_off + ch]) * invstd * gamma[gamma_off + ch] +
        beta[beta_off + ch];
}

/* With xhat = (x - mean) * invstd and M = N*HW (PyTorch's formula):
 *   dbeta  += sum dy            dgamma += sum dy * xhat
 *   dx = (dy - sum(dy)/M - (x - mean) * invstd^2 * sum(dy * (x - mean))/M) * invstd * gamma */
__kernel void bn_backward(GC_TENSOR(dx), GC_TENSOR(dgamma), GC_TENSOR(dbeta), GC_CTENSOR(dy),
                          GC_CTENSOR(x), GC_CTENSOR(gamma), GC_CTENSOR(save_mean),
                          GC_CTENSOR(save_invstd), int n, int c, int hw, __local float *scratch)
{
    const int ch = (int)get_group_id(0), m = n * hw;
    const int lid = (int)get_local_id(0), step = (int)get_local_size(0);
    const float mean = save_mean[save_mean_off + ch], invstd = save_invstd[save_invstd_off + ch];
    float s1 = 0.0f, k1 = 0.0f, s2 = 0.0f, k2 = 0.0f;
    for (int i = lid; i < m; i += step) {
        const float g = BN_AT(dy, i);
        GC_KAHAN_ADD(s1, k1, g);
        GC_KAHAN_ADD(s2, k2, g * (BN_AT(x, i) - mean));
    }
    const float sum_dy = gc_wg_sum(scratch, s1, k1);
    const float dot = gc_wg_sum(scratch, s2, k2);
    const float grad_mean = sum_dy / (float)m;
    const float proj = dot * invstd * invstd / (float)m;
    const float scale = invstd * gamma[gamma_off + ch];
    /* dx may alias dy: each element is read by the work-item that writes it. */
    for (int i = lid; i < m; i += step)
        BN_AT(dx, i) = (BN_AT(dy, i) - (BN_AT(x, i) - mean) * proj - grad_mean) * scale;
    if (lid == 0) {
        dgamma[dgamma_off + ch] += dot * invstd;
        dbeta[dbeta_off + ch] += sum_dy;
    }
}

/* bn_forward_train for CPU drivers.  Global size C, work-groups of 1. */
__kernel void bn_forward_train_seq(GC_TENSOR(y), GC_TENSOR(save_mean), GC_TENSOR(save_invstd),
                                   GC_CTENSOR(x), GC_CTENSOR(gamma), GC_CTENSOR(beta),
                                   GC_TENSOR(running_mean), GC_TENSOR(running_var), int n, int c,
                                   int hw, float momentum, float eps)
{
    const int ch = (int)get_global_id(0), m = n * hw, stride = c * hw;
    if (ch >= c) return;
    __global const float *xc = x + x_off + ch * hw;
    __global float *yc = y + y_off + ch * hw;
    float16 s = (float16)0.0f, k = (float16)0.0f;
    float ss = 0.0f, ks = 0.0f;
    for (int nn = 0; nn < n; nn++) {
        __global const float *p = xc + nn * stride;
        int i = 0;
        for (; i + 16 <= hw; i += 16)
            GC_KAHAN_ADD16(s, k, vload16(0, p + i));
        for (; i < hw; i++)
            GC_KAHAN_ADD(ss, ks, p[i]);
    }
    const float mean = gc_fold16(s, k, ss, ks) / (float)m;
    s = k = (float16)0.0f;
    ss = ks = 0.0f;
    for (int nn = 0; nn < n; nn++) {
        __global const float *p = xc + nn * stride;
        int i = 0;
        for (; i + 16 <= hw; i += 16) {
            const float16 d = vload16(0, p + i) - mean;
            GC_KAHAN_ADD16(s, k, d * d);
        }
        for (; i < hw; i++) {
            const float d = p[i] - mean;
            GC_KAHAN_ADD(ss, ks, d * d);
        }
    }
    const float var = gc_fold16(s, k, ss, ks) / (float)m;
    const float invstd = 1.0f / sqrt(var + eps);
    const float g = gamma[gamma_off + ch], b = beta[beta_off + ch];
    /* y may alias x: each element is read before it is written. */
    for (int nn = 0; nn < n; nn++) {
        __global const float *p = xc + nn * stride;
        __global float *q = yc + nn * stride;
        int i = 0;
        for (; i + 16 <= hw; i += 16)
            vstore16((vload16(0, p + i) - mean) * invstd * g + b, 0, q + i);
        for (; i < hw; i++)
            q[i] = (p[i] - mean) * invstd * g + b;
    }
    save_mean[save_mean_off + ch] = mean;
    save_invstd[save_invstd_off + ch] = invstd;
    const float unbiased = var * (float)m / (float)(m - 1);
    running_mean[running_mean_off + ch] =
        (1.0f - momentum) * running_mean[running_mean_off + ch] + momentum * mean;
    running_var[running_var_off + ch] =
        (1.0f - momentum) * running_var[running_var_off + ch] + momentum * unbiased;
}

/* bn_backward for CPU drivers.  Global size C, work-groups of 1. */
__kernel void bn_backward_seq(GC_TENSOR(dx), GC_TENSOR(dgamma), GC_TENSOR(dbeta), GC_CTENSOR(dy),
                              GC_CTENSOR(x), GC_CTENSOR(gamma), GC_CTENSOR(save_mean),
                              GC_CTENSOR(save_invstd), int n, int c, int hw)
{
    const int ch = (int)get_global_id(0), m = n * hw, stride = c * hw;
    if (ch >= c) return;
    const float mean = save_mean[save_mean_off + ch], invstd = save_invstd[save_invstd_off + ch];
    __global const float *xc = x + x_off + ch * hw, *gc = dy + dy_off + ch * hw;
    __global float *dc = dx + dx_off + ch * hw;
    float16 s1 = (float16)0.0f, k1 = (float16)0.0f, s2 = (float16)0.0f, k2 = (float16)0.0f;
    float ss1 = 0.0f, ks1 = 0.0f, ss2 = 0.0f, ks2 = 0.0f;
    for (int nn = 0; nn < n; nn++) {
        __global const float *p = xc + nn * stride, *g = gc + nn * stride;
        int i = 0;
        for (; i + 16 <= hw; i += 16) {
            const float16 gv = vload16(0, g + i);
            GC_KAHAN_ADD16(s1, k1, gv);
            GC_KAHAN_ADD16(s2, k2, gv * (vload16(0, p + i) - mean));
        }
        for (; i < hw; i++) {
            GC_KAHAN_ADD(ss1, ks1, g[i]);
            GC_KAHAN_ADD(ss2, ks2, g[i] * (p[i] - mean));
        }
    }
    const float sum_dy = gc_fold16(s1, k1, ss1, ks1);
    const float dot = gc_fold16(s2, k2, ss2, ks2);
    const float grad_mean = sum_dy / (float)m;
    const float proj = dot * invstd * invstd / (float)m;
    const float scale = invstd * gamma[gamma_off + ch];
    /* dx may alias dy: each element is read before it is written. */
    for (int nn = 0; nn < n; nn++) {
        __global const float *p = xc + nn * stride, *g = gc + nn * stride;
        __global float *q = dc + nn * stride;
        int i = 0;
        for (; i + 16 <= hw; i += 16)
            vstore16((vload16(0, g + i) - (vload16(0, p + i) - mean) * proj - grad_mean) * scale, 0,
                     q + i);
        for (; i < hw; i++)
            q[i] = (g[i] - (p[i] - mean) * proj - grad_mean) * scale;
    }
    dgamma[dgamma_off + ch] += dot * invstd;
    dbeta[dbeta_off + ch] += sum_dy;
}

/* cl/gan_ops.cl - the ops against mode collapse: hinge loss, minibatch
 * standard deviation, spectral normalisation's helpers, weight EMA.
 *
 *   hinge forward:        one work-group, compensated sum (as bce_logits)
 *   hinge backward, EMA:  one work-item per element
 *   mbstd:                one work-group per group m of the batch; its
 *                         work-items take strided elements k of a sample,
 *                         each computing the statistics of the G values
 *                         x[j*M + m, k] (j < G), so nothing is stored
 *                         between passes:
 *
 *                           sample      k ->          work-item l takes
 *                           m        [ . l . . l . ]   k = l, l + L, ...
 *                           M + m    [ . l . . l . ]   for every sample
 *                           2M + m   [ . l . . l . ]   of the group
 *
 *   spectral norm:        W^T u and W v are GEMMs (cl_gan_ops.c); here one
 *                         work-group normalises a vector (and derives
 *                         sigma), and the backward's <G, W> is one
 *                         work-group's compensated sum.
 */

/* ---- hinge loss ----------------------------------------------------------- */

/* The slope of term (0 real: max(0, 1 - z), 1 fake: max(0, 1 + z), 2 gen:
 * -z) at z, and its value in *val. */
float gc_hinge(float z, int term, float *val)
{
    if (term == 0) {
        *val = fmax(0.0f, 1.0f - z);
        return 1.0f - z > 0.0f ? -1.0f : 0.0f;
    }
    if (term == 1) {
        *val = fmax(0.0f, 1.0f + z);
        return 1.0f + z > 0.0f ? 1.0f : 0.0f;
    }
    *val = -z;
    return -1.0f;
}

/* loss[0] = mean of the term over z (n), one work-group. */
__kernel void hinge_forward(GC_TENSOR(loss), GC_CTENSOR(z), int term, int n, __local float *scratch)
{
    float s = 0.0f, c = 0.0f, v;
    for (int i = (int)get_local_id(0); i < n; i += (int)get_local_size(0)) {
        gc_hinge(z[z_off + i], term, &v);
        GC_KAHAN_ADD(s, c, v);
    }
    const float total = gc_wg_sum(scratch, s, c);
    if (get_local_id(0) == 0) loss[loss_off] = total / (float)n;
}

/* dz = f * slope, f = scale / n from the host; dz may alias z. */
__kernel void hinge_backward(GC_TENSOR(dz), GC_CTENSOR(z), int term, float f, int n)
{
    const int i = (int)get_global_id(0);
    float v;
    if (i < n) dz[dz_off + i] = f * gc_hinge(z[z_off + i], term, &v);
}

/* ---- minibatch standard deviation ----------------------------------------- */

/* Mean and sqrt(biased var + eps) of x[j*M + m, k] over j < g, two passes. */
float gc_mbstd_std(__global const float *x, int x_off, int m, int k, int groups, int g, int chw,
                   float *mean)
{
    float s = 0.0f;
    for (int j = 0; j < g; j++)
        s += x[x_off + (j * groups + m) * chw + k];
    const float mu = s / (float)g;
    float ss = 0.0f;
    for (int j = 0; j < g; j++) {
        const float d = x[x_off + (j * groups + m) * chw + k] - mu;
        ss += d * d;
    }
    *mean = mu;
    return sqrt(ss / (float)g + 1e-8f);
}

/* y (N, C + 1, H, W) from x (N, C, H, W); group m = get_group_id(0). */
__kernel void mbstd_forward(GC_TENSOR(y), GC_CTENSOR(x), int groups, int g, int chw, int hw,
                            __local float *scratch)
{
    const int m = (int)get_group_id(0), lid = (int)get_local_id(0), ls = (int)get_local_size(0);
    if (m >= groups) return; /* whole groups only: gc_wg_sum's barriers stay uniform */
    const int ystride = chw + hw;
    float s = 0.0f, c = 0.0f, mean;
    for (int k = lid; k < chw; k += ls) {
        GC_KAHAN_ADD(s, c, gc_mbstd_std(x, x_off, m, k, groups, g, chw, &mean));
        for (int j = 0; j < g; j++) {
            const int n = j * groups + m;
            y[y_off + n * ystride + k] = x[x_off + n * chw + k];
        }
    }
    const float stat = gc_wg_sum(scratch, s, c) / (float)chw;
    for (int p = lid; p < g * hw; p += ls) {
        const int j = p / hw, q = p - j * hw;
        y[y_off + (j * groups + m) * ystride + chw + q] = stat;
    }
}

/* dx = dy + D (x - mean) / (chw g std), D the group's sum of dy's last
 * channel. */
__kernel void mbstd_backward(GC_TENSOR(dx), GC_CTENSOR(dy), GC_CTENSOR(x), int groups, int g,
                             int chw, int hw, __local float *scratch)
{
    const int m = (int)get_group_id(0), lid = (int)get_local_id(0), ls = (int)get_local_size(0);
    if (m >= groups) return;
    const int ystride = chw + hw;
    float s = 0.0f, c = 0.0f, mean;
    for (int p = lid; p < g * hw; p += ls) {
        const int j = p / hw, q = p - j * hw;
        GC_KAHAN_ADD(s, c, dy[dy_off + (j * groups + m) * ystride + chw + q]);
    }
    const float d = gc_wg_sum(scratch, s, c) / ((float)chw * (float)g);
    for (int k = lid; k < chw; k += ls) {
        const float f = d / gc_mbstd_std(x, x_off, m, k, groups, g, chw, &mean);
        for (int j = 0; j < g; j++) {
            const int n = j * groups + m;
            dx[dx_off + n * chw + k] =
                dy[dy_off + n * ystride + k] + f * (x[x_off + n * chw + k] - mean);
        }
    }
}

/* ---- spectral normalisation ----------------------------------------------- */

/* a (n) /= max(||a||, 1e-12), one work-group; when has_sigma,
 * sigma[0] = ||a||^2 / max(||a||, 1e-12) (u^T W v when a = W v). */
__kernel void sn_normalize(GC_TENSOR(a), GC_TENSOR(sigma), int has_sigma, int n,
                           __local float *scratch)
{
    const int lid = (int)get_local_id(0), ls = (int)get_local_size(0);
    float s = 0.0f, c = 0.0f;
    for (int i = lid; i < n; i += ls) {
        const float v = a[a_off + i];
        GC_KAHAN_ADD(s, c, v * v);
    }
    /* Every read of a is done before gc_wg_sum's barriers let anyone write. */
    const float ss = gc_wg_sum(scratch, s, c), d = fmax(sqrt(ss), 1e-12f);
    for (int i = lid; i < n; i += ls)
        a[a_off + i] = a[a_off + i] / d;
    if (has_sigma && lid == 0) sigma[sigma_off] = ss / d;
}

/* y = x / sigma[0] elementwise (w_sn from w). */
__kernel void sn_scale(GC_TENSOR(y), GC_CTENSOR(x), GC_CTENSOR(sigma), int n)
{
    const int i = (int)get_global_id(0);
    if (i < n) y[y_off + i] = x[x_off + i] / sigma[sigma_off];
}

/* out[0] = <g, w> / sigma[0], one work-group. */
__kernel void sn_dot(GC_TENSOR(out), GC_CTENSOR(g), GC_CTENSOR(w), GC_CTENSOR(sigma), int n,
                     __local float *scratch)
{
    float s = 0.0f, c = 0.0f;
    for (int i = (int)get_local_id(0); i < n; i += (int)get_local_size(0))
        GC_KAHAN_ADD(s, c, g[g_off + i] * w[w_off + i]);
    const float dot = gc_wg_sum(scratch, s, c);
    if (get_local_id(0) == 0) out[out_off] = dot / sigma[sigma_off];
}

/* dw (rows, cols) += (g - dot[0] u v^T) / sigma[0]. */
__kernel void sn_backward(GC_TENSOR(dw), GC_CTENSOR(g), GC_CTENSOR(u), GC_CTENSOR(v),
                          GC_CTENSOR(sigma), GC_CTENSOR(dot), int rows, int cols)
{
    const int e = (int)get_global_id(0);
    if (e >= rows * cols) return;
    const int i = e / cols, j = e - i * cols;
    dw[dw_off + e] +=
        (g[g_off + e] - dot[dot_off] * u[u_off + i] * v[v_off + j]) / sigma[sigma_off];
}

/* ---- weight EMA ---------------------------------------------------------- */

/* avg += (1 - decay) (x - avg): the CPU reference's expression, rounded the
 * same way (no fused multiply-add), and a constant x is a fixed point. */
__kernel void ema_update(GC_TENSOR(avg), GC_CTENSOR(x), float decay, int n)
{
#pragma OPENCL FP_CONTRACT OFF
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    const float a = avg[avg_off + i];
    const float d = (1.0f - decay) * (x[x_off + i] - a);
    avg[avg_off + i] = a + d;
}

/* cl/train.cl - the training step's tail: binary cross-entropy with
 * logits, Adam, and the Philox4x32-10 random number generator. */

/* loss[0] = mean of max(z,0) - z*t + log(1 + exp(-|z|)), one work-group. */
__kernel void bce_logits_forward(GC_TENSOR(loss), GC_CTENSOR(z), float target, int n,
                                 __local float *scratch)
{
    float s = 0.0f, k = 0.0f;
    for (int i = (int)get_local_id(0); i < n; i += (int)get_local_size(0)) {
        const float v = z[z_off + i];
        GC_KAHAN_ADD(s, k, fmax(v, 0.0f) - v * target + log1p(exp(-fabs(v))));
    }
    const float total = gc_wg_sum(scratch, s, k);
    if (get_local_id(0) == 0) loss[loss_off] = total / (float)n;
}

/* dz = scale * (sigmoid(z) - t) / n; dz may alias z. */
__kernel void bce_logits_backward(GC_TENSOR(dz), GC_CTENSOR(z), float target, float scale, int n)
{
    const int i = (int)get_global_id(0);
    if (i < n) dz[dz_off + i] = scale * (gc_sigmoid(z[z_off + i]) - target) / (float)n;
}

/* PyTorch's Adam (no weight decay, no amsgrad):
 *   m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
 *   p -= (lr / bc1) * m / (sqrt(v) / sqrt(bc2) + eps),  bc_i = 1 - b_i^step
 * step_size = lr/bc1 and sqrt_bc2 come from the host (computed in double). */
__kernel void adam_update(GC_TENSOR(param), GC_CTENSOR(grad), GC_TENSOR(m), GC_TENSOR(v),
                          float beta1, float beta2, float eps, float step_size, float sqrt_bc2,
                          int n)
{
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    const float g = grad[grad_off + i];
    const float mi = beta1 * m[m_off + i] + (1.0f - beta1) * g;
    const float vi = beta2 * v[v_off + i] + (1.0f - beta2) * g * g;
    m[m_off + i] = mi;
    v[v_off + i] = vi;
    param[param_off + i] -= step_size * mi / (sqrt(vi) / sqrt_bc2 + eps);
}

/* Philox4x32-10, word for word the function of src/util/philox.h. */
uint4 gc_philox4x32_10(ulong seed, ulong counter)
{
    uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = 0, c3 = 0;
    uint k0 = (uint)seed, k1 = (uint)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        const uint lo0 = 0xD2511F53u * c0, hi0 = mul_hi(0xD2511F53u, c0);
        const uint lo1 = 0xCD9E8D57u * c2, hi1 = mul_hi(0xCD9E8D57u, c2);
        const uint n0 = hi1 ^ c1 ^ k0;
        const uint n2 = hi0 ^ c3 ^ k1;
        c1 = lo1;
        c3 = lo0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return (uint4)(c0, c1, c2, c3);
}

/* Element i uses counter offset + i.  Uniform: a + (b - a) * u with
 * u = (w0 >> 8) * 2^-24, bit-identical to the host.  Normal: Box-Muller,
 * a + b * sqrt(-2 log u1) cos(2 pi u2). */
__kernel void rng_fill(GC_TENSOR(y), ulong seed, ulong offset, int normal, float a, float b, int n)
{
    /* No fused multiply-add: the uniform path must round like the host's
     * separate multiply and add. */
#pragma OPENCL FP_CONTRACT OFF
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    const uint4 w = gc_philox4x32_10(seed, offset + (ulong)i);
    float r;
    if (normal) {
        const float u1 = ((float)(w.x >> 8) + 0.5f) * (1.0f / 16777216.0f);
        const float u2 = (float)(w.y >> 8) * (1.0f / 16777216.0f);
        r = a + b * (sqrt(-2.0f * log(u1)) * cos(6.2831853071795864769f * u2));
    } else {
        /* Two statements as well: C only contracts within one expression. */
        const float t = (b - a) * ((float)(w.x >> 8) * (1.0f / 16777216.0f));
        r = a + t;
    }
    y[y_off + i] = r;
}

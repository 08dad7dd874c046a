/* src/backend/cpu/cpu_norm.c - CPU reference: batchnorm over (N, H, W) per
 * channel, training and evaluation forward, and backward.
 *
 * A channel c of an (N, C, ...) tensor is N runs of `inner` contiguous
 * floats (inner = H*W, or 1 for a (N, C) matrix); statistics are two-pass
 * sums in double. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

/* The geometry shared by all three passes. */
typedef struct bn_shape {
    int64_t batch, channels, inner, count; /* count = batch * inner */
} bn_shape;

static bn_shape bn_shape_of(const gc_tensor *x)
{
    bn_shape s;
    s.batch = GC_N(x);
    s.channels = GC_C(x);
    s.inner = gc_tensor_numel(x) / (s.batch * s.channels);
    s.count = s.batch * s.inner;
    return s;
}

static const float *bn_run(const float *base, const bn_shape *s, int64_t n, int64_t c)
{
    return base + (n * s->channels + c) * s->inner;
}

gc_status gc_cpu_batchnorm_forward_train(gc_t y, gc_t save_mean, gc_t save_invstd, gc_t x,
                                         gc_t gamma, gc_t beta, gc_t running_mean, gc_t running_var,
                                         float momentum, float eps)
{
    bn_shape s = bn_shape_of(x);
    const float *px = gc_cpu_data(x), *pg = gc_cpu_data(gamma), *pb = gc_cpu_data(beta);
    float *py = gc_cpu_data(y), *pm = gc_cpu_data(save_mean), *pis = gc_cpu_data(save_invstd);
    float *prm = gc_cpu_data(running_mean), *prv = gc_cpu_data(running_var);
    for (int64_t c = 0; c < s.channels; c++) {
        double sum = 0.0;
        for (int64_t n = 0; n < s.batch; n++) {
            const float *r = bn_run(px, &s, n, c);
            for (int64_t i = 0; i < s.inner; i++)
                sum += r[i];
        }
        double mean = sum / (double)s.count;
        double sq = 0.0;
        for (int64_t n = 0; n < s.batch; n++) {
            const float *r = bn_run(px, &s, n, c);
            for (int64_t i = 0; i < s.inner; i++)
                sq += (r[i] - mean) * (r[i] - mean);
        }
        /* Biased variance normalises; the unbiased one feeds running_var,
         * as in PyTorch. */
        double var = sq / (double)s.count;
        double unbiased = sq / (double)(s.count - 1);
        double invstd = 1.0 / sqrt(var + (double)eps);
        double scale = pg[c] * invstd, shift = pb[c] - mean * scale;
        for (int64_t n = 0; n < s.batch; n++) {
            const float *r = bn_run(px, &s, n, c);
            float *o = py + (r - px);
            for (int64_t i = 0; i < s.inner; i++)
                o[i] = (float)(r[i] * scale + shift);
        }
        pm[c] = (float)mean;
        pis[c] = (float)invstd;
        prm[c] = (float)((1.0 - momentum) * prm[c] + (double)momentum * mean);
        prv[c] = (float)((1.0 - momentum) * prv[c] + (double)momentum * unbiased);
    }
    return GC_OK;
}

gc_status gc_cpu_batchnorm_forward_eval(gc_t y, gc_t x, gc_t gamma, gc_t beta, gc_t running_mean,
                                        gc_t running_var, float eps)
{
    bn_shape s = bn_shape_of(x);
    const float *px = gc_cpu_data(x), *pg = gc_cpu_data(gamma), *pb = gc_cpu_data(beta);
    const float *prm = gc_cpu_data(running_mean), *prv = gc_cpu_data(running_var);
    float *py = gc_cpu_data(y);
    for (int64_t c = 0; c < s.channels; c++) {
        double invstd = 1.0 / sqrt((double)prv[c] + (double)eps);
        double scale = pg[c] * invstd, shift = pb[c] - prm[c] * scale;
        for (int64_t n = 0; n < s.batch; n++) {
            const float *r = bn_run(px, &s, n, c);
            float *o = py + (r - px);
            for (int64_t i = 0; i < s.inner; i++)
                o[i] = (float)(r[i] * scale + shift);
        }
    }
    return GC_OK;
}

gc_status gc_cpu_batchnorm_backward(gc_t dx, gc_t dgamma, gc_t dbeta, gc_t dy, gc_t x, gc_t gamma,
                                    gc_t save_mean, gc_t save_invstd)
{
    bn_shape s = bn_shape_of(x);
    const float *px = gc_cpu_data(x), *pdy = gc_cpu_data(dy), *pg = gc_cpu_data(gamma);
    const float *pm = gc_cpu_data(save_mean), *pis = gc_cpu_data(save_invstd);
    float *pdx = gc_cpu_data(dx), *pdg = gc_cpu_data(dgamma), *pdb = gc_cpu_data(dbeta);
    for (int64_t c = 0; c < s.channels; c++) {
        double mean = pm[c], invstd = pis[c];
        /* sum dy and sum dy * xhat, with xhat = (x - mean) * invstd. */
        double sdy = 0.0, sdyx = 0.0;
        for (int64_t n = 0; n < s.batch; n++) {
            const float *r = bn_run(px, &s, n, c), *d = pdy + (r - px);
            for (int64_t i = 0; i < s.inner; i++) {
                sdy += d[i];
                sdyx += d[i] * (r[i] - mean) * invstd;
            }
        }
        pdb[c] = (float)(pdb[c] + sdy);
        pdg[c] = (float)(pdg[c] + sdyx);
        /* dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)). */
        double k = pg[c] * invstd, mdy = sdy / (double)s.count, mdyx = sdyx / (double)s.count;
        for (int64_t n = 0; n < s.batch; n++) {
            const float *r = bn_run(px, &s, n, c), *d = pdy + (r - px);
            float *o = pdx + (r - px);
            for (int64_t i = 0; i < s.inner; i++)
                o[i] = (float)(k * (d[i] - mdy - (r[i] - mean) * invstd * mdyx));
        }
    }
    return GC_OK;
}

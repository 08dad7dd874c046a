/* src/backend/cpu/cpu_train.c - CPU reference: BCE-with-logits loss, the
 * Adam update, and Philox random fills. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"
#include "util/philox.h"

gc_status gc_cpu_bce_logits_forward(gc_t loss, gc_t z, float target)
{
    const float *pz = gc_cpu_data(z);
    int64_t n = gc_tensor_numel(z);
    double t = target, s = 0.0;
    /* max(z,0) - z*t + log1p(exp(-|z|)) never overflows and keeps full
     * precision where sigmoid(z) saturates, e.g. 100 for z = -100, t = 1. */
    for (int64_t i = 0; i < n; i++) {
        double v = pz[i];
        s += fmax(v, 0.0) - v * t + log1p(exp(-fabs(v)));
    }
    gc_cpu_data(loss)[0] = (float)(s / (double)n);
    return GC_OK;
}

gc_status gc_cpu_bce_logits_backward(gc_t dz, gc_t z, float target, float scale)
{
    const float *pz = gc_cpu_data(z);
    float *pdz = gc_cpu_data(dz);
    int64_t n = gc_tensor_numel(z);
    double k = (double)scale / (double)n;
    for (int64_t i = 0; i < n; i++) {
        double v = pz[i];
        /* exp of a non-positive argument only, so neither branch overflows. */
        double sig = v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
        pdz[i] = (float)(k * (sig - (double)target));
    }
    return GC_OK;
}

gc_status gc_cpu_adam_update(gc_t param, gc_t grad, gc_t m, gc_t v, const gc_adam_params *p)
{
    float *pp = gc_cpu_data(param), *pm = gc_cpu_data(m), *pv = gc_cpu_data(v);
    const float *pg = gc_cpu_data(grad);
    int64_t n = gc_tensor_numel(param);
    double b1 = p->beta1, b2 = p->beta2;
    double bc1 = 1.0 - pow(b1, (double)p->step), bc2 = 1.0 - pow(b2, (double)p->step);
    for (int64_t i = 0; i < n; i++) {
        double g = pg[i];
        double mi = b1 * pm[i] + (1.0 - b1) * g;
        double vi = b2 * pv[i] + (1.0 - b2) * g * g;
        pm[i] = (float)mi;
        pv[i] = (float)vi;
        pp[i] = (float)(pp[i] - (double)p->lr * (mi / bc1) / (sqrt(vi / bc2) + (double)p->eps));
    }
    return GC_OK;
}

gc_status gc_cpu_rng_fill(gc_t y, uint64_t seed, uint64_t offset, int normal, float a, float b)
{
    float *py = gc_cpu_data(y);
    int64_t n = gc_tensor_numel(y);
    uint32_t w[4];
    /* Float arithmetic, as the OpenCL kernel does it, so both streams agree. */
    for (int64_t i = 0; i < n; i++) {
        gc_philox4x32_10(seed, offset + (uint64_t)i, w);
        py[i] = normal ? a + b * gc_philox_normal(w) : a + (b - a) * gc_philox_01(w[0]);
    }
    return GC_OK;
}

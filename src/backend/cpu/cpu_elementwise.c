/* src/backend/cpu/cpu_elementwise.c - CPU reference: fill, copy, add, scale,
 * sum, and the activations with their backward passes. */
#include <math.h>
#include <string.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

gc_status gc_cpu_fill(gc_t y, float value)
{
    float *py = gc_cpu_data(y);
    int64_t n = gc_tensor_numel(y);
    for (int64_t i = 0; i < n; i++)
        py[i] = value;
    return GC_OK;
}

gc_status gc_cpu_copy(gc_t y, gc_t x)
{
    /* memmove: views of one buffer may overlap. */
    memmove(gc_cpu_data(y), gc_cpu_data(x), (size_t)gc_tensor_numel(y) * sizeof(float));
    return GC_OK;
}

gc_status gc_cpu_add(gc_t y, gc_t a, gc_t b)
{
    float *py = gc_cpu_data(y);
    const float *pa = gc_cpu_data(a), *pb = gc_cpu_data(b);
    int64_t n = gc_tensor_numel(y);
    for (int64_t i = 0; i < n; i++)
        py[i] = pa[i] + pb[i];
    return GC_OK;
}

gc_status gc_cpu_scale(gc_t y, gc_t x, float alpha)
{
    float *py = gc_cpu_data(y);
    const float *px = gc_cpu_data(x);
    int64_t n = gc_tensor_numel(y);
    for (int64_t i = 0; i < n; i++)
        py[i] = alpha * px[i];
    return GC_OK;
}

gc_status gc_cpu_sum(gc_t y, gc_t x, float mul)
{
    const float *px = gc_cpu_data(x);
    int64_t n = gc_tensor_numel(x);
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += px[i];
    gc_cpu_data(y)[0] = (float)((double)mul * s);
    return GC_OK;
}

/* 1 / (1 + exp(-x)) without overflow in exp for large |x|. */
static float sigmoidf(float x)
{
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

gc_status gc_cpu_act_forward(gc_t y, gc_t x, gc_act act, float slope)
{
    float *py = gc_cpu_data(y);
    const float *px = gc_cpu_data(x);
    int64_t n = gc_tensor_numel(y);
    switch (act) {
    case GC_ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            py[i] = px[i] > 0.0f ? px[i] : 0.0f;
        return GC_OK;
    case GC_ACT_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++)
            py[i] = px[i] > 0.0f ? px[i] : slope * px[i];
        return GC_OK;
    case GC_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            py[i] = sigmoidf(px[i]);
        return GC_OK;
    case GC_ACT_TANH:
        for (int64_t i = 0; i < n; i++)
            py[i] = tanhf(px[i]);
        return GC_OK;
    }
    return gc_error(GC_ERR_ARG, "cpu: unknown activation %d", (int)act);
}

gc_status gc_cpu_act_backward(gc_t dx, gc_t dy, gc_t y, gc_act act, float slope)
{
    /* Everything is read at index i before dx[i] is written, so dx may
     * alias dy. */
    float *pdx = gc_cpu_data(dx);
    const float *pdy = gc_cpu_data(dy), *py = gc_cpu_data(y);
    int64_t n = gc_tensor_numel(dx);
    switch (act) {
    case GC_ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            pdx[i] = py[i] > 0.0f ? pdy[i] : 0.0f;
        return GC_OK;
    case GC_ACT_LEAKY_RELU:
        /* With slope > 0, y > 0 exactly where x > 0. */
        for (int64_t i = 0; i < n; i++)
            pdx[i] = py[i] > 0.0f ? pdy[i] : slope * pdy[i];
        return GC_OK;
    case GC_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            pdx[i] = pdy[i] * py[i] * (1.0f - py[i]);
        return GC_OK;
    case GC_ACT_TANH:
        for (int64_t i = 0; i < n; i++)
            pdx[i] = pdy[i] * (1.0f - py[i] * py[i]);
        return GC_OK;
    }
    return gc_error(GC_ERR_ARG, "cpu: unknown activation %d", (int)act);
}

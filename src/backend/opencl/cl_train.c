/* src/backend/opencl/cl_train.c - placeholder: every op here reports 'not implemented'. */
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

gc_status gc_cl_bce_logits_forward(gc_t loss, gc_t z, float target)
{
    (void)loss;
    (void)z;
    (void)target;
    return gc_error(GC_ERR_DEVICE, "gc_cl_bce_logits_forward: not implemented");
}

gc_status gc_cl_bce_logits_backward(gc_t dz, gc_t z, float target, float scale)
{
    (void)dz;
    (void)z;
    (void)target;
    (void)scale;
    return gc_error(GC_ERR_DEVICE, "gc_cl_bce_logits_backward: not implemented");
}

gc_status gc_cl_adam_update(gc_t param, gc_t grad, gc_t m, gc_t v, const gc_adam_params *p)
{
    (void)param;
    (void)grad;
    (void)m;
    (void)v;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cl_adam_update: not implemented");
}

gc_status gc_cl_rng_fill(gc_t y, uint64_t seed, uint64_t offset, int normal, float a, float b)
{
    (void)y;
    (void)seed;
    (void)offset;
    (void)normal;
    (void)a;
    (void)b;
    return gc_error(GC_ERR_DEVICE, "gc_cl_rng_fill: not implemented");
}

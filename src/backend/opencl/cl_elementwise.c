/* src/backend/opencl/cl_elementwise.c - placeholder: every op here reports 'not implemented'. */
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

gc_status gc_cl_fill(gc_t y, float value)
{
    (void)y;
    (void)value;
    return gc_error(GC_ERR_DEVICE, "gc_cl_fill: not implemented");
}

gc_status gc_cl_copy(gc_t y, gc_t x)
{
    (void)y;
    (void)x;
    return gc_error(GC_ERR_DEVICE, "gc_cl_copy: not implemented");
}

gc_status gc_cl_add(gc_t y, gc_t a, gc_t b)
{
    (void)y;
    (void)a;
    (void)b;
    return gc_error(GC_ERR_DEVICE, "gc_cl_add: not implemented");
}

gc_status gc_cl_scale(gc_t y, gc_t x, float alpha)
{
    (void)y;
    (void)x;
    (void)alpha;
    return gc_error(GC_ERR_DEVICE, "gc_cl_scale: not implemented");
}

gc_status gc_cl_sum(gc_t y, gc_t x, float mul)
{
    (void)y;
    (void)x;
    (void)mul;
    return gc_error(GC_ERR_DEVICE, "gc_cl_sum: not implemented");
}

gc_status gc_cl_act_forward(gc_t y, gc_t x, gc_act act, float slope)
{
    (void)y;
    (void)x;
    (void)act;
    (void)slope;
    return gc_error(GC_ERR_DEVICE, "gc_cl_act_forward: not implemented");
}

gc_status gc_cl_act_backward(gc_t dx, gc_t dy, gc_t y, gc_act act, float slope)
{
    (void)dx;
    (void)dy;
    (void)y;
    (void)act;
    (void)slope;
    return gc_error(GC_ERR_DEVICE, "gc_cl_act_backward: not implemented");
}

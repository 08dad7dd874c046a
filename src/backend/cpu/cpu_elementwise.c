/* src/backend/cpu/cpu_elementwise.c - placeholder: every op here reports 'not implemented'. */
#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

gc_status gc_cpu_fill(gc_t y, float value)
{
    (void)y;
    (void)value;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_fill: not implemented");
}

gc_status gc_cpu_copy(gc_t y, gc_t x)
{
    (void)y;
    (void)x;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_copy: not implemented");
}

gc_status gc_cpu_add(gc_t y, gc_t a, gc_t b)
{
    (void)y;
    (void)a;
    (void)b;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_add: not implemented");
}

gc_status gc_cpu_scale(gc_t y, gc_t x, float alpha)
{
    (void)y;
    (void)x;
    (void)alpha;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_scale: not implemented");
}

gc_status gc_cpu_sum(gc_t y, gc_t x, float mul)
{
    (void)y;
    (void)x;
    (void)mul;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_sum: not implemented");
}

gc_status gc_cpu_act_forward(gc_t y, gc_t x, gc_act act, float slope)
{
    (void)y;
    (void)x;
    (void)act;
    (void)slope;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_act_forward: not implemented");
}

gc_status gc_cpu_act_backward(gc_t dx, gc_t dy, gc_t y, gc_act act, float slope)
{
    (void)dx;
    (void)dy;
    (void)y;
    (void)act;
    (void)slope;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_act_backward: not implemented");
}

/* src/backend/cpu/cpu_pool.c - placeholder: every op here reports 'not implemented'. */
#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

gc_status gc_cpu_max_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p)
{
    (void)y;
    (void)x;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_max_pool2d_forward: not implemented");
}

gc_status gc_cpu_max_pool2d_backward(gc_t dx, gc_t dy, gc_t x, const gc_pool_params *p)
{
    (void)dx;
    (void)dy;
    (void)x;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_max_pool2d_backward: not implemented");
}

gc_status gc_cpu_avg_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p)
{
    (void)y;
    (void)x;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_avg_pool2d_forward: not implemented");
}

gc_status gc_cpu_avg_pool2d_backward(gc_t dx, gc_t dy, const gc_pool_params *p)
{
    (void)dx;
    (void)dy;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_avg_pool2d_backward: not implemented");
}

gc_status gc_cpu_global_avg_pool_forward(gc_t y, gc_t x)
{
    (void)y;
    (void)x;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_global_avg_pool_forward: not implemented");
}

gc_status gc_cpu_global_avg_pool_backward(gc_t dx, gc_t dy)
{
    (void)dx;
    (void)dy;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_global_avg_pool_backward: not implemented");
}

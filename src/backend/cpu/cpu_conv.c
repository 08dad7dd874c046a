/* src/backend/cpu/cpu_conv.c - placeholder: every op here reports 'not implemented'. */
#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

gc_status gc_cpu_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p)
{
    (void)y;
    (void)x;
    (void)w;
    (void)b;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_conv2d_forward: not implemented");
}

gc_status gc_cpu_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,                                  const gc_conv_params *p)
{
    (void)dx;
    (void)dw;
    (void)db;
    (void)dy;
    (void)x;
    (void)w;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_conv2d_backward: not implemented");
}

gc_status gc_cpu_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b,                                           const gc_conv_params *p)
{
    (void)y;
    (void)x;
    (void)w;
    (void)b;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_conv_transpose2d_forward: not implemented");
}

gc_status gc_cpu_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,                                            const gc_conv_params *p)
{
    (void)dx;
    (void)dw;
    (void)db;
    (void)dy;
    (void)x;
    (void)w;
    (void)p;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_conv_transpose2d_backward: not implemented");
}

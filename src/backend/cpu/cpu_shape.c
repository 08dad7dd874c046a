/* src/backend/cpu/cpu_shape.c - placeholder: every op here reports 'not implemented'. */
#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

gc_status gc_cpu_channel_copy(gc_t y, gc_t x, int64_t c0, int to_y)
{
    (void)y;
    (void)x;
    (void)c0;
    (void)to_y;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_channel_copy: not implemented");
}

gc_status gc_cpu_resize_bilinear_forward(gc_t y, gc_t x)
{
    (void)y;
    (void)x;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_resize_bilinear_forward: not implemented");
}

/* src/backend/opencl/cl_dense.c - placeholder: every op here reports 'not implemented'. */
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

gc_status gc_cl_dense_forward(gc_t y, gc_t x, gc_t w, gc_t b)
{
    (void)y;
    (void)x;
    (void)w;
    (void)b;
    return gc_error(GC_ERR_DEVICE, "gc_cl_dense_forward: not implemented");
}

gc_status gc_cl_dense_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w)
{
    (void)dx;
    (void)dw;
    (void)db;
    (void)dy;
    (void)x;
    (void)w;
    return gc_error(GC_ERR_DEVICE, "gc_cl_dense_backward: not implemented");
}

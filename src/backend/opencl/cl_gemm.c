/* src/backend/opencl/cl_gemm.c - placeholder: every op here reports 'not implemented'. */
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

gc_status gc_cl_gemm(gc_t c, gc_t a, gc_t b, const gc_gemm_args *args)
{
    (void)c;
    (void)a;
    (void)b;
    (void)args;
    return gc_error(GC_ERR_DEVICE, "gc_cl_gemm: not implemented");
}

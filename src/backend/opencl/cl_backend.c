/* placeholder */
#include "backend/opencl/cl_internal.h"
#include "util/error.h"
gc_status gc_opencl_backend_init(int global_index, gc_backend **out)
{
    (void)global_index;
    (void)out;
    return gc_error(GC_ERR_DEVICE, "OpenCL backend: not implemented");
}
gc_status gc_cl_fail(cl_int err, const char *what)
{
    return gc_error(GC_ERR_DEVICE, "%s: %d", what, (int)err);
}

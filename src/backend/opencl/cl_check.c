/* src/backend/opencl/cl_check.c - the NaN/Inf check of the trainer's
 * divergence guard (cl/check.cl). */
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"

gc_status gc_cl_nonfinite_flag(gc_t flag, gc_t x, float value)
{
    int64_t n = gc_tensor_numel(x);
    GC_TRY(gc_cl_check_int(n, "nonfinite check: elements"));
    gc_cl_call c = gc_cl_begin(x->be, "nonfinite_flag");
    gc_cl_arg_tensor(&c, flag);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_float(&c, value);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

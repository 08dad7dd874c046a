/* src/backend/cpu/cpu_check.c - the NaN/Inf check of the trainer's
 * divergence guard, reference version. */
#include <math.h>

#include "backend/cpu/cpu_ops.h"

gc_status gc_cpu_nonfinite_flag(gc_t flag, gc_t x, float value)
{
    const float *p = gc_cpu_data(x);
    float *f = gc_cpu_data(flag);
    int64_t n = gc_tensor_numel(x);
    for (int64_t i = 0; i < n && f[0] == 0.0f; i++)
        if (!isfinite(p[i])) f[0] = value;
    return GC_OK;
}

/* src/backend/opencl/cl_memory.c - device allocations: refused up front
 * when above the device's largest allocation, open to GANCL_FAULT, and
 * failing with a message that gives the size, the device's limits and
 * what to do about it. */
#include <stdio.h>

#include "backend/opencl/cl_internal.h"
#include "util/error.h"

#define MIB(x) ((double)(x) / 1048576.0)

/* "12.5 MiB", or "3072 bytes" below a MiB (where 0.0 MiB would say nothing). */
static const char *size_text(char *buf, size_t n, size_t bytes)
{
    if (bytes < ((size_t)1 << 20))
        snprintf(buf, n, "%zu bytes", bytes);
    else
        snprintf(buf, n, "%.1f MiB", MIB(bytes));
    return buf;
}

gc_status gc_cl_alloc_fail(gc_backend *be, cl_int err, const char *what, size_t nbytes,
                           const char *remedy)
{
    const gc_device_info *d = &be->device;
    char size[48];
    size_text(size, sizeof size, nbytes);
    if (err == CL_INVALID_BUFFER_SIZE && d->max_alloc_bytes && nbytes > d->max_alloc_bytes)
        return gc_error(GC_ERR_NOMEM,
                        "%s: %s: %s is more than the device's largest allocation "
                        "(%.1f MiB; device memory %.1f MiB); %s",
                        be->name, what, size, MIB(d->max_alloc_bytes), MIB(d->global_mem_bytes),
                        remedy);
    gc_status s = gc_cl_fail(err, what);
    return gc_error_prefix(s == GC_ERR_DEVICE ? GC_ERR_DEVICE : GC_ERR_NOMEM,
                           "%s: allocating %s (device memory %.1f MiB, largest allocation "
                           "%.1f MiB; %s)",
                           be->name, size, MIB(d->global_mem_bytes), MIB(d->max_alloc_bytes),
                           remedy);
}

cl_mem gc_cl_create_buffer(gc_backend *be, size_t nbytes, cl_int *err)
{
    const gc_device_info *d = &be->device;
    /* Drivers differ on an oversized request (an error code, a lazy
     * failure at first use, or success on a buffer they cannot back), so
     * it is refused here with the same error everywhere. */
    if (d->max_alloc_bytes && nbytes > d->max_alloc_bytes) {
        *err = CL_INVALID_BUFFER_SIZE;
        return NULL;
    }
    if (gc_fault_hit(GC_FAULT_ALLOC)) {
        *err = CL_MEM_OBJECT_ALLOCATION_FAILURE;
        return NULL;
    }
    return clCreateBuffer(gc_cl_ctx_of(be)->context, CL_MEM_READ_WRITE, nbytes ? nbytes : 1, NULL,
                          err);
}

gc_status gc_cl_fault_alloc(gc_backend *be, const char *what, size_t nbytes)
{
    char call[96];
    snprintf(call, sizeof call, "clCreateBuffer(%s)", what);
    return gc_cl_alloc_fail(be, CL_MEM_OBJECT_ALLOCATION_FAILURE, call, nbytes,
                            "try a smaller --batch");
}

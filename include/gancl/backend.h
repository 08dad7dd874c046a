/* gancl/backend.h - devices and backends.
 *
 * A backend owns a device's memory and runs the ops of gancl/ops.h on it.
 * Two exist: "cpu", the plain-C reference that is always present, and
 * OpenCL, one per device of every platform the ICD loader reports.
 * Devices are numbered globally across platforms, in the order the loader
 * lists platforms and each platform lists its devices.
 */
#ifndef GANCL_BACKEND_H
#define GANCL_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gc_backend gc_backend;

typedef enum gc_device_type {
    GC_DEVICE_CPU_REFERENCE = 0, /* the plain-C backend */
    GC_DEVICE_GPU,
    GC_DEVICE_CPU,
    GC_DEVICE_ACCELERATOR,
    GC_DEVICE_OTHER,
} gc_device_type;

typedef struct gc_device_info {
    int index; /* global index; -1 for the CPU reference backend */
    gc_device_type type;
    char platform[128];
    char name[128];
    char vendor[128];
    char driver_version[64];
    char opencl_c_version[64];
    unsigned compute_units;
    uint64_t global_mem_bytes;
    uint64_t max_alloc_bytes;
    size_t max_work_group_size;
} gc_device_info;

/* "GPU", "CPU", "accelerator", "other" or "reference". */
const char *gc_device_type_name(gc_device_type t);

/* Every OpenCL device of every platform.  *out is malloc'ed (free() it);
 * *count may be 0.  A machine without any OpenCL platform is not an error:
 * *count is 0 and *notice (if non-NULL) points at a one-line explanation. */
gc_status gc_device_list(gc_device_info **out, int *count, const char **notice);

/* Opens a backend.  spec is "cpu", a global device index ("0"), or NULL
 * for the default: $GANCL_DEVICE if set, else the first GPU, else the first
 * OpenCL device, else cpu.  A spec naming no device fails with GC_ERR_ARG
 * and a message listing the valid choices. */
gc_status gc_backend_init(const char *spec, gc_backend **out);
void gc_backend_free(gc_backend *be);

/* The device behind a backend. */
const gc_device_info *gc_backend_device(const gc_backend *be);

/* A short human name, e.g. "cpu" or "opencl:0 (pthread-skylake)". */
const char *gc_backend_name(const gc_backend *be);

/* 1 for the CPU reference backend. */
int gc_backend_is_reference(const gc_backend *be);

/* Waits until every queued op has finished; reports a device error that
 * happened asynchronously. */
gc_status gc_backend_sync(gc_backend *be);

#ifdef __cplusplus
}
#endif
#endif

/* src/backend/opencl/cl_device.c - platform and device discovery.
 *
 * Devices are numbered globally: platform by platform in the order the ICD
 * loader lists them, device by device within each platform.  A machine with
 * the loader but no driver (clGetPlatformIDs returns CL_PLATFORM_NOT_FOUND_KHR
 * or zero platforms) simply has no devices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_internal.h"
#include "util/error.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

static void info_str(cl_device_id d, cl_device_info what, char *buf, size_t n)
{
    buf[0] = '\0';
    if (clGetDeviceInfo(d, what, n, buf, NULL) != CL_SUCCESS) snprintf(buf, n, "?");
    buf[n - 1] = '\0';
    /* Drivers pad some strings with spaces. */
    size_t len = strlen(buf);
    while (len && buf[len - 1] == ' ')
        buf[--len] = '\0';
}

static gc_device_type map_type(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU) return GC_DEVICE_GPU;
    if (t & CL_DEVICE_TYPE_CPU) return GC_DEVICE_CPU;
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return GC_DEVICE_ACCELERATOR;
    return GC_DEVICE_OTHER;
}

void gc_cl_fill_device_info(cl_platform_id p, cl_device_id d, int index, gc_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->index = index;
    if (clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof info->platform, info->platform, NULL) !=
        CL_SUCCESS)
        snprintf(info->platform, sizeof info->platform, "?");
    info->platform[sizeof info->platform - 1] = '\0';
    info_str(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    info_str(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    info_str(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
    info_str(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version, sizeof info->opencl_c_version);
    cl_device_type t = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof t, &t, NULL);
    info->type = map_type(t);
    cl_uint cu = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    info->compute_units = cu;
    cl_ulong mem = 0, alloc = 0;
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc, NULL);
    info->global_mem_bytes = mem;
    info->max_alloc_bytes = alloc;
    size_t wg = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    info->max_work_group_size = wg;
}

gc_status gc_cl_find_device(int index, cl_platform_id *platform, cl_device_id *device)
{
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || np == 0) {
        return gc_error(GC_ERR_ARG, "no OpenCL platform is installed");
    }
    if (err != CL_SUCCESS) return gc_cl_fail(err, "clGetPlatformIDs");
    cl_platform_id *ps = calloc(np, sizeof *ps);
    if (!ps) return gc_error(GC_ERR_NOMEM, "out of host memory");
    err = clGetPlatformIDs(np, ps, NULL);
    if (err != CL_SUCCESS) {
        free(ps);
        return gc_cl_fail(err, "clGetPlatformIDs");
    }
    int seen = 0;
    gc_status s = gc_error(GC_ERR_ARG, "no OpenCL device %d", index);
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(ps[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        if (index < seen + (int)nd) {
            cl_device_id *ds = calloc(nd, sizeof *ds);
            if (!ds) {
                s = gc_error(GC_ERR_NOMEM, "out of host memory");
                break;
            }
            if ((err = clGetDeviceIDs(ps[p], CL_DEVICE_TYPE_ALL, nd, ds, NULL)) == CL_SUCCESS) {
                *platform = ps[p];
                *device = ds[index - seen];
                s = GC_OK;
            } else {
                s = gc_cl_fail(err, "clGetDeviceIDs");
            }
            free(ds);
            break;
        }
        seen += (int)nd;
    }
    free(ps);
    return s;
}

gc_status gc_opencl_device_list(gc_device_info **out, int *count, const char **notice)
{
    *out = NULL;
    *count = 0;
    if (notice) *notice = NULL;
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && np == 0)) {
        if (notice) *notice = "no OpenCL platform is installed (only the cpu backend is available)";
        return GC_OK;
    }
    if (err != CL_SUCCESS) {
        if (notice) *notice = "the OpenCL ICD loader reported an error listing platforms";
        return GC_OK;
    }
    cl_platform_id *ps = calloc(np, sizeof *ps);
    if (!ps) return gc_error(GC_ERR_NOMEM, "out of host memory");
    if (clGetPlatformIDs(np, ps, NULL) != CL_SUCCESS) np = 0;
    int cap = 0, n = 0;
    gc_device_info *list = NULL;
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(ps[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS || nd == 0)
            continue;
        cl_device_id *ds = calloc(nd, sizeof *ds);
        if (!ds || clGetDeviceIDs(ps[p], CL_DEVICE_TYPE_ALL, nd, ds, NULL) != CL_SUCCESS) {
            free(ds);
            continue;
        }
        for (cl_uint d = 0; d < nd; d++) {
            if (n == cap) {
                cap = cap ? 2 * cap : 8;
                gc_device_info *grown = realloc(list, (size_t)cap * sizeof *list);
                if (!grown) {
                    free(ds);
                    free(ps);
                    free(list);
                    return gc_error(GC_ERR_NOMEM, "out of host memory");
                }
                list = grown;
            }
            gc_cl_fill_device_info(ps[p], ds[d], n, &list[n]);
            n++;
        }
        free(ds);
    }
    free(ps);
    if (n == 0 && notice) *notice = "OpenCL platforms are installed but report no device";
    *out = list;
    *count = n;
    return GC_OK;
}

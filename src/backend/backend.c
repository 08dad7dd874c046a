/* src/backend/backend.c - device listing and backend selection. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "util/error.h"
#include "util/log.h"

const char *gc_device_type_name(gc_device_type t)
{
    switch (t) {
    case GC_DEVICE_CPU_REFERENCE: return "reference";
    case GC_DEVICE_GPU: return "GPU";
    case GC_DEVICE_CPU: return "CPU";
    case GC_DEVICE_ACCELERATOR: return "accelerator";
    case GC_DEVICE_OTHER: return "other";
    }
    return "other";
}

gc_status gc_device_list(gc_device_info **out, int *count, const char **notice)
{
    return gc_opencl_device_list(out, count, notice);
}

/* "cpu, 0, 1" for error messages. */
static void valid_choices(const gc_device_info *devs, int n, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "cpu");
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, ", %d", devs[i].index);
}

static int parse_index(const char *s, long *out)
{
    if (!*s) return 0;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    if (strlen(s) > 6) return 0;
    *out = strtol(s, NULL, 10);
    return 1;
}

gc_status gc_backend_init(const char *spec, gc_backend **out)
{
    *out = NULL;
    const char *origin = "--device";
    if (!spec) {
        spec = getenv("GANCL_DEVICE");
        origin = "GANCL_DEVICE";
        if (spec && !*spec) spec = NULL;
    }
    if (spec && !strcmp(spec, "cpu")) return gc_cpu_backend_init(out);

    gc_device_info *devs = NULL;
    int n = 0;
    const char *notice = NULL;
    gc_status s = gc_device_list(&devs, &n, &notice);
    if (s != GC_OK) return s;

    if (!spec) {
        int pick = -1;
        for (int i = 0; i < n && pick < 0; i++)
            if (devs[i].type == GC_DEVICE_GPU) pick = i;
        if (pick < 0 && n > 0) pick = 0;
        free(devs);
        if (pick < 0) {
            GC_INFO("%s; running on the CPU reference backend",
                    notice ? notice : "no OpenCL device found");
            return gc_cpu_backend_init(out);
        }
        return gc_opencl_backend_init(pick, out);
    }

    long idx;
    if (!parse_index(spec, &idx) || idx >= n) {
        char choices[512];
        valid_choices(devs, n, choices, sizeof choices);
        free(devs);
        return gc_error(GC_ERR_ARG,
                        "%s: no device '%s'; valid choices: %s (see gancl list-devices)", origin,
                        spec, choices);
    }
    free(devs);
    return gc_opencl_backend_init((int)idx, out);
}

void gc_backend_free(gc_backend *be)
{
    if (be) be->i->free(be);
}

const gc_device_info *gc_backend_device(const gc_backend *be)
{
    return &be->device;
}

const char *gc_backend_name(const gc_backend *be)
{
    return be->name;
}

int gc_backend_is_reference(const gc_backend *be)
{
    return be->device.type == GC_DEVICE_CPU_REFERENCE;
}

gc_status gc_backend_sync(gc_backend *be)
{
    return be->i->synchronize(be);
}

gc_status gc_backend_nonfinite_flag(const gc_tensor *flag, const gc_tensor *x, float value)
{
    GC_ASSERT(flag->be == x->be && gc_tensor_numel(flag) >= 1 && value != 0.0f);
    return x->be->i->nonfinite_flag(flag, x, value);
}

/* src/backend/opencl/cl_profile.c - per-kernel device time from OpenCL
 * event profiling (gancl/profile.h), for `gancl bench train --profile`.
 *
 * Profiling needs a queue created with CL_QUEUE_PROFILING_ENABLE, so
 * gc_profile_begin drains the backend's queue and replaces it with one
 * that has the flag; a process that never profiles keeps the plain queue
 * and pays nothing.  Each launch then returns an event, kept in a pending
 * list; events are resolved (start/end read, added to the kernel's total,
 * released) in batches, when the list is full and when the totals are
 * read, so a long run holds a bounded number of events.
 *
 * One backend is profiled at a time (the state is this file's); that is
 * what the bench commands need, and it keeps the backend's context struct
 * free of profiling fields.
 */
#include "gancl/profile.h"

#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_profile.h"
#include "util/error.h"

/* Pending events resolved at once when the list is full: large enough
 * that the wait rarely stalls the host, small enough to bound memory. */
#define PENDING_MAX 4096

typedef struct pending {
    int entry; /* index into prof.ent: names are copied when recorded */
    cl_event ev;
} pending;

static struct {
    const gc_backend *be; /* the backend being profiled, or NULL */
    cl_event slot;        /* what gc_cl_profile_event hands out */
    pending *pend;
    int n_pend;
    gc_profile_entry *ent;
    int n_ent, cap_ent;
    cl_int err; /* first failure while resolving events */
} prof;

cl_event *gc_cl_profile_event(const gc_backend *be)
{
    if (!prof.be || prof.be != be) return NULL;
    prof.slot = NULL;
    return &prof.slot;
}

int gc_cl_profile_active(const gc_backend *be)
{
    return prof.be && prof.be == be;
}

static gc_profile_entry *entry(const char *name)
{
    for (int i = 0; i < prof.n_ent; i++)
        if (!strncmp(prof.ent[i].name, name, sizeof prof.ent[i].name - 1)) return &prof.ent[i];
    if (prof.n_ent == prof.cap_ent) {
        int cap = prof.cap_ent ? 2 * prof.cap_ent : 64;
        gc_profile_entry *e = realloc(prof.ent, (size_t)cap * sizeof *e);
        if (!e) return NULL;
        prof.ent = e;
        prof.cap_ent = cap;
    }
    gc_profile_entry *e = &prof.ent[prof.n_ent++];
    memset(e, 0, sizeof *e);
    strncpy(e->name, name, sizeof e->name - 1);
    return e;
}

/* Waits for every pending event and adds its time to its kernel. */
static void resolve(void)
{
    if (!prof.n_pend) return;
    cl_event evs[PENDING_MAX];
    for (int i = 0; i < prof.n_pend; i++)
        evs[i] = prof.pend[i].ev;
    cl_int err = clWaitForEvents((cl_uint)prof.n_pend, evs);
    for (int i = 0; i < prof.n_pend; i++) {
        cl_ulong t0 = 0, t1 = 0;
        if (err == CL_SUCCESS)
            err = clGetEventProfilingInfo(evs[i], CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL);
        if (err == CL_SUCCESS)
            err = clGetEventProfilingInfo(evs[i], CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL);
        gc_profile_entry *e = &prof.ent[prof.pend[i].entry];
        if (err == CL_SUCCESS) {
            e->calls++;
            e->seconds += t1 > t0 ? (double)(t1 - t0) * 1e-9 : 0.0;
        }
        if (err != CL_SUCCESS && prof.err == CL_SUCCESS) prof.err = err;
        clReleaseEvent(evs[i]);
    }
    prof.n_pend = 0;
}

void gc_cl_profile_record(const gc_backend *be, const char *name, cl_event ev)
{
    if (!ev) return;
    if (prof.be != be || !prof.pend) {
        clReleaseEvent(ev);
        return;
    }
    gc_profile_entry *e = entry(name);
    if (!e) {
        clReleaseEvent(ev);
        return;
    }
    if (prof.n_pend == PENDING_MAX) resolve();
    prof.pend[prof.n_pend++] = (pending){(int)(e - prof.ent), ev};
}

static void clear(void)
{
    resolve();
    prof.n_ent = 0;
    prof.err = CL_SUCCESS;
}

gc_status gc_profile_begin(gc_backend *be)
{
    if (gc_backend_is_reference(be))
        return gc_error(GC_ERR_ARG, "profiling needs an OpenCL device: the CPU reference backend "
                                    "has no device timers");
    if (prof.be == be) return gc_profile_reset(be);
    if (prof.be) return gc_error(GC_ERR_ARG, "another backend is already being profiled");
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    cl_int err = clFinish(cl->queue);
    if (err != CL_SUCCESS) return gc_cl_fail(err, "clFinish");
    cl_command_queue q =
        clCreateCommandQueue(cl->context, cl->device, CL_QUEUE_PROFILING_ENABLE, &err);
    if (err != CL_SUCCESS) return gc_cl_fail(err, "clCreateCommandQueue(profiling)");
    prof.pend = malloc(PENDING_MAX * sizeof *prof.pend);
    if (!prof.pend) {
        clReleaseCommandQueue(q);
        return gc_error(GC_ERR_NOMEM, "out of host memory for the profiler");
    }
    clReleaseCommandQueue(cl->queue);
    cl->queue = q;
    prof.be = be;
    clear();
    return GC_OK;
}

static gc_status check_active(const gc_backend *be)
{
    if (prof.be != be) return gc_error(GC_ERR_ARG, "this backend is not being profiled");
    return GC_OK;
}

gc_status gc_profile_reset(gc_backend *be)
{
    GC_TRY(check_active(be));
    GC_TRY(gc_backend_sync(be));
    clear();
    return GC_OK;
}

static int by_time(const void *a, const void *b)
{
    double x = ((const gc_profile_entry *)a)->seconds, y = ((const gc_profile_entry *)b)->seconds;
    return (x < y) - (x > y);
}

gc_status gc_profile_read(gc_backend *be, gc_profile_entry **out, int *count)
{
    *out = NULL;
    *count = 0;
    GC_TRY(check_active(be));
    GC_TRY(gc_backend_sync(be));
    resolve();
    if (prof.err != CL_SUCCESS) return gc_cl_fail(prof.err, "reading profiling events");
    gc_profile_entry *e = malloc((size_t)(prof.n_ent ? prof.n_ent : 1) * sizeof *e);
    if (!e) return gc_error(GC_ERR_NOMEM, "out of host memory for the profile");
    int n = 0;
    for (int i = 0; i < prof.n_ent; i++)
        if (prof.ent[i].calls) e[n++] = prof.ent[i];
    qsort(e, (size_t)n, sizeof *e, by_time);
    *out = e;
    *count = n;
    return GC_OK;
}

/* The queue keeps its profiling flag until the backend is freed: swapping
 * it back would cost another drain for no gain. */
void gc_profile_end(gc_backend *be)
{
    if (!be || prof.be != be) return;
    clFinish(gc_cl_ctx_of(be)->queue);
    clear();
    free(prof.pend);
    free(prof.ent);
    memset(&prof, 0, sizeof prof);
}

void gc_cl_profile_forget(gc_backend *be)
{
    gc_profile_end(be);
}

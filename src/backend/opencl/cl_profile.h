/* src/backend/opencl/cl_profile.h - the launch-side hooks of the event
 * profiler (cl_profile.c; the public side is gancl/profile.h).
 *
 * A launcher that enqueues work passes gc_cl_profile_event(be) as the
 * event pointer (NULL unless be is being profiled), then hands the event
 * to gc_cl_profile_record with the kernel's name once the enqueue
 * succeeded:
 *
 *     cl_event *ev = gc_cl_profile_event(be);
 *     err = clEnqueueNDRangeKernel(..., 0, NULL, ev);
 *     if (ev && err == CL_SUCCESS) gc_cl_profile_record(be, name, *ev);
 */
#ifndef GANCL_CL_PROFILE_H
#define GANCL_CL_PROFILE_H

#include "backend/opencl/cl_internal.h"

cl_event *gc_cl_profile_event(const gc_backend *be);
/* 1 while be is being profiled: launchers may then give a kernel a more
 * telling name (its shape), copied when recorded. */
int gc_cl_profile_active(const gc_backend *be);
/* Takes ownership of ev. */
void gc_cl_profile_record(const gc_backend *be, const char *name, cl_event ev);
/* Called when a backend is freed: stops profiling it if it was. */
void gc_cl_profile_forget(gc_backend *be);

#endif

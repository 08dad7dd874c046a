/* gancl/profile.h - per-kernel device time from OpenCL event profiling.
 *
 * Between gc_profile_begin and gc_profile_end every kernel (and CLBlast
 * call) the backend enqueues is timed by the device itself (the queue is
 * re-created with CL_QUEUE_PROFILING_ENABLE for the purpose, so runs that do
 * not profile pay nothing).  Times add up per kernel name:
 *
 *     gc_profile_begin(be);
 *     ... warm-up ...
 *     gc_profile_reset(be);
 *     ... the work to measure ...
 *     gc_profile_entry *e; int n;
 *     gc_profile_read(be, &e, &n);     // e[0] is the most expensive kernel
 *     free(e);
 *     gc_profile_end(be);
 *
 * One backend at a time is profiled.  The CPU reference backend has no
 * device timers: gc_profile_begin fails there with GC_ERR_ARG and a one-line
 * message.  Profiling never changes results.
 */
#ifndef GANCL_PROFILE_H
#define GANCL_PROFILE_H

#include <stdint.h>

#include "gancl/backend.h"
#include "gancl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gc_profile_entry {
    char name[64];  /* the kernel's name, or "CLBlastSgemm" */
    int64_t calls;  /* launches since the last reset */
    double seconds; /* device time of those launches (end - start of each) */
} gc_profile_entry;

gc_status gc_profile_begin(gc_backend *be);
/* Forgets what was recorded so far (waits for queued work first). */
gc_status gc_profile_reset(gc_backend *be);
/* Waits for queued work, then returns every kernel seen since the last
 * reset, most device time first, in a malloc'ed array (free() it). */
gc_status gc_profile_read(gc_backend *be, gc_profile_entry **out, int *count);
/* Stops recording; a no-op when be is not being profiled. */
void gc_profile_end(gc_backend *be);

#ifdef __cplusplus
}
#endif
#endif

/* src/util/lock.h - one process at a time in a run folder.
 *
 * A lock is a file (gancl.lock in the run folder) holding the owner's pid,
 * with an flock(2) on it for as long as the owner runs.  The kernel drops
 * the flock when the process ends, however it ends (SIGKILL included), so
 * a lock file left behind by a crashed run is recognised as stale and
 * taken over; a lock whose flock is held belongs to a live process and is
 * refused with that process's pid.
 *
 *     gc_lock lk;
 *     int stale;
 *     if (gc_lock_acquire("runs/a/gancl.lock", &lk, &stale) != GC_OK) ... refuse
 *     ... the folder is ours ...
 *     gc_lock_release(&lk);
 */
#ifndef GANCL_UTIL_LOCK_H
#define GANCL_UTIL_LOCK_H

#include <limits.h>

#include "gancl/status.h"

typedef struct gc_lock {
    int fd; /* -1 when not held */
    char path[PATH_MAX];
} gc_lock;

/* Takes path, creating it.  GC_ERR_IO with "... in use by process N" when
 * another live process holds it.  *stale_pid (if non-NULL) gets the pid
 * recorded by a dead previous owner whose lock was taken over, else 0. */
gc_status gc_lock_acquire(const char *path, gc_lock *lock, long *stale_pid);
/* Removes the file and drops the lock; a lock not held is a no-op. */
void gc_lock_release(gc_lock *lock);

#endif

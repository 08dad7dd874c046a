/* src/util/fault.h - fault injection for tests: GANCL_FAULT.
 *
 * GANCL_FAULT is a comma-separated list of KIND:N.  For the counted kinds
 * the N-th event of that kind in the process (counting from 1) fails as
 * the real thing would; the others succeed:
 *
 *     alloc:N     device buffer allocations (both backends, the OpenCL
 *                 workspace and the GEMM scratch)
 *     enqueue:N   OpenCL kernel launches
 *     read:N      device-to-host copies
 *     write:N     host-to-device copies
 *     build:N     OpenCL program builds (from source or the cache)
 *     file:N      atomic file writes (gc_fs_write_parts_atomic): the
 *                 temporary file is half written, then the write fails
 *                 as on a full disk
 *     crash:N     atomic file writes too, but the process kills itself
 *                 with SIGKILL halfway through writing the temporary
 *                 file (a crash, or the power going, at the worst moment)
 *
 * and one keyed by the training step rather than counted:
 *
 *     nan:S       the trainer writes NaN into a parameter of G after
 *                 step S (a simulated divergence)
 *
 * GANCL_FAULT=count fails nothing and prints, at exit, one line on stderr
 * with how many events of each kind happened, so that a test can sweep N
 * over all of them.  Unset, every hook costs one branch.
 */
#ifndef GANCL_UTIL_FAULT_H
#define GANCL_UTIL_FAULT_H

#include <stdint.h>

typedef enum gc_fault_kind {
    GC_FAULT_ALLOC,
    GC_FAULT_ENQUEUE,
    GC_FAULT_READ,
    GC_FAULT_WRITE,
    GC_FAULT_BUILD,
    GC_FAULT_FILE,
    GC_FAULT_CRASH,
    GC_FAULT_NAN,
    GC_FAULT_KINDS
} gc_fault_kind;

/* Counts one event of a counted kind; 1 when it is the one to fail. */
int gc_fault_hit(gc_fault_kind kind);

/* The N of KIND:N in GANCL_FAULT, or -1 when that kind is not armed (for
 * the step-keyed kinds). */
int64_t gc_fault_arg(gc_fault_kind kind);

#endif

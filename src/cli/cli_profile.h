/* src/cli/cli_profile.h - the --profile option the bench commands share:
 * start event profiling (or say why not) and print the per-kernel table. */
#ifndef GANCL_CLI_PROFILE_H
#define GANCL_CLI_PROFILE_H

#include <stdint.h>

#include "gancl/backend.h"
#include "gancl/status.h"

/* Starts profiling be.  Returns 1 when it runs; 0 with a one-line notice on
 * stdout when the backend cannot profile (the CPU reference), so the
 * benchmark goes on unprofiled.  A device failure is returned in *s. */
int gc_cli_profile_begin(gc_backend *be, gc_status *s);

/* Prints the kernels recorded since the last reset as time per `unit`
 * ("step", "batch"; units_name is its plural) over `units` of them that
 * took wall_s seconds, then stops profiling. */
gc_status gc_cli_profile_report(gc_backend *be, const char *unit, const char *units_name,
                                int64_t units, double wall_s);

#endif

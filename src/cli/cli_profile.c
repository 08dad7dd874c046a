/* src/cli/cli_profile.c - `--profile` of `gancl bench train` and `gancl
 * bench fid`: the per-kernel device-time table from gancl/profile.h. */
#include "cli/cli_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/profile.h"

int gc_cli_profile_begin(gc_backend *be, gc_status *s)
{
    *s = GC_OK;
    if (gc_backend_is_reference(be)) {
        printf("  --profile: profiling needs an OpenCL device (the CPU reference backend has no "
               "device timers); running unprofiled\n");
        return 0;
    }
    *s = gc_profile_begin(be);
    return *s == GC_OK;
}

gc_status gc_cli_profile_report(gc_backend *be, const char *unit, const char *units_name,
                                int64_t units, double wall_s)
{
    gc_profile_entry *e;
    int n;
    gc_status s = gc_profile_read(be, &e, &n);
    gc_profile_end(be);
    if (s != GC_OK) return s;
    double per = units > 0 ? 1.0 / (double)units : 0.0, wall_ms = wall_s * 1e3 * per;
    double dev = 0;
    int64_t calls = 0;
    for (int i = 0; i < n; i++)
        dev += e[i].seconds, calls += e[i].calls;
    printf("\n  profile: OpenCL event times over %lld %s (%.2f ms of wall time per %s)\n",
           (long long)units, units_name, wall_ms, unit);
    printf("  %-34s %10s %10s %10s\n", "kernel", "calls/", "ms/", "% of");
    printf("  %-34s %10s %10s %10s\n", "", unit, unit, unit);
    for (int i = 0; i < n; i++)
        printf("  %-34s %10.1f %10.3f %9.1f%%\n", e[i].name, (double)e[i].calls * per,
               e[i].seconds * 1e3 * per,
               wall_ms > 0 ? 100.0 * e[i].seconds * 1e3 * per / wall_ms : 0);
    printf("  %-34s %10.1f %10.3f %9.1f%%  (device time / wall time)\n", "total",
           (double)calls * per, dev * 1e3 * per,
           wall_ms > 0 ? 100.0 * dev * 1e3 * per / wall_ms : 0);
    printf("  (GEMM tiles by M x N x K, transposes by rows x cols x batch)\n");
    free(e);
    return GC_OK;
}

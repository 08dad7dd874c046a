/* src/cli/cli_util.c - error printing, exit codes, strict flag parsing. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"

int gc_cli_exit_code(gc_status s)
{
    switch (s) {
    case GC_OK: return 0;
    case GC_ERR_ARG:
    case GC_ERR_IO:
    case GC_ERR_FORMAT: return 2;
    case GC_ERR_INTERRUPTED: return 130;
    default: return 1;
    }
}

int gc_cli_fail(gc_status s)
{
    fprintf(stderr, "gancl: %s\n", gc_last_error());
    return gc_cli_exit_code(s);
}

int gc_cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gancl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

int gc_cli_open_backend(gc_cli *cli, const char *spec, gc_backend **out)
{
    gc_status s = gc_backend_init(spec ? spec : cli->device, out);
    return s == GC_OK ? 0 : gc_cli_fail(s);
}

int gc_cli_parse_int(const char *flag, const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno == ERANGE) {
        gc_cli_usage_error("%s: '%s' is not an integer", flag, s);
        return 0;
    }
    if (v < lo || v > hi) {
        gc_cli_usage_error("%s: %lld is out of range [%lld, %lld]", flag, v, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int gc_cli_parse_float(const char *flag, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno == ERANGE || !isfinite(v)) {
        gc_cli_usage_error("%s: '%s' is not a finite number", flag, s);
        return 0;
    }
    if (v < lo || v > hi) {
        gc_cli_usage_error("%s: %g is out of range [%g, %g]", flag, v, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

/* src/cli/cli_util.c - error printing, exit codes, strict flag parsing. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_tune.h"
#include "cli/commands.h"

int gc_cli_exit_code(gc_status s)
{
    switch (s) {
    case GC_OK: return 0;
    case GC_ERR_ARG:
    case GC_ERR_IO:
    case GC_ERR_FORMAT: return 2;
    case GC_ERR_INTERRUPTED: return 130;
    case GC_ERR_DIVERGED: return 3;
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

int gc_cli_open_backend_tuned(gc_cli *cli, const char *spec, gc_backend **out)
{
    int rc = gc_cli_open_backend(cli, spec, out);
    if (!rc && !gc_backend_is_reference(*out)) gc_cl_tune_auto(*out);
    return rc;
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

int gc_cli_bad_option(const char *cmd, const struct option *opts, int opt, int argc, char **argv)
{
    /* glibc leaves optind past a long option but not past a short one in
     * the middle of a cluster ("-xq"), so a short one is named by optopt. */
    const char *arg = optind >= 1 && optind <= argc ? argv[optind - 1] : "?";
    /* No short option of gancl takes a value: ':' is always a long one. */
    if (opt == ':') return gc_cli_usage_error("%s: %s needs a value", cmd, arg);
    if (optopt == 0)
        return gc_cli_usage_error("%s: unknown or ambiguous option '%s' (see gancl %s --help)", cmd,
                                  arg, cmd);
    /* A known long option that got a value it does not take ("--json=1")
     * has optopt = its val, as an unknown short option has optopt = itself. */
    const char *eq = strchr(arg, '=');
    if (!strncmp(arg, "--", 2) && eq) {
        size_t len = (size_t)(eq - arg - 2);
        for (const struct option *o = opts; o->name; o++)
            if (o->val == optopt && !strncmp(o->name, arg + 2, len))
                return gc_cli_usage_error("%s: --%s takes no value", cmd, o->name);
    }
    if (optopt > 32 && optopt < 127)
        return gc_cli_usage_error("%s: unknown option '-%c' (see gancl %s --help)", cmd, optopt,
                                  cmd);
    return gc_cli_usage_error("%s: unknown option (see gancl %s --help)", cmd, cmd);
}

int gc_cli_check_path(const char *flag, const char *s, size_t max)
{
    if (!*s) {
        gc_cli_usage_error("%s: empty path", flag);
        return 0;
    }
    if (strlen(s) >= max) {
        gc_cli_usage_error("%s: path too long (%zu bytes, at most %zu)", flag, strlen(s), max - 1);
        return 0;
    }
    return 1;
}

int gc_cli_check_device(const char *flag, const char *s)
{
    /* The syntax only: which indices exist is gc_backend_init's to say. */
    size_t n = strspn(s, "0123456789");
    if (!strcmp(s, "cpu") || (n > 0 && n <= 6 && !s[n])) return 1;
    if (!*s)
        gc_cli_usage_error("%s: empty value (a device index from gancl list-devices, or cpu)",
                           flag);
    else
        gc_cli_usage_error("%s: '%s' is not a device (an index from gancl list-devices, or cpu)",
                           flag, s);
    return 0;
}

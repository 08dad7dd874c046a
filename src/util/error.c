/* src/util/error.c - the thread-local last-error message. */
#include "util/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[1024];

const char *gc_last_error(void)
{
    return last_error;
}

void gc_error_clear(void)
{
    last_error[0] = '\0';
}

/* Messages are printed as one line: newlines from drivers or files become
 * spaces. */
static void flatten(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r') *s = ' ';
}

gc_status gc_error(gc_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    flatten(last_error);
    return s;
}

gc_status gc_error_prefix(gc_status s, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    /* "prefix: old", cut to the buffer (a long message loses its tail). */
    size_t cap = sizeof last_error - 1, used = 0;
    const char *parts[] = {prefix, ": ", old};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(parts[i]);
        if (n > cap - used) n = cap - used;
        memcpy(last_error + used, parts[i], n);
        used += n;
    }
    last_error[used] = '\0';
    flatten(last_error);
    return s;
}

const char *gc_status_name(gc_status s)
{
    switch (s) {
    case GC_OK: return "GC_OK";
    case GC_ERR_ARG: return "GC_ERR_ARG";
    case GC_ERR_IO: return "GC_ERR_IO";
    case GC_ERR_FORMAT: return "GC_ERR_FORMAT";
    case GC_ERR_DEVICE: return "GC_ERR_DEVICE";
    case GC_ERR_NOMEM: return "GC_ERR_NOMEM";
    case GC_ERR_INTERRUPTED: return "GC_ERR_INTERRUPTED";
    case GC_ERR_DIVERGED: return "GC_ERR_DIVERGED";
    }
    return "GC_ERR_UNKNOWN";
}

void gc_assert_fail(const char *expr, const char *file, int line, const char *msg)
{
    fprintf(stderr, "gancl: internal error at %s:%d: %s%s%s\n", file, line, expr, msg ? ": " : "",
            msg ? msg : "");
    abort();
}

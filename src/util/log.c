/* src/util/log.c - leveled diagnostics on stderr. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gc_log_level current_level(void)
{
    static int level = -1;
    if (level < 0) {
        const char *s = getenv("GANCL_LOG");
        level = GC_LOG_INFO;
        if (s) {
            if (!strcmp(s, "debug"))
                level = GC_LOG_DEBUG;
            else if (!strcmp(s, "warn"))
                level = GC_LOG_WARN;
            else if (!strcmp(s, "error"))
                level = GC_LOG_ERROR;
            else if (!strcmp(s, "quiet"))
                level = GC_LOG_QUIET;
        }
    }
    return (gc_log_level)level;
}

int gc_log_enabled(gc_log_level level)
{
    return level >= current_level();
}

void gc_log(gc_log_level level, const char *fmt, ...)
{
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: "};
    if (!gc_log_enabled(level) || level == GC_LOG_QUIET) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "gancl: %s%s\n", prefix[level], line);
}

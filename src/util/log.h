/* src/util/log.h - leveled diagnostics on stderr.
 *
 * GANCL_LOG=debug|info|warn|error|quiet picks the level (default info).
 * Debug lines are how tests observe internals such as kernel-cache hits.
 */
#ifndef GANCL_UTIL_LOG_H
#define GANCL_UTIL_LOG_H

#include "util/error.h"

typedef enum { GC_LOG_DEBUG, GC_LOG_INFO, GC_LOG_WARN, GC_LOG_ERROR, GC_LOG_QUIET } gc_log_level;

void gc_log(gc_log_level level, const char *fmt, ...) GC_PRINTF(2, 3);
int gc_log_enabled(gc_log_level level);

#define GC_DEBUG(...) gc_log(GC_LOG_DEBUG, __VA_ARGS__)
#define GC_INFO(...)  gc_log(GC_LOG_INFO, __VA_ARGS__)
#define GC_WARN(...)  gc_log(GC_LOG_WARN, __VA_ARGS__)

#endif

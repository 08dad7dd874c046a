/* src/util/error.h - setting the last-error message; assertions.
 *
 * gc_error() formats a one-line message for gc_last_error() and returns the
 * status, so failure paths read `return gc_error(GC_ERR_IO, "%s: ...", path);`.
 * GC_ASSERT is for broken invariants (programmer errors): it aborts with
 * file and line, in every build type.
 */
#ifndef GANCL_UTIL_ERROR_H
#define GANCL_UTIL_ERROR_H

#include "gancl/status.h"

#if defined(__GNUC__)
#define GC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GC_PRINTF(a, b)
#endif

gc_status gc_error(gc_status s, const char *fmt, ...) GC_PRINTF(2, 3);
/* Prefixes the current message with "prefix: " (keeps the status). */
gc_status gc_error_prefix(gc_status s, const char *fmt, ...) GC_PRINTF(2, 3);
void gc_error_clear(void);

_Noreturn void gc_assert_fail(const char *expr, const char *file, int line, const char *msg);

#define GC_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) gc_assert_fail(#cond, __FILE__, __LINE__, NULL);                              \
    } while (0)
#define GC_ASSERT_MSG(cond, msg)                                                                   \
    do {                                                                                           \
        if (!(cond)) gc_assert_fail(#cond, __FILE__, __LINE__, (msg));                             \
    } while (0)

#endif

/* gancl/status.h - status codes and the last-error message.
 *
 * Functions that can fail because of their input, a file or the device
 * return a gc_status and leave a one-line message that gc_last_error()
 * returns until the next failure on the same thread.  Programmer errors
 * (shape mismatches inside the library) abort with file and line instead.
 */
#ifndef GANCL_STATUS_H
#define GANCL_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gc_status {
    GC_OK = 0,
    GC_ERR_ARG = 1,         /* a bad argument or flag value from the caller */
    GC_ERR_IO = 2,          /* a file could not be opened, read or written */
    GC_ERR_FORMAT = 3,      /* a file's contents are malformed */
    GC_ERR_DEVICE = 4,      /* the OpenCL driver or device reported an error */
    GC_ERR_NOMEM = 5,       /* an allocation (host or device) failed */
    GC_ERR_INTERRUPTED = 6, /* stopped by a signal */
    GC_ERR_DIVERGED = 7,    /* training produced NaN or Inf (a loss or a parameter) */
} gc_status;

/* The message of the most recent failure on this thread ("" if none). */
const char *gc_last_error(void);

/* A short name for a status ("GC_ERR_IO"). */
const char *gc_status_name(gc_status s);

#ifdef __cplusplus
}
#endif

/* Evaluates a gc_status expression and returns it from the caller on failure. */
#define GC_TRY(expr)                                                                               \
    do {                                                                                           \
        gc_status gc_try_s_ = (expr);                                                              \
        if (gc_try_s_ != GC_OK) return gc_try_s_;                                                  \
    } while (0)

#endif

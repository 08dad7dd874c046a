/* tests/support/test_support.h - what every gancl test shares.
 *
 * - backends: gt_cpu() always exists; gt_cl() is the OpenCL device picked
 *   by $GANCL_TEST_DEVICE (default: the first OpenCL device), or NULL when
 *   the machine has none (then call gt_skip_no_opencl()).
 * - randomness: every test draws fresh inputs; the seed is printed when a
 *   check fails and $GANCL_TEST_SEED replays it.
 * - tensors: upload host arrays, poison outputs with NaN before a kernel
 *   runs (an element the kernel forgets to write then fails the check),
 *   read back, compare with a normalised error.
 */
#ifndef GANCL_TEST_SUPPORT_H
#define GANCL_TEST_SUPPORT_H

#include <check.h>
#include <stdint.h>

#include "gancl/backend.h"
#include "gancl/ops.h"
#include "gancl/tensor.h"

/* ---- backends (created once, freed at exit) ---- */
gc_backend *gt_cpu(void);
gc_backend *gt_cl(void);
/* The device gt_cl() opens, as `--device` takes it: $GANCL_TEST_DEVICE or
 * "0".  Tests that run the gancl binary on the OpenCL device pass it. */
const char *gt_cl_spec(void);
/* Exits 77 (ctest's skip) with a message, or fails when
 * $GANCL_REQUIRE_OPENCL=1. */
void gt_skip_no_opencl(const char *test);

/* ---- randomness ---- */
uint64_t gt_seed(void);  /* this run's seed */
double gt_uniform(void); /* in [0, 1) */
double gt_normal(void);
int gt_randint(int lo, int hi); /* inclusive */
/* A host array of n floats drawn uniformly from [lo, hi); free() it. */
float *gt_rand_array(int64_t n, float lo, float hi);

/* ---- tensors ---- */
/* An owning tensor on be with these dims, filled from host (or with NaN
 * when host is NULL).  Freed by gt_free or at exit by gt_free_all. */
gc_tensor gt_tensor(gc_backend *be, int ndim, const int64_t *dims, const float *host);
#define GT_DIMS(...)                                                                               \
    (sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[])                              \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }
void gt_poison(const gc_tensor *t); /* fills with NaN */
float *gt_read(const gc_tensor *t); /* malloc'ed host copy */
void gt_free(gc_tensor *t);

/* ---- comparison ---- */
/* ||a - b|| / max(||b||, 1e-30) in double, and the index and values of the
 * largest absolute difference; NaN anywhere gives +inf. */
typedef struct gt_diff {
    double nerr;
    int64_t worst;
    double a, b;
} gt_diff;
gt_diff gt_compare(const float *a, const float *b, int64_t n);
/* Fails the current Check test with a full report unless nerr <= tol. */
#define gt_assert_close(a, b, n, tol, what)                                                        \
    gt_assert_close_at(a, b, n, tol, what, __FILE__, __LINE__)
void gt_assert_close_at(const float *a, const float *b, int64_t n, double tol, const char *what,
                        const char *file, int line);
/* Compares two tensors (read back to host) of the same numel. */
void gt_assert_tensors_close_at(const gc_tensor *a, const gc_tensor *b, double tol,
                                const char *what, const char *file, int line);
#define gt_assert_tensors_close(a, b, tol, what)                                                   \
    gt_assert_tensors_close_at(a, b, tol, what, __FILE__, __LINE__)

/* Checks a gc_status, failing with gc_last_error() otherwise. */
#define GT_OK(expr)                                                                                \
    do {                                                                                           \
        gc_status gt_s_ = (expr);                                                                  \
        ck_assert_msg(gt_s_ == GC_OK, "%s failed: %s", #expr, gc_last_error());                    \
    } while (0)

/* Runs a suite without forking (one OpenCL context for the whole binary);
 * returns the process exit code. */
int gt_run_suite(Suite *s);

#endif

/* tests/support/golden.h - reading the golden files written by tools/make_goldens.py.
 *
 * A golden file holds named float32 arrays: a case's inputs, its parameters
 * and PyTorch's outputs.  Layout (little-endian throughout):
 *
 *     char     magic[8] = "GCGOLD01"
 *     uint32   count                  number of arrays
 *     count times:
 *         char     name[32]           NUL-padded, at least one NUL
 *         uint32   ndim               1..4
 *         int64    dims[4]            >= 1 below ndim, 1 from ndim on
 *         float32  data[prod(dims)]   row-major (NCHW)
 *
 * and nothing after the last array.  Scalars are 1-element arrays named
 * "param.<name>" (integers stored as exact floats).
 *
 * gt_golden_load() validates all of that against the file's length and
 * returns GC_ERR_FORMAT (or GC_ERR_IO) with a message naming the file and
 * the fault; the gt_golden_open/get helpers turn any failure into a failed
 * Check test.
 */
#ifndef GANCL_TEST_GOLDEN_H
#define GANCL_TEST_GOLDEN_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/status.h"
#include "gancl/tensor.h"

#define GT_GOLDEN_MAGIC     "GCGOLD01"
#define GT_GOLDEN_NAME_LEN  32
#define GT_GOLDEN_MAX_BYTES ((size_t)64 << 20)

typedef struct gt_golden_array {
    char name[GT_GOLDEN_NAME_LEN];
    int ndim;
    int64_t dims[4];
    int64_t numel;
    float *data; /* owned by the gt_golden */
} gt_golden_array;

typedef struct gt_golden {
    char path[512];
    int count;
    gt_golden_array *arrays;
} gt_golden;

/* Parses a golden file from memory (path is only used in messages). */
gc_status gt_golden_parse(const void *bytes, size_t n, const char *path, gt_golden **out);
/* Reads and parses a file. */
gc_status gt_golden_load(const char *path, gt_golden **out);
void gt_golden_free(gt_golden *g);
/* The array called name, or NULL. */
const gt_golden_array *gt_golden_find(const gt_golden *g, const char *name);

/* ---- helpers that fail the current Check test instead of returning ---- */

/* Loads path or fails the test with the loader's message. */
gt_golden *gt_golden_open(const char *path);
/* The array called name, or the test fails naming the file and the array. */
const gt_golden_array *gt_golden_get(const gt_golden *g, const char *name);
/* A "param.<name>" scalar (pass the full name). */
float gt_golden_scalar(const gt_golden *g, const char *name);
/* Its integer value; fails if the stored float is not an integer. */
int gt_golden_int(const gt_golden *g, const char *name);
/* A tensor on be with the array's shape and contents (owned as gt_tensor's). */
gc_tensor gt_golden_tensor(gc_backend *be, const gt_golden *g, const char *name);
/* A NaN-poisoned tensor on be with the array's shape. */
gc_tensor gt_golden_like(gc_backend *be, const gt_golden *g, const char *name);

#endif

/* tests/support/golden.c - a validating reader for the GCGOLD01 golden files. */
#include "golden.h"

#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "util/error.h"
#include "util/fs.h"

/* Decoded byte by byte so the reader is right on any host byte order. */
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

#define ARRAY_HEADER (GT_GOLDEN_NAME_LEN + 4 + 4 * 8)

void gt_golden_free(gt_golden *g)
{
    if (!g) return;
    for (int i = 0; i < g->count; i++)
        free(g->arrays[i].data);
    free(g->arrays);
    free(g);
}

static gc_status parse_array(const unsigned char *p, size_t left, const char *path, int index,
                             gt_golden_array *a, size_t *used)
{
    if (left < ARRAY_HEADER)
        return gc_error(GC_ERR_FORMAT, "%s: array %d: header truncated (%zu bytes left)", path,
                        index, left);
    if (!memchr(p, '\0', GT_GOLDEN_NAME_LEN))
        return gc_error(GC_ERR_FORMAT, "%s: array %d: name not NUL-terminated", path, index);
    memcpy(a->name, p, GT_GOLDEN_NAME_LEN);
    if (!a->name[0]) return gc_error(GC_ERR_FORMAT, "%s: array %d: empty name", path, index);
    uint32_t ndim = le32(p + GT_GOLDEN_NAME_LEN);
    if (ndim < 1 || ndim > 4)
        return gc_error(GC_ERR_FORMAT, "%s: array '%s': ndim %" PRIu32 " not in 1..4", path,
                        a->name, ndim);
    a->ndim = (int)ndim;
    size_t max_floats = (left - ARRAY_HEADER) / 4;
    uint64_t numel = 1;
    for (int d = 0; d < 4; d++) {
        uint64_t v = le64(p + GT_GOLDEN_NAME_LEN + 4 + 8 * d);
        int64_t sv = (int64_t)v;
        if (d >= a->ndim ? sv != 1 : sv < 1)
            return gc_error(GC_ERR_FORMAT, "%s: array '%s': dims[%d] = %" PRId64 " is invalid",
                            path, a->name, d, sv);
        /* Checked before multiplying, so a hostile size cannot overflow. */
        if (v > max_floats || numel * v > max_floats)
            return gc_error(GC_ERR_FORMAT,
                            "%s: array '%s': %" PRIu64
                            "x... floats exceed the %zu left in the file",
                            path, a->name, v, max_floats);
        a->dims[d] = sv;
        numel *= v;
    }
    a->numel = (int64_t)numel;
    a->data = malloc((size_t)numel * sizeof(float));
    if (!a->data) return gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    const unsigned char *src = p + ARRAY_HEADER;
    for (uint64_t i = 0; i < numel; i++) {
        uint32_t bits = le32(src + 4 * i);
        memcpy(&a->data[i], &bits, sizeof bits);
    }
    *used = ARRAY_HEADER + 4 * (size_t)numel;
    return GC_OK;
}

gc_status gt_golden_parse(const void *bytes, size_t n, const char *path, gt_golden **out)
{
    *out = NULL;
    const unsigned char *p = bytes;
    if (n < 12 || memcmp(p, GT_GOLDEN_MAGIC, 8) != 0)
        return gc_error(GC_ERR_FORMAT, "%s: not a golden file (magic %s missing)", path,
                        GT_GOLDEN_MAGIC);
    uint32_t count = le32(p + 8);
    if (count < 1 || count > (n - 12) / ARRAY_HEADER)
        return gc_error(GC_ERR_FORMAT, "%s: array count %" PRIu32 " impossible for %zu bytes", path,
                        count, n);
    gt_golden *g = calloc(1, sizeof *g);
    if (!g) return gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    snprintf(g->path, sizeof g->path, "%s", path);
    g->arrays = calloc(count, sizeof *g->arrays);
    if (!g->arrays) {
        free(g);
        return gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t pos = 12;
    gc_status s = GC_OK;
    for (uint32_t i = 0; i < count && s == GC_OK; i++) {
        size_t used = 0;
        s = parse_array(p + pos, n - pos, path, (int)i, &g->arrays[i], &used);
        g->count = (int)i + 1; /* so gt_golden_free releases a partial array too */
        pos += used;
        for (uint32_t j = 0; j < i && s == GC_OK; j++)
            if (!strcmp(g->arrays[j].name, g->arrays[i].name))
                s = gc_error(GC_ERR_FORMAT, "%s: array name '%s' repeated", path,
                             g->arrays[i].name);
    }
    if (s == GC_OK && pos != n)
        s = gc_error(GC_ERR_FORMAT, "%s: %zu trailing bytes after the last array", path, n - pos);
    if (s != GC_OK) {
        gt_golden_free(g);
        return s;
    }
    *out = g;
    return GC_OK;
}

gc_status gt_golden_load(const char *path, gt_golden **out)
{
    void *bytes = NULL;
    size_t n = 0;
    *out = NULL;
    GC_TRY(gc_fs_read_file(path, GT_GOLDEN_MAX_BYTES, &bytes, &n));
    gc_status s = gt_golden_parse(bytes, n, path, out);
    free(bytes);
    return s;
}

const gt_golden_array *gt_golden_find(const gt_golden *g, const char *name)
{
    for (int i = 0; i < g->count; i++)
        if (!strcmp(g->arrays[i].name, name)) return &g->arrays[i];
    return NULL;
}

/* ---- Check helpers ------------------------------------------------------- */

gt_golden *gt_golden_open(const char *path)
{
    gt_golden *g = NULL;
    gc_status s = gt_golden_load(path, &g);
    ck_assert_msg(s == GC_OK,
                  "golden file unusable (%s): %s (regenerate with "
                  "/usr/bin/python3 tools/make_goldens.py)",
                  gc_status_name(s), gc_last_error());
    return g;
}

const gt_golden_array *gt_golden_get(const gt_golden *g, const char *name)
{
    const gt_golden_array *a = gt_golden_find(g, name);
    ck_assert_msg(a != NULL, "%s: no array named '%s'", g->path, name);
    return a;
}

float gt_golden_scalar(const gt_golden *g, const char *name)
{
    const gt_golden_array *a = gt_golden_get(g, name);
    ck_assert_msg(a->numel == 1, "%s: '%s' should be a scalar, has %" PRId64 " elements", g->path,
                  name, a->numel);
    return a->data[0];
}

int gt_golden_int(const gt_golden *g, const char *name)
{
    float v = gt_golden_scalar(g, name);
    ck_assert_msg(v == floorf(v) && fabsf(v) < 1e9f, "%s: '%s' = %g is not an integer", g->path,
                  name, (double)v);
    return (int)v;
}

gc_tensor gt_golden_tensor(gc_backend *be, const gt_golden *g, const char *name)
{
    const gt_golden_array *a = gt_golden_get(g, name);
    return gt_tensor(be, a->ndim, a->dims, a->data);
}

gc_tensor gt_golden_like(gc_backend *be, const gt_golden *g, const char *name)
{
    const gt_golden_array *a = gt_golden_get(g, name);
    return gt_tensor(be, a->ndim, a->dims, NULL);
}

/* src/models/inception_weights.c - where Inception's weights come from: a
 * safetensors file with pytorch-fid's state_dict names (every tensor
 * checked before use), deterministic pseudo-random weights for benchmarks
 * and tests, and the lookup of the weights file. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "models/inception.h"
#include "util/error.h"
#include "util/fs.h"

/* ---- safetensors ------------------------------------------------------------- */

static void shape_str(int ndim, const int64_t *shape, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%" PRId64, i ? ", " : "", shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

gc_status gc_inc_get_safetensors(void *ctx, const char *name, int ndim, const int64_t *shape,
                                 float *dst)
{
    const gc_st_file *f = ctx;
    const gc_st_tensor *t = gc_st_find(f, name);
    if (!t)
        return gc_error(GC_ERR_FORMAT,
                        "%s: missing tensor '%s' (not pytorch-fid's Inception weights? see "
                        "tools/convert_fid_weights.py)",
                        gc_st_path(f), name);
    if (t->dtype != GC_ST_F32)
        return gc_error(GC_ERR_FORMAT, "%s: tensor '%s' has dtype %s, expected F32", gc_st_path(f),
                        name, gc_st_dtype_name(t->dtype));
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char got[96], want[96];
        shape_str(t->ndim, t->shape, got, sizeof got);
        shape_str(ndim, shape, want, sizeof want);
        return gc_error(GC_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected %s", gc_st_path(f),
                        name, got, want);
    }
    memcpy(dst, t->data, t->nbytes);
    for (size_t i = 0; i < t->nbytes / sizeof(float); i++)
        if (!isfinite(dst[i]))
            return gc_error(GC_ERR_FORMAT, "%s: tensor '%s' holds a non-finite value at %zu",
                            gc_st_path(f), name, i);
    return GC_OK;
}

/* ---- deterministic weights ------------------------------------------------------
 * Element i of the tensor called name is splitmix64(key + i) >> 40 over 2^24
 * mapped to [lo, hi), key = fnv1a64(name) ^ splitmix64(seed): any tensor can
 * be drawn on its own, in any order, identically by the Python tool. */

static uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a64(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001B3ull;
    }
    return h;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

gc_status gc_inc_get_random(void *ctx, const char *name, int ndim, const int64_t *shape, float *dst)
{
    uint64_t key = fnv1a64(name) ^ splitmix64(*(const uint64_t *)ctx);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    double lo, hi;
    if (ends_with(name, ".conv.weight")) {
        /* He-uniform: keeps the activations' scale through 94 ReLU layers. */
        double a = sqrt(6.0 / (double)(n / shape[0]));
        lo = -a;
        hi = a;
    } else if (ends_with(name, ".bn.weight")) {
        lo = 0.5, hi = 1.5;
    } else if (ends_with(name, ".bn.bias") || ends_with(name, ".bn.running_mean")) {
        lo = -0.2, hi = 0.2;
    } else if (ends_with(name, ".bn.running_var")) {
        lo = 0.5, hi = 2.0;
    } else {
        return gc_error(GC_ERR_ARG, "inception: no random rule for '%s'", name);
    }
    for (int64_t i = 0; i < n; i++) {
        double u = (double)(splitmix64(key + (uint64_t)i) >> 40) / 16777216.0;
        dst[i] = (float)(lo + (hi - lo) * u);
    }
    return GC_OK;
}

/* ---- finding the file ----------------------------------------------------------- */

gc_status gc_fid_weights_path(const char *path, char *out, size_t n)
{
    const char *origin = "--weights";
    char cached[1024];
    if (!path || !*path) {
        const char *env = getenv("GANCL_FID_WEIGHTS");
        if (env && *env) {
            path = env;
            origin = "$GANCL_FID_WEIGHTS";
        } else {
            char dir[900];
            if (gc_fs_cache_dir(dir, sizeof dir) != GC_OK)
                return gc_error_prefix(GC_ERR_IO, "cannot find the FID weights");
            snprintf(cached, sizeof cached, "%s/%s", dir, GC_FID_WEIGHTS_NAME);
            path = cached;
            origin = "the cache";
        }
    }
    if (!gc_fs_is_file(path))
        return gc_error(GC_ERR_IO,
                        "no FID Inception weights at %s (from %s): download pytorch-fid's "
                        "pt_inception-2015-12-05-6726825d.pth and convert it once with "
                        "tools/convert_fid_weights.py (README, 'FID weights'), then pass "
                        "--weights or set GANCL_FID_WEIGHTS",
                        path, origin);
    if (strlen(path) >= n) return gc_error(GC_ERR_ARG, "weights path too long: %s", path);
    snprintf(out, n, "%s", path);
    return GC_OK;
}

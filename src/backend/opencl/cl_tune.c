/* src/backend/opencl/cl_tune.c - choosing the GEMM engine and tile per
 * device: the tile table, the shipped defaults, the tuning file
 * ($XDG_CACHE_HOME/gancl/tune-<device hash>.txt) and the measurement that
 * `gancl tune` runs to write it.
 *
 * The measurement times every candidate on the GEMM shapes gancl's models
 * run at batch 64 (convolutions as im2row GEMMs, dense layers) and keeps
 * the one with the least total time, in three steps: the engine and wide
 * tile, then the tile for narrow C (a few columns), then the K chunk.
 * Each figure is the median of several runs, so a busy machine skews it
 * less; the file records the figures next to the choice.  Commands that
 * run long on a device (train, fid, classify, bench, ...) run the quick
 * measurement once per device and driver when no file exists
 * (gc_cl_tune_auto), so tiles measured on one CPU are not imposed on
 * another.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/opencl/cl_tune.h"

#include "backend/opencl/cl_forms.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/lock.h"
#include "util/log.h"

/* The kernels of cl/gemm.cl, in the same order. */
const gc_cl_tile gc_cl_tiles[] = {
    {"gemm_12x2", 12, 2},
    {"gemm_6x1", 6, 1},
    {"gemm_12x1", 12, 1},
};
const int gc_cl_tile_count = (int)(sizeof gc_cl_tiles / sizeof gc_cl_tiles[0]);

/* CLBlast's Xgemm parameters, in the order CLBlast 1.5 lists them. */
const char *const gc_cl_xgemm_names[GC_CL_XGEMM_PARAMS] = {
    "GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};

/* The candidates.  "cpu" was measured on PoCL 3.1 (cl_gemm.c).  The GPU
 * sets are CLBlast's own best-found parameters for the named devices, from
 * its database (src/database/kernels/xgemm/xgemm_32.hpp, CLBlast master,
 * 2025): a GPU missing from the database (the H100 and H200, say) gets
 * CLBlast's vendor default, which for NVIDIA is a 16 x 32 tile (MWG 16,
 * NWG 32), and `gancl tune` tries these larger tiles instead. */
const gc_cl_xgemm_set gc_cl_xgemm_sets[] = {
    {"auto", {0}},
    {"db", {0}},
    {"cpu", {0, 1, 16, 2, 1, 1, 32, 1, 1, 8, 0, 0, 0, 0, 8, 8}},
    {"a100", {0, 1, 32, 2, 8, 8, 32, 16, 16, 64, 1, 1, 0, 0, 4, 4}},       /* A100-PCIE-40GB */
    {"rtx4090", {0, 1, 32, 2, 32, 32, 128, 8, 8, 64, 0, 1, 1, 1, 4, 4}},   /* RTX 4090 */
    {"rtx3080", {0, 1, 32, 2, 8, 8, 64, 32, 16, 128, 1, 1, 1, 1, 2, 2}},   /* RTX 3080, 3070 */
    {"rtx3090", {0, 1, 32, 2, 16, 16, 64, 8, 8, 64, 1, 1, 0, 0, 4, 4}},    /* RTX 3090, A6000 */
    {"v100", {0, 1, 32, 2, 16, 16, 64, 8, 8, 32, 1, 1, 0, 0, 4, 4}},       /* V100, GV100 */
    {"titanrtx", {0, 1, 32, 2, 8, 32, 128, 16, 8, 128, 1, 1, 1, 1, 2, 2}}, /* TITAN RTX */
    {"rtx4070", {1, 8, 1, 1, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 4, 8}},       /* GEMMK 1: RTX 4070 */
    {"vega", {0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 2, 4}},     /* Radeon RX Vega */
};
const int gc_cl_xgemm_set_count = (int)(sizeof gc_cl_xgemm_sets / sizeof gc_cl_xgemm_sets[0]);

#define TUNE_MAX_BYTES 65536

static int tile_index(int mr, int nv)
{
    for (int i = 0; i < gc_cl_tile_count; i++)
        if (gc_cl_tiles[i].mr == mr && gc_cl_tiles[i].nv == nv) return i;
    return -1;
}

gc_cl_gemm_config gc_cl_tune_default(const gc_backend *be)
{
    /* Measured on PoCL 3.1, 2 cores with AVX-512 (docs/PERFORMANCE.md):
     * 12 x 32 tiles keep 24 of the 32 zmm registers as accumulators; 12 x 16
     * serves C with fewer than 32 columns; chunks of 512 along K keep a
     * weight gradient's operands in L2 (`gancl tune` picked 512 in both of
     * its runs here, 256 and 1024 within 15%).  A CPU whose driver prefers
     * 8-wide floats (AVX2, 16 ymm registers) gets the 6 x 16 tile, BLIS's
     * shape for that register file.  The width is the larger of the
     * preferred and the native one: Intel's CPU runtime prefers 1 (it
     * vectorises across work-items) on AVX-512 hardware whose native width
     * is 16, where 12 x 32 measured 1.4x faster than 6 x 16.  The GPU
     * family picks its tile per call (wg=0); both families use gancl's own
     * kernels. */
    gc_cl_gemm_config cfg = {.engine = GC_CL_GEMM_OWN,
                             .tile = tile_index(12, 2),
                             .narrow = tile_index(12, 1),
                             .kc = 512};
    cl_uint preferred = 0, native = 0;
    cl_device_id device = gc_cl_ctx_of(be)->device;
    clGetDeviceInfo(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof preferred, &preferred,
                    NULL);
    clGetDeviceInfo(device, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof native, &native, NULL);
    cl_uint width = preferred > native ? preferred : native;
    if (width && width < 16) cfg.tile = cfg.narrow = tile_index(6, 1);
    return cfg;
}

void gc_cl_gemm_config_format(const gc_cl_gemm_config *cfg, char *buf, size_t n)
{
    size_t used;
    if (cfg->engine == GC_CL_GEMM_CLBLAST) {
        used = (size_t)snprintf(buf, n, "clblast");
    } else {
        const gc_cl_tile *t = &gc_cl_tiles[cfg->tile], *nt = &gc_cl_tiles[cfg->narrow];
        used = (size_t)snprintf(buf, n, "own tile=%dx%d narrow=%dx%d kc=%d", t->mr, t->nv, nt->mr,
                                nt->nv, cfg->kc);
    }
    if (cfg->wg && used < n) used += (size_t)snprintf(buf + used, n - used, " wg=%d", cfg->wg);
    if (cfg->xgemm && used < n)
        used +=
            (size_t)snprintf(buf + used, n - used, " xgemm=%s", gc_cl_xgemm_sets[cfg->xgemm].name);
    if (cfg->kernels && used < n)
        snprintf(buf + used, n - used, " kernels=%s", cfg->kernels == 2 ? "gpu" : "cpu");
}

static gc_status parse_tile(const char *v, int *out)
{
    int mr, nv, used = 0;
    if (sscanf(v, "%dx%d%n", &mr, &nv, &used) != 2 || v[used] != '\0' ||
        (*out = tile_index(mr, nv)) < 0) {
        char list[256] = "";
        for (int i = 0; i < gc_cl_tile_count; i++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%dx%d", i ? ", " : "", gc_cl_tiles[i].mr,
                     gc_cl_tiles[i].nv);
        }
        return gc_error(GC_ERR_FORMAT, "unknown GEMM tile '%s' (one of %s)", v, list);
    }
    return GC_OK;
}

static gc_status parse_xgemm(const char *v, int *out)
{
    char list[256] = "";
    for (int i = 0; i < gc_cl_xgemm_set_count; i++) {
        if (!strcmp(v, gc_cl_xgemm_sets[i].name)) {
            *out = i;
            return GC_OK;
        }
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", gc_cl_xgemm_sets[i].name);
    }
    return gc_error(GC_ERR_FORMAT, "GEMM spec: unknown xgemm=%s (one of %s)", v, list);
}

gc_status gc_cl_gemm_config_parse(const char *text, gc_cl_gemm_config *out)
{
    gc_cl_gemm_config cfg = *out;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (*p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (!*p) break;
        char tok[64];
        size_t n = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != '#') {
            if (n + 1 >= sizeof tok) return gc_error(GC_ERR_FORMAT, "GEMM spec: token too long");
            tok[n++] = *p++;
        }
        tok[n] = '\0';
        char *eq = strchr(tok, '=');
        if (!eq) {
            if (!strcmp(tok, "own"))
                cfg.engine = GC_CL_GEMM_OWN;
            else if (!strcmp(tok, "clblast"))
                cfg.engine = GC_CL_GEMM_CLBLAST;
            else
                return gc_error(GC_ERR_FORMAT, "GEMM spec: unknown word '%s' (own or clblast)",
                                tok);
            continue;
        }
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(tok, "tile")) {
            GC_TRY(parse_tile(v, &cfg.tile));
        } else if (!strcmp(tok, "narrow")) {
            GC_TRY(parse_tile(v, &cfg.narrow));
        } else if (!strcmp(tok, "kc")) {
            char *end;
            long kc = strtol(v, &end, 10);
            if (!*v || *end || kc < 0 || kc > 1 << 20)
                return gc_error(GC_ERR_FORMAT, "GEMM spec: kc=%s is not a count in [0, 2^20]", v);
            cfg.kc = (int)kc;
        } else if (!strcmp(tok, "wg")) {
            if (!strcmp(v, "auto") || !strcmp(v, "0"))
                cfg.wg = 0;
            else if (!strcmp(v, "32") || !strcmp(v, "64") || !strcmp(v, "128"))
                cfg.wg = atoi(v);
            else
                return gc_error(GC_ERR_FORMAT, "GEMM spec: wg=%s (32, 64, 128 or auto)", v);
        } else if (!strcmp(tok, "xgemm")) {
            GC_TRY(parse_xgemm(v, &cfg.xgemm));
        } else if (!strcmp(tok, "kernels")) {
            if (!strcmp(v, "cpu"))
                cfg.kernels = 1;
            else if (!strcmp(v, "gpu"))
                cfg.kernels = 2;
            else if (!strcmp(v, "auto"))
                cfg.kernels = 0;
            else
                return gc_error(GC_ERR_FORMAT, "GEMM spec: kernels=%s (cpu, gpu or auto)", v);
        } else {
            return gc_error(GC_ERR_FORMAT,
                            "GEMM spec: unknown key '%s' (tile, narrow, kc, wg, xgemm, kernels)",
                            tok);
        }
    }
    *out = cfg;
    return GC_OK;
}

/* ---- the tuning file ---------------------------------------------------------- */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

gc_status gc_cl_tune_path(const gc_backend *be, char *buf, size_t n)
{
    char version[64] = "";
    clGetDeviceInfo(gc_cl_ctx_of(be)->device, CL_DEVICE_VERSION, sizeof version, version, NULL);
    version[sizeof version - 1] = '\0';
    const gc_device_info *d = &be->device;
    uint64_t h = fnv1a(0xcbf29ce484222325ULL, "gancl-tune-1");
    const char *parts[] = {d->platform, d->vendor, d->name, d->driver_version, version};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        h = fnv1a(h, "|");
        h = fnv1a(h, parts[i]);
    }
    char dir[4096];
    GC_TRY(gc_fs_cache_dir(dir, sizeof dir));
    if (snprintf(buf, n, "%s/tune-%016llx.txt", dir, (unsigned long long)h) >= (int)n)
        return gc_error(GC_ERR_IO, "tuning file path too long");
    return GC_OK;
}

int gc_cl_tune_load(const gc_backend *be, gc_cl_gemm_config *out)
{
    char path[4096];
    if (gc_cl_tune_path(be, path, sizeof path) != GC_OK || !gc_fs_is_file(path)) return 0;
    void *text;
    size_t n;
    if (gc_fs_read_file(path, TUNE_MAX_BYTES, &text, &n) != GC_OK) {
        GC_WARN("ignoring the GEMM tuning file: %s", gc_last_error());
        return 0;
    }
    gc_cl_gemm_config cfg = *out;
    gc_status s = gc_cl_gemm_config_parse(text, &cfg);
    free(text);
    if (s != GC_OK) {
        GC_WARN("ignoring the GEMM tuning file %s: %s (run `gancl tune` again)", path,
                gc_last_error());
        return 0;
    }
    *out = cfg;
    return 1;
}

gc_status gc_cl_tune_save(const gc_backend *be, const gc_cl_gemm_config *cfg, const char *comment)
{
    char path[4096], spec[96];
    GC_TRY(gc_cl_tune_path(be, path, sizeof path));
    gc_cl_gemm_config_format(cfg, spec, sizeof spec);
    size_t cap = strlen(comment) + 1024;
    char *text = malloc(cap);
    if (!text) return gc_error(GC_ERR_NOMEM, "out of host memory");
    int len =
        snprintf(text, cap,
                 "# gancl GEMM tuning, written by `gancl tune` or on the device's first\n"
                 "# use; delete this file to measure again on the next run.\n"
                 "# device: %s | %s | %s\n%s%s\n",
                 be->device.name, be->device.platform, be->device.driver_version, comment, spec);
    gc_status s = gc_fs_write_atomic(path, text, (size_t)len);
    free(text);
    return s;
}

/* ---- measuring ------------------------------------------------------------------- */

typedef struct tune_shape {
    const char *what;
    int ta, tb;
    int64_t m, n, k;
} tune_shape;

/* Batch 64: P = 64*7*7 or 64*14*14 output pixels and K = C*3*3 (the 28x28
 * models); P = 64*16*16 and K = 64*4*4 (DCGAN at 64x64, its second layer). */
static const tune_shape wide_shapes[] = {
    {"conv forward       P x OC x K", 0, 0, 3136, 128, 576},
    {"conv data grad     P x K x OC", 0, 0, 3136, 576, 128},
    {"conv weight grad  OC x K x P ", 1, 0, 128, 576, 3136},
    {"issue shape NN", 0, 0, 12544, 128, 576},
    {"issue shape NT", 0, 1, 12544, 128, 576},
    {"issue shape TN", 1, 0, 12544, 128, 576},
    {"dense forward      N x out x in", 0, 1, 64, 6272, 100},
    {"64x64 conv forward P x OC x K", 0, 0, 16384, 128, 1024},
};
static const tune_shape narrow_shapes[] = {
    {"to one channel     P x K x C", 0, 0, 12544, 9, 64},
    {"from one channel   P x C x K", 0, 0, 12544, 64, 9},
    {"dense to one       N x 1 x in", 0, 1, 64, 1, 6272},
};
/* The K chunk is measured on the weight gradients it is for and on the
 * forwards (K = 576 and 1024), which cl_gemm.c leaves whole (their tile
 * panels fit L2) at any kc: chosen on the gradients alone while it also
 * split the forwards, kc = 256 won on an Intel Xeon and made dcgan 28x28
 * 6 % slower than kc = 512.  The forwards keep it that way. */
static const tune_shape chunk_shapes[] = {
    {"conv weight grad  OC x K x P ", 1, 0, 128, 576, 3136},
    {"conv weight grad  OC x K x P ", 1, 0, 64, 576, 12544},
    {"one-channel grad  OC x K x P ", 1, 0, 64, 9, 12544},
    {"64x64 weight grad OC x K x P ", 1, 0, 128, 1024, 16384},
    {"conv forward       P x OC x K", 0, 0, 3136, 128, 576},
    {"dcgan conv forward P x OC x K", 0, 0, 3136, 128, 1024},
    {"64x64 conv forward P x OC x K", 0, 0, 16384, 128, 1024},
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct tune_ctx {
    gc_backend *be;
    gc_tensor a, b, c;
    int trials;
    gc_cl_tune_print print;
    void *user;
} tune_ctx;

static void say(tune_ctx *t, const char *fmt, ...) GC_PRINTF(2, 3);
static void say(tune_ctx *t, const char *fmt, ...)
{
    if (!t->print) return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    t->print(t->user, line);
}

/* Seconds of one GEMM of shape s under the configuration in use. */
static gc_status gemm_once(tune_ctx *t, const tune_shape *s, double *sec)
{
    gc_gemm_args g = {.trans_a = s->ta,
                      .trans_b = s->tb,
                      .m = s->m,
                      .n = s->n,
                      .k = s->k,
                      .alpha = 1.0f,
                      .beta = 0.0f,
                      .lda = s->ta ? s->m : s->k,
                      .ldb = s->tb ? s->k : s->n,
                      .ldc = s->n};
    double t0 = now();
    GC_TRY(gc_gemm(&t->c, &t->a, &t->b, &g));
    GC_TRY(gc_backend_sync(t->be));
    *sec = now() - t0;
    return GC_OK;
}

static void shape_legend(tune_ctx *t, const char *title, const tune_shape *shapes, int count)
{
    say(t, "%s (GFLOP/s per shape, then total ms):", title);
    for (int i = 0; i < count; i++)
        say(t, "  shape %d: %s %s%s M=%lld N=%lld K=%lld", i + 1, shapes[i].what,
            shapes[i].ta ? "T" : "N", shapes[i].tb ? "T" : "N", (long long)shapes[i].m,
            (long long)shapes[i].n, (long long)shapes[i].k);
}

/* Times every candidate on every shape and keeps the one with the least
 * total of per-shape medians.  With interleave, each of the trials is a
 * round that runs every candidate once on every shape, so that a burst of
 * load on a shared machine falls on all candidates alike instead of on
 * one (one candidate at a time, kc = 512 once measured at half its speed
 * on two shapes).  Without, each candidate runs its trials in a row: the
 * GPU family's candidates differ in CLBlast's parameter set, which is
 * better not switched every round.  A candidate that fails (CLBlast
 * refusing a size, say) loses. */
static gc_status pick(tune_ctx *t, const gc_cl_gemm_config *cands, int count,
                      const tune_shape *shapes, int nshapes, int interleave, int *best,
                      char *summary, size_t summary_n)
{
    const int trials = t->trials, rounds = interleave ? trials : 1, reps = interleave ? 1 : trials;
    double *times = malloc(sizeof(double) * (size_t)(count * nshapes * trials));
    int *failed = calloc((size_t)count, sizeof(int));
    if (!times || !failed) {
        free(times);
        free(failed);
        return gc_error(GC_ERR_NOMEM, "out of host memory");
    }
    for (int c = 0; c < count; c++) { /* compiles and warms up */
        gc_cl_gemm_set_config(t->be, &cands[c]);
        for (int i = 0; i < nshapes && !failed[c]; i++) {
            double sec;
            if (gemm_once(t, &shapes[i], &sec) != GC_OK) {
                say(t, "  (candidate %d failed: %s)", c + 1, gc_last_error());
                failed[c] = 1;
            }
        }
    }
    for (int r = 0; r < rounds; r++)
        for (int c = 0; c < count; c++) {
            if (failed[c]) continue;
            gc_cl_gemm_set_config(t->be, &cands[c]);
            for (int i = 0; i < nshapes && !failed[c]; i++)
                for (int q = 0; q < reps && !failed[c]; q++)
                    if (gemm_once(t, &shapes[i],
                                  &times[(c * nshapes + i) * trials + r * reps + q]) != GC_OK) {
                        say(t, "  (candidate %d failed: %s)", c + 1, gc_last_error());
                        failed[c] = 1;
                    }
        }
    double best_sec = 1e300;
    size_t used = strlen(summary);
    for (int c = 0; c < count; c++) {
        char spec[96], detail[160] = "";
        double sec = 0;
        size_t dn = 0;
        gc_cl_gemm_config_format(&cands[c], spec, sizeof spec);
        for (int i = 0; i < nshapes && !failed[c]; i++) {
            double *ti = &times[(c * nshapes + i) * trials];
            qsort(ti, (size_t)trials, sizeof(double), cmp_double);
            sec += ti[trials / 2];
            double gflops = 2.0 * shapes[i].m * shapes[i].n * shapes[i].k / ti[trials / 2] * 1e-9;
            if (dn < sizeof detail)
                dn += (size_t)snprintf(detail + dn, sizeof detail - dn, " %6.1f", gflops);
        }
        if (failed[c]) {
            say(t, "  %-40s (failed)", spec);
            sec = 1e30;
        } else {
            say(t, "  %-40s%s  %9.2f", spec, detail, sec * 1e3);
        }
        if (used < summary_n)
            used += (size_t)snprintf(summary + used, summary_n - used, "#   %-40s %9.2f ms\n", spec,
                                     sec * 1e3);
        if (sec < best_sec) {
            best_sec = sec;
            *best = c;
        }
    }
    free(times);
    free(failed);
    return GC_OK;
}

static int64_t max_elems(const tune_shape *shapes, int count, int which)
{
    int64_t mx = 0;
    for (int i = 0; i < count; i++) {
        const tune_shape *s = &shapes[i];
        int64_t e = which == 0 ? s->m * s->k : which == 1 ? s->k * s->n : s->m * s->n;
        if (e > mx) mx = e;
    }
    return mx;
}

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The CPU family: the engine and wide tile, then the tile for narrow C,
 * then the K chunk (own engine only). */
static gc_status tune_cpu(tune_ctx *t, gc_cl_gemm_config base, gc_cl_gemm_config *out,
                          char *summary, size_t summary_n)
{
    gc_cl_gemm_config cands[16];
    int n = 0, won = 0;
    gc_cl_gemm_config clblast = base;
    clblast.engine = GC_CL_GEMM_CLBLAST;
    cands[n++] = clblast;
    for (int i = 0; i < gc_cl_tile_count; i++)
        if (gc_cl_tiles[i].nv > 1 || gc_cl_tiles[i].mr <= 6) {
            cands[n] = base;
            cands[n].engine = GC_CL_GEMM_OWN;
            cands[n++].tile = i;
        }
    shape_legend(t, "engine and tile", wide_shapes, COUNT(wide_shapes));
    strncat(summary, "# engine and tile, total over the conv/dense shapes at batch 64:\n",
            summary_n - strlen(summary) - 1);
    GC_TRY(pick(t, cands, n, wide_shapes, COUNT(wide_shapes), 1, &won, summary, summary_n));
    gc_cl_gemm_config cfg = cands[won];
    if (cfg.engine == GC_CL_GEMM_OWN) {
        n = 0;
        for (int i = 0; i < gc_cl_tile_count; i++)
            if (gc_cl_tiles[i].nv <= gc_cl_tiles[cfg.tile].nv) {
                cands[n] = cfg;
                cands[n++].narrow = i;
            }
        shape_legend(t, "narrow tile", narrow_shapes, COUNT(narrow_shapes));
        strncat(summary, "# narrow tile:\n", summary_n - strlen(summary) - 1);
        GC_TRY(pick(t, cands, n, narrow_shapes, COUNT(narrow_shapes), 1, &won, summary, summary_n));
        cfg = cands[won];
        static const int kcs[] = {0, 128, 256, 512, 1024};
        n = 0;
        for (int i = 0; i < COUNT(kcs); i++) {
            cands[n] = cfg;
            cands[n++].kc = kcs[i];
        }
        shape_legend(t, "K chunk", chunk_shapes, COUNT(chunk_shapes));
        strncat(summary, "# K chunk:\n", summary_n - strlen(summary) - 1);
        GC_TRY(pick(t, cands, n, chunk_shapes, COUNT(chunk_shapes), 1, &won, summary, summary_n));
        cfg = cands[won];
    }
    *out = cfg;
    return GC_OK;
}

/* The GPU family: the tile of cl/tiled.cl (which the convolutions use
 * too), then the GEMM engine: gancl's tiled kernel against CLBlast with
 * its database and with each parameter set of gc_cl_xgemm_sets. */
static gc_status tune_gpu(tune_ctx *t, gc_cl_gemm_config base, gc_cl_gemm_config *out,
                          char *summary, size_t summary_n)
{
    const gc_cl_forms *f = gc_cl_forms_of(t->be);
    gc_cl_gemm_config cands[32];
    int n = 0, won = 0;
    cands[n] = base;
    cands[n].engine = GC_CL_GEMM_OWN;
    cands[n++].wg = 0;
    for (int i = 0; i < gc_cl_wg_tile_count; i++)
        if (f->tile_ok[i]) {
            cands[n] = cands[0];
            cands[n++].wg = gc_cl_wg_tiles[i].ts;
        }
    shape_legend(t, "work-group tile (GEMMs and convolutions)", wide_shapes, COUNT(wide_shapes));
    strncat(summary, "# work-group tile, total over the conv/dense shapes at batch 64:\n",
            summary_n - strlen(summary) - 1);
    GC_TRY(pick(t, cands, n, wide_shapes, COUNT(wide_shapes), 0, &won, summary, summary_n));
    gc_cl_gemm_config own = cands[won];
    n = 0;
    cands[n++] = own;
    for (int i = GC_CL_XGEMM_DB; i < gc_cl_xgemm_set_count; i++) {
        if (i == GC_CL_XGEMM_CPU) continue;
        cands[n] = own;
        cands[n].engine = GC_CL_GEMM_CLBLAST;
        cands[n++].xgemm = i;
    }
    shape_legend(t, "engine", wide_shapes, COUNT(wide_shapes));
    strncat(summary, "# engine (CLBlast with each parameter set):\n",
            summary_n - strlen(summary) - 1);
    GC_TRY(pick(t, cands, n, wide_shapes, COUNT(wide_shapes), 0, &won, summary, summary_n));
    *out = cands[won];
    return GC_OK;
}

gc_status gc_cl_tune_run(gc_backend *be, int quick, gc_cl_tune_print print, void *user,
                         gc_cl_gemm_config *best, char *summary, size_t summary_n)
{
    tune_ctx t = {.be = be, .trials = quick ? 3 : 7, .print = print, .user = user};
    gc_cl_gemm_config start = gc_cl_gemm_get_config(be), base = start;
    int64_t na = 0, nb = 0, nc = 0;
    const struct {
        const tune_shape *s;
        int n;
    } lists[] = {{wide_shapes, COUNT(wide_shapes)},
                 {narrow_shapes, COUNT(narrow_shapes)},
                 {chunk_shapes, COUNT(chunk_shapes)}};
    for (int i = 0; i < 3; i++) {
        int64_t a = max_elems(lists[i].s, lists[i].n, 0), b = max_elems(lists[i].s, lists[i].n, 1),
                c = max_elems(lists[i].s, lists[i].n, 2);
        na = a > na ? a : na;
        nb = b > nb ? b : nb;
        nc = c > nc ? c : nc;
    }
    gc_rng rng = {.seed = 7, .offset = 0};
    gc_status s = gc_tensor_new(be, 1, (int64_t[]){na}, &t.a);
    if (s == GC_OK) s = gc_tensor_new(be, 1, (int64_t[]){nb}, &t.b);
    if (s == GC_OK) s = gc_tensor_new(be, 1, (int64_t[]){nc}, &t.c);
    if (s == GC_OK) s = gc_rng_uniform(&t.a, &rng, -0.5f, 0.5f);
    if (s == GC_OK) s = gc_rng_uniform(&t.b, &rng, -0.5f, 0.5f);
    if (s == GC_OK) s = gc_rng_uniform(&t.c, &rng, -0.5f, 0.5f);

    summary[0] = '\0';
    gc_cl_gemm_config cfg = start;
    if (s == GC_OK)
        s = gc_cl_cpu_forms(be) ? tune_cpu(&t, base, &cfg, summary, summary_n)
                                : tune_gpu(&t, base, &cfg, summary, summary_n);
    gc_tensor_free(&t.a);
    gc_tensor_free(&t.b);
    gc_tensor_free(&t.c);
    gc_cl_gemm_set_config(be, s == GC_OK ? &cfg : &start);
    if (s != GC_OK) return s;
    *best = cfg;
    return GC_OK;
}

/* ---- on first use ---------------------------------------------------------------- */

static void log_line(void *user, const char *line)
{
    (void)user;
    GC_DEBUG("tune: %s", line);
}

void gc_cl_tune_auto(gc_backend *be)
{
    gc_cl_forms *f = gc_cl_ctx_of(be)->forms;
    const char *env = getenv("GANCL_AUTOTUNE");
    if ((env && !strcmp(env, "0")) || strcmp(f->gemm_from, "default") != 0 ||
        strcmp(f->family_from, "device type") != 0)
        return;
    char path[4096], lock_path[4200];
    if (gc_cl_tune_path(be, path, sizeof path) != GC_OK) {
        GC_WARN("%s: not tuning the GEMM: %s", be->name, gc_last_error());
        return;
    }
    snprintf(lock_path, sizeof lock_path, "%s.lock", path);
    gc_lock lk = {.fd = -1};
    /* Another gancl tuning the same device: wait for its file (a tune
     * takes well under a few minutes), then read it. */
    for (int waited = 0; gc_lock_acquire(lock_path, &lk, NULL) != GC_OK; waited++) {
        if (waited == 0) GC_INFO("%s: another gancl is tuning the GEMM; waiting for it", be->name);
        if (waited >= 600) {
            GC_WARN("%s: gave up waiting for %s; using the shipped GEMM default", be->name,
                    lock_path);
            return;
        }
        struct timespec ts = {0, 500000000};
        nanosleep(&ts, NULL);
    }
    if (gc_cl_tune_load(be, &f->gemm)) {
        gc_cl_gemm_set_config(be, &f->gemm);
        f->gemm_from = "tuning file";
        gc_lock_release(&lk);
        return;
    }
    GC_INFO("%s: measuring GEMM tiles for this device and driver, once (seconds; "
            "GANCL_AUTOTUNE=0 skips it, `gancl tune` measures longer)",
            be->name);
    double t0 = now();
    gc_cl_gemm_config cfg;
    char summary[4096];
    int used =
        snprintf(summary, sizeof summary,
                 "# measured on first use (the quick measurement; `gancl tune` runs more)\n");
    gc_status s =
        gc_cl_tune_run(be, 1, log_line, NULL, &cfg, summary + used, sizeof summary - used);
    if (s != GC_OK) {
        GC_WARN("%s: GEMM tuning failed (%s); using the shipped default", be->name,
                gc_last_error());
    } else {
        char spec[96];
        gc_cl_gemm_config_format(&cfg, spec, sizeof spec);
        f->gemm_from = "tuned on first use";
        if (gc_cl_tune_save(be, &cfg, summary) == GC_OK)
            GC_INFO("%s: GEMM %s (%.1f s), saved to %s", be->name, spec, now() - t0, path);
        else
            GC_WARN("%s: GEMM %s, but not saved (%s): this run only", be->name, spec,
                    gc_last_error());
    }
    gc_lock_release(&lk);
}

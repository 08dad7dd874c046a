/* src/backend/opencl/cl_forms.c - the device profile (cl_forms.h): made
 * once per backend from the device's properties, the tuning file and the
 * overrides; the GPU family's launch plan per call.
 */
#include "backend/opencl/cl_forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/log.h"

/* The kernels of cl/tiled.cl.  Local memory per work-group: two TK x
 * (TS + 4) float tiles and a 64-int table. */
const gc_cl_wg_tile gc_cl_wg_tiles[] = {
    {32, 4, "32"},
    {64, 4, "64"},
    {128, 8, "128"},
};
const int gc_cl_wg_tile_count = (int)(sizeof gc_cl_wg_tiles / sizeof gc_cl_wg_tiles[0]);

#define TILED_TK 16 /* TK of cl/tiled.cl */

static size_t tile_local_bytes(const gc_cl_wg_tile *t)
{
    return 2 * TILED_TK * (size_t)(t->ts + 4) * sizeof(float) + 4 * TILED_TK * sizeof(int);
}
static size_t tile_items(const gc_cl_wg_tile *t)
{
    size_t l = (size_t)(t->ts / t->w);
    return l * l;
}

const char *gc_cl_family_name(gc_cl_family family)
{
    return family == GC_CL_FAMILY_GPU ? "gpu" : "cpu";
}

/* The smallest GPU-family work-group (the 32 tile) must fit the device. */
static int gpu_family_fits(const gc_cl_forms *f)
{
    const gc_cl_wg_tile *t = &gc_cl_wg_tiles[0];
    uint64_t local = f->local_mem_bytes ? f->local_mem_bytes : 32768; /* emulated: any size */
    return f->max_wg >= tile_items(t) && local >= tile_local_bytes(t);
}

int gc_cl_forms_gpu_fits(const gc_backend *be)
{
    return gpu_family_fits(gc_cl_forms_of(be));
}

gc_cl_family gc_cl_forms_device_family(const gc_backend *be)
{
    const gc_cl_forms *f = gc_cl_forms_of(be);
    /* A CPU driver runs work-groups as loops over their items, so barriers
     * and local memory only cost it; everything else (GPUs, accelerators)
     * gets work-groups, if it can run the smallest. */
    if (be->device.type == GC_DEVICE_CPU || !gpu_family_fits(f)) return GC_CL_FAMILY_CPU;
    return GC_CL_FAMILY_GPU;
}

/* The kernels of each tile size exist and accept their work-group. */
static void probe_tiles(gc_backend *be, gc_cl_forms *f)
{
    static const char *modes[] = {"tiled_gemm_", "tiled_fwd_", "tiled_nhwc_", "tiled_dgrad_",
                                  "tiled_wgrad_"};
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    for (int t = 0; t < gc_cl_wg_tile_count; t++) {
        const gc_cl_wg_tile *tile = &gc_cl_wg_tiles[t];
        int ok = f->max_wg >= tile_items(tile) &&
                 (!f->local_mem_bytes || f->local_mem_bytes >= tile_local_bytes(tile));
        for (size_t m = 0; ok && m < sizeof modes / sizeof modes[0]; m++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s", modes[m], tile->suffix);
            int found = 0;
            for (int i = 0; i < cl->kernel_count; i++)
                if (!strcmp(cl->kernels[i].name, name)) {
                    found = 1;
                    if (cl->kernels[i].max_wg < tile_items(tile)) ok = 0;
                }
            if (!found) ok = 0;
        }
        f->tile_ok[t] = ok;
    }
}

static gc_status family_from_env(gc_cl_family *out, int *set)
{
    const char *e = getenv("GANCL_KERNELS");
    *set = 0;
    if (!e || !*e) return GC_OK;
    if (!strcmp(e, "cpu"))
        *out = GC_CL_FAMILY_CPU;
    else if (!strcmp(e, "gpu"))
        *out = GC_CL_FAMILY_GPU;
    else
        return gc_error(GC_ERR_ARG, "GANCL_KERNELS=%s: expected cpu or gpu", e);
    *set = 1;
    return GC_OK;
}

gc_status gc_cl_forms_init(gc_backend *be)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    gc_cl_forms *f = calloc(1, sizeof *f);
    if (!f) return gc_error(GC_ERR_NOMEM, "out of host memory");
    cl->forms = f;

    cl_uint width = 0, cu = 0;
    cl_ulong local = 0;
    cl_device_local_mem_type ltype = CL_LOCAL;
    cl_bool unified = CL_FALSE;
    clGetDeviceInfo(cl->device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT, sizeof width, &width, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_LOCAL_MEM_TYPE, sizeof ltype, &ltype, NULL);
    clGetDeviceInfo(cl->device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    f->vector_width = width;
    f->compute_units = cu ? cu : 1;
    f->max_wg = cl->max_wg;
    f->local_mem_bytes = ltype == CL_LOCAL ? local : 0;
    f->unified_memory = unified == CL_TRUE;
    f->wg_1d = cl->max_wg < 256 ? cl->max_wg : 256; /* a cap, not an assumption */
    probe_tiles(be, f);

    /* The GEMM (and optionally the family): default, tuning file, GANCL_GEMM. */
    f->family = gc_cl_forms_device_family(be);
    f->family_from = "device type";
    f->gemm = gc_cl_tune_default(be);
    f->gemm_from = "default";
    if (gc_cl_tune_load(be, &f->gemm)) f->gemm_from = "tuning file";
    const char *env = getenv("GANCL_GEMM");
    if (env && *env) {
        gc_cl_gemm_config e = f->gemm;
        if (gc_cl_gemm_config_parse(env, &e) == GC_OK) {
            f->gemm = e;
            f->gemm_from = "GANCL_GEMM";
        } else {
            GC_WARN("ignoring GANCL_GEMM: %s", gc_last_error());
        }
    }
    if (f->gemm.kernels) {
        f->family = (gc_cl_family)f->gemm.kernels;
        f->family_from = f->gemm_from;
    }
    gc_cl_family forced;
    int set;
    GC_TRY(family_from_env(&forced, &set));
    if (set) {
        f->family = forced;
        f->family_from = "GANCL_KERNELS";
    }
    if (f->family == GC_CL_FAMILY_GPU && !gpu_family_fits(f))
        return gc_error(GC_ERR_ARG,
                        "the gpu kernels (%s) need work-groups of %zu items and %zu bytes of local "
                        "memory; this device allows %zu items and %llu bytes (use cpu)",
                        f->family_from, tile_items(&gc_cl_wg_tiles[0]),
                        tile_local_bytes(&gc_cl_wg_tiles[0]), f->max_wg,
                        (unsigned long long)f->local_mem_bytes);
    if (f->gemm.wg) {
        int known = 0;
        for (int t = 0; t < gc_cl_wg_tile_count; t++)
            if (gc_cl_wg_tiles[t].ts == f->gemm.wg && f->tile_ok[t]) known = 1;
        if (!known) {
            GC_WARN("%s: wg=%d is not a tile this device runs; choosing per call", be->name,
                    f->gemm.wg);
            f->gemm.wg = 0;
        }
    }
    const char *direct = getenv("GANCL_CONV_DIRECT"); /* "0": the GEMM path, for comparisons */
    f->conv1_direct = !(direct && !strcmp(direct, "0"));
    /* CLBlast's database knows no CPU driver; on one, its Xgemm gets the
     * parameters measured on PoCL (cl_tune.c), whatever the family. */
    f->xgemm_auto = be->device.type == GC_DEVICE_CPU ? GC_CL_XGEMM_CPU : GC_CL_XGEMM_DB;
    cl->default_wg = f->wg_1d;

    char text[512];
    gc_cl_forms_describe(be, text, sizeof text);
    GC_DEBUG("%s: %s", be->name, text);
    return GC_OK;
}

void gc_cl_forms_set_family(gc_backend *be, gc_cl_family family)
{
    gc_cl_forms *f = gc_cl_ctx_of(be)->forms;
    GC_ASSERT(family == GC_CL_FAMILY_CPU || (family == GC_CL_FAMILY_GPU && gpu_family_fits(f)));
    f->family = family;
    f->family_from = "set";
}

void gc_cl_forms_describe(const gc_backend *be, char *buf, size_t n)
{
    const gc_cl_forms *f = gc_cl_forms_of(be);
    char gemm[128];
    gc_cl_gemm_config_format(&f->gemm, gemm, sizeof gemm);
    snprintf(buf, n,
             "%s kernels (%s); GEMM %s (%s); %u compute units, work-groups of %zu, %s local "
             "memory%s",
             gc_cl_family_name(f->family), f->family_from, gemm, f->gemm_from, f->compute_units,
             f->max_wg, f->local_mem_bytes ? "dedicated" : "emulated",
             f->unified_memory ? ", memory shared with the host" : "");
}

gc_cl_wg_plan gc_cl_forms_plan(const gc_backend *be, int64_t m, int64_t n, int64_t k, int may_split)
{
    const gc_cl_forms *f = gc_cl_forms_of(be);
    gc_cl_wg_plan p = {.tile = -1, .splits = 1, .kchunk = k > 0 ? k : 1};
    int64_t cu = f->compute_units, groups = 0;
    if (f->gemm.wg) {
        for (int t = 0; t < gc_cl_wg_tile_count; t++)
            if (gc_cl_wg_tiles[t].ts == f->gemm.wg && f->tile_ok[t]) p.tile = t;
    }
    if (p.tile < 0) {
        /* The largest tile that gives each compute unit two work-groups
         * (one to run while the other waits on memory) and computes at
         * most twice the result's area in padding; failing that, the tile
         * that pads least (a result one column wide, G's last layer, wastes
         * 31 of 32 columns of the smallest tile and 127 of 128 of the
         * largest). */
        int64_t best_pad = -1;
        for (int t = gc_cl_wg_tile_count - 1; t >= 0; t--) {
            if (!f->tile_ok[t]) continue;
            int64_t ts = gc_cl_wg_tiles[t].ts, tiles = (m + ts - 1) / ts * ((n + ts - 1) / ts);
            int64_t padded = tiles * ts * ts;
            if (p.tile < 0 && tiles >= 2 * cu && padded <= 2 * m * n) p.tile = t;
            if (best_pad < 0 || padded < best_pad) best_pad = padded;
        }
        if (p.tile < 0) { /* no tile met both: the least padding, larger on a tie */
            for (int t = gc_cl_wg_tile_count - 1; t >= 0 && p.tile < 0; t--) {
                if (!f->tile_ok[t]) continue;
                int64_t ts = gc_cl_wg_tiles[t].ts;
                if ((m + ts - 1) / ts * ((n + ts - 1) / ts) * ts * ts == best_pad) p.tile = t;
            }
        }
    }
    GC_ASSERT(p.tile >= 0); /* the GPU family needs the 32 tile (gpu_family_fits) */
    int64_t ts = gc_cl_wg_tiles[p.tile].ts;
    groups = (m + ts - 1) / ts * ((n + ts - 1) / ts);
    /* Split K when the tiles leave compute units idle and each slice keeps
     * at least 16 K steps (the partial sums' traffic must stay small
     * against the slice's work). */
    if (may_split && groups < 2 * cu && k >= 32 * TILED_TK) {
        int64_t want = (2 * cu + groups - 1) / groups, most = k / (16 * TILED_TK);
        int64_t splits = want < most ? want : most;
        if (splits > 64) splits = 64;
        if (splits > 1) {
            int64_t chunk = (k + splits - 1) / splits;
            chunk = (chunk + TILED_TK - 1) / TILED_TK * TILED_TK;
            p.kchunk = chunk;
            p.splits = (int)((k + chunk - 1) / chunk);
        }
    }
    return p;
}

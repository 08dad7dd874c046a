/* src/backend/opencl/cl_forms.h - the device profile: which form of every
 * kernel family the OpenCL backend runs on its device.
 *
 * A CPU device and a GPU want different kernels for the same op.  The CPU
 * family runs one work-item per large register tile with no local memory
 * (PoCL and Intel's CPU runtime turn it into straight-line vector code);
 * the GPU family runs work-groups of 64-256 items with operand tiles
 * staged in local memory (cl/tiled.cl, the work-group reductions).  Both
 * are correct on any device; each is slow on the other kind.
 *
 * The profile is made once when a backend opens (gc_cl_forms_init), from
 *
 *     the device's properties (type, compute units, work-group and local
 *       memory limits, preferred vector width, unified memory)
 *     then the tuning file of `gancl tune` (cl_tune.c: kernels=, the GEMM)
 *     then $GANCL_GEMM (the same grammar, for experiments)
 *     then $GANCL_KERNELS=cpu|gpu, which forces either family on any device
 *
 * and every launcher asks it (gc_cl_forms_of, gc_cl_cpu_forms) instead of
 * the device type.  A new class of device is a new profile here, not an
 * edit in every op.
 */
#ifndef GANCL_CL_FORMS_H
#define GANCL_CL_FORMS_H

#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_tune.h"

typedef enum gc_cl_family {
    GC_CL_FAMILY_CPU = 1,
    GC_CL_FAMILY_GPU = 2,
} gc_cl_family;

/* The tile sizes of cl/tiled.cl: TS x TS of C per work-group of L x L
 * items, each W x W. */
typedef struct gc_cl_wg_tile {
    int ts, w;
    const char *suffix; /* kernel names end in it: "tiled_fwd_64" */
} gc_cl_wg_tile;
extern const gc_cl_wg_tile gc_cl_wg_tiles[];
extern const int gc_cl_wg_tile_count;

struct gc_cl_forms {
    gc_cl_family family;
    const char *family_from; /* "device type", "tuning file", "GANCL_GEMM" or "GANCL_KERNELS" */
    const char *gemm_from;   /* "default", "tuning file" or "GANCL_GEMM" */
    gc_cl_gemm_config gemm;  /* the GEMM engine, tiles and CLBlast parameters */

    /* Facts of the device the choices come from. */
    unsigned compute_units;
    size_t max_wg;
    uint64_t local_mem_bytes; /* 0 when local memory is emulated in global memory */
    unsigned vector_width;    /* CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT */
    int unified_memory;       /* CL_DEVICE_HOST_UNIFIED_MEMORY: an integrated GPU or a CPU */

    /* Choices read by the launchers. */
    size_t wg_1d;     /* work-group of elementwise (1-D) launches */
    int tile_ok[4];   /* per gc_cl_wg_tiles entry: the device runs its work-groups */
    int conv1_direct; /* CPU family: one-channel convolutions as direct kernels */
    int xgemm_auto;   /* CLBlast's parameters for xgemm=auto: "cpu" on CPUs, else "db" */
};
typedef struct gc_cl_forms gc_cl_forms;

/* Makes the profile of a backend whose program is built; fails only on a
 * bad $GANCL_KERNELS or a GPU family the device cannot run. */
gc_status gc_cl_forms_init(gc_backend *be);

static inline const gc_cl_forms *gc_cl_forms_of(const gc_backend *be)
{
    return gc_cl_ctx_of(be)->forms;
}
static inline int gc_cl_cpu_forms(const gc_backend *be)
{
    return gc_cl_ctx_of(be)->forms->family == GC_CL_FAMILY_CPU;
}

/* The family a device runs without a tuning file or override. */
gc_cl_family gc_cl_forms_device_family(const gc_backend *be);

/* 1 when the device runs the GPU family's smallest work-groups. */
int gc_cl_forms_gpu_fits(const gc_backend *be);

/* Replaces the family (tests run both on one device); the GPU family only
 * where gc_cl_forms_gpu_fits. */
void gc_cl_forms_set_family(gc_backend *be, gc_cl_family family);

/* "cpu" or "gpu". */
const char *gc_cl_family_name(gc_cl_family family);

/* One line for logs and `gancl tune`: the family, where it came from, the
 * GEMM and the device facts behind them. */
void gc_cl_forms_describe(const gc_backend *be, char *buf, size_t n);

/* The GPU family's launch plan for an m x n result with a reduction of k:
 * the tile (index into gc_cl_wg_tiles) and how many slices of K to run
 * side by side (1: no split).  A tile fixed by the profile (wg=) is kept;
 * otherwise the largest tile that still gives every compute unit work,
 * and a split of K when even the smallest leaves units idle. */
typedef struct gc_cl_wg_plan {
    int tile;
    int splits;
    int64_t kchunk; /* K per slice, a multiple of the K step */
} gc_cl_wg_plan;
gc_cl_wg_plan gc_cl_forms_plan(const gc_backend *be, int64_t m, int64_t n, int64_t k,
                               int may_split);

#endif

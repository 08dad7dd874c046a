/* src/backend/opencl/cl_gemm.c - GEMM on the OpenCL device, through CLBlast.
 *
 * This is the single place gancl multiplies matrices on a device: every
 * dense layer and convolution ends up here, so per-device tuning (CLBlast
 * parameter overrides, or a kernel of gancl's own where it measures faster)
 * slots in without touching any op.
 */
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"
#include "util/log.h"

/* CLBlast's database has no entry for CPU OpenCL drivers such as PoCL, and
 * its defaults run at ~11 GFLOP/s there.  Measured on PoCL 3.1 (2 cores,
 * AVX-512): the indirect Xgemm kernel with one work-item per 32x8 tile and
 * 8-wide vectors reaches ~50 GFLOP/s on the D-conv2 shape (128x3136x576)
 * against 11.7 by default, so CPU devices use it for every size
 * (XGEMM_MIN_INDIRECT_SIZE 0: the direct kernel is slower there).
 * GANCL_CLBLAST_DEFAULTS=1 keeps CLBlast's own choice. */
static void tune_for_cpu(gc_backend *be, cl_device_id device)
{
    static const char *xgemm_names[] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC",
                                        "MWG",   "NDIMB", "NDIMC", "NWG", "SA",   "SB",
                                        "STRM",  "STRN", "VWM",  "VWN"};
    static const size_t xgemm_values[] = {0, 1, 16, 2, 1, 1, 32, 1, 1, 8, 0, 0, 0, 0, 8, 8};
    static const char *routine_names[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    static const size_t routine_values[] = {0};
    CLBlastStatusCode a = CLBlastOverrideParameters(device, "Xgemm", CLBlastPrecisionSingle, 16,
                                                    xgemm_names, xgemm_values);
    CLBlastStatusCode b = CLBlastOverrideParameters(device, "GemmRoutine", CLBlastPrecisionSingle,
                                                    1, routine_names, routine_values);
    if (a != CLBlastSuccess || b != CLBlastSuccess)
        GC_WARN("%s: CLBlast parameter override failed (%s, %s); using CLBlast's defaults",
                be->name, gc_cl_error_name(a), gc_cl_error_name(b));
    else GC_DEBUG("%s: CLBlast Xgemm tuned for a CPU device", be->name);
}

void gc_cl_gemm_init(gc_backend *be)
{
    const char *keep = getenv("GANCL_CLBLAST_DEFAULTS");
    if (keep && !strcmp(keep, "1")) return;
    if (be->device.type == GC_DEVICE_CPU) tune_for_cpu(be, gc_cl_ctx_of(be)->device);
}

gc_status gc_cl_gemm_mem(gc_backend *be, const gc_gemm_args *g, cl_mem a, size_t a_off,
                         cl_mem b, size_t b_off, cl_mem c, size_t c_off)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    CLBlastStatusCode st = CLBlastSgemm(
        CLBlastLayoutRowMajor, g->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        g->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)g->m, (size_t)g->n,
        (size_t)g->k, g->alpha, a, a_off, (size_t)g->lda, b, b_off, (size_t)g->ldb, g->beta, c,
        c_off, (size_t)g->ldc, &cl->queue, NULL);
    if (st != CLBlastSuccess) {
        char what[128];
        snprintf(what, sizeof what, "CLBlastSgemm(%lld x %lld x %lld)", (long long)g->m,
                 (long long)g->n, (long long)g->k);
        return gc_cl_fail((cl_int)st, what);
    }
    return GC_OK;
}

gc_status gc_cl_gemm(gc_t c, gc_t a, gc_t b, const gc_gemm_args *args)
{
    return gc_cl_gemm_mem(c->be, args, gc_cl_mem(a), a->off, gc_cl_mem(b), b->off, gc_cl_mem(c),
                          c->off);
}

/* src/backend/opencl/cl_gemm.c - GEMM on the OpenCL device, through CLBlast.
 *
 * This is the single place gancl multiplies matrices on a device: every
 * dense layer and convolution ends up here, so per-device tuning (CLBlast
 * parameter overrides, or a kernel of gancl's own where it measures faster)
 * slots in without touching any op.
 */
#include <clblast_c.h>
#include <stdio.h>

#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

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

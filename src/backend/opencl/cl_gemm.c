/* src/backend/opencl/cl_gemm.c - GEMM on the OpenCL device: gancl's own
 * kernels of the device's family (cl/gemm.cl on CPUs, cl/tiled.cl on GPUs)
 * or CLBlast, whichever the device profile chose (cl_forms.h, cl_tune.h).
 *
 * This is the single place gancl multiplies plain matrices on a device:
 * every dense layer, and every convolution of the CPU family, ends up here
 * through gc_cl_gemm_ex on views (gc_cl_mat: strided, with grouped rows,
 * so NCHW tensors are operands as they are); the GPU family's convolutions
 * are implicit GEMMs on the tiled kernels (cl_tiled.h).  The own engine of
 * the CPU family maps every case onto one kernel form,
 * C = alpha * A x B + beta * C (+ bias) with B's rows contiguous:
 *
 *   A, A^T, NCHW   read in place through the view's strides
 *   B^T            transposed into a private scratch buffer first (in
 *                  slabs of columns when large)
 *   C              written through its view, the bias added on the way
 *
 * and splits a long K into chunks of kc (beta = 1 after the first) when
 * enough tiles share each chunk, so a chunk of A and B stays in the CPU's
 * L2 while the tiles use it: without this a weight gradient (K = batch *
 * pixels) streams from memory.  The GPU family's tiled kernel reads every
 * view in place (B^T too) and splits K across work-groups instead.  The
 * CLBlast engine passes row-major and transposed operands straight to
 * CLBlastSgemm and copies other views (and the bias) through the same
 * scratch.
 */
#include <clblast_c.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "backend/opencl/cl_profile.h"
#include "backend/opencl/cl_tiled.h"
#include "backend/opencl/cl_tune.h"
#include "util/error.h"
#include "util/log.h"

/* Fewest tiles for which a long K is split into chunks. */
#define CHUNK_MIN_TILES 32

/* Largest B^T slab transposed at once (floats): bounds the scratch. */
#define SCRATCH_MAX_FLOATS ((int64_t)8 << 20)

struct gc_cl_gemm_state {
    cl_mem scratch; /* B^T for the own engine; views copied for CLBlast; partial sums */
    size_t scratch_bytes;
    int xgemm; /* the CLBlast parameter set last applied (gc_cl_xgemm_sets) */
};

/* Gives CLBlast's Xgemm the parameters of set i.  Set "cpu": CLBlast's
 * database has no entry for CPU OpenCL drivers such as PoCL, and its
 * defaults run at ~11 GFLOP/s there.  Measured on PoCL 3.1 (2 cores,
 * AVX-512): the indirect Xgemm kernel with one work-item per 32x8 tile and
 * 8-wide vectors reaches ~50 GFLOP/s on the D-conv2 shape (128x3136x576)
 * against 11.7 by default, so CPU devices use it for every size
 * (XGEMM_MIN_INDIRECT_SIZE 0: the direct kernel is slower there).  The
 * GPU sets only replace the Xgemm kernel's tiles.  CLBlast cannot go back
 * to its database once overridden, so "db" after an override keeps the
 * override (only `gancl tune` and tests switch sets in one process). */
static void apply_xgemm(gc_backend *be, int i)
{
    struct gc_cl_gemm_state *st = gc_cl_ctx_of(be)->gemm;
    if (i == GC_CL_XGEMM_AUTO) i = gc_cl_forms_of(be)->xgemm_auto;
    const char *keep = getenv("GANCL_CLBLAST_DEFAULTS");
    if (keep && !strcmp(keep, "1")) i = GC_CL_XGEMM_DB;
    if (!st || st->xgemm == i || i == GC_CL_XGEMM_DB) return;
    cl_device_id device = gc_cl_ctx_of(be)->device;
    const char *names[GC_CL_XGEMM_PARAMS];
    for (int j = 0; j < GC_CL_XGEMM_PARAMS; j++)
        names[j] = gc_cl_xgemm_names[j];
    CLBlastStatusCode a =
        CLBlastOverrideParameters(device, "Xgemm", CLBlastPrecisionSingle, GC_CL_XGEMM_PARAMS,
                                  names, gc_cl_xgemm_sets[i].values);
    CLBlastStatusCode b = CLBlastSuccess;
    if (i == GC_CL_XGEMM_CPU) {
        static const char *routine_names[] = {"XGEMM_MIN_INDIRECT_SIZE"};
        static const size_t routine_values[] = {0};
        b = CLBlastOverrideParameters(device, "GemmRoutine", CLBlastPrecisionSingle, 1,
                                      routine_names, routine_values);
    }
    if (a != CLBlastSuccess || b != CLBlastSuccess) {
        GC_WARN("%s: CLBlast parameter override '%s' failed (%s, %s); using CLBlast's defaults",
                be->name, gc_cl_xgemm_sets[i].name, gc_cl_error_name(a), gc_cl_error_name(b));
        return;
    }
    st->xgemm = i;
    GC_DEBUG("%s: CLBlast Xgemm parameters '%s'", be->name, gc_cl_xgemm_sets[i].name);
}

void gc_cl_gemm_init(gc_backend *be)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    /* Without state (out of host memory) the GEMM has no scratch; views
     * that need one then fail with a message. */
    cl->gemm = calloc(1, sizeof *cl->gemm);
    if (!cl->gemm) return;
    cl->gemm->xgemm = GC_CL_XGEMM_DB;
    apply_xgemm(be, cl->forms->gemm.xgemm);
}

void gc_cl_gemm_free(gc_backend *be)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    if (!cl || !cl->gemm) return;
    if (cl->gemm->scratch) clReleaseMemObject(cl->gemm->scratch);
    free(cl->gemm);
    cl->gemm = NULL;
}

gc_cl_gemm_config gc_cl_gemm_get_config(const gc_backend *be)
{
    return gc_cl_forms_of(be)->gemm;
}

void gc_cl_gemm_set_config(gc_backend *be, const gc_cl_gemm_config *cfg)
{
    gc_cl_forms *f = gc_cl_ctx_of(be)->forms;
    GC_ASSERT(cfg->tile >= 0 && cfg->tile < gc_cl_tile_count);
    GC_ASSERT(cfg->narrow >= 0 && cfg->narrow < gc_cl_tile_count);
    GC_ASSERT(cfg->kc >= 0);
    GC_ASSERT(cfg->xgemm >= 0 && cfg->xgemm < gc_cl_xgemm_set_count);
    f->gemm = *cfg;
    apply_xgemm(be, cfg->xgemm);
}

/* The largest float offset an operand's kernel arguments address must be
 * indexable with int. */
static gc_status check_mat(const gc_cl_mat *x, int64_t rows, int64_t cols, const char *what)
{
    if (rows <= 0 || cols <= 0) return GC_OK;
    int64_t grp = x->grp < rows ? x->grp : rows;
    int64_t last = x->off + (rows - 1) / grp * x->gs + (grp - 1) * x->rs + (cols - 1) * x->cs;
    GC_TRY(gc_cl_check_int(last + 1, what));
    return gc_cl_check_int(x->rs > x->cs ? x->rs : x->cs, what);
}

static int plain(const gc_cl_mat *x)
{
    return x->grp == GC_CL_MAT_ONE_GROUP;
}

/* The panels of A and B one tile reads that L2 keeps while it runs
 * (a quarter of a Zen 4 core's L2, an eighth of an Intel server core's). */
#define PANELS_L2_BYTES ((double)(256 << 10))

/* What of B a CPU core's L2 keeps beside A's panels and C (1 MiB: half an
 * Intel server core's L2, all of a Zen 4 core's). */
#define B_L2_BYTES ((double)(1 << 20))

/* Tiles per work-item (cl/gemm.cl): enough that one work-item does about
 * TILE_WORK_K steps of K, at most 8, while leaving at least 8 work-items
 * per compute unit (measured on DCGAN-64: 1-6 % faster than one tile
 * per work-item, the most at the K chunks of weight gradients). */
#define TILE_WORK_K 2048
static size_t tiles_per_item(gc_backend *be, size_t d0, size_t d1, int64_t k)
{
    size_t per = k >= TILE_WORK_K ? 1 : (size_t)((TILE_WORK_K + k - 1) / (k > 0 ? k : 1));
    if (per > 8) per = 8;
    size_t min_items = 8 * (size_t)gc_cl_forms_of(be)->compute_units;
    while (per > 1 && (d0 + per - 1) / per * d1 < min_items)
        per /= 2;
    return per;
}

/* C = alpha * A x B + beta * C (+ bias) with one tile kernel, B's rows
 * contiguous. */
static gc_status tile_launch(gc_backend *be, const gc_cl_tile *t, int64_t m, int64_t n, int64_t k,
                             float alpha, float beta, const gc_cl_mat *a, cl_mem b, int64_t b_off,
                             int64_t ldb, const gc_cl_mat *c, const gc_tensor *bias)
{
    int64_t nr = (int64_t)t->nv * 16;
    size_t tm = (size_t)((m + t->mr - 1) / t->mr), tn = (size_t)((n + nr - 1) / nr);
    /* The faster-varying dimension walks along the operand that is
     * shared: with few row tiles, consecutive tiles reuse B's panel;
     * otherwise they reuse A's rows and stream B's panels, which pays only
     * while all of B stays in L2.  A larger B goes rows first as well:
     * a tile then streams 12 floats of A per step of K instead of 32 of B
     * (the data gradient of DCGAN-64's third layer, 4096 x 2048 x 256). */
    int rows_first = tm < tn || (double)k * (double)n * sizeof(float) > B_L2_BYTES;
    size_t d0 = rows_first ? tm : tn, d1 = rows_first ? tn : tm;
    size_t per = tiles_per_item(be, d0, d1, k);
    size_t global[2] = {(d0 + per - 1) / per, d1}, local[2] = {1, 1};
    gc_cl_call call = gc_cl_begin(be, t->kernel);
    char label[64]; /* per shape in a profile */
    if (gc_cl_profile_active(be)) {
        snprintf(label, sizeof label, "%s %lldx%lldx%lld", t->kernel, (long long)m, (long long)n,
                 (long long)k);
        call.name = label;
    }
    gc_cl_arg_int(&call, (int)m);
    gc_cl_arg_int(&call, (int)n);
    gc_cl_arg_int(&call, (int)k);
    gc_cl_arg_float(&call, alpha);
    gc_cl_arg_float(&call, beta);
    gc_cl_arg_mem(&call, a->m, (int)a->off);
    gc_cl_arg_int(&call, (int)a->rs);
    gc_cl_arg_int(&call, (int)a->cs);
    gc_cl_arg_int(&call, (int)a->grp);
    gc_cl_arg_int(&call, (int)a->gs);
    gc_cl_arg_mem(&call, b, (int)b_off);
    gc_cl_arg_int(&call, (int)ldb);
    gc_cl_arg_mem(&call, c->m, (int)c->off);
    gc_cl_arg_int(&call, (int)c->rs);
    gc_cl_arg_int(&call, (int)c->cs);
    gc_cl_arg_int(&call, (int)c->grp);
    gc_cl_arg_int(&call, (int)c->gs);
    gc_cl_arg_tensor(&call, bias);
    gc_cl_arg_int(&call, bias != NULL);
    gc_cl_arg_int(&call, rows_first);
    gc_cl_arg_int(&call, (int)per);
    return gc_cl_run(&call, 2, global, local);
}

/* The own kernels with B's rows contiguous, K in chunks (the bias goes
 * with the last chunk). */
static gc_status own_gemm_rows(gc_backend *be, const gc_cl_gemm_config *cfg, int64_t m, int64_t n,
                               int64_t k, float alpha, float beta, const gc_cl_mat *a, cl_mem b,
                               int64_t b_off, int64_t ldb, const gc_cl_mat *c,
                               const gc_tensor *bias)
{
    const gc_cl_tile *t = &gc_cl_tiles[cfg->tile], *nt = &gc_cl_tiles[cfg->narrow];
    /* The narrow tile where C is narrower than the wide one, or where it
     * fills whole narrow tiles and the wide one would leave a ragged last
     * column of tiles (its B vectors built from scalar loads). */
    int64_t nr = (int64_t)t->nv * 16, nnr = (int64_t)nt->nv * 16;
    if (nt->nv < t->nv && (n < nr || (n % nr && n % nnr == 0))) t = nt;
    /* Chunks pay off when many tiles share each chunk in L2; a handful of
     * tiles (a 1-channel convolution's weight gradient) would only pay
     * the launches (measured 1.8x slower). */
    int64_t tiles = (m + t->mr - 1) / t->mr * ((n + t->nv * 16 - 1) / (t->nv * 16));
    /* ... and only where a tile's panels of A and B (MR x K, K x NR) would
     * not stay in L2 by themselves: a forward with K = 1024 (180 KB of
     * panels) in chunks of 256 only re-reads and re-writes C per chunk
     * (DCGAN 28x28's second layer: 18.3 against 13.7 ms per step). */
    double panels = (double)k * (double)(t->mr + t->nv * 16) * sizeof(float);
    int chunk = cfg->kc > 0 && k > 2 * (int64_t)cfg->kc && tiles >= CHUNK_MIN_TILES &&
                panels > PANELS_L2_BYTES;
    int64_t kc = chunk ? cfg->kc : k;
    if (k == 0) kc = 1; /* one launch: C = beta * C (+ bias) */
    for (int64_t k0 = 0; k0 < (k ? k : 1); k0 += kc) {
        int64_t kn = k - k0 < kc ? k - k0 : kc;
        gc_cl_mat ak = *a;
        ak.off += k0 * a->cs;
        GC_TRY(tile_launch(be, t, m, n, kn, alpha, k0 ? 1.0f : beta, &ak, b, b_off + k0 * ldb, ldb,
                           c, k0 + kc >= k ? bias : NULL));
    }
    return GC_OK;
}

gc_status gc_cl_gemm_scratch(gc_backend *be, size_t nbytes, cl_mem *out)
{
    struct gc_cl_gemm_state *st = gc_cl_ctx_of(be)->gemm;
    if (!st) return gc_error(GC_ERR_NOMEM, "out of host memory for the GEMM's state");
    if (nbytes > st->scratch_bytes) {
        if (st->scratch) clReleaseMemObject(st->scratch); /* queued users keep a reference */
        st->scratch = NULL;
        st->scratch_bytes = 0;
        if (gc_fault_hit(GC_FAULT_ALLOC)) return gc_cl_fault_alloc(be, "GEMM scratch", nbytes);
        cl_int err;
        st->scratch =
            clCreateBuffer(gc_cl_ctx_of(be)->context, CL_MEM_READ_WRITE, nbytes, NULL, &err);
        if (err != CL_SUCCESS) return gc_cl_fail(err, "clCreateBuffer(GEMM scratch)");
        st->scratch_bytes = nbytes;
    }
    *out = st->scratch;
    return GC_OK;
}

/* A^T is read in place through strides.  (Copying a tall A^T to rows
 * first, or computing C^T = B^T A to stream A's stored rows, both measured
 * slower on PoCL.)
 * B^T, stored n x k, goes to scratch a slab of its rows (columns of C) at a
 * time, as k x slab, each slab multiplied into its columns of C. */
static gc_status own_gemm(gc_backend *be, int64_t m, int64_t n, int64_t k, float alpha, float beta,
                          const gc_cl_mat *a, const gc_cl_mat *b, const gc_cl_mat *c,
                          const gc_tensor *bias)
{
    const gc_cl_gemm_config *cfg = &gc_cl_forms_of(be)->gemm;
    /* C^T = B^T A^T where C's width leaves a ragged column of wide tiles
     * and its height does not, A^T's rows are contiguous and C is plain:
     * a weight gradient dW'[OC][K] with K = 16 * 3 (64 x 48 x 65536 in a
     * 64 x 64 x 3 D) then runs on whole tiles, C going out through its
     * column-store path. */
    int64_t nr = (int64_t)gc_cl_tiles[cfg->tile].nv * 16;
    if (b->cs == 1 && n % nr && m % nr == 0 && plain(a) && a->rs == 1 && plain(c) && !bias) {
        gc_cl_mat bt = gc_cl_mat_t(b->m, b->off, b->rs), ct = *c;
        ct.rs = c->cs, ct.cs = c->rs;
        return own_gemm_rows(be, cfg, n, m, k, alpha, beta, &bt, a->m, a->off, a->cs, &ct, NULL);
    }
    if (b->cs == 1)
        return own_gemm_rows(be, cfg, m, n, k, alpha, beta, a, b->m, b->off, b->rs, c, bias);
    int64_t kk = k ? k : 1;
    int64_t slab = SCRATCH_MAX_FLOATS / kk;
    if (slab > n) slab = n;
    if (slab > 32) slab -= slab % 32; /* whole tiles except in the last slab */
    if (slab < 1) slab = 1;
    cl_mem bt = NULL;
    GC_TRY(gc_cl_check_int(slab * kk, "gemm: B^T slab"));
    GC_TRY(gc_cl_gemm_scratch(be, (size_t)(slab * kk) * sizeof(float), &bt));
    for (int64_t j0 = 0; j0 < n; j0 += slab) {
        int64_t ns = n - j0 < slab ? n - j0 : slab;
        if (k)
            GC_TRY(gc_cl_transpose(be, bt, 0, ns, 0, b->m, b->off + j0 * b->cs, b->cs, 0, NULL, 0,
                                   ns, k, 1));
        gc_cl_mat cj = *c;
        cj.off += j0 * c->cs;
        gc_tensor bias_j;
        if (bias) bias_j = gc_tensor_1d(bias->be, bias->buf, bias->off + (size_t)j0, ns);
        GC_TRY(own_gemm_rows(be, cfg, m, ns, k, alpha, beta, a, bt, 0, ns, &cj,
                             bias ? &bias_j : NULL));
    }
    return GC_OK;
}

/* ---- the CLBlast engine ---------------------------------------------------------- */

/* Copies between a strided, grouped matrix and a row-major one (ld = cols)
 * in the GEMM scratch; the bias is added on the way back. */
static gc_status regroup(gc_backend *be, const gc_cl_mat *x, cl_mem rm, int64_t rm_off,
                         int64_t rows, int64_t cols, int to_rows, const gc_tensor *bias)
{
    gc_cl_call call = gc_cl_begin(be, to_rows ? "gemm_gather" : "gemm_scatter");
    gc_cl_arg_mem(&call, rm, (int)rm_off);
    gc_cl_arg_mem(&call, x->m, (int)x->off);
    gc_cl_arg_int(&call, (int)x->rs);
    gc_cl_arg_int(&call, (int)x->cs);
    gc_cl_arg_int(&call, (int)x->grp);
    gc_cl_arg_int(&call, (int)x->gs);
    gc_cl_arg_tensor(&call, bias);
    gc_cl_arg_int(&call, bias != NULL);
    gc_cl_arg_int(&call, (int)rows);
    gc_cl_arg_int(&call, (int)cols);
    size_t wg = gc_cl_wg_size(&call, 64);
    size_t global[2] = {((size_t)cols + wg - 1) / wg * wg, (size_t)rows}, local[2] = {wg, 1};
    return gc_cl_run(&call, 2, global, local);
}

static gc_status clblast_call(gc_backend *be, int64_t m, int64_t n, int64_t k, float alpha,
                              float beta, int ta, cl_mem a, int64_t a_off, int64_t lda, int tb,
                              cl_mem b, int64_t b_off, int64_t ldb, cl_mem c, int64_t c_off,
                              int64_t ldc)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    cl_event *ev = gc_cl_profile_event(be); /* NULL unless profiling */
    CLBlastStatusCode st =
        CLBlastSgemm(CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                     tb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m, (size_t)n, (size_t)k,
                     alpha, a, (size_t)a_off, (size_t)lda, b, (size_t)b_off, (size_t)ldb, beta, c,
                     (size_t)c_off, (size_t)ldc, &cl->queue, ev);
    if (ev && st == CLBlastSuccess) gc_cl_profile_record(be, "CLBlastSgemm", *ev);
    if (st != CLBlastSuccess) {
        char what[128];
        snprintf(what, sizeof what, "CLBlastSgemm(%lld x %lld x %lld)", (long long)m, (long long)n,
                 (long long)k);
        return gc_cl_fail((cl_int)st, what);
    }
    return GC_OK;
}

/* A view CLBlast can take as it is: row-major or transposed, with a
 * leading dimension it accepts (a single row or column may have any). */
static int clblast_view(const gc_cl_mat *x, int64_t rows, int64_t cols, int *trans, int64_t *ld)
{
    if (!plain(x)) return 0;
    if (x->cs == 1 && (rows == 1 || x->rs >= cols)) {
        *trans = 0;
        *ld = x->rs > cols ? x->rs : cols;
        return 1;
    }
    if (x->rs == 1 && (cols == 1 || x->cs >= rows)) {
        *trans = 1;
        *ld = x->cs > rows ? x->cs : rows;
        return 1;
    }
    return 0;
}

/* CLBlast takes row-major operands, each possibly transposed; other views
 * (NCHW, a leading dimension it refuses) and the bias go through row-major
 * copies in scratch. */
static gc_status clblast_gemm(gc_backend *be, int64_t m, int64_t n, int64_t k, float alpha,
                              float beta, const gc_cl_mat *a, const gc_cl_mat *b,
                              const gc_cl_mat *c, const gc_tensor *bias)
{
    int ta = 0, tb = 0, tc = 0;
    int64_t lda = k, ldb = n, ldc = n;
    int a_direct = clblast_view(a, m, k, &ta, &lda);
    int b_direct = clblast_view(b, k, n, &tb, &ldb);
    int c_direct = clblast_view(c, m, n, &tc, &ldc) && !tc && !bias;
    int64_t a_floats = a_direct ? 0 : m * k, b_floats = b_direct ? 0 : k * n;
    int64_t c_floats = c_direct ? 0 : m * n;
    cl_mem s = NULL;
    if (a_floats + b_floats + c_floats) {
        GC_TRY(gc_cl_check_int(a_floats + b_floats + c_floats, "gemm: scratch"));
        GC_TRY(
            gc_cl_gemm_scratch(be, (size_t)(a_floats + b_floats + c_floats) * sizeof(float), &s));
    }
    cl_mem am = a->m, bm = b->m, cm = c->m;
    int64_t a_off = a->off, b_off = b->off, c_off = c->off;
    if (!a_direct) {
        GC_TRY(regroup(be, a, s, 0, m, k, 1, NULL));
        am = s, a_off = 0, ta = 0, lda = k;
    }
    if (!b_direct) {
        GC_TRY(regroup(be, b, s, a_floats, k, n, 1, NULL));
        bm = s, b_off = a_floats, tb = 0, ldb = n;
    }
    if (!c_direct) {
        if (beta != 0.0f) GC_TRY(regroup(be, c, s, a_floats + b_floats, m, n, 1, NULL));
        cm = s, c_off = a_floats + b_floats, ldc = n;
    }
    GC_TRY(clblast_call(be, m, n, k, alpha, beta, ta, am, a_off, lda, tb, bm, b_off, ldb, cm, c_off,
                        ldc));
    if (!c_direct) GC_TRY(regroup(be, c, s, a_floats + b_floats, m, n, 0, bias));
    return GC_OK;
}

/* ---- entry points ------------------------------------------------------------------ */

gc_status gc_cl_gemm_ex(gc_backend *be, int64_t m, int64_t n, int64_t k, float alpha, float beta,
                        const gc_cl_mat *a, const gc_cl_mat *b, const gc_cl_mat *c,
                        const gc_tensor *bias)
{
    GC_ASSERT(plain(b) && (b->cs == 1 || b->rs == 1));
    if (m == 0 || n == 0) return GC_OK;
    GC_TRY(check_mat(a, m, k, "gemm: A extent"));
    GC_TRY(check_mat(b, k, n, "gemm: B extent"));
    GC_TRY(check_mat(c, m, n, "gemm: C extent"));
    if (gc_cl_forms_of(be)->gemm.engine == GC_CL_GEMM_OWN) {
        if (gc_cl_cpu_forms(be)) return own_gemm(be, m, n, k, alpha, beta, a, b, c, bias);
        return gc_cl_tiled(be, GC_CL_TL_GEMM, m, n, k, alpha, beta, a, b, c, bias, 0, NULL);
    }
    return clblast_gemm(be, m, n, k, alpha, beta, a, b, c, bias);
}

gc_status gc_cl_gemm_mem(gc_backend *be, const gc_gemm_args *g, cl_mem a, size_t a_off, cl_mem b,
                         size_t b_off, cl_mem c, size_t c_off)
{
    gc_cl_mat am = g->trans_a ? gc_cl_mat_t(a, (int64_t)a_off, g->lda)
                              : gc_cl_mat_rows(a, (int64_t)a_off, g->lda);
    gc_cl_mat bm = g->trans_b ? gc_cl_mat_t(b, (int64_t)b_off, g->ldb)
                              : gc_cl_mat_rows(b, (int64_t)b_off, g->ldb);
    gc_cl_mat cm = gc_cl_mat_rows(c, (int64_t)c_off, g->ldc);
    return gc_cl_gemm_ex(be, g->m, g->n, g->k, g->alpha, g->beta, &am, &bm, &cm, NULL);
}

gc_status gc_cl_gemm(gc_t c, gc_t a, gc_t b, const gc_gemm_args *args)
{
    return gc_cl_gemm_mem(c->be, args, gc_cl_mem(a), a->off, gc_cl_mem(b), b->off, gc_cl_mem(c),
                          c->off);
}

gc_status gc_cl_transpose(gc_backend *be, cl_mem dst, int64_t dst_off, int64_t dst_ld,
                          int64_t dst_bs, cl_mem src, int64_t src_off, int64_t src_ld,
                          int64_t src_bs, const gc_tensor *bias, int accumulate, int64_t rows,
                          int64_t cols, int64_t batch)
{
    if (rows == 0 || cols == 0 || batch == 0) return GC_OK;
    GC_TRY(gc_cl_check_int(dst_off + (batch - 1) * dst_bs + (cols - 1) * dst_ld + rows,
                           "transpose: destination extent"));
    GC_TRY(gc_cl_check_int(src_off + (batch - 1) * src_bs + (rows - 1) * src_ld + cols,
                           "transpose: source extent"));
    /* CPU family: a 16 x 16 block per work-item in registers; GPU family:
     * per work-group of 16 x 16 items through local memory (where the
     * device runs work-groups that large). */
    int cpu = gc_cl_cpu_forms(be) || gc_cl_forms_of(be)->max_wg < 256;
    const char *kernel = cpu ? "gemm_transpose" : "tiled_transpose";
    gc_cl_call call = gc_cl_begin(be, kernel);
    char label[64]; /* per shape in a profile */
    if (gc_cl_profile_active(be)) {
        snprintf(label, sizeof label, "%s %lldx%lldx%lld", kernel, (long long)rows, (long long)cols,
                 (long long)batch);
        call.name = label;
    }
    gc_cl_arg_mem(&call, dst, (int)dst_off);
    gc_cl_arg_int(&call, (int)dst_ld);
    gc_cl_arg_int(&call, (int)dst_bs);
    gc_cl_arg_mem(&call, src, (int)src_off);
    gc_cl_arg_int(&call, (int)src_ld);
    gc_cl_arg_int(&call, (int)src_bs);
    gc_cl_arg_tensor(&call, bias);
    gc_cl_arg_int(&call, bias != NULL);
    gc_cl_arg_int(&call, accumulate);
    gc_cl_arg_int(&call, (int)rows);
    gc_cl_arg_int(&call, (int)cols);
    size_t blocks[2] = {(size_t)((cols + 15) / 16), (size_t)((rows + 15) / 16)};
    size_t global[3] = {cpu ? blocks[0] : 16 * blocks[0], cpu ? blocks[1] : 16 * blocks[1],
                        (size_t)batch};
    size_t local[3] = {cpu ? 1 : 16, cpu ? 1 : 16, 1};
    return gc_cl_run(&call, 3, global, local);
}

/* src/backend/opencl/cl_tiled.c - the launcher of cl/tiled.cl (cl_tiled.h):
 * the kernel of a mode and tile size, its one argument list, the stride
 * phases of a data gradient and the split of a long K into partial sums.
 */
#include "backend/opencl/cl_tiled.h"

#include <stdio.h>

#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_profile.h"
#include "util/error.h"

static const char *mode_name(gc_cl_tl_mode mode)
{
    static const char *names[] = {"gemm", "fwd", "nhwc", "dgrad", "wgrad"};
    return names[mode];
}

/* The GEMM sizes of a data gradient's largest phase. */
static int64_t ceil_div(int64_t a, int64_t b)
{
    return (a + b - 1) / b;
}

/* Every extent the kernel indexes with int. */
static gc_status check_sizes(gc_cl_tl_mode mode, int64_t m, int64_t n, int64_t k, int splits,
                             const gc_cl_mat *a, const gc_cl_mat *c, const gc_cl_conv_geom *g)
{
    GC_TRY(gc_cl_check_int(m * n * splits, "tiled: result elements"));
    GC_TRY(gc_cl_check_int(k, "tiled: reduction"));
    if (g) {
        GC_TRY(gc_cl_check_int(a->off + g->n * g->ic * g->ih * g->iw, "tiled: image extent"));
        GC_TRY(gc_cl_check_int(a->off + g->n * g->oc * g->oh * g->ow, "tiled: output extent"));
        GC_TRY(gc_cl_check_int(c->off + g->n * g->ic * g->ih * g->iw, "tiled: image extent"));
        GC_TRY(gc_cl_check_int(c->off + g->n * g->oc * g->oh * g->ow, "tiled: output extent"));
        GC_TRY(gc_cl_check_int(g->oc * g->ic * g->kh * g->kw, "tiled: weight elements"));
    }
    (void)mode;
    return GC_OK;
}

static void arg_view(gc_cl_call *call, const gc_cl_mat *x, int grouped)
{
    gc_cl_arg_mem(call, x->m, (int)x->off);
    gc_cl_arg_int(call, (int)x->rs);
    gc_cl_arg_int(call, (int)x->cs);
    if (grouped) {
        gc_cl_arg_int(call, (int)(x->grp < INT32_MAX ? x->grp : INT32_MAX));
        gc_cl_arg_int(call, (int)x->gs);
    }
}

static gc_status launch(gc_backend *be, gc_cl_tl_mode mode, int tile, int64_t m, int64_t n,
                        int64_t k, int64_t kchunk, int z, int64_t rows, float alpha, float beta,
                        const gc_cl_mat *a, const gc_cl_mat *b, const gc_cl_mat *c, int64_t c_zs,
                        const gc_tensor *bias, int relu, const gc_cl_conv_geom *g)
{
    const gc_cl_wg_tile *t = &gc_cl_wg_tiles[tile];
    char kernel[32], label[96];
    snprintf(kernel, sizeof kernel, "tiled_%s_%s", mode_name(mode), t->suffix);
    gc_cl_call call = gc_cl_begin(be, kernel);
    if (gc_cl_profile_active(be)) { /* per shape in a profile */
        snprintf(label, sizeof label, "%s %lldx%lldx%lld/%d", kernel, (long long)m, (long long)n,
                 (long long)k, z);
        call.name = label;
    }
    static const gc_cl_conv_geom none = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    if (!g) g = &none;
    gc_cl_arg_int(&call, (int)m);
    gc_cl_arg_int(&call, (int)n);
    gc_cl_arg_int(&call, (int)k);
    gc_cl_arg_float(&call, alpha);
    gc_cl_arg_float(&call, beta);
    arg_view(&call, a, 1);
    arg_view(&call, b, 0);
    arg_view(&call, c, 1);
    gc_cl_arg_int(&call, (int)c_zs);
    gc_cl_arg_tensor(&call, bias);
    gc_cl_arg_int(&call, bias != NULL);
    gc_cl_arg_int(&call, relu != 0);
    gc_cl_arg_int(&call, (int)kchunk);
    const int64_t dims[] = {g->ic, g->ih, g->iw, g->oc, g->oh, g->ow,
                            g->kh, g->kw, g->sh, g->sw, g->ph, g->pw};
    for (int i = 0; i < 12; i++)
        gc_cl_arg_int(&call, (int)dims[i]);
    size_t l = (size_t)(t->ts / t->w);
    size_t global[3] = {(size_t)ceil_div(n, t->ts) * l, (size_t)ceil_div(rows, t->ts) * l,
                        (size_t)z};
    size_t local[3] = {l, l, 1};
    return gc_cl_run(&call, 3, global, local);
}

gc_status gc_cl_tiled(gc_backend *be, gc_cl_tl_mode mode, int64_t m, int64_t n, int64_t k,
                      float alpha, float beta, const gc_cl_mat *a, const gc_cl_mat *b,
                      const gc_cl_mat *c, const gc_tensor *bias, int relu, const gc_cl_conv_geom *g)
{
    GC_ASSERT(mode == GC_CL_TL_GEMM || g);
    if (n == 0) return GC_OK;
    if (mode == GC_CL_TL_DGRAD) {
        /* One z per stride phase; rows cover the largest phase. */
        int64_t rows = g->n * ceil_div(g->ih, g->sh) * ceil_div(g->iw, g->sw);
        int64_t k_max = ceil_div(g->kh, g->sh) * ceil_div(g->kw, g->sw) * g->oc;
        if (rows == 0) return GC_OK;
        GC_TRY(check_sizes(mode, rows, n, k_max, 1, a, c, g));
        gc_cl_wg_plan p = gc_cl_forms_plan(be, rows, n, k_max, 0);
        return launch(be, mode, p.tile, g->n, n, k_max, k_max, g->sh * g->sw, rows, alpha, beta, a,
                      b, c, 0, bias, relu, g);
    }
    if (m == 0) return GC_OK;
    gc_cl_wg_plan p = gc_cl_forms_plan(be, m, n, k, 1);
    GC_TRY(check_sizes(mode, m, n, k, p.splits, a, c, mode == GC_CL_TL_GEMM ? NULL : g));
    if (p.splits == 1)
        return launch(be, mode, p.tile, m, n, k, k > 0 ? k : 1, 1, m, alpha, beta, a, b, c, 0, bias,
                      relu, g);
    /* Slices of K into partials P[z] (m x n, row-major), then their sum. */
    cl_mem part;
    GC_TRY(gc_cl_gemm_scratch(be, (size_t)(m * n * p.splits) * sizeof(float), &part));
    gc_cl_mat pm = gc_cl_mat_rows(part, 0, n);
    GC_TRY(launch(be, mode, p.tile, m, n, k, p.kchunk, p.splits, m, alpha, 0.0f, a, b, &pm, m * n,
                  NULL, 0, g));
    gc_cl_call call = gc_cl_begin(be, "tiled_sum_splits");
    gc_cl_arg_mem(&call, part, 0);
    gc_cl_arg_int(&call, p.splits);
    gc_cl_arg_int(&call, (int)m);
    gc_cl_arg_int(&call, (int)n);
    gc_cl_arg_float(&call, beta);
    arg_view(&call, c, 1);
    gc_cl_arg_tensor(&call, bias);
    gc_cl_arg_int(&call, bias != NULL);
    gc_cl_arg_int(&call, relu != 0);
    return gc_cl_run_1d(&call, (size_t)(m * n));
}

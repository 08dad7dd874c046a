/* src/backend/cpu/cpu_gemm.c - CPU reference: row-major GEMM and the dense
 * (fully connected) layer.
 *
 * Dense is written out directly rather than through gemm, so the two stay
 * independent oracles for the OpenCL backend, where dense is a gemm call. */
#include <stdlib.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

static gc_status nomem(const char *what)
{
    return gc_error(GC_ERR_NOMEM, "cpu: out of host memory in %s", what);
}

gc_status gc_cpu_gemm(gc_t c, gc_t a, gc_t b, const gc_gemm_args *g)
{
    const float *pa = gc_cpu_data(a), *pb = gc_cpu_data(b);
    float *pc = gc_cpu_data(c);
    int64_t m = g->m, n = g->n, k = g->k;
    /* Row i of op(A) is gathered into arow so that the inner loops run over
     * contiguous memory whatever the transposes; acc is row i of the
     * product, summed in double. */
    double *arow = malloc((size_t)k * sizeof *arow);
    double *acc = malloc((size_t)n * sizeof *acc);
    if (!arow || !acc) {
        free(arow);
        free(acc);
        return nomem("gemm");
    }
    for (int64_t i = 0; i < m; i++) {
        for (int64_t p = 0; p < k; p++)
            arow[p] = g->trans_a ? pa[p * g->lda + i] : pa[i * g->lda + p];
        if (g->trans_b) {
            /* op(B)[p][j] = B[j][p]: a dot product with row j of B. */
            for (int64_t j = 0; j < n; j++) {
                const float *bj = pb + j * g->ldb;
                double s = 0.0;
                for (int64_t p = 0; p < k; p++)
                    s += arow[p] * bj[p];
                acc[j] = s;
            }
        } else {
            for (int64_t j = 0; j < n; j++)
                acc[j] = 0.0;
            for (int64_t p = 0; p < k; p++) {
                const float *bp = pb + p * g->ldb;
                double ap = arow[p];
                for (int64_t j = 0; j < n; j++)
                    acc[j] += ap * bp[j];
            }
        }
        float *ci = pc + i * g->ldc;
        /* beta == 0 must not read C: it may hold garbage or NaN. */
        if (g->beta == 0.0f)
            for (int64_t j = 0; j < n; j++)
                ci[j] = (float)(g->alpha * acc[j]);
        else
            for (int64_t j = 0; j < n; j++)
                ci[j] = (float)(g->alpha * acc[j] + (double)g->beta * ci[j]);
    }
    free(arow);
    free(acc);
    return GC_OK;
}

gc_status gc_cpu_dense_forward(gc_t y, gc_t x, gc_t w, gc_t b)
{
    int64_t batch = x->shape[0], in = gc_tensor_numel(x) / batch, out = w->shape[0];
    const float *px = gc_cpu_data(x), *pw = gc_cpu_data(w), *pb = gc_cpu_data(b);
    float *py = gc_cpu_data(y);
    for (int64_t s = 0; s < batch; s++) {
        const float *xs = px + s * in;
        for (int64_t o = 0; o < out; o++) {
            const float *wo = pw + o * in;
            double acc = pb ? pb[o] : 0.0;
            for (int64_t i = 0; i < in; i++)
                acc += (double)xs[i] * wo[i];
            py[s * out + o] = (float)acc;
        }
    }
    return GC_OK;
}

gc_status gc_cpu_dense_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w)
{
    int64_t batch = x->shape[0], in = gc_tensor_numel(x) / batch, out = w->shape[0];
    const float *px = gc_cpu_data(x), *pw = gc_cpu_data(w), *pdy = gc_cpu_data(dy);
    float *pdx = gc_cpu_data(dx), *pdw = gc_cpu_data(dw), *pdb = gc_cpu_data(db);
    double *acc = malloc((size_t)in * sizeof *acc);
    if (!acc) return nomem("dense backward");

    /* dx[s][:] = sum_o dy[s][o] * w[o][:] (written). */
    if (pdx) {
        for (int64_t s = 0; s < batch; s++) {
            for (int64_t i = 0; i < in; i++)
                acc[i] = 0.0;
            for (int64_t o = 0; o < out; o++) {
                const float *wo = pw + o * in;
                double d = pdy[s * out + o];
                for (int64_t i = 0; i < in; i++)
                    acc[i] += d * wo[i];
            }
            for (int64_t i = 0; i < in; i++)
                pdx[s * in + i] = (float)acc[i];
        }
    }
    /* dw[o][:] += sum_s dy[s][o] * x[s][:]; db[o] += sum_s dy[s][o]. */
    for (int64_t o = 0; o < out; o++) {
        for (int64_t i = 0; i < in; i++)
            acc[i] = 0.0;
        double bsum = 0.0;
        for (int64_t s = 0; s < batch; s++) {
            const float *xs = px + s * in;
            double d = pdy[s * out + o];
            bsum += d;
            for (int64_t i = 0; i < in; i++)
                acc[i] += d * xs[i];
        }
        float *dwo = pdw + o * in;
        for (int64_t i = 0; i < in; i++)
            dwo[i] = (float)(dwo[i] + acc[i]);
        if (pdb) pdb[o] = (float)(pdb[o] + bsum);
    }
    free(acc);
    return GC_OK;
}

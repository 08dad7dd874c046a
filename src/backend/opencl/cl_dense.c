/* src/backend/opencl/cl_dense.c - dense (fully connected) layers on OpenCL:
 * two GEMMs and a bias kernel forward, three GEMM-shaped steps backward.
 *
 *   y  (N, out) = x (N, in) @ w^T + b       w (out, in)
 *   dx (N, in)  = dy @ w                    (written)
 *   dw (out, in) += dy^T @ x                (GEMM with beta = 1)
 *   db (out)    += column sums of dy        (reduce_sum, accumulate)
 */
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

static gc_gemm_args gemm_args(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta,
                              int64_t lda, int64_t ldb, int64_t ldc)
{
    gc_gemm_args g = {ta, tb, m, n, k, 1.0f, beta, lda, ldb, ldc};
    return g;
}

gc_status gc_cl_dense_forward(gc_t y, gc_t x, gc_t w, gc_t b)
{
    int64_t n = x->shape[0], in = gc_tensor_numel(x) / n, out = w->shape[0];
    GC_TRY(gc_cl_check_int(n * out, "dense: output elements"));
    gc_gemm_args g = gemm_args(0, 1, n, out, in, 0.0f, in, in, out);
    GC_TRY(gc_cl_gemm(y, x, w, &g));
    if (!b) return GC_OK;
    gc_cl_call c = gc_cl_begin(y->be, "dense_bias_add");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, b);
    gc_cl_arg_int(&c, (int)out);
    gc_cl_arg_int(&c, (int)n);
    size_t wg = gc_cl_wg_size(&c, (size_t)out < 64 ? (size_t)out : 64);
    size_t global[2] = {((size_t)out + wg - 1) / wg * wg, (size_t)n}, local[2] = {wg, 1};
    return gc_cl_run(&c, 2, global, local);
}

gc_status gc_cl_dense_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w)
{
    int64_t n = x->shape[0], in = gc_tensor_numel(x) / n, out = w->shape[0];
    if (dx) {
        gc_gemm_args g = gemm_args(0, 0, n, in, out, 0.0f, out, in, in);
        GC_TRY(gc_cl_gemm(dx, dy, w, &g));
    }
    gc_gemm_args g = gemm_args(1, 0, out, in, n, 1.0f, out, in, in);
    GC_TRY(gc_cl_gemm(dw, dy, x, &g));
    if (!db) return GC_OK;
    return gc_cl_reduce_sum(db, dy, out, 1, n, 1, out, 1.0f, 1);
}

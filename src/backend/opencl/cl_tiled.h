/* src/backend/opencl/cl_tiled.h - the GPU family's tiled GEMM and implicit-
 * GEMM convolutions (cl/tiled.cl): one launcher for every mode, which
 * takes the tile size and the split of K from the profile's plan
 * (gc_cl_forms_plan).
 *
 * Operands per mode (image side: the convolution's input, or the
 * transposed convolution's output; output side: the other one):
 *
 *   GEMM   C (m x n) = alpha * A (m x k) x B (k x n) + beta * C, any views
 *          (B one group: element (r, c) at off + r*rs + c*cs)
 *   FWD    a = the NCHW image, b = w as (OC, K) rows (rs 1, cs K), c = the
 *          NCHW output side (gc_cl_mat_nchw); m = N*OH*OW, n = OC, k = K
 *   NHWC   a = the NHWC image, b = w (KH, KW, C, OC) rows (rs OC, cs 1),
 *          c = rows of y's channel slice; m = N*OH*OW, n = OC, k = K
 *   DGRAD  a = the NCHW output side, b = w (OC, C, KH, KW), c = the NCHW
 *          image (only m and off are read); n = C; one z per stride phase
 *   WGRAD  a = the output side, b = the image, c = dW (OC, K) rows;
 *          m = OC, n = K, k = N*OH*OW
 *
 * with K = C*KH*KW in (c, ky, kx) order (NHWC: (ky, kx, c)).  Only the
 * views' buffers and offsets are read for the implicit operands.
 */
#ifndef GANCL_CL_TILED_H
#define GANCL_CL_TILED_H

#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_tune.h"

typedef enum gc_cl_tl_mode {
    GC_CL_TL_GEMM = 0,
    GC_CL_TL_FWD = 1,
    GC_CL_TL_NHWC = 2,
    GC_CL_TL_DGRAD = 3,
    GC_CL_TL_WGRAD = 4,
} gc_cl_tl_mode;

/* C = alpha * op(A, B) + beta * C (+ bias[column]) (then max(0, .) when
 * relu); g is NULL for GEMM.  C is not read when beta is 0. */
gc_status gc_cl_tiled(gc_backend *be, gc_cl_tl_mode mode, int64_t m, int64_t n, int64_t k,
                      float alpha, float beta, const gc_cl_mat *a, const gc_cl_mat *b,
                      const gc_cl_mat *c, const gc_tensor *bias, int relu,
                      const gc_cl_conv_geom *g);

#endif

/* src/backend/opencl/cl_shape.c - channel slices and bilinear resize
 * (cl/shape.cl), and the NCHW <-> NHWC layout change (a batched
 * transpose, gemm_transpose in cl/gemm.cl). */
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "backend/opencl/cl_tune.h"
#include "util/error.h"

gc_status gc_cl_channel_copy(gc_t y, gc_t x, int64_t c0, int to_y)
{
    int64_t hw = GC_H(x) * GC_W(x), total = gc_tensor_numel(x);
    GC_TRY(gc_cl_check_int(gc_tensor_numel(y), "channel copy: elements"));
    gc_cl_call c = gc_cl_begin(y->be, "channel_copy");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_int(&c, (int)(GC_C(x) * hw));
    gc_cl_arg_int(&c, (int)(GC_C(y) * hw));
    gc_cl_arg_int(&c, (int)(c0 * hw));
    gc_cl_arg_int(&c, to_y);
    gc_cl_arg_int(&c, (int)total);
    return gc_cl_run_1d(&c, (size_t)total);
}

gc_status gc_cl_resize_bilinear_forward(gc_t y, gc_t x)
{
    int64_t total = gc_tensor_numel(y);
    GC_TRY(gc_cl_check_int(gc_tensor_numel(x), "resize: input elements"));
    GC_TRY(gc_cl_check_int(total, "resize: output elements"));
    gc_cl_call c = gc_cl_begin(y->be, "resize_bilinear");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_int(&c, (int)GC_H(x));
    gc_cl_arg_int(&c, (int)GC_W(x));
    gc_cl_arg_int(&c, (int)GC_H(y));
    gc_cl_arg_int(&c, (int)GC_W(y));
    /* In float, as PyTorch computes the scale for float tensors. */
    gc_cl_arg_float(&c, (float)GC_H(x) / (float)GC_H(y));
    gc_cl_arg_float(&c, (float)GC_W(x) / (float)GC_W(y));
    gc_cl_arg_int(&c, (int)total);
    return gc_cl_run_1d(&c, (size_t)total);
}

/* Per image, NCHW is a [C][HW] matrix and NHWC its transpose. */
gc_status gc_cl_nhwc_layout(gc_t y, gc_t x, int to_nhwc)
{
    int64_t n = x->shape[0], c = to_nhwc ? x->shape[1] : x->shape[3];
    int64_t hw = gc_tensor_numel(x) / (n * c);
    GC_TRY(gc_cl_check_int(gc_tensor_numel(x), "layout: elements"));
    int64_t rows = to_nhwc ? c : hw, cols = to_nhwc ? hw : c;
    return gc_cl_transpose(y->be, gc_cl_mem(y), (int64_t)y->off, rows, c * hw, gc_cl_mem(x),
                           (int64_t)x->off, cols, c * hw, NULL, 0, rows, cols, n);
}

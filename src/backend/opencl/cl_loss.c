/* src/backend/opencl/cl_loss.c - softmax cross-entropy with class labels
 * (cl/loss.cl). */
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

gc_status gc_cl_softmax_ce_forward(gc_t loss, gc_t correct, gc_t z, gc_t labels)
{
    int64_t n = z->shape[0], k = z->shape[1];
    GC_TRY(gc_cl_check_int(gc_tensor_numel(z), "softmax_ce: logits"));
    gc_cl_call c = gc_cl_begin(z->be, "softmax_ce_forward");
    size_t want = 1;
    while (want < 256 && (int64_t)want < n)
        want *= 2;
    size_t wg = gc_cl_wg_size(&c, want);
    gc_cl_arg_tensor(&c, loss);
    gc_cl_arg_tensor(&c, correct); /* NULL passes a dummy buffer */
    gc_cl_arg_int(&c, correct != NULL);
    gc_cl_arg_tensor(&c, z);
    gc_cl_arg_tensor(&c, labels);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_int(&c, (int)k);
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    return gc_cl_run(&c, 1, &wg, &wg);
}

gc_status gc_cl_softmax_ce_backward(gc_t dz, gc_t z, gc_t labels, float scale)
{
    int64_t n = z->shape[0], k = z->shape[1];
    GC_TRY(gc_cl_check_int(gc_tensor_numel(z), "softmax_ce backward: logits"));
    gc_cl_call c = gc_cl_begin(z->be, "softmax_ce_backward");
    gc_cl_arg_tensor(&c, dz);
    gc_cl_arg_tensor(&c, z);
    gc_cl_arg_tensor(&c, labels);
    gc_cl_arg_float(&c, scale);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_int(&c, (int)k);
    return gc_cl_run_1d(&c, (size_t)n);
}

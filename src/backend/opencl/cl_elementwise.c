/* src/backend/opencl/cl_elementwise.c - launchers for cl/elementwise.cl:
 * fill, copy, add, scale, sum, activations, and gc_cl_reduce_sum, the
 * strided reduction other launchers use for bias gradients and pooling. */
#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

/* Work-group size asked for by reductions: enough work-items to hide
 * latency on a GPU, no more than the row has elements (a short row then
 * does not leave most of the group idle).  gc_cl_wg_size clamps it to
 * what the device and kernel allow. */
#define REDUCE_WG_WANT 256

gc_status gc_cl_reduce_sum(gc_t dst, gc_t src, int64_t groups, int64_t g_stride, int64_t len,
                           int64_t inner, int64_t outer_stride, float alpha, int accumulate)
{
    GC_ASSERT(groups >= 1 && len >= 1 && inner >= 1);
    GC_TRY(gc_cl_check_int(gc_tensor_numel(src), "reduce: input elements"));
    GC_TRY(gc_cl_check_int(groups, "reduce: outputs"));
    GC_TRY(gc_cl_check_int(g_stride, "reduce: group stride"));
    GC_TRY(gc_cl_check_int(len, "reduce: length"));
    GC_TRY(gc_cl_check_int(outer_stride, "reduce: stride"));
    if (gc_cl_cpu_forms(dst->be)) {
        /* One work-item per group (or per 16 columns): on CPU drivers a
         * work-group's barriers cost more than the sum itself.  The GPU
         * family below: one work-group per group, a tree in local memory. */
        int cols16 = inner == 1 && g_stride == 1 && groups >= 16;
        gc_cl_call c = gc_cl_begin(dst->be, "reduce_sum_seq");
        gc_cl_arg_tensor(&c, dst);
        gc_cl_arg_tensor(&c, src);
        gc_cl_arg_int(&c, (int)groups);
        gc_cl_arg_int(&c, (int)g_stride);
        gc_cl_arg_int(&c, (int)len);
        gc_cl_arg_int(&c, (int)inner);
        gc_cl_arg_int(&c, (int)outer_stride);
        gc_cl_arg_float(&c, alpha);
        gc_cl_arg_int(&c, accumulate);
        gc_cl_arg_int(&c, cols16);
        size_t global = (size_t)(cols16 ? (groups + 15) / 16 : groups), local = 1;
        return gc_cl_run(&c, 1, &global, &local);
    }
    gc_cl_call c = gc_cl_begin(dst->be, "reduce_sum");
    size_t want = 1;
    while (want < REDUCE_WG_WANT && (int64_t)want < len)
        want *= 2;
    size_t wg = gc_cl_wg_size(&c, want);
    gc_cl_arg_tensor(&c, dst);
    gc_cl_arg_tensor(&c, src);
    gc_cl_arg_int(&c, (int)g_stride);
    gc_cl_arg_int(&c, (int)len);
    gc_cl_arg_int(&c, (int)inner);
    gc_cl_arg_int(&c, (int)outer_stride);
    gc_cl_arg_float(&c, alpha);
    gc_cl_arg_int(&c, accumulate);
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    size_t global = (size_t)groups * wg;
    return gc_cl_run(&c, 1, &global, &wg);
}

gc_status gc_cl_fill(gc_t y, float value)
{
    int64_t n = gc_tensor_numel(y);
    GC_TRY(gc_cl_check_int(n, "fill: elements"));
    gc_cl_call c = gc_cl_begin(y->be, "ew_fill");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_float(&c, value);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

gc_status gc_cl_copy(gc_t y, gc_t x)
{
    int64_t n = gc_tensor_numel(y);
    GC_TRY(gc_cl_check_int(n, "copy: elements"));
    gc_cl_call c = gc_cl_begin(y->be, "ew_copy");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

gc_status gc_cl_add(gc_t y, gc_t a, gc_t b)
{
    int64_t n = gc_tensor_numel(y);
    GC_TRY(gc_cl_check_int(n, "add: elements"));
    gc_cl_call c = gc_cl_begin(y->be, "ew_add");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, a);
    gc_cl_arg_tensor(&c, b);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

gc_status gc_cl_scale(gc_t y, gc_t x, float alpha)
{
    int64_t n = gc_tensor_numel(y);
    GC_TRY(gc_cl_check_int(n, "scale: elements"));
    gc_cl_call c = gc_cl_begin(y->be, "ew_scale");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_float(&c, alpha);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

gc_status gc_cl_sum(gc_t y, gc_t x, float mul)
{
    int64_t n = gc_tensor_numel(x);
    return gc_cl_reduce_sum(y, x, 1, 0, n, n, 0, mul, 0);
}

/* The kernel of each activation, "act_<name>_<dir>". */
static const char *act_kernel(gc_act act, int backward)
{
    static const char *names[4][2] = {{"act_relu_forward", "act_relu_backward"},
                                      {"act_leaky_relu_forward", "act_leaky_relu_backward"},
                                      {"act_sigmoid_forward", "act_sigmoid_backward"},
                                      {"act_tanh_forward", "act_tanh_backward"}};
    GC_ASSERT((int)act >= 0 && (int)act < 4);
    return names[act][backward];
}

gc_status gc_cl_act_forward(gc_t y, gc_t x, gc_act act, float slope)
{
    int64_t n = gc_tensor_numel(y);
    GC_TRY(gc_cl_check_int(n, "activation: elements"));
    gc_cl_call c = gc_cl_begin(y->be, act_kernel(act, 0));
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_float(&c, slope);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

gc_status gc_cl_act_backward(gc_t dx, gc_t dy, gc_t y, gc_act act, float slope)
{
    int64_t n = gc_tensor_numel(dx);
    GC_TRY(gc_cl_check_int(n, "activation backward: elements"));
    gc_cl_call c = gc_cl_begin(dx->be, act_kernel(act, 1));
    gc_cl_arg_tensor(&c, dx);
    gc_cl_arg_tensor(&c, dy);
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_float(&c, slope);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

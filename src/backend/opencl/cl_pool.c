/* src/backend/opencl/cl_pool.c - pooling launchers (cl/pool.cl).  Max
 * pooling's backward first recomputes each window's argmax from x into
 * the workspace, then gathers dy into dx through it.  Channels-last
 * pooling (inference only) is one kernel for max and average in each
 * family. */
#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

/* The shape arguments every pooling kernel ends with (POOL_ARGS); `total`
 * is the number of work-items: output pixels forward, input pixels
 * backward. */
static void pool_args(gc_cl_call *c, const gc_tensor *x, const gc_tensor *y,
                      const gc_pool_params *p, int64_t total)
{
    gc_cl_arg_int(c, (int)GC_H(x));
    gc_cl_arg_int(c, (int)GC_W(x));
    gc_cl_arg_int(c, (int)GC_H(y));
    gc_cl_arg_int(c, (int)GC_W(y));
    gc_cl_arg_int(c, p->kernel_h);
    gc_cl_arg_int(c, p->kernel_w);
    gc_cl_arg_int(c, p->stride_h);
    gc_cl_arg_int(c, p->stride_w);
    gc_cl_arg_int(c, p->pad_h);
    gc_cl_arg_int(c, p->pad_w);
    gc_cl_arg_int(c, (int)total);
}

static gc_status check_sizes(const gc_tensor *x, const gc_tensor *y)
{
    GC_TRY(gc_cl_check_int(gc_tensor_numel(x), "pool: input elements"));
    return gc_cl_check_int(gc_tensor_numel(y), "pool: output elements");
}

gc_status gc_cl_max_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p)
{
    GC_TRY(check_sizes(x, y));
    int64_t total = gc_tensor_numel(y);
    gc_cl_call c = gc_cl_begin(y->be, "max_pool_forward");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_tensor(&c, NULL); /* no argmax wanted */
    gc_cl_arg_int(&c, 0);
    pool_args(&c, x, y, p, total);
    return gc_cl_run_1d(&c, (size_t)total);
}

gc_status gc_cl_max_pool2d_backward(gc_t dx, gc_t dy, gc_t x, const gc_pool_params *p)
{
    gc_backend *be = dx->be;
    GC_TRY(check_sizes(x, dy));
    int64_t nout = gc_tensor_numel(dy), nin = gc_tensor_numel(x);
    /* The workspace holds every window's argmax (int) and, after them, the
     * window maxima that the forward kernel writes anyway and nobody reads. */
    cl_mem ws;
    GC_TRY(gc_cl_check_int(2 * nout, "max pool backward: workspace"));
    GC_TRY(gc_cl_workspace(be, (size_t)(2 * nout) * sizeof(float), &ws));
    gc_cl_call c = gc_cl_begin(be, "max_pool_forward");
    gc_cl_arg_mem(&c, ws, (int)nout);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_mem(&c, ws, 0);
    gc_cl_arg_int(&c, 1);
    pool_args(&c, x, dy, p, nout);
    GC_TRY(gc_cl_run_1d(&c, (size_t)nout));

    c = gc_cl_begin(be, "max_pool_backward");
    gc_cl_arg_tensor(&c, dx);
    gc_cl_arg_tensor(&c, dy);
    gc_cl_arg_mem(&c, ws, 0);
    pool_args(&c, x, dy, p, nin);
    return gc_cl_run_1d(&c, (size_t)nin);
}

gc_status gc_cl_avg_pool2d_forward(gc_t y, gc_t x, const gc_pool_params *p)
{
    GC_TRY(check_sizes(x, y));
    int64_t total = gc_tensor_numel(y);
    gc_cl_call c = gc_cl_begin(y->be, "avg_pool_forward");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_int(&c, p->count_include_pad != 0);
    pool_args(&c, x, y, p, total);
    return gc_cl_run_1d(&c, (size_t)total);
}

gc_status gc_cl_avg_pool2d_backward(gc_t dx, gc_t dy, const gc_pool_params *p)
{
    GC_TRY(check_sizes(dx, dy));
    int64_t total = gc_tensor_numel(dx);
    gc_cl_call c = gc_cl_begin(dx->be, "avg_pool_backward");
    gc_cl_arg_tensor(&c, dx);
    gc_cl_arg_tensor(&c, dy);
    gc_cl_arg_int(&c, p->count_include_pad != 0);
    pool_args(&c, dx, dy, p, total);
    return gc_cl_run_1d(&c, (size_t)total);
}

gc_status gc_cl_global_avg_pool_forward(gc_t y, gc_t x)
{
    int64_t hw = GC_H(x) * GC_W(x);
    return gc_cl_reduce_sum(y, x, GC_N(x) * GC_C(x), hw, hw, hw, 0, (float)(1.0 / (double)hw), 0);
}

gc_status gc_cl_global_avg_pool_backward(gc_t dx, gc_t dy)
{
    int64_t total = gc_tensor_numel(dx), hw = GC_H(dx) * GC_W(dx);
    GC_TRY(gc_cl_check_int(total, "global avg pool: elements"));
    gc_cl_call c = gc_cl_begin(dx->be, "global_avg_pool_backward");
    gc_cl_arg_tensor(&c, dx);
    gc_cl_arg_tensor(&c, dy);
    gc_cl_arg_int(&c, (int)hw);
    gc_cl_arg_int(&c, (int)total);
    return gc_cl_run_1d(&c, (size_t)total);
}

gc_status gc_cl_pool2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, const gc_pool_params *p, int max)
{
    GC_TRY(check_sizes(x, y));
    /* CPU family: a work-item per output pixel over 16-wide channel
     * vectors; GPU family: a work-item per output element. */
    int cpu = gc_cl_cpu_forms(y->be);
    gc_cl_call c = gc_cl_begin(y->be, cpu ? "pool_nhwc_forward" : "pool_nhwc_forward_el");
    gc_cl_arg_mem(&c, gc_cl_mem(y), (int)((int64_t)y->off + c0));
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_int(&c, (int)x->shape[3]);
    gc_cl_arg_int(&c, (int)y->shape[3]);
    gc_cl_arg_int(&c, max != 0);
    gc_cl_arg_int(&c, p->count_include_pad);
    gc_cl_arg_int(&c, (int)x->shape[1]);
    gc_cl_arg_int(&c, (int)x->shape[2]);
    gc_cl_arg_int(&c, (int)y->shape[1]);
    gc_cl_arg_int(&c, (int)y->shape[2]);
    gc_cl_arg_int(&c, p->kernel_h);
    gc_cl_arg_int(&c, p->kernel_w);
    gc_cl_arg_int(&c, p->stride_h);
    gc_cl_arg_int(&c, p->stride_w);
    gc_cl_arg_int(&c, p->pad_h);
    gc_cl_arg_int(&c, p->pad_w);
    if (!cpu) {
        int64_t total = y->shape[0] * y->shape[1] * y->shape[2] * x->shape[3];
        gc_cl_arg_int(&c, (int)total);
        return gc_cl_run_1d(&c, (size_t)total);
    }
    size_t global[3] = {(size_t)y->shape[2], (size_t)y->shape[1], (size_t)y->shape[0]};
    size_t local[3] = {1, 1, 1};
    return gc_cl_run(&c, 3, global, local);
}

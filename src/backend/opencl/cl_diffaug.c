/* src/backend/opencl/cl_diffaug.c - DiffAugment's launchers (cl/diffaug.cl):
 * one work-group per image, for the forward and the adjoint alike. */
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

/* out (N, C, H, W) from in by the kernel of that name. */
static gc_status diffaug(const char *kernel, gc_t out, gc_t in, gc_t r, int policy)
{
    int64_t n = GC_N(in), hw = GC_H(in) * GC_W(in), chw = GC_C(in) * hw;
    GC_TRY(gc_cl_check_int(gc_tensor_numel(in), "diffaug: elements"));
    gc_cl_call c = gc_cl_begin(in->be, kernel);
    /* A power of two up to 256, no larger than the pixels (or, for the
     * colour sum, the elements) of one image need. */
    int64_t work = (policy & GC_DIFFAUG_COLOR) ? chw : hw;
    size_t want = 1;
    while (want < 256 && (int64_t)want < work)
        want *= 2;
    size_t wg = gc_cl_wg_size(&c, want);
    GC_TRY(gc_cl_check_int(n * (int64_t)wg, "diffaug: work-items"));
    size_t global = (size_t)n * wg;
    gc_cl_arg_tensor(&c, out);
    gc_cl_arg_tensor(&c, in);
    gc_cl_arg_tensor(&c, r);
    gc_cl_arg_int(&c, policy);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_int(&c, (int)GC_C(in));
    gc_cl_arg_int(&c, (int)GC_H(in));
    gc_cl_arg_int(&c, (int)GC_W(in));
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    return gc_cl_run(&c, 1, &global, &wg);
}

gc_status gc_cl_diffaug_forward(gc_t y, gc_t x, gc_t r, int policy)
{
    return diffaug("diffaug_forward", y, x, r, policy);
}

gc_status gc_cl_diffaug_backward(gc_t dx, gc_t dy, gc_t r, int policy)
{
    return diffaug("diffaug_backward", dx, dy, r, policy);
}

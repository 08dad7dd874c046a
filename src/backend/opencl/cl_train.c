/* src/backend/opencl/cl_train.c - BCE-with-logits loss, Adam and the
 * Philox random fills (cl/train.cl). */
#include <math.h>

#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

gc_status gc_cl_bce_logits_forward(gc_t loss, gc_t z, float target)
{
    int64_t n = gc_tensor_numel(z);
    GC_TRY(gc_cl_check_int(n, "bce: logits"));
    gc_cl_call c = gc_cl_begin(z->be, "bce_logits_forward");
    size_t want = 1;
    while (want < 256 && (int64_t)want < n)
        want *= 2;
    size_t wg = gc_cl_wg_size(&c, want);
    gc_cl_arg_tensor(&c, loss);
    gc_cl_arg_tensor(&c, z);
    gc_cl_arg_float(&c, target);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    return gc_cl_run(&c, 1, &wg, &wg);
}

gc_status gc_cl_bce_logits_backward(gc_t dz, gc_t z, float target, float scale)
{
    int64_t n = gc_tensor_numel(z);
    GC_TRY(gc_cl_check_int(n, "bce backward: logits"));
    gc_cl_call c = gc_cl_begin(z->be, "bce_logits_backward");
    gc_cl_arg_tensor(&c, dz);
    gc_cl_arg_tensor(&c, z);
    gc_cl_arg_float(&c, target);
    gc_cl_arg_float(&c, scale);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

gc_status gc_cl_adam_update(gc_t param, gc_t grad, gc_t m, gc_t v, const gc_adam_params *p)
{
    int64_t n = gc_tensor_numel(param);
    GC_TRY(gc_cl_check_int(n, "adam: parameters"));
    double bc1 = 1.0 - pow((double)p->beta1, (double)p->step);
    double bc2 = 1.0 - pow((double)p->beta2, (double)p->step);
    gc_cl_call c = gc_cl_begin(param->be, "adam_update");
    gc_cl_arg_tensor(&c, param);
    gc_cl_arg_tensor(&c, grad);
    gc_cl_arg_tensor(&c, m);
    gc_cl_arg_tensor(&c, v);
    gc_cl_arg_float(&c, p->beta1);
    gc_cl_arg_float(&c, p->beta2);
    gc_cl_arg_float(&c, p->eps);
    gc_cl_arg_float(&c, (float)((double)p->lr / bc1));
    gc_cl_arg_float(&c, (float)sqrt(bc2));
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

gc_status gc_cl_rng_fill(gc_t y, uint64_t seed, uint64_t offset, int normal, float a, float b)
{
    int64_t n = gc_tensor_numel(y);
    GC_TRY(gc_cl_check_int(n, "rng: elements"));
    gc_cl_call c = gc_cl_begin(y->be, "rng_fill");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_ulong(&c, (cl_ulong)seed);
    gc_cl_arg_ulong(&c, (cl_ulong)offset);
    gc_cl_arg_int(&c, normal != 0);
    gc_cl_arg_float(&c, a);
    gc_cl_arg_float(&c, b);
    gc_cl_arg_int(&c, (int)n);
    return gc_cl_run_1d(&c, (size_t)n);
}

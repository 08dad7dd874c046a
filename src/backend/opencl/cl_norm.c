/* src/backend/opencl/cl_norm.c - batchnorm launchers (cl/norm.cl).  The
 * training passes run one work-group per channel in the GPU family (a
 * work-group reduction) and one work-item per channel in the CPU family;
 * evaluation is elementwise. */
#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

/* Batch, channels and the per-channel run length HW of an (N, C, ...) tensor. */
static gc_status bn_dims(const gc_tensor *x, int *n, int *c, int *hw)
{
    int64_t numel = gc_tensor_numel(x);
    GC_TRY(gc_cl_check_int(numel, "batchnorm: elements"));
    *n = (int)GC_N(x);
    *c = (int)GC_C(x);
    *hw = (int)(numel / (GC_N(x) * GC_C(x)));
    return GC_OK;
}

/* One work-group per channel, as large as the channel has elements to
 * spread over (up to what the device allows); in the CPU family the _seq
 * kernel, one work-item per channel. */
static gc_status run_per_channel(gc_cl_call *c, int channels, int per_channel)
{
    if (gc_cl_cpu_forms(c->be)) {
        size_t global = (size_t)channels, local = 1;
        return gc_cl_run(c, 1, &global, &local);
    }
    size_t want = 1;
    while (want < 256 && (int64_t)want < per_channel)
        want *= 2;
    size_t wg = gc_cl_wg_size(c, want);
    gc_cl_arg_local(c, 2 * wg * sizeof(float));
    size_t global = (size_t)channels * wg;
    return gc_cl_run(c, 1, &global, &wg);
}

gc_status gc_cl_batchnorm_forward_train(gc_t y, gc_t save_mean, gc_t save_invstd, gc_t x,
                                        gc_t gamma, gc_t beta, gc_t running_mean, gc_t running_var,
                                        float momentum, float eps)
{
    int n, ch, hw;
    GC_TRY(bn_dims(x, &n, &ch, &hw));
    gc_cl_call c =
        gc_cl_begin(y->be, gc_cl_cpu_forms(y->be) ? "bn_forward_train_seq" : "bn_forward_train");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, save_mean);
    gc_cl_arg_tensor(&c, save_invstd);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_tensor(&c, gamma);
    gc_cl_arg_tensor(&c, beta);
    gc_cl_arg_tensor(&c, running_mean);
    gc_cl_arg_tensor(&c, running_var);
    gc_cl_arg_int(&c, n);
    gc_cl_arg_int(&c, ch);
    gc_cl_arg_int(&c, hw);
    gc_cl_arg_float(&c, momentum);
    gc_cl_arg_float(&c, eps);
    return run_per_channel(&c, ch, n * hw);
}

gc_status gc_cl_batchnorm_forward_eval(gc_t y, gc_t x, gc_t gamma, gc_t beta, gc_t running_mean,
                                       gc_t running_var, float eps)
{
    int n, ch, hw;
    GC_TRY(bn_dims(x, &n, &ch, &hw));
    int total = n * ch * hw;
    gc_cl_call c = gc_cl_begin(y->be, "bn_forward_eval");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_tensor(&c, gamma);
    gc_cl_arg_tensor(&c, beta);
    gc_cl_arg_tensor(&c, running_mean);
    gc_cl_arg_tensor(&c, running_var);
    gc_cl_arg_int(&c, ch);
    gc_cl_arg_int(&c, hw);
    gc_cl_arg_float(&c, eps);
    gc_cl_arg_int(&c, total);
    return gc_cl_run_1d(&c, (size_t)total);
}

gc_status gc_cl_batchnorm_backward(gc_t dx, gc_t dgamma, gc_t dbeta, gc_t dy, gc_t x, gc_t gamma,
                                   gc_t save_mean, gc_t save_invstd)
{
    int n, ch, hw;
    GC_TRY(bn_dims(x, &n, &ch, &hw));
    gc_cl_call c = gc_cl_begin(dx->be, gc_cl_cpu_forms(dx->be) ? "bn_backward_seq" : "bn_backward");
    gc_cl_arg_tensor(&c, dx);
    gc_cl_arg_tensor(&c, dgamma);
    gc_cl_arg_tensor(&c, dbeta);
    gc_cl_arg_tensor(&c, dy);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_tensor(&c, gamma);
    gc_cl_arg_tensor(&c, save_mean);
    gc_cl_arg_tensor(&c, save_invstd);
    gc_cl_arg_int(&c, n);
    gc_cl_arg_int(&c, ch);
    gc_cl_arg_int(&c, hw);
    return run_per_channel(&c, ch, n * hw);
}

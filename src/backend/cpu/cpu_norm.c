/* src/backend/cpu/cpu_norm.c - placeholder: every op here reports 'not implemented'. */
#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

gc_status gc_cpu_batchnorm_forward_train(gc_t y, gc_t save_mean, gc_t save_invstd, gc_t x,                                          gc_t gamma, gc_t beta, gc_t running_mean,                                          gc_t running_var, float momentum, float eps)
{
    (void)y;
    (void)save_mean;
    (void)save_invstd;
    (void)x;
    (void)gamma;
    (void)beta;
    (void)running_mean;
    (void)running_var;
    (void)momentum;
    (void)eps;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_batchnorm_forward_train: not implemented");
}

gc_status gc_cpu_batchnorm_forward_eval(gc_t y, gc_t x, gc_t gamma, gc_t beta,                                         gc_t running_mean, gc_t running_var, float eps)
{
    (void)y;
    (void)x;
    (void)gamma;
    (void)beta;
    (void)running_mean;
    (void)running_var;
    (void)eps;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_batchnorm_forward_eval: not implemented");
}

gc_status gc_cpu_batchnorm_backward(gc_t dx, gc_t dgamma, gc_t dbeta, gc_t dy, gc_t x,                                     gc_t gamma, gc_t save_mean, gc_t save_invstd)
{
    (void)dx;
    (void)dgamma;
    (void)dbeta;
    (void)dy;
    (void)x;
    (void)gamma;
    (void)save_mean;
    (void)save_invstd;
    return gc_error(GC_ERR_DEVICE, "gc_cpu_batchnorm_backward: not implemented");
}

/* src/backend/cpu/cpu_backend.c - the CPU reference backend: host buffers
 * and the op table.  The ops themselves live in cpu_*.c beside this file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"
#include "util/fault.h"

static void cpu_free(gc_backend *be)
{
    free(be);
}

static gc_status cpu_buffer_alloc(gc_backend *be, size_t nbytes, gc_buffer **out)
{
    (void)be;
    gc_buffer *b = calloc(1, sizeof *b);
    /* 64-byte alignment keeps vector loads in the compiler's fast path. */
    size_t size = nbytes ? (nbytes + 63) / 64 * 64 : 64;
    void *p = b && !gc_fault_hit(GC_FAULT_ALLOC) ? aligned_alloc(64, size) : NULL;
    if (!p) {
        free(b);
        return gc_error(GC_ERR_NOMEM,
                        "cpu: out of host memory allocating %zu bytes for a buffer; try a "
                        "smaller --batch",
                        nbytes);
    }
    b->nbytes = nbytes;
    b->handle = p;
    *out = b;
    return GC_OK;
}

static void cpu_buffer_free(gc_backend *be, gc_buffer *buf)
{
    (void)be;
    free(buf->handle);
    free(buf);
}

static gc_status cpu_buffer_write(gc_backend *be, gc_buffer *buf, size_t off, const void *src,
                                  size_t nbytes)
{
    (void)be;
    GC_ASSERT(off + nbytes <= buf->nbytes);
    if (gc_fault_hit(GC_FAULT_WRITE))
        return gc_error(GC_ERR_DEVICE,
                        "cpu: writing %zu bytes to a buffer failed (injected by GANCL_FAULT)",
                        nbytes);
    memcpy((char *)buf->handle + off, src, nbytes);
    return GC_OK;
}

static gc_status cpu_buffer_read(gc_backend *be, gc_buffer *buf, size_t off, void *dst,
                                 size_t nbytes)
{
    (void)be;
    GC_ASSERT(off + nbytes <= buf->nbytes);
    if (gc_fault_hit(GC_FAULT_READ))
        return gc_error(GC_ERR_DEVICE,
                        "cpu: reading %zu bytes from a buffer failed (injected by GANCL_FAULT)",
                        nbytes);
    memcpy(dst, (const char *)buf->handle + off, nbytes);
    return GC_OK;
}

static gc_status cpu_synchronize(gc_backend *be)
{
    (void)be;
    return GC_OK;
}

static const struct gc_backend_i cpu_interface = {
    .free = cpu_free,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_write = cpu_buffer_write,
    .buffer_read = cpu_buffer_read,
    .synchronize = cpu_synchronize,
    .fill = gc_cpu_fill,
    .copy = gc_cpu_copy,
    .add = gc_cpu_add,
    .scale = gc_cpu_scale,
    .sum = gc_cpu_sum,
    .gemm = gc_cpu_gemm,
    .dense_forward = gc_cpu_dense_forward,
    .dense_backward = gc_cpu_dense_backward,
    .conv2d_forward = gc_cpu_conv2d_forward,
    .conv2d_backward = gc_cpu_conv2d_backward,
    .conv_transpose2d_forward = gc_cpu_conv_transpose2d_forward,
    .conv_transpose2d_backward = gc_cpu_conv_transpose2d_backward,
    .act_forward = gc_cpu_act_forward,
    .act_backward = gc_cpu_act_backward,
    .batchnorm_forward_train = gc_cpu_batchnorm_forward_train,
    .batchnorm_forward_eval = gc_cpu_batchnorm_forward_eval,
    .batchnorm_backward = gc_cpu_batchnorm_backward,
    .max_pool2d_forward = gc_cpu_max_pool2d_forward,
    .max_pool2d_backward = gc_cpu_max_pool2d_backward,
    .avg_pool2d_forward = gc_cpu_avg_pool2d_forward,
    .avg_pool2d_backward = gc_cpu_avg_pool2d_backward,
    .global_avg_pool_forward = gc_cpu_global_avg_pool_forward,
    .global_avg_pool_backward = gc_cpu_global_avg_pool_backward,
    .channel_copy = gc_cpu_channel_copy,
    .conv2d_nhwc_forward = gc_cpu_conv2d_nhwc_forward,
    .pool2d_nhwc_forward = gc_cpu_pool2d_nhwc_forward,
    .nhwc_layout = gc_cpu_nhwc_layout,
    .resize_bilinear_forward = gc_cpu_resize_bilinear_forward,
    .bce_logits_forward = gc_cpu_bce_logits_forward,
    .bce_logits_backward = gc_cpu_bce_logits_backward,
    .softmax_ce_forward = gc_cpu_softmax_ce_forward,
    .softmax_ce_backward = gc_cpu_softmax_ce_backward,
    .class_embed_forward = gc_cpu_class_embed_forward,
    .class_embed_backward = gc_cpu_class_embed_backward,
    .class_project_forward = gc_cpu_class_project_forward,
    .class_project_backward = gc_cpu_class_project_backward,
    .hinge_forward = gc_cpu_hinge_forward,
    .hinge_backward = gc_cpu_hinge_backward,
    .mbstd_forward = gc_cpu_mbstd_forward,
    .mbstd_backward = gc_cpu_mbstd_backward,
    .spectral_norm_forward = gc_cpu_spectral_norm_forward,
    .spectral_norm_backward = gc_cpu_spectral_norm_backward,
    .ema_update = gc_cpu_ema_update,
    .diffaug_forward = gc_cpu_diffaug_forward,
    .diffaug_backward = gc_cpu_diffaug_backward,
    .adam_update = gc_cpu_adam_update,
    .rng_fill = gc_cpu_rng_fill,
    .nonfinite_flag = gc_cpu_nonfinite_flag,
};

gc_status gc_cpu_backend_init(gc_backend **out)
{
    gc_backend *be = calloc(1, sizeof *be);
    if (!be) return gc_error(GC_ERR_NOMEM, "cpu: out of host memory");
    be->i = &cpu_interface;
    be->device.index = -1;
    be->device.type = GC_DEVICE_CPU_REFERENCE;
    snprintf(be->device.platform, sizeof be->device.platform, "gancl");
    snprintf(be->device.name, sizeof be->device.name, "CPU reference backend (plain C)");
    snprintf(be->device.vendor, sizeof be->device.vendor, "gancl");
    snprintf(be->device.driver_version, sizeof be->device.driver_version, "-");
    snprintf(be->device.opencl_c_version, sizeof be->device.opencl_c_version, "-");
    be->device.compute_units = 1;
    snprintf(be->name, sizeof be->name, "cpu");
    *out = be;
    return GC_OK;
}

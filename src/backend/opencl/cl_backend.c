/* src/backend/opencl/cl_backend.c - the OpenCL backend: context, queue,
 * buffers, the op table, and the launch helpers every launcher uses. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "backend/opencl/cl_profile.h"
#include "backend/opencl/cl_tune.h"
#include "util/error.h"
#include "util/log.h"

/* ---- buffers ---------------------------------------------------------------- */

static gc_status cl_buffer_alloc(gc_backend *be, size_t nbytes, gc_buffer **out)
{
    gc_buffer *b = calloc(1, sizeof *b);
    if (!b) return gc_error(GC_ERR_NOMEM, "out of host memory");
    cl_int err;
    cl_mem m = gc_cl_create_buffer(be, nbytes, &err);
    if (err != CL_SUCCESS) {
        free(b);
        return gc_cl_alloc_fail(be, err, "clCreateBuffer", nbytes, "try a smaller --batch");
    }
    b->nbytes = nbytes;
    b->handle = m;
    *out = b;
    return GC_OK;
}

static void cl_buffer_free(gc_backend *be, gc_buffer *buf)
{
    (void)be;
    clReleaseMemObject((cl_mem)buf->handle);
    free(buf);
}

/* Uploads up to this size go through the staging slots without waiting;
 * larger ones (checkpoints, weights: never inside a training step) block. */
#define STAGING_MAX_BYTES ((size_t)64 << 20)

/* A blocking write waits for everything queued before it (the queue is in
 * order), so a training step that uploads its batch would wait for the
 * previous step to finish and the device would idle while the host
 * enqueues the next one.  Small writes therefore copy src into the next
 * of a ring of host buffers and enqueue a non-blocking write from there;
 * the host waits only when it is a whole ring of writes ahead (the slot's
 * previous write still pending).  An error of the write itself surfaces
 * at the next read or sync, as a kernel's would. */
static gc_status write_staged(gc_backend *be, cl_mem m, size_t off, const void *src, size_t nbytes)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    gc_cl_staging *slot = &cl->staging[cl->staging_next];
    cl->staging_next = (cl->staging_next + 1) % GC_CL_STAGING_SLOTS;
    if (slot->done) {
        cl_int err = clWaitForEvents(1, &slot->done);
        clReleaseEvent(slot->done);
        slot->done = NULL;
        if (err != CL_SUCCESS) return gc_cl_fail(err, "clWaitForEvents(upload)");
    }
    if (slot->cap < nbytes) {
        void *grown = realloc(slot->host, nbytes);
        if (!grown) return gc_error(GC_ERR_NOMEM, "out of host memory for an upload");
        slot->host = grown;
        slot->cap = nbytes;
    }
    memcpy(slot->host, src, nbytes);
    cl_int err =
        clEnqueueWriteBuffer(cl->queue, m, CL_FALSE, off, nbytes, slot->host, 0, NULL, &slot->done);
    if (err != CL_SUCCESS) {
        slot->done = NULL;
        return gc_cl_fail(err, "clEnqueueWriteBuffer");
    }
    return GC_OK;
}

static void staging_free(gc_cl_ctx *cl)
{
    for (int i = 0; i < GC_CL_STAGING_SLOTS; i++) {
        if (cl->staging[i].done) {
            clWaitForEvents(1, &cl->staging[i].done);
            clReleaseEvent(cl->staging[i].done);
        }
        free(cl->staging[i].host);
    }
}

static gc_status cl_buffer_write(gc_backend *be, gc_buffer *buf, size_t off, const void *src,
                                 size_t nbytes)
{
    GC_ASSERT(off + nbytes <= buf->nbytes);
    if (gc_fault_hit(GC_FAULT_WRITE))
        return gc_cl_fail(CL_OUT_OF_RESOURCES, "clEnqueueWriteBuffer");
    if (nbytes <= STAGING_MAX_BYTES) return write_staged(be, (cl_mem)buf->handle, off, src, nbytes);
    cl_int err = clEnqueueWriteBuffer(gc_cl_ctx_of(be)->queue, (cl_mem)buf->handle, CL_TRUE, off,
                                      nbytes, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? GC_OK : gc_cl_fail(err, "clEnqueueWriteBuffer");
}

static gc_status cl_buffer_read(gc_backend *be, gc_buffer *buf, size_t off, void *dst,
                                size_t nbytes)
{
    GC_ASSERT(off + nbytes <= buf->nbytes);
    cl_int err = gc_fault_hit(GC_FAULT_READ)
                     ? CL_OUT_OF_RESOURCES
                     : clEnqueueReadBuffer(gc_cl_ctx_of(be)->queue, (cl_mem)buf->handle, CL_TRUE,
                                           off, nbytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? GC_OK : gc_cl_fail(err, "clEnqueueReadBuffer");
}

static gc_status cl_synchronize(gc_backend *be)
{
    cl_int err = clFinish(gc_cl_ctx_of(be)->queue);
    return err == CL_SUCCESS ? GC_OK : gc_cl_fail(err, "clFinish");
}

/* ---- workspace ----------------------------------------------------------------- */

size_t gc_cl_workspace_limit(const gc_backend *be)
{
    size_t limit = (size_t)512 << 20;
    const char *env = getenv("GANCL_WORKSPACE_LIMIT"); /* bytes; for tests of chunking */
    if (env && *env) {
        char *end;
        unsigned long long v = strtoull(env, &end, 10);
        if (!*end && v >= 4096) limit = (size_t)v;
    }
    if (be->device.max_alloc_bytes && be->device.max_alloc_bytes < limit)
        limit = (size_t)be->device.max_alloc_bytes;
    return limit;
}

gc_status gc_cl_workspace(gc_backend *be, size_t nbytes, cl_mem *out)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    if (nbytes > cl->workspace_bytes) {
        if (cl->workspace) {
            /* In-order queue: ops already enqueued keep their reference. */
            clReleaseMemObject(cl->workspace);
            cl->workspace = NULL;
            cl->workspace_bytes = 0;
        }
        cl_int err;
        cl->workspace = gc_cl_create_buffer(be, nbytes, &err);
        if (err != CL_SUCCESS) {
            cl->workspace = NULL;
            return gc_cl_alloc_fail(be, err, "clCreateBuffer(workspace)", nbytes,
                                    "try a smaller --batch, or GANCL_WORKSPACE_LIMIT=BYTES "
                                    "below this size to process the batch in chunks");
        }
        cl->workspace_bytes = nbytes;
        GC_DEBUG("%s: workspace grown to %.1f MiB", be->name, nbytes / 1048576.0);
    }
    *out = cl->workspace;
    return GC_OK;
}

/* ---- launches -------------------------------------------------------------------- */

gc_status gc_cl_check_int(int64_t v, const char *what)
{
    if (v < 0 || v > INT_MAX)
        return gc_error(GC_ERR_ARG, "%s (%lld) exceeds what gancl's kernels index (2^31 - 1)", what,
                        (long long)v);
    return GC_OK;
}

static gc_cl_kernel_entry *find_kernel(gc_cl_ctx *cl, const char *name)
{
    for (int i = 0; i < cl->kernel_count; i++)
        if (!strcmp(cl->kernels[i].name, name)) return &cl->kernels[i];
    return NULL;
}

gc_cl_call gc_cl_begin(gc_backend *be, const char *kernel_name)
{
    gc_cl_call c = {.be = be, .name = kernel_name};
    gc_cl_kernel_entry *e = find_kernel(gc_cl_ctx_of(be), kernel_name);
    GC_ASSERT_MSG(e, kernel_name); /* every launcher names a kernel of cl/ */
    c.kernel = e->kernel;
    c.max_wg = e->max_wg;
    return c;
}

static void set_arg(gc_cl_call *c, size_t size, const void *value)
{
    cl_int err = clSetKernelArg(c->kernel, c->next++, size, value);
    if (err != CL_SUCCESS && c->err == CL_SUCCESS) c->err = err;
}

void gc_cl_arg_mem(gc_cl_call *c, cl_mem m, int off)
{
    set_arg(c, sizeof m, &m);
    set_arg(c, sizeof off, &off);
}

void gc_cl_arg_tensor(gc_cl_call *c, const gc_tensor *t)
{
    if (!t) {
        gc_cl_arg_mem(c, gc_cl_ctx_of(c->be)->dummy, 0);
        return;
    }
    GC_ASSERT(t->off <= INT_MAX);
    gc_cl_arg_mem(c, gc_cl_mem(t), (int)t->off);
}

void gc_cl_arg_int(gc_cl_call *c, int v)
{
    set_arg(c, sizeof(cl_int), &v);
}
void gc_cl_arg_float(gc_cl_call *c, float v)
{
    set_arg(c, sizeof(cl_float), &v);
}
void gc_cl_arg_ulong(gc_cl_call *c, cl_ulong v)
{
    set_arg(c, sizeof v, &v);
}
void gc_cl_arg_local(gc_cl_call *c, size_t nbytes)
{
    set_arg(c, nbytes, NULL);
}

size_t gc_cl_wg_size(gc_cl_call *c, size_t want)
{
    size_t limit = gc_cl_ctx_of(c->be)->max_wg;
    if (c->max_wg < limit) limit = c->max_wg;
    if (want < limit) limit = want;
    size_t p = 1;
    while (p * 2 <= limit)
        p *= 2;
    return p;
}

gc_status gc_cl_run(gc_cl_call *c, cl_uint dims, const size_t *global, const size_t *local)
{
    if (c->err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clSetKernelArg(%s, %u)", c->name, c->next);
        return gc_cl_fail(c->err, what);
    }
    for (cl_uint i = 0; i < dims; i++)
        if (global[i] == 0) return GC_OK;      /* nothing to do */
    cl_event *ev = gc_cl_profile_event(c->be); /* NULL unless profiling */
    cl_int err = gc_fault_hit(GC_FAULT_ENQUEUE)
                     ? CL_OUT_OF_RESOURCES
                     : clEnqueueNDRangeKernel(gc_cl_ctx_of(c->be)->queue, c->kernel, dims, NULL,
                                              global, local, 0, NULL, ev);
    if (ev && err == CL_SUCCESS) gc_cl_profile_record(c->be, c->name, *ev);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "clEnqueueNDRangeKernel(%s)", c->name);
        return gc_cl_fail(err, what);
    }
    return GC_OK;
}

gc_status gc_cl_run_1d(gc_cl_call *c, size_t n)
{
    size_t wg = gc_cl_wg_size(c, gc_cl_ctx_of(c->be)->default_wg);
    size_t global = (n + wg - 1) / wg * wg;
    return gc_cl_run(c, 1, &global, &wg);
}

/* ---- the backend ----------------------------------------------------------------- */

static void cl_free(gc_backend *be)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    if (cl) {
        if (cl->queue) clFinish(cl->queue);
        staging_free(cl);
        gc_cl_profile_forget(be);
        gc_cl_gemm_free(be);
        free(cl->forms);
        for (int i = 0; i < cl->kernel_count; i++)
            clReleaseKernel(cl->kernels[i].kernel);
        free(cl->kernels);
        if (cl->workspace) clReleaseMemObject(cl->workspace);
        if (cl->dummy) clReleaseMemObject(cl->dummy);
        if (cl->program) clReleaseProgram(cl->program);
        if (cl->queue) clReleaseCommandQueue(cl->queue);
        if (cl->context) clReleaseContext(cl->context);
        free(cl);
    }
    free(be);
}

static const struct gc_backend_i cl_interface = {
    .free = cl_free,
    .buffer_alloc = cl_buffer_alloc,
    .buffer_free = cl_buffer_free,
    .buffer_write = cl_buffer_write,
    .buffer_read = cl_buffer_read,
    .synchronize = cl_synchronize,
    .fill = gc_cl_fill,
    .copy = gc_cl_copy,
    .add = gc_cl_add,
    .scale = gc_cl_scale,
    .sum = gc_cl_sum,
    .gemm = gc_cl_gemm,
    .dense_forward = gc_cl_dense_forward,
    .dense_backward = gc_cl_dense_backward,
    .conv2d_forward = gc_cl_conv2d_forward,
    .conv2d_backward = gc_cl_conv2d_backward,
    .conv_transpose2d_forward = gc_cl_conv_transpose2d_forward,
    .conv_transpose2d_backward = gc_cl_conv_transpose2d_backward,
    .act_forward = gc_cl_act_forward,
    .act_backward = gc_cl_act_backward,
    .batchnorm_forward_train = gc_cl_batchnorm_forward_train,
    .batchnorm_forward_eval = gc_cl_batchnorm_forward_eval,
    .batchnorm_backward = gc_cl_batchnorm_backward,
    .max_pool2d_forward = gc_cl_max_pool2d_forward,
    .max_pool2d_backward = gc_cl_max_pool2d_backward,
    .avg_pool2d_forward = gc_cl_avg_pool2d_forward,
    .avg_pool2d_backward = gc_cl_avg_pool2d_backward,
    .global_avg_pool_forward = gc_cl_global_avg_pool_forward,
    .global_avg_pool_backward = gc_cl_global_avg_pool_backward,
    .channel_copy = gc_cl_channel_copy,
    .conv2d_nhwc_forward = gc_cl_conv2d_nhwc_forward,
    .pool2d_nhwc_forward = gc_cl_pool2d_nhwc_forward,
    .nhwc_layout = gc_cl_nhwc_layout,
    .resize_bilinear_forward = gc_cl_resize_bilinear_forward,
    .bce_logits_forward = gc_cl_bce_logits_forward,
    .bce_logits_backward = gc_cl_bce_logits_backward,
    .softmax_ce_forward = gc_cl_softmax_ce_forward,
    .softmax_ce_backward = gc_cl_softmax_ce_backward,
    .class_embed_forward = gc_cl_class_embed_forward,
    .class_embed_backward = gc_cl_class_embed_backward,
    .class_project_forward = gc_cl_class_project_forward,
    .class_project_backward = gc_cl_class_project_backward,
    .hinge_forward = gc_cl_hinge_forward,
    .hinge_backward = gc_cl_hinge_backward,
    .mbstd_forward = gc_cl_mbstd_forward,
    .mbstd_backward = gc_cl_mbstd_backward,
    .spectral_norm_forward = gc_cl_spectral_norm_forward,
    .spectral_norm_backward = gc_cl_spectral_norm_backward,
    .ema_update = gc_cl_ema_update,
    .diffaug_forward = gc_cl_diffaug_forward,
    .diffaug_backward = gc_cl_diffaug_backward,
    .adam_update = gc_cl_adam_update,
    .rng_fill = gc_cl_rng_fill,
    .nonfinite_flag = gc_cl_nonfinite_flag,
};

static gc_status init_ctx(gc_backend *be, int index)
{
    gc_cl_ctx *cl = gc_cl_ctx_of(be);
    GC_TRY(gc_cl_find_device(index, &cl->platform, &cl->device));
    gc_cl_fill_device_info(cl->platform, cl->device, index, &be->device);
    snprintf(be->name, sizeof be->name, "opencl:%d (%s)", index, be->device.name);
    cl->max_wg = be->device.max_work_group_size ? be->device.max_work_group_size : 1;
    cl->default_wg = cl->max_wg < 256 ? cl->max_wg : 256; /* a cap, not an assumption */

    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)cl->platform, 0};
    cl->context = clCreateContext(props, 1, &cl->device, NULL, NULL, &err);
    if (err != CL_SUCCESS) return gc_cl_fail(err, "clCreateContext");
    cl->queue = clCreateCommandQueue(cl->context, cl->device, 0, &err);
    if (err != CL_SUCCESS) return gc_cl_fail(err, "clCreateCommandQueue");
    cl->dummy = gc_cl_create_buffer(be, sizeof(float), &err);
    if (err != CL_SUCCESS) return gc_cl_fail(err, "clCreateBuffer");

    char key[512];
    char device_version[64] = "";
    clGetDeviceInfo(cl->device, CL_DEVICE_VERSION, sizeof device_version, device_version, NULL);
    device_version[sizeof device_version - 1] = '\0';
    snprintf(key, sizeof key, "%s|%s|%s|%s|%s", be->device.platform, be->device.vendor,
             be->device.name, be->device.driver_version, device_version);
    GC_TRY(gc_cl_build_program(cl, key));
    GC_TRY(gc_cl_forms_init(be));
    gc_cl_gemm_init(be);
    /* A family other than the device's own is part of every report. */
    if (cl->forms->family != gc_cl_forms_device_family(be))
        snprintf(be->name, sizeof be->name, "opencl:%d (%s, %s kernels)", index, be->device.name,
                 gc_cl_family_name(cl->forms->family));
    return GC_OK;
}

gc_status gc_opencl_backend_init(int global_index, gc_backend **out)
{
    *out = NULL;
    gc_backend *be = calloc(1, sizeof *be);
    gc_cl_ctx *cl = calloc(1, sizeof *cl);
    if (!be || !cl) {
        free(be);
        free(cl);
        return gc_error(GC_ERR_NOMEM, "out of host memory");
    }
    be->i = &cl_interface;
    be->ctx = cl;
    gc_status s = init_ctx(be, global_index);
    if (s != GC_OK) {
        gc_error_prefix(s, "OpenCL device %d", global_index);
        cl_free(be);
        return s;
    }
    GC_DEBUG("%s: ready (kernels %s)", be->name, cl->cache_hit ? "from cache" : "built");
    *out = be;
    return GC_OK;
}

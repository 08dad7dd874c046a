/* src/backend/opencl/cl_internal.h - the OpenCL backend's private state and
 * the small helpers every launcher uses.
 *
 * A launcher reads like this:
 *
 *     gc_cl_call c = gc_cl_begin(y->be, "relu_forward");
 *     gc_cl_arg_tensor(&c, y);          // two kernel args: buffer, int offset
 *     gc_cl_arg_tensor(&c, x);
 *     gc_cl_arg_int(&c, (int)n);
 *     return gc_cl_run_1d(&c, (size_t)n);
 *
 * and its kernel starts `__global float *y, int y_off, __global const float
 * *x, int x_off, int n` and bounds-checks get_global_id(0) < n (the global
 * size is rounded up to a multiple of the work-group size).  Errors from any
 * helper are remembered in the call and reported once by gc_cl_run_*, with
 * the kernel's name and the OpenCL error's name.
 */
#ifndef GANCL_CL_INTERNAL_H
#define GANCL_CL_INTERNAL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "backend/backend.h"
#include "util/fault.h"

typedef struct gc_cl_kernel_entry {
    char name[64];
    cl_kernel kernel;
    size_t max_wg; /* CL_KERNEL_WORK_GROUP_SIZE */
} gc_cl_kernel_entry;

/* Host copies of small uploads in flight (cl_backend.c): a write returns
 * once its data is copied here, without waiting for the queue. */
#define GC_CL_STAGING_SLOTS 8
typedef struct gc_cl_staging {
    void *host;
    size_t cap;
    cl_event done; /* the write reading `host`, or NULL */
} gc_cl_staging;

typedef struct gc_cl_ctx {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    gc_cl_kernel_entry *kernels;
    int kernel_count;
    size_t max_wg;     /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t default_wg; /* work-group size for 1-D launches (<= max_wg) */
    cl_mem dummy;      /* a 1-float buffer passed where a tensor is NULL */
    cl_mem workspace;  /* scratch for im2col and friends, grown on demand */
    size_t workspace_bytes;
    int cache_hit;                 /* 1 when the program came from the binary cache */
    struct gc_cl_gemm_state *gemm; /* cl_gemm.c: the GEMM's scratch and CLBlast state */
    struct gc_cl_forms *forms;     /* cl_forms.c: the device profile (kernel forms, GEMM) */
    gc_cl_staging staging[GC_CL_STAGING_SLOTS];
    int staging_next;
} gc_cl_ctx;

static inline gc_cl_ctx *gc_cl_ctx_of(const gc_backend *be)
{
    return (gc_cl_ctx *)be->ctx;
}

static inline cl_mem gc_cl_mem(const gc_tensor *t)
{
    return (cl_mem)t->buf->handle;
}

/* cl_device.c: the platform and device of a global index; device facts. */
gc_status gc_cl_find_device(int index, cl_platform_id *platform, cl_device_id *device);
void gc_cl_fill_device_info(cl_platform_id p, cl_device_id d, int index, gc_device_info *info);

/* cl_program.c: builds (or loads from the binary cache) the program of
 * every kernel file (cl/NAME.cl) and creates its kernels.  device_key identifies the
 * platform, device and driver for the cache. */
gc_status gc_cl_build_program(gc_cl_ctx *cl, const char *device_key);

/* What the kernel cache did in this process, for tests and debugging. */
typedef struct gc_cl_cache_stats {
    int hits, builds, stores, corrupt;
} gc_cl_cache_stats;
const gc_cl_cache_stats *gc_cl_cache_get_stats(void);

/* "CL_OUT_OF_RESOURCES" for -5, and so on. */
const char *gc_cl_error_name(cl_int err);

/* Sets the last error to "<what>: <CL error name>" and returns
 * GC_ERR_DEVICE (GC_ERR_NOMEM for allocation failures). */
gc_status gc_cl_fail(cl_int err, const char *what);

/* cl_memory.c: clCreateBuffer for every device allocation of the backend.
 * Refuses a request above the device's largest allocation
 * (CL_INVALID_BUFFER_SIZE) and counts as an alloc event of GANCL_FAULT
 * (util/fault.h). */
cl_mem gc_cl_create_buffer(gc_backend *be, size_t nbytes, cl_int *err);
/* The message for a failed allocation of nbytes: what was asked, the
 * device's memory and largest allocation, and remedy ("try a smaller
 * --batch").  GC_ERR_NOMEM, or GC_ERR_DEVICE for errors that are not about
 * memory. */
gc_status gc_cl_alloc_fail(gc_backend *be, cl_int err, const char *what, size_t nbytes,
                           const char *remedy);
/* An injected (GANCL_FAULT) failure of an allocation made outside
 * gc_cl_create_buffer: gc_cl_alloc_fail with
 * CL_MEM_OBJECT_ALLOCATION_FAILURE. */
gc_status gc_cl_fault_alloc(gc_backend *be, const char *what, size_t nbytes);

/* ---- kernel launches ---------------------------------------------------- */

typedef struct gc_cl_call {
    gc_backend *be;
    cl_kernel kernel;
    const char *name;
    size_t max_wg; /* the kernel's CL_KERNEL_WORK_GROUP_SIZE */
    cl_uint next;  /* index of the next argument */
    cl_int err;    /* first error while setting arguments */
} gc_cl_call;

gc_cl_call gc_cl_begin(gc_backend *be, const char *kernel_name);
/* A tensor as two arguments: its buffer and its float offset (int).  A NULL
 * tensor passes a dummy buffer and offset 0. */
void gc_cl_arg_tensor(gc_cl_call *c, const gc_tensor *t);
/* A raw buffer and offset, for workspaces. */
void gc_cl_arg_mem(gc_cl_call *c, cl_mem m, int off);
void gc_cl_arg_int(gc_cl_call *c, int v);
void gc_cl_arg_float(gc_cl_call *c, float v);
void gc_cl_arg_ulong(gc_cl_call *c, cl_ulong v);
/* Work-group local memory of the given size in bytes. */
void gc_cl_arg_local(gc_cl_call *c, size_t nbytes);

/* 1-D launch over n work-items, rounded up to the work-group size. */
gc_status gc_cl_run_1d(gc_cl_call *c, size_t n);
/* Explicit launch; local may be NULL.  global[i] must be a multiple of
 * local[i] when local is given. */
gc_status gc_cl_run(gc_cl_call *c, cl_uint dims, const size_t *global, const size_t *local);

/* The largest power of two <= the device's and the kernel's work-group
 * limits and <= want; for reductions that need a fixed local size. */
size_t gc_cl_wg_size(gc_cl_call *c, size_t want);

/* A scratch buffer of at least nbytes, shared by all ops of the backend
 * (ops run in queue order, so one at a time uses it).  Grows on demand and
 * never shrinks; models reserve their largest need up front so the training
 * step does not allocate. */
gc_status gc_cl_workspace(gc_backend *be, size_t nbytes, cl_mem *out);

/* Largest single workspace the backend will allocate: the device's max
 * allocation, capped at 512 MiB.  Ops that would need more process the
 * batch in chunks. */
size_t gc_cl_workspace_limit(const gc_backend *be);

/* GEMM on raw buffers (offsets in floats), for launchers that multiply
 * workspaces; gc_cl_gemm is this on tensors.  The one place CLBlast (or a
 * tuned kernel of gancl's own) is called. */
/* Applies the profile's CLBlast parameters and makes the GEMM's state;
 * called once the profile exists (gc_cl_forms_init). */
void gc_cl_gemm_init(gc_backend *be);
gc_status gc_cl_gemm_mem(gc_backend *be, const gc_gemm_args *g, cl_mem a, size_t a_off, cl_mem b,
                         size_t b_off, cl_mem c, size_t c_off);

/* Fits an int kernel argument; sizes beyond 2^31 - 1 elements are refused
 * with a clear message rather than silently wrapped. */
gc_status gc_cl_check_int(int64_t v, const char *what);

/* ---- convolution geometry (cl_conv.c) ----------------------------------- */

/* One convolution's sizes, for every form (im2row + GEMM, direct, tiled).
 * "image" is the side the kernel slides over and "output" the side it
 * writes: for a convolution x and y; for a transposed one y and x. */
typedef struct gc_cl_conv_geom {
    int64_t n;          /* batch */
    int64_t ic, ih, iw; /* image side */
    int64_t oc, oh, ow; /* output side */
    int kh, kw, sh, sw, ph, pw;
} gc_cl_conv_geom;

/* K of the convolution's GEMM: the taps of one output pixel, IC*KH*KW. */
static inline int64_t gc_cl_conv_k(const gc_cl_conv_geom *g)
{
    return g->ic * g->kh * g->kw;
}

/* NCHW image and output, w (OC, IC, KH, KW) or, transposed, (IC, OC, KH, KW):
 * only its taps are read. */
gc_cl_conv_geom gc_cl_conv_geom_nchw(const gc_tensor *image, const gc_tensor *output,
                                     const gc_tensor *w, const gc_conv_params *p);
/* Channels-last: x (N, H, W, C), y (N, OH, OW, CY), w (KH, KW, C, OC). */
gc_cl_conv_geom gc_cl_conv_geom_nhwc(const gc_tensor *x, const gc_tensor *y, const gc_tensor *w,
                                     const gc_conv_params *p);
/* Refuses image, output or weight sizes beyond a kernel's int index. */
gc_status gc_cl_conv_check(const gc_tensor *image, const gc_tensor *output, const gc_tensor *w);

#endif

/* src/backend/opencl/cl_class.c - class conditioning: class_embed and
 * class_project, forward and backward (cl/class.cl). */
#include "backend/opencl/cl_internal.h"
#include "backend/opencl/cl_ops.h"
#include "util/error.h"

/* The element counts the kernels index with int. */
static gc_status check_sizes(int64_t n, int64_t k, int64_t f, const char *op)
{
    GC_TRY(gc_cl_check_int(n * f, op));
    return gc_cl_check_int(k * f, op);
}

/* de[c] += sum over rows labelled c of rows[i] (times w[i] when w). */
static gc_status scatter(gc_t de, gc_t rows, gc_t w, gc_t labels, int64_t n, int64_t k, int64_t f)
{
    gc_cl_call c = gc_cl_begin(de->be, "class_scatter");
    gc_cl_arg_tensor(&c, de);
    gc_cl_arg_tensor(&c, rows);
    gc_cl_arg_tensor(&c, w); /* NULL passes a dummy buffer */
    gc_cl_arg_int(&c, w != NULL);
    gc_cl_arg_tensor(&c, labels);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_int(&c, (int)k);
    gc_cl_arg_int(&c, (int)f);
    return gc_cl_run_1d(&c, (size_t)(k * f));
}

gc_status gc_cl_class_embed_forward(gc_t y, gc_t e, gc_t labels)
{
    int64_t n = y->shape[0], k = e->shape[0], f = e->shape[1];
    GC_TRY(check_sizes(n, k, f, "class_embed"));
    gc_cl_call c = gc_cl_begin(y->be, "class_embed_forward");
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, e);
    gc_cl_arg_tensor(&c, labels);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_int(&c, (int)k);
    gc_cl_arg_int(&c, (int)f);
    return gc_cl_run_1d(&c, (size_t)(n * f));
}

gc_status gc_cl_class_embed_backward(gc_t de, gc_t dy, gc_t labels)
{
    int64_t n = dy->shape[0], k = de->shape[0], f = de->shape[1];
    GC_TRY(check_sizes(n, k, f, "class_embed backward"));
    return scatter(de, dy, NULL, labels, n, k, f);
}

gc_status gc_cl_class_project_forward(gc_t y, gc_t x, gc_t e, gc_t labels)
{
    int64_t n = x->shape[0], k = e->shape[0], f = e->shape[1];
    GC_TRY(check_sizes(n, k, f, "class_project"));
    gc_cl_call c = gc_cl_begin(y->be, "class_project_forward");
    size_t want = 1;
    while (want < 256 && (int64_t)want < f)
        want *= 2;
    size_t wg = gc_cl_wg_size(&c, want), global = (size_t)n * wg;
    gc_cl_arg_tensor(&c, y);
    gc_cl_arg_tensor(&c, x);
    gc_cl_arg_tensor(&c, e);
    gc_cl_arg_tensor(&c, labels);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_int(&c, (int)k);
    gc_cl_arg_int(&c, (int)f);
    gc_cl_arg_local(&c, 2 * wg * sizeof(float));
    return gc_cl_run(&c, 1, &global, &wg);
}

gc_status gc_cl_class_project_backward(gc_t dx, gc_t de, gc_t dy, gc_t x, gc_t e, gc_t labels)
{
    int64_t n = x->shape[0], k = e->shape[0], f = e->shape[1];
    GC_TRY(check_sizes(n, k, f, "class_project backward"));
    /* de first: the queue runs in order, and it reads x, which dx may share
     * a buffer with. */
    GC_TRY(scatter(de, x, dy, labels, n, k, f));
    if (!dx) return GC_OK;
    gc_cl_call c = gc_cl_begin(x->be, "class_project_dx");
    gc_cl_arg_tensor(&c, dx);
    gc_cl_arg_tensor(&c, dy);
    gc_cl_arg_tensor(&c, e);
    gc_cl_arg_tensor(&c, labels);
    gc_cl_arg_int(&c, (int)n);
    gc_cl_arg_int(&c, (int)k);
    gc_cl_arg_int(&c, (int)f);
    return gc_cl_run_1d(&c, (size_t)(n * f));
}

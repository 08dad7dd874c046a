/* src/tensor/tensor.c - tensor views, buffers and host copies. */
#include "gancl/tensor.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "util/error.h"

gc_status gc_buffer_alloc(gc_backend *be, size_t nbytes, gc_buffer **out)
{
    GC_ASSERT(be && out);
    *out = NULL;
    if (nbytes == 0) nbytes = sizeof(float); /* a valid, if empty, buffer */
    uint64_t limit = be->device.max_alloc_bytes;
    if (limit && nbytes > limit)
        return gc_error(GC_ERR_NOMEM,
                        "%s: cannot allocate %.1f MiB: the device's largest allocation is "
                        "%.1f MiB (global memory %.1f MiB); use a smaller --batch",
                        be->name, nbytes / 1048576.0, limit / 1048576.0,
                        be->device.global_mem_bytes / 1048576.0);
    return be->i->buffer_alloc(be, nbytes, out);
}

void gc_buffer_free(gc_backend *be, gc_buffer *buf)
{
    if (buf) be->i->buffer_free(be, buf);
}

size_t gc_buffer_size(const gc_buffer *buf)
{
    return buf ? buf->nbytes : 0;
}

gc_tensor gc_tensor_view(gc_backend *be, gc_buffer *buf, size_t off, int ndim, const int64_t *dims)
{
    GC_ASSERT(ndim >= 1 && ndim <= GC_MAX_DIMS);
    gc_tensor t = {.be = be, .buf = buf, .off = off, .ndim = ndim};
    for (int i = 0; i < GC_MAX_DIMS; i++) {
        t.shape[i] = i < ndim ? dims[i] : 1;
        GC_ASSERT(t.shape[i] >= 1);
    }
    if (buf)
        GC_ASSERT_MSG((off + (size_t)gc_tensor_numel(&t)) * sizeof(float) <= buf->nbytes,
                      "tensor view extends past the end of its buffer");
    return t;
}

gc_tensor gc_tensor_1d(gc_backend *be, gc_buffer *buf, size_t off, int64_t n)
{
    return gc_tensor_view(be, buf, off, 1, (int64_t[]){n});
}

gc_tensor gc_tensor_2d(gc_backend *be, gc_buffer *buf, size_t off, int64_t r, int64_t c)
{
    return gc_tensor_view(be, buf, off, 2, (int64_t[]){r, c});
}

gc_tensor gc_tensor_4d(gc_backend *be, gc_buffer *buf, size_t off, int64_t n, int64_t c, int64_t h,
                       int64_t w)
{
    return gc_tensor_view(be, buf, off, 4, (int64_t[]){n, c, h, w});
}

gc_tensor gc_tensor_reshape(gc_tensor t, int ndim, const int64_t *dims)
{
    gc_tensor r = gc_tensor_view(t.be, t.buf, t.off, ndim, dims);
    GC_ASSERT_MSG(gc_tensor_numel(&r) == gc_tensor_numel(&t), "reshape changes numel");
    return r;
}

int64_t gc_tensor_numel(const gc_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < GC_MAX_DIMS; i++)
        n *= t->shape[i];
    return n;
}

int gc_tensor_same_shape(const gc_tensor *a, const gc_tensor *b)
{
    for (int i = 0; i < GC_MAX_DIMS; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

gc_status gc_tensor_write(const gc_tensor *t, const float *src)
{
    return t->be->i->buffer_write(t->be, t->buf, t->off * sizeof(float), src,
                                  (size_t)gc_tensor_numel(t) * sizeof(float));
}

gc_status gc_tensor_read(const gc_tensor *t, float *dst)
{
    return t->be->i->buffer_read(t->be, t->buf, t->off * sizeof(float), dst,
                                 (size_t)gc_tensor_numel(t) * sizeof(float));
}

gc_status gc_tensor_new(gc_backend *be, int ndim, const int64_t *dims, gc_tensor *out)
{
    gc_tensor shape = gc_tensor_view(be, NULL, 0, ndim, dims);
    gc_buffer *buf;
    GC_TRY(gc_buffer_alloc(be, (size_t)gc_tensor_numel(&shape) * sizeof(float), &buf));
    *out = gc_tensor_view(be, buf, 0, ndim, dims);
    return GC_OK;
}

void gc_tensor_free(gc_tensor *t)
{
    if (t && t->buf) gc_buffer_free(t->be, t->buf);
    if (t) t->buf = NULL;
}

const char *gc_tensor_shape_str(const gc_tensor *t, char *buf, size_t n)
{
    size_t used = 0;
    used += (size_t)snprintf(buf + used, n - used, "[");
    for (int i = 0; i < t->ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%" PRId64, i ? ", " : "", t->shape[i]);
    if (used < n) snprintf(buf + used, n - used, "]");
    return buf;
}

/* gancl/tensor.h - fp32 NCHW tensors living on one backend.
 *
 * A gc_tensor is a small value: a view of `numel` floats starting at float
 * offset `off` of a backend buffer, with up to four dimensions (NCHW; a
 * matrix is {rows, cols}, a vector {n}).  Views are free to make and copy;
 * the buffer behind them is owned by whoever allocated it.  Many tensors
 * usually share one buffer (all parameters of a model, say), so that an
 * optimiser step is one pass over one allocation.
 *
 * Host<->device copies are explicit (gc_tensor_write / gc_tensor_read) and
 * meant to be rare: batch uploads, loss scalars now and then, samples.
 */
#ifndef GANCL_TENSOR_H
#define GANCL_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/backend.h"
#include "gancl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_MAX_DIMS 4

typedef struct gc_buffer gc_buffer; /* opaque backend memory */

typedef struct gc_tensor {
    gc_backend *be;
    gc_buffer *buf;
    size_t off; /* in floats from the start of buf */
    int ndim;
    int64_t shape[GC_MAX_DIMS]; /* shape[i] for i >= ndim is 1 */
} gc_tensor;

/* Backend memory.  Sizes are in bytes.  A request above the device's
 * maximum allocation fails with a message naming size and limit. */
gc_status gc_buffer_alloc(gc_backend *be, size_t nbytes, gc_buffer **out);
void gc_buffer_free(gc_backend *be, gc_buffer *buf);
size_t gc_buffer_size(const gc_buffer *buf);

/* A view of buf at float offset off.  dims has ndim entries. */
gc_tensor gc_tensor_view(gc_backend *be, gc_buffer *buf, size_t off, int ndim, const int64_t *dims);
/* Convenience views with explicit dimensions. */
gc_tensor gc_tensor_1d(gc_backend *be, gc_buffer *buf, size_t off, int64_t n);
gc_tensor gc_tensor_2d(gc_backend *be, gc_buffer *buf, size_t off, int64_t r, int64_t c);
gc_tensor gc_tensor_4d(gc_backend *be, gc_buffer *buf, size_t off, int64_t n, int64_t c, int64_t h,
                       int64_t w);

/* The same elements seen with another shape (numel must match). */
gc_tensor gc_tensor_reshape(gc_tensor t, int ndim, const int64_t *dims);

int64_t gc_tensor_numel(const gc_tensor *t);
/* Batch N and the per-sample size C*H*W of an NCHW tensor. */
#define GC_N(t) ((t)->shape[0])
#define GC_C(t) ((t)->shape[1])
#define GC_H(t) ((t)->shape[2])
#define GC_W(t) ((t)->shape[3])
int gc_tensor_same_shape(const gc_tensor *a, const gc_tensor *b);

/* Host copies of the whole tensor (numel floats).  A write may return
 * before the device has the data (src may be reused at once; the copy
 * takes its place in the queue, so ops queued later see it); a read
 * returns with the data, after everything queued before it. */
gc_status gc_tensor_write(const gc_tensor *t, const float *src);
gc_status gc_tensor_read(const gc_tensor *t, float *dst);

/* An owning tensor: allocates its own buffer.  Free with gc_tensor_free. */
gc_status gc_tensor_new(gc_backend *be, int ndim, const int64_t *dims, gc_tensor *out);
void gc_tensor_free(gc_tensor *t);

/* "[3, 5, 13, 11]" into buf. */
const char *gc_tensor_shape_str(const gc_tensor *t, char *buf, size_t n);

#ifdef __cplusplus
}
#endif
#endif

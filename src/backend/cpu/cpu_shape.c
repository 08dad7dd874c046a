/* src/backend/cpu/cpu_shape.c - CPU reference: channel slices (concat
 * forward and backward), bilinear resize (PyTorch, align_corners=False)
 * and the NCHW <-> NHWC layout change. */
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

gc_status gc_cpu_channel_copy(gc_t y, gc_t x, int64_t c0, int to_y)
{
    int64_t batch = GC_N(x), cx = GC_C(x), cy = GC_C(y), plane = GC_H(x) * GC_W(x);
    float *py = gc_cpu_data(y), *px = gc_cpu_data(x);
    /* Per sample, the slice is one contiguous run of cx planes in both. */
    size_t run = (size_t)(cx * plane) * sizeof(float);
    for (int64_t n = 0; n < batch; n++) {
        float *ys = py + (n * cy + c0) * plane, *xs = px + n * cx * plane;
        if (to_y)
            memcpy(ys, xs, run);
        else
            memcpy(xs, ys, run);
    }
    return GC_OK;
}

/* One output coordinate's two source indices and weights along an axis, in
 * float and in the order of PyTorch's area_pixel_compute_source_index, so
 * that the weights are PyTorch's own. */
typedef struct lerp_idx {
    int64_t i0, i1;
    float l0, l1;
} lerp_idx;

static lerp_idx lerp_at(int64_t dst, int64_t in, int64_t out)
{
    float scale = (float)in / (float)out;
    float src = scale * ((float)dst + 0.5f) - 0.5f;
    if (src < 0.0f) src = 0.0f;
    lerp_idx r;
    r.i0 = (int64_t)src;
    if (r.i0 > in - 1) r.i0 = in - 1;
    r.i1 = r.i0 < in - 1 ? r.i0 + 1 : r.i0;
    r.l1 = src - (float)r.i0;
    r.l0 = 1.0f - r.l1;
    return r;
}

gc_status gc_cpu_resize_bilinear_forward(gc_t y, gc_t x)
{
    int64_t planes = GC_N(x) * GC_C(x), ih = GC_H(x), iw = GC_W(x), oh = GC_H(y), ow = GC_W(y);
    const float *px = gc_cpu_data(x);
    float *py = gc_cpu_data(y);
    lerp_idx *cols = malloc((size_t)ow * sizeof *cols);
    if (!cols) return gc_error(GC_ERR_NOMEM, "cpu: out of host memory in resize");
    for (int64_t j = 0; j < ow; j++)
        cols[j] = lerp_at(j, iw, ow);
    for (int64_t pl = 0; pl < planes; pl++) {
        const float *xp = px + pl * ih * iw;
        float *yp = py + pl * oh * ow;
        for (int64_t i = 0; i < oh; i++) {
            lerp_idx a = lerp_at(i, ih, oh);
            const float *r0 = xp + a.i0 * iw, *r1 = xp + a.i1 * iw;
            for (int64_t j = 0; j < ow; j++) {
                lerp_idx b = cols[j];
                yp[i * ow + j] = a.l0 * (b.l0 * r0[b.i0] + b.l1 * r0[b.i1]) +
                                 a.l1 * (b.l0 * r1[b.i0] + b.l1 * r1[b.i1]);
            }
        }
    }
    free(cols);
    return GC_OK;
}

gc_status gc_cpu_nhwc_layout(gc_t y, gc_t x, int to_nhwc)
{
    /* Seen as NCHW (n, c, hw): element (n, c, p) of the NCHW side is
     * element (n, p, c) of the NHWC side. */
    int64_t n = x->shape[0], c = to_nhwc ? x->shape[1] : x->shape[3];
    int64_t hw = gc_tensor_numel(x) / (n * c);
    const float *px = gc_cpu_data(x);
    float *py = gc_cpu_data(y);
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t q = 0; q < hw; q++) {
                int64_t nchw = (b * c + ch) * hw + q, nhwc = (b * hw + q) * c + ch;
                if (to_nhwc)
                    py[nhwc] = px[nchw];
                else
                    py[nchw] = px[nhwc];
            }
    return GC_OK;
}

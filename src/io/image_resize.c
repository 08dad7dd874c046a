/* src/io/image_resize.c - antialiased bilinear resizing of host images
 * (PyTorch's interpolate(antialias=True) rule, see gancl/image.h) and
 * torchvision's shorter-side resize plus centre crop.
 *
 * The resize is separable: one weight table per axis (a start index and
 * up to `taps` weights per output pixel), rows first into a double buffer
 * of w' x h, then columns.  Weights are worked out in double, so the float
 * result is the exact weighted sum to within double rounding and differs
 * from PyTorch's float32 arithmetic only in float32's last bits.
 */
#include "gancl/image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

/* The weights of one axis: output i reads in[start[i] + k] * wt[i * taps + k]
 * for k < count[i]. */
typedef struct axis_weights {
    int taps;
    int *start, *count;
    double *wt;
} axis_weights;

static void axis_free(axis_weights *a)
{
    free(a->start);
    free(a->count);
    free(a->wt);
    memset(a, 0, sizeof *a);
}

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Output pixels first .. first + count - 1 of an axis of in -> out pixels
 * (a window, so that a crop never computes what it throws away). */
static gc_status axis_init(axis_weights *a, int in, int out, int first, int count)
{
    memset(a, 0, sizeof *a);
    double scale = (double)in / out;
    double support = scale >= 1.0 ? scale : 1.0; /* bilinear: half-width 1, stretched */
    double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
    a->taps = (int)ceil(support) * 2 + 1;
    a->start = malloc(sizeof *a->start * (size_t)count);
    a->count = malloc(sizeof *a->count * (size_t)count);
    a->wt = malloc(sizeof *a->wt * (size_t)count * (size_t)a->taps);
    if (!a->start || !a->count || !a->wt) {
        axis_free(a);
        return gc_error(GC_ERR_NOMEM, "out of memory resizing %d to %d pixels", in, out);
    }
    for (int o = 0; o < count; o++) {
        int i = first + o;
        double centre = scale * (i + 0.5);
        /* Truncation, not floor, as PyTorch's int64 casts: the clamp to 0
         * makes the two agree. */
        long lo = (long)(centre - support + 0.5), hi = (long)(centre + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        int n = (int)(hi - lo);
        GC_ASSERT(n >= 1 && n <= a->taps);
        double *w = a->wt + (size_t)o * (size_t)a->taps, total = 0.0;
        for (int k = 0; k < n; k++) {
            w[k] = triangle((k + lo - centre + 0.5) * invscale);
            total += w[k];
        }
        for (int k = 0; k < n; k++)
            w[k] = total != 0.0 ? w[k] / total : 0.0;
        a->start[o] = (int)lo;
        a->count[o] = n;
    }
    return GC_OK;
}

/* Resizes from u8 or f32 (exactly one non-NULL) to ow x oh and returns the
 * window of cw x ch pixels at (x0, y0) of that as a double buffer. */
static gc_status resize_core(const uint8_t *src8, const float *srcf, int w, int h, int c, int ow,
                             int oh, int x0, int y0, int cw, int ch, double **out)
{
    GC_ASSERT(w >= 1 && h >= 1 && c >= 1 && ow >= 1 && oh >= 1);
    GC_ASSERT(x0 >= 0 && y0 >= 0 && cw >= 1 && ch >= 1 && x0 + cw <= ow && y0 + ch <= oh);
    *out = NULL;
    axis_weights ax, ay;
    GC_TRY(axis_init(&ax, w, ow, x0, cw));
    gc_status s = axis_init(&ay, h, oh, y0, ch);
    if (s != GC_OK) {
        axis_free(&ax);
        return s;
    }
    size_t rowlen = (size_t)cw * (size_t)c;
    double *mid = malloc(sizeof *mid * rowlen * (size_t)h);
    double *dst = malloc(sizeof *dst * rowlen * (size_t)ch);
    if (!mid || !dst) {
        free(mid);
        free(dst);
        axis_free(&ax);
        axis_free(&ay);
        return gc_error(GC_ERR_NOMEM, "out of memory resizing %d x %d to %d x %d", w, h, ow, oh);
    }
    /* Rows: every input row becomes cw pixels. */
    for (int y = 0; y < h; y++) {
        size_t row = (size_t)y * (size_t)w * (size_t)c;
        for (int x = 0; x < cw; x++) {
            const double *wt = ax.wt + (size_t)x * (size_t)ax.taps;
            double *o = mid + (size_t)y * rowlen + (size_t)x * (size_t)c;
            for (int k = 0; k < c; k++)
                o[k] = 0.0;
            for (int t = 0; t < ax.count[x]; t++) {
                size_t at = row + (size_t)(ax.start[x] + t) * (size_t)c;
                for (int k = 0; k < c; k++)
                    o[k] += wt[t] * (src8 ? (double)src8[at + k] : (double)srcf[at + k]);
            }
        }
    }
    /* Columns: every output row is a weighted sum of rows of mid. */
    for (int y = 0; y < ch; y++) {
        const double *wt = ay.wt + (size_t)y * (size_t)ay.taps;
        double *o = dst + (size_t)y * rowlen;
        for (size_t i = 0; i < rowlen; i++)
            o[i] = 0.0;
        for (int t = 0; t < ay.count[y]; t++) {
            const double *r = mid + (size_t)(ay.start[y] + t) * rowlen;
            for (size_t i = 0; i < rowlen; i++)
                o[i] += wt[t] * r[i];
        }
    }
    free(mid);
    axis_free(&ax);
    axis_free(&ay);
    *out = dst;
    return GC_OK;
}

gc_status gc_resize_f32(const float *src, int w, int h, int c, float *dst, int ow, int oh)
{
    double *r;
    GC_TRY(resize_core(NULL, src, w, h, c, ow, oh, 0, 0, ow, oh, &r));
    size_t n = (size_t)ow * (size_t)oh * (size_t)c;
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)r[i];
    free(r);
    return GC_OK;
}

/* The cw x ch window at (x0, y0) of src resized to ow x oh, rounded. */
static gc_status resize_u8_window(const uint8_t *src, int w, int h, int c, int ow, int oh, int x0,
                                  int y0, int cw, int ch, uint8_t *dst)
{
    double *r;
    GC_TRY(resize_core(src, NULL, w, h, c, ow, oh, x0, y0, cw, ch, &r));
    size_t n = (size_t)cw * (size_t)ch * (size_t)c;
    for (size_t i = 0; i < n; i++) {
        double v = floor(r[i] + 0.5);
        dst[i] = (uint8_t)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
    }
    free(r);
    return GC_OK;
}

gc_status gc_resize_u8(const uint8_t *src, int w, int h, int c, uint8_t *dst, int ow, int oh)
{
    return resize_u8_window(src, w, h, c, ow, oh, 0, 0, ow, oh, dst);
}

void gc_resize_shorter_dims(int w, int h, int size, int *ow, int *oh)
{
    GC_ASSERT(w >= 1 && h >= 1 && size >= 1);
    int shorter = w <= h ? w : h, longer = w <= h ? h : w;
    /* size * longer is exact in double, and one correctly rounded division
     * is what Python's int(size * long / short) truncates. */
    int grown = (int)((double)size * longer / shorter);
    *ow = w <= h ? size : grown;
    *oh = w <= h ? grown : size;
}

/* Python's round(d / 2) for d >= 0: halves to even. */
static int half_to_even(int d)
{
    int q = d / 2;
    return d % 2 && q % 2 ? q + 1 : q;
}

void gc_center_crop_offsets(int w, int h, int cw, int ch, int *x0, int *y0)
{
    GC_ASSERT(cw >= 1 && ch >= 1 && cw <= w && ch <= h);
    *x0 = half_to_even(w - cw);
    *y0 = half_to_even(h - ch);
}

gc_status gc_image_resize_crop(const gc_image *in, int size, gc_image *out)
{
    GC_ASSERT(in->data && in->w >= 1 && in->h >= 1 && in->c >= 1 && in->c <= 4 && size >= 1);
    memset(out, 0, sizeof *out);
    int rw, rh, x0, y0, c = in->c;
    gc_resize_shorter_dims(in->w, in->h, size, &rw, &rh);
    gc_center_crop_offsets(rw, rh, size, size, &x0, &y0);
    uint8_t *dst = malloc((size_t)size * (size_t)size * (size_t)c);
    if (!dst) return gc_error(GC_ERR_NOMEM, "out of memory for a %d x %d image", size, size);
    if (rw == in->w && rh == in->h) { /* only a crop: no resampling at all */
        size_t row = (size_t)size * (size_t)c;
        for (int y = 0; y < size; y++)
            memcpy(dst + (size_t)y * row,
                   in->data + ((size_t)(y0 + y) * (size_t)rw + (size_t)x0) * (size_t)c, row);
    } else {
        gc_status s = resize_u8_window(in->data, in->w, in->h, c, rw, rh, x0, y0, size, size, dst);
        if (s != GC_OK) {
            free(dst);
            return s;
        }
    }
    out->data = dst;
    out->w = out->h = size;
    out->c = c;
    return GC_OK;
}

/* src/backend/cpu/cpu_class.c - CPU reference: class conditioning, a
 * per-class table e (K, F) added to rows (class_embed) or dotted with them
 * (class_project), and their backward passes. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

/* de[k] += sum over the rows n with label k of w[n] * rows[n] (w NULL: 1).
 * Class by class with a double row accumulator, so that each sum is
 * computed once in double and in row order, whatever the labels. */
static gc_status class_scatter(float *de, const float *rows, const float *w, const float *lab,
                               int64_t n, int64_t k, int64_t f, const char *op)
{
    double *acc = malloc((size_t)f * sizeof *acc);
    if (!acc) return gc_error(GC_ERR_NOMEM, "%s: out of host memory", op);
    for (int64_t c = 0; c < k; c++) {
        int any = 0;
        for (int64_t i = 0; i < n; i++) {
            if ((int64_t)lab[i] != c) continue;
            if (!any)
                for (int64_t j = 0; j < f; j++)
                    acc[j] = 0.0;
            any = 1;
            const float *r = rows + i * f;
            double s = w ? (double)w[i] : 1.0;
            for (int64_t j = 0; j < f; j++)
                acc[j] += s * (double)r[j];
        }
        if (!any) continue;
        float *d = de + c * f;
        for (int64_t j = 0; j < f; j++)
            d[j] = (float)((double)d[j] + acc[j]);
    }
    free(acc);
    return GC_OK;
}

gc_status gc_cpu_class_embed_forward(gc_t y, gc_t e, gc_t labels)
{
    int64_t n = y->shape[0], k = e->shape[0], f = e->shape[1];
    const float *pe = gc_cpu_data(e), *lab = gc_cpu_data(labels);
    float *py = gc_cpu_data(y);
    GC_TRY(gc_cpu_check_labels(lab, n, k, "class_embed"));
    for (int64_t i = 0; i < n; i++) {
        const float *row = pe + (int64_t)lab[i] * f;
        float *out = py + i * f;
        for (int64_t j = 0; j < f; j++)
            out[j] += row[j];
    }
    return GC_OK;
}

gc_status gc_cpu_class_embed_backward(gc_t de, gc_t dy, gc_t labels)
{
    int64_t n = dy->shape[0], k = de->shape[0], f = de->shape[1];
    const float *lab = gc_cpu_data(labels);
    GC_TRY(gc_cpu_check_labels(lab, n, k, "class_embed backward"));
    return class_scatter(gc_cpu_data(de), gc_cpu_data(dy), NULL, lab, n, k, f,
                         "class_embed backward");
}

gc_status gc_cpu_class_project_forward(gc_t y, gc_t x, gc_t e, gc_t labels)
{
    int64_t n = x->shape[0], k = e->shape[0], f = e->shape[1];
    const float *px = gc_cpu_data(x), *pe = gc_cpu_data(e), *lab = gc_cpu_data(labels);
    float *py = gc_cpu_data(y);
    GC_TRY(gc_cpu_check_labels(lab, n, k, "class_project"));
    for (int64_t i = 0; i < n; i++) {
        const float *row = pe + (int64_t)lab[i] * f, *xr = px + i * f;
        double s = 0.0;
        for (int64_t j = 0; j < f; j++)
            s += (double)row[j] * (double)xr[j];
        py[i] = (float)((double)py[i] + s);
    }
    return GC_OK;
}

gc_status gc_cpu_class_project_backward(gc_t dx, gc_t de, gc_t dy, gc_t x, gc_t e, gc_t labels)
{
    int64_t n = x->shape[0], k = e->shape[0], f = e->shape[1];
    const float *pe = gc_cpu_data(e), *pdy = gc_cpu_data(dy), *lab = gc_cpu_data(labels);
    GC_TRY(gc_cpu_check_labels(lab, n, k, "class_project backward"));
    /* de first: it reads x, which dx could share a buffer with. */
    GC_TRY(class_scatter(gc_cpu_data(de), gc_cpu_data(x), pdy, lab, n, k, f,
                         "class_project backward"));
    if (dx) {
        float *pdx = gc_cpu_data(dx);
        for (int64_t i = 0; i < n; i++) {
            const float *row = pe + (int64_t)lab[i] * f;
            float *d = pdx + i * f;
            for (int64_t j = 0; j < f; j++)
                d[j] += pdy[i] * row[j];
        }
    }
    return GC_OK;
}

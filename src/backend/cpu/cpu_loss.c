/* src/backend/cpu/cpu_loss.c - CPU reference: softmax cross-entropy with
 * class labels (the classifier's loss; BCE, the GAN's, is in cpu_train.c). */
#include <inttypes.h>
#include <math.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

/* Labels are host memory here, so a bad one is refused before anything is
 * written (gancl/ops.h); the negated comparisons also catch NaN. */
gc_status gc_cpu_check_labels(const float *lab, int64_t n, int64_t k, const char *op)
{
    for (int64_t i = 0; i < n; i++) {
        double v = lab[i];
        if (!(v >= 0.0 && v < (double)k && v == floor(v)))
            return gc_error(GC_ERR_ARG,
                            "%s: label %g of row %" PRId64 " is not a class index in [0, %" PRId64
                            ")",
                            op, v, i, k);
    }
    return GC_OK;
}

/* The row's first maximum (the argmax) and sum_j exp(z_j - max). */
static double row_stats(const float *z, int64_t k, int64_t *argmax)
{
    int64_t am = 0;
    for (int64_t j = 1; j < k; j++)
        if (z[j] > z[am]) am = j;
    double m = z[am], s = 0.0;
    for (int64_t j = 0; j < k; j++)
        s += exp((double)z[j] - m);
    *argmax = am;
    return s;
}

gc_status gc_cpu_softmax_ce_forward(gc_t loss, gc_t correct, gc_t z, gc_t labels)
{
    int64_t n = z->shape[0], k = z->shape[1];
    const float *pz = gc_cpu_data(z), *lab = gc_cpu_data(labels);
    GC_TRY(gc_cpu_check_labels(lab, n, k, "softmax_ce"));
    double total = 0.0;
    int64_t hits = 0;
    for (int64_t i = 0; i < n; i++) {
        const float *row = pz + i * k;
        int64_t am, c = (int64_t)lab[i];
        double s = row_stats(row, k, &am);
        /* log(sum exp(z - max)) + max - z_c: every exp is <= 1 and s >= 1. */
        total += log(s) + ((double)row[am] - (double)row[c]);
        hits += am == c;
    }
    gc_cpu_data(loss)[0] = (float)(total / (double)n);
    if (correct) gc_cpu_data(correct)[0] = (float)hits;
    return GC_OK;
}

gc_status gc_cpu_softmax_ce_backward(gc_t dz, gc_t z, gc_t labels, float scale)
{
    int64_t n = z->shape[0], k = z->shape[1];
    const float *pz = gc_cpu_data(z), *lab = gc_cpu_data(labels);
    float *pdz = gc_cpu_data(dz);
    GC_TRY(gc_cpu_check_labels(lab, n, k, "softmax_ce backward"));
    double f = (double)scale / (double)n;
    for (int64_t i = 0; i < n; i++) {
        const float *row = pz + i * k;
        float *drow = pdz + i * k;
        int64_t am, c = (int64_t)lab[i];
        double s = row_stats(row, k, &am), m = row[am];
        /* Each element is read before it is written, so dz may alias z. */
        for (int64_t j = 0; j < k; j++)
            drow[j] = (float)(f * (exp((double)row[j] - m) / s - (j == c ? 1.0 : 0.0)));
    }
    return GC_OK;
}

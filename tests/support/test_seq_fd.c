/* tests/support/test_seq_fd.c - finite differences through a gc_seq
 * (test_seq_fd.h). */
#include "test_seq_fd.h"

#include <math.h>
#include <stdlib.h>

#include "test_support.h"

double gt_seq_loss(gc_seq *s, const gc_tensor *x, int n, const float *r)
{
    return gt_seq_loss_mode(s, x, n, r, 1);
}

double gt_seq_loss_mode(gc_seq *s, const gc_tensor *x, int n, const float *r, int train)
{
    GT_OK(gc_seq_forward(s, x, n, train));
    gc_tensor y = gc_seq_output(s, n);
    float *h = gt_read(&y);
    double l = 0;
    for (int64_t i = 0; i < gc_tensor_numel(&y); i++)
        l += (double)r[i] * h[i];
    free(h);
    return l;
}

/* L with value[idx] set to v, then restored. */
static double loss_at(gc_seq *s, const gc_tensor *x, int n, const float *r, const gc_tensor *t,
                      float *value, int64_t idx, float v, int train)
{
    float keep = value[idx];
    value[idx] = v;
    GT_OK(gc_tensor_write(t, value));
    double l = gt_seq_loss_mode(s, x, n, r, train);
    value[idx] = keep;
    GT_OK(gc_tensor_write(t, value));
    return l;
}

float gt_seq_fd(gc_seq *s, const gc_tensor *x, int n, const float *r, const gc_tensor *t,
                float *value, int64_t idx, double l0)
{
    const gt_fd_opts o = {.train = 1, .h0 = 1e-3f, .atol = 1e-3};
    return gt_seq_fd_opts(s, x, n, r, t, value, idx, l0, &o);
}

float gt_seq_fd_opts(gc_seq *s, const gc_tensor *x, int n, const float *r, const gc_tensor *t,
                     float *value, int64_t idx, double l0, const gt_fd_opts *o)
{
    /* The forward passes are fp32: an h much below 1e-4 drowns in rounding. */
    for (float h = o->h0; h > 1e-4f; h /= 8) {
        double lp = loss_at(s, x, n, r, t, value, idx, value[idx] + h, o->train);
        double lm = loss_at(s, x, n, r, t, value, idx, value[idx] - h, o->train);
        double lp2 = loss_at(s, x, n, r, t, value, idx, value[idx] + h / 2, o->train);
        double lm2 = loss_at(s, x, n, r, t, value, idx, value[idx] - h / 2, o->train);
        double fp = (lp - l0) / h, fm = (l0 - lm) / h;
        double num = (lp - lm) / (2 * h), half = (lp2 - lm2) / h;
        double tol = 0.05 * fabs(num) + o->atol;
        if (fabs(fp - fm) <= tol && fabs(num - half) <= 0.2 * tol) return (float)num;
    }
    return NAN;
}

void gt_assert_close_fd_at(const float *analytic, const float *numeric, int n, double tol,
                           const char *what, const char *file, int line)
{
    float *a = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    float *b = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    int m = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(numeric[i])) a[m] = analytic[i], b[m++] = numeric[i];
    if (m) gt_assert_close_at(a, b, m, tol, what, file, line);
    free(a);
    free(b);
}

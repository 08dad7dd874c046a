/* src/backend/cpu/cpu_gan_ops.c - CPU reference: the ops against mode
 * collapse (gancl/ops.h): hinge loss, minibatch standard deviation,
 * spectral normalisation's power iteration and backward, weight EMA. */
#include <math.h>
#include <stdlib.h>

#include "backend/cpu/cpu_ops.h"
#include "util/error.h"

/* ---- hinge loss ------------------------------------------------------------ */

/* The term's value and slope at z. */
static double hinge_term(double z, gc_hinge_term term, double *slope)
{
    switch (term) {
    case GC_HINGE_REAL: *slope = 1.0 - z > 0.0 ? -1.0 : 0.0; return fmax(0.0, 1.0 - z);
    case GC_HINGE_FAKE: *slope = 1.0 + z > 0.0 ? 1.0 : 0.0; return fmax(0.0, 1.0 + z);
    case GC_HINGE_GEN: break;
    }
    *slope = -1.0;
    return -z;
}

gc_status gc_cpu_hinge_forward(gc_t loss, gc_t z, gc_hinge_term term)
{
    int64_t n = gc_tensor_numel(z);
    const float *pz = gc_cpu_data(z);
    double s = 0.0, slope;
    for (int64_t i = 0; i < n; i++)
        s += hinge_term(pz[i], term, &slope);
    gc_cpu_data(loss)[0] = (float)(s / (double)n);
    return GC_OK;
}

gc_status gc_cpu_hinge_backward(gc_t dz, gc_t z, gc_hinge_term term, float scale)
{
    int64_t n = gc_tensor_numel(z);
    const float *pz = gc_cpu_data(z);
    float *pdz = gc_cpu_data(dz);
    double f = (double)scale / (double)n, slope;
    for (int64_t i = 0; i < n; i++) {
        hinge_term(pz[i], term, &slope);
        pdz[i] = (float)(f * slope); /* z[i] is read first: dz may alias z */
    }
    return GC_OK;
}

/* ---- minibatch standard deviation ------------------------------------------
 * Group m holds samples m, m + M, m + 2M, ... (M = N / G); k indexes the
 * C*H*W elements of a sample. */

/* Mean and sqrt(biased var + eps) over group m's samples at element k. */
static void group_stats(const float *x, int64_t m, int64_t k, int64_t groups, int64_t g,
                        int64_t chw, double *mean, double *std)
{
    double s = 0.0, ss = 0.0;
    for (int64_t j = 0; j < g; j++)
        s += x[(j * groups + m) * chw + k];
    *mean = s / (double)g;
    for (int64_t j = 0; j < g; j++) {
        double d = x[(j * groups + m) * chw + k] - *mean;
        ss += d * d;
    }
    *std = sqrt(ss / (double)g + (double)GC_MBSTD_EPS);
}

gc_status gc_cpu_mbstd_forward(gc_t y, gc_t x, int group)
{
    int64_t n = GC_N(x), c = GC_C(x), hw = GC_H(x) * GC_W(x), chw = c * hw;
    int64_t groups = n / group;
    const float *px = gc_cpu_data(x);
    float *py = gc_cpu_data(y);
    for (int64_t m = 0; m < groups; m++) {
        double acc = 0.0, mean, std;
        for (int64_t k = 0; k < chw; k++) {
            group_stats(px, m, k, groups, group, chw, &mean, &std);
            acc += std;
        }
        float stat = (float)(acc / (double)chw);
        for (int64_t j = 0; j < group; j++) {
            int64_t s = j * groups + m;
            for (int64_t k = 0; k < chw; k++)
                py[s * (chw + hw) + k] = px[s * chw + k];
            for (int64_t p = 0; p < hw; p++)
                py[s * (chw + hw) + chw + p] = stat;
        }
    }
    return GC_OK;
}

/* With s_m = mean_k std_k and D_m = sum of dy's extra channel over the
 * group's samples and pixels, d std_k / d x_j,k = (x_j,k - mean_k) / (G std_k)
 * (the mean's own term cancels), so dx = dy + D_m (x - mean) / (CHW G std). */
gc_status gc_cpu_mbstd_backward(gc_t dx, gc_t dy, gc_t x, int group)
{
    int64_t n = GC_N(x), c = GC_C(x), hw = GC_H(x) * GC_W(x), chw = c * hw;
    int64_t groups = n / group;
    const float *px = gc_cpu_data(x), *pdy = gc_cpu_data(dy);
    float *pdx = gc_cpu_data(dx);
    for (int64_t m = 0; m < groups; m++) {
        double d = 0.0, mean, std;
        for (int64_t j = 0; j < group; j++)
            for (int64_t p = 0; p < hw; p++)
                d += pdy[(j * groups + m) * (chw + hw) + chw + p];
        for (int64_t k = 0; k < chw; k++) {
            group_stats(px, m, k, groups, group, chw, &mean, &std);
            double f = d / ((double)chw * (double)group * std);
            for (int64_t j = 0; j < group; j++) {
                int64_t s = j * groups + m;
                pdx[s * chw + k] =
                    (float)((double)pdy[s * (chw + hw) + k] + f * ((double)px[s * chw + k] - mean));
            }
        }
    }
    return GC_OK;
}

/* ---- spectral normalisation -------------------------------------------------- */

/* a /= max(||a||, eps) over n doubles; returns ||a||^2 / max(||a||, eps). */
static double normalize(double *a, int64_t n)
{
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++)
        ss += a[i] * a[i];
    double d = fmax(sqrt(ss), (double)GC_SN_EPS);
    for (int64_t i = 0; i < n; i++)
        a[i] /= d;
    return ss / d;
}

gc_status gc_cpu_spectral_norm_forward(gc_t w_sn, gc_t u, gc_t v, gc_t sigma, gc_t w, int iters)
{
    int64_t rows = w->shape[0], cols = gc_tensor_numel(w) / rows;
    const float *pw = gc_cpu_data(w);
    float *pu = gc_cpu_data(u), *pv = gc_cpu_data(v);
    double *du = malloc((size_t)rows * sizeof *du), *dv = malloc((size_t)cols * sizeof *dv);
    if (!du || !dv) {
        free(du);
        free(dv);
        return gc_error(GC_ERR_NOMEM, "spectral_norm: out of host memory");
    }
    double s = 0.0;
    for (int it = 0; it < iters; it++) {
        /* u and v round-trip through float every step, as on a device. */
        for (int64_t j = 0; j < cols; j++)
            dv[j] = 0.0;
        for (int64_t i = 0; i < rows; i++)
            for (int64_t j = 0; j < cols; j++)
                dv[j] += (double)pw[i * cols + j] * pu[i];
        normalize(dv, cols);
        for (int64_t j = 0; j < cols; j++)
            pv[j] = (float)dv[j];
        for (int64_t i = 0; i < rows; i++) {
            double a = 0.0;
            for (int64_t j = 0; j < cols; j++)
                a += (double)pw[i * cols + j] * pv[j];
            du[i] = a;
        }
        s = normalize(du, rows);
        for (int64_t i = 0; i < rows; i++)
            pu[i] = (float)du[i];
    }
    free(du);
    free(dv);
    float fs = (float)s;
    gc_cpu_data(sigma)[0] = fs;
    if (w_sn) {
        float *out = gc_cpu_data(w_sn);
        for (int64_t i = 0; i < rows * cols; i++)
            out[i] = pw[i] / fs;
    }
    return GC_OK;
}

gc_status gc_cpu_spectral_norm_backward(gc_t dw, gc_t dw_sn, gc_t w, gc_t u, gc_t v, gc_t sigma)
{
    int64_t rows = w->shape[0], cols = gc_tensor_numel(w) / rows, n = rows * cols;
    const float *pw = gc_cpu_data(w), *pg = gc_cpu_data(dw_sn);
    const float *pu = gc_cpu_data(u), *pv = gc_cpu_data(v);
    float *pdw = gc_cpu_data(dw);
    double s = gc_cpu_data(sigma)[0], dot = 0.0;
    for (int64_t i = 0; i < n; i++)
        dot += (double)pg[i] * pw[i];
    double c = dot / s; /* <G, w / sigma> */
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) {
            int64_t e = i * cols + j;
            pdw[e] =
                (float)((double)pdw[e] + ((double)pg[e] - c * (double)pu[i] * (double)pv[j]) / s);
        }
    return GC_OK;
}

/* ---- weight EMA -------------------------------------------------------------- */

gc_status gc_cpu_ema_update(gc_t avg, gc_t x, float decay)
{
    int64_t n = gc_tensor_numel(avg);
    float *pa = gc_cpu_data(avg);
    const float *px = gc_cpu_data(x);
    /* Written as avg + (1 - decay)(x - avg) on the device too: both round
     * the same way, and a constant x leaves avg exactly at x. */
    float k = 1.0f - decay;
    for (int64_t i = 0; i < n; i++)
        pa[i] = pa[i] + k * (px[i] - pa[i]);
    return GC_OK;
}

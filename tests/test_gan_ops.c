/* tests/test_gan_ops.c - the ops against mode collapse (gancl/ops.h):
 * hinge loss, minibatch standard deviation, spectral normalisation, EMA.
 *
 * CPU part (always runs): each forward against a double-precision host
 * reference, each backward against finite differences, spectral norm's
 * sigma against LAPACK's largest singular value, the EMA against its
 * formula.  OpenCL part (skipped with 77 when there is no device, after the
 * CPU part has passed): every op against the CPU reference on random inputs
 * at odd sizes, outputs poisoned with NaN first, and sigma against LAPACK
 * on the device too.
 */
#include <inttypes.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define TOL 1e-5
/* Finite differences through float outputs: see tests/test_grad.c for why
 * 1e-3 (rounding of the summed objective over a step of ~1e-2). */
#define FD_TOL 1e-3

static float *dup(const float *a, int64_t n)
{
    float *h = malloc((size_t)n * sizeof *h);
    ck_assert_ptr_nonnull(h);
    memcpy(h, a, (size_t)n * sizeof *h);
    return h;
}

static float *xmalloc(int64_t n)
{
    float *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    return h;
}

static const char *term_name(gc_hinge_term t)
{
    return t == GC_HINGE_REAL ? "real" : t == GC_HINGE_FAKE ? "fake" : "gen";
}

/* ---- hinge loss ------------------------------------------------------------ */

static double ref_hinge(double z, gc_hinge_term t, double *slope)
{
    if (t == GC_HINGE_REAL) {
        *slope = 1.0 - z > 0.0 ? -1.0 : 0.0;
        return fmax(0.0, 1.0 - z);
    }
    if (t == GC_HINGE_FAKE) {
        *slope = 1.0 + z > 0.0 ? 1.0 : 0.0;
        return fmax(0.0, 1.0 + z);
    }
    *slope = -1.0;
    return -z;
}

/* n logits in [-3, 3], each at least 0.1 from both kinks (+-1), so a step
 * of 0.05 never crosses one and the differences of a piecewise-linear loss
 * are exact up to rounding. */
static float *hinge_logits(int64_t n)
{
    float *z = gt_rand_array(n, -3, 3);
    for (int64_t i = 0; i < n; i++)
        if (fabsf(fabsf(z[i]) - 1.0f) < 0.1f) z[i] = z[i] < 0 ? -1.5f : 1.5f;
    return z;
}

static float read_scalar(const gc_tensor *t)
{
    float *h = gt_read(t), v = h[0];
    free(h);
    return v;
}

START_TEST(hinge_cpu)
{
    gc_backend *be = gt_cpu();
    const gc_hinge_term terms[3] = {GC_HINGE_REAL, GC_HINGE_FAKE, GC_HINGE_GEN};
    int64_t n = 2 * gt_randint(5, 40) + 1;
    float *hz = hinge_logits(n);
    gc_tensor z = gt_tensor(be, GT_DIMS(n, 1), hz), loss = gt_tensor(be, GT_DIMS(1), NULL);
    gc_tensor dz = gt_tensor(be, GT_DIMS(n, 1), NULL);
    const float scale = 0.75f;
    char what[96];
    for (int ti = 0; ti < 3; ti++) {
        gc_hinge_term t = terms[ti];
        double s = 0.0, slope;
        for (int64_t i = 0; i < n; i++)
            s += ref_hinge(hz[i], t, &slope);
        float want = (float)(s / (double)n);
        GT_OK(gc_hinge_forward(&loss, &z, t));
        float got = read_scalar(&loss);
        snprintf(what, sizeof what, "hinge %s forward (n %" PRId64 ")", term_name(t), n);
        gt_assert_close(&got, &want, 1, 1e-6, what);

        /* Central differences of scale * loss against dz. */
        gt_poison(&dz);
        GT_OK(gc_hinge_backward(&dz, &z, t, scale));
        float *ana = gt_read(&dz), *num = xmalloc(n), *hv = dup(hz, n);
        const float h = 0.05f;
        for (int64_t i = 0; i < n; i++) {
            float keep = hv[i];
            hv[i] = keep + h;
            float zp = hv[i];
            GT_OK(gc_tensor_write(&z, hv));
            GT_OK(gc_hinge_forward(&loss, &z, t));
            double up = read_scalar(&loss);
            hv[i] = keep - h;
            float zm = hv[i];
            GT_OK(gc_tensor_write(&z, hv));
            GT_OK(gc_hinge_forward(&loss, &z, t));
            double down = read_scalar(&loss);
            hv[i] = keep;
            num[i] = (float)(scale * (up - down) / ((double)zp - (double)zm));
        }
        GT_OK(gc_tensor_write(&z, hz));
        snprintf(what, sizeof what, "hinge %s dz vs finite differences", term_name(t));
        gt_assert_close(ana, num, n, FD_TOL, what);
        /* And exactly the documented value. */
        for (int64_t i = 0; i < n; i++) {
            ref_hinge(hz[i], t, &slope);
            num[i] = (float)((double)scale / (double)n * slope);
        }
        snprintf(what, sizeof what, "hinge %s dz", term_name(t));
        gt_assert_close(ana, num, n, 1e-7, what);

        /* dz may alias z. */
        GT_OK(gc_hinge_backward(&z, &z, t, scale));
        float *al = gt_read(&z);
        gt_assert_close(al, ana, n, 0.0, "hinge backward with dz aliasing z");
        GT_OK(gc_tensor_write(&z, hz));
        free(al);
        free(ana);
        free(num);
        free(hv);
    }

    /* At a kink the slope is 0 (PyTorch's relu'(0)). */
    float kinks[2] = {1.0f, -1.0f}, dk[2];
    gc_tensor kz = gt_tensor(be, GT_DIMS(2), kinks), kd = gt_tensor(be, GT_DIMS(2), NULL);
    GT_OK(gc_hinge_backward(&kd, &kz, GC_HINGE_REAL, 1.0f));
    GT_OK(gc_tensor_read(&kd, dk));
    ck_assert_float_eq(dk[0], 0.0f);
    ck_assert_float_eq(dk[1], -0.5f);
    GT_OK(gc_hinge_backward(&kd, &kz, GC_HINGE_FAKE, 1.0f));
    GT_OK(gc_tensor_read(&kd, dk));
    ck_assert_float_eq(dk[0], 0.5f);
    ck_assert_float_eq(dk[1], 0.0f);
    free(hz);
    gc_tensor *all[] = {&z, &loss, &dz, &kz, &kd};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}
END_TEST

/* ---- minibatch standard deviation -------------------------------------------- */

/* y (n, c + 1, hw) in double, the definition of gancl/ops.h. */
static void ref_mbstd(float *y, const float *x, int64_t n, int64_t c, int64_t hw, int64_t g)
{
    int64_t groups = n / g, chw = c * hw;
    for (int64_t m = 0; m < groups; m++) {
        double acc = 0.0;
        for (int64_t k = 0; k < chw; k++) {
            double s = 0.0, ss = 0.0;
            for (int64_t j = 0; j < g; j++)
                s += x[(j * groups + m) * chw + k];
            double mean = s / (double)g;
            for (int64_t j = 0; j < g; j++) {
                double d = x[(j * groups + m) * chw + k] - mean;
                ss += d * d;
            }
            acc += sqrt(ss / (double)g + 1e-8);
        }
        for (int64_t j = 0; j < g; j++) {
            int64_t smp = j * groups + m;
            memcpy(y + smp * (chw + hw), x + smp * chw, (size_t)chw * sizeof *y);
            for (int64_t p = 0; p < hw; p++)
                y[smp * (chw + hw) + chw + p] = (float)(acc / (double)chw);
        }
    }
}

/* x for a finite-difference check: the j-th sample of every group sits
 * near j (+- 0.3), so every group's standard deviation is >= ~0.2 and a
 * step of 5e-3 sees a gently curved function (the std's curvature is ~1/std). */
static float *mbstd_fd_input(int64_t n, int64_t chw, int64_t g)
{
    float *x = gt_rand_array(n * chw, -0.3f, 0.3f);
    int64_t groups = n / g;
    for (int64_t s = 0; s < n; s++)
        for (int64_t k = 0; k < chw; k++)
            x[s * chw + k] += (float)(s / groups);
    return x;
}

static double weighted(const gc_tensor *y, const float *r)
{
    int64_t m = gc_tensor_numel(y);
    float *h = gt_read(y);
    double s = 0.0;
    for (int64_t i = 0; i < m; i++)
        s += (double)r[i] * h[i];
    free(h);
    return s;
}

START_TEST(mbstd_cpu)
{
    gc_backend *be = gt_cpu();
    const int groups_of_6[4] = {1, 2, 3, 6};
    int64_t n = 6, c = 3, hh = 3, ww = 5, hw = hh * ww, chw = c * hw;
    int g = groups_of_6[_i];
    float *hx = mbstd_fd_input(n, chw, g), *r = gt_rand_array(n * (chw + hw), -1, 1);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, c, hh, ww), hx);
    gc_tensor y = gt_tensor(be, GT_DIMS(n, c + 1, hh, ww), NULL);
    gc_tensor dy = gt_tensor(be, GT_DIMS(n, c + 1, hh, ww), r);
    gc_tensor dx = gt_tensor(be, GT_DIMS(n, c, hh, ww), NULL);
    char what[96];

    GT_OK(gc_mbstd_forward(&y, &x, g));
    float *want = xmalloc(n * (chw + hw)), *got = gt_read(&y);
    ref_mbstd(want, hx, n, c, hw, g);
    snprintf(what, sizeof what, "mbstd forward (G %d)", g);
    gt_assert_close(got, want, n * (chw + hw), 1e-6, what);

    GT_OK(gc_mbstd_backward(&dx, &dy, &x, g));
    float *ana = gt_read(&dx), *num = xmalloc(n * chw), *hv = dup(hx, n * chw);
    for (int64_t i = 0; i < n * chw; i++) {
        float keep = hv[i];
        hv[i] = keep + 5e-3f;
        float xp = hv[i];
        GT_OK(gc_tensor_write(&x, hv));
        GT_OK(gc_mbstd_forward(&y, &x, g));
        double up = weighted(&y, r);
        hv[i] = keep - 5e-3f;
        float xm = hv[i];
        GT_OK(gc_tensor_write(&x, hv));
        GT_OK(gc_mbstd_forward(&y, &x, g));
        double down = weighted(&y, r);
        hv[i] = keep;
        num[i] = (float)((up - down) / ((double)xp - (double)xm));
    }
    snprintf(what, sizeof what, "mbstd dx vs finite differences (G %d)", g);
    gt_assert_close(ana, num, n * chw, FD_TOL, what);

    /* dx is written: a second call from a NaN start gives the same. */
    gt_poison(&dx);
    GT_OK(gc_tensor_write(&x, hx));
    GT_OK(gc_mbstd_backward(&dx, &dy, &x, g));
    float *again = gt_read(&dx);
    gt_assert_close(again, ana, n * chw, 0.0, "mbstd backward twice");

    float *frees[] = {hx, r, want, got, ana, num, hv, again};
    for (size_t i = 0; i < sizeof frees / sizeof frees[0]; i++)
        free(frees[i]);
    gc_tensor *all[] = {&x, &y, &dy, &dx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}
END_TEST

/* ---- spectral normalisation --------------------------------------------------- */

/* W's largest singular value, W (rows, cols) row-major, from LAPACK. */
static double svd_max(const float *w, int64_t rows, int64_t cols)
{
    int64_t mn = rows < cols ? rows : cols;
    double *a = malloc((size_t)(rows * cols) * sizeof *a), *s = malloc((size_t)mn * sizeof *s);
    double *sup = malloc((size_t)(mn > 1 ? mn : 2) * sizeof *sup);
    ck_assert(a && s && sup);
    for (int64_t i = 0; i < rows * cols; i++)
        a[i] = w[i];
    lapack_int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)rows, (lapack_int)cols,
                                     a, (lapack_int)cols, s, NULL, 1, NULL, 1, sup);
    ck_assert_int_eq(info, 0);
    double r = s[0];
    free(a);
    free(s);
    free(sup);
    return r;
}

/* One power-iteration step in double from float u, v (rows, cols), the
 * definition of gancl/ops.h; returns sigma, updates u and v (rounded to
 * float, as the ops store them). */
static double ref_sn_step(const float *w, float *u, float *v, int64_t rows, int64_t cols)
{
    double nv = 0.0, nu = 0.0;
    double *dv = calloc((size_t)cols, sizeof *dv), *du = calloc((size_t)rows, sizeof *du);
    ck_assert(dv && du);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            dv[j] += (double)w[i * cols + j] * u[i];
    for (int64_t j = 0; j < cols; j++)
        nv += dv[j] * dv[j];
    double d = fmax(sqrt(nv), 1e-12);
    for (int64_t j = 0; j < cols; j++)
        v[j] = (float)(dv[j] / d);
    for (int64_t i = 0; i < rows; i++) {
        for (int64_t j = 0; j < cols; j++)
            du[i] += (double)w[i * cols + j] * v[j];
        nu += du[i] * du[i];
    }
    d = fmax(sqrt(nu), 1e-12);
    for (int64_t i = 0; i < rows; i++)
        u[i] = (float)(du[i] / d);
    free(dv);
    free(du);
    return nu / d;
}

typedef struct sn_case {
    int ndim;
    int64_t dims[4];
} sn_case;

static const sn_case sn_cases[] = {
    {4, {13, 3, 3, 3}}, /* a conv2d weight: (13, 27) */
    {2, {37, 11}},      /* taller than wide */
    {2, {1, 7}},        /* one row: sigma = ||w|| */
    {2, {5, 1}},        /* one column */
    {2, {64, 301}},     /* longer than a work-group */
};
#define NSNCASES ((int)(sizeof sn_cases / sizeof sn_cases[0]))

static int64_t sn_cols(const sn_case *sc)
{
    int64_t n = 1;
    for (int i = 1; i < sc->ndim; i++)
        n *= sc->dims[i];
    return n;
}

/* After many steps from a random u, sigma is W's largest singular value.
 * The error shrinks like (sigma_2 / sigma_1)^(2 * steps), and a purely
 * random W of 64 x 301 has sigma_2 / sigma_1 > 0.995 about one time in 20,
 * too close for any fixed step count.  So W is random plus a random
 * rank-one spike of 1.5 times the random part's expected norm, which keeps
 * the ratio below ~0.8 (worst of 5000 draws per shape: 0.77): 200 steps
 * leave an error far below the 1e-4 asked. */
static void check_sigma_vs_svd(gc_backend *be, const sn_case *sc, int iters)
{
    int64_t rows = sc->dims[0], cols = sn_cols(sc);
    float *hw = gt_rand_array(rows * cols, -1, 1), *hu = gt_rand_array(rows, -1, 1);
    float *p = gt_rand_array(rows, -1, 1), *q = gt_rand_array(cols, -1, 1);
    double np_ = 0.0, nq = 0.0;
    for (int64_t i = 0; i < rows; i++)
        np_ += (double)p[i] * p[i];
    for (int64_t j = 0; j < cols; j++)
        nq += (double)q[j] * q[j];
    double a = 1.5 * (sqrt((double)rows) + sqrt((double)cols)) / sqrt(3.0) / sqrt(np_ * nq);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            hw[i * cols + j] += (float)(a * p[i] * q[j]);
    free(p);
    free(q);
    gc_tensor w = gt_tensor(be, sc->ndim, sc->dims, hw), u = gt_tensor(be, GT_DIMS(rows), hu);
    gc_tensor v = gt_tensor(be, GT_DIMS(cols), NULL), sig = gt_tensor(be, GT_DIMS(1), NULL);
    GT_OK(gc_spectral_norm_forward(NULL, &u, &v, &sig, &w, iters));
    double want = svd_max(hw, rows, cols), got = read_scalar(&sig);
    ck_assert_msg(fabs(got - want) <= 1e-4 * want,
                  "%s: sigma %.8g after %d steps, LAPACK's largest singular value %.8g "
                  "(%" PRId64 " x %" PRId64 ")",
                  gc_backend_name(be), got, iters, want, rows, cols);
    free(hw);
    free(hu);
    gc_tensor *all[] = {&w, &u, &v, &sig};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}

/* L(W) = sum r * W / (u^T W v) with u, v fixed, in double. */
static double sn_objective(const double *w, const float *r, const float *u, const float *v,
                           int64_t rows, int64_t cols)
{
    double s = 0.0, l = 0.0;
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            s += (double)u[i] * w[i * cols + j] * v[j];
    for (int64_t e = 0; e < rows * cols; e++)
        l += (double)r[e] * w[e];
    return l / s;
}

START_TEST(spectral_norm_cpu)
{
    gc_backend *be = gt_cpu();
    const sn_case *sc = &sn_cases[_i];
    int64_t rows = sc->dims[0], cols = sn_cols(sc), n = rows * cols;
    check_sigma_vs_svd(be, sc, 200);

    /* One and three steps against the host reference. */
    float *hw = gt_rand_array(n, -1, 1), *hu = gt_rand_array(rows, -1, 1);
    gc_tensor w = gt_tensor(be, sc->ndim, sc->dims, hw), u = gt_tensor(be, GT_DIMS(rows), hu);
    gc_tensor v = gt_tensor(be, GT_DIMS(cols), NULL), sig = gt_tensor(be, GT_DIMS(1), NULL);
    gc_tensor wsn = gt_tensor(be, sc->ndim, sc->dims, NULL);
    float *ru = dup(hu, rows), *rv = xmalloc(cols);
    char what[96];
    for (int steps = 1; steps <= 3; steps += 2) {
        GT_OK(gc_tensor_write(&u, hu));
        memcpy(ru, hu, (size_t)rows * sizeof *ru);
        gt_poison(&v);
        gt_poison(&sig);
        gt_poison(&wsn);
        GT_OK(gc_spectral_norm_forward(&wsn, &u, &v, &sig, &w, steps));
        double s = 0.0;
        for (int k = 0; k < steps; k++)
            s = ref_sn_step(hw, ru, rv, rows, cols);
        float *gu = gt_read(&u), *gv = gt_read(&v), *gw = gt_read(&wsn), gs = read_scalar(&sig);
        float fs = (float)s, *want_w = xmalloc(n);
        for (int64_t e = 0; e < n; e++)
            want_w[e] = hw[e] / fs;
        snprintf(what, sizeof what, "spectral_norm u after %d steps", steps);
        gt_assert_close(gu, ru, rows, 1e-6, what);
        snprintf(what, sizeof what, "spectral_norm v after %d steps", steps);
        gt_assert_close(gv, rv, cols, 1e-6, what);
        gt_assert_close(&gs, &fs, 1, 1e-6, "spectral_norm sigma");
        gt_assert_close(gw, want_w, n, 1e-6, "spectral_norm w_sn");
        free(gu);
        free(gv);
        free(gw);
        free(want_w);
    }

    /* Backward against central differences of the double objective at the
     * op's own u, v (smooth and evaluated in double: tight tolerance). */
    float *r = gt_rand_array(n, -1, 1), *dw0 = gt_rand_array(n, -1, 1);
    gc_tensor dwsn = gt_tensor(be, sc->ndim, sc->dims, r),
              dw = gt_tensor(be, sc->ndim, sc->dims, dw0);
    GT_OK(gc_spectral_norm_backward(&dw, &dwsn, &w, &u, &v, &sig));
    float *gu = gt_read(&u), *gv = gt_read(&v), *got = gt_read(&dw), *num = xmalloc(n);
    double *wd = malloc((size_t)n * sizeof *wd);
    ck_assert_ptr_nonnull(wd);
    for (int64_t e = 0; e < n; e++)
        wd[e] = hw[e];
    const double h = 1e-5;
    for (int64_t e = 0; e < n; e++) {
        wd[e] = hw[e] + h;
        double up = sn_objective(wd, r, gu, gv, rows, cols);
        wd[e] = hw[e] - h;
        double down = sn_objective(wd, r, gu, gv, rows, cols);
        wd[e] = hw[e];
        num[e] = (float)((double)dw0[e] + (up - down) / (2.0 * h));
    }
    /* sigma is float-rounded u^T W v, so (dw - dw0) is relative to the
     * double objective's gradient within a few float roundings. */
    gt_assert_close(got, num, n, TOL, "spectral_norm dw (accumulated) vs finite differences");

    free(wd);
    float *frees[] = {hw, hu, ru, rv, r, dw0, gu, gv, got, num};
    for (size_t i = 0; i < sizeof frees / sizeof frees[0]; i++)
        free(frees[i]);
    gc_tensor *all[] = {&w, &u, &v, &sig, &wsn, &dwsn, &dw};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}
END_TEST

/* ---- EMA ---------------------------------------------------------------------- */

START_TEST(ema_cpu)
{
    gc_backend *be = gt_cpu();
    int64_t n = 2 * gt_randint(10, 500) + 1;
    float *ha = gt_rand_array(n, -2, 2), *hx = gt_rand_array(n, -2, 2), *want = xmalloc(n);
    const float decay = 0.999f;
    gc_tensor a = gt_tensor(be, GT_DIMS(n), ha), x = gt_tensor(be, GT_DIMS(n), hx);
    GT_OK(gc_ema_update(&a, &x, decay));
    for (int64_t i = 0; i < n; i++)
        want[i] = (float)((double)decay * ha[i] + (1.0 - (double)decay) * hx[i]);
    float *got = gt_read(&a);
    gt_assert_close(got, want, n, 1e-6, "ema_update");
    free(got);
    /* A constant x is a fixed point, exactly. */
    GT_OK(gc_copy(&a, &x));
    GT_OK(gc_ema_update(&a, &x, decay));
    got = gt_read(&a);
    gt_assert_close(got, hx, n, 0.0, "ema_update of avg == x");
    free(got);
    free(ha);
    free(hx);
    free(want);
    gt_free(&a);
    gt_free(&x);
}
END_TEST

/* ---- OpenCL against the CPU reference ---------------------------------------- */

/* Reads t on both backends' tensors and compares at TOL. */
static void cmp(const gc_tensor *cl, const gc_tensor *cpu, const char *what)
{
    gt_assert_tensors_close(cl, cpu, TOL, what);
}

static const int64_t hinge_sizes[] = {1, 37, 256, 1001, 4099};
#define NHINGE ((int)(sizeof hinge_sizes / sizeof hinge_sizes[0]))

START_TEST(hinge_cl)
{
    int64_t n = hinge_sizes[_i];
    gc_backend *bes[2] = {gt_cpu(), gt_cl()};
    float *hz = gt_rand_array(n, -3, 3);
    hz[0] = 1.0f; /* the kinks: slope 0 on both backends */
    if (n > 1) hz[n - 1] = -1.0f;
    const float scale = 1.3f;
    char what[96];
    for (int t = GC_HINGE_REAL; t <= GC_HINGE_GEN; t++) {
        gc_tensor z[2], loss[2], dz[2];
        for (int b = 0; b < 2; b++) {
            z[b] = gt_tensor(bes[b], GT_DIMS(n), hz);
            loss[b] = gt_tensor(bes[b], GT_DIMS(1), NULL);
            dz[b] = gt_tensor(bes[b], GT_DIMS(n), NULL);
            GT_OK(gc_hinge_forward(&loss[b], &z[b], (gc_hinge_term)t));
            GT_OK(gc_hinge_backward(&dz[b], &z[b], (gc_hinge_term)t, scale));
        }
        snprintf(what, sizeof what, "opencl vs cpu: hinge %s loss (n %" PRId64 ")",
                 term_name((gc_hinge_term)t), n);
        cmp(&loss[1], &loss[0], what);
        snprintf(what, sizeof what, "opencl vs cpu: hinge %s dz (n %" PRId64 ")",
                 term_name((gc_hinge_term)t), n);
        cmp(&dz[1], &dz[0], what);
        /* dz aliasing z on the device. */
        GT_OK(gc_hinge_backward(&z[1], &z[1], (gc_hinge_term)t, scale));
        cmp(&z[1], &dz[0], "opencl hinge backward with dz aliasing z");
        for (int b = 0; b < 2; b++) {
            gt_free(&z[b]);
            gt_free(&loss[b]);
            gt_free(&dz[b]);
        }
    }
    free(hz);
}
END_TEST

typedef struct mb_case {
    int64_t n, c, h, w;
    int g;
} mb_case;

static const mb_case mb_cases[] = {
    {6, 3, 3, 5, 3}, {1, 1, 1, 1, 1},   {8, 5, 4, 4, 4},  {12, 7, 1, 1, 12},
    {9, 2, 7, 3, 1}, {4, 301, 1, 1, 2}, {64, 3, 5, 5, 4}, {10, 1, 19, 23, 5}, /* G*H*W > a group */
};
#define NMB ((int)(sizeof mb_cases / sizeof mb_cases[0]))

START_TEST(mbstd_cl)
{
    const mb_case *mc = &mb_cases[_i];
    int64_t hw = mc->h * mc->w, chw = mc->c * hw, n = mc->n;
    gc_backend *bes[2] = {gt_cpu(), gt_cl()};
    float *hx = gt_rand_array(n * chw, -1, 1), *hdy = gt_rand_array(n * (chw + hw), -1, 1);
    gc_tensor x[2], y[2], dy[2], dx[2];
    for (int b = 0; b < 2; b++) {
        x[b] = gt_tensor(bes[b], GT_DIMS(n, mc->c, mc->h, mc->w), hx);
        dy[b] = gt_tensor(bes[b], GT_DIMS(n, mc->c + 1, mc->h, mc->w), hdy);
        y[b] = gt_tensor(bes[b], GT_DIMS(n, mc->c + 1, mc->h, mc->w), NULL);
        dx[b] = gt_tensor(bes[b], GT_DIMS(n, mc->c, mc->h, mc->w), NULL);
        GT_OK(gc_mbstd_forward(&y[b], &x[b], mc->g));
        GT_OK(gc_mbstd_backward(&dx[b], &dy[b], &x[b], mc->g));
    }
    char what[128];
    snprintf(what, sizeof what,
             "opencl vs cpu: mbstd forward (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
             ") G %d",
             n, mc->c, mc->h, mc->w, mc->g);
    cmp(&y[1], &y[0], what);
    snprintf(what, sizeof what, "opencl vs cpu: mbstd backward (N %" PRId64 ", C %" PRId64 ") G %d",
             n, mc->c, mc->g);
    cmp(&dx[1], &dx[0], what);
    /* And the CPU against the double reference, at this shape too. */
    float *want = xmalloc(n * (chw + hw)), *got = gt_read(&y[0]);
    ref_mbstd(want, hx, n, mc->c, hw, mc->g);
    gt_assert_close(got, want, n * (chw + hw), 1e-6, "cpu mbstd forward vs reference");
    free(want);
    free(got);
    free(hx);
    free(hdy);
    for (int b = 0; b < 2; b++) {
        gt_free(&x[b]);
        gt_free(&y[b]);
        gt_free(&dy[b]);
        gt_free(&dx[b]);
    }
}
END_TEST

START_TEST(spectral_norm_cl)
{
    const sn_case *sc = &sn_cases[_i];
    int64_t rows = sc->dims[0], cols = sn_cols(sc), n = rows * cols;
    gc_backend *bes[2] = {gt_cpu(), gt_cl()};
    float *hw = gt_rand_array(n, -1, 1), *hu = gt_rand_array(rows, -1, 1);
    float *r = gt_rand_array(n, -1, 1), *dw0 = gt_rand_array(n, -1, 1);
    char what[128];
    for (int steps = 1; steps <= 3; steps += 2) {
        gc_tensor w[2], u[2], v[2], sig[2], wsn[2], g[2], dw[2], sig2[2], v2[2];
        for (int b = 0; b < 2; b++) {
            w[b] = gt_tensor(bes[b], sc->ndim, sc->dims, hw);
            u[b] = gt_tensor(bes[b], GT_DIMS(rows), hu);
            v[b] = gt_tensor(bes[b], GT_DIMS(cols), NULL);
            sig[b] = gt_tensor(bes[b], GT_DIMS(1), NULL);
            wsn[b] = gt_tensor(bes[b], sc->ndim, sc->dims, NULL);
            g[b] = gt_tensor(bes[b], sc->ndim, sc->dims, r);
            dw[b] = gt_tensor(bes[b], sc->ndim, sc->dims, dw0);
            GT_OK(gc_spectral_norm_forward(&wsn[b], &u[b], &v[b], &sig[b], &w[b], steps));
            GT_OK(gc_spectral_norm_backward(&dw[b], &g[b], &w[b], &u[b], &v[b], &sig[b]));
        }
        const char *names[5] = {"u", "v", "sigma", "w_sn", "dw (accumulated)"};
        gc_tensor *outs[5][2] = {{&u[0], &u[1]},
                                 {&v[0], &v[1]},
                                 {&sig[0], &sig[1]},
                                 {&wsn[0], &wsn[1]},
                                 {&dw[0], &dw[1]}};
        for (int k = 0; k < 5; k++) {
            snprintf(what, sizeof what,
                     "opencl vs cpu: spectral_norm %s (%" PRId64 " x %" PRId64 ", %d steps)",
                     names[k], rows, cols, steps);
            cmp(outs[k][1], outs[k][0], what);
        }
        /* Without w_sn: the same u, v, sigma from the same start. */
        for (int b = 0; b < 2; b++) {
            sig2[b] = gt_tensor(bes[b], GT_DIMS(1), NULL);
            v2[b] = gt_tensor(bes[b], GT_DIMS(cols), NULL);
            GT_OK(gc_tensor_write(&u[b], hu));
            GT_OK(gc_spectral_norm_forward(NULL, &u[b], &v2[b], &sig2[b], &w[b], steps));
        }
        cmp(&sig2[1], &sig[0], "opencl spectral_norm sigma without w_sn");
        cmp(&v2[1], &v[0], "opencl spectral_norm v without w_sn");
        for (int b = 0; b < 2; b++) {
            gc_tensor *all[] = {&w[b], &u[b],  &v[b],    &sig[b], &wsn[b],
                                &g[b], &dw[b], &sig2[b], &v2[b]};
            for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                gt_free(all[i]);
        }
    }
    free(hw);
    free(hu);
    free(r);
    free(dw0);
    /* Sigma converges to LAPACK's largest singular value on the device too. */
    check_sigma_vs_svd(gt_cl(), sc, 200);
}
END_TEST

START_TEST(ema_cl)
{
    const int64_t sizes[3] = {1, 1001, 65537};
    int64_t n = sizes[_i];
    gc_backend *bes[2] = {gt_cpu(), gt_cl()};
    float *ha = gt_rand_array(n, -2, 2), *hx = gt_rand_array(n, -2, 2);
    gc_tensor a[2], x[2];
    for (int b = 0; b < 2; b++) {
        a[b] = gt_tensor(bes[b], GT_DIMS(n), ha);
        x[b] = gt_tensor(bes[b], GT_DIMS(n), hx);
        for (int k = 0; k < 3; k++)
            GT_OK(gc_ema_update(&a[b], &x[b], 0.9f));
    }
    cmp(&a[1], &a[0], "opencl vs cpu: ema_update, three steps");
    GT_OK(gc_copy(&a[1], &x[1]));
    GT_OK(gc_ema_update(&a[1], &x[1], 0.999f));
    float *got = gt_read(&a[1]);
    gt_assert_close(got, hx, n, 0.0, "opencl ema_update of avg == x");
    free(got);
    free(ha);
    free(hx);
    for (int b = 0; b < 2; b++) {
        gt_free(&a[b]);
        gt_free(&x[b]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gan_ops");
    TCase *cpu = tcase_create("cpu");
    tcase_add_test(cpu, hinge_cpu);
    tcase_add_loop_test(cpu, mbstd_cpu, 0, 4);
    tcase_add_loop_test(cpu, spectral_norm_cpu, 0, NSNCASES);
    tcase_add_test(cpu, ema_cpu);
    suite_add_tcase(s, cpu);
    if (!gt_cl()) {
        int rc = gt_run_suite(s);
        if (rc) return rc;
        gt_skip_no_opencl("test_gan_ops");
    }
    TCase *cl = tcase_create("opencl");
    tcase_add_loop_test(cl, hinge_cl, 0, NHINGE);
    tcase_add_loop_test(cl, mbstd_cl, 0, NMB);
    tcase_add_loop_test(cl, spectral_norm_cl, 0, NSNCASES);
    tcase_add_loop_test(cl, ema_cl, 0, 3);
    suite_add_tcase(s, cl);
    return gt_run_suite(s);
}

/* tests/test_class_ops.c - the class-conditioning ops (class_embed and
 * class_project, forward and backward; gancl/ops.h).
 *
 * CPU part (always runs): finite-difference checks of both backward passes,
 * bad labels refused before anything is written, and PyTorch's answers
 * (tests/data/goldens/class_*.bin, from tools/make_goldens.py).
 * OpenCL part (skipped with 77 when there is no device, after the CPU part
 * has passed): OpenCL against the CPU reference and a double-precision host
 * reference on random inputs at odd sizes, outputs as views between random
 * guards, accumulation into random starting values, the de pass run twice
 * for bit-identical results, bad labels turned into NaN rows, and the goldens.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "test_support.h"

#define TOL 1e-5

/* ---- host reference, in double, with the device's rule for bad labels ---- */

static int label_class(float v, int64_t k)
{
    if (!(v >= 0.0f && (double)v < (double)k) || v != floorf(v)) return -1;
    return (int)v;
}

/* y (n, f) += e[label]; a bad label's row becomes NaN. */
static void ref_embed(float *y, const float *e, const float *lab, int64_t n, int64_t k, int64_t f)
{
    for (int64_t i = 0; i < n; i++) {
        int c = label_class(lab[i], k);
        for (int64_t j = 0; j < f; j++)
            y[i * f + j] = c < 0 ? NAN : (float)((double)y[i * f + j] + e[c * f + j]);
    }
}

/* de[c] += sum over rows labelled c of (w ? w[i] : 1) * rows[i]. */
static void ref_scatter(float *de, const float *rows, const float *w, const float *lab, int64_t n,
                        int64_t k, int64_t f)
{
    for (int64_t c = 0; c < k; c++)
        for (int64_t j = 0; j < f; j++) {
            double s = 0.0;
            for (int64_t i = 0; i < n; i++)
                if (label_class(lab[i], k) == c) s += (w ? (double)w[i] : 1.0) * rows[i * f + j];
            de[c * f + j] = (float)((double)de[c * f + j] + s);
        }
}

/* y (n) += <e[label], x[i]>. */
static void ref_project(float *y, const float *x, const float *e, const float *lab, int64_t n,
                        int64_t k, int64_t f)
{
    for (int64_t i = 0; i < n; i++) {
        int c = label_class(lab[i], k);
        double s = 0.0;
        for (int64_t j = 0; j < f && c >= 0; j++)
            s += (double)e[c * f + j] * x[i * f + j];
        y[i] = c < 0 ? NAN : (float)((double)y[i] + s);
    }
}

/* dx (n, f) += dy[i] * e[label]. */
static void ref_project_dx(float *dx, const float *dy, const float *e, const float *lab, int64_t n,
                           int64_t k, int64_t f)
{
    for (int64_t i = 0; i < n; i++) {
        int c = label_class(lab[i], k);
        for (int64_t j = 0; j < f; j++)
            dx[i * f + j] =
                c < 0 ? NAN : (float)((double)dx[i * f + j] + (double)dy[i] * e[c * f + j]);
    }
}

/* ---- helpers --------------------------------------------------------------- */

/* n labels in [0, k); with k >= 3 the last class gets no rows, so a de row
 * that nothing adds to is checked too. */
static float *rand_labels(int64_t n, int64_t k)
{
    float *h = malloc((size_t)n * sizeof *h);
    ck_assert_ptr_nonnull(h);
    int top = k >= 3 ? (int)k - 2 : (int)k - 1;
    for (int64_t i = 0; i < n; i++)
        h[i] = (float)gt_randint(0, top);
    return h;
}

static float *dup(const float *a, int64_t n)
{
    float *h = malloc((size_t)n * sizeof *h);
    ck_assert_ptr_nonnull(h);
    memcpy(h, a, (size_t)n * sizeof *h);
    return h;
}

/* NaN exactly where want has NaN, then got within tol of want elsewhere. */
static void assert_close_nan(const float *got, const float *want, int64_t n, double tol,
                             const char *what)
{
    float *g = dup(got, n), *w = dup(want, n);
    for (int64_t i = 0; i < n; i++) {
        ck_assert_msg(!isnan(g[i]) == !isnan(w[i]), "%s: element %" PRId64 " is %g, want %g", what,
                      i, g[i], w[i]);
        if (isnan(w[i])) g[i] = w[i] = 0.0f;
    }
    gt_assert_close(g, w, n, tol, what);
    free(g);
    free(w);
}

/* An output tensor on be: a view at float offset 3 of a buffer whose other
 * elements are random guards, holding init.  *host gets the whole buffer's
 * contents (guards and init), for building the expected buffer. */
typedef struct outbuf {
    gc_tensor base, t;
    int64_t total;
} outbuf;

#define GUARD 3

static outbuf out_make(gc_backend *be, int ndim, const int64_t *dims, const float *init,
                       const float *guards)
{
    outbuf o;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    o.total = n + 2 * GUARD;
    float *h = dup(guards, o.total);
    memcpy(h + GUARD, init, (size_t)n * sizeof *h);
    o.base = gt_tensor(be, GT_DIMS(o.total), h);
    o.t = gc_tensor_view(be, o.base.buf, GUARD, ndim, dims);
    free(h);
    return o;
}

/* Checks the whole buffer of o (guards included) against want_region
 * between the guards. */
static void out_check(const outbuf *o, const float *guards, const float *want_region, double tol,
                      const char *what)
{
    float *want = dup(guards, o->total);
    memcpy(want + GUARD, want_region, (size_t)(o->total - 2 * GUARD) * sizeof *want);
    float *got = gt_read(&o->base);
    assert_close_nan(got, want, o->total, tol, what);
    free(got);
    free(want);
}

/* ---- OpenCL against the CPU reference and the host reference ------------ */

typedef struct xcase {
    int64_t n, k;
    int xdim; /* per-sample dims of x (and of embed's y) */
    int64_t shape[3];
    int y_col; /* project's y as (N, 1) rather than (N) */
} xcase;

static const xcase xcases[] = {
    {37, 7, 1, {53, 1, 1}, 0},   {1, 1, 1, {1, 1, 1}, 1},
    {1, 1, 1, {5, 1, 1}, 0},     {13, 10, 3, {3, 5, 7}, 1}, /* 4-D x and y, flattened per sample */
    {5, 3, 1, {4099, 1, 1}, 0},  /* F > a work-group: project's strided loop */
    {301, 11, 1, {19, 1, 1}, 0}, /* more rows than a work-group */
};
#define NXCASES ((int)(sizeof xcases / sizeof xcases[0]))

/* A 1- to 4-D dims array: n then the per-sample shape. */
static int row_dims(const xcase *xc, int64_t *dims)
{
    dims[0] = xc->n;
    for (int i = 0; i < xc->xdim; i++)
        dims[1 + i] = xc->shape[i];
    return 1 + xc->xdim;
}

START_TEST(cross_backend)
{
    const xcase *xc = &xcases[_i];
    int64_t n = xc->n, k = xc->k, f = xc->shape[0] * xc->shape[1] * xc->shape[2];
    gc_backend *bes[2] = {gt_cpu(), gt_cl()};
    int64_t xdims[4];
    int xnd = row_dims(xc, xdims);
    int64_t ydims[2] = {n, 1}, edims[2] = {k, f};
    int ynd = xc->y_col ? 2 : 1;

    float *e = gt_rand_array(k * f, -1, 1), *lab = rand_labels(n, k);
    float *x = gt_rand_array(n * f, -1, 1), *dyp = gt_rand_array(n, -1, 1);
    float *dyr = gt_rand_array(n * f, -1, 1); /* embed's dy (n, f) */
    float *y0 = gt_rand_array(n * f, -1, 1), *p0 = gt_rand_array(n, -1, 1);
    float *de0 = gt_rand_array(k * f, -1, 1), *dx0 = gt_rand_array(n * f, -1, 1);
    float *g_rows = gt_rand_array(n * f + 2 * GUARD, -9, 9);
    float *g_n = gt_rand_array(n + 2 * GUARD, -9, 9),
          *g_e = gt_rand_array(k * f + 2 * GUARD, -9, 9);

    /* Expected results. */
    float *want_y = dup(y0, n * f), *want_de = dup(de0, k * f);
    float *want_p = dup(p0, n), *want_pde = dup(de0, k * f), *want_dx = dup(dx0, n * f);
    ref_embed(want_y, e, lab, n, k, f);
    ref_scatter(want_de, dyr, NULL, lab, n, k, f);
    ref_project(want_p, x, e, lab, n, k, f);
    ref_scatter(want_pde, x, dyp, lab, n, k, f);
    ref_project_dx(want_dx, dyp, e, lab, n, k, f);

    char what[160];
    float *got[2][5];
    for (int s = 0; s < 2; s++) {
        gc_backend *be = bes[s];
        const char *bn = gc_backend_name(be);
        gc_tensor te = gt_tensor(be, 2, edims, e), tl = gt_tensor(be, GT_DIMS(n), lab);
        gc_tensor tx = gt_tensor(be, xnd, xdims, x), tdyr = gt_tensor(be, xnd, xdims, dyr);
        gc_tensor tdyp = gt_tensor(be, ynd, ydims, dyp);

        outbuf y = out_make(be, xnd, xdims, y0, g_rows);
        GT_OK(gc_class_embed_forward(&y.t, &te, &tl));
        snprintf(what, sizeof what, "%s class_embed forward n %" PRId64 " k %" PRId64, bn, n, k);
        out_check(&y, g_rows, want_y, TOL, what);

        outbuf de = out_make(be, 2, edims, de0, g_e);
        GT_OK(gc_class_embed_backward(&de.t, &tdyr, &tl));
        snprintf(what, sizeof what, "%s class_embed backward n %" PRId64 " k %" PRId64, bn, n, k);
        out_check(&de, g_e, want_de, TOL, what);

        outbuf p = out_make(be, ynd, ydims, p0, g_n);
        GT_OK(gc_class_project_forward(&p.t, &tx, &te, &tl));
        snprintf(what, sizeof what, "%s class_project forward n %" PRId64 " f %" PRId64, bn, n, f);
        out_check(&p, g_n, want_p, TOL, what);

        outbuf pde = out_make(be, 2, edims, de0, g_e), dx = out_make(be, xnd, xdims, dx0, g_rows);
        GT_OK(gc_class_project_backward(&dx.t, &pde.t, &tdyp, &tx, &te, &tl));
        snprintf(what, sizeof what, "%s class_project backward de n %" PRId64, bn, n);
        out_check(&pde, g_e, want_pde, TOL, what);
        snprintf(what, sizeof what, "%s class_project backward dx n %" PRId64, bn, n);
        out_check(&dx, g_rows, want_dx, TOL, what);

        got[s][0] = gt_read(&y.t);
        got[s][1] = gt_read(&de.t);
        got[s][2] = gt_read(&p.t);
        got[s][3] = gt_read(&pde.t);
        got[s][4] = gt_read(&dx.t);

        /* dx NULL: de alone, the same sums again. */
        outbuf pde2 = out_make(be, 2, edims, de0, g_e);
        GT_OK(gc_class_project_backward(NULL, &pde2.t, &tdyp, &tx, &te, &tl));
        snprintf(what, sizeof what, "%s class_project backward without dx", bn);
        out_check(&pde2, g_e, want_pde, TOL, what);

        /* No atomics, one writer per element: the de passes repeat bit for bit. */
        float *a = gt_read(&pde2.t);
        ck_assert_msg(memcmp(a, got[s][3], (size_t)(k * f) * sizeof *a) == 0,
                      "%s: class_project de differs between two runs", bn);
        free(a);
        GT_OK(gc_tensor_write(&de.t, de0));
        GT_OK(gc_class_embed_backward(&de.t, &tdyr, &tl));
        a = gt_read(&de.t);
        ck_assert_msg(memcmp(a, got[s][1], (size_t)(k * f) * sizeof *a) == 0,
                      "%s: class_embed de differs between two runs", bn);
        free(a);

        gc_tensor *all[] = {&te,      &tl,     &tx,       &tdyr,    &tdyp,     &y.base,
                            &de.base, &p.base, &pde.base, &dx.base, &pde2.base};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            gt_free(all[i]);
    }
    const int64_t sizes[5] = {n * f, k * f, n, k * f, n * f};
    const char *names[5] = {"embed y", "embed de", "project y", "project de", "project dx"};
    for (int i = 0; i < 5; i++) {
        snprintf(what, sizeof what, "opencl vs cpu: %s (n %" PRId64 " k %" PRId64 " f %" PRId64 ")",
                 names[i], n, k, f);
        gt_assert_close(got[1][i], got[0][i], sizes[i], TOL, what);
        free(got[0][i]);
        free(got[1][i]);
    }
    float *frees[] = {e,      lab, x,   dyp,    dyr,     y0,     p0,       de0,    dx0,
                      g_rows, g_n, g_e, want_y, want_de, want_p, want_pde, want_dx};
    for (size_t i = 0; i < sizeof frees / sizeof frees[0]; i++)
        free(frees[i]);
}
END_TEST

/* ---- finite differences (CPU) ----------------------------------------------
 * Both ops are linear in e, and class_project is linear in x too, so a
 * central difference has no truncation error at any step: a large step
 * (h = 0.5) keeps float rounding of y small next to the difference.  The
 * objective sum_i w_i . y_i is summed in double on the host. */

static double objective(const gc_tensor *y, const float *w)
{
    int64_t m = gc_tensor_numel(y);
    float *h = gt_read(y);
    double s = 0.0;
    for (int64_t i = 0; i < m; i++)
        s += (double)w[i] * h[i];
    free(h);
    return s;
}

/* y = 0, then the op; returns the objective.  which: 0 embed, 1 project. */
static double run_fwd(int which, const gc_tensor *y, const gc_tensor *x, const gc_tensor *e,
                      const gc_tensor *lab, const float *w)
{
    GT_OK(gc_fill(y, 0.0f));
    if (which == 0)
        GT_OK(gc_class_embed_forward(y, e, lab));
    else
        GT_OK(gc_class_project_forward(y, x, e, lab));
    return objective(y, w);
}

/* d objective / d t[i] for every element of t (a tensor the forward reads). */
static float *numeric_grad(int which, const gc_tensor *t, const gc_tensor *y, const gc_tensor *x,
                           const gc_tensor *e, const gc_tensor *lab, const float *w)
{
    const float h = 0.5f;
    int64_t m = gc_tensor_numel(t);
    float *v = gt_read(t), *g = malloc((size_t)m * sizeof *g);
    ck_assert_ptr_nonnull(g);
    for (int64_t i = 0; i < m; i++) {
        float keep = v[i];
        v[i] = keep + h;
        GT_OK(gc_tensor_write(t, v));
        double up = run_fwd(which, y, x, e, lab, w);
        v[i] = keep - h;
        GT_OK(gc_tensor_write(t, v));
        double down = run_fwd(which, y, x, e, lab, w);
        v[i] = keep;
        g[i] = (float)((up - down) / (2.0 * h));
    }
    GT_OK(gc_tensor_write(t, v));
    free(v);
    return g;
}

START_TEST(finite_differences)
{
    gc_backend *be = gt_cpu();
    int64_t n = 2 * gt_randint(3, 8) + 1, k = gt_randint(3, 6);
    int64_t xdims[4] = {n, 3, 2, 1 + 2 * gt_randint(0, 2)}, f = 3 * 2 * xdims[3];
    float *he = gt_rand_array(k * f, -1, 1), *hl = rand_labels(n, k);
    float *hx = gt_rand_array(n * f, -1, 1);
    gc_tensor e = gt_tensor(be, GT_DIMS(k, f), he), lab = gt_tensor(be, GT_DIMS(n), hl);
    gc_tensor x = gt_tensor(be, 4, xdims, hx);
    char what[96];

    /* class_embed: de against differences in e; y (N, C, H, W). */
    float *w = gt_rand_array(n * f, -1, 1);
    gc_tensor y = gt_tensor(be, 4, xdims, NULL), dy = gt_tensor(be, 4, xdims, w);
    gc_tensor de = gt_tensor(be, GT_DIMS(k, f), NULL);
    GT_OK(gc_fill(&de, 0.0f));
    GT_OK(gc_class_embed_backward(&de, &dy, &lab));
    float *num = numeric_grad(0, &e, &y, &x, &e, &lab, w), *ana = gt_read(&de);
    snprintf(what, sizeof what, "class_embed de vs finite differences (n %" PRId64 ")", n);
    gt_assert_close(ana, num, k * f, TOL, what);
    free(num);
    free(ana);
    free(w);

    /* class_project: de and dx against differences in e and x; y (N, 1). */
    float *wp = gt_rand_array(n, -1, 1);
    gc_tensor yp = gt_tensor(be, GT_DIMS(n, 1), NULL), dyp = gt_tensor(be, GT_DIMS(n, 1), wp);
    gc_tensor dx = gt_tensor(be, 4, xdims, NULL);
    GT_OK(gc_fill(&de, 0.0f));
    GT_OK(gc_fill(&dx, 0.0f));
    GT_OK(gc_class_project_backward(&dx, &de, &dyp, &x, &e, &lab));
    num = numeric_grad(1, &e, &yp, &x, &e, &lab, wp);
    ana = gt_read(&de);
    gt_assert_close(ana, num, k * f, TOL, "class_project de vs finite differences");
    free(num);
    free(ana);
    num = numeric_grad(1, &x, &yp, &x, &e, &lab, wp);
    ana = gt_read(&dx);
    gt_assert_close(ana, num, n * f, TOL, "class_project dx vs finite differences");
    free(num);
    free(ana);

    free(wp);
    free(he);
    free(hl);
    free(hx);
    gc_tensor *all[] = {&e, &lab, &x, &y, &dy, &de, &yp, &dyp, &dx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}
END_TEST

/* ---- bad labels ---------------------------------------------------------------- */

static const float bad_values[] = {-1.0f, 2.5f, NAN, -0.5f, 1e9f, INFINITY};
#define NBAD ((int)(sizeof bad_values / sizeof bad_values[0]))
enum { BAD_N = 9, BAD_K = 4, BAD_F = 11, BAD_ROW = 5 };

/* The labels with row BAD_ROW set to bad value b (b == NBAD: K itself). */
static void bad_labels(float *lab, int b)
{
    for (int i = 0; i < BAD_N; i++)
        lab[i] = (float)(i % BAD_K);
    lab[BAD_ROW] = b < NBAD ? bad_values[b] : (float)BAD_K;
}

/* CPU: GC_ERR_ARG and every output exactly as it was. */
START_TEST(bad_labels_cpu)
{
    gc_backend *be = gt_cpu();
    float lab[BAD_N];
    bad_labels(lab, _i);
    float *he = gt_rand_array(BAD_K * BAD_F, -1, 1), *hx = gt_rand_array(BAD_N * BAD_F, -1, 1);
    float *hy = gt_rand_array(BAD_N * BAD_F, -1, 1), *hde = gt_rand_array(BAD_K * BAD_F, -1, 1);
    float *hp = gt_rand_array(BAD_N, -1, 1), *hdx = gt_rand_array(BAD_N * BAD_F, -1, 1);
    gc_tensor l = gt_tensor(be, GT_DIMS(BAD_N), lab), e = gt_tensor(be, GT_DIMS(BAD_K, BAD_F), he);
    gc_tensor x = gt_tensor(be, GT_DIMS(BAD_N, BAD_F), hx),
              y = gt_tensor(be, GT_DIMS(BAD_N, BAD_F), hy);
    gc_tensor de = gt_tensor(be, GT_DIMS(BAD_K, BAD_F), hde), p = gt_tensor(be, GT_DIMS(BAD_N), hp);
    gc_tensor dx = gt_tensor(be, GT_DIMS(BAD_N, BAD_F), hdx);
    gc_tensor dy = gt_tensor(be, GT_DIMS(BAD_N, BAD_F), hx), dp = gt_tensor(be, GT_DIMS(BAD_N), hp);

    ck_assert_int_eq(gc_class_embed_forward(&y, &e, &l), GC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "label"));
    ck_assert_int_eq(gc_class_embed_backward(&de, &dy, &l), GC_ERR_ARG);
    ck_assert_int_eq(gc_class_project_forward(&p, &x, &e, &l), GC_ERR_ARG);
    ck_assert_int_eq(gc_class_project_backward(&dx, &de, &dp, &x, &e, &l), GC_ERR_ARG);
    ck_assert_int_eq(gc_class_project_backward(NULL, &de, &dp, &x, &e, &l), GC_ERR_ARG);

    const gc_tensor *outs[4] = {&y, &de, &p, &dx};
    const float *was[4] = {hy, hde, hp, hdx};
    for (int i = 0; i < 4; i++) {
        float *now = gt_read(outs[i]);
        ck_assert_msg(memcmp(now, was[i], (size_t)gc_tensor_numel(outs[i]) * sizeof(float)) == 0,
                      "cpu output %d written despite label %g", i, lab[BAD_ROW]);
        free(now);
    }
    float *frees[] = {he, hx, hy, hde, hp, hdx};
    for (int i = 0; i < 6; i++)
        free(frees[i]);
    gc_tensor *all[] = {&l, &e, &x, &y, &de, &p, &dx, &dy, &dp};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}
END_TEST

/* OpenCL: NaN in the bad row of y and dx, the other rows right, and
 * nothing from the bad row in de (the host reference skips it the same way). */
START_TEST(bad_labels_cl)
{
    gc_backend *be = gt_cl();
    const int64_t n = BAD_N, k = BAD_K, f = BAD_F;
    float lab[BAD_N];
    bad_labels(lab, _i);
    float *he = gt_rand_array(k * f, -1, 1), *hx = gt_rand_array(n * f, -1, 1);
    float *hy = gt_rand_array(n * f, -1, 1), *hde = gt_rand_array(k * f, -1, 1);
    float *hp = gt_rand_array(n, -1, 1), *hdx = gt_rand_array(n * f, -1, 1);
    float *hdp = gt_rand_array(n, -1, 1);
    gc_tensor l = gt_tensor(be, GT_DIMS(n), lab), e = gt_tensor(be, GT_DIMS(k, f), he);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, f), hx), y = gt_tensor(be, GT_DIMS(n, f), hy);
    gc_tensor de = gt_tensor(be, GT_DIMS(k, f), hde), p = gt_tensor(be, GT_DIMS(n), hp);
    gc_tensor dx = gt_tensor(be, GT_DIMS(n, f), hdx), dp = gt_tensor(be, GT_DIMS(n), hdp);
    char what[96];

    GT_OK(gc_class_embed_forward(&y, &e, &l));
    float *want = dup(hy, n * f), *got = gt_read(&y);
    ref_embed(want, he, lab, n, k, f);
    snprintf(what, sizeof what, "class_embed forward, label %g", lab[BAD_ROW]);
    assert_close_nan(got, want, n * f, TOL, what);
    for (int64_t j = 0; j < f; j++)
        ck_assert(isnan(got[BAD_ROW * f + j]));
    free(want);
    free(got);

    /* embed backward, dy = x. */
    GT_OK(gc_class_embed_backward(&de, &x, &l));
    want = dup(hde, k * f);
    ref_scatter(want, hx, NULL, lab, n, k, f);
    got = gt_read(&de);
    snprintf(what, sizeof what, "class_embed backward, label %g", lab[BAD_ROW]);
    gt_assert_close(got, want, k * f, TOL, what); /* no NaN at all */
    free(want);
    free(got);

    GT_OK(gc_class_project_forward(&p, &x, &e, &l));
    want = dup(hp, n);
    ref_project(want, hx, he, lab, n, k, f);
    got = gt_read(&p);
    ck_assert(isnan(got[BAD_ROW]));
    assert_close_nan(got, want, n, TOL, "class_project forward, bad label");
    free(want);
    free(got);

    GT_OK(gc_tensor_write(&de, hde));
    GT_OK(gc_class_project_backward(&dx, &de, &dp, &x, &e, &l));
    want = dup(hde, k * f);
    ref_scatter(want, hx, hdp, lab, n, k, f);
    got = gt_read(&de);
    gt_assert_close(got, want, k * f, TOL, "class_project backward de, bad label");
    free(want);
    free(got);
    want = dup(hdx, n * f);
    ref_project_dx(want, hdp, he, lab, n, k, f);
    got = gt_read(&dx);
    for (int64_t j = 0; j < f; j++)
        ck_assert(isnan(got[BAD_ROW * f + j]));
    assert_close_nan(got, want, n * f, TOL, "class_project backward dx, bad label");
    free(want);
    free(got);

    float *frees[] = {he, hx, hy, hde, hp, hdx, hdp};
    for (int i = 0; i < 7; i++)
        free(frees[i]);
    gc_tensor *all[] = {&l, &e, &x, &y, &de, &p, &dx, &dp};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}
END_TEST

/* ---- PyTorch's answers ----------------------------------------------------------- */

static const char *const golden_cases[] = {
    "class_embed_n37_k7_f53", "class_embed_n5_k3_4d", "class_project_n37_k10",
    "class_project_n9_k4_4d", "class_project_n1_k1",
};
#define NGOLDEN ((int)(sizeof golden_cases / sizeof golden_cases[0]))

/* t against scale * golden[name]. */
static void expect(const gt_golden *g, const gc_tensor *t, const char *name, float scale,
                   const char *what)
{
    const gt_golden_array *a = gt_golden_get(g, name);
    ck_assert_int_eq(gc_tensor_numel(t), a->numel);
    float *got = gt_read(t), *want = malloc((size_t)a->numel * sizeof *want);
    ck_assert_ptr_nonnull(want);
    for (int64_t i = 0; i < a->numel; i++)
        want[i] = scale * a->data[i];
    gt_assert_close(got, want, a->numel, TOL, what);
    free(got);
    free(want);
}

static void run_golden(gc_backend *be, const char *name)
{
    char path[1024], what[160];
    snprintf(path, sizeof path, "%s/goldens/%s.bin", GANCL_TEST_DATA, name);
    gt_golden *g = gt_golden_open(path);
    const char *bn = gc_backend_name(be);
    gc_tensor e = gt_golden_tensor(be, g, "e"), lab = gt_golden_tensor(be, g, "labels");
    gc_tensor y = gt_golden_tensor(be, g, "y0"), dy = gt_golden_tensor(be, g, "dy");
    gc_tensor de = gt_golden_like(be, g, "e");
    if (!strncmp(name, "class_embed", 11)) {
        GT_OK(gc_class_embed_forward(&y, &e, &lab));
        snprintf(what, sizeof what, "%s [%s] y", name, bn);
        expect(g, &y, "y", 1.0f, what);
        GT_OK(gc_fill(&de, 0.0f));
        GT_OK(gc_class_embed_backward(&de, &dy, &lab));
        snprintf(what, sizeof what, "%s [%s] de", name, bn);
        expect(g, &de, "de", 1.0f, what);
        GT_OK(gc_class_embed_backward(&de, &dy, &lab));
        snprintf(what, sizeof what, "%s [%s] de accumulated", name, bn);
        expect(g, &de, "de", 2.0f, what);
    } else {
        gc_tensor x = gt_golden_tensor(be, g, "x"), dx = gt_golden_tensor(be, g, "dx0");
        GT_OK(gc_class_project_forward(&y, &x, &e, &lab));
        snprintf(what, sizeof what, "%s [%s] y", name, bn);
        expect(g, &y, "y", 1.0f, what);
        GT_OK(gc_fill(&de, 0.0f));
        GT_OK(gc_class_project_backward(&dx, &de, &dy, &x, &e, &lab));
        snprintf(what, sizeof what, "%s [%s] dx", name, bn);
        expect(g, &dx, "dx", 1.0f, what);
        snprintf(what, sizeof what, "%s [%s] de", name, bn);
        expect(g, &de, "de", 1.0f, what);
        GT_OK(gc_class_project_backward(NULL, &de, &dy, &x, &e, &lab));
        snprintf(what, sizeof what, "%s [%s] de accumulated, dx NULL", name, bn);
        expect(g, &de, "de", 2.0f, what);
        gt_free(&x);
        gt_free(&dx);
    }
    gc_tensor *all[] = {&e, &lab, &y, &dy, &de};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
    gt_golden_free(g);
}

START_TEST(golden_cpu)
{
    run_golden(gt_cpu(), golden_cases[_i]);
}
END_TEST

START_TEST(golden_cl)
{
    run_golden(gt_cl(), golden_cases[_i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("class_ops");
    TCase *cpu = tcase_create("cpu");
    tcase_add_test(cpu, finite_differences);
    tcase_add_loop_test(cpu, bad_labels_cpu, 0, NBAD + 1);
    tcase_add_loop_test(cpu, golden_cpu, 0, NGOLDEN);
    suite_add_tcase(s, cpu);
    if (!gt_cl()) {
        /* The CPU half still has to pass before the run counts as skipped. */
        int rc = gt_run_suite(s);
        if (rc) return rc;
        gt_skip_no_opencl("test_class_ops");
    }
    TCase *cl = tcase_create("opencl");
    tcase_add_loop_test(cl, cross_backend, 0, NXCASES);
    tcase_add_loop_test(cl, bad_labels_cl, 0, NBAD + 1);
    tcase_add_loop_test(cl, golden_cl, 0, NGOLDEN);
    suite_add_tcase(s, cl);
    return gt_run_suite(s);
}

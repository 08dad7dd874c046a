/* tests/test_backend_ops.c - every op of gancl/ops.h on the CPU reference
 * backend and on OpenCL, compared (ggml's test-backend-ops, in Check).
 *
 * Each case draws fresh random inputs at odd shapes and uploads the same
 * values to both backends; outputs start as NaN on both (an element a
 * kernel forgets to write fails the comparison); parameter gradients start
 * as the same random values on both, so "+=" versus "=" shows.  Results
 * are compared by normalised error, ||cl - cpu|| / ||cpu||, at 1e-5 unless
 * a case says why it needs more.  The CPU reference accumulates in double;
 * the OpenCL kernels in float, so 1e-5 is what float accumulation of these
 * sizes must reach, not a bit-for-bit claim (the uniform random stream is
 * the one bit-exact check).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_forms.h"
#include "test_support.h"
#include "util/philox.h"

#define TOL 1e-5

/* The same tensor on both backends: c on the CPU reference, g on OpenCL. */
typedef struct pair {
    gc_tensor c, g;
} pair;

/* Side s of a pair: 0 is the CPU reference, 1 OpenCL. */
#define T(p, s) ((s) ? &(p).g : &(p).c)
#define BOTH    for (int s = 0; s < 2; s++)

static int64_t dims_numel(int ndim, const int64_t *dims)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= dims[i];
    return n;
}

/* Both tensors from one host array (NaN everywhere when h is NULL). */
static pair p_host(int ndim, const int64_t *dims, const float *h)
{
    pair p;
    p.c = gt_tensor(gt_cpu(), ndim, dims, h);
    p.g = gt_tensor(gt_cl(), ndim, dims, h);
    return p;
}

static pair p_rand(int ndim, const int64_t *dims, float lo, float hi)
{
    float *h = gt_rand_array(dims_numel(ndim, dims), lo, hi);
    pair p = p_host(ndim, dims, h);
    free(h);
    return p;
}

static pair p_out(int ndim, const int64_t *dims)
{
    return p_host(ndim, dims, NULL);
}

/* A pair holding what the CPU reference computed in t, so a backward pass
 * sees identical inputs on both sides. */
static pair p_from_cpu(const gc_tensor *t)
{
    float *h = gt_read(t);
    pair p = p_host(t->ndim, t->shape, h);
    free(h);
    return p;
}

static void p_free(pair *p)
{
    gt_free(&p->c);
    gt_free(&p->g);
}

static void p_check_at(const pair *p, double tol, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void p_check_at(const pair *p, double tol, const char *file, int line, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    gt_assert_tensors_close_at(&p->g, &p->c, tol, what, file, line);
}
#define p_check(p, tol, ...) p_check_at(p, tol, __FILE__, __LINE__, __VA_ARGS__)

/* Views at float offset off of a larger 1-D base pair, so kernels see
 * non-zero offsets; the base's other elements are guards that a stray
 * write would change on one side only. */
static pair p_view(const pair *base, size_t off, int ndim, const int64_t *dims, const float *h)
{
    pair p;
    p.c = gc_tensor_view(gt_cpu(), base->c.buf, off, ndim, dims);
    p.g = gc_tensor_view(gt_cl(), base->g.buf, off, ndim, dims);
    BOTH
    {
        if (h)
            GT_OK(gc_tensor_write(T(p, s), h));
        else
            gt_poison(T(p, s));
    }
    return p;
}

static float read1(const gc_tensor *t)
{
    float v;
    GT_OK(gc_tensor_read(t, &v));
    return v;
}

/* ---- fill, copy, add, scale ----------------------------------------------------- */

START_TEST(elementwise)
{
    int64_t n = 2 * gt_randint(500, 3000) + 1;
    pair y = p_out(GT_DIMS(n));
    float v = (float)(gt_uniform() * 4 - 2);
    BOTH GT_OK(gc_fill(T(y, s), v));
    p_check(&y, 0, "fill %" PRId64, n);

    pair x = p_rand(GT_DIMS(n), -3, 3);
    gt_poison(&y.c);
    gt_poison(&y.g);
    BOTH GT_OK(gc_copy(T(y, s), T(x, s)));
    p_check(&y, 0, "copy");

    pair a = p_rand(GT_DIMS(n), -3, 3), b = p_rand(GT_DIMS(n), -3, 3);
    gt_poison(&y.c);
    gt_poison(&y.g);
    BOTH GT_OK(gc_add(T(y, s), T(a, s), T(b, s)));
    p_check(&y, 0, "add");
    BOTH GT_OK(gc_add(T(a, s), T(a, s), T(b, s))); /* y aliases a */
    p_check(&a, 0, "add in place");

    float alpha = (float)(gt_uniform() * 3 - 1.5);
    gt_poison(&y.c);
    gt_poison(&y.g);
    BOTH GT_OK(gc_scale(T(y, s), T(x, s), alpha));
    p_check(&y, 0, "scale");
    BOTH GT_OK(gc_scale(T(x, s), T(x, s), alpha));
    p_check(&x, 0, "scale in place");

    /* Views at odd offsets of one buffer, with guards around them. */
    int64_t m = gt_randint(100, 999), total = 3 * m + 17;
    pair base = p_rand(GT_DIMS(total), -1, 1);
    float *ha = gt_rand_array(m, -1, 1), *hb = gt_rand_array(m, -1, 1);
    pair va = p_view(&base, 3, GT_DIMS(m), ha), vb = p_view(&base, (size_t)m + 9, GT_DIMS(m), hb);
    pair vy = p_view(&base, 2 * (size_t)m + 13, GT_DIMS(m), NULL);
    BOTH GT_OK(gc_add(T(vy, s), T(va, s), T(vb, s)));
    p_check(&base, 0, "add on views (offsets 3, %" PRId64 ", %" PRId64 ")", m + 9, 2 * m + 13);
    free(ha);
    free(hb);
    p_free(&base);
    p_free(&y);
    p_free(&x);
    p_free(&a);
    p_free(&b);
}
END_TEST

/* ---- sum and mean --------------------------------------------------------------- */

START_TEST(sum_mean)
{
    const int64_t sizes[] = {1, 7, 1000, 2 * gt_randint(20000, 60000) + 1};
    for (int k = 0; k < 4; k++) {
        int64_t n = sizes[k];
        for (int positive = 0; positive < 2; positive++) {
            /* Positive values (a sum that only grows) and centred ones
             * (a sum with cancellation) stress different roundings. */
            pair x = positive ? p_rand(GT_DIMS(n), 0.5f, 3.0f) : p_rand(GT_DIMS(n), -1, 1);
            pair y = p_out(GT_DIMS(1));
            BOTH GT_OK(gc_sum(T(y, s), T(x, s)));
            p_check(&y, TOL, "sum of %" PRId64 " (positive %d)", n, positive);
            gt_poison(&y.c);
            gt_poison(&y.g);
            BOTH GT_OK(gc_mean(T(y, s), T(x, s)));
            p_check(&y, TOL, "mean of %" PRId64 " (positive %d)", n, positive);
            p_free(&x);
            p_free(&y);
        }
    }
}
END_TEST

/* ---- GEMM --------------------------------------------------------------------- */

static void gemm_case(int ta, int tb, int64_t m, int64_t n, int64_t k, float beta, int pad)
{
    int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
    int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
    gc_gemm_args g = {.trans_a = ta,
                      .trans_b = tb,
                      .m = m,
                      .n = n,
                      .k = k,
                      .alpha = 1.25f,
                      .beta = beta,
                      .lda = a_cols + pad,
                      .ldb = b_cols + 2 * pad,
                      .ldc = n + 3 * pad};
    /* A and B at offsets inside one buffer; the row gaps hold garbage
     * that must not be read into the product. */
    int64_t na = (a_rows - 1) * g.lda + a_cols, nb = (b_rows - 1) * g.ldb + b_cols;
    int64_t nc = (m - 1) * g.ldc + n;
    pair base = p_rand(GT_DIMS(na + nb + 11), -1, 1);
    pair a = p_view(&base, 5, GT_DIMS(na), NULL),
         b = p_view(&base, (size_t)na + 11, GT_DIMS(nb), NULL);
    float *ha = gt_rand_array(na, -1, 1), *hb = gt_rand_array(nb, -1, 1);
    BOTH
    {
        GT_OK(gc_tensor_write(T(a, s), ha));
        GT_OK(gc_tensor_write(T(b, s), hb));
    }
    /* C's gaps hold random values that must survive; with beta = 0 its
     * elements are NaN, which must not leak into the result. */
    float *hc = gt_rand_array(nc, -1, 1);
    if (beta == 0)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                hc[i * g.ldc + j] = NAN;
    pair c = p_host(GT_DIMS(nc), hc);
    BOTH GT_OK(gc_gemm(T(c, s), T(a, s), T(b, s), &g));
    p_check(&c, TOL, "gemm ta=%d tb=%d m=%" PRId64 " n=%" PRId64 " k=%" PRId64 " beta=%g ld+%d", ta,
            tb, m, n, k, beta, pad);
    free(ha);
    free(hb);
    free(hc);
    p_free(&base);
    p_free(&c);
}

START_TEST(gemm)
{
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int64_t m = 2 * gt_randint(5, 30) + 1, n = 2 * gt_randint(5, 30) + 1;
            int64_t k = 2 * gt_randint(5, 30) + 1;
            gemm_case(ta, tb, m, n, k, 0.0f, 3);
            gemm_case(ta, tb, m, n, k, 0.75f, 1);
            gemm_case(ta, tb, m, n, k, 1.0f, 0);
        }
    /* Large enough for CLBlast's indirect (padded, tiled) kernel path. */
    gemm_case(1, 0, 385, 389, 391, 0.5f, 2);
    gemm_case(0, 1, 1, 257, 129, 0.0f, 0); /* a single row */
    /* C 48 wide (a ragged column of 32-wide tiles, whole 16-wide ones) and
     * 64 high: with A^T the CPU family computes C^T = B^T A^T instead. */
    gemm_case(1, 0, 64, 48, 2 * gt_randint(20, 60) + 1, 0.0f, 1);
    gemm_case(1, 0, 64, 48, 2 * gt_randint(20, 60) + 1, 0.75f, 0);
    gemm_case(0, 0, 2 * gt_randint(20, 60) + 1, 48, 2 * gt_randint(5, 30) + 1, 0.0f, 2);
}
END_TEST

/* ---- dense -------------------------------------------------------------------- */

START_TEST(dense)
{
    int64_t n = gt_randint(1, 9), c = 3, h = gt_randint(2, 5), w = 5, in = c * h * w;
    int64_t out = 2 * gt_randint(3, 20) + 1;
    for (int variant = 0; variant < 3; variant++) {
        int has_b = variant != 1, has_dx = variant != 2;
        pair x = p_rand(GT_DIMS(n, c, h, w), -1, 1), wt = p_rand(GT_DIMS(out, in), -0.5f, 0.5f);
        pair b = p_rand(GT_DIMS(out), -1, 1), y = p_out(GT_DIMS(n, out));
        BOTH GT_OK(gc_dense_forward(T(y, s), T(x, s), T(wt, s), has_b ? T(b, s) : NULL));
        p_check(&y, TOL, "dense forward n=%" PRId64 " in=%" PRId64 " out=%" PRId64 " bias=%d", n,
                in, out, has_b);

        pair dy = p_rand(GT_DIMS(n, out), -1, 1), dx = p_out(GT_DIMS(n, c, h, w));
        pair dw = p_rand(GT_DIMS(out, in), -1, 1), db = p_rand(GT_DIMS(out), -1, 1);
        BOTH GT_OK(gc_dense_backward(has_dx ? T(dx, s) : NULL, T(dw, s), has_b ? T(db, s) : NULL,
                                     T(dy, s), T(x, s), T(wt, s)));
        if (has_dx) p_check(&dx, TOL, "dense dx");
        p_check(&dw, TOL, "dense dw (accumulated)");
        p_check(&db, TOL, "dense db (accumulated, or untouched without bias)");
        pair *all[] = {&x, &wt, &b, &y, &dy, &dx, &dw, &db};
        for (int i = 0; i < 8; i++)
            p_free(all[i]);
    }
}
END_TEST

/* ---- conv2d -------------------------------------------------------------------- */

typedef struct conv_case {
    int n, c, h, w, oc, kh, kw, sh, sw, ph, pw, oph, opw, bias, dx;
} conv_case;

static const conv_case conv_cases[] = {
    /*  n  c   h   w  oc kh kw sh sw ph pw op op bias dx */
    {3, 5, 13, 11, 7, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1},
    {3, 5, 13, 11, 4, 1, 7, 1, 1, 0, 3, 0, 0, 1, 1},
    {3, 5, 13, 11, 4, 7, 1, 1, 1, 3, 0, 0, 0, 0, 1},
    {2, 3, 16, 16, 8, 4, 4, 2, 2, 1, 1, 0, 0, 0, 0},
    {1, 6, 9, 7, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
    {3, 4, 12, 10, 6, 3, 3, 2, 1, 0, 1, 0, 0, 1, 1},
    {2, 3, 17, 17, 5, 3, 3, 2, 2, 0, 0, 0, 0, 0, 1},
    {3, 5, 13, 11, 7, 5, 3, 3, 2, 2, 1, 0, 0, 1, 0},
    /* 32 output channels and K = 48: the weight gradient as C^T = B^T A^T */
    {3, 3, 10, 9, 32, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1},
    /* 40 output channels: a full 32-column tile and a ragged one, both
     * written to NCHW a column at a time where 12 rows lie in one image */
    {2, 3, 9, 8, 40, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1},
    /* few outputs and a long reduction over 4*30*30 pixels: the GPU
     * kernels split the weight gradient's K into partial sums */
    {4, 3, 30, 30, 5, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1},
    /* K = 32*4*4 = 512: col and W' get rows longer than K (cl_conv.c) */
    {2, 32, 9, 7, 5, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1},
};

static void conv2d_run(const conv_case *k, const char *tag)
{
    gc_conv_params p = {k->sh, k->sw, k->ph, k->pw, 0, 0};
    int64_t oh = gc_conv_out_size(k->h, k->kh, k->sh, k->ph);
    int64_t ow = gc_conv_out_size(k->w, k->kw, k->sw, k->pw);
    pair x = p_rand(GT_DIMS(k->n, k->c, k->h, k->w), -1, 1);
    pair w = p_rand(GT_DIMS(k->oc, k->c, k->kh, k->kw), -0.5f, 0.5f);
    pair b = p_rand(GT_DIMS(k->oc), -1, 1), y = p_out(GT_DIMS(k->n, k->oc, oh, ow));
    BOTH GT_OK(gc_conv2d_forward(T(y, s), T(x, s), T(w, s), k->bias ? T(b, s) : NULL, &p));
    char what[160];
    snprintf(what, sizeof what,
             "%sconv2d x[%d,%d,%d,%d] w[%d,%d,%d,%d] stride %d,%d pad %d,%d bias %d dx %d", tag,
             k->n, k->c, k->h, k->w, k->oc, k->c, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw, k->bias,
             k->dx);
    p_check(&y, TOL, "%s: y", what);

    pair dy = p_rand(GT_DIMS(k->n, k->oc, oh, ow), -1, 1);
    pair dx = p_out(GT_DIMS(k->n, k->c, k->h, k->w));
    pair dw = p_rand(GT_DIMS(k->oc, k->c, k->kh, k->kw), -1, 1), db = p_rand(GT_DIMS(k->oc), -1, 1);
    BOTH GT_OK(gc_conv2d_backward(k->dx ? T(dx, s) : NULL, T(dw, s), k->bias ? T(db, s) : NULL,
                                  T(dy, s), T(x, s), T(w, s), &p));
    if (k->dx) p_check(&dx, TOL, "%s: dx", what);
    p_check(&dw, TOL, "%s: dw (accumulated)", what);
    p_check(&db, TOL, "%s: db (accumulated)", what);
    pair *all[] = {&x, &w, &b, &y, &dy, &dx, &dw, &db};
    for (int i = 0; i < 8; i++)
        p_free(all[i]);
}

START_TEST(conv2d)
{
    conv2d_run(&conv_cases[_i], "");
}
END_TEST

/* ---- conv_transpose2d ---------------------------------------------------------- */

static const conv_case convt_cases[] = {
    /*  n  c  h  w oc kh kw sh sw ph pw op op bias dx */
    {3, 5, 7, 6, 4, 4, 4, 2, 2, 1, 1, 0, 0, 0, 1},
    {3, 5, 7, 6, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
    {2, 4, 5, 4, 6, 5, 3, 3, 2, 2, 1, 2, 1, 1, 1},
    {2, 6, 1, 1, 8, 4, 4, 1, 1, 0, 0, 0, 0, 0, 0},
    {3, 5, 6, 5, 2, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
    {3, 5, 13, 11, 7, 1, 7, 1, 2, 0, 3, 0, 1, 1, 0},
    /* a reduction over 3*17*15 pixels into a 2 x 48 gradient (split K) */
    {3, 2, 17, 15, 3, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1},
    /* 32 output channels, K = 512: padded rows of col and W' */
    {2, 7, 5, 4, 32, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1},
};

static void convt_run(const conv_case *k, const char *tag)
{
    gc_conv_params p = {k->sh, k->sw, k->ph, k->pw, k->oph, k->opw};
    int64_t oh = gc_conv_transpose_out_size(k->h, k->kh, k->sh, k->ph, k->oph);
    int64_t ow = gc_conv_transpose_out_size(k->w, k->kw, k->sw, k->pw, k->opw);
    pair x = p_rand(GT_DIMS(k->n, k->c, k->h, k->w), -1, 1);
    pair w = p_rand(GT_DIMS(k->c, k->oc, k->kh, k->kw), -0.5f, 0.5f);
    pair b = p_rand(GT_DIMS(k->oc), -1, 1), y = p_out(GT_DIMS(k->n, k->oc, oh, ow));
    BOTH GT_OK(
        gc_conv_transpose2d_forward(T(y, s), T(x, s), T(w, s), k->bias ? T(b, s) : NULL, &p));
    char what[200];
    snprintf(what, sizeof what,
             "%sconv_transpose2d x[%d,%d,%d,%d] w[%d,%d,%d,%d] stride %d,%d pad %d,%d "
             "out_pad %d,%d bias %d dx %d",
             tag, k->n, k->c, k->h, k->w, k->c, k->oc, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw,
             k->oph, k->opw, k->bias, k->dx);
    p_check(&y, TOL, "%s: y", what);

    pair dy = p_rand(GT_DIMS(k->n, k->oc, oh, ow), -1, 1);
    pair dx = p_out(GT_DIMS(k->n, k->c, k->h, k->w));
    pair dw = p_rand(GT_DIMS(k->c, k->oc, k->kh, k->kw), -1, 1), db = p_rand(GT_DIMS(k->oc), -1, 1);
    BOTH GT_OK(gc_conv_transpose2d_backward(k->dx ? T(dx, s) : NULL, T(dw, s),
                                            k->bias ? T(db, s) : NULL, T(dy, s), T(x, s), T(w, s),
                                            &p));
    if (k->dx) p_check(&dx, TOL, "%s: dx", what);
    p_check(&dw, TOL, "%s: dw (accumulated)", what);
    p_check(&db, TOL, "%s: db (accumulated)", what);
    pair *all[] = {&x, &w, &b, &y, &dy, &dx, &dw, &db};
    for (int i = 0; i < 8; i++)
        p_free(all[i]);
}

START_TEST(conv_transpose2d)
{
    convt_run(&convt_cases[_i], "");
}
END_TEST

/* The workspace limit ($GANCL_WORKSPACE_LIMIT, read at every op) made so
 * small that no op fits the whole batch: convolutions then run in chunks
 * of images, and weight gradients must still accumulate across chunks. */
START_TEST(conv_chunked)
{
    /* 3720 floats of workspace per image: chunks of 2, 2 and 1. */
    const conv_case c2 = {5, 3, 12, 10, 4, 3, 3, 1, 1, 1, 1, 0, 0, 1, 1};
    setenv("GANCL_WORKSPACE_LIMIT", "32768", 1);
    conv2d_run(&c2, "chunked ");
    /* At least 1680 floats per image: one image at a time. */
    const conv_case ct = {5, 8, 6, 5, 3, 4, 4, 2, 2, 1, 1, 0, 0, 1, 1};
    setenv("GANCL_WORKSPACE_LIMIT", "8192", 1);
    convt_run(&ct, "chunked ");
    unsetenv("GANCL_WORKSPACE_LIMIT");
}
END_TEST

/* ---- activations ---------------------------------------------------------------- */

START_TEST(activations)
{
    static const char *names[] = {"relu", "leaky_relu", "sigmoid", "tanh"};
    gc_act act = (gc_act)_i;
    int64_t n = 2 * gt_randint(1000, 4000) + 1;
    float slope = 0.2f;
    /* Wide enough that sigmoid and tanh saturate at the ends. */
    pair x = p_rand(GT_DIMS(n), -12, 12), y = p_out(GT_DIMS(n));
    BOTH GT_OK(gc_act_forward(T(y, s), T(x, s), act, slope));
    p_check(&y, TOL, "%s forward", names[_i]);

    pair yc = p_from_cpu(&y.c), dy = p_rand(GT_DIMS(n), -1, 1), dx = p_out(GT_DIMS(n));
    BOTH GT_OK(gc_act_backward(T(dx, s), T(dy, s), T(yc, s), act, slope));
    p_check(&dx, TOL, "%s backward", names[_i]);

    BOTH GT_OK(gc_act_forward(T(x, s), T(x, s), act, slope)); /* in place */
    p_check(&x, TOL, "%s forward in place", names[_i]);
    BOTH GT_OK(gc_act_backward(T(dy, s), T(dy, s), T(yc, s), act, slope));
    p_check(&dy, TOL, "%s backward in place", names[_i]);
    pair *all[] = {&x, &y, &yc, &dy, &dx};
    for (int i = 0; i < 5; i++)
        p_free(all[i]);
}
END_TEST

/* ---- batchnorm ------------------------------------------------------------------ */

static void bn_case(int ndim, const int64_t *dims)
{
    int64_t ch = dims[1];
    char shape[64];
    snprintf(shape, sizeof shape, "[%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 "]", dims[0],
             dims[1], ndim > 2 ? dims[2] : 1, ndim > 3 ? dims[3] : 1);
    /* An offset mean and a spread, as real activations have. */
    pair x = p_rand(ndim, dims, 1.0f, 5.0f), y = p_out(ndim, dims);
    pair gamma = p_rand(GT_DIMS(ch), 0.5f, 1.5f), beta = p_rand(GT_DIMS(ch), -1, 1);
    pair rm = p_rand(GT_DIMS(ch), -1, 1), rv = p_rand(GT_DIMS(ch), 0.5f, 2.0f);
    pair sm = p_out(GT_DIMS(ch)), si = p_out(GT_DIMS(ch));
    BOTH GT_OK(gc_batchnorm_forward_train(T(y, s), T(sm, s), T(si, s), T(x, s), T(gamma, s),
                                          T(beta, s), T(rm, s), T(rv, s), 0.1f, 1e-5f));
    p_check(&y, TOL, "batchnorm train %s: y", shape);
    p_check(&sm, TOL, "batchnorm train %s: save_mean", shape);
    p_check(&si, TOL, "batchnorm train %s: save_invstd", shape);
    p_check(&rm, TOL, "batchnorm train %s: running_mean", shape);
    p_check(&rv, TOL, "batchnorm train %s: running_var", shape);

    gt_poison(&y.c);
    gt_poison(&y.g);
    BOTH GT_OK(gc_batchnorm_forward_eval(T(y, s), T(x, s), T(gamma, s), T(beta, s), T(rm, s),
                                         T(rv, s), 1e-3f));
    p_check(&y, TOL, "batchnorm eval %s: y", shape);

    pair smc = p_from_cpu(&sm.c), sic = p_from_cpu(&si.c);
    pair dy = p_rand(ndim, dims, -1, 1), dx = p_out(ndim, dims);
    pair dg = p_rand(GT_DIMS(ch), -1, 1), dbt = p_rand(GT_DIMS(ch), -1, 1);
    BOTH GT_OK(gc_batchnorm_backward(T(dx, s), T(dg, s), T(dbt, s), T(dy, s), T(x, s), T(gamma, s),
                                     T(smc, s), T(sic, s)));
    p_check(&dx, TOL, "batchnorm backward %s: dx", shape);
    p_check(&dg, TOL, "batchnorm backward %s: dgamma (accumulated)", shape);
    p_check(&dbt, TOL, "batchnorm backward %s: dbeta (accumulated)", shape);

    /* y aliasing x, as an in-place layer would call it. */
    BOTH GT_OK(gc_batchnorm_forward_train(T(x, s), T(sm, s), T(si, s), T(x, s), T(gamma, s),
                                          T(beta, s), T(rm, s), T(rv, s), 0.3f, 1e-5f));
    p_check(&x, TOL, "batchnorm train in place %s: y", shape);
    p_check(&rv, TOL, "batchnorm train in place %s: running_var", shape);
    pair *all[] = {&x, &y, &gamma, &beta, &rm, &rv, &sm, &si, &smc, &sic, &dy, &dx, &dg, &dbt};
    for (int i = 0; i < 14; i++)
        p_free(all[i]);
}

START_TEST(batchnorm)
{
    bn_case(GT_DIMS(3, 5, 13, 11));
    bn_case(GT_DIMS(7, 9));
    bn_case(GT_DIMS(3, 4, 1, 1)); /* M = 3: with M = 2, dx is zero up to rounding */
    bn_case(GT_DIMS(gt_randint(2, 6), gt_randint(1, 4), 2 * gt_randint(10, 30) + 1, 17));
}
END_TEST

/* ---- pooling ------------------------------------------------------------------- */

static const gc_pool_params pool_cases[] = {
    /* kh kw sh sw ph pw include_pad (set per run) */
    {3, 3, 2, 2, 0, 0, 0}, {3, 3, 2, 2, 1, 1, 0}, {2, 2, 2, 2, 0, 0, 0},
    {3, 3, 1, 1, 1, 1, 0}, {3, 2, 2, 1, 1, 0, 0}, {5, 5, 3, 2, 2, 1, 0},
};
#define POOL_CASES ((int)(sizeof pool_cases / sizeof pool_cases[0]))

static void pool_run(const gc_pool_params *p, int max, int ties)
{
    int64_t n = 3, c = 5, h = 13, w = 11;
    int64_t oh = gc_conv_out_size(h, p->kernel_h, p->stride_h, p->pad_h);
    int64_t ow = gc_conv_out_size(w, p->kernel_w, p->stride_w, p->pad_w);
    int64_t nx = n * c * h * w;
    float *hx = gt_rand_array(nx, -2, 2);
    /* Few distinct values: windows with tied maxima, where the first one
     * must win on both backends. */
    if (ties)
        for (int64_t i = 0; i < nx; i++)
            hx[i] = floorf(hx[i]);
    pair x = p_host(GT_DIMS(n, c, h, w), hx), y = p_out(GT_DIMS(n, c, oh, ow));
    free(hx);
    char what[128];
    snprintf(what, sizeof what, "%s pool k %d,%d stride %d,%d pad %d,%d include_pad %d ties %d",
             max ? "max" : "avg", p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->pad_h,
             p->pad_w, p->count_include_pad, ties);
    BOTH GT_OK(max ? gc_max_pool2d_forward(T(y, s), T(x, s), p)
                   : gc_avg_pool2d_forward(T(y, s), T(x, s), p));
    p_check(&y, TOL, "%s: y", what);
    pair dy = p_rand(GT_DIMS(n, c, oh, ow), -1, 1), dx = p_out(GT_DIMS(n, c, h, w));
    BOTH GT_OK(max ? gc_max_pool2d_backward(T(dx, s), T(dy, s), T(x, s), p)
                   : gc_avg_pool2d_backward(T(dx, s), T(dy, s), p));
    p_check(&dx, TOL, "%s: dx", what);
    pair *all[] = {&x, &y, &dy, &dx};
    for (int i = 0; i < 4; i++)
        p_free(all[i]);
}

START_TEST(max_pool)
{
    for (int i = 0; i < POOL_CASES; i++) {
        pool_run(&pool_cases[i], 1, 0);
        pool_run(&pool_cases[i], 1, 1);
    }
}
END_TEST

START_TEST(avg_pool)
{
    for (int i = 0; i < POOL_CASES; i++)
        for (int inc = 0; inc < 2; inc++) {
            gc_pool_params p = pool_cases[i];
            p.count_include_pad = inc;
            pool_run(&p, 0, 0);
        }
}
END_TEST

START_TEST(global_avg_pool)
{
    const int64_t shapes[][4] = {{3, 5, 13, 11}, {2, 7, 8, 8}, {4, 3, 1, 1}, {1, 2, 35, 35}};
    for (int i = 0; i < 4; i++) {
        const int64_t *d = shapes[i];
        pair x = p_rand(GT_DIMS(d[0], d[1], d[2], d[3]), -1, 2),
             y = p_out(GT_DIMS(d[0], d[1], 1, 1));
        BOTH GT_OK(gc_global_avg_pool_forward(T(y, s), T(x, s)));
        p_check(&y, TOL, "global avg pool [%d]: y", i);
        pair dy = p_rand(GT_DIMS(d[0], d[1], 1, 1), -1, 1);
        pair dx = p_out(GT_DIMS(d[0], d[1], d[2], d[3]));
        BOTH GT_OK(gc_global_avg_pool_backward(T(dx, s), T(dy, s)));
        p_check(&dx, TOL, "global avg pool [%d]: dx", i);
        pair *all[] = {&x, &y, &dy, &dx};
        for (int k = 0; k < 4; k++)
            p_free(all[k]);
    }
}
END_TEST

/* ---- channels-last inference ------------------------------------------------------ */

/* y (N, OH, OW, CY) after an op wrote channels [c0, c0 + oc) of it on both
 * backends from NaN: OpenCL's slice matches the CPU reference's, and every
 * other channel is still NaN on both. */
static void check_slice(const pair *y, int64_t c0, int64_t oc, const char *what)
{
    float *g = gt_read(&y->g), *c = gt_read(&y->c);
    int64_t cy = y->c.shape[3], pix = gc_tensor_numel(&y->c) / cy, k = 0;
    float *gs = malloc(sizeof(float) * (size_t)(pix * oc));
    float *cs = malloc(sizeof(float) * (size_t)(pix * oc));
    ck_assert(gs && cs);
    for (int64_t i = 0; i < pix * cy; i++) {
        int64_t ch = i % cy;
        if (ch >= c0 && ch < c0 + oc) {
            gs[k] = g[i];
            cs[k++] = c[i];
        } else {
            ck_assert_msg(isnan(g[i]) && isnan(c[i]), "%s: channel %" PRId64 " written", what, ch);
        }
    }
    gt_assert_close(gs, cs, k, TOL, what);
    free(gs);
    free(cs);
    free(g);
    free(c);
}

/* The CPU reference's NHWC result against its NCHW op: t (N, H, W, C)
 * transposed back to NCHW equals want (N, C, H, W). */
static void check_cpu_nchw(const gc_tensor *t, const gc_tensor *want, const char *what)
{
    gc_tensor back = gt_tensor(gt_cpu(), 4, want->shape, NULL);
    GT_OK(gc_nhwc_layout(&back, t, 0));
    gt_assert_tensors_close_at(&back, want, TOL, what, __FILE__, __LINE__);
    gt_free(&back);
}

static void conv_nhwc_run(const conv_case *k, int64_t c0, int64_t extra, int relu)
{
    gc_conv_params p = {k->sh, k->sw, k->ph, k->pw, 0, 0};
    int64_t oh = gc_conv_out_size(k->h, k->kh, k->sh, k->ph);
    int64_t ow = gc_conv_out_size(k->w, k->kw, k->sw, k->pw);
    pair x = p_rand(GT_DIMS(k->n, k->h, k->w, k->c), -1, 1);
    pair w = p_rand(GT_DIMS(k->kh, k->kw, k->c, k->oc), -0.5f, 0.5f);
    pair b = p_rand(GT_DIMS(k->oc), -1, 1);
    pair y = p_out(GT_DIMS(k->n, oh, ow, c0 + k->oc + extra));
    BOTH GT_OK(
        gc_conv2d_nhwc_forward(T(y, s), c0, T(x, s), T(w, s), k->bias ? T(b, s) : NULL, &p, relu));
    char what[200];
    snprintf(what, sizeof what,
             "conv2d_nhwc x[%d,%d,%d,%d] w[%d,%d,%d,%d] stride %d,%d pad %d,%d bias %d relu %d "
             "into channels %" PRId64 "..%" PRId64 " of %" PRId64,
             k->n, k->h, k->w, k->c, k->kh, k->kw, k->c, k->oc, k->sh, k->sw, k->ph, k->pw, k->bias,
             relu, c0, c0 + k->oc, c0 + k->oc + extra);
    check_slice(&y, c0, k->oc, what);
    if (c0 == 0 && extra == 0 && !relu) {
        /* The CPU reference against its NCHW conv2d, x and w permuted. */
        float *hw = gt_read(&w.c), *hwo = malloc(sizeof(float) * (size_t)gc_tensor_numel(&w.c));
        ck_assert(hwo);
        int64_t taps = (int64_t)k->kh * k->kw;
        for (int64_t t = 0; t < taps; t++)
            for (int64_t c = 0; c < k->c; c++)
                for (int64_t o = 0; o < k->oc; o++)
                    hwo[(o * k->c + c) * taps + t] = hw[(t * k->c + c) * k->oc + o];
        gc_tensor xn = gt_tensor(gt_cpu(), GT_DIMS(k->n, k->c, k->h, k->w), NULL);
        gc_tensor wn = gt_tensor(gt_cpu(), GT_DIMS(k->oc, k->c, k->kh, k->kw), hwo);
        gc_tensor yn = gt_tensor(gt_cpu(), GT_DIMS(k->n, k->oc, oh, ow), NULL);
        GT_OK(gc_nhwc_layout(&xn, &x.c, 0));
        GT_OK(gc_conv2d_forward(&yn, &xn, &wn, k->bias ? &b.c : NULL, &p));
        check_cpu_nchw(&y.c, &yn, what);
        gc_tensor *own[] = {&xn, &wn, &yn};
        for (int i = 0; i < 3; i++)
            gt_free(own[i]);
        free(hw);
        free(hwo);
    }
    pair *all[] = {&x, &w, &b, &y};
    for (int i = 0; i < 4; i++)
        p_free(all[i]);
}
static const conv_case conv_nhwc_cases[] = {
    /*  n  c   h   w  oc kh kw sh sw ph pw op op bias dx */
    {3, 5, 13, 11, 7, 3, 3, 2, 2, 1, 1, 0, 0, 1, 0},
    {3, 37, 9, 11, 19, 1, 7, 1, 1, 0, 3, 0, 0, 1, 0},
    {2, 21, 11, 9, 35, 7, 1, 1, 1, 3, 0, 0, 0, 1, 0},
    {3, 33, 7, 5, 41, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0},
    {2, 3, 17, 15, 5, 3, 3, 2, 2, 0, 0, 0, 0, 0, 0},
    {1, 17, 9, 9, 6, 5, 5, 1, 1, 2, 2, 0, 0, 1, 0},
    {2, 6, 9, 7, 3, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0},
    /* OC a multiple of 16 or 32: the direct kernel (unless disabled) */
    {2, 19, 9, 11, 32, 3, 3, 1, 1, 1, 1, 0, 0, 1, 0},
    {3, 5, 13, 11, 16, 3, 3, 2, 2, 1, 1, 0, 0, 1, 0},
    {2, 7, 8, 9, 48, 5, 5, 1, 1, 2, 2, 0, 0, 0, 0},
    {1, 3, 10, 13, 64, 1, 7, 1, 2, 0, 3, 0, 0, 1, 0},
    {2, 33, 6, 5, 32, 3, 1, 2, 1, 1, 0, 0, 0, 1, 0},
    /* 1 x 1 with OC = 32k + 16: the direct kernel, 32 channels then 16 */
    {3, 21, 5, 7, 48, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0},
    {2, 19, 6, 5, 80, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
    /* 1 x k, stride 1: the GEMM on overlapping rows of a W-padded copy */
    {2, 20, 5, 8, 32, 1, 3, 1, 1, 0, 1, 0, 0, 1, 0},
    {3, 16, 4, 3, 7, 1, 5, 1, 1, 0, 1, 0, 0, 0, 0},
};
#define CONV_NHWC_CASES ((int)(sizeof conv_nhwc_cases / sizeof conv_nhwc_cases[0]))

START_TEST(conv2d_nhwc)
{
    const conv_case *k = &conv_nhwc_cases[_i];
    conv_nhwc_run(k, 0, 0, 0);  /* all of y */
    conv_nhwc_run(k, 5, 3, 0);  /* a channel slice of a wider y */
    conv_nhwc_run(k, 16, 0, 1); /* a slice at a vector-aligned offset, to the end; ReLU */
    conv_nhwc_run(k, 3, 2, 1);
    /* im2row + GEMM rather than the direct kernel or the 1 x k path, and
     * im2row in blocks of a few rows (the variables are read at every
     * call). */
    setenv("GANCL_NHWC_DIRECT", "0", 1);
    setenv("GANCL_NHWC_1XK", "0", 1);
    conv_nhwc_run(k, 0, 0, 0);
    conv_nhwc_run(k, 16, 0, 1);
    setenv("GANCL_NHWC_COL", "1000", 1);
    conv_nhwc_run(k, 2, 1, 1);
    unsetenv("GANCL_NHWC_COL");
    unsetenv("GANCL_NHWC_DIRECT");
    unsetenv("GANCL_NHWC_1XK");
}
END_TEST

START_TEST(pool_nhwc)
{
    const int64_t n = 3, c = 37, h = 13, w = 11;
    for (int i = 0; i < POOL_CASES; i++)
        for (int mode = 0; mode < 3; mode++) { /* max, avg, avg with count_include_pad */
            gc_pool_params p = pool_cases[i];
            p.count_include_pad = mode == 2;
            int max = mode == 0;
            int64_t oh = gc_conv_out_size(h, p.kernel_h, p.stride_h, p.pad_h);
            int64_t ow = gc_conv_out_size(w, p.kernel_w, p.stride_w, p.pad_w);
            float *hx = gt_rand_array(n * h * w * c, -2, 2);
            if (max) /* a NaN must win its windows, as in the NCHW op */
                hx[(int64_t)gt_randint(0, (int)(n * h * w * c) - 1)] = NAN;
            pair x = p_host(GT_DIMS(n, h, w, c), hx);
            free(hx);
            char what[160];
            snprintf(what, sizeof what,
                     "%s pool_nhwc k %d,%d stride %d,%d pad %d,%d include_pad %d",
                     max ? "max" : "avg", p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_h,
                     p.pad_w, p.count_include_pad);
            for (int sl = 0; sl < 2; sl++) {
                int64_t c0 = sl ? 7 : 0, cy = sl ? c + 12 : c;
                pair y = p_out(GT_DIMS(n, oh, ow, cy));
                BOTH GT_OK(gc_pool2d_nhwc_forward(T(y, s), c0, T(x, s), &p, max));
                if (max) {
                    /* NaN is a value here: compare by hand, NaN for NaN. */
                    float *g = gt_read(&y.g), *cr = gt_read(&y.c);
                    for (int64_t e = 0; e < gc_tensor_numel(&y.c); e++)
                        ck_assert_msg((isnan(g[e]) && isnan(cr[e])) || g[e] == cr[e],
                                      "%s: element %" PRId64 ": %g vs %g", what, e, (double)g[e],
                                      (double)cr[e]);
                    free(g);
                    free(cr);
                } else {
                    check_slice(&y, c0, c, what);
                }
                if (!sl) {
                    /* The CPU reference against its NCHW pooling. */
                    gc_tensor xn = gt_tensor(gt_cpu(), GT_DIMS(n, c, h, w), NULL);
                    gc_tensor yn = gt_tensor(gt_cpu(), GT_DIMS(n, c, oh, ow), NULL);
                    GT_OK(gc_nhwc_layout(&xn, &x.c, 0));
                    GT_OK(max ? gc_max_pool2d_forward(&yn, &xn, &p)
                              : gc_avg_pool2d_forward(&yn, &xn, &p));
                    gc_tensor back = gt_tensor(gt_cpu(), GT_DIMS(n, c, oh, ow), NULL);
                    GT_OK(gc_nhwc_layout(&back, &y.c, 0));
                    float *a = gt_read(&back), *bb = gt_read(&yn);
                    for (int64_t e = 0; e < gc_tensor_numel(&yn); e++)
                        ck_assert_msg((isnan(a[e]) && isnan(bb[e])) ||
                                          fabsf(a[e] - bb[e]) <= 1e-6f * fabsf(bb[e]),
                                      "%s: NHWC vs NCHW at %" PRId64, what, e);
                    free(a);
                    free(bb);
                    gt_free(&xn);
                    gt_free(&yn);
                    gt_free(&back);
                }
                p_free(&y);
            }
            p_free(&x);
        }
}
END_TEST

START_TEST(nhwc_layout)
{
    const int64_t shapes[][4] = {{3, 5, 13, 11}, {2, 37, 7, 9}, {1, 1, 5, 3}, {2, 19, 1, 1}};
    for (int i = 0; i < 4; i++) {
        const int64_t *d = shapes[i];
        pair x = p_rand(GT_DIMS(d[0], d[1], d[2], d[3]), -1, 1);
        pair y = p_out(GT_DIMS(d[0], d[2], d[3], d[1])), z = p_out(GT_DIMS(d[0], d[1], d[2], d[3]));
        BOTH GT_OK(gc_nhwc_layout(T(y, s), T(x, s), 1));
        p_check(&y, 0.0, "nhwc_layout [%d]: to NHWC", i);
        BOTH GT_OK(gc_nhwc_layout(T(z, s), T(y, s), 0));
        p_check(&z, 0.0, "nhwc_layout [%d]: back to NCHW", i);
        /* The round trip is the identity; one element placed by hand. */
        gt_assert_tensors_close_at(&z.c, &x.c, 0.0, "nhwc_layout round trip", __FILE__, __LINE__);
        float *hx = gt_read(&x.c), *hy = gt_read(&y.c);
        int64_t nn = d[0] - 1, c = d[1] - 1, yy = d[2] / 2, xx = d[3] - 1;
        ck_assert_float_eq(hy[((nn * d[2] + yy) * d[3] + xx) * d[1] + c],
                           hx[((nn * d[1] + c) * d[2] + yy) * d[3] + xx]);
        free(hx);
        free(hy);
        pair *all[] = {&x, &y, &z};
        for (int k = 0; k < 3; k++)
            p_free(all[k]);
    }
}
END_TEST

/* ---- concat --------------------------------------------------------------------- */

START_TEST(concat)
{
    int64_t n = gt_randint(1, 4), h = 7, w = 5, cs[3] = {2, 5, 3};
    pair xs[3], dxs[3];
    for (int i = 0; i < 3; i++)
        xs[i] = p_rand(GT_DIMS(n, cs[i], h, w), -1, 1);
    pair y = p_out(GT_DIMS(n, 10, h, w));
    gc_tensor in[2][3];
    for (int i = 0; i < 3; i++)
        BOTH in[s][i] = *T(xs[i], s);
    BOTH GT_OK(gc_concat_forward(T(y, s), in[s], 3));
    p_check(&y, 0, "concat forward");

    pair dy = p_rand(GT_DIMS(n, 10, h, w), -1, 1);
    for (int i = 0; i < 3; i++)
        dxs[i] = p_out(GT_DIMS(n, cs[i], h, w));
    for (int i = 0; i < 3; i++)
        BOTH in[s][i] = *T(dxs[i], s);
    BOTH GT_OK(gc_concat_backward(in[s], 3, T(dy, s)));
    for (int i = 0; i < 3; i++)
        p_check(&dxs[i], 0, "concat backward: dx[%d]", i);

    /* A NULL entry (buf == NULL) skips that input and leaves it alone. */
    float *keep = gt_rand_array(n * cs[1] * h * w, -1, 1);
    BOTH
    {
        gt_poison(T(dxs[0], s));
        gt_poison(T(dxs[2], s));
        GT_OK(gc_tensor_write(T(dxs[1], s), keep));
        in[s][1].buf = NULL;
        GT_OK(gc_concat_backward(in[s], 3, T(dy, s)));
    }
    p_check(&dxs[0], 0, "concat backward with a skip: dx[0]");
    p_check(&dxs[2], 0, "concat backward with a skip: dx[2]");
    BOTH
    {
        float *got = gt_read(T(dxs[1], s));
        gt_assert_close(got, keep, n * cs[1] * h * w, 0,
                        "concat backward: skipped input untouched");
        free(got);
    }
    free(keep);
    for (int i = 0; i < 3; i++) {
        p_free(&xs[i]);
        p_free(&dxs[i]);
    }
    p_free(&y);
    p_free(&dy);
}
END_TEST

/* ---- bilinear resize ------------------------------------------------------------ */

START_TEST(resize)
{
    const int64_t cases[][6] = {
        /* n c ih iw oh ow */
        {2, 3, 13, 11, 299, 299}, {3, 5, 17, 19, 8, 5},     {1, 2, 7, 7, 7, 7},
        {2, 2, 5, 6, 10, 12},     {1, 3, 28, 28, 299, 299}, {2, 1, 300, 301, 299, 299},
    };
    for (int i = 0; i < 6; i++) {
        const int64_t *k = cases[i];
        pair x = p_rand(GT_DIMS(k[0], k[1], k[2], k[3]), -1, 1);
        pair y = p_out(GT_DIMS(k[0], k[1], k[4], k[5]));
        BOTH GT_OK(gc_resize_bilinear_forward(T(y, s), T(x, s)));
        p_check(&y, TOL, "resize %" PRId64 "x%" PRId64 " -> %" PRId64 "x%" PRId64, k[2], k[3], k[4],
                k[5]);
        p_free(&x);
        p_free(&y);
    }
}
END_TEST

/* ---- BCE with logits ------------------------------------------------------------ */

START_TEST(bce)
{
    int64_t n = 2 * gt_randint(10, 100) + 1;
    const float targets[] = {1.0f, 0.0f, 0.9f};
    for (int mode = 0; mode < 2; mode++) {
        float *hz = gt_rand_array(n, -4, 4);
        /* mode 1: saturated logits of both signs, where a naive log(1 +
         * exp(-z)) overflows and sigmoid must not produce inf/inf. */
        if (mode)
            for (int64_t i = 0; i < n; i++)
                hz[i] = hz[i] < 0 ? -100.0f : 100.0f;
        pair z = p_host(GT_DIMS(n, 1), hz);
        free(hz);
        for (int t = 0; t < 3; t++) {
            pair loss = p_out(GT_DIMS(1)), dz = p_out(GT_DIMS(n, 1));
            BOTH GT_OK(gc_bce_logits_forward(T(loss, s), T(z, s), targets[t]));
            p_check(&loss, TOL, "bce forward (saturated %d, target %g)", mode, targets[t]);
            BOTH GT_OK(gc_bce_logits_backward(T(dz, s), T(z, s), targets[t], 0.5f));
            p_check(&dz, TOL, "bce backward (saturated %d, target %g)", mode, targets[t]);
            p_free(&loss);
            p_free(&dz);
        }
        p_free(&z);
    }
    /* All logits +100 with target 1: the loss is ~exp(-100), which a
     * device may flush to zero; check it is tiny rather than relatively. */
    float *hz = gt_rand_array(n, 100, 100);
    pair z = p_host(GT_DIMS(n), hz), loss = p_out(GT_DIMS(1));
    free(hz);
    BOTH
    {
        GT_OK(gc_bce_logits_forward(T(loss, s), T(z, s), 1.0f));
        float l = read1(T(loss, s));
        ck_assert_msg(l >= 0 && l < 1e-30f, "bce at +100 logits on side %d: %g", s, l);
    }
    p_free(&z);
    p_free(&loss);
}
END_TEST

/* ---- softmax cross-entropy ----------------------------------------------------- */

/* n labels in [0, k), as the floats the op takes. */
static float *rand_labels(int64_t n, int64_t k)
{
    float *h = malloc((size_t)n * sizeof *h);
    ck_assert_ptr_nonnull(h);
    for (int64_t i = 0; i < n; i++)
        h[i] = (float)gt_randint(0, (int)k - 1);
    return h;
}

START_TEST(softmax_ce)
{
    /* K = 1 (loss 0, gradient 0), small odd K, and K ~ 1000 (ImageNet's). */
    const int64_t ks[] = {1, 2 * gt_randint(2, 8) + 1, 2 * gt_randint(450, 520) + 1};
    for (int ki = 0; ki < 3; ki++)
        for (int mode = 0; mode < 2; mode++) {
            /* More rows than a 256-wide work-group sometimes, so the
             * forward pass's strided row loop runs. */
            int64_t n = 2 * gt_randint(3, 160) + 1, k = ks[ki];
            float *hz = gt_rand_array(n * k, -6, 6);
            /* mode 1: logits of +-1e4, where exp without the max
             * subtraction overflows; and rows with tied maxima, where the
             * first one is the argmax on both sides. */
            if (mode)
                for (int64_t i = 0; i < n * k; i++)
                    hz[i] = i % 3 == 0 ? 1e4f : floorf(hz[i]) * 1e3f;
            float *hl = rand_labels(n, k);
            pair z = p_host(GT_DIMS(n, k), hz), lab = p_host(GT_DIMS(n), hl);
            pair loss = p_out(GT_DIMS(1)), hits = p_out(GT_DIMS(1)), dz = p_out(GT_DIMS(n, k));
            BOTH GT_OK(gc_softmax_ce_forward(T(loss, s), T(hits, s), T(z, s), T(lab, s)));
            p_check(&loss, TOL, "softmax_ce forward n %" PRId64 " k %" PRId64 " mode %d", n, k,
                    mode);
            p_check(&hits, 0, "softmax_ce correct count n %" PRId64 " k %" PRId64, n, k);
            if (k == 1) ck_assert_float_eq(read1(&loss.g), 0.0f);
            BOTH GT_OK(gc_softmax_ce_backward(T(dz, s), T(z, s), T(lab, s), 0.75f));
            p_check(&dz, TOL, "softmax_ce backward n %" PRId64 " k %" PRId64 " mode %d", n, k,
                    mode);
            /* In place, as the header allows, and without the count. */
            BOTH
            {
                gt_poison(T(loss, s));
                GT_OK(gc_softmax_ce_forward(T(loss, s), NULL, T(z, s), T(lab, s)));
                GT_OK(gc_softmax_ce_backward(T(z, s), T(z, s), T(lab, s), 0.75f));
            }
            p_check(&loss, TOL, "softmax_ce forward without count");
            gt_assert_tensors_close(&z.g, &dz.c, TOL, "softmax_ce backward in place");
            free(hz);
            free(hl);
            pair *all[] = {&z, &lab, &loss, &hits, &dz};
            for (int i = 0; i < 5; i++)
                p_free(all[i]);
        }

    /* Views at odd offsets of one buffer; the rest of it are guards,
     * which the final comparison of the whole buffer covers. */
    int64_t n = 7, k = 13;
    float *hz = gt_rand_array(n * k, -3, 3), *hl = rand_labels(n, k);
    pair base = p_rand(GT_DIMS(n * k + 64), -1, 1);
    pair z = p_view(&base, 5, GT_DIMS(n, k), hz),
         lab = p_view(&base, 5 + n * k + 3, GT_DIMS(n), hl);
    pair loss = p_view(&base, 2, GT_DIMS(1), NULL), hits = p_view(&base, 3, GT_DIMS(1), NULL);
    BOTH GT_OK(gc_softmax_ce_forward(T(loss, s), T(hits, s), T(z, s), T(lab, s)));
    p_check(&loss, TOL, "softmax_ce forward on views");
    p_check(&hits, 0, "softmax_ce count on views");
    BOTH GT_OK(gc_softmax_ce_backward(T(z, s), T(z, s), T(lab, s), 1.0f));
    p_check(&base, TOL, "softmax_ce on views: the whole buffer");
    free(hz);

    /* A label outside [0, K): the CPU backend refuses it, OpenCL makes
     * that row's loss term and gradient NaN (gancl/ops.h). */
    const float bad[] = {-1.0f, (float)k, 2.5f, NAN};
    for (int b = 0; b < 4; b++) {
        hl[3] = bad[b];
        pair l2 = p_host(GT_DIMS(n), hl), z2 = p_rand(GT_DIMS(n, k), -2, 2);
        pair loss2 = p_out(GT_DIMS(1)), dz2 = p_out(GT_DIMS(n, k));
        ck_assert_int_eq(gc_softmax_ce_forward(&loss2.c, NULL, &z2.c, &l2.c), GC_ERR_ARG);
        ck_assert_int_eq(gc_softmax_ce_backward(&dz2.c, &z2.c, &l2.c, 1.0f), GC_ERR_ARG);
        GT_OK(gc_softmax_ce_forward(&loss2.g, NULL, &z2.g, &l2.g));
        ck_assert_msg(isnan(read1(&loss2.g)), "opencl loss with label %g", bad[b]);
        GT_OK(gc_softmax_ce_backward(&dz2.g, &z2.g, &l2.g, 1.0f));
        float *g = gt_read(&dz2.g);
        for (int64_t i = 0; i < n * k; i++)
            ck_assert_msg(isnan(g[i]) == (i / k == 3), "opencl dz[%" PRId64 "] = %g, label %g", i,
                          g[i], bad[b]);
        free(g);
        pair *all2[] = {&l2, &z2, &loss2, &dz2};
        for (int i = 0; i < 4; i++)
            p_free(all2[i]);
    }
    free(hl);
    p_free(&base);
}
END_TEST

/* ---- Adam ------------------------------------------------------------------------ */

START_TEST(adam)
{
    int64_t n = 2 * gt_randint(200, 900) + 1;
    /* Small parameters and a large lr: the update is then not lost in the
     * parameters' rounding, and the step itself can be compared to 1e-5. */
    pair p = p_rand(GT_DIMS(n), -0.01f, 0.01f), g = p_rand(GT_DIMS(n), -1, 1);
    pair m = p_rand(GT_DIMS(n), -0.1f, 0.1f), v = p_rand(GT_DIMS(n), 0, 0.01f);
    const int64_t steps[] = {1, 2, 7, 1000};
    for (int k = 0; k < 4; k++) {
        gc_adam_params ap = {
            .lr = 0.05f, .beta1 = 0.5f, .beta2 = 0.999f, .eps = 1e-8f, .step = steps[k]};
        float *before = gt_read(&p.c);
        BOTH GT_OK(gc_adam_update(T(p, s), T(g, s), T(m, s), T(v, s), &ap));
        p_check(&m, TOL, "adam step %" PRId64 ": m", steps[k]);
        p_check(&v, TOL, "adam step %" PRId64 ": v", steps[k]);
        p_check(&p, TOL, "adam step %" PRId64 ": param", steps[k]);
        float *pc = gt_read(&p.c), *pg = gt_read(&p.g);
        for (int64_t i = 0; i < n; i++) {
            pc[i] -= before[i];
            pg[i] -= before[i];
        }
        gt_assert_close(pg, pc, n, TOL, "adam: the update itself");
        free(before);
        free(pc);
        free(pg);
        /* Next step from identical state on both sides. */
        float *hp = gt_read(&p.c);
        GT_OK(gc_tensor_write(&p.g, hp));
        free(hp);
    }
    pair *all[] = {&p, &g, &m, &v};
    for (int i = 0; i < 4; i++)
        p_free(all[i]);
}
END_TEST

/* ---- random numbers ------------------------------------------------------------- */

START_TEST(rng)
{
    int64_t n = 2 * gt_randint(2000, 6000) + 1;
    uint64_t seed = ((uint64_t)gt_randint(0, 1 << 30) << 34) ^ (uint64_t)gt_randint(0, 1 << 30);
    /* Starting just below 2^32, so the counter's high word changes mid-fill. */
    uint64_t offset = ((uint64_t)1 << 32) - (uint64_t)gt_randint(1, (int)n - 1);
    pair y = p_out(GT_DIMS(n));
    gc_rng r[2] = {{seed, offset}, {seed, offset}};
    BOTH GT_OK(gc_rng_uniform(T(y, s), &r[s], -2.0f, 3.0f));
    ck_assert_uint_eq(r[0].offset, offset + (uint64_t)n);
    ck_assert_uint_eq(r[1].offset, offset + (uint64_t)n);
    float *hc = gt_read(&y.c), *hg = gt_read(&y.g);
    for (int64_t i = 0; i < n; i++) {
        uint32_t w[4];
        gc_philox4x32_10(seed, offset + (uint64_t)i, w);
        float want = -2.0f + 5.0f * gc_philox_01(w[0]);
        ck_assert_msg(memcmp(&hg[i], &want, sizeof want) == 0 && memcmp(&hc[i], &want, 4) == 0,
                      "uniform element %" PRId64 ": cl %.9g cpu %.9g host %.9g (seed %" PRIu64 ")",
                      i, hg[i], hc[i], want, gt_seed());
    }
    free(hc);
    free(hg);

    BOTH GT_OK(gc_rng_normal(T(y, s), &r[s], 0.5f, 2.0f));
    ck_assert_uint_eq(r[1].offset, offset + 2 * (uint64_t)n);
    /* Box-Muller goes through log, sqrt and cos, which OpenCL allows a few
     * ulp of error; 1e-5 normalised is far above that. */
    p_check(&y, TOL, "normal fill");
    hg = gt_read(&y.g);
    float *want = malloc((size_t)n * sizeof *want);
    for (int64_t i = 0; i < n; i++) {
        uint32_t w[4];
        gc_philox4x32_10(seed, offset + (uint64_t)n + (uint64_t)i, w);
        want[i] = 0.5f + 2.0f * gc_philox_normal(w);
    }
    gt_assert_close(hg, want, n, TOL, "normal fill against util/philox.h");
    free(hg);
    free(want);
    p_free(&y);
}
END_TEST

/* Every case runs once per kernel family of the OpenCL backend (the
 * device profile, cl_forms.h), whatever the device: the CPU family's
 * register-tile kernels and the GPU family's work-group kernels must both
 * match the reference.  The family is set for a TCase by its fixture. */
static gc_cl_family family_before;
static void use_cpu_family(void)
{
    gc_cl_forms_set_family(gt_cl(), GC_CL_FAMILY_CPU);
}
static void use_gpu_family(void)
{
    gc_cl_forms_set_family(gt_cl(), GC_CL_FAMILY_GPU);
}
static void restore_family(void)
{
    gc_cl_forms_set_family(gt_cl(), family_before);
}

static TCase *ops_tcase(const char *name, void (*setup)(void))
{
    TCase *tc = tcase_create(name);
    tcase_add_unchecked_fixture(tc, setup, restore_family);
    tcase_add_test(tc, elementwise);
    tcase_add_test(tc, sum_mean);
    tcase_add_test(tc, gemm);
    tcase_add_test(tc, dense);
    tcase_add_loop_test(tc, conv2d, 0, (int)(sizeof conv_cases / sizeof conv_cases[0]));
    tcase_add_loop_test(tc, conv_transpose2d, 0, (int)(sizeof convt_cases / sizeof convt_cases[0]));
    tcase_add_test(tc, conv_chunked);
    tcase_add_loop_test(tc, activations, 0, 4);
    tcase_add_test(tc, batchnorm);
    tcase_add_test(tc, max_pool);
    tcase_add_test(tc, avg_pool);
    tcase_add_test(tc, global_avg_pool);
    tcase_add_test(tc, concat);
    tcase_add_loop_test(tc, conv2d_nhwc, 0, CONV_NHWC_CASES);
    tcase_add_test(tc, pool_nhwc);
    tcase_add_test(tc, nhwc_layout);
    tcase_add_test(tc, resize);
    tcase_add_test(tc, bce);
    tcase_add_test(tc, softmax_ce);
    tcase_add_test(tc, adam);
    tcase_add_test(tc, rng);
    return tc;
}

static Suite *backend_ops_suite(void)
{
    Suite *s = suite_create("backend_ops");
    family_before = gc_cl_forms_of(gt_cl())->family;
    suite_add_tcase(s, ops_tcase("ops (cpu kernels)", use_cpu_family));
    if (gc_cl_forms_gpu_fits(gt_cl()))
        suite_add_tcase(s, ops_tcase("ops (gpu kernels)", use_gpu_family));
    else
        printf("the device cannot run the gpu kernels (work-groups too small): cpu kernels only\n");
    return s;
}

int main(void)
{
    if (!gt_cl()) gt_skip_no_opencl("test_backend_ops");
    return gt_run_suite(backend_ops_suite());
}

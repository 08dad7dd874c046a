/* tests/test_grad.c - finite-difference gradient checks of every backward
 * pass of the CPU reference backend.
 *
 * Each case builds a forward op on fresh random inputs, takes the scalar
 * loss L = sum(r * y) with a random r (so dL/dy = r), runs the backward pass
 * with dy = r, and compares every element of every gradient against the
 * central difference (L(x + e) - L(x - e)) / (2e).  The inputs are stored
 * as float, so the actual step is the difference of the two rounded
 * perturbed values, and L is summed in double from the float outputs.
 *
 * Tolerance: the outputs are float, so L carries a rounding error of about
 * sqrt(numel(y)) * 6e-8 * |y| ~ 1e-6; divided by a step 2e ~ 2e-2 that is
 * ~5e-5 per gradient element, and smooth non-linear ops (sigmoid, tanh,
 * batchnorm) add a truncation error of order e^2.  Float finite
 * differences cannot promise the 1e-5 of op-vs-op tests: over thousands of
 * random draws the worst normalised error seen was ~1e-4 (batchnorm dx,
 * whose small batches are the most curved function here, hence its smaller
 * step and N >= 5), so 1e-3 leaves a tenfold margin while a wrong gradient
 * (a missing tap, a dropped term) is off by far more.
 *
 * The cases also pin the accumulate contract of gancl/ops.h: dx starts as
 * NaN and must come out finite (it is written), a second backward call
 * leaves dx unchanged and doubles the parameter gradients (they are
 * accumulated).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define FD_EPS 1e-2
#define FD_TOL 1e-3

typedef void (*forward_fn)(void *ctx);

static gc_backend *be(void)
{
    return gt_cpu();
}

static int64_t numel(const gc_tensor *t)
{
    return gc_tensor_numel(t);
}

static double loss_of(const gc_tensor *y, const float *r)
{
    float *h = gt_read(y);
    double s = 0.0;
    for (int64_t i = 0; i < numel(y); i++)
        s += (double)r[i] * h[i];
    free(h);
    return s;
}

/* Central differences of L = sum(r * y) with respect to every element of t,
 * compared with `analytic`.  forward(ctx) recomputes y from the inputs. */
static void fd_check(const char *what, const gc_tensor *t, const float *analytic, double eps,
                     forward_fn forward, void *ctx, const gc_tensor *y, const float *r)
{
    int64_t n = numel(t);
    float *h = gt_read(t);
    float *fd = malloc((size_t)n * sizeof *fd);
    ck_assert_ptr_nonnull(fd);
    for (int64_t j = 0; j < n; j++) {
        float x0 = h[j];
        double e = eps * fmax(1.0, fabs(x0));
        h[j] = (float)(x0 + e);
        float xp = h[j];
        GT_OK(gc_tensor_write(t, h));
        forward(ctx);
        double lp = loss_of(y, r);
        h[j] = (float)(x0 - e);
        float xm = h[j];
        GT_OK(gc_tensor_write(t, h));
        forward(ctx);
        double lm = loss_of(y, r);
        fd[j] = (float)((lp - lm) / ((double)xp - (double)xm));
        h[j] = x0;
    }
    GT_OK(gc_tensor_write(t, h));
    forward(ctx);
    gt_assert_close(analytic, fd, n, FD_TOL, what);
    free(h);
    free(fd);
}

/* Identical to `ref` (dx is written, so a second call reproduces it). */
static void assert_same(const gc_tensor *t, const float *ref, const char *what)
{
    float *h = gt_read(t);
    gt_assert_close(h, ref, numel(t), 0.0, what);
    free(h);
}

/* Twice `once` (parameter gradients accumulate). */
static void assert_doubled(const gc_tensor *t, const float *once, const char *what)
{
    int64_t n = numel(t);
    float *h = gt_read(t), *twice = malloc((size_t)n * sizeof *twice);
    ck_assert_ptr_nonnull(twice);
    for (int64_t i = 0; i < n; i++)
        twice[i] = 2.0f * once[i];
    /* (float)(a + s) vs 2 * (float)s: one rounding apart. */
    gt_assert_close(h, twice, n, 1e-6, what);
    free(h);
    free(twice);
}

static gc_tensor zeros_like(const gc_tensor *t)
{
    gc_tensor z = gt_tensor(be(), t->ndim, t->shape, NULL);
    GT_OK(gc_fill(&z, 0.0f));
    return z;
}

static gc_tensor rand_tensor(int ndim, const int64_t *dims, float lo, float hi)
{
    gc_tensor probe = gc_tensor_view(be(), NULL, 0, ndim, dims);
    float *h = gt_rand_array(numel(&probe), lo, hi);
    gc_tensor t = gt_tensor(be(), ndim, dims, h);
    free(h);
    return t;
}

/* ---- dense ------------------------------------------------------------------ */

typedef struct dense_ctx {
    gc_tensor y, x, w, b;
} dense_ctx;

static void dense_fwd(void *p)
{
    dense_ctx *c = p;
    GT_OK(gc_dense_forward(&c->y, &c->x, &c->w, &c->b));
}

START_TEST(grad_dense)
{
    int64_t batch = gt_randint(2, 5), in = gt_randint(3, 11), out = gt_randint(2, 9);
    dense_ctx c;
    c.x = rand_tensor(GT_DIMS(batch, in), -1, 1);
    c.w = rand_tensor(GT_DIMS(out, in), -1, 1);
    c.b = rand_tensor(GT_DIMS(out), -1, 1);
    c.y = gt_tensor(be(), GT_DIMS(batch, out), NULL);
    dense_fwd(&c);
    float *r = gt_rand_array(batch * out, -1, 1);
    gc_tensor dy = gt_tensor(be(), GT_DIMS(batch, out), r);
    gc_tensor dx = gt_tensor(be(), GT_DIMS(batch, in), NULL);
    gc_tensor dw = zeros_like(&c.w), db = zeros_like(&c.b);
    GT_OK(gc_dense_backward(&dx, &dw, &db, &dy, &c.x, &c.w));
    float *gx = gt_read(&dx), *gw = gt_read(&dw), *gb = gt_read(&db);
    fd_check("dense dx", &c.x, gx, FD_EPS, dense_fwd, &c, &c.y, r);
    fd_check("dense dw", &c.w, gw, FD_EPS, dense_fwd, &c, &c.y, r);
    fd_check("dense db", &c.b, gb, FD_EPS, dense_fwd, &c, &c.y, r);

    GT_OK(gc_dense_backward(&dx, &dw, &db, &dy, &c.x, &c.w));
    assert_same(&dx, gx, "dense dx written");
    assert_doubled(&dw, gw, "dense dw accumulated");
    assert_doubled(&db, gb, "dense db accumulated");
    free(gx);
    free(gw);
    free(gb);
    free(r);
}
END_TEST

/* ---- convolutions ------------------------------------------------------------- */

typedef struct conv_ctx {
    gc_tensor y, x, w, b;
    gc_conv_params p;
    int transposed;
} conv_ctx;

static void conv_fwd(void *v)
{
    conv_ctx *c = v;
    if (c->transposed)
        GT_OK(gc_conv_transpose2d_forward(&c->y, &c->x, &c->w, &c->b, &c->p));
    else
        GT_OK(gc_conv2d_forward(&c->y, &c->x, &c->w, &c->b, &c->p));
}

static void conv_backward(conv_ctx *c, const gc_tensor *dx, const gc_tensor *dw,
                          const gc_tensor *db, const gc_tensor *dy)
{
    if (c->transposed)
        GT_OK(gc_conv_transpose2d_backward(dx, dw, db, dy, &c->x, &c->w, &c->p));
    else
        GT_OK(gc_conv2d_backward(dx, dw, db, dy, &c->x, &c->w, &c->p));
}

/* Odd shapes, stride 2 and padding; the second geometry has a non-square
 * kernel, unequal strides and (transposed) unequal output padding. */
static const struct conv_geom {
    int kh, kw;
    gc_conv_params p;
} conv_geoms[] = {
    {3, 3, {.stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .out_pad_h = 1, .out_pad_w = 1}},
    {4, 3, {.stride_h = 2, .stride_w = 3, .pad_h = 2, .pad_w = 1, .out_pad_h = 1, .out_pad_w = 2}},
};

static void grad_conv_case(int transposed, const struct conv_geom *g)
{
    conv_ctx c = {.p = g->p, .transposed = transposed};
    int64_t batch = gt_randint(1, 3), ic = gt_randint(2, 4), oc = gt_randint(2, 4);
    int64_t h = gt_randint(4, 7) | 1, w = gt_randint(4, 7) | 1; /* odd */
    int64_t oh, ow;
    if (transposed) {
        oh = gc_conv_transpose_out_size(h, g->kh, g->p.stride_h, g->p.pad_h, g->p.out_pad_h);
        ow = gc_conv_transpose_out_size(w, g->kw, g->p.stride_w, g->p.pad_w, g->p.out_pad_w);
        c.w = rand_tensor(GT_DIMS(ic, oc, g->kh, g->kw), -1, 1);
    } else {
        h += 2, w += 2; /* room for the kernel */
        oh = gc_conv_out_size(h, g->kh, g->p.stride_h, g->p.pad_h);
        ow = gc_conv_out_size(w, g->kw, g->p.stride_w, g->p.pad_w);
        c.w = rand_tensor(GT_DIMS(oc, ic, g->kh, g->kw), -1, 1);
    }
    c.x = rand_tensor(GT_DIMS(batch, ic, h, w), -1, 1);
    c.b = rand_tensor(GT_DIMS(oc), -1, 1);
    c.y = gt_tensor(be(), GT_DIMS(batch, oc, oh, ow), NULL);
    conv_fwd(&c);

    float *r = gt_rand_array(numel(&c.y), -1, 1);
    gc_tensor dy = gt_tensor(be(), GT_DIMS(batch, oc, oh, ow), r);
    gc_tensor dx = gt_tensor(be(), GT_DIMS(batch, ic, h, w), NULL);
    gc_tensor dw = zeros_like(&c.w), db = zeros_like(&c.b);
    conv_backward(&c, &dx, &dw, &db, &dy);
    float *gx = gt_read(&dx), *gw = gt_read(&dw), *gb = gt_read(&db);
    const char *name = transposed ? "conv_transpose2d" : "conv2d";
    char what[64];
    snprintf(what, sizeof what, "%s dx", name);
    fd_check(what, &c.x, gx, FD_EPS, conv_fwd, &c, &c.y, r);
    snprintf(what, sizeof what, "%s dw", name);
    fd_check(what, &c.w, gw, FD_EPS, conv_fwd, &c, &c.y, r);
    snprintf(what, sizeof what, "%s db", name);
    fd_check(what, &c.b, gb, FD_EPS, conv_fwd, &c, &c.y, r);

    conv_backward(&c, &dx, &dw, &db, &dy);
    assert_same(&dx, gx, "conv dx written");
    assert_doubled(&dw, gw, "conv dw accumulated");
    assert_doubled(&db, gb, "conv db accumulated");

    /* dx NULL: parameter gradients only, the same values again. */
    GT_OK(gc_fill(&dw, 0.0f));
    GT_OK(gc_fill(&db, 0.0f));
    conv_backward(&c, NULL, &dw, &db, &dy);
    assert_same(&dw, gw, "conv dw without dx");
    assert_same(&db, gb, "conv db without dx");
    free(gx);
    free(gw);
    free(gb);
    free(r);
}

START_TEST(grad_conv2d)
{
    grad_conv_case(0, &conv_geoms[_i]);
}
END_TEST

START_TEST(grad_conv_transpose2d)
{
    grad_conv_case(1, &conv_geoms[_i]);
}
END_TEST

/* ---- activations --------------------------------------------------------------- */

typedef struct act_ctx {
    gc_tensor y, x;
    gc_act act;
    float slope;
} act_ctx;

static void act_fwd(void *v)
{
    act_ctx *c = v;
    GT_OK(gc_act_forward(&c->y, &c->x, c->act, c->slope));
}

START_TEST(grad_act)
{
    static const gc_act acts[] = {GC_ACT_RELU, GC_ACT_LEAKY_RELU, GC_ACT_SIGMOID, GC_ACT_TANH};
    static const char *names[] = {"relu dx", "leaky relu dx", "sigmoid dx", "tanh dx"};
    act_ctx c = {.act = acts[_i], .slope = 0.2f};
    int64_t n = gt_randint(2, 4), m = gt_randint(7, 15);
    /* |x| in [0.1, 2]: the FD step never crosses relu's kink at 0. */
    float *hx = gt_rand_array(n * m, 0.1f, 2.0f);
    for (int64_t i = 0; i < n * m; i++)
        if (gt_uniform() < 0.5) hx[i] = -hx[i];
    c.x = gt_tensor(be(), GT_DIMS(n, m), hx);
    c.y = gt_tensor(be(), GT_DIMS(n, m), NULL);
    act_fwd(&c);
    float *r = gt_rand_array(n * m, -1, 1);
    gc_tensor dy = gt_tensor(be(), GT_DIMS(n, m), r);
    gc_tensor dx = gt_tensor(be(), GT_DIMS(n, m), NULL);
    GT_OK(gc_act_backward(&dx, &dy, &c.y, c.act, c.slope));
    float *gx = gt_read(&dx);
    fd_check(names[_i], &c.x, gx, FD_EPS * 0.5, act_fwd, &c, &c.y, r);

    /* dx may alias dy. */
    GT_OK(gc_act_backward(&dy, &dy, &c.y, c.act, c.slope));
    assert_same(&dy, gx, "activation backward in place");
    free(gx);
    free(hx);
    free(r);
}
END_TEST

/* ---- batchnorm ----------------------------------------------------------------- */

typedef struct bn_ctx {
    gc_tensor y, x, gamma, beta, mean, invstd, rmean, rvar;
} bn_ctx;

static void bn_fwd(void *v)
{
    bn_ctx *c = v;
    GT_OK(gc_batchnorm_forward_train(&c->y, &c->mean, &c->invstd, &c->x, &c->gamma, &c->beta,
                                     &c->rmean, &c->rvar, 0.1f, 1e-5f));
}

static void grad_bn_case(int ndim, const int64_t *dims)
{
    bn_ctx c;
    int64_t ch = dims[1];
    c.x = rand_tensor(ndim, dims, -2, 2);
    c.y = gt_tensor(be(), ndim, dims, NULL);
    c.gamma = rand_tensor(GT_DIMS(ch), 0.5f, 1.5f);
    c.beta = rand_tensor(GT_DIMS(ch), -1, 1);
    c.mean = gt_tensor(be(), GT_DIMS(ch), NULL);
    c.invstd = gt_tensor(be(), GT_DIMS(ch), NULL);
    c.rmean = zeros_like(&c.mean);
    c.rvar = zeros_like(&c.mean);
    bn_fwd(&c);
    float *r = gt_rand_array(numel(&c.y), -1, 1);
    gc_tensor dy = gt_tensor(be(), ndim, dims, r);
    gc_tensor dx = gt_tensor(be(), ndim, dims, NULL);
    gc_tensor dg = zeros_like(&c.gamma), dbt = zeros_like(&c.beta);
    GT_OK(gc_batchnorm_backward(&dx, &dg, &dbt, &dy, &c.x, &c.gamma, &c.mean, &c.invstd));
    float *gx = gt_read(&dx), *gg = gt_read(&dg), *gb = gt_read(&dbt);
    fd_check("batchnorm dx", &c.x, gx, FD_EPS * 0.25, bn_fwd, &c, &c.y, r);
    fd_check("batchnorm dgamma", &c.gamma, gg, FD_EPS, bn_fwd, &c, &c.y, r);
    fd_check("batchnorm dbeta", &c.beta, gb, FD_EPS, bn_fwd, &c, &c.y, r);

    GT_OK(gc_batchnorm_backward(&dx, &dg, &dbt, &dy, &c.x, &c.gamma, &c.mean, &c.invstd));
    assert_same(&dx, gx, "batchnorm dx written");
    assert_doubled(&dg, gg, "batchnorm dgamma accumulated");
    assert_doubled(&dbt, gb, "batchnorm dbeta accumulated");
    free(gx);
    free(gg);
    free(gb);
    free(r);
}

START_TEST(grad_batchnorm)
{
    int64_t n = gt_randint(2, 4), ch = gt_randint(2, 5);
    grad_bn_case(4, (int64_t[]){n, ch, gt_randint(2, 5), gt_randint(3, 6)});
    /* A (N, C) matrix: batchnorm after a dense layer. */
    grad_bn_case(2, (int64_t[]){gt_randint(5, 9), ch});
}
END_TEST

/* ---- pooling ------------------------------------------------------------------- */

typedef struct pool_ctx {
    gc_tensor y, x;
    gc_pool_params p;
    int max;
} pool_ctx;

static void pool_fwd(void *v)
{
    pool_ctx *c = v;
    if (c->max)
        GT_OK(gc_max_pool2d_forward(&c->y, &c->x, &c->p));
    else
        GT_OK(gc_avg_pool2d_forward(&c->y, &c->x, &c->p));
}

static const gc_pool_params pool_geoms[] = {
    {.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1},
    /* overlapping windows, padding on one axis only */
    {.kernel_h = 2, .kernel_w = 3, .stride_h = 1, .stride_w = 2, .pad_h = 1, .pad_w = 0},
};

static void grad_pool_case(int max, gc_pool_params p, const char *what)
{
    pool_ctx c = {.p = p, .max = max};
    int64_t n = gt_randint(1, 3), ch = gt_randint(1, 3);
    int64_t h = gt_randint(5, 8), w = gt_randint(5, 8);
    int64_t oh = gc_conv_out_size(h, p.kernel_h, p.stride_h, p.pad_h);
    int64_t ow = gc_conv_out_size(w, p.kernel_w, p.stride_w, p.pad_w);
    int64_t total = n * ch * h * w;
    float *hx = gt_rand_array(total, -1, 1);
    if (max) {
        /* Distinct values at least 0.01 apart (a shuffled ramp), so that a
         * step of 1e-3 never changes which element is the maximum. */
        for (int64_t i = 0; i < total; i++)
            hx[i] = (float)(0.01 * (double)(i - total / 2));
        for (int64_t i = total - 1; i > 0; i--) {
            int64_t j = gt_randint(0, (int)i);
            float t = hx[i];
            hx[i] = hx[j];
            hx[j] = t;
        }
    }
    c.x = gt_tensor(be(), GT_DIMS(n, ch, h, w), hx);
    c.y = gt_tensor(be(), GT_DIMS(n, ch, oh, ow), NULL);
    pool_fwd(&c);
    float *r = gt_rand_array(numel(&c.y), -1, 1);
    gc_tensor dy = gt_tensor(be(), GT_DIMS(n, ch, oh, ow), r);
    gc_tensor dx = gt_tensor(be(), GT_DIMS(n, ch, h, w), NULL);
    if (max)
        GT_OK(gc_max_pool2d_backward(&dx, &dy, &c.x, &p));
    else
        GT_OK(gc_avg_pool2d_backward(&dx, &dy, &p));
    float *gx = gt_read(&dx);
    fd_check(what, &c.x, gx, max ? 1e-3 : FD_EPS, pool_fwd, &c, &c.y, r);
    if (max)
        GT_OK(gc_max_pool2d_backward(&dx, &dy, &c.x, &p));
    else
        GT_OK(gc_avg_pool2d_backward(&dx, &dy, &p));
    assert_same(&dx, gx, "pool dx written");
    free(gx);
    free(hx);
    free(r);
}

START_TEST(grad_max_pool)
{
    grad_pool_case(1, pool_geoms[_i], "max pool dx");
}
END_TEST

START_TEST(grad_avg_pool)
{
    gc_pool_params p = pool_geoms[_i];
    p.count_include_pad = 1;
    grad_pool_case(0, p, "avg pool (count_include_pad) dx");
    p.count_include_pad = 0;
    grad_pool_case(0, p, "avg pool (real pixels only) dx");
}
END_TEST

typedef struct gap_ctx {
    gc_tensor y, x;
} gap_ctx;

static void gap_fwd(void *v)
{
    gap_ctx *c = v;
    GT_OK(gc_global_avg_pool_forward(&c->y, &c->x));
}

START_TEST(grad_global_avg_pool)
{
    gap_ctx c;
    int64_t n = gt_randint(1, 3), ch = gt_randint(2, 5), h = gt_randint(2, 7), w = gt_randint(3, 7);
    c.x = rand_tensor(GT_DIMS(n, ch, h, w), -1, 1);
    c.y = gt_tensor(be(), GT_DIMS(n, ch, 1, 1), NULL);
    gap_fwd(&c);
    float *r = gt_rand_array(n * ch, -1, 1);
    gc_tensor dy = gt_tensor(be(), GT_DIMS(n, ch, 1, 1), r);
    gc_tensor dx = gt_tensor(be(), GT_DIMS(n, ch, h, w), NULL);
    GT_OK(gc_global_avg_pool_backward(&dx, &dy));
    float *gx = gt_read(&dx);
    fd_check("global avg pool dx", &c.x, gx, FD_EPS, gap_fwd, &c, &c.y, r);
    free(gx);
    free(r);
}
END_TEST

/* ---- concat -------------------------------------------------------------------- */

typedef struct concat_ctx {
    gc_tensor y, xs[3];
} concat_ctx;

static void concat_fwd(void *v)
{
    concat_ctx *c = v;
    GT_OK(gc_concat_forward(&c->y, c->xs, 3));
}

START_TEST(grad_concat)
{
    concat_ctx c;
    int64_t n = gt_randint(1, 3), h = gt_randint(2, 5), w = gt_randint(2, 5), ctot = 0;
    int64_t chs[3];
    for (int i = 0; i < 3; i++) {
        chs[i] = gt_randint(1, 3);
        c.xs[i] = rand_tensor(GT_DIMS(n, chs[i], h, w), -1, 1);
        ctot += chs[i];
    }
    c.y = gt_tensor(be(), GT_DIMS(n, ctot, h, w), NULL);
    concat_fwd(&c);
    float *r = gt_rand_array(numel(&c.y), -1, 1);
    gc_tensor dy = gt_tensor(be(), GT_DIMS(n, ctot, h, w), r);
    gc_tensor dxs[3];
    for (int i = 0; i < 3; i++)
        dxs[i] = gt_tensor(be(), GT_DIMS(n, chs[i], h, w), NULL);
    GT_OK(gc_concat_backward(dxs, 3, &dy));
    for (int i = 0; i < 3; i++) {
        float *gx = gt_read(&dxs[i]);
        fd_check("concat dx", &c.xs[i], gx, FD_EPS, concat_fwd, &c, &c.y, r);
        free(gx);
    }

    /* A NULL buffer skips that input; the others still get their slice. */
    gt_poison(&dxs[0]);
    gt_poison(&dxs[2]);
    gc_tensor skip[3] = {dxs[0], gc_tensor_4d(be(), NULL, 0, n, chs[1], h, w), dxs[2]};
    GT_OK(gc_concat_backward(skip, 3, &dy));
    float *g0 = gt_read(&dxs[0]), *g2 = gt_read(&dxs[2]);
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < chs[0] * h * w; k++)
            ck_assert_float_eq(g0[i * chs[0] * h * w + k], r[i * ctot * h * w + k]);
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < chs[2] * h * w; k++)
            ck_assert_float_eq(g2[i * chs[2] * h * w + k],
                               r[(i * ctot + chs[0] + chs[1]) * h * w + k]);
    free(g0);
    free(g2);
    free(r);
}
END_TEST

/* ---- BCE with logits ---------------------------------------------------------- */

typedef struct bce_ctx {
    gc_tensor loss, z;
    float target;
} bce_ctx;

static void bce_fwd(void *v)
{
    bce_ctx *c = v;
    GT_OK(gc_bce_logits_forward(&c->loss, &c->z, c->target));
}

START_TEST(grad_bce_logits)
{
    static const float targets[] = {0.0f, 1.0f, 0.9f};
    bce_ctx c = {.target = targets[_i]};
    int64_t n = gt_randint(5, 17);
    c.z = rand_tensor(GT_DIMS(n, 1), -4, 4);
    c.loss = gt_tensor(be(), GT_DIMS(1), NULL);
    bce_fwd(&c);
    /* L = r * loss, so backward's scale is r. */
    float r = (float)(0.5 + gt_uniform());
    gc_tensor dz = gt_tensor(be(), GT_DIMS(n, 1), NULL);
    GT_OK(gc_bce_logits_backward(&dz, &c.z, c.target, r));
    float *gz = gt_read(&dz);
    fd_check("bce dz", &c.z, gz, FD_EPS, bce_fwd, &c, &c.loss, &r);
    free(gz);
}
END_TEST

/* ---- softmax cross-entropy ---------------------------------------------------- */

typedef struct ce_ctx {
    gc_tensor loss, z, labels;
} ce_ctx;

static void ce_fwd(void *v)
{
    ce_ctx *c = v;
    GT_OK(gc_softmax_ce_forward(&c->loss, NULL, &c->z, &c->labels));
}

START_TEST(grad_softmax_ce)
{
    ce_ctx c;
    /* _i = 1: K = 1, where the loss is 0 whatever z is. */
    int64_t n = gt_randint(3, 9), k = _i ? 1 : 2 * gt_randint(2, 6) + 1;
    float *hl = malloc((size_t)n * sizeof *hl);
    ck_assert_ptr_nonnull(hl);
    for (int64_t i = 0; i < n; i++)
        hl[i] = (float)gt_randint(0, (int)k - 1);
    c.z = rand_tensor(GT_DIMS(n, k), -3, 3);
    c.labels = gt_tensor(be(), GT_DIMS(n), hl);
    c.loss = gt_tensor(be(), GT_DIMS(1), NULL);
    ce_fwd(&c);
    /* L = r * loss, so backward's scale is r. */
    float r = (float)(0.5 + gt_uniform());
    gc_tensor dz = gt_tensor(be(), GT_DIMS(n, k), NULL);
    GT_OK(gc_softmax_ce_backward(&dz, &c.z, &c.labels, r));
    float *gz = gt_read(&dz);
    fd_check("softmax_ce dz", &c.z, gz, FD_EPS, ce_fwd, &c, &c.loss, &r);
    /* Written, not accumulated. */
    GT_OK(gc_softmax_ce_backward(&dz, &c.z, &c.labels, r));
    assert_same(&dz, gz, "softmax_ce dz written");
    /* Each row of the gradient sums to zero (softmax sums to one). */
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < k; j++)
            s += gz[i * k + j];
        ck_assert_msg(fabs(s) < 1e-6, "softmax_ce dz row %d sums to %g", (int)i, s);
    }
    free(gz);
    free(hl);
}
END_TEST

static Suite *grad_suite(void)
{
    Suite *s = suite_create("grad");
    TCase *tc = tcase_create("finite differences");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, grad_dense);
    tcase_add_loop_test(tc, grad_conv2d, 0, 2);
    tcase_add_loop_test(tc, grad_conv_transpose2d, 0, 2);
    tcase_add_loop_test(tc, grad_act, 0, 4);
    tcase_add_test(tc, grad_batchnorm);
    tcase_add_loop_test(tc, grad_max_pool, 0, 2);
    tcase_add_loop_test(tc, grad_avg_pool, 0, 2);
    tcase_add_test(tc, grad_global_avg_pool);
    tcase_add_test(tc, grad_concat);
    tcase_add_loop_test(tc, grad_bce_logits, 0, 3);
    tcase_add_loop_test(tc, grad_softmax_ce, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(grad_suite());
}

/* tests/test_golden.c - every op against PyTorch's answers (tests/data/goldens/).
 *
 * tools/make_goldens.py stores inputs, parameters and PyTorch's outputs for
 * each case.  Each case runs on the CPU reference backend (always) and on
 * the OpenCL device when there is one; an absent device is a note, not a
 * skip, so the CPU half always runs.  The goldens are float64 results
 * rounded to float32, so the tolerances below measure the op's own error.
 *
 * Backward passes are run three times to pin the contract of gancl/ops.h:
 * dw/db zeroed first (golden), again without zeroing (2x golden, dx written
 * not accumulated) and with dx NULL (3x golden).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "test_support.h"

/* Typical tolerance: fp32 ops with short sums against a float64 reference. */
#define TOL 1e-5

typedef struct ctx {
    gc_backend *be;
    const gt_golden *g;
    const char *name; /* case name */
} ctx;

/* ---- comparing against a golden array ------------------------------------- */

static void check_host(const ctx *c, const float *got, const float *want,
                       const gt_golden_array *shape_of, const char *what, double tol)
{
    gt_diff d = gt_compare(got, want, shape_of->numel);
    /* GANCL_GOLDEN_VERBOSE=1 prints every comparison, to see the margins. */
    if (getenv("GANCL_GOLDEN_VERBOSE"))
        printf("%-24s %-10.10s %-36s nerr %.3g (tol %.0e)\n", c->name, gc_backend_name(c->be), what,
               d.nerr, tol);
    if (d.nerr <= tol) return;
    /* The worst element as NCHW coordinates, so a report can name it. */
    int64_t idx = d.worst, co[4] = {0, 0, 0, 0};
    for (int k = shape_of->ndim - 1; k >= 0; k--) {
        co[k] = idx % shape_of->dims[k];
        idx /= shape_of->dims[k];
    }
    ck_abort_msg("%s [%s] %s: normalised error %.3g > %.3g over %" PRId64 " elements; worst at "
                 "%" PRId64 " = (%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ") of %s: got "
                 "%.9g, PyTorch %.9g",
                 c->name, gc_backend_name(c->be), what, d.nerr, tol, shape_of->numel, d.worst,
                 co[0], co[1], co[2], co[3], shape_of->name, d.a, d.b);
}

/* Compares tensor t with scale * golden[name]. */
static void expect_scaled(const ctx *c, const gc_tensor *t, const char *name, float scale,
                          double tol, const char *what)
{
    const gt_golden_array *a = gt_golden_get(c->g, name);
    ck_assert_msg(gc_tensor_numel(t) == a->numel,
                  "%s: %s has %" PRId64 " elements, golden %" PRId64, c->name, what,
                  gc_tensor_numel(t), a->numel);
    float *got = gt_read(t);
    float *want = malloc((size_t)a->numel * sizeof(float));
    ck_assert_ptr_nonnull(want);
    for (int64_t i = 0; i < a->numel; i++)
        want[i] = scale * a->data[i];
    check_host(c, got, want, a, what, tol);
    free(got);
    free(want);
}

static void expect(const ctx *c, const gc_tensor *t, const char *name, double tol)
{
    expect_scaled(c, t, name, 1.0f, tol, name);
}

static gc_tensor in(const ctx *c, const char *name)
{
    return gt_golden_tensor(c->be, c->g, name);
}
static gc_tensor out(const ctx *c, const char *name)
{
    return gt_golden_like(c->be, c->g, name);
}
static gc_tensor zeros(const ctx *c, const char *name)
{
    gc_tensor t = out(c, name);
    GT_OK(gc_fill(&t, 0.0f));
    return t;
}
static float param(const ctx *c, const char *name)
{
    return gt_golden_scalar(c->g, name);
}
static int iparam(const ctx *c, const char *name)
{
    return gt_golden_int(c->g, name);
}

/* ---- convolutions and dense: forward, backward x3, forward without bias ---- */

typedef enum { K_CONV, K_CONVT, K_DENSE } wkind;

static gc_status fwd(wkind k, gc_tensor *y, gc_tensor *x, gc_tensor *w, gc_tensor *b,
                     const gc_conv_params *p)
{
    switch (k) {
    case K_CONV: return gc_conv2d_forward(y, x, w, b, p);
    case K_CONVT: return gc_conv_transpose2d_forward(y, x, w, b, p);
    default: return gc_dense_forward(y, x, w, b);
    }
}

static gc_status bwd(wkind k, gc_tensor *dx, gc_tensor *dw, gc_tensor *db, gc_tensor *dy,
                     gc_tensor *x, gc_tensor *w, const gc_conv_params *p)
{
    switch (k) {
    case K_CONV: return gc_conv2d_backward(dx, dw, db, dy, x, w, p);
    case K_CONVT: return gc_conv_transpose2d_backward(dx, dw, db, dy, x, w, p);
    default: return gc_dense_backward(dx, dw, db, dy, x, w);
    }
}

static void run_weighted(const ctx *c, wkind k)
{
    gc_conv_params p = {0};
    if (k != K_DENSE) {
        p.stride_h = iparam(c, "param.stride_h");
        p.stride_w = iparam(c, "param.stride_w");
        p.pad_h = iparam(c, "param.pad_h");
        p.pad_w = iparam(c, "param.pad_w");
        p.out_pad_h = iparam(c, "param.out_pad_h");
        p.out_pad_w = iparam(c, "param.out_pad_w");
    }
    gc_tensor x = in(c, "x"), w = in(c, "w"), b = in(c, "b"), y = out(c, "y");
    GT_OK(fwd(k, &y, &x, &w, &b, &p));
    expect(c, &y, "y", TOL);

    gc_tensor dy = in(c, "dy"), dx = out(c, "dx"), dw = zeros(c, "dw"), db = zeros(c, "db");
    GT_OK(bwd(k, &dx, &dw, &db, &dy, &x, &w, &p));
    expect(c, &dx, "dx", TOL);
    expect(c, &dw, "dw", TOL);
    expect(c, &db, "db", TOL);

    gt_poison(&dx);
    GT_OK(bwd(k, &dx, &dw, &db, &dy, &x, &w, &p));
    expect_scaled(c, &dx, "dx", 1.0f, TOL, "dx (second call writes, not adds)");
    expect_scaled(c, &dw, "dw", 2.0f, TOL, "dw (second call accumulates)");
    expect_scaled(c, &db, "db", 2.0f, TOL, "db (second call accumulates)");
    GT_OK(bwd(k, NULL, &dw, &db, &dy, &x, &w, &p));
    expect_scaled(c, &dw, "dw", 3.0f, TOL, "dw (third call, dx NULL)");
    expect_scaled(c, &db, "db", 3.0f, TOL, "db (third call, dx NULL)");

    /* Without bias: y - b, b broadcast over the channel (dense: the column). */
    gt_poison(&y);
    GT_OK(fwd(k, &y, &x, &w, NULL, &p));
    const gt_golden_array *ya = gt_golden_get(c->g, "y"), *ba = gt_golden_get(c->g, "b");
    int64_t inner = k == K_DENSE ? 1 : ya->dims[2] * ya->dims[3];
    float *want = malloc((size_t)ya->numel * sizeof(float));
    ck_assert_ptr_nonnull(want);
    for (int64_t i = 0; i < ya->numel; i++)
        want[i] = ya->data[i] - ba->data[(i / inner) % ba->numel];
    float *got = gt_read(&y);
    check_host(c, got, want, ya, "y without bias", TOL);
    free(got);
    free(want);
}

static void case_conv(const ctx *c)
{
    run_weighted(c, K_CONV);
}
static void case_convt(const ctx *c)
{
    run_weighted(c, K_CONVT);
}
static void case_dense(const ctx *c)
{
    run_weighted(c, K_DENSE);
}

/* ---- pooling --------------------------------------------------------------- */

static gc_pool_params pool_params(const ctx *c)
{
    gc_pool_params p = {
        .kernel_h = iparam(c, "param.kernel_h"),
        .kernel_w = iparam(c, "param.kernel_w"),
        .stride_h = iparam(c, "param.stride_h"),
        .stride_w = iparam(c, "param.stride_w"),
        .pad_h = iparam(c, "param.pad_h"),
        .pad_w = iparam(c, "param.pad_w"),
        .count_include_pad = iparam(c, "param.count_include_pad"),
    };
    return p;
}

static void case_maxpool(const ctx *c)
{
    gc_pool_params p = pool_params(c);
    gc_tensor x = in(c, "x"), y = out(c, "y"), dy = in(c, "dy"), dx = out(c, "dx");
    GT_OK(gc_max_pool2d_forward(&y, &x, &p));
    /* A max is exact: anything but the very value is a bug. */
    expect(c, &y, "y", 0.0);
    GT_OK(gc_max_pool2d_backward(&dx, &dy, &x, &p));
    expect(c, &dx, "dx", TOL);
}

static void case_avgpool(const ctx *c)
{
    gc_pool_params p = pool_params(c);
    gc_tensor x = in(c, "x"), y = out(c, "y"), dy = in(c, "dy"), dx = out(c, "dx");
    GT_OK(gc_avg_pool2d_forward(&y, &x, &p));
    expect(c, &y, "y", TOL);
    GT_OK(gc_avg_pool2d_backward(&dx, &dy, &p));
    expect(c, &dx, "dx", TOL);
}

/* ---- batchnorm --------------------------------------------------------------- */

static void case_bn_train(const ctx *c)
{
    float eps = param(c, "param.eps"), momentum = param(c, "param.momentum");
    gc_tensor x = in(c, "x"), gamma = in(c, "gamma"), beta = in(c, "beta");
    gc_tensor rm = in(c, "running_mean_in"), rv = in(c, "running_var_in");
    gc_tensor y = out(c, "y"), mean = out(c, "save_mean"), invstd = out(c, "save_invstd");
    GT_OK(
        gc_batchnorm_forward_train(&y, &mean, &invstd, &x, &gamma, &beta, &rm, &rv, momentum, eps));
    expect(c, &y, "y", TOL);
    expect(c, &mean, "save_mean", TOL);
    expect(c, &invstd, "save_invstd", TOL);
    expect(c, &rm, "running_mean_out", TOL);
    expect(c, &rv, "running_var_out", TOL);

    /* Backward from the golden statistics, so it is tested on its own. */
    gc_tensor smean = in(c, "save_mean"), sinv = in(c, "save_invstd");
    gc_tensor dy = in(c, "dy"), dx = out(c, "dx");
    gc_tensor dgamma = zeros(c, "dgamma"), dbeta = zeros(c, "dbeta");
    GT_OK(gc_batchnorm_backward(&dx, &dgamma, &dbeta, &dy, &x, &gamma, &smean, &sinv));
    expect(c, &dx, "dx", TOL);
    expect(c, &dgamma, "dgamma", TOL);
    expect(c, &dbeta, "dbeta", TOL);
    gt_poison(&dx);
    GT_OK(gc_batchnorm_backward(&dx, &dgamma, &dbeta, &dy, &x, &gamma, &smean, &sinv));
    expect_scaled(c, &dx, "dx", 1.0f, TOL, "dx (second call writes, not adds)");
    expect_scaled(c, &dgamma, "dgamma", 2.0f, TOL, "dgamma (second call accumulates)");
    expect_scaled(c, &dbeta, "dbeta", 2.0f, TOL, "dbeta (second call accumulates)");
}

static void case_bn_eval(const ctx *c)
{
    float eps = param(c, "param.eps");
    gc_tensor x = in(c, "x"), gamma = in(c, "gamma"), beta = in(c, "beta");
    gc_tensor rm = in(c, "running_mean"), rv = in(c, "running_var"), y = out(c, "y");
    GT_OK(gc_batchnorm_forward_eval(&y, &x, &gamma, &beta, &rm, &rv, eps));
    expect(c, &y, "y", TOL);
    /* Evaluation must leave the running statistics alone. */
    expect(c, &rm, "running_mean", 0.0);
    expect(c, &rv, "running_var", 0.0);
}

/* ---- bilinear resize ---------------------------------------------------------- */

static void case_resize(const ctx *c)
{
    gc_tensor x = in(c, "x");
    const gt_golden_array *rows = gt_golden_find(c->g, "rows");
    if (!rows) {
        gc_tensor y = out(c, "y");
        GT_OK(gc_resize_bilinear_forward(&y, &x));
        expect(c, &y, "y", TOL);
        return;
    }
    /* Only some output rows are stored (see make_goldens.py): run the full resize and
     * compare those rows. */
    const gt_golden_array *yr = gt_golden_get(c->g, "y_rows");
    int64_t oh = iparam(c, "param.out_h"), ow = yr->dims[3], planes = yr->dims[0] * yr->dims[1];
    gc_tensor y = gt_tensor(c->be, GT_DIMS(yr->dims[0], yr->dims[1], oh, ow), NULL);
    GT_OK(gc_resize_bilinear_forward(&y, &x));
    float *full = gt_read(&y);
    float *got = malloc((size_t)yr->numel * sizeof(float));
    ck_assert_ptr_nonnull(got);
    for (int64_t pl = 0; pl < planes; pl++)
        for (int64_t r = 0; r < rows->numel; r++) {
            int64_t src = (int64_t)rows->data[r];
            ck_assert(src >= 0 && src < oh);
            memcpy(got + (pl * rows->numel + r) * ow, full + (pl * oh + src) * ow,
                   (size_t)ow * sizeof(float));
        }
    for (int64_t i = 0; i < planes * oh * ow; i++)
        ck_assert_msg(isfinite(full[i]), "%s [%s]: y[%" PRId64 "] not written", c->name,
                      gc_backend_name(c->be), i);
    check_host(c, got, yr->data, yr, "y (stored rows)", TOL);
    free(full);
    free(got);
}

/* ---- BCE with logits ------------------------------------------------------------ */

static void case_bce(const ctx *c)
{
    float target = param(c, "param.target"), scale = param(c, "param.scale");
    gc_tensor z = in(c, "z"), loss = gt_tensor(c->be, GT_DIMS(1), NULL), dz = out(c, "dz");
    GT_OK(gc_bce_logits_forward(&loss, &z, target));
    expect(c, &loss, "loss", TOL);
    GT_OK(gc_bce_logits_backward(&dz, &z, target, scale));
    expect(c, &dz, "dz", TOL);
}

/* ---- softmax cross-entropy with class labels ----------------------------------- */

static void case_softmax_ce(const ctx *c)
{
    float scale = param(c, "param.scale");
    gc_tensor z = in(c, "z"), labels = in(c, "labels"), dz = out(c, "dz");
    gc_tensor loss = gt_tensor(c->be, GT_DIMS(1), NULL), hits = gt_tensor(c->be, GT_DIMS(1), NULL);
    GT_OK(gc_softmax_ce_forward(&loss, &hits, &z, &labels));
    expect(c, &loss, "loss", TOL);
    expect(c, &hits, "correct", 0.0); /* a count: exact */
    GT_OK(gc_softmax_ce_backward(&dz, &z, &labels, scale));
    expect(c, &dz, "dz", TOL);
    /* Written, not accumulated. */
    GT_OK(gc_softmax_ce_backward(&dz, &z, &labels, scale));
    expect(c, &dz, "dz", TOL);
}

/* ---- Adam ------------------------------------------------------------------------ */

static void case_adam(const ctx *c)
{
    gc_adam_params p = {
        .lr = param(c, "param.lr"),
        .beta1 = param(c, "param.beta1"),
        .beta2 = param(c, "param.beta2"),
        .eps = param(c, "param.eps"),
    };
    int steps = iparam(c, "param.steps");
    gc_tensor w = in(c, "param0"), m = zeros(c, "param0"), v = zeros(c, "param0");
    char name[32], prev[32];
    for (int k = 1; k <= steps; k++) {
        snprintf(name, sizeof name, "grad%d", k);
        gc_tensor grad = in(c, name);
        p.step = k;
        GT_OK(gc_adam_update(&w, &grad, &m, &v, &p));
        snprintf(name, sizeof name, "param%d", k);
        expect(c, &w, name, TOL);
        snprintf(name, sizeof name, "m%d", k);
        expect(c, &m, name, TOL);
        snprintf(name, sizeof name, "v%d", k);
        expect(c, &v, name, TOL);

        /* A step is ~1% of a weight, so a wrong step hides in the weight's comparison:
         * compare the step itself.  Subtracting two float32 weights costs ~ulp(0.02) ~ 2e-9
         * against steps of ~2e-4, hence 1e-4. */
        snprintf(name, sizeof name, "param%d", k);
        snprintf(prev, sizeof prev, "param%d", k - 1);
        const gt_golden_array *a = gt_golden_get(c->g, name), *b = gt_golden_get(c->g, prev);
        float *now = gt_read(&w);
        float *got = malloc((size_t)a->numel * sizeof(float));
        float *want = malloc((size_t)a->numel * sizeof(float));
        ck_assert(got && want);
        for (int64_t i = 0; i < a->numel; i++) {
            got[i] = (float)((double)now[i] - b->data[i]);
            want[i] = (float)((double)a->data[i] - b->data[i]);
        }
        check_host(c, got, want, a, "the step param_k - param_(k-1)", 1e-4);
        free(now);
        free(got);
        free(want);
        /* Carry on from the golden weights so one step's error does not leak into the next
         * step's difference. */
        GT_OK(gc_tensor_write(&w, a->data));
    }
}

/* ---- activations ------------------------------------------------------------------- */

static void run_act(const ctx *c, gc_act act)
{
    float slope = param(c, "param.slope");
    gc_tensor x = in(c, "x"), y = out(c, "y"), dy = in(c, "dy"), dx = out(c, "dx");
    GT_OK(gc_act_forward(&y, &x, act, slope));
    expect(c, &y, "y", TOL);
    gc_tensor yg = in(c, "y");
    GT_OK(gc_act_backward(&dx, &dy, &yg, act, slope));
    expect(c, &dx, "dx", TOL);
    /* In place, as the header allows: y aliasing x, dx aliasing dy. */
    GT_OK(gc_act_forward(&x, &x, act, slope));
    expect(c, &x, "y", TOL);
    GT_OK(gc_act_backward(&dy, &dy, &yg, act, slope));
    expect(c, &dy, "dx", TOL);
}

static void case_relu(const ctx *c)
{
    run_act(c, GC_ACT_RELU);
}
static void case_leaky(const ctx *c)
{
    run_act(c, GC_ACT_LEAKY_RELU);
}
static void case_sigmoid(const ctx *c)
{
    run_act(c, GC_ACT_SIGMOID);
}
static void case_tanh(const ctx *c)
{
    run_act(c, GC_ACT_TANH);
}

/* ---- the case table ------------------------------------------------------------------ */

static const struct {
    const char *name;
    void (*run)(const ctx *c);
} cases[] = {
    {"conv2d_k3_s2_p1", case_conv},
    {"conv2d_k1x3_s1_p0x1", case_conv},
    {"conv2d_k7x1_s1_p3x0", case_conv},
    {"convt_k3_s2_p1_op1", case_convt},
    {"convt_k4_s2_p0", case_convt},
    {"convt_k4_s2_p1", case_convt},
    {"maxpool_k3_s2_p0", case_maxpool},
    {"maxpool_k3_s2_p1", case_maxpool},
    {"maxpool_k3_s2_p1_ties", case_maxpool},
    {"avgpool_k3_s1_p1_incl", case_avgpool},
    {"avgpool_k3_s1_p1_excl", case_avgpool},
    {"avgpool_k3_s2_p1_incl", case_avgpool},
    {"avgpool_k3_s2_p1_excl", case_avgpool},
    {"avgpool_k3_s2_p0_excl", case_avgpool},
    {"bn_train_eps1e-5", case_bn_train},
    {"bn_train_eps1e-3", case_bn_train},
    {"bn_eval", case_bn_eval},
    {"resize_13x11_to_29x17", case_resize},
    {"resize_29x17_to_7x5", case_resize},
    {"resize_28x28_to_299", case_resize},
    {"resize_13x13_to_299", case_resize},
    {"bce_t1", case_bce},
    {"bce_t0", case_bce},
    {"bce_t0.9", case_bce},
    {"softmax_ce_n37_k10", case_softmax_ce},
    {"softmax_ce_n5_k1000", case_softmax_ce},
    {"softmax_ce_n9_k2", case_softmax_ce},
    {"adam_3steps", case_adam},
    {"dense_2d", case_dense},
    {"dense_4d", case_dense},
    {"act_relu", case_relu},
    {"act_leaky_relu", case_leaky},
    {"act_sigmoid", case_sigmoid},
    {"act_tanh", case_tanh},
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static void run_case(gc_backend *be, int i)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/goldens/%s.bin", GANCL_TEST_DATA, cases[i].name);
    gt_golden *g = gt_golden_open(path);
    ctx c = {be, g, cases[i].name};
    cases[i].run(&c);
    gt_golden_free(g);
}

START_TEST(test_golden_cpu)
{
    run_case(gt_cpu(), _i);
}
END_TEST

START_TEST(test_golden_opencl)
{
    gc_backend *be = gt_cl();
    if (!be) {
        const char *req = getenv("GANCL_REQUIRE_OPENCL");
        ck_assert_msg(!(req && !strcmp(req, "1")), "no OpenCL device, but GANCL_REQUIRE_OPENCL=1");
        static int noted;
        if (!noted) printf("test_golden: no OpenCL device; only the CPU backend was checked\n");
        noted = 1;
        return;
    }
    run_case(be, _i);
}
END_TEST

/* ---- the reader itself ------------------------------------------------------------- */

/* A valid two-array file built by hand: "a" (2, 3) and "param.k" (1). */
static size_t build_file(unsigned char *buf)
{
    size_t n = 0;
    memcpy(buf, "GCGOLD01", 8);
    n = 8;
    const uint32_t count = 2;
    for (int b = 0; b < 4; b++)
        buf[n++] = (unsigned char)(count >> (8 * b));
    const char *names[2] = {"a", "param.k"};
    const int64_t dims[2][4] = {{2, 3, 1, 1}, {1, 1, 1, 1}};
    const uint32_t ndims[2] = {2, 1};
    for (int a = 0; a < 2; a++) {
        memset(buf + n, 0, GT_GOLDEN_NAME_LEN);
        memcpy(buf + n, names[a], strlen(names[a]));
        n += GT_GOLDEN_NAME_LEN;
        for (int b = 0; b < 4; b++)
            buf[n++] = (unsigned char)(ndims[a] >> (8 * b));
        for (int d = 0; d < 4; d++)
            for (int b = 0; b < 8; b++)
                buf[n++] = (unsigned char)((uint64_t)dims[a][d] >> (8 * b));
        int64_t cnt = dims[a][0] * dims[a][1];
        for (int64_t i = 0; i < cnt; i++) {
            float f = (float)(i + 1) * (a ? 7.0f : 0.5f);
            uint32_t bits;
            memcpy(&bits, &f, 4);
            for (int b = 0; b < 4; b++)
                buf[n++] = (unsigned char)(bits >> (8 * b));
        }
    }
    return n;
}

/* Offsets in that file: the first array's header, its dims[0], the second array's header. */
#define ARRAY0      12
#define ARRAY0_DIMS (ARRAY0 + GT_GOLDEN_NAME_LEN + 4)
#define ARRAY1      (ARRAY0_DIMS + 4 * 8 + 6 * 4)

static void expect_bad(const unsigned char *buf, size_t n, const char *what)
{
    gt_golden *g = (gt_golden *)1;
    gc_status s = gt_golden_parse(buf, n, "test.bin", &g);
    ck_assert_msg(s == GC_ERR_FORMAT, "%s: expected GC_ERR_FORMAT, got %s", what,
                  gc_status_name(s));
    ck_assert_msg(g == NULL, "%s: output not cleared", what);
    ck_assert_msg(strstr(gc_last_error(), "test.bin") != NULL, "%s: message lacks the path: %s",
                  what, gc_last_error());
}

START_TEST(test_reader_valid)
{
    unsigned char buf[512];
    size_t n = build_file(buf);
    gt_golden *g = NULL;
    GT_OK(gt_golden_parse(buf, n, "test.bin", &g));
    ck_assert_int_eq(g->count, 2);
    const gt_golden_array *a = gt_golden_find(g, "a");
    ck_assert_ptr_nonnull(a);
    ck_assert_int_eq(a->ndim, 2);
    ck_assert_int_eq(a->dims[0], 2);
    ck_assert_int_eq(a->dims[1], 3);
    ck_assert_int_eq(a->numel, 6);
    ck_assert_float_eq(a->data[5], 3.0f);
    ck_assert_float_eq(gt_golden_scalar(g, "param.k"), 7.0f);
    ck_assert_int_eq(gt_golden_int(g, "param.k"), 7);
    ck_assert_ptr_null(gt_golden_find(g, "missing"));
    gt_golden_free(g);
}
END_TEST

START_TEST(test_reader_malformed)
{
    unsigned char good[512], buf[520];
    size_t n = build_file(good);

    /* Every truncation, including inside a header and inside the data. */
    for (size_t len = 0; len < n; len++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu bytes", len);
        expect_bad(good, len, what);
    }
    memcpy(buf, good, n);
    buf[n] = 0;
    expect_bad(buf, n + 1, "one trailing byte");

#define MUTATE(what, stmt)                                                                         \
    do {                                                                                           \
        memcpy(buf, good, n);                                                                      \
        stmt;                                                                                      \
        expect_bad(buf, n, what);                                                                  \
    } while (0)
    MUTATE("bad magic", buf[7] = '2');
    MUTATE("count 0", memset(buf + 8, 0, 4));
    MUTATE("count 3", buf[8] = 3);
    MUTATE("count huge", memset(buf + 8, 0xff, 4));
    MUTATE("name without NUL", memset(buf + ARRAY0, 'x', GT_GOLDEN_NAME_LEN));
    MUTATE("empty name", buf[ARRAY0] = 0);
    MUTATE("ndim 0", memset(buf + ARRAY0 + GT_GOLDEN_NAME_LEN, 0, 4));
    MUTATE("ndim 5", buf[ARRAY0 + GT_GOLDEN_NAME_LEN] = 5);
    MUTATE("dim 0", memset(buf + ARRAY0_DIMS, 0, 8));
    MUTATE("negative dim", memset(buf + ARRAY0_DIMS, 0xff, 8));
    MUTATE("dim too large", buf[ARRAY0_DIMS] = 100);
    MUTATE("dim beyond ndim not 1", buf[ARRAY0_DIMS + 16] = 2);
    MUTATE("dims of 2^62", (memset(buf + ARRAY0_DIMS, 0, 16), buf[ARRAY0_DIMS + 7] = 0x40,
                            buf[ARRAY0_DIMS + 15] = 0x40));
    MUTATE("repeated name", memcpy(buf + ARRAY1, "a\0\0\0\0\0\0", 8));
#undef MUTATE

    gt_golden *g = NULL;
    ck_assert_int_eq(gt_golden_load(GANCL_TEST_DATA "/goldens/no-such-case.bin", &g), GC_ERR_IO);
    ck_assert_ptr_null(g);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("golden");
    TCase *reader = tcase_create("reader");
    tcase_add_test(reader, test_reader_valid);
    tcase_add_test(reader, test_reader_malformed);
    suite_add_tcase(s, reader);
    TCase *cpu = tcase_create("cpu");
    tcase_set_timeout(cpu, 600);
    tcase_add_loop_test(cpu, test_golden_cpu, 0, NCASES);
    suite_add_tcase(s, cpu);
    TCase *cl = tcase_create("opencl");
    tcase_set_timeout(cl, 600);
    tcase_add_loop_test(cl, test_golden_opencl, 0, NCASES);
    suite_add_tcase(s, cl);
    return gt_run_suite(s);
}

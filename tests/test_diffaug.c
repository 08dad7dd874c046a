/* tests/test_diffaug.c - DiffAugment (gc_diffaug_forward/backward,
 * gancl/ops.h): colour, translation and cutout from explicit draws.
 *
 * CPU part (always runs): the forward against a host reference that applies
 * DiffAugment's steps one after another in double (cutout by its clamped
 * grid, as the PyTorch code does); the backward against the op's matrix
 * built column by column from forwards of unit images (the op is affine in
 * x, so this is an exact gradient check); hand-picked draws whose effect is
 * written out (a known shift, a known rectangle, one clipped at the edges,
 * the colour formulas); policy 0 is the identity; PyTorch's answers
 * (tests/data/goldens/diffaug_*.bin, tools/make_diffaug_goldens.py).
 * OpenCL part (skipped with 77 without a device): every policy against the
 * CPU reference at odd sizes, outputs poisoned with NaN first, the adjoint
 * identity on the device, the identity policy and the goldens.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "golden.h"
#include "test_support.h"

#define TOL 1e-5
#define NP  GC_DIFFAUG_PARAMS

static float *xmalloc(int64_t n)
{
    float *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    return h;
}

static double *dmalloc(int64_t n)
{
    double *h = malloc((size_t)(n > 0 ? n : 1) * sizeof *h);
    ck_assert_ptr_nonnull(h);
    return h;
}

typedef struct da_case {
    int64_t n, c, h, w;
} da_case;

static const da_case cases[] = {
    {5, 3, 13, 11}, {4, 1, 9, 16}, {3, 4, 8, 7}, {2, 3, 32, 32},
    {1, 1, 1, 1},   {3, 2, 1, 5},  {2, 3, 2, 3}, {2, 3, 67, 45}, /* more pixels than a group */
};
#define NCASES ((int)(sizeof cases / sizeof cases[0]))

/* Draws for n images: uniform, except that the first image draws 0 and the
 * last the largest float below 1 (the ends of every mapping). */
static float *rand_draws(int64_t n)
{
    float *r = gt_rand_array(n * NP, 0, 1);
    for (int k = 0; k < NP && n >= 2; k++) {
        r[k] = 0.0f;
        r[(n - 1) * NP + k] = nextafterf(1.0f, 0.0f);
    }
    return r;
}

/* floor(u n), clamped to n - 1: the contract's integer draw. */
static int64_t draw_int(float u, int64_t n)
{
    int64_t k = (int64_t)floor((double)u * (double)n);
    return k < n ? k : n - 1;
}

/* y (n, c, h, w) = DiffAugment of x in double, step after step as
 * DiffAugment's PyTorch functions run. */
static void ref_forward(float *y, const float *x, const float *r, const da_case *dc, int policy)
{
    int64_t c = dc->c, h = dc->h, w = dc->w, hw = h * w, chw = c * hw;
    double *a = dmalloc(chw), *t = dmalloc(chw);
    for (int64_t m = 0; m < dc->n; m++) {
        const float *rm = r + m * NP;
        for (int64_t k = 0; k < chw; k++)
            a[k] = x[m * chw + k];
        if (policy & GC_DIFFAUG_COLOR) {
            for (int64_t k = 0; k < chw; k++) /* brightness */
                a[k] += (double)rm[0] - 0.5;
            for (int64_t p = 0; p < hw; p++) { /* saturation */
                double mc = 0.0;
                for (int64_t ch = 0; ch < c; ch++)
                    mc += a[ch * hw + p];
                mc /= (double)c;
                for (int64_t ch = 0; ch < c; ch++)
                    a[ch * hw + p] = (a[ch * hw + p] - mc) * (2.0 * rm[1]) + mc;
            }
            double mean = 0.0; /* contrast */
            for (int64_t k = 0; k < chw; k++)
                mean += a[k];
            mean /= (double)chw;
            for (int64_t k = 0; k < chw; k++)
                a[k] = (a[k] - mean) * ((double)rm[2] + 0.5) + mean;
        }
        if (policy & GC_DIFFAUG_TRANSLATION) {
            int64_t sh = (int64_t)(h * 0.125 + 0.5), sw = (int64_t)(w * 0.125 + 0.5);
            int64_t ty = -sh + draw_int(rm[3], 2 * sh + 1), tx = -sw + draw_int(rm[4], 2 * sw + 1);
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t i = 0; i < h; i++)
                    for (int64_t j = 0; j < w; j++) {
                        int64_t si = i + ty, sj = j + tx;
                        int in = si >= 0 && si < h && sj >= 0 && sj < w;
                        t[ch * hw + i * w + j] = in ? a[ch * hw + si * w + sj] : 0.0;
                    }
            memcpy(a, t, (size_t)chw * sizeof *a);
        }
        if (policy & GC_DIFFAUG_CUTOUT) {
            /* PyTorch's way: a ch x cw grid of indices clamped into the image. */
            int64_t ch = (int64_t)(h * 0.5 + 0.5), cw = (int64_t)(w * 0.5 + 0.5);
            int64_t oy = draw_int(rm[5], h + 1 - ch % 2), ox = draw_int(rm[6], w + 1 - cw % 2);
            for (int64_t gi = 0; gi < ch; gi++)
                for (int64_t gj = 0; gj < cw; gj++) {
                    int64_t i = gi + oy - ch / 2, j = gj + ox - cw / 2;
                    i = i < 0 ? 0 : i > h - 1 ? h - 1 : i;
                    j = j < 0 ? 0 : j > w - 1 ? w - 1 : j;
                    for (int64_t k = 0; k < c; k++)
                        a[k * hw + i * w + j] = 0.0;
                }
        }
        for (int64_t k = 0; k < chw; k++)
            y[m * chw + k] = (float)a[k];
    }
    free(a);
    free(t);
}

/* The policies: none, each bit alone, pairs, all. */
static const int policies[8] = {0, 1, 2, 4, 3, 5, 6, 7};

static const char *policy_name(int p)
{
    static const char *names[8] = {
        "none",   "color",        "translation",        "color+translation",
        "cutout", "color+cutout", "translation+cutout", "all"};
    return names[p & 7];
}

/* ---- CPU ------------------------------------------------------------------- */

START_TEST(forward_cpu_vs_ref)
{
    const da_case *dc = &cases[_i];
    int64_t n = dc->n, total = n * dc->c * dc->h * dc->w;
    gc_backend *be = gt_cpu();
    float *hx = gt_rand_array(total, -1, 1), *hr = rand_draws(n), *want = xmalloc(total);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), hx);
    gc_tensor r = gt_tensor(be, GT_DIMS(n, NP), hr);
    gc_tensor y = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
    char what[128];
    for (int pi = 0; pi < 8; pi++) {
        int pol = policies[pi];
        gt_poison(&y);
        GT_OK(gc_diffaug_forward(&y, &x, &r, pol));
        float *got = gt_read(&y);
        ref_forward(want, hx, hr, dc, pol);
        snprintf(what, sizeof what,
                 "cpu diffaug %s vs step-by-step reference (%" PRId64 ", %" PRId64 ", %" PRId64
                 ", %" PRId64 ")",
                 policy_name(pol), n, dc->c, dc->h, dc->w);
        /* One float rounding of a double result. */
        gt_assert_close(got, want, total, 1e-7, what);
        free(got);
    }
    free(hx);
    free(hr);
    free(want);
    gt_free(&x);
    gt_free(&r);
    gt_free(&y);
}
END_TEST

/* dx = A^T dy where y = A x + y0: column k of A is (F(u e_k) - F(0)) / u,
 * so dx[k] = <F(u e_k) - F(0), dy> / u, built from m + 1 forwards. */
START_TEST(backward_cpu_vs_matrix)
{
    static const da_case small[] = {{2, 3, 5, 4}, {3, 1, 9, 7}, {2, 4, 3, 8}};
    const da_case *dc = &small[_i];
    int64_t n = dc->n, total = n * dc->c * dc->h * dc->w;
    gc_backend *be = gt_cpu();
    float *hr = rand_draws(n), *hdy = gt_rand_array(total, -1, 1);
    float *e = xmalloc(total), *want = xmalloc(total);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
    gc_tensor y = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
    gc_tensor dy = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), hdy);
    gc_tensor dx = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
    gc_tensor r = gt_tensor(be, GT_DIMS(n, NP), hr);
    char what[128];
    for (int pi = 0; pi < 8; pi++) {
        int pol = policies[pi];
        memset(e, 0, (size_t)total * sizeof *e);
        GT_OK(gc_tensor_write(&x, e));
        GT_OK(gc_diffaug_forward(&y, &x, &r, pol));
        float *y0 = gt_read(&y);
        for (int64_t k = 0; k < total; k++) {
            e[k] = 256.0f;
            GT_OK(gc_tensor_write(&x, e));
            e[k] = 0.0f;
            GT_OK(gc_diffaug_forward(&y, &x, &r, pol));
            float *yk = gt_read(&y);
            double s = 0.0;
            for (int64_t i = 0; i < total; i++)
                s += ((double)yk[i] - (double)y0[i]) * (double)hdy[i];
            want[k] = (float)(s / 256.0);
            free(yk);
        }
        gt_poison(&dx);
        GT_OK(gc_diffaug_backward(&dx, &dy, &r, pol));
        float *got = gt_read(&dx);
        snprintf(what, sizeof what, "cpu diffaug backward %s vs the op's matrix (C %" PRId64 ")",
                 policy_name(pol), dc->c);
        /* Columns are differences of float outputs, both carrying b (~0.5)
         * with ~3e-8 rounding: a unit of 256 makes that ~1e-10 of a column. */
        gt_assert_close(got, want, total, 1e-6, what);
        free(got);
        free(y0);
    }
    free(hr);
    free(hdy);
    free(e);
    free(want);
    gc_tensor *all[] = {&x, &y, &dy, &dx, &r};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}
END_TEST

/* <F(x) - F(0), g> == <x, B(g)> in double, relative to ||F(x) - F(0)|| ||g||. */
static void check_adjoint(gc_backend *be, const da_case *dc, int pol)
{
    int64_t n = dc->n, total = n * dc->c * dc->h * dc->w;
    float *hx = gt_rand_array(total, -1, 1), *hg = gt_rand_array(total, -1, 1);
    float *hr = rand_draws(n), *zero = xmalloc(total);
    memset(zero, 0, (size_t)total * sizeof *zero);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), hx);
    gc_tensor z = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), zero);
    gc_tensor g = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), hg);
    gc_tensor r = gt_tensor(be, GT_DIMS(n, NP), hr);
    gc_tensor y = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
    gc_tensor y0 = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
    gc_tensor dx = gt_tensor(be, GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
    GT_OK(gc_diffaug_forward(&y, &x, &r, pol));
    GT_OK(gc_diffaug_forward(&y0, &z, &r, pol));
    GT_OK(gc_diffaug_backward(&dx, &g, &r, pol));
    float *fy = gt_read(&y), *f0 = gt_read(&y0), *fdx = gt_read(&dx);
    double lhs = 0.0, rhs = 0.0, na = 0.0, n0 = 0.0, ng = 0.0, nx = 0.0, nd = 0.0;
    for (int64_t i = 0; i < total; i++) {
        double a = (double)fy[i] - (double)f0[i];
        lhs += a * hg[i];
        rhs += (double)hx[i] * fdx[i];
        na += a * a;
        n0 += (double)f0[i] * f0[i];
        ng += (double)hg[i] * hg[i];
        nx += (double)hx[i] * hx[i];
        nd += (double)fdx[i] * fdx[i];
    }
    /* Float outputs carry ~1e-7 relative error each, F(x) and F(0) (the
     * brightness shift b, ~0.5) alike, so the two inner products agree to
     * ~1e-7 of the norms' products; a wrong adjoint, even at one pixel, is
     * off by far more. */
    double scale = fmax((sqrt(na) + sqrt(n0)) * sqrt(ng), sqrt(nx * nd));
    ck_assert_msg(fabs(lhs - rhs) <= 1e-6 * scale + 1e-30,
                  "%s diffaug %s (%" PRId64 ", %" PRId64 ", %" PRId64 ", %" PRId64
                  "): <F(x) - F(0), g> = %.10g but <x, B(g)> = %.10g (scale %.3g, seed %" PRIu64
                  ")",
                  be == gt_cpu() ? "cpu" : "opencl", policy_name(pol), n, dc->c, dc->h, dc->w, lhs,
                  rhs, scale, gt_seed());
    float *frees[] = {hx, hg, hr, zero, fy, f0, fdx};
    for (size_t i = 0; i < sizeof frees / sizeof frees[0]; i++)
        free(frees[i]);
    gc_tensor *all[] = {&x, &z, &g, &r, &y, &y0, &dx};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        gt_free(all[i]);
}

START_TEST(adjoint_cpu)
{
    for (int pi = 0; pi < 8; pi++)
        check_adjoint(gt_cpu(), &cases[_i], policies[pi]);
}
END_TEST

/* Runs forward (or backward) with one row of draws per image on be. */
static float *run_op(gc_backend *be, const da_case *dc, const float *in, const float *r, int pol,
                     int backward)
{
    gc_tensor x = gt_tensor(be, GT_DIMS(dc->n, dc->c, dc->h, dc->w), in);
    gc_tensor t = gt_tensor(be, GT_DIMS(dc->n, NP), r);
    gc_tensor y = gt_tensor(be, GT_DIMS(dc->n, dc->c, dc->h, dc->w), NULL);
    if (backward)
        GT_OK(gc_diffaug_backward(&y, &x, &t, pol));
    else
        GT_OK(gc_diffaug_forward(&y, &x, &t, pol));
    float *out = gt_read(&y);
    gt_free(&x);
    gt_free(&t);
    gt_free(&y);
    return out;
}

/* Translation on a 13 x 11 image: sh = (int)(13/8 + 0.5) = 2, sw = 1.
 * r3 = 0.9: ty = -2 + floor(4.5) = 2; r4 = 0.1: tx = -1 + floor(0.3) = -1.
 * Image 1: r3 = r4 = 0.5 give ty = tx = 0. */
static void check_translation(gc_backend *be)
{
    const da_case dc = {2, 2, 13, 11};
    int64_t hw = 13 * 11, total = 2 * 2 * hw;
    float *hx = gt_rand_array(total, 1, 2), r[2 * NP] = {0};
    r[3] = 0.9f;
    r[4] = 0.1f;
    r[NP + 3] = 0.5f;
    r[NP + 4] = 0.5f;
    float *y = run_op(be, &dc, hx, r, GC_DIFFAUG_TRANSLATION, 0);
    /* The pixel at (5, 3) moves to (3, 4). */
    ck_assert_float_eq(y[3 * 11 + 4], hx[5 * 11 + 3]);
    ck_assert_float_eq(y[hw + 3 * 11 + 4], hx[hw + 5 * 11 + 3]);
    for (int64_t ch = 0; ch < 2; ch++)
        for (int64_t i = 0; i < 13; i++)
            for (int64_t j = 0; j < 11; j++) {
                int64_t p = ch * hw + i * 11 + j;
                /* Rows 11, 12 and column 0 come from outside: zeros. */
                float want = (i >= 11 || j == 0) ? 0.0f : hx[ch * hw + (i + 2) * 11 + j - 1];
                ck_assert_msg(y[p] == want,
                              "translation (2, -1): y[%" PRId64 ", %" PRId64 ", %" PRId64
                              "] = %g, want %g",
                              ch, i, j, (double)y[p], (double)want);
                ck_assert_msg(y[2 * hw + p] == hx[2 * hw + p],
                              "translation (0, 0) changed pixel %" PRId64, p);
            }
    /* The backward moves the gradient back and drops what fell outside. */
    float *dx = run_op(be, &dc, hx, r, GC_DIFFAUG_TRANSLATION, 1);
    for (int64_t i = 0; i < 13; i++)
        for (int64_t j = 0; j < 11; j++) {
            int64_t oi = i - 2, oj = j + 1;
            float want = (oi < 0 || oj >= 11) ? 0.0f : hx[oi * 11 + oj];
            ck_assert_msg(dx[i * 11 + j] == want,
                          "translation backward: dx[0, %" PRId64 ", %" PRId64 "] = %g, want %g", i,
                          j, (double)dx[i * 11 + j], (double)want);
        }
    free(hx);
    free(y);
    free(dx);
}

/* Cutout on a 13 x 11 image: ch = 7, cw = 6; oy = floor(r5 13),
 * ox = floor(r6 12).  Image 0 (0.5, 0.5): oy = 6, ox = 6, rows [3, 10),
 * columns [3, 9).  Image 1 (0, 0.99): oy = 0, ox = 11, rows [-3, 4) and
 * columns [8, 14), clipped to [0, 4) x [8, 11). */
static void check_cutout(gc_backend *be)
{
    const da_case dc = {2, 3, 13, 11};
    const int64_t rect[2][4] = {{3, 10, 3, 9}, {0, 4, 8, 11}};
    int64_t hw = 13 * 11, total = 2 * 3 * hw;
    float *hx = gt_rand_array(total, 1, 2), r[2 * NP] = {0};
    r[5] = 0.5f;
    r[6] = 0.5f;
    r[NP + 5] = 0.0f;
    r[NP + 6] = 0.99f;
    for (int backward = 0; backward < 2; backward++) {
        float *y = run_op(be, &dc, hx, r, GC_DIFFAUG_CUTOUT, backward);
        for (int64_t m = 0; m < 2; m++)
            for (int64_t ch = 0; ch < 3; ch++)
                for (int64_t i = 0; i < 13; i++)
                    for (int64_t j = 0; j < 11; j++) {
                        int64_t p = (m * 3 + ch) * hw + i * 11 + j;
                        int cut =
                            i >= rect[m][0] && i < rect[m][1] && j >= rect[m][2] && j < rect[m][3];
                        float want = cut ? 0.0f : hx[p];
                        ck_assert_msg(y[p] == want,
                                      "cutout %s: image %" PRId64 " (%" PRId64 ", %" PRId64
                                      ", %" PRId64 ") = %g, want %g",
                                      backward ? "backward" : "forward", m, ch, i, j, (double)y[p],
                                      (double)want);
                    }
        free(y);
    }
    free(hx);
}

/* Colour with b = 0.3, s = 0.5, c = 1.25 (and b = -0.5, s = 0, c = 0.5:
 * grey, then contrast halved), the three formulas written out. */
static void check_color(gc_backend *be)
{
    const da_case dc = {2, 3, 5, 7};
    const int64_t hw = 35, chw = 105;
    float *hx = gt_rand_array(2 * chw, -1, 1), r[2 * NP] = {0.8f, 0.25f, 0.75f};
    r[NP + 0] = 0.0f;
    r[NP + 1] = 0.0f;
    r[NP + 2] = 0.0f;
    float *y = run_op(be, &dc, hx, r, GC_DIFFAUG_COLOR, 0);
    float want[2 * 105];
    for (int64_t m = 0; m < 2; m++) {
        const double b = m ? -0.5 : 0.3, s = m ? 0.0 : 0.5, c = m ? 0.5 : 1.25;
        double v[105], mean = 0.0, mean_y = 0.0, mean_x = 0.0;
        for (int64_t k = 0; k < chw; k++) {
            v[k] = hx[m * chw + k] + b;
            mean_x += hx[m * chw + k];
        }
        for (int64_t p = 0; p < hw; p++) {
            double mc = (v[p] + v[hw + p] + v[2 * hw + p]) / 3.0;
            for (int64_t ch = 0; ch < 3; ch++)
                v[ch * hw + p] = (v[ch * hw + p] - mc) * s + mc;
        }
        for (int64_t k = 0; k < chw; k++)
            mean += v[k];
        mean /= (double)chw;
        for (int64_t k = 0; k < chw; k++) {
            want[m * chw + k] = (float)((v[k] - mean) * c + mean);
            mean_y += y[m * chw + k];
        }
        /* Saturation and contrast keep the image's mean: it moves by b. */
        ck_assert_msg(fabs(mean_y / (double)chw - (mean_x / (double)chw + b)) < 1e-6,
                      "colour: image %" PRId64 " mean %.8g, want %.8g", m, mean_y / (double)chw,
                      mean_x / (double)chw + b);
        if (m == 1) /* s = 0: every channel of a pixel is equal */
            for (int64_t p = 0; p < hw; p++)
                ck_assert_msg(fabsf(y[chw + p] - y[chw + 2 * hw + p]) < 1e-6f,
                              "colour with s = 0: pixel %" PRId64 " not grey", p);
    }
    gt_assert_close(y, want, 2 * chw, 1e-6, "colour vs the three formulas");
    free(hx);
    free(y);
}

/* Policy 0 copies x (and dy) exactly, whatever r holds. */
static void check_identity(gc_backend *be)
{
    const da_case dc = {5, 3, 13, 11};
    int64_t total = 5 * 3 * 13 * 11;
    float *hx = gt_rand_array(total, -1, 1), *hr = rand_draws(5);
    for (int backward = 0; backward < 2; backward++) {
        float *y = run_op(be, &dc, hx, hr, 0, backward);
        gt_assert_close(y, hx, total, 0.0, backward ? "policy 0 backward" : "policy 0 forward");
        free(y);
    }
    free(hx);
    free(hr);
}

START_TEST(semantics_cpu)
{
    check_translation(gt_cpu());
    check_cutout(gt_cpu());
    check_color(gt_cpu());
    check_identity(gt_cpu());
}
END_TEST

/* ---- PyTorch goldens --------------------------------------------------------- */

static const char *const golden_cases[] = {"diffaug_c3_13x11", "diffaug_c1_9x16",
                                           "diffaug_c3_24x20"};
#define NGOLD ((int)(sizeof golden_cases / sizeof golden_cases[0]))

/* The golden's x and r through every policy the file holds ("y<policy>");
 * the draws are PyTorch's DiffAugment functions with the same values. */
static void check_golden(gc_backend *be, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/goldens/%s.bin", GANCL_TEST_DATA, name);
    gt_golden *g = gt_golden_open(path);
    gc_tensor x = gt_golden_tensor(be, g, "x"), r = gt_golden_tensor(be, g, "r");
    gc_tensor y = gt_golden_like(be, g, "x");
    int checked = 0;
    for (int pol = 0; pol < 8; pol++) {
        char key[16], what[128];
        snprintf(key, sizeof key, "y%d", pol);
        const gt_golden_array *want = gt_golden_find(g, key);
        if (!want) continue;
        gt_poison(&y);
        GT_OK(gc_diffaug_forward(&y, &x, &r, pol));
        float *got = gt_read(&y);
        snprintf(what, sizeof what, "%s diffaug %s vs PyTorch (%s)",
                 be == gt_cpu() ? "cpu" : "opencl", policy_name(pol), name);
        /* PyTorch ran in float64 from the same float32 inputs. */
        gt_assert_close(got, want->data, want->numel, 1e-6, what);
        free(got);
        checked++;
    }
    ck_assert_msg(checked == 8, "%s holds %d of the 8 policies", path, checked);
    gt_free(&x);
    gt_free(&r);
    gt_free(&y);
    gt_golden_free(g);
}

START_TEST(golden_cpu)
{
    check_golden(gt_cpu(), golden_cases[_i]);
}
END_TEST

/* ---- OpenCL ------------------------------------------------------------------- */

START_TEST(cl_vs_cpu)
{
    const da_case *dc = &cases[_i];
    int64_t n = dc->n, total = n * dc->c * dc->h * dc->w;
    gc_backend *bes[2] = {gt_cpu(), gt_cl()};
    float *hx = gt_rand_array(total, -1, 1), *hdy = gt_rand_array(total, -1, 1);
    float *hr = rand_draws(n);
    char what[160];
    for (int pi = 0; pi < 8; pi++) {
        int pol = policies[pi];
        gc_tensor x[2], dy[2], r[2], y[2], dx[2];
        for (int b = 0; b < 2; b++) {
            x[b] = gt_tensor(bes[b], GT_DIMS(n, dc->c, dc->h, dc->w), hx);
            dy[b] = gt_tensor(bes[b], GT_DIMS(n, dc->c, dc->h, dc->w), hdy);
            r[b] = gt_tensor(bes[b], GT_DIMS(n, NP), hr);
            y[b] = gt_tensor(bes[b], GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
            dx[b] = gt_tensor(bes[b], GT_DIMS(n, dc->c, dc->h, dc->w), NULL);
            GT_OK(gc_diffaug_forward(&y[b], &x[b], &r[b], pol));
            GT_OK(gc_diffaug_backward(&dx[b], &dy[b], &r[b], pol));
        }
        snprintf(what, sizeof what,
                 "opencl vs cpu: diffaug forward %s (%" PRId64 ", %" PRId64 ", %" PRId64
                 ", %" PRId64 ")",
                 policy_name(pol), n, dc->c, dc->h, dc->w);
        gt_assert_tensors_close(&y[1], &y[0], TOL, what);
        snprintf(what, sizeof what,
                 "opencl vs cpu: diffaug backward %s (%" PRId64 ", %" PRId64 ", %" PRId64
                 ", %" PRId64 ")",
                 policy_name(pol), n, dc->c, dc->h, dc->w);
        gt_assert_tensors_close(&dx[1], &dx[0], TOL, what);
        for (int b = 0; b < 2; b++) {
            gc_tensor *all[] = {&x[b], &dy[b], &r[b], &y[b], &dx[b]};
            for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
                gt_free(all[i]);
        }
    }
    free(hx);
    free(hdy);
    free(hr);
}
END_TEST

/* The integer draws at the float products that round up onto an integer:
 * u just below k / n.  The device must floor the exact product, as the CPU
 * does, or a shift or cutout lands one pixel off. */
START_TEST(cl_draw_edges)
{
    const da_case dc = {64, 1, 13, 11};
    int64_t total = 64 * 13 * 11;
    float *hx = gt_rand_array(total, 1, 2), *hr = xmalloc(64 * NP);
    /* Translation draws n = 5 and 3, cutout n = 13 and 12. */
    const int ns[4] = {5, 3, 13, 12};
    for (int64_t m = 0; m < 64; m++)
        for (int k = 0; k < 4; k++) {
            int kk = 1 + (int)(m % (ns[k] - 1));
            hr[m * NP + 3 + k] = nextafterf((float)kk / (float)ns[k], 0.0f);
            if (m % 3 == 0) hr[m * NP + 3 + k] = nextafterf(hr[m * NP + 3 + k], 0.0f);
        }
    for (int64_t m = 0; m < 64; m++)
        for (int k = 0; k < 3; k++)
            hr[m * NP + k] = 0.5f;
    for (int backward = 0; backward < 2; backward++) {
        float *a = run_op(gt_cpu(), &dc, hx, hr, 7, backward);
        float *b = run_op(gt_cl(), &dc, hx, hr, 7, backward);
        gt_assert_close(b, a, total, TOL, "opencl vs cpu: draws just below k / n");
        free(a);
        free(b);
    }
    free(hx);
    free(hr);
}
END_TEST

START_TEST(adjoint_cl)
{
    for (int pi = 0; pi < 8; pi++)
        check_adjoint(gt_cl(), &cases[_i], policies[pi]);
}
END_TEST

START_TEST(semantics_cl)
{
    check_translation(gt_cl());
    check_cutout(gt_cl());
    check_color(gt_cl());
    check_identity(gt_cl());
}
END_TEST

START_TEST(golden_cl)
{
    check_golden(gt_cl(), golden_cases[_i]);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diffaug");
    TCase *cpu = tcase_create("cpu");
    tcase_add_loop_test(cpu, forward_cpu_vs_ref, 0, NCASES);
    tcase_add_loop_test(cpu, backward_cpu_vs_matrix, 0, 3);
    tcase_add_loop_test(cpu, adjoint_cpu, 0, NCASES);
    tcase_add_test(cpu, semantics_cpu);
    tcase_add_loop_test(cpu, golden_cpu, 0, NGOLD);
    suite_add_tcase(s, cpu);
    if (!gt_cl()) {
        int rc = gt_run_suite(s);
        if (rc) return rc;
        gt_skip_no_opencl("test_diffaug");
    }
    TCase *cl = tcase_create("opencl");
    tcase_add_loop_test(cl, cl_vs_cpu, 0, NCASES);
    tcase_add_test(cl, cl_draw_edges);
    tcase_add_loop_test(cl, adjoint_cl, 0, NCASES);
    tcase_add_test(cl, semantics_cl);
    tcase_add_loop_test(cl, golden_cl, 0, NGOLD);
    suite_add_tcase(s, cl);
    return gt_run_suite(s);
}

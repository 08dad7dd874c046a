/* tests/test_cpu_ops.c - the CPU reference backend's forward ops against
 * hand-computed values, naive double-precision loops written from the
 * PyTorch definitions, and constants computed once with PyTorch.
 *
 * Gradients are checked separately (test_grad.c); this file pins what the
 * gradients cannot: forward values, Adam, the loss at saturated logits,
 * GEMM's transposes and strides, the random streams, batchnorm's running
 * statistics, and pooling's edge rules.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "util/philox.h"

static gc_backend *be(void)
{
    return gt_cpu();
}

static gc_tensor rand_tensor(int ndim, const int64_t *dims, float lo, float hi, float **host)
{
    gc_tensor probe = gc_tensor_view(be(), NULL, 0, ndim, dims);
    float *h = gt_rand_array(gc_tensor_numel(&probe), lo, hi);
    gc_tensor t = gt_tensor(be(), ndim, dims, h);
    if (host)
        *host = h;
    else
        free(h);
    return t;
}

/* Reads t and compares it with want (n floats). */
static void expect(const gc_tensor *t, const float *want, double tol, const char *what)
{
    float *h = gt_read(t);
    gt_assert_close(h, want, gc_tensor_numel(t), tol, what);
    free(h);
}

static float read_scalar(const gc_tensor *t)
{
    float v;
    GT_OK(gc_tensor_read(t, &v));
    return v;
}

/* ---- elementwise ----------------------------------------------------------------- */

START_TEST(elementwise_basics)
{
    int64_t n = gt_randint(17, 301);
    float *ha, *hb;
    gc_tensor a = rand_tensor(GT_DIMS(n), -2, 2, &ha);
    gc_tensor b = rand_tensor(GT_DIMS(n), -2, 2, &hb);
    gc_tensor y = gt_tensor(be(), GT_DIMS(n), NULL);
    float *want = malloc((size_t)n * sizeof *want);
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += ha[i];

    GT_OK(gc_fill(&y, 0.25f));
    for (int64_t i = 0; i < n; i++)
        want[i] = 0.25f;
    expect(&y, want, 0.0, "fill");

    GT_OK(gc_copy(&y, &a));
    expect(&y, ha, 0.0, "copy");

    GT_OK(gc_add(&y, &a, &b));
    for (int64_t i = 0; i < n; i++)
        want[i] = ha[i] + hb[i];
    expect(&y, want, 0.0, "add");

    GT_OK(gc_scale(&y, &y, -1.5f)); /* in place */
    for (int64_t i = 0; i < n; i++)
        want[i] = -1.5f * (ha[i] + hb[i]);
    expect(&y, want, 0.0, "scale in place");

    gc_tensor s = gt_tensor(be(), GT_DIMS(1), NULL);
    GT_OK(gc_sum(&s, &a));
    ck_assert_double_eq_tol(read_scalar(&s), sum, 1e-6 * fmax(1.0, fabs(sum)));
    GT_OK(gc_mean(&s, &a));
    ck_assert_double_eq_tol(read_scalar(&s), sum / n, 1e-6);
    free(ha);
    free(hb);
    free(want);
}
END_TEST

START_TEST(activations_forward)
{
    int64_t n = gt_randint(20, 99);
    float *hx;
    gc_tensor x = rand_tensor(GT_DIMS(n), -5, 5, &hx);
    hx[0] = 100.0f, hx[1] = -100.0f, hx[2] = 0.0f; /* saturation stays finite */
    GT_OK(gc_tensor_write(&x, hx));
    gc_tensor y = gt_tensor(be(), GT_DIMS(n), NULL);
    float *want = malloc((size_t)n * sizeof *want);
    const gc_act acts[] = {GC_ACT_RELU, GC_ACT_LEAKY_RELU, GC_ACT_SIGMOID, GC_ACT_TANH};
    const char *names[] = {"relu", "leaky relu", "sigmoid", "tanh"};
    for (int a = 0; a < 4; a++) {
        for (int64_t i = 0; i < n; i++) {
            double v = hx[i];
            switch (acts[a]) {
            case GC_ACT_RELU: want[i] = (float)(v > 0 ? v : 0); break;
            case GC_ACT_LEAKY_RELU: want[i] = (float)(v > 0 ? v : 0.2 * v); break;
            case GC_ACT_SIGMOID: want[i] = (float)(1.0 / (1.0 + exp(-v))); break;
            case GC_ACT_TANH: want[i] = (float)tanh(v); break;
            }
        }
        GT_OK(gc_act_forward(&y, &x, acts[a], 0.2f));
        expect(&y, want, 1e-6, names[a]);
    }
    free(hx);
    free(want);
}
END_TEST

/* ---- GEMM ---------------------------------------------------------------------- */

START_TEST(gemm_transposes)
{
    int ta = _i & 1, tb = (_i >> 1) & 1;
    int64_t m = gt_randint(3, 9) | 1, n = gt_randint(3, 9) | 1, k = gt_randint(3, 9) | 1;
    if (m == n) m += 2; /* non-square */
    int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
    int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
    gc_gemm_args g = {.trans_a = ta,
                      .trans_b = tb,
                      .m = m,
                      .n = n,
                      .k = k,
                      .alpha = 1.25f,
                      .beta = -0.5f,
                      .lda = a_cols + 3,
                      .ldb = b_cols + 1,
                      .ldc = n + 2};
    /* NaN in the row padding of A and B: reading past a row's width shows. */
    float *ha = gt_rand_array(a_rows * g.lda, -1, 1), *hb = gt_rand_array(b_rows * g.ldb, -1, 1);
    for (int64_t r = 0; r < a_rows; r++)
        for (int64_t c = a_cols; c < g.lda; c++)
            ha[r * g.lda + c] = NAN;
    for (int64_t r = 0; r < b_rows; r++)
        for (int64_t c = b_cols; c < g.ldb; c++)
            hb[r * g.ldb + c] = NAN;
    float *hc = gt_rand_array(m * g.ldc, -1, 1);
    for (int64_t r = 0; r < m; r++)
        for (int64_t c = n; c < g.ldc; c++)
            hc[r * g.ldc + c] = 12345.0f; /* must survive */
    gc_tensor a = gt_tensor(be(), GT_DIMS(a_rows * g.lda), ha);
    gc_tensor b = gt_tensor(be(), GT_DIMS(b_rows * g.ldb), hb);
    gc_tensor c = gt_tensor(be(), GT_DIMS(m * g.ldc), hc);

    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            /* beta == 0 must not read C, which is NaN now. */
            g.beta = 0.0f;
            for (int64_t r = 0; r < m; r++)
                for (int64_t j = 0; j < n; j++)
                    hc[r * g.ldc + j] = NAN;
            GT_OK(gc_tensor_write(&c, hc));
        }
        float *want = malloc((size_t)(m * g.ldc) * sizeof *want);
        for (int64_t i = 0; i < m; i++) {
            for (int64_t j = 0; j < g.ldc; j++) {
                if (j >= n) {
                    want[i * g.ldc + j] = 12345.0f;
                    continue;
                }
                double s = 0.0;
                for (int64_t p = 0; p < k; p++) {
                    double av = ta ? ha[p * g.lda + i] : ha[i * g.lda + p];
                    double bv = tb ? hb[j * g.ldb + p] : hb[p * g.ldb + j];
                    s += av * bv;
                }
                double old = g.beta != 0.0f ? (double)g.beta * hc[i * g.ldc + j] : 0.0;
                want[i * g.ldc + j] = (float)(g.alpha * s + old);
            }
        }
        GT_OK(gc_gemm(&c, &a, &b, &g));
        expect(&c, want, 1e-6, pass ? "gemm beta=0" : "gemm");
        free(want);
        free(hc);
        hc = gt_read(&c);
    }
    free(ha);
    free(hb);
    free(hc);
}
END_TEST

START_TEST(dense_forward_naive)
{
    int64_t batch = gt_randint(1, 5), in = gt_randint(3, 40), out = gt_randint(1, 13);
    float *hx, *hw, *hb;
    gc_tensor x = rand_tensor(GT_DIMS(batch, in), -1, 1, &hx);
    gc_tensor w = rand_tensor(GT_DIMS(out, in), -1, 1, &hw);
    gc_tensor b = rand_tensor(GT_DIMS(out), -1, 1, &hb);
    gc_tensor y = gt_tensor(be(), GT_DIMS(batch, out), NULL);
    float *want = malloc((size_t)(batch * out) * sizeof *want);
    for (int64_t s = 0; s < batch; s++)
        for (int64_t o = 0; o < out; o++) {
            double acc = hb[o];
            for (int64_t i = 0; i < in; i++)
                acc += (double)hx[s * in + i] * hw[o * in + i];
            want[s * out + o] = (float)acc;
        }
    GT_OK(gc_dense_forward(&y, &x, &w, &b));
    expect(&y, want, 1e-6, "dense");
    /* Without bias. */
    for (int64_t s = 0; s < batch; s++)
        for (int64_t o = 0; o < out; o++)
            want[s * out + o] -= hb[o];
    GT_OK(gc_dense_forward(&y, &x, &w, NULL));
    expect(&y, want, 1e-6, "dense without bias");
    free(hx);
    free(hw);
    free(hb);
    free(want);
}
END_TEST

/* ---- convolutions against their definitions ---------------------------------------- */

START_TEST(conv_forward_naive)
{
    int transposed = _i;
    gc_conv_params p = {.stride_h = gt_randint(1, 3), .stride_w = gt_randint(1, 3)};
    int kh = gt_randint(1, 4), kw = gt_randint(1, 4);
    p.pad_h = gt_randint(0, kh - 1);
    p.pad_w = gt_randint(0, kw - 1);
    p.out_pad_h = transposed ? gt_randint(0, p.stride_h - 1) : 0;
    p.out_pad_w = transposed ? gt_randint(0, p.stride_w - 1) : 0;
    int64_t batch = gt_randint(1, 3), ic = gt_randint(1, 4), oc = gt_randint(1, 4);
    int64_t h = gt_randint(kh + 1, 9), w = gt_randint(kw + 1, 9), oh, ow;
    if (transposed) {
        oh = gc_conv_transpose_out_size(h, kh, p.stride_h, p.pad_h, p.out_pad_h);
        ow = gc_conv_transpose_out_size(w, kw, p.stride_w, p.pad_w, p.out_pad_w);
    } else {
        oh = gc_conv_out_size(h, kh, p.stride_h, p.pad_h);
        ow = gc_conv_out_size(w, kw, p.stride_w, p.pad_w);
    }
    if (oh < 1 || ow < 1) return; /* a degenerate draw */
    float *hx, *hw, *hb;
    gc_tensor x = rand_tensor(GT_DIMS(batch, ic, h, w), -1, 1, &hx);
    gc_tensor wt = transposed ? rand_tensor(GT_DIMS(ic, oc, kh, kw), -1, 1, &hw)
                              : rand_tensor(GT_DIMS(oc, ic, kh, kw), -1, 1, &hw);
    gc_tensor b = rand_tensor(GT_DIMS(oc), -1, 1, &hb);
    gc_tensor y = gt_tensor(be(), GT_DIMS(batch, oc, oh, ow), NULL);
    int64_t ny = batch * oc * oh * ow;
    double *acc = calloc((size_t)ny, sizeof *acc);
    float *want = malloc((size_t)ny * sizeof *want);
    /* Both from the definition: every (input pixel, tap) pair meets the
     * output pixel at i*stride - pad + k (conv: i indexes the output). */
    for (int64_t n = 0; n < batch; n++)
        for (int64_t o = 0; o < oc; o++)
            for (int64_t c = 0; c < ic; c++)
                for (int64_t a = 0; a < kh; a++)
                    for (int64_t bb = 0; bb < kw; bb++)
                        for (int64_t i = 0; i < (transposed ? h : oh); i++)
                            for (int64_t j = 0; j < (transposed ? w : ow); j++) {
                                int64_t ti = i * p.stride_h - p.pad_h + a;
                                int64_t tj = j * p.stride_w - p.pad_w + bb;
                                if (transposed) {
                                    if (ti < 0 || ti >= oh || tj < 0 || tj >= ow) continue;
                                    acc[((n * oc + o) * oh + ti) * ow + tj] +=
                                        (double)hx[((n * ic + c) * h + i) * w + j] *
                                        hw[((c * oc + o) * kh + a) * kw + bb];
                                } else {
                                    if (ti < 0 || ti >= h || tj < 0 || tj >= w) continue;
                                    acc[((n * oc + o) * oh + i) * ow + j] +=
                                        (double)hx[((n * ic + c) * h + ti) * w + tj] *
                                        hw[((o * ic + c) * kh + a) * kw + bb];
                                }
                            }
    for (int64_t i = 0; i < ny; i++)
        want[i] = (float)(acc[i] + hb[(i / (oh * ow)) % oc]);
    if (transposed)
        GT_OK(gc_conv_transpose2d_forward(&y, &x, &wt, &b, &p));
    else
        GT_OK(gc_conv2d_forward(&y, &x, &wt, &b, &p));
    expect(&y, want, 1e-6, transposed ? "conv_transpose2d" : "conv2d");
    free(hx);
    free(hw);
    free(hb);
    free(acc);
    free(want);
}
END_TEST

/* output_padding by hand: x = [[1, 2]], a 3x3 kernel of ones, stride 2,
 * pad 1, out_pad 1 gives a 2x4 output whose last column exists only
 * because of out_pad; PyTorch gives [[1, 3, 2, 2], [1, 3, 2, 2]]. */
START_TEST(conv_transpose_out_pad_hand)
{
    gc_tensor x = gt_tensor(be(), GT_DIMS(1, 1, 1, 2), (float[]){1, 2});
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    gc_tensor w = gt_tensor(be(), GT_DIMS(1, 1, 3, 3), ones);
    gc_tensor y = gt_tensor(be(), GT_DIMS(1, 1, 2, 4), NULL);
    gc_conv_params p = {
        .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .out_pad_h = 1, .out_pad_w = 1};
    GT_OK(gc_conv_transpose2d_forward(&y, &x, &w, NULL, &p));
    expect(&y, (float[]){1, 3, 2, 2, 1, 3, 2, 2}, 0.0, "conv_transpose2d output_padding");
}
END_TEST

/* ---- batchnorm ------------------------------------------------------------------- */

START_TEST(batchnorm_running_stats)
{
    /* x (2, 2, 1, 2): channel 0 holds {1, 2, 3, 4} (mean 2.5, biased var
     * 1.25, unbiased 5/3), channel 1 {0, 0, 6, -2} (mean 1, var 9, 12). */
    const float hx[8] = {1, 2, 0, 0, 3, 4, 6, -2};
    const double mean[2] = {2.5, 1.0}, var[2] = {1.25, 9.0};
    const float gamma[2] = {2.0f, 0.5f}, beta[2] = {0.1f, -0.3f};
    const float eps = 1e-5f, momentum = 0.1f;
    gc_tensor x = gt_tensor(be(), GT_DIMS(2, 2, 1, 2), hx);
    gc_tensor y = gt_tensor(be(), GT_DIMS(2, 2, 1, 2), NULL);
    gc_tensor g = gt_tensor(be(), GT_DIMS(2), gamma), bt = gt_tensor(be(), GT_DIMS(2), beta);
    gc_tensor rm = gt_tensor(be(), GT_DIMS(2), (float[]){0.5f, -1.0f});
    gc_tensor rv = gt_tensor(be(), GT_DIMS(2), (float[]){2.0f, 3.0f});
    gc_tensor sm = gt_tensor(be(), GT_DIMS(2), NULL), si = gt_tensor(be(), GT_DIMS(2), NULL);
    GT_OK(gc_batchnorm_forward_train(&y, &sm, &si, &x, &g, &bt, &rm, &rv, momentum, eps));

    /* 0.9 * 0.5 + 0.1 * 2.5, 0.9 * -1 + 0.1 * 1, 0.9 * 2 + 0.1 * 5/3, 0.9 * 3 + 0.1 * 12 */
    expect(&rm, (float[]){0.7f, -0.8f}, 1e-6, "running_mean");
    expect(&rv, (float[]){(float)(1.8 + 0.5 / 3.0), 3.9f}, 1e-6, "running_var (unbiased)");
    expect(&sm, (float[]){2.5f, 1.0f}, 1e-7, "save_mean");
    float invstd[2], want[8];
    for (int c = 0; c < 2; c++)
        invstd[c] = (float)(1.0 / sqrt(var[c] + eps));
    expect(&si, invstd, 1e-7, "save_invstd");
    for (int i = 0; i < 8; i++) {
        int c = (i / 2) % 2;
        want[i] = (float)(gamma[c] * (hx[i] - mean[c]) / sqrt(var[c] + eps) + beta[c]);
    }
    expect(&y, want, 1e-6, "batchnorm train output");

    /* Evaluation normalises with the updated running statistics. */
    const double rmv[2] = {0.7, -0.8}, rvv[2] = {1.8 + 0.5 / 3.0, 3.9};
    for (int i = 0; i < 8; i++) {
        int c = (i / 2) % 2;
        want[i] = (float)(gamma[c] * (hx[i] - rmv[c]) / sqrt(rvv[c] + eps) + beta[c]);
    }
    GT_OK(gc_batchnorm_forward_eval(&y, &x, &g, &bt, &rm, &rv, eps));
    expect(&y, want, 1e-6, "batchnorm eval output");
}
END_TEST

/* ---- pooling ---------------------------------------------------------------------- */

START_TEST(avg_pool_divisor_edges)
{
    /* x = 1..9 in a 3x3 plane, kernel 3, stride 2, pad 1: four windows,
     * each covering 4 real pixels and 5 padding cells. */
    float hx[9];
    for (int i = 0; i < 9; i++)
        hx[i] = (float)(i + 1);
    gc_tensor x = gt_tensor(be(), GT_DIMS(1, 1, 3, 3), hx);
    gc_tensor y = gt_tensor(be(), GT_DIMS(1, 1, 2, 2), NULL);
    gc_tensor dx = gt_tensor(be(), GT_DIMS(1, 1, 3, 3), NULL);
    gc_tensor dy = gt_tensor(be(), GT_DIMS(1, 1, 2, 2), (float[]){1, 1, 1, 1});
    gc_pool_params p = {.kernel_h = 3,
                        .kernel_w = 3,
                        .stride_h = 2,
                        .stride_w = 2,
                        .pad_h = 1,
                        .pad_w = 1,
                        .count_include_pad = 1};
    GT_OK(gc_avg_pool2d_forward(&y, &x, &p));
    expect(&y, (float[]){12 / 9.0f, 16 / 9.0f, 24 / 9.0f, 28 / 9.0f}, 1e-7,
           "avg pool count_include_pad");
    GT_OK(gc_avg_pool2d_backward(&dx, &dy, &p));
    /* corners are in one window, edges in two, the centre in four */
    expect(&dx,
           (float[]){1 / 9.0f, 2 / 9.0f, 1 / 9.0f, 2 / 9.0f, 4 / 9.0f, 2 / 9.0f, 1 / 9.0f, 2 / 9.0f,
                     1 / 9.0f},
           1e-7, "avg pool backward count_include_pad");

    p.count_include_pad = 0;
    GT_OK(gc_avg_pool2d_forward(&y, &x, &p));
    expect(&y, (float[]){3, 4, 6, 7}, 1e-7, "avg pool real pixels");
    gt_poison(&dx);
    GT_OK(gc_avg_pool2d_backward(&dx, &dy, &p));
    expect(&dx, (float[]){0.25f, 0.5f, 0.25f, 0.5f, 1, 0.5f, 0.25f, 0.5f, 0.25f}, 1e-7,
           "avg pool backward real pixels");
}
END_TEST

START_TEST(max_pool_ties_and_padding)
{
    /* Window 0 {5, 5 / 2, 5}: the first 5 wins; window 1 {1, 7 / 7, 7}:
     * the 7 at row 0 wins. */
    gc_tensor x = gt_tensor(be(), GT_DIMS(1, 1, 2, 4), (float[]){5, 5, 1, 7, 2, 5, 7, 7});
    gc_tensor y = gt_tensor(be(), GT_DIMS(1, 1, 1, 2), NULL);
    gc_tensor dx = gt_tensor(be(), GT_DIMS(1, 1, 2, 4), NULL);
    gc_tensor dy = gt_tensor(be(), GT_DIMS(1, 1, 1, 2), (float[]){1, 2});
    gc_pool_params p = {.kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2};
    GT_OK(gc_max_pool2d_forward(&y, &x, &p));
    expect(&y, (float[]){5, 7}, 0.0, "max pool ties");
    GT_OK(gc_max_pool2d_backward(&dx, &dy, &x, &p));
    expect(&dx, (float[]){1, 0, 0, 2, 0, 0, 0, 0}, 0.0, "max pool backward: first maximum");

    /* Padding is -inf, not 0: negative inputs still win over it. */
    gc_tensor xn = gt_tensor(be(), GT_DIMS(1, 1, 1, 2), (float[]){-3, -5});
    gc_tensor yn = gt_tensor(be(), GT_DIMS(1, 1, 2, 3), NULL);
    gc_pool_params q = {
        .kernel_h = 2, .kernel_w = 2, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1};
    GT_OK(gc_max_pool2d_forward(&yn, &xn, &q));
    expect(&yn, (float[]){-3, -3, -5, -3, -3, -5}, 0.0, "max pool pads with -inf");
}
END_TEST

START_TEST(global_avg_pool_forward)
{
    int64_t n = gt_randint(1, 3), c = gt_randint(1, 5), h = gt_randint(1, 9), w = gt_randint(2, 9);
    float *hx;
    gc_tensor x = rand_tensor(GT_DIMS(n, c, h, w), -1, 1, &hx);
    gc_tensor y = gt_tensor(be(), GT_DIMS(n, c, 1, 1), NULL);
    float *want = malloc((size_t)(n * c) * sizeof *want);
    for (int64_t i = 0; i < n * c; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < h * w; j++)
            s += hx[i * h * w + j];
        want[i] = (float)(s / (double)(h * w));
    }
    GT_OK(gc_global_avg_pool_forward(&y, &x));
    expect(&y, want, 1e-6, "global avg pool");
    free(hx);
    free(want);
}
END_TEST

/* ---- shape ops ---------------------------------------------------------------------- */

START_TEST(concat_forward)
{
    int64_t n = gt_randint(1, 3), h = gt_randint(1, 4), w = gt_randint(1, 5);
    int64_t c0 = gt_randint(1, 3), c1 = gt_randint(1, 3), hw = h * w, ct = c0 + c1;
    float *h0, *h1;
    gc_tensor xs[2] = {rand_tensor(GT_DIMS(n, c0, h, w), -1, 1, &h0),
                       rand_tensor(GT_DIMS(n, c1, h, w), -1, 1, &h1)};
    gc_tensor y = gt_tensor(be(), GT_DIMS(n, ct, h, w), NULL);
    float *want = malloc((size_t)(n * ct * hw) * sizeof *want);
    for (int64_t i = 0; i < n; i++) {
        memcpy(want + i * ct * hw, h0 + i * c0 * hw, (size_t)(c0 * hw) * sizeof(float));
        memcpy(want + (i * ct + c0) * hw, h1 + i * c1 * hw, (size_t)(c1 * hw) * sizeof(float));
    }
    GT_OK(gc_concat_forward(&y, xs, 2));
    expect(&y, want, 0.0, "concat");
    free(h0);
    free(h1);
    free(want);
}
END_TEST

START_TEST(resize_bilinear_torch)
{
    /* x = k^2/4 - k for k = 0..11 in a 3x4 plane; expected values from
     * torch.nn.functional.interpolate(x, size, mode='bilinear',
     * align_corners=False), torch 1.13, float32. */
    float hx[12];
    for (int k = 0; k < 12; k++)
        hx[k] = (float)(k * k * 0.25 - k);
    static const float up[35] = {0,
                                 -0.267857164f,
                                 -0.696428597f,
                                 -0.875f,
                                 -0.982142866f,
                                 -0.839285672f,
                                 -0.75f,
                                 0,
                                 0.0178571567f,
                                 0.0464286208f,
                                 0.325000167f,
                                 0.67500031f,
                                 1.27500045f,
                                 1.65000033f,
                                 0,
                                 0.446429133f,
                                 1.16071486f,
                                 2.12500072f,
                                 3.16071534f,
                                 4.44642973f,
                                 5.25000095f,
                                 4.80000067f,
                                 5.67500067f,
                                 7.07500124f,
                                 8.72500134f,
                                 10.4464302f,
                                 12.4178591f,
                                 13.6500015f,
                                 8,
                                 9.16071415f,
                                 11.0178576f,
                                 13.125f,
                                 15.3035727f,
                                 17.7321434f,
                                 19.25f};
    static const float down[6] = {-0.0416666716f, -0.124999985f, 0.62500006f,
                                  6.45833349f,    10.375f,       15.125f};
    gc_tensor x = gt_tensor(be(), GT_DIMS(1, 1, 3, 4), hx);
    gc_tensor y1 = gt_tensor(be(), GT_DIMS(1, 1, 5, 7), NULL);
    gc_tensor y2 = gt_tensor(be(), GT_DIMS(1, 1, 2, 3), NULL);
    GT_OK(gc_resize_bilinear_forward(&y1, &x));
    expect(&y1, up, 1e-6, "bilinear upsample vs PyTorch");
    GT_OK(gc_resize_bilinear_forward(&y2, &x));
    expect(&y2, down, 1e-6, "bilinear downsample vs PyTorch");
    /* Same size is the identity. */
    gc_tensor y3 = gt_tensor(be(), GT_DIMS(1, 1, 3, 4), NULL);
    GT_OK(gc_resize_bilinear_forward(&y3, &x));
    expect(&y3, hx, 0.0, "bilinear identity");
}
END_TEST

/* ---- loss ------------------------------------------------------------------------- */

START_TEST(bce_saturated_logits)
{
    gc_tensor z = gt_tensor(be(), GT_DIMS(1), NULL), loss = gt_tensor(be(), GT_DIMS(1), NULL);
    static const struct {
        float z, t, loss;
    } cases[] = {{-100, 1, 100}, {100, 0, 100}, {100, 1, 0}, {-100, 0, 0}};
    for (int i = 0; i < 4; i++) {
        GT_OK(gc_tensor_write(&z, &cases[i].z));
        GT_OK(gc_bce_logits_forward(&loss, &z, cases[i].t));
        float l = read_scalar(&loss);
        ck_assert_msg(isfinite(l) && fabs(l - cases[i].loss) <= 1e-5,
                      "bce(z=%g, t=%g) = %g, want %g", cases[i].z, cases[i].t, l, cases[i].loss);
    }
    /* The mean over the batch, and the gradient at saturation:
     * dz = scale * (sigmoid(z) - t) / N. */
    gc_tensor z2 = gt_tensor(be(), GT_DIMS(2, 1), (float[]){100, -100});
    gc_tensor dz = gt_tensor(be(), GT_DIMS(2, 1), NULL);
    GT_OK(gc_bce_logits_forward(&loss, &z2, 1.0f));
    ck_assert_float_eq_tol(read_scalar(&loss), 50.0f, 1e-5f);
    GT_OK(gc_bce_logits_backward(&dz, &z2, 1.0f, 2.0f));
    expect(&dz, (float[]){0, -1}, 1e-7, "bce dz at saturation, t=1");
    GT_OK(gc_bce_logits_backward(&dz, &z2, 0.0f, 2.0f));
    expect(&dz, (float[]){1, 0}, 1e-7, "bce dz at saturation, t=0");

    /* A moderate logit and a smoothed target, from the textbook form. */
    float zm = 0.3f;
    GT_OK(gc_tensor_write(&z, &zm));
    GT_OK(gc_bce_logits_forward(&loss, &z, 0.9f));
    double s = 1.0 / (1.0 + exp(-0.3)), t = (double)0.9f;
    double want = -(t * log(s) + (1 - t) * log(1 - s));
    ck_assert_double_eq_tol(read_scalar(&loss), want, 1e-6);
}
END_TEST

/* ---- Adam --------------------------------------------------------------------------- */

START_TEST(adam_three_steps)
{
    const int64_t n = 7;
    const gc_adam_params base = {.lr = 0.05f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    float *hp = gt_rand_array(n, -1, 1);
    float grads[3][7];
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < n; i++)
            grads[s][i] = (float)(2 * gt_uniform() - 1);
    /* Element 5 has no gradient (the update is 0/(0 + eps) = 0); element 6
     * a tiny one comparable to eps. */
    for (int s = 0; s < 3; s++)
        grads[s][5] = 0.0f, grads[s][6] = 3e-8f * (float)(s + 1);
    gc_tensor p = gt_tensor(be(), GT_DIMS(n), hp);
    gc_tensor g = gt_tensor(be(), GT_DIMS(n), NULL);
    gc_tensor m = gt_tensor(be(), GT_DIMS(n), NULL), v = gt_tensor(be(), GT_DIMS(n), NULL);
    GT_OK(gc_fill(&m, 0.0f));
    GT_OK(gc_fill(&v, 0.0f));

    /* torch.optim.Adam's arrangement (step_size = lr / bc1, denom =
     * sqrt(v) / sqrt(bc2) + eps), in double. */
    double rp[7], rm[7] = {0}, rv[7] = {0};
    for (int64_t i = 0; i < n; i++)
        rp[i] = hp[i];
    double b1 = base.beta1, b2 = base.beta2;
    for (int s = 0; s < 3; s++) {
        gc_adam_params a = base;
        a.step = s + 1;
        GT_OK(gc_tensor_write(&g, grads[s]));
        GT_OK(gc_adam_update(&p, &g, &m, &v, &a));
        double bc1 = 1 - pow(b1, s + 1), bc2 = 1 - pow(b2, s + 1);
        for (int64_t i = 0; i < n; i++) {
            double gi = grads[s][i];
            rm[i] = b1 * rm[i] + (1 - b1) * gi;
            rv[i] = b2 * rv[i] + (1 - b2) * gi * gi;
            rp[i] -= (base.lr / bc1) * rm[i] / (sqrt(rv[i]) / sqrt(bc2) + (double)base.eps);
        }
    }
    float wp[7], wm[7], wv[7], dp[7], wdp[7];
    float *got = gt_read(&p);
    for (int64_t i = 0; i < n; i++) {
        wp[i] = (float)rp[i], wm[i] = (float)rm[i], wv[i] = (float)rv[i];
        dp[i] = got[i] - hp[i], wdp[i] = (float)(rp[i] - hp[i]);
    }
    expect(&m, wm, 1e-6, "adam m");
    expect(&v, wv, 1e-6, "adam v");
    expect(&p, wp, 1e-6, "adam param");
    /* The updates themselves (param rounding is ~1e-7 of |param|, the
     * updates ~0.1). */
    gt_assert_close(dp, wdp, n, 1e-5, "adam param change");
    ck_assert_float_eq(got[5], hp[5]);
    free(got);
    free(hp);
}
END_TEST

START_TEST(adam_constant_gradient)
{
    /* With a constant gradient the bias corrections cancel exactly:
     * m_hat = g, v_hat = g^2, so each step moves by lr * g / (|g| + eps). */
    const float lr = 0.01f;
    gc_tensor p = gt_tensor(be(), GT_DIMS(3), (float[]){1, -2, 0.5f});
    gc_tensor g = gt_tensor(be(), GT_DIMS(3), (float[]){1, -4, 0.25f});
    gc_tensor m = gt_tensor(be(), GT_DIMS(3), (float[]){0, 0, 0});
    gc_tensor v = gt_tensor(be(), GT_DIMS(3), (float[]){0, 0, 0});
    for (int s = 1; s <= 3; s++) {
        gc_adam_params a = {.lr = lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .step = s};
        GT_OK(gc_adam_update(&p, &g, &m, &v, &a));
    }
    expect(&p, (float[]){1 - 3 * lr, -2 + 3 * lr, 0.5f - 3 * lr}, 1e-6, "adam constant grad");
}
END_TEST

/* ---- random numbers ------------------------------------------------------------------ */

START_TEST(rng_reproducible)
{
    const int64_t n = 1001;
    gc_tensor a = gt_tensor(be(), GT_DIMS(n), NULL), b = gt_tensor(be(), GT_DIMS(n), NULL);
    gc_tensor part = gt_tensor(be(), GT_DIMS(50), NULL);
    uint64_t seed = gt_seed() ^ 0x5eedULL;
    int normal = _i;
    for (int pass = 0; pass < 2; pass++) {
        gc_rng r1 = {seed, 1000}, r2 = {seed, 1000}, r3 = {seed, 1000 + 17};
        if (normal) {
            GT_OK(gc_rng_normal(&a, &r1, 0.5f, 2.0f));
            GT_OK(gc_rng_normal(&b, &r2, 0.5f, 2.0f));
            GT_OK(gc_rng_normal(&part, &r3, 0.5f, 2.0f));
        } else {
            GT_OK(gc_rng_uniform(&a, &r1, -1.0f, 3.0f));
            GT_OK(gc_rng_uniform(&b, &r2, -1.0f, 3.0f));
            GT_OK(gc_rng_uniform(&part, &r3, -1.0f, 3.0f));
        }
        ck_assert_uint_eq(r1.offset, 1000 + n);
        float *ha = gt_read(&a), *hb = gt_read(&b), *hp = gt_read(&part);
        ck_assert_msg(!memcmp(ha, hb, (size_t)n * sizeof(float)), "same (seed, offset) differs");
        /* Element i uses counter offset + i, whatever the fill's extent. */
        ck_assert_msg(!memcmp(ha + 17, hp, 50 * sizeof(float)), "counter offset + i broken");
        /* The backend-independent definition. */
        uint32_t w[4];
        gc_philox4x32_10(seed, 1000 + 3, w);
        float want = normal ? 0.5f + 2.0f * gc_philox_normal(w) : -1.0f + 4.0f * gc_philox_01(w[0]);
        ck_assert_float_eq(ha[3], want);

        /* A continuing stream (next offset) and another seed differ. */
        if (normal)
            GT_OK(gc_rng_normal(&b, &r1, 0.5f, 2.0f));
        else
            GT_OK(gc_rng_uniform(&b, &r1, -1.0f, 3.0f));
        free(hb);
        hb = gt_read(&b);
        int same = 0;
        for (int64_t i = 0; i < n; i++)
            same += ha[i] == hb[i];
        ck_assert_int_le(same, 2);
        gc_rng r4 = {seed + 1, 1000};
        if (normal)
            GT_OK(gc_rng_normal(&b, &r4, 0.5f, 2.0f));
        else
            GT_OK(gc_rng_uniform(&b, &r4, -1.0f, 3.0f));
        free(hb);
        hb = gt_read(&b);
        same = 0;
        for (int64_t i = 0; i < n; i++)
            same += ha[i] == hb[i];
        ck_assert_int_le(same, 2);
        free(ha);
        free(hb);
        free(hp);
        seed = ~seed; /* high key bits too */
    }
}
END_TEST

START_TEST(rng_statistics)
{
    const int64_t n = 200001;
    gc_tensor y = gt_tensor(be(), GT_DIMS(n), NULL);
    gc_rng rng = {gt_seed(), (uint64_t)gt_randint(0, 1 << 30)};

    /* Uniform [lo, hi): mean (lo+hi)/2, variance (hi-lo)^2/12; bounds at 6
     * standard errors (a false alarm about once in 5e8 runs). */
    const double lo = -2.0, hi = 3.0, w = hi - lo;
    GT_OK(gc_rng_uniform(&y, &rng, (float)lo, (float)hi));
    float *h = gt_read(&y);
    double s = 0.0, s2 = 0.0, mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        ck_assert_msg(h[i] >= lo && h[i] < hi, "uniform value %g outside [%g, %g)", h[i], lo, hi);
        s += h[i];
        mn = fmin(mn, h[i]);
        mx = fmax(mx, h[i]);
    }
    double mean = s / n;
    for (int64_t i = 0; i < n; i++)
        s2 += (h[i] - mean) * (h[i] - mean);
    double var = s2 / (n - 1), var_true = w * w / 12;
    ck_assert_double_le(fabs(mean - (lo + hi) / 2), 6 * sqrt(var_true / n));
    /* Var(sample variance) ~ (mu4 - sigma^4) / n, with mu4 = w^4/80. */
    ck_assert_double_le(fabs(var - var_true), 6 * sqrt((pow(w, 4) / 80 - var_true * var_true) / n));
    ck_assert_double_le(mn - lo, 1e-3);
    ck_assert_double_le(hi - mx, 1e-3);
    free(h);

    /* Normal: mean within 6 sigma/sqrt(n), std within 6 sigma/sqrt(2n). */
    const double mu = 1.5, sigma = 0.5;
    GT_OK(gc_rng_normal(&y, &rng, (float)mu, (float)sigma));
    h = gt_read(&y);
    s = s2 = 0.0;
    int64_t beyond2 = 0;
    for (int64_t i = 0; i < n; i++) {
        ck_assert(isfinite(h[i]));
        s += h[i];
        beyond2 += fabs(h[i] - mu) > 2 * sigma;
    }
    mean = s / n;
    for (int64_t i = 0; i < n; i++)
        s2 += (h[i] - mean) * (h[i] - mean);
    double sd = sqrt(s2 / (n - 1));
    ck_assert_double_le(fabs(mean - mu), 6 * sigma / sqrt((double)n));
    ck_assert_double_le(fabs(sd - sigma), 6 * sigma / sqrt(2.0 * n));
    /* The tails are Gaussian: P(|z| > 2) = 0.0455, binomial sd ~ 4.7e-4. */
    ck_assert_double_le(fabs((double)beyond2 / n - 0.0455), 6 * 4.7e-4);
    free(h);
}
END_TEST

static Suite *cpu_ops_suite(void)
{
    Suite *s = suite_create("cpu_ops");
    TCase *tc = tcase_create("reference values");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, elementwise_basics);
    tcase_add_test(tc, activations_forward);
    tcase_add_loop_test(tc, gemm_transposes, 0, 4);
    tcase_add_test(tc, dense_forward_naive);
    tcase_add_loop_test(tc, conv_forward_naive, 0, 2);
    tcase_add_test(tc, conv_transpose_out_pad_hand);
    tcase_add_test(tc, batchnorm_running_stats);
    tcase_add_test(tc, avg_pool_divisor_edges);
    tcase_add_test(tc, max_pool_ties_and_padding);
    tcase_add_test(tc, global_avg_pool_forward);
    tcase_add_test(tc, concat_forward);
    tcase_add_test(tc, resize_bilinear_torch);
    tcase_add_test(tc, bce_saturated_logits);
    tcase_add_test(tc, adam_three_steps);
    tcase_add_test(tc, adam_constant_gradient);
    tcase_add_loop_test(tc, rng_reproducible, 0, 2);
    tcase_add_test(tc, rng_statistics);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(cpu_ops_suite());
}

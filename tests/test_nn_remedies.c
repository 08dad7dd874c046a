/* tests/test_nn_remedies.c - spectral normalisation and the minibatch-stddev
 * layer inside a gc_seq: layout and argument checks, initialisation order,
 * the OpenCL backend against the CPU, gradients against finite differences,
 * sigma against an independent largest singular value, that an evaluation
 * forward changes no state, and the MBSTD layer against the op itself. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/nn.h"
#include "test_seq_fd.h"
#include "test_support.h"

#define K 3 /* classes of the projection head */

/* A small discriminator: spectrally normalised convolutions and dense head,
 * a minibatch-stddev layer in the middle; the input (3, 9, 11) is odd and
 * not square.  Shapes: (5, 5, 6) -> (6, 5, 6) -> (4, 5, 6) -> 1. */
static const gc_layer_desc d_net[] = {
    {.kind = GC_LAYER_CONV2D, .out_c = 5, .kernel = 3, .stride = 2, .pad = 1, .bias = 1, .sn = 1},
    {.kind = GC_LAYER_ACT, .act = GC_ACT_LEAKY_RELU, .slope = 0.2f},
    {.kind = GC_LAYER_MBSTD, .group = 4},
    {.kind = GC_LAYER_CONV2D, .out_c = 4, .kernel = 3, .stride = 1, .pad = 1, .bias = 1, .sn = 1},
    {.kind = GC_LAYER_ACT, .act = GC_ACT_LEAKY_RELU, .slope = 0.2f},
    {.kind = GC_LAYER_DENSE, .out_c = 1, .bias = 1, .sn = 1},
};
#define D_N ((int)(sizeof d_net / sizeof d_net[0]))
static const int64_t d_in[3] = {3, 9, 11};

/* The same with a projection head (its class table is not normalised) and
 * a dense layer of several rows before it. */
static const gc_layer_desc p_net[] = {
    {.kind = GC_LAYER_CONV2D, .out_c = 5, .kernel = 3, .stride = 2, .pad = 1, .bias = 1, .sn = 1},
    {.kind = GC_LAYER_ACT, .act = GC_ACT_LEAKY_RELU, .slope = 0.2f},
    {.kind = GC_LAYER_MBSTD, .group = 4},
    {.kind = GC_LAYER_DENSE, .out_c = 7, .bias = 1, .sn = 1},
    {.kind = GC_LAYER_ACT, .act = GC_ACT_LEAKY_RELU, .slope = 0.2f},
    {.kind = GC_LAYER_DENSE, .out_c = 1, .bias = 1, .sn = 1, .cond = GC_COND_PROJECT, .classes = K},
};
#define P_N ((int)(sizeof p_net / sizeof p_net[0]))

/* ---- helpers ---------------------------------------------------------------- */

static int64_t sn_rows(const gc_seq *s, int i)
{
    gc_tensor u = gc_layer_sn_u(s, i);
    return gc_tensor_numel(&u);
}

/* sigma of layer i's last forward: in acts after w / sigma, its gradient
 * and v (nn.h's layout). */
static float read_sigma(const gc_seq *s, int i)
{
    const gc_layer *l = &s->layers[i];
    size_t off = l->sn_off + (size_t)(2 * l->w_n + l->w_n / sn_rows(s, i));
    gc_tensor t = gc_tensor_1d(s->be, s->acts, off, 1);
    float v;
    GT_OK(gc_tensor_read(&t, &v));
    return v;
}

static void set_rand_labels(const gc_seq *s, int n)
{
    if (!s->labels) return;
    float *l = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++)
        l[i] = (float)gt_randint(0, K - 1);
    gc_tensor t = gc_seq_labels(s, n);
    GT_OK(gc_tensor_write(&t, l));
    free(l);
}

/* The largest singular value of the (rows, cols) matrix w: the square root
 * of the largest eigenvalue of w w^T by cyclic Jacobi rotations, in double
 * -- another algorithm than the power iteration under test. */
static double largest_singular_value(const float *w, int64_t rows, int64_t cols)
{
    int64_t r = rows;
    double *a = calloc((size_t)(r * r), sizeof(double));
    for (int64_t i = 0; i < r; i++)
        for (int64_t j = 0; j < r; j++)
            for (int64_t k = 0; k < cols; k++)
                a[i * r + j] += (double)w[i * cols + k] * w[j * cols + k];
    for (int sweep = 0; sweep < 100; sweep++) {
        double off = 0;
        for (int64_t p = 0; p < r; p++)
            for (int64_t q = p + 1; q < r; q++)
                off += a[p * r + q] * a[p * r + q];
        if (off < 1e-30) break;
        for (int64_t p = 0; p < r; p++)
            for (int64_t q = p + 1; q < r; q++) {
                if (a[p * r + q] == 0) continue;
                double theta = (a[q * r + q] - a[p * r + p]) / (2 * a[p * r + q]);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int64_t k = 0; k < r; k++) { /* columns p, q */
                    double akp = a[k * r + p], akq = a[k * r + q];
                    a[k * r + p] = c * akp - s * akq, a[k * r + q] = s * akp + c * akq;
                }
                for (int64_t k = 0; k < r; k++) { /* rows p, q */
                    double apk = a[p * r + k], aqk = a[q * r + k];
                    a[p * r + k] = c * apk - s * aqk, a[q * r + k] = s * apk + c * aqk;
                }
            }
    }
    double m = 0;
    for (int64_t i = 0; i < r; i++)
        m = fmax(m, a[i * r + i]);
    free(a);
    return sqrt(m);
}

/* Runs the power iteration of every spectrally normalised layer to its
 * fixed point, with u in state. */
static void converge_u(gc_seq *s)
{
    for (int i = 0; i < s->n_layers; i++) {
        if (!s->layers[i].d.sn) continue;
        gc_tensor u = gc_layer_sn_u(s, i), w = gc_layer_weight(s, i, s->params);
        gc_tensor v = gt_tensor(s->be, GT_DIMS(s->layers[i].w_n / gc_tensor_numel(&u)), NULL);
        gc_tensor sigma = gt_tensor(s->be, GT_DIMS(1), NULL);
        GT_OK(gc_spectral_norm_forward(NULL, &u, &v, &sigma, &w, 500));
        gt_free(&v);
        gt_free(&sigma);
    }
}

static float *read_state(const gc_seq *s)
{
    gc_tensor t = gc_seq_state(s);
    ck_assert(t.buf != NULL);
    return gt_read(&t);
}

/* ---- layout and argument checks ------------------------------------------- */

START_TEST(test_layout)
{
    gc_seq s;
    GT_OK(gc_seq_init(&s, gt_cpu(), d_net, D_N, d_in, 8));
    const gc_layer *l = s.layers;
    ck_assert(l[0].out[0] == 5 && l[0].out[1] == 5 && l[0].out[2] == 6);
    ck_assert(l[2].out[0] == 6 && l[2].out[1] == 5 && l[2].out[2] == 6);
    ck_assert(l[2].w_n == 0 && l[2].b_n == 0 && gc_layer_macs(&l[2]) == 0);
    ck_assert(l[3].in[0] == 6 && l[3].w_n == 4 * 6 * 9 && l[5].w_n == 4 * 5 * 6);
    /* Spectral norm adds no parameters: u lives in state. */
    ck_assert_int_eq(s.n_params, (5 * 27 + 5) + (4 * 54 + 4) + (120 + 1));
    ck_assert_int_eq(s.n_state, 5 + 4 + 1);
    ck_assert(sn_rows(&s, 0) == 5 && sn_rows(&s, 3) == 4 && sn_rows(&s, 5) == 1);
    ck_assert(gc_layer_sn_u(&s, 1).buf == NULL && gc_layer_sn_u(&s, 2).buf == NULL);
    /* Every output first (dacts mirrors those alone), then the scratch. */
    int64_t outputs = 8 * (150 + 150 + 180 + 120 + 120 + 1);
    int64_t scratch = 0;
    for (int i = 0; i < D_N; i++) {
        if (!l[i].d.sn) continue;
        ck_assert(l[i].sn_off >= (size_t)outputs);
        scratch += 2 * l[i].w_n + l[i].w_n / sn_rows(&s, i) + 1 + sn_rows(&s, i);
    }
    ck_assert_int_eq(s.n_acts, outputs + scratch);
    ck_assert(s.labels == NULL);
    gc_seq_free(&s);

    /* Spectral norm only on dense and conv2d; a group of at least 1. */
    gc_layer_desc bad[][2] = {
        {{.kind = GC_LAYER_CONV2D, .out_c = 2, .kernel = 3, .stride = 1},
         {.kind = GC_LAYER_BATCHNORM2D, .sn = 1}},
        {{.kind = GC_LAYER_CONV2D, .out_c = 2, .kernel = 3, .stride = 1},
         {.kind = GC_LAYER_ACT, .act = GC_ACT_RELU, .sn = 1}},
        {{.kind = GC_LAYER_CONV_TRANSPOSE2D, .out_c = 2, .kernel = 3, .stride = 1, .sn = 1},
         {.kind = GC_LAYER_ACT, .act = GC_ACT_RELU}},
        {{.kind = GC_LAYER_CONV2D, .out_c = 2, .kernel = 3, .stride = 1},
         {.kind = GC_LAYER_MBSTD, .group = 0}},
        {{.kind = GC_LAYER_CONV2D, .out_c = 2, .kernel = 3, .stride = 1},
         {.kind = GC_LAYER_MBSTD, .group = 2, .sn = 1}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_int_eq(gc_seq_init(&s, gt_cpu(), bad[i], 2, d_in, 4), GC_ERR_ARG);
}
END_TEST

/* ---- initialisation ------------------------------------------------------- */

/* What gc_seq_init_params must draw, by hand: every layer's weight, bias
 * (DCGAN: zero, no draw) and class table in layer order, then u ~ N(0, 1)
 * where the layer is spectrally normalised. */
static float *expected_params(const gc_seq *s, gc_init_scheme scheme, gc_rng *rng, float **u_out)
{
    gc_backend *be = s->be;
    float *p = calloc((size_t)s->n_params, sizeof(float));
    float *u = calloc((size_t)(s->n_state > 0 ? s->n_state : 1), sizeof(float));
    for (int i = 0; i < s->n_layers; i++) {
        const gc_layer *l = &s->layers[i];
        if (!l->w_n) continue;
        int64_t fan_in = l->d.kind == GC_LAYER_DENSE ? l->in[0] * l->in[1] * l->in[2]
                                                     : l->in[0] * l->d.kernel * l->d.kernel;
        float bound = (float)(1.0 / sqrt((double)fan_in));
        size_t offs[3] = {l->w_off, l->b_off, l->e_off};
        int64_t sizes[3] = {l->w_n, l->b_n, l->e_n};
        for (int k = 0; k < 3; k++) {
            if (!sizes[k]) continue;
            gc_tensor t = gt_tensor(be, GT_DIMS(sizes[k]), NULL);
            if (scheme == GC_INIT_DCGAN && k == 1)
                GT_OK(gc_fill(&t, 0));
            else if (scheme == GC_INIT_DCGAN)
                GT_OK(gc_rng_normal(&t, rng, 0, 0.02f));
            else
                GT_OK(gc_rng_uniform(&t, rng, -bound, bound));
            GT_OK(gc_tensor_read(&t, p + offs[k]));
            gt_free(&t);
        }
        if (l->d.sn) {
            gc_tensor t = gt_tensor(be, GT_DIMS(sn_rows(s, i)), NULL);
            GT_OK(gc_rng_normal(&t, rng, 0, 1));
            GT_OK(gc_tensor_read(&t, u + l->u_off));
            gt_free(&t);
        }
    }
    *u_out = u;
    return p;
}

START_TEST(test_init_params)
{
    /* The remedies' nets, and the same without spectral norm: a net without
     * one draws exactly the sequence it drew before u existed. */
    gc_layer_desc plain[P_N];
    memcpy(plain, p_net, sizeof plain);
    for (int i = 0; i < P_N; i++)
        plain[i].sn = 0;
    const gc_layer_desc *nets[3] = {d_net, p_net, plain};
    int counts[3] = {D_N, P_N, P_N};
    for (int k = 0; k < 3; k++)
        for (int scheme = 0; scheme < 2; scheme++) {
            gc_seq s;
            GT_OK(gc_seq_init(&s, gt_cpu(), nets[k], counts[k], d_in, 3));
            uint64_t seed = gt_seed() + (uint64_t)k;
            gc_rng r1 = {seed, 0}, r2 = {seed, 0};
            GT_OK(gc_seq_init_params(&s, (gc_init_scheme)scheme, &r1));
            float *u_want, *want = expected_params(&s, (gc_init_scheme)scheme, &r2, &u_want);
            gc_tensor pt = gc_seq_params(&s);
            float *got = gt_read(&pt);
            ck_assert_msg(memcmp(got, want, (size_t)s.n_params * sizeof(float)) == 0,
                          "net %d scheme %d: parameters differ from the documented draws", k,
                          scheme);
            ck_assert(r1.offset == r2.offset);
            if (k < 2) {
                float *u = read_state(&s);
                ck_assert(memcmp(u, u_want, (size_t)s.n_state * sizeof(float)) == 0);
                free(u);
            } else {
                ck_assert(s.n_state == 0 && gc_seq_state(&s).buf == NULL);
            }
            free(got), free(want), free(u_want);
            gc_seq_free(&s);
        }
}
END_TEST

/* ---- OpenCL against the CPU -------------------------------------------------- */

static void cpu_vs_cl(const gc_layer_desc *descs, int count, int n, const char *net)
{
    gc_backend *be[2] = {gt_cpu(), gt_cl()};
    gc_seq s[2];
    int64_t nx = n * d_in[0] * d_in[1] * d_in[2];
    float *xh = gt_rand_array(nx, -1, 1), *rh = gt_rand_array(n, -1, 1);
    float *lab = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++)
        lab[i] = (float)gt_randint(0, K - 1);
    float *out[2][GC_SEQ_MAX_LAYERS], *st[2], *g[2], *dx[2], *dxd[2], *ev[2], *st_ev[2];
    for (int k = 0; k < 2; k++) {
        GT_OK(gc_seq_init(&s[k], be[k], descs, count, d_in, 8));
        gc_rng rng = {gt_seed(), 0};
        GT_OK(gc_seq_init_params(&s[k], GC_INIT_TORCH_DEFAULT, &rng));
        if (s[k].labels) {
            gc_tensor l = gc_seq_labels(&s[k], n);
            GT_OK(gc_tensor_write(&l, lab));
        }
        gc_tensor x = gt_tensor(be[k], GT_DIMS(n, d_in[0], d_in[1], d_in[2]), xh);
        gc_tensor r = gt_tensor(be[k], GT_DIMS(n, 1), rh);
        gc_tensor d = gt_tensor(be[k], GT_DIMS(n, d_in[0], d_in[1], d_in[2]), NULL);
        gc_tensor dd = gt_tensor(be[k], GT_DIMS(n, d_in[0], d_in[1], d_in[2]), NULL);
        /* An evaluation forward first (from the drawn u), then a training
         * one, whose saved state the backward passes use. */
        GT_OK(gc_seq_forward(&s[k], &x, n, 0));
        gc_tensor y = gc_seq_output(&s[k], n);
        ev[k] = gt_read(&y);
        st_ev[k] = read_state(&s[k]);
        GT_OK(gc_seq_zero_grad(&s[k]));
        GT_OK(gc_seq_forward(&s[k], &x, n, 1));
        for (int i = 0; i < count; i++) {
            gc_tensor yi = gc_seq_layer_output(&s[k], i, n);
            out[k][i] = gt_read(&yi);
        }
        st[k] = read_state(&s[k]);
        GT_OK(gc_seq_backward(&s[k], &x, &r, &d, n));
        gc_tensor gt = gc_seq_grads(&s[k]);
        g[k] = gt_read(&gt);
        /* A second backward adds the same again: nothing but grads
         * accumulates (w / sigma's gradient starts from zero each time). */
        GT_OK(gc_seq_backward(&s[k], &x, &r, &d, n));
        float *g2 = gt_read(&gt);
        for (int64_t j = 0; j < s[k].n_params; j++)
            g2[j] -= g[k][j];
        gt_assert_close(g2, g[k], s[k].n_params, 1e-6, "second backward's increment");
        free(g2);
        GT_OK(gc_seq_backward_data(&s[k], &x, &r, &dd, n));
        dx[k] = gt_read(&d);
        dxd[k] = gt_read(&dd);
    }
    char what[96];
    for (int i = 0; i < count; i++) {
        const gc_layer *l = &s[0].layers[i];
        snprintf(what, sizeof what, "%s, n %d: layer %d output, OpenCL vs CPU", net, n, i);
        gt_assert_close(out[1][i], out[0][i], n * l->out[0] * l->out[1] * l->out[2], 1e-5, what);
    }
    snprintf(what, sizeof what, "%s, n %d", net, n);
    gt_assert_close(ev[1], ev[0], n, 1e-5, what);
    gt_assert_close(st[1], st[0], s[0].n_state, 1e-5, what);
    gt_assert_close(st_ev[1], st_ev[0], s[0].n_state, 1e-6, what);
    gt_assert_close(g[1], g[0], s[0].n_params, 1e-5, what);
    gt_assert_close(dx[1], dx[0], nx, 1e-5, what);
    for (int k = 0; k < 2; k++) {
        gt_assert_close(dxd[k], dx[k], nx, 1e-6, "backward_data vs backward input gradient");
        for (int i = 0; i < count; i++)
            free(out[k][i]);
        free(st[k]), free(g[k]), free(dx[k]), free(dxd[k]), free(ev[k]), free(st_ev[k]);
        gc_seq_free(&s[k]);
    }
    free(xh), free(rh), free(lab);
}

START_TEST(test_cpu_vs_cl)
{
    if (!gt_cl()) {
        printf("test_nn_remedies: OpenCL part skipped: no OpenCL device on this machine\n");
        return;
    }
    /* 8: groups of 4; 6: the largest divisor at most 4 is 3. */
    cpu_vs_cl(d_net, D_N, 8, "sn + mbstd net");
    cpu_vs_cl(d_net, D_N, 6, "sn + mbstd net");
    cpu_vs_cl(p_net, P_N, 6, "sn projection net");
}
END_TEST

/* ---- gradients against finite differences ---------------------------------- */

/* The finite differences run EVALUATION forwards (test_seq_fd.h), which
 * iterate on a copy of u: every evaluation of L starts from the same u in
 * state. */
static double eval_loss(gc_seq *s, const gc_tensor *x, int n, const float *r)
{
    return gt_seq_loss_mode(s, x, n, r, 0);
}

static float fd(gc_seq *s, const gc_tensor *x, int n, const float *r, const gc_tensor *t,
                float *value, int64_t idx, double l0, float h0, double atol)
{
    const gt_fd_opts o = {.train = 0, .h0 = h0, .atol = atol};
    return gt_seq_fd_opts(s, x, n, r, t, value, idx, l0, &o);
}

/* The backward treats u and v as constants: it is the gradient of
 * f(W / (u^T W v)) with u, v fixed, which a forward (that recomputes v from
 * u and steps u) is not, except at the power iteration's fixed point: there
 * u, v are W's top singular vectors, sigma(W) = ||W v(W)|| is stationary in
 * the directions v can move (W^T u is parallel to v), and its gradient is
 * exactly u v^T.  So u is first iterated to convergence; a training forward
 * then leaves it where it is (up to rounding), the backward runs, and the
 * finite differences use evaluation forwards, which all start from that
 * same u in state.
 *
 * A kink is not independent of the others: one pre-activation within ~1e-5
 * of a leaky ReLU's kink (a few per cent of draws of this net's ~10^3
 * units) puts a kink under every finite difference of every weight and
 * bias upstream of it, which then agree one-sided with the backward on
 * one side only.  Such a point is not a point to test a derivative at, so
 * when more than a quarter of the differences straddle a kink the check
 * starts again from fresh parameters and inputs (at most three draws: a
 * wrong gradient shows as a mismatch, not as kinks, and is asserted every
 * time).  Returns 0 for such a draw, having checked nothing. */
static int check_fd_once(const gc_layer_desc *descs, int count, int n, const char *net, int attempt)
{
    gc_backend *be = gt_cpu();
    gc_seq s;
    GT_OK(gc_seq_init(&s, be, descs, count, d_in, 8));
    gc_rng rng = {gt_seed() + (uint64_t)attempt, 0};
    GT_OK(gc_seq_init_params(&s, GC_INIT_TORCH_DEFAULT, &rng));
    set_rand_labels(&s, n);
    converge_u(&s);
    int64_t nx = n * d_in[0] * d_in[1] * d_in[2];
    float *xh = gt_rand_array(nx, -1, 1), *r = gt_rand_array(n, -1, 1);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, d_in[0], d_in[1], d_in[2]), xh);
    gc_tensor dout = gt_tensor(be, GT_DIMS(n, 1), r);
    gc_tensor dx = gt_tensor(be, GT_DIMS(n, d_in[0], d_in[1], d_in[2]), NULL);

    GT_OK(gc_seq_zero_grad(&s));
    GT_OK(gc_seq_forward(&s, &x, n, 1));
    GT_OK(gc_seq_backward(&s, &x, &dout, &dx, n));
    gc_tensor pt = gc_seq_params(&s), gt = gc_seq_grads(&s);
    float *p = gt_read(&pt), *g = gt_read(&gt), *gx = gt_read(&dx);
    double l0 = eval_loss(&s, &x, n, r);

    /* Three groups, each checked on its own so that one cannot hide
     * another: the normalised weights, the other parameters (biases, class
     * tables), the input. */
    enum { WEIGHTS, OTHERS, INPUT, GROUPS };
    float analytic[GROUPS][128], numeric[GROUPS][128];
    int m[GROUPS] = {0}, skipped = 0, total = 0, tensors = 0;
    for (int i = 0; i < count; i++) {
        const gc_layer *l = &s.layers[i];
        size_t offs[3] = {l->w_off, l->b_off, l->e_off};
        int64_t sizes[3] = {l->w_n, l->b_n, l->e_n};
        for (int k = 0; k < 3; k++) {
            if (!sizes[k]) continue;
            tensors++;
            int grp = k == 0 ? WEIGHTS : OTHERS;
            for (int j = 0; j < (k == 0 ? 12 : 5); j++) {
                int64_t idx = (int64_t)offs[k] + gt_randint(0, (int)sizes[k] - 1);
                float num = fd(&s, &x, n, r, &pt, p, idx, l0, 1e-3f, 1e-3);
                skipped += isnan(num), total++;
                analytic[grp][m[grp]] = g[idx];
                numeric[grp][m[grp]++] = num;
            }
        }
    }
    /* An input element moves L by only ~1e-3 per unit (layers of gain
     * about 1, spread over 297 inputs a sample), so test_seq_fd's slack of
     * 1e-3 would let a kink's error pass, and at h = 1e-3 the fp32 rounding
     * of L (~1e-7) is a few per cent of the difference: a larger first
     * step (rounding ~1e-5 per unit) and a slack of 1e-4. */
    for (int j = 0; j < 16; j++) {
        int64_t idx = gt_randint(0, (int)nx - 1);
        float num = fd(&s, &x, n, r, &x, xh, idx, l0, 1e-2f, 1e-4);
        skipped += isnan(num), total++;
        analytic[INPUT][m[INPUT]] = gx[idx];
        numeric[INPUT][m[INPUT]++] = num;
    }
    char what[96];
    snprintf(what, sizeof what, "%s, n %d: gradients vs finite differences", net, n);
    ck_assert_msg(tensors >= 6, "%s: only %d parameter tensors", what, tensors);
    int generic = skipped * 4 <= total;
    if (!generic) {
        printf("test_nn_remedies: %s: %d of %d finite differences straddle a kink; drawing "
               "again\n",
               what, skipped, total);
        ck_assert_msg(attempt < 2, "%s: %d of %d finite differences straddle a kink in three draws",
                      what, skipped, total);
    }
    const char *names[GROUPS] = {"normalised weights", "biases and class tables", "input"};
    for (int grp = 0; generic && grp < GROUPS; grp++) {
        int k = 0;
        for (int i = 0; i < m[grp]; i++)
            if (!isnan(numeric[grp][i]))
                analytic[grp][k] = analytic[grp][i], numeric[grp][k++] = numeric[grp][i];
        ck_assert_msg(k >= m[grp] / 2, "%s: most %s straddle a kink", what, names[grp]);
        snprintf(what, sizeof what, "%s, n %d: %s vs finite differences", net, n, names[grp]);
        /* fp32 forward passes: about 1% on the worst elements, as in test_nn. */
        gt_assert_close(analytic[grp], numeric[grp], k, 2e-2, what);
    }

    free(p), free(g), free(gx), free(xh), free(r);
    gt_free(&x), gt_free(&dout), gt_free(&dx);
    gc_seq_free(&s);
    return generic;
}

static void check_fd(const gc_layer_desc *descs, int count, int n, const char *net)
{
    for (int attempt = 0; !check_fd_once(descs, count, n, net, attempt); attempt++)
        ;
}

START_TEST(test_gradients)
{
    check_fd(d_net, D_N, 8, "sn + mbstd net");
    check_fd(d_net, D_N, 6, "sn + mbstd net");
    check_fd(p_net, P_N, 6, "sn projection net");
}
END_TEST

/* ---- sigma and the normalised layer ------------------------------------------ */

/* After 50 training forwards u has converged: each layer's sigma matches
 * W's largest singular value, and the layer's output is the plain layer's
 * with w / sigma. */
START_TEST(test_sigma)
{
    gc_backend *be = gt_cpu();
    gc_seq s;
    int n = 6;
    GT_OK(gc_seq_init(&s, be, p_net, P_N, d_in, n));
    gc_rng rng = {gt_seed(), 0};
    GT_OK(gc_seq_init_params(&s, GC_INIT_TORCH_DEFAULT, &rng));
    set_rand_labels(&s, n);
    int64_t nx = n * d_in[0] * d_in[1] * d_in[2];
    float *xh = gt_rand_array(nx, -1, 1);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, d_in[0], d_in[1], d_in[2]), xh);
    /* Row 0 of each weight tripled: a top singular value well apart from
     * the next, so that 50 steps converge whatever the draw (two close ones
     * would take arbitrarily many -- the op's business, not the layer's). */
    for (int i = 0; i < P_N; i++) {
        if (!s.layers[i].d.sn) continue;
        gc_tensor w = gc_layer_weight(&s, i, s.params);
        float *wh = gt_read(&w);
        for (int64_t j = 0; j < s.layers[i].w_n / sn_rows(&s, i); j++)
            wh[j] *= 3;
        GT_OK(gc_tensor_write(&w, wh));
        free(wh);
    }
    for (int it = 0; it < 50; it++)
        GT_OK(gc_seq_forward(&s, &x, n, 1));
    for (int i = 0; i < P_N; i++) {
        const gc_layer *l = &s.layers[i];
        if (!l->d.sn) continue;
        gc_tensor w = gc_layer_weight(&s, i, s.params), b = gc_layer_bias(&s, i, s.params);
        float *wh = gt_read(&w);
        int64_t rows = sn_rows(&s, i);
        double want = largest_singular_value(wh, rows, l->w_n / rows);
        float sigma = read_sigma(&s, i);
        ck_assert_msg(fabs(sigma - want) <= 1e-3 * want, "layer %d: sigma %.7g, largest %.7g", i,
                      sigma, want);
        /* The plain op on w / sigma (the independent one) and the same
         * input; the class term is added by hand with the unscaled table. */
        for (int64_t j = 0; j < l->w_n; j++)
            wh[j] = (float)(wh[j] / want);
        gc_tensor ws = gt_tensor(be, w.ndim, w.shape, wh);
        gc_tensor in = i ? gc_seq_layer_output(&s, i - 1, n) : x;
        gc_tensor ref = gt_tensor(be, GT_DIMS(n, l->out[0], l->out[1], l->out[2]), NULL);
        if (l->d.kind == GC_LAYER_DENSE) {
            gc_tensor in2 = gc_tensor_reshape(in, 2, (int64_t[]){n, gc_tensor_numel(&in) / n});
            gc_tensor ref2 = gc_tensor_reshape(ref, 2, (int64_t[]){n, rows});
            GT_OK(gc_dense_forward(&ref2, &in2, &ws, b.buf ? &b : NULL));
            if (l->d.cond == GC_COND_PROJECT) {
                gc_tensor e = gc_layer_class_table(&s, i, s.params), lab = gc_seq_labels(&s, n);
                GT_OK(gc_class_project_forward(&ref2, &in2, &e, &lab));
            }
        } else {
            gc_conv_params p = {.stride_h = l->d.stride,
                                .stride_w = l->d.stride,
                                .pad_h = l->d.pad,
                                .pad_w = l->d.pad};
            GT_OK(gc_conv2d_forward(&ref, &in, &ws, b.buf ? &b : NULL, &p));
        }
        gc_tensor y = gc_seq_layer_output(&s, i, n);
        char what[64];
        snprintf(what, sizeof what, "layer %d vs the plain layer on w / sigma", i);
        /* sigma agrees to ~1e-3 (converged power iteration in fp32). */
        gt_assert_tensors_close(&y, &ref, 2e-3, what);
        free(wh);
        gt_free(&ws), gt_free(&ref);
    }
    free(xh);
    gc_seq_free(&s);
}
END_TEST

/* ---- state: evaluation forwards change none -------------------------------- */

START_TEST(test_eval_keeps_state)
{
    gc_backend *be[2] = {gt_cpu(), gt_cl()};
    for (int k = 0; k < 2; k++) {
        if (!be[k]) {
            printf("test_nn_remedies: OpenCL state check skipped: no OpenCL device\n");
            continue;
        }
        gc_seq s;
        int n = 6;
        GT_OK(gc_seq_init(&s, be[k], d_net, D_N, d_in, 8));
        gc_rng rng = {gt_seed(), 0};
        GT_OK(gc_seq_init_params(&s, GC_INIT_TORCH_DEFAULT, &rng));
        float *xh = gt_rand_array(n * d_in[0] * d_in[1] * d_in[2], -1, 1);
        gc_tensor x = gt_tensor(be[k], GT_DIMS(n, d_in[0], d_in[1], d_in[2]), xh);
        float *s0 = read_state(&s);
        GT_OK(gc_seq_forward(&s, &x, n, 0));
        gc_tensor y = gc_seq_output(&s, n);
        float *y0 = gt_read(&y);
        GT_OK(gc_seq_forward(&s, &x, n, 0));
        float *s1 = read_state(&s), *y1 = gt_read(&y);
        size_t bytes = (size_t)s.n_state * sizeof(float);
        ck_assert_msg(memcmp(s0, s1, bytes) == 0, "an evaluation forward changed state");
        ck_assert_msg(memcmp(y0, y1, (size_t)n * sizeof(float)) == 0,
                      "two evaluation forwards differ");
        /* A training forward steps every u (the drawn u is no fixed point). */
        GT_OK(gc_seq_forward(&s, &x, n, 1));
        float *s2 = read_state(&s), *y2 = gt_read(&y);
        for (int i = 0; i < D_N; i++) {
            const gc_layer *l = &s.layers[i];
            if (!l->d.sn || sn_rows(&s, i) < 2) continue; /* one row: u = +-1 */
            ck_assert_msg(
                memcmp(s0 + l->u_off, s2 + l->u_off, (size_t)sn_rows(&s, i) * sizeof(float)) != 0,
                "a training forward left layer %d's u", i);
        }
        /* The same step, so the same output: the evaluation forward ran one
         * power-iteration step from the same u. */
        gt_assert_close(y2, y0, n, 1e-6, "training vs evaluation forward from the same u");
        /* The training forward's u is unit length (PyTorch's normalize). */
        for (int i = 0; i < D_N; i++) {
            const gc_layer *l = &s.layers[i];
            if (!l->d.sn) continue;
            double norm = 0;
            for (int64_t j = 0; j < sn_rows(&s, i); j++)
                norm += (double)s2[l->u_off + j] * s2[l->u_off + j];
            ck_assert_msg(fabs(sqrt(norm) - 1) < 1e-5, "layer %d: |u| = %g", i, sqrt(norm));
        }
        free(s0), free(s1), free(s2), free(y0), free(y1), free(y2), free(xh);
        gc_seq_free(&s);
    }
}
END_TEST

/* ---- the MBSTD layer against the op ---------------------------------------- */

START_TEST(test_mbstd_layer)
{
    static const gc_layer_desc net[] = {
        {.kind = GC_LAYER_CONV2D, .out_c = 3, .kernel = 2, .stride = 1, .bias = 1},
        {.kind = GC_LAYER_MBSTD, .group = 4},
    };
    /* batch -> group: 4 divides 8; 3 is the largest divisor of 6 at most 4;
     * a prime 7 falls back to 1; a batch smaller than the group is one. */
    int cases[][2] = {{8, 4}, {6, 3}, {7, 1}, {3, 3}, {1, 1}, {4, 4}};
    gc_backend *be = gt_cpu();
    gc_seq s;
    GT_OK(gc_seq_init(&s, be, net, 2, d_in, 8));
    gc_rng rng = {gt_seed(), 0};
    GT_OK(gc_seq_init_params(&s, GC_INIT_TORCH_DEFAULT, &rng));
    const gc_layer *l = &s.layers[1];
    ck_assert(l->out[0] == 4 && l->out[1] == 8 && l->out[2] == 10);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int n = cases[c][0], g = cases[c][1];
        float *xh = gt_rand_array(n * d_in[0] * d_in[1] * d_in[2], -1, 1);
        gc_tensor x = gt_tensor(be, GT_DIMS(n, d_in[0], d_in[1], d_in[2]), xh);
        gc_tensor dy = gt_tensor(be, GT_DIMS(n, 4, 8, 10), NULL);
        float *dyh = gt_rand_array(gc_tensor_numel(&dy), -1, 1);
        GT_OK(gc_tensor_write(&dy, dyh));
        gc_tensor dx = gt_tensor(be, GT_DIMS(n, d_in[0], d_in[1], d_in[2]), NULL);
        for (int train = 0; train < 2; train++) {
            GT_OK(gc_seq_forward(&s, &x, n, train));
            gc_tensor h = gc_seq_layer_output(&s, 0, n), y = gc_seq_output(&s, n);
            gc_tensor want = gt_tensor(be, GT_DIMS(n, 4, 8, 10), NULL);
            GT_OK(gc_mbstd_forward(&want, &h, g));
            char what[64];
            snprintf(what, sizeof what, "mbstd layer, n %d (group %d)", n, g);
            gt_assert_tensors_close(&y, &want, 0, what);
            gt_free(&want);
        }
        /* The layer's input gradient sits in dacts at the conv's slot. */
        gc_tensor h = gc_seq_layer_output(&s, 0, n);
        gc_tensor dh = gc_tensor_4d(be, s.dacts, s.layers[0].act_off, n, 3, 8, 10);
        gc_tensor want = gt_tensor(be, GT_DIMS(n, 3, 8, 10), NULL);
        GT_OK(gc_mbstd_backward(&want, &dy, &h, g));
        for (int data = 0; data < 2; data++) {
            gt_poison(&dh);
            GT_OK(gc_seq_zero_grad(&s));
            GT_OK(data ? gc_seq_backward_data(&s, &x, &dy, &dx, n)
                       : gc_seq_backward(&s, &x, &dy, &dx, n));
            gt_assert_tensors_close(&dh, &want, 0, data ? "mbstd backward_data" : "mbstd backward");
        }
        gt_free(&want), gt_free(&x), gt_free(&dy), gt_free(&dx);
        free(xh), free(dyh);
    }
    gc_seq_free(&s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn_remedies");
    TCase *tc = tcase_create("nn_remedies");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_init_params);
    tcase_add_test(tc, test_cpu_vs_cl);
    tcase_add_test(tc, test_gradients);
    tcase_add_test(tc, test_sigma);
    tcase_add_test(tc, test_eval_keeps_state);
    tcase_add_test(tc, test_mbstd_layer);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

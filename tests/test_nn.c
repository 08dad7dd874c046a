/* tests/test_nn.c - layers and models: gradients of whole generators and
 * discriminators against finite differences on the CPU backend, parameter
 * counts and initialisation against PyTorch's, and one full training step
 * on the CPU backend against OpenCL. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/models.h"
#include "gancl/train.h"
#include "test_seq_fd.h"
#include "test_support.h"

/* Small but odd shapes: non-square images catch swapped H and W, widths
 * that are not powers of two catch swapped channel counts. */
static gc_gan_config small_config(gc_model_kind kind)
{
    gc_gan_config c = gc_gan_default_config(kind);
    c.latent = 5;
    c.g_width = 6;
    c.d_width = 3;
    c.height = 8;
    c.width = 12;
    return c;
}

typedef struct fd_result {
    float *analytic, *numeric; /* numeric NaN: at a kink, skipped */
    int n, skipped;
} fd_result;

static void fd_at(gc_seq *s, const gc_tensor *x, int n, const float *r, const gc_tensor *t,
                  float *value, int64_t idx, float analytic, double l0, fd_result *out)
{
    float num = gt_seq_fd(s, x, n, r, t, value, idx, l0);
    out->skipped += isnan(num);
    out->analytic[out->n] = analytic;
    out->numeric[out->n++] = num;
}

/* Checks every parameter tensor of s (a few random elements of each) and,
 * when check_dx, the input gradient, against finite differences. */
static void check_seq(gc_seq *s, int n, const char *what, int check_dx)
{
    gc_backend *be = s->be;
    int64_t nx = n * s->in[0] * s->in[1] * s->in[2];
    float *xh = gt_rand_array(nx, -1, 1);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, s->in[0], s->in[1], s->in[2]), xh);
    gc_tensor y = gc_seq_output(s, n);
    int64_t ny = gc_tensor_numel(&y);
    float *r = gt_rand_array(ny, -1, 1);
    gc_tensor dout = gt_tensor(be, GT_DIMS(ny), r);
    gc_tensor dx = gt_tensor(be, GT_DIMS(n, s->in[0], s->in[1], s->in[2]), NULL);

    GT_OK(gc_seq_zero_grad(s));
    double l0 = gt_seq_loss(s, &x, n, r);
    GT_OK(gc_seq_backward(s, &x, &dout, check_dx ? &dx : NULL, n));
    gc_tensor pt = gc_seq_params(s), gt = gc_seq_grads(s);
    float *p = gt_read(&pt), *g = gt_read(&gt), *gx = check_dx ? gt_read(&dx) : NULL;

    fd_result res = {malloc(4096 * sizeof(float)), malloc(4096 * sizeof(float)), 0, 0};
    int tensors = 0;
    for (int i = 0; i < s->n_layers; i++) {
        const gc_layer *l = &s->layers[i];
        size_t offs[2] = {l->w_off, l->b_off};
        int64_t sizes[2] = {l->w_n, l->b_n};
        for (int k = 0; k < 2; k++) {
            if (!sizes[k]) continue;
            tensors++;
            for (int j = 0; j < 5; j++) {
                int64_t idx = (int64_t)offs[k] + gt_randint(0, (int)sizes[k] - 1);
                fd_at(s, &x, n, r, &pt, p, idx, g[idx], l0, &res);
            }
        }
    }
    if (check_dx)
        for (int j = 0; j < 12; j++) {
            int64_t idx = gt_randint(0, (int)nx - 1);
            fd_at(s, &x, n, r, &x, xh, idx, gx[idx], l0, &res);
        }
    ck_assert_msg(tensors >= 3, "%s: only %d parameter tensors", what, tensors);
    ck_assert_msg(res.skipped * 4 <= res.n, "%s: %d of %d finite differences straddle a kink", what,
                  res.skipped, res.n);
    /* fp32 forward passes: about 1% on the worst elements. */
    gt_assert_close_fd(res.analytic, res.numeric, res.n, 2e-2, what);
    free(res.analytic);
    free(res.numeric);
    free(p);
    free(g);
    free(gx);
    free(xh);
    free(r);
}

/* ---- max pooling in a network ------------------------------------------------ */

/* Pooling first (its backward runs with and without dx), a padded
 * overlapping window, an odd 7 x 9 input, then a convolution, a second
 * pooling and a dense head. */
static const gc_layer_desc pool_net[] = {
    {.kind = GC_LAYER_MAXPOOL2D, .kernel = 3, .stride = 1, .pad = 1},
    {.kind = GC_LAYER_CONV2D, .out_c = 4, .kernel = 3, .stride = 1, .pad = 1, .bias = 1},
    {.kind = GC_LAYER_ACT, .act = GC_ACT_LEAKY_RELU, .slope = 0.2f},
    {.kind = GC_LAYER_MAXPOOL2D, .kernel = 3, .stride = 2, .pad = 1},
    {.kind = GC_LAYER_DENSE, .out_c = 3, .bias = 1},
};
#define POOL_NET_N ((int)(sizeof pool_net / sizeof pool_net[0]))

START_TEST(test_maxpool_shapes)
{
    gc_seq s;
    GT_OK(gc_seq_init(&s, gt_cpu(), pool_net, POOL_NET_N, (int64_t[]){2, 7, 9}, 5));
    const gc_layer *l = &s.layers[3];
    ck_assert(l->out[0] == 4 && l->out[1] == 4 && l->out[2] == 5);
    ck_assert(s.layers[0].w_n == 0 && s.layers[0].b_n == 0 && s.layers[0].out[1] == 7);
    ck_assert_int_eq(s.n_params, (4 * 2 * 9 + 4) + (3 * 4 * 4 * 5 + 3));
    ck_assert_int_eq(s.layers[4].w_n, 3 * 80);
    ck_assert(s.labels == NULL);
    gc_seq_free(&s);
    /* Padding over half the window (PyTorch refuses it too), and a pooling
     * whose output would be empty. */
    gc_layer_desc bad[2] = {{.kind = GC_LAYER_MAXPOOL2D, .kernel = 2, .stride = 1, .pad = 2},
                            {.kind = GC_LAYER_MAXPOOL2D, .kernel = 5, .stride = 1, .pad = 0}};
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(gc_seq_init(&s, gt_cpu(), &bad[i], 1, (int64_t[]){1, 3, 3}, 2),
                         GC_ERR_ARG);
}
END_TEST

/* The input is uniform random, so no window has two equal maxima. */
START_TEST(test_maxpool_gradients)
{
    gc_seq s;
    GT_OK(gc_seq_init(&s, gt_cpu(), pool_net, POOL_NET_N, (int64_t[]){2, 7, 9}, 3));
    gc_rng rng = {gt_seed(), 0};
    GT_OK(gc_seq_init_params(&s, GC_INIT_TORCH_DEFAULT, &rng));
    check_seq(&s, 3, "maxpool network (with dx)", 1);
    check_seq(&s, 2, "maxpool network", 0);
    gc_seq_free(&s);
}
END_TEST

/* Forward (every layer's output through gc_seq_layer_output), backward and
 * backward_data on both backends. */
START_TEST(test_maxpool_cpu_vs_cl)
{
    gc_backend *cl = gt_cl();
    if (!cl) {
        printf("test_nn: maxpool OpenCL part skipped: no OpenCL device on this machine\n");
        return;
    }
    gc_backend *be[2] = {gt_cpu(), cl};
    gc_seq s[2];
    int n = 5;
    int64_t in[3] = {2, 7, 9}, nx = n * 2 * 7 * 9;
    float *xh = gt_rand_array(nx, -1, 1), *rh = gt_rand_array(n * 3, -1, 1);
    float *out[2][POOL_NET_N], *g[2], *dx[2], *dxd[2];
    for (int k = 0; k < 2; k++) {
        GT_OK(gc_seq_init(&s[k], be[k], pool_net, POOL_NET_N, in, 6));
        gc_rng rng = {gt_seed(), 0};
        GT_OK(gc_seq_init_params(&s[k], GC_INIT_TORCH_DEFAULT, &rng));
        gc_tensor x = gt_tensor(be[k], GT_DIMS(n, 2, 7, 9), xh);
        gc_tensor r = gt_tensor(be[k], GT_DIMS(n, 3), rh);
        gc_tensor d = gt_tensor(be[k], GT_DIMS(n, 2, 7, 9), NULL);
        gc_tensor dd = gt_tensor(be[k], GT_DIMS(n, 2, 7, 9), NULL);
        GT_OK(gc_seq_zero_grad(&s[k]));
        GT_OK(gc_seq_forward(&s[k], &x, n, 1));
        for (int i = 0; i < POOL_NET_N; i++) {
            gc_tensor y = gc_seq_layer_output(&s[k], i, n);
            ck_assert(GC_N(&y) == n && GC_C(&y) == s[k].layers[i].out[0] &&
                      GC_H(&y) == s[k].layers[i].out[1] && GC_W(&y) == s[k].layers[i].out[2]);
            out[k][i] = gt_read(&y);
        }
        gc_tensor last = gc_seq_output(&s[k], n),
                  lo = gc_seq_layer_output(&s[k], POOL_NET_N - 1, n);
        ck_assert(last.buf == lo.buf && last.off == lo.off);
        GT_OK(gc_seq_backward(&s[k], &x, &r, &d, n));
        GT_OK(gc_seq_backward_data(&s[k], &x, &r, &dd, n));
        gc_tensor gt = gc_seq_grads(&s[k]);
        g[k] = gt_read(&gt);
        dx[k] = gt_read(&d);
        dxd[k] = gt_read(&dd);
    }
    char what[64];
    for (int i = 0; i < POOL_NET_N; i++) {
        snprintf(what, sizeof what, "layer %d output, OpenCL vs CPU", i);
        gt_assert_close(out[1][i], out[0][i],
                        n * s[0].layers[i].out[0] * s[0].layers[i].out[1] * s[0].layers[i].out[2],
                        1e-5, what);
    }
    gt_assert_close(g[1], g[0], s[0].n_params, 1e-5, "gradients, OpenCL vs CPU");
    gt_assert_close(dx[1], dx[0], nx, 1e-5, "input gradient, OpenCL vs CPU");
    for (int k = 0; k < 2; k++)
        gt_assert_close(dxd[k], dx[k], nx, 1e-6, "backward_data vs backward input gradient");
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < POOL_NET_N; i++)
            free(out[k][i]);
        free(g[k]), free(dx[k]), free(dxd[k]);
        gc_seq_free(&s[k]);
    }
    free(xh), free(rh);
}
END_TEST

static void check_gan_grads(gc_model_kind kind)
{
    gc_gan gan;
    gc_gan_config c = small_config(kind);
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 3));
    /* PyTorch's default initialisation for both: DCGAN's N(0, 0.02) weights
     * give pre-activations so small that kinks crowd every finite difference;
     * what is tested here is the gradients, not the initialisation. */
    gc_rng rng = {gt_seed(), 0};
    GT_OK(gc_seq_init_params(&gan.g, GC_INIT_TORCH_DEFAULT, &rng));
    GT_OK(gc_seq_init_params(&gan.d, GC_INIT_TORCH_DEFAULT, &rng));
    char what[64];
    snprintf(what, sizeof what, "%s generator", gc_model_name(kind));
    check_seq(&gan.g, 3, what, 0);
    snprintf(what, sizeof what, "%s discriminator (with dx)", gc_model_name(kind));
    check_seq(&gan.d, 3, what, 1);
    gc_gan_free(&gan);
}

START_TEST(test_seed_gradients)
{
    check_gan_grads(GC_MODEL_SEED);
}
END_TEST

START_TEST(test_dcgan_gradients)
{
    check_gan_grads(GC_MODEL_DCGAN);
}
END_TEST

/* sum(p.numel() for p in model.parameters()) of the PyTorch models the
 * issue describes, counted by hand from their layer shapes. */
START_TEST(test_parameter_counts)
{
    struct {
        gc_model_kind kind;
        int64_t g, d;
    } want[] = {
        /* G: 100*6272+6272, 128*64*9+64, 64*9+1;  D: 9*64+64, 64*128*9+128, 6272+1 */
        {GC_MODEL_SEED, 633472 + 73792 + 577, 640 + 73856 + 6273},
        /* G: 100*6272, BN 2*128, 128*64*16, BN 2*64, 64*16+1;  D: 16*64+64, 64*128*16,
         * BN 2*128, 6272+1 */
        {GC_MODEL_DCGAN, 627200 + 256 + 131072 + 128 + 1025, 1088 + 131072 + 256 + 6273},
    };
    for (int i = 0; i < 2; i++) {
        gc_gan gan;
        gc_gan_config c = gc_gan_default_config(want[i].kind);
        GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 2));
        ck_assert_int_eq(gan.g.n_params, want[i].g);
        ck_assert_int_eq(gan.d.n_params, want[i].d);
        gc_tensor y = gc_seq_output(&gan.g, 2), z = gc_seq_output(&gan.d, 2);
        ck_assert(GC_C(&y) == 1 && GC_H(&y) == 28 && GC_W(&y) == 28);
        ck_assert_int_eq(gc_tensor_numel(&z), 2);
        if (want[i].kind == GC_MODEL_SEED) {
            /* Forward MACs: G 627200 + 3612672 + 112896, D 112896 + 3612672 + 6272.  A step:
             * G three passes less its first input gradient, D twice that (real, fake)
             * and once more in full (G's loss needs D's input gradient). */
            double g = 4352768.0, d = 3731840.0;
            double macs = (3 * g - 627200) + 2 * (3 * d - 112896) + 3 * d;
            ck_assert(gc_gan_train_flops_per_image(&gan) == 2 * macs);
        }
        gc_gan_free(&gan);
    }
}
END_TEST

static void stats(const float *a, int64_t n, double *mean, double *std, double *amax)
{
    double s = 0, s2 = 0, m = 0;
    for (int64_t i = 0; i < n; i++)
        s += a[i], s2 += (double)a[i] * a[i], m = fmax(m, fabs(a[i]));
    *mean = s / n;
    *std = sqrt(fmax(s2 / n - *mean * *mean, 0));
    *amax = m;
}

/* seed: U(-1/sqrt(fan_in), +) with PyTorch's fan_in (weight.size(1) * k * k,
 * so out_channels * k * k for a transposed convolution); dcgan: N(0, 0.02),
 * gamma N(1, 0.02), zero biases. */
START_TEST(test_initialisation)
{
    gc_gan gan;
    gc_gan_config c = gc_gan_default_config(GC_MODEL_SEED);
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 2));
    GT_OK(gc_gan_init_params(&gan, gt_seed()));
    double fan_in[] = {100, 0, 64 * 9, 0, 1 * 9, 0}; /* G's layers, ConvT: out * k * k */
    for (int i = 0; i < gan.g.n_layers; i++) {
        if (!fan_in[i]) continue;
        double bound = 1 / sqrt(fan_in[i]), mean, std, amax;
        gc_tensor w = gc_layer_weight(&gan.g, i, gan.g.params);
        float *h = gt_read(&w);
        stats(h, gc_tensor_numel(&w), &mean, &std, &amax);
        ck_assert_msg(amax <= (float)bound && amax > 0.9 * bound, "G layer %d: max %g, bound %g", i,
                      amax, bound);
        ck_assert_msg(fabs(std - bound / sqrt(3)) < 0.1 * bound, "G layer %d: std %g", i, std);
        free(h);
    }
    gc_gan_free(&gan);

    c = gc_gan_default_config(GC_MODEL_DCGAN);
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 2));
    GT_OK(gc_gan_init_params(&gan, gt_seed()));
    for (int i = 0; i < gan.d.n_layers; i++) {
        const gc_layer *l = &gan.d.layers[i];
        if (!l->w_n) continue;
        gc_tensor w = gc_layer_weight(&gan.d, i, gan.d.params);
        float *h = gt_read(&w);
        double mean, std, amax, want = l->d.kind == GC_LAYER_BATCHNORM2D ? 1.0 : 0.0;
        stats(h, l->w_n, &mean, &std, &amax);
        ck_assert_msg(fabs(mean - want) < 0.01 && fabs(std - 0.02) < 0.006,
                      "D layer %d: mean %g std %g", i, mean, std);
        free(h);
        gc_tensor b = gc_layer_bias(&gan.d, i, gan.d.params);
        if (b.buf) {
            h = gt_read(&b);
            stats(h, l->b_n, &mean, &std, &amax);
            ck_assert_msg(amax == 0, "D layer %d: bias not zero", i);
            free(h);
        }
    }
    gc_gan_free(&gan);
}
END_TEST

/* Evaluation-mode sampling: an image depends only on its own noise, so
 * batches of any size give the same images; nothing changes G's state. */
START_TEST(test_sample_batch_independent)
{
    gc_gan a, b;
    gc_gan_config c = small_config(GC_MODEL_DCGAN);
    GT_OK(gc_gan_init(&a, gt_cpu(), &c, 7));
    GT_OK(gc_gan_init(&b, gt_cpu(), &c, 2));
    GT_OK(gc_gan_init_params(&a, 42));
    GT_OK(gc_gan_init_params(&b, 42));
    /* Non-trivial running statistics: a few training-mode forwards. */
    gc_tensor z = gt_tensor(gt_cpu(), GT_DIMS(2, c.latent), NULL);
    gc_rng rz = {gt_seed(), 0};
    for (int i = 0; i < 3; i++) {
        GT_OK(gc_rng_normal(&z, &rz, 0, 1));
        GT_OK(gc_seq_forward(&a.g, &z, 2, 1));
        GT_OK(gc_seq_forward(&b.g, &z, 2, 1));
    }
    int64_t per = (int64_t)c.height * c.width, n = 7;
    float *ya = malloc((size_t)(n * per) * sizeof(float)),
          *yb = malloc((size_t)(n * per) * sizeof(float));
    gc_rng ra = {9, 0}, rb = {9, 0};
    GT_OK(gc_gan_sample(&a, &ra, (int)n, ya));
    GT_OK(gc_gan_sample(&b, &rb, (int)n, yb));
    gt_assert_close(ya, yb, n * per, 1e-6, "samples in one batch vs batches of 2");
    ck_assert(ra.offset == rb.offset && ra.offset == (uint64_t)(n * c.latent));
    free(ya);
    free(yb);
    gc_gan_free(&a);
    gc_gan_free(&b);
}
END_TEST

/* ---- one full training step: CPU reference vs OpenCL ------------------------ */

/* The largest normalised error of any run tensor after one step, and where. */
typedef struct step_diff {
    double nerr;
    char what[96];
} step_diff;

static void worst_of(step_diff *d, const float *x, const float *y, int64_t n, const char *what)
{
    double e = gt_compare(x, y, n).nerr;
    if (e > d->nerr || !(e == e)) {
        d->nerr = e;
        snprintf(d->what, sizeof d->what, "%s", what);
    }
}

static void compare_seq(step_diff *d, const gc_seq *a, const gc_seq *b, const float *a0,
                        const float *b0, const char *net)
{
    gc_tensor ta[4] = {gc_seq_params(a), gc_seq_adam_m(a), gc_seq_adam_v(a), gc_seq_state(a)};
    gc_tensor tb[4] = {gc_seq_params(b), gc_seq_adam_m(b), gc_seq_adam_v(b), gc_seq_state(b)};
    const char *names[4] = {"update", "adam m", "adam v", "running stats"};
    char what[64];
    for (int k = 0; k < 4; k++) {
        if (!ta[k].buf) continue;
        int64_t n = gc_tensor_numel(&ta[k]);
        float *x = gt_read(&tb[k]), *y = gt_read(&ta[k]);
        /* Parameters move by at most lr: compare the moves, not the sums. */
        for (int64_t i = 0; k == 0 && i < n; i++)
            x[i] -= b0[i], y[i] -= a0[i];
        snprintf(what, sizeof what, "%s %s", net, names[k]);
        worst_of(d, x, y, n, what);
        free(x);
        free(y);
    }
}

/* One step of the full-size model on both backends from the same seed and
 * data: the largest normalised difference of updates, moments, running
 * statistics and losses. */
static step_diff step_once(gc_backend *cl, gc_model_kind kind, uint64_t seed)
{
    gc_train_config cfg = gc_train_default_config(kind);
    cfg.batch = 5;
    cfg.seed = seed;
    /* With the default eps, Adam's first step is lr * g / (|g| + 1e-8), about
     * lr * sign(g): a gradient within rounding of zero (D's output bias
     * starts there, D(x) ~ D(G(z)) ~ 1/2) moves +lr on one backend and -lr on
     * the other.  A large eps makes the update continuous in g. */
    cfg.eps = 1e-3f;
    int64_t n = 11, pix = 28 * 28;
    uint8_t *img = malloc((size_t)(n * pix));
    for (int64_t i = 0; i < n * pix; i++)
        img[i] = (uint8_t)gt_randint(0, 255);
    gc_trainer a, b;
    GT_OK(gc_trainer_init(&a, gt_cpu(), &cfg, img, n, 28, 28));
    GT_OK(gc_trainer_init(&b, cl, &cfg, img, n, 28, 28));
    /* Same Philox streams on both: the initial weights agree to rounding. */
    gc_tensor pa = gc_seq_params(&a.gan.g), pb = gc_seq_params(&b.gan.g);
    gc_tensor qa = gc_seq_params(&a.gan.d), qb = gc_seq_params(&b.gan.d);
    gt_assert_tensors_close(&pb, &pa, 1e-6, "initial G parameters, OpenCL vs CPU");
    gt_assert_tensors_close(&qb, &qa, 1e-6, "initial D parameters, OpenCL vs CPU");
    float *ga = gt_read(&pa), *gb = gt_read(&pb), *da = gt_read(&qa), *db = gt_read(&qb);
    GT_OK(gc_trainer_step(&a));
    GT_OK(gc_trainer_step(&b));
    step_diff d = {0, ""};
    compare_seq(&d, &a.gan.g, &b.gan.g, ga, gb, "G");
    compare_seq(&d, &a.gan.d, &b.gan.d, da, db, "D");
    gc_train_stats sa, sb;
    GT_OK(gc_trainer_read_stats(&a, &sa));
    GT_OK(gc_trainer_read_stats(&b, &sb));
    float la[5] = {sa.d_loss, sa.g_loss, sa.d_real, sa.d_fake, sa.d_fake_after};
    float lb[5] = {sb.d_loss, sb.g_loss, sb.d_real, sb.d_fake, sb.d_fake_after};
    worst_of(&d, lb, la, 5, "losses and D outputs");
    free(ga), free(gb), free(da), free(db);
    gc_trainer_free(&a);
    gc_trainer_free(&b);
    free(img);
    return d;
}

/* Reductions run in another order on the device (measured: normalised
 * differences ~1e-6).  But a pre-activation within rounding of a ReLU's kink
 * now and then takes the other branch on the device (in a few per cent of
 * steps: ~10^5 units per step), and a single such unit shifts whole gradient
 * tensors by up to a few per cent.  So a step that differs is retried with
 * fresh data: a real fault differs every time, a kink rarely twice in a row. */
static void step_cpu_vs_cl(gc_model_kind kind)
{
    gc_backend *cl = gt_cl();
    if (!cl) {
        printf("test_nn: OpenCL part skipped: no OpenCL device on this machine\n");
        return;
    }
    step_diff d = {0, ""};
    for (int attempt = 0; attempt < 3; attempt++) {
        d = step_once(cl, kind, gt_seed() + (uint64_t)attempt);
        if (d.nerr <= 2e-5) return;
        printf("test_nn: %s step, OpenCL vs CPU: %s differs by %.3g (a ReLU kink?); "
               "retrying with new data\n",
               gc_model_name(kind), d.what, d.nerr);
    }
    ck_abort_msg("%s step, OpenCL vs CPU: %s differs by %.3g in three attempts "
                 "(GANCL_TEST_SEED=%llu)",
                 gc_model_name(kind), d.what, d.nerr, (unsigned long long)gt_seed());
}

START_TEST(test_step_seed_cpu_vs_cl)
{
    step_cpu_vs_cl(GC_MODEL_SEED);
}
END_TEST

START_TEST(test_step_dcgan_cpu_vs_cl)
{
    step_cpu_vs_cl(GC_MODEL_DCGAN);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nn");
    TCase *tc = tcase_create("nn");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_maxpool_shapes);
    tcase_add_test(tc, test_maxpool_gradients);
    tcase_add_test(tc, test_maxpool_cpu_vs_cl);
    tcase_add_test(tc, test_seed_gradients);
    tcase_add_test(tc, test_dcgan_gradients);
    tcase_add_test(tc, test_parameter_counts);
    tcase_add_test(tc, test_initialisation);
    tcase_add_test(tc, test_sample_batch_independent);
    tcase_add_test(tc, test_step_seed_cpu_vs_cl);
    tcase_add_test(tc, test_step_dcgan_cpu_vs_cl);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

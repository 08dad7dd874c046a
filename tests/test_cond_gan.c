/* tests/test_cond_gan.c - class-conditional GANs: the class tables' place
 * in the parameter buffers and their initialisation, forward and backward
 * with labels on the CPU against OpenCL, gradients (class tables and inputs)
 * against finite differences, that the labels really steer G and D, and a
 * checkpoint round trip. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "gancl/models.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_seq_fd.h"
#include "test_support.h"

#define K 3 /* classes */

/* Small odd shapes as in test_nn: non-square images, widths that are not
 * powers of two. */
static gc_gan_config small_config(gc_model_kind kind)
{
    gc_gan_config c = gc_gan_default_config(kind);
    c.latent = 5;
    c.g_width = 6;
    c.d_width = 3;
    c.height = 8;
    c.width = 12;
    c.classes = K;
    return c;
}

/* Labels as floats, every class but `skip` (-1: none) drawn. */
static float *rand_labels(int n, int skip)
{
    float *l = malloc((size_t)n * sizeof(float));
    for (int i = 0; i < n; i++) {
        int c;
        do
            c = gt_randint(0, K - 1);
        while (c == skip);
        l[i] = (float)c;
    }
    return l;
}

static void set_labels(const gc_seq *s, int n, const float *labels)
{
    gc_tensor t = gc_seq_labels(s, n);
    GT_OK(gc_tensor_write(&t, labels));
}

static int last_dense(const gc_seq *s)
{
    for (int i = s->n_layers - 1; i >= 0; i--)
        if (s->layers[i].d.kind == GC_LAYER_DENSE) return i;
    return -1;
}

/* ---- layout, initialisation, configuration --------------------------------- */

START_TEST(test_layout)
{
    for (int kind = 0; kind < 2; kind++) {
        gc_gan_config c = small_config((gc_model_kind)kind), u = c;
        u.classes = 0;
        gc_gan a, b;
        GT_OK(gc_gan_init(&a, gt_cpu(), &c, 4));
        GT_OK(gc_gan_init(&b, gt_cpu(), &u, 4));
        ck_assert(a.g.labels && a.d.labels && !b.g.labels && !b.d.labels);
        int64_t g_out = (int64_t)c.g_width * (c.height / 4) * (c.width / 4);
        int64_t d_in = (int64_t)2 * c.d_width * (c.height / 4) * (c.width / 4);
        const gc_layer *lg = &a.g.layers[0];
        int di = last_dense(&a.d);
        const gc_layer *ld = &a.d.layers[di];
        ck_assert(lg->d.cond == GC_COND_EMBED && lg->e_n == K * g_out &&
                  lg->e_off == lg->b_off + (size_t)lg->b_n);
        ck_assert(ld->d.cond == GC_COND_PROJECT && ld->e_n == K * d_in &&
                  ld->e_off == ld->b_off + (size_t)ld->b_n);
        ck_assert_int_eq(a.g.n_params, b.g.n_params + K * g_out);
        ck_assert_int_eq(a.d.n_params, b.d.n_params + K * d_in);
        /* The rest of the layers stay where they were, shifted by the table. */
        ck_assert(a.g.layers[a.g.n_layers - 1].w_off ==
                  b.g.layers[b.g.n_layers - 1].w_off + (size_t)(K * g_out));
        gc_tensor e = gc_layer_class_table(&a.g, 0, a.g.params);
        ck_assert(e.ndim == 2 && e.shape[0] == K && e.shape[1] == g_out);
        e = gc_layer_class_table(&a.d, di, a.d.grads);
        ck_assert(e.buf == a.d.grads && e.shape[0] == K && e.shape[1] == d_in);
        ck_assert(!gc_layer_class_table(&a.d, 0, a.d.params).buf);

        /* Same seed: G's first weight is drawn first either way; the table
         * follows the weight's distribution. */
        GT_OK(gc_gan_init_params(&a, 7));
        GT_OK(gc_gan_init_params(&b, 7));
        gc_tensor wa = gc_layer_weight(&a.g, 0, a.g.params),
                  wb = gc_layer_weight(&b.g, 0, b.g.params);
        gt_assert_tensors_close(&wa, &wb, 0, "G's first weight, conditional vs not");
        gc_tensor tabs[2] = {gc_layer_class_table(&a.g, 0, a.g.params),
                             gc_layer_class_table(&a.d, di, a.d.params)};
        double bounds[2] = {1 / sqrt((double)c.latent), 1 / sqrt((double)d_in)};
        for (int t = 0; t < 2; t++) {
            float *h = gt_read(&tabs[t]);
            int64_t n = gc_tensor_numel(&tabs[t]);
            double s = 0, s2 = 0, m = 0;
            for (int64_t i = 0; i < n; i++)
                s += h[i], s2 += (double)h[i] * h[i], m = fmax(m, fabs(h[i]));
            double mean = s / n, std = sqrt(s2 / n - mean * mean);
            if (kind == GC_MODEL_DCGAN)
                ck_assert_msg(fabs(mean) < 0.01 && fabs(std - 0.02) < 0.006, "table %d: %g %g", t,
                              mean, std);
            else
                ck_assert_msg(m <= bounds[t] && m > 0.8 * bounds[t] &&
                                  fabs(std - bounds[t] / sqrt(3)) < 0.2 * bounds[t],
                              "table %d: max %g std %g bound %g", t, m, std, bounds[t]);
            free(h);
        }
        gc_gan_free(&a);
        gc_gan_free(&b);
    }
}
END_TEST

START_TEST(test_config_and_plan_errors)
{
    gc_gan_config c = small_config(GC_MODEL_SEED);
    int bad[] = {1, -1, GC_MAX_CLASSES + 1}, good[] = {0, 2, GC_MAX_CLASSES};
    for (int i = 0; i < 3; i++) {
        c.classes = bad[i];
        ck_assert_int_eq(gc_gan_config_check(&c), GC_ERR_ARG);
        c.classes = good[i];
        GT_OK(gc_gan_config_check(&c));
    }
    gc_seq s;
    int64_t in[3] = {2, 3, 3};
    gc_layer_desc project2 = {
        .kind = GC_LAYER_DENSE, .out_c = 2, .bias = 1, .cond = GC_COND_PROJECT, .classes = 3};
    gc_layer_desc conv = {.kind = GC_LAYER_CONV2D,
                          .out_c = 2,
                          .kernel = 1,
                          .stride = 1,
                          .cond = GC_COND_EMBED,
                          .classes = 3};
    gc_layer_desc no_classes = {.kind = GC_LAYER_DENSE, .out_c = 2, .cond = GC_COND_EMBED};
    ck_assert_int_eq(gc_seq_init(&s, gt_cpu(), &project2, 1, in, 2), GC_ERR_ARG);
    ck_assert_int_eq(gc_seq_init(&s, gt_cpu(), &conv, 1, in, 2), GC_ERR_ARG);
    ck_assert_int_eq(gc_seq_init(&s, gt_cpu(), &no_classes, 1, in, 2), GC_ERR_ARG);
    /* Bad labels on the CPU are refused by the op before anything runs. */
    gc_gan gan;
    c.classes = K;
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 2));
    GT_OK(gc_gan_init_params(&gan, 1));
    float *out = malloc((size_t)(2 * c.height * c.width) * sizeof(float));
    gc_rng rng = {1, 0};
    ck_assert_int_eq(gc_gan_sample_classes(&gan, &rng, 2, (int32_t[]){0, K}, out), GC_ERR_ARG);
    ck_assert_int_eq(gc_gan_sample_classes(&gan, &rng, 2, (int32_t[]){-1, 0}, out), GC_ERR_ARG);
    gc_gan_free(&gan);
    c.classes = 0;
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 2));
    ck_assert_int_eq(gc_gan_sample_classes(&gan, &rng, 2, (int32_t[]){0, 1}, out), GC_ERR_ARG);
    gc_gan_free(&gan);
    free(out);
}
END_TEST

/* ---- CPU vs OpenCL ------------------------------------------------------------ */

typedef struct pass_out {
    float *y, *grads, *dx, *dx_data;
} pass_out;

static void pass_free(pass_out *p)
{
    free(p->y), free(p->grads), free(p->dx), free(p->dx_data);
}

/* A training forward and backward of s on x with labels; with_dx also
 * backward_data (whose input gradient must match backward's). */
static pass_out run_pass(gc_seq *s, int n, const float *xh, const float *labels, const float *rh,
                         int with_dx)
{
    gc_backend *be = s->be;
    int64_t nx = n * s->in[0] * s->in[1] * s->in[2];
    gc_tensor x = gt_tensor(be, GT_DIMS(nx), xh);
    gc_tensor y = gc_seq_output(s, n);
    gc_tensor r = gt_tensor(be, GT_DIMS(gc_tensor_numel(&y)), rh);
    gc_tensor dx = gt_tensor(be, GT_DIMS(nx), NULL), dd = gt_tensor(be, GT_DIMS(nx), NULL);
    x = gc_tensor_reshape(x, 4, (int64_t[]){n, s->in[0], s->in[1], s->in[2]});
    set_labels(s, n, labels);
    GT_OK(gc_seq_zero_grad(s));
    GT_OK(gc_seq_forward(s, &x, n, 1));
    pass_out p = {gt_read(&y), NULL, NULL, NULL};
    GT_OK(gc_seq_backward(s, &x, &r, with_dx ? &dx : NULL, n));
    gc_tensor g = gc_seq_grads(s);
    p.grads = gt_read(&g);
    if (with_dx) {
        p.dx = gt_read(&dx);
        GT_OK(gc_seq_backward_data(s, &x, &r, &dd, n));
        p.dx_data = gt_read(&dd);
    }
    gt_free(&x), gt_free(&r), gt_free(&dx), gt_free(&dd);
    return p;
}

START_TEST(test_cpu_vs_cl)
{
    gc_backend *cl = gt_cl();
    if (!cl) {
        printf("test_cond_gan: OpenCL part skipped: no OpenCL device on this machine\n");
        return;
    }
    int n = 5;
    for (int kind = 0; kind < 2; kind++) {
        gc_gan_config c = small_config((gc_model_kind)kind);
        gc_gan gan[2];
        GT_OK(gc_gan_init(&gan[0], gt_cpu(), &c, 6));
        GT_OK(gc_gan_init(&gan[1], cl, &c, 6));
        uint64_t seed = gt_seed();
        GT_OK(gc_gan_init_params(&gan[0], seed));
        GT_OK(gc_gan_init_params(&gan[1], seed));
        int64_t nz = n * c.latent, nimg = (int64_t)n * c.channels * c.height * c.width;
        float *z = gt_rand_array(nz, -2, 2), *img = gt_rand_array(nimg, -1, 1);
        float *lg = rand_labels(n, -1), *ld = rand_labels(n, -1);
        float *rg = gt_rand_array(nimg, -1, 1), *rd = gt_rand_array(n, -1, 1);
        pass_out pg[2], pd[2];
        for (int b = 0; b < 2; b++) {
            pg[b] = run_pass(&gan[b].g, n, z, lg, rg, 0);
            pd[b] = run_pass(&gan[b].d, n, img, ld, rd, 1);
        }
        char what[96];
        const char *name = gc_model_name((gc_model_kind)kind);
#define CMP(a, b, len, tol, s)                                                                     \
    do {                                                                                           \
        snprintf(what, sizeof what, "%s %s, OpenCL vs CPU", name, s);                              \
        gt_assert_close(a, b, len, tol, what);                                                     \
    } while (0)
        CMP(pg[1].y, pg[0].y, nimg, 1e-5, "G output");
        CMP(pg[1].grads, pg[0].grads, gan[0].g.n_params, 1e-5, "G gradients");
        CMP(pd[1].y, pd[0].y, n, 1e-5, "D logits");
        CMP(pd[1].grads, pd[0].grads, gan[0].d.n_params, 1e-5, "D gradients");
        CMP(pd[1].dx, pd[0].dx, nimg, 1e-5, "D input gradient");
        /* The class tables' own gradients (a small part of the whole). */
        const gc_layer *l = &gan[0].d.layers[last_dense(&gan[0].d)];
        CMP(pd[1].grads + l->e_off, pd[0].grads + l->e_off, l->e_n, 1e-5, "D class table grad");
        l = &gan[0].g.layers[0];
        CMP(pg[1].grads + l->e_off, pg[0].grads + l->e_off, l->e_n, 1e-5, "G class table grad");
#undef CMP
        for (int b = 0; b < 2; b++) {
            gt_assert_close(pd[b].dx_data, pd[b].dx, nimg, 1e-6,
                            "D backward_data vs backward input gradient");
            pass_free(&pg[b]);
            pass_free(&pd[b]);
            gc_gan_free(&gan[b]);
        }
        free(z), free(img), free(lg), free(ld), free(rg), free(rd);
    }
}
END_TEST

/* ---- finite differences on the CPU ---------------------------------------------- */

/* Gradients of s's class table (entries of used rows, and an unused row
 * that must get exactly zero), its dense weight and bias, and the input,
 * against finite differences. */
static void check_cond_seq(gc_seq *s, int layer, int n, const char *what)
{
    gc_backend *be = s->be;
    int64_t nx = n * s->in[0] * s->in[1] * s->in[2];
    float *xh = gt_rand_array(nx, -1, 1);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, s->in[0], s->in[1], s->in[2]), xh);
    int unused = gt_randint(0, K - 1);
    float *lab = rand_labels(n, unused);
    set_labels(s, n, lab);
    gc_tensor y = gc_seq_output(s, n);
    int64_t ny = gc_tensor_numel(&y);
    float *r = gt_rand_array(ny, -1, 1);
    gc_tensor dout = gt_tensor(be, GT_DIMS(ny), r);
    gc_tensor dx = gt_tensor(be, GT_DIMS(n, s->in[0], s->in[1], s->in[2]), NULL);
    GT_OK(gc_seq_zero_grad(s));
    double l0 = gt_seq_loss(s, &x, n, r);
    GT_OK(gc_seq_backward(s, &x, &dout, &dx, n));
    gc_tensor pt = gc_seq_params(s), gt = gc_seq_grads(s);
    float *p = gt_read(&pt), *g = gt_read(&gt), *gx = gt_read(&dx);

    const gc_layer *l = &s->layers[layer];
    int64_t f = l->e_n / K;
    for (int64_t j = 0; j < f; j++)
        ck_assert_msg(g[l->e_off + (size_t)(unused * f + j)] == 0.0f,
                      "%s: class %d has no sample but a gradient", what, unused);
    enum { M = 48 };
    float an[M], nu[M];
    int m = 0, kinks = 0;
    for (int j = 0; j < 16; j++) { /* the table, rows in use */
        int64_t row = (int64_t)lab[gt_randint(0, n - 1)];
        int64_t idx = (int64_t)l->e_off + row * f + gt_randint(0, (int)f - 1);
        an[m] = g[idx];
        kinks += isnan(nu[m] = gt_seq_fd(s, &x, n, r, &pt, p, idx, l0));
        m++;
    }
    for (int j = 0; j < 8; j++) { /* the dense layer's weight and bias */
        int64_t idx = j < 6 ? (int64_t)l->w_off + gt_randint(0, (int)l->w_n - 1)
                            : (int64_t)l->b_off + gt_randint(0, (int)l->b_n - 1);
        an[m] = g[idx];
        kinks += isnan(nu[m] = gt_seq_fd(s, &x, n, r, &pt, p, idx, l0));
        m++;
    }
    for (int j = 0; j < 16; j++) { /* the input */
        int64_t idx = gt_randint(0, (int)nx - 1);
        an[m] = gx[idx];
        kinks += isnan(nu[m] = gt_seq_fd(s, &x, n, r, &x, xh, idx, l0));
        m++;
    }
    ck_assert_msg(kinks * 4 <= m, "%s: %d of %d differences straddle a kink", what, kinks, m);
    /* fp32 forwards: about 1% at worst, kinks skipped.
     * Each group on its own, so a large one cannot hide a wrong small one. */
    const char *groups[3] = {"class table", "dense weight and bias", "input"};
    int start[4] = {0, 16, 24, 40};
    char msg[128];
    for (int k = 0; k < 3; k++) {
        snprintf(msg, sizeof msg, "%s: %s", what, groups[k]);
        gt_assert_close_fd(an + start[k], nu + start[k], start[k + 1] - start[k], 2e-2, msg);
    }
    free(p), free(g), free(gx), free(xh), free(r), free(lab);
    gt_free(&x), gt_free(&dout), gt_free(&dx);
}

/* The seed model (PyTorch's initialisation; DCGAN's tiny weights crowd the
 * differences with kinks): G's embedding in its first layer, D's
 * projection head. */
START_TEST(test_gradients)
{
    gc_gan_config c = small_config(GC_MODEL_SEED);
    gc_gan gan;
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 5));
    GT_OK(gc_gan_init_params(&gan, gt_seed()));
    check_cond_seq(&gan.g, 0, 5, "conditional G (embedding)");
    check_cond_seq(&gan.d, last_dense(&gan.d), 5, "conditional D (projection)");
    gc_gan_free(&gan);
}
END_TEST

/* ---- the labels steer G and D --------------------------------------------------- */

/* G's first layer adds e[label] to the dense output, D's head adds
 * <e[label], features>: checked exactly through the layer outputs, and the
 * images and logits change with the class. */
START_TEST(test_labels_matter)
{
    gc_gan_config c = small_config(GC_MODEL_DCGAN);
    gc_gan gan;
    int n = 4;
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, n));
    GT_OK(gc_gan_init_params(&gan, gt_seed()));
    /* G: the same noise for every image, classes 0, 1, 2, 0. */
    float *z1 = gt_rand_array(c.latent, -1, 1);
    float *z = malloc((size_t)(n * c.latent) * sizeof(float));
    for (int i = 0; i < n; i++)
        memcpy(z + i * c.latent, z1, (size_t)c.latent * sizeof(float));
    gc_tensor zt = gt_tensor(gt_cpu(), GT_DIMS(n, c.latent), z);
    float lab[4] = {0, 1, 2, 0};
    set_labels(&gan.g, n, lab);
    GT_OK(gc_seq_forward(&gan.g, &zt, n, 0));
    gc_tensor h0 = gc_seq_layer_output(&gan.g, 0, n),
              e = gc_layer_class_table(&gan.g, 0, gan.g.params);
    gc_tensor img = gc_seq_output(&gan.g, n);
    float *h = gt_read(&h0), *eh = gt_read(&e), *im = gt_read(&img);
    int64_t f = e.shape[1], per = gc_tensor_numel(&img) / n;
    for (int i = 1; i < n; i++) {
        int k = (int)lab[i];
        for (int64_t j = 0; j < f; j++) {
            float want = eh[k * f + j] - eh[j];
            ck_assert_msg(fabsf(h[i * f + j] - h[j] - want) <= 1e-6f + 1e-5f * fabsf(want),
                          "G layer 0, class %d: offset %g, expected %g", k, h[i * f + j] - h[j],
                          want);
        }
        gt_diff d = gt_compare(im + i * per, im, per);
        if (k)
            ck_assert_msg(d.nerr > 1e-3, "class %d draws the image of class 0", k);
        else
            ck_assert_msg(d.nerr == 0, "the same class and noise, another image");
    }
    free(h), free(eh), free(im);

    /* D: one image four times, classes 0, 1, 2, 0. */
    int64_t npix = (int64_t)c.channels * c.height * c.width;
    float *x1 = gt_rand_array(npix, -1, 1), *x = malloc((size_t)(n * npix) * sizeof(float));
    for (int i = 0; i < n; i++)
        memcpy(x + i * npix, x1, (size_t)npix * sizeof(float));
    gc_tensor xt = gt_tensor(gt_cpu(), GT_DIMS(n, c.channels, c.height, c.width), x);
    set_labels(&gan.d, n, lab);
    GT_OK(gc_seq_forward(&gan.d, &xt, n, 0));
    int di = last_dense(&gan.d);
    gc_tensor feat = gc_seq_layer_output(&gan.d, di - 1, n), out = gc_seq_output(&gan.d, n);
    e = gc_layer_class_table(&gan.d, di, gan.d.params);
    float *fh = gt_read(&feat), *oh = gt_read(&out);
    eh = gt_read(&e);
    f = e.shape[1];
    for (int i = 1; i < n; i++) {
        int k = (int)lab[i];
        double want = 0, scale = 0;
        for (int64_t j = 0; j < f; j++) {
            want += ((double)eh[k * f + j] - eh[j]) * fh[j];
            scale += fabs((double)eh[k * f + j] * fh[j]) + fabs((double)eh[j] * fh[j]);
        }
        ck_assert_msg(fabs(oh[i] - oh[0] - want) <= 1e-5 * scale + 1e-7,
                      "D logit, class %d vs 0: %g, expected %g", k, oh[i] - oh[0], want);
        if (k) ck_assert_msg(oh[i] != oh[0], "D's logit ignores the label");
    }
    free(fh), free(oh), free(eh), free(z1), free(z), free(x1), free(x);
    gc_gan_free(&gan);
}
END_TEST

/* gc_gan_sample on a conditional GAN is sample_classes with class i % K;
 * explicit labels give the same images; batching does not matter. */
START_TEST(test_sample_classes)
{
    gc_gan_config c = small_config(GC_MODEL_DCGAN);
    gc_gan a, b;
    GT_OK(gc_gan_init(&a, gt_cpu(), &c, 7));
    GT_OK(gc_gan_init(&b, gt_cpu(), &c, 2));
    GT_OK(gc_gan_init_params(&a, 3));
    GT_OK(gc_gan_init_params(&b, 3));
    int n = 7;
    int64_t per = (int64_t)c.height * c.width;
    float *ya = malloc((size_t)(n * per) * sizeof(float)),
          *yb = malloc((size_t)(n * per) * sizeof(float)),
          *yc = malloc((size_t)(n * per) * sizeof(float));
    int32_t lab[7], other[7];
    for (int i = 0; i < n; i++)
        lab[i] = i % K, other[i] = (i + 1) % K;
    gc_rng ra = {9, 0}, rb = {9, 0}, rc = {9, 0};
    GT_OK(gc_gan_sample(&a, &ra, n, ya));
    GT_OK(gc_gan_sample_classes(&b, &rb, n, lab, yb));
    gt_assert_close(yb, ya, n * per, 1e-6, "sample vs sample_classes(i % K), batches of 7 vs 2");
    GT_OK(gc_gan_sample_classes(&a, &rc, n, other, yc));
    ck_assert(ra.offset == rb.offset && rb.offset == rc.offset);
    for (int i = 0; i < n; i++)
        ck_assert_msg(gt_compare(yc + i * per, ya + i * per, per).nerr > 1e-3,
                      "image %d: another class, the same image", i);
    free(ya), free(yb), free(yc);
    gc_gan_free(&a);
    gc_gan_free(&b);
}
END_TEST

/* ---- checkpoints ------------------------------------------------------------------ */

/* A conditional trainer's checkpoint: "classes" in the config, the class
 * tables under their names and shapes, and everything (Adam moments of the
 * tables included) back after loading; an unconditional one has no
 * "classes" key at all. */
START_TEST(test_checkpoint_round_trip)
{
    enum { N = 12, H = 8, W = 12 };
    gc_train_config cfg = gc_train_default_config(GC_MODEL_SEED);
    cfg.model = small_config(GC_MODEL_SEED);
    cfg.batch = 4;
    cfg.seed = gt_seed();
    uint8_t img[N * H * W];
    int32_t lab[N];
    for (int i = 0; i < N * H * W; i++)
        img[i] = (uint8_t)gt_randint(0, 255);
    for (int i = 0; i < N; i++)
        lab[i] = gt_randint(0, K - 1);
    const char *path = gt_tmp_path("cond.safetensors");
    gc_trainer a, b;
    GT_OK(gc_trainer_init_labelled(&a, gt_cpu(), &cfg, img, lab, N, H, W));
    for (int i = 0; i < 3; i++)
        GT_OK(gc_trainer_step(&a));
    GT_OK(gc_trainer_save(&a, path));

    gc_train_config saved;
    GT_OK(gc_checkpoint_config(path, &saved));
    ck_assert(!memcmp(&saved.model, &a.cfg.model, sizeof cfg.model) && saved.model.classes == K);

    gc_st_file *f;
    GT_OK(gc_st_load(path, 0, &f));
    int di = last_dense(&a.gan.d);
    char name[32];
    snprintf(name, sizeof name, "D.%d.class_embed", di);
    const gc_st_tensor *tg = gc_st_find(f, "G.0.class_embed"), *td = gc_st_find(f, name);
    ck_assert(tg && td && tg->ndim == 2 && td->ndim == 2);
    ck_assert(tg->shape[0] == K && tg->shape[1] == a.gan.g.layers[0].e_n / K);
    ck_assert(td->shape[0] == K && td->shape[1] == a.gan.d.layers[di].e_n / K);
    gc_tensor e = gc_layer_class_table(&a.gan.g, 0, a.gan.g.params);
    float *eh = gt_read(&e);
    ck_assert(!memcmp(eh, tg->data, tg->nbytes));
    free(eh);
    gc_st_free(f);

    GT_OK(gc_trainer_init_labelled(&b, gt_cpu(), &saved, img, lab, N, H, W));
    GT_OK(gc_trainer_load(&b, path));
    const gc_seq *sa[2] = {&a.gan.g, &a.gan.d}, *sb[2] = {&b.gan.g, &b.gan.d};
    for (int i = 0; i < 2; i++) {
        gc_tensor ta[3] = {gc_seq_params(sa[i]), gc_seq_adam_m(sa[i]), gc_seq_adam_v(sa[i])};
        gc_tensor tb[3] = {gc_seq_params(sb[i]), gc_seq_adam_m(sb[i]), gc_seq_adam_v(sb[i])};
        for (int k = 0; k < 3; k++) {
            float *x = gt_read(&ta[k]), *y = gt_read(&tb[k]);
            ck_assert_msg(!memcmp(x, y, (size_t)gc_tensor_numel(&ta[k]) * sizeof(float)),
                          "%s buffer %d differs after loading", i ? "D" : "G", k);
            free(x), free(y);
        }
    }
    /* Adam ran over the table whenever it ran over the layer's weight.  (A
     * tiny random D can pass no gradient back to G at all: all of its ReLUs
     * dead on the fakes; then both stay 0.) */
    const gc_layer *l = &a.gan.g.layers[0];
    gc_tensor m = gc_layer_class_table(&a.gan.g, 0, a.gan.g.adam_m);
    gc_tensor mw = gc_layer_weight(&a.gan.g, 0, a.gan.g.adam_m);
    float *mh = gt_read(&m), *mwh = gt_read(&mw);
    int moved = 0, w_moved = 0;
    for (int64_t i = 0; i < l->e_n; i++)
        moved |= mh[i] != 0;
    for (int64_t i = 0; i < l->w_n; i++)
        w_moved |= mwh[i] != 0;
    ck_assert_msg(moved == w_moved, "G's first weight %s Adam moments, its class table %s",
                  w_moved ? "has" : "has no", moved ? "has" : "has none");
    free(mh);
    free(mwh);
    gc_trainer_free(&b);

    /* Sampling from the loaded GAN alone. */
    gc_gan g;
    GT_OK(gc_gan_init(&g, gt_cpu(), &saved.model, 4));
    uint64_t fixed;
    GT_OK(gc_checkpoint_load_gan(path, &g, &fixed));
    int64_t per = (int64_t)H * W;
    float *ya = malloc((size_t)(4 * per) * sizeof(float)),
          *yb = malloc((size_t)(4 * per) * sizeof(float));
    gc_rng r1 = {5, 0}, r2 = {5, 0};
    GT_OK(gc_gan_sample_classes(&a.gan, &r1, 4, (int32_t[]){2, 1, 0, 2}, ya));
    GT_OK(gc_gan_sample_classes(&g, &r2, 4, (int32_t[]){2, 1, 0, 2}, yb));
    gt_assert_close(yb, ya, 4 * per, 0, "samples of the loaded GAN");
    free(ya), free(yb);
    gc_gan_free(&g);

    /* An unconditional GAN cannot load it (no table to put it in would be
     * fine, but a missing one is not): the shapes must match. */
    gc_gan_config u = saved.model;
    u.classes = K + 1;
    GT_OK(gc_gan_init(&g, gt_cpu(), &u, 4));
    ck_assert_int_eq(gc_checkpoint_load_gan(path, &g, NULL), GC_ERR_FORMAT);
    gc_gan_free(&g);
    gc_trainer_free(&a);

    /* Unconditional: no "classes" key, and the config reads back as 0. */
    cfg.model.classes = 0;
    GT_OK(gc_trainer_init(&a, gt_cpu(), &cfg, img, N, H, W));
    GT_OK(gc_trainer_save(&a, path));
    gc_trainer_free(&a);
    GT_OK(gc_st_load(path, 0, &f));
    ck_assert(!strstr(gc_st_metadata(f, "config"), "classes"));
    ck_assert(!gc_st_find(f, "G.0.class_embed"));
    gc_st_free(f);
    GT_OK(gc_checkpoint_config(path, &saved));
    ck_assert_int_eq(saved.model.classes, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cond_gan");
    TCase *tc = tcase_create("cond_gan");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, gt_tmp_setup, gt_tmp_teardown);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_config_and_plan_errors);
    tcase_add_test(tc, test_cpu_vs_cl);
    tcase_add_test(tc, test_gradients);
    tcase_add_test(tc, test_labels_matter);
    tcase_add_test(tc, test_sample_classes);
    tcase_add_test(tc, test_checkpoint_round_trip);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

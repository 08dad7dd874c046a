/* tests/test_diversity.c - the collapse diagnostic (gc_trainer_diversity)
 * on the CPU and OpenCL backends, gray and colour, plain, conditional and
 * with spectral norm plus minibatch stddev: the real side against a host
 * recomputation from D features this test gets by running D itself; a G
 * whose samples are all the same gives 0; nothing of the run changes (a
 * run with the diagnostic between steps ends bit for bit where one
 * without ends); and its log, diversity.csv and diversity.png, across a
 * reopen. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_support.h"

#define H        8
#define W        12
#define N_IMAGES 23
#define BATCH    5
#define CLASSES  3
#define N_DIV    13 /* above one batch of D and not a multiple of it */

typedef struct variant {
    const char *name;
    /* remedies: spectral norm, minibatch stddev, hinge loss, DiffAugment
     * and an EMA of G (whose weights the samples then come from) */
    int channels, conditional, remedies;
} variant;

static const variant variants[] = {
    {"gray", 1, 0, 0},
    {"colour", 3, 0, 0},
    {"colour conditional", 3, 1, 0},
    {"colour with the remedies", 3, 0, 1},
    {"gray conditional with the remedies", 1, 1, 1},
};
#define N_VARIANTS ((int)(sizeof variants / sizeof variants[0]))

/* A trainer and the data it borrows. */
typedef struct fixture {
    gc_trainer tr;
    uint8_t *images;
    int32_t *labels;
} fixture;

static gc_train_config small_config(const variant *v, uint64_t seed)
{
    gc_train_config c = gc_train_default_config(GC_MODEL_DCGAN);
    c.model.latent = 5;
    c.model.g_width = 6;
    c.model.d_width = 3;
    c.model.height = H;
    c.model.width = W;
    c.model.channels = v->channels;
    c.model.classes = v->conditional ? CLASSES : 0;
    c.model.spectral_norm = v->remedies;
    c.model.mbstd = v->remedies ? 2 : 0;
    if (v->remedies) {
        c.loss = GC_LOSS_HINGE;
        c.diffaug = GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT;
        c.ema = 0.9f;
    }
    c.batch = BATCH;
    c.seed = seed;
    c.check_every = 0;
    return c;
}

/* Random images (or all the same one when same) and labels. */
static void fixture_init(fixture *f, gc_backend *be, const variant *v, uint64_t seed, int same)
{
    int64_t per = (int64_t)v->channels * H * W;
    f->images = malloc((size_t)(N_IMAGES * per));
    f->labels = v->conditional ? malloc(N_IMAGES * sizeof *f->labels) : NULL;
    for (int64_t i = 0; i < N_IMAGES * per; i++)
        f->images[i] = same && i >= per ? f->images[i % per] : (uint8_t)gt_randint(0, 255);
    for (int i = 0; f->labels && i < N_IMAGES; i++)
        f->labels[i] = gt_randint(0, CLASSES - 1);
    gc_train_config c = small_config(v, seed);
    GT_OK(gc_trainer_init_labelled(&f->tr, be, &c, f->images, f->labels, N_IMAGES, H, W));
}

static void fixture_free(fixture *f)
{
    gc_trainer_free(&f->tr);
    free(f->images);
    free(f->labels);
}

/* The contract's feature layer: before D's last dense layer, skipping a
 * minibatch-stddev layer. */
static int feature_layer(const gc_seq *d)
{
    int last = -1;
    for (int i = 0; i < d->n_layers; i++)
        if (d->layers[i].d.kind == GC_LAYER_DENSE) last = i;
    ck_assert_int_ge(last, 1);
    int f = last - 1;
    if (d->layers[f].d.kind == GC_LAYER_MBSTD) f--;
    return f;
}

static double mean_pairwise(const float *x, int n, int64_t dim)
{
    double sum = 0;
    int pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++, pairs++) {
            double d2 = 0;
            for (int64_t k = 0; k < dim; k++) {
                double t = (double)x[i * dim + k] - x[j * dim + k];
                d2 += t * t;
            }
            sum += sqrt(d2);
        }
    return sum / pairs;
}

static void assert_rel(double got, double want, double tol, const char *what)
{
    ck_assert_msg(fabs(got - want) <= tol * fabs(want), "%s: %.12g, expected %.12g (tol %g)", what,
                  got, want, tol);
}

static void check_real(gc_backend *be, const variant *v)
{
    fixture f;
    fixture_init(&f, be, v, gt_seed(), 0);
    gc_trainer *tr = &f.tr;
    /* Running statistics and weights away from their initial values. */
    for (int i = 0; i < 2; i++)
        GT_OK(gc_trainer_step(tr));
    gc_diversity dv;
    GT_OK(gc_trainer_diversity(tr, N_DIV, &dv));

    /* The same real images through D in batches of 3 (the diagnostic uses
     * D's max_batch, 5): evaluation mode makes each image's features its
     * own, so only the GEMMs' blocking may differ -- rounding. */
    gc_seq *d = &tr->gan.d;
    int layer = feature_layer(d);
    const gc_layer *l = &d->layers[layer];
    int64_t per = (int64_t)v->channels * H * W, dim = l->out[0] * l->out[1] * l->out[2];
    float *px = malloc((size_t)(N_DIV * per) * sizeof(float));
    float *feat = malloc((size_t)(N_DIV * dim) * sizeof(float));
    float lab[3];
    for (int i = 0; i < N_DIV; i++) {
        int64_t idx = (int64_t)i * N_IMAGES / N_DIV;
        for (int64_t k = 0; k < per; k++)
            px[i * per + k] = -1.0f + (2.0f / 255.0f) * f.images[idx * per + k];
    }
    gc_tensor x = gt_tensor(be, GT_DIMS(3, v->channels, H, W), NULL);
    for (int done = 0; done < N_DIV; done += 3) {
        int b = N_DIV - done < 3 ? N_DIV - done : 3;
        gc_tensor xb = gc_tensor_4d(be, x.buf, x.off, b, v->channels, H, W);
        GT_OK(gc_tensor_write(&xb, px + done * per));
        if (v->conditional) {
            for (int i = 0; i < b; i++)
                lab[i] = (float)f.labels[(int64_t)(done + i) * N_IMAGES / N_DIV];
            gc_tensor lt = gc_seq_labels(d, b);
            GT_OK(gc_tensor_write(&lt, lab));
        }
        GT_OK(gc_seq_forward(d, &xb, b, 0));
        gc_tensor y = gc_seq_layer_output(d, layer, b);
        GT_OK(gc_tensor_read(&y, feat + done * dim));
    }
    double real = mean_pairwise(feat, N_DIV, dim), pix = mean_pairwise(px, N_DIV, per);
    ck_assert_msg(real > 0 && pix > 0, "%s: degenerate test data", v->name);
    assert_rel(dv.real, real, 1e-5, "real distance in D features");
    assert_rel(dv.pix_real, pix, 1e-12, "real distance in pixels");
    ck_assert_msg(isfinite(dv.fake) && dv.fake > 0 && isfinite(dv.pix_fake) && dv.pix_fake > 0,
                  "%s: generated distances %g, %g", v->name, dv.fake, dv.pix_fake);
    ck_assert(dv.ratio == dv.fake / dv.real);
    ck_assert(dv.pix_ratio == dv.pix_fake / dv.pix_real);

    /* n outside [2, n_images]. */
    ck_assert_int_eq(gc_trainer_diversity(tr, 1, &dv), GC_ERR_ARG);
    ck_assert_int_eq(gc_trainer_diversity(tr, N_IMAGES + 1, &dv), GC_ERR_ARG);
    GT_OK(gc_trainer_diversity(tr, N_IMAGES, &dv));
    gt_free(&x);
    free(px);
    free(feat);
    fixture_free(&f);
}

/* G's last transposed convolution with zero weights and a random bias
 * (in G's own parameters and in the EMA ones, where samples come from):
 * every sample is tanh(bias), so the generated side has distance 0.  And
 * a data set of one image repeated: real distance 0, ratios NaN. */
static void check_collapsed(gc_backend *be, const variant *v)
{
    fixture f;
    fixture_init(&f, be, v, gt_seed(), 0);
    gc_seq *g = &f.tr.gan.g;
    int last = -1;
    for (int i = 0; i < g->n_layers; i++)
        if (g->layers[i].d.kind == GC_LAYER_CONV_TRANSPOSE2D) last = i;
    ck_assert_int_ge(last, 0);
    gc_buffer *bufs[2] = {g->params, f.tr.ema_params};
    ck_assert(!v->remedies == !f.tr.ema_params);
    float *bias = NULL;
    for (int k = 0; k < 2 && bufs[k]; k++) {
        gc_tensor w = gc_layer_weight(g, last, bufs[k]), b = gc_layer_bias(g, last, bufs[k]);
        ck_assert_ptr_nonnull(b.buf);
        GT_OK(gc_fill(&w, 0));
        if (!bias) bias = gt_rand_array(gc_tensor_numel(&b), -1, 1);
        GT_OK(gc_tensor_write(&b, bias));
    }
    free(bias);
    gc_diversity dv;
    GT_OK(gc_trainer_diversity(&f.tr, N_DIV, &dv));
    ck_assert_msg(dv.fake == 0 && dv.pix_fake == 0, "%s: a collapsed G has distances %g, %g",
                  v->name, dv.fake, dv.pix_fake);
    ck_assert(dv.real > 0 && dv.pix_real > 0);
    ck_assert(dv.ratio == 0 && dv.pix_ratio == 0);
    fixture_free(&f);

    fixture_init(&f, be, v, gt_seed() + 1, 1);
    GT_OK(gc_trainer_diversity(&f.tr, N_DIV, &dv));
    ck_assert_msg(dv.real == 0 && dv.pix_real == 0, "%s: one image repeated: %g, %g", v->name,
                  dv.real, dv.pix_real);
    ck_assert(dv.fake > 0 && isnan(dv.ratio) && isnan(dv.pix_ratio));
    fixture_free(&f);
}

/* Every buffer of a network that outlives a step, as bytes. */
#define SNAP 8
typedef struct snapshot {
    float *t[SNAP];
    int64_t n[SNAP];
} snapshot;

/* ema: the trainer whose EMA buffers go with s (G), or NULL. */
static void snap(const gc_seq *s, const gc_trainer *ema, snapshot *out)
{
    gc_tensor t[SNAP] = {gc_seq_params(s), gc_seq_grads(s), gc_seq_adam_m(s),
                         gc_seq_adam_v(s), gc_seq_state(s), {0}};
    if (s->labels) t[5] = gc_seq_labels(s, s->max_batch);
    if (ema && ema->ema_params) t[6] = gc_tensor_1d(s->be, ema->ema_params, 0, s->n_params);
    if (ema && ema->ema_state && s->n_state)
        t[7] = gc_tensor_1d(s->be, ema->ema_state, 0, s->n_state);
    for (int k = 0; k < SNAP; k++) {
        out->n[k] = t[k].buf ? gc_tensor_numel(&t[k]) : 0;
        out->t[k] = out->n[k] ? gt_read(&t[k]) : NULL;
    }
}

static void assert_same(const snapshot *a, const snapshot *b, const char *what)
{
    static const char *const names[SNAP] = {"params", "grads",  "adam_m",     "adam_v",
                                            "state",  "labels", "EMA params", "EMA state"};
    for (int k = 0; k < SNAP; k++) {
        ck_assert_int_eq(a->n[k], b->n[k]);
        ck_assert_msg(!a->n[k] || !memcmp(a->t[k], b->t[k], (size_t)a->n[k] * sizeof(float)),
                      "%s: %s changed", what, names[k]);
    }
}

static void snap_free(snapshot *s)
{
    for (int k = 0; k < SNAP; k++)
        free(s->t[k]);
}

static void check_untouched(gc_backend *be, const variant *v)
{
    uint64_t seed = gt_seed();
    fixture a, b;
    fixture_init(&a, be, v, seed, 0);
    /* The same data for both runs. */
    fixture_init(&b, be, v, seed, 0);
    int64_t per = (int64_t)v->channels * H * W;
    memcpy(b.images, a.images, (size_t)(N_IMAGES * per));
    if (v->conditional) memcpy(b.labels, a.labels, N_IMAGES * sizeof *a.labels);

    /* One call right after a step: every buffer as it was. */
    GT_OK(gc_trainer_step(&b.tr));
    snapshot g0, d0, g1, d1;
    snap(&b.tr.gan.g, &b.tr, &g0);
    snap(&b.tr.gan.d, NULL, &d0);
    gc_train_state st = b.tr.st;
    gc_diversity dv;
    GT_OK(gc_trainer_diversity(&b.tr, N_DIV, &dv));
    snap(&b.tr.gan.g, &b.tr, &g1);
    snap(&b.tr.gan.d, NULL, &d1);
    assert_same(&g0, &g1, "G after the diagnostic");
    assert_same(&d0, &d1, "D after the diagnostic");
    ck_assert(!memcmp(&st, &b.tr.st, sizeof st));
    snap_free(&g0), snap_free(&d0), snap_free(&g1), snap_free(&d1);

    /* Steps across an epoch's end, the diagnostic between them in b only. */
    GT_OK(gc_trainer_step(&a.tr));
    for (int i = 0; i < 5; i++) {
        GT_OK(gc_trainer_step(&a.tr));
        GT_OK(gc_trainer_step(&b.tr));
        GT_OK(gc_trainer_diversity(&b.tr, i % 2 ? N_DIV : 2, &dv));
    }
    gc_train_stats sa, sb;
    GT_OK(gc_trainer_read_stats(&a.tr, &sa));
    GT_OK(gc_trainer_read_stats(&b.tr, &sb));
    ck_assert(!memcmp(&sa, &sb, sizeof sa));
    ck_assert(!memcmp(&a.tr.st, &b.tr.st, sizeof a.tr.st));
    snap(&a.tr.gan.g, &a.tr, &g0);
    snap(&a.tr.gan.d, NULL, &d0);
    snap(&b.tr.gan.g, &b.tr, &g1);
    snap(&b.tr.gan.d, NULL, &d1);
    assert_same(&g0, &g1, "G after a run with the diagnostic");
    assert_same(&d0, &d1, "D after a run with the diagnostic");
    snap_free(&g0), snap_free(&d0), snap_free(&g1), snap_free(&d1);
    fixture_free(&a);
    fixture_free(&b);
}

/* Loop index: variant, then check. */
static void run(gc_backend *be, int i)
{
    const variant *v = &variants[i % N_VARIANTS];
    switch (i / N_VARIANTS) {
    case 0: check_real(be, v); break;
    case 1: check_collapsed(be, v); break;
    default: check_untouched(be, v); break;
    }
}

START_TEST(diversity_cpu)
{
    run(gt_cpu(), _i);
}
END_TEST

START_TEST(diversity_cl)
{
    run(gt_cl(), _i);
}
END_TEST

/* ---- the log -------------------------------------------------------------- */

static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

START_TEST(log_keeps_rows)
{
    const char *dir = gt_tmp();
    gc_diversity_log log;
    gc_diversity rows[3] = {
        {10.5, 9.25, 9.25 / 10.5, 100, 80, 0.8},
        {11, 2, 2.0 / 11, 90, 30, 1.0 / 3},
        {0, 3, NAN, 0, 7, NAN},
    };
    GT_OK(gc_diversity_log_open(&log, dir, -1));
    char *text = gt_read_file(gt_tmp_path("diversity.csv"), NULL);
    ck_assert_str_eq(text,
                     "epoch,step,real,generated,ratio,pixel_ratio,pixel_real,pixel_generated\n");
    free(text);
    for (int i = 0; i < 3; i++)
        GT_OK(gc_diversity_log_add(&log, i, 10 * (i + 1), &rows[i]));
    gc_diversity_log_close(&log);
    text = gt_read_file(gt_tmp_path("diversity.csv"), NULL);
    ck_assert_int_eq(count_lines(text), 4);
    ck_assert_ptr_nonnull(strstr(text, "\n0,10,10.5,9.25,0.880952381,0.8,100,80\n"));
    ck_assert_ptr_nonnull(strstr(text, "\n2,30,0,3,nan,nan,0,7\n"));
    free(text);
    ck_assert_int_gt(gt_file_size(dir, "diversity.png"), 1000);

    /* A resumed run from step 20 keeps the first two rows. */
    remove(gt_tmp_path("diversity.png"));
    GT_OK(gc_diversity_log_open(&log, dir, 20));
    ck_assert_int_eq(log.n, 2);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(log.epoch[i], i);
        ck_assert_int_eq(log.step[i], 10 * (i + 1));
        assert_rel(log.rows[i].real, rows[i].real, 1e-8, "real");
        assert_rel(log.rows[i].fake, rows[i].fake, 1e-8, "generated");
        assert_rel(log.rows[i].ratio, rows[i].ratio, 1e-8, "ratio");
        assert_rel(log.rows[i].pix_ratio, rows[i].pix_ratio, 1e-8, "pixel ratio");
        assert_rel(log.rows[i].pix_real, rows[i].pix_real, 1e-8, "pixel real");
        assert_rel(log.rows[i].pix_fake, rows[i].pix_fake, 1e-8, "pixel generated");
    }
    ck_assert_int_gt(gt_file_size(dir, "diversity.png"), 1000);
    text = gt_read_file(gt_tmp_path("diversity.csv"), NULL);
    ck_assert_int_eq(count_lines(text), 3);
    free(text);
    GT_OK(gc_diversity_log_add(&log, 2, 30, &rows[1]));
    gc_diversity_log_close(&log);

    /* A fresh run starts afresh. */
    GT_OK(gc_diversity_log_open(&log, dir, -1));
    ck_assert_int_eq(log.n, 0);
    gc_diversity_log_close(&log);
    text = gt_read_file(gt_tmp_path("diversity.csv"), NULL);
    ck_assert_int_eq(count_lines(text), 1);
    free(text);

    /* A folder that is not there. */
    ck_assert_int_ne(gc_diversity_log_open(&log, gt_tmp_path("missing/deeper"), -1), GC_OK);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("diversity");
    TCase *cpu = tcase_create("cpu");
    tcase_set_timeout(cpu, 600);
    tcase_add_checked_fixture(cpu, gt_tmp_setup, gt_tmp_teardown);
    tcase_add_test(cpu, log_keeps_rows);
    tcase_add_loop_test(cpu, diversity_cpu, 0, 3 * N_VARIANTS);
    suite_add_tcase(s, cpu);
    if (!gt_cl()) {
        int rc = gt_run_suite(s);
        if (rc) return rc;
        gt_skip_no_opencl("test_diversity");
    }
    TCase *cl = tcase_create("opencl");
    tcase_set_timeout(cl, 600);
    tcase_add_loop_test(cl, diversity_cl, 0, 3 * N_VARIANTS);
    suite_add_tcase(s, cl);
    return gt_run_suite(s);
}

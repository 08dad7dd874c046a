/* tests/test_classifier.c - the classifier of gancl/classifier.h assembled:
 * it learns a procedural 10-class data set (CPU and OpenCL), its loss
 * falls, evaluation counts every image, training is reproducible, its file
 * round-trips and refuses what is not a classifier, CPU and OpenCL features
 * of one file agree, and bad arguments are refused with GC_ERR_ARG.  The
 * layers themselves (max pooling, dense, ...) are checked by their own
 * suites. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/classifier.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_support.h"

#define SIDE    12
#define CLASSES 10

/* Where class k's blob sits (its top-left corner before jitter): ten
 * places at least three pixels apart in x or y. */
static const int spot[CLASSES][2] = {{1, 1}, {1, 5}, {1, 8}, {5, 1}, {5, 5},
                                     {5, 8}, {8, 1}, {8, 5}, {8, 8}, {3, 3}};

/* A labelled set of n images: class i % 10 (so every class is present), a
 * 3x3 bright blob at its place moved by up to a pixel either way, of
 * random brightness, on uniform noise.  Fresh each run (gt_ randomness). */
static gc_dataset make_set(int64_t n, int side, int classes)
{
    gc_dataset ds = {0};
    ds.n = n, ds.c = 1, ds.h = side, ds.w = side, ds.classes = classes;
    ds.images = malloc((size_t)(n * side * side));
    ds.labels = malloc((size_t)n * sizeof *ds.labels);
    ck_assert(ds.images && ds.labels);
    for (int64_t i = 0; i < n; i++) {
        int k = (int)(i % classes);
        uint8_t *img = ds.images + i * side * side;
        for (int p = 0; p < side * side; p++)
            img[p] = (uint8_t)gt_randint(0, 90);
        int y0 = spot[k % CLASSES][0] + gt_randint(-1, 1),
            x0 = spot[k % CLASSES][1] + gt_randint(-1, 1);
        int v = gt_randint(150, 255);
        for (int y = y0; y < y0 + 3; y++)
            for (int x = x0; x < x0 + 3; x++)
                if (y >= 0 && y < side && x >= 0 && x < side) img[y * side + x] = (uint8_t)v;
        ds.labels[i] = k;
    }
    return ds;
}

static void free_set(gc_dataset *ds)
{
    free(ds->images);
    free(ds->labels);
    memset(ds, 0, sizeof *ds);
}

/* Images first .. first + n of ds as floats in [0, 1]. */
static float *to_floats(const gc_dataset *ds, int64_t first, int n)
{
    int64_t per = (int64_t)ds->c * ds->h * ds->w;
    float *x = malloc((size_t)(n * per) * sizeof(float));
    ck_assert(x);
    for (int64_t i = 0; i < n * per; i++)
        x[i] = ds->images[first * per + i] / 255.0f;
    return x;
}

typedef struct epochs_seen {
    int count, epochs;
    double loss[64], acc[64];
} epochs_seen;

static int record(void *ctx, int epoch, int epochs, double loss, double accuracy)
{
    epochs_seen *e = ctx;
    ck_assert_int_eq(epoch, e->count + 1);
    ck_assert_int_lt(e->count, 64);
    e->epochs = epochs;
    e->loss[e->count] = loss, e->acc[e->count] = accuracy;
    e->count++;
    return 0;
}

static gc_classifier make_net(gc_backend *be, int max_batch, uint64_t seed)
{
    gc_classifier net;
    gc_classifier_config cfg = gc_classifier_default_config(CLASSES, 1, SIDE, SIDE);
    GT_OK(gc_classifier_init(&net, be, &cfg, max_batch));
    GT_OK(gc_classifier_init_params(&net, seed));
    return net;
}

/* Accuracy of predictions counted on the host, in chunks of max_batch. */
static double predicted_accuracy(gc_classifier *net, const gc_dataset *ds)
{
    int mb = net->net.max_batch;
    int64_t right = 0;
    int32_t *cls = malloc((size_t)mb * sizeof *cls);
    for (int64_t i = 0; i < ds->n; i += mb) {
        int n = ds->n - i < mb ? (int)(ds->n - i) : mb;
        float *x = to_floats(ds, i, n);
        GT_OK(gc_classifier_predict(net, x, n, cls));
        for (int k = 0; k < n; k++) {
            ck_assert(cls[k] >= 0 && cls[k] < CLASSES);
            right += cls[k] == ds->labels[i + k];
        }
        free(x);
    }
    free(cls);
    return (double)right / (double)ds->n;
}

/* 300 training images (30 a class), 8 epochs of batches of 20: about 120
 * Adam steps.  The blobs sit a few pixels apart under +-1 pixel of jitter
 * and heavy noise, so the task is easy for a convolutional network but
 * not for chance (0.1); in trial runs held-out accuracy was 0.92 to 0.98
 * on both backends, so 0.8 leaves a wide margin while still failing any
 * network that does not learn (a broken gradient stays near 0.1-0.3).  The
 * 103 held-out images (3 batches of 32 and 7 more) check the partial
 * last batch of the evaluation. */
static void learns(gc_backend *be)
{
    gc_dataset train = make_set(300, SIDE, CLASSES), test = make_set(103, SIDE, CLASSES);
    gc_classifier net = make_net(be, 32, gt_seed());
    gc_classify_train_config tc = gc_classify_default_train_config();
    tc.epochs = 8, tc.batch = 20, tc.lr = 2e-3f, tc.seed = gt_seed() + 1;
    epochs_seen seen = {0};
    double acc0, loss0;
    GT_OK(gc_classifier_evaluate(&net, &test, &acc0, &loss0));
    GT_OK(gc_classifier_train(&net, &train, &tc, record, &seen));
    ck_assert_int_eq(seen.count, 8);
    ck_assert_int_eq(seen.epochs, 8);
    ck_assert_int_eq(net.step, 8 * (300 / 20));
    for (int e = 0; e < seen.count; e++) {
        ck_assert(isfinite(seen.loss[e]) && seen.loss[e] > 0);
        ck_assert(seen.acc[e] >= 0 && seen.acc[e] <= 1);
        /* Training accuracy counts whole batches: a multiple of 1/300. */
        double right = seen.acc[e] * 300;
        ck_assert_msg(fabs(right - round(right)) < 1e-6, "accuracy %g", seen.acc[e]);
    }
    /* The untrained network sits near ln 10 = 2.30; a learning one far
     * below after a few epochs. */
    ck_assert_msg(loss0 > 1.8 && loss0 < 3.0, "initial loss %g", loss0);
    ck_assert_msg(seen.loss[seen.count - 1] < 0.5 * seen.loss[0], "loss %g -> %g", seen.loss[0],
                  seen.loss[seen.count - 1]);
    ck_assert_msg(seen.loss[seen.count - 1] < 0.5, "final training loss %g",
                  seen.loss[seen.count - 1]);
    double acc, loss;
    GT_OK(gc_classifier_evaluate(&net, &test, &acc, &loss));
    printf("%s: training loss %.3f -> %.3f, held-out accuracy %.3f (loss %.3f)\n",
           gc_backend_name(be), seen.loss[0], seen.loss[seen.count - 1], acc, loss);
    ck_assert_msg(acc > 0.8, "held-out accuracy %g (chance 0.1)", acc);
    ck_assert_msg(loss < 0.6 && loss < loss0, "held-out loss %g (untrained %g)", loss, loss0);
    /* Evaluation counts every image: exactly what predictions say. */
    double pacc = predicted_accuracy(&net, &test);
    ck_assert_msg(fabs(pacc - acc) < 1e-9, "evaluate %g, predict %g", acc, pacc);
    /* Either pointer may be NULL. */
    double acc2;
    GT_OK(gc_classifier_evaluate(&net, &test, &acc2, NULL));
    ck_assert(acc2 == acc);
    GT_OK(gc_classifier_evaluate(&net, &test, NULL, NULL));
    gc_classifier_free(&net);
    free_set(&train);
    free_set(&test);
}

START_TEST(t_learns_cpu)
{
    learns(gt_cpu());
}
END_TEST

START_TEST(t_learns_opencl)
{
    if (!gt_cl()) gt_skip_no_opencl("classifier learns (OpenCL)");
    learns(gt_cl());
}
END_TEST

/* Same seeds, same weights, bit for bit; another shuffle seed, others.
 * With classic augmentation, the same again: two runs agree with each
 * other and differ from the run without it. */
START_TEST(t_reproducible)
{
    gc_dataset train = make_set(64, SIDE, CLASSES);
    gc_classify_train_config tc = gc_classify_default_train_config();
    tc.epochs = 2, tc.batch = 16, tc.seed = 99;
    float *p[5];
    int64_t np = 0;
    for (int run = 0; run < 5; run++) {
        gc_classifier net = make_net(gt_cpu(), 16, 7);
        tc.seed = run == 2 ? 100 : 99;
        if (run >= 3) GT_OK(gc_image_aug_parse("classic,flip", &tc.aug));
        GT_OK(gc_classifier_train(&net, &train, &tc, NULL, NULL));
        ck_assert_int_eq(net.step, 8);
        gc_tensor w = gc_seq_params(&net.net);
        np = gc_tensor_numel(&w);
        p[run] = gt_read(&w);
        gc_classifier_free(&net);
    }
    size_t bytes = (size_t)np * sizeof(float);
    ck_assert(memcmp(p[0], p[1], bytes) == 0);
    ck_assert(memcmp(p[0], p[2], bytes) != 0);
    ck_assert(memcmp(p[3], p[4], bytes) == 0);
    ck_assert(memcmp(p[0], p[3], bytes) != 0);
    for (int i = 0; i < 5; i++)
        free(p[i]);
    free_set(&train);
}
END_TEST

static const char *const names[CLASSES] = {"zero", "one", "two",   "three", "four",
                                           "five", "six", "seven", "eight", "nine \"9\""};

/* A classifier with trained (not freshly drawn) weights, saved to path. */
static gc_classifier trained_net(gc_backend *be, const char *path, const char *const *cn)
{
    gc_dataset train = make_set(40, SIDE, CLASSES);
    gc_classifier net = make_net(be, 20, gt_seed());
    gc_classify_train_config tc = gc_classify_default_train_config();
    tc.epochs = 1, tc.batch = 20;
    GT_OK(gc_classifier_train(&net, &train, &tc, NULL, NULL));
    GT_OK(gc_classifier_save(&net, path, cn));
    free_set(&train);
    return net;
}

START_TEST(t_save_load)
{
    const char *path = gt_tmp_path("c.safetensors");
    gc_classifier a = trained_net(gt_cpu(), path, names), b;
    /* Another batch size: the file does not fix it. */
    GT_OK(gc_classifier_load(&b, gt_cpu(), path, 7));
    ck_assert_int_eq(b.net.max_batch, 7);
    ck_assert(memcmp(&a.cfg, &b.cfg, sizeof a.cfg) == 0);
    ck_assert_int_eq(b.feature_layer, a.feature_layer);
    ck_assert_ptr_nonnull(b.class_names);
    for (int i = 0; i < CLASSES; i++)
        ck_assert_str_eq(b.class_names[i], names[i]);
    gc_tensor pa = gc_seq_params(&a.net), pb = gc_seq_params(&b.net);
    ck_assert_int_eq(gc_tensor_numel(&pa), gc_tensor_numel(&pb));
    float *wa = gt_read(&pa), *wb = gt_read(&pb);
    ck_assert(memcmp(wa, wb, (size_t)gc_tensor_numel(&pa) * sizeof(float)) == 0);

    gc_dataset ds = make_set(7, SIDE, CLASSES);
    float *x = to_floats(&ds, 0, 7);
    int d = gc_classifier_feature_dims(&a);
    ck_assert_int_eq(d, 128);
    ck_assert_int_eq(gc_classifier_feature_dims(&b), d);
    float *fa = malloc(7 * (size_t)d * sizeof(float)), *fb = malloc(7 * (size_t)d * sizeof(float));
    for (int i = 0; i < 7 * d; i++)
        fa[i] = fb[i] = NAN;
    GT_OK(gc_classifier_features(&a, x, 7, fa));
    GT_OK(gc_classifier_features(&b, x, 7, fb));
    /* The same weights, backend and inputs: the same bits. */
    ck_assert(memcmp(fa, fb, 7 * (size_t)d * sizeof(float)) == 0);
    int nonzero = 0;
    for (int i = 0; i < 7 * d; i++) {
        ck_assert(isfinite(fa[i]) && fa[i] >= 0); /* after a ReLU */
        nonzero += fa[i] > 0;
    }
    ck_assert_int_gt(nonzero, 7 * d / 10);
    int32_t ca[7], cb[7];
    GT_OK(gc_classifier_predict(&a, x, 7, ca));
    GT_OK(gc_classifier_predict(&b, x, 7, cb));
    ck_assert(memcmp(ca, cb, sizeof ca) == 0);
    double acc_a, loss_a, acc_b, loss_b;
    GT_OK(gc_classifier_evaluate(&a, &ds, &acc_a, &loss_a));
    GT_OK(gc_classifier_evaluate(&b, &ds, &acc_b, &loss_b));
    ck_assert(acc_a == acc_b);
    ck_assert_msg(fabs(loss_a - loss_b) <= 1e-6 * loss_a, "loss %g vs %g", loss_a, loss_b);

    /* Without names, none come back. */
    GT_OK(gc_classifier_save(&a, path, NULL));
    gc_classifier c;
    GT_OK(gc_classifier_load(&c, gt_cpu(), path, 3));
    ck_assert_ptr_null(c.class_names);
    gc_classifier_free(&c);

    /* A loaded classifier trains on. */
    gc_classify_train_config tc = gc_classify_default_train_config();
    tc.epochs = 1, tc.batch = 7;
    GT_OK(gc_classifier_train(&b, &ds, &tc, NULL, NULL));
    ck_assert_int_eq(b.step, 1);

    free(wa), free(wb), free(fa), free(fb), free(x);
    free_set(&ds);
    gc_classifier_free(&a);
    gc_classifier_free(&b);
}
END_TEST

/* One file, both backends: features within fp32 op-vs-op tolerance; the
 * mean loss over a set likewise. */
START_TEST(t_cpu_vs_opencl)
{
    if (!gt_cl()) gt_skip_no_opencl("classifier CPU vs OpenCL");
    const char *path = gt_tmp_path("c.safetensors");
    gc_classifier a = trained_net(gt_cpu(), path, NULL), b;
    GT_OK(gc_classifier_load(&b, gt_cl(), path, 25));
    gc_dataset ds = make_set(25, SIDE, CLASSES);
    float *x = to_floats(&ds, 0, 25);
    int d = gc_classifier_feature_dims(&a);
    float *fa = malloc(25 * (size_t)d * sizeof(float)),
          *fb = malloc(25 * (size_t)d * sizeof(float));
    for (int i = 0; i < 25 * d; i++)
        fa[i] = fb[i] = NAN;
    GT_OK(gc_classifier_features(&a, x, 19, fa));
    GT_OK(gc_classifier_features(&b, x, 19, fb));
    gt_assert_close(fb, fa, 19 * d, 1e-5, "features, OpenCL vs CPU");
    double acc_a, loss_a, acc_b, loss_b;
    GT_OK(gc_classifier_evaluate(&a, &ds, &acc_a, &loss_a));
    GT_OK(gc_classifier_evaluate(&b, &ds, &acc_b, &loss_b));
    ck_assert_msg(fabs(loss_a - loss_b) <= 1e-5 * loss_a, "loss %g vs %g", loss_a, loss_b);
    /* Initialisation draws device-side Philox: the same numbers on both. */
    gc_classifier c = make_net(gt_cpu(), 2, 42), e = make_net(gt_cl(), 2, 42);
    gc_tensor pc = gc_seq_params(&c.net), pe = gc_seq_params(&e.net);
    gt_assert_tensors_close(&pe, &pc, 1e-6, "initial parameters, OpenCL vs CPU");
    gc_classifier_free(&c);
    gc_classifier_free(&e);
    free(fa), free(fb), free(x);
    free_set(&ds);
    gc_classifier_free(&a);
    gc_classifier_free(&b);
}
END_TEST

/* ---- files that are not classifiers ---- */

static void expect_refused(const char *path, gc_status want, const char *phrase)
{
    gc_classifier c;
    memset(&c, 0xAB, sizeof c);
    gc_status s = gc_classifier_load(&c, gt_cpu(), path, 4);
    ck_assert_msg(s == want, "%s: status %s, wanted %s (%s)", path, gc_status_name(s),
                  gc_status_name(want), gc_last_error());
    ck_assert_msg(strstr(gc_last_error(), path) && strstr(gc_last_error(), phrase),
                  "message '%s' lacks the path or '%s'", gc_last_error(), phrase);
    ck_assert_msg(!strchr(gc_last_error(), '\n'), "a multi-line message");
    /* Nothing is left to free, and freeing is harmless. */
    ck_assert_ptr_null(c.be);
    ck_assert_ptr_null(c.class_names);
    gc_classifier_free(&c);
}

/* Rewrites the good file src into dst with its tensors, with metadata
 * meta (nmeta), minus tensor `drop` (or NULL), with tensor `poison`'s
 * first value NaN (or NULL), plus an extra tensor when extra. */
static void rewrite(const char *src, const char *dst, const gc_st_kv *meta, int nmeta,
                    const char *drop, const char *poison, int extra)
{
    gc_st_file *f;
    GT_OK(gc_st_load(src, 0, &f));
    gc_st_tensor t[16];
    float *copies[16] = {0};
    int n = 0;
    for (int i = 0; i < gc_st_count(f); i++) {
        const gc_st_tensor *g = gc_st_at(f, i);
        if (drop && !strcmp(g->name, drop)) continue;
        t[n] = *g;
        if (poison && !strcmp(g->name, poison)) {
            copies[n] = malloc(g->nbytes);
            memcpy(copies[n], g->data, g->nbytes);
            copies[n][0] = NAN;
            t[n].data = copies[n];
        }
        n++;
    }
    static const float one = 1;
    if (extra)
        t[n++] = (gc_st_tensor){
            .name = "extra", .dtype = GC_ST_F32, .ndim = 1, .shape = {1}, .data = &one};
    GT_OK(gc_st_write(dst, t, n, meta, nmeta));
    for (int i = 0; i < n; i++)
        free(copies[i]);
    gc_st_free(f);
}

START_TEST(t_bad_files)
{
    const char *good = gt_tmp_path("good.safetensors"), *bad = gt_tmp_path("bad.safetensors");
    gc_classifier net = trained_net(gt_cpu(), good, names);
    gc_classifier_free(&net);
    char cfg[256];
    snprintf(cfg, sizeof cfg,
             "{\"model\":\"classifier\",\"classes\":%d,\"channels\":1,\"height\":%d,\"width\":%d,"
             "\"features\":128}",
             CLASSES, SIDE, SIDE);
    /* The file itself is sound: rewritten as is, it loads. */
    gc_st_kv ok_meta[] = {{"format", GC_CLASSIFIER_FORMAT}, {"config", cfg}};
    rewrite(good, bad, ok_meta, 2, NULL, NULL, 0);
    GT_OK(gc_classifier_load(&net, gt_cpu(), bad, 2));
    gc_classifier_free(&net);

    /* A GAN checkpoint, and a safetensors file of someone else's. */
    gc_st_kv gan[] = {{"format", GC_CHECKPOINT_FORMAT}, {"config", "{}"}};
    rewrite(good, bad, gan, 2, NULL, NULL, 0);
    expect_refused(bad, GC_ERR_FORMAT, "not a gancl classifier");
    rewrite(good, bad, NULL, 0, NULL, NULL, 0);
    expect_refused(bad, GC_ERR_FORMAT, "not a gancl classifier");

    /* Configurations that are malformed or do not match the tensors. */
    const char *configs[][2] = {
        {NULL, "no \"config\""},
        {"[1, 2]", "not a JSON object"},
        {"{\"model\":\"dcgan\",\"classes\":10,\"channels\":1,\"height\":12,\"width\":12,"
         "\"features\":128}",
         "\"model\""},
        {"{\"model\":\"classifier\",\"channels\":1,\"height\":12,\"width\":12,\"features\":128}",
         "\"classes\" is missing"},
        {"{\"model\":\"classifier\",\"classes\":1e300,\"channels\":1,\"height\":12,\"width\":12,"
         "\"features\":128}",
         "\"classes\""},
        {"{\"model\":\"classifier\",\"classes\":10,\"channels\":1,\"height\":14,\"width\":12,"
         "\"features\":128}",
         "multiples of 4"},
        {"{\"model\":\"classifier\",\"classes\":9,\"channels\":1,\"height\":12,\"width\":12,"
         "\"features\":128}",
         "8.weight"},
        {"{\"model\":\"classifier\",\"classes\":10,\"channels\":1,\"height\":16,\"width\":12,"
         "\"features\":128}",
         "6.weight"},
        {"{\"model\":\"classifier\",\"classes\":10,\"channels\":2,\"height\":12,\"width\":12,"
         "\"features\":128}",
         "0.weight"},
        {"{\"model\":\"classifier\",\"classes\":10,\"channels\":1,\"height\":12,\"width\":12,"
         "\"features\":1000000000}",
         "\"features\""},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        gc_st_kv meta[] = {{"format", GC_CLASSIFIER_FORMAT}, {"config", configs[i][0]}};
        rewrite(good, bad, meta, configs[i][0] ? 2 : 1, NULL, NULL, 0);
        expect_refused(bad, GC_ERR_FORMAT, configs[i][1]);
    }
    /* Tensors missing, extra or not finite. */
    rewrite(good, bad, ok_meta, 2, "3.bias", NULL, 0);
    expect_refused(bad, GC_ERR_FORMAT, "3.bias is missing");
    rewrite(good, bad, ok_meta, 2, NULL, NULL, 1);
    expect_refused(bad, GC_ERR_FORMAT, "9 tensors");
    rewrite(good, bad, ok_meta, 2, NULL, "6.weight", 0);
    expect_refused(bad, GC_ERR_FORMAT, "NaN");
    /* Class names that are not CLASSES strings. */
    const char *bad_names[] = {"[\"a\"]", "{}", "[1,2,3,4,5,6,7,8,9,10]", "not json"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        gc_st_kv meta[] = {
            {"format", GC_CLASSIFIER_FORMAT}, {"config", cfg}, {"class_names", bad_names[i]}};
        rewrite(good, bad, meta, 3, NULL, NULL, 0);
        expect_refused(bad, GC_ERR_FORMAT, "class");
    }
    /* Not safetensors at all; not there. */
    gt_write_file(bad, "GIF89a not a model", 18);
    gc_classifier c;
    ck_assert_int_eq(gc_classifier_load(&c, gt_cpu(), bad, 2), GC_ERR_FORMAT);
    ck_assert_int_eq(gc_classifier_load(&c, gt_cpu(), gt_tmp_path("missing"), 2), GC_ERR_IO);
}
END_TEST

/* ---- arguments ---- */

START_TEST(t_bad_args)
{
    gc_classifier_config cfg = gc_classifier_default_config(CLASSES, 1, SIDE, SIDE);
    GT_OK(gc_classifier_config_check(&cfg));
    gc_classifier_config bad[] = {
        gc_classifier_default_config(1, 1, 28, 28),
        gc_classifier_default_config(1001, 1, 28, 28),
        gc_classifier_default_config(10, 0, 28, 28),
        gc_classifier_default_config(10, 5, 28, 28),
        gc_classifier_default_config(10, 1, 30, 28),
        gc_classifier_default_config(10, 1, 28, 0),
        gc_classifier_default_config(10, 1, 2048, 28),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(gc_classifier_config_check(&bad[i]), GC_ERR_ARG);
        gc_classifier c;
        ck_assert_int_eq(gc_classifier_init(&c, gt_cpu(), &bad[i], 4), GC_ERR_ARG);
    }
    cfg.features = 0;
    ck_assert_int_eq(gc_classifier_config_check(&cfg), GC_ERR_ARG);

    gc_classifier net = make_net(gt_cpu(), 8, 1);
    gc_classify_train_config tc = gc_classify_default_train_config();
    tc.epochs = 1, tc.batch = 8;
    double acc;
    /* Another image size. */
    gc_dataset big = make_set(16, 16, CLASSES);
    ck_assert_int_eq(gc_classifier_train(&net, &big, &tc, NULL, NULL), GC_ERR_ARG);
    ck_assert_int_eq(gc_classifier_evaluate(&net, &big, &acc, NULL), GC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "16x16"));
    /* Fewer classes: refused for training, fine for evaluation. */
    gc_dataset nine = make_set(18, SIDE, 9);
    ck_assert_int_eq(gc_classifier_train(&net, &nine, &tc, NULL, NULL), GC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "9 classes"));
    GT_OK(gc_classifier_evaluate(&net, &nine, &acc, NULL));
    /* More classes than the network. */
    gc_dataset eleven = make_set(22, SIDE, 11);
    ck_assert_int_eq(gc_classifier_evaluate(&net, &eleven, &acc, NULL), GC_ERR_ARG);
    /* A label out of range, no labels, too few images, bad batch or rate. */
    gc_dataset ds = make_set(20, SIDE, CLASSES);
    ds.labels[13] = CLASSES;
    ck_assert_int_eq(gc_classifier_train(&net, &ds, &tc, NULL, NULL), GC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "image 13"));
    ds.labels[13] = -1;
    ck_assert_int_eq(gc_classifier_evaluate(&net, &ds, &acc, NULL), GC_ERR_ARG);
    ds.labels[13] = 3;
    int32_t *labels = ds.labels;
    ds.labels = NULL;
    ck_assert_int_eq(gc_classifier_train(&net, &ds, &tc, NULL, NULL), GC_ERR_ARG);
    ds.labels = labels;
    ds.n = 7;
    ck_assert_int_eq(gc_classifier_train(&net, &ds, &tc, NULL, NULL), GC_ERR_ARG);
    ds.n = 20;
    tc.batch = 9;
    ck_assert_int_eq(gc_classifier_train(&net, &ds, &tc, NULL, NULL), GC_ERR_ARG);
    tc.batch = 0;
    ck_assert_int_eq(gc_classifier_train(&net, &ds, &tc, NULL, NULL), GC_ERR_ARG);
    tc.batch = 8, tc.lr = 0;
    ck_assert_int_eq(gc_classifier_train(&net, &ds, &tc, NULL, NULL), GC_ERR_ARG);
    tc.lr = NAN;
    ck_assert_int_eq(gc_classifier_train(&net, &ds, &tc, NULL, NULL), GC_ERR_ARG);
    ck_assert_int_eq(net.step, 0);
    /* Too many images for one call. */
    float *x = to_floats(&ds, 0, 9);
    int32_t cls[9];
    float *f = malloc(9 * 128 * sizeof(float));
    ck_assert_int_eq(gc_classifier_predict(&net, x, 9, cls), GC_ERR_ARG);
    ck_assert_int_eq(gc_classifier_features(&net, x, 0, f), GC_ERR_ARG);
    GT_OK(gc_classifier_features(&net, x, 8, f));
    free(x), free(f);
    free_set(&big), free_set(&nine), free_set(&eleven), free_set(&ds);
    gc_classifier_free(&net);
}
END_TEST

static int stop_after_two(void *ctx, int epoch, int epochs, double loss, double accuracy)
{
    (void)ctx, (void)epochs, (void)loss, (void)accuracy;
    return epoch == 2;
}

/* A progress function that says stop; a loss that becomes NaN. */
START_TEST(t_stop_and_diverge)
{
    gc_dataset ds = make_set(32, SIDE, CLASSES);
    gc_classifier net = make_net(gt_cpu(), 16, 3);
    gc_classify_train_config tc = gc_classify_default_train_config();
    tc.epochs = 5, tc.batch = 16;
    ck_assert_int_eq(gc_classifier_train(&net, &ds, &tc, stop_after_two, NULL), GC_ERR_INTERRUPTED);
    ck_assert_int_eq(net.step, 4);
    /* Parameters gone bad (as a too large learning rate leaves them). */
    gc_tensor w = gc_layer_weight(&net.net, 8, net.net.params);
    GT_OK(gc_fill(&w, NAN));
    gc_status s = gc_classifier_train(&net, &ds, &tc, NULL, NULL);
    ck_assert_msg(s == GC_ERR_DIVERGED, "status %s: %s", gc_status_name(s), gc_last_error());
    gc_classifier_free(&net);
    free_set(&ds);
}
END_TEST

/* ---- the command ---- */

/* ds as PREFIX-images-idx3-ubyte and PREFIX-labels-idx1-ubyte in the
 * test's folder (the labels found beside the images); the images' path
 * (valid for four calls). */
static const char *write_idx(const gc_dataset *ds, const char *prefix)
{
    static char paths[4][4096];
    static int slot;
    char *img = paths[slot++ % 4], lab[4096];
    snprintf(img, sizeof paths[0], "%s/%s-images-idx3-ubyte", gt_tmp(), prefix);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte", gt_tmp(), prefix);
    gc_idx d = {.kind = GC_IDX_IMAGES, .data = ds->images, .n = ds->n, .h = ds->h, .w = ds->w};
    GT_OK(gc_idx_write(img, &d, 0));
    uint8_t *l = malloc((size_t)ds->n);
    for (int64_t i = 0; i < ds->n; i++)
        l[i] = (uint8_t)ds->labels[i];
    gc_idx dl = {.kind = GC_IDX_LABELS, .data = l, .n = ds->n, .h = 1, .w = 1};
    GT_OK(gc_idx_write(lab, &dl, 0));
    free(l);
    return img;
}

/* classify train on IDX files with a test set, then classify eval of the
 * file it wrote: the same accuracy; and one-line refusals. */
START_TEST(t_command)
{
    gc_dataset train = make_set(120, SIDE, CLASSES), test = make_set(45, SIDE, CLASSES);
    const char *tr = write_idx(&train, "train"), *te = write_idx(&test, "t10k");
    const char *model = gt_tmp_path("c.safetensors");
    char cmd[16384], out[8192];
    snprintf(cmd, sizeof cmd,
             "'%s' --device cpu classify train --data '%s' --test '%s' --epochs 3 --batch 20 "
             "--lr 0.002 --seed 5 --out '%s' 2>&1",
             GANCL_BINARY, tr, te, model);
    int rc = gt_sh(cmd, out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "120 images (1x12x12, 10 classes)"), "%s", out);
    ck_assert_msg(strstr(out, "epoch 1/3: loss ") && strstr(out, "epoch 3/3: loss "), "%s", out);
    const char *t = strstr(out, "test accuracy ");
    ck_assert_msg(t, "%s", out);
    double acc_train = -1, acc_eval = -2;
    ck_assert_int_eq(sscanf(t, "test accuracy %lf", &acc_train), 1);
    gc_classifier net;
    GT_OK(gc_classifier_load(&net, gt_cpu(), model, 4));
    ck_assert_ptr_nonnull(net.class_names);
    ck_assert_str_eq(net.class_names[9], "9");
    gc_classifier_free(&net);

    snprintf(cmd, sizeof cmd,
             "'%s' --device cpu classify eval --classifier '%s' --data '%s' --json", GANCL_BINARY,
             model, te);
    rc = gt_sh(cmd, out, sizeof out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    const char *a = strstr(out, "\"accuracy\":");
    ck_assert_msg(a && out[0] == '{' && strstr(out, "\"images\":45"), "%s", out);
    ck_assert_int_eq(sscanf(a, "\"accuracy\":%lf", &acc_eval), 1);
    ck_assert_msg(fabs(acc_eval - acc_train) < 1e-4, "eval %g, train's test %g", acc_eval,
                  acc_train);

    /* Refusals: one line, exit code 2. */
    gc_dataset big = make_set(20, 16, CLASSES);
    const char *bg = write_idx(&big, "big");
    const char *bad[][2] = {
        {"classify train --data '%s' --test '%s' --out x", "16x16"},
        {"classify eval --classifier '%s' --data '%s'", "not a gancl classifier"},
    };
    const char *gan = gt_tmp_path("gan.safetensors");
    static const float one = 1;
    gc_st_tensor g = {
        .name = "G.0.weight", .dtype = GC_ST_F32, .ndim = 1, .shape = {1}, .data = &one};
    gc_st_kv meta[] = {{"format", GC_CHECKPOINT_FORMAT}};
    GT_OK(gc_st_write(gan, &g, 1, meta, 1));
    const char *args[][2] = {{tr, bg}, {gan, te}};
    for (int i = 0; i < 2; i++) {
        char tail[8192];
        snprintf(tail, sizeof tail, bad[i][0], args[i][0], args[i][1]);
        snprintf(cmd, sizeof cmd, "'%s' --device cpu %s 2>&1", GANCL_BINARY, tail);
        rc = gt_sh(cmd, out, sizeof out);
        ck_assert_msg(rc == 2, "exit %d: %s", rc, out);
        ck_assert_msg(!strncmp(out, "gancl: ", 7) && strstr(out, bad[i][1]), "%s", out);
        ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "not one line: %s", out);
    }
    free_set(&big);
    free_set(&train);
    free_set(&test);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("classifier");
    TCase *tc = tcase_create("classifier");
    tcase_set_timeout(tc, 1200);
    tcase_add_checked_fixture(tc, gt_tmp_setup, gt_tmp_teardown);
    tcase_add_test(tc, t_bad_args);
    tcase_add_test(tc, t_bad_files);
    tcase_add_test(tc, t_save_load);
    tcase_add_test(tc, t_stop_and_diverge);
    tcase_add_test(tc, t_reproducible);
    tcase_add_test(tc, t_learns_cpu);
    tcase_add_test(tc, t_learns_opencl);
    tcase_add_test(tc, t_cpu_vs_opencl);
    tcase_add_test(tc, t_command);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

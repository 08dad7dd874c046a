/* src/cli/cmd_augment.c - `gancl augment-eval`: does synthetic data from a
 * class-conditional GAN help a classifier when real data is scarce?
 *
 * For each seed: (a) a classifier on a small stratified subset of the real
 * training set, (a+) the same with classic augmentation (the baseline a
 * practitioner uses), (b) one on that subset plus N synthetic images per
 * class from a conditional GAN trained on the same subset only, (b+) that
 * with classic augmentation, (c) one on the full real set; each is tested
 * on the test set.  Every classifier gets the same number of optimisation
 * steps, so no arm is ahead by compute alone.  The table (mean +- standard
 * deviation over seeds), every arm paired with the baseline seed by seed
 * (t-test and sign test), a CSV of every run and a bar chart go to the
 * output folder. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_args.h"
#include "cli/cli_time.h"
#include "gancl/classifier.h"
#include "gancl/dataset.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/stats.h"

#define DEFAULT_TRAIN "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
#define DEFAULT_TEST  "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

enum { SET_SMALL, SET_SMALL_AUG, SET_SYNTH, SET_SYNTH_AUG, SET_FULL, SET_COUNT };
static const char *const set_names[SET_COUNT] = {
    "(a) small real subset", "(a+) subset with classic augmentation", "(b) subset + synthetic",
    "(b+) subset + synthetic with classic augmentation", "(c) full real set"};
/* The augmentation of (a+) and (b+) with the default data, Fashion-MNIST,
 * whose classes (garments, shoes, bags) look the same mirrored; any other
 * data set gets "classic" without flips unless --augment says otherwise. */
#define DEFAULT_AUGMENT_FASHION "classic,flip"
#define DEFAULT_AUGMENT         "classic"

static void help(FILE *f)
{
    fprintf(f,
            "usage: gancl [--device N|cpu] augment-eval [OPTIONS]\n"
            "\n"
            "Measures whether synthetic data helps a classifier when real data is scarce.\n"
            "For each seed it trains and tests (on the test set) five classifiers:\n"
            "  (a)  on a small stratified subset of the training set (default 1%%),\n"
            "  (a+) on that subset with classic augmentation (--augment): the baseline,\n"
            "  (b)  on that subset plus N synthetic images per class from a\n"
            "       class-conditional GAN trained on the same subset only,\n"
            "  (b+) on that with classic augmentation too,\n"
            "  (c)  on the full training set.\n"
            "Each classifier takes the same number of steps.  Writes augment.csv (every\n"
            "run), augment.md (mean +- standard deviation over the seeds, and each arm\n"
            "against the baseline seed by seed: mean difference, wins, paired t-test and\n"
            "sign test) and augment.png (a bar chart) to --out, and the synthetic\n"
            "samples of each seed as a grid.\n"
            "\n"
            "  --data FILE|DIR        labelled training images (default Fashion-MNIST,\n"
            "                         %s)\n"
            "  --labels FILE          their IDX labels (default: the file beside --data)\n"
            "  --test FILE|DIR        labelled test images (default: Fashion-MNIST's t10k\n"
            "                         files with the default --data; required otherwise)\n"
            "  --test-labels FILE     their IDX labels (default: beside --test)\n"
            "  --fraction X           the subset's share of the training set (default 0.01)\n"
            "  --per-class N          or the subset as N images per class\n"
            "  --synthetic N          synthetic images per class for (b) (default 1000)\n"
            "  --seeds N              repetitions with seeds 1..N (default 3, at least 1)\n"
            "  --gan-model seed|dcgan the conditional GAN (default dcgan)\n"
            "  --gan-steps N          its training steps (default 3000)\n"
            "  --no-gan-remedies      train it without the remedies of train --remedies\n"
            "                         (spectral norm and minibatch stddev with dcgan, hinge\n"
            "                         loss, DiffAugment, samples from an EMA of G), which\n"
            "                         it has by default: 60 images a class is little data\n"
            "  --steps N              each classifier's training steps (default 2000)\n"
            "  --augment SPEC         the classic augmentation of (a+) and (b+), as in\n"
            "                         classify train --augment (default %s with the\n"
            "                         default data, %s otherwise); none drops (a+)\n"
            "                         and (b+), and (a) becomes the baseline\n"
            "  --out DIR              the results folder (default runs/augment-<time>)\n"
            "  --device N|cpu         as the global option\n",
            DEFAULT_TRAIN, DEFAULT_AUGMENT_FASHION, DEFAULT_AUGMENT);
}

typedef struct augment_args {
    const char *data, *labels, *test, *test_labels, *out, *device;
    double fraction;
    long long per_class, synthetic, seeds, gan_steps, steps;
    gc_model_kind gan_model;
    int gan_remedies;    /* not --no-gan-remedies */
    const char *augment; /* --augment, or NULL for the default */
    gc_image_aug aug;
} augment_args;

enum {
    OPT_DATA = 256,
    OPT_LABELS,
    OPT_TEST,
    OPT_TEST_LABELS,
    OPT_FRACTION,
    OPT_PER_CLASS,
    OPT_SYNTHETIC,
    OPT_SEEDS,
    OPT_GAN_MODEL,
    OPT_GAN_STEPS,
    OPT_NO_GAN_REMEDIES,
    OPT_STEPS,
    OPT_AUGMENT,
    OPT_OUT,
    OPT_DEVICE,
    OPT_HELP
};

static int parse_args(int argc, char **argv, augment_args *a)
{
    static const struct option opts[] = {{"data", required_argument, 0, OPT_DATA},
                                         {"labels", required_argument, 0, OPT_LABELS},
                                         {"test", required_argument, 0, OPT_TEST},
                                         {"test-labels", required_argument, 0, OPT_TEST_LABELS},
                                         {"fraction", required_argument, 0, OPT_FRACTION},
                                         {"per-class", required_argument, 0, OPT_PER_CLASS},
                                         {"synthetic", required_argument, 0, OPT_SYNTHETIC},
                                         {"seeds", required_argument, 0, OPT_SEEDS},
                                         {"gan-model", required_argument, 0, OPT_GAN_MODEL},
                                         {"gan-steps", required_argument, 0, OPT_GAN_STEPS},
                                         {"no-gan-remedies", no_argument, 0, OPT_NO_GAN_REMEDIES},
                                         {"steps", required_argument, 0, OPT_STEPS},
                                         {"augment", required_argument, 0, OPT_AUGMENT},
                                         {"out", required_argument, 0, OPT_OUT},
                                         {"device", required_argument, 0, OPT_DEVICE},
                                         {"help", no_argument, 0, OPT_HELP},
                                         {0, 0, 0, 0}};
    *a = (augment_args){.fraction = 0.01,
                        .synthetic = 1000,
                        .seeds = 3,
                        .gan_steps = 3000,
                        .steps = 2000,
                        .gan_model = GC_MODEL_DCGAN,
                        .gan_remedies = 1};
    int fraction_set = 0;
    optind = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char **path = NULL;
        const char *flag = NULL;
        switch (opt) {
        case OPT_DATA: path = &a->data, flag = "--data"; break;
        case OPT_LABELS: path = &a->labels, flag = "--labels"; break;
        case OPT_TEST: path = &a->test, flag = "--test"; break;
        case OPT_TEST_LABELS: path = &a->test_labels, flag = "--test-labels"; break;
        case OPT_OUT: path = &a->out, flag = "--out"; break;
        case OPT_FRACTION:
            if (!gc_cli_parse_float("--fraction", optarg, 0, 1, &a->fraction)) return 2;
            if (!(a->fraction > 0)) return gc_cli_usage_error("--fraction: must be above 0");
            fraction_set = 1;
            break;
        case OPT_PER_CLASS:
            if (!gc_cli_parse_int("--per-class", optarg, 1, 1LL << 32, &a->per_class)) return 2;
            break;
        case OPT_SYNTHETIC:
            if (!gc_cli_parse_int("--synthetic", optarg, 0, 1000000, &a->synthetic)) return 2;
            break;
        case OPT_SEEDS:
            if (!gc_cli_parse_int("--seeds", optarg, 1, 1000, &a->seeds)) return 2;
            break;
        case OPT_GAN_STEPS:
            if (!gc_cli_parse_int("--gan-steps", optarg, 1, 100000000, &a->gan_steps)) return 2;
            break;
        case OPT_STEPS:
            if (!gc_cli_parse_int("--steps", optarg, 1, 100000000, &a->steps)) return 2;
            break;
        case OPT_NO_GAN_REMEDIES: a->gan_remedies = 0; break;
        case OPT_AUGMENT:
            if (gc_image_aug_parse(optarg, &a->aug) != GC_OK)
                return gc_cli_usage_error("--augment: %s", gc_last_error());
            a->augment = optarg;
            break;
        case OPT_GAN_MODEL:
            if (!gc_model_parse(optarg, &a->gan_model))
                return gc_cli_usage_error("--gan-model: '%s' is not seed or dcgan", optarg);
            break;
        case OPT_DEVICE:
            if (!gc_cli_check_device("--device", optarg)) return 2;
            a->device = optarg;
            break;
        case 'h':
        case OPT_HELP: help(stdout); return GC_CLI_DONE;
        default: return gc_cli_bad_option("augment-eval", opts, opt, argc, argv);
        }
        if (path) {
            if (!gc_cli_check_path(flag, optarg, GC_CLI_PATH_MAX)) return 2;
            *path = optarg;
        }
    }
    if (optind < argc)
        return gc_cli_usage_error("augment-eval: unexpected argument '%s' (see gancl "
                                  "augment-eval --help)",
                                  argv[optind]);
    if (fraction_set && a->per_class)
        return gc_cli_usage_error("augment-eval: give --fraction or --per-class, not both");
    if (a->data && !a->test)
        return gc_cli_usage_error("augment-eval: --data needs --test (a labelled test set)");
    if (!a->augment) {
        a->augment = a->data ? DEFAULT_AUGMENT : DEFAULT_AUGMENT_FASHION;
        gc_status s = gc_image_aug_parse(a->augment, &a->aug); /* a constant: parses */
        (void)s;
    }
    return 0;
}

/* ---- the experiment ------------------------------------------------------------ */

typedef struct experiment {
    const augment_args *a;
    gc_backend *be;
    gc_dataset train, test;
    int64_t per_class;
    int runs[SET_COUNT];         /* the arms this experiment has */
    int baseline;                /* the arm the others are paired with */
    double acc[SET_COUNT][1000]; /* [set][seed - 1] */
    char dir[PATH_MAX];
} experiment;

static int classify_progress(void *ctx, int epoch, int epochs, double loss, double accuracy)
{
    (void)ctx;
    if (epoch == epochs || epoch % 10 == 0)
        printf("    epoch %d/%d  loss %.4f  train accuracy %.4f\n", epoch, epochs, loss, accuracy);
    fflush(stdout);
    return 0;
}

/* A fresh classifier on `data` for about a->steps steps (with classic
 * augmentation when aug); its test accuracy. */
static gc_status run_classifier(experiment *x, const gc_dataset *data, int aug, uint64_t seed,
                                double *accuracy)
{
    gc_classify_train_config tc = gc_classify_default_train_config();
    if (aug) tc.aug = x->a->aug;
    if (data->n < tc.batch) tc.batch = (int)data->n; /* a tiny subset: one batch of it all */
    if (tc.batch < 2)
        return gc_error(GC_ERR_ARG, "%lld training images: at least 2 are needed",
                        (long long)data->n);
    int64_t per_epoch = data->n / tc.batch;
    int64_t epochs = (x->a->steps + per_epoch - 1) / per_epoch;
    tc.epochs = (int)(epochs < 1 ? 1 : epochs > 100000 ? 100000 : epochs);
    tc.seed = seed;
    gc_classifier_config cc =
        gc_classifier_default_config(x->train.classes, data->c, data->h, data->w);
    gc_classifier net;
    GC_TRY(gc_classifier_init(&net, x->be, &cc, tc.batch));
    double t0 = gc_cli_now();
    printf("    %lld images, %d epochs of %lld steps\n", (long long)data->n, tc.epochs,
           (long long)per_epoch);
    gc_status s = gc_classifier_init_params(&net, seed);
    if (s == GC_OK) s = gc_classifier_train(&net, data, &tc, classify_progress, NULL);
    if (s == GC_OK) s = gc_classifier_evaluate(&net, &x->test, accuracy, NULL);
    gc_classifier_free(&net);
    if (s == GC_OK) printf("    test accuracy %.4f (%.0f s)\n", *accuracy, gc_cli_now() - t0);
    fflush(stdout);
    return s;
}

/* A conditional GAN trained on the subset only, then a->synthetic images of
 * each class from it, labelled, into *out. */
static gc_status synthesize(experiment *x, const gc_dataset *subset, uint64_t seed, gc_dataset *out)
{
    const augment_args *a = x->a;
    gc_train_config cfg = gc_train_default_config(a->gan_model);
    cfg.model.height = subset->h, cfg.model.width = subset->w;
    cfg.model.classes = subset->classes;
    cfg.seed = seed;
    if (a->gan_remedies) gc_train_config_remedies(&cfg);
    if (subset->n < cfg.batch) cfg.batch = (int)subset->n;
    gc_trainer tr;
    GC_TRY(gc_trainer_init_labelled(&tr, x->be, &cfg, subset->images, subset->labels, subset->n,
                                    subset->h, subset->w));
    double t0 = gc_cli_now();
    gc_status s = GC_OK;
    while (s == GC_OK && tr.st.step < a->gan_steps) {
        s = gc_trainer_step(&tr);
        if (s == GC_OK && (tr.st.step % 500 == 0 || tr.st.step == a->gan_steps)) {
            gc_train_stats st;
            s = gc_trainer_read_stats(&tr, &st);
            if (s == GC_OK)
                printf("    GAN step %lld/%lld  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f  "
                       "(%.0f s)\n",
                       (long long)tr.st.step, a->gan_steps, st.d_loss, st.g_loss, st.d_real,
                       st.d_fake, gc_cli_now() - t0);
            fflush(stdout);
        }
    }
    int k = subset->classes;
    int64_t per = (int64_t)subset->h * subset->w, n = a->synthetic * k;
    float *img = NULL;
    int32_t *labels = NULL;
    memset(out, 0, sizeof *out);
    if (s == GC_OK) {
        img = malloc((size_t)(n * per) * sizeof *img);
        labels = malloc((size_t)n * sizeof *labels);
        out->images = malloc((size_t)(n * per));
        out->labels = malloc((size_t)n * sizeof *out->labels);
        if (!img || !labels || !out->images || !out->labels)
            s = gc_error(GC_ERR_NOMEM, "out of memory for %lld synthetic images", (long long)n);
    }
    if (s == GC_OK) {
        for (int64_t i = 0; i < n; i++)
            labels[i] = (int32_t)(i % k);
        gc_rng rng = {.seed = seed ^ 0x5EEDULL, .offset = 0};
        s = gc_trainer_sample(&tr, &rng, (int)n, labels, img); /* G's EMA where there is one */
    }
    if (s == GC_OK) {
        float lo, hi;
        gc_gan_pixel_range(cfg.model.kind, &lo, &hi);
        gc_pixels_to_bytes(img, n * per, lo, hi, out->images);
        memcpy(out->labels, labels, (size_t)n * sizeof *labels);
        out->n = n, out->c = 1, out->h = subset->h, out->w = subset->w, out->classes = k;
        /* The first 10 of each class, one row per class. */
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/synthetic-seed%llu.png", x->dir, (unsigned long long)seed);
        int cols = a->synthetic < 10 ? (int)a->synthetic : 10;
        float *grid = malloc((size_t)(k * cols * per) * sizeof *grid);
        if (cols > 0 && grid) {
            for (int r = 0; r < k; r++)
                for (int c = 0; c < cols; c++)
                    memcpy(grid + (int64_t)(r * cols + c) * per, img + ((int64_t)c * k + r) * per,
                           (size_t)per * sizeof *grid);
            s = gc_png_write_grid(path, grid, k * cols, 1, subset->h, subset->w, lo, hi, k, cols);
        }
        free(grid);
        printf("    %lld synthetic images (%.0f s in all); samples in %s\n", (long long)n,
               gc_cli_now() - t0, path);
    }
    free(img);
    free(labels);
    gc_trainer_free(&tr);
    if (s != GC_OK) gc_dataset_free(out);
    return s;
}

/* Arm k of this seed on `data`, printed with what it is. */
static gc_status run_arm(experiment *x, int k, const gc_dataset *data, uint64_t seed,
                         int seed_index)
{
    printf("seed %llu: %s\n", (unsigned long long)seed, set_names[k]);
    int aug = k == SET_SMALL_AUG || k == SET_SYNTH_AUG;
    return run_classifier(x, data, aug, seed, &x->acc[k][seed_index]);
}

static gc_status run_seed(experiment *x, int seed_index)
{
    uint64_t seed = (uint64_t)seed_index + 1;
    gc_dataset subset = {0}, synth = {0}, both = {0};
    printf("seed %llu: the subset, %lld per class\n", (unsigned long long)seed,
           (long long)x->per_class);
    gc_status s = gc_dataset_stratified(&x->train, x->per_class, seed, &subset);
    if (s == GC_OK) s = run_arm(x, SET_SMALL, &subset, seed, seed_index);
    if (s == GC_OK && x->runs[SET_SMALL_AUG])
        s = run_arm(x, SET_SMALL_AUG, &subset, seed, seed_index);
    if (s == GC_OK && x->runs[SET_SYNTH]) {
        printf("seed %llu: a conditional %s GAN on the subset for (b)%s\n",
               (unsigned long long)seed, gc_model_name(x->a->gan_model),
               x->a->gan_remedies ? ", with the remedies against mode collapse" : "");
        s = synthesize(x, &subset, seed, &synth);
        if (s == GC_OK) s = gc_dataset_concat(&subset, &synth, &both);
        if (s == GC_OK) s = run_arm(x, SET_SYNTH, &both, seed, seed_index);
        if (s == GC_OK && x->runs[SET_SYNTH_AUG])
            s = run_arm(x, SET_SYNTH_AUG, &both, seed, seed_index);
    }
    if (s == GC_OK) s = run_arm(x, SET_FULL, &x->train, seed, seed_index);
    gc_dataset_free(&subset);
    gc_dataset_free(&synth);
    gc_dataset_free(&both);
    return s;
}

/* augment.csv, augment.md and augment.png. */
static gc_status write_results(const experiment *x)
{
    const augment_args *a = x->a;
    int n = (int)a->seeds;
    char csv[16384], md[16384], path[PATH_MAX + 32], aug[128];
    size_t c = 0, m = 0;
    gc_image_aug_format(&a->aug, aug, sizeof aug);
    c += (size_t)snprintf(csv + c, sizeof csv - c, "set,seed,images,test_accuracy\n");
    int64_t small = x->per_class * x->train.classes, synth = a->synthetic * x->train.classes;
    int64_t images[SET_COUNT] = {small, small, small + synth, small + synth, x->train.n};
    m += (size_t)snprintf(md + m, sizeof md - m,
                          "| training data | images | test accuracy (mean ± sd over %d seed%s) | "
                          "min – max |\n|---|---:|---:|---:|\n",
                          n, n > 1 ? "s" : "");
    const char *labels[SET_COUNT];
    double mean[SET_COUNT], sd[SET_COUNT];
    int bars = 0;
    for (int k = 0; k < SET_COUNT; k++) {
        if (!x->runs[k]) continue;
        for (int i = 0; i < n && c < sizeof csv; i++)
            c += (size_t)snprintf(csv + c, sizeof csv - c, "%s,%d,%lld,%.6f\n", set_names[k], i + 1,
                                  (long long)images[k], x->acc[k][i]);
        double lo, hi;
        gc_stats_summary(x->acc[k], n, &mean[bars], &sd[bars], &lo, &hi);
        if (m < sizeof md)
            m += (size_t)snprintf(md + m, sizeof md - m,
                                  "| %s | %lld | %.4f ± %.4f | %.4f – %.4f |\n", set_names[k],
                                  (long long)images[k], mean[bars], sd[bars], lo, hi);
        labels[bars++] = set_names[k];
    }
    if (m < sizeof md)
        m += (size_t)snprintf(md + m, sizeof md - m,
                              "\nClassic augmentation of (a+) and (b+): %s.\n\n"
                              "| against %s | mean difference ± sd | wins – losses – ties | "
                              "paired t-test p | sign test p |\n|---|---:|---:|---:|---:|\n",
                              aug, set_names[x->baseline]);
    for (int k = 0; k < SET_COUNT && m < sizeof md; k++) {
        if (!x->runs[k] || k == x->baseline) continue;
        gc_paired p = gc_stats_paired(x->acc[x->baseline], x->acc[k], n);
        char pt[32];
        if (isnan(p.p_t))
            snprintf(pt, sizeof pt, "–");
        else
            snprintf(pt, sizeof pt, "%.3g", p.p_t);
        m += (size_t)snprintf(md + m, sizeof md - m,
                              "| %s | %+.4f ± %.4f | %d – %d – %d | %s | %.3g |\n", set_names[k],
                              p.mean, p.sd, p.wins, p.losses, p.ties, pt, p.p_sign);
    }
    if (c >= sizeof csv || m >= sizeof md) return gc_error(GC_ERR_ARG, "too many seeds to report");
    snprintf(path, sizeof path, "%s/augment.csv", x->dir);
    GC_TRY(gc_fs_write_atomic(path, csv, c));
    snprintf(path, sizeof path, "%s/augment.md", x->dir);
    GC_TRY(gc_fs_write_atomic(path, md, m));
    printf("\n%s\n", md);
    snprintf(path, sizeof path, "%s/augment.png", x->dir);
    char title[256];
    snprintf(title, sizeof title, "test accuracy, mean ± sd over %d seed%s", n, n > 1 ? "s" : "");
    return gc_plot_bars(path, title, "test accuracy", labels, mean, n > 1 ? sd : NULL, bars);
}

static int load(const char *path, const char *labels, const char *flag, gc_dataset *ds)
{
    gc_status s = gc_dataset_load(path, labels, GC_LABELS_REQUIRED, ds);
    if (s != GC_OK) return gc_cli_fail(s);
    if (ds->c != 1) {
        gc_cli_usage_error("%s: %s has %d-channel images; augment-eval takes gray images", flag,
                           path, ds->c);
        return 2;
    }
    return 0;
}

int gc_cmd_augment_eval(gc_cli *cli, int argc, char **argv)
{
    augment_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    experiment *x = calloc(1, sizeof *x);
    if (!x) return gc_cli_usage_error("out of memory");
    x->a = &a;
    const char *data = a.data ? a.data : DEFAULT_TRAIN, *test = a.test ? a.test : DEFAULT_TEST;
    gc_status s;
    if (!a.data && !gc_fs_is_file(DEFAULT_TRAIN)) {
        rc = gc_cli_usage_error("no training data: %s is missing; install the package "
                                "dataset-fashion-mnist (tools/setup.sh) or pass --data and --test",
                                DEFAULT_TRAIN);
        goto done;
    }
    if ((rc = load(data, a.labels, "--data", &x->train)) ||
        (rc = load(test, a.test_labels, "--test", &x->test)))
        goto done;
    if (x->test.h != x->train.h || x->test.w != x->train.w) {
        rc = gc_cli_usage_error("--test: %s has %dx%d images, the training set %dx%d", test,
                                x->test.h, x->test.w, x->train.h, x->train.w);
        goto done;
    }
    if (x->test.classes > x->train.classes) {
        rc = gc_cli_usage_error("--test: %s has labels up to %d, the training set only %d classes",
                                test, x->test.classes - 1, x->train.classes);
        goto done;
    }
    if (x->train.classes < 2) {
        rc = gc_cli_usage_error("--data: %s has one class; a classifier needs at least 2", data);
        goto done;
    }
    x->test.classes = x->train.classes;
    x->per_class = a.per_class
                       ? a.per_class
                       : (int64_t)llround(a.fraction * (double)x->train.n / x->train.classes);
    if (x->per_class < 1) x->per_class = 1;
    int64_t counts[GC_MAX_CLASSES];
    gc_dataset_class_counts(&x->train, counts);
    for (int k = 0; k < x->train.classes; k++)
        if (counts[k] < x->per_class) {
            rc = gc_cli_usage_error("--data: class %d has %lld images, fewer than the %lld per "
                                    "class of the subset",
                                    k, (long long)counts[k], (long long)x->per_class);
            goto done;
        }
    if (a.out) {
        snprintf(x->dir, sizeof x->dir, "%s", a.out);
    } else {
        char stamp[32];
        time_t t = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
        snprintf(x->dir, sizeof x->dir, "runs/augment-%s", stamp);
    }
    if ((s = gc_fs_mkdirs(x->dir)) != GC_OK) {
        rc = gc_cli_fail(s);
        goto done;
    }
    if ((rc = gc_cli_open_backend_tuned(cli, a.device, &x->be))) goto done;
    int augmenting = gc_image_aug_active(&a.aug);
    x->runs[SET_SMALL] = x->runs[SET_FULL] = 1;
    x->runs[SET_SMALL_AUG] = augmenting;
    x->runs[SET_SYNTH] = a.synthetic > 0;
    x->runs[SET_SYNTH_AUG] = augmenting && a.synthetic > 0;
    x->baseline = augmenting ? SET_SMALL_AUG : SET_SMALL;
    printf("augment-eval: %lld training images of %d classes (%s), %lld test images; subset "
           "%lld per class; %lld synthetic per class; augmentation %s; %lld seed%s; device %s; "
           "results in %s\n",
           (long long)x->train.n, x->train.classes, data, (long long)x->test.n,
           (long long)x->per_class, a.synthetic, a.augment, a.seeds, a.seeds > 1 ? "s" : "",
           gc_backend_name(x->be), x->dir);
    fflush(stdout);
    for (int i = 0; i < a.seeds; i++)
        if ((s = run_seed(x, i)) != GC_OK) {
            rc = gc_cli_fail(s);
            goto done;
        }
    if ((s = write_results(x)) != GC_OK)
        rc = gc_cli_fail(s);
    else
        printf("results: %s/augment.md, augment.csv, augment.png\n", x->dir);
done:
    if (x->be) gc_backend_free(x->be);
    gc_dataset_free(&x->train);
    gc_dataset_free(&x->test);
    free(x);
    return rc;
}

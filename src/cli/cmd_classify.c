/* src/cli/cmd_classify.c - `gancl classify train` and `gancl classify eval`:
 * the small image classifier of gancl/classifier.h on a labelled data set;
 * their flags. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_time.h"
#include "cli/train_args.h"
#include "gancl/classifier.h"
#include "gancl/dataset.h"
#include "util/error.h"
#include "util/philox.h"

#define DEFAULT_TRAIN GC_TRAIN_DEFAULT_DATA
#define DEFAULT_TEST  "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

static void help(FILE *f)
{
    gc_classify_train_config d = gc_classify_default_train_config();
    fprintf(f,
            "usage: gancl [--device N|cpu] classify train [--data IMAGES] [--labels FILE]\n"
            "                 [--epochs N] [--batch N] [--lr X] [--seed N] [--augment SPEC]\n"
            "                 [--test IMAGES [--test-labels FILE]] [--limit-per-class N]\n"
            "                 --out FILE\n"
            "       gancl [--device N|cpu] classify eval --classifier FILE [--data IMAGES]\n"
            "                 [--labels FILE] [--batch N] [--json]\n"
            "\n"
            "A small convolutional classifier (two 3x3 convolutions with ReLU and 2x2 max\n"
            "pooling, a dense layer of 128 features, a dense layer of logits), trained with\n"
            "Adam on the softmax cross-entropy.  It measures whether synthetic data helps\n"
            "(augment-eval), and its 128 features give a Frechet distance for small gray\n"
            "images (fid --classifier).\n"
            "\n"
            "IMAGES is an IDX images file (raw or .gz) whose labels are the labels-idx1 file\n"
            "beside it or --labels, or a folder with one sub-folder of PNGs per class.\n"
            "Height and width must be multiples of 4.  Pixels are bytes / 255.\n"
            "\n"
            "train:\n"
            "  --data IMAGES        training images (default: Fashion-MNIST,\n"
            "                       %s,\n"
            "                       and then --test defaults to its t10k files)\n"
            "  --epochs N           passes over the data (default %d)\n"
            "  --batch N            images per step (default %d); each epoch is shuffled and\n"
            "                       its last partial batch is dropped\n"
            "  --lr X               Adam learning rate (default %g), betas (0.9, 0.999)\n"
            "  --seed N             seeds initialisation, shuffling, --augment and\n"
            "                       --limit-per-class (default 1)\n"
            "  --augment SPEC       classic augmentation of every training image as it is\n"
            "                       drawn, as torchvision's RandomAffine and\n"
            "                       RandomHorizontalFlip: 'classic' (shift up to 0.1 of the\n"
            "                       size, rotate up to 10 degrees, scale 0.9-1.1), 'flip'\n"
            "                       (mirror half of them: only where classes allow it),\n"
            "                       'translate=F', 'rotate=DEG', 'scale=F', comma-separated,\n"
            "                       later items winning (default none)\n"
            "  --test IMAGES        held-out images: the final accuracy is measured on them\n"
            "  --test-labels FILE   their labels, if not beside them\n"
            "  --limit-per-class N  train on a random N images of each class\n"
            "  --out FILE           the classifier (safetensors), written after training\n"
            "eval:\n"
            "  --classifier FILE    a file of classify train\n"
            "  --data IMAGES        labelled images (default: the Fashion-MNIST t10k files)\n"
            "  --batch N            images per forward pass (default 256)\n"
            "  --json               print {\"accuracy\": ..., \"loss\": ..., ...} only\n"
            "both:\n"
            "  --labels FILE        the labels of --data, if not beside it\n"
            "  --device N|cpu       as the global option\n",
            DEFAULT_TRAIN, d.epochs, d.batch, (double)d.lr);
}

enum {
    OPT_DATA = 256,
    OPT_LABELS,
    OPT_EPOCHS,
    OPT_BATCH,
    OPT_LR,
    OPT_SEED,
    OPT_OUT,
    OPT_TEST,
    OPT_TEST_LABELS,
    OPT_LIMIT,
    OPT_CLASSIFIER,
    OPT_JSON,
    OPT_AUGMENT,
    OPT_DEVICE,
    OPT_HELP
};

int gc_classify_args_parse(int argc, char **argv, gc_classify_args *a)
{
    static const struct option train_opts[] = {
        {"data", required_argument, 0, OPT_DATA},
        {"labels", required_argument, 0, OPT_LABELS},
        {"epochs", required_argument, 0, OPT_EPOCHS},
        {"batch", required_argument, 0, OPT_BATCH},
        {"lr", required_argument, 0, OPT_LR},
        {"seed", required_argument, 0, OPT_SEED},
        {"out", required_argument, 0, OPT_OUT},
        {"test", required_argument, 0, OPT_TEST},
        {"test-labels", required_argument, 0, OPT_TEST_LABELS},
        {"limit-per-class", required_argument, 0, OPT_LIMIT},
        {"augment", required_argument, 0, OPT_AUGMENT},
        {"device", required_argument, 0, OPT_DEVICE},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    static const struct option eval_opts[] = {{"classifier", required_argument, 0, OPT_CLASSIFIER},
                                              {"data", required_argument, 0, OPT_DATA},
                                              {"labels", required_argument, 0, OPT_LABELS},
                                              {"batch", required_argument, 0, OPT_BATCH},
                                              {"json", no_argument, 0, OPT_JSON},
                                              {"device", required_argument, 0, OPT_DEVICE},
                                              {"help", no_argument, 0, OPT_HELP},
                                              {0, 0, 0, 0}};
    gc_classify_train_config d = gc_classify_default_train_config();
    *a = (gc_classify_args){.epochs = d.epochs, .batch = d.batch, .lr = d.lr, .seed = 1};
    optind = 0;
    opterr = 0;
    if (argc < 2) return gc_cli_usage_error("classify: train or eval expected (--help)");
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        help(stdout);
        return GC_CLI_DONE;
    }
    if (!strcmp(sub, "eval")) {
        a->eval = 1;
        a->batch = 256;
    } else if (strcmp(sub, "train")) {
        return gc_cli_usage_error("classify: '%s' is not a subcommand (train or eval)", sub);
    }
    const char *cmd = a->eval ? "classify eval" : "classify train";
    const struct option *opts = a->eval ? eval_opts : train_opts;
    argc--, argv++;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char **path = NULL, *flag = NULL;
        switch (opt) {
        case OPT_DATA: path = &a->data, flag = "--data"; break;
        case OPT_LABELS: path = &a->labels, flag = "--labels"; break;
        case OPT_OUT: path = &a->out, flag = "--out"; break;
        case OPT_TEST: path = &a->test, flag = "--test"; break;
        case OPT_TEST_LABELS: path = &a->test_labels, flag = "--test-labels"; break;
        case OPT_CLASSIFIER: path = &a->classifier, flag = "--classifier"; break;
        case OPT_EPOCHS:
            if (!gc_cli_parse_int("--epochs", optarg, 1, 1000000, &a->epochs)) return 2;
            break;
        case OPT_BATCH:
            if (!gc_cli_parse_int("--batch", optarg, 1, 65536, &a->batch)) return 2;
            break;
        case OPT_LR:
            if (!gc_cli_parse_float("--lr", optarg, 0, 1, &a->lr)) return 2;
            if (!((float)a->lr > 0)) return gc_cli_usage_error("--lr: %s must be above 0", optarg);
            break;
        case OPT_SEED:
            if (!gc_cli_parse_int("--seed", optarg, 0, LLONG_MAX, &a->seed)) return 2;
            break;
        case OPT_LIMIT:
            if (!gc_cli_parse_int("--limit-per-class", optarg, 1, INT64_C(1) << 40,
                                  &a->limit_per_class))
                return 2;
            break;
        case OPT_JSON: a->json = 1; break;
        case OPT_AUGMENT: {
            gc_status st = gc_image_aug_parse(optarg, &a->aug);
            if (st != GC_OK) return gc_cli_usage_error("--augment: %s", gc_last_error());
            break;
        }
        case OPT_DEVICE:
            if (!gc_cli_check_device("--device", optarg)) return 2;
            a->device = optarg;
            break;
        case 'h':
        case OPT_HELP: help(stdout); return GC_CLI_DONE;
        default: return gc_cli_bad_option(cmd, opts, opt, argc, argv);
        }
        if (path) {
            if (!gc_cli_check_path(flag, optarg, GC_CLI_PATH_MAX)) return 2;
            *path = optarg;
        }
    }
    if (optind < argc) return gc_cli_usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
    if (a->eval && !a->classifier)
        return gc_cli_usage_error("classify eval: --classifier FILE is required");
    if (!a->eval && !a->out) return gc_cli_usage_error("classify train: --out FILE is required");
    if (a->labels && !a->data)
        return gc_cli_usage_error("%s: --labels needs --data (the default data has its labels)",
                                  cmd);
    if (a->test_labels && !a->test)
        return gc_cli_usage_error("classify train: --test-labels needs --test");
    return 0;
}

/* ---- running -------------------------------------------------------------------- */

/* A seed of its own for each use of --seed. */
static uint64_t derive_seed(uint64_t seed, uint64_t purpose)
{
    uint32_t w[4];
    gc_philox4x32_10(seed, UINT64_MAX - purpose, w);
    return (uint64_t)w[0] << 32 | w[1];
}

static int load_data(const char *path, const char *labels, gc_dataset *ds)
{
    gc_status s = gc_dataset_load(path, labels, GC_LABELS_REQUIRED, ds);
    return s == GC_OK ? 0 : gc_cli_fail(s);
}

/* Data set names against the classifier's (both may be NULL: IDX sets name
 * classes "0", "1", ..., and a file of the library may have none). */
static int check_names(const gc_dataset *ds, char *const *names, int classes, const char *what)
{
    if (!ds->class_names || !names) return 0;
    for (int i = 0; i < ds->classes && i < classes; i++)
        if (strcmp(ds->class_names[i], names[i]))
            return gc_cli_usage_error("%s: class %d is '%.64s', the classifier's is '%.64s'", what,
                                      i, ds->class_names[i], names[i]);
    return 0;
}

typedef struct progress_ctx {
    double t0;
} progress_ctx;

static int on_epoch(void *ctx, int epoch, int epochs, double loss, double accuracy)
{
    progress_ctx *p = ctx;
    double now = gc_cli_now();
    printf("epoch %d/%d: loss %.4f, training accuracy %.4f (%.1f s)\n", epoch, epochs, loss,
           accuracy, now - p->t0);
    fflush(stdout);
    p->t0 = now;
    return 0;
}

static int run_train(gc_cli *cli, const gc_classify_args *a)
{
    const char *data = a->data ? a->data : DEFAULT_TRAIN;
    const char *test = a->test ? a->test : a->data ? NULL : DEFAULT_TEST;
    gc_dataset full = {0}, sub = {0}, tst = {0};
    const gc_dataset *train = &full;
    gc_backend *be = NULL;
    gc_classifier net = {0};
    int rc = load_data(data, a->labels, &full);
    if (!rc && test) rc = load_data(test, a->test_labels, &tst);
    gc_status s = GC_OK;
    if (!rc && a->limit_per_class) {
        if ((s = gc_dataset_stratified(&full, a->limit_per_class, derive_seed(a->seed, 2), &sub)))
            rc = gc_cli_fail(s);
        train = &sub;
    }
    /* Before training, not after it. */
    if (!rc && test && (tst.c != train->c || tst.h != train->h || tst.w != train->w))
        rc = gc_cli_usage_error("%s: %dx%dx%d images, the training images are %dx%dx%d", test,
                                tst.c, tst.h, tst.w, train->c, train->h, train->w);
    if (!rc && test && tst.classes > train->classes)
        rc = gc_cli_usage_error("%s: %d classes, the training set has %d", test, tst.classes,
                                train->classes);
    if (!rc && test) rc = check_names(&tst, train->class_names, train->classes, test);
    if (!rc && train->n < a->batch)
        rc = gc_cli_usage_error("classify train: %lld training images, fewer than one batch of "
                                "%lld (--batch)",
                                (long long)train->n, a->batch);
    if (!rc) rc = gc_cli_open_backend_tuned(cli, a->device, &be);
    gc_classifier_config cfg =
        gc_classifier_default_config(train->classes, train->c, train->h, train->w);
    if (!rc && (s = gc_classifier_config_check(&cfg)))
        rc = gc_cli_fail(gc_error_prefix(s, "%s", data));
    if (!rc && ((s = gc_classifier_init(&net, be, &cfg, (int)a->batch)) ||
                (s = gc_classifier_init_params(&net, a->seed))))
        rc = gc_cli_fail(s);
    if (!rc) {
        char aug[128];
        gc_image_aug_format(&a->aug, aug, sizeof aug);
        printf("classify train: %lld images (%dx%dx%d, %d classes) from %s on %s; augmentation "
               "%s\n",
               (long long)train->n, cfg.channels, cfg.height, cfg.width, cfg.classes, data,
               gc_backend_name(be), aug);
        fflush(stdout);
        gc_classify_train_config tc = {.epochs = (int)a->epochs,
                                       .batch = (int)a->batch,
                                       .lr = (float)a->lr,
                                       .seed = derive_seed(a->seed, 1),
                                       .aug = a->aug};
        progress_ctx p = {gc_cli_now()};
        if ((s = gc_classifier_train(&net, train, &tc, on_epoch, &p)) ||
            (s = gc_classifier_save(&net, a->out, (const char *const *)train->class_names)))
            rc = gc_cli_fail(s);
        else
            printf("wrote %s\n", a->out);
    }
    if (!rc && test) {
        double acc, loss;
        if ((s = gc_classifier_evaluate(&net, &tst, &acc, &loss)))
            rc = gc_cli_fail(s);
        else
            printf("test accuracy %.4f (loss %.4f) on %lld images from %s\n", acc, loss,
                   (long long)tst.n, test);
    }
    gc_classifier_free(&net);
    if (be) gc_backend_free(be);
    gc_dataset_free(&full);
    gc_dataset_free(&sub);
    gc_dataset_free(&tst);
    return rc;
}

static void print_json(const gc_classify_args *a, const char *data, const gc_dataset *ds,
                       double acc, double loss)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "accuracy", acc);
    cJSON_AddNumberToObject(o, "loss", loss);
    cJSON_AddNumberToObject(o, "images", (double)ds->n);
    cJSON_AddNumberToObject(o, "classes", ds->classes);
    cJSON_AddStringToObject(o, "classifier", a->classifier);
    cJSON_AddStringToObject(o, "data", data);
    char *s = cJSON_PrintUnformatted(o);
    if (s) printf("%s\n", s);
    cJSON_free(s);
    cJSON_Delete(o);
}

static int run_eval(gc_cli *cli, const gc_classify_args *a)
{
    const char *data = a->data ? a->data : DEFAULT_TEST;
    gc_dataset ds = {0};
    gc_backend *be = NULL;
    gc_classifier net = {0};
    gc_status s;
    int rc = load_data(data, a->labels, &ds);
    if (!rc) rc = gc_cli_open_backend_tuned(cli, a->device, &be);
    if (!rc && (s = gc_classifier_load(&net, be, a->classifier, (int)a->batch)))
        rc = gc_cli_fail(s);
    if (!rc) rc = check_names(&ds, net.class_names, net.cfg.classes, data);
    double acc = 0, loss = 0;
    if (!rc && (s = gc_classifier_evaluate(&net, &ds, &acc, &loss))) rc = gc_cli_fail(s);
    if (!rc && a->json)
        print_json(a, data, &ds, acc, loss);
    else if (!rc)
        printf("accuracy %.4f (loss %.4f) on %lld images from %s\n", acc, loss, (long long)ds.n,
               data);
    gc_classifier_free(&net);
    if (be) gc_backend_free(be);
    gc_dataset_free(&ds);
    return rc;
}

int gc_cmd_classify(gc_cli *cli, int argc, char **argv)
{
    gc_classify_args a;
    int rc = gc_classify_args_parse(argc, argv, &a);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    return a.eval ? run_eval(cli, &a) : run_train(cli, &a);
}

/* src/cli/train_args.c - the flags of `gancl train` and its --help: parsing
 * only, apart from the run (cmd_train.c), so that tests/fuzz/fuzz_cli.c can
 * drive it. */
#include <float.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "cli/train_args.h"
#include "gancl/fid.h"

void gc_train_help(FILE *f)
{
    fprintf(f,
            "usage: gancl [--device N|cpu] train [OPTIONS]\n"
            "\n"
            "Trains a GAN on 8-bit grayscale images: an IDX file (as MNIST) or a folder of\n"
            "PNG files.\n"
            "\n"
            "  --model seed|dcgan   dcgan (default): BatchNorm in G, LeakyReLU(0.2) in D, tanh,\n"
            "                       weights N(0, 0.02), 4x4 kernels with stride 2 and padding 1\n"
            "                       (7 -> 14 -> 28); seed: the tutorial's model (3x3 kernels,\n"
            "                       ReLU, sigmoid, PyTorch's default initialisation)\n"
            "  --data FILE|DIR      IDX images, raw or .gz, or a folder of PNG files (read as\n"
            "                       gray; one size), height and width multiples of 4\n"
            "                       (default: Fashion-MNIST from the dataset-fashion-mnist\n"
            "                       package, %s)\n"
            "  --conditional        a class-conditional GAN: G gets the class (a learned\n"
            "                       embedding joined to z), D a projection head; sample\n"
            "                       grids show one row per class.  Labels come from the IDX\n"
            "                       labels file beside --data (train-labels-idx1-ubyte[.gz]\n"
            "                       for train-images-idx3-ubyte[.gz]), --labels, or the\n"
            "                       sub-folders of a PNG folder (one per class)\n"
            "  --labels FILE        IDX labels for --data (with --conditional)\n"
            "  --epochs N           passes over the data (default 25)\n"
            "  --steps N            stop after N steps in total (then --epochs is no limit\n"
            "                       unless also given)\n"
            "  --batch N            images per step (default 64); each epoch is shuffled and\n"
            "                       its last partial batch is dropped\n"
            "  --lr X               Adam learning rate for G and D (default 0.0002)\n"
            "  --beta1 X            Adam beta1 (default 0.5); --beta2 X (default 0.999)\n"
            "  --latent N           length of the noise vector z (default 100)\n"
            "  --g-width N          channels of G's first feature map (default 128)\n"
            "  --d-width N          channels of D's first convolution (default 64)\n"
            "  --seed N             seeds initialisation, noise, shuffling and the fixed\n"
            "                       sample noise (default: from the clock, printed)\n"
            "  --out DIR            the run folder (default runs/<YYYYmmdd-HHMMSS>)\n"
            "  --device N|cpu       as the global option\n"
            "  --sample-every N     also write a sample grid every N steps\n"
            "  --log-every N        losses to losses.csv (and a log line when stdout is not a\n"
            "                       terminal) every N steps (default 50)\n"
            "  --check-every N      check every parameter for NaN/Inf every N steps (default\n"
            "                       %lld; 0: never; the losses are checked whenever logged);\n"
            "                       --resume does not keep it: give it again\n"
            "  --fid-every N        FID of generated samples against the training set after\n"
            "                       every N epochs, into fid.csv and fid.png (0: none, the\n"
            "                       default); the training set's statistics are computed\n"
            "                       once and cached; without Inception weights a notice\n"
            "                       says so and training goes on (README, 'FID')\n"
            "  --fid-n N            samples per FID (default 10000; below 2048 the FID is\n"
            "                       biased)\n"
            "  --fid-dims D         Inception features: 64, 192, 768 or 2048 (default)\n"
            "  --fid-weights FILE   Inception weights, kept for --resume (default\n"
            "                       $GANCL_FID_WEIGHTS, else\n"
            "                       ~/.cache/gancl/" GC_FID_WEIGHTS_NAME ")\n"
            "  --fid-classifier FILE  FID on the penultimate features of a classifier from\n"
            "                       `gancl classify train` instead of Inception's (needs no\n"
            "                       Inception weights; values are not comparable with\n"
            "                       Inception FID)\n"
            "  --resume DIR         continue the run in DIR from its checkpoint; only\n"
            "                       --epochs, --steps, --data, --labels, --device,\n"
            "                       --sample-every, --log-every, --check-every and the\n"
            "                       --fid-* flags may be given with it\n"
            "\n"
            "The run folder gets samples/epoch-NNNN.png (a grid from fixed noise after each\n"
            "epoch: 8x8, or one row of 10 per class; samples/step-NNNNNNN.png with --sample-every "
            "and at a stop between\n"
            "epochs), losses.csv and losses.png, fid.csv and fid.png with --fid-every, and\n"
            "checkpoint.safetensors after each epoch and at the end.  Samples and FID use G\n"
            "in evaluation mode (BatchNorm normalises with its running statistics) and noise\n"
            "of their own, so they do not disturb training: a run with them ends with the\n"
            "same weights as one without.  Ctrl-C (or SIGTERM) finishes the step, writes a\n"
            "checkpoint and exits 130 (143); --resume continues exactly where it stopped.\n"
            "NaN or Inf in a loss or a parameter stops the run with exit code 3, keeping\n"
            "the last good checkpoint (try a lower --lr).  While a run is going, its folder\n"
            "holds gancl.lock: a second run into the same folder is refused; a lock left by\n"
            "a process that died is taken over.\n",
            GC_TRAIN_DEFAULT_DATA, (long long)gc_train_default_config(GC_MODEL_DCGAN).check_every);
}

enum {
    OPT_MODEL = 256,
    OPT_DATA,
    OPT_EPOCHS,
    OPT_STEPS,
    OPT_BATCH,
    OPT_LR,
    OPT_BETA1,
    OPT_BETA2,
    OPT_LATENT,
    OPT_GW,
    OPT_DW,
    OPT_SEED,
    OPT_OUT,
    OPT_DEVICE,
    OPT_SAMPLE,
    OPT_LOG,
    OPT_CHECK,
    OPT_RESUME,
    OPT_FID_EVERY,
    OPT_FID_N,
    OPT_FID_DIMS,
    OPT_FID_WEIGHTS,
    OPT_FID_CLASSIFIER,
    OPT_CONDITIONAL,
    OPT_LABELS,
    OPT_HELP
};

int gc_train_args_parse(int argc, char **argv, gc_train_args *a)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, OPT_MODEL},
        {"data", required_argument, 0, OPT_DATA},
        {"labels", required_argument, 0, OPT_LABELS},
        {"conditional", no_argument, 0, OPT_CONDITIONAL},
        {"fid-classifier", required_argument, 0, OPT_FID_CLASSIFIER},
        {"epochs", required_argument, 0, OPT_EPOCHS},
        {"steps", required_argument, 0, OPT_STEPS},
        {"batch", required_argument, 0, OPT_BATCH},
        {"lr", required_argument, 0, OPT_LR},
        {"beta1", required_argument, 0, OPT_BETA1},
        {"beta2", required_argument, 0, OPT_BETA2},
        {"latent", required_argument, 0, OPT_LATENT},
        {"g-width", required_argument, 0, OPT_GW},
        {"d-width", required_argument, 0, OPT_DW},
        {"seed", required_argument, 0, OPT_SEED},
        {"out", required_argument, 0, OPT_OUT},
        {"device", required_argument, 0, OPT_DEVICE},
        {"sample-every", required_argument, 0, OPT_SAMPLE},
        {"log-every", required_argument, 0, OPT_LOG},
        {"check-every", required_argument, 0, OPT_CHECK},
        {"resume", required_argument, 0, OPT_RESUME},
        {"fid-every", required_argument, 0, OPT_FID_EVERY},
        {"fid-n", required_argument, 0, OPT_FID_N},
        {"fid-dims", required_argument, 0, OPT_FID_DIMS},
        {"fid-weights", required_argument, 0, OPT_FID_WEIGHTS},
        {"help", no_argument, 0, OPT_HELP},
        {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    gc_model_kind kind = GC_MODEL_DCGAN;
    gc_train_config *c = &a->cfg;
    *c = gc_train_default_config(kind);
    long long v;
    double x;
    struct stat st;
    int opt, li = 0;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, &li)) != -1) {
        switch (opt) {
        case OPT_MODEL:
            if (!gc_model_parse(optarg, &kind))
                return gc_cli_usage_error("--model: '%s' is not a model (seed or dcgan)", optarg);
            c->model.kind = kind;
            break;
        case OPT_DATA:
            if (!gc_cli_check_path("--data", optarg, sizeof c->data)) return 2;
            a->data = optarg;
            break;
        case OPT_EPOCHS:
            if (!gc_cli_parse_int("--epochs", optarg, 1, 1000000, &v)) return 2;
            c->epochs = v, a->epochs_set = 1;
            continue;
        case OPT_STEPS:
            if (!gc_cli_parse_int("--steps", optarg, 1, 1000000000000LL, &v)) return 2;
            c->max_steps = v, a->steps_set = 1;
            continue;
        case OPT_BATCH:
            if (!gc_cli_parse_int("--batch", optarg, 2, 65536, &v)) return 2;
            c->batch = (int)v;
            break;
        case OPT_LR:
            if (!gc_cli_parse_float("--lr", optarg, 0, 1, &x)) return 2;
            c->lr = (float)x; /* checked in single precision, as training uses it */
            if (!(c->lr >= FLT_MIN))
                return gc_cli_usage_error("--lr: %g is not a positive single-precision number", x);
            break;
        case OPT_BETA1:
        case OPT_BETA2: {
            const char *name = opt == OPT_BETA1 ? "--beta1" : "--beta2";
            if (!gc_cli_parse_float(name, optarg, 0, 1, &x)) return 2;
            float *beta = opt == OPT_BETA1 ? &c->beta1 : &c->beta2;
            *beta = (float)x; /* 0.999999999 rounds to 1 in single precision */
            if (*beta >= 1) return gc_cli_usage_error("%s: %.9g must be below 1", name, x);
            break;
        }
        case OPT_LATENT:
            if (!gc_cli_parse_int("--latent", optarg, 1, 65536, &v)) return 2;
            c->model.latent = (int)v;
            break;
        case OPT_GW:
            if (!gc_cli_parse_int("--g-width", optarg, 2, 4096, &v)) return 2;
            if (v % 2) return gc_cli_usage_error("--g-width: %lld is odd (G halves it)", v);
            c->model.g_width = (int)v;
            break;
        case OPT_DW:
            if (!gc_cli_parse_int("--d-width", optarg, 1, 4096, &v)) return 2;
            c->model.d_width = (int)v;
            break;
        case OPT_SEED:
            if (!gc_cli_parse_int("--seed", optarg, 0, LLONG_MAX, &v)) return 2;
            c->seed = (uint64_t)v, a->seed_set = 1;
            break;
        case OPT_OUT:
            if (!gc_cli_check_path("--out", optarg, GC_CLI_PATH_MAX)) return 2;
            if (!stat(optarg, &st) && !S_ISDIR(st.st_mode))
                return gc_cli_usage_error("--out: %s exists and is not a folder (the run folder)",
                                          optarg);
            a->out = optarg;
            continue;
        case OPT_DEVICE:
            if (!gc_cli_check_device("--device", optarg)) return 2;
            a->device = optarg;
            continue;
        case OPT_SAMPLE:
            if (!gc_cli_parse_int("--sample-every", optarg, 1, 1000000000000LL, &v)) return 2;
            c->sample_every = v;
            continue;
        case OPT_LOG:
            if (!gc_cli_parse_int("--log-every", optarg, 1, 1000000000000LL, &v)) return 2;
            c->log_every = v, a->log_set = 1;
            continue;
        /* Checking does not change training: a resumed run may change it. */
        case OPT_CHECK:
            if (!gc_cli_parse_int("--check-every", optarg, 0, 1000000000000LL, &v)) return 2;
            c->check_every = v, a->check_set = 1;
            continue;
        case OPT_RESUME:
            if (!gc_cli_check_path("--resume", optarg, GC_CLI_PATH_MAX)) return 2;
            a->resume = optarg;
            continue;
        /* FID settings do not change training: a resumed run may change them. */
        case OPT_FID_EVERY:
            if (!gc_cli_parse_int("--fid-every", optarg, 0, 1000000, &v)) return 2;
            c->fid_every = v, a->fid_every_set = 1;
            continue;
        case OPT_FID_N:
            if (!gc_cli_parse_int("--fid-n", optarg, 2, (long long)1 << 40, &v)) return 2;
            c->fid_n = v, a->fid_n_set = 1;
            continue;
        case OPT_FID_DIMS:
            if (!gc_cli_parse_int("--fid-dims", optarg, 1, 4096, &v)) return 2;
            if (!gc_inception_valid_dims((int)v))
                return gc_cli_usage_error("--fid-dims: %lld is not one of 64, 192, 768, 2048", v);
            c->fid_dims = (int)v, a->fid_dims_set = 1;
            continue;
        case OPT_FID_WEIGHTS:
            if (!gc_cli_check_path("--fid-weights", optarg, sizeof c->fid_weights)) return 2;
            a->fid_weights = optarg;
            continue;
        case OPT_FID_CLASSIFIER:
            if (!gc_cli_check_path("--fid-classifier", optarg, sizeof c->fid_classifier)) return 2;
            a->fid_classifier = optarg;
            continue;
        case OPT_LABELS:
            if (!gc_cli_check_path("--labels", optarg, GC_CLI_PATH_MAX)) return 2;
            a->labels = optarg;
            continue;
        case OPT_CONDITIONAL: a->conditional = 1; break;
        case 'h':
        case OPT_HELP: gc_train_help(stdout); return GC_CLI_DONE;
        default: return gc_cli_bad_option("train", opts, opt, argc, argv);
        }
        /* Reached by flags that fix the run's configuration. */
        if (!a->model_flag[0] && opt != OPT_DATA)
            snprintf(a->model_flag, sizeof a->model_flag, "--%s", opts[li].name);
    }
    if (optind < argc)
        return gc_cli_usage_error("train: unexpected argument '%s' (see gancl train --help)",
                                  argv[optind]);
    if (a->steps_set && !a->epochs_set) c->epochs = 0;
    return 0;
}

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
#include "gancl/io.h"
#include "gancl/ops.h"

void gc_train_help(FILE *f)
{
    fprintf(f,
            "usage: gancl [--device N|cpu] train [OPTIONS]\n"
            "\n"
            "Trains a GAN on 8-bit gray or colour images: an IDX file (as MNIST) or a folder\n"
            "of PNG files.\n"
            "\n"
            "  --model seed|dcgan   dcgan (default): BatchNorm in G, LeakyReLU(0.2) in D,\n"
            "                       tanh, weights N(0, 0.02), 4x4 kernels with stride 2 and\n"
            "                       padding 1, one stage more per doubling of the image (2\n"
            "                       stages at 28x28: 7 -> 14 -> 28; 3 at 32, 4 at 64, 5 at\n"
            "                       128); seed: the tutorial's model (3x3 kernels, ReLU,\n"
            "                       sigmoid, PyTorch's default initialisation)\n"
            "  --data FILE|DIR      IDX images, raw or .gz, or a folder of PNG files (read\n"
            "                       with its sub-folders; gray, colour, alpha, palette; 8 or\n"
            "                       16 bit; unreadable files are skipped with a warning);\n"
            "                       without --size all images must have one size, with\n"
            "                       height and width multiples of 4 (default: Fashion-MNIST\n"
            "                       from the dataset-fashion-mnist package,\n"
            "                       %s)\n"
            "  --size S             resize the shorter side to S (antialiased) and crop the\n"
            "                       centre: S x S images (torchvision's Resize + CenterCrop);\n"
            "                       S a multiple of 4 in [8, 1024], as 32, 64 or 128\n"
            "  --channels 1|3       gray (ITU-R 601 luma) or RGB (gray images copied to all\n"
            "                       three).  Default: the data's own: 1 for IDX files; for a\n"
            "                       PNG folder 3 when any decoded pixel has colour, else 1\n"
            "  --background white|black  what transparent pixels are laid over (default\n"
            "                       white)\n"
            "  --data-cache FILE|none  the decoded images, saved so that a later run (or\n"
            "                       --resume) skips decoding; rebuilt when the files or the\n"
            "                       options change.  Default: RUN/data-cache.safetensors for\n"
            "                       a PNG folder, none for an IDX file.  Several runs may\n"
            "                       share one FILE (give it to --resume again)\n"
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
            "  --ngf N              G's last hidden width, as in the DCGAN paper (default\n"
            "                       64): G starts with N x 2^(stages-1) channels (128 at\n"
            "                       28x28, 512 at 64x64, 1024 at 128x128) and halves them\n"
            "  --ndf N              D's first width, doubled at each stage (default 64)\n"
            "  --g-width N          G's first width directly (instead of --ngf)\n"
            "  --d-width N          the same as --ndf\n"
            "  --seed N             seeds initialisation, noise, shuffling and the fixed\n"
            "                       sample noise (default: from the clock, printed)\n"
            "  --out DIR            the run folder (default runs/<YYYYmmdd-HHMMSS>)\n"
            "  --device N|cpu       as the global option\n"
            "\n"
            "Remedies against mode collapse (G drawing one image, or a few), off by default:\n"
            "  --spectral-norm      spectral normalisation of D's weights (one power\n"
            "                       iteration per step; D then has no BatchNorm); dcgan only\n"
            "  --mbstd G            a minibatch-standard-deviation channel before D's head,\n"
            "                       over groups of G images (4 is usual; 0: off); dcgan only\n"
            "  --loss bce|hinge     D's and G's loss (default bce, DCGAN's)\n"
            "  --diffaug POLICY     DiffAugment of every image D sees: a comma list of\n"
            "                       color, translation and cutout, or all, or none (default);\n"
            "                       for small data sets (a few thousand images or fewer)\n"
            "  --ema DECAY          sample, checkpoint and FID with a moving average of G's\n"
            "                       weights (0 < DECAY < 1, as 0.999; 0: off, the default)\n"
            "  --remedies           all of them: --spectral-norm --mbstd 4 --loss hinge\n"
            "                       --diffaug all --ema 0.999 (flags given as well win)\n"
            "  --no-diversity       skip the collapse diagnostic after each epoch (below)\n"
            "\n"
            "  --save-every N       the epoch grid, checkpoint and collapse diagnostic after\n"
            "                       every N epochs (default 1; for data sets of a few\n"
            "                       hundred images, whose epochs take seconds); the end and\n"
            "                       a stop always checkpoint\n"
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
            "                       --epochs, --steps, --data, --labels, --data-cache,\n"
            "                       --device, --save-every, --sample-every, --log-every,\n"
            "                       --check-every, --no-diversity and the --fid-* flags\n"
            "                       may be given with it (--size, --channels and\n"
            "                       --background are the run's, from its checkpoint)\n"
            "\n"
            "The run folder gets samples/epoch-NNNN.png (a grid from fixed noise after each\n"
            "epoch: 8x8, or one row of 10 per class; samples/step-NNNNNNN.png with\n"
            "--sample-every and at a stop between epochs), losses.csv and losses.png,\n"
            "diversity.csv and diversity.png, fid.csv and fid.png with --fid-every, and\n"
            "checkpoint.safetensors after each epoch and at the end.\n"
            "\n"
            "The collapse diagnostic: after each epoch, the mean distance between generated\n"
            "samples over that between real images, in D's features and in pixels (1: as\n"
            "diverse as the data).  Below %.1f in D's features a warning says G may be\n"
            "collapsing (try --remedies); not in the first %d steps, when an untrained G\n"
            "draws look-alike images anyway.\n"
            "\n"
            "Samples, the diagnostic and FID use G in evaluation mode (BatchNorm normalises\n"
            "with its running statistics) and noise of their own, so they do not disturb\n"
            "training: a run with them ends with the same weights as one without.  Ctrl-C\n"
            "(or SIGTERM) finishes the step, writes a checkpoint and exits 130 (143);\n"
            "--resume continues exactly where it stopped.  NaN or Inf in a loss or a\n"
            "parameter stops the run with exit code 3, keeping the last good checkpoint\n"
            "(try a lower --lr).  While a run is going, its folder holds gancl.lock: a\n"
            "second run into the same folder is refused; a lock left by a process that\n"
            "died is taken over.\n",
            GC_TRAIN_DEFAULT_DATA, (long long)gc_train_default_config(GC_MODEL_DCGAN).check_every,
            GC_DIVERSITY_WARN, GC_TRAIN_DIVERSITY_WARM_STEPS);
}

/* "color,translation,cutout", "all" or "none" to GC_DIFFAUG_* bits; -1
 * after a usage error. */
static int parse_diffaug(const char *s)
{
    if (!strcmp(s, "all")) return GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT;
    if (!strcmp(s, "none")) return 0;
    int bits = 0;
    const char *p = s;
    for (;;) {
        size_t n = strcspn(p, ",");
        if ((n == 5 && !strncmp(p, "color", 5)) || (n == 6 && !strncmp(p, "colour", 6)))
            bits |= GC_DIFFAUG_COLOR;
        else if (n == 11 && !strncmp(p, "translation", 11))
            bits |= GC_DIFFAUG_TRANSLATION;
        else if (n == 6 && !strncmp(p, "cutout", 6))
            bits |= GC_DIFFAUG_CUTOUT;
        else
            return gc_cli_usage_error("--diffaug: '%.*s' is not a policy (a comma list of color, "
                                      "translation and cutout, or all, or none)",
                                      (int)(n > 40 ? 40 : n), p),
                   -1;
        if (!p[n]) return bits;
        p += n + 1;
    }
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
    OPT_SIZE,
    OPT_CHANNELS,
    OPT_BACKGROUND,
    OPT_DATA_CACHE,
    OPT_NGF,
    OPT_NDF,
    OPT_SN,
    OPT_MBSTD,
    OPT_LOSS,
    OPT_DIFFAUG,
    OPT_EMA,
    OPT_REMEDIES,
    OPT_NO_DIVERSITY,
    OPT_SAVE_EVERY,
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
        {"size", required_argument, 0, OPT_SIZE},
        {"channels", required_argument, 0, OPT_CHANNELS},
        {"background", required_argument, 0, OPT_BACKGROUND},
        {"data-cache", required_argument, 0, OPT_DATA_CACHE},
        {"ngf", required_argument, 0, OPT_NGF},
        {"ndf", required_argument, 0, OPT_NDF},
        {"spectral-norm", no_argument, 0, OPT_SN},
        {"mbstd", required_argument, 0, OPT_MBSTD},
        {"loss", required_argument, 0, OPT_LOSS},
        {"diffaug", required_argument, 0, OPT_DIFFAUG},
        {"ema", required_argument, 0, OPT_EMA},
        {"remedies", no_argument, 0, OPT_REMEDIES},
        {"no-diversity", no_argument, 0, OPT_NO_DIVERSITY},
        {"save-every", required_argument, 0, OPT_SAVE_EVERY},
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
    /* Remedies given one by one, so that --remedies fills in only the rest. */
    int sn_set = 0, mbstd_set = 0, loss_set = 0, diffaug_set = 0, ema_set = 0, remedies = 0;
    int d_width_flag = 0; /* OPT_NDF or OPT_DW, for a flag given twice over */
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
            if (a->ngf) return gc_cli_usage_error("train: give --ngf or --g-width, not both");
            c->model.g_width = (int)v, a->g_width_set = 1;
            break;
        case OPT_NGF:
            if (!gc_cli_parse_int("--ngf", optarg, 1, 4096, &v)) return 2;
            if (a->g_width_set)
                return gc_cli_usage_error("train: give --ngf or --g-width, not both");
            a->ngf = (int)v;
            break;
        case OPT_DW:
        case OPT_NDF: {
            const char *name = opt == OPT_DW ? "--d-width" : "--ndf";
            if (!gc_cli_parse_int(name, optarg, 1, 4096, &v)) return 2;
            if (d_width_flag && d_width_flag != opt)
                return gc_cli_usage_error("train: give --ndf or --d-width, not both (the same)");
            c->model.d_width = (int)v, d_width_flag = opt;
            break;
        }
        case OPT_SIZE:
            if (!gc_cli_parse_int("--size", optarg, 8, 1024, &v)) return 2;
            if (v % 4)
                return gc_cli_usage_error("--size: %lld is not a multiple of 4 (as 32, 64, 128)",
                                          v);
            c->image_size = (int)v;
            break;
        case OPT_CHANNELS:
            if (strcmp(optarg, "1") && strcmp(optarg, "3"))
                return gc_cli_usage_error("--channels: '%s' is not 1 (gray) or 3 (RGB)", optarg);
            a->channels = optarg[0] - '0';
            break;
        case OPT_BACKGROUND:
            if (!strcmp(optarg, "white"))
                c->background = GC_PNG_WHITE;
            else if (!strcmp(optarg, "black"))
                c->background = GC_PNG_BLACK;
            else
                return gc_cli_usage_error("--background: '%s' is not white or black", optarg);
            break;
        case OPT_DATA_CACHE:
            if (!gc_cli_check_path("--data-cache", optarg, GC_CLI_PATH_MAX)) return 2;
            if (strcmp(optarg, "none") && !stat(optarg, &st) && S_ISDIR(st.st_mode))
                return gc_cli_usage_error("--data-cache: %s is a folder (give a file, or none)",
                                          optarg);
            a->data_cache = optarg;
            continue;
        case OPT_NO_DIVERSITY: a->no_diversity = 1; continue;
        case OPT_SN: c->model.spectral_norm = 1, sn_set = 1; break;
        case OPT_MBSTD:
            if (!gc_cli_parse_int("--mbstd", optarg, 0, 1024, &v)) return 2;
            c->model.mbstd = (int)v, mbstd_set = 1;
            break;
        case OPT_LOSS:
            if (!strcmp(optarg, "bce"))
                c->loss = GC_LOSS_BCE;
            else if (!strcmp(optarg, "hinge"))
                c->loss = GC_LOSS_HINGE;
            else
                return gc_cli_usage_error("--loss: '%s' is not a loss (bce or hinge)", optarg);
            loss_set = 1;
            break;
        case OPT_DIFFAUG: {
            int bits = parse_diffaug(optarg);
            if (bits < 0) return 2;
            c->diffaug = bits, diffaug_set = 1;
            break;
        }
        case OPT_EMA:
            if (!gc_cli_parse_float("--ema", optarg, 0, 1, &x)) return 2;
            c->ema = (float)x; /* as --beta2: 0.9999999999 is 1 in single precision */
            if (c->ema >= 1)
                return gc_cli_usage_error("--ema: %.9g must be below 1 (0.999 is usual; 0: off)",
                                          x);
            if (x > 0 && !(c->ema > 0))
                return gc_cli_usage_error("--ema: %g is 0 in single precision (0.999 is usual)", x);
            ema_set = 1;
            break;
        case OPT_REMEDIES: remedies = 1; break;
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
        case OPT_SAVE_EVERY:
            if (!gc_cli_parse_int("--save-every", optarg, 1, 1000000, &v)) return 2;
            c->save_every = v, a->save_set = 1;
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
    if (remedies) { /* gc_train_config_remedies, but flags given as well win */
        gc_train_config r = *c;
        r.model.kind = GC_MODEL_DCGAN; /* all five: the seed model is refused below */
        gc_train_config_remedies(&r);
        if (!sn_set) c->model.spectral_norm = r.model.spectral_norm;
        if (!mbstd_set) c->model.mbstd = r.model.mbstd;
        if (!loss_set) c->loss = r.loss;
        if (!diffaug_set) c->diffaug = r.diffaug;
        if (!ema_set) c->ema = r.ema;
    }
    /* They change D's architecture, which seed's tutorial model keeps as it is. */
    const char *dcgan_only = c->model.spectral_norm ? (sn_set ? "--spectral-norm" : "--remedies")
                             : c->model.mbstd       ? (mbstd_set ? "--mbstd" : "--remedies")
                                                    : NULL;
    if (c->model.kind == GC_MODEL_SEED && dcgan_only)
        return gc_cli_usage_error("train: %s is for --model dcgan (the seed model keeps its D; "
                                  "--loss, --diffaug and --ema work with both)",
                                  dcgan_only);
    return 0;
}

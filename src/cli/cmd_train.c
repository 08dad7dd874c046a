/* src/cli/cmd_train.c - `gancl train`: flags, the run folder, the training
 * loop with its progress line, sample grids, the loss log, FID every few
 * epochs, checkpoints, and a clean stop on SIGINT/SIGTERM. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_time.h"
#include "cli/commands.h"
#include "gancl/fid.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "util/fs.h"

#define DEFAULT_DATA "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
#define GRID_SIDE    8

static void help(FILE *f)
{
    fprintf(f,
            "usage: gancl [--device N|cpu] train [OPTIONS]\n"
            "\n"
            "Trains a GAN on a file of 8-bit grayscale images (IDX format, as MNIST).\n"
            "\n"
            "  --model seed|dcgan   dcgan (default): BatchNorm in G, LeakyReLU(0.2) in D, tanh,\n"
            "                       weights N(0, 0.02), 4x4 kernels with stride 2 and padding 1\n"
            "                       (7 -> 14 -> 28); seed: the tutorial's model (3x3 kernels,\n"
            "                       ReLU, sigmoid, PyTorch's default initialisation)\n"
            "  --data FILE          IDX images, raw or .gz, height and width multiples of 4\n"
            "                       (default: Fashion-MNIST from the dataset-fashion-mnist\n"
            "                       package, %s)\n"
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
            "  --resume DIR         continue the run in DIR from its checkpoint; only\n"
            "                       --epochs, --steps, --data, --device, --sample-every,\n"
            "                       --log-every and the --fid-* flags may be given with it\n"
            "\n"
            "The run folder gets samples/epoch-NNNN.png (an 8x8 grid from fixed noise after\n"
            "each epoch; samples/step-NNNNNNN.png with --sample-every and at a stop between\n"
            "epochs), losses.csv and losses.png, fid.csv and fid.png with --fid-every, and\n"
            "checkpoint.safetensors after each epoch and at the end.  Samples and FID use G\n"
            "in evaluation mode (BatchNorm normalises with its running statistics) and noise\n"
            "of their own, so they do not disturb training: a run with them ends with the\n"
            "same weights as one without.  Ctrl-C (or SIGTERM) finishes the step, writes a\n"
            "checkpoint and exits 130 (143); --resume continues exactly where it stopped.\n",
            DEFAULT_DATA);
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
    OPT_RESUME,
    OPT_FID_EVERY,
    OPT_FID_N,
    OPT_FID_DIMS,
    OPT_FID_WEIGHTS,
    OPT_HELP
};

typedef struct train_args {
    gc_train_config cfg;
    const char *data, *out, *resume, *device, *fid_weights;
    int epochs_set, steps_set, seed_set, log_set, fid_every_set, fid_n_set, fid_dims_set;
    char model_flag[32]; /* the first flag --resume cannot take, for the message */
} train_args;

static int parse_args(int argc, char **argv, train_args *a)
{
    static const struct option opts[] = {{"model", required_argument, 0, OPT_MODEL},
                                         {"data", required_argument, 0, OPT_DATA},
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
                                         {"resume", required_argument, 0, OPT_RESUME},
                                         {"fid-every", required_argument, 0, OPT_FID_EVERY},
                                         {"fid-n", required_argument, 0, OPT_FID_N},
                                         {"fid-dims", required_argument, 0, OPT_FID_DIMS},
                                         {"fid-weights", required_argument, 0, OPT_FID_WEIGHTS},
                                         {"help", no_argument, 0, OPT_HELP},
                                         {0, 0, 0, 0}};
    gc_model_kind kind = GC_MODEL_DCGAN;
    gc_train_config *c = &a->cfg;
    *c = gc_train_default_config(kind);
    long long v;
    double x;
    int opt, li = 0;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, &li)) != -1) {
        const char *flag = argv[optind - 1];
        switch (opt) {
        case OPT_MODEL:
            if (!gc_model_parse(optarg, &kind))
                return gc_cli_usage_error("--model: '%s' is not a model (seed or dcgan)", optarg);
            c->model.kind = kind;
            break;
        case OPT_DATA: a->data = optarg; break;
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
            if (x <= 0) return gc_cli_usage_error("--lr: must be positive");
            c->lr = (float)x;
            break;
        case OPT_BETA1:
        case OPT_BETA2: {
            const char *name = opt == OPT_BETA1 ? "--beta1" : "--beta2";
            if (!gc_cli_parse_float(name, optarg, 0, 1, &x)) return 2;
            if (x >= 1) return gc_cli_usage_error("%s: must be below 1", name);
            *(opt == OPT_BETA1 ? &c->beta1 : &c->beta2) = (float)x;
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
        case OPT_OUT: a->out = optarg; continue;
        case OPT_DEVICE: a->device = optarg; continue;
        case OPT_SAMPLE:
            if (!gc_cli_parse_int("--sample-every", optarg, 1, 1000000000000LL, &v)) return 2;
            c->sample_every = v;
            continue;
        case OPT_LOG:
            if (!gc_cli_parse_int("--log-every", optarg, 1, 1000000000000LL, &v)) return 2;
            c->log_every = v, a->log_set = 1;
            continue;
        case OPT_RESUME: a->resume = optarg; continue;
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
            if (!*optarg) return gc_cli_usage_error("--fid-weights: empty path");
            if (strlen(optarg) >= sizeof c->fid_weights)
                return gc_cli_usage_error("--fid-weights: path too long");
            a->fid_weights = optarg;
            continue;
        case 'h':
        case OPT_HELP: help(stdout); return -1;
        case ':': return gc_cli_usage_error("train: %s needs a value", flag);
        default:
            return gc_cli_usage_error("train: unknown option '%s' (see gancl train --help)", flag);
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

/* ---- signals ---------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static void install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* ---- the run ------------------------------------------------------------------ */

typedef struct run {
    gc_trainer tr;
    gc_loss_log log;
    gc_train_fid *fid; /* NULL: no FID in this run */
    gc_fid_log fid_log;
    double last_fid;
    int have_fid;
    char dir[PATH_MAX], ckpt[PATH_MAX + 32];
    int64_t total; /* the step to stop at */
    int tty;
    float *grid; /* GRID_SIDE^2 host images */
    gc_train_stats last;
    double t_start, t_log, t_draw;
    int64_t step_start, step_log;
    double img_s;
} run;

static void fmt_eta(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 1e8) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

static void print_progress(run *r, int final_line)
{
    const gc_train_state *st = &r->tr.st;
    double now = gc_cli_now(), rate = r->img_s;
    if (!(rate > 0) && now > r->t_start)
        rate = (double)(st->step - r->step_start) * r->tr.cfg.batch / (now - r->t_start);
    char eta[32], epochs[32] = "", losses[128] = "";
    fmt_eta(eta, sizeof eta, (double)(r->total - st->step) * r->tr.cfg.batch / rate);
    if (r->tr.cfg.epochs) snprintf(epochs, sizeof epochs, "/%" PRId64, r->tr.cfg.epochs);
    if (r->last.steps)
        snprintf(losses, sizeof losses, "  D %.4f  G %.4f  D(x) %.3f  D(G(z)) %.3f", r->last.d_loss,
                 r->last.g_loss, r->last.d_real, r->last.d_fake);
    char fid[48] = "";
    if (r->have_fid) snprintf(fid, sizeof fid, "  FID %.2f", r->last_fid);
    printf("%sepoch %" PRId64 "%s  step %" PRId64 "/%" PRId64 "  %.0f img/s  ETA %s%s%s%s",
           r->tty ? "\r\033[K" : "", st->epoch + 1, epochs, st->step, r->total, rate, eta, losses,
           fid, r->tty && !final_line ? "" : "\n");
    fflush(stdout);
    r->t_draw = now;
}

static int write_grid(run *r, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/samples/%s", r->dir, name);
    const gc_gan_config *m = &r->tr.cfg.model;
    float lo, hi;
    gc_gan_pixel_range(m->kind, &lo, &hi);
    gc_status s = gc_trainer_sample_fixed(&r->tr, GRID_SIDE * GRID_SIDE, r->grid);
    if (s == GC_OK)
        s = gc_png_write_grid(path, r->grid, GRID_SIDE * GRID_SIDE, m->channels, m->height,
                              m->width, lo, hi, GRID_SIDE, GRID_SIDE);
    return s == GC_OK ? 0 : gc_cli_fail(s);
}

static int log_stats(run *r)
{
    gc_train_stats s;
    gc_status rc = gc_trainer_read_stats(&r->tr, &s); /* waits for the device */
    if (rc != GC_OK) return gc_cli_fail(rc);
    if (!s.steps) return 0;
    double now = gc_cli_now();
    r->img_s = (double)(r->tr.st.step - r->step_log) * r->tr.cfg.batch / (now - r->t_log);
    r->t_log = now, r->step_log = r->tr.st.step;
    r->last = s;
    rc = gc_loss_log_add(&r->log, r->tr.st.step, r->tr.st.epoch + 1, &s, r->img_s);
    if (rc != GC_OK) return gc_cli_fail(rc);
    if (!r->tty) print_progress(r, 0);
    return 0;
}

/* ---- FID ------------------------------------------------------------------------ */

static void real_stats_progress(void *ctx, int64_t done, int64_t total)
{
    const run *r = ctx;
    if (!r->tty) return;
    printf("\r\033[KFID: statistics of the training set: %" PRId64 "/%" PRId64 " images%s", done,
           total, done == total ? "\n" : "");
    fflush(stdout);
}

static int eval_progress(void *ctx, int64_t done, int64_t total)
{
    const run *r = ctx;
    if (r->tty) {
        printf("\r\033[KFID: %" PRId64 "/%" PRId64 " samples", done, total);
        fflush(stdout);
    }
    return stop_signal != 0;
}

/* Where gc_fid_weights_path looks when no --fid-weights is given, for the
 * notice that there is nothing there. */
static void default_weights_place(char *buf, size_t n)
{
    const char *env = getenv("GANCL_FID_WEIGHTS");
    char dir[PATH_MAX];
    if (env && *env)
        snprintf(buf, n, "%s ($GANCL_FID_WEIGHTS)", env);
    else if (gc_fs_cache_dir(dir, sizeof dir) == GC_OK)
        snprintf(buf, n, "%s/%s", dir, GC_FID_WEIGHTS_NAME);
    else
        snprintf(buf, n, "the cache folder (%s)", gc_last_error());
}

/* Builds the evaluator when the run asks for FID and weights exist; with
 * none, says so once and lets training go on. */
static int setup_fid(run *r, const train_args *a)
{
    const gc_train_config *c = &r->tr.cfg;
    if (!c->fid_every) return 0;
    char wpath[1024], place[PATH_MAX + 64];
    const char *given = c->fid_weights[0] ? c->fid_weights : NULL;
    if (gc_fid_weights_path(given, wpath, sizeof wpath) != GC_OK) {
        if (a->fid_weights)
            return gc_cli_usage_error("--fid-weights: %s is not a file", a->fid_weights);
        /* A path recorded by the run may be gone (another machine): say so
         * and go on, as with no weights at all. */
        if (given)
            snprintf(place, sizeof place, "%s (--fid-weights of this run)", given);
        else
            default_weights_place(place, sizeof place);
        fprintf(stderr,
                "gancl: FID skipped: no Inception weights at %s; see README 'FID' to get them "
                "(or pass --fid-weights FILE); training goes on\n",
                place);
        return 0;
    }
    printf("FID after every %" PRId64 " epoch%s: %" PRId64 " samples, %d dims, weights %s\n",
           c->fid_every, c->fid_every == 1 ? "" : "s", c->fid_n, c->fid_dims, wpath);
    fflush(stdout);
    int batch = c->fid_n < GC_FID_DEFAULT_BATCH ? (int)c->fid_n : GC_FID_DEFAULT_BATCH;
    gc_status s = gc_train_fid_init(&r->tr, wpath, c->data, c->fid_dims, batch, real_stats_progress,
                                    r, &r->fid);
    if (s == GC_OK) {
        s = gc_fid_log_open(&r->fid_log, r->dir, a->resume ? r->tr.st.step : -1);
        if (s != GC_OK) {
            gc_train_fid_free(r->fid);
            r->fid = NULL;
        }
    }
    return s == GC_OK ? 0 : gc_cli_fail(s);
}

/* After a checkpoint, so that a failing or interrupted evaluation costs no
 * training. */
static int eval_fid(run *r)
{
    gc_trainer *tr = &r->tr;
    const gc_train_config *c = &tr->cfg;
    int64_t epoch = tr->st.epoch + 1;
    double t0 = gc_cli_now(), fid;
    gc_status s = gc_train_fid_eval(r->fid, tr, c->fid_n, eval_progress, r, &fid);
    if (s == GC_ERR_INTERRUPTED) {
        printf("%sepoch %" PRId64 ": FID skipped (interrupted)\n", r->tty ? "\r\033[K" : "", epoch);
        return 0;
    }
    if (s == GC_OK) s = gc_fid_log_add(&r->fid_log, epoch, tr->st.step, fid, c->fid_n, c->fid_dims);
    if (s != GC_OK) {
        if (r->tty) printf("\n");
        return gc_cli_fail(s);
    }
    r->last_fid = fid, r->have_fid = 1;
    printf("%sepoch %" PRId64 "  step %" PRId64 "  FID %.4f  (%" PRId64
           " samples, %d dims, %.1f s)\n",
           r->tty ? "\r\033[K" : "", epoch, tr->st.step, fid, c->fid_n, c->fid_dims,
           gc_cli_now() - t0);
    fflush(stdout);
    return 0;
}

static int checkpoint(run *r)
{
    gc_status s = gc_trainer_save(&r->tr, r->ckpt);
    if (s == GC_OK) s = gc_loss_log_plot(&r->log);
    return s == GC_OK ? 0 : gc_cli_fail(s);
}

static int loop(run *r)
{
    gc_trainer *tr = &r->tr;
    const gc_train_config *c = &tr->cfg;
    char name[64];
    int rc;
    while (tr->st.step < r->total && !stop_signal) {
        gc_status s = gc_trainer_step(tr);
        if (s != GC_OK) return gc_cli_fail(s);
        int64_t step = tr->st.step;
        int epoch_done = gc_trainer_epoch_done(tr);
        if (step % c->log_every == 0 || epoch_done || step == r->total)
            if ((rc = log_stats(r))) return rc;
        if (r->tty && gc_cli_now() - r->t_draw > 0.2) print_progress(r, 0);
        double t_io = gc_cli_now();
        if (c->sample_every && step % c->sample_every == 0) {
            snprintf(name, sizeof name, "step-%07" PRId64 ".png", step);
            if ((rc = write_grid(r, name))) return rc;
        }
        if (epoch_done) {
            snprintf(name, sizeof name, "epoch-%04" PRId64 ".png", tr->st.epoch + 1);
            if ((rc = write_grid(r, name)) || (rc = checkpoint(r))) return rc;
            if (r->fid && (tr->st.epoch + 1) % c->fid_every == 0 && !stop_signal &&
                (rc = eval_fid(r)))
                return rc;
        }
        /* Images/s and the ETA count training only, not samples and checkpoints. */
        t_io = gc_cli_now() - t_io;
        r->t_log += t_io, r->t_start += t_io;
    }
    if (tr->acc_steps && (rc = log_stats(r))) return rc;
    if (r->tty) print_progress(r, 1);
    if (!gc_trainer_epoch_done(tr) && tr->st.step > r->step_start) {
        snprintf(name, sizeof name, "step-%07" PRId64 ".png", tr->st.step);
        if (!stop_signal && (rc = write_grid(r, name))) return rc;
        if ((rc = checkpoint(r))) return rc;
    }
    return 0;
}

/* ---- setup ---------------------------------------------------------------------- */

static int load_data(const char *path, int is_default, gc_idx *idx)
{
    if (is_default && !gc_fs_is_file(path))
        return gc_cli_usage_error("no training data: %s is missing; install the package "
                                  "dataset-fashion-mnist (tools/setup.sh) or pass --data FILE",
                                  path);
    gc_status s = gc_idx_read(path, GC_IDX_IMAGES, idx);
    return s == GC_OK ? 0 : gc_cli_fail(s);
}

/* The checkpoint keeps --fid-weights for --resume, made absolute so that a
 * run resumed from another folder finds it. */
static void record_weights(gc_train_config *c, const char *path)
{
    char real[PATH_MAX];
    const char *p = realpath(path, real) && strlen(real) < sizeof c->fid_weights ? real : path;
    size_t n = strlen(p);
    if (n >= sizeof c->fid_weights) n = sizeof c->fid_weights - 1; /* parse_args refused these */
    memcpy(c->fid_weights, p, n);
    c->fid_weights[n] = '\0';
}

/* Picks the run folder and the configuration: fresh from flags, or from the
 * checkpoint of --resume with the flags that may change. */
static int prepare(train_args *a, run *r)
{
    gc_train_config *c = &a->cfg;
    if (a->resume) {
        if (a->model_flag[0])
            return gc_cli_usage_error("train: %s cannot be combined with --resume (the run "
                                      "keeps its configuration)",
                                      a->model_flag);
        if (a->out) return gc_cli_usage_error("train: --resume DIR writes to DIR; drop --out");
        snprintf(r->dir, sizeof r->dir, "%s", a->resume);
        snprintf(r->ckpt, sizeof r->ckpt, "%s/checkpoint.safetensors", r->dir);
        if (!gc_fs_is_file(r->ckpt))
            return gc_cli_usage_error("--resume: %s has no checkpoint.safetensors", a->resume);
        gc_train_config saved;
        gc_status s = gc_checkpoint_config(r->ckpt, &saved);
        if (s != GC_OK) return gc_cli_fail(s);
        if (a->epochs_set || a->steps_set) saved.epochs = c->epochs, saved.max_steps = c->max_steps;
        if (c->sample_every) saved.sample_every = c->sample_every;
        if (a->log_set) saved.log_every = c->log_every;
        if (a->data) snprintf(saved.data, sizeof saved.data, "%s", a->data);
        if (a->fid_every_set) saved.fid_every = c->fid_every;
        if (a->fid_n_set) saved.fid_n = c->fid_n;
        if (a->fid_dims_set) saved.fid_dims = c->fid_dims;
        if (a->fid_weights) record_weights(&saved, a->fid_weights);
        *c = saved;
        return 0;
    }
    if (a->out) {
        snprintf(r->dir, sizeof r->dir, "%s", a->out);
    } else {
        char stamp[32];
        time_t t = time(NULL);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&t));
        snprintf(r->dir, sizeof r->dir, "runs/%s", stamp);
    }
    snprintf(r->ckpt, sizeof r->ckpt, "%s/checkpoint.safetensors", r->dir);
    if (gc_fs_is_file(r->ckpt))
        return gc_cli_usage_error("%s already holds a run; continue it with gancl train --resume "
                                  "%s, or pick another --out",
                                  r->dir, r->dir);
    if (!a->seed_set) c->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 16);
    snprintf(c->data, sizeof c->data, "%s", a->data ? a->data : DEFAULT_DATA);
    if (a->fid_weights) record_weights(c, a->fid_weights);
    return 0;
}

/* Once the run's configuration is known (a resumed run brings its own). */
static int check_fid_flags(const train_args *a)
{
    const gc_train_config *c = &a->cfg;
    if (a->fid_weights && !gc_fs_is_file(a->fid_weights))
        return gc_cli_usage_error("--fid-weights: %s is not a file", a->fid_weights);
    if (!c->fid_every) {
        const char *flag = a->fid_n_set      ? "--fid-n"
                           : a->fid_dims_set ? "--fid-dims"
                           : a->fid_weights  ? "--fid-weights"
                                             : NULL;
        if (flag) return gc_cli_usage_error("train: %s needs --fid-every N", flag);
        return 0;
    }
    if (c->fid_dims == 2048 && c->fid_n < GC_FID_MIN_SAMPLES)
        fprintf(stderr,
                "gancl: warning: --fid-n %" PRId64 " with 2048 dims: fewer than %d samples, so "
                "the covariance is rank-deficient and the FID biased upwards (10000 is usual)\n",
                c->fid_n, GC_FID_MIN_SAMPLES);
    return 0;
}

static void print_resume_hint(const run *r, const char *device)
{
    fprintf(stderr,
            "gancl: stopped at step %" PRId64 "; checkpoint in %s\n"
            "gancl: continue with: gancl %s%s%strain --resume %s\n",
            r->tr.st.step, r->ckpt, device ? "--device " : "", device ? device : "",
            device ? " " : "", r->dir);
}

int gc_cmd_train(gc_cli *cli, int argc, char **argv)
{
    train_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? 0 : rc;
    run *r = calloc(1, sizeof *r);
    if (!r) return gc_cli_usage_error("out of memory");
    gc_idx idx = {0};
    gc_backend *be = NULL;
    gc_status s;
    int trainer_up = 0, log_up = 0;
    if ((rc = prepare(&a, r)) || (rc = check_fid_flags(&a))) goto done;
    gc_train_config *c = &a.cfg;
    if ((rc = load_data(c->data, !a.data && !a.resume, &idx))) goto done;
    if (!a.resume) c->model.height = (int)idx.h, c->model.width = (int)idx.w;
    if ((s = gc_gan_config_check(&c->model)) != GC_OK) {
        rc = gc_cli_usage_error("%s: %s", c->data, gc_last_error());
        goto done;
    }
    if ((rc = gc_cli_open_backend(cli, a.device, &be))) goto done;
    char samples[PATH_MAX + 16];
    snprintf(samples, sizeof samples, "%s/samples", r->dir);
    if ((s = gc_fs_mkdirs(samples)) != GC_OK ||
        (s = gc_trainer_init(&r->tr, be, c, idx.data, idx.n, (int)idx.h, (int)idx.w)) != GC_OK) {
        rc = gc_cli_fail(s);
        goto done;
    }
    trainer_up = 1;
    if (a.resume && (s = gc_trainer_load(&r->tr, r->ckpt)) != GC_OK) {
        rc = gc_cli_fail(s);
        goto done;
    }
    if ((s = gc_loss_log_open(&r->log, r->dir, a.resume ? r->tr.st.step : -1)) != GC_OK) {
        rc = gc_cli_fail(s);
        goto done;
    }
    log_up = 1;
    r->grid = malloc((size_t)GRID_SIDE * GRID_SIDE * c->model.channels * c->model.height *
                     c->model.width * sizeof(float));
    if (!r->grid) {
        rc = gc_cli_usage_error("out of memory");
        goto done;
    }

    int64_t spe = r->tr.steps_per_epoch;
    r->total = c->epochs ? c->epochs * spe : INT64_MAX;
    if (c->max_steps && c->max_steps < r->total) r->total = c->max_steps;
    printf("%s %s: model %s, %" PRId64 " images %" PRId64 "x%" PRId64 " from %s, batch %d "
           "(%" PRId64 " steps per epoch, %" PRId64 " images dropped), device %s, seed %" PRIu64
           ", step %" PRId64 " of %" PRId64 "\n",
           a.resume ? "resuming" : "training", r->dir, gc_model_name(c->model.kind), idx.n, idx.h,
           idx.w, c->data, c->batch, spe, idx.n - spe * c->batch, gc_backend_name(be), c->seed,
           r->tr.st.step, r->total);
    fflush(stdout);
    if (r->tr.st.step >= r->total) {
        printf("nothing to do: the run already reached step %" PRId64 "\n", r->tr.st.step);
        goto done;
    }
    r->tty = isatty(STDOUT_FILENO);
    if ((rc = setup_fid(r, &a))) goto done;
    r->t_start = r->t_log = gc_cli_now();
    r->step_start = r->step_log = r->tr.st.step;
    install_handlers();
    rc = loop(r);
    if (!rc && stop_signal) {
        print_resume_hint(r, a.device ? a.device : cli->device);
        rc = stop_signal == SIGTERM ? 143 : 130;
    } else if (!rc) {
        printf("done: %" PRId64 " steps; samples in %s/samples, checkpoint %s\n", r->tr.st.step,
               r->dir, r->ckpt);
    }
done:
    if (r->fid) gc_fid_log_close(&r->fid_log);
    gc_train_fid_free(r->fid);
    if (log_up) gc_loss_log_close(&r->log);
    if (trainer_up) gc_trainer_free(&r->tr);
    if (be) gc_backend_free(be);
    gc_idx_free(&idx);
    free(r->grid);
    free(r);
    return rc;
}

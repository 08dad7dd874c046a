/* src/cli/cmd_train.c - `gancl train` (flags: train_args.c): the run folder,
 * the training loop with its progress line, sample grids, the loss log, FID every few
 * epochs, checkpoints, and a clean stop on SIGINT/SIGTERM. */
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_time.h"
#include "cli/commands.h"
#include "cli/train_args.h"
#include "gancl/dataset.h"
#include "gancl/fid.h"
#include "gancl/io.h"
#include "gancl/ops.h"
#include "gancl/train.h"
#include "util/fs.h"
#include "util/lock.h"

#define DEFAULT_DATA   GC_TRAIN_DEFAULT_DATA
#define GRID_SIDE      8
#define GRID_PER_CLASS 10 /* a conditional run's grid: one row of these per class */
#define DEFAULT_NGF    64 /* --ngf: 128 channels at 28 x 28, as before it existed */

typedef gc_train_args train_args;

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
    gc_diversity_log div_log; /* the collapse diagnostic's */
    int div_up;               /* 0 with --no-diversity */
    char dir[PATH_MAX], ckpt[PATH_MAX + 32];
    int64_t total; /* the step to stop at */
    int tty;
    float *grid;              /* grid_rows x grid_cols host images */
    int grid_rows, grid_cols; /* 8 x 8, or one row of 10 per class */
    gc_train_stats last;
    gc_lock lock;      /* the run folder's gancl.lock, held while we run */
    int made_dir;      /* this process created the run folder */
    int made_cache;    /* ... and wrote its default decode cache */
    int64_t ckpt_step; /* the step of the checkpoint in the folder; -1: none */
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
    int n = r->grid_rows * r->grid_cols;
    gc_status s = gc_trainer_sample_fixed(&r->tr, n, r->grid);
    if (s == GC_OK)
        s = gc_png_write_grid(path, r->grid, n, m->channels, m->height, m->width, lo, hi,
                              r->grid_rows, r->grid_cols);
    return s == GC_OK ? 0 : gc_cli_fail(s);
}

/* gc_cli_fail, except that a diverged run says which checkpoint it kept
 * and exits 3. */
static int train_fail(const run *r, gc_status s)
{
    if (s != GC_ERR_DIVERGED) return gc_cli_fail(s);
    if (r->ckpt_step >= 0)
        fprintf(stderr,
                "gancl: %s (--lr); the checkpoint of step %" PRId64 " is kept unchanged in %s\n",
                gc_last_error(), r->ckpt_step, r->ckpt);
    else
        fprintf(stderr, "gancl: %s (--lr); no checkpoint was written\n", gc_last_error());
    return 3;
}

static int log_stats(run *r)
{
    gc_train_stats s;
    gc_status rc = gc_trainer_read_stats(&r->tr, &s); /* waits for the device */
    if (rc != GC_OK) return train_fail(r, rc);
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
    const char *weights = NULL;
    if (c->fid_classifier[0]) {
        if (!gc_fs_is_file(c->fid_classifier)) {
            fprintf(stderr,
                    "gancl: FID skipped: the classifier %s (--fid-classifier of this run) is "
                    "gone; training goes on\n",
                    c->fid_classifier);
            return 0;
        }
        printf("FID after every %" PRId64 " epoch%s: %" PRId64 " samples, classifier %s "
               "(classifier FID: not comparable with Inception FID)\n",
               c->fid_every, c->fid_every == 1 ? "" : "s", c->fid_n, c->fid_classifier);
    } else {
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
                    "gancl: FID skipped: no Inception weights at %s; see README 'FID' to get "
                    "them (or pass --fid-weights FILE, or --fid-classifier FILE); training goes "
                    "on\n",
                    place);
            return 0;
        }
        weights = wpath;
        printf("FID after every %" PRId64 " epoch%s: %" PRId64 " samples, %d dims, weights %s\n",
               c->fid_every, c->fid_every == 1 ? "" : "s", c->fid_n, c->fid_dims, wpath);
    }
    fflush(stdout);
    int batch = c->fid_n < GC_FID_DEFAULT_BATCH ? (int)c->fid_n : GC_FID_DEFAULT_BATCH;
    gc_status s = gc_train_fid_init(&r->tr, weights, c->data, c->fid_dims, batch,
                                    real_stats_progress, r, &r->fid);
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
    int dims = gc_train_fid_dims(r->fid);
    const char *what = c->fid_classifier[0] ? "classifier FID" : "FID";
    if (s == GC_OK) s = gc_fid_log_add(&r->fid_log, epoch, tr->st.step, fid, c->fid_n, dims);
    if (s != GC_OK) {
        if (r->tty) printf("\n");
        return gc_cli_fail(s);
    }
    r->last_fid = fid, r->have_fid = 1;
    printf(
        "%sepoch %" PRId64 "  step %" PRId64 "  %s %.4f  (%" PRId64 " samples, %d dims, %.1f s)\n",
        r->tty ? "\r\033[K" : "", epoch, tr->st.step, what, fid, c->fid_n, dims, gc_cli_now() - t0);
    fflush(stdout);
    return 0;
}

/* ---- the collapse diagnostic --------------------------------------------------- */

/* An untrained G draws look-alike images (DCGAN's weights are N(0, 0.02)):
 * until it has trained a while a low ratio says nothing of collapse, and a
 * warning at every run's first epochs would teach users to ignore it. */
#define DIVERSITY_WARM_STEPS GC_TRAIN_DIVERSITY_WARM_STEPS

static int all_remedies(const gc_train_config *c)
{
    return c->model.kind != GC_MODEL_DCGAN ||
           (c->model.spectral_norm && c->model.mbstd && c->loss == GC_LOSS_HINGE && c->diffaug &&
            c->ema > 0);
}

/* After the checkpoint, as FID: the diversity of generated samples against
 * real ones, into diversity.csv and .png, with a warning when it is low. */
static int eval_diversity(run *r)
{
    gc_trainer *tr = &r->tr;
    int64_t epoch = tr->st.epoch + 1;
    int n = tr->n_images < GC_DIVERSITY_N ? (int)tr->n_images : GC_DIVERSITY_N;
    gc_diversity d;
    gc_status s = gc_trainer_diversity(tr, n, &d);
    if (s == GC_OK) s = gc_diversity_log_add(&r->div_log, epoch, tr->st.step, &d);
    if (s != GC_OK) {
        if (r->tty) printf("\n");
        return gc_cli_fail(s);
    }
    printf("%sepoch %" PRId64 "  diversity %.2f (D features)  %.2f (pixels)\n",
           r->tty ? "\r\033[K" : "", epoch, d.ratio, d.pix_ratio);
    fflush(stdout);
    if (d.ratio < GC_DIVERSITY_WARN && tr->st.step >= DIVERSITY_WARM_STEPS)
        fprintf(stderr,
                "gancl: warning: epoch %" PRId64 ": generated samples are %.2f times as diverse "
                "as real ones (D features); G may be collapsing (%s)\n",
                epoch, d.ratio,
                all_remedies(&tr->cfg) ? "try a lower --lr, or more data" : "try --remedies");
    return 0;
}

/* Never over a good checkpoint with a diverged model: everything is
 * checked for NaN and Inf first. */
static int checkpoint(run *r)
{
    gc_status s = gc_trainer_check(&r->tr);
    if (s == GC_OK && (s = gc_trainer_save(&r->tr, r->ckpt)) == GC_OK) r->ckpt_step = r->tr.st.step;
    if (s == GC_OK) s = gc_loss_log_plot(&r->log);
    return s == GC_OK ? 0 : train_fail(r, s);
}

static int loop(run *r)
{
    gc_trainer *tr = &r->tr;
    const gc_train_config *c = &tr->cfg;
    char name[64];
    int rc;
    while (tr->st.step < r->total && !stop_signal) {
        gc_status s = gc_trainer_step(tr);
        if (s != GC_OK) return train_fail(r, s);
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
        /* Every --save-every epochs, and after the last one. */
        if (epoch_done && ((tr->st.epoch + 1) % c->save_every == 0 || step == r->total)) {
            snprintf(name, sizeof name, "epoch-%04" PRId64 ".png", tr->st.epoch + 1);
            if ((rc = write_grid(r, name)) || (rc = checkpoint(r))) return rc;
            if (r->div_up && !stop_signal && (rc = eval_diversity(r))) return rc;
        }
        if (epoch_done && r->fid && (tr->st.epoch + 1) % c->fid_every == 0 && !stop_signal) {
            /* After a checkpoint, so that a failing evaluation costs no training. */
            if (r->ckpt_step != step && (rc = checkpoint(r))) return rc;
            if ((rc = eval_fid(r))) return rc;
        }
        /* Images/s and the ETA count training only, not samples and checkpoints. */
        t_io = gc_cli_now() - t_io;
        r->t_log += t_io, r->t_start += t_io;
    }
    if (tr->acc_steps && (rc = log_stats(r))) return rc;
    if (r->tty) print_progress(r, 1);
    if (tr->st.step > r->step_start && r->ckpt_step != tr->st.step) {
        snprintf(name, sizeof name, "step-%07" PRId64 ".png", tr->st.step);
        if (!stop_signal && (rc = write_grid(r, name))) return rc;
        if ((rc = checkpoint(r))) return rc;
    }
    return 0;
}

/* ---- setup ---------------------------------------------------------------------- */

/* ---- the data ------------------------------------------------------------------ */

/* The decoding progress: a bar on a terminal, nothing per file elsewhere. */
typedef struct load_progress {
    double t0, t_draw;
    int tty;
} load_progress;

static void show_load_progress(void *user, int64_t done, int64_t total)
{
    load_progress *p = user;
    double now = gc_cli_now();
    if (!p->tty || (done < total && now - p->t_draw < 0.1)) return;
    p->t_draw = now;
    int width = 30, fill = (int)(width * done / (total ? total : 1));
    double dt = now - p->t0;
    printf("\r\033[Kdecoding [%.*s%*s] %" PRId64 "/%" PRId64 " files, %.0f files/s", fill,
           "##############################", width - fill, "", done, total, dt > 0 ? done / dt : 0);
    fflush(stdout);
}

/* Loads the training images as the run wants them: channels and size from
 * the flags (a fresh run) or the model (--resume), through the decode cache
 * when there is one.  Prints one line saying where they came from. */
static int load_data(const train_args *a, const run *r, gc_train_config *c, int want_labels,
                     gc_dataset *ds)
{
    int is_default = !a->data && !a->resume;
    if (is_default && !gc_fs_is_file(c->data))
        return gc_cli_usage_error("no training data: %s is missing; install the package "
                                  "dataset-fashion-mnist (tools/setup.sh) or pass --data FILE",
                                  c->data);
    if (a->labels && !want_labels)
        return gc_cli_usage_error("train: --labels is for a conditional model (--conditional)");
    gc_labels_mode mode = want_labels ? GC_LABELS_REQUIRED : GC_LABELS_NONE;
    const char *labels = c->labels[0] ? c->labels : NULL;
    int is_dir = gc_fs_is_dir(c->data), resume = a->resume != NULL;
    const gc_gan_config *m = &c->model;

    /* A fresh run decodes as its flags say (channels 0: the data's own); a
     * resumed one as its checkpoint recorded. */
    gc_image_options o = gc_image_options_default();
    o.recursive = 1;
    o.channels = resume ? m->channels : a->channels;
    o.size = c->image_size;
    o.background = c->background;

    /* The decode cache: --data-cache FILE, none, or by default RUN's for a folder. */
    char cache[PATH_MAX + 32] = "";
    if (a->data_cache && strcmp(a->data_cache, "none"))
        snprintf(cache, sizeof cache, "%s", a->data_cache);
    else if (!a->data_cache && is_dir)
        snprintf(cache, sizeof cache, "%s/data-cache.safetensors", r->dir);
    uint64_t key = 0;
    int hit = 0, have_key = 0;
    gc_status s;
    /* A run that took the data's own channels cached them under channels
     * 0: its resumption looks there too, for a set of the same channels. */
    int tries[2] = {o.channels, resume ? 0 : -1};
    for (int i = 0; cache[0] && i < 2 && tries[i] >= 0 && !hit; i++) {
        gc_image_options t = o;
        uint64_t k;
        t.channels = tries[i];
        /* A fingerprint that fails (no such data) leaves the message to the loader. */
        if (gc_dataset_fingerprint(c->data, labels, mode, &t, &k) != GC_OK) break;
        if (!i) key = k, have_key = 1;
        if ((s = gc_dataset_cache_read(cache, k, ds, &hit)) != GC_OK) return gc_cli_fail(s);
        if (hit && resume && (ds->c != m->channels || ds->h != m->height || ds->w != m->width)) {
            gc_dataset_free(ds); /* not this run's images: decode */
            hit = 0;
        }
    }
    if (hit) {
        printf("data: %" PRId64 " images %dx%dx%d from the decode cache %s (decoding skipped)\n",
               ds->n, ds->c, ds->h, ds->w, cache);
        fflush(stdout);
        return 0;
    }

    load_progress p = {gc_cli_now(), 0, isatty(STDOUT_FILENO)};
    o.progress = show_load_progress, o.progress_user = &p;
    s = gc_dataset_load_images(c->data, labels, mode, &o, ds);
    if (p.tty && is_dir) printf("\r\033[K");
    fflush(stdout);
    if (s != GC_OK && is_dir && !o.size && strstr(gc_last_error(), "must have one size")) {
        fprintf(stderr, "gancl: %s (--size S makes them S x S)\n", gc_last_error());
        return gc_cli_exit_code(s);
    }
    if (s != GC_OK) return gc_cli_fail(s);
    double dt = gc_cli_now() - p.t0;
    char saved[PATH_MAX + 64] = " (decode cache: none)";
    if (cache[0]) {
        o.progress = NULL, o.progress_user = NULL;
        if (!have_key) s = gc_dataset_fingerprint(c->data, labels, mode, &o, &key);
        if (s == GC_OK) s = gc_dataset_cache_write(ds, key, cache);
        if (s == GC_OK) {
            snprintf(saved, sizeof saved, "; decode cache saved to %s", cache);
        } else {
            fprintf(stderr,
                    "gancl: warning: decode cache not saved: %s (the next run decodes again)\n",
                    gc_last_error());
            snprintf(saved, sizeof saved, "; decode cache not saved");
        }
    }
    printf("data: decoded %" PRId64 " images %dx%dx%d from %s in %.1f s%s\n", ds->n, ds->c, ds->h,
           ds->w, c->data, dt, saved);
    fflush(stdout);
    return 0;
}

/* The checkpoint keeps --fid-weights and --fid-classifier for --resume,
 * made absolute so that a run resumed from another folder finds them. */
static void record_path(char *dst, size_t size, const char *path)
{
    char real[PATH_MAX];
    const char *p = realpath(path, real) && strlen(real) < size ? real : path;
    size_t n = strlen(p);
    if (n >= size) n = size - 1; /* the parser refused these */
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void record_weights(gc_train_config *c, const char *path)
{
    record_path(c->fid_weights, sizeof c->fid_weights, path);
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
        if (a->save_set) saved.save_every = c->save_every;
        if (a->log_set) saved.log_every = c->log_every;
        saved.check_every = c->check_every; /* not recorded: the flag's, or the default */
        if (a->data) snprintf(saved.data, sizeof saved.data, "%s", a->data);
        if (a->labels) record_path(saved.labels, sizeof saved.labels, a->labels);
        if (a->fid_every_set) saved.fid_every = c->fid_every;
        if (a->fid_n_set) saved.fid_n = c->fid_n;
        if (a->fid_dims_set) saved.fid_dims = c->fid_dims;
        if (a->fid_weights) record_weights(&saved, a->fid_weights);
        if (a->fid_classifier)
            record_path(saved.fid_classifier, sizeof saved.fid_classifier, a->fid_classifier);
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
    if (a->labels) record_path(c->labels, sizeof c->labels, a->labels);
    if (a->fid_weights) record_weights(c, a->fid_weights);
    if (a->fid_classifier)
        record_path(c->fid_classifier, sizeof c->fid_classifier, a->fid_classifier);
    return 0;
}

/* One process at a time in a run folder (util/lock.h), taken before
 * anything in it is read for keeps or written.  A lock left by a run that
 * was killed is taken over, and so are the temporary files of a write it
 * did not finish. */
static int lock_run(run *r, int resume)
{
    r->made_dir = !gc_fs_is_dir(r->dir);
    gc_status s = gc_fs_mkdirs(r->dir);
    if (s != GC_OK) return gc_cli_fail(s);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/gancl.lock", r->dir);
    long stale;
    if ((s = gc_lock_acquire(path, &r->lock, &stale)) != GC_OK)
        return gc_cli_usage_error("%s; a run folder takes one gancl train at a time",
                                  gc_last_error());
    if (stale)
        fprintf(stderr, "gancl: notice: %s was left by process %ld, which is gone; taking over\n",
                path, stale);
    char samples[PATH_MAX + 16];
    snprintf(samples, sizeof samples, "%s/samples", r->dir);
    gc_fs_remove_temps(r->dir, 0);
    gc_fs_remove_temps(samples, 0);
    /* Another run may have finished here between prepare's look and the lock. */
    if (!resume && gc_fs_is_file(r->ckpt))
        return gc_cli_usage_error("%s already holds a run; continue it with gancl train --resume "
                                  "%s, or pick another --out",
                                  r->dir, r->dir);
    r->ckpt_step = resume ? 0 : -1; /* resume: the loaded step, set once loaded */
    return 0;
}

/* Once the run's configuration is known (a resumed run brings its own). */
static int check_fid_flags(const train_args *a)
{
    const gc_train_config *c = &a->cfg;
    if (a->fid_weights && !gc_fs_is_file(a->fid_weights))
        return gc_cli_usage_error("--fid-weights: %s is not a file", a->fid_weights);
    if (a->fid_classifier && !gc_fs_is_file(a->fid_classifier))
        return gc_cli_usage_error("--fid-classifier: %s is not a file", a->fid_classifier);
    if (a->fid_classifier && (a->fid_weights || a->fid_dims_set))
        return gc_cli_usage_error("train: --fid-classifier replaces Inception: drop %s",
                                  a->fid_weights ? "--fid-weights" : "--fid-dims");
    if (!c->fid_every) {
        const char *flag = a->fid_n_set        ? "--fid-n"
                           : a->fid_dims_set   ? "--fid-dims"
                           : a->fid_weights    ? "--fid-weights"
                           : a->fid_classifier ? "--fid-classifier"
                                               : NULL;
        if (flag) return gc_cli_usage_error("train: %s needs --fid-every N", flag);
        return 0;
    }
    if (!c->fid_classifier[0] && c->fid_dims == 2048 && c->fid_n < GC_FID_MIN_SAMPLES)
        fprintf(stderr,
                "gancl: warning: --fid-n %" PRId64 " with 2048 dims: fewer than %d samples, so "
                "the covariance is rank-deficient and the FID biased upwards (10000 is usual)\n",
                c->fid_n, GC_FID_MIN_SAMPLES);
    return 0;
}

/* A fresh run's model fits its data: image geometry, depth, and G's width
 * from --ngf (the DCGAN paper's: G's last hidden width) unless --g-width
 * gave it. */
static int set_geometry(train_args *a, const gc_dataset *ds)
{
    gc_gan_config *m = &a->cfg.model;
    m->channels = ds->c, m->height = ds->h, m->width = ds->w;
    if (a->conditional) m->classes = ds->classes;
    int dcgan = m->kind == GC_MODEL_DCGAN;
    int depth = dcgan ? gc_gan_auto_depth(ds->h, ds->w) : 2;
    m->depth = dcgan ? depth : 0; /* seed has its two stages */
    if (a->g_width_set) return 0;
    int ngf = a->ngf ? a->ngf : DEFAULT_NGF;
    long long gw = (long long)ngf << (depth - 1);
    if (gw > 4096)
        return gc_cli_usage_error("%s--ngf %d at %dx%d: G would start with %lld channels (%d "
                                  "stages); at most 4096: pass a smaller --ngf",
                                  a->ngf ? "" : "the default ", ngf, ds->h, ds->w, gw, depth);
    m->g_width = (int)gw;
    return 0;
}

/* "spectral norm, mbstd 4, hinge loss, DiffAugment color,cutout, EMA 0.999" or "none". */
static void describe_remedies(const gc_train_config *c, char *buf, size_t n)
{
    static const char *const aug[] = {"color", "translation", "cutout"};
    static const int bits[] = {GC_DIFFAUG_COLOR, GC_DIFFAUG_TRANSLATION, GC_DIFFAUG_CUTOUT};
    size_t len = 0;
    buf[0] = '\0';
#define ADD(...) (len += (size_t)snprintf(buf + len, len < n ? n - len : 0, __VA_ARGS__))
    if (c->model.spectral_norm) ADD("%sspectral norm", len ? ", " : "");
    if (c->model.mbstd) ADD("%smbstd %d", len ? ", " : "", c->model.mbstd);
    if (c->loss == GC_LOSS_HINGE) ADD("%shinge loss", len ? ", " : "");
    if (c->diffaug) {
        ADD("%sDiffAugment ", len ? ", " : "");
        const char *sep = "";
        for (int k = 0; k < 3; k++)
            if (c->diffaug & bits[k]) ADD("%s%s", sep, aug[k]), sep = ",";
    }
    if (c->ema > 0) ADD("%sEMA %g", len ? ", " : "", (double)c->ema);
#undef ADD
    if (!len) snprintf(buf, n, "none");
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
    int rc = gc_train_args_parse(argc, argv, &a);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    run *r = calloc(1, sizeof *r);
    if (!r) return gc_cli_usage_error("out of memory");
    r->lock.fd = -1;
    gc_dataset ds = {0};
    gc_backend *be = NULL;
    gc_status s;
    int trainer_up = 0, log_up = 0;
    if ((rc = prepare(&a, r)) || (rc = check_fid_flags(&a)) || (rc = lock_run(r, !!a.resume)))
        goto done;
    gc_train_config *c = &a.cfg;
    /* The class count comes from the labels (a resumed run has its own). */
    r->made_cache = r->made_dir && !a.data_cache && gc_fs_is_dir(c->data);
    if ((rc = load_data(&a, r, c, a.conditional || c->model.classes, &ds))) goto done;
    if (!a.resume) {
        if ((rc = set_geometry(&a, &ds))) goto done;
    } else if (c->model.classes && ds.classes > c->model.classes) {
        rc = gc_cli_usage_error("%s: %d classes, but the run was trained on %d", ds.labels_path,
                                ds.classes, c->model.classes);
        goto done;
    }
    if (a.conditional && c->model.classes < 2) {
        rc = gc_cli_usage_error("%s: every image has the same label: a conditional model needs "
                                "at least 2 classes",
                                ds.labels_path[0] ? ds.labels_path : c->data);
        goto done;
    }
    if ((s = gc_gan_config_check(&c->model)) != GC_OK) {
        rc = gc_cli_usage_error("%s: %s", c->data, gc_last_error());
        goto done;
    }
    if ((rc = gc_cli_open_backend_tuned(cli, a.device, &be))) goto done;
    char samples[PATH_MAX + 16];
    snprintf(samples, sizeof samples, "%s/samples", r->dir);
    if ((s = gc_fs_mkdirs(samples)) != GC_OK ||
        (s = gc_trainer_init_labelled(&r->tr, be, c, ds.images, c->model.classes ? ds.labels : NULL,
                                      ds.n, ds.h, ds.w)) != GC_OK) {
        rc = gc_cli_fail(s);
        goto done;
    }
    trainer_up = 1;
    if (c->model.classes && ds.classes == c->model.classes) r->tr.class_names = ds.class_names;
    if (a.resume && (s = gc_trainer_load(&r->tr, r->ckpt)) != GC_OK) {
        rc = gc_cli_fail(s);
        goto done;
    }
    if (a.resume) r->ckpt_step = r->tr.st.step;
    if ((s = gc_loss_log_open(&r->log, r->dir, a.resume ? r->tr.st.step : -1)) != GC_OK) {
        rc = gc_cli_fail(s);
        goto done;
    }
    log_up = 1;
    r->grid_rows = c->model.classes ? c->model.classes : GRID_SIDE;
    r->grid_cols = c->model.classes ? GRID_PER_CLASS : GRID_SIDE;
    r->grid = malloc((size_t)r->grid_rows * r->grid_cols * c->model.channels * c->model.height *
                     c->model.width * sizeof(float));
    if (!r->grid) {
        rc = gc_cli_usage_error("out of memory");
        goto done;
    }

    int64_t spe = r->tr.steps_per_epoch;
    r->total = c->epochs ? c->epochs * spe : INT64_MAX;
    if (c->max_steps && c->max_steps < r->total) r->total = c->max_steps;
    char cond[64] = "", remedies[160];
    if (c->model.classes)
        snprintf(cond, sizeof cond, " conditional on %d classes", c->model.classes);
    describe_remedies(&r->tr.cfg, remedies, sizeof remedies);
    const gc_gan_config *built = &r->tr.gan.cfg;
    printf("%s %s: model %s%s (G %d, D %d, %d stages), %" PRId64 " images %dx%dx%d from %s, "
           "batch %d (%" PRId64 " steps per epoch, %" PRId64 " images dropped), remedies: %s, "
           "device %s, seed %" PRIu64 ", step %" PRId64 " of %" PRId64 "\n",
           a.resume ? "resuming" : "training", r->dir, gc_model_name(c->model.kind), cond,
           built->g_width, built->d_width, built->depth ? built->depth : 2, ds.n, ds.c, ds.h, ds.w,
           c->data, c->batch, spe, ds.n - spe * c->batch, remedies, gc_backend_name(be), c->seed,
           r->tr.st.step, r->total);
    fflush(stdout);
    if (r->tr.st.step >= r->total) {
        printf("nothing to do: the run already reached step %" PRId64 "\n", r->tr.st.step);
        goto done;
    }
    r->tty = isatty(STDOUT_FILENO);
    if ((rc = setup_fid(r, &a))) goto done;
    if (!a.no_diversity) {
        if ((s = gc_diversity_log_open(&r->div_log, r->dir, a.resume ? r->tr.st.step : -1)) !=
            GC_OK) {
            rc = gc_cli_fail(s);
            goto done;
        }
        r->div_up = 1;
    }
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
    if (r->div_up) gc_diversity_log_close(&r->div_log);
    if (r->fid) gc_fid_log_close(&r->fid_log);
    gc_train_fid_free(r->fid);
    if (log_up) gc_loss_log_close(&r->log);
    if (trainer_up) gc_trainer_free(&r->tr);
    if (be) gc_backend_free(be);
    gc_dataset_free(&ds);
    free(r->grid);
    gc_lock_release(&r->lock);
    /* A new run that failed before writing anything leaves no empty
     * folder behind (rmdir removes only empty ones). */
    if (rc && r->made_dir && r->ckpt_step < 0) {
        char samples[PATH_MAX + 32];
        if (r->made_cache) {
            snprintf(samples, sizeof samples, "%s/data-cache.safetensors", r->dir);
            unlink(samples);
        }
        snprintf(samples, sizeof samples, "%s/samples", r->dir);
        rmdir(samples);
        rmdir(r->dir);
    }
    free(r);
    return rc;
}

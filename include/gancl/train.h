/* gancl/train.h - GAN training: the step, its state, checkpoints, loss logs.
 *
 * A gc_trainer owns a gc_gan, the device tensors one step needs (the real
 * batch, noise, logit gradients, loss scalars) and the host state that makes
 * a run reproducible: the step and epoch, the noise stream's (seed, offset),
 * the shuffle stream, the fixed-noise seed.  A step allocates nothing and
 * copies only the real batch to the device; losses stay on the device,
 * summed there, until gc_trainer_read_stats fetches their means.
 *
 * One step, as in PyTorch's DCGAN example:
 *   1. D on a real batch (target 1) and on G(z) (target 0, G detached);
 *      the two gradients add up; Adam on D.
 *   2. D, now updated, on the same G(z) with target 1 (the non-saturating
 *      loss); the gradient reaches G through D's input; Adam on G.  The
 *      gradients this leaves in D are zeroed before D's next step.
 *
 *     gc_trainer tr;
 *     gc_trainer_init(&tr, be, &cfg, images, n, 28, 28);
 *     while (tr.st.step < 1000) gc_trainer_step(&tr);
 *     gc_trainer_save(&tr, "run/checkpoint.safetensors");
 *     gc_trainer_free(&tr);
 */
#ifndef GANCL_TRAIN_H
#define GANCL_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "gancl/fid.h"
#include "gancl/models.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What D's and G's losses are. */
typedef enum gc_loss_kind {
    GC_LOSS_BCE,   /* binary cross-entropy on logits, G non-saturating (DCGAN) */
    GC_LOSS_HINGE, /* D: max(0, 1 - D(x)) + max(0, 1 + D(G(z))); G: -D(G(z)) */
} gc_loss_kind;

typedef struct gc_train_config {
    gc_gan_config model;
    int batch;                   /* 64 */
    float lr, beta1, beta2, eps; /* Adam: 2e-4, 0.5, 0.999, 1e-8 */
    uint64_t seed;               /* every random stream of the run derives from it */
    /* What the command line ran with, recorded in checkpoints so that
     * --resume continues the same run; the trainer itself ignores them. */
    char data[4096];
    char labels[4096]; /* --labels of a conditional run ("": beside the data) */
    /* How --data was decoded (gc_image_options): image_size S > 0 for
     * S x S (--size), 0 for the images' own size; background 0..255
     * (--background; GC_PNG_WHITE by default).  Channels are the model's. */
    int image_size, background;
    int64_t epochs;       /* 0: no limit */
    int64_t max_steps;    /* 0: no limit */
    int64_t sample_every; /* 0: once per epoch only */
    int64_t save_every;   /* epochs between epoch grids, checkpoints, diagnostics (1) */
    int64_t log_every;
    int64_t fid_every;      /* FID after every this many epochs; 0: never */
    int64_t fid_n;          /* generated samples per FID (10000) */
    int fid_dims;           /* Inception features: 64, 192, 768 or 2048 (the default) */
    char fid_weights[1024]; /* Inception weights; "": gc_fid_weights_path's lookup */
    /* The features behind FID: Inception (fid_classifier "") or, when
     * fid_classifier names a file of `gancl classify train`, that
     * classifier's penultimate features (not comparable with Inception FID). */
    char fid_classifier[1024];
    /* Steps between checks of every parameter for NaN/Inf (the losses are
     * checked whenever they are read); 0: never. */
    int64_t check_every;
    /* Remedies against mode collapse (the model's own are in model):
     *   loss     GC_LOSS_BCE or GC_LOSS_HINGE
     *   diffaug  GC_DIFFAUG_* bits (gancl/ops.h): every image D sees, real or
     *            generated, in D's and in G's step, goes through DiffAugment
     *            with fresh draws from the run's augmentation stream
     *   ema      0, or the decay of an exponential moving average of G's
     *            parameters and running statistics, updated after each G
     *            step (step t with min(ema, (1 + t) / (10 + t)), so that it
     *            forgets the random start quickly); samples, grids, FID, the
     *            diversity diagnostic and checkpoints' G_ema use it */
    gc_loss_kind loss;
    int diffaug;
    float ema;
} gc_train_config;

gc_train_config gc_train_default_config(gc_model_kind kind);

/* The remedies against mode collapse that `gancl train --remedies` turns
 * on: spectral norm and a minibatch-stddev channel over groups of 4 (both
 * change D, so dcgan only), the hinge loss, DiffAugment (colour,
 * translation, cutout) and an EMA of G with decay 0.999.  The seed model
 * gets the last three, which keep its D. */
void gc_train_config_remedies(gc_train_config *c);

/* Everything besides tensors that a checkpoint must hold to continue a run
 * bit for bit. */
typedef struct gc_train_state {
    int64_t step;                           /* steps done in total */
    int64_t epoch;                          /* the current epoch, from 0 */
    int64_t epoch_step;                     /* steps done in it */
    gc_rng noise;                           /* G's training noise (device Philox) */
    uint64_t shuffle_seed, shuffle_counter; /* host Philox at this epoch's shuffle */
    uint64_t fixed_seed; /* the fixed noise behind sample grids: stream (fixed_seed, 0) */
    gc_rng aug;          /* DiffAugment's draws (device Philox) */
} gc_train_state;

/* Means since the previous read. */
typedef struct gc_train_stats {
    int64_t steps;
    double d_loss;       /* BCE on the real batch + BCE on the fake one */
    double g_loss;       /* non-saturating: BCE(D(G(z)), 1) after D's update */
    double d_real;       /* mean sigmoid(D(x)) */
    double d_fake;       /* mean sigmoid(D(G(z))) before D's update */
    double d_fake_after; /* ... and after it */
} gc_train_stats;

typedef struct gc_trainer {
    gc_train_config cfg;
    gc_train_state st;
    gc_gan gan;
    gc_backend *be;
    const uint8_t *images;    /* borrowed: n_images x C x H x W bytes */
    const int32_t *labels;    /* borrowed: n_images labels when the model is conditional */
    char *const *class_names; /* borrowed, or NULL: saved in checkpoints ("class_names") */
    int64_t n_images;
    int64_t steps_per_epoch; /* the last partial batch is dropped */
    uint32_t *perm;          /* this epoch's order */
    float *host_batch;
    gc_buffer *work; /* the step's tensors, below */
    gc_tensor stats, acc, x_real, dfake, z, dlogits, prob;
    float *host_labels; /* conditional: the batch's labels, for G's and D's label tensors */
    /* DiffAugment (cfg.diffaug): D's augmented input, its gradient, the draws */
    gc_tensor x_aug, dx_aug, aug_r;
    /* cfg.ema: G's averaged parameters and running statistics (as G's
     * params and state buffers); NULL without */
    gc_buffer *ema_params, *ema_state;
    int64_t acc_steps;
    /* The divergence guard: the step of the latest parameter check queued
     * (every cfg.check_every steps; its flags are read with the losses)
     * and of the latest one known clean (-1 for none), and the step of the
     * latest read, from which the flags count steps. */
    int64_t checked_step, clean_step, flag_base;
} gc_trainer;

/* Builds the models for images (n x C x h x w bytes, planar per image, C
 * = cfg->model.channels, borrowed until gc_trainer_free), draws the
 * initial parameters from cfg->seed and shuffles the first epoch.
 * cfg->model's image size must be (C, h, w); tr->cfg.model.depth holds the
 * depth the model was built with.  Fails with
 * GC_ERR_ARG on a configuration the data cannot serve (fewer images than one
 * batch, say). */
gc_status gc_trainer_init(gc_trainer *tr, gc_backend *be, const gc_train_config *cfg,
                          const uint8_t *images, int64_t n, int h, int w);
/* The same for a conditional model (cfg->model.classes > 0), with the
 * images' labels (n, each in [0, classes); borrowed; GC_ERR_ARG naming the
 * first one out of range).  D sees each real image with its label; G's
 * batch takes the real batch's labels, so the generated classes follow the
 * data's class frequencies (as BigGAN samples them) and the step needs no
 * random stream beyond the noise. */
gc_status gc_trainer_init_labelled(gc_trainer *tr, gc_backend *be, const gc_train_config *cfg,
                                   const uint8_t *images, const int32_t *labels, int64_t n, int h,
                                   int w);
void gc_trainer_free(gc_trainer *tr);

/* One step (starting the next epoch first when this one is used up). */
gc_status gc_trainer_step(gc_trainer *tr);
/* 1 when the last step finished an epoch. */
int gc_trainer_epoch_done(const gc_trainer *tr);
/* Reads the loss sums from the device (one small copy), returns their
 * means since the previous call and resets them.  stats->steps is 0 (and
 * the rest NaN) when no step ran since.  Fails with GC_ERR_DIVERGED, a
 * message naming the step and *stats still filled in, when a loss is NaN
 * or Inf or when a parameter check since the previous call (every
 * cfg.check_every steps, on the device) found a NaN or Inf. */
gc_status gc_trainer_read_stats(gc_trainer *tr, gc_train_stats *stats);
/* Checks now, whatever cfg.check_every says, every parameter, Adam moment
 * and running statistic of G and D, and the losses not yet read, for NaN
 * and Inf (a few kernels and one small read): GC_ERR_DIVERGED with a
 * message naming the step when one is found.  Called before a checkpoint
 * is written, so that none ever holds a diverged model. */
gc_status gc_trainer_check(gc_trainer *tr);
/* n images (host floats, model pixel range) from the run's fixed noise,
 * G in evaluation mode (with the EMA weights when cfg.ema).  On a conditional model image i is of
 * class i * classes / n: with n = classes * k, one row of k images per class. */
gc_status gc_trainer_sample_fixed(gc_trainer *tr, int n, float *out);
/* gc_gan_sample_classes on tr's G in evaluation mode, with the EMA
 * weights and running statistics in place of G's own when cfg.ema (swapped
 * in and back, so nothing changes). */
gc_status gc_trainer_sample(gc_trainer *tr, gc_rng *rng, int n, const int32_t *labels, float *out);

/* ---- the collapse diagnostic -------------------------------------------------
 * Mode collapse shows as generated images that look alike.  The diagnostic
 * compares their spread with the data's in D's feature space (the input of
 * D's dense head, before any minibatch-stddev channel) and in pixels: the
 * mean pairwise Euclidean distance among n generated samples (as
 * gc_trainer_sample_fixed draws them, from a noise stream of their own,
 * with the classes of the real ones on a conditional model) over the same
 * among n real images (fixed: spread evenly over the data), all through D
 * in evaluation mode.  A ratio near 1 means as diverse as the data; a
 * collapsed G drives it towards 0.  Changes no training state (a run that
 * computes it ends bit for bit where one that does not ends). */
#define GC_DIVERSITY_N    256 /* samples per side */
#define GC_DIVERSITY_WARN 0.5 /* a feature ratio below this gets a warning */
typedef struct gc_diversity {
    double real, fake, ratio; /* D features: mean distances, fake / real (NaN when real is 0) */
    double pix_real, pix_fake, pix_ratio; /* the same in pixels */
} gc_diversity;
/* n in [2, n_images]. */
gc_status gc_trainer_diversity(gc_trainer *tr, int n, gc_diversity *out);

/* diversity.csv ("epoch,step,real,generated,ratio,pixel_ratio,pixel_real,
 * pixel_generated": the D-feature distances and their ratio, then the
 * pixel ones; rewritten atomically on every row) and diversity.png (both
 * ratios against epoch, with the warning level). */
typedef struct gc_diversity_log {
    char csv_path[4096], png_path[4096];
    int64_t n, cap;
    int64_t *epoch, *step;
    gc_diversity *rows;
} gc_diversity_log;
/* As gc_fid_log_open: keep_until >= 0 keeps rows up to that step. */
gc_status gc_diversity_log_open(gc_diversity_log *log, const char *dir, int64_t keep_until);
gc_status gc_diversity_log_add(gc_diversity_log *log, int64_t epoch, int64_t step,
                               const gc_diversity *d);
void gc_diversity_log_close(gc_diversity_log *log);

/* ---- checkpoints (safetensors) ---------------------------------------------
 * Tensors: G.<i>.weight / .bias (per layer, PyTorch layouts), batchnorm
 * G.<i>.running_mean / .running_var, G.adam_m / G.adam_v (flat, in the order
 * of the parameters), and the same for D; <G|D>.<i>.sn_u of spectrally
 * normalised layers; with cfg.ema, G_ema.params and G_ema.state (flat, as
 * G's buffers).  Metadata: "format" ("gancl-checkpoint-1"), "config"
 * (JSON; keys of later features are absent from older files and read as
 * off), the gc_train_state fields
 * as decimal strings, and for a conditional model with tr->class_names set,
 * "class_names" (a JSON array).  Written atomically. */
#define GC_CHECKPOINT_FORMAT "gancl-checkpoint-1"
gc_status gc_trainer_save(const gc_trainer *tr, const char *path);
/* Reads the configuration a checkpoint was written with. */
gc_status gc_checkpoint_config(const char *path, gc_train_config *cfg);
/* Restores everything a checkpoint holds into tr, which must have been
 * initialised with the checkpoint's configuration. */
gc_status gc_trainer_load(gc_trainer *tr, const char *path);
/* Loads only the models' parameters and running statistics into gan (built
 * with the checkpoint's configuration), G's EMA weights in place of G's own
 * when the checkpoint has them (what sampling wants); *fixed_seed gets the
 * run's fixed-noise seed when non-NULL. */
gc_status gc_checkpoint_load_gan(const char *path, gc_gan *gan, uint64_t *fixed_seed);

/* ---- the loss log: losses.csv and losses.png in a run folder ---------------- */

typedef struct gc_loss_log {
    char csv_path[4096], png_path[4096];
    FILE *csv;
    int64_t n, cap;
    double *step, *d_loss, *g_loss, *d_real, *d_fake;
} gc_loss_log;

/* Opens dir/losses.csv.  When keep_until >= 0 (a resumed run), rows up to
 * that step are kept (the plot continues) and later ones, logged after the
 * checkpoint, are dropped; otherwise the file starts afresh. */
gc_status gc_loss_log_open(gc_loss_log *log, const char *dir, int64_t keep_until);
/* Appends a row (and flushes it). */
gc_status gc_loss_log_add(gc_loss_log *log, int64_t step, int64_t epoch, const gc_train_stats *s,
                          double images_per_s);
/* Redraws dir/losses.png. */
gc_status gc_loss_log_plot(const gc_loss_log *log);
void gc_loss_log_close(gc_loss_log *log);

/* ---- FID during training (gc_train_fid) and its log: fid.csv, fid.png -------
 *
 * The statistics of the training images are computed once per data file
 * and dims and cached in <cache>/fid-stats/ (see gc_fs_cache_dir), keyed by
 * the file's real path, size and modification time.  Each evaluation draws
 * n samples from G in evaluation mode with noise from a stream of its own
 * (the same noise every time, derived from the run's fixed-noise seed), so
 * training's streams, parameters and running statistics are untouched: a
 * run with FID ends bit for bit where the same run without it ends.
 * Samples are rounded to 8 bits as `gancl sample` writes them, so the
 * number is pytorch-fid's on the saved images.  Images go through Inception
 * `batch` at a time (GC_FID_DEFAULT_BATCH when 0).
 *
 *     gc_train_fid *fid;
 *     gc_train_fid_init(&tr, NULL, "train-images-idx3-ubyte.gz", 2048, 0, NULL, NULL, &fid);
 *     ... after an epoch:
 *     double v;
 *     gc_train_fid_eval(fid, &tr, 10000, NULL, NULL, &v);
 *     gc_train_fid_free(fid);
 */
typedef struct gc_train_fid gc_train_fid;

/* Called after each batch of an evaluation; a non-zero return stops it
 * with GC_ERR_INTERRUPTED. */
typedef int (*gc_train_fid_progress_fn)(void *ctx, int64_t done, int64_t total);

/* Finds the weights (gc_fid_weights_path(weights): GC_ERR_IO with a
 * one-line message when there are none), builds Inception on tr's backend
 * and loads the statistics of tr's images from the cache, or computes them
 * (reporting to progress) and writes the cache.  data_path names the file
 * the images came from, for the cache key; NULL computes them every time.
 * tr must outlive the evaluator; its images are read only here. */
gc_status gc_train_fid_init(const gc_trainer *tr, const char *weights, const char *data_path,
                            int dims, int batch, gc_fid_progress_fn progress, void *progress_ctx,
                            gc_train_fid **out);
/* FID of n (>= 2) samples of tr's G against the training images. */
gc_status gc_train_fid_eval(gc_train_fid *f, gc_trainer *tr, int64_t n,
                            gc_train_fid_progress_fn progress, void *progress_ctx, double *fid);
void gc_train_fid_free(gc_train_fid *f);
/* The cache file of the training statistics ("" without data_path), and
 * whether init found them there. */
const char *gc_train_fid_cache_file(const gc_train_fid *f);
int gc_train_fid_from_cache(const gc_train_fid *f);
/* The weights file in use (the classifier's file with cfg.fid_classifier). */
const char *gc_train_fid_weights(const gc_train_fid *f);
/* The features behind the FID: their count (the `dims` given to init, or
 * the classifier's feature width) and their tag ("inception" or
 * "classifier:<hash>", as gc_feature_extractor.name). */
int gc_train_fid_dims(const gc_train_fid *f);
const char *gc_train_fid_extractor(const gc_train_fid *f);
/* The seed of the evaluation noise: the samples are those of successive
 * gc_gan_sample(&tr->gan, &rng, b, ...) calls with rng = {seed, 0} and b the
 * init batch (the last call takes the rest). */
uint64_t gc_train_fid_seed(const gc_trainer *tr);

/* fid.csv ("epoch,step,fid,n,dims", rewritten atomically on every row) and
 * fid.png (FID against epoch, one line per feature dims). */
typedef struct gc_fid_log {
    char csv_path[4096], png_path[4096];
    int64_t n, cap;
    double *epoch, *fid;
    int64_t *step, *count;
    int *dims;
} gc_fid_log;

/* Opens dir/fid.csv.  When keep_until >= 0 (a resumed run), rows up to
 * that step are kept and later ones dropped (plot redrawn when rows
 * remain); otherwise the file starts afresh with its header. */
gc_status gc_fid_log_open(gc_fid_log *log, const char *dir, int64_t keep_until);
/* Adds a row, rewrites fid.csv and redraws fid.png. */
gc_status gc_fid_log_add(gc_fid_log *log, int64_t epoch, int64_t step, double fid, int64_t n,
                         int dims);
gc_status gc_fid_log_plot(const gc_fid_log *log);
void gc_fid_log_close(gc_fid_log *log);

#ifdef __cplusplus
}
#endif
#endif

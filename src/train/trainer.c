/* src/train/trainer.c - the GAN training step, its device tensors, the
 * epoch shuffle, the loss statistics kept on the device, and the
 * divergence guard (NaN/Inf in the losses or the parameters). */
#include "gancl/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "train/train_internal.h"
#include "util/error.h"
#include "util/fault.h"
#include "util/philox.h"

/* Slots of the stats tensor (the acc tensor sums the first ST_COUNT over
 * steps).  ST_BAD_G/D are flags (0 or 1) of the NaN/Inf check of G's and
 * D's tensors: in acc for the periodic check, whose flags are read with
 * the losses, in stats for gc_trainer_check. */
enum {
    ST_LOSS_REAL,
    ST_LOSS_FAKE,
    ST_LOSS_G,
    ST_D_REAL,
    ST_D_FAKE,
    ST_D_FAKE_AFTER,
    ST_COUNT,
    ST_BAD_G = ST_COUNT,
    ST_BAD_D
};
#define ST_SLOTS 8

gc_train_config gc_train_default_config(gc_model_kind kind)
{
    return (gc_train_config){.model = gc_gan_default_config(kind),
                             .batch = 64,
                             .lr = 2e-4f,
                             .beta1 = 0.5f,
                             .beta2 = 0.999f,
                             .eps = 1e-8f,
                             .seed = 1,
                             .epochs = 25,
                             .log_every = 50,
                             .check_every = 100,
                             .save_every = 1,
                             .background = 255, /* GC_PNG_WHITE */
                             .fid_n = 10000,
                             .fid_dims = GC_FID_DEFAULT_DIMS};
}

void gc_train_config_remedies(gc_train_config *c)
{
    if (c->model.kind == GC_MODEL_DCGAN) c->model.spectral_norm = 1, c->model.mbstd = 4;
    c->loss = GC_LOSS_HINGE;
    c->diffaug = GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT;
    c->ema = 0.999f;
}

/* Independent streams of one run seed: splitmix64 of (seed, stream). */
uint64_t gc_train_derive_seed(uint64_t seed, uint64_t stream)
{
    uint64_t z = seed + stream * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Fisher-Yates over the identity from the host Philox stream at this
 * epoch's counter, so an epoch's order depends only on (seed, counter) and
 * a checkpoint need not store the permutation. */
void gc_trainer_shuffle(gc_trainer *tr)
{
    int64_t n = tr->n_images;
    for (int64_t i = 0; i < n; i++)
        tr->perm[i] = (uint32_t)i;
    for (int64_t i = n - 1; i > 0; i--) {
        uint32_t w[4];
        gc_philox4x32_10(tr->st.shuffle_seed, tr->st.shuffle_counter + (uint64_t)(n - 1 - i), w);
        uint64_t r = (uint64_t)w[0] << 32 | w[1];
        int64_t j = (int64_t)(r % (uint64_t)(i + 1));
        uint32_t t = tr->perm[i];
        tr->perm[i] = tr->perm[j];
        tr->perm[j] = t;
    }
}

static gc_status check_config(const gc_train_config *c, int64_t n, int h, int w)
{
    GC_TRY(gc_gan_config_check(&c->model));
    if (c->model.height != h || c->model.width != w)
        return gc_error(GC_ERR_ARG, "the model is configured for %dx%d images, the data has %dx%d",
                        c->model.height, c->model.width, h, w);
    if (c->batch < 2) return gc_error(GC_ERR_ARG, "a batch of %d: at least 2 are needed", c->batch);
    if (n < c->batch)
        return gc_error(GC_ERR_ARG, "the data has %lld images, fewer than one batch of %d",
                        (long long)n, c->batch);
    if (n > UINT32_MAX) return gc_error(GC_ERR_ARG, "more than 2^32 images");
    if (!(c->lr > 0) || !(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1) ||
        !(c->eps > 0))
        return gc_error(GC_ERR_ARG, "bad Adam settings (lr %g, beta1 %g, beta2 %g, eps %g)", c->lr,
                        c->beta1, c->beta2, c->eps);
    if (c->loss != GC_LOSS_BCE && c->loss != GC_LOSS_HINGE)
        return gc_error(GC_ERR_ARG, "unknown loss %d", (int)c->loss);
    int all = GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT;
    if (c->diffaug & ~all) return gc_error(GC_ERR_ARG, "unknown DiffAugment bits %#x", c->diffaug);
    if (!(c->ema == 0 || (c->ema > 0 && c->ema < 1)))
        return gc_error(GC_ERR_ARG, "EMA decay %g is outside (0, 1) (0: no EMA)", c->ema);
    return GC_OK;
}

/* A conditional model needs labels, and each of them in range. */
static gc_status check_labels(const gc_train_config *c, const int32_t *labels, int64_t n)
{
    int k = c->model.classes;
    if (k > 0 && !labels)
        return gc_error(GC_ERR_ARG, "a conditional model of %d classes needs the images' labels",
                        k);
    if (k == 0 && labels) return gc_error(GC_ERR_ARG, "labels given for an unconditional model");
    for (int64_t i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return gc_error(GC_ERR_ARG, "label %d of image %lld is outside [0, %d)", (int)labels[i],
                            (long long)i, k);
    return GC_OK;
}

/* G's averaged weights start as G's own. */
static gc_status ema_init(gc_trainer *tr)
{
    if (!(tr->cfg.ema > 0)) return GC_OK;
    const gc_seq *g = &tr->gan.g;
    GC_TRY(gc_buffer_alloc(tr->be, (size_t)(g->n_params > 0 ? g->n_params : 1) * sizeof(float),
                           &tr->ema_params));
    GC_TRY(gc_buffer_alloc(tr->be, (size_t)(g->n_state > 0 ? g->n_state : 1) * sizeof(float),
                           &tr->ema_state));
    gc_tensor p = gc_seq_params(g), st = gc_seq_state(g);
    gc_tensor ep = gc_tensor_1d(tr->be, tr->ema_params, 0, g->n_params);
    GC_TRY(gc_copy(&ep, &p));
    if (!g->n_state) return GC_OK;
    gc_tensor es = gc_tensor_1d(tr->be, tr->ema_state, 0, g->n_state);
    return gc_copy(&es, &st);
}

/* After each G step: the averages move towards G's parameters and
 * running statistics, with decay min(ema, (1 + t) / (10 + t)) at update t
 * (1, 2, ...; TensorFlow's ExponentialMovingAverage with num_updates), so
 * that the average forgets the random initial G within tens of steps rather
 * than thousands. */
float gc_trainer_ema_decay(float ema, int64_t t)
{
    double warm = (1.0 + (double)t) / (10.0 + (double)t);
    return warm < ema ? (float)warm : ema;
}

static gc_status ema_update(gc_trainer *tr)
{
    if (!tr->ema_params) return GC_OK;
    const gc_seq *g = &tr->gan.g;
    float decay = gc_trainer_ema_decay(tr->cfg.ema, tr->st.step + 1);
    gc_tensor p = gc_seq_params(g), st = gc_seq_state(g);
    gc_tensor ep = gc_tensor_1d(tr->be, tr->ema_params, 0, g->n_params);
    GC_TRY(gc_ema_update(&ep, &p, decay));
    if (!g->n_state) return GC_OK;
    gc_tensor es = gc_tensor_1d(tr->be, tr->ema_state, 0, g->n_state);
    return gc_ema_update(&es, &st, decay);
}

gc_status gc_trainer_init(gc_trainer *tr, gc_backend *be, const gc_train_config *cfg,
                          const uint8_t *images, int64_t n, int h, int w)
{
    return gc_trainer_init_labelled(tr, be, cfg, images, NULL, n, h, w);
}

gc_status gc_trainer_init_labelled(gc_trainer *tr, gc_backend *be, const gc_train_config *cfg,
                                   const uint8_t *images, const int32_t *labels, int64_t n, int h,
                                   int w)
{
    memset(tr, 0, sizeof *tr);
    GC_TRY(check_config(cfg, n, h, w));
    GC_TRY(check_labels(cfg, labels, n));
    tr->cfg = *cfg;
    tr->be = be;
    tr->images = images;
    tr->labels = labels;
    tr->n_images = n;
    tr->steps_per_epoch = n / cfg->batch;
    tr->checked_step = tr->clean_step = tr->flag_base = -1;
    tr->st.noise = (gc_rng){.seed = gc_train_derive_seed(cfg->seed, 2), .offset = 0};
    tr->st.shuffle_seed = gc_train_derive_seed(cfg->seed, 3);
    tr->st.fixed_seed = gc_train_derive_seed(cfg->seed, 4);
    /* Only a run that augments has the stream (and saves it). */
    if (cfg->diffaug)
        tr->st.aug = (gc_rng){.seed = gc_train_derive_seed(cfg->seed, 5), .offset = 0};

    int64_t b = cfg->batch, c = cfg->model.channels, pix = c * h * w, latent = cfg->model.latent;
    int64_t aug = cfg->diffaug ? 2 * b * pix + b * GC_DIFFAUG_PARAMS : 0;
    tr->perm = malloc((size_t)n * sizeof *tr->perm);
    tr->host_batch = malloc((size_t)(b * pix) * sizeof(float));
    tr->host_labels = malloc((size_t)b * sizeof(float));
    if (!tr->perm || !tr->host_batch || !tr->host_labels) {
        gc_trainer_free(tr);
        return gc_error(GC_ERR_NOMEM, "out of host memory for %lld images", (long long)n);
    }
    gc_status s = gc_gan_init(&tr->gan, be, &cfg->model, cfg->batch);
    tr->cfg.model = tr->gan.cfg; /* with the depth it was built with */
    if (s == GC_OK)
        s = gc_buffer_alloc(
            be, (size_t)(2 * ST_SLOTS + 2 * b * pix + b * latent + 2 * b + aug) * sizeof(float),
            &tr->work);
    if (s != GC_OK) {
        gc_trainer_free(tr);
        return s;
    }
    size_t off = 0;
    tr->stats = gc_tensor_1d(be, tr->work, off, ST_SLOTS), off += ST_SLOTS;
    tr->acc = gc_tensor_1d(be, tr->work, off, ST_SLOTS), off += ST_SLOTS;
    tr->x_real = gc_tensor_4d(be, tr->work, off, b, c, h, w), off += (size_t)(b * pix);
    tr->dfake = gc_tensor_4d(be, tr->work, off, b, c, h, w), off += (size_t)(b * pix);
    tr->z = gc_tensor_2d(be, tr->work, off, b, latent), off += (size_t)(b * latent);
    tr->dlogits = gc_tensor_2d(be, tr->work, off, b, 1), off += (size_t)b;
    tr->prob = gc_tensor_2d(be, tr->work, off, b, 1), off += (size_t)b;
    if (cfg->diffaug) {
        tr->x_aug = gc_tensor_4d(be, tr->work, off, b, c, h, w), off += (size_t)(b * pix);
        tr->dx_aug = gc_tensor_4d(be, tr->work, off, b, c, h, w), off += (size_t)(b * pix);
        tr->aug_r = gc_tensor_2d(be, tr->work, off, b, GC_DIFFAUG_PARAMS);
    }
    if ((s = gc_gan_init_params(&tr->gan, gc_train_derive_seed(cfg->seed, 1))) ||
        (s = gc_fill(&tr->stats, 0)) || (s = gc_fill(&tr->acc, 0)) || (s = ema_init(tr))) {
        gc_trainer_free(tr);
        return s;
    }
    gc_trainer_shuffle(tr);
    return GC_OK;
}

void gc_trainer_free(gc_trainer *tr)
{
    gc_gan_free(&tr->gan);
    if (tr->work) gc_buffer_free(tr->be, tr->work);
    if (tr->ema_params) gc_buffer_free(tr->be, tr->ema_params);
    if (tr->ema_state) gc_buffer_free(tr->be, tr->ema_state);
    tr->work = tr->ema_params = tr->ema_state = NULL;
    free(tr->perm);
    free(tr->host_batch);
    free(tr->host_labels);
    tr->perm = NULL;
    tr->host_batch = NULL;
    tr->host_labels = NULL;
}

static gc_tensor slot(const gc_trainer *tr, int k)
{
    return gc_tensor_1d(tr->be, tr->work, tr->stats.off + (size_t)k, 1);
}

/* ---- the divergence guard ------------------------------------------------------
 * A NaN or Inf anywhere in a network's parameters, Adam moments or running
 * statistics sets that network's flag in `in` (stats or acc): one kernel
 * per tensor, each a single read of it, nothing copied to the host. */
static gc_status flag_seq(const gc_seq *s, const gc_tensor *flag, float value)
{
    gc_tensor t[4] = {gc_seq_params(s), gc_seq_adam_m(s), gc_seq_adam_v(s), gc_seq_state(s)};
    for (int k = 0; k < 4; k++)
        if (t[k].buf && gc_tensor_numel(&t[k]) > 0)
            GC_TRY(gc_backend_nonfinite_flag(flag, &t[k], value));
    return GC_OK;
}

/* A flag set by this check holds its step minus tr->flag_base, which is
 * the step of the latest read minus 1, so never 0 (and exact in a float
 * for 2^24 steps between two reads). */
static gc_status flag_nonfinite(gc_trainer *tr, const gc_tensor *in)
{
    float value = (float)(tr->st.step - tr->flag_base);
    if (!(value >= 1)) value = 1;
    gc_tensor g = gc_tensor_1d(tr->be, tr->work, in->off + ST_BAD_G, 1);
    gc_tensor d = gc_tensor_1d(tr->be, tr->work, in->off + ST_BAD_D, 1);
    GC_TRY(flag_seq(&tr->gan.g, &g, value));
    return flag_seq(&tr->gan.d, &d, value);
}

/* GANCL_FAULT=nan:S: a simulated divergence, G's first parameter NaN
 * after step S. */
static gc_status poison(gc_trainer *tr)
{
    gc_tensor p = gc_seq_params(&tr->gan.g);
    gc_tensor first = gc_tensor_1d(tr->be, p.buf, p.off, 1);
    float nan = NAN;
    return gc_tensor_write(&first, &nan);
}

static gc_status diverged(const gc_trainer *tr, const char *what, int64_t step)
{
    char finite[64] = "";
    if (tr->clean_step >= 0)
        snprintf(finite, sizeof finite, " (all finite at step %lld)", (long long)tr->clean_step);
    return gc_error(GC_ERR_DIVERGED,
                    "training diverged at step %lld: %s is NaN or Inf%s; try a lower learning "
                    "rate than %g",
                    (long long)step, what, finite, tr->cfg.lr);
}

/* Judges the accumulated losses (over tr->acc_steps steps) and the flags
 * a[ST_BAD_G], a[ST_BAD_D] (see flag_nonfinite). */
static gc_status judge(const gc_trainer *tr, const float *a)
{
    static const char *const names[ST_COUNT] = {
        "D's loss on real images", "D's loss on generated images", "G's loss", "D(x)", "D(G(z))",
        "D(G(z)) after D's update"};
    /* A flag knows its step; a loss only the steps it was summed over. */
    if (a[ST_BAD_G] != 0)
        return diverged(tr, "a parameter of G", tr->flag_base + (int64_t)a[ST_BAD_G]);
    if (a[ST_BAD_D] != 0)
        return diverged(tr, "a parameter of D", tr->flag_base + (int64_t)a[ST_BAD_D]);
    if (tr->acc_steps)
        for (int k = 0; k < ST_COUNT; k++)
            if (!isfinite(a[k])) {
                char what[96];
                snprintf(what, sizeof what, "%s (summed over steps %lld..%lld)", names[k],
                         (long long)(tr->st.step - tr->acc_steps + 1), (long long)tr->st.step);
                return diverged(tr, what, tr->st.step);
            }
    return GC_OK;
}

/* What D's output is scored as: real, fake (D's step), or fake for G's. */
typedef enum loss_role { ROLE_REAL, ROLE_FAKE, ROLE_GEN } loss_role;

/* The loss of D's output in its role into stats[loss_slot] (BCE with
 * logits against 1, 0, 1, or the hinge terms), its gradient into dlogits,
 * and mean sigmoid (what D believes) into stats[prob_slot]. */
static gc_status d_loss(gc_trainer *tr, loss_role role, int loss_slot, int prob_slot)
{
    int b = tr->cfg.batch;
    gc_tensor logits = gc_seq_output(&tr->gan.d, b);
    gc_tensor loss = slot(tr, loss_slot), p = slot(tr, prob_slot);
    if (tr->cfg.loss == GC_LOSS_HINGE) {
        gc_hinge_term term = role == ROLE_REAL   ? GC_HINGE_REAL
                             : role == ROLE_FAKE ? GC_HINGE_FAKE
                                                 : GC_HINGE_GEN;
        GC_TRY(gc_hinge_forward(&loss, &logits, term));
        GC_TRY(gc_hinge_backward(&tr->dlogits, &logits, term, 1.0f));
    } else {
        float target = role == ROLE_FAKE ? 0.0f : 1.0f;
        GC_TRY(gc_bce_logits_forward(&loss, &logits, target));
        GC_TRY(gc_bce_logits_backward(&tr->dlogits, &logits, target, 1.0f));
    }
    GC_TRY(gc_act_forward(&tr->prob, &logits, GC_ACT_SIGMOID, 0.0f));
    return gc_mean(&p, &tr->prob);
}

/* What D sees of a batch x: x itself, or (cfg.diffaug) x augmented with
 * fresh draws into x_aug. */
static gc_status d_input(gc_trainer *tr, const gc_tensor *x, const gc_tensor **out)
{
    *out = x;
    if (!tr->cfg.diffaug) return GC_OK;
    GC_TRY(gc_rng_uniform(&tr->aug_r, &tr->st.aug, 0.0f, 1.0f));
    GC_TRY(gc_diffaug_forward(&tr->x_aug, x, &tr->aug_r, tr->cfg.diffaug));
    *out = &tr->x_aug;
    return GC_OK;
}

/* Bytes to the model's pixel range, in the epoch's order. */
static gc_status upload_batch(gc_trainer *tr)
{
    float lo, hi;
    gc_gan_pixel_range(tr->cfg.model.kind, &lo, &hi);
    float scale = (hi - lo) / 255.0f;
    const gc_gan_config *m = &tr->cfg.model;
    int64_t pix = (int64_t)m->channels * m->height * m->width;
    int64_t first = tr->st.epoch_step * tr->cfg.batch;
    for (int64_t i = 0; i < tr->cfg.batch; i++) {
        const uint8_t *src = tr->images + (int64_t)tr->perm[first + i] * pix;
        float *dst = tr->host_batch + i * pix;
        for (int64_t k = 0; k < pix; k++)
            dst[k] = lo + scale * (float)src[k];
    }
    GC_TRY(gc_tensor_write(&tr->x_real, tr->host_batch));
    if (!tr->labels) return GC_OK;
    /* G draws the real batch's classes: both networks get the same labels. */
    for (int64_t i = 0; i < tr->cfg.batch; i++)
        tr->host_labels[i] = (float)tr->labels[tr->perm[first + i]];
    gc_tensor yg = gc_seq_labels(&tr->gan.g, tr->cfg.batch);
    gc_tensor yd = gc_seq_labels(&tr->gan.d, tr->cfg.batch);
    GC_TRY(gc_tensor_write(&yg, tr->host_labels));
    return gc_tensor_write(&yd, tr->host_labels);
}

gc_status gc_trainer_step(gc_trainer *tr)
{
    gc_train_state *st = &tr->st;
    gc_seq *g = &tr->gan.g, *d = &tr->gan.d;
    int b = tr->cfg.batch;
    if (st->epoch_step >= tr->steps_per_epoch) {
        st->epoch++;
        st->epoch_step = 0;
        st->shuffle_counter += (uint64_t)tr->n_images;
        gc_trainer_shuffle(tr);
    }
    GC_TRY(upload_batch(tr));
    gc_tensor fake = gc_seq_output(g, b);
    gc_adam_params adam = {.lr = tr->cfg.lr,
                           .beta1 = tr->cfg.beta1,
                           .beta2 = tr->cfg.beta2,
                           .eps = tr->cfg.eps,
                           .step = st->step + 1};

    /* D: real batch, then G(z) detached; the gradients add up. */
    const gc_tensor *in;
    GC_TRY(gc_seq_zero_grad(d));
    GC_TRY(d_input(tr, &tr->x_real, &in));
    GC_TRY(gc_seq_forward(d, in, b, 1));
    GC_TRY(d_loss(tr, ROLE_REAL, ST_LOSS_REAL, ST_D_REAL));
    GC_TRY(gc_seq_backward(d, in, &tr->dlogits, NULL, b));
    GC_TRY(gc_rng_normal(&tr->z, &st->noise, 0.0f, 1.0f));
    GC_TRY(gc_seq_forward(g, &tr->z, b, 1));
    GC_TRY(d_input(tr, &fake, &in));
    GC_TRY(gc_seq_forward(d, in, b, 1));
    GC_TRY(d_loss(tr, ROLE_FAKE, ST_LOSS_FAKE, ST_D_FAKE));
    GC_TRY(gc_seq_backward(d, in, &tr->dlogits, NULL, b));
    GC_TRY(gc_seq_adam(d, &adam));

    /* G: the same G(z) (augmented afresh) through the updated D.  D's
     * parameter gradients from this pass are left behind and zeroed next
     * step; the gradient reaches G through DiffAugment's adjoint. */
    GC_TRY(gc_seq_zero_grad(g));
    GC_TRY(d_input(tr, &fake, &in));
    GC_TRY(gc_seq_forward(d, in, b, 1));
    GC_TRY(d_loss(tr, ROLE_GEN, ST_LOSS_G, ST_D_FAKE_AFTER));
    if (tr->cfg.diffaug) {
        GC_TRY(gc_seq_backward_data(d, in, &tr->dlogits, &tr->dx_aug, b));
        GC_TRY(gc_diffaug_backward(&tr->dfake, &tr->dx_aug, &tr->aug_r, tr->cfg.diffaug));
    } else {
        GC_TRY(gc_seq_backward_data(d, in, &tr->dlogits, &tr->dfake, b));
    }
    GC_TRY(gc_seq_backward(g, &tr->z, &tr->dfake, NULL, b));
    GC_TRY(gc_seq_adam(g, &adam));
    GC_TRY(ema_update(tr));

    gc_tensor s6 = gc_tensor_1d(tr->be, tr->work, tr->stats.off, ST_COUNT);
    gc_tensor a6 = gc_tensor_1d(tr->be, tr->work, tr->acc.off, ST_COUNT);
    GC_TRY(gc_add(&a6, &a6, &s6));
    st->step++;
    st->epoch_step++;
    tr->acc_steps++;
    if (gc_fault_arg(GC_FAULT_NAN) == st->step) GC_TRY(poison(tr));
    if (tr->cfg.check_every > 0 && st->step % tr->cfg.check_every == 0) {
        /* Queued behind the step; the flags travel with the next loss read. */
        GC_TRY(flag_nonfinite(tr, &tr->acc));
        tr->checked_step = st->step;
    }
    return GC_OK;
}

int gc_trainer_epoch_done(const gc_trainer *tr)
{
    return tr->st.epoch_step == tr->steps_per_epoch;
}

gc_status gc_trainer_read_stats(gc_trainer *tr, gc_train_stats *out)
{
    float a[ST_SLOTS];
    GC_TRY(gc_tensor_read(&tr->acc, a));
    double k = tr->acc_steps ? 1.0 / (double)tr->acc_steps : NAN;
    out->steps = tr->acc_steps;
    out->d_loss = ((double)a[ST_LOSS_REAL] + a[ST_LOSS_FAKE]) * k;
    out->g_loss = a[ST_LOSS_G] * k;
    out->d_real = a[ST_D_REAL] * k;
    out->d_fake = a[ST_D_FAKE] * k;
    out->d_fake_after = a[ST_D_FAKE_AFTER] * k;
    GC_TRY(judge(tr, a));
    if (tr->checked_step > tr->clean_step) tr->clean_step = tr->checked_step;
    tr->acc_steps = 0;
    tr->flag_base = tr->st.step - 1;
    return gc_fill(&tr->acc, 0);
}

gc_status gc_trainer_check(gc_trainer *tr)
{
    /* stats and acc lie side by side: one read brings both. */
    GC_ASSERT(tr->acc.off == tr->stats.off + ST_SLOTS);
    gc_tensor bad = gc_tensor_1d(tr->be, tr->work, tr->stats.off + ST_BAD_G, 2);
    gc_tensor both = gc_tensor_1d(tr->be, tr->work, tr->stats.off, 2 * ST_SLOTS);
    float v[2 * ST_SLOTS];
    GC_TRY(gc_fill(&bad, 0));
    GC_TRY(flag_nonfinite(tr, &tr->stats));
    GC_TRY(gc_tensor_read(&both, v));
    /* Losses and flags of periodic checks not read yet come first: they
     * name an earlier step. */
    GC_TRY(judge(tr, v + ST_SLOTS));
    float now[ST_SLOTS] = {0};
    now[ST_BAD_G] = v[ST_BAD_G], now[ST_BAD_D] = v[ST_BAD_D];
    GC_TRY(judge(tr, now));
    tr->clean_step = tr->st.step;
    return GC_OK;
}

/* G's buffers and the averaged ones trade places (pointers only). */
static void swap_ema(gc_trainer *tr)
{
    gc_seq *g = &tr->gan.g;
    gc_buffer *p = g->params, *st = g->state;
    g->params = tr->ema_params, g->state = tr->ema_state;
    tr->ema_params = p, tr->ema_state = st;
}

gc_status gc_trainer_sample(gc_trainer *tr, gc_rng *rng, int n, const int32_t *labels, float *out)
{
    int ema = tr->ema_params != NULL;
    if (ema) swap_ema(tr);
    gc_status s = gc_gan_sample_classes(&tr->gan, rng, n, labels, out);
    if (ema) swap_ema(tr);
    return s;
}

gc_status gc_trainer_sample_fixed(gc_trainer *tr, int n, float *out)
{
    gc_rng rng = {.seed = tr->st.fixed_seed, .offset = 0};
    int k = tr->cfg.model.classes;
    if (!k) return gc_trainer_sample(tr, &rng, n, NULL, out);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    if (!labels) return gc_error(GC_ERR_NOMEM, "out of host memory for %d labels", n);
    for (int i = 0; i < n; i++)
        labels[i] = (int32_t)((int64_t)i * k / n);
    gc_status s = gc_trainer_sample(tr, &rng, n, labels, out);
    free(labels);
    return s;
}

/* src/train/classify.c - training and using the classifier: shuffled
 * mini-batches (classically augmented when asked) with Adam on the softmax
 * cross-entropy, evaluation in batches, features and predictions.  Loss and correct counts are
 * summed on the device and read once per epoch (or per evaluation). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/classifier.h"
#include "util/error.h"
#include "util/philox.h"

/* The work buffer (sized in classifier.c):
 *   [0] loss of the last batch   [1] its correct count
 *   [2] sum of losses            [3] sum of correct counts
 *   [4 ..)  logit gradients, max_batch x classes
 *   then    one batch of n images (n x C x H x W) followed by its n labels,
 *           so that a batch goes up in one write. */
enum { W_LOSS, W_CORRECT, W_LOSS_SUM, W_CORRECT_SUM, W_SCALARS };

static gc_tensor scalar(const gc_classifier *c, int slot)
{
    return gc_tensor_1d(c->be, c->work, (size_t)slot, 1);
}

static size_t input_off(const gc_classifier *c)
{
    return W_SCALARS + (size_t)c->net.max_batch * (size_t)c->cfg.classes;
}

static int64_t chw(const gc_classifier *c)
{
    return (int64_t)c->cfg.channels * c->cfg.height * c->cfg.width;
}

static gc_tensor batch_images(const gc_classifier *c, int n)
{
    return gc_tensor_4d(c->be, c->work, input_off(c), n, c->cfg.channels, c->cfg.height,
                        c->cfg.width);
}

static gc_tensor batch_labels(const gc_classifier *c, int n)
{
    return gc_tensor_1d(c->be, c->work, input_off(c) + (size_t)(n * chw(c)), n);
}

/* Images and labels of a batch as one 1-D view (what one write fills). */
static gc_tensor batch_upload(const gc_classifier *c, int n)
{
    return gc_tensor_1d(c->be, c->work, input_off(c), n * (chw(c) + 1));
}

static gc_tensor logits(const gc_classifier *c, int n)
{
    gc_tensor z = gc_seq_output(&c->net, n);
    return gc_tensor_reshape(z, 2, (int64_t[]){n, c->cfg.classes});
}

static gc_tensor dlogits(const gc_classifier *c, int n)
{
    return gc_tensor_2d(c->be, c->work, W_SCALARS, n, c->cfg.classes);
}

/* How a training batch is augmented: each image by its own draw of the
 * stream `seed`, counter `counter` + its place in the batch. */
typedef struct batch_aug {
    const gc_image_aug *aug;
    uint64_t seed, counter;
    float *scratch; /* one image */
} batch_aug;

/* Images i0 .. i0 + n (or idx[i0 ..] when idx is given) of ds into host,
 * bytes / 255 (augmented when aug is given), followed by their labels as
 * floats. */
static void stage_batch(const gc_classifier *c, const gc_dataset *ds, const uint32_t *idx,
                        int64_t i0, int n, const batch_aug *aug, float *host)
{
    int64_t per = chw(c);
    float *labels = host + n * per;
    for (int b = 0; b < n; b++) {
        int64_t i = idx ? (int64_t)idx[i0 + b] : i0 + b;
        const uint8_t *src = ds->images + i * per;
        float *dst = host + b * per, *px = aug ? aug->scratch : dst;
        for (int64_t k = 0; k < per; k++)
            px[k] = (float)src[k] * (1.0f / 255.0f);
        if (aug) {
            gc_image_aug_draw d =
                gc_image_aug_sample(aug->aug, ds->w, ds->h, aug->seed, aug->counter + (uint64_t)b);
            gc_image_aug_apply(&d, px, ds->c, ds->h, ds->w, dst);
        }
        labels[b] = (float)ds->labels[i];
    }
}

/* What a data set must be for this network; exact_classes for training. */
static gc_status check_data(const gc_classifier *c, const gc_dataset *ds, int exact_classes,
                            const char *what)
{
    const gc_classifier_config *k = &c->cfg;
    const char *name = ds->images_path[0] ? ds->images_path : what;
    if (ds->c != k->channels || ds->h != k->height || ds->w != k->width)
        return gc_error(GC_ERR_ARG,
                        "%s: %dx%dx%d images, the classifier takes %dx%dx%d (channels x height x "
                        "width)",
                        name, ds->c, ds->h, ds->w, k->channels, k->height, k->width);
    if (!ds->labels || ds->classes < 1)
        return gc_error(GC_ERR_ARG, "%s: the images have no labels", name);
    if (exact_classes ? ds->classes != k->classes : ds->classes > k->classes)
        return gc_error(GC_ERR_ARG, "%s: %d classes, the classifier has %d", name, ds->classes,
                        k->classes);
    if (ds->n < 1) return gc_error(GC_ERR_ARG, "%s: no images", name);
    if (ds->n > UINT32_MAX) return gc_error(GC_ERR_ARG, "%s: more than 2^32 images", name);
    /* Checked here because a device sees a bad label only as a NaN loss. */
    for (int64_t i = 0; i < ds->n; i++)
        if (ds->labels[i] < 0 || ds->labels[i] >= k->classes)
            return gc_error(GC_ERR_ARG, "%s: image %lld has label %d, outside [0, %d)", name,
                            (long long)i, (int)ds->labels[i], k->classes);
    return GC_OK;
}

gc_classify_train_config gc_classify_default_train_config(void)
{
    return (gc_classify_train_config){.epochs = 10, .batch = 64, .lr = 1e-3f, .seed = 0};
}

/* The order of epoch `epoch`: a Fisher-Yates shuffle drawing from counters
 * epoch * n + (0 .. n - 2) of the seed's Philox stream. */
static void shuffle(uint32_t *perm, int64_t n, uint64_t seed, int epoch)
{
    uint64_t base = (uint64_t)epoch * (uint64_t)n;
    for (int64_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (int64_t i = n - 1; i > 0; i--) {
        uint32_t w[4];
        gc_philox4x32_10(seed, base + (uint64_t)(n - 1 - i), w);
        uint64_t r = (uint64_t)w[0] << 32 | w[1];
        int64_t j = (int64_t)(r % (uint64_t)(i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* Both sums to zero (adjacent slots: one fill). */
static gc_status clear_sums(const gc_classifier *c)
{
    gc_tensor sums = gc_tensor_1d(c->be, c->work, W_LOSS_SUM, 2);
    return gc_fill(&sums, 0);
}

static gc_status read_sums(const gc_classifier *c, float out[2])
{
    gc_tensor sums = gc_tensor_1d(c->be, c->work, W_LOSS_SUM, 2);
    return gc_tensor_read(&sums, out);
}

/* Forward of a staged batch of n, its loss and correct count into the
 * first two slots; the loss counted with weight `weight` into the sums. */
static gc_status batch_loss(gc_classifier *c, int n, int train, float weight)
{
    gc_tensor x = batch_images(c, n), y = batch_labels(c, n), z;
    gc_tensor loss = scalar(c, W_LOSS), correct = scalar(c, W_CORRECT);
    gc_tensor loss_sum = scalar(c, W_LOSS_SUM), correct_sum = scalar(c, W_CORRECT_SUM);
    GC_TRY(gc_seq_forward(&c->net, &x, n, train));
    z = logits(c, n);
    GC_TRY(gc_softmax_ce_forward(&loss, &correct, &z, &y));
    if (weight != 1.0f) GC_TRY(gc_scale(&loss, &loss, weight));
    GC_TRY(gc_add(&loss_sum, &loss_sum, &loss));
    return gc_add(&correct_sum, &correct_sum, &correct);
}

gc_status gc_classifier_train(gc_classifier *c, const gc_dataset *train,
                              const gc_classify_train_config *tc, gc_classify_progress_fn progress,
                              void *ctx)
{
    GC_TRY(check_data(c, train, 1, "the training set"));
    if (tc->batch < 1 || tc->batch > c->net.max_batch)
        return gc_error(GC_ERR_ARG, "a batch of %d: the classifier takes 1 to %d", tc->batch,
                        c->net.max_batch);
    if (train->n < tc->batch)
        return gc_error(GC_ERR_ARG, "the training set has %lld images, fewer than one batch of %d",
                        (long long)train->n, tc->batch);
    if (!(tc->lr > 0) || !isfinite(tc->lr))
        return gc_error(GC_ERR_ARG, "a learning rate of %g", (double)tc->lr);
    if (tc->epochs < 0) return gc_error(GC_ERR_ARG, "%d epochs", tc->epochs);

    int b = tc->batch;
    int64_t n = train->n, steps = n / b;
    uint32_t *perm = malloc((size_t)n * sizeof *perm);
    float *host = malloc((size_t)(b * (chw(c) + 1)) * sizeof(float));
    int augmenting = gc_image_aug_active(&tc->aug);
    float *scratch = augmenting ? malloc((size_t)chw(c) * sizeof(float)) : NULL;
    gc_status s = perm && host && (scratch || !augmenting)
                      ? GC_OK
                      : gc_error(GC_ERR_NOMEM, "out of host memory for %lld images", (long long)n);
    gc_tensor up = batch_upload(c, b), x = batch_images(c, b), y = batch_labels(c, b);
    gc_tensor dz = dlogits(c, b);
    gc_adam_params adam = {.lr = tc->lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    for (int e = 0; e < tc->epochs && s == GC_OK; e++) {
        shuffle(perm, n, tc->seed, e);
        s = clear_sums(c);
        for (int64_t k = 0; k < steps && s == GC_OK; k++) {
            /* Image k*b + i of epoch e has its own draw, whatever the batch. */
            batch_aug aug = {&tc->aug, tc->seed, (uint64_t)e * (uint64_t)n + (uint64_t)(k * b),
                             scratch};
            stage_batch(c, train, perm, k * b, b, augmenting ? &aug : NULL, host);
            gc_tensor z = logits(c, b);
            adam.step = c->step + 1;
            if ((s = gc_tensor_write(&up, host)) || (s = batch_loss(c, b, 1, 1.0f)) ||
                (s = gc_softmax_ce_backward(&dz, &z, &y, 1.0f)) ||
                (s = gc_seq_zero_grad(&c->net)) ||
                (s = gc_seq_backward(&c->net, &x, &dz, NULL, b)) ||
                (s = gc_seq_adam(&c->net, &adam)))
                break;
            c->step++;
        }
        float sums[2];
        if (s == GC_OK) s = read_sums(c, sums);
        if (s != GC_OK) break;
        double loss = sums[0] / (double)steps, acc = sums[1] / (double)(steps * b);
        if (!isfinite(loss)) {
            s = gc_error(GC_ERR_DIVERGED,
                         "the classifier's loss became %g in epoch %d (try a lower learning rate)",
                         loss, e + 1);
            break;
        }
        if (progress && progress(ctx, e + 1, tc->epochs, loss, acc))
            s = gc_error(GC_ERR_INTERRUPTED, "training interrupted after epoch %d", e + 1);
    }
    free(perm);
    free(host);
    free(scratch);
    return s;
}

gc_status gc_classifier_evaluate(gc_classifier *c, const gc_dataset *test, double *accuracy,
                                 double *loss)
{
    GC_TRY(check_data(c, test, 0, "the test set"));
    int mb = c->net.max_batch;
    float *host = malloc((size_t)(mb * (chw(c) + 1)) * sizeof(float));
    if (!host) return gc_error(GC_ERR_NOMEM, "out of host memory for a batch of %d images", mb);
    gc_status s = clear_sums(c);
    for (int64_t i = 0; i < test->n && s == GC_OK; i += mb) {
        int n = test->n - i < mb ? (int)(test->n - i) : mb;
        gc_tensor up = batch_upload(c, n);
        stage_batch(c, test, NULL, i, n, NULL, host);
        /* The batch's mean loss times its size: the sum is over images. */
        if ((s = gc_tensor_write(&up, host)) == GC_OK) s = batch_loss(c, n, 0, (float)n);
    }
    float sums[2];
    if (s == GC_OK) s = read_sums(c, sums);
    free(host);
    if (s != GC_OK) return s;
    if (accuracy) *accuracy = sums[1] / (double)test->n;
    if (loss) *loss = sums[0] / (double)test->n;
    return GC_OK;
}

static gc_status forward_host(gc_classifier *c, const float *images, int n)
{
    if (n < 1 || n > c->net.max_batch)
        return gc_error(GC_ERR_ARG, "a batch of %d images: the classifier takes 1 to %d", n,
                        c->net.max_batch);
    gc_tensor x = batch_images(c, n);
    GC_TRY(gc_tensor_write(&x, images));
    return gc_seq_forward(&c->net, &x, n, 0);
}

gc_status gc_classifier_features(gc_classifier *c, const float *images, int n, float *features)
{
    GC_TRY(forward_host(c, images, n));
    gc_tensor f = gc_seq_layer_output(&c->net, c->feature_layer, n);
    return gc_tensor_read(&f, features);
}

gc_status gc_classifier_predict(gc_classifier *c, const float *images, int n, int32_t *classes)
{
    GC_TRY(forward_host(c, images, n));
    int k = c->cfg.classes;
    float *z = malloc((size_t)n * (size_t)k * sizeof(float));
    if (!z) return gc_error(GC_ERR_NOMEM, "out of host memory for %d x %d logits", n, k);
    gc_tensor t = logits(c, n);
    gc_status s = gc_tensor_read(&t, z);
    /* The first maximum, as the device's correct count takes it. */
    for (int i = 0; i < n && s == GC_OK; i++) {
        int best = 0;
        for (int j = 1; j < k; j++)
            if (z[i * k + j] > z[i * k + best]) best = j;
        classes[i] = best;
    }
    free(z);
    return s;
}

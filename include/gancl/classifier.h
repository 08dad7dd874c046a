/* gancl/classifier.h - a small convolutional image classifier built from
 * gancl's own layers: for measuring whether synthetic data helps
 * (`gancl augment-eval`) and, through its penultimate features, a Frechet
 * distance for small gray images that needs no Inception weights.
 *
 *   Conv(C -> 32, 3, pad 1) ReLU MaxPool(2)
 *   Conv(32 -> 64, 3, pad 1) ReLU MaxPool(2)
 *   Dense(64 * H/4 * W/4 -> features) ReLU      <- the features
 *   Dense(features -> classes)                  <- logits, softmax CE
 *
 * Images go in as floats in [0, 1] (bytes / 255), NCHW.  Weights use
 * PyTorch's default initialisation; training is Adam on the mean softmax
 * cross-entropy over shuffled mini-batches.
 *
 *     gc_classifier net;
 *     gc_classifier_config cfg = gc_classifier_default_config(10, 1, 28, 28);
 *     gc_classifier_init(&net, be, &cfg, 64);
 *     gc_classifier_init_params(&net, 1);
 *     gc_classify_train_config tc = gc_classify_default_train_config();
 *     gc_classifier_train(&net, &train_set, &tc, NULL, NULL);
 *     double acc;
 *     gc_classifier_evaluate(&net, &test_set, &acc, NULL);
 *     gc_classifier_save(&net, "classifier.safetensors", (const char *const
 * *)train_set.class_names);
 */
#ifndef GANCL_CLASSIFIER_H
#define GANCL_CLASSIFIER_H

#include <stdint.h>

#include "gancl/dataset.h"
#include "gancl/image.h"
#include "gancl/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_CLASSIFIER_FORMAT "gancl-classifier-1"

typedef struct gc_classifier_config {
    int classes;                 /* 2 .. GC_MAX_CLASSES */
    int channels, height, width; /* 1 .. 4; multiples of 4 in [4, 1024] */
    int features;                /* the penultimate layer's width (128; at most 4096) */
} gc_classifier_config;

gc_classifier_config gc_classifier_default_config(int classes, int channels, int height, int width);
/* GC_ERR_ARG with a one-line reason when it cannot be built. */
gc_status gc_classifier_config_check(const gc_classifier_config *c);

typedef struct gc_classifier {
    gc_classifier_config cfg;
    gc_backend *be;
    gc_seq net;
    int feature_layer; /* the layer whose output is the features */
    gc_buffer *work;   /* input batch, labels, logit gradients, loss and count */
    int64_t step;      /* Adam steps taken since the parameters were set (bias correction) */
    /* cfg.classes names when gc_classifier_load found them in the file, or
     * NULL; owned (freed by gc_classifier_free). */
    char **class_names;
} gc_classifier;

/* Builds the network for batches of at most max_batch; parameters unset
 * until gc_classifier_init_params or gc_classifier_load.  init_params also
 * clears the Adam moments and step: training starts afresh. */
gc_status gc_classifier_init(gc_classifier *c, gc_backend *be, const gc_classifier_config *cfg,
                             int max_batch);
gc_status gc_classifier_init_params(gc_classifier *c, uint64_t seed);
void gc_classifier_free(gc_classifier *c);

typedef struct gc_classify_train_config {
    int epochs;       /* 10 */
    int batch;        /* 64, at most the network's max_batch */
    float lr;         /* Adam 1e-3, betas (0.9, 0.999) */
    uint64_t seed;    /* shuffling and augmentation (initialise separately) */
    gc_image_aug aug; /* classic augmentation of each training image as it is
                       * drawn (gancl/image.h); zeroed: none */
} gc_classify_train_config;

gc_classify_train_config gc_classify_default_train_config(void);

/* Called after every epoch with its mean loss and training accuracy; a
 * non-zero return stops training with GC_ERR_INTERRUPTED. */
typedef int (*gc_classify_progress_fn)(void *ctx, int epoch, int epochs, double loss,
                                       double accuracy);

/* Trains on a labelled data set of the network's image size and class
 * count (GC_ERR_ARG otherwise, or with fewer images than one batch).
 * Every epoch visits the images in a new Philox order of tc->seed in
 * n / batch full batches: the last partial batch is dropped (a different
 * part of the data each epoch), so every step is a mean over `batch`
 * images.  Calling it again continues with the same Adam state (its
 * shuffle starts again from epoch 0).  A loss that becomes NaN or Inf
 * stops training with GC_ERR_DIVERGED. */
gc_status gc_classifier_train(gc_classifier *c, const gc_dataset *train,
                              const gc_classify_train_config *tc, gc_classify_progress_fn progress,
                              void *ctx);
/* Accuracy in [0, 1] and mean cross-entropy (either pointer may be NULL)
 * on a labelled data set, in evaluation mode, over every image (the last
 * partial batch too).  The data set may have fewer classes than the
 * network (a test set without the last class); labels must be below
 * cfg.classes. */
gc_status gc_classifier_evaluate(gc_classifier *c, const gc_dataset *test, double *accuracy,
                                 double *loss);
/* Penultimate features (n x gc_classifier_feature_dims floats, host) of n
 * (<= max_batch) host images in [0, 1], NCHW of the network's size. */
gc_status gc_classifier_features(gc_classifier *c, const float *images, int n, float *features);
int gc_classifier_feature_dims(const gc_classifier *c);
/* Predicted classes of n (<= max_batch) host images in [0, 1]. */
gc_status gc_classifier_predict(gc_classifier *c, const float *images, int n, int32_t *classes);

/* safetensors: "<layer>.weight"/".bias" per layer; metadata format
 * (GC_CLASSIFIER_FORMAT), config (JSON) and class_names (JSON array, when
 * names are given).  Written atomically. */
gc_status gc_classifier_save(const gc_classifier *c, const char *path,
                             const char *const *class_names /* or NULL */);
/* Builds the network a file describes (batches of at most max_batch) and
 * loads its weights (Adam moments and step start at zero); GC_ERR_FORMAT
 * naming the file when it is not a classifier ("FILE: not a gancl
 * classifier ..."), when its configuration is malformed, when a tensor is
 * missing, extra, of another dtype or shape than the configuration
 * implies, or not finite, or when class_names is not a JSON array of
 * cfg.classes strings.  Nothing is allocated on the device before the file
 * has passed every check.  On failure *c is zeroed. */
gc_status gc_classifier_load(gc_classifier *c, gc_backend *be, const char *path, int max_batch);

#ifdef __cplusplus
}
#endif

#endif

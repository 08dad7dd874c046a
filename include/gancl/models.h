/* gancl/models.h - the two GANs gancl trains: `seed` and `dcgan`.
 *
 * Both map a latent vector z (latent, 1, 1) to a (channels, H, W) image
 * through a generator G and score images with a discriminator D that
 * returns one logit (the sigmoid lives in the loss).  At 28 x 28 (the MNIST
 * family) G starts at H/4 x W/4 and doubles twice, and D halves twice; dcgan
 * takes more stages for larger images (below).  With the default widths
 * (G 128, D 64):
 *
 * seed (the tutorial's model, PyTorch's default initialisation, data in [0, 1]):
 *   G: Dense(latent -> 128*7*7) ReLU, reshape (128, 7, 7),
 *      ConvT(128->64, 3, s2, p1, op1) ReLU, ConvT(64->1, 3, s2, p1, op1) Sigmoid
 *   D: Conv(1->64, 3, s2, p1) ReLU, Conv(64->128, 3, s2, p1) ReLU, flatten, Dense(1)
 *
 * dcgan (the DCGAN recipe at 28 x 28, weights N(0, 0.02), data in [-1, 1]):
 *   G: Dense(latent -> 128*7*7, no bias), reshape, BatchNorm ReLU,
 *      ConvT(128->64, 4, s2, p1, no bias) BatchNorm ReLU, ConvT(64->1, 4, s2, p1) Tanh
 *   D: Conv(1->64, 4, s2, p1) LeakyReLU(0.2),
 *      Conv(64->128, 4, s2, p1, no bias) BatchNorm LeakyReLU(0.2), flatten, Dense(1)
 *   Kernel 4, stride 2, padding 1 doubles or halves a side exactly (7, 14,
 *   28), so no output padding is needed; layers followed by BatchNorm have
 *   no bias (BatchNorm's beta replaces it).
 *
 * dcgan scales with the image: `depth` stride-2 stages (2 above; 3, 4, 5
 * for 32, 64, 128, see gc_gan_auto_depth), G starting at H/2^depth with
 * g_width channels and halving them at each stage, D doubling d_width at
 * each stage -- at 64 x 64 with widths 512 and 64 exactly the DCGAN paper's
 * networks (its "ngf" is g_width / 2^(depth-1), "ndf" d_width):
 *   G: Dense(latent -> g_width*4*4) BN ReLU, then per stage
 *      ConvT(-> half the channels, 4, s2, p1) BN ReLU, the last to
 *      `channels` with a bias and Tanh
 *   D: Conv(-> d_width, 4, s2, p1) LeakyReLU, then per stage
 *      Conv(-> twice the channels, 4, s2, p1) BN LeakyReLU, flatten, Dense(1)
 * Remedies against mode collapse change D: spectral_norm normalises every
 * conv and dense weight of D and drops D's batchnorm (as SNGAN's D has
 * none, the layers then have biases); mbstd puts a minibatch-stddev layer
 * (group mbstd) before D's dense head.
 */
#ifndef GANCL_MODELS_H
#define GANCL_MODELS_H

#include <stdint.h>

#include "gancl/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gc_model_kind {
    GC_MODEL_SEED,
    GC_MODEL_DCGAN,
} gc_model_kind;

/* "seed" / "dcgan"; the parser returns 0 for an unknown name. */
const char *gc_model_name(gc_model_kind kind);
int gc_model_parse(const char *name, gc_model_kind *out);

/* The most classes a conditional model or a labelled data set may have. */
#define GC_MAX_CLASSES 1000

typedef struct gc_gan_config {
    gc_model_kind kind;
    int latent;                  /* length of z (100) */
    int g_width;                 /* channels of G's first feature map (128), even */
    int d_width;                 /* channels of D's first convolution (64) */
    int channels, height, width; /* the images (1, 28, 28) */
    /* 0: unconditional.  K > 0: a class-conditional GAN of K classes.  G
     * adds a learned class embedding to the output of its first dense
     * layer (a one-hot label joined to z); D's dense head gets the
     * projection term <e[label], features> (Miyato & Koyama 2018). */
    int classes;
    /* dcgan: stride-2 stages; 0 picks gc_gan_auto_depth(height, width)
     * when the GAN is built (gc_gan.cfg holds the result).  seed: 0 or 2. */
    int depth;
    int spectral_norm; /* 1: D's weights spectrally normalised, no batchnorm in D */
    int mbstd;         /* > 0: a minibatch-stddev layer of this group size before D's head */
} gc_gan_config;

/* The stages for an H x W image: 2, plus one more while both H/2^depth and
 * W/2^depth are even and above 7 (28 -> 2 from 7 x 7, 32 -> 3, 64 -> 4,
 * 128 -> 5 from 4 x 4). */
int gc_gan_auto_depth(int height, int width);

gc_gan_config gc_gan_default_config(gc_model_kind kind);
/* GC_ERR_ARG with a one-line reason when the configuration cannot be built
 * (depth 0 is checked as gc_gan_auto_depth's). */
gc_status gc_gan_config_check(const gc_gan_config *c);

/* The pixel range the model's images live in: [0, 1] for seed (sigmoid),
 * [-1, 1] for dcgan (tanh).  Data is mapped there from bytes. */
void gc_gan_pixel_range(gc_model_kind kind, float *lo, float *hi);
/* n floats in [lo, hi] to bytes, linearly, rounded and clamped, NaN to 0:
 * how generated images are saved (sample, export, augment-eval). */
void gc_pixels_to_bytes(const float *x, int64_t n, float lo, float hi, uint8_t *out);

typedef struct gc_gan {
    gc_gan_config cfg;
    gc_seq g, d;
} gc_gan;

/* Builds G and D for batches of at most max_batch.  Parameters are unset
 * until gc_gan_init_params or a checkpoint load. */
gc_status gc_gan_init(gc_gan *gan, gc_backend *be, const gc_gan_config *cfg, int max_batch);
void gc_gan_free(gc_gan *gan);

/* Draws G's then D's parameters from Philox stream (seed, 0) on the device
 * with the model's initialisation scheme. */
gc_status gc_gan_init_params(gc_gan *gan, uint64_t seed);

/* Generates n images from noise z ~ N(0, 1) drawn from rng, with G in
 * evaluation mode (batchnorm uses its running statistics, so an image does
 * not depend on the others in its batch and sampling changes no state),
 * in batches of G's max_batch, into host floats (n, C, H, W) in the model's
 * pixel range.  Allocates a scratch noise tensor: call it outside the
 * training step. */
gc_status gc_gan_sample(gc_gan *gan, gc_rng *rng, int n, float *out);
/* The same for a conditional GAN: image i is of class labels[i] (each in
 * [0, classes)), or of class i % classes when labels is NULL.  On an
 * unconditional GAN labels must be NULL and this is gc_gan_sample. */
gc_status gc_gan_sample_classes(gc_gan *gan, gc_rng *rng, int n, const int32_t *labels, float *out);

/* Floating-point operations of one training step per image, counting the
 * dense and convolution layers only (2 per multiply-accumulate): G forward
 * and backward, D forward and backward on a real batch, a fake batch, and
 * the fake batch again for G's loss (with the input gradient then). */
double gc_gan_train_flops_per_image(const gc_gan *gan);

#ifdef __cplusplus
}
#endif
#endif

/* src/models/gan.c - the seed and DCGAN generator/discriminator pairs as
 * layer lists, their initialisation, sampling and FLOP count. */
#include "gancl/models.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

const char *gc_model_name(gc_model_kind kind)
{
    return kind == GC_MODEL_SEED ? "seed" : "dcgan";
}

int gc_model_parse(const char *name, gc_model_kind *out)
{
    if (!strcmp(name, "seed"))
        *out = GC_MODEL_SEED;
    else if (!strcmp(name, "dcgan"))
        *out = GC_MODEL_DCGAN;
    else
        return 0;
    return 1;
}

gc_gan_config gc_gan_default_config(gc_model_kind kind)
{
    return (gc_gan_config){.kind = kind,
                           .latent = 100,
                           .g_width = 128,
                           .d_width = 64,
                           .channels = 1,
                           .height = 28,
                           .width = 28};
}

int gc_gan_auto_depth(int height, int width)
{
    int depth = 2;
    while (depth < 16) {
        int h = height >> depth, w = width >> depth;
        if (h <= 7 || w <= 7 || h % 2 || w % 2 || (h << depth) != height || (w << depth) != width)
            break;
        depth++;
    }
    return depth;
}

gc_status gc_gan_config_check(const gc_gan_config *c)
{
    if (c->kind != GC_MODEL_SEED && c->kind != GC_MODEL_DCGAN)
        return gc_error(GC_ERR_ARG, "unknown model kind %d", (int)c->kind);
    if (c->latent < 1 || c->latent > 65536)
        return gc_error(GC_ERR_ARG, "latent size %d is outside [1, 65536]", c->latent);
    if (c->g_width < 2 || c->g_width > 4096 || c->g_width % 2)
        return gc_error(GC_ERR_ARG, "G width %d must be even and in [2, 4096]", c->g_width);
    if (c->d_width < 1 || c->d_width > 4096)
        return gc_error(GC_ERR_ARG, "D width %d is outside [1, 4096]", c->d_width);
    if (c->channels < 1 || c->channels > 4)
        return gc_error(GC_ERR_ARG, "%d image channels: 1 to 4 are supported", c->channels);
    if (c->height < 4 || c->width < 4 || c->height % 4 || c->width % 4 || c->height > 1024 ||
        c->width > 1024)
        return gc_error(GC_ERR_ARG,
                        "%dx%d images: the models need a height and width that are "
                        "multiples of 4 in [4, 1024] (28x28 for MNIST-style data)",
                        c->height, c->width);
    if (c->classes && (c->classes < 2 || c->classes > GC_MAX_CLASSES))
        return gc_error(GC_ERR_ARG, "%d classes: a conditional model needs 2 to %d", c->classes,
                        GC_MAX_CLASSES);
    if (c->spectral_norm < 0 || c->spectral_norm > 1)
        return gc_error(GC_ERR_ARG, "spectral_norm %d: 0 or 1", c->spectral_norm);
    if (c->mbstd < 0 || c->mbstd > 1024)
        return gc_error(GC_ERR_ARG, "minibatch-stddev group %d is outside [0, 1024]", c->mbstd);
    if (c->kind == GC_MODEL_SEED) {
        if (c->depth != 0 && c->depth != 2)
            return gc_error(GC_ERR_ARG, "depth %d: the seed model has 2 stages", c->depth);
        if (c->spectral_norm || c->mbstd)
            return gc_error(GC_ERR_ARG, "spectral norm and minibatch stddev are dcgan options "
                                        "(the seed model is the tutorial's, as it is)");
        return GC_OK;
    }
    int depth = c->depth ? c->depth : gc_gan_auto_depth(c->height, c->width);
    if (depth < 2 || depth > 8) return gc_error(GC_ERR_ARG, "depth %d is outside [2, 8]", depth);
    int unit = 1 << depth;
    if (c->height % unit || c->width % unit)
        return gc_error(GC_ERR_ARG,
                        "%dx%d images: %d stages need a height and width that are "
                        "multiples of %d",
                        c->height, c->width, depth, unit);
    if (c->g_width % (1 << (depth - 1)))
        return gc_error(GC_ERR_ARG,
                        "G width %d: %d stages halve it %d times, so it must be a "
                        "multiple of %d",
                        c->g_width, depth, depth - 1, 1 << (depth - 1));
    if ((int64_t)c->d_width << (depth - 1) > 65536)
        return gc_error(GC_ERR_ARG, "D width %d doubled %d times is too wide", c->d_width,
                        depth - 1);
    return GC_OK;
}

void gc_gan_pixel_range(gc_model_kind kind, float *lo, float *hi)
{
    *lo = kind == GC_MODEL_SEED ? 0.0f : -1.0f;
    *hi = 1.0f;
}

void gc_pixels_to_bytes(const float *x, int64_t n, float lo, float hi, uint8_t *out)
{
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] - lo) / (hi - lo) * 255.0f;
        out[i] = isnan(v) ? 0 : v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)lrintf(v);
    }
}

static gc_layer_desc dense(int out_c, int out_h, int out_w, int bias)
{
    return (gc_layer_desc){
        .kind = GC_LAYER_DENSE, .out_c = out_c, .out_h = out_h, .out_w = out_w, .bias = bias};
}

/* Stride-2 convolutions: conv halves a side, the transposed one doubles it. */
static gc_layer_desc conv(int out_c, int kernel, int bias)
{
    return (gc_layer_desc){.kind = GC_LAYER_CONV2D,
                           .out_c = out_c,
                           .kernel = kernel,
                           .stride = 2,
                           .pad = 1,
                           .bias = bias};
}

static gc_layer_desc conv_t(int out_c, int kernel, int out_pad, int bias)
{
    return (gc_layer_desc){.kind = GC_LAYER_CONV_TRANSPOSE2D,
                           .out_c = out_c,
                           .kernel = kernel,
                           .stride = 2,
                           .pad = 1,
                           .out_pad = out_pad,
                           .bias = bias};
}

static gc_layer_desc bn(void)
{
    return (gc_layer_desc){.kind = GC_LAYER_BATCHNORM2D};
}

static gc_layer_desc act(gc_act a, float slope)
{
    return (gc_layer_desc){.kind = GC_LAYER_ACT, .act = a, .slope = slope};
}

static int generator_layers(const gc_gan_config *c, gc_layer_desc *out)
{
    int w = c->g_width;
    if (c->kind == GC_MODEL_SEED) {
        int h4 = c->height / 4, w4 = c->width / 4;
        gc_layer_desc l[] = {dense(w, h4, w4, 1),          act(GC_ACT_RELU, 0),
                             conv_t(w / 2, 3, 1, 1),       act(GC_ACT_RELU, 0),
                             conv_t(c->channels, 3, 1, 1), act(GC_ACT_SIGMOID, 0)};
        memcpy(out, l, sizeof l);
        return (int)(sizeof l / sizeof l[0]);
    }
    int n = 0;
    out[n++] = dense(w, c->height >> c->depth, c->width >> c->depth, 0);
    out[n++] = bn();
    out[n++] = act(GC_ACT_RELU, 0);
    for (int stage = 1; stage < c->depth; stage++) {
        out[n++] = conv_t(w >> stage, 4, 0, 0);
        out[n++] = bn();
        out[n++] = act(GC_ACT_RELU, 0);
    }
    out[n++] = conv_t(c->channels, 4, 0, 1);
    out[n++] = act(GC_ACT_TANH, 0);
    return n;
}

static int discriminator_layers(const gc_gan_config *c, gc_layer_desc *out)
{
    int w = c->d_width;
    if (c->kind == GC_MODEL_SEED) {
        gc_layer_desc l[] = {conv(w, 3, 1), act(GC_ACT_RELU, 0), conv(2 * w, 3, 1),
                             act(GC_ACT_RELU, 0), dense(1, 1, 1, 1)};
        memcpy(out, l, sizeof l);
        return (int)(sizeof l / sizeof l[0]);
    }
    /* Spectral norm replaces batchnorm in D (SNGAN): the convolutions then
     * keep their biases. */
    int sn = c->spectral_norm, n = 0;
    out[n] = conv(w, 4, 1);
    out[n++].sn = sn;
    out[n++] = act(GC_ACT_LEAKY_RELU, 0.2f);
    for (int stage = 1; stage < c->depth; stage++) {
        out[n] = conv(w << stage, 4, sn);
        out[n++].sn = sn;
        if (!sn) out[n++] = bn();
        out[n++] = act(GC_ACT_LEAKY_RELU, 0.2f);
    }
    if (c->mbstd) out[n++] = (gc_layer_desc){.kind = GC_LAYER_MBSTD, .group = c->mbstd};
    out[n] = dense(1, 1, 1, 1);
    out[n++].sn = sn;
    return n;
}

/* A conditional GAN's class terms: G's first dense layer (embed), D's last
 * (project). */
static void condition(gc_layer_desc *l, int n, int classes, gc_class_cond cond)
{
    if (!classes) return;
    int first = cond == GC_COND_EMBED;
    for (int k = 0; k < n; k++) {
        int i = first ? k : n - 1 - k;
        if (l[i].kind != GC_LAYER_DENSE) continue;
        l[i].cond = cond;
        l[i].classes = classes;
        return;
    }
    GC_ASSERT(!"a model without a dense layer");
}

gc_status gc_gan_init(gc_gan *gan, gc_backend *be, const gc_gan_config *cfg, int max_batch)
{
    memset(gan, 0, sizeof *gan);
    GC_TRY(gc_gan_config_check(cfg));
    if (max_batch < 2) /* batchnorm's unbiased variance needs two samples */
        return gc_error(GC_ERR_ARG, "a batch of %d: the models need at least 2", max_batch);
    gan->cfg = *cfg;
    if (cfg->kind == GC_MODEL_SEED) gan->cfg.depth = 2;
    if (!gan->cfg.depth) gan->cfg.depth = gc_gan_auto_depth(cfg->height, cfg->width);
    cfg = &gan->cfg;
    gc_layer_desc l[GC_SEQ_MAX_LAYERS];
    int n = generator_layers(cfg, l);
    condition(l, n, cfg->classes, GC_COND_EMBED);
    GC_TRY(gc_seq_init(&gan->g, be, l, n, (int64_t[]){cfg->latent, 1, 1}, max_batch));
    n = discriminator_layers(cfg, l);
    condition(l, n, cfg->classes, GC_COND_PROJECT);
    gc_status s = gc_seq_init(&gan->d, be, l, n,
                              (int64_t[]){cfg->channels, cfg->height, cfg->width}, max_batch);
    if (s != GC_OK) gc_seq_free(&gan->g);
    return s;
}

void gc_gan_free(gc_gan *gan)
{
    gc_seq_free(&gan->g);
    gc_seq_free(&gan->d);
}

gc_status gc_gan_init_params(gc_gan *gan, uint64_t seed)
{
    gc_init_scheme scheme = gan->cfg.kind == GC_MODEL_SEED ? GC_INIT_TORCH_DEFAULT : GC_INIT_DCGAN;
    gc_rng rng = {.seed = seed, .offset = 0};
    GC_TRY(gc_seq_init_params(&gan->g, scheme, &rng));
    return gc_seq_init_params(&gan->d, scheme, &rng);
}

gc_status gc_gan_sample(gc_gan *gan, gc_rng *rng, int n, float *out)
{
    return gc_gan_sample_classes(gan, rng, n, NULL, out);
}

gc_status gc_gan_sample_classes(gc_gan *gan, gc_rng *rng, int n, const int32_t *labels, float *out)
{
    gc_seq *g = &gan->g;
    int k = gan->cfg.classes;
    if (!k && labels) return gc_error(GC_ERR_ARG, "class labels given to an unconditional GAN");
    for (int i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return gc_error(GC_ERR_ARG, "class %d of image %d is outside [0, %d)", (int)labels[i],
                            i, k);
    int64_t latent = gan->cfg.latent;
    int64_t per = (int64_t)gan->cfg.channels * gan->cfg.height * gan->cfg.width;
    float *host = k ? malloc((size_t)g->max_batch * sizeof(float)) : NULL;
    if (k && !host) return gc_error(GC_ERR_NOMEM, "out of host memory for %d labels", g->max_batch);
    gc_tensor z;
    gc_status s = gc_tensor_new(g->be, 2, (int64_t[]){g->max_batch, latent}, &z);
    if (s != GC_OK) {
        free(host);
        return s;
    }
    for (int done = 0; done < n && s == GC_OK;) {
        int b = n - done < g->max_batch ? n - done : g->max_batch;
        gc_tensor zb = gc_tensor_2d(g->be, z.buf, 0, b, latent);
        gc_tensor y = gc_seq_output(g, b);
        if (k) {
            for (int i = 0; i < b; i++)
                host[i] = (float)(labels ? labels[done + i] : (done + i) % k);
            gc_tensor lab = gc_seq_labels(g, b);
            if ((s = gc_tensor_write(&lab, host))) break;
        }
        if ((s = gc_rng_normal(&zb, rng, 0.0f, 1.0f)) || (s = gc_seq_forward(g, &zb, b, 0)) ||
            (s = gc_tensor_read(&y, out + (int64_t)done * per)))
            break;
        done += b;
    }
    gc_tensor_free(&z);
    free(host);
    return s;
}

/* Forward, weight gradient, and (unless skip_dx0 for the first layer) input
 * gradient: each costs one pass of multiply-accumulates. */
static double seq_train_macs(const gc_seq *s, int with_dx0)
{
    double macs = 0;
    for (int i = 0; i < s->n_layers; i++) {
        double m = (double)gc_layer_macs(&s->layers[i]);
        macs += m * ((i || with_dx0) ? 3 : 2);
    }
    return macs;
}

double gc_gan_train_flops_per_image(const gc_gan *gan)
{
    double macs =
        seq_train_macs(&gan->g, 0) + 2 * seq_train_macs(&gan->d, 0) + seq_train_macs(&gan->d, 1);
    return 2 * macs;
}

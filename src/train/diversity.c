/* src/train/diversity.c - the collapse diagnostic: the mean pairwise
 * distance among generated images over the same among real ones, in D's
 * features and in pixels (gc_trainer_diversity).
 *
 * Nothing of the run changes: G samples in evaluation mode (with the EMA
 * weights when the run keeps them) from a stream of its own, D runs evaluation forwards (running
 * statistics read, not updated; spectral norm iterates on a copy of u), and the label buffers the
 * trainer writes for its step are saved and put back.  Only the networks' activation buffers are
 * overwritten, and every step writes them afresh before it reads them.
 *
 * A ratio is fake / real; a real distance of 0 (every sampled real image
 * the same) gives a ratio of NaN rather than a division by zero. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/train.h"
#include "train/train_internal.h"
#include "util/error.h"

/* The input of D's dense head: the layer before D's last dense layer, or
 * the one before that when it is the minibatch-stddev layer (whose extra
 * channel measures the batch, not the image). */
static int feature_layer(const gc_seq *d)
{
    int last = -1;
    for (int i = 0; i < d->n_layers; i++)
        if (d->layers[i].d.kind == GC_LAYER_DENSE) last = i;
    GC_ASSERT(last >= 1);
    int f = last - 1;
    if (d->layers[f].d.kind == GC_LAYER_MBSTD) f--;
    GC_ASSERT(f >= 0);
    return f;
}

/* Squared distance of two vectors in double.  Eight partial sums: one
 * would chain every add behind the previous one (no reassociation without
 * fast-math), and at 128 x 128 x 3 pixels and 256 samples a side there
 * are 1.6e9 terms. */
static double dist2(const float *a, const float *b, int64_t dim)
{
    double acc[8] = {0};
    int64_t k = 0;
    for (; k + 8 <= dim; k += 8)
        for (int u = 0; u < 8; u++) {
            double t = (double)a[k + u] - (double)b[k + u];
            acc[u] += t * t;
        }
    double d2 = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; k < dim; k++) {
        double t = (double)a[k] - (double)b[k];
        d2 += t * t;
    }
    return d2;
}

/* Mean Euclidean distance over all i < j pairs of n vectors of dim floats.
 * Differences, not |a|^2 + |b|^2 - 2ab: identical vectors give exactly 0. */
static double mean_pairwise(const float *x, int n, int64_t dim)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            sum += sqrt(dist2(x + (int64_t)i * dim, x + (int64_t)j * dim, dim));
    return sum / ((double)n * (double)(n - 1) / 2.0);
}

static double ratio(double fake, double real)
{
    return real > 0 ? fake / real : NAN;
}

/* D's features (n x dim floats) of n images px (host, n x per floats),
 * max_batch at a time through the device tensor x; labels (n, or NULL)
 * go through hl (max_batch floats) into D's label buffer. */
static gc_status features(gc_seq *d, const gc_tensor *x, int layer, const float *px, int n,
                          const int32_t *labels, float *hl, float *out)
{
    const gc_layer *l = &d->layers[layer];
    int64_t per = d->in[0] * d->in[1] * d->in[2];
    int64_t dim = l->out[0] * l->out[1] * l->out[2];
    for (int done = 0; done < n;) {
        int b = n - done < d->max_batch ? n - done : d->max_batch;
        gc_tensor xb = gc_tensor_4d(d->be, x->buf, x->off, b, d->in[0], d->in[1], d->in[2]);
        GC_TRY(gc_tensor_write(&xb, px + (int64_t)done * per));
        if (labels) {
            /* The features do not depend on the labels, but the forward
             * reads them (the projection term of the head). */
            for (int i = 0; i < b; i++)
                hl[i] = (float)labels[done + i];
            gc_tensor lab = gc_seq_labels(d, b);
            GC_TRY(gc_tensor_write(&lab, hl));
        }
        GC_TRY(gc_seq_forward(d, &xb, b, 0));
        gc_tensor y = gc_seq_layer_output(d, layer, b);
        GC_TRY(gc_tensor_read(&y, out + (int64_t)done * dim));
        done += b;
    }
    return GC_OK;
}

/* A network's label buffer (max_batch floats) to host and back. */
static gc_status save_labels(const gc_seq *s, float *host)
{
    if (!s->labels) return GC_OK;
    gc_tensor t = gc_seq_labels(s, s->max_batch);
    return gc_tensor_read(&t, host);
}

static gc_status restore_labels(const gc_seq *s, const float *host)
{
    if (!s->labels) return GC_OK;
    gc_tensor t = gc_seq_labels(s, s->max_batch);
    return gc_tensor_write(&t, host);
}

/* The real images and their labels: n spread evenly over the data, bytes
 * mapped to the model's pixel range as the trainer's batches are. */
static void real_images(const gc_trainer *tr, int n, int64_t per, float *px, int32_t *labels)
{
    float lo, hi;
    gc_gan_pixel_range(tr->cfg.model.kind, &lo, &hi);
    float scale = (hi - lo) / 255.0f;
    for (int i = 0; i < n; i++) {
        int64_t idx = (int64_t)i * tr->n_images / n;
        const uint8_t *src = tr->images + idx * per;
        float *dst = px + (int64_t)i * per;
        for (int64_t k = 0; k < per; k++)
            dst[k] = lo + scale * (float)src[k];
        if (labels) labels[i] = tr->labels[idx];
    }
}

gc_status gc_trainer_diversity(gc_trainer *tr, int n, gc_diversity *out)
{
    if (n < 2 || n > tr->n_images)
        return gc_error(GC_ERR_ARG, "the diversity diagnostic needs 2 to %lld samples, not %d",
                        (long long)tr->n_images, n);
    gc_seq *g = &tr->gan.g, *d = &tr->gan.d;
    const gc_gan_config *m = &tr->gan.cfg;
    int layer = feature_layer(d);
    const gc_layer *l = &d->layers[layer];
    int64_t per = (int64_t)m->channels * m->height * m->width;
    int64_t dim = l->out[0] * l->out[1] * l->out[2];
    int conditional = tr->labels != NULL;
    GC_ASSERT(d->in[0] * d->in[1] * d->in[2] == per);

    float *real_px = malloc((size_t)(2 * n * per) * sizeof(float));
    float *real_f = malloc((size_t)(2 * n * dim) * sizeof(float));
    float *saved = malloc((size_t)(g->max_batch + 2 * d->max_batch) * sizeof(float));
    int32_t *labels = conditional ? malloc((size_t)n * sizeof *labels) : NULL;
    gc_tensor x = {0};
    gc_status s = GC_OK;
    if (!real_px || !real_f || !saved || (conditional && !labels))
        s = gc_error(GC_ERR_NOMEM, "out of host memory for the diversity of %d samples", n);
    int64_t xdims[4] = {d->max_batch, d->in[0], d->in[1], d->in[2]};
    if (s == GC_OK) s = gc_tensor_new(tr->be, 4, xdims, &x);
    float *fake_px = real_px ? real_px + (int64_t)n * per : NULL;
    float *fake_f = real_f ? real_f + (int64_t)n * dim : NULL;
    float *saved_g = saved, *saved_d = saved ? saved + g->max_batch : NULL;
    float *hl = saved ? saved_d + d->max_batch : NULL;
    if (s == GC_OK && (s = save_labels(g, saved_g)) == GC_OK &&
        (s = save_labels(d, saved_d)) == GC_OK) {
        real_images(tr, n, per, real_px, labels);
        gc_rng rng = {.seed = gc_train_derive_seed(tr->st.fixed_seed, 2), .offset = 0};
        s = gc_trainer_sample(tr, &rng, n, labels, fake_px);
        if (s == GC_OK) s = features(d, &x, layer, real_px, n, labels, hl, real_f);
        if (s == GC_OK) s = features(d, &x, layer, fake_px, n, labels, hl, fake_f);
        /* Put the step's labels back even after a failure. */
        gc_status r = restore_labels(g, saved_g);
        if (r == GC_OK) r = restore_labels(d, saved_d);
        if (s == GC_OK) s = r;
    }
    if (s == GC_OK) {
        out->real = mean_pairwise(real_f, n, dim);
        out->fake = mean_pairwise(fake_f, n, dim);
        out->ratio = ratio(out->fake, out->real);
        out->pix_real = mean_pairwise(real_px, n, per);
        out->pix_fake = mean_pairwise(fake_px, n, per);
        out->pix_ratio = ratio(out->pix_fake, out->pix_real);
    }
    if (x.buf) gc_tensor_free(&x);
    free(real_px);
    free(real_f);
    free(saved);
    free(labels);
    return s;
}

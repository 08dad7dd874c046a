/* src/metrics/fid_classifier.c - a trained gancl classifier's penultimate
 * features as the feature extractor behind a Frechet distance, for small
 * gray images where Inception's ImageNet features (and its weights file)
 * are a poor fit.
 *
 * Statistics record the extractor as "classifier:" and a 64-bit FNV-1a hash
 * of the classifier file's bytes: two files with the same weights give the
 * same tag wherever they live, and statistics of one classifier are never
 * compared with another's (or Inception's).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/classifier.h"
#include "gancl/fid.h"
#include "util/error.h"
#include "util/fs.h"

/* Classifier files are a few MB; this only keeps a wrong path (a data
 * set, say) from being read whole before it is rejected. */
#define MAX_CLASSIFIER_BYTES ((size_t)1 << 30)

struct gc_fid_classifier {
    gc_classifier net;
    gc_feature_extractor fx;
    char path[1024];
};

static gc_status classifier_features(gc_classifier *c, const char *label, const float *images,
                                     int n, int ch, int h, int w, float *out)
{
    const gc_classifier_config *k = &c->cfg;
    if (ch != k->channels || h != k->height || w != k->width)
        return gc_error(GC_ERR_ARG, "%s: the classifier takes %dx%dx%d images, got %dx%dx%d", label,
                        k->channels, k->height, k->width, ch, h, w);
    return gc_classifier_features(c, images, n, out);
}

static gc_status loaded_features(void *ctx, const float *images, int n, int c, int h, int w,
                                 float *out)
{
    gc_fid_classifier *fc = ctx;
    return classifier_features(&fc->net, fc->path, images, n, c, h, w, out);
}

static gc_status borrowed_features(void *ctx, const float *images, int n, int c, int h, int w,
                                   float *out)
{
    return classifier_features(ctx, "classifier", images, n, c, h, w, out);
}

static void fill(gc_feature_extractor *fx, gc_classifier *c)
{
    fx->dims = gc_classifier_feature_dims(c);
    fx->max_batch = c->net.max_batch;
    fx->c = c->cfg.channels;
    fx->h = c->cfg.height;
    fx->w = c->cfg.width;
}

gc_status gc_fid_classifier_tag(const char *path, char *out, size_t n)
{
    void *data;
    size_t len;
    GC_TRY(gc_fs_read_file(path, MAX_CLASSIFIER_BYTES, &data, &len));
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *b = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    free(data);
    snprintf(out, n, "classifier:%016" PRIx64, h);
    return GC_OK;
}

gc_status gc_fid_classifier_load(gc_backend *be, const char *path, int max_batch,
                                 gc_fid_classifier **out)
{
    GC_ASSERT(max_batch >= 1);
    *out = NULL;
    gc_fid_classifier *fc = calloc(1, sizeof *fc);
    if (!fc) return gc_error(GC_ERR_NOMEM, "out of memory for the classifier");
    snprintf(fc->path, sizeof fc->path, "%s", path);
    gc_status s = gc_fid_classifier_tag(path, fc->fx.name, sizeof fc->fx.name);
    if (s == GC_OK) s = gc_classifier_load(&fc->net, be, path, max_batch);
    if (s != GC_OK) {
        free(fc);
        return s;
    }
    fill(&fc->fx, &fc->net);
    fc->fx.features = loaded_features;
    fc->fx.ctx = fc;
    *out = fc;
    return GC_OK;
}

const gc_feature_extractor *gc_fid_classifier_extractor(const gc_fid_classifier *fc)
{
    return &fc->fx;
}

void gc_fid_classifier_free(gc_fid_classifier *fc)
{
    if (!fc) return;
    gc_classifier_free(&fc->net);
    free(fc);
}

void gc_fid_extractor_from_classifier(struct gc_classifier *c, const char *name,
                                      gc_feature_extractor *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name ? name : "classifier");
    fill(out, c);
    out->features = borrowed_features;
    out->ctx = c;
}

/* src/train/train_fid.c - FID during training: Inception (or the
 * classifier of cfg.fid_classifier) on the training backend, the training
 * set's statistics cached per data file, feature extractor and dims, and
 * evaluations of G's samples from a noise stream of their own.
 *
 * gc_fid_monitor does the same for any image source; the trainer keeps its
 * own loop so that an evaluation can be stopped by a signal between batches
 * and so that the warning about few samples, which gc_fid_compute_stats
 * repeats on every call, is said once by the command line instead. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gancl/train.h"
#include "train/train_internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

struct gc_train_fid {
    gc_inception *net;       /* Inception, or */
    gc_fid_classifier *clf;  /* the classifier of cfg.fid_classifier */
    gc_feature_extractor fx; /* whichever of the two is in use */
    gc_fid_stats real;
    int batch, from_cache;
    char cache[PATH_MAX + 64];
    char weights[1024];
    float *raw, *images, *feat; /* batch images (model range, then [0, 1]), batch x dims */
};

/* The real images as Inception wants them: bytes / 255, as torchvision's
 * ToTensor makes them. */
typedef struct real_ctx {
    const gc_trainer *tr;
} real_ctx;

static gc_status read_real(void *ctx, int64_t first, int n, float *out)
{
    const gc_trainer *tr = ((const real_ctx *)ctx)->tr;
    const gc_gan_config *m = &tr->cfg.model;
    const int64_t per = (int64_t)m->channels * m->height * m->width;
    const uint8_t *b = tr->images + first * per;
    for (int64_t i = 0; i < (int64_t)n * per; i++)
        out[i] = (float)b[i] / 255.0f;
    return GC_OK;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* A file's real path, size and modification time, as text. */
static gc_status file_id(const char *path, const char *what, char *out, size_t n)
{
    char real[PATH_MAX];
    struct stat st;
    if (!realpath(path, real) || stat(real, &st) != 0)
        return gc_error(GC_ERR_IO, "%s: cannot stat %s for the FID cache", path, what);
    snprintf(out, n, "%s size %lld mtime %lld.%09ld", real, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    return GC_OK;
}

/* FNV-1a of the training images' bytes: a folder of PNGs decoded with
 * other options (size, channels, background) is other data under the same
 * path, and one pass over the bytes costs little next to Inception. */
static uint64_t images_hash(const gc_trainer *tr)
{
    const gc_gan_config *m = &tr->cfg.model;
    uint64_t h = 0xcbf29ce484222325ull;
    int64_t n = tr->n_images * m->channels * m->height * m->width;
    for (int64_t i = 0; i < n; i++)
        h = (h ^ tr->images[i]) * 0x100000001b3ull;
    return h;
}

/* The cache file and the description stored in it, from what identifies the
 * data: its real path, size and modification time, the image count and
 * size the trainer took from it and a hash of their bytes; with a
 * classifier, the same for the classifier's file (Inception's weights are
 * fixed by their name). */
static gc_status cache_key(const gc_trainer *tr, const char *data_path, int dims,
                           const char *classifier, char *path, size_t pn, char *id, size_t idn)
{
    char data[PATH_MAX + 96], clf[PATH_MAX + 96] = "", dir[PATH_MAX];
    GC_TRY(file_id(data_path, "the training data", data, sizeof data));
    if (classifier) GC_TRY(file_id(classifier, "the FID classifier", clf, sizeof clf));
    const gc_gan_config *m = &tr->cfg.model;
    snprintf(id, idn, "gancl-train idx %s images %lldx%dx%dx%d bytes %016" PRIx64 " dims %d%s%s",
             data, (long long)tr->n_images, m->channels, m->height, m->width, images_hash(tr), dims,
             classifier ? " classifier " : "", clf);
    GC_TRY(gc_fs_cache_dir(dir, sizeof dir));
    if ((size_t)snprintf(path, pn, "%s/fid-stats/%016" PRIx64 "-%s%d.safetensors", dir, fnv1a(id),
                         classifier ? "classifier-" : "", dims) >= pn)
        return gc_error(GC_ERR_ARG, "%s: cache path too long", dir);
    char sub[PATH_MAX + 16];
    snprintf(sub, sizeof sub, "%s/fid-stats", dir);
    return gc_fs_mkdirs(sub);
}

/* The cached statistics when they are those of this data; 0 otherwise. */
static int load_cached(gc_train_fid *f, const char *id, int dims, int64_t count)
{
    if (!gc_fs_is_file(f->cache)) return 0;
    char *src = NULL;
    if (gc_fid_stats_load(f->cache, &f->real, &src) != GC_OK) {
        GC_WARN("ignoring the FID statistics cache: %s", gc_last_error());
        return 0;
    }
    int ok = f->real.dims == dims && f->real.count == count && src && !strcmp(src, id) &&
             !strcmp(f->real.extractor, f->fx.name);
    free(src);
    if (!ok) {
        /* A hash collision, or a file edited by hand. */
        GC_INFO("FID statistics in %s are for other data; recomputing", f->cache);
        gc_fid_stats_free(&f->real);
    }
    return ok;
}

/* The classifier of cfg.fid_classifier, which must take the model's images. */
static gc_status load_classifier(gc_train_fid *f, const gc_trainer *tr, int batch)
{
    const char *path = tr->cfg.fid_classifier;
    const gc_gan_config *m = &tr->cfg.model;
    snprintf(f->weights, sizeof f->weights, "%s", path);
    GC_TRY(gc_fid_classifier_load(tr->be, path, batch, &f->clf));
    f->fx = *gc_fid_classifier_extractor(f->clf);
    if (f->fx.c != m->channels || f->fx.h != m->height || f->fx.w != m->width)
        return gc_error(GC_ERR_ARG,
                        "%s: the classifier takes %dx%dx%d images, the model makes %dx%dx%d", path,
                        f->fx.c, f->fx.h, f->fx.w, m->channels, m->height, m->width);
    return GC_OK;
}

gc_status gc_train_fid_init(const gc_trainer *tr, const char *weights, const char *data_path,
                            int dims, int batch, gc_fid_progress_fn progress, void *progress_ctx,
                            gc_train_fid **out)
{
    *out = NULL;
    const int use_clf = tr->cfg.fid_classifier[0] != 0;
    if (!use_clf && !gc_inception_valid_dims(dims))
        return gc_error(GC_ERR_ARG, "FID: %d is not one of 64, 192, 768, 2048 dims", dims);
    if (batch <= 0) batch = GC_FID_DEFAULT_BATCH;
    gc_train_fid *f = calloc(1, sizeof *f);
    if (!f) return gc_error(GC_ERR_NOMEM, "FID: out of memory");
    f->batch = batch;
    gc_status s;
    if (use_clf) {
        s = load_classifier(f, tr, batch);
    } else {
        s = gc_fid_weights_path(weights, f->weights, sizeof f->weights);
        if (s == GC_OK) s = gc_inception_load(tr->be, f->weights, dims, batch, &f->net);
        if (s == GC_OK) gc_inception_extractor(f->net, &f->fx);
    }
    if (s == GC_OK) dims = f->fx.dims;
    const gc_gan_config *m = &tr->cfg.model;
    const size_t per = (size_t)m->channels * m->height * m->width;
    if (s == GC_OK) {
        f->raw = malloc(sizeof(float) * per * (size_t)batch);
        f->images = malloc(sizeof(float) * per * (size_t)batch);
        f->feat = malloc(sizeof(float) * (size_t)dims * (size_t)batch);
        if (!f->raw || !f->images || !f->feat)
            s = gc_error(GC_ERR_NOMEM, "FID: out of memory for a batch");
    }
    char id[2 * PATH_MAX + 512] = "";
    if (s == GC_OK && data_path)
        s = cache_key(tr, data_path, dims, use_clf ? f->weights : NULL, f->cache, sizeof f->cache,
                      id, sizeof id);
    if (s == GC_OK && data_path && load_cached(f, id, dims, tr->n_images)) {
        f->from_cache = 1;
        GC_DEBUG("FID: statistics of the training set from the cache %s", f->cache);
    } else if (s == GC_OK) {
        real_ctx rc = {tr};
        gc_image_source src = {tr->n_images, m->channels, m->height, m->width, read_real, &rc};
        GC_INFO("FID: computing the statistics of the training set (%lld images, %d %s "
                "features)%s%s",
                (long long)tr->n_images, dims, use_clf ? "classifier" : "Inception",
                data_path ? "; cached in " : "", f->cache);
        s = gc_fid_compute_stats_fx(&f->fx, &src, 0, progress, progress_ctx, &f->real);
        if (s == GC_OK && data_path) {
            gc_status w = gc_fid_stats_save(f->cache, &f->real, id);
            if (w != GC_OK) GC_WARN("could not cache the FID statistics: %s", gc_last_error());
        }
    }
    if (s != GC_OK) {
        gc_train_fid_free(f);
        return s;
    }
    *out = f;
    return GC_OK;
}

uint64_t gc_train_fid_seed(const gc_trainer *tr)
{
    return gc_train_derive_seed(tr->st.fixed_seed, 1);
}

gc_status gc_train_fid_eval(gc_train_fid *f, gc_trainer *tr, int64_t n,
                            gc_train_fid_progress_fn progress, void *progress_ctx, double *fid)
{
    if (n < 2) return gc_error(GC_ERR_ARG, "FID needs at least 2 samples (got %lld)", (long long)n);
    const gc_gan_config *m = &tr->cfg.model;
    const int64_t per = (int64_t)m->channels * m->height * m->width;
    const int dims = f->fx.dims;
    float lo, hi;
    gc_gan_pixel_range(m->kind, &lo, &hi);
    /* A fresh copy of the stream each time: every evaluation sees the same
     * noise, and no training stream moves. */
    gc_rng rng = {.seed = gc_train_fid_seed(tr), .offset = 0};
    gc_fid_accum *acc;
    GC_TRY(gc_fid_accum_init(dims, &acc));
    gc_status s = GC_OK;
    for (int64_t done = 0; done < n && s == GC_OK;) {
        int b = n - done < f->batch ? (int)(n - done) : f->batch;
        s = gc_trainer_sample(tr, &rng, b, NULL, f->raw);
        /* The bytes `gancl sample` would write, read back as pytorch-fid would. */
        for (int64_t i = 0; s == GC_OK && i < b * per; i++) {
            float v = (f->raw[i] - lo) / (hi - lo) * 255.0f;
            float q = isnan(v) ? 0.0f : v <= 0 ? 0.0f : v >= 255 ? 255.0f : (float)lrintf(v);
            f->images[i] = q / 255.0f;
        }
        if (s == GC_OK)
            s = f->fx.features(f->fx.ctx, f->images, b, m->channels, m->height, m->width, f->feat);
        if (s != GC_OK) break;
        gc_fid_accum_add(acc, f->feat, b);
        done += b;
        if (progress && progress(progress_ctx, done, n))
            s = done < n ? gc_error(GC_ERR_INTERRUPTED, "FID evaluation interrupted") : GC_OK;
    }
    gc_fid_stats fake = {0};
    if (s == GC_OK) s = gc_fid_accum_stats(acc, &fake);
    gc_fid_accum_free(acc);
    if (s == GC_OK) s = gc_fid(&f->real, &fake, fid);
    gc_fid_stats_free(&fake);
    return s;
}

const char *gc_train_fid_cache_file(const gc_train_fid *f)
{
    return f->cache;
}

int gc_train_fid_from_cache(const gc_train_fid *f)
{
    return f->from_cache;
}

const char *gc_train_fid_weights(const gc_train_fid *f)
{
    return f->weights;
}

int gc_train_fid_dims(const gc_train_fid *f)
{
    return f->fx.dims;
}

const char *gc_train_fid_extractor(const gc_train_fid *f)
{
    return f->fx.name;
}

void gc_train_fid_free(gc_train_fid *f)
{
    if (!f) return;
    gc_inception_free(f->net);
    gc_fid_classifier_free(f->clf);
    gc_fid_stats_free(&f->real);
    free(f->raw);
    free(f->images);
    free(f->feat);
    free(f);
}

/* gancl/fid.h - Frechet Inception Distance, equal to pytorch-fid's.
 *
 * Three layers, usable separately:
 *
 *   gc_inception   pytorch-fid's Inception-v3 (torchvision's network with the
 *                  FID blocks: count_include_pad=False average pooling in
 *                  Mixed_5b-7b, max pooling in Mixed_7c) on any backend.
 *                  Images in [0, 1] go in (any size, gray or RGB); it resizes
 *                  them to 299x299 (bilinear, align_corners=False), maps them to
 *                  [-1, 1] and returns the 64-, 192-, 768- or 2048-d features.
 *   gc_fid_stats   mean and covariance (N - 1) of features, in double, saved
 *                  to and loaded from safetensors ("mu", "sigma", F64).
 *   gc_fid         the Frechet distance |mu1 - mu2|^2 + tr(S1 + S2 - 2 sqrtm(S1 S2)).
 *
 * A whole data set, from files or from a generator:
 *
 *     gc_inception *net;
 *     char wpath[1024];
 *     if (gc_fid_weights_path(NULL, wpath, sizeof wpath) != GC_OK ||
 *         gc_inception_load(be, wpath, 2048, 50, &net) != GC_OK)
 *         fprintf(stderr, "%s\n", gc_last_error());
 *     gc_fid_stats real, fake;
 *     gc_fid_compute_stats(net, &real_source, 0, NULL, NULL, &real);
 *     gc_fid_compute_stats(net, &fake_source, 10000, NULL, NULL, &fake);
 *     double fid;
 *     gc_fid(&real, &fake, &fid);
 *
 * and during training (gc_fid_monitor, below): the real set's statistics are
 * computed once and cached in a file, each evaluation draws N samples from a
 * callback.
 *
 * Weights are pytorch-fid's pt_inception-2015-12-05-6726825d.pth converted
 * once with tools/convert_fid_weights.py to safetensors; tensor names are
 * its state_dict keys ("Conv2d_1a_3x3.conv.weight",
 * "Mixed_5b.branch1x1.bn.running_mean", ...; "fc.*", "AuxLogits.*" and
 * "*.num_batches_tracked" may be present and are ignored).
 */
#ifndef GANCL_FID_H
#define GANCL_FID_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/backend.h"
#include "gancl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The file name looked for in the cache folder. */
#define GC_FID_WEIGHTS_NAME  "pt_inception-2015-12-05.safetensors"
#define GC_FID_DEFAULT_BATCH 50
#define GC_FID_DEFAULT_DIMS  2048
/* Below this many samples pytorch-fid's authors warn that the 2048-d
 * covariance is rank-deficient and the FID biased. */
#define GC_FID_MIN_SAMPLES 2048
/* The identity added to both covariances when sqrtm fails (pytorch-fid's eps). */
#define GC_FID_EPS 1e-6

/* ---- weights ------------------------------------------------------------- */

/* Finds the weights file: `path` when non-NULL, else $GANCL_FID_WEIGHTS when
 * set and non-empty, else <cache>/pt_inception-2015-12-05.safetensors
 * ($XDG_CACHE_HOME/gancl or ~/.cache/gancl).  Fails with GC_ERR_IO and a
 * one-line message naming where it looked and how to obtain the file when
 * the chosen file does not exist. */
gc_status gc_fid_weights_path(const char *path, char *out, size_t n);

/* ---- the network ---------------------------------------------------------- */

typedef struct gc_inception gc_inception;

/* 1 if dims is 64, 192, 768 or 2048. */
int gc_inception_valid_dims(int dims);

/* Loads the weights from a safetensors file and builds the network on be
 * for calls of up to max_batch images, stopping after the block that gives
 * `dims` features.  Every needed tensor is checked (missing, wrong dtype --
 * F32 is required -- or wrong shape fails with GC_ERR_FORMAT and a message
 * naming the file and the key); a truncated or malformed file fails in the
 * safetensors reader.  Device memory is allocated here, once: the
 * parameters (BatchNorm folded into each convolution) and two activation
 * buffers reused by every block.  When max_batch images would need a buffer
 * above the device's largest allocation, or more than about half of its
 * global memory, the batch is run in chunks (gc_inception_memory). */
gc_status gc_inception_load(gc_backend *be, const char *weights_path, int dims, int max_batch,
                            gc_inception **out);

/* The same network with deterministic pseudo-random weights (He-uniform
 * convolutions, BatchNorm statistics away from 0/1) drawn from seed: for
 * benchmarks and tests.  tools/make_inception_goldens.py draws the same
 * numbers. */
gc_status gc_inception_random(gc_backend *be, uint64_t seed, int dims, int max_batch,
                              gc_inception **out);

void gc_inception_free(gc_inception *net);

int gc_inception_dims(const gc_inception *net);
int gc_inception_max_batch(const gc_inception *net);
/* Floating-point operations per image in the convolutions (2 per
 * multiply-accumulate): about 11.5e9 (5.7 G multiply-adds) for 2048 dims. */
double gc_inception_flops(const gc_inception *net);

/* Device memory the network holds, in bytes. */
typedef struct gc_inception_memory {
    size_t params;      /* folded weights and biases */
    size_t activations; /* the two ping-pong activation buffers */
    size_t other;       /* input staging and the feature buffer */
    size_t largest;     /* the largest single allocation */
    int chunk;          /* images per pass through the network */
} gc_inception_memory;
void gc_inception_memory_use(const gc_inception *net, gc_inception_memory *out);

/* Features of n images (1 <= n <= max_batch): images are host floats in
 * [0, 1], NCHW (n, c, h, w) with c = 1 (gray, used as R = G = B) or 3
 * (RGB); features are written to host memory as n x dims floats. */
gc_status gc_inception_features(gc_inception *net, const float *images, int n, int c, int h, int w,
                                float *features);

/* ---- statistics ------------------------------------------------------------ */

/* The longest feature-extractor tag, with its terminating NUL. */
#define GC_FID_EXTRACTOR_MAX 96

typedef struct gc_fid_stats {
    int dims;
    int64_t count; /* samples behind the statistics */
    double *mu;    /* dims, malloc'ed */
    double *sigma; /* dims x dims, row-major, symmetric, malloc'ed */
    /* Which features these are (gc_feature_extractor.name): "inception",
     * "classifier:<hash>", or "" when unknown (statistics built by hand).
     * gc_fid refuses two statistics with different non-empty tags. */
    char extractor[GC_FID_EXTRACTOR_MAX];
} gc_fid_stats;

void gc_fid_stats_free(gc_fid_stats *s);

/* A streaming accumulator of features (double, shifted by the first
 * sample so that large means do not cost precision). */
typedef struct gc_fid_accum gc_fid_accum;
gc_status gc_fid_accum_init(int dims, gc_fid_accum **out);
void gc_fid_accum_add(gc_fid_accum *a, const float *features, int n); /* n x dims */
int64_t gc_fid_accum_count(const gc_fid_accum *a);
/* Mean and unbiased covariance so far (at least 2 samples, else GC_ERR_ARG). */
gc_status gc_fid_accum_stats(const gc_fid_accum *a, gc_fid_stats *out);
void gc_fid_accum_free(gc_fid_accum *a);

/* Writes "mu" (dims) and "sigma" (dims x dims), both F64, with metadata
 * gancl_fid_stats=1, dims, count, extractor (s->extractor; "inception"
 * when empty) and, when non-NULL, source (a free-form description of where
 * the images came from). */
gc_status gc_fid_stats_save(const char *path, const gc_fid_stats *s, const char *source);
/* Reads such a file (F32 tensors are accepted too); GC_ERR_FORMAT names
 * what is wrong (a safetensors file without "mu" is "not FID statistics").  *source (if
 * non-NULL) receives a malloc'ed copy of the source metadata or NULL.
 * out->extractor is the file's "extractor" metadata, "inception" when it
 * has none (files written before classifier FID existed). */
gc_status gc_fid_stats_load(const char *path, gc_fid_stats *out, char **source);

/* ---- images in, statistics out ---------------------------------------------- */

/* Where images come from: a data set on disk, a generator, ...
 * read() writes images [first, first + n) as floats in [0, 1], NCHW with c
 * channels (1 or 3) of h x w; every call has the same c, h, w. */
typedef struct gc_image_source {
    int64_t count; /* images available; -1 for an endless generator */
    int c, h, w;
    gc_status (*read)(void *ctx, int64_t first, int n, float *out);
    void *ctx;
} gc_image_source;

/* Called after each batch with the images done so far and the total. */
typedef void (*gc_fid_progress_fn)(void *ctx, int64_t done, int64_t total);

/* ---- feature extractors ------------------------------------------------------
 *
 * What turns images into the feature vectors behind the statistics:
 * Inception (any image size, gray or RGB) or a trained gancl classifier's
 * penultimate layer (only images of its own size and channels).  FIDs of
 * different extractors are different quantities: a classifier FID is not
 * comparable with an Inception FID, nor with another classifier's. */
typedef struct gc_feature_extractor {
    /* The tag recorded in statistics: "inception", or "classifier:" and 16
     * hex digits (a hash of the classifier file's bytes). */
    char name[GC_FID_EXTRACTOR_MAX];
    int dims;      /* features per image */
    int max_batch; /* images per features() call, at most */
    int c, h, w;   /* the image size it requires; 0, 0, 0: any */
    /* n (1 <= n <= max_batch) host images in [0, 1], NCHW (n, c, h, w), to
     * n x dims host floats. */
    gc_status (*features)(void *ctx, const float *images, int n, int c, int h, int w, float *out);
    void *ctx;
} gc_feature_extractor;

/* Inception as an extractor (borrowed: net must outlive it). */
void gc_inception_extractor(gc_inception *net, gc_feature_extractor *out);

/* A classifier file of `gancl classify train` as an extractor: loads it on
 * be for batches of up to max_batch; GC_ERR_IO/GC_ERR_FORMAT naming the
 * file when it cannot be read or is not a classifier.  The extractor's
 * features() fails with GC_ERR_ARG ("FILE: the classifier takes 1x28x28
 * images, got 3x64x64") for images of another size. */
typedef struct gc_fid_classifier gc_fid_classifier;
gc_status gc_fid_classifier_load(gc_backend *be, const char *path, int max_batch,
                                 gc_fid_classifier **out);
const gc_feature_extractor *gc_fid_classifier_extractor(const gc_fid_classifier *fc);
void gc_fid_classifier_free(gc_fid_classifier *fc);
/* The tag of a classifier file ("classifier:<16 hex digits>") without
 * building the network: for comparing with the tag of saved statistics. */
gc_status gc_fid_classifier_tag(const char *path, char *out, size_t n);
/* An in-memory classifier (borrowed) as an extractor named `name`
 * ("classifier" when NULL). */
struct gc_classifier;
void gc_fid_extractor_from_classifier(struct gc_classifier *c, const char *name,
                                      gc_feature_extractor *out);

/* gc_fid_compute_stats with any extractor: the images of src must be of
 * the size the extractor requires (GC_ERR_ARG otherwise); out->extractor
 * is fx->name. */
gc_status gc_fid_compute_stats_fx(const gc_feature_extractor *fx, const gc_image_source *src,
                                  int64_t limit, gc_fid_progress_fn progress, void *progress_ctx,
                                  gc_fid_stats *out);

/* Statistics of the first `limit` images of src (all of them when limit is
 * 0), in batches of gc_inception_max_batch(net).  Warns (once, on stderr)
 * when fewer than GC_FID_MIN_SAMPLES images are used. */
gc_status gc_fid_compute_stats(gc_inception *net, const gc_image_source *src, int64_t limit,
                               gc_fid_progress_fn progress, void *progress_ctx, gc_fid_stats *out);

/* ---- the distance ------------------------------------------------------------- */

/* FID of two statistics of the same dims and extractor (two different
 * non-empty extractor tags fail with GC_ERR_ARG).  tr sqrtm(S1 S2) is the sum of the
 * square roots of the eigenvalues of L^T S2 L, where S1 = L L^T (pivoted
 * Cholesky, LAPACKE_dpstrf: valid for singular S1 too) -- the eigenvalues
 * of sqrt(S1) S2 sqrt(S1), from LAPACKE_dsyevd, tiny negative ones clipped
 * to 0.  With full-rank covariances (more samples than dims) this equals
 * pytorch-fid's scipy.linalg.sqrtm value to ~1e-10 relative.  With fewer
 * samples N than dims, the factor of the statistics with the smaller count
 * is cut at rank N - 1 (count is the covariance's rank bound), which keeps
 * the result exact where scipy's sqrtm takes square roots of rounding noise
 * in the null space and drifts by up to ~1e-4 relative.  As pytorch-fid does, when the result is
 * not finite the computation is repeated with GC_FID_EPS added to both diagonals (with a warning);
 * still not finite fails with GC_ERR_ARG. */
gc_status gc_fid(const gc_fid_stats *a, const gc_fid_stats *b, double *fid);

/* The Frechet distance of raw arrays (no sample counts, so no rank bound),
 * with `offset` added to both diagonals inside the matrix square root only
 * (0 for none); *fallback (if non-NULL) is set to 1 when the GC_FID_EPS
 * retry was needed. */
gc_status gc_fid_frechet(int dims, const double *mu1, const double *sigma1, const double *mu2,
                         const double *sigma2, double offset, double *fid, int *fallback);

/* ---- FID during training ----------------------------------------------------- */

/* Holds the network and the real set's statistics, so that each evaluation
 * costs only the generated samples.  Usage from a training loop:
 *
 *     gc_fid_monitor *mon = NULL;
 *     if (gc_fid_monitor_init(be, NULL, &real, "runs/x/fid-real.safetensors",
 *                             "fashion-mnist train 60000", 2048, 50, &mon) != GC_OK)
 *         notice("FID disabled: %s", gc_last_error());   // e.g. no weights
 *     ...
 *     double fid;
 *     gc_fid_monitor_eval(mon, &generator_source, 10000, &fid);
 *
 * init: finds the weights (gc_fid_weights_path(weights)), builds the network
 * on be, and loads the real statistics from cache_path when that file exists
 * with the same dims and source string; otherwise computes them from `real`
 * (all of its images) and writes cache_path (if non-NULL).  Progress goes to
 * progress(progress_ctx, ...) when set.  The generator source's read() is
 * called with first = 0, n, 2n, ... and may ignore `first`. */
typedef struct gc_fid_monitor gc_fid_monitor;
gc_status gc_fid_monitor_init(gc_backend *be, const char *weights, const gc_image_source *real,
                              const char *cache_path, const char *source_id, int dims, int batch,
                              gc_fid_monitor **out);
void gc_fid_monitor_set_progress(gc_fid_monitor *m, gc_fid_progress_fn fn, void *ctx);
gc_status gc_fid_monitor_eval(gc_fid_monitor *m, const gc_image_source *fake, int64_t n,
                              double *fid);
const gc_fid_stats *gc_fid_monitor_real_stats(const gc_fid_monitor *m);
/* The same with any extractor (borrowed: it must outlive the monitor);
 * the cache is used only when its extractor tag is fx->name. */
gc_status gc_fid_monitor_init_fx(const gc_feature_extractor *fx, const gc_image_source *real,
                                 const char *cache_path, const char *source_id,
                                 gc_fid_monitor **out);
void gc_fid_monitor_free(gc_fid_monitor *m);

#ifdef __cplusplus
}
#endif
#endif

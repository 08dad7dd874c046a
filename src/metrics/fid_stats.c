/* src/metrics/fid_stats.c - feature statistics: a streaming mean and
 * covariance in double, their safetensors files, and a data set's
 * statistics through a feature extractor (Inception or a classifier).
 *
 * The accumulator subtracts a shift (the first sample) before summing
 * outer products, so features with a large mean lose nothing to
 * cancellation, and sums them in blocks of samples: the d x d update is a
 * symmetric rank-k product over the upper triangle, split by rows across
 * threads (balanced by the triangle's area) because at d = 2048 it costs
 * ~2 Mflop per sample, as much as the eigenvalue problem for 10000 samples.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gancl/fid.h"
#include "gancl/io.h"
#include "util/error.h"
#include "util/log.h"

#define BLOCK       64 /* samples per rank-k update */
#define MAX_THREADS 16

struct gc_fid_accum {
    int d;
    int64_t n;
    double *shift; /* d: the first sample */
    double *sum;   /* d: sum of (x - shift) */
    double *outer; /* d x d, upper triangle: sum of (x - shift)(x - shift)^T */
    double *block; /* BLOCK x d centred samples waiting for the update */
    int in_block;
};

gc_status gc_fid_accum_init(int dims, gc_fid_accum **out)
{
    GC_ASSERT(dims >= 1);
    *out = NULL;
    gc_fid_accum *a = calloc(1, sizeof *a);
    if (!a) return gc_error(GC_ERR_NOMEM, "FID: out of memory");
    a->d = dims;
    a->shift = calloc((size_t)dims, sizeof(double));
    a->sum = calloc((size_t)dims, sizeof(double));
    a->outer = calloc((size_t)dims * (size_t)dims, sizeof(double));
    a->block = calloc((size_t)BLOCK * (size_t)dims, sizeof(double));
    if (!a->shift || !a->sum || !a->outer || !a->block) {
        gc_fid_accum_free(a);
        return gc_error(GC_ERR_NOMEM, "FID: out of memory for a %dx%d covariance", dims, dims);
    }
    *out = a;
    return GC_OK;
}

void gc_fid_accum_free(gc_fid_accum *a)
{
    if (!a) return;
    free(a->shift);
    free(a->sum);
    free(a->outer);
    free(a->block);
    free(a);
}

int64_t gc_fid_accum_count(const gc_fid_accum *a)
{
    return a->n;
}

typedef struct syrk_job {
    const gc_fid_accum *a;
    int row0, row1, k;
} syrk_job;

/* outer[i][j] += sum_s block[s][i] * block[s][j] for rows [row0, row1),
 * j >= i; four samples at a time so each row is loaded once per four. */
static void *syrk_rows(void *arg)
{
    const syrk_job *job = arg;
    const int d = job->a->d, k = job->k;
    const double *x = job->a->block;
    for (int i = job->row0; i < job->row1; i++) {
        double *row = job->a->outer + (size_t)i * d;
        int s = 0;
        for (; s + 4 <= k; s += 4) {
            const double *x0 = x + (size_t)s * d, *x1 = x0 + d, *x2 = x1 + d, *x3 = x2 + d;
            const double a0 = x0[i], a1 = x1[i], a2 = x2[i], a3 = x3[i];
            for (int j = i; j < d; j++)
                row[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j];
        }
        for (; s < k; s++) {
            const double *xs = x + (size_t)s * d, as = xs[i];
            for (int j = i; j < d; j++)
                row[j] += as * xs[j];
        }
    }
    return NULL;
}

static int n_threads(int d)
{
    if (d < 256) return 1;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static void flush(gc_fid_accum *a)
{
    if (!a->in_block) return;
    int t = n_threads(a->d);
    syrk_job jobs[MAX_THREADS];
    pthread_t tid[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    /* Row i costs d - i: cut the triangle into t parts of equal area. */
    double d = a->d;
    int row = 0;
    for (int p = 0; p < t; p++) {
        int end = p == t - 1 ? a->d : (int)(d - d * sqrt(1.0 - (p + 1.0) / t));
        if (end < row) end = row;
        jobs[p] = (syrk_job){a, row, end, a->in_block};
        row = end;
    }
    for (int p = 1; p < t; p++)
        started[p] = pthread_create(&tid[p], NULL, syrk_rows, &jobs[p]) == 0;
    syrk_rows(&jobs[0]);
    for (int p = 1; p < t; p++) {
        if (started[p])
            pthread_join(tid[p], NULL);
        else
            syrk_rows(&jobs[p]); /* no thread: do its share here */
    }
    a->in_block = 0;
}

void gc_fid_accum_add(gc_fid_accum *a, const float *features, int n)
{
    const int d = a->d;
    for (int s = 0; s < n; s++) {
        const float *f = features + (size_t)s * d;
        if (a->n == 0)
            for (int i = 0; i < d; i++)
                a->shift[i] = f[i];
        double *x = a->block + (size_t)a->in_block * d;
        for (int i = 0; i < d; i++) {
            x[i] = (double)f[i] - a->shift[i];
            a->sum[i] += x[i];
        }
        a->n++;
        if (++a->in_block == BLOCK) flush(a);
    }
}

gc_status gc_fid_accum_stats(const gc_fid_accum *a_in, gc_fid_stats *out)
{
    gc_fid_accum *a = (gc_fid_accum *)a_in; /* flushing changes no observable state */
    memset(out, 0, sizeof *out);
    if (a->n < 2)
        return gc_error(GC_ERR_ARG, "FID statistics need at least 2 images (got %" PRId64 ")",
                        a->n);
    flush(a);
    const int d = a->d;
    out->dims = d;
    out->count = a->n;
    out->mu = malloc((size_t)d * sizeof(double));
    out->sigma = malloc((size_t)d * (size_t)d * sizeof(double));
    if (!out->mu || !out->sigma) {
        gc_fid_stats_free(out);
        return gc_error(GC_ERR_NOMEM, "FID: out of memory");
    }
    const double n = (double)a->n;
    for (int i = 0; i < d; i++)
        out->mu[i] = a->shift[i] + a->sum[i] / n;
    /* cov = (sum x x^T - n m m^T) / (n - 1), m the mean of the shifted samples. */
    for (int i = 0; i < d; i++) {
        double mi = a->sum[i] / n;
        for (int j = i; j < d; j++) {
            double c = (a->outer[(size_t)i * d + j] - n * mi * (a->sum[j] / n)) / (n - 1.0);
            out->sigma[(size_t)i * d + j] = c;
            out->sigma[(size_t)j * d + i] = c;
        }
    }
    return GC_OK;
}

void gc_fid_stats_free(gc_fid_stats *s)
{
    if (!s) return;
    free(s->mu);
    free(s->sigma);
    memset(s, 0, sizeof *s);
}

/* ---- files ------------------------------------------------------------------------ */

gc_status gc_fid_stats_save(const char *path, const gc_fid_stats *s, const char *source)
{
    char dims[32], count[32];
    snprintf(dims, sizeof dims, "%d", s->dims);
    snprintf(count, sizeof count, "%" PRId64, s->count);
    gc_st_tensor t[2] = {
        {.name = "mu", .dtype = GC_ST_F64, .ndim = 1, .shape = {s->dims}, .data = s->mu},
        {.name = "sigma",
         .dtype = GC_ST_F64,
         .ndim = 2,
         .shape = {s->dims, s->dims},
         .data = s->sigma},
    };
    gc_st_kv meta[5] = {{"gancl_fid_stats", "1"},
                        {"dims", dims},
                        {"count", count},
                        {"extractor", s->extractor[0] ? s->extractor : "inception"},
                        {"source", source ? source : ""}};
    return gc_st_write(path, t, 2, meta, 5);
}

/* Copies a tensor of F64 (or F32) values into a new double array. */
static gc_status read_doubles(const gc_st_file *f, const char *name, int ndim, int64_t d,
                              double **out)
{
    const gc_st_tensor *t = gc_st_find(f, name);
    if (!t)
        return gc_error(GC_ERR_FORMAT, "%s: not FID statistics: no tensor '%s'", gc_st_path(f),
                        name);
    if (t->dtype != GC_ST_F64 && t->dtype != GC_ST_F32)
        return gc_error(GC_ERR_FORMAT, "%s: tensor '%s' has dtype %s, expected F64", gc_st_path(f),
                        name, gc_st_dtype_name(t->dtype));
    if (t->ndim != ndim || t->shape[0] != d || (ndim == 2 && t->shape[1] != d))
        return gc_error(GC_ERR_FORMAT, "%s: tensor '%s' must be %s of %" PRId64 " (mu's length)",
                        gc_st_path(f), name, ndim == 1 ? "a vector" : "a square matrix", d);
    size_t n = ndim == 1 ? (size_t)d : (size_t)d * (size_t)d;
    double *v = malloc(n * sizeof(double));
    if (!v) return gc_error(GC_ERR_NOMEM, "out of memory reading %s", gc_st_path(f));
    for (size_t i = 0; i < n; i++) {
        v[i] = t->dtype == GC_ST_F64 ? ((const double *)t->data)[i]
                                     : (double)((const float *)t->data)[i];
        if (!isfinite(v[i])) {
            free(v);
            return gc_error(GC_ERR_FORMAT, "%s: tensor '%s' holds a non-finite value at %zu",
                            gc_st_path(f), name, i);
        }
    }
    *out = v;
    return GC_OK;
}

/* A whole decimal integer (no sign, no spaces, no junk). */
static int parse_int(const char *s, int64_t *out)
{
    if (*s < '0' || *s > '9') return 0;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno) return 0;
    *out = v;
    return 1;
}

gc_status gc_fid_stats_load(const char *path, gc_fid_stats *out, char **source)
{
    memset(out, 0, sizeof *out);
    if (source) *source = NULL;
    gc_st_file *f;
    GC_TRY(gc_st_load(path, 0, &f));
    gc_status s = GC_OK;
    const gc_st_tensor *mu = gc_st_find(f, "mu");
    if (!mu || mu->ndim != 1 || mu->shape[0] < 1 || mu->shape[0] > 65536) {
        s = gc_error(GC_ERR_FORMAT, "%s: not FID statistics: %s", path,
                     mu ? "'mu' is not a vector" : "no tensor 'mu'");
        goto done;
    }
    int64_t d = mu->shape[0];
    s = read_doubles(f, "mu", 1, d, &out->mu);
    if (s == GC_OK) s = read_doubles(f, "sigma", 2, d, &out->sigma);
    if (s != GC_OK) goto done;
    out->dims = (int)d;
    /* Metadata is optional (files converted from elsewhere lack it), but
     * what is there must say what the tensors say. */
    const char *count = gc_st_metadata(f, "count"), *dims = gc_st_metadata(f, "dims");
    int64_t v = 0;
    if (count && (!parse_int(count, &v) || v < 2)) {
        s = gc_error(GC_ERR_FORMAT,
                     "%s: metadata \"count\" is \"%.32s\", expected an integer of at least 2", path,
                     count);
        goto done;
    }
    out->count = count ? v : 0;
    if (dims && (!parse_int(dims, &v) || v != d)) {
        s = gc_error(GC_ERR_FORMAT,
                     "%s: metadata \"dims\" is \"%.32s\", but 'mu' has %" PRId64 " values", path,
                     dims, d);
        goto done;
    }
    /* Files from before classifier FID hold Inception's features. */
    const char *ex = gc_st_metadata(f, "extractor");
    if (ex && (!*ex || strlen(ex) >= sizeof out->extractor)) {
        s = gc_error(GC_ERR_FORMAT, "%s: metadata \"extractor\" is %s", path,
                     *ex ? "too long" : "empty");
        goto done;
    }
    snprintf(out->extractor, sizeof out->extractor, "%s", ex ? ex : "inception");
    for (int64_t i = 0; i < d && s == GC_OK; i++)
        for (int64_t j = 0; j < i; j++)
            if (out->sigma[i * d + j] != out->sigma[j * d + i]) {
                s = gc_error(GC_ERR_FORMAT,
                             "%s: 'sigma' is not symmetric at (%" PRId64 ", %" PRId64 ")", path, i,
                             j);
                break;
            }
    if (s == GC_OK && source) {
        const char *src = gc_st_metadata(f, "source");
        if (src && !(*source = strdup(src))) s = gc_error(GC_ERR_NOMEM, "out of memory");
    }
done:
    if (s != GC_OK) gc_fid_stats_free(out);
    gc_st_free(f);
    return s;
}

/* ---- a data set through a feature extractor ------------------------------------------ */

static gc_status inception_features(void *ctx, const float *images, int n, int c, int h, int w,
                                    float *out)
{
    return gc_inception_features(ctx, images, n, c, h, w, out);
}

void gc_inception_extractor(gc_inception *net, gc_feature_extractor *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "inception");
    out->dims = gc_inception_dims(net);
    out->max_batch = gc_inception_max_batch(net);
    out->features = inception_features;
    out->ctx = net;
}

typedef struct accum_job {
    gc_fid_accum *acc;
    const float *feat;
    int n;
} accum_job;

static void *accum_thread(void *arg)
{
    accum_job *j = arg;
    gc_fid_accum_add(j->acc, j->feat, j->n);
    return NULL;
}

gc_status gc_fid_compute_stats(gc_inception *net, const gc_image_source *src, int64_t limit,
                               gc_fid_progress_fn progress, void *progress_ctx, gc_fid_stats *out)
{
    gc_feature_extractor fx;
    gc_inception_extractor(net, &fx);
    return gc_fid_compute_stats_fx(&fx, src, limit, progress, progress_ctx, out);
}

gc_status gc_fid_compute_stats_fx(const gc_feature_extractor *fx, const gc_image_source *src,
                                  int64_t limit, gc_fid_progress_fn progress, void *progress_ctx,
                                  gc_fid_stats *out)
{
    memset(out, 0, sizeof *out);
    if (fx->c && (src->c != fx->c || src->h != fx->h || src->w != fx->w))
        return gc_error(GC_ERR_ARG, "%s takes %dx%dx%d images, these are %dx%dx%d", fx->name, fx->c,
                        fx->h, fx->w, src->c, src->h, src->w);
    int64_t total = src->count;
    if (limit > 0 && (total < 0 || limit < total)) total = limit;
    if (total < 0) return gc_error(GC_ERR_ARG, "FID: an endless image source needs a sample count");
    if (total < 2)
        return gc_error(GC_ERR_ARG, "FID statistics need at least 2 images (got %" PRId64 ")",
                        total);
    /* GC_FID_MIN_SAMPLES is Inception's rule of thumb; for other features
     * only a rank-deficient covariance is worth a warning. */
    int inception = !strncmp(fx->name, "inception", 9);
    if ((inception && total < GC_FID_MIN_SAMPLES) || total <= fx->dims)
        GC_WARN("FID from %" PRId64 " images: fewer than %d%s; FID is biased upwards with "
                "few samples (10000 is usual)",
                total, GC_FID_MIN_SAMPLES,
                total <= fx->dims ? ", so the covariance is rank-deficient" : "");
    const int dims = fx->dims, batch = fx->max_batch;
    const int64_t per = (int64_t)src->c * src->h * src->w;
    /* Two feature buffers: batch k is accumulated on a thread while the
     * device works on batch k + 1 (and the host reads its images). */
    float *images = malloc(sizeof(float) * (size_t)per * (size_t)batch);
    float *feat = malloc(sizeof(float) * 2 * (size_t)dims * (size_t)batch);
    gc_fid_accum *acc = NULL;
    gc_status s = images && feat ? gc_fid_accum_init(dims, &acc)
                                 : gc_error(GC_ERR_NOMEM, "FID: out of memory for a batch");
    pthread_t th;
    int running = 0, cur = 0;
    accum_job job;
    for (int64_t done = 0; s == GC_OK && done < total;) {
        int n = total - done < batch ? (int)(total - done) : batch;
        float *f = feat + (size_t)cur * dims * batch;
        s = src->read(src->ctx, done, n, images);
        if (s == GC_OK) s = fx->features(fx->ctx, images, n, src->c, src->h, src->w, f);
        if (running) pthread_join(th, NULL);
        running = 0;
        if (s != GC_OK) break;
        job = (accum_job){acc, f, n};
        if (pthread_create(&th, NULL, accum_thread, &job) == 0)
            running = 1;
        else
            gc_fid_accum_add(acc, f, n);
        cur ^= 1;
        done += n;
        if (progress) progress(progress_ctx, done, total);
    }
    if (running) pthread_join(th, NULL);
    if (s == GC_OK) s = gc_fid_accum_stats(acc, out);
    if (s == GC_OK) snprintf(out->extractor, sizeof out->extractor, "%s", fx->name);
    gc_fid_accum_free(acc);
    free(images);
    free(feat);
    return s;
}

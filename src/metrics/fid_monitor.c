/* src/metrics/fid_monitor.c - FID during training: the feature extractor
 * and the real set's statistics held between evaluations, the statistics
 * cached in a file keyed by extractor, dims and a caller-given description
 * of the data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/fid.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

struct gc_fid_monitor {
    gc_inception *net; /* owned, when the monitor built Inception itself */
    gc_feature_extractor fx;
    gc_fid_stats real;
    gc_fid_progress_fn progress;
    void *progress_ctx;
};

/* The cached statistics when they match (extractor, dims and source); 0
 * otherwise. */
static int load_cached(const char *path, const char *source_id, const gc_feature_extractor *fx,
                       gc_fid_stats *out)
{
    const int dims = fx->dims;
    if (!path || !gc_fs_is_file(path)) return 0;
    char *src = NULL;
    if (gc_fid_stats_load(path, out, &src) != GC_OK) {
        GC_WARN("ignoring the FID statistics cache: %s", gc_last_error());
        return 0;
    }
    int ok = out->dims == dims && !strcmp(out->extractor, fx->name) &&
             !strcmp(src ? src : "", source_id ? source_id : "");
    free(src);
    if (!ok) {
        GC_INFO("FID statistics in %s are for other data, features or dims; recomputing", path);
        gc_fid_stats_free(out);
    }
    return ok;
}

/* The real statistics, from the cache or computed (and cached). */
static gc_status real_stats(gc_fid_monitor *m, const gc_image_source *real, const char *cache_path,
                            const char *source_id)
{
    if (load_cached(cache_path, source_id, &m->fx, &m->real)) return GC_OK;
    GC_INFO("FID: computing the statistics of the real images (%lld)", (long long)real->count);
    GC_TRY(gc_fid_compute_stats_fx(&m->fx, real, 0, NULL, NULL, &m->real));
    if (cache_path && gc_fid_stats_save(cache_path, &m->real, source_id) != GC_OK)
        GC_WARN("could not cache the FID statistics: %s", gc_last_error());
    return GC_OK;
}

gc_status gc_fid_monitor_init(gc_backend *be, const char *weights, const gc_image_source *real,
                              const char *cache_path, const char *source_id, int dims, int batch,
                              gc_fid_monitor **out)
{
    *out = NULL;
    char path[1024];
    GC_TRY(gc_fid_weights_path(weights, path, sizeof path));
    gc_fid_monitor *m = calloc(1, sizeof *m);
    if (!m) return gc_error(GC_ERR_NOMEM, "FID: out of memory");
    gc_status s = gc_inception_load(be, path, dims, batch, &m->net);
    if (s == GC_OK) {
        gc_inception_extractor(m->net, &m->fx);
        s = real_stats(m, real, cache_path, source_id);
    }
    if (s != GC_OK) {
        gc_fid_monitor_free(m);
        return s;
    }
    *out = m;
    return GC_OK;
}

gc_status gc_fid_monitor_init_fx(const gc_feature_extractor *fx, const gc_image_source *real,
                                 const char *cache_path, const char *source_id,
                                 gc_fid_monitor **out)
{
    *out = NULL;
    gc_fid_monitor *m = calloc(1, sizeof *m);
    if (!m) return gc_error(GC_ERR_NOMEM, "FID: out of memory");
    m->fx = *fx;
    gc_status s = real_stats(m, real, cache_path, source_id);
    if (s != GC_OK) {
        gc_fid_monitor_free(m);
        return s;
    }
    *out = m;
    return GC_OK;
}

void gc_fid_monitor_set_progress(gc_fid_monitor *m, gc_fid_progress_fn fn, void *ctx)
{
    m->progress = fn;
    m->progress_ctx = ctx;
}

gc_status gc_fid_monitor_eval(gc_fid_monitor *m, const gc_image_source *fake, int64_t n,
                              double *fid)
{
    gc_fid_stats st;
    GC_TRY(gc_fid_compute_stats_fx(&m->fx, fake, n, m->progress, m->progress_ctx, &st));
    gc_status s = gc_fid(&m->real, &st, fid);
    gc_fid_stats_free(&st);
    return s;
}

const gc_fid_stats *gc_fid_monitor_real_stats(const gc_fid_monitor *m)
{
    return &m->real;
}

void gc_fid_monitor_free(gc_fid_monitor *m)
{
    if (!m) return;
    gc_inception_free(m->net);
    gc_fid_stats_free(&m->real);
    free(m);
}

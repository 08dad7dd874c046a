/* src/train/diversity_log.c - a run's diversity.csv (one row per
 * evaluation of the collapse diagnostic, the whole file rewritten
 * atomically each time: it stays small) and diversity.png, kept across
 * --resume up to the checkpoint's step, as fid_log.c does for FID. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "util/error.h"
#include "util/fs.h"

#define CSV_HEADER    "epoch,step,real,generated,ratio,pixel_ratio,pixel_real,pixel_generated\n"
#define MAX_CSV_BYTES ((size_t)64 << 20)
#define ROW_CHARS     192 /* two int64 and six %.9g (at most 16 characters each) */

static gc_status plot(const gc_diversity_log *log);

static gc_status push(gc_diversity_log *log, int64_t epoch, int64_t step, const gc_diversity *d)
{
    if (log->n == log->cap) {
        int64_t cap = log->cap ? 2 * log->cap : 64;
        int64_t *e = realloc(log->epoch, (size_t)cap * sizeof *e);
        if (e) log->epoch = e;
        int64_t *s = e ? realloc(log->step, (size_t)cap * sizeof *s) : NULL;
        if (s) log->step = s;
        gc_diversity *r = s ? realloc(log->rows, (size_t)cap * sizeof *r) : NULL;
        if (!r) return gc_error(GC_ERR_NOMEM, "out of memory for the diversity log");
        log->rows = r;
        log->cap = cap;
    }
    int64_t i = log->n++;
    log->epoch[i] = epoch, log->step[i] = step, log->rows[i] = *d;
    return GC_OK;
}

/* The whole file from the rows in memory. */
static gc_status rewrite(const gc_diversity_log *log)
{
    size_t cap = sizeof CSV_HEADER + (size_t)log->n * ROW_CHARS, used = strlen(CSV_HEADER);
    char *text = malloc(cap);
    if (!text) return gc_error(GC_ERR_NOMEM, "out of memory for the diversity log");
    memcpy(text, CSV_HEADER, used);
    for (int64_t i = 0; i < log->n; i++) {
        const gc_diversity *r = &log->rows[i];
        used +=
            (size_t)snprintf(text + used, cap - used, "%lld,%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n",
                             (long long)log->epoch[i], (long long)log->step[i], r->real, r->fake,
                             r->ratio, r->pix_ratio, r->pix_real, r->pix_fake);
    }
    gc_status s = gc_fs_write_atomic(log->csv_path, text, used);
    free(text);
    return s;
}

typedef struct reload_ctx {
    gc_diversity_log *log;
    int64_t keep_until;
} reload_ctx;

/* One line of an earlier diversity.csv: kept when it is a row up to
 * keep_until. */
static gc_status reload_line(void *ctx, char *line)
{
    reload_ctx *c = ctx;
    long long epoch, step;
    gc_diversity d;
    int used = 0;
    if (sscanf(line, "%lld,%lld,%lf,%lf,%lf,%lf,%lf,%lf%n", &epoch, &step, &d.real, &d.fake,
               &d.ratio, &d.pix_ratio, &d.pix_real, &d.pix_fake, &used) != 8 ||
        line[used] != '\0' || step > c->keep_until)
        return GC_OK; /* the header, a damaged row, or rows after the checkpoint */
    return push(c->log, epoch, step, &d);
}

/* Keeps the rows of an earlier diversity.csv up to step keep_until. */
static gc_status reload(gc_diversity_log *log, int64_t keep_until)
{
    if (!gc_fs_is_file(log->csv_path)) return rewrite(log);
    reload_ctx c = {log, keep_until};
    gc_status s = gc_fs_for_each_line(log->csv_path, MAX_CSV_BYTES, reload_line, &c);
    if (s == GC_OK) s = rewrite(log);
    if (s == GC_OK && log->n) s = plot(log);
    return s;
}

gc_status gc_diversity_log_open(gc_diversity_log *log, const char *dir, int64_t keep_until)
{
    memset(log, 0, sizeof *log);
    if (snprintf(log->csv_path, sizeof log->csv_path, "%s/diversity.csv", dir) >=
            (int)sizeof log->csv_path ||
        snprintf(log->png_path, sizeof log->png_path, "%s/diversity.png", dir) >=
            (int)sizeof log->png_path)
        return gc_error(GC_ERR_ARG, "%s: path too long", dir);
    gc_status s = keep_until >= 0 ? reload(log, keep_until) : rewrite(log);
    if (s != GC_OK) gc_diversity_log_close(log);
    return s;
}

gc_status gc_diversity_log_add(gc_diversity_log *log, int64_t epoch, int64_t step,
                               const gc_diversity *d)
{
    GC_TRY(push(log, epoch, step, d));
    GC_TRY(rewrite(log));
    return plot(log);
}

static gc_status plot(const gc_diversity_log *log)
{
    int64_t n = log->n;
    /* x, the two ratios, and the warning level as a two-point line from
     * the first epoch to the last (the plot has no horizontal rules). */
    double *buf = malloc(((size_t)n * 3 + 4) * sizeof(double));
    if (!buf) return gc_error(GC_ERR_NOMEM, "out of memory for the diversity plot");
    double *x = buf, *feat = x + n, *pix = feat + n, *wx = pix + n, *wy = wx + 2;
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        x[i] = (double)log->epoch[i];
        feat[i] = log->rows[i].ratio;
        pix[i] = log->rows[i].pix_ratio;
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    wx[0] = lo, wx[1] = hi, wy[0] = wy[1] = GC_DIVERSITY_WARN;
    char warn[64];
    snprintf(warn, sizeof warn, "warning level (%g)", GC_DIVERSITY_WARN);
    gc_plot_series series[3] = {
        {"D features: generated / real", x, feat, n},
        {"pixels: generated / real", x, pix, n},
        {warn, wx, wy, n ? 2 : 0},
    };
    gc_status s =
        gc_plot_lines(log->png_path, "Diversity of generated samples (mode collapse -> 0)", "epoch",
                      "mean pairwise distance, generated / real", series, 3);
    free(buf);
    return s;
}

void gc_diversity_log_close(gc_diversity_log *log)
{
    free(log->epoch);
    free(log->step);
    free(log->rows);
    log->epoch = log->step = NULL;
    log->rows = NULL;
    log->n = log->cap = 0;
}

/* src/train/fid_log.c - a run's fid.csv (one row per evaluation, the whole
 * file rewritten atomically each time: it stays small) and fid.png, kept
 * across --resume up to the checkpoint's step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "gancl/fid.h"
#include "gancl/train.h"
#include "util/error.h"
#include "util/fs.h"

#define CSV_HEADER    "epoch,step,fid,n,dims\n"
#define MAX_CSV_BYTES ((size_t)64 << 20)
#define ROW_CHARS     96 /* two int64, a %.6f FID below 1e30, an int64 and an int */

static gc_status push(gc_fid_log *log, int64_t epoch, int64_t step, double fid, int64_t n, int dims)
{
    if (log->n == log->cap) {
        int64_t cap = log->cap ? 2 * log->cap : 64;
        double *e = realloc(log->epoch, (size_t)cap * sizeof *e);
        if (e) log->epoch = e;
        double *f = e ? realloc(log->fid, (size_t)cap * sizeof *f) : NULL;
        if (f) log->fid = f;
        int64_t *s = f ? realloc(log->step, (size_t)cap * sizeof *s) : NULL;
        if (s) log->step = s;
        int64_t *c = s ? realloc(log->count, (size_t)cap * sizeof *c) : NULL;
        if (c) log->count = c;
        int *d = c ? realloc(log->dims, (size_t)cap * sizeof *d) : NULL;
        if (!d) return gc_error(GC_ERR_NOMEM, "out of memory for the FID log");
        log->dims = d;
        log->cap = cap;
    }
    int64_t i = log->n++;
    log->epoch[i] = (double)epoch, log->step[i] = step, log->fid[i] = fid;
    log->count[i] = n, log->dims[i] = dims;
    return GC_OK;
}

/* The whole file from the rows in memory. */
static gc_status rewrite(const gc_fid_log *log)
{
    size_t cap = sizeof CSV_HEADER + (size_t)log->n * ROW_CHARS, used = strlen(CSV_HEADER);
    char *text = malloc(cap);
    if (!text) return gc_error(GC_ERR_NOMEM, "out of memory for the FID log");
    memcpy(text, CSV_HEADER, used);
    for (int64_t i = 0; i < log->n; i++) {
        /* A FID too large for the fixed row width is not a FID anyone reads. */
        double f = fabs(log->fid[i]) < 1e30 ? log->fid[i] : NAN;
        used += (size_t)snprintf(text + used, cap - used, "%lld,%lld,%.6f,%lld,%d\n",
                                 (long long)log->epoch[i], (long long)log->step[i], f,
                                 (long long)log->count[i], log->dims[i]);
    }
    gc_status s = gc_fs_write_atomic(log->csv_path, text, used);
    free(text);
    return s;
}

/* Keeps the rows of an earlier fid.csv up to step keep_until. */
typedef struct reload_ctx {
    gc_fid_log *log;
    int64_t keep_until;
} reload_ctx;

/* One line of an earlier fid.csv: kept when it is a row up to keep_until. */
static gc_status reload_line(void *ctx, char *line)
{
    reload_ctx *c = ctx;
    long long epoch, step, count;
    double fid;
    int dims, used = 0;
    if (sscanf(line, "%lld,%lld,%lf,%lld,%d%n", &epoch, &step, &fid, &count, &dims, &used) != 5 ||
        line[used] != '\0' || step > c->keep_until)
        return GC_OK; /* the header, a damaged row, or rows after the checkpoint */
    return push(c->log, epoch, step, fid, count, dims);
}

static gc_status reload(gc_fid_log *log, int64_t keep_until)
{
    if (!gc_fs_is_file(log->csv_path)) return rewrite(log);
    reload_ctx c = {log, keep_until};
    gc_status s = gc_fs_for_each_line(log->csv_path, MAX_CSV_BYTES, reload_line, &c);
    if (s == GC_OK) s = rewrite(log);
    if (s == GC_OK && log->n) s = gc_fid_log_plot(log);
    return s;
}

gc_status gc_fid_log_open(gc_fid_log *log, const char *dir, int64_t keep_until)
{
    memset(log, 0, sizeof *log);
    if (snprintf(log->csv_path, sizeof log->csv_path, "%s/fid.csv", dir) >=
            (int)sizeof log->csv_path ||
        snprintf(log->png_path, sizeof log->png_path, "%s/fid.png", dir) >=
            (int)sizeof log->png_path)
        return gc_error(GC_ERR_ARG, "%s: path too long", dir);
    gc_status s = keep_until >= 0 ? reload(log, keep_until) : rewrite(log);
    if (s != GC_OK) gc_fid_log_close(log);
    return s;
}

gc_status gc_fid_log_add(gc_fid_log *log, int64_t epoch, int64_t step, double fid, int64_t n,
                         int dims)
{
    GC_TRY(push(log, epoch, step, fid, n, dims));
    GC_TRY(rewrite(log));
    return gc_fid_log_plot(log);
}

gc_status gc_fid_log_plot(const gc_fid_log *log)
{
    /* One line per feature dims: FIDs of different dims are not comparable
     * (a resumed run may change --fid-dims).  Dims other than Inception's
     * are a classifier's. */
    enum { MAX_LINES = 8 };
    gc_plot_series series[MAX_LINES];
    char names[MAX_LINES][48];
    int seen[MAX_LINES];
    double *x = malloc(((size_t)log->n + 1) * 2 * sizeof(double));
    if (!x) return gc_error(GC_ERR_NOMEM, "out of memory for the FID plot");
    double *y = x + log->n + 1, *px = x, *py = y;
    int count = 0;
    for (int64_t j = 0; j < log->n && count < MAX_LINES; j++) {
        int dims = log->dims[j], known = 0;
        for (int k = 0; k < count; k++)
            known |= seen[k] == dims;
        if (known) continue;
        int64_t m = 0;
        for (int64_t i = 0; i < log->n; i++)
            if (log->dims[i] == dims) px[m] = log->epoch[i], py[m] = log->fid[i], m++;
        if (gc_inception_valid_dims(dims))
            snprintf(names[count], sizeof names[0], "FID (%d-d features)", dims);
        else
            snprintf(names[count], sizeof names[0], "classifier FID (%d-d features)", dims);
        seen[count] = dims;
        series[count] = (gc_plot_series){names[count], px, py, m};
        count++, px += m, py += m;
    }
    if (count == 0) { /* no rows yet: an empty plot with the legend says what will come */
        series[0] = (gc_plot_series){"FID", x, y, 0};
        count = 1;
    }
    gc_status s = gc_plot_lines(log->png_path, "FID of generated samples against the training set",
                                "epoch", "FID (lower is better)", series, count);
    free(x);
    return s;
}

void gc_fid_log_close(gc_fid_log *log)
{
    free(log->epoch);
    free(log->fid);
    free(log->step);
    free(log->count);
    free(log->dims);
    log->epoch = log->fid = NULL;
    log->step = log->count = NULL;
    log->dims = NULL;
    log->n = log->cap = 0;
}

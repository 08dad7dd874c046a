/* src/train/loss_log.c - a run's losses.csv (appended at the logging
 * interval) and losses.png (redrawn from it), continued across --resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "util/error.h"
#include "util/fs.h"

#define CSV_HEADER    "step,epoch,d_loss,g_loss,d_real,d_fake,d_fake_after,images_per_s\n"
#define MAX_CSV_BYTES ((size_t)1 << 30)

static gc_status push(gc_loss_log *log, double step, double d, double g, double dr, double df)
{
    if (log->n == log->cap) {
        int64_t cap = log->cap ? 2 * log->cap : 1024;
        double **cols[] = {&log->step, &log->d_loss, &log->g_loss, &log->d_real, &log->d_fake};
        for (int i = 0; i < 5; i++) {
            double *p = realloc(*cols[i], (size_t)cap * sizeof(double));
            if (!p) return gc_error(GC_ERR_NOMEM, "out of memory for the loss log");
            *cols[i] = p;
        }
        log->cap = cap;
    }
    log->step[log->n] = step, log->d_loss[log->n] = d, log->g_loss[log->n] = g;
    log->d_real[log->n] = dr, log->d_fake[log->n] = df;
    log->n++;
    return GC_OK;
}

/* Keeps the rows of an earlier losses.csv up to step keep_until, in memory
 * and in a rewritten file. */
static gc_status reload(gc_loss_log *log, int64_t keep_until)
{
    char *text;
    size_t n;
    if (!gc_fs_is_file(log->csv_path))
        return gc_fs_write_atomic(log->csv_path, CSV_HEADER, strlen(CSV_HEADER));
    GC_TRY(gc_fs_read_file(log->csv_path, MAX_CSV_BYTES, (void **)&text, &n));
    char *out = malloc(n + sizeof CSV_HEADER);
    if (!out) {
        free(text);
        return gc_error(GC_ERR_NOMEM, "out of memory for the loss log");
    }
    size_t used = 0;
    gc_status s = GC_OK;
    memcpy(out, CSV_HEADER, strlen(CSV_HEADER)), used = strlen(CSV_HEADER);
    for (char *line = text, *next; line && *line && s == GC_OK; line = next) {
        next = strchr(line, '\n');
        if (!next) break; /* a row torn by a crash while it was appended */
        *next++ = '\0';
        long long step, epoch;
        double d, g, dr, df, dfa, ips;
        if (sscanf(line, "%lld,%lld,%lf,%lf,%lf,%lf,%lf,%lf", &step, &epoch, &d, &g, &dr, &df, &dfa,
                   &ips) != 8 ||
            step > keep_until)
            continue; /* the header, or rows logged after the checkpoint */
        s = push(log, (double)step, d, g, dr, df);
        used += (size_t)sprintf(out + used, "%s\n", line);
    }
    if (s == GC_OK) s = gc_fs_write_atomic(log->csv_path, out, used);
    free(out);
    free(text);
    return s;
}

gc_status gc_loss_log_open(gc_loss_log *log, const char *dir, int64_t keep_until)
{
    memset(log, 0, sizeof *log);
    if (snprintf(log->csv_path, sizeof log->csv_path, "%s/losses.csv", dir) >=
            (int)sizeof log->csv_path ||
        snprintf(log->png_path, sizeof log->png_path, "%s/losses.png", dir) >=
            (int)sizeof log->png_path)
        return gc_error(GC_ERR_ARG, "%s: path too long", dir);
    gc_status s = keep_until >= 0
                      ? reload(log, keep_until)
                      : gc_fs_write_atomic(log->csv_path, CSV_HEADER, strlen(CSV_HEADER));
    if (s == GC_OK && !(log->csv = fopen(log->csv_path, "a")))
        s = gc_error(GC_ERR_IO, "%s: cannot open for appending", log->csv_path);
    if (s != GC_OK) gc_loss_log_close(log);
    return s;
}

gc_status gc_loss_log_add(gc_loss_log *log, int64_t step, int64_t epoch, const gc_train_stats *s,
                          double images_per_s)
{
    GC_TRY(push(log, (double)step, s->d_loss, s->g_loss, s->d_real, s->d_fake));
    fprintf(log->csv, "%lld,%lld,%.6g,%.6g,%.6g,%.6g,%.6g,%.1f\n", (long long)step,
            (long long)epoch, s->d_loss, s->g_loss, s->d_real, s->d_fake, s->d_fake_after,
            images_per_s);
    if (fflush(log->csv) != 0 || ferror(log->csv))
        return gc_error(GC_ERR_IO, "%s: write failed", log->csv_path);
    return GC_OK;
}

gc_status gc_loss_log_plot(const gc_loss_log *log)
{
    gc_plot_series series[] = {
        {"D loss", log->step, log->d_loss, log->n},
        {"G loss", log->step, log->g_loss, log->n},
        {"D(x)", log->step, log->d_real, log->n},
        {"D(G(z))", log->step, log->d_fake, log->n},
    };
    return gc_plot_lines(log->png_path, "GAN training", "step", "loss / mean D output", series,
                         (int)(sizeof series / sizeof series[0]));
}

void gc_loss_log_close(gc_loss_log *log)
{
    if (log->csv) fclose(log->csv);
    log->csv = NULL;
    free(log->step);
    free(log->d_loss);
    free(log->g_loss);
    free(log->d_real);
    free(log->d_fake);
    log->step = log->d_loss = log->g_loss = log->d_real = log->d_fake = NULL;
    log->n = log->cap = 0;
}

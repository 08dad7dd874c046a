/* src/io/plot.c - line plots (losses, FID over training) and bar charts
 * (augment-eval's accuracies) drawn with cairo.
 *
 * Rendered into an in-memory image surface, encoded to PNG in memory and
 * written atomically.  Ticks use the usual 1-2-2.5-5 x 10^k steps; points
 * that are NaN or infinite break a line instead of dragging it to the edge,
 * and a point with no finite neighbour is drawn as a dot so that a one-step
 * series is still visible.
 */
#include "gancl/io.h"

#include <cairo.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fs.h"

#define MARGIN_L 84.0
#define MARGIN_R 24.0
#define MARGIN_T 48.0
#define MARGIN_B 62.0
#define FONT     "DejaVu Sans"

/* Tableau 10: distinct, readable on white, friendly to common colour
 * blindness. */
static const double palette[10][3] = {
    {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173}, {0.839, 0.153, 0.157},
    {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
    {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812},
};

typedef struct range {
    double lo, hi;
} range;

typedef struct png_buf {
    unsigned char *data;
    size_t n, cap;
    int failed;
} png_buf;

static cairo_status_t png_append(void *closure, const unsigned char *data, unsigned int length)
{
    png_buf *b = closure;
    if (b->n + length > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + length)
            cap *= 2;
        unsigned char *p = realloc(b->data, cap);
        if (!p) {
            b->failed = 1;
            return CAIRO_STATUS_NO_MEMORY;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->n, data, length);
    b->n += length;
    return CAIRO_STATUS_SUCCESS;
}

/* Widens an empty or degenerate range so that it can be drawn. */
static range fix_range(double lo, double hi, int any)
{
    if (!any) return (range){0.0, 1.0};
    if (hi == lo) {
        double d = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1.0;
        return (range){lo - d, hi + d};
    }
    /* A span that overflows (-1e308 .. 1e308): show what fits. */
    if (!isfinite(hi - lo)) return (range){-DBL_MAX / 2, DBL_MAX / 2};
    return (range){lo, hi};
}

/* A tick step near span/target from 1, 2, 2.5, 5 x 10^k. */
static double nice_step(double span, int target)
{
    double raw = span / target;
    if (!(raw > 0) || !isfinite(raw)) return 0;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * mag;
}

static void fmt_tick(char *buf, size_t n, double v, double step, double maxabs)
{
    if (fabs(v) < step * 1e-9) v = 0; /* no "-0" or "1e-17" */
    if (maxabs >= 1e7 || step < 1e-5) {
        snprintf(buf, n, "%.3g", v);
        return;
    }
    int d = 0;
    while (d < 8) {
        double s = step * pow(10.0, d);
        if (fabs(s - round(s)) < 1e-6 * s) break;
        d++;
    }
    snprintf(buf, n, "%.*f", d, v);
}

static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay)
{
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.x_bearing - ax * e.width, y - e.y_bearing - ay * e.height);
    cairo_show_text(cr, s);
}

static int finite2(double x, double y)
{
    return isfinite(x) && isfinite(y);
}

static void draw_series(cairo_t *cr, const gc_plot_series *s, range xr, range yr, double x0,
                        double y0, double pw, double ph)
{
    const double sx = pw / (xr.hi - xr.lo), sy = ph / (yr.hi - yr.lo);
#define PX(v) (x0 + ((v)-xr.lo) * sx)
#define PY(v) (y0 + ph - ((v)-yr.lo) * sy)
    int in_line = 0;
    for (int64_t i = 0; i < s->n; i++) {
        if (!finite2(s->x[i], s->y[i])) {
            in_line = 0;
            continue;
        }
        double px = PX(s->x[i]), py = PY(s->y[i]);
        if (in_line) {
            cairo_line_to(cr, px, py);
        } else {
            cairo_move_to(cr, px, py);
            in_line = 1;
        }
    }
    cairo_stroke(cr);
    for (int64_t i = 0; i < s->n; i++) {
        if (!finite2(s->x[i], s->y[i])) continue;
        int prev = i > 0 && finite2(s->x[i - 1], s->y[i - 1]);
        int next = i + 1 < s->n && finite2(s->x[i + 1], s->y[i + 1]);
        if (prev || next) continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, PX(s->x[i]), PY(s->y[i]), 3.0, 0, 2 * M_PI);
    }
    cairo_fill(cr);
#undef PX
#undef PY
}

/* Grid lines, ticks and tick labels along the x (axis 0) or y (axis 1) axis
 * of the plot area (x0, y0, pw, ph). */
static void axis_ticks(cairo_t *cr, range r, int axis, double x0, double y0, double pw, double ph)
{
    char label[64];
    double step = nice_step(r.hi - r.lo, axis == 0 ? 8 : 6);
    if (step <= 0) return;
    double maxabs = fmax(fabs(r.lo), fabs(r.hi));
    double first = ceil(r.lo / step - 1e-9) * step;
    for (int i = 0; i < 40; i++) {
        double v = first + i * step;
        if (v > r.hi + step * 1e-9) break;
        double t = (v - r.lo) / (r.hi - r.lo);
        fmt_tick(label, sizeof label, v, step, maxabs);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_set_line_width(cr, 1);
        if (axis == 0) {
            double px = round(x0 + t * pw) + 0.5;
            cairo_move_to(cr, px, y0);
            cairo_line_to(cr, px, y0 + ph);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
            cairo_move_to(cr, px, y0 + ph);
            cairo_line_to(cr, px, y0 + ph + 5);
            cairo_stroke(cr);
            text_at(cr, label, px, y0 + ph + 9, 0.5, 0);
        } else {
            double py = round(y0 + ph - t * ph) + 0.5;
            cairo_move_to(cr, x0, py);
            cairo_line_to(cr, x0 + pw, py);
            cairo_stroke(cr);
            cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
            cairo_move_to(cr, x0 - 5, py);
            cairo_line_to(cr, x0, py);
            cairo_stroke(cr);
            text_at(cr, label, x0 - 9, py, 1, 0.5);
        }
    }
}

/* The frame around the plot area, the axis labels and the title. */
static void frame_text(cairo_t *cr, const char *title, const char *xlabel, const char *ylabel,
                       double x0, double y0, double pw, double ph)
{
    const double W = GC_PLOT_WIDTH, H = GC_PLOT_HEIGHT;
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, x0 + 0.5, y0 + 0.5, pw, ph);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 13);
    if (xlabel && *xlabel) text_at(cr, xlabel, x0 + pw / 2, H - 22, 0.5, 0);
    if (ylabel && *ylabel) {
        cairo_save(cr);
        cairo_translate(cr, 18, y0 + ph / 2);
        cairo_rotate(cr, -M_PI / 2);
        text_at(cr, ylabel, 0, 0, 0.5, 0);
        cairo_restore(cr);
    }
    if (title && *title) {
        cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, 16);
        text_at(cr, title, W / 2, 16, 0.5, 0);
        cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }
}

static void no_data(cairo_t *cr, double x0, double y0, double pw, double ph)
{
    cairo_set_font_size(cr, 14);
    cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
    text_at(cr, "no data", x0 + pw / 2, y0 + ph / 2, 0.5, 0.5);
}

static void draw(cairo_t *cr, const char *title, const char *xlabel, const char *ylabel,
                 const gc_plot_series *series, int count)
{
    const double W = GC_PLOT_WIDTH, H = GC_PLOT_HEIGHT;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);

    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    int any = 0;
    for (int k = 0; k < count; k++)
        for (int64_t i = 0; i < series[k].n; i++) {
            double x = series[k].x[i], y = series[k].y[i];
            if (!finite2(x, y)) continue;
            any = 1;
            xlo = fmin(xlo, x);
            xhi = fmax(xhi, x);
            ylo = fmin(ylo, y);
            yhi = fmax(yhi, y);
        }
    range xr = fix_range(xlo, xhi, any), yr = fix_range(ylo, yhi, any);
    if (any && ylo != yhi) { /* breathing room above and below the data */
        double pad = (yr.hi - yr.lo) * 0.05;
        if (isfinite(yr.lo - pad) && isfinite(yr.hi + pad)) yr = (range){yr.lo - pad, yr.hi + pad};
    }

    const double x0 = MARGIN_L, y0 = MARGIN_T, pw = W - MARGIN_L - MARGIN_R,
                 ph = H - MARGIN_T - MARGIN_B;
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);

    axis_ticks(cr, xr, 0, x0, y0, pw, ph);
    axis_ticks(cr, yr, 1, x0, y0, pw, ph);
    frame_text(cr, title, xlabel, ylabel, x0, y0, pw, ph);
    if (!any) no_data(cr, x0, y0, pw, ph);

    /* The series, clipped to the plot area. */
    cairo_save(cr);
    cairo_rectangle(cr, x0 + 1, y0 + 1, pw - 1, ph - 1);
    cairo_clip(cr);
    cairo_set_line_width(cr, 1.6);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    if (any)
        for (int k = 0; k < count; k++) {
            const double *c = palette[k % 10];
            cairo_set_source_rgb(cr, c[0], c[1], c[2]);
            draw_series(cr, &series[k], xr, yr, x0, y0, pw, ph);
        }
    cairo_restore(cr);

    /* Legend in the top-right corner, on a translucent box. */
    if (count > 0) {
        cairo_set_font_size(cr, 12);
        char name[96];
        double wmax = 0;
        for (int k = 0; k < count; k++) {
            snprintf(name, sizeof name, "%s%s", series[k].name ? series[k].name : "series",
                     series[k].n ? "" : " (no data)");
            cairo_text_extents_t e;
            cairo_text_extents(cr, name, &e);
            wmax = fmax(wmax, e.x_advance);
        }
        const double row = 18, bw = wmax + 44, bh = row * count + 10;
        /* The corner that hides the fewest points, top-right on ties. */
        double bx = x0 + pw - bw - 10, by = y0 + 10;
        int64_t best = -1;
        for (int corner = 0; corner < 4 && any; corner++) {
            double cx = corner & 1 ? x0 + 10 : x0 + pw - bw - 10;
            double cy = corner & 2 ? y0 + ph - bh - 10 : y0 + 10;
            int64_t hidden = 0;
            for (int k = 0; k < count; k++)
                for (int64_t i = 0; i < series[k].n; i++) {
                    double x = series[k].x[i], y = series[k].y[i];
                    if (!finite2(x, y)) continue;
                    double px = x0 + (x - xr.lo) / (xr.hi - xr.lo) * pw;
                    double py = y0 + ph - (y - yr.lo) / (yr.hi - yr.lo) * ph;
                    hidden +=
                        px >= cx - 4 && px <= cx + bw + 4 && py >= cy - 4 && py <= cy + bh + 4;
                }
            if (best < 0 || hidden < best) {
                best = hidden;
                bx = cx;
                by = cy;
            }
        }
        cairo_rectangle(cr, bx, by, bw, bh);
        cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
        cairo_fill_preserve(cr);
        cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
        cairo_set_line_width(cr, 1);
        cairo_stroke(cr);
        for (int k = 0; k < count; k++) {
            const double *c = palette[k % 10];
            double cy = by + 5 + row * k + row / 2;
            cairo_set_source_rgb(cr, c[0], c[1], c[2]);
            cairo_set_line_width(cr, 2.5);
            cairo_move_to(cr, bx + 8, cy);
            cairo_line_to(cr, bx + 32, cy);
            cairo_stroke(cr);
            snprintf(name, sizeof name, "%s%s", series[k].name ? series[k].name : "series",
                     series[k].n ? "" : " (no data)");
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            text_at(cr, name, bx + 38, cy, 0, 0.5);
        }
    }
}

/* Renders draw_fn into an image surface and writes it to path as PNG,
 * atomically. */
static gc_status render(const char *path, void (*draw_fn)(cairo_t *, const void *), const void *arg)
{
    cairo_surface_t *surf =
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, GC_PLOT_WIDTH, GC_PLOT_HEIGHT);
    if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surf);
        return gc_error(GC_ERR_NOMEM, "%s: cannot create a cairo surface", path);
    }
    cairo_t *cr = cairo_create(surf);
    draw_fn(cr, arg);
    cairo_status_t cs = cairo_status(cr);
    cairo_destroy(cr);
    png_buf buf = {0};
    if (cs == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(surf);
        cs = cairo_surface_write_to_png_stream(surf, png_append, &buf);
    }
    cairo_surface_destroy(surf);
    gc_status s;
    if (cs != CAIRO_STATUS_SUCCESS)
        s = gc_error(buf.failed ? GC_ERR_NOMEM : GC_ERR_IO, "%s: cairo failed: %s", path,
                     cairo_status_to_string(cs));
    else
        s = gc_fs_write_atomic(path, buf.data, buf.n);
    free(buf.data);
    return s;
}

typedef struct lines_args {
    const char *title, *xlabel, *ylabel;
    const gc_plot_series *series;
    int count;
} lines_args;

static void draw_lines(cairo_t *cr, const void *arg)
{
    const lines_args *a = arg;
    draw(cr, a->title, a->xlabel, a->ylabel, a->series, a->count);
}

gc_status gc_plot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
                        const gc_plot_series *series, int count)
{
    if (count < 0 || (count > 0 && !series))
        return gc_error(GC_ERR_ARG, "%s: bad series list", path);
    for (int k = 0; k < count; k++)
        if (series[k].n < 0 || (series[k].n > 0 && (!series[k].x || !series[k].y)))
            return gc_error(GC_ERR_ARG, "%s: series %d has no data pointers", path, k);
    lines_args a = {title, xlabel, ylabel, series, count};
    return render(path, draw_lines, &a);
}

/* ---- bar charts ------------------------------------------------------------------- */

typedef struct bars_args {
    const char *title, *ylabel;
    const char *const *labels;
    const double *values, *errors;
    int n;
} bars_args;

static double bar_error(const bars_args *a, int i)
{
    double e = a->errors ? a->errors[i] : 0;
    return isfinite(e) && e > 0 ? e : 0;
}

/* Writes s centred at x below y, its font shrunk until it fits in width;
 * baselines, not glyph tops, line up, so that "a" and "b" sit on one line. */
static void text_fit(cairo_t *cr, const char *s, double x, double y, double width, double size)
{
    cairo_text_extents_t e;
    for (;; size -= 1) {
        cairo_set_font_size(cr, size);
        cairo_text_extents(cr, s, &e);
        if (e.width <= width || size <= 7) break;
    }
    cairo_font_extents_t f;
    cairo_font_extents(cr, &f);
    cairo_move_to(cr, x - e.x_bearing - e.width / 2, y + f.ascent);
    cairo_show_text(cr, s);
}

static void draw_bars(cairo_t *cr, const void *arg)
{
    const bars_args *a = arg;
    const double W = GC_PLOT_WIDTH, H = GC_PLOT_HEIGHT;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    /* Bars grow from 0, so 0 is always in range. */
    double lo = 0, hi = 0;
    int any = 0;
    for (int i = 0; i < a->n; i++) {
        double v = a->values[i], e = bar_error(a, i);
        if (!isfinite(v)) continue;
        any = 1;
        lo = fmin(lo, v - e);
        hi = fmax(hi, v + e);
    }
    range yr = fix_range(lo, hi, any);
    /* Room above the tallest bar (and below the lowest) for its value. */
    double pad = (yr.hi - yr.lo) * 0.1;
    if (isfinite(yr.hi + pad) && isfinite(yr.lo - pad))
        yr = (range){yr.lo < 0 ? yr.lo - pad : yr.lo, yr.hi > 0 ? yr.hi + pad : yr.hi};

    const double x0 = MARGIN_L, y0 = MARGIN_T, pw = W - MARGIN_L - MARGIN_R,
                 ph = H - MARGIN_T - MARGIN_B;
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    axis_ticks(cr, yr, 1, x0, y0, pw, ph);
    frame_text(cr, a->title, NULL, a->ylabel, x0, y0, pw, ph);
    if (!any) no_data(cr, x0, y0, pw, ph);

#define PY(v) (y0 + ph - ((v)-yr.lo) / (yr.hi - yr.lo) * ph)
    const double slot = a->n > 0 ? pw / a->n : pw, bw = fmin(slot * 0.6, 160);
    char text[64];
    for (int i = 0; i < a->n; i++) {
        const double cx = x0 + slot * (i + 0.5), v = a->values[i], e = bar_error(a, i);
        const char *name = a->labels[i] ? a->labels[i] : "";
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_fit(cr, name, cx, y0 + ph + 9, slot - 6, 13);
        cairo_set_font_size(cr, 12);
        if (!isfinite(v)) {
            cairo_set_source_rgb(cr, 0.5, 0.5, 0.5);
            text_at(cr, "n/a", cx, y0 + ph - 8, 0.5, 1);
            continue;
        }
        const double *c = palette[i % 10];
        double top = PY(v), base = PY(0);
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        cairo_rectangle(cr, cx - bw / 2, fmin(top, base), bw, fabs(base - top));
        cairo_fill(cr);
        if (e > 0) {
            double y1 = PY(v + e), y2 = PY(v - e), cap = fmin(bw * 0.25, 12);
            cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
            cairo_set_line_width(cr, 1.5);
            cairo_move_to(cr, cx, y1);
            cairo_line_to(cr, cx, y2);
            cairo_move_to(cr, cx - cap, y1);
            cairo_line_to(cr, cx + cap, y1);
            cairo_move_to(cr, cx - cap, y2);
            cairo_line_to(cr, cx + cap, y2);
            cairo_stroke(cr);
        }
        /* The value beyond the bar's end (and its error bar). */
        if (e > 0)
            snprintf(text, sizeof text, "%.4g \xc2\xb1 %.2g", v, e);
        else
            snprintf(text, sizeof text, "%.4g", v);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        if (v >= 0)
            text_at(cr, text, cx, PY(v + e) - 4, 0.5, 1);
        else
            text_at(cr, text, cx, PY(v - e) + 4, 0.5, 0);
    }
#undef PY
    /* The zero line, over the bars' bases. */
    if (any && yr.lo < 0) {
        double z = round(y0 + ph - (0 - yr.lo) / (yr.hi - yr.lo) * ph) + 0.5;
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_set_line_width(cr, 1);
        cairo_move_to(cr, x0, z);
        cairo_line_to(cr, x0 + pw, z);
        cairo_stroke(cr);
    }
}

gc_status gc_plot_bars(const char *path, const char *title, const char *ylabel,
                       const char *const *labels, const double *values, const double *errors, int n)
{
    if (n < 0 || (n > 0 && (!labels || !values)))
        return gc_error(GC_ERR_ARG, "%s: bad bar list", path);
    bars_args a = {title, ylabel, labels, values, errors, n};
    return render(path, draw_bars, &a);
}

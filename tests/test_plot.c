/* tests/test_plot.c - line plots and bar charts: a valid PNG of the
 * documented size, not blank, with the series and bars drawn in their
 * colours where they belong; degenerate inputs (empty, NaN, one point,
 * constant, huge values) still give a plot. */
#include <cairo.h>
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gancl/io.h"
#include "test_files.h"
#include "test_support.h"

#define tpath gt_tmp_path

typedef struct stats {
    int distinct;    /* distinct RGB values */
    double nonwhite; /* fraction of pixels that are not white */
    int near[2];     /* pixels close to the first two series colours */
} stats;

static int close_to(const uint8_t *p, int r, int g, int b)
{
    return abs(p[0] - r) < 20 && abs(p[1] - g) < 20 && abs(p[2] - b) < 20;
}

/* Reads path with libpng and checks the size. */
static stats examine(const char *path)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
    ck_assert_int_eq(img.width, GC_PLOT_WIDTH);
    ck_assert_int_eq(img.height, GC_PLOT_HEIGHT);
    img.format = PNG_FORMAT_RGB;
    size_t n = (size_t)img.width * img.height;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
    ck_assert_msg(png_image_finish_read(&img, NULL, px, 0, NULL), "%s", img.message);
    uint8_t *seen = calloc(1 << 21, 1); /* a bit per 24-bit colour */
    stats s = {0, 0, {0, 0}};
    size_t nonwhite = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = px + 3 * i;
        uint32_t c = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        if (!(seen[c >> 3] & (1 << (c & 7)))) {
            seen[c >> 3] |= (uint8_t)(1 << (c & 7));
            s.distinct++;
        }
        if (c != 0xffffff) nonwhite++;
        s.near[0] += close_to(p, 31, 119, 180); /* tab:blue */
        s.near[1] += close_to(p, 255, 127, 14); /* tab:orange */
    }
    s.nonwhite = (double)nonwhite / (double)n;
    free(seen);
    free(px);
    return s;
}

START_TEST(loss_plot)
{
    int n = gt_randint(200, 900);
    double *x = malloc(n * sizeof *x), *d = malloc(n * sizeof *d), *g = malloc(n * sizeof *g);
    for (int i = 0; i < n; i++) {
        x[i] = i * 10;
        d[i] = 1.4 * exp(-i / 300.0) + 0.1 * gt_normal();
        g[i] = 0.7 + 2 * (1 - exp(-i / 200.0)) + 0.2 * gt_normal();
    }
    d[n / 3] = NAN; /* a gap */
    gc_plot_series s[2] = {{"D loss", x, d, n}, {"G loss", x, g, n}};
    const char *p = tpath("losses.png");
    GT_OK(gc_plot_lines(p, "Losses", "step", "loss", s, 2));
    stats st = examine(p);
    ck_assert_msg(st.distinct >= 100, "only %d distinct colours", st.distinct);
    ck_assert_msg(st.nonwhite > 0.02 && st.nonwhite < 0.6, "non-white fraction %.3f", st.nonwhite);
    ck_assert_msg(st.near[0] > 300 && st.near[1] > 300, "series colours: %d blue, %d orange",
                  st.near[0], st.near[1]);
    /* Overwriting is atomic and leaves no temporary files behind. */
    GT_OK(gc_plot_lines(p, "Losses again", "step", "loss", s, 2));
    DIR *dir = opendir(gt_tmp());
    int files = 0;
    for (struct dirent *e; (e = readdir(dir));)
        files += e->d_name[0] != '.';
    closedir(dir);
    ck_assert_int_eq(files, 1);
    free(x);
    free(d);
    free(g);
}
END_TEST

START_TEST(degenerate_inputs)
{
    double one_x = 5, one_y = 0.25;
    double cx[4] = {1, 2, 3, 4}, cy[4] = {2, 2, 2, 2};
    double nx[3] = {NAN, 1, INFINITY}, ny[3] = {1, NAN, 2};
    double hx[2] = {0, 1}, hy[2] = {-1e308, 1e308};
    double zy[3] = {0, 0, 0};
    const struct {
        const char *name;
        gc_plot_series s[3];
        int count;
    } cases[] = {
        {"no series", {{0}}, 0},
        {"empty series", {{"D loss", NULL, NULL, 0}, {"G loss", NULL, NULL, 0}}, 2},
        {"one point", {{"FID", &one_x, &one_y, 1}}, 1},
        {"constant", {{"flat", cx, cy, 4}, {"empty", NULL, NULL, 0}}, 2},
        {"all zero", {{"zero", cx, zy, 3}}, 1},
        {"only NaN", {{"nan", nx, ny, 3}}, 1},
        {"huge range", {{"huge", hx, hy, 2}}, 1},
        {"unnamed", {{NULL, cx, cy, 4}, {NULL, hx, cx, 2}, {"", cx, cx, 4}}, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = tpath("edge.png");
        gc_status s = gc_plot_lines(p, cases[i].name, "x", "y", cases[i].s, cases[i].count);
        ck_assert_msg(s == GC_OK, "%s: %s", cases[i].name, gc_last_error());
        stats st = examine(p);
        /* axes, ticks and text are always there */
        ck_assert_msg(st.distinct >= 20, "%s: only %d distinct colours", cases[i].name,
                      st.distinct);
        ck_assert_msg(st.nonwhite > 0.005, "%s: blank", cases[i].name);
    }
    /* The single point is visible as a dot of the first colour. */
    gc_plot_series dot = {"FID", &one_x, &one_y, 1};
    GT_OK(gc_plot_lines(tpath("dot.png"), NULL, NULL, NULL, &dot, 1));
    stats st = examine(tpath("dot.png"));
    ck_assert_msg(st.near[0] > 30, "the point is not drawn (%d blue pixels)", st.near[0]);

    gc_plot_series bad = {"x", NULL, NULL, 3};
    ck_assert_int_eq(gc_plot_lines(tpath("bad.png"), "t", "x", "y", &bad, 1), GC_ERR_ARG);
    char deep[600];
    snprintf(deep, sizeof deep, "%s/missing/dir/plot.png", gt_tmp());
    ck_assert_int_eq(gc_plot_lines(deep, "t", "x", "y", &dot, 1), GC_ERR_IO);
    ck_assert(strstr(gc_last_error(), deep));
}
END_TEST

/* Reads path as RGB (checking the size); free() the pixels. */
static uint8_t *pixels(const char *path)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
    ck_assert_int_eq(img.width, GC_PLOT_WIDTH);
    ck_assert_int_eq(img.height, GC_PLOT_HEIGHT);
    img.format = PNG_FORMAT_RGB;
    uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
    ck_assert_msg(png_image_finish_read(&img, NULL, px, 0, NULL), "%s", img.message);
    return px;
}

/* Rows of column x whose pixel is close to (r, g, b). */
static int column_run(const uint8_t *px, int x, int r, int g, int b)
{
    int n = 0;
    for (int y = 0; y < GC_PLOT_HEIGHT; y++)
        n += close_to(px + 3 * ((size_t)y * GC_PLOT_WIDTH + x), r, g, b);
    return n;
}

/* Three bars of random heights in their palette colours, at the slot
 * centres the layout promises (the plot area between the margins, split
 * evenly), taller bars covering more rows in proportion; the error bars
 * are dark strokes above the bars. */
START_TEST(bar_chart)
{
    static const int colour[3][3] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44}};
    const char *labels[3] = {"1% real", "1% + synthetic", "100% real"};
    double values[3], errors[3];
    for (int i = 0; i < 3; i++) {
        values[i] = 0.2 + 0.7 * gt_uniform();
        errors[i] = 0.01 + 0.02 * gt_uniform();
    }
    const char *p = tpath("bars.png");
    GT_OK(gc_plot_bars(p, "Test accuracy", "accuracy", labels, values, errors, 3));
    stats st = examine(p);
    ck_assert_msg(st.distinct >= 20, "only %d distinct colours", st.distinct);
    uint8_t *px = pixels(p);
    /* The plot area: 84 px on the left, 24 on the right (plot.c's margins). */
    const double x0 = 84, pw = GC_PLOT_WIDTH - 84 - 24, slot = pw / 3;
    int rows[3];
    for (int i = 0; i < 3; i++) {
        /* a quarter of the way into the bar: away from the error bar */
        int x = (int)(x0 + slot * (i + 0.5) - slot * 0.6 / 4);
        rows[i] = column_run(px, x, colour[i][0], colour[i][1], colour[i][2]);
        ck_assert_msg(rows[i] > 20, "bar %d: %d pixels of its colour", i, rows[i]);
        for (int k = 0; k < 3; k++)
            if (k != i)
                ck_assert_int_eq(column_run(px, x, colour[k][0], colour[k][1], colour[k][2]), 0);
        /* Between two bars, no bar colour. */
        int gap = (int)(x0 + slot * i + 3);
        ck_assert_int_eq(column_run(px, gap, colour[i][0], colour[i][1], colour[i][2]), 0);
    }
    /* Heights in proportion to the values (the axis starts at 0): within
     * two pixels of rounding per bar. */
    for (int i = 1; i < 3; i++) {
        double want = values[i] / values[0] * rows[0];
        ck_assert_msg(fabs(rows[i] - want) <= 2 + 2 * values[i] / values[0],
                      "bar %d: %d rows, expected %.1f from bar 0's %d", i, rows[i], want, rows[0]);
    }
    free(px);

    /* Without error bars, with a negative value, a NaN and an empty chart. */
    double mixed[4] = {1.5, -0.5, NAN, 3};
    const char *four[4] = {"a", "b", NULL, "a much longer label than the slot can hold at 13 px"};
    GT_OK(gc_plot_bars(p, NULL, NULL, four, mixed, NULL, 4));
    px = pixels(p);
    const double s4 = pw / 4;
    ck_assert(column_run(px, (int)(x0 + s4 * 0.5), 31, 119, 180) > 20);
    ck_assert(column_run(px, (int)(x0 + s4 * 1.5), 255, 127, 14) > 5);
    ck_assert_int_eq(column_run(px, (int)(x0 + s4 * 2.5), 44, 160, 44), 0);
    free(px);
    GT_OK(gc_plot_bars(p, "empty", "y", NULL, NULL, NULL, 0));
    st = examine(p);
    ck_assert(st.nonwhite > 0.005);
    ck_assert_int_eq(gc_plot_bars(p, "t", "y", labels, NULL, NULL, 3), GC_ERR_ARG);
    ck_assert_int_eq(gc_plot_bars(p, "t", "y", labels, values, NULL, -1), GC_ERR_ARG);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_checked_fixture(tc, gt_tmp_setup, gt_tmp_teardown);
    tcase_add_test(tc, loss_plot);
    tcase_add_test(tc, degenerate_inputs);
    tcase_add_test(tc, bar_chart);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc = gt_run_suite(suite());
    /* Drops cairo's font caches, then fontconfig's own state, so that
     * LeakSanitizer sees only real leaks.  FcFini is looked up at run time:
     * fontconfig comes in through cairo and is not linked by name. */
    cairo_debug_reset_static_data();
    void (*fc_fini)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "FcFini");
    if (fc_fini) fc_fini();
    return rc;
}

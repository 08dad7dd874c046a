/* tests/test_colour_train.c - `gancl train` on colour PNG folders (issue 8)
 * end to end on the cpu backend: mixed sizes, alpha and sub-folders made
 * square by --size, an RGB sample grid, the decode cache in the run folder
 * (and a shared one) that --resume uses, the collapse diagnostic's
 * diversity.csv, the channel count taken from the data, --remedies, and
 * IDX data left uncached. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gancl/io.h"
#include "test_files.h"
#include "test_fixtures.h"
#include "test_proc.h"
#include "test_support.h"

#define N_COLOUR 70 /* 8 steps of 8 an epoch */

static char tmp_dir[64], icons[128], grays[128];

static int count_lines(const char *s)
{
    int n = 0;
    for (; s && *s; s++)
        n += *s == '\n';
    return n;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* An 8-bit PNG of any colour type through libpng (gc_png_write_* makes
 * gray and RGB only); palette files get a palette of gray entries. */
static void write_png(const char *path, int w, int h, int color_type)
{
    int ch = color_type == PNG_COLOR_TYPE_RGBA         ? 4
             : color_type == PNG_COLOR_TYPE_RGB        ? 3
             : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                                                       : 1;
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_bytep row = malloc((size_t)w * ch);
    if (setjmp(png_jmpbuf(png))) ck_abort_msg("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        for (int i = 0; i < 16; i++)
            pal[i].red = pal[i].green = pal[i].blue = (png_byte)(i * 17);
        png_set_PLTE(png, info, pal, 16);
    }
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w * ch; x++)
            row[x] = (png_byte)(color_type == PNG_COLOR_TYPE_PALETTE ? gt_randint(0, 15)
                                                                     : gt_randint(0, 255));
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
}

/* icons/: N_COLOUR RGB and RGBA files of mixed sizes (9..20 a side), some
 * in a sub-folder, a few gray; grays/: gray, gray+alpha and gray-palette
 * files of one size. */
static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "colour");
    snprintf(icons, sizeof icons, "%s/icons", tmp_dir);
    snprintf(grays, sizeof grays, "%s/grays", tmp_dir);
    ck_assert_int_eq(mkdir(icons, 0755), 0);
    ck_assert_int_eq(mkdir(gt_path(icons, "more"), 0755), 0);
    ck_assert_int_eq(mkdir(grays, 0755), 0);
    static const int types[] = {PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGBA, PNG_COLOR_TYPE_RGB,
                                PNG_COLOR_TYPE_RGBA, PNG_COLOR_TYPE_GRAY};
    for (int i = 0; i < N_COLOUR; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s%03d.png", i % 3 ? "" : "more/", i);
        write_png(gt_path(icons, name), gt_randint(9, 20), gt_randint(9, 20), types[i % 5]);
    }
    static const int gray_types[] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                     PNG_COLOR_TYPE_PALETTE};
    for (int i = 0; i < 24; i++) {
        char name[32];
        snprintf(name, sizeof name, "g%02d.png", i);
        write_png(gt_path(grays, name), 12, 12, gray_types[i % 3]);
    }
}

typedef gt_result result;

static result run_gancl(const char *const *args)
{
    static const char *const env[] = {"GANCL_FID_WEIGHTS=/nonexistent/gancl-weights.safetensors",
                                      NULL};
    return gt_run_capture(GANCL_BINARY, args, env, tmp_dir);
}

#define TINY "--batch", "8", "--ngf", "2", "--ndf", "3", "--latent", "5", "--seed", "7"

/* The grid of 8 x 8 samples of side s: its channels and size. */
static void check_grid(const char *path, int channels, int s)
{
    gc_image img;
    GT_OK(gc_png_read(path, 0, &img));
    ck_assert_msg(img.c == channels, "%s: %d channels, expected %d", path, img.c, channels);
    ck_assert_int_eq(img.w, 8 * (s + GC_GRID_PAD) + GC_GRID_PAD);
    ck_assert_int_eq(img.h, 8 * (s + GC_GRID_PAD) + GC_GRID_PAD);
    gc_image_free(&img);
}

static int csv_rows(const char *dir, const char *name)
{
    char *csv = gt_read_file(gt_path(dir, name), NULL);
    int n = count_lines(csv) - 1; /* the header */
    free(csv);
    return n;
}

/* An epoch on the colour folder: RGB grid, decode cache, diversity rows;
 * the resumed run reads the cache instead of decoding. */
START_TEST(test_colour_epoch_and_resume)
{
    setup();
    char out[128];
    snprintf(out, sizeof out, "%s/run-colour", tmp_dir);
    result r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", icons, "--size", "8",
                                 "--channels", "3", TINY, "--epochs", "1", "--out", out));
    ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "decoded 70 images 3x8x8") &&
                      strstr(r.out, "decode cache saved to") && strstr(r.out, "remedies: none") &&
                      strstr(r.out, "70 images 3x8x8 from"),
                  "stdout: %s", r.out);
    ck_assert_msg(strstr(r.out, "epoch 1  diversity "), "no diversity line: %s", r.out);
    /* An untrained G's samples look alike: no collapse warning this early. */
    ck_assert_msg(!strstr(r.err, "collapsing"), "a warning in the first epoch: %s", r.err);
    gt_result_free(&r);
    check_grid(gt_path(out, "samples/epoch-0001.png"), 3, 8);
    ck_assert_msg(file_exists(gt_path(out, "data-cache.safetensors")), "no decode cache in %s",
                  out);
    ck_assert_int_eq(csv_rows(out, "diversity.csv"), 1);
    ck_assert_msg(file_exists(gt_path(out, "diversity.png")), "no diversity.png");

    r = run_gancl(GT_ARGS("--device", "cpu", "train", "--resume", out, "--epochs", "2"));
    ck_assert_msg(r.code == 0, "resume failed (%d): %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "from the decode cache") && !strstr(r.out, "decoded"),
                  "the resumed run decoded again: %s", r.out);
    gt_result_free(&r);
    ck_assert_int_eq(csv_rows(out, "diversity.csv"), 2);
    check_grid(gt_path(out, "samples/epoch-0002.png"), 3, 8);

    /* A changed folder is decoded again (the key has the files' times). */
    write_png(gt_path(icons, "zz-new.png"), 11, 13, PNG_COLOR_TYPE_RGB);
    r = run_gancl(
        GT_ARGS("--device", "cpu", "train", "--resume", out, "--epochs", "3", "--no-diversity"));
    ck_assert_msg(r.code == 0, "resume failed (%d): %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "decoded 71 images"), "stdout: %s", r.out);
    ck_assert_msg(!strstr(r.out, "diversity "), "--no-diversity: %s", r.out);
    gt_result_free(&r);
    ck_assert_int_eq(csv_rows(out, "diversity.csv"), 2);
    remove(gt_path(icons, "zz-new.png"));
}
END_TEST

/* --channels defaults to the data's: 3 for a folder with colour files, 1
 * for gray ones (a gray palette too) and for IDX; --size 12 works. */
START_TEST(test_default_channels_and_size_12)
{
    setup();
    char out[128];
    snprintf(out, sizeof out, "%s/run-auto3", tmp_dir);
    result r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", icons, "--size", "12", TINY,
                                 "--steps", "2", "--out", out));
    ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "70 images 3x12x12"), "stdout: %s", r.out);
    gt_result_free(&r);
    check_grid(gt_path(out, "samples/step-0000002.png"), 3, 12);

    snprintf(out, sizeof out, "%s/run-auto1", tmp_dir);
    r = run_gancl(
        GT_ARGS("--device", "cpu", "train", "--data", grays, TINY, "--steps", "1", "--out", out));
    ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "24 images 1x12x12"), "stdout: %s", r.out);
    gt_result_free(&r);
    check_grid(gt_path(out, "samples/step-0000001.png"), 1, 12);

    /* Gray data asked for as RGB: three equal planes, an RGB grid. */
    snprintf(out, sizeof out, "%s/run-gray3", tmp_dir);
    r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", grays, "--channels", "3", TINY,
                          "--steps", "1", "--out", out));
    ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "24 images 3x12x12"), "stdout: %s", r.out);
    gt_result_free(&r);
}
END_TEST

/* One cache file shared by two runs; IDX data gets none by default. */
START_TEST(test_shared_cache_and_idx)
{
    setup();
    char out[128], cache[128];
    snprintf(cache, sizeof cache, "%s/shared-cache.safetensors", tmp_dir);
    for (int k = 0; k < 2; k++) {
        snprintf(out, sizeof out, "%s/run-shared-%d", tmp_dir, k);
        result r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", icons, "--size", "8",
                                     "--data-cache", cache, TINY, "--steps", "1", "--out", out));
        ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
        ck_assert_msg(strstr(r.out, k ? "from the decode cache" : "decode cache saved to"),
                      "run %d: %s", k, r.out);
        gt_result_free(&r);
        ck_assert_msg(!file_exists(gt_path(out, "data-cache.safetensors")),
                      "a cache in the run folder besides --data-cache");
    }
    /* Another background is another decode. */
    snprintf(out, sizeof out, "%s/run-black", tmp_dir);
    result r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", icons, "--size", "8",
                                 "--background", "black", "--data-cache", cache, TINY, "--steps",
                                 "1", "--out", out));
    ck_assert_msg(r.code == 0 && strstr(r.out, "decoded 70 images"), "(%d) %s %s", r.code, r.out,
                  r.err);
    gt_result_free(&r);
    /* Resumed without --background, a run finds its own in its own cache. */
    snprintf(out, sizeof out, "%s/run-black-own", tmp_dir);
    r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", icons, "--size", "8",
                          "--background", "black", TINY, "--steps", "1", "--out", out));
    ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
    gt_result_free(&r);
    r = run_gancl(GT_ARGS("--device", "cpu", "train", "--resume", out, "--steps", "2"));
    ck_assert_msg(r.code == 0 && strstr(r.out, "from the decode cache"), "(%d) %s %s", r.code,
                  r.out, r.err);
    gt_result_free(&r);

    char idx[128];
    static uint8_t px[40 * 8 * 8];
    snprintf(idx, sizeof idx, "%s/noise-idx3-ubyte", tmp_dir);
    gt_write_noise_idx(idx, px, 40, 8, 8, 0);
    snprintf(out, sizeof out, "%s/run-idx", tmp_dir);
    r = run_gancl(
        GT_ARGS("--device", "cpu", "train", "--data", idx, TINY, "--steps", "1", "--out", out));
    ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "40 images 1x8x8") && strstr(r.out, "decode cache: none"),
                  "stdout: %s", r.out);
    gt_result_free(&r);
    ck_assert_msg(!file_exists(gt_path(out, "data-cache.safetensors")), "IDX data was cached");
}
END_TEST

/* A new run that fails after decoding takes its decode cache with it and
 * leaves no run folder behind. */
START_TEST(test_failed_run_leaves_no_cache)
{
    setup();
    char out[128];
    snprintf(out, sizeof out, "%s/run-too-big-batch", tmp_dir);
    result r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", icons, "--size", "8",
                                 "--batch", "300", "--steps", "1", "--out", out));
    ck_assert_msg(r.code == 2 && count_lines(r.err) == 1 && strstr(r.err, "300"), "(%d) %s", r.code,
                  r.err);
    gt_result_free(&r);
    ck_assert_msg(!file_exists(out), "a failed run left %s behind", out);
    /* Mixed sizes without --size: the loader's error, and the way out. */
    r = run_gancl(
        GT_ARGS("--device", "cpu", "train", "--data", icons, "--steps", "1", "--out", out));
    ck_assert_msg(r.code == 2 && count_lines(r.err) == 1 && strstr(r.err, "one size") &&
                      strstr(r.err, "--size S"),
                  "(%d) %s", r.code, r.err);
    gt_result_free(&r);
    ck_assert_msg(!file_exists(out), "a failed run left %s behind", out);
}
END_TEST

/* Every remedy at once trains, and the start line lists them. */
START_TEST(test_remedies)
{
    setup();
    char out[128];
    snprintf(out, sizeof out, "%s/run-remedies", tmp_dir);
    result r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", icons, "--size", "8",
                                 "--remedies", TINY, "--steps", "3", "--out", out));
    ck_assert_msg(r.code == 0, "train --remedies failed (%d): %s", r.code, r.err);
    ck_assert_msg(strstr(r.out, "remedies: spectral norm, mbstd 4, hinge loss, DiffAugment "
                                "color,translation,cutout, EMA 0.999"),
                  "stdout: %s", r.out);
    gt_result_free(&r);
    check_grid(gt_path(out, "samples/step-0000003.png"), 3, 8);
    /* Explicit flags win over --remedies' values. */
    snprintf(out, sizeof out, "%s/run-remedies-some", tmp_dir);
    r = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", icons, "--size", "8", "--remedies",
                          "--loss", "bce", "--mbstd", "0", "--diffaug", "translation,cutout",
                          "--ema", "0.9", TINY, "--steps", "1", "--out", out));
    ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
    ck_assert_msg(
        strstr(r.out, "remedies: spectral norm, DiffAugment translation,cutout, EMA 0.9,"),
        "stdout: %s", r.out);
    gt_result_free(&r);
    /* The seed model with the remedies it can take. */
    snprintf(out, sizeof out, "%s/run-seed-hinge", tmp_dir);
    r = run_gancl(GT_ARGS("--device", "cpu", "train", "--model", "seed", "--data", icons, "--size",
                          "8", "--loss", "hinge", "--diffaug", "all", "--ema", "0.99", TINY,
                          "--steps", "1", "--out", out));
    ck_assert_msg(r.code == 0, "train --model seed --loss hinge failed (%d): %s", r.code, r.err);
    gt_result_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("colour_train");
    TCase *t = tcase_create("colour_train");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_colour_epoch_and_resume);
    tcase_add_test(t, test_default_channels_and_size_12);
    tcase_add_test(t, test_shared_cache_and_idx);
    tcase_add_test(t, test_failed_run_leaves_no_cache);
    tcase_add_test(t, test_remedies);
    suite_add_tcase(s, t);
    return gt_run_suite(s);
}

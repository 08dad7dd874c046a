/* tests/test_colour_sample.c - colour models through the command line:
 * `gancl sample --out DIR/` and `gancl export` as PNG folders write RGB
 * PNGs whose bytes are the generator's planar images interleaved, IDX
 * output is refused for colour with one line, and `gancl fid` takes two
 * folders of RGB PNGs (64-dim Inception stem with random weights, on the
 * CPU reference backend, to keep it cheap). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_fixtures.h"
#include "test_proc.h"
#include "test_support.h"
#include "util/fs.h"

#define K      3
#define C      3
#define H      8
#define W      12
#define N_DATA 12

static char dir[256], ckpt[512];

/* Runs gancl on the CPU with stdout and stderr in files; the exit code,
 * stdout in out and stderr in err (n bytes each). */
static int run(const char *const *args, char *out, char *err, size_t n)
{
    static const char *const env[] = {"GANCL_LOG=warn", NULL};
    gt_result r = gt_run_capture(GANCL_BINARY, args, env, dir);
    snprintf(out, n, "%s", r.out);
    snprintf(err, n, "%s", r.err);
    gt_result_free(&r);
    return r.code;
}

static void expect_one_line(const char *err, const char *word)
{
    ck_assert_msg(!strncmp(err, "gancl: ", 7), "stderr: %s", err);
    ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
    ck_assert_msg(strstr(err, word), "stderr lacks \"%s\": %s", word, err);
}

/* A conditional colour checkpoint after two steps.  The seed model: its
 * PyTorch initialisation under a sigmoid gives images that vary from
 * pixel to pixel and channel to channel, so a swapped plane shows. */
static void make_checkpoint(void)
{
    if (dir[0]) return;
    gt_tmpdir_at_exit(dir, sizeof dir, "colour");
    uint8_t *px = malloc(N_DATA * C * H * W);
    int32_t labels[N_DATA];
    for (int i = 0; i < N_DATA * C * H * W; i++)
        px[i] = (uint8_t)gt_randint(0, 255);
    for (int i = 0; i < N_DATA; i++)
        labels[i] = i % K;
    gc_train_config cfg = gt_tiny_train_config(GC_MODEL_SEED, H, W);
    cfg.model.channels = C;
    cfg.model.classes = K;
    cfg.batch = 4;
    gc_trainer tr;
    GT_OK(gc_trainer_init_labelled(&tr, gt_cpu(), &cfg, px, labels, N_DATA, H, W));
    for (int i = 0; i < 2; i++)
        GT_OK(gc_trainer_step(&tr));
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
    GT_OK(gc_trainer_save(&tr, ckpt));
    gc_trainer_free(&tr);
    free(px);
}

/* What the commands should write: n images of the checkpoint's G (labels
 * NULL: cycling through the classes) from the fixed noise, as bytes, made
 * with max_batch as the commands make them (the same batches, the same
 * bits). */
static uint8_t *expected(int n, const int32_t *labels, int max_batch)
{
    gc_train_config cfg;
    GT_OK(gc_checkpoint_config(ckpt, &cfg));
    ck_assert_int_eq(cfg.model.channels, C);
    gc_gan gan;
    GT_OK(gc_gan_init(&gan, gt_cpu(), &cfg.model, max_batch));
    uint64_t seed;
    GT_OK(gc_checkpoint_load_gan(ckpt, &gan, &seed));
    gc_rng rng = {seed, 0};
    float *img = malloc((size_t)n * C * H * W * sizeof(float));
    GT_OK(gc_gan_sample_classes(&gan, &rng, n, labels, img));
    float lo, hi;
    gc_gan_pixel_range(cfg.model.kind, &lo, &hi);
    uint8_t *bytes = malloc((size_t)n * C * H * W);
    gc_pixels_to_bytes(img, (int64_t)n * C * H * W, lo, hi, bytes);
    free(img);
    gc_gan_free(&gan);
    return bytes;
}

/* path is an RGB PNG of W x H holding the planar image want, interleaved. */
static void check_png(const char *path, const uint8_t *want)
{
    gc_image im;
    GT_OK(gc_png_read(path, 0, &im));
    ck_assert_msg(im.c == 3 && im.w == W && im.h == H, "%s: %dx%d, %d channels", path, im.w, im.h,
                  im.c);
    int planes_differ = 0;
    for (int p = 0; p < H * W; p++)
        for (int ch = 0; ch < C; ch++) {
            ck_assert_msg(im.data[3 * p + ch] == want[ch * H * W + p],
                          "%s: pixel %d channel %d is %d, expected %d", path, p, ch,
                          im.data[3 * p + ch], want[ch * H * W + p]);
            planes_differ |= want[ch * H * W + p] != want[p];
        }
    ck_assert_msg(planes_differ, "%s: the channels are all alike: a weak test", path);
    gc_image_free(&im);
}

START_TEST(sample_folder_rgb)
{
    make_checkpoint();
    char out[4096], err[4096], sdir[512], path[600];
    snprintf(sdir, sizeof sdir, "%s/samples/", dir);
    int n = 5;
    int rc =
        run(GT_ARGS("--device", "cpu", "sample", "--checkpoint", ckpt, "--n", "5", "--out", sdir),
            out, err, sizeof out);
    ck_assert_msg(rc == 0, "sample failed (%d): %s", rc, err);
    uint8_t *want = expected(n, NULL, n);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s%06d.png", sdir, i);
        check_png(path, want + (size_t)i * C * H * W);
    }
    snprintf(path, sizeof path, "%s%06d.png", sdir, n);
    ck_assert_int_eq(gc_fs_is_file(path), 0);
    free(want);

    /* A grid still works; IDX does not, with one line naming the way out. */
    snprintf(path, sizeof path, "%s/grid.png", dir);
    rc = run(GT_ARGS("--device", "cpu", "sample", "--checkpoint", ckpt, "--out", path), out, err,
             sizeof out);
    ck_assert_msg(rc == 0, "grid failed (%d): %s", rc, err);
    snprintf(path, sizeof path, "%s/s.idx.gz", dir);
    rc = run(GT_ARGS("--device", "cpu", "sample", "--checkpoint", ckpt, "--out", path), out, err,
             sizeof out);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "IDX");
    ck_assert_int_eq(gc_fs_is_file(path), 0);
}
END_TEST

START_TEST(export_folders_rgb)
{
    make_checkpoint();
    char out[4096], err[4096], edir[512], path[600];
    snprintf(edir, sizeof edir, "%s/export/", dir);
    int per_class = 2, n = K * per_class;
    int rc = run(GT_ARGS("--device", "cpu", "export", "--checkpoint", ckpt, "--per-class", "2",
                         "--out", edir),
                 out, err, sizeof out);
    ck_assert_msg(rc == 0, "export failed (%d): %s", rc, err);
    int32_t labels[K * 2];
    for (int i = 0; i < n; i++)
        labels[i] = i / per_class;
    uint8_t *want = expected(n, labels, n);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s%d/%06d.png", edir, i / per_class, i % per_class);
        check_png(path, want + (size_t)i * C * H * W);
    }
    free(want);

    snprintf(path, sizeof path, "%s/set", dir);
    rc = run(GT_ARGS("--device", "cpu", "export", "--checkpoint", ckpt, "--per-class", "2", "--out",
                     path),
             out, err, sizeof out);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "IDX");
    snprintf(path, sizeof path, "%s/set-images-idx3-ubyte.gz", dir);
    ck_assert_int_eq(gc_fs_is_file(path), 0);
}
END_TEST

/* FID of two folders of RGB PNGs: 0 for a folder against itself, finite
 * and above 0 for two different sample sets. */
START_TEST(fid_of_rgb_folders)
{
    make_checkpoint();
    char out[4096], err[4096], a[512], b[512], weights[512];
    snprintf(a, sizeof a, "%s/fid-a/", dir);
    snprintf(b, sizeof b, "%s/fid-b/", dir);
    snprintf(weights, sizeof weights, "%s/stem.safetensors", dir);
    gt_write_stem_weights(weights, gt_seed());
    ck_assert_int_eq(run(GT_ARGS("--device", "cpu", "sample", "--checkpoint", ckpt, "--n", "3",
                                 "--seed", "11", "--out", a),
                         out, err, sizeof out),
                     0);
    ck_assert_int_eq(run(GT_ARGS("--device", "cpu", "sample", "--checkpoint", ckpt, "--n", "3",
                                 "--seed", "12", "--out", b),
                         out, err, sizeof out),
                     0);
    double fid = NAN, self = NAN;
    int rc =
        run(GT_ARGS("--device", "cpu", "fid", a, b, "--dims", "64", "--weights", weights, "--json"),
            out, err, sizeof out);
    ck_assert_msg(rc == 0, "fid failed (%d): %s", rc, err);
    ck_assert_msg(sscanf(out, "{\"fid\": %lf", &fid) == 1, "json: %s", out);
    rc =
        run(GT_ARGS("--device", "cpu", "fid", a, a, "--dims", "64", "--weights", weights, "--json"),
            out, err, sizeof out);
    ck_assert_msg(rc == 0, "fid failed (%d): %s", rc, err);
    ck_assert_msg(sscanf(out, "{\"fid\": %lf", &self) == 1, "json: %s", out);
    ck_assert_msg(isfinite(fid) && fid > 1e-6, "FID of two sample sets: %g", fid);
    ck_assert_msg(fabs(self) < 1e-6 * fid + 1e-9, "FID of a folder against itself: %g", self);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("colour_sample");
    TCase *tc = tcase_create("colour");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, sample_folder_rgb);
    tcase_add_test(tc, export_folders_rgb);
    tcase_add_test(tc, fid_of_rgb_folders);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

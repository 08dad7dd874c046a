/* tests/test_train.c - training learns (both models, both backends, on a
 * tiny synthetic data set), `gancl train` and `gancl sample` write what they
 * promise, and every bad flag is a one-line error with exit code 2. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_support.h"

#define H        8
#define W        12
#define N_IMAGES 256

static char tmp_dir[64];
static char data_path[128];

/* A dark frame with a bright square at a random place: data mean ~0.2,
 * far from what an untrained generator (sigmoid or tanh of small values)
 * produces, ~0.5. */
static uint8_t *make_images(void)
{
    uint8_t *img = calloc(N_IMAGES, H * W);
    for (int i = 0; i < N_IMAGES; i++) {
        int y0 = gt_randint(0, H - 4), x0 = gt_randint(0, W - 4);
        for (int y = y0; y < y0 + 4; y++)
            for (int x = x0; x < x0 + 4; x++)
                img[i * H * W + y * W + x] = 255;
    }
    return img;
}

static double data_mean01(const uint8_t *img)
{
    double s = 0;
    for (int i = 0; i < N_IMAGES * H * W; i++)
        s += img[i];
    return s / (255.0 * N_IMAGES * H * W);
}

static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "train");
    snprintf(data_path, sizeof data_path, "%s/squares.idx", tmp_dir);
    uint8_t *img = make_images();
    gc_idx d = {.kind = GC_IDX_IMAGES, .data = img, .n = N_IMAGES, .h = H, .w = W};
    GT_OK(gc_idx_write(data_path, &d, 0));
    free(img);
}

static gc_train_config tiny_config(gc_model_kind kind)
{
    gc_train_config c = gc_train_default_config(kind);
    c.model.height = H;
    c.model.width = W;
    c.model.latent = 8;
    c.model.g_width = 16;
    c.model.d_width = 8;
    c.batch = 32;
    /* Above the default 2e-4 so that learning shows within 300 steps; the
     * seed model (no batchnorm) is unstable at dcgan's 1e-3. */
    c.lr = kind == GC_MODEL_SEED ? 5e-4f : 1e-3f;
    c.seed = gt_seed();
    return c;
}

/* Mean intensity and saturation (mean |2v - 1|: 1 for the binary data, ~0
 * for the grey images of an untrained generator), in [0, 1] units. */
static void image_stats(const float *x, int64_t n, float lo, float hi, double *mean, double *sat)
{
    double s = 0, t = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = (x[i] - lo) / (hi - lo);
        s += v, t += fabs(2 * v - 1);
    }
    *mean = s / (double)n, *sat = t / (double)n;
}

/* Reads the data back through the IDX reader, trains, and checks what a
 * broken gradient would spoil: D tells real from fake within a few hundred
 * steps (D's gradients), and G's images come most of the way to the data's
 * mean intensity and become nearly binary like the data (G's gradients,
 * which reach it through D's input gradient). */
static void check_learning(gc_backend *be, gc_model_kind kind)
{
    setup();
    gc_idx data;
    GT_OK(gc_idx_read(data_path, GC_IDX_IMAGES, &data));
    gc_train_config cfg = tiny_config(kind);
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, be, &cfg, data.data, data.n, (int)data.h, (int)data.w));
    float lo, hi;
    gc_gan_pixel_range(kind, &lo, &hi);
    int n = 64;
    float *img = malloc((size_t)n * H * W * sizeof(float));
    GT_OK(gc_trainer_sample_fixed(&tr, n, img));
    double target = data_mean01(data.data), before, sat_before, after, sat_after;
    image_stats(img, n * H * W, lo, hi, &before, &sat_before);

    /* Little happens in the first 40 steps; D's lead shows in 41-80 in
     * most seeds (printed) and is judged over 81-300. */
    gc_train_stats early, late;
    for (int i = 0; i < 40; i++)
        GT_OK(gc_trainer_step(&tr));
    GT_OK(gc_trainer_read_stats(&tr, &early));
    for (int i = 0; i < 40; i++)
        GT_OK(gc_trainer_step(&tr));
    GT_OK(gc_trainer_read_stats(&tr, &early));
    /* GANs oscillate, and the seed model (no batchnorm) swings between
     * dark and bright for hundreds of steps, in phase with D, at a
     * different pace per seed.  So G's images are sampled every 10 steps
     * over steps 100-300: its mean intensity is judged by its closest
     * approach to the data's (a generator with broken gradients never
     * approaches it), saturation by its average over steps 200-300 (it
     * rises later in a seed whose D starts slowly). */
    double best = fabs(before - target);
    after = sat_after = 0;
    for (int k = 0; k < 21; k++) {
        for (int i = 0; i < (k ? 10 : 20); i++)
            GT_OK(gc_trainer_step(&tr));
        double m, t;
        GT_OK(gc_trainer_sample_fixed(&tr, n, img));
        image_stats(img, n * H * W, lo, hi, &m, &t);
        if (fabs(m - target) < best) best = fabs(m - target);
        after += m / 21;
        if (k >= 10) sat_after += t / 11;
    }
    GT_OK(gc_trainer_read_stats(&tr, &late));
    printf("%s on %s: D(x) %.3f vs D(G(z)) %.3f in steps 41-80, %.3f vs %.3f in steps 81-300; "
           "G mean %.3f -> %.3f on average over steps 100-300, closest %.3f to the data's %.3f; "
           "saturation %.3f -> %.3f in steps 200-300; D loss %.3f, G loss %.3f in steps 81-300\n",
           gc_model_name(kind), gc_backend_name(be), early.d_real, early.d_fake, late.d_real,
           late.d_fake, before, after, best, target, sat_before, sat_after, late.d_loss,
           late.g_loss);
    ck_assert_int_eq(early.steps, 40);
    ck_assert_int_eq(late.steps, 220);
    /* Measured over 90 seeds: D's lead in steps 81-300 is 0.44-0.69 (seed)
     * and 0.54-0.79 (dcgan); in steps 41-80 a slow seed leads by 0.035. */
    ck_assert_msg(late.d_real > late.d_fake + 0.2, "D does not separate real from fake");
    ck_assert_msg(best < 0.6 * fabs(before - target),
                  "G's mean intensity never came within %.3f of the data's %.3f (from %.3f)",
                  0.6 * fabs(before - target), target, before);
    ck_assert_msg(sat_after > sat_before + 0.3, "G's images stay grey (saturation %.3f -> %.3f)",
                  sat_before, sat_after);
    ck_assert(isfinite(late.d_loss) && isfinite(late.g_loss));
    free(img);
    gc_trainer_free(&tr);
    gc_idx_free(&data);
}

START_TEST(test_learns_seed_cpu)
{
    check_learning(gt_cpu(), GC_MODEL_SEED);
}
END_TEST

START_TEST(test_learns_dcgan_cpu)
{
    check_learning(gt_cpu(), GC_MODEL_DCGAN);
}
END_TEST

static int have_cl(void)
{
    if (gt_cl()) return 1;
    printf("test_train: OpenCL part skipped: no OpenCL device on this machine\n");
    return 0;
}

START_TEST(test_learns_seed_cl)
{
    if (have_cl()) check_learning(gt_cl(), GC_MODEL_SEED);
}
END_TEST

START_TEST(test_learns_dcgan_cl)
{
    if (have_cl()) check_learning(gt_cl(), GC_MODEL_DCGAN);
}
END_TEST

/* ---- the command line ------------------------------------------------------ */

typedef struct run_result {
    int code;
    char out[8192], err[8192];
} run_result;

/* Runs GANCL_BINARY with args (NULL-terminated), capturing stdout/stderr in
 * files (no pipe deadlocks). */
static run_result run_gancl(const char *const *args)
{
    run_result r = {0};
    const char *out_path = gt_path(tmp_dir, "stdout"), *err_path = gt_path(tmp_dir, "stderr");
    r.code = gt_run(GANCL_BINARY, args, &(gt_io){.out_path = out_path, .err_path = err_path});
    char *out = gt_read_file(out_path, NULL), *err = gt_read_file(err_path, NULL);
    snprintf(r.out, sizeof r.out, "%s", out);
    snprintf(r.err, sizeof r.err, "%s", err);
    free(out);
    free(err);
    return r;
}

#define RUN(...) run_gancl(GT_ARGS(__VA_ARGS__))

/* Exit code 2 and exactly one line on stderr, "gancl: ...", containing want. */
static void expect_usage_error(const char *const *args, const char *want)
{
    run_result r = run_gancl(args);
    char cmd[512] = "";
    for (int i = 0; args[i]; i++)
        strcat(strcat(cmd, " "), args[i]);
    ck_assert_msg(r.code == 2, "gancl%s: exit %d, expected 2 (stderr: %s)", cmd, r.code, r.err);
    size_t len = strlen(r.err);
    ck_assert_msg(len > 7 && !strncmp(r.err, "gancl: ", 7) && r.err[len - 1] == '\n' &&
                      !memchr(r.err, '\n', len - 1),
                  "gancl%s: stderr is not one 'gancl: ' line: '%s'", cmd, r.err);
    ck_assert_msg(strstr(r.err, want), "gancl%s: '%s' does not mention '%s'", cmd, r.err, want);
}

#define EXPECT_ERR(want, ...)                                                                      \
    expect_usage_error((const char *const[]){"--device", "cpu", __VA_ARGS__, NULL}, want)

START_TEST(test_flag_validation)
{
    setup();
    char bad[160], odd[160], empty[160];
    snprintf(bad, sizeof bad, "%s/bad.idx", tmp_dir);
    FILE *f = fopen(bad, "wb");
    fwrite("\x00\x00\x08\x02garbage", 1, 11, f);
    fclose(f);
    snprintf(empty, sizeof empty, "%s/empty.idx", tmp_dir);
    fclose(fopen(empty, "wb"));
    snprintf(odd, sizeof odd, "%s/odd.idx", tmp_dir);
    uint8_t px[4 * 10 * 10] = {0};
    gc_idx d = {.kind = GC_IDX_IMAGES, .data = px, .n = 4, .h = 10, .w = 10};
    GT_OK(gc_idx_write(odd, &d, 0));

    EXPECT_ERR("--lr", "train", "--lr", "nan");
    EXPECT_ERR("--lr", "train", "--lr", "inf");
    EXPECT_ERR("--lr", "train", "--lr", "0");
    EXPECT_ERR("--lr", "train", "--lr", "-0.1");
    EXPECT_ERR("--lr", "train", "--lr", "1e-3x");
    EXPECT_ERR("--lr", "train", "--lr", "");
    EXPECT_ERR("--beta1", "train", "--beta1", "1");
    EXPECT_ERR("--beta1", "train", "--beta1", "-0.5");
    EXPECT_ERR("--beta2", "train", "--beta2", "1.5");
    EXPECT_ERR("--batch", "train", "--batch", "0");
    EXPECT_ERR("--batch", "train", "--batch", "1");
    EXPECT_ERR("--batch", "train", "--batch", "-64");
    EXPECT_ERR("--batch", "train", "--batch", "99999999999999999999999");
    EXPECT_ERR("--batch", "train", "--batch", "6.5");
    EXPECT_ERR("--epochs", "train", "--epochs", "0");
    EXPECT_ERR("--epochs", "train", "--epochs", "ten");
    EXPECT_ERR("--steps", "train", "--steps", "-5");
    EXPECT_ERR("--steps", "train", "--steps", "0");
    EXPECT_ERR("--latent", "train", "--latent", "0");
    EXPECT_ERR("--latent", "train", "--latent", "1000000");
    EXPECT_ERR("--g-width", "train", "--g-width", "7");
    EXPECT_ERR("--d-width", "train", "--d-width", "0");
    EXPECT_ERR("--seed", "train", "--seed", "-1");
    EXPECT_ERR("--sample-every", "train", "--sample-every", "0");
    EXPECT_ERR("--log-every", "train", "--log-every", "x");
    EXPECT_ERR("--model", "train", "--model", "gpt");
    EXPECT_ERR("--nope", "train", "--nope");
    EXPECT_ERR("--lr needs a value", "train", "--lr");
    EXPECT_ERR("stray", "train", "stray");
    EXPECT_ERR("/nonexistent.idx", "train", "--data", "/nonexistent.idx");
    EXPECT_ERR(tmp_dir, "train", "--data", tmp_dir);
    EXPECT_ERR(bad, "train", "--data", bad);
    EXPECT_ERR(empty, "train", "--data", empty);
    EXPECT_ERR("multiples of 4", "train", "--data", odd);
    EXPECT_ERR("fewer than one batch", "train", "--data", data_path, "--batch", "300");
    EXPECT_ERR("no checkpoint", "train", "--resume", tmp_dir);
    EXPECT_ERR("--model", "train", "--resume", tmp_dir, "--model", "seed");
    EXPECT_ERR("--checkpoint", "sample", "--out", "x.png");
    EXPECT_ERR("--n", "sample", "--checkpoint", "c", "--n", "0", "--out", "x.png");
    EXPECT_ERR("must end in", "sample", "--checkpoint", "c", "--out", "x.jpg");
    EXPECT_ERR("--batch", "bench", "train", "--batch", "1");
    EXPECT_ERR("--model", "bench", "train", "--model", "x");
}
END_TEST

/* A short run through the command line: every output file is there and
 * readable, and `gancl sample` writes all three kinds of output. */
START_TEST(test_cli_run_and_sample)
{
    setup();
    char out[160], ckpt[200], grid[200], dir[200], idx[200];
    snprintf(out, sizeof out, "%s/run", tmp_dir);
    run_result r =
        RUN("--device", "cpu", "train", "--data", data_path, "--model", "seed", "--g-width", "8",
            "--d-width", "4", "--latent", "6", "--batch", "100", "--steps", "5", "--sample-every",
            "3", "--log-every", "2", "--seed", "5", "--out", out);
    ck_assert_msg(r.code == 0, "train failed (%d): %s", r.code, r.err);
    /* 256 images, batch 100: 2 steps per epoch, 56 images dropped. */
    ck_assert_msg(strstr(r.out, "2 steps per epoch, 56 images dropped"), "%s", r.out);
    const char *files[] = {"samples/epoch-0001.png",
                           "samples/epoch-0002.png",
                           "samples/step-0000003.png",
                           "samples/step-0000005.png",
                           "losses.csv",
                           "losses.png",
                           "checkpoint.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        ck_assert_msg(gt_file_size(out, files[i]) > 0, "%s/%s is missing", out, files[i]);
    gc_image im;
    char p[512];
    snprintf(p, sizeof p, "%s/samples/epoch-0001.png", out);
    GT_OK(gc_png_read(p, 1, &im));
    ck_assert_int_eq(im.w, 8 * (W + GC_GRID_PAD) + GC_GRID_PAD);
    gc_image_free(&im);
    /* Rows at steps 2, 4 (log interval), 2 and 4 are also epoch ends, 5 the last. */
    snprintf(p, sizeof p, "%s/losses.csv", out);
    FILE *f = fopen(p, "r");
    char line[256];
    int rows = 0;
    while (fgets(line, sizeof line, f))
        rows++;
    fclose(f);
    ck_assert_int_eq(rows, 1 + 3);

    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", out);
    snprintf(grid, sizeof grid, "%s/grid.png", tmp_dir);
    snprintf(dir, sizeof dir, "%s/singles/", tmp_dir);
    snprintf(idx, sizeof idx, "%s/synthetic.idx.gz", tmp_dir);
    r = RUN("--device", "cpu", "sample", "--checkpoint", ckpt, "--n", "10", "--out", grid);
    ck_assert_msg(r.code == 0, "sample grid: %s", r.err);
    GT_OK(gc_png_read(grid, 0, &im));
    ck_assert_int_eq(im.c, 1);
    ck_assert_int_eq(im.w, 4 * (W + GC_GRID_PAD) + GC_GRID_PAD); /* 10 images: 4 columns */
    gc_image_free(&im);
    r = RUN("--device", "cpu", "sample", "--checkpoint", ckpt, "--n", "3", "--seed", "9", "--out",
            dir);
    ck_assert_msg(r.code == 0, "sample dir: %s", r.err);
    snprintf(p, sizeof p, "%s000002.png", dir);
    GT_OK(gc_png_read(p, 1, &im));
    ck_assert(im.w == W && im.h == H);
    gc_image_free(&im);
    r = RUN("--device", "cpu", "sample", "--checkpoint", ckpt, "--n", "7", "--out", idx);
    ck_assert_msg(r.code == 0, "sample idx: %s", r.err);
    gc_idx d;
    GT_OK(gc_idx_read(idx, GC_IDX_IMAGES, &d));
    ck_assert(d.n == 7 && d.h == H && d.w == W);
    gc_idx_free(&d);
    /* The synthetic set trains like any other. */
    r = RUN("--device", "cpu", "train", "--data", idx, "--batch", "3", "--g-width", "4",
            "--d-width", "2", "--steps", "2", "--out", dir);
    ck_assert_msg(r.code == 0, "training on sampled images: %s", r.err);
    /* A second run into a folder that holds one is refused. */
    r = RUN("--device", "cpu", "train", "--data", idx, "--steps", "1", "--out", dir);
    ck_assert_msg(r.code == 2 && strstr(r.err, "--resume"), "%d %s", r.code, r.err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train");
    TCase *tc = tcase_create("train");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_learns_seed_cpu);
    tcase_add_test(tc, test_learns_dcgan_cpu);
    tcase_add_test(tc, test_learns_seed_cl);
    tcase_add_test(tc, test_learns_dcgan_cl);
    tcase_add_test(tc, test_flag_validation);
    tcase_add_test(tc, test_cli_run_and_sample);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

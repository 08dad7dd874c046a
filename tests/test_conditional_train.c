/* tests/test_conditional_train.c - class-conditional training end to end:
 * the trainer uses the labels (other labels, other weights), a conditional
 * run resumes exactly from its checkpoint, `gancl train --conditional`
 * finds the labels file beside the images, draws one grid row per class and
 * refuses labels that disagree with the images, and `gancl augment-eval`
 * runs its three settings and writes its table, CSV and chart. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_fixtures.h"
#include "test_proc.h"
#include "test_support.h"

#define H        8
#define W        12
#define N_IMAGES 50
#define CLASSES  3

static char tmp_dir[64];
static char data_path[128], labels_path[128];
static uint8_t images[N_IMAGES * H * W];
static int32_t labels[N_IMAGES];

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

/* Writes labels as an IDX labels file. */
static void write_labels(const char *path, const int32_t *lab, int n, int gz)
{
    uint8_t *b = malloc((size_t)n);
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)lab[i];
    gc_idx d = {.kind = GC_IDX_LABELS, .data = b, .n = n, .h = 1, .w = 1};
    GT_OK(gc_idx_write(path, &d, gz));
    free(b);
}

/* noise images with random labels, as train-images-idx3-ubyte.gz and the
 * labels file beside it. */
static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "cond");
    snprintf(data_path, sizeof data_path, "%s/train-images-idx3-ubyte.gz", tmp_dir);
    snprintf(labels_path, sizeof labels_path, "%s/train-labels-idx1-ubyte.gz", tmp_dir);
    gt_write_noise_idx(data_path, images, N_IMAGES, H, W, 1);
    for (int i = 0; i < N_IMAGES; i++)
        labels[i] = (int32_t)gt_randint(0, CLASSES - 1);
    labels[0] = 0, labels[1] = 1, labels[2] = 2; /* every class present */
    write_labels(labels_path, labels, N_IMAGES, 1);
}

static gc_train_config cond_config(gc_model_kind kind)
{
    gc_train_config c = gt_tiny_train_config(kind, H, W);
    c.model.classes = CLASSES;
    return c;
}

static float *read_params(const gc_seq *s, int64_t *n)
{
    gc_tensor t[3] = {gc_seq_params(s), gc_seq_adam_m(s), gc_seq_adam_v(s)};
    *n = 3 * s->n_params;
    float *h = malloc((size_t)*n * sizeof(float));
    for (int k = 0; k < 3; k++)
        GT_OK(gc_tensor_read(&t[k], h + k * s->n_params));
    return h;
}

static double max_abs_diff(const gc_seq *a, const gc_seq *b)
{
    int64_t na, nb;
    float *x = read_params(a, &na), *y = read_params(b, &nb);
    ck_assert_int_eq(na, nb);
    double m = 0;
    for (int64_t i = 0; i < na; i++) {
        double d = fabs((double)x[i] - y[i]);
        if (!(d <= m)) m = d; /* NaN wins */
    }
    free(x);
    free(y);
    return m;
}

/* The labels reach both networks: the same run with other labels ends
 * elsewhere; with the same labels, exactly where it ended. */
static void check_labels_matter(gc_backend *be, gc_model_kind kind)
{
    setup();
    gc_train_config cfg = cond_config(kind);
    int32_t other[N_IMAGES];
    for (int i = 0; i < N_IMAGES; i++)
        other[i] = (labels[i] + 1) % CLASSES;
    gc_trainer a, b, c;
    GT_OK(gc_trainer_init_labelled(&a, be, &cfg, images, labels, N_IMAGES, H, W));
    GT_OK(gc_trainer_init_labelled(&b, be, &cfg, images, labels, N_IMAGES, H, W));
    GT_OK(gc_trainer_init_labelled(&c, be, &cfg, images, other, N_IMAGES, H, W));
    for (int i = 0; i < 4; i++) {
        GT_OK(gc_trainer_step(&a));
        GT_OK(gc_trainer_step(&b));
        GT_OK(gc_trainer_step(&c));
    }
    double same_g = max_abs_diff(&a.gan.g, &b.gan.g), same_d = max_abs_diff(&a.gan.d, &b.gan.d);
    double diff_g = max_abs_diff(&a.gan.g, &c.gan.g), diff_d = max_abs_diff(&a.gan.d, &c.gan.d);
    ck_assert_msg(same_g <= 1e-6 && same_d <= 1e-6, "%s on %s: same labels, G %g D %g apart",
                  gc_model_name(kind), gc_backend_name(be), same_g, same_d);
    ck_assert_msg(diff_g > 1e-6 && diff_d > 1e-6, "%s on %s: other labels, G %g D %g apart",
                  gc_model_name(kind), gc_backend_name(be), diff_g, diff_d);
    gc_trainer_free(&a);
    gc_trainer_free(&b);
    gc_trainer_free(&c);
}

START_TEST(test_labels_matter)
{
    check_labels_matter(gt_cpu(), GC_MODEL_SEED);
    check_labels_matter(gt_cpu(), GC_MODEL_DCGAN);
    if (gt_cl()) check_labels_matter(gt_cl(), GC_MODEL_DCGAN);
}
END_TEST

/* Bad labels are refused by the trainer with a message. */
START_TEST(test_trainer_refuses_bad_labels)
{
    setup();
    gc_train_config cfg = cond_config(GC_MODEL_DCGAN);
    gc_trainer t;
    int32_t bad[N_IMAGES];
    memcpy(bad, labels, sizeof bad);
    bad[17] = CLASSES;
    ck_assert_int_eq(gc_trainer_init_labelled(&t, gt_cpu(), &cfg, images, bad, N_IMAGES, H, W),
                     GC_ERR_ARG);
    ck_assert_msg(strstr(gc_last_error(), "image 17"), "%s", gc_last_error());
    ck_assert_int_eq(gc_trainer_init(&t, gt_cpu(), &cfg, images, N_IMAGES, H, W), GC_ERR_ARG);
    cfg.model.classes = 0;
    ck_assert_int_eq(gc_trainer_init_labelled(&t, gt_cpu(), &cfg, images, labels, N_IMAGES, H, W),
                     GC_ERR_ARG);
}
END_TEST

/* N steps, checkpoint, load into a fresh trainer, M more = N + M in one go. */
static void check_resume(gc_backend *be, double tol)
{
    setup();
    gc_train_config cfg = cond_config(GC_MODEL_DCGAN);
    char ckpt[160];
    snprintf(ckpt, sizeof ckpt, "%s/cond-%s.safetensors", tmp_dir, tol ? "cl" : "cpu");
    gc_trainer whole, first, second;
    GT_OK(gc_trainer_init_labelled(&whole, be, &cfg, images, labels, N_IMAGES, H, W));
    for (int i = 0; i < 15; i++)
        GT_OK(gc_trainer_step(&whole));
    GT_OK(gc_trainer_init_labelled(&first, be, &cfg, images, labels, N_IMAGES, H, W));
    for (int i = 0; i < 7; i++)
        GT_OK(gc_trainer_step(&first));
    GT_OK(gc_trainer_save(&first, ckpt));
    gc_trainer_free(&first);
    gc_train_config saved;
    GT_OK(gc_checkpoint_config(ckpt, &saved));
    ck_assert_int_eq(saved.model.classes, CLASSES);
    GT_OK(gc_trainer_init_labelled(&second, be, &saved, images, labels, N_IMAGES, H, W));
    GT_OK(gc_trainer_load(&second, ckpt));
    for (int i = 0; i < 8; i++)
        GT_OK(gc_trainer_step(&second));
    double dg = max_abs_diff(&whole.gan.g, &second.gan.g),
           dd = max_abs_diff(&whole.gan.d, &second.gan.d);
    ck_assert_msg(dg <= tol && dd <= tol, "%s: resumed run differs: G %g D %g", gc_backend_name(be),
                  dg, dd);
    gc_trainer_free(&whole);
    gc_trainer_free(&second);
}

START_TEST(test_resume_conditional)
{
    check_resume(gt_cpu(), 0);
    if (gt_cl()) check_resume(gt_cl(), 1e-5);
}
END_TEST

/* ---- through the command line ---------------------------------------------- */

static int run_gancl(const char *const *args, char *err, size_t n)
{
    gt_io io = {.out_path = gt_path(tmp_dir, "stdout"), .err_path = gt_path(tmp_dir, "stderr")};
    int rc = gt_run(GANCL_BINARY, args, &io);
    char *e = gt_read_file(gt_path(tmp_dir, "stderr"), NULL);
    snprintf(err, n, "%s", e ? e : "");
    free(e);
    return rc;
}

#define TINY                                                                                       \
    "--batch", "8", "--g-width", "4", "--d-width", "3", "--latent", "5", "--seed", "5",            \
        "--log-every", "2"

START_TEST(test_cli_conditional_grid)
{
    setup();
    char out[160], grid[220], err[4096];
    snprintf(out, sizeof out, "%s/cli-cond", tmp_dir);
    int rc = run_gancl(GT_ARGS("--device", "cpu", "train", "--conditional", "--data", data_path,
                               TINY, "--epochs", "1", "--out", out),
                       err, sizeof err);
    ck_assert_msg(rc == 0, "train --conditional failed (%d): %s", rc, err);
    /* One row of 10 per class: 3 rows of H, 10 columns of W, 2-pixel gaps. */
    snprintf(grid, sizeof grid, "%s/samples/epoch-0001.png", out);
    gc_image img;
    GT_OK(gc_png_read(grid, 1, &img));
    ck_assert_int_eq(img.h, CLASSES * (H + GC_GRID_PAD) + GC_GRID_PAD);
    ck_assert_int_eq(img.w, 10 * (W + GC_GRID_PAD) + GC_GRID_PAD);
    gc_image_free(&img);
    /* Resuming it needs no flags: the class count is in the checkpoint. */
    rc = run_gancl(GT_ARGS("--device", "cpu", "train", "--resume", out, "--epochs", "2"), err,
                   sizeof err);
    ck_assert_msg(rc == 0, "resume of a conditional run failed (%d): %s", rc, err);
}
END_TEST

/* Labels that disagree with the images, or no labels at all: one line, exit 2. */
START_TEST(test_cli_bad_labels)
{
    setup();
    char out[160], bad[160], err[4096];
    snprintf(out, sizeof out, "%s/cli-bad", tmp_dir);
    snprintf(bad, sizeof bad, "%s/short-labels.idx", tmp_dir);
    write_labels(bad, labels, N_IMAGES - 1, 0);
    int rc = run_gancl(GT_ARGS("--device", "cpu", "train", "--conditional", "--data", data_path,
                               "--labels", bad, TINY, "--steps", "1", "--out", out),
                       err, sizeof err);
    ck_assert_msg(rc == 2 && count_lines(err) == 1 && strstr(err, "short-labels.idx"), "rc %d: %s",
                  rc, err);
    char lonely[160];
    snprintf(lonely, sizeof lonely, "%s/lonely-images.idx.gz", tmp_dir);
    gt_write_noise_idx(lonely, images, N_IMAGES, H, W, 1);
    rc = run_gancl(GT_ARGS("--device", "cpu", "train", "--conditional", "--data", lonely, TINY,
                           "--steps", "1", "--out", out),
                   err, sizeof err);
    ck_assert_msg(rc == 2 && count_lines(err) == 1 && strstr(err, "labels"), "rc %d: %s", rc, err);
    rc = run_gancl(GT_ARGS("--device", "cpu", "train", "--data", data_path, "--labels", labels_path,
                           TINY, "--steps", "1", "--out", out),
                   err, sizeof err);
    ck_assert_msg(rc == 2 && count_lines(err) == 1 && strstr(err, "--conditional"), "rc %d: %s", rc,
                  err);
    ck_assert_msg(!file_exists(out), "a failed run left %s behind", out);
}
END_TEST

/* A PNG folder with one sub-folder per class: the class names travel
 * through the checkpoint into export's folders. */
START_TEST(test_cli_png_class_names)
{
    setup();
    static const char *const names[] = {"boot", "coat", "shirt"};
    char root[160], dir[220], file[260], out[160], exp[160], err[4096];
    snprintf(root, sizeof root, "%s/named", tmp_dir);
    mkdir(root, 0755);
    for (int k = 0; k < 3; k++) {
        snprintf(dir, sizeof dir, "%s/%s", root, names[k]);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        for (int i = 0; i < 4; i++) {
            snprintf(file, sizeof file, "%s/%d.png", dir, i);
            GT_OK(gc_png_write_gray(file, images + (k * 4 + i) * H * W, W, H));
        }
    }
    snprintf(out, sizeof out, "%s/named-run", tmp_dir);
    snprintf(exp, sizeof exp, "%s/named-export/", tmp_dir);
    int rc = run_gancl(GT_ARGS("--device", "cpu", "train", "--conditional", "--data", root,
                               "--batch", "4", "--g-width", "4", "--d-width", "3", "--latent", "5",
                               "--steps", "2", "--out", out),
                       err, sizeof err);
    ck_assert_msg(rc == 0, "train on class folders failed (%d): %s", rc, err);
    char ckpt[220];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", out);
    rc = run_gancl(GT_ARGS("--device", "cpu", "export", "--checkpoint", ckpt, "--per-class", "2",
                           "--out", exp),
                   err, sizeof err);
    ck_assert_msg(rc == 0, "export failed (%d): %s", rc, err);
    for (int k = 0; k < 3; k++) {
        snprintf(file, sizeof file, "%s%s/000001.png", exp, names[k]);
        ck_assert_msg(file_exists(file), "export wrote no %s", file);
    }
}
END_TEST

/* A tiny augment-eval: five arms, two seeds, its three files, the paired
 * table against (a+), the GAN with its remedies (the default); with
 * --augment none and --no-gan-remedies three arms paired with (a). */
START_TEST(test_cli_augment_eval)
{
    setup();
    char out[160], test_path[160], test_labels[160], err[4096];
    snprintf(out, sizeof out, "%s/augment", tmp_dir);
    snprintf(test_path, sizeof test_path, "%s/t10k-images-idx3-ubyte.gz", tmp_dir);
    snprintf(test_labels, sizeof test_labels, "%s/t10k-labels-idx1-ubyte.gz", tmp_dir);
    static uint8_t test_images[20 * H * W];
    int32_t tl[20];
    gt_write_noise_idx(test_path, test_images, 20, H, W, 1);
    for (int i = 0; i < 20; i++)
        tl[i] = i % CLASSES;
    write_labels(test_labels, tl, 20, 1);
    int rc =
        run_gancl(GT_ARGS("--device", "cpu", "augment-eval", "--data", data_path, "--test",
                          test_path, "--per-class", "4", "--synthetic", "3", "--seeds", "2",
                          "--gan-model", "seed", "--gan-steps", "3", "--steps", "4", "--out", out),
                  err, sizeof err);
    ck_assert_msg(rc == 0, "augment-eval failed (%d): %s", rc, err);
    char *csv = gt_read_file(gt_path(out, "augment.csv"), NULL);
    ck_assert_int_eq(count_lines(csv), 1 + 5 * 2);
    ck_assert_ptr_nonnull(strstr(csv, "\n(b) subset + synthetic,2,"));
    ck_assert_ptr_nonnull(strstr(csv, "\n(a+) subset with classic augmentation,2,"));
    ck_assert_ptr_nonnull(strstr(csv, "\n(b+) subset + synthetic with classic augmentation,1,"));
    free(csv);
    char *md = gt_read_file(gt_path(out, "augment.md"), NULL);
    ck_assert_ptr_nonnull(strstr(md, "(c) full real set | 50 |"));
    ck_assert_ptr_nonnull(
        strstr(md, "Classic augmentation of (a+) and (b+): translate=0.1,rotate=10,scale=0.1."));
    ck_assert_ptr_nonnull(strstr(md, "| against (a+) subset with classic augmentation |"));
    ck_assert_ptr_nonnull(strstr(md, "\n| (a) small real subset | "));
    ck_assert_msg(count_lines(md) == 2 + 5 + 3 + 2 + 4, "augment.md:\n%s", md);
    free(md);
    char out2[192];
    snprintf(out2, sizeof out2, "%s/augment-none", tmp_dir);
    rc = run_gancl(GT_ARGS("--device", "cpu", "augment-eval", "--data", data_path, "--test",
                           test_path, "--per-class", "4", "--synthetic", "3", "--seeds", "2",
                           "--gan-model", "seed", "--gan-steps", "3", "--steps", "4", "--augment",
                           "none", "--no-gan-remedies", "--out", out2),
                   err, sizeof err);
    ck_assert_msg(rc == 0, "augment-eval --augment none failed (%d): %s", rc, err);
    csv = gt_read_file(gt_path(out2, "augment.csv"), NULL);
    ck_assert_int_eq(count_lines(csv), 1 + 3 * 2);
    ck_assert_ptr_null(strstr(csv, "augmentation"));
    free(csv);
    md = gt_read_file(gt_path(out2, "augment.md"), NULL);
    ck_assert_ptr_nonnull(strstr(md, "| against (a) small real subset |"));
    free(md);
    rc = run_gancl(GT_ARGS("--device", "cpu", "augment-eval", "--augment", "classic,zoom=2"), err,
                   sizeof err);
    ck_assert_int_eq(rc, 2);
    ck_assert_msg(strstr(err, "--augment") && strstr(err, "zoom=2"), "%s", err);
    gc_image img;
    GT_OK(gc_png_read(gt_path(out, "augment.png"), 3, &img));
    gc_image_free(&img);
    GT_OK(gc_png_read(gt_path(out, "synthetic-seed2.png"), 1, &img));
    ck_assert_int_eq(img.h, CLASSES * (H + GC_GRID_PAD) + GC_GRID_PAD);
    gc_image_free(&img);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conditional_train");
    TCase *t = tcase_create("conditional_train");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_labels_matter);
    tcase_add_test(t, test_trainer_refuses_bad_labels);
    tcase_add_test(t, test_resume_conditional);
    tcase_add_test(t, test_cli_conditional_grid);
    tcase_add_test(t, test_cli_bad_labels);
    tcase_add_test(t, test_cli_png_class_names);
    tcase_add_test(t, test_cli_augment_eval);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

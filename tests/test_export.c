/* tests/test_export.c - `gancl export` and `gancl sample --class`, run as
 * the real binary on a tiny conditional checkpoint trained for two steps:
 * counts per class, labels read back from both layouts, the same images in
 * both, --class against the exported class, and the errors (unconditional
 * checkpoints, a class out of range, a non-empty folder). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gancl/dataset.h"
#include "gancl/io.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_support.h"

#define K 3
#define H 12
#define W 8

static char dir[256], cond[512], uncond[512];

/* Runs gancl with stdout and stderr in files; the exit code, and stderr in
 * err (n bytes). */
static int run(const char *const *args, char *err, size_t n)
{
    static const char *const env[] = {"GANCL_LOG=warn", NULL};
    gt_result r = gt_run_capture(GANCL_BINARY, args, env, dir);
    snprintf(err, n, "%s", r.err);
    gt_result_free(&r);
    return r.code;
}

/* One conditional and one unconditional checkpoint, trained once.  The seed
 * model: after two steps dcgan's images are all but constant (weights
 * N(0, 0.02) under tanh give bytes of 127 and 128), which would hide a
 * wrong class or noise. */
static void make_checkpoints(void)
{
    if (dir[0]) return;
    gt_tmpdir_at_exit(dir, sizeof dir, "export");
    int n = 48;
    uint8_t *px = malloc(n * H * W), lab[48];
    for (int i = 0; i < n * H * W; i++)
        px[i] = (uint8_t)gt_randint(0, 255);
    for (int i = 0; i < n; i++)
        lab[i] = (uint8_t)(i % K);
    char images[512], labels[512], run_c[400], run_u[400], seed[32], err[4096];
    snprintf(images, sizeof images, "%s/d-images-idx3-ubyte.gz", dir);
    snprintf(labels, sizeof labels, "%s/d-labels-idx1-ubyte.gz", dir);
    GT_OK(gc_idx_write(images, &(gc_idx){GC_IDX_IMAGES, px, n, H, W}, 1));
    GT_OK(gc_idx_write(labels, &(gc_idx){GC_IDX_LABELS, lab, n, 1, 1}, 1));
    snprintf(run_c, sizeof run_c, "%s/run-c", dir);
    snprintf(run_u, sizeof run_u, "%s/run-u", dir);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)(gt_seed() % 1000000));
    int rc = run(GT_ARGS("--device", "cpu", "train", "--conditional", "--model", "seed", "--data",
                         images, "--steps", "2", "--batch", "8", "--latent", "7", "--g-width", "6",
                         "--d-width", "5", "--seed", seed, "--out", run_c),
                 err, sizeof err);
    ck_assert_msg(rc == 0, "conditional training failed (%d): %s", rc, err);
    rc = run(GT_ARGS("--device", "cpu", "train", "--model", "seed", "--data", images, "--steps",
                     "2", "--batch", "8", "--latent", "7", "--g-width", "6", "--d-width", "5",
                     "--seed", seed, "--out", run_u),
             err, sizeof err);
    ck_assert_msg(rc == 0, "training failed (%d): %s", rc, err);
    snprintf(cond, sizeof cond, "%s/checkpoint.safetensors", run_c);
    snprintf(uncond, sizeof uncond, "%s/checkpoint.safetensors", run_u);
    free(px);
}

static void expect_one_line(const char *err, const char *word)
{
    ck_assert_msg(!strncmp(err, "gancl: ", 7), "stderr: %s", err);
    ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "not one line: %s", err);
    ck_assert_msg(strstr(err, word), "stderr lacks \"%s\": %s", word, err);
}

START_TEST(export_idx_and_png)
{
    make_checkpoints();
    char err[4096], prefix[512], png[512], images[600], per[16];
    int n = gt_randint(2, 9);
    snprintf(per, sizeof per, "%d", n);
    snprintf(prefix, sizeof prefix, "%s/x%d/syn", dir, n);
    snprintf(png, sizeof png, "%s/png%d/", dir, n);
    int rc = run(GT_ARGS("export", "--checkpoint", cond, "--per-class", per, "--out", prefix,
                         "--device", "cpu", "--seed", "5", "--batch", "4"),
                 err, sizeof err);
    ck_assert_msg(rc == 0, "export idx failed (%d): %s", rc, err);
    rc = run(GT_ARGS("--device", "cpu", "export", "--checkpoint", cond, "--per-class", per, "--out",
                     png, "--seed", "5"),
             err, sizeof err);
    ck_assert_msg(rc == 0, "export png failed (%d): %s", rc, err);

    gc_dataset a, b;
    snprintf(images, sizeof images, "%s-images-idx3-ubyte.gz", prefix);
    GT_OK(gc_dataset_load(images, NULL, GC_LABELS_REQUIRED, &a));
    GT_OK(gc_dataset_load(png, NULL, GC_LABELS_REQUIRED, &b));
    for (int t = 0; t < 2; t++) {
        const gc_dataset *d = t ? &b : &a;
        ck_assert_int_eq(d->n, n * K);
        ck_assert_int_eq(d->h, H);
        ck_assert_int_eq(d->w, W);
        ck_assert_int_eq(d->classes, K);
        int64_t counts[K];
        gc_dataset_class_counts(d, counts);
        for (int k = 0; k < K; k++) {
            ck_assert_int_eq(counts[k], n);
            char num[8];
            snprintf(num, sizeof num, "%d", k);
            ck_assert_str_eq(d->class_names[k], num);
        }
        for (int i = 0; i < n * K; i++)
            ck_assert_int_eq(d->labels[i], i / n); /* class by class */
    }
    /* The same seed makes the same images, whatever the layout and batch
     * (both are written class by class); and not all one image. */
    ck_assert_mem_eq(a.images, b.images, (size_t)(n * K * H * W));
    ck_assert_msg(memcmp(a.images, a.images + (n * K - 1) * H * W, H * W) != 0,
                  "first and last images are equal");

    /* sample --class 0 draws the stream the export starts with. */
    char one[600];
    snprintf(one, sizeof one, "%s/class0-%d.idx", dir, n);
    rc = run(GT_ARGS("sample", "--checkpoint", cond, "--class", "0", "--n", per, "--seed", "5",
                     "--out", one, "--device", "cpu"),
             err, sizeof err);
    ck_assert_msg(rc == 0, "sample --class failed (%d): %s", rc, err);
    gc_idx s0;
    GT_OK(gc_idx_read(one, GC_IDX_IMAGES, &s0));
    ck_assert_int_eq(s0.n, n);
    ck_assert_mem_eq(s0.data, a.images, (size_t)(n * H * W));
    gc_idx_free(&s0);
    /* Another class from the same noise is another image. */
    snprintf(one, sizeof one, "%s/class2-%d.idx", dir, n);
    rc = run(GT_ARGS("sample", "--checkpoint", cond, "--class", "2", "--n", per, "--seed", "5",
                     "--out", one, "--device", "cpu"),
             err, sizeof err);
    ck_assert_msg(rc == 0, "sample --class failed (%d): %s", rc, err);
    GT_OK(gc_idx_read(one, GC_IDX_IMAGES, &s0));
    ck_assert_msg(memcmp(s0.data, a.images, (size_t)(n * H * W)) != 0,
                  "class 2 and class 0 gave the same images");
    gc_idx_free(&s0);
    gc_dataset_free(&a);
    gc_dataset_free(&b);

    /* An existing folder is PNG without the slash, but only when empty. */
    rc = run(GT_ARGS("export", "--checkpoint", cond, "--per-class", "1", "--out", png, "--device",
                     "cpu"),
             err, sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "not empty");
    /* --format png with a prefix-like name makes a folder. */
    snprintf(png, sizeof png, "%s/fmt%d", dir, n);
    rc = run(GT_ARGS("export", "--checkpoint", cond, "--per-class", "1", "--out", png, "--format",
                     "png", "--device", "cpu"),
             err, sizeof err);
    ck_assert_msg(rc == 0, "export --format png failed (%d): %s", rc, err);
    GT_OK(gc_dataset_load(png, NULL, GC_LABELS_REQUIRED, &a));
    ck_assert_int_eq(a.n, K);
    gc_dataset_free(&a);
}
END_TEST

START_TEST(sample_cycles_classes)
{
    make_checkpoints();
    char err[4096], out[512];
    /* Without --class: image i is of class i % K, so with K images from
     * seed 7, image 1 is class 1 of that noise... which sample --class 1
     * makes as its image 1 too. */
    snprintf(out, sizeof out, "%s/cycle.idx", dir);
    int rc = run(GT_ARGS("sample", "--checkpoint", cond, "--n", "3", "--seed", "7", "--out", out,
                         "--device", "cpu"),
                 err, sizeof err);
    ck_assert_msg(rc == 0, "sample failed (%d): %s", rc, err);
    gc_idx all, one;
    GT_OK(gc_idx_read(out, GC_IDX_IMAGES, &all));
    for (int k = 0; k < K; k++) {
        char cls[8];
        snprintf(cls, sizeof cls, "%d", k);
        snprintf(out, sizeof out, "%s/one%d.idx", dir, k);
        rc = run(GT_ARGS("sample", "--checkpoint", cond, "--n", "3", "--seed", "7", "--class", cls,
                         "--out", out, "--device", "cpu"),
                 err, sizeof err);
        ck_assert_msg(rc == 0, "sample --class %d failed (%d): %s", k, rc, err);
        GT_OK(gc_idx_read(out, GC_IDX_IMAGES, &one));
        ck_assert_mem_eq(one.data + k * H * W, all.data + k * H * W, H * W);
        gc_idx_free(&one);
    }
    gc_idx_free(&all);
}
END_TEST

START_TEST(errors)
{
    make_checkpoints();
    char err[4096], out[512];
    snprintf(out, sizeof out, "%s/never", dir);
    int rc = run(GT_ARGS("export", "--checkpoint", uncond, "--per-class", "2", "--out", out,
                         "--device", "cpu"),
                 err, sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "not conditional");
    rc = run(GT_ARGS("sample", "--checkpoint", uncond, "--class", "0", "--out", "x.png"), err,
             sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "not conditional");
    rc = run(GT_ARGS("sample", "--checkpoint", cond, "--class", "3", "--out", "x.png"), err,
             sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "out of range");
    rc = run(GT_ARGS("sample", "--checkpoint", cond, "--class", "-1", "--out", "x.png"), err,
             sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "--class");
    rc = run(GT_ARGS("export", "--checkpoint", cond, "--out", out), err, sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "--per-class");
    rc = run(GT_ARGS("export", "--checkpoint", cond, "--per-class", "0", "--out", out), err,
             sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "out of range");
    rc = run(GT_ARGS("export", "--checkpoint", cond, "--per-class", "2", "--out", "a.gz"), err,
             sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "PREFIX");
    rc = run(GT_ARGS("export", "--checkpoint", cond, "--per-class", "2", "--out", "d/", "--format",
                     "idx"),
             err, sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "--format idx");
    rc = run(GT_ARGS("export", "--checkpoint", cond, "--per-class", "2", "--out", out, "--format",
                     "jpg"),
             err, sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, "jpg");
    snprintf(out, sizeof out, "%s/missing.safetensors", dir);
    rc = run(GT_ARGS("export", "--checkpoint", out, "--per-class", "2", "--out", "p"), err,
             sizeof err);
    ck_assert_int_eq(rc, 2);
    expect_one_line(err, out);
    rc = run(GT_ARGS("export", "--help"), err, sizeof err);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(gt_file_size(dir, "never-images-idx3-ubyte.gz"), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("export");
    TCase *tc = tcase_create("export");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, export_idx_and_png);
    tcase_add_test(tc, sample_cycles_classes);
    tcase_add_test(tc, errors);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

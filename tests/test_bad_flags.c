/* tests/test_bad_flags.c - the gancl binary given bad flags: each case runs
 * it and expects its exit code and exactly one line "gancl: ..." on stderr
 * naming the flag and what is wrong (never a signal, a sanitizer report or
 * a second line); then the PNG folders of `gancl fid-stats`: a corrupt file
 * among good ones, none usable, mixed sizes.
 *
 * Every case runs on the cpu backend with tiny data written here, and stops
 * at the flag or before the first step.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gancl/io.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_support.h"
#include "util/fs.h"

static char dir[256]; /* shared by every case: the data and the files below */

#define MAX_ARGS 20
#define MAX_WANT 3

typedef struct bad_case {
    int code;
    const char *want[MAX_WANT]; /* substrings of the one line */
    /* gancl's arguments; "@name" is dir/name ("@" alone: dir itself). */
    const char *args[MAX_ARGS];
} bad_case;

/* clang-format off */
static const bad_case cases[] = {
    /* global options and the command */
    {2, {"--device", "needs a value"}, {"--device"}},
    {2, {"--device", "'abc' is not a device"}, {"--device", "abc", "list-devices"}},
    {2, {"--device", "empty"}, {"--device=", "train"}},
    {2, {"--device", "'99'"}, {"--device", "99", "train", "--data", "@data.idx", "--steps", "1",
                               "--out", "@run-99"}},
    {2, {"--frobnicate", "unknown option"}, {"--frobnicate", "train"}},
    {2, {"'frobnicate'", "unknown command"}, {"frobnicate"}},
    /* list-devices */
    {2, {"'--jsn'", "unknown"}, {"list-devices", "--jsn"}},
    {2, {"--json", "takes no value"}, {"list-devices", "--json=yes"}},
    {2, {"'extra'", "unexpected argument"}, {"list-devices", "extra"}},
    /* train: numbers */
    {2, {"--batch", "'64x' is not an integer"}, {"train", "--batch", "64x"}},
    {2, {"--batch", "0 is out of range"}, {"train", "--batch", "0"}},
    {2, {"--batch", "not an integer"}, {"train", "--batch", "99999999999999999999"}},
    {2, {"--lr", "'nan' is not a finite number"}, {"train", "--lr", "nan"}},
    {2, {"--lr", "'inf' is not a finite number"}, {"train", "--lr", "inf"}},
    {2, {"--lr", "not a positive single-precision number"}, {"train", "--lr", "0"}},
    {2, {"--lr", "not a positive single-precision number"}, {"train", "--lr", "2e-104"}},
    {2, {"--beta2", "must be below 1"}, {"train", "--beta2", "0.9999999999"}},
    {2, {"--epochs", "-3 is out of range"}, {"train", "--epochs", "-3"}},
    {2, {"--steps", "needs a value"}, {"train", "--steps"}},
    {2, {"--check-every", "-1 is out of range"}, {"train", "--check-every", "-1"}},
    {2, {"--check-every", "'10k' is not an integer"}, {"train", "--check-every", "10k"}},
    {2, {"--g-width", "odd"}, {"train", "--g-width", "7"}},
    {2, {"--fid-dims", "not one of"}, {"train", "--fid-dims", "100"}},
    {2, {"--model", "'gpt'"}, {"train", "--model", "gpt"}},
    {2, {"--help", "takes no value"}, {"train", "--help=1"}},
    {2, {"'-x'", "unknown option"}, {"train", "-x"}},
    {2, {"'stray'", "unexpected argument"}, {"train", "stray"}},
    {2, {"--device", "'1x' is not a device"}, {"train", "--device", "1x"}},
    /* train: paths and the data */
    {2, {"--data", "empty path"}, {"train", "--data", ""}},
    {2, {"missing.idx"}, {"train", "--data", "@missing.idx", "--out", "@run-missing"}},
    {2, {"300", "batch"}, {"train", "--data", "@data.idx", "--batch", "300", "--steps", "1",
                           "--out", "@run-batch"}},
    {2, {"--out", "exists and is not a folder"}, {"train", "--data", "@data.idx", "--out",
                                                  "@afile"}},
    {2, {"afile", "not a folder"}, {"train", "--data", "@data.idx", "--steps", "1", "--out",
                                    "@afile/run"}},
    {2, {"/proc/gancl-bad-flags", "cannot create"}, {"train", "--data", "@data.idx", "--steps",
                                                     "1", "--out", "/proc/gancl-bad-flags"}},
    /* train: conflicts */
    {2, {"--resume", "drop --out"}, {"train", "--resume", "@", "--out", "@run-both"}},
    {2, {"--batch", "cannot be combined with --resume"}, {"train", "--resume", "@", "--batch",
                                                          "32"}},
    {2, {"--fid-n", "needs --fid-every"}, {"train", "--data", "@data.idx", "--fid-n", "100",
                                           "--out", "@run-fid"}},
    /* sample */
    {2, {"--checkpoint", "required"}, {"sample", "--out", "@x.png"}},
    {2, {"--out", "must end in"}, {"sample", "--checkpoint", "@missing.st", "--out", "@x.jpg"}},
    {2, {"missing.st"}, {"sample", "--checkpoint", "@missing.st", "--out", "@x.png"}},
    {2, {"--n", "'1e3' is not an integer"}, {"sample", "--n", "1e3"}},
    {2, {"--seed", "-1 is out of range"}, {"sample", "--seed", "-1"}},
    /* fid and fid-stats */
    {2, {"fid", "expected 2 inputs, got 1"}, {"fid", "@afile"}},
    {2, {"fid", "expected 2 inputs, got 3"}, {"fid", "a", "b", "c"}},
    {2, {"--out", "belongs to fid-stats"}, {"fid", "@afile", "@afile", "--out", "@s.st"}},
    {2, {"--out", "required"}, {"fid-stats", "@afile"}},
    {2, {"--out", "is a folder"}, {"fid-stats", "@afile", "--out", "@"}},
    {2, {"--json", "belongs to fid"}, {"fid-stats", "--json", "@afile", "--out", "@s.st"}},
    {2, {"--dims", "not one of"}, {"fid", "--dims", "100", "a", "b"}},
    {2, {"--batch", "0 is out of range"}, {"fid", "--batch", "0", "a", "b"}},
    {2, {"--n", "1 is out of range"}, {"fid", "--n", "1", "a", "b"}},
    {2, {"--weights", "empty path"}, {"fid", "--weights=", "a", "b"}},
    {2, {"missing-a", "no such file"}, {"fid", "@missing-a", "@missing-b"}},
    {2, {"afile", "not an IDX image file"}, {"fid", "@afile", "@afile"}},
    /* tune */
    {2, {"--reset", "--quick"}, {"tune", "--reset", "--quick"}},
    {2, {"'--devce'", "unknown"}, {"tune", "--devce", "0"}},
    {2, {"cpu", "nothing to tune"}, {"tune"}},
    /* bench (its flags are src/cli/cmd_bench.c's) */
    {2, {"'nope'", "unknown benchmark"}, {"bench", "nope"}},
    {2, {"'--bogus'", "unknown or ambiguous option"}, {"bench", "train", "--bogus"}},
    {2, {"'--bogus'", "unknown or ambiguous option"}, {"bench", "ops", "--bogus"}},
    {2, {"--batch", "needs a value"}, {"bench", "ops", "--batch"}},
    {2, {"--profile", "takes no value"}, {"bench", "fid", "--profile=1"}},
    /* train: colour data and the remedies against mode collapse (issue 8) */
    {2, {"--size", "not a multiple of 4"}, {"train", "--size", "30"}},
    {2, {"--size", "4 is out of range"}, {"train", "--size", "4"}},
    {2, {"--size", "'64px' is not an integer"}, {"train", "--size", "64px"}},
    {2, {"--channels", "'2' is not 1"}, {"train", "--channels", "2"}},
    {2, {"--channels", "'rgb'"}, {"train", "--channels", "rgb"}},
    {2, {"--background", "'gray' is not white or black"}, {"train", "--background", "gray"}},
    {2, {"--data-cache", "empty path"}, {"train", "--data-cache="}},
    {2, {"--data-cache", "is a folder"}, {"train", "--data-cache", "@"}},
    {2, {"--ngf", "0 is out of range"}, {"train", "--ngf", "0"}},
    {2, {"--ngf", "--g-width", "not both"}, {"train", "--ngf", "64", "--g-width", "128"}},
    {2, {"--ngf", "--g-width", "not both"}, {"train", "--g-width", "128", "--ngf", "64"}},
    {2, {"--ndf", "--d-width", "not both"}, {"train", "--ndf", "8", "--d-width", "8"}},
    {2, {"--ndf", "'x' is not an integer"}, {"train", "--ndf", "x"}},
    {2, {"--mbstd", "-1 is out of range"}, {"train", "--mbstd", "-1"}},
    {2, {"--mbstd", "2000 is out of range"}, {"train", "--mbstd", "2000"}},
    {2, {"--mbstd", "needs a value"}, {"train", "--mbstd"}},
    {2, {"--loss", "'wgan' is not a loss"}, {"train", "--loss", "wgan"}},
    {2, {"--diffaug", "'flip' is not a policy"}, {"train", "--diffaug", "color,flip"}},
    {2, {"--diffaug", "'' is not a policy"}, {"train", "--diffaug", "color,"}},
    {2, {"--diffaug", "'' is not a policy"}, {"train", "--diffaug", ""}},
    {2, {"--ema", "must be below 1"}, {"train", "--ema", "1"}},
    {2, {"--ema", "must be below 1"}, {"train", "--ema", "0.99999999999"}},
    {2, {"--ema", "out of range"}, {"train", "--ema", "-0.5"}},
    {2, {"--ema", "'nan' is not a finite number"}, {"train", "--ema", "nan"}},
    {2, {"--ema", "0 in single precision"}, {"train", "--ema", "1e-60"}},
    {2, {"--spectral-norm", "takes no value"}, {"train", "--spectral-norm=1"}},
    {2, {"--remedies", "takes no value"}, {"train", "--remedies=yes"}},
    {2, {"--spectral-norm", "--model dcgan"}, {"train", "--model", "seed", "--spectral-norm"}},
    {2, {"--mbstd", "--model dcgan"}, {"train", "--mbstd", "4", "--model", "seed"}},
    {2, {"--remedies", "--model dcgan"}, {"train", "--remedies", "--model", "seed"}},
    {2, {"--size", "cannot be combined with --resume"}, {"train", "--resume", "@", "--size",
                                                         "64"}},
    {2, {"--remedies", "cannot be combined with --resume"}, {"train", "--resume", "@",
                                                             "--remedies"}},
    {2, {"--ngf", "8192 channels", "smaller --ngf"}, {"train", "--data", "@data.idx", "--size",
                                                     "512", "--ngf", "128", "--steps", "1",
                                                     "--out", "@run-ngf"}},
};
/* clang-format on */
#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

typedef gt_result result;

/* No accidental Inception weights or cache from the user's home. */
static const char *const env[] = {"GANCL_FID_WEIGHTS=/nonexistent/gancl-weights.safetensors",
                                  "GANCL_DEVICE=cpu", NULL};

static result run(const char *const *args)
{
    return gt_run_capture(GANCL_BINARY, args, env, dir);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(test_bad_flag)
{
    const bad_case *c = &cases[_i];
    char buf[MAX_ARGS][600], cmd[2048] = "gancl";
    const char *args[MAX_ARGS + 1];
    int n = 0;
    for (; n < MAX_ARGS && c->args[n]; n++) {
        const char *a = c->args[n];
        if (a[0] == '@')
            snprintf(buf[n], sizeof buf[n], "%s%s%s", dir, a[1] ? "/" : "", a + 1);
        else
            snprintf(buf[n], sizeof buf[n], "%s", a);
        args[n] = buf[n];
        size_t len = strlen(cmd);
        /* cmd only labels failures: a long one is cut short. */
        if (snprintf(cmd + len, sizeof cmd - len, " '%s'", args[n]) < 0) cmd[len] = '\0';
    }
    args[n] = NULL;
    result r = run(args);
    size_t len = strlen(r.err);
    ck_assert_msg(r.code == c->code, "case %d, %s: exit %d, expected %d (stderr: %s)", _i, cmd,
                  r.code, c->code, r.err);
    ck_assert_msg(len > 7 && !strncmp(r.err, "gancl: ", 7) && count_lines(r.err) == 1 &&
                      r.err[len - 1] == '\n',
                  "case %d, %s: stderr is not one line 'gancl: ...': '%s'", _i, cmd, r.err);
    for (int k = 0; k < MAX_WANT && c->want[k]; k++)
        ck_assert_msg(strstr(r.err, c->want[k]), "case %d, %s: '%s' does not mention '%s'", _i, cmd,
                      r.err, c->want[k]);
    gt_result_free(&r);
}
END_TEST

/* ---- PNG folders -------------------------------------------------------------------- */

static void write_png(const char *folder, const char *name, int w, int h)
{
    uint8_t *px = malloc((size_t)w * h);
    ck_assert_ptr_nonnull(px);
    for (int i = 0; i < w * h; i++)
        px[i] = (uint8_t)gt_randint(0, 255);
    GT_OK(gc_png_write_gray(gt_path(folder, name), px, w, h));
    free(px);
}

/* A fresh folder below dir. */
static const char *folder(const char *name)
{
    static char path[4][512];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    gt_rmtree(p);
    ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s", p);
    return p;
}

/* Inception on the reference backend takes seconds an image, so the run
 * stops at the missing weights, which come after the folder is read. */
/* A new run that fails before it starts leaves no empty run folder. */
START_TEST(test_failed_run_leaves_no_folder)
{
    const char *out = gt_path(dir, "never-started");
    result r = run(GT_ARGS("train", "--data", gt_path(dir, "missing.idx"), "--out", out));
    ck_assert_int_eq(r.code, 2);
    ck_assert_msg(!gc_fs_is_dir(out), "%s was left behind", out);
    gt_result_free(&r);
}
END_TEST

START_TEST(test_png_folder_corrupt_skipped)
{
    const char *f = folder("pngs-corrupt");
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "good-%d.png", i);
        write_png(f, name, 9, 7);
    }
    /* Not a PNG at all, and a PNG cut short after its header. */
    gt_write_file(gt_path(f, "bad-1.png"), "garbage", 7);
    size_t n;
    char *good = gt_read_file(gt_path(f, "good-0.png"), &n);
    gt_write_file(gt_path(f, "bad-2.png"), good, n / 2);
    free(good);
    result r = run(GT_ARGS("fid-stats", f, "--out", gt_path(dir, "corrupt.st")));
    ck_assert_msg(r.code == 2, "exit %d: %s", r.code, r.err);
    ck_assert_msg(count_lines(r.err) == 2, "stderr: %s", r.err);
    /* One warning with the count and the names ... */
    ck_assert_msg(!strncmp(r.err, "gancl: warning: ", 16) &&
                      strstr(r.err, "skipped 2 unreadable") &&
                      strstr(r.err, "(bad-1.png, bad-2.png;") && strstr(r.err, "the other 3\n"),
                  "stderr: %s", r.err);
    /* ... and it went on to look for the weights. */
    ck_assert_msg(strstr(strchr(r.err, '\n'), "gancl: no FID Inception weights"), "stderr: %s",
                  r.err);
    gt_result_free(&r);
}
END_TEST

START_TEST(test_png_folder_none_usable)
{
    const char *f = folder("pngs-none");
    gt_write_file(gt_path(f, "a.png"), "not a png", 9);
    gt_write_file(gt_path(f, "b.png"), "", 0);
    result r = run(GT_ARGS("fid-stats", f, "--out", gt_path(dir, "none.st")));
    ck_assert_msg(r.code == 2, "exit %d: %s", r.code, r.err);
    ck_assert_msg(!strncmp(r.err, "gancl: ", 7) && count_lines(r.err) == 1 &&
                      strstr(r.err, "none of its 2 .png files"),
                  "stderr: %s", r.err);
    gt_result_free(&r);

    const char *e = folder("pngs-empty");
    r = run(GT_ARGS("fid", e, e));
    ck_assert_msg(r.code == 2, "exit %d: %s", r.code, r.err);
    ck_assert_msg(count_lines(r.err) == 1 && strstr(r.err, "no .png images"), "stderr: %s", r.err);
    gt_result_free(&r);
}
END_TEST

/* Mixed sizes are an error naming the first file that differs (fid --help
 * says so): resizing would change the FID against pytorch-fid's. */
START_TEST(test_png_folder_mixed_sizes)
{
    const char *f = folder("pngs-mixed");
    write_png(f, "a.png", 8, 8);
    write_png(f, "b.png", 8, 8);
    write_png(f, "c.png", 9, 8);
    write_png(f, "d.png", 7, 8);
    result r = run(GT_ARGS("fid-stats", f, "--out", gt_path(dir, "mixed.st")));
    ck_assert_msg(r.code == 2, "exit %d: %s", r.code, r.err);
    ck_assert_msg(!strncmp(r.err, "gancl: ", 7) && count_lines(r.err) == 1 &&
                      strstr(r.err, "c.png is 9x8") && strstr(r.err, "a.png is 8x8") &&
                      strstr(r.err, "one size"),
                  "stderr: %s", r.err);
    gt_result_free(&r);
    r = run(GT_ARGS("fid", "--help"));
    ck_assert_msg(r.code == 0 && strstr(r.out, "must have one"), "%s", r.out);
    gt_result_free(&r);
}
END_TEST

/* Once for the suite: the data, a plain file, and the folder they sit in. */
static void setup_once(void)
{
    if (dir[0]) return;
    gt_tmpdir_at_exit(dir, sizeof dir, "bad-flags");
    uint8_t px[16 * 8 * 8];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 37);
    gc_idx d = {.kind = GC_IDX_IMAGES, .data = px, .n = 16, .h = 8, .w = 8};
    GT_OK(gc_idx_write(gt_path(dir, "data.idx"), &d, 0));
    gt_write_file(gt_path(dir, "afile"), "x", 1);
}

int main(void)
{
    Suite *s = suite_create("bad_flags");
    TCase *tc = tcase_create("flags");
    tcase_add_unchecked_fixture(tc, setup_once, NULL);
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_bad_flag, 0, N_CASES);
    tcase_add_test(tc, test_failed_run_leaves_no_folder);
    suite_add_tcase(s, tc);
    TCase *png = tcase_create("png_folders");
    tcase_add_unchecked_fixture(png, setup_once, NULL);
    tcase_set_timeout(png, 600);
    tcase_add_test(png, test_png_folder_corrupt_skipped);
    tcase_add_test(png, test_png_folder_none_usable);
    tcase_add_test(png, test_png_folder_mixed_sizes);
    suite_add_tcase(s, png);
    return gt_run_suite(s);
}

/* tests/test_divergence.c - the divergence guard: the NaN/Inf flag op on
 * both backends, the trainer stopping on a diverged loss or parameter
 * with a message naming the step (a learning rate of 1e30, a NaN written
 * into a parameter), and `gancl train` exiting 3 with the checkpoint it
 * wrote before left exactly as it was (GANCL_FAULT=nan:STEP). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_fixtures.h"
#include "test_support.h"

#define H        8
#define W        12
#define N_IMAGES 50 /* batch 8: 6 steps per epoch */

static char tmp_dir[64], data_path[128];
static uint8_t images[N_IMAGES * H * W];

static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "divergence");
    snprintf(data_path, sizeof data_path, "%s/noise.idx", tmp_dir);
    gt_write_noise_idx(data_path, images, N_IMAGES, H, W, 0);
}

/* ---- the op ------------------------------------------------------------------- */

static float read_flag(const gc_tensor *flag)
{
    float v;
    GT_OK(gc_tensor_read(flag, &v));
    return v;
}

static void check_flag_op(gc_backend *be)
{
    int64_t n = gt_randint(1, 5000) | 1;
    float *host = gt_rand_array(n, -1e30f, 1e30f);
    /* A view at an odd offset into a bigger buffer: elements around it
     * must not count. */
    int64_t pad = gt_randint(1, 9);
    float *big = malloc((size_t)(n + 2 * pad) * sizeof(float));
    for (int64_t i = 0; i < n + 2 * pad; i++)
        big[i] = NAN;
    memcpy(big + pad, host, (size_t)n * sizeof(float));
    gc_tensor all = gt_tensor(be, GT_DIMS(n + 2 * pad), big);
    gc_tensor x = gc_tensor_1d(be, all.buf, all.off + (size_t)pad, n);
    float zero = 0;
    gc_tensor flag = gt_tensor(be, GT_DIMS(1), &zero);
    GT_OK(gc_backend_nonfinite_flag(&flag, &x, 7.0f));
    ck_assert_msg(read_flag(&flag) == 0.0f, "%s: finite values flagged (n %lld)",
                  gc_backend_name(be), (long long)n);
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        int64_t at = gt_randint(0, (int)n - 1);
        GT_OK(gc_fill(&flag, 0));
        gc_tensor one = gc_tensor_1d(be, all.buf, x.off + (size_t)at, 1);
        GT_OK(gc_tensor_write(&one, &bad[k]));
        GT_OK(gc_backend_nonfinite_flag(&flag, &x, 5.0f));
        ck_assert_msg(read_flag(&flag) == 5.0f, "%s: %g at %lld of %lld not flagged",
                      gc_backend_name(be), bad[k], (long long)at, (long long)n);
        /* A set flag keeps the value of the first check that set it. */
        GT_OK(gc_backend_nonfinite_flag(&flag, &x, 9.0f));
        ck_assert(read_flag(&flag) == 5.0f);
        GT_OK(gc_tensor_write(&one, &host[at]));
    }
    gt_free(&flag);
    gt_free(&all);
    free(big);
    free(host);
}

START_TEST(test_flag_op)
{
    for (int rep = 0; rep < 3; rep++)
        check_flag_op(gt_cpu());
    if (!gt_cl()) {
        printf("test_divergence: OpenCL part skipped: no OpenCL device on this machine\n");
        return;
    }
    for (int rep = 0; rep < 3; rep++)
        check_flag_op(gt_cl());
}
END_TEST

/* ---- the trainer ---------------------------------------------------------------- */

static gc_train_config tiny_config(void)
{
    return gt_tiny_train_config(GC_MODEL_DCGAN, H, W);
}

/* Writes NaN into element i of a network's parameters. */
static void poison(const gc_seq *s, int64_t i)
{
    gc_tensor p = gc_seq_params(s);
    gc_tensor one = gc_tensor_1d(p.be, p.buf, p.off + (size_t)i, 1);
    float nan = NAN;
    GT_OK(gc_tensor_write(&one, &nan));
}

/* A learning rate of 1e30: the losses go NaN or Inf within a few steps
 * and reading them says so, naming the step and a lower learning rate. */
static void check_huge_lr(gc_backend *be)
{
    setup();
    gc_train_config cfg = tiny_config();
    cfg.lr = 1e30f;
    cfg.check_every = 1;
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, be, &cfg, images, N_IMAGES, H, W));
    gc_status s = GC_OK;
    gc_train_stats st;
    int steps = 0;
    while (s == GC_OK && steps < 20) {
        GT_OK(gc_trainer_step(&tr));
        steps++;
        s = gc_trainer_read_stats(&tr, &st);
    }
    ck_assert_msg(s == GC_ERR_DIVERGED, "%s: lr 1e30 ran %d steps without divergence (%s)",
                  gc_backend_name(be), steps, gc_status_name(s));
    char want[64];
    snprintf(want, sizeof want, "training diverged at step %d:", steps);
    ck_assert_msg(strstr(gc_last_error(), want), "%s", gc_last_error());
    ck_assert_msg(strstr(gc_last_error(), "try a lower learning rate than 1e+30"), "%s",
                  gc_last_error());
    ck_assert_int_eq(gc_trainer_check(&tr), GC_ERR_DIVERGED);
    gc_trainer_free(&tr);
}

START_TEST(test_huge_lr)
{
    check_huge_lr(gt_cpu());
    if (gt_cl()) check_huge_lr(gt_cl());
}
END_TEST

/* A NaN in a parameter: gc_trainer_check finds it at once; the periodic
 * check (every 3 steps) reports the step of the check that found it. */
static void check_poisoned(gc_backend *be)
{
    setup();
    gc_train_config cfg = tiny_config();
    cfg.check_every = 3;
    gc_trainer tr;
    gc_train_stats st;
    GT_OK(gc_trainer_init(&tr, be, &cfg, images, N_IMAGES, H, W));
    for (int i = 0; i < 4; i++)
        GT_OK(gc_trainer_step(&tr));
    GT_OK(gc_trainer_check(&tr));
    GT_OK(gc_trainer_read_stats(&tr, &st));
    ck_assert_int_eq(tr.clean_step, 4);

    /* D's last parameter, read by nothing until D's next forward pass. */
    poison(&tr.gan.d, tr.gan.d.n_params - 1);
    ck_assert_int_eq(gc_trainer_check(&tr), GC_ERR_DIVERGED);
    ck_assert_msg(strstr(gc_last_error(), "diverged at step 4: a parameter of D"), "%s",
                  gc_last_error());
    ck_assert_msg(strstr(gc_last_error(), "(all finite at step 4)"), "%s", gc_last_error());
    gc_trainer_free(&tr);

    /* G this time, through the periodic check: steps 5 and 6 run, the check
     * of step 6 flags it; reading the stats at step 8 still names step 6. */
    GT_OK(gc_trainer_init(&tr, be, &cfg, images, N_IMAGES, H, W));
    for (int i = 0; i < 4; i++)
        GT_OK(gc_trainer_step(&tr));
    GT_OK(gc_trainer_read_stats(&tr, &st));
    poison(&tr.gan.g, gt_randint(0, (int)tr.gan.g.n_params - 1));
    for (int i = 0; i < 4; i++)
        GT_OK(gc_trainer_step(&tr));
    ck_assert_int_eq(gc_trainer_read_stats(&tr, &st), GC_ERR_DIVERGED);
    const char *msg = gc_last_error();
    ck_assert_msg(strstr(msg, "diverged at step 6: a parameter of G"), "%s", msg);
    gc_trainer_free(&tr);
}

START_TEST(test_poisoned)
{
    check_poisoned(gt_cpu());
    if (gt_cl()) check_poisoned(gt_cl());
}
END_TEST

/* ---- gancl train --------------------------------------------------------------------- */

static int run(const char *fault, const char *const *args, char *err, size_t n)
{
    char env0[64];
    snprintf(env0, sizeof env0, "GANCL_FAULT=%s", fault ? fault : "");
    const char *env[] = {env0, NULL};
    gt_io io = {
        .env = env, .out_path = gt_path(tmp_dir, "stdout"), .err_path = gt_path(tmp_dir, "stderr")};
    int rc = gt_run(GANCL_BINARY, args, &io);
    char *text = gt_read_file(gt_path(tmp_dir, "stderr"), NULL);
    snprintf(err, n, "%s", text);
    free(text);
    return rc;
}

static int64_t checkpoint_step(const char *ckpt)
{
    gc_st_file *f;
    GT_OK(gc_st_load(ckpt, 0, &f));
    int64_t step = atoll(gc_st_metadata(f, "step"));
    gc_st_free(f);
    return step;
}

static int all_finite(const char *ckpt)
{
    gc_train_config cfg;
    GT_OK(gc_checkpoint_config(ckpt, &cfg));
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, gt_cpu(), &cfg, images, N_IMAGES, H, W));
    GT_OK(gc_trainer_load(&tr, ckpt));
    gc_status s = gc_trainer_check(&tr);
    gc_trainer_free(&tr);
    return s == GC_OK;
}

#define TRAIN                                                                                      \
    "train", "--data", data_path, "--batch", "8", "--g-width", "4", "--d-width", "3", "--latent",  \
        "5", "--seed", "9"

/* A run poisoned at step 9 (after the epoch-end checkpoint of step 6),
 * checked every 2 steps: exit 3, one line naming step 10 and the kept
 * checkpoint, which loads, holds step 6 and nothing but finite numbers.
 * A resumed run poisoned at step 8 leaves that checkpoint byte for byte
 * as it was; a run poisoned at step 6, before its first checkpoint, writes
 * none. */
static void check_cli(const char *device)
{
    setup();
    char b[160], c[160], pb[200], err[4096];
    snprintf(b, sizeof b, "%s/cli-%s-b", tmp_dir, device);
    snprintf(c, sizeof c, "%s/cli-%s-c", tmp_dir, device);
    snprintf(pb, sizeof pb, "%s/checkpoint.safetensors", b);
    int rc =
        run("nan:9",
            GT_ARGS("--device", device, TRAIN, "--steps", "30", "--check-every", "2", "--out", b),
            err, sizeof err);
    ck_assert_msg(rc == 3, "exit %d after divergence (want 3): %s", rc, err);
    ck_assert_msg(strstr(err, "diverged at step 10: a parameter of G"), "%s", err);
    ck_assert_msg(strstr(err, "lower learning rate"), "%s", err);
    ck_assert_msg(strstr(err, "checkpoint of step 6 is kept"), "%s", err);
    ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "more than one line: %s", err);
    ck_assert_int_eq(checkpoint_step(pb), 6);
    ck_assert(all_finite(pb));

    size_t na, nb;
    unsigned char *x = gt_read_file(pb, &na);
    rc = run(
        "nan:8",
        GT_ARGS("--device", device, "train", "--resume", b, "--steps", "30", "--check-every", "2"),
        err, sizeof err);
    ck_assert_msg(rc == 3, "resumed: exit %d (want 3): %s", rc, err);
    ck_assert_msg(strstr(err, "diverged at step 8: a parameter of G"), "%s", err);
    unsigned char *y = gt_read_file(pb, &nb);
    ck_assert_msg(na == nb && !memcmp(x, y, na), "a diverged resumed run changed the checkpoint");
    free(x);
    free(y);

    rc = run("nan:6", GT_ARGS("--device", device, TRAIN, "--steps", "30", "--out", c), err,
             sizeof err);
    ck_assert_msg(rc == 3, "exit %d (want 3): %s", rc, err);
    ck_assert_msg(strstr(err, "diverged at step 6:") && strstr(err, "no checkpoint was written"),
                  "%s", err);
    ck_assert_int_eq(gt_file_size(c, "checkpoint.safetensors"), -1);
}

START_TEST(test_cli_cpu)
{
    check_cli("cpu");
}
END_TEST

START_TEST(test_cli_opencl)
{
    if (!gt_cl()) {
        const char *req = getenv("GANCL_REQUIRE_OPENCL");
        ck_assert_msg(!(req && !strcmp(req, "1")), "no OpenCL device, but GANCL_REQUIRE_OPENCL=1");
        printf("test_divergence: OpenCL part skipped: no OpenCL device on this machine\n");
        return;
    }
    check_cli("0");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("divergence");
    TCase *tc = tcase_create("divergence");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_flag_op);
    tcase_add_test(tc, test_huge_lr);
    tcase_add_test(tc, test_poisoned);
    tcase_add_test(tc, test_cli_cpu);
    tcase_add_test(tc, test_cli_opencl);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

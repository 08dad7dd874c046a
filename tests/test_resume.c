/* tests/test_resume.c - checkpoints continue a run exactly: N steps, save,
 * load into a fresh trainer, M more steps equals N+M steps in one go (bit
 * for bit on the CPU backend, to float tolerance on OpenCL), through the
 * library and through `gancl train --resume`; SIGINT and SIGTERM stop a run
 * with a checkpoint and the documented exit codes. */
#define _XOPEN_SOURCE 700 /* kill */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_fixtures.h"
#include "test_support.h"

#define H        8
#define W        12
#define N_IMAGES 50

static char tmp_dir[64];
static char data_path[128];
static uint8_t images[N_IMAGES * H * W];

static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "resume");
    snprintf(data_path, sizeof data_path, "%s/noise.idx.gz", tmp_dir);
    gt_write_noise_idx(data_path, images, N_IMAGES, H, W, 1);
}

/* 50 images, batch 8: 6 steps per epoch (2 images dropped each epoch). */
static gc_train_config tiny_config(gc_model_kind kind)
{
    return gt_tiny_train_config(kind, H, W);
}

static float *read_all(const gc_seq *s, int64_t *n)
{
    gc_tensor t[4] = {gc_seq_params(s), gc_seq_adam_m(s), gc_seq_adam_v(s), gc_seq_state(s)};
    *n = 3 * s->n_params + s->n_state;
    float *h = malloc((size_t)*n * sizeof(float)), *p = h;
    for (int k = 0; k < 4; k++) {
        if (!t[k].buf) continue;
        GT_OK(gc_tensor_read(&t[k], p));
        p += gc_tensor_numel(&t[k]);
    }
    return h;
}

/* Everything a run carries: parameters, Adam moments, running statistics
 * of both networks, and the host state. */
static void compare_trainers(const gc_trainer *a, const gc_trainer *b, double tol, const char *what)
{
    ck_assert_msg(!memcmp(&a->st, &b->st, sizeof a->st), "%s: run state differs", what);
    const gc_seq *sa[2] = {&a->gan.g, &a->gan.d}, *sb[2] = {&b->gan.g, &b->gan.d};
    for (int i = 0; i < 2; i++) {
        int64_t na, nb;
        float *x = read_all(sa[i], &na), *y = read_all(sb[i], &nb);
        ck_assert_int_eq(na, nb);
        if (tol == 0)
            ck_assert_msg(!memcmp(x, y, (size_t)na * sizeof(float)),
                          "%s: %s differs after resuming", what, i ? "D" : "G");
        else
            gt_assert_close(y, x, na, tol, what);
        free(x);
        free(y);
    }
}

/* N steps, checkpoint, a fresh trainer loads it and runs M more: the same
 * as N + M steps.  N stops mid-epoch; M crosses epoch ends. */
static void check_resume(gc_backend *be, gc_model_kind kind, double tol)
{
    setup();
    gc_train_config cfg = tiny_config(kind);
    int n = 9, m = 8;
    char ckpt[160];
    snprintf(ckpt, sizeof ckpt, "%s/lib-%s.safetensors", tmp_dir, gc_model_name(kind));
    gc_trainer whole, first, second;
    GT_OK(gc_trainer_init(&whole, be, &cfg, images, N_IMAGES, H, W));
    for (int i = 0; i < n + m; i++)
        GT_OK(gc_trainer_step(&whole));

    GT_OK(gc_trainer_init(&first, be, &cfg, images, N_IMAGES, H, W));
    for (int i = 0; i < n; i++)
        GT_OK(gc_trainer_step(&first));
    GT_OK(gc_trainer_save(&first, ckpt));
    gc_trainer_free(&first);

    gc_train_config saved;
    GT_OK(gc_checkpoint_config(ckpt, &saved));
    ck_assert(saved.seed == cfg.seed && saved.batch == cfg.batch && saved.lr == cfg.lr &&
              !memcmp(&saved.model, &whole.cfg.model, sizeof cfg.model));
    saved.seed ^= 1; /* the checkpoint's streams, not the config's seed, must drive the rest */
    GT_OK(gc_trainer_init(&second, be, &saved, images, N_IMAGES, H, W));
    GT_OK(gc_trainer_load(&second, ckpt));
    ck_assert_int_eq(second.st.step, n);
    for (int i = 0; i < m; i++)
        GT_OK(gc_trainer_step(&second));
    char what[128];
    snprintf(what, sizeof what, "%s on %s: %d + %d steps vs %d", gc_model_name(kind),
             gc_backend_name(be), n, m, n + m);
    compare_trainers(&whole, &second, tol, what);
    gc_trainer_free(&whole);
    gc_trainer_free(&second);
}

START_TEST(test_resume_exact_cpu)
{
    check_resume(gt_cpu(), GC_MODEL_SEED, 0);
    check_resume(gt_cpu(), GC_MODEL_DCGAN, 0);
}
END_TEST

START_TEST(test_resume_cl)
{
    if (!gt_cl()) {
        printf("test_resume: OpenCL part skipped: no OpenCL device on this machine\n");
        return;
    }
    /* A device may reduce in a different order from one launch to the next;
     * whatever it does, the checkpoint itself carries every bit. */
    check_resume(gt_cl(), GC_MODEL_SEED, 1e-5);
    check_resume(gt_cl(), GC_MODEL_DCGAN, 1e-5);
}
END_TEST

/* A checkpoint of another model's shape is refused with a message. */
START_TEST(test_resume_mismatch)
{
    setup();
    gc_train_config cfg = tiny_config(GC_MODEL_DCGAN);
    char ckpt[160];
    snprintf(ckpt, sizeof ckpt, "%s/mismatch.safetensors", tmp_dir);
    gc_trainer a, b;
    GT_OK(gc_trainer_init(&a, gt_cpu(), &cfg, images, N_IMAGES, H, W));
    GT_OK(gc_trainer_save(&a, ckpt));
    cfg.model.g_width += 2;
    GT_OK(gc_trainer_init(&b, gt_cpu(), &cfg, images, N_IMAGES, H, W));
    ck_assert_int_eq(gc_trainer_load(&b, ckpt), GC_ERR_FORMAT);
    ck_assert_msg(strstr(gc_last_error(), "G.0.weight"), "%s", gc_last_error());
    gc_trainer_free(&a);
    gc_trainer_free(&b);
    ck_assert_int_eq(gc_checkpoint_config(data_path, &cfg), GC_ERR_FORMAT);
}
END_TEST

/* ---- through the command line ---------------------------------------------- */

/* Starts gancl with args; stdout goes to a pipe when out_fd is non-NULL,
 * else both streams to files in tmp_dir. */
static pid_t spawn(const char *const *args, int *out_fd)
{
    gt_io io = {.out_path = gt_path(tmp_dir, "stdout"),
                .err_path = gt_path(tmp_dir, "stderr"),
                .out_fd = out_fd};
    return gt_spawn(GANCL_BINARY, args, &io);
}

static void read_stderr(char *buf, size_t n)
{
    char *err = gt_read_file(gt_path(tmp_dir, "stderr"), NULL);
    snprintf(buf, n, "%s", err);
    free(err);
}

#define RUN(...) gt_wait(spawn(GT_ARGS(__VA_ARGS__), NULL))

/* `gancl train --steps 11` vs `--steps 5` then `--resume --steps 11`: the
 * checkpoint files are byte for byte the same (tensors and metadata). */
START_TEST(test_cli_resume_identical)
{
    setup();
    char a[160], b[160], pa[200], pb[200], err[4096];
    snprintf(a, sizeof a, "%s/cli-a", tmp_dir);
    snprintf(b, sizeof b, "%s/cli-b", tmp_dir);
#define COMMON                                                                                     \
    "--device", "cpu", "train", "--data", data_path, "--batch", "8", "--g-width", "4",             \
        "--d-width", "3", "--latent", "5", "--seed", "77", "--log-every", "2"
    ck_assert_int_eq(RUN(COMMON, "--steps", "11", "--out", a), 0);
    ck_assert_int_eq(RUN(COMMON, "--steps", "5", "--out", b), 0);
    int rc = RUN("--device", "cpu", "train", "--resume", b, "--steps", "11");
    read_stderr(err, sizeof err);
    ck_assert_msg(rc == 0, "resume failed (%d): %s", rc, err);
    snprintf(pa, sizeof pa, "%s/checkpoint.safetensors", a);
    snprintf(pb, sizeof pb, "%s/checkpoint.safetensors", b);
    size_t na, nb;
    unsigned char *x = gt_read_file(pa, &na), *y = gt_read_file(pb, &nb);
    ck_assert_msg(na == nb && !memcmp(x, y, na), "resumed checkpoint differs from one run");
    free(x);
    free(y);
    /* The loss log continues: both have the rows of steps 2, 4, 6 (epoch), 8, 10, 11. */
    snprintf(pa, sizeof pa, "%s/losses.csv", a);
    snprintf(pb, sizeof pb, "%s/losses.csv", b);
    x = gt_read_file(pa, &na), y = gt_read_file(pb, &nb);
    int rows_a = 0, rows_b = 0;
    for (size_t i = 0; i < na; i++)
        rows_a += x[i] == '\n';
    for (size_t i = 0; i < nb; i++)
        rows_b += y[i] == '\n';
    ck_assert_int_eq(rows_a, 1 + 6);
    ck_assert_int_eq(rows_b, rows_a + 1); /* plus the row of step 5, where b stopped */
    free(x);
    free(y);
#undef COMMON
}
END_TEST

/* Waits for the first log line, then sends sig: the run finishes its step,
 * writes a checkpoint, says how to resume and exits 128 + sig; the
 * checkpoint resumes. */
static void check_signal(int sig)
{
    setup();
    char dir[160], ckpt[200], err[4096], line[512];
    snprintf(dir, sizeof dir, "%s/sig-%d", tmp_dir, sig);
    int fd;
    pid_t pid =
        spawn((const char *const[]){"--device", "cpu", "train", "--data", data_path, "--batch", "8",
                                    "--g-width", "4", "--d-width", "3", "--steps", "100000000",
                                    "--log-every", "3", "--out", dir, NULL},
              &fd);
    FILE *out = fdopen(fd, "r");
    int seen = 0;
    while (!seen && fgets(line, sizeof line, out))
        seen = strstr(line, "step 3/") != NULL;
    ck_assert_msg(seen, "no progress line from the child");
    ck_assert_int_eq(kill(pid, sig), 0);
    while (fgets(line, sizeof line, out))
        continue; /* keep the pipe drained */
    fclose(out);
    int rc = gt_wait(pid);
    read_stderr(err, sizeof err);
    ck_assert_msg(rc == 128 + sig, "exit %d after signal %d: %s", rc, sig, err);
    char want[256];
    snprintf(want, sizeof want, "gancl --device cpu train --resume %s", dir);
    ck_assert_msg(strstr(err, want), "no resume hint in: %s", err);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
    gc_st_file *f;
    GT_OK(gc_st_load(ckpt, 0, &f));
    long long step = atoll(gc_st_metadata(f, "step"));
    gc_st_free(f);
    ck_assert_int_ge(step, 3);
    char more[32];
    snprintf(more, sizeof more, "%lld", step + 2);
    rc = RUN("--device", "cpu", "train", "--resume", dir, "--steps", more);
    read_stderr(err, sizeof err);
    ck_assert_msg(rc == 0, "resume of an interrupted run: exit %d: %s", rc, err);
    GT_OK(gc_st_load(ckpt, 0, &f));
    ck_assert_int_eq(atoll(gc_st_metadata(f, "step")), step + 2);
    gc_st_free(f);
}

START_TEST(test_sigint)
{
    check_signal(SIGINT);
}
END_TEST

START_TEST(test_sigterm)
{
    check_signal(SIGTERM);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("resume");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_resume_exact_cpu);
    tcase_add_test(tc, test_resume_cl);
    tcase_add_test(tc, test_resume_mismatch);
    tcase_add_test(tc, test_cli_resume_identical);
    tcase_add_test(tc, test_sigint);
    tcase_add_test(tc, test_sigterm);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

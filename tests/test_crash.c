/* tests/test_crash.c - crash safety: `gancl train` (CPU backend, a tiny
 * model, an epoch of 8 steps so that checkpoints come every few
 * milliseconds, a sample grid every 3 steps) is killed with SIGKILL again
 * and again: half of the time at a random moment, a quarter of the time
 * from inside a random atomic file write (GANCL_FAULT=crash:N: halfway
 * through the temporary file), and a quarter from inside a checkpoint
 * write (without sample grids the writes of a run go losses.csv, then per
 * epoch grid, checkpoint, losses.png, so crash:3, 6 or 9 is one).  After every kill the run folder
 * holds a checkpoint that loads completely and never goes back in steps, and the next run resumes
 * from it; at the end a resumed run finishes cleanly and leaves no
 * temporary files and no lock behind.  The kill times and write numbers
 * come from the test seed (printed; GANCL_TEST_SEED replays them). */
#define _XOPEN_SOURCE 700 /* kill, nanosleep */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_fixtures.h"
#include "test_support.h"
#include "util/fs.h"

#define H        8
#define W        12
#define N_IMAGES 17 /* batch 2: 8 steps per epoch */
#define KILLS    24

static char tmp_dir[64], data_path[128];
static uint8_t images[N_IMAGES * H * W];

static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "crash");
    snprintf(data_path, sizeof data_path, "%s/noise.idx", tmp_dir);
    gt_write_noise_idx(data_path, images, N_IMAGES, H, W, 0);
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0)
        continue;
}

/* Loads the checkpoint into a trainer on the CPU backend, everything it
 * holds; returns its step. */
static int64_t load_checkpoint(const char *path)
{
    gc_train_config cfg;
    GT_OK(gc_checkpoint_config(path, &cfg));
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, gt_cpu(), &cfg, images, N_IMAGES, H, W));
    gc_status s = gc_trainer_load(&tr, path);
    ck_assert_msg(s == GC_OK, "%s does not load after a kill: %s", path, gc_last_error());
    if (s == GC_OK) s = gc_trainer_check(&tr);
    ck_assert_msg(s == GC_OK, "%s: %s", path, gc_last_error());
    int64_t step = tr.st.step;
    gc_trainer_free(&tr);
    return step;
}

/* Whether dir or dir/samples holds a temporary file of an atomic write
 * whose name has `what` in it. */
static int has_temp(const char *dir, const char *what)
{
    char cmd[512], out[64] = "";
    snprintf(cmd, sizeof cmd,
             "ls -a '%s' '%s/samples' 2>/dev/null | grep -F .tmp- | grep -c -F '%s'", dir, dir,
             what);
    gt_sh(cmd, out, sizeof out);
    return atoi(out) > 0;
}

START_TEST(test_kill_and_resume)
{
    setup();
    char dir[160], ckpt[200], err_path[200], fault[64];
    snprintf(dir, sizeof dir, "%s/run", tmp_dir);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", tmp_dir);
    int64_t last = -1, first_ckpt = -1;
    int torn_any = 0, torn_ckpt = 0, timed = 0, in_write = 0, in_ckpt = 0;
    for (int i = 0; i < KILLS; i++) {
        int resume = gc_fs_is_file(ckpt);
        /* Kills 0, 2, 4, ... at a random time; 1, 5, 9, ... inside a
         * checkpoint write; 3, 7, 11, ... inside any file write. */
        int mode = i % 2 == 0 ? 0 : i % 4 == 1 ? 1 : 2;
        int n = mode == 1 ? 3 * gt_randint(1, 3) : gt_randint(1, 12), ms = gt_randint(20, 400);
        const char *every = mode == 1 ? "1000000000" : "3";
        const char *const fresh[] = {
            "--device", "cpu",       "train",      "--data",         data_path, "--batch",
            "2",        "--g-width", "8",          "--d-width",      "4",       "--latent",
            "6",        "--steps",   "1000000000", "--sample-every", every,     "--log-every",
            "2",        "--out",     dir,          "--no-diversity", NULL};
        /* No diversity log: crash:3/6/9 then land on checkpoint writes. */
        const char *const cont[] = {
            "--device",       "cpu", "train",          "--resume", dir, "--steps", "1000000000",
            "--sample-every", every, "--no-diversity", NULL};
        snprintf(fault, sizeof fault, "GANCL_FAULT=crash:%d", n);
        const char *env[] = {mode ? fault : "GANCL_FAULT=", NULL};
        gt_io io = {.env = env, .out_path = gt_path(tmp_dir, "stdout"), .err_path = err_path};
        pid_t pid = gt_spawn(GANCL_BINARY, resume ? cont : fresh, &io);
        if (!mode) {
            sleep_ms(ms);
            kill(pid, SIGKILL);
        }
        int rc = gt_wait(pid);
        char *err = gt_read_file(err_path, NULL);
        ck_assert_msg(rc == 128 + SIGKILL, "kill %d (%s): exit %d, not killed: %s", i + 1,
                      mode ? fault : "timed", rc, err);
        free(err);
        int torn = has_temp(dir, ""), torn_c = has_temp(dir, "checkpoint");
        if (mode == 1)
            ck_assert_msg(torn_c, "kill %d: crash:%d was not inside a checkpoint write", i + 1, n);
        printf("test_crash: kill %2d (%s): ", i + 1, resume ? "resumed" : "fresh");
        if (mode)
            printf("inside file write %d%s", n, mode == 1 ? " (a checkpoint)" : "");
        else
            printf("after %d ms", ms);
        timed += !mode, in_write += mode == 2, in_ckpt += mode == 1;
        torn_any += torn, torn_ckpt += torn_c;
        if (gc_fs_is_file(ckpt)) {
            int64_t step = load_checkpoint(ckpt);
            ck_assert_msg(step >= last, "kill %d: the checkpoint went back from step %lld to %lld",
                          i + 1, (long long)last, (long long)step);
            last = step;
            if (first_ckpt < 0) first_ckpt = step;
            printf("; checkpoint at step %lld", (long long)step);
        } else {
            ck_assert_msg(last < 0, "kill %d: the checkpoint is gone", i + 1);
            printf("; no checkpoint yet");
        }
        printf("%s\n", torn_c ? "; a torn checkpoint.safetensors.tmp-* left"
                       : torn ? "; a torn temporary file left"
                              : "");
    }
    ck_assert_msg(last >= 0, "no checkpoint was ever written in %d runs", KILLS);
    /* The last run resumes and ends by itself. */
    char steps[32];
    snprintf(steps, sizeof steps, "%lld", (long long)last + 5);
    gt_io io = {.out_path = gt_path(tmp_dir, "stdout"), .err_path = err_path};
    int rc = GT_GANCL(&io, "--device", "cpu", "train", "--resume", dir, "--steps", steps);
    char *err = gt_read_file(err_path, NULL);
    ck_assert_msg(rc == 0, "the final resume failed (%d): %s", rc, err);
    free(err);
    ck_assert_int_eq(load_checkpoint(ckpt), last + 5);
    ck_assert_msg(!has_temp(dir, ""), "temporary files left after a clean run");
    ck_assert_int_eq(gt_file_size(dir, "gancl.lock"), -1);
    printf("test_crash: %d kills (%d at random times, %d inside a checkpoint write, %d inside "
           "another file write); %d left a torn temporary file (%d of a checkpoint); "
           "checkpoints from step %lld to %lld, every one loadable and resumed\n",
           KILLS, timed, in_ckpt, in_write, torn_any, torn_ckpt, (long long)first_ckpt,
           (long long)last);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("crash");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_kill_and_resume);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

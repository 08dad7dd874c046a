/* tests/test_lock.c - concurrency: the run-folder lock (util/lock.h) in
 * the library and in `gancl train` (a second run into a folder in use is
 * refused, fresh or --resume; the lock of a killed run is taken over), and
 * two processes filling one empty kernel cache at once. */
#define _XOPEN_SOURCE 700 /* kill */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gancl/io.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_fixtures.h"
#include "test_support.h"
#include "util/lock.h"

#define H 8
#define W 12

static char tmp_dir[64], data_path[128], big_path[128];

static void write_images(const char *path, int n)
{
    uint8_t *px = malloc((size_t)n * H * W);
    gt_write_noise_idx(path, px, n, H, W, 0);
    free(px);
}

static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "lock");
    snprintf(data_path, sizeof data_path, "%s/noise.idx", tmp_dir);
    write_images(data_path, 50);
    /* An epoch of 20000 steps at batch 2: no checkpoint for a while. */
    snprintf(big_path, sizeof big_path, "%s/big.idx", tmp_dir);
    write_images(big_path, 40000);
}

static long file_pid(const char *path)
{
    char *text = gt_read_file(path, NULL);
    long pid = atol(text);
    free(text);
    return pid;
}

/* ---- the library ---------------------------------------------------------------- */

START_TEST(test_lock_library)
{
    setup();
    char path[128], want[160];
    snprintf(path, sizeof path, "%s/lib.lock", tmp_dir);
    gc_lock a, b;
    long stale = -1;
    GT_OK(gc_lock_acquire(path, &a, &stale));
    ck_assert_int_eq(stale, 0);
    ck_assert_int_eq(file_pid(path), (long)getpid());
    /* flock belongs to the open file: a second open, even in this process, is refused. */
    ck_assert_int_eq(gc_lock_acquire(path, &b, NULL), GC_ERR_IO);
    snprintf(want, sizeof want, "in use by gancl process %ld", (long)getpid());
    ck_assert_msg(strstr(gc_last_error(), want), "%s", gc_last_error());
    ck_assert_int_eq(b.fd, -1);
    gc_lock_release(&b); /* not held: nothing happens */
    gc_lock_release(&a);
    ck_assert_msg(access(path, F_OK) != 0, "the lock file outlives its release");
    GT_OK(gc_lock_acquire(path, &a, &stale));
    ck_assert_int_eq(stale, 0);
    gc_lock_release(&a);

    /* A file left by a process that is gone is stale. */
    pid_t dead = fork();
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char text[32];
    int n = snprintf(text, sizeof text, "%ld\n", (long)dead);
    gt_write_file(path, text, (size_t)n);
    GT_OK(gc_lock_acquire(path, &a, &stale));
    ck_assert_int_eq(stale, (long)dead);
    ck_assert_int_eq(file_pid(path), (long)getpid());
    gc_lock_release(&a);

    /* A live holder in another process: refused with its pid until it is
     * killed, then taken over. */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t holder = fork();
    if (holder == 0) {
        gc_lock l;
        char ok = gc_lock_acquire(path, &l, NULL) == GC_OK ? 'y' : 'n';
        if (write(fds[1], &ok, 1) != 1) _exit(1);
        for (;;)
            pause();
    }
    char ok = 0;
    ck_assert_int_eq(read(fds[0], &ok, 1), 1);
    ck_assert_int_eq(ok, 'y');
    ck_assert_int_eq(gc_lock_acquire(path, &a, &stale), GC_ERR_IO);
    snprintf(want, sizeof want, "in use by gancl process %ld", (long)holder);
    ck_assert_msg(strstr(gc_last_error(), want), "%s", gc_last_error());
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    close(fds[0]);
    close(fds[1]);
    GT_OK(gc_lock_acquire(path, &a, &stale));
    ck_assert_int_eq(stale, (long)holder);
    gc_lock_release(&a);
}
END_TEST

/* ---- gancl train ---------------------------------------------------------------------- */

/* Starts gancl with stdout into a pipe and waits for a line with `want`;
 * returns the pid. */
static pid_t start_and_wait(const char *const *args, const char *want, FILE **out)
{
    int fd;
    gt_io io = {.err_path = gt_path(tmp_dir, "stderr-1"), .out_fd = &fd};
    pid_t pid = gt_spawn(GANCL_BINARY, args, &io);
    *out = fdopen(fd, "r");
    char line[1024];
    int seen = 0;
    while (!seen && fgets(line, sizeof line, *out))
        seen = strstr(line, want) != NULL;
    char *err = gt_read_file(gt_path(tmp_dir, "stderr-1"), NULL);
    ck_assert_msg(seen, "no line '%s' from the first run: %s", want, err);
    free(err);
    return pid;
}

static int run_second(const char *const *args, char *err, size_t n)
{
    gt_io io = {.out_path = gt_path(tmp_dir, "stdout-2"), .err_path = gt_path(tmp_dir, "stderr-2")};
    int rc = gt_run(GANCL_BINARY, args, &io);
    char *text = gt_read_file(gt_path(tmp_dir, "stderr-2"), NULL);
    snprintf(err, n, "%s", text);
    free(text);
    return rc;
}

static void finish(pid_t pid, FILE *out, int sig)
{
    kill(pid, sig);
    char line[1024];
    while (fgets(line, sizeof line, out))
        continue;
    fclose(out);
    gt_wait(pid);
}

START_TEST(test_train_lock)
{
    setup();
    char dir[160], err[4096], want[128];
    snprintf(dir, sizeof dir, "%s/run", tmp_dir);
#define TRAIN(data)                                                                                \
    "--device", "cpu", "train", "--data", data, "--batch", "2", "--g-width", "4", "--d-width",     \
        "3", "--latent", "5"
    /* A fresh run still in its first epoch (no checkpoint yet). */
    FILE *out;
    pid_t first = start_and_wait(
        GT_ARGS(TRAIN(big_path), "--steps", "1000000000", "--log-every", "1", "--out", dir),
        "step 1/", &out);
    int rc = run_second(GT_ARGS(TRAIN(data_path), "--steps", "3", "--out", dir), err, sizeof err);
    snprintf(want, sizeof want, "in use by gancl process %ld", (long)first);
    ck_assert_msg(rc == 2 && strstr(err, want), "second fresh run: exit %d: %s", rc, err);
    /* Killed: its lock is stale, and the folder holds no run yet. */
    finish(first, out, SIGKILL);
    rc = run_second(GT_ARGS(TRAIN(data_path), "--steps", "3", "--out", dir), err, sizeof err);
    ck_assert_msg(rc == 0, "after the kill: exit %d: %s", rc, err);
    snprintf(want, sizeof want, "left by process %ld, which is gone; taking over", (long)first);
    ck_assert_msg(strstr(err, want), "no notice of the stale lock: %s", err);
    ck_assert_int_eq(gt_file_size(dir, "gancl.lock"), -1);

    /* A resumed run in progress: a second --resume is refused too. */
    first = start_and_wait(GT_ARGS("--device", "cpu", "train", "--resume", dir, "--steps",
                                   "1000000000", "--log-every", "1"),
                           "step 5/", &out);
    rc = run_second(GT_ARGS("--device", "cpu", "train", "--resume", dir, "--steps", "100"), err,
                    sizeof err);
    snprintf(want, sizeof want, "in use by gancl process %ld", (long)first);
    ck_assert_msg(rc == 2 && strstr(err, want), "second --resume: exit %d: %s", rc, err);
    /* Stopped cleanly, it releases the lock: the next resume just runs. */
    finish(first, out, SIGTERM);
    ck_assert_int_eq(gt_file_size(dir, "gancl.lock"), -1);
    gc_st_file *f;
    GT_OK(gc_st_load(gt_path(dir, "checkpoint.safetensors"), 0, &f));
    char steps[32];
    snprintf(steps, sizeof steps, "%lld", atoll(gc_st_metadata(f, "step")) + 3);
    gc_st_free(f);
    rc = run_second(GT_ARGS("--device", "cpu", "train", "--resume", dir, "--steps", steps), err,
                    sizeof err);
    ck_assert_msg(rc == 0 && !strstr(err, "taking over"), "resume after SIGTERM: %d: %s", rc, err);
#undef TRAIN
}
END_TEST

/* ---- the kernel cache ------------------------------------------------------------------ */

/* Two processes with one empty cache build and store the same program at
 * once: both succeed, the cache holds one valid entry and nothing else,
 * and a third process loads it. */
START_TEST(test_kernel_cache_race)
{
    if (!gt_cl()) {
        const char *req = getenv("GANCL_REQUIRE_OPENCL");
        ck_assert_msg(!(req && !strcmp(req, "1")), "no OpenCL device, but GANCL_REQUIRE_OPENCL=1");
        printf("test_lock: kernel cache part skipped: no OpenCL device on this machine\n");
        return;
    }
    setup();
    char cache[160], env_cache[200], dirs[2][160], errs[2][160], cmd[512], out[4096];
    snprintf(cache, sizeof cache, "%s/cache", tmp_dir);
    snprintf(env_cache, sizeof env_cache, "XDG_CACHE_HOME=%s", cache);
    const char *env[] = {env_cache, "GANCL_LOG=debug", "GANCL_KERNEL_CACHE=on", NULL};
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/cache-run-%d", tmp_dir, i);
        snprintf(errs[i], sizeof errs[i], "%s/cache-err-%d", tmp_dir, i);
        gt_io io = {.env = env, .out_path = gt_path(tmp_dir, "cache-out"), .err_path = errs[i]};
        pids[i] = gt_spawn(GANCL_BINARY,
                           GT_ARGS("--device", gt_cl_spec(), "train", "--data", data_path,
                                   "--batch", "8", "--g-width", "4", "--d-width", "3", "--latent",
                                   "5", "--steps", "1", "--out", dirs[i]),
                           &io);
    }
    for (int i = 0; i < 2; i++) {
        int rc = gt_wait(pids[i]);
        char *err = gt_read_file(errs[i], NULL);
        ck_assert_msg(rc == 0, "process %d of 2: exit %d: %s", i + 1, rc, err);
        ck_assert_msg(strstr(err, "kernel cache stored") || strstr(err, "kernel cache hit"),
                      "process %d neither stored nor loaded the program: %s", i + 1, err);
        free(err);
    }
    snprintf(cmd, sizeof cmd, "ls -A '%s/gancl/kernels'", cache);
    gt_sh(cmd, out, sizeof out);
    int files = 0;
    for (char *p = out; *p; p++)
        files += *p == '\n';
    ck_assert_msg(files == 1 && strstr(out, ".bin\n") && !strstr(out, ".tmp-"),
                  "the cache should hold one entry and no temporary files: %s", out);
    gt_io io = {.env = env, .out_path = gt_path(tmp_dir, "cache-out"), .err_path = errs[0]};
    int rc = gt_run(GANCL_BINARY,
                    GT_ARGS("--device", gt_cl_spec(), "sample", "--checkpoint",
                            gt_path(dirs[0], "checkpoint.safetensors"), "--n", "4", "--out",
                            gt_path(tmp_dir, "cache.png")),
                    &io);
    char *err = gt_read_file(errs[0], NULL);
    ck_assert_msg(rc == 0 && strstr(err, "kernel cache hit") && !strstr(err, "corrupt"),
                  "a third process did not load the cached program (exit %d): %s", rc, err);
    free(err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lock");
    TCase *tc = tcase_create("lock");
    tcase_set_timeout(tc, 1200);
    tcase_add_test(tc, test_lock_library);
    tcase_add_test(tc, test_train_lock);
    tcase_add_test(tc, test_kernel_cache_race);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

/* tests/test_faults.c - device faults injected with GANCL_FAULT (see
 * src/util/fault.h) into the real gancl binary: for every device
 * allocation, transfer, atomic file write and program build of a short
 * `gancl train`, of a --resume run and of `gancl sample` and `gancl fid`
 * (and a deterministic spread of their kernel launches, which number in
 * the hundreds), the N-th one fails.  Each run must exit 1 or 2 (never a
 * signal) with exactly one line on stderr that names the failing call and
 * no sanitizer report, leave no temporary files, and leave a checkpoint
 * that was there before byte for byte as it was (or, when the fault came
 * after the run's own final checkpoint, a valid newer one).  GANCL_FAULT=count
 * tells how many events of each kind a clean run has. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_internal.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "test_files.h"
#include "test_fixtures.h"
#include "test_proc.h"
#include "test_support.h"
#include "util/fs.h"

#define H        8
#define W        12
#define N_IMAGES 50 /* batch 8: 6 steps per epoch */

static char tmp_dir[64], data_path[128], weights_path[128], base_dir[128], base_ckpt[160];
static uint8_t images[N_IMAGES * H * W];
static int cases_run;

/* The counts of a clean run, from GANCL_FAULT=count. */
typedef struct counts {
    long alloc, enqueue, read, write, build, file;
} counts;

static const char *const kind_names[] = {"alloc", "enqueue", "read", "write", "build", "file"};

static long count_of(const counts *c, int kind)
{
    const long v[] = {c->alloc, c->enqueue, c->read, c->write, c->build, c->file};
    return v[kind];
}

static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "faults");
    snprintf(data_path, sizeof data_path, "%s/noise.idx", tmp_dir);
    gt_write_noise_idx(data_path, images, N_IMAGES, H, W, 0);
    snprintf(weights_path, sizeof weights_path, "%s/stem.safetensors", tmp_dir);
    gt_write_stem_weights(weights_path, gt_seed());
}

/* Runs gancl with GANCL_FAULT=fault (NULL: none) and an isolated kernel
 * cache; stderr into tmp_dir/stderr, read back into err. */
static int run_gancl(const char *fault, int no_cache, const char *const *args, char *err, size_t n)
{
    char fault_env[64], cache_env[160];
    snprintf(fault_env, sizeof fault_env, "GANCL_FAULT=%s", fault ? fault : "");
    snprintf(cache_env, sizeof cache_env, "XDG_CACHE_HOME=%s/cache", tmp_dir);
    const char *env[] = {fault_env, cache_env,
                         no_cache ? "GANCL_KERNEL_CACHE=off" : "GANCL_KERNEL_CACHE=on",
                         "GANCL_LOG=warn", NULL};
    gt_io io = {
        .env = env, .out_path = gt_path(tmp_dir, "stdout"), .err_path = gt_path(tmp_dir, "stderr")};
    int rc = gt_run(GANCL_BINARY, args, &io);
    char *text = gt_read_file(gt_path(tmp_dir, "stderr"), NULL);
    snprintf(err, n, "%s", text);
    free(text);
    return rc;
}

static counts count_events(const char *const *args)
{
    char err[8192];
    int rc = run_gancl("count", 0, args, err, sizeof err);
    ck_assert_msg(rc == 0, "clean run failed (%d): %s", rc, err);
    const char *line = strstr(err, "gancl: fault counts:");
    ck_assert_msg(line, "no fault counts in: %s", err);
    counts c;
    ck_assert_int_eq(sscanf(line,
                            "gancl: fault counts: alloc=%ld enqueue=%ld read=%ld write=%ld "
                            "build=%ld file=%ld",
                            &c.alloc, &c.enqueue, &c.read, &c.write, &c.build, &c.file),
                     6);
    return c;
}

/* Every N in 1..total when total <= max, else 1..4, an even spread of
 * max - 5 values and total: always the same for the same counts. */
static int sweep(long total, int max, long *out)
{
    int k = 0;
    if (total <= max) {
        for (long i = 1; i <= total; i++)
            out[k++] = i;
        return k;
    }
    for (long i = 1; i <= 4; i++)
        out[k++] = i;
    int spread = max - 5;
    for (int i = 1; i <= spread; i++) {
        long v = 4 + (long)((double)i * (double)(total - 4) / (spread + 1));
        if (v > out[k - 1] && v < total) out[k++] = v;
    }
    out[k++] = total;
    return k;
}

/* Whether a line of stderr is the command's own chatter before any
 * fault: a warning (FID's about few images) or a progress report (FID's
 * "N images in T s"). */
static int is_chatter(const char *line, size_t len)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 511 ? len : 511), line);
    return !strncmp(buf, "gancl: warning:", 15) ||
           (strstr(buf, " images in ") && strstr(buf, " s ("));
}

/* Lines of s that are not chatter. */
static int count_lines(const char *s)
{
    int n = 0;
    for (const char *line = s; *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (!is_chatter(line, len)) n++;
        if (!end) break;
        line = end + 1;
    }
    return n;
}

/* The first line that is not chatter. */
static const char *last_line(const char *s)
{
    const char *p = s;
    for (const char *end; (end = strchr(p, '\n')) && is_chatter(p, (size_t)(end - p));)
        p = end + 1;
    return p;
}

/* The one file of dir whose name has ".tmp-" in it, or NULL. */
static const char *temp_litter(const char *dir)
{
    static char name[256];
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -a '%s' '%s/samples' 2>/dev/null | grep -F .tmp- | head -1", dir,
             dir);
    name[0] = 0;
    gt_sh(cmd, name, sizeof name);
    return name[0] ? name : NULL;
}

/* What each fault is reported as, on OpenCL and on the CPU backend. */
static const char *expected_call(int kind, int opencl)
{
    static const char *const cl[] = {
        "clCreateBuffer",       "clEnqueueNDRangeKernel",          "clEnqueueReadBuffer",
        "clEnqueueWriteBuffer", "building gancl's OpenCL kernels", "cannot write"};
    static const char *const cpu[] = {"out of host memory", "?", "reading", "writing", "?",
                                      "cannot write"};
    return opencl ? cl[kind] : cpu[kind];
}

/* The checks every faulted run must pass. */
static void check_failed_run(int rc, const char *err, const char *fault, int kind, int opencl,
                             const char *dir)
{
    cases_run++;
    ck_assert_msg(rc == 1 || rc == 2, "GANCL_FAULT=%s: exit %d (want 1 or 2): %s", fault, rc, err);
    ck_assert_msg(!strstr(err, "Sanitizer") && !strstr(err, "runtime error"),
                  "GANCL_FAULT=%s: sanitizer report: %s", fault, err);
    ck_assert_msg(count_lines(err) == 1 && !strncmp(last_line(err), "gancl: ", 7),
                  "GANCL_FAULT=%s: want one line 'gancl: ...' on stderr, got: %s", fault, err);
    ck_assert_msg(strstr(err, expected_call(kind, opencl)), "GANCL_FAULT=%s: '%s' not named in: %s",
                  fault, expected_call(kind, opencl), err);
    if (dir) {
        const char *litter = temp_litter(dir);
        ck_assert_msg(!litter, "GANCL_FAULT=%s: temporary file %s left in %s", fault, litter, dir);
    }
}

/* Loads a checkpoint completely (tensors and state into a trainer on the
 * CPU backend); returns its step. */
static int64_t load_checkpoint(const char *path)
{
    gc_train_config cfg;
    GT_OK(gc_checkpoint_config(path, &cfg));
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, gt_cpu(), &cfg, images, N_IMAGES, H, W));
    gc_status s = gc_trainer_load(&tr, path);
    int64_t step = tr.st.step;
    gc_trainer_free(&tr);
    ck_assert_msg(s == GC_OK, "%s does not load: %s", path, gc_last_error());
    return step;
}

#define COMMON_TRAIN                                                                               \
    "train", "--data", data_path, "--batch", "8", "--g-width", "4", "--d-width", "3", "--latent",  \
        "5", "--seed", "5"

/* ---- fresh runs -------------------------------------------------------------- */

static void sweep_train(const char *device, int opencl, const int *kinds, int n_kinds,
                        int enqueue_max)
{
    setup();
    char dir[192], err[8192], fault[64];
    snprintf(dir, sizeof dir, "%s/train-%s", tmp_dir, device);
    const char *const args[] = {"--device", device,  COMMON_TRAIN, "--steps",
                                "2",        "--out", dir,          NULL};
    gt_rmtree(dir);
    run_gancl(NULL, 0, args, err, sizeof err); /* fills the kernel cache: no store to count */
    gt_rmtree(dir);
    counts c = count_events(args);
    printf("test_faults: train on %s: alloc %ld, enqueue %ld, read %ld, write %ld, build %ld, "
           "file %ld events\n",
           device, c.alloc, c.enqueue, c.read, c.write, c.build, c.file);
    for (int i = 0; i < n_kinds; i++) {
        int kind = kinds[i];
        long ns[64];
        int count = sweep(count_of(&c, kind), kind == 1 ? enqueue_max : 64, ns);
        ck_assert_msg(count > 0, "no %s events on %s", kind_names[kind], device);
        for (int j = 0; j < count; j++) {
            gt_rmtree(dir);
            snprintf(fault, sizeof fault, "%s:%ld", kind_names[kind], ns[j]);
            int rc = run_gancl(fault, 0, args, err, sizeof err);
            check_failed_run(rc, err, fault, kind, opencl, dir);
            char ckpt[256];
            snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
            /* A fault after the final checkpoint (drawing losses.png) leaves a good one. */
            if (gc_fs_is_file(ckpt)) ck_assert_int_eq(load_checkpoint(ckpt), 2);
        }
    }
}

static int have_opencl(void)
{
    if (gt_cl()) return 1;
    const char *req = getenv("GANCL_REQUIRE_OPENCL");
    ck_assert_msg(!(req && !strcmp(req, "1")), "no OpenCL device, but GANCL_REQUIRE_OPENCL=1");
    printf("test_faults: OpenCL part skipped: no OpenCL device on this machine\n");
    return 0;
}

enum { K_ALLOC, K_ENQUEUE, K_READ, K_WRITE, K_BUILD, K_FILE };

START_TEST(test_train_opencl)
{
    if (!have_opencl()) return;
    static const int kinds[] = {K_ALLOC, K_ENQUEUE, K_READ, K_WRITE, K_FILE};
    sweep_train(gt_cl_spec(), 1, kinds, 5, 30);
}
END_TEST

START_TEST(test_train_cpu)
{
    static const int kinds[] = {K_ALLOC, K_READ, K_WRITE, K_FILE};
    sweep_train("cpu", 0, kinds, 4, 0);
}
END_TEST

/* A program build that fails: from source (no cache), and from the cache,
 * where a refused binary is rebuilt from source instead. */
START_TEST(test_build)
{
    if (!have_opencl()) return;
    setup();
    char dir[192], err[8192];
    snprintf(dir, sizeof dir, "%s/build", tmp_dir);
    const char *const args[] = {"--device", gt_cl_spec(), COMMON_TRAIN, "--steps",
                                "1",        "--out",      dir,          NULL};
    gt_rmtree(dir);
    int rc = run_gancl("build:1", 1, args, err, sizeof err);
    check_failed_run(rc, err, "build:1", K_BUILD, 1, dir);
    gt_rmtree(dir);
    rc = run_gancl(NULL, 0, args, err, sizeof err); /* fills the cache */
    ck_assert_msg(rc == 0, "%s", err);
    gt_rmtree(dir);
    rc = run_gancl("build:1", 0, args, err, sizeof err);
    ck_assert_msg(rc == 0, "a cached program refused by the driver must be rebuilt: exit %d: %s",
                  rc, err);
}
END_TEST

/* ---- a resumed run: the checkpoint it starts from survives any fault ---------- */

static void copy_file(const char *from, const char *to)
{
    size_t n;
    void *data = gt_read_file(from, &n);
    gt_write_file(to, data, n);
    free(data);
}

static void make_base(void)
{
    setup();
    if (base_dir[0]) return;
    char err[8192];
    snprintf(base_dir, sizeof base_dir, "%s/base", tmp_dir);
    snprintf(base_ckpt, sizeof base_ckpt, "%s/checkpoint.safetensors", base_dir);
    const char *const args[] = {"--device", "cpu",   COMMON_TRAIN, "--steps",
                                "1",        "--out", base_dir,     NULL};
    int rc = run_gancl(NULL, 0, args, err, sizeof err);
    ck_assert_msg(rc == 0, "%s", err);
}

static void sweep_resume(const char *device, int opencl, const int *kinds, int n_kinds,
                         int enqueue_max)
{
    make_base();
    size_t n_base;
    unsigned char *base = gt_read_file(base_ckpt, &n_base);
    char dir[192], ckpt[256], err[8192], fault[64];
    snprintf(dir, sizeof dir, "%s/resume-%s", tmp_dir, device);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
    const char *const args[] = {"--device", device, "train", "--resume", dir, "--steps", "3", NULL};
    gt_rmtree(dir);
    GT_OK(gc_fs_mkdirs(dir));
    copy_file(base_ckpt, ckpt);
    counts c = count_events(args);
    for (int i = 0; i < n_kinds; i++) {
        int kind = kinds[i];
        long ns[64];
        int count = sweep(count_of(&c, kind), kind == K_ENQUEUE ? enqueue_max : 64, ns);
        for (int j = 0; j < count; j++) {
            gt_rmtree(dir);
            GT_OK(gc_fs_mkdirs(dir));
            copy_file(base_ckpt, ckpt);
            snprintf(fault, sizeof fault, "%s:%ld", kind_names[kind], ns[j]);
            int rc = run_gancl(fault, 0, args, err, sizeof err);
            check_failed_run(rc, err, fault, kind, opencl, dir);
            size_t n;
            unsigned char *now = gt_read_file(ckpt, &n);
            int same = n == n_base && !memcmp(now, base, n);
            free(now);
            /* Either untouched, or the run's own final checkpoint, written
             * before the fault (losses.png comes after it). */
            if (!same)
                ck_assert_int_eq(load_checkpoint(ckpt), 3);
            else
                ck_assert_int_eq(load_checkpoint(ckpt), 1);
        }
    }
    free(base);
}

START_TEST(test_resume_opencl)
{
    if (!have_opencl()) return;
    static const int kinds[] = {K_ALLOC, K_ENQUEUE, K_READ, K_WRITE, K_FILE};
    sweep_resume(gt_cl_spec(), 1, kinds, 5, 16);
}
END_TEST

START_TEST(test_resume_cpu)
{
    static const int kinds[] = {K_ALLOC, K_READ, K_WRITE, K_FILE};
    sweep_resume("cpu", 0, kinds, 4, 0);
}
END_TEST

/* ---- sample and fid ----------------------------------------------------------------- */

static void sweep_command(const char *what, const char *const *args, const int *kinds, int n_kinds,
                          int enqueue_max)
{
    char err[8192], fault[64];
    counts c = count_events(args);
    printf("test_faults: %s: alloc %ld, enqueue %ld, read %ld, write %ld, file %ld events\n", what,
           c.alloc, c.enqueue, c.read, c.write, c.file);
    for (int i = 0; i < n_kinds; i++) {
        int kind = kinds[i];
        long ns[64];
        int count = sweep(count_of(&c, kind), kind == K_ENQUEUE ? enqueue_max : 64, ns);
        for (int j = 0; j < count; j++) {
            snprintf(fault, sizeof fault, "%s:%ld", kind_names[kind], ns[j]);
            int rc = run_gancl(fault, 0, args, err, sizeof err);
            check_failed_run(rc, err, fault, kind, 1, tmp_dir);
        }
    }
}

START_TEST(test_sample_opencl)
{
    if (!have_opencl()) return;
    make_base();
    char out[192];
    snprintf(out, sizeof out, "%s/sample.png", tmp_dir);
    const char *const args[] = {"--device", gt_cl_spec(), "sample", "--checkpoint",
                                base_ckpt,  "--n",        "16",     "--out",
                                out,        NULL};
    static const int kinds[] = {K_ALLOC, K_ENQUEUE, K_READ, K_WRITE, K_FILE};
    char what[64];
    snprintf(what, sizeof what, "sample on %s", gt_cl_spec());
    sweep_command(what, args, kinds, 5, 12);
}
END_TEST

START_TEST(test_fid_opencl)
{
    if (!have_opencl()) return;
    setup();
    const char *const args[] = {"--device",  gt_cl_spec(), "fid",    data_path, data_path,
                                "--weights", weights_path, "--dims", "64",      "--n",
                                "3",         "--batch",    "2",      NULL};
    static const int kinds[] = {K_ALLOC, K_ENQUEUE, K_READ, K_WRITE};
    char what[64];
    snprintf(what, sizeof what, "fid on %s", gt_cl_spec());
    sweep_command(what, args, kinds, 4, 8);
}
END_TEST

/* Above the device's largest allocation: refused before the driver is
 * asked, with the sizes and a remedy; the workspace recovers afterwards. */
START_TEST(test_oversized)
{
    if (!have_opencl()) return;
    gc_backend *be = gt_cl();
    size_t too_big = (size_t)be->device.max_alloc_bytes + 4096;
    gc_buffer *b = NULL;
    ck_assert_int_eq(gc_buffer_alloc(be, too_big, &b), GC_ERR_NOMEM);
    ck_assert_msg(strstr(gc_last_error(), "largest allocation") &&
                      strstr(gc_last_error(), "--batch"),
                  "%s", gc_last_error());
    cl_mem m;
    ck_assert_int_eq(gc_cl_workspace(be, too_big, &m), GC_ERR_NOMEM);
    const char *msg = gc_last_error();
    ck_assert_msg(strstr(msg, "more than the device's largest allocation") &&
                      strstr(msg, "GANCL_WORKSPACE_LIMIT") && strstr(msg, "device memory"),
                  "%s", msg);
    GT_OK(gc_cl_workspace(be, 4096, &m));
}
END_TEST

START_TEST(test_summary)
{
    printf("test_faults: %d injected faults, each failed cleanly\n", cases_run);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 1500);
    tcase_add_test(tc, test_train_cpu);
    tcase_add_test(tc, test_resume_cpu);
    tcase_add_test(tc, test_train_opencl);
    tcase_add_test(tc, test_build);
    tcase_add_test(tc, test_resume_opencl);
    tcase_add_test(tc, test_sample_opencl);
    tcase_add_test(tc, test_fid_opencl);
    tcase_add_test(tc, test_oversized);
    tcase_add_test(tc, test_summary);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

/* tests/test_runtime.c - device selection, allocation limits, and the
 * OpenCL kernel binary cache. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/opencl/cl_internal.h"
#include "gancl/io.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_support.h"
#include "util/fs.h"

static int have_opencl(void)
{
    gc_device_info *devs = NULL;
    int n = 0;
    gc_status s = gc_device_list(&devs, &n, NULL);
    free(devs);
    return s == GC_OK && n > 0;
}

START_TEST(select_cpu_and_bad_specs)
{
    gc_backend *be = NULL;
    GT_OK(gc_backend_init("cpu", &be));
    ck_assert(gc_backend_is_reference(be));
    gc_backend_free(be);

    const char *bad[] = {"99", "-1", "abc", "1x", "", "cpu0", "1234567"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        be = (gc_backend *)1;
        ck_assert_int_eq(gc_backend_init(bad[i], &be), GC_ERR_ARG);
        ck_assert_ptr_null(be);
        /* The message lists the valid choices, on one line. */
        ck_assert_msg(strstr(gc_last_error(), "valid choices: cpu"), "%s", gc_last_error());
        ck_assert_ptr_null(strchr(gc_last_error(), '\n'));
    }
}
END_TEST

START_TEST(default_honours_environment)
{
    setenv("GANCL_DEVICE", "cpu", 1);
    gc_backend *be = NULL;
    GT_OK(gc_backend_init(NULL, &be));
    ck_assert(gc_backend_is_reference(be));
    gc_backend_free(be);
    setenv("GANCL_DEVICE", "42", 1);
    ck_assert_int_eq(gc_backend_init(NULL, &be), GC_ERR_ARG);
    ck_assert_msg(strstr(gc_last_error(), "GANCL_DEVICE"), "%s", gc_last_error());
    unsetenv("GANCL_DEVICE");
    /* Without a choice: the first GPU, else the first OpenCL device, else cpu. */
    GT_OK(gc_backend_init(NULL, &be));
    ck_assert_int_eq(gc_backend_is_reference(be), !have_opencl());
    gc_backend_free(be);
}
END_TEST

START_TEST(allocation_above_device_limit_is_refused)
{
    gc_backend *be = gt_cl();
    if (!be) be = gt_cpu();
    uint64_t limit = gc_backend_device(be)->max_alloc_bytes;
    if (!limit) return; /* the CPU reference has no device limit */
    gc_buffer *buf = NULL;
    ck_assert_int_eq(gc_buffer_alloc(be, (size_t)limit + 4096, &buf), GC_ERR_NOMEM);
    ck_assert_ptr_null(buf);
    ck_assert_msg(strstr(gc_last_error(), "largest allocation"), "%s", gc_last_error());
    ck_assert_msg(strstr(gc_last_error(), "--batch"), "%s", gc_last_error());
}
END_TEST

/* Every *.bin under dir/gancl/kernels, as a path (first one found). */
static int find_cache_file(const char *root, char *path, size_t n)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/gancl/kernels", root);
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d)))
        if (strstr(e->d_name, ".bin") && !strstr(e->d_name, ".tmp"))
            found = snprintf(path, n, "%s/%s", dir, e->d_name) < (int)n;
    closedir(d);
    return found;
}

static gc_cl_cache_stats open_close(void)
{
    gc_cl_cache_stats before = *gc_cl_cache_get_stats();
    gc_backend *be = NULL;
    GT_OK(gc_backend_init("0", &be));
    gc_backend_free(be);
    gc_cl_cache_stats after = *gc_cl_cache_get_stats();
    return (gc_cl_cache_stats){after.hits - before.hits, after.builds - before.builds,
                               after.stores - before.stores, after.corrupt - before.corrupt};
}

START_TEST(kernel_cache_hit_and_corruption)
{
    if (!have_opencl()) gt_skip_no_opencl("kernel_cache_hit_and_corruption");
    char root[256];
    gt_tmpdir_new(root, sizeof root, "cache");
    setenv("XDG_CACHE_HOME", root, 1);
    setenv("GANCL_KERNEL_CACHE", "on", 1); /* auto is off on PoCL */

    gc_cl_cache_stats s = open_close(); /* empty cache: build and store */
    ck_assert_int_eq(s.builds, 1);
    ck_assert_int_eq(s.stores, 1);
    ck_assert_int_eq(s.hits, 0);

    s = open_close(); /* second start: loaded from the cache */
    ck_assert_int_eq(s.hits, 1);
    ck_assert_int_eq(s.builds, 0);

    char path[PATH_MAX];
    ck_assert(find_cache_file(root, path, sizeof path));
    void *data;
    size_t n;
    GT_OK(gc_fs_read_file(path, 1u << 30, &data, &n));

    /* A flipped byte in the binary: detected, rebuilt, rewritten. */
    ((unsigned char *)data)[n / 2] ^= 0x5a;
    GT_OK(gc_fs_write_atomic(path, data, n));
    s = open_close();
    ck_assert_int_eq(s.corrupt, 1);
    ck_assert_int_eq(s.builds, 1);
    ck_assert_int_eq(s.stores, 1);
    s = open_close();
    ck_assert_int_eq(s.hits, 1);

    /* A truncated file and a garbage file: the same. */
    GT_OK(gc_fs_write_atomic(path, data, n / 3));
    s = open_close();
    ck_assert_int_eq(s.corrupt, 1);
    ck_assert_int_eq(s.builds, 1);
    GT_OK(gc_fs_write_atomic(path, "GCLBIN01garbage", 15));
    s = open_close();
    ck_assert_int_eq(s.corrupt, 1);
    ck_assert_int_eq(s.builds, 1);
    free(data);

    /* GANCL_KERNEL_CACHE=off: built, nothing stored or loaded. */
    setenv("GANCL_KERNEL_CACHE", "off", 1);
    s = open_close();
    ck_assert_int_eq(s.builds, 1);
    ck_assert_int_eq(s.hits + s.stores, 0);
    unsetenv("GANCL_KERNEL_CACHE");

    gt_rmtree(root);
    unsetenv("XDG_CACHE_HOME");
}
END_TEST

/* An ICD loader with no driver: everything runs on cpu, with a notice. */
START_TEST(no_opencl_platform_falls_back_to_cpu)
{
    char dir[128];
    gt_tmpdir_new(dir, sizeof dir, "noicd");
    char cmd[1024], out[8192];
    snprintf(cmd, sizeof cmd, "OCL_ICD_VENDORS=%s %s list-devices 2>&1", dir, GANCL_BINARY);
    ck_assert_int_eq(gt_sh(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "no OpenCL platform"), "%s", out);
    ck_assert_msg(strstr(out, "cpu"), "%s", out);

    /* Asking for an OpenCL device: exit 2, one line naming the choices. */
    snprintf(cmd, sizeof cmd, "OCL_ICD_VENDORS=%s %s --device 0 bench ops 2>&1", dir, GANCL_BINARY);
    ck_assert_int_eq(gt_sh(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "valid choices: cpu") && strchr(out, '\n') == out + strlen(out) - 1,
                  "%s", out);

    /* No choice at all: the CPU reference, and a notice saying why. */
    uint8_t pixels[4 * 8 * 8];
    for (size_t i = 0; i < sizeof pixels; i++)
        pixels[i] = (uint8_t)(i * 37);
    gc_idx images = {.kind = GC_IDX_IMAGES, .data = pixels, .n = 4, .h = 8, .w = 8};
    char data[256];
    snprintf(data, sizeof data, "%s/tiny.idx", dir);
    GT_OK(gc_idx_write(data, &images, 0));
    snprintf(cmd, sizeof cmd,
             "OCL_ICD_VENDORS=%s GANCL_DEVICE= %s train --model seed --data %s --batch 2 "
             "--steps 1 --out %s/run 2>&1",
             dir, GANCL_BINARY, data, dir);
    ck_assert_int_eq(gt_sh(cmd, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "running on the CPU reference backend"), "%s", out);
    gt_rmtree(dir);
}
END_TEST

/* GANCL_KERNEL_DIR: kernels read from disk; a broken kernel gives the build
 * log and a one-line error, not a crash. */
START_TEST(kernel_dir_from_disk_and_build_failure)
{
    if (!have_opencl()) gt_skip_no_opencl("kernel_dir_from_disk_and_build_failure");
    setenv("GANCL_KERNEL_CACHE", "off", 1);
    setenv("GANCL_KERNEL_DIR", GANCL_SOURCE_DIR "/cl", 1);
    gc_backend *be = NULL;
    GT_OK(gc_backend_init("0", &be));
    gc_backend_free(be);

    char dir[128];
    gt_tmpdir_new(dir, sizeof dir, "kdir");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp %s/cl/*.cl %s/ && echo 'this is not OpenCL C;' >> %s/common.cl",
             GANCL_SOURCE_DIR, dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    setenv("GANCL_KERNEL_DIR", dir, 1);
    be = NULL;
    ck_assert_int_eq(gc_backend_init("0", &be), GC_ERR_DEVICE);
    ck_assert_ptr_null(be);
    ck_assert_msg(strstr(gc_last_error(), "build log"), "%s", gc_last_error());

    snprintf(cmd, sizeof cmd, "%s/nowhere", dir);
    setenv("GANCL_KERNEL_DIR", cmd, 1);
    ck_assert_int_ne(gc_backend_init("0", &be), GC_OK);
    ck_assert_msg(strstr(gc_last_error(), "GANCL_KERNEL_DIR"), "%s", gc_last_error());

    unsetenv("GANCL_KERNEL_DIR");
    unsetenv("GANCL_KERNEL_CACHE");
    gt_rmtree(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("runtime");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, select_cpu_and_bad_specs);
    tcase_add_test(tc, default_honours_environment);
    tcase_add_test(tc, allocation_above_device_limit_is_refused);
    tcase_add_test(tc, kernel_cache_hit_and_corruption);
    tcase_add_test(tc, no_opencl_platform_falls_back_to_cpu);
    tcase_add_test(tc, kernel_dir_from_disk_and_build_failure);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

/* tests/support/test_files.c - temporary folders, path joining and whole
 * file reads and writes for tests. */
#define _GNU_SOURCE /* nftw, mkdtemp, program_invocation_short_name */
#include "test_files.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void gt_tmpdir_new(char *dir, size_t n, const char *tag)
{
    int len = snprintf(dir, n, "/tmp/gancl-test-%s-XXXXXX", tag);
    ck_assert_msg(len > 0 && (size_t)len < n, "folder name for %s does not fit", tag);
    ck_assert_msg(mkdtemp(dir) != NULL, "cannot make %s", dir);
}

static char tmp_dir[256];

void gt_tmp_setup(void)
{
    const char *name = program_invocation_short_name;
    if (!strncmp(name, "test_", 5)) name += 5;
    gt_tmpdir_new(tmp_dir, sizeof tmp_dir, name);
}

void gt_tmp_teardown(void)
{
    gt_rmtree(tmp_dir);
    tmp_dir[0] = 0;
}

const char *gt_tmp(void)
{
    ck_assert_msg(tmp_dir[0], "gt_tmp() outside the gt_tmp_setup fixture");
    return tmp_dir;
}

const char *gt_tmp_path(const char *name)
{
    return gt_path(gt_tmp(), name);
}

/* Folders to remove at exit: a few per test binary at most. */
static char *at_exit_dirs[16];
static int n_at_exit;

static void remove_at_exit(void)
{
    for (int i = 0; i < n_at_exit; i++) {
        gt_rmtree(at_exit_dirs[i]);
        free(at_exit_dirs[i]);
    }
    n_at_exit = 0;
}

void gt_tmpdir_at_exit(char *dir, size_t n, const char *tag)
{
    ck_assert_int_lt(n_at_exit, (int)(sizeof at_exit_dirs / sizeof at_exit_dirs[0]));
    gt_tmpdir_new(dir, n, tag);
    if (n_at_exit == 0) atexit(remove_at_exit);
    char *copy = malloc(n);
    ck_assert_ptr_nonnull(copy);
    snprintf(copy, n, "%s", dir);
    at_exit_dirs[n_at_exit++] = copy;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0; /* keep going: remove what can be removed */
}

void gt_rmtree(const char *path)
{
    if (path && path[0]) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *gt_path(const char *dir, const char *name)
{
    static char buf[GT_PATH_SLOTS][1024];
    static int k;
    k = (k + 1) % GT_PATH_SLOTS;
    int len = snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    ck_assert_msg(len > 0 && (size_t)len < sizeof buf[k], "path %s/%s too long", dir, name);
    return buf[k];
}

void gt_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

void *gt_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s is missing", path);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    long sz = ftell(f);
    ck_assert_int_ge(sz, 0);
    rewind(f);
    char *b = malloc((size_t)sz + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)sz, f), (size_t)sz);
    b[sz] = 0;
    fclose(f);
    if (n) *n = (size_t)sz;
    return b;
}

long long gt_file_size(const char *dir, const char *name)
{
    struct stat st;
    return stat(gt_path(dir, name), &st) ? -1 : (long long)st.st_size;
}

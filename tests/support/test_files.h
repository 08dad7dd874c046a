/* tests/support/test_files.h - files and folders for tests.
 *
 * - a per-test folder: tcase_add_checked_fixture(tc, gt_tmp_setup,
 *   gt_tmp_teardown) gives each test a fresh, empty gt_tmp(), removed
 *   with its contents after the test; gt_tmp_path(name) is a file in it.
 * - folders: a fresh /tmp/gancl-test-<tag>-XXXXXX per call, removed with
 *   everything below it by gt_rmtree, or at exit when made by
 *   gt_tmpdir_at_exit (for suites that share one folder across tests).
 * - paths: gt_path joins a folder and a name into one of a few rotating
 *   static buffers, so that several can appear in one call.
 * - contents: whole files written and read back; any failure fails the
 *   current Check test.
 */
#ifndef GANCL_TEST_FILES_H
#define GANCL_TEST_FILES_H

#include <stddef.h>

/* Checked fixture: a fresh folder per test (named after the program),
 * and its removal. */
void gt_tmp_setup(void);
void gt_tmp_teardown(void);
const char *gt_tmp(void);
const char *gt_tmp_path(const char *name); /* gt_path(gt_tmp(), name) */

/* Writes the new folder's path into dir (n bytes). */
void gt_tmpdir_new(char *dir, size_t n, const char *tag);
/* The same, and registers the folder for removal at exit. */
void gt_tmpdir_at_exit(char *dir, size_t n, const char *tag);
/* Removes path and everything below it, without following links; a
 * missing path is not an error. */
void gt_rmtree(const char *path);

/* "dir/name"; valid until GT_PATH_SLOTS more calls. */
#define GT_PATH_SLOTS 8
const char *gt_path(const char *dir, const char *name);

void gt_write_file(const char *path, const void *data, size_t n);
/* The whole file, malloc'ed with a NUL after the last byte (so text can be
 * used as a string); its length in *n when n is not NULL.  A missing file
 * fails the test naming it. */
void *gt_read_file(const char *path, size_t *n);
/* Size in bytes of dir/name, or -1 when it does not exist. */
long long gt_file_size(const char *dir, const char *name);

#endif

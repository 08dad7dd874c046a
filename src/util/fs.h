/* src/util/fs.h - files written safely, folders, the cache directory.
 *
 * Every file gancl writes for keeps (checkpoints, samples, plots, kernel
 * binaries) goes through gc_fs_write_atomic: a temporary file beside the
 * target, fsync, rename, fsync of the folder.  A crash at any moment leaves
 * either the old file or the new one, never a torn one.
 */
#ifndef GANCL_UTIL_FS_H
#define GANCL_UTIL_FS_H

#include <stddef.h>

#include "gancl/status.h"

/* Writes n bytes atomically to path. */
gc_status gc_fs_write_atomic(const char *path, const void *data, size_t n);

/* Writes the concatenation of count (data, size) parts atomically. */
typedef struct gc_fs_part {
    const void *data;
    size_t size;
} gc_fs_part;
gc_status gc_fs_write_parts_atomic(const char *path, const gc_fs_part *parts, int count);

/* Reads a whole regular file (refusing directories and files larger than
 * max_bytes).  *data is malloc'ed with a trailing NUL not counted in *n. */
gc_status gc_fs_read_file(const char *path, size_t max_bytes, void **data, size_t *n);

/* Reads a text file as gc_fs_read_file does and calls fn with each line
 * (NUL-terminated, without its newline), stopping at the first status
 * that is not GC_OK: how the run logs (fid.csv, diversity.csv) reload
 * their rows. */
gc_status gc_fs_for_each_line(const char *path, size_t max_bytes,
                              gc_status (*fn)(void *ctx, char *line), void *ctx);

/* mkdir -p. */
gc_status gc_fs_mkdirs(const char *path);

/* $XDG_CACHE_HOME/gancl or $HOME/.cache/gancl, created if missing. */
gc_status gc_fs_cache_dir(char *buf, size_t n);

/* Removes the temporary files (NAME.tmp-XXXXXX) that an interrupted
 * gc_fs_write_atomic leaves in dir and that were last modified at least
 * min_age seconds ago; returns how many.  min_age 0 is for a folder no
 * other process writes to at the moment (see util/lock.h); a shared one
 * (the cache) needs an age no live writer reaches. */
int gc_fs_remove_temps(const char *dir, int min_age);

/* 1 if path exists and is a directory / a regular file. */
int gc_fs_is_dir(const char *path);
int gc_fs_is_file(const char *path);

/* 1 if dir holds a visible entry (a name not starting with '.'); a folder
 * that does not exist or cannot be read holds none. */
int gc_fs_has_entries(const char *dir);

#endif

/* src/util/fs.c - atomic writes, whole-file reads, mkdir -p, the cache dir. */
#include "util/fs.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/fault.h"

static gc_status write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return GC_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return GC_OK;
}

/* fsync of the folder holding path, so the rename itself is durable. */
static void sync_parent(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

gc_status gc_fs_write_parts_atomic(const char *path, const gc_fs_part *parts, int count)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return gc_error(GC_ERR_IO, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0) return gc_error(GC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    /* mkstemp creates 0600; give the file the mode open(2) would have. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    gc_status s = GC_OK;
    int err = 0;
    if (gc_fault_hit(GC_FAULT_CRASH)) {
        if (count > 0) write_all(fd, parts[0].data, parts[0].size / 2);
        raise(SIGKILL);
    }
    if (gc_fault_hit(GC_FAULT_FILE)) {
        /* A full disk: half of the first part lands in the temporary file. */
        if (count > 0) write_all(fd, parts[0].data, parts[0].size / 2);
        s = GC_ERR_IO, err = ENOSPC;
    }
    for (int i = 0; i < count && s == GC_OK; i++)
        if (parts[i].size && (s = write_all(fd, parts[i].data, parts[i].size)) != GC_OK)
            err = errno;
    if (s == GC_OK && fsync(fd) != 0) s = GC_ERR_IO, err = errno;
    if (close(fd) != 0 && s == GC_OK) {
        s = GC_ERR_IO;
        err = errno;
    }
    if (s == GC_OK && rename(tmp, path) != 0) {
        s = GC_ERR_IO;
        err = errno;
    }
    if (s != GC_OK) {
        unlink(tmp);
        return gc_error(GC_ERR_IO, "%s: cannot write: %s", path, strerror(err));
    }
    sync_parent(path);
    return GC_OK;
}

gc_status gc_fs_write_atomic(const char *path, const void *data, size_t n)
{
    gc_fs_part part = {data, n};
    return gc_fs_write_parts_atomic(path, &part, 1);
}

gc_status gc_fs_read_file(const char *path, size_t max_bytes, void **data, size_t *n)
{
    *data = NULL;
    *n = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return gc_error(GC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gc_error(GC_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        close(fd);
        return gc_error(GC_ERR_FORMAT, "%s: file too large (%lld bytes, limit %zu)", path,
                        (long long)st.st_size, max_bytes);
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return gc_error(GC_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(buf);
        return gc_error(GC_ERR_IO, "%s: short read", path);
    }
    buf[size] = '\0';
    *data = buf;
    *n = size;
    return GC_OK;
}

gc_status gc_fs_for_each_line(const char *path, size_t max_bytes,
                              gc_status (*fn)(void *ctx, char *line), void *ctx)
{
    char *text;
    size_t n;
    GC_TRY(gc_fs_read_file(path, max_bytes, (void **)&text, &n));
    gc_status s = GC_OK;
    for (char *line = text, *next; line && *line && s == GC_OK; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        s = fn(ctx, line);
    }
    free(text);
    return s;
}

gc_status gc_fs_mkdirs(const char *path)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return gc_error(GC_ERR_IO, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return gc_error(GC_ERR_IO, "%s: cannot create folder: %s", buf, strerror(errno));
            if (!gc_fs_is_dir(buf))
                return gc_error(GC_ERR_IO, "%s: exists and is not a folder", buf);
            *p = saved;
            if (!saved) break;
        }
    }
    return GC_OK;
}

gc_status gc_fs_cache_dir(char *buf, size_t n)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int w;
    if (xdg && *xdg)
        w = snprintf(buf, n, "%s/gancl", xdg);
    else if (home && *home)
        w = snprintf(buf, n, "%s/.cache/gancl", home);
    else
        return gc_error(GC_ERR_IO, "neither XDG_CACHE_HOME nor HOME is set");
    if (w < 0 || (size_t)w >= n) return gc_error(GC_ERR_IO, "cache path too long");
    return gc_fs_mkdirs(buf);
}

int gc_fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int gc_fs_is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Names gc_fs_write_parts_atomic gives its temporary files: NAME.tmp-XXXXXX. */
static int is_temp_name(const char *name)
{
    const char *t = strstr(name, ".tmp-");
    while (t && strstr(t + 1, ".tmp-"))
        t = strstr(t + 1, ".tmp-");
    return t && t != name && strlen(t + 5) == 6;
}

int gc_fs_remove_temps(const char *dir, int min_age)
{
    time_t now = time(NULL);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_temp_name(e->d_name)) continue;
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path) continue;
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || now - st.st_mtime < min_age) continue;
        if (unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}

int gc_fs_has_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d)))
        any = e->d_name[0] != '.';
    closedir(d);
    return any;
}

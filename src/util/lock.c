/* src/util/lock.c - the run-folder lock: a pid file under flock(2). */
#include "util/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"

static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    long pid = strtol(buf, NULL, 10);
    return pid > 0 ? pid : 0;
}

gc_status gc_lock_acquire(const char *path, gc_lock *lock, long *stale_pid)
{
    lock->fd = -1;
    if (stale_pid) *stale_pid = 0;
    if (snprintf(lock->path, sizeof lock->path, "%s", path) >= (int)sizeof lock->path)
        return gc_error(GC_ERR_IO, "%s: path too long", path);
    /* A releasing owner unlinks the file while holding the flock; whoever
     * locked the old inode meanwhile must notice and retry on the new one,
     * or two processes would each hold a lock on a different inode. */
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) return gc_error(GC_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int err = errno;
            long pid = read_pid(fd);
            close(fd);
            if (err == EWOULDBLOCK) {
                if (pid) return gc_error(GC_ERR_IO, "%s: in use by gancl process %ld", path, pid);
                return gc_error(GC_ERR_IO, "%s: in use by another gancl process", path);
            }
            return gc_error(GC_ERR_IO, "%s: cannot lock: %s", path, strerror(err));
        }
        struct stat a, b;
        if (fstat(fd, &a) != 0 || stat(path, &b) != 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev) {
            close(fd);
            continue;
        }
        long old = read_pid(fd);
        if (stale_pid && old && old != (long)getpid()) *stale_pid = old;
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
            int err = errno;
            close(fd);
            return gc_error(GC_ERR_IO, "%s: cannot write: %s", path, strerror(err));
        }
        lock->fd = fd;
        return GC_OK;
    }
    return gc_error(GC_ERR_IO, "%s: cannot lock: the file keeps being replaced", path);
}

void gc_lock_release(gc_lock *lock)
{
    if (lock->fd < 0) return;
    unlink(lock->path); /* before the flock goes, so no one locks a dying inode unnoticed */
    close(lock->fd);
    lock->fd = -1;
}

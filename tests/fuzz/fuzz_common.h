/* tests/fuzz/fuzz_common.h - what every fuzz target shares: the input is
 * written to one temporary file per process (in /dev/shm when there is one,
 * so no disk is touched), because the readers take paths, as gancl does. */
#ifndef GANCL_FUZZ_COMMON_H
#define GANCL_FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_path[256];

static void fuzz_remove_file(void)
{
    unlink(fuzz_path);
}

/* The path holding exactly data[0, size). */
static const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    if (!fuzz_path[0]) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_path, sizeof fuzz_path, "%s/gancl-fuzz-%s-%ld", dir, name, (long)getpid());
        atexit(fuzz_remove_file);
    }
    int fd = open(fuzz_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(fuzz_path);
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            perror(fuzz_path);
            abort();
        }
        done += (size_t)w;
    }
    close(fd);
    return fuzz_path;
}

/* Warnings on stderr would drown libFuzzer's own output. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("GANCL_LOG", "quiet", 1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

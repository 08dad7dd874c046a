/* tests/support/test_proc.h - running programs (mostly the gancl binary)
 * from tests and collecting what they did.
 *
 * - argv: gt_spawn / gt_run start prog with a NULL-terminated argument
 *   list (without argv[0]), optional "NAME=value" environment additions,
 *   and stdout / stderr sent to files or a pipe; output goes to files, not
 *   pipes, wherever the test does not read it live, so that a chatty child
 *   cannot block on a full pipe.
 * - command lines: gt_sh runs a line through /bin/sh (redirections and
 *   VAR=value prefixes allowed) and captures its stdout.
 * - exit codes: the child's exit status, or 128 + the signal that killed
 *   it, as a shell reports them.
 *
 * The gancl binary's path, GANCL_BINARY, is known to each test, not to
 * this library: the GT_GANCL_* macros expand in the test.
 */
#ifndef GANCL_TEST_PROC_H
#define GANCL_TEST_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct gt_io {
    const char *const *env; /* NULL-terminated "NAME=value" list, or NULL */
    const char *out_path;   /* stdout into this file (NULL: inherited) */
    const char *err_path;   /* stderr into this file (NULL: inherited) */
    int *out_fd;            /* non-NULL: stdout into a pipe whose read end
                               lands here (out_path is then ignored) */
} gt_io;

/* Starts prog; fails the test when fork fails.  An exec failure is exit
 * code 127. */
pid_t gt_spawn(const char *prog, const char *const *args, const gt_io *io);
/* Waits for pid and returns its exit code. */
int gt_wait(pid_t pid);
/* gt_spawn then gt_wait. */
int gt_run(const char *prog, const char *const *args, const gt_io *io);

/* What a finished program did: its exit code and everything it wrote. */
typedef struct gt_result {
    int code;
    char *out, *err; /* malloc'ed, NUL-terminated */
} gt_result;
/* gt_run with stdout and stderr into dir/stdout and dir/stderr, read back
 * into the result (env as in gt_io). */
gt_result gt_run_capture(const char *prog, const char *const *args, const char *const *env,
                         const char *dir);
void gt_result_free(gt_result *r);

/* Runs cmdline with sh; up to n - 1 bytes of its stdout into out
 * (NUL-terminated); returns the exit code. */
int gt_sh(const char *cmdline, char *out, size_t n);

/* A NULL-terminated argument list from a literal list. */
#define GT_ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
/* Runs the gancl binary with these arguments and io; the exit code. */
#define GT_GANCL(io, ...) gt_run(GANCL_BINARY, GT_ARGS(__VA_ARGS__), io)

#endif

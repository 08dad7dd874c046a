/* tests/support/test_proc.c - starting programs with redirected output,
 * waiting for them, and shell command lines with captured output. */
#define _XOPEN_SOURCE 700 /* fdopen, environ */
#include "test_proc.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_files.h"

static int exit_code(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* In the child: only async-signal-safe calls before exec, and _exit. */
static void redirect(const char *path, int fd)
{
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f < 0 || dup2(f, fd) < 0) _exit(127);
    close(f);
}

pid_t gt_spawn(const char *prog, const char *const *args, const gt_io *io)
{
    const char *argv[64] = {prog};
    int n = 1;
    for (; args[n - 1]; n++)
        ck_assert_int_lt(n, 63);
    for (int i = 1; i < n; i++)
        argv[i] = args[i - 1];
    argv[n] = NULL;
    gt_io none = {0};
    if (!io) io = &none;
    /* The environment is built here: the child may only exec (a malloc
     * after fork can deadlock when the parent has threads, as OpenCL
     * drivers do). */
    extern char **environ;
    char **envp = environ;
    if (io->env) {
        size_t ne = 0, na = 0;
        while (environ[ne])
            ne++;
        while (io->env[na])
            na++;
        envp = calloc(ne + na + 1, sizeof(char *));
        ck_assert_ptr_nonnull(envp);
        size_t k = 0;
        for (size_t i = 0; i < ne; i++) {
            size_t eq = strcspn(environ[i], "=");
            int replaced = 0;
            for (size_t j = 0; j < na; j++)
                replaced |= !strncmp(io->env[j], environ[i], eq) && io->env[j][eq] == '=';
            if (!replaced) envp[k++] = environ[i];
        }
        for (size_t j = 0; j < na; j++)
            envp[k++] = (char *)io->env[j];
        envp[k] = NULL;
    }
    int fds[2] = {-1, -1};
    if (io->out_fd) ck_assert_int_eq(pipe(fds), 0);
    fflush(stdout); /* else the child would print the parent's buffer again */
    fflush(stderr);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (io->err_path) redirect(io->err_path, STDERR_FILENO);
        if (io->out_fd) {
            dup2(fds[1], STDOUT_FILENO);
            close(fds[0]);
            close(fds[1]);
        } else if (io->out_path) {
            redirect(io->out_path, STDOUT_FILENO);
        }
        execve(prog, (char *const *)argv, envp);
        _exit(127);
    }
    if (envp != environ) free(envp);
    if (io->out_fd) {
        close(fds[1]);
        *io->out_fd = fds[0];
    }
    return pid;
}

int gt_wait(pid_t pid)
{
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return exit_code(status);
}

int gt_run(const char *prog, const char *const *args, const gt_io *io)
{
    return gt_wait(gt_spawn(prog, args, io));
}

int gt_sh(const char *cmdline, char *out, size_t n)
{
    fflush(stdout);
    FILE *p = popen(cmdline, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmdline);
    size_t got = fread(out, 1, n - 1, p);
    out[got] = 0;
    return exit_code(pclose(p));
}

gt_result gt_run_capture(const char *prog, const char *const *args, const char *const *env,
                         const char *dir)
{
    char out_path[4096], err_path[4096];
    snprintf(out_path, sizeof out_path, "%s/stdout", dir);
    snprintf(err_path, sizeof err_path, "%s/stderr", dir);
    gt_result r;
    r.code = gt_run(prog, args, &(gt_io){.env = env, .out_path = out_path, .err_path = err_path});
    r.out = gt_read_file(out_path, NULL);
    r.err = gt_read_file(err_path, NULL);
    return r;
}

void gt_result_free(gt_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

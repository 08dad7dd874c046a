/* src/cli/commands.h - the gancl commands and what they share.
 *
 * main.c parses the global options (--device before the command), then
 * calls one gc_cmd_* with the command's own arguments (argv[0] is the
 * command name), which it parses with getopt_long.  Commands print errors as
 * one line "gancl: <message>" on stderr and return the process exit code:
 * 0 success, 1 device or runtime failure, 2 bad input (flags, files),
 * 3 training diverged (NaN/Inf; the last good checkpoint is kept),
 * 130/143 interrupted by SIGINT/SIGTERM.
 */
#ifndef GANCL_CLI_COMMANDS_H
#define GANCL_CLI_COMMANDS_H

#include <stddef.h>

#include "gancl/backend.h"
#include "gancl/status.h"

typedef struct gc_cli {
    const char *device; /* --device given before the command, or NULL */
} gc_cli;

int gc_cmd_list_devices(gc_cli *cli, int argc, char **argv);
int gc_cmd_bench(gc_cli *cli, int argc, char **argv);
int gc_cmd_train(gc_cli *cli, int argc, char **argv);
int gc_cmd_sample(gc_cli *cli, int argc, char **argv);
/* `gancl export` (src/cli/cmd_export.c): a labelled synthetic data set. */
int gc_cmd_export(gc_cli *cli, int argc, char **argv);
/* `gancl classify train|eval` (src/cli/cmd_classify.c). */
int gc_cmd_classify(gc_cli *cli, int argc, char **argv);
/* `gancl augment-eval` (src/cli/cmd_augment.c). */
int gc_cmd_augment_eval(gc_cli *cli, int argc, char **argv);

/* `gancl bench train` (src/cli/bench_train.c), called by gc_cmd_bench. */
int gc_cmd_bench_train(gc_cli *cli, int argc, char **argv);

/* `gancl fid` and `gancl fid-stats` (src/cli/cmd_fid.c). */
int gc_cmd_fid(gc_cli *cli, int argc, char **argv);
int gc_cmd_fid_stats(gc_cli *cli, int argc, char **argv);
/* `gancl bench fid` (src/cli/bench_fid.c), called by gc_cmd_bench. */
int gc_cmd_bench_fid(gc_cli *cli, int argc, char **argv);

/* `gancl tune` (src/cli/cmd_tune.c): per-device GEMM tuning. */
int gc_cmd_tune(gc_cli *cli, int argc, char **argv);

/* Opens the backend named by spec (a command's --device), else cli->device,
 * else the default.  On failure prints the error and returns the exit
 * code (non-zero). */
int gc_cli_open_backend(gc_cli *cli, const char *spec, gc_backend **out);
/* The same for commands that run long on the device: an OpenCL device
 * without a GEMM tuning file is measured once first (gc_cl_tune_auto). */
int gc_cli_open_backend_tuned(gc_cli *cli, const char *spec, gc_backend **out);

/* Prints "gancl: <gc_last_error()>" and returns the exit code for s. */
int gc_cli_fail(gc_status s);
/* Prints "gancl: <message>" and returns 2 (a usage error). */
int gc_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The exit code for a status. */
int gc_cli_exit_code(gc_status s);

/* What a command's parse function returns after --help (or another flag
 * that answers by itself): nothing to run, exit 0. */
#define GC_CLI_DONE (-1)

/* The longest path a path flag takes (run folders get files below it). */
#define GC_CLI_PATH_MAX 3900

/* The one-line message for getopt_long's ':' (missing value) and '?'
 * (unknown option, or a value given to a flag that takes none); cmd names
 * the command for the message, opts are getopt_long's.  Returns 2.  Expects opterr = 0 and an
 * optstring starting with ':'. */
struct option;
int gc_cli_bad_option(const char *cmd, const struct option *opts, int opt, int argc, char **argv);
/* A path flag's value must be non-empty and shorter than max; else prints
 * "gancl: --flag: ..." and returns 0. */
int gc_cli_check_path(const char *flag, const char *s, size_t max);

/* A --device value must be "cpu" or a device index (digits); else prints
 * "gancl: --flag: ..." and returns 0. */
int gc_cli_check_device(const char *flag, const char *s);

/* Strict number parsing for flags: the whole string must be a number in
 * [lo, hi]; on failure prints "gancl: --flag: ..." and returns 0. */
int gc_cli_parse_int(const char *flag, const char *s, long long lo, long long hi, long long *out);
int gc_cli_parse_float(const char *flag, const char *s, double lo, double hi, double *out);

#endif

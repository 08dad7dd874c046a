/* tests/fuzz/fuzz_cli.c - libFuzzer target for gancl's command-line
 * parsers (src/cli/cli_args.h, src/cli/train_args.h): the global options
 * and every command's flags, parsed and never run.
 *
 * Input: the first byte picks the parser (0: the global options, then the
 * command they name, as main() does; else one command's parser alone); the
 * rest is split into arguments at NUL and newline bytes, at most MAX_ARGS.
 * An argument that is one byte from 0x80 up stands for a token below (every
 * flag, and values on the edges), so that the fuzzer reaches them without a
 * dictionary.  Each argument is a malloc'ed string of its own, so ASan sees
 * a read past any one of them.
 *
 * Beyond memory errors, leaks and UB, it checks the parsers' contract: a
 * failure prints exactly one line "gancl: ...\n" on stderr, success prints
 * nothing there, the strings a parser returns point into argv, and a second
 * parse of the same arguments gives the same answer (no state survives).
 *
 * Links: the instrumented gancl_cli library (src/cli/ without main.c) and
 * gancl_lib.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/train_args.h"

#define MAX_ARGS 64

static const char *const tokens[] = {
    "--device", "--device=", "--help", "-h", "--version", "--", "-", "cpu", "0", "99",
    "list-devices", "train", "sample", "fid", "fid-stats", "tune", "bench", "--json",
    /* train */
    "--model", "seed", "dcgan", "--data", "--epochs", "--steps", "--batch", "--lr", "--beta1",
    "--beta2", "--latent", "--g-width", "--d-width", "--seed", "--out", "--sample-every",
    "--log-every", "--check-every", "--resume", "--fid-every", "--fid-n", "--fid-dims",
    "--fid-weights", "--conditional",
    /* train: colour data and the remedies against mode collapse */
    "--size", "--channels", "--background", "white", "black", "--data-cache", "none", "--ngf",
    "--ndf", "--spectral-norm", "--mbstd", "--loss", "hinge", "bce", "--diffaug", "all",
    "color,translation", "cutout,,color", "--ema", "0.999", "--remedies", "--no-diversity",
    "--save-every",
    /* sample, fid, tune */
    "--checkpoint", "--n", "--weights", "--dims", "x.png", "x/", "x.idx.gz", "/", "--quick",
    "--dry-run", "--reset",
    /* sample --class, export */
    "export", "--class", "--per-class", "--format", "idx", "png", "x-prefix",
    /* classify */
    "classify", "eval", "--classifier", "--test", "--test-labels", "--limit-per-class", "--labels",
    /* values on the edges */
    "-1", "1e309", "nan", "inf", "64x", "0x10", "9223372036854775808", "2048", "1", "", "--lr=1e-3",
    "--help=1", "--json=1", "--out="};
#define N_TOKENS (sizeof tokens / sizeof tokens[0])
_Static_assert(N_TOKENS <= 128, "tokens beyond 128 cannot be reached");

static const char *const commands[] = {"list-devices", "train", "sample", "fid",
                                       "fid-stats",    "tune",  "export", "classify"};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static FILE *null_out;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("GANCL_LOG", "quiet", 1);
    /* --help texts would drown libFuzzer's output. */
    null_out = fopen("/dev/null", "w");
    if (!null_out) abort();
    return 0;
}

/* Inside one argv: the strings a parser hands back must be argv's own. */
static void check_in_argv(const char *s, int argc, char **argv)
{
    if (!s) return;
    for (int i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        if (s >= argv[i] && s <= argv[i] + n) return;
    }
    abort();
}

/* Runs one parser with stdout to /dev/null and stderr captured, then checks
 * what it printed there against its return value. */
static int run_parser(int which, int argc, char **argv, int *cmd_index, char **err_out)
{
    char *err = NULL;
    size_t err_len = 0;
    FILE *mem = open_memstream(&err, &err_len);
    if (!mem) abort();
    FILE *saved_out = stdout, *saved_err = stderr;
    stdout = null_out;
    stderr = mem;
    int rc = 0;
    char **copy = malloc(sizeof(char *) * (size_t)(argc + 1));
    if (!copy) abort();
    memcpy(copy, argv, sizeof(char *) * (size_t)(argc + 1)); /* getopt_long permutes it */
    switch (which) {
    case -1: {
        gc_cli cli;
        rc = gc_global_args_parse(argc, copy, &cli, cmd_index);
        if (!rc) {
            check_in_argv(cli.device, argc, copy);
            if (*cmd_index < 1 || *cmd_index >= argc) abort();
        }
        break;
    }
    case 0: {
        gc_list_devices_args a;
        rc = gc_list_devices_args_parse(argc, copy, &a);
        break;
    }
    case 1: {
        gc_train_args a;
        memset(&a, 0, sizeof a);
        rc = gc_train_args_parse(argc, copy, &a);
        if (!rc) {
            const char *s[] = {a.data, a.out, a.resume, a.device, a.fid_weights};
            for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
                check_in_argv(s[k], argc, copy);
            if (a.cfg.batch < 2 || !(a.cfg.lr > 0) || a.cfg.check_every < 0) abort();
        }
        break;
    }
    case 2: {
        gc_sample_args a;
        rc = gc_sample_args_parse(argc, copy, &a);
        if (!rc) {
            check_in_argv(a.checkpoint, argc, copy);
            check_in_argv(a.out, argc, copy);
            check_in_argv(a.device, argc, copy);
            if (!a.checkpoint || !a.out || a.n < 1 || a.cls < -1) abort();
        }
        break;
    }
    case 3:
    case 4: {
        gc_fid_args a;
        rc = gc_fid_args_parse(argc, copy, which == 4, &a);
        if (!rc) {
            if (a.npos != (which == 4 ? 1 : 2)) abort();
            for (int i = 0; i < a.npos; i++)
                check_in_argv(a.pos[i], argc, copy);
            check_in_argv(a.out, argc, copy);
            check_in_argv(a.weights, argc, copy);
            check_in_argv(a.device, argc, copy);
        }
        break;
    }
    case 6: {
        gc_export_args a;
        rc = gc_export_args_parse(argc, copy, &a);
        if (!rc) {
            check_in_argv(a.checkpoint, argc, copy);
            check_in_argv(a.out, argc, copy);
            check_in_argv(a.device, argc, copy);
            if (!a.checkpoint || !a.out || a.per_class < 1 || a.batch < 1) abort();
        }
        break;
    }
    case 7: {
        gc_classify_args a;
        rc = gc_classify_args_parse(argc, copy, &a);
        if (!rc) {
            const char *s[] = {a.data, a.labels,     a.test,  a.test_labels,
                               a.out,  a.classifier, a.device};
            for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
                check_in_argv(s[k], argc, copy);
            if (a.eval ? !a.classifier : !a.out) abort();
            if (a.batch < 1 || a.epochs < 1 || !(a.lr > 0) || a.limit_per_class < 0) abort();
        }
        break;
    }
    default: {
        gc_tune_args a;
        rc = gc_tune_args_parse(argc, copy, &a);
        if (!rc) check_in_argv(a.device, argc, copy);
        break;
    }
    }
    if (which == -1 && !rc) /* the command index is into the permuted copy */
        for (int i = 0; i < argc; i++)
            if (copy[*cmd_index] == argv[i]) {
                *cmd_index = i;
                break;
            }
    free(copy);
    stdout = saved_out;
    stderr = saved_err;
    fclose(mem);
    /* The contract: one "gancl: " line on failure; silence otherwise (a
     * global usage error prints the usage text instead). */
    int lines = 0;
    for (size_t i = 0; i < err_len; i++)
        lines += err[i] == '\n';
    int usage_text = which == -1 && rc == 2 && err_len > 6 && !strncmp(err, "usage:", 6);
    if (rc > 0 && !usage_text &&
        (lines != 1 || strncmp(err, "gancl: ", 7) || err[err_len - 1] != '\n'))
        abort();
    if (rc <= 0 && err_len) abort();
    if (rc < 0 && rc != GC_CLI_DONE) abort();
    *err_out = err;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int which = data[0] % (N_COMMANDS + 1) - 1; /* -1: the global options */
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = strdup(which < 0 ? "gancl" : commands[which]);
    for (size_t i = 1, j; i < size && argc < MAX_ARGS + 1; i = j + 1) {
        j = i;
        while (j < size && data[j] != 0 && data[j] != '\n')
            j++;
        if (j - i == 1 && data[i] >= 0x80) {
            argv[argc++] = strdup(tokens[(data[i] - 0x80) % N_TOKENS]);
        } else {
            char *a = malloc(j - i + 1);
            if (!a) abort();
            memcpy(a, data + i, j - i);
            a[j - i] = '\0';
            argv[argc++] = a;
        }
    }
    argv[argc] = NULL;
    for (int k = 0; k < argc; k++)
        if (!argv[k]) abort();

    /* Twice: state left behind by the first parse (getopt's, a static)
     * would show as a different answer the second time. */
    int cmd[2] = {0, 0}, rc[2];
    char *err[2];
    for (int t = 0; t < 2; t++)
        rc[t] = run_parser(which, argc, argv, &cmd[t], &err[t]);
    if (rc[0] != rc[1] || cmd[0] != cmd[1] || strcmp(err[0], err[1])) abort();
    free(err[0]);
    free(err[1]);
    if (which == -1 && rc[0] == 0) {
        /* Then the command, with argv[0] its name, as main() does. */
        const char *name = argv[cmd[0]];
        int k = 0;
        while (k < (int)N_COMMANDS && strcmp(name, commands[k]))
            k++;
        /* "bench" parses its own flags in cmd_bench.c, not split (yet). */
        if (k < (int)N_COMMANDS) {
            int unused;
            char *e;
            run_parser(k, argc - cmd[0], argv + cmd[0], &unused, &e);
            free(e);
        }
    }
    for (int k = 0; k < argc; k++)
        free(argv[k]);
    return 0;
}

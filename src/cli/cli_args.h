/* src/cli/cli_args.h - the command-line parsers of gancl, apart from the
 * commands that run them, so that tests/fuzz/fuzz_cli.c can drive every
 * parser without touching a device or a file.  (train's: train_args.h.)
 *
 * Every parser has the same contract: argv[0] is the command name (or the
 * program's, for the global options); getopt_long's state is reset first
 * (optind = 0) and argv may be permuted; strings in the result point into
 * argv; nothing is allocated and no state survives the call.  It returns 0
 * to run, GC_CLI_DONE after --help or --version (printed on stdout), else
 * the exit code after exactly one line "gancl: ..." on stderr.
 */
#ifndef GANCL_CLI_ARGS_H
#define GANCL_CLI_ARGS_H

#include <stdio.h>

#include "cli/commands.h"
#include "gancl/image.h"

/* `gancl [--device N|cpu] COMMAND ...`: *cmd is the index of COMMAND in
 * argv (a known command: an unknown one is an error here). */
int gc_global_args_parse(int argc, char **argv, gc_cli *cli, int *cmd);
void gc_global_usage(FILE *f);

typedef struct gc_list_devices_args {
    int json;
} gc_list_devices_args;
int gc_list_devices_args_parse(int argc, char **argv, gc_list_devices_args *out);

typedef enum { GC_SAMPLE_GRID, GC_SAMPLE_DIR, GC_SAMPLE_IDX } gc_sample_out_kind;
typedef struct gc_sample_args {
    const char *checkpoint, *out, *device;
    long long n, seed; /* seed -1: the run's fixed noise */
    gc_sample_out_kind kind;
    long long cls; /* --class K, or -1: a conditional model's images cycle classes */
} gc_sample_args;
int gc_sample_args_parse(int argc, char **argv, gc_sample_args *out);

/* `gancl export` (cmd_export.c). */
typedef enum { GC_EXPORT_IDX, GC_EXPORT_PNG } gc_export_format;
typedef struct gc_export_args {
    const char *checkpoint, *out, *device;
    long long per_class, seed, batch; /* seed -1: the run's fixed noise */
    gc_export_format format;          /* from --format, else from --out */
} gc_export_args;
int gc_export_args_parse(int argc, char **argv, gc_export_args *out);

typedef struct gc_fid_args {
    const char *weights, *device, *out;
    int dims, dims_given, batch, json;
    long long n, seed;
    int n_given;
    int use_classifier; /* --extractor classifier, or --classifier given */
    int extractor_given;
    const char *classifier; /* --classifier FILE */
    int stats_cmd;          /* fid-stats rather than fid */
    int npos;               /* inputs: 2 for fid, 1 for fid-stats */
    const char *pos[2];     /* A and B */
} gc_fid_args;
/* stats_cmd: parse for fid-stats (one input, --out required). */
int gc_fid_args_parse(int argc, char **argv, int stats_cmd, gc_fid_args *out);

typedef struct gc_tune_args {
    const char *device;
    int quick, dry_run, reset;
} gc_tune_args;
int gc_tune_args_parse(int argc, char **argv, gc_tune_args *out);

/* `gancl classify train|eval` (src/cli/cmd_classify.c): argv[1] is the
 * subcommand. */
typedef struct gc_classify_args {
    int eval; /* classify eval rather than train */
    const char *data, *labels, *test, *test_labels, *out, *classifier, *device;
    long long epochs, batch, seed, limit_per_class; /* limit_per_class 0: all */
    double lr;
    int json;
    gc_image_aug aug; /* --augment */
} gc_classify_args;
int gc_classify_args_parse(int argc, char **argv, gc_classify_args *out);

#endif

/* src/cli/train_args.h - the flags of `gancl train`, parsed apart from the
 * run so that a fuzzer can drive the parser without training anything. */
#ifndef GANCL_CLI_TRAIN_ARGS_H
#define GANCL_CLI_TRAIN_ARGS_H

#include <stdio.h>

#include "gancl/train.h"

#define GC_TRAIN_DEFAULT_DATA "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

typedef struct gc_train_args {
    gc_train_config cfg; /* defaults with the flags applied */
    /* Strings point into argv; NULL when the flag was not given. */
    const char *data, *labels, *out, *resume, *device, *fid_weights, *fid_classifier;
    int conditional; /* --conditional */
    int epochs_set, steps_set, seed_set, log_set, check_set, fid_every_set, fid_n_set, fid_dims_set;
    char model_flag[32]; /* the first flag --resume cannot take, for the message */
} gc_train_args;

/* Parses train's argv (argv[0] is "train"; getopt_long may permute argv).
 * Returns 0 to run, GC_CLI_DONE after --help, else the exit code after one
 * line "gancl: ..." on stderr.  Touches nothing but *out, stdout/stderr and
 * getopt's globals, which it resets first; allocates nothing. */
int gc_train_args_parse(int argc, char **argv, gc_train_args *out);
void gc_train_help(FILE *f);

#endif

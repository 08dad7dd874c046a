/* src/cli/train_args.h - the flags of `gancl train`, parsed apart from the
 * run so that a fuzzer can drive the parser without training anything. */
#ifndef GANCL_CLI_TRAIN_ARGS_H
#define GANCL_CLI_TRAIN_ARGS_H

#include <stdio.h>

#include "gancl/train.h"

#define GC_TRAIN_DEFAULT_DATA "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

/* The collapse diagnostic warns from this step on: before, an untrained G
 * draws look-alike images anyway. */
#define GC_TRAIN_DIVERSITY_WARM_STEPS 1000

typedef struct gc_train_args {
    gc_train_config cfg; /* defaults with the flags applied */
    /* Strings point into argv; NULL when the flag was not given. */
    const char *data, *labels, *out, *resume, *device, *fid_weights, *fid_classifier;
    int conditional; /* --conditional */
    int epochs_set, steps_set, seed_set, log_set, check_set, fid_every_set, fid_n_set, fid_dims_set;
    int save_set;
    /* --channels (0: the data's own, gc_image_options), --data-cache
     * FILE|none (NULL: the default); --size and --background go to cfg. */
    int channels;
    const char *data_cache;
    /* --ngf N (0: not given; G's width is set from it once the data's
     * size, hence the depth, is known), and whether --g-width was given. */
    int ngf, g_width_set;
    int no_diversity;    /* --no-diversity: no collapse diagnostic */
    char model_flag[32]; /* the first flag --resume cannot take, for the message */
} gc_train_args;

/* Parses train's argv (argv[0] is "train"; getopt_long may permute argv).
 * Returns 0 to run, GC_CLI_DONE after --help, else the exit code after one
 * line "gancl: ..." on stderr.  Touches nothing but *out, stdout/stderr and
 * getopt's globals, which it resets first; allocates nothing. */
int gc_train_args_parse(int argc, char **argv, gc_train_args *out);
void gc_train_help(FILE *f);

#endif

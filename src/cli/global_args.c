/* src/cli/global_args.c - the options before the command
 * (`gancl [--device N|cpu] COMMAND`) and the program's --help: parsing only,
 * apart from main.c, so that tests/fuzz/fuzz_cli.c can drive it. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"

void gc_global_usage(FILE *f)
{
    fprintf(f,
            "usage: gancl [--device N|cpu] COMMAND [ARGS]\n"
            "\n"
            "Trains GANs and measures them, on any OpenCL device.\n"
            "\n"
            "commands:\n"
            "  list-devices [--json]   every OpenCL platform and device, plus 'cpu'\n"
            "  train [OPTIONS]         train a DCGAN (default: Fashion-MNIST)\n"
            "  sample [OPTIONS]        generate images from a checkpoint\n"
            "  export [OPTIONS]        a labelled synthetic data set from a conditional GAN\n"
            "  classify train|eval     a small image classifier (for augment-eval and\n"
            "                          classifier FID)\n"
            "  augment-eval [OPTIONS]  does synthetic data help a classifier? (small real\n"
            "                          subset, + synthetic, full set; test accuracy)\n"
            "  fid A B [OPTIONS]       Frechet Inception Distance (pytorch-fid's) of two\n"
            "                          image sets, statistics files or checkpoints\n"
            "  fid-stats A --out F     save the FID statistics of an image set\n"
            "  bench ops|train|fid     GEMM/convolution GFLOP/s, training or Inception images/s\n"
            "  tune [--device N]       measure GEMM kernels on a device, keep the fastest\n"
            "\n"
            "global options:\n"
            "  --device N|cpu          the device: a global index from list-devices, or the\n"
            "                          plain-C reference backend (also $GANCL_DEVICE; default:\n"
            "                          the first GPU, else the first OpenCL device, else cpu)\n"
            "  --help, --version\n"
            "\n"
            "`gancl COMMAND --help` describes a command's options.\n");
}

static const char *const commands[] = {"list-devices", "bench",    "train",        "sample",
                                       "export",       "classify", "augment-eval", "fid",
                                       "fid-stats",    "tune"};

int gc_global_args_parse(int argc, char **argv, gc_cli *cli, int *cmd)
{
    *cli = (gc_cli){0};
    *cmd = 0;
    int i = 1;
    /* "-" alone is no option (and no command either: caught below). */
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            gc_global_usage(stdout);
            return GC_CLI_DONE;
        } else if (!strcmp(a, "--version")) {
            printf("gancl %s\n", GANCL_VERSION);
            return GC_CLI_DONE;
        } else if (!strcmp(a, "--device")) {
            if (i + 1 >= argc) return gc_cli_usage_error("--device needs a value (N or cpu)");
            cli->device = argv[++i];
        } else if (!strncmp(a, "--device=", 9)) {
            cli->device = a + 9;
        } else if (!strcmp(a, "--")) {
            i++;
            break;
        } else {
            return gc_cli_usage_error("unknown option '%s' (see gancl --help)", a);
        }
        if (!gc_cli_check_device("--device", cli->device)) return 2;
    }
    if (i >= argc) {
        gc_global_usage(stderr);
        return 2;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (!strcmp(argv[i], commands[k])) {
            *cmd = i;
            return 0;
        }
    return gc_cli_usage_error("unknown command '%s' (see gancl --help)", argv[i]);
}

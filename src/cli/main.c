/* src/cli/main.c - `gancl [--device N] COMMAND [ARGS]`: global options and
 * command dispatch. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

static void usage(FILE *f)
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

int main(int argc, char **argv)
{
    gc_cli cli = {0};
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("gancl %s\n", GANCL_VERSION);
            return 0;
        } else if (!strcmp(argv[i], "--device")) {
            if (i + 1 >= argc) return gc_cli_usage_error("--device needs a value (N or cpu)");
            cli.device = argv[++i];
        } else if (!strncmp(argv[i], "--device=", 9)) {
            cli.device = argv[i] + 9;
        } else {
            return gc_cli_usage_error("unknown option '%s' (see gancl --help)", argv[i]);
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[i];
    int cargc = argc - i;
    char **cargv = argv + i;
    optind = 0; /* let the command's getopt_long start afresh */
    if (!strcmp(cmd, "list-devices")) return gc_cmd_list_devices(&cli, cargc, cargv);
    if (!strcmp(cmd, "bench")) return gc_cmd_bench(&cli, cargc, cargv);
    if (!strcmp(cmd, "train")) return gc_cmd_train(&cli, cargc, cargv);
    if (!strcmp(cmd, "sample")) return gc_cmd_sample(&cli, cargc, cargv);
    if (!strcmp(cmd, "fid")) return gc_cmd_fid(&cli, cargc, cargv);
    if (!strcmp(cmd, "fid-stats")) return gc_cmd_fid_stats(&cli, cargc, cargv);
    if (!strcmp(cmd, "tune")) return gc_cmd_tune(&cli, cargc, cargv);
    return gc_cli_usage_error("unknown command '%s' (see gancl --help)", cmd);
}

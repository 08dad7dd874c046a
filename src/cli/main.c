/* src/cli/main.c - `gancl [--device N|cpu] COMMAND [ARGS]`: command
 * dispatch (the global options are parsed in global_args.c). */
#include <getopt.h>
#include <string.h>

#include "cli/cli_args.h"

int main(int argc, char **argv)
{
    gc_cli cli;
    int i;
    int rc = gc_global_args_parse(argc, argv, &cli, &i);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    const char *cmd = argv[i];
    int cargc = argc - i;
    char **cargv = argv + i;
    optind = 0; /* for the commands that do not reset getopt_long themselves (bench) */
    if (!strcmp(cmd, "list-devices")) return gc_cmd_list_devices(&cli, cargc, cargv);
    if (!strcmp(cmd, "bench")) return gc_cmd_bench(&cli, cargc, cargv);
    if (!strcmp(cmd, "train")) return gc_cmd_train(&cli, cargc, cargv);
    if (!strcmp(cmd, "sample")) return gc_cmd_sample(&cli, cargc, cargv);
    if (!strcmp(cmd, "export")) return gc_cmd_export(&cli, cargc, cargv);
    if (!strcmp(cmd, "classify")) return gc_cmd_classify(&cli, cargc, cargv);
    if (!strcmp(cmd, "augment-eval")) return gc_cmd_augment_eval(&cli, cargc, cargv);
    if (!strcmp(cmd, "fid")) return gc_cmd_fid(&cli, cargc, cargv);
    if (!strcmp(cmd, "fid-stats")) return gc_cmd_fid_stats(&cli, cargc, cargv);
    if (!strcmp(cmd, "tune")) return gc_cmd_tune(&cli, cargc, cargv);
    return 2; /* gc_global_args_parse knows the same commands */
}

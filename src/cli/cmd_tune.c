/* src/cli/cmd_tune.c - `gancl tune`: measures the GEMM engines and tile
 * sizes on an OpenCL device and stores the fastest in the device's tuning
 * file in the cache folder, which every later run on that device reads
 * (src/backend/opencl/cl_tune.c).  Without a tuning file the first long
 * command on a device measures one itself (gc_cl_tune_auto).  Its flags
 * are parsed here too.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_tune.h"
#include "cli/cli_args.h"
#include "util/error.h"

static void print_line(void *user, const char *line)
{
    (void)user;
    printf("%s\n", line);
    fflush(stdout);
}

int gc_tune_args_parse(int argc, char **argv, gc_tune_args *a)
{
    static const struct option opts[] = {
        {"device", required_argument, 0, 'd'}, {"quick", no_argument, 0, 'q'},
        {"dry-run", no_argument, 0, 'n'},      {"reset", no_argument, 0, 'r'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    *a = (gc_tune_args){0};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            if (!gc_cli_check_device("--device", optarg)) return 2;
            a->device = optarg;
            break;
        case 'q': a->quick = 1; break;
        case 'n': a->dry_run = 1; break;
        case 'r': a->reset = 1; break;
        case 'h':
            printf("usage: gancl tune [--device N] [--quick] [--dry-run] [--reset]\n\n"
                   "Measures CLBlast and gancl's own GEMM tiles on the device at the shapes\n"
                   "gancl's models run, and saves the fastest in the cache folder; later runs\n"
                   "on the same device and driver use it.  On a GPU (the gpu kernel family)\n"
                   "it picks the work-group tile that GEMMs and convolutions share, then\n"
                   "gancl's tiled GEMM or CLBlast with one of the parameter sets of CLBlast's\n"
                   "database for other GPUs.  --quick measures fewer repetitions,\n"
                   "--dry-run saves nothing, --reset deletes the saved choice.  Takes a\n"
                   "minute or so; run it on an idle machine.\n\n"
                   "Without a saved choice, the first train, fid, classify, augment-eval or\n"
                   "bench on a device runs the --quick measurement and saves it\n"
                   "(GANCL_AUTOTUNE=0: use the shipped default instead).\n");
            return GC_CLI_DONE;
        default: return gc_cli_bad_option("tune", opts, c, argc, argv);
        }
    }
    if (optind < argc) return gc_cli_usage_error("tune: unexpected argument '%s'", argv[optind]);
    if (a->reset && (a->quick || a->dry_run))
        return gc_cli_usage_error("tune: --reset measures nothing; drop %s",
                                  a->quick ? "--quick" : "--dry-run");
    return 0;
}

int gc_cmd_tune(gc_cli *cli, int argc, char **argv)
{
    gc_tune_args a;
    int rc = gc_tune_args_parse(argc, argv, &a);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    const char *device = a.device;
    int quick = a.quick, dry = a.dry_run, reset = a.reset;
    gc_backend *be;
    rc = gc_cli_open_backend(cli, device, &be);
    if (rc) return rc;
    if (gc_backend_is_reference(be)) {
        gc_backend_free(be);
        return gc_cli_usage_error("tune: the cpu reference backend has nothing to tune; "
                                  "pick an OpenCL device (gancl list-devices)");
    }
    char path[4096], spec[160], summary[4096];
    gc_status s = gc_cl_tune_path(be, path, sizeof path);
    if (s != GC_OK) {
        gc_backend_free(be);
        return gc_cli_fail(s);
    }
    gc_cl_gemm_config cfg = gc_cl_gemm_get_config(be);
    gc_cl_gemm_config_format(&cfg, spec, sizeof spec);
    char profile[512];
    gc_cl_forms_describe(be, profile, sizeof profile);
    printf("%s\nprofile: %s\nin use: %s\ntuning file: %s%s\n", gc_backend_name(be), profile, spec,
           path, access(path, F_OK) == 0 ? "" : " (none)");
    if (reset) {
        int had = access(path, F_OK) == 0;
        if (unlink(path) != 0 && access(path, F_OK) == 0) {
            gc_backend_free(be);
            return gc_cli_usage_error("tune: cannot delete %s", path);
        }
        cfg = gc_cl_tune_default(be);
        gc_cl_gemm_config_format(&cfg, spec, sizeof spec);
        printf("%s; the shipped default is: %s (the next long run measures again)\n",
               had ? "deleted" : "nothing to delete", spec);
        gc_backend_free(be);
        return 0;
    }
    s = gc_cl_tune_run(be, quick, print_line, NULL, &cfg, summary, sizeof summary);
    if (s == GC_OK) {
        gc_cl_gemm_config_format(&cfg, spec, sizeof spec);
        printf("fastest: %s\n", spec);
        if (!dry) {
            s = gc_cl_tune_save(be, &cfg, summary);
            if (s == GC_OK) printf("saved to %s\n", path);
        }
    }
    gc_backend_free(be);
    return s == GC_OK ? 0 : gc_cli_fail(s);
}

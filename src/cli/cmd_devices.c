/* src/cli/cmd_devices.c - `gancl list-devices [--json]`: its flags and the
 * listing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_args.h"

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void print_json(const gc_device_info *d, int n, const char *notice)
{
    printf("{\n  \"devices\": [\n");
    printf("    {\"index\": \"cpu\", \"platform\": \"gancl\", \"name\": \"CPU reference backend "
           "(plain C)\", \"type\": \"reference\"}%s\n",
           n ? "," : "");
    for (int i = 0; i < n; i++) {
        printf("    {\"index\": %d, \"platform\": ", d[i].index);
        json_string(d[i].platform);
        printf(", \"name\": ");
        json_string(d[i].name);
        printf(", \"type\": \"%s\", \"vendor\": ", gc_device_type_name(d[i].type));
        json_string(d[i].vendor);
        printf(", \"driver_version\": ");
        json_string(d[i].driver_version);
        printf(", \"compute_units\": %u, \"global_mem_bytes\": %llu, \"max_alloc_bytes\": %llu, "
               "\"max_work_group_size\": %zu, \"opencl_c_version\": ",
               d[i].compute_units, (unsigned long long)d[i].global_mem_bytes,
               (unsigned long long)d[i].max_alloc_bytes, d[i].max_work_group_size);
        json_string(d[i].opencl_c_version);
        printf("}%s\n", i + 1 < n ? "," : "");
    }
    printf("  ]");
    if (notice) {
        printf(",\n  \"notice\": ");
        json_string(notice);
    }
    printf("\n}\n");
}

static void print_table(const gc_device_info *d, int n, const char *notice)
{
    printf("%-5s %-11s %-24s %-36s %-16s %-18s %4s %10s %10s  %s\n", "index", "type", "platform",
           "device", "vendor", "driver", "CUs", "memory", "max alloc", "OpenCL C");
    for (int i = 0; i < n; i++)
        printf("%-5d %-11s %-24.24s %-36.36s %-16.16s %-18.18s %4u %7.0f MiB %6.0f MiB  %s\n",
               d[i].index, gc_device_type_name(d[i].type), d[i].platform, d[i].name, d[i].vendor,
               d[i].driver_version, d[i].compute_units, d[i].global_mem_bytes / 1048576.0,
               d[i].max_alloc_bytes / 1048576.0, d[i].opencl_c_version);
    printf("%-5s %-11s %-24s %-36s\n", "cpu", "reference", "gancl",
           "CPU reference backend (plain C)");
    if (notice) printf("note: %s\n", notice);
}

int gc_list_devices_args_parse(int argc, char **argv, gc_list_devices_args *out)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *out = (gc_list_devices_args){0};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'j') {
            out->json = 1;
        } else if (c == 'h') {
            printf("usage: gancl list-devices [--json]\n\n"
                   "Lists every OpenCL device of every platform with its global index (the N\n"
                   "of --device N), and the plain-C reference backend 'cpu'.\n");
            return GC_CLI_DONE;
        } else {
            return gc_cli_bad_option("list-devices", opts, c, argc, argv);
        }
    }
    if (optind < argc)
        return gc_cli_usage_error("list-devices: unexpected argument '%s'", argv[optind]);
    return 0;
}

int gc_cmd_list_devices(gc_cli *cli, int argc, char **argv)
{
    (void)cli;
    gc_list_devices_args a;
    int rc = gc_list_devices_args_parse(argc, argv, &a);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    int json = a.json;
    gc_device_info *devs = NULL;
    int n = 0;
    const char *notice = NULL;
    gc_status s = gc_device_list(&devs, &n, &notice);
    if (s != GC_OK) return gc_cli_fail(s);
    if (json)
        print_json(devs, n, notice);
    else
        print_table(devs, n, notice);
    free(devs);
    return 0;
}

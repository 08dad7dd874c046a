/* src/cli/bench_fid.c - `gancl bench fid`: images per second through
 * pytorch-fid's Inception-v3 (upload, resize to 299, the network, features
 * back to the host), at batch 50 by default, on one device or every OpenCL
 * device.  Weights are the deterministic random ones unless --weights is
 * given: the speed does not depend on their values.  The same figure for
 * PyTorch comes from tools/bench_torch.py.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_profile.h"
#include "cli/cli_time.h"
#include "cli/commands.h"
#include "gancl/fid.h"
#include "gancl/profile.h"
#include "util/error.h"

typedef struct bench_fid_opts {
    int batch, size, channels, dims;
    int profile; /* --profile: per-kernel device times */
    double seconds;
    const char *weights;
} bench_fid_opts;

static gc_status bench_one(gc_backend *be, const bench_fid_opts *o)
{
    gc_inception *net;
    if (o->weights) {
        char path[1024];
        GC_TRY(gc_fid_weights_path(o->weights, path, sizeof path));
        GC_TRY(gc_inception_load(be, path, o->dims, o->batch, &net));
    } else {
        GC_TRY(gc_inception_random(be, 1, o->dims, o->batch, &net));
    }
    const size_t per = (size_t)o->channels * o->size * o->size;
    float *img = malloc(sizeof(float) * per * (size_t)o->batch);
    float *feat = malloc(sizeof(float) * (size_t)o->dims * (size_t)o->batch);
    gc_status s = img && feat ? GC_OK : gc_error(GC_ERR_NOMEM, "out of memory for a batch");
    unsigned r = 12345;
    for (size_t i = 0; img && i < per * (size_t)o->batch; i++) {
        r = r * 1103515245u + 12345u;
        img[i] = (float)((r >> 16) & 255) / 255.0f;
    }
    int profile = 0;
    if (s == GC_OK && o->profile) profile = gc_cli_profile_begin(be, &s);
    /* One untimed batch: kernel builds, first-touch of buffers. */
    if (s == GC_OK)
        s = gc_inception_features(net, img, o->batch, o->channels, o->size, o->size, feat);
    if (s == GC_OK && profile) s = gc_profile_reset(be);
    int batches = 0;
    double t0 = gc_cli_now(), t = t0;
    while (s == GC_OK && (batches == 0 || t - t0 < o->seconds)) {
        s = gc_inception_features(net, img, o->batch, o->channels, o->size, o->size, feat);
        batches++;
        t = gc_cli_now();
    }
    if (s == GC_OK) {
        gc_inception_memory m;
        gc_inception_memory_use(net, &m);
        double ips = batches * o->batch / (t - t0);
        printf("%-52s %8.2f img/s %9.1f ms/batch %8.1f GFLOP/s   %d per pass, %.0f MiB\n",
               gc_backend_name(be), ips, (t - t0) / batches * 1e3,
               ips * gc_inception_flops(net) * 1e-9, m.chunk,
               (m.params + m.activations + m.other) / 1048576.0);
        if (profile) s = gc_cli_profile_report(be, "batch", "batches", batches, t - t0);
        fflush(stdout);
    }
    free(img);
    free(feat);
    gc_inception_free(net);
    return s;
}

int gc_cmd_bench_fid(gc_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"device", required_argument, 0, 'd'},
                                         {"all", no_argument, 0, 'a'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"size", required_argument, 0, 's'},
                                         {"rgb", no_argument, 0, 'r'},
                                         {"dims", required_argument, 0, 'D'},
                                         {"seconds", required_argument, 0, 't'},
                                         {"weights", required_argument, 0, 'w'},
                                         {"profile", no_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bench_fid_opts o = {.batch = GC_FID_DEFAULT_BATCH,
                        .size = 28,
                        .channels = 1,
                        .dims = GC_FID_DEFAULT_DIMS,
                        .seconds = 3.0};
    const char *device = NULL;
    int all = 0, c;
    long long v;
    double f;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'a': all = 1; break;
        case 'b':
            if (!gc_cli_parse_int("--batch", optarg, 1, 4096, &v)) return 2;
            o.batch = (int)v;
            break;
        case 's':
            if (!gc_cli_parse_int("--size", optarg, 1, 4096, &v)) return 2;
            o.size = (int)v;
            break;
        case 'r': o.channels = 3; break;
        case 'D':
            if (!gc_cli_parse_int("--dims", optarg, 1, 4096, &v)) return 2;
            if (!gc_inception_valid_dims((int)v))
                return gc_cli_usage_error("--dims: %lld is not one of 64, 192, 768, 2048", v);
            o.dims = (int)v;
            break;
        case 't':
            if (!gc_cli_parse_float("--seconds", optarg, 0, 3600, &f)) return 2;
            o.seconds = f;
            break;
        case 'w': o.weights = optarg; break;
        case 'p': o.profile = 1; break;
        case 'h':
            printf("usage: gancl bench fid [--device N|cpu | --all] [--batch 50] [--size 28]\n"
                   "                       [--rgb] [--dims 2048] [--seconds 3] [--weights F]\n"
                   "                       [--profile]\n\n"
                   "Images per second through pytorch-fid's Inception-v3: upload, resize to\n"
                   "299x299, the network up to --dims features, features back to the host.\n"
                   "Inputs are --size x --size gray images (--rgb: colour), batches of\n"
                   "--batch, repeated for at least --seconds after one warm-up batch.  The\n"
                   "weights are random unless --weights is given (speed does not depend on\n"
                   "them).  --all runs every OpenCL device; the CPU reference backend (5.7 G\n"
                   "multiply-adds per image in plain C) only runs when named: --device cpu.\n"
                   "--profile prints each kernel's calls and device time per batch (OpenCL\n"
                   "event profiling) against the wall time.\n");
            return 0;
        default: return gc_cli_bad_option("bench fid", opts, c, argc, argv);
        }
    }
    if (optind < argc)
        return gc_cli_usage_error("bench fid: unexpected argument '%s'", argv[optind]);

    int count = 1;
    gc_device_info *devs = NULL;
    if (all) {
        gc_status s = gc_device_list(&devs, &count, NULL);
        if (s != GC_OK) return gc_cli_fail(s);
        if (count == 0) {
            free(devs);
            return gc_cli_usage_error("bench fid --all: no OpenCL device (try --device cpu)");
        }
    }
    printf("Inception-v3 (pytorch-fid), %d-d features, batch %d of %dx%d %s images, >= %.1f s\n",
           o.dims, o.batch, o.size, o.size, o.channels == 1 ? "gray" : "RGB", o.seconds);
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        char spec[16];
        if (all) snprintf(spec, sizeof spec, "%d", devs[i].index);
        gc_backend *be;
        rc = gc_cli_open_backend_tuned(cli, all ? spec : device, &be);
        if (rc) break;
        gc_status s = bench_one(be, &o);
        if (s != GC_OK) rc = gc_cli_fail(s);
        gc_backend_free(be);
    }
    free(devs);
    return rc;
}

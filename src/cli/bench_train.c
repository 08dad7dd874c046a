/* src/cli/bench_train.c - `gancl bench train`: steady-state training
 * throughput (images/s and GFLOP/s) on random data. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_profile.h"
#include "cli/cli_time.h"
#include "cli/commands.h"
#include "gancl/profile.h"
#include "gancl/train.h"
#include "util/error.h"

#define WARMUP_STEPS 3
#define MAX_WINDOWS  101

static void help(FILE *f)
{
    fprintf(f,
            "usage: gancl [--device N|cpu] bench train [--model seed|dcgan] [--batch N]\n"
            "                 [--size S] [--channels 1|3] [--ngf N] [--ndf N] [--remedies]\n"
            "                 [--windows N] [--seconds S] [--profile]\n"
            "\n"
            "Trains on random images: %d warm-up steps, then N timed windows (default 5) of\n"
            "as many steps as fill S seconds (default 1), with the device drained at each\n"
            "window's edges.  Prints the median images/s and the GFLOP/s it implies (dense\n"
            "and convolution layers of a full step: G forward and backward, D on the real\n"
            "batch, the fake one, and the fake one again for G's loss).\n"
            "\n"
            "Images are 1x28x28, or channels x S x S with --size S: dcgan then scales its\n"
            "depth to S, with widths --ngf and --ndf (64 each by default, as `gancl train`).\n"
            "--remedies adds spectral norm, minibatch stddev, the hinge loss, DiffAugment\n"
            "and an EMA of G, as `gancl train --remedies` does.\n"
            "\n"
            "--profile times every kernel with OpenCL events over the timed windows and\n"
            "prints calls, milliseconds and share of the step per kernel, and the device\n"
            "time against the wall time (OpenCL devices only).\n",
            WARMUP_STEPS);
}

/* Seconds for `steps` steps, device drained before and after. */
static gc_status timed(gc_trainer *tr, int64_t steps, double *secs)
{
    GC_TRY(gc_backend_sync(tr->be));
    double t0 = gc_cli_now();
    for (int64_t i = 0; i < steps; i++)
        GC_TRY(gc_trainer_step(tr));
    GC_TRY(gc_backend_sync(tr->be));
    *secs = gc_cli_now() - t0;
    return GC_OK;
}

int gc_cmd_bench_train(gc_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"model", required_argument, 0, 'm'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"windows", required_argument, 0, 'w'},
                                         {"seconds", required_argument, 0, 's'},
                                         {"device", required_argument, 0, 'd'},
                                         {"profile", no_argument, 0, 'p'},
                                         {"size", required_argument, 0, 'S'},
                                         {"channels", required_argument, 0, 'c'},
                                         {"ngf", required_argument, 0, 'g'},
                                         {"ndf", required_argument, 0, 'D'},
                                         {"remedies", no_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    gc_model_kind kind = GC_MODEL_DCGAN;
    long long batch = 64, windows = 5, size = 0, channels = 0, ngf = 64, ndf = 64;
    int remedies = 0;
    double seconds = 1.0;
    const char *device = NULL;
    int opt, profile = 0;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            if (!gc_model_parse(optarg, &kind))
                return gc_cli_usage_error("--model: '%s' is not a model (seed or dcgan)", optarg);
            break;
        case 'b':
            if (!gc_cli_parse_int("--batch", optarg, 2, 65536, &batch)) return 2;
            break;
        case 'w':
            if (!gc_cli_parse_int("--windows", optarg, 1, MAX_WINDOWS, &windows)) return 2;
            break;
        case 's':
            if (!gc_cli_parse_float("--seconds", optarg, 0.01, 600, &seconds)) return 2;
            break;
        case 'S':
            if (!gc_cli_parse_int("--size", optarg, 8, 1024, &size)) return 2;
            if (size % 4) return gc_cli_usage_error("--size: %lld is not a multiple of 4", size);
            break;
        case 'c':
            if (!gc_cli_parse_int("--channels", optarg, 1, 3, &channels)) return 2;
            if (channels == 2) return gc_cli_usage_error("--channels: 1 or 3, not 2");
            break;
        case 'g':
            if (!gc_cli_parse_int("--ngf", optarg, 1, 4096, &ngf)) return 2;
            break;
        case 'D':
            if (!gc_cli_parse_int("--ndf", optarg, 1, 4096, &ndf)) return 2;
            break;
        case 'r': remedies = 1; break;
        case 'd': device = optarg; break;
        case 'p': profile = 1; break;
        case 'h': help(stdout); return 0;
        default: return gc_cli_bad_option("bench train", opts, opt, argc, argv);
        }
    }
    if (optind < argc)
        return gc_cli_usage_error("bench train: unexpected argument '%s'", argv[optind]);

    if ((size || remedies) && kind != GC_MODEL_DCGAN)
        return gc_cli_usage_error("bench train: --size and --remedies are for --model dcgan");
    gc_train_config cfg = gc_train_default_config(kind);
    cfg.batch = (int)batch;
    cfg.seed = 1;
    if (channels) cfg.model.channels = (int)channels;
    if (size) {
        cfg.model.height = cfg.model.width = (int)size;
        cfg.model.depth = gc_gan_auto_depth((int)size, (int)size);
        cfg.model.g_width = (int)ngf << (cfg.model.depth - 1);
        cfg.model.d_width = (int)ndf;
    }
    if (remedies) {
        cfg.model.spectral_norm = 1, cfg.model.mbstd = 4, cfg.loss = GC_LOSS_HINGE;
        cfg.diffaug = GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT;
        cfg.ema = 0.999f;
    }
    int h = cfg.model.height, w = cfg.model.width;
    int64_t n = 2 * batch, per = (int64_t)cfg.model.channels * h * w;
    uint8_t *images = malloc((size_t)(n * per));
    if (!images) return gc_cli_usage_error("out of memory");
    uint32_t x = 12345; /* any bytes will do; an LCG keeps it dependency-free */
    for (int64_t i = 0; i < n * per; i++)
        images[i] = (uint8_t)((x = x * 1664525u + 1013904223u) >> 24);

    gc_backend *be;
    int rc = gc_cli_open_backend_tuned(cli, device, &be);
    if (rc) {
        free(images);
        return rc;
    }
    gc_trainer tr;
    gc_status s = gc_trainer_init(&tr, be, &cfg, images, n, h, w);
    double t = 0, rates[MAX_WINDOWS];
    int64_t per_window = 1;
    if (s == GC_OK && profile) profile = gc_cli_profile_begin(be, &s);
    if (s == GC_OK) s = timed(&tr, WARMUP_STEPS, &t);
    if (s == GC_OK) s = timed(&tr, 1, &t);
    if (s == GC_OK && profile) s = gc_profile_reset(be);
    double wall = 0;
    if (s == GC_OK) {
        per_window = (int64_t)ceil(seconds / fmax(t, 1e-6));
        if (per_window < 1) per_window = 1;
        printf("bench train: model %s%s, batch %lld, %dx%dx%d, G %d / D %d wide, device %s\n",
               gc_model_name(kind), remedies ? " with remedies" : "", batch, cfg.model.channels, h,
               w, tr.cfg.model.g_width, tr.cfg.model.d_width, gc_backend_name(be));
        printf("  %d warm-up steps, %lld windows of %lld steps\n", WARMUP_STEPS, windows,
               (long long)per_window);
        fflush(stdout);
    }
    for (int i = 0; i < windows && s == GC_OK; i++) {
        s = timed(&tr, per_window, &t);
        rates[i] = (double)(per_window * batch) / t;
        wall += t;
    }
    if (s == GC_OK) {
        double flops = gc_gan_train_flops_per_image(&tr.gan);
        double med = gc_cli_median(rates, (int)windows); /* sorts rates */
        printf("  %.1f img/s (median; windows %.1f .. %.1f), %.2f ms/step, %.2f GFLOP/s at "
               "%.1f MFLOP per image\n",
               med, rates[0], rates[windows - 1], 1e3 * batch / med, med * flops * 1e-9,
               flops * 1e-6);
        if (profile) s = gc_cli_profile_report(be, "step", "steps", windows * per_window, wall);
    }
    if (s != GC_OK) {
        rc = gc_cli_fail(s);
    }
    gc_trainer_free(&tr);
    gc_backend_free(be);
    free(images);
    return rc;
}

/* src/cli/cmd_sample.c - `gancl sample`: images from a checkpoint's
 * generator as a grid PNG, a folder of PNGs, or an IDX file; its flags. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "util/error.h"
#include "util/fs.h"

static void help(FILE *f)
{
    fprintf(f, "usage: gancl [--device N|cpu] sample --checkpoint FILE [--n N] [--seed S]\n"
               "                                     [--class K] --out PATH\n"
               "\n"
               "Generates N images (default 64) with the generator of a training checkpoint,\n"
               "in evaluation mode (BatchNorm uses its running statistics).  The noise comes\n"
               "from --seed; by default the run's fixed sample noise, so the first 64 images\n"
               "match the run's sample grids.  A conditional model's images cycle through\n"
               "its classes (0, 1, ..., K-1, 0, ...) unless --class K picks one.\n"
               "\n"
               "  --out FILE.png       one grid of all images\n"
               "  --out DIR/           one PNG per image (000000.png, ...; gray or RGB as the\n"
               "                       model's images); an existing folder works without the\n"
               "                       slash\n"
               "  --out FILE.idx[.gz]  an IDX file of unsigned bytes (N x H x W), the format of\n"
               "                       --data: a synthetic data set (gray models only)\n"
               "  --class K            only class K (0 <= K < classes) of a conditional model\n"
               "  --device N|cpu       as the global option\n");
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

static gc_status write_images(gc_sample_out_kind kind, const char *out, const float *img, int n,
                              const gc_gan_config *m)
{
    float lo, hi;
    gc_gan_pixel_range(m->kind, &lo, &hi);
    if (kind == GC_SAMPLE_GRID)
        return gc_png_write_grid(out, img, n, m->channels, m->height, m->width, lo, hi, 0, 0);
    int64_t per = (int64_t)m->channels * m->height * m->width;
    uint8_t *bytes = malloc((size_t)(n * per));
    if (!bytes) return gc_error(GC_ERR_NOMEM, "out of memory for %d images", n);
    gc_pixels_to_bytes(img, n * per, lo, hi, bytes);
    gc_status s = GC_OK;
    if (kind == GC_SAMPLE_IDX) {
        gc_idx d = {.kind = GC_IDX_IMAGES, .data = bytes, .n = n, .h = m->height, .w = m->width};
        s = gc_idx_write(out, &d, ends_with(out, ".gz"));
    } else {
        s = gc_fs_mkdirs(out);
        for (int i = 0; i < n && s == GC_OK; i++) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s%s%06d.png", out, ends_with(out, "/") ? "" : "/", i);
            s = gc_png_write_planes(path, bytes + i * per, m->channels, m->width, m->height);
        }
    }
    free(bytes);
    return s;
}

int gc_sample_args_parse(int argc, char **argv, gc_sample_args *a)
{
    static const struct option opts[] = {{"checkpoint", required_argument, 0, 'c'},
                                         {"n", required_argument, 0, 'n'},
                                         {"seed", required_argument, 0, 's'},
                                         {"out", required_argument, 0, 'o'},
                                         {"device", required_argument, 0, 'd'},
                                         {"class", required_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (gc_sample_args){.n = 64, .seed = -1, .cls = -1};
    int opt;
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            if (!gc_cli_check_path("--checkpoint", optarg, GC_CLI_PATH_MAX)) return 2;
            a->checkpoint = optarg;
            break;
        case 'n':
            if (!gc_cli_parse_int("--n", optarg, 1, 1000000, &a->n)) return 2;
            break;
        case 's':
            if (!gc_cli_parse_int("--seed", optarg, 0, LLONG_MAX, &a->seed)) return 2;
            break;
        case 'o':
            if (!gc_cli_check_path("--out", optarg, GC_CLI_PATH_MAX)) return 2;
            a->out = optarg;
            break;
        case 'd':
            if (!gc_cli_check_device("--device", optarg)) return 2;
            a->device = optarg;
            break;
        case 'k':
            /* Whether K is below the model's classes needs the checkpoint. */
            if (!gc_cli_parse_int("--class", optarg, 0, GC_MAX_CLASSES - 1, &a->cls)) return 2;
            break;
        case 'h': help(stdout); return GC_CLI_DONE;
        default: return gc_cli_bad_option("sample", opts, opt, argc, argv);
        }
    }
    if (optind < argc) return gc_cli_usage_error("sample: unexpected argument '%s'", argv[optind]);
    if (!a->checkpoint) return gc_cli_usage_error("sample: --checkpoint FILE is required");
    if (!a->out) return gc_cli_usage_error("sample: --out FILE.png|DIR/|FILE.idx is required");
    const char *out = a->out;
    if (ends_with(out, "/") || gc_fs_is_dir(out))
        a->kind = GC_SAMPLE_DIR;
    else if (ends_with(out, ".png"))
        a->kind = GC_SAMPLE_GRID;
    else if (ends_with(out, ".idx") || ends_with(out, ".idx.gz"))
        a->kind = GC_SAMPLE_IDX;
    else
        return gc_cli_usage_error("sample: --out '%s' must end in .png (a grid), / (a folder) "
                                  "or .idx / .idx.gz (an IDX file)",
                                  out);
    return 0;
}

int gc_cmd_sample(gc_cli *cli, int argc, char **argv)
{
    gc_sample_args a;
    int rc = gc_sample_args_parse(argc, argv, &a);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    const char *ckpt = a.checkpoint, *out = a.out, *device = a.device;
    long long n = a.n, seed = a.seed;
    gc_sample_out_kind kind = a.kind;
    gc_train_config cfg;
    gc_status s = gc_checkpoint_config(ckpt, &cfg);
    if (s != GC_OK) return gc_cli_fail(s);
    int classes = cfg.model.classes;
    if (a.cls >= 0 && !classes)
        return gc_cli_usage_error("sample: %s is not conditional: --class needs a model trained "
                                  "with --conditional",
                                  ckpt);
    if (a.cls >= classes)
        return gc_cli_usage_error("sample: --class %lld is out of range [0, %d] (%s has %d "
                                  "classes)",
                                  a.cls, classes - 1, ckpt, classes);
    if (kind == GC_SAMPLE_IDX && cfg.model.channels != 1)
        return gc_cli_usage_error("sample: IDX files hold gray images and %s makes %d-channel "
                                  "ones: write --out DIR/ (PNG files) or FILE.png (a grid)",
                                  ckpt, cfg.model.channels);
    if (kind == GC_SAMPLE_DIR && cfg.model.channels != 1 && cfg.model.channels != 3)
        return gc_cli_usage_error("sample: PNG files hold 1 or 3 channels, not %d",
                                  cfg.model.channels);
    gc_backend *be;
    rc = gc_cli_open_backend(cli, device, &be);
    if (rc) return rc;
    gc_gan gan;
    int64_t per = (int64_t)cfg.model.channels * cfg.model.height * cfg.model.width;
    float *img = malloc((size_t)(n * per) * sizeof(float));
    int32_t *labels = a.cls >= 0 ? malloc(sizeof(int32_t) * (size_t)n) : NULL;
    for (long long i = 0; labels && i < n; i++)
        labels[i] = (int32_t)a.cls;
    uint64_t fixed_seed = 0;
    int max_batch = n < 256 ? (n < 2 ? 2 : (int)n) : 256;
    if (!img || (a.cls >= 0 && !labels)) {
        rc = gc_cli_fail(gc_error(GC_ERR_NOMEM, "out of memory for %lld images", n));
    } else if ((s = gc_gan_init(&gan, be, &cfg.model, max_batch)) != GC_OK) {
        rc = gc_cli_fail(s);
    } else {
        gc_rng rng = {0};
        if ((s = gc_checkpoint_load_gan(ckpt, &gan, &fixed_seed)) == GC_OK) {
            rng.seed = seed >= 0 ? (uint64_t)seed : fixed_seed;
            /* Without labels a conditional model cycles through its classes. */
            s = gc_gan_sample_classes(&gan, &rng, (int)n, labels, img);
        }
        if (s == GC_OK) s = write_images(kind, out, img, (int)n, &cfg.model);
        if (s != GC_OK) rc = gc_cli_fail(s);
        gc_gan_free(&gan);
    }
    if (!rc && a.cls >= 0)
        printf("wrote %lld images of class %lld (%s, %dx%d) to %s\n", n, a.cls,
               gc_model_name(cfg.model.kind), cfg.model.height, cfg.model.width, out);
    else if (!rc)
        printf("wrote %lld images (%s, %dx%d) to %s\n", n, gc_model_name(cfg.model.kind),
               cfg.model.height, cfg.model.width, out);
    free(labels);
    free(img);
    gc_backend_free(be);
    return rc;
}

/* src/cli/cmd_export.c - `gancl export`: a labelled synthetic data set from
 * a conditional checkpoint (N images of every class, as IDX files or PNG
 * class folders that --data and gc_dataset_load read back); its flags. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_args.h"
#include "gancl/dataset.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "util/error.h"
#include "util/fs.h"

/* The most bytes of images one export may hold (the IDX format's limit). */
#define EXPORT_MAX_BYTES ((long long)1 << 34)

static void help(FILE *f)
{
    fprintf(
        f, "usage: gancl [--device N|cpu] export --checkpoint FILE --per-class N --out PREFIX|DIR\n"
           "                                     [--format idx|png] [--seed S] [--batch B]\n"
           "\n"
           "Writes a labelled synthetic data set from a conditional checkpoint (one trained\n"
           "with --conditional): N images of each of its K classes, labels 0 .. K-1, class\n"
           "by class, generated in evaluation mode as `gancl sample` does.\n"
           "\n"
           "  --out PREFIX         IDX files PREFIX-images-idx3-ubyte.gz and\n"
           "                       PREFIX-labels-idx1-ubyte.gz (train --data reads them;\n"
           "                       gray models only)\n"
           "  --out DIR/           PNG files DIR/<class>/<i>.png (gray or RGB, as the model\n"
           "                       makes them), one folder per class, named by the\n"
           "                       checkpoint's class names or 0 .. K-1; an existing\n"
           "                       folder works without the slash and must be empty\n"
           "  --format idx|png     the layout, whatever --out looks like\n"
           "  --seed S             the noise (default: the run's fixed-noise seed)\n"
           "  --batch B            images generated at a time (default 256)\n"
           "  --device N|cpu       as the global option\n");
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

int gc_export_args_parse(int argc, char **argv, gc_export_args *a)
{
    static const struct option opts[] = {{"checkpoint", required_argument, 0, 'c'},
                                         {"per-class", required_argument, 0, 'n'},
                                         {"out", required_argument, 0, 'o'},
                                         {"format", required_argument, 0, 'f'},
                                         {"seed", required_argument, 0, 's'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"device", required_argument, 0, 'd'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    *a = (gc_export_args){.seed = -1, .batch = 256};
    const char *format = NULL;
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
            if (!gc_cli_parse_int("--per-class", optarg, 1, 1000000, &a->per_class)) return 2;
            break;
        case 'o':
            if (!gc_cli_check_path("--out", optarg, GC_CLI_PATH_MAX)) return 2;
            a->out = optarg;
            break;
        case 'f':
            if (strcmp(optarg, "idx") && strcmp(optarg, "png"))
                return gc_cli_usage_error("export: --format: '%s' is not idx or png", optarg);
            format = optarg;
            break;
        case 's':
            if (!gc_cli_parse_int("--seed", optarg, 0, LLONG_MAX, &a->seed)) return 2;
            break;
        case 'b':
            if (!gc_cli_parse_int("--batch", optarg, 1, 4096, &a->batch)) return 2;
            break;
        case 'd':
            if (!gc_cli_check_device("--device", optarg)) return 2;
            a->device = optarg;
            break;
        case 'h': help(stdout); return GC_CLI_DONE;
        default: return gc_cli_bad_option("export", opts, opt, argc, argv);
        }
    }
    if (optind < argc) return gc_cli_usage_error("export: unexpected argument '%s'", argv[optind]);
    if (!a->checkpoint) return gc_cli_usage_error("export: --checkpoint FILE is required");
    if (!a->per_class) return gc_cli_usage_error("export: --per-class N is required");
    if (!a->out) return gc_cli_usage_error("export: --out PREFIX|DIR/ is required");
    int folder = ends_with(a->out, "/") || gc_fs_is_dir(a->out);
    if (format && !strcmp(format, "idx") && folder)
        return gc_cli_usage_error("export: --format idx needs --out PREFIX (PREFIX-images-idx3-"
                                  "ubyte.gz is written), not the folder '%s'",
                                  a->out);
    a->format = folder || (format && !strcmp(format, "png")) ? GC_EXPORT_PNG : GC_EXPORT_IDX;
    if (a->format == GC_EXPORT_IDX &&
        (ends_with(a->out, ".gz") || ends_with(a->out, ".idx") || ends_with(a->out, "-ubyte")))
        return gc_cli_usage_error("export: --out '%s' is a PREFIX: PREFIX-images-idx3-ubyte.gz and "
                                  "PREFIX-labels-idx1-ubyte.gz are written; drop the extension",
                                  a->out);
    return 0;
}

/* The checkpoint's "class_names" metadata (a JSON array of `classes`
 * strings) into ds->class_names; none there: "0" .. "K-1". */
static gc_status read_class_names(const char *ckpt, int classes, gc_dataset *ds)
{
    gc_st_file *f;
    GC_TRY(gc_st_load(ckpt, 0, &f));
    const char *text = gc_st_metadata(f, "class_names");
    cJSON *j = text ? cJSON_Parse(text) : NULL;
    gc_status s = GC_OK;
    if (text && (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != classes))
        s = gc_error(GC_ERR_FORMAT,
                     "%s: metadata \"class_names\" is not a JSON array of %d names, one per class",
                     ckpt, classes);
    char **names = calloc((size_t)classes, sizeof *names);
    if (s == GC_OK && !names) s = gc_error(GC_ERR_NOMEM, "out of memory for class names");
    for (int k = 0; k < classes && s == GC_OK; k++) {
        char num[16];
        snprintf(num, sizeof num, "%d", k);
        const char *name = num;
        if (j) {
            const cJSON *e = cJSON_GetArrayItem(j, k);
            if (!cJSON_IsString(e)) {
                s = gc_error(GC_ERR_FORMAT, "%s: metadata \"class_names\" entry %d is not a string",
                             ckpt, k);
                break;
            }
            name = e->valuestring;
        }
        size_t len = strlen(name) + 1;
        if (!(names[k] = malloc(len)))
            s = gc_error(GC_ERR_NOMEM, "out of memory for class names");
        else
            memcpy(names[k], name, len);
    }
    cJSON_Delete(j);
    gc_st_free(f);
    if (s != GC_OK) {
        for (int k = 0; names && k < classes; k++)
            free(names[k]);
        free(names);
        return s;
    }
    ds->class_names = names;
    return GC_OK;
}

/* Generates ds->n images, ds->n / classes per class, class by class. */
static gc_status generate(gc_gan *gan, gc_rng *rng, int batch, int64_t per_class, gc_dataset *ds)
{
    const gc_gan_config *m = &gan->cfg;
    float lo, hi;
    gc_gan_pixel_range(m->kind, &lo, &hi);
    int64_t per = (int64_t)m->channels * m->height * m->width;
    float *buf = malloc(sizeof(float) * (size_t)(batch * per));
    if (!buf) return gc_error(GC_ERR_NOMEM, "out of memory for a batch of %d images", batch);
    for (int64_t i = 0; i < ds->n; i++)
        ds->labels[i] = (int32_t)(i / per_class);
    gc_status s = GC_OK;
    for (int64_t done = 0; done < ds->n && s == GC_OK;) {
        int b = ds->n - done < batch ? (int)(ds->n - done) : batch;
        /* The noise stream runs on across calls: the set does not depend on
         * the batch size. */
        s = gc_gan_sample_classes(gan, rng, b, ds->labels + done, buf);
        if (s == GC_OK) gc_pixels_to_bytes(buf, b * per, lo, hi, ds->images + done * per);
        done += b;
    }
    free(buf);
    return s;
}

int gc_cmd_export(gc_cli *cli, int argc, char **argv)
{
    gc_export_args a;
    int rc = gc_export_args_parse(argc, argv, &a);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    gc_train_config cfg;
    gc_status s = gc_checkpoint_config(a.checkpoint, &cfg);
    if (s != GC_OK) return gc_cli_fail(s);
    const gc_gan_config *m = &cfg.model;
    int K = m->classes;
    if (!K)
        return gc_cli_usage_error("export: %s is not conditional: export needs a model trained "
                                  "with --conditional",
                                  a.checkpoint);
    if (a.format == GC_EXPORT_IDX && m->channels != 1)
        return gc_cli_usage_error("export: IDX files hold gray images and %s makes %d-channel "
                                  "ones: export PNG folders (--out DIR/ or --format png)",
                                  a.checkpoint, m->channels);
    if (m->channels != 1 && m->channels != 3)
        return gc_cli_usage_error("export: PNG files hold 1 or 3 channels, not %d", m->channels);
    long long total = a.per_class * K, per = (long long)m->channels * m->height * m->width;
    if (total * per > EXPORT_MAX_BYTES)
        return gc_cli_usage_error("export: %lld images of %dx%dx%d are above the 2^34-byte limit",
                                  total, m->channels, m->height, m->width);
    if (a.format == GC_EXPORT_PNG && gc_fs_has_entries(a.out))
        return gc_cli_usage_error("export: %s is not empty; export into a new or empty folder",
                                  a.out);
    gc_dataset ds = {.n = total, .c = m->channels, .h = m->height, .w = m->width, .classes = K};
    ds.images = malloc((size_t)(total * per));
    ds.labels = malloc(sizeof(int32_t) * (size_t)total);
    if (!ds.images || !ds.labels) {
        gc_dataset_free(&ds);
        return gc_cli_fail(gc_error(GC_ERR_NOMEM, "out of memory for %lld images", total));
    }
    if (a.format == GC_EXPORT_PNG && (s = read_class_names(a.checkpoint, K, &ds)) != GC_OK) {
        gc_dataset_free(&ds);
        return gc_cli_fail(s);
    }
    gc_backend *be;
    rc = gc_cli_open_backend(cli, a.device, &be);
    if (rc) {
        gc_dataset_free(&ds);
        return rc;
    }
    int batch = (int)(total < a.batch ? total : a.batch);
    gc_gan gan;
    uint64_t fixed_seed = 0;
    if ((s = gc_gan_init(&gan, be, m, batch < 2 ? 2 : batch)) == GC_OK) {
        if ((s = gc_checkpoint_load_gan(a.checkpoint, &gan, &fixed_seed)) == GC_OK) {
            gc_rng rng = {.seed = a.seed >= 0 ? (uint64_t)a.seed : fixed_seed};
            s = generate(&gan, &rng, batch, a.per_class, &ds);
        }
        gc_gan_free(&gan);
    }
    if (s == GC_OK)
        s = a.format == GC_EXPORT_PNG ? gc_dataset_write_png_folders(&ds, a.out)
                                      : gc_dataset_write_idx(&ds, a.out, 1);
    if (s != GC_OK) {
        rc = gc_cli_fail(s);
    } else if (a.format == GC_EXPORT_PNG) {
        printf("wrote %lld images (%d classes x %lld, %dx%d) to %s\n", total, K, a.per_class,
               m->height, m->width, a.out);
    } else {
        printf("wrote %lld images (%d classes x %lld, %dx%d) to %s-images-idx3-ubyte.gz and "
               "%s-labels-idx1-ubyte.gz\n",
               total, K, a.per_class, m->height, m->width, a.out, a.out);
    }
    gc_dataset_free(&ds);
    gc_backend_free(be);
    return rc;
}

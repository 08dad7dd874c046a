/* src/cli/cmd_fid.c - `gancl fid A B` and `gancl fid-stats A --out FILE`.
 *
 * The features are Inception's (pytorch-fid's FID) or, with --classifier,
 * a trained gancl classifier's penultimate layer: a "classifier FID" for
 * small images, not comparable with Inception's.  Statistics files record
 * which (metadata "extractor") and are never mixed.
 *
 * An input is one of
 *   - an IDX image file (raw or gzip), all of its images, gray;
 *   - a folder of PNG images (*.png, sorted by name, as pytorch-fid lists
 *     them), read as RGB as PIL's convert("RGB") does;
 *   - FID statistics written by fid-stats (no network needed);
 *   - a gancl training checkpoint: --n images from its generator, quantised
 *     to 8 bits exactly as `gancl sample` writes them, so the number equals
 *     pytorch-fid's on the saved PNGs.
 * Pixels become floats b / 255 as torchvision's ToTensor makes them.
 */
#include <dirent.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli_time.h"
#include "cli/cli_args.h"
#include "gancl/fid.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "util/error.h"
#include "util/fs.h"

typedef enum { IN_IDX, IN_PNG, IN_STATS, IN_CHECKPOINT } input_kind;
static const char *const kind_names[] = {"idx", "png-folder", "stats", "checkpoint"};

typedef struct input {
    const char *path;
    input_kind kind;
    gc_image_source src;
    gc_fid_stats stats;
    /* per kind */
    gc_idx idx;
    char **files;
    int n_files;
    gc_gan gan;
    int gan_ready;
    gc_rng rng;
    float lo, hi, *scratch;
    int png_c; /* channels PNGs are read with: 3, or the classifier's */
} input;

typedef gc_fid_args options;

/* ---- image sources ------------------------------------------------------------------ */

static gc_status read_idx(void *ctx, int64_t first, int n, float *out)
{
    const input *in = ctx;
    const int64_t per = in->idx.h * in->idx.w;
    const uint8_t *b = in->idx.data + first * per;
    for (int64_t i = 0; i < n * per; i++)
        out[i] = (float)b[i] / 255.0f;
    return GC_OK;
}

static gc_status read_png(void *ctx, int64_t first, int n, float *out)
{
    const input *in = ctx;
    const int64_t per = (int64_t)in->src.h * in->src.w;
    for (int k = 0; k < n; k++) {
        const char *path = in->files[first + k];
        gc_image img;
        GC_TRY(gc_png_read(path, in->png_c, &img));
        if (img.w != in->src.w || img.h != in->src.h) {
            gc_status s = gc_error(GC_ERR_FORMAT,
                                   "%s: %dx%d, but %s is %dx%d: the images of a folder must "
                                   "have one size",
                                   path, img.w, img.h, in->files[0], in->src.w, in->src.h);
            gc_image_free(&img);
            return s;
        }
        /* Interleaved to planar. */
        const int nc = in->png_c;
        float *o = out + (int64_t)k * nc * per;
        for (int64_t p = 0; p < per; p++)
            for (int c = 0; c < nc; c++)
                o[c * per + p] = (float)img.data[p * nc + c] / 255.0f;
        gc_image_free(&img);
    }
    return GC_OK;
}

static gc_status read_generator(void *ctx, int64_t first, int n, float *out)
{
    input *in = ctx;
    (void)first;
    const int64_t m = (int64_t)n * in->src.c * in->src.h * in->src.w;
    GC_TRY(gc_gan_sample(&in->gan, &in->rng, n, in->scratch));
    /* The bytes `gancl sample` would write, read back as pytorch-fid would. */
    for (int64_t i = 0; i < m; i++) {
        float v = (in->scratch[i] - in->lo) / (in->hi - in->lo) * 255.0f;
        float b = isnan(v) ? 0.0f : v <= 0 ? 0.0f : v >= 255 ? 255.0f : (float)lrintf(v);
        out[i] = b / 255.0f;
    }
    return GC_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

/* Decodes every file once, up front: a corrupt one is dropped (one warning
 * for them all) rather than failing the run halfway through, and a size
 * that differs from the first image's is an error naming the file.  (The
 * decoding costs little next to Inception.) */
static gc_status check_png_files(input *in)
{
    enum { SHOWN = 3 };
    const char *shown[SHOWN];
    char first_err[512] = "";
    int kept = 0, bad = 0, w = 0, h = 0;
    size_t dir_len = strlen(in->path) + 1;
    gc_status s = GC_OK;
    for (int i = 0; i < in->n_files; i++) {
        char *path = in->files[i];
        gc_image img;
        if (gc_png_read(path, in->png_c, &img) != GC_OK) {
            if (!bad) snprintf(first_err, sizeof first_err, "%s", gc_last_error());
            if (bad < SHOWN) shown[bad] = path + dir_len;
            bad++;
            continue; /* freed below, once the names have been shown */
        }
        if (!kept) {
            w = img.w, h = img.h;
        } else if (img.w != w || img.h != h) {
            s = gc_error(GC_ERR_FORMAT,
                         "%s is %dx%d, but %s is %dx%d: the images of a folder must have one "
                         "size",
                         path, img.w, img.h, in->files[0], w, h);
            gc_image_free(&img);
            break;
        }
        gc_image_free(&img);
        /* Swap rather than overwrite, so that every name stays owned. */
        in->files[i] = in->files[kept];
        in->files[kept++] = path;
    }
    if (s == GC_OK && !kept)
        s = gc_error(GC_ERR_FORMAT, "%s: none of its %d .png files is a readable image (%s)",
                     in->path, bad, first_err);
    if (s == GC_OK && bad) {
        fprintf(stderr, "gancl: warning: %s: skipped %d unreadable .png file%s (", in->path, bad,
                bad > 1 ? "s" : "");
        for (int k = 0; k < bad && k < SHOWN; k++)
            fprintf(stderr, "%s%s", k ? ", " : "", shown[k]);
        fprintf(stderr, "%s; first: %s); using the other %d\n", bad > SHOWN ? ", ..." : "",
                first_err, kept);
    }
    if (s != GC_OK) return s;
    /* The kept names are first, still sorted; the dropped ones follow. */
    for (int i = kept; i < in->n_files; i++)
        free(in->files[i]);
    in->n_files = kept;
    in->src = (gc_image_source){kept, in->png_c, h, w, read_png, in};
    return GC_OK;
}

static gc_status open_png_folder(input *in)
{
    DIR *d = opendir(in->path);
    if (!d) return gc_error(GC_ERR_IO, "%s: cannot open the folder", in->path);
    int cap = 0, others = 0;
    struct dirent *e;
    gc_status s = GC_OK;
    static const char *const other_ext[] = {".bmp", ".jpg", ".jpeg", ".pgm",
                                            ".ppm", ".tif", ".tiff", ".webp"};
    while ((e = readdir(d)) && s == GC_OK) {
        if (e->d_name[0] == '.') continue;
        if (!ends_with(e->d_name, ".png")) {
            for (size_t k = 0; k < sizeof other_ext / sizeof other_ext[0]; k++)
                others += ends_with(e->d_name, other_ext[k]);
            continue;
        }
        if (in->n_files == cap) {
            cap = cap ? 2 * cap : 256;
            char **f = realloc(in->files, sizeof(char *) * (size_t)cap);
            if (!f) {
                s = gc_error(GC_ERR_NOMEM, "out of memory listing %s", in->path);
                break;
            }
            in->files = f;
        }
        size_t len = strlen(in->path) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) {
            s = gc_error(GC_ERR_NOMEM, "out of memory listing %s", in->path);
            break;
        }
        snprintf(p, len, "%s/%s", in->path, e->d_name);
        in->files[in->n_files++] = p;
    }
    closedir(d);
    if (s != GC_OK) return s;
    /* pytorch-fid would read these too: say so rather than differ silently. */
    if (others)
        fprintf(stderr, "gancl: warning: %s: %d non-PNG images ignored (gancl reads .png only)\n",
                in->path, others);
    if (in->n_files == 0) return gc_error(GC_ERR_ARG, "%s: no .png images in the folder", in->path);
    /* pytorch-fid takes sorted(path.glob('*.png')); sorting by full path
     * within one folder sorts by name. */
    qsort(in->files, (size_t)in->n_files, sizeof(char *), cmp_str);
    return check_png_files(in);
}

static gc_status open_checkpoint(input *in, gc_backend *be, const options *o)
{
    gc_train_config cfg;
    GC_TRY(gc_checkpoint_config(in->path, &cfg));
    const gc_gan_config *m = &cfg.model;
    GC_TRY(gc_gan_init(&in->gan, be, m, o->batch < 2 ? 2 : o->batch));
    in->gan_ready = 1;
    GC_TRY(gc_checkpoint_load_gan(in->path, &in->gan, NULL));
    gc_gan_pixel_range(m->kind, &in->lo, &in->hi);
    in->rng = (gc_rng){.seed = (uint64_t)o->seed, .offset = 0};
    in->scratch = malloc(sizeof(float) * (size_t)o->batch * m->channels * m->height * m->width);
    if (!in->scratch) return gc_error(GC_ERR_NOMEM, "out of memory for a batch of samples");
    in->src = (gc_image_source){-1, m->channels, m->height, m->width, read_generator, in};
    return GC_OK;
}

/* Works out what path is and opens it (checkpoints need the backend);
 * PNGs are read with png_c channels. */
static gc_status open_input(input *in, const char *path, gc_backend *be, const options *o,
                            int png_c)
{
    memset(in, 0, sizeof *in);
    in->path = path;
    in->png_c = png_c;
    if (gc_fs_is_dir(path)) {
        in->kind = IN_PNG;
        return open_png_folder(in);
    }
    FILE *f = fopen(path, "rb");
    if (!f) return gc_error(GC_ERR_IO, "%s: no such file or folder", path);
    unsigned char head[9] = {0};
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    int is_idx = got >= 4 && ((head[0] == 0x1f && head[1] == 0x8b) ||
                              (head[0] == 0 && head[1] == 0 && head[2] == 0x08));
    int is_st = got == 9 && head[8] == '{';
    if (is_idx) {
        in->kind = IN_IDX;
        GC_TRY(gc_idx_read(path, GC_IDX_IMAGES, &in->idx));
        in->src = (gc_image_source){in->idx.n, 1, (int)in->idx.h, (int)in->idx.w, read_idx, in};
        return GC_OK;
    }
    if (!is_st)
        return gc_error(GC_ERR_FORMAT,
                        "%s: not an IDX image file, a folder of PNGs, FID statistics or a "
                        "gancl checkpoint",
                        path);
    gc_status s = gc_fid_stats_load(path, &in->stats, NULL);
    if (s == GC_OK) {
        in->kind = IN_STATS;
        return GC_OK;
    }
    char stats_err[512];
    snprintf(stats_err, sizeof stats_err, "%s", gc_last_error());
    in->kind = IN_CHECKPOINT;
    s = gc_checkpoint_config(path, &(gc_train_config){0});
    if (s != GC_OK) {
        /* A file that says it is a checkpoint gets the checkpoint's own
         * complaint; anything else the statistics reader's. */
        gc_st_file *f = NULL;
        int claims = 0;
        char ckpt_err[512];
        snprintf(ckpt_err, sizeof ckpt_err, "%s", gc_last_error());
        if (gc_st_load(path, 0, &f) == GC_OK) {
            const char *fmt = gc_st_metadata(f, "format");
            claims = fmt && !strcmp(fmt, GC_CHECKPOINT_FORMAT);
            gc_st_free(f);
        }
        return claims
                   ? gc_error(s, "%s", ckpt_err)
                   : gc_error(GC_ERR_FORMAT, "%s (and not a gancl checkpoint either)", stats_err);
    }
    return open_checkpoint(in, be, o);
}

static void close_input(input *in)
{
    gc_idx_free(&in->idx);
    for (int i = 0; i < in->n_files; i++)
        free(in->files[i]);
    free(in->files);
    if (in->gan_ready) gc_gan_free(&in->gan);
    free(in->scratch);
    gc_fid_stats_free(&in->stats);
}

/* ---- progress ------------------------------------------------------------------------ */

typedef struct progress {
    const char *label;
    double t0;
    int tty;
} progress;

static void show_progress(void *ctx, int64_t done, int64_t total)
{
    progress *p = ctx;
    double dt = gc_cli_now() - p->t0, rate = dt > 0 ? done / dt : 0;
    if (p->tty) {
        int width = 30, fill = (int)(width * done / (total ? total : 1));
        fprintf(stderr, "\r%s [%.*s%*s] %" PRId64 "/%" PRId64 " images, %.1f img/s", p->label, fill,
                "##############################", width - fill, "", done, total, rate);
        if (done == total) fputc('\n', stderr);
    } else if (done == total) {
        fprintf(stderr, "gancl: %s: %" PRId64 " images in %.1f s (%.1f img/s)\n", p->label, total,
                dt, rate);
    }
    fflush(stderr);
}

/* ---- shared flow ------------------------------------------------------------------------ */

static void usage_fid(FILE *f)
{
    fprintf(f, "usage: gancl [--device N|cpu] fid A B [--weights FILE] [--dims 2048] [--batch 50]\n"
               "                                [--n 10000] [--seed 1] [--json]\n"
               "                                [--extractor inception|classifier]\n"
               "                                [--classifier FILE]\n"
               "       gancl [--device N|cpu] fid-stats A --out STATS.safetensors [same options]\n"
               "\n"
               "Frechet Inception Distance between two image sets, equal to pytorch-fid's\n"
               "(its Inception-v3 weights, 299x299 bilinear resize, pool3 features, FID with\n"
               "a true matrix square root); or, with --classifier, the same distance on the\n"
               "penultimate features of a classifier from `gancl classify train` (no\n"
               "Inception weights needed).  A and B are each\n"
               "  an IDX image file (.gz or raw)    all of its images\n"
               "  a folder of .png images          all of them, as RGB; they must have one\n"
               "                                   size (else an error names the first that\n"
               "                                   differs); unreadable files are skipped\n"
               "                                   with a warning\n"
               "  FID statistics from fid-stats    no network needed; they record their\n"
               "                                   features, which must match\n"
               "  a gancl training checkpoint      --n images from its generator, quantised\n"
               "                                   to 8 bits as `gancl sample` saves them\n"
               "\n"
               "  --weights FILE   Inception weights (default $GANCL_FID_WEIGHTS, else\n"
               "                   ~/.cache/gancl/" GC_FID_WEIGHTS_NAME ");\n"
               "                   convert pytorch-fid's .pth once with\n"
               "                   tools/convert_fid_weights.py (README, 'FID weights')\n"
               "  --dims D         64, 192, 768 or 2048 (pool3, the default): pytorch-fid's\n"
               "                   feature layers; FIDs of different dims are not comparable\n"
               "  --extractor E    inception (the default) or classifier (needs --classifier)\n"
               "  --classifier FILE  use this classifier's features (implies --extractor\n"
               "                   classifier): images must have its size and channels (PNGs\n"
               "                   are read with its channels); the result is a classifier\n"
               "                   FID, comparable only with FIDs of the same classifier file,\n"
               "                   never with Inception FID\n"
               "  --batch B        images per pass through the network (default 50); batches\n"
               "                   too big for the device are split automatically\n"
               "  --n N            images generated from a checkpoint (default 10000); for a\n"
               "                   data set, use only its first N images (default all)\n"
               "  --seed S         noise seed for checkpoint samples (default 1)\n"
               "  --json           print {\"fid\": ...} and details as JSON (fid only)\n"
               "  --out FILE       fid-stats: where to write mu and sigma (safetensors)\n"
               "  --device N|cpu   as the global option\n"
               "\n"
               "Fewer than 2048 images give a biased FID (a warning says so).\n");
}

int gc_fid_args_parse(int argc, char **argv, int stats_cmd, gc_fid_args *o)
{
    static const struct option opts[] = {{"weights", required_argument, 0, 'w'},
                                         {"dims", required_argument, 0, 'D'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"device", required_argument, 0, 'd'},
                                         {"n", required_argument, 0, 'n'},
                                         {"seed", required_argument, 0, 's'},
                                         {"json", no_argument, 0, 'j'},
                                         {"out", required_argument, 0, 'o'},
                                         {"extractor", required_argument, 0, 'e'},
                                         {"classifier", required_argument, 0, 'c'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cmd = stats_cmd ? "fid-stats" : "fid";
    *o = (gc_fid_args){.dims = GC_FID_DEFAULT_DIMS,
                       .batch = GC_FID_DEFAULT_BATCH,
                       .n = 10000,
                       .seed = 1,
                       .stats_cmd = stats_cmd,
                       .npos = stats_cmd ? 1 : 2};
    long long v;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
            if (!gc_cli_check_path("--weights", optarg, GC_CLI_PATH_MAX)) return 2;
            o->weights = optarg;
            break;
        case 'D':
            if (!gc_cli_parse_int("--dims", optarg, 1, 4096, &v)) return 2;
            if (!gc_inception_valid_dims((int)v))
                return gc_cli_usage_error("--dims: %lld is not one of 64, 192, 768, 2048", v);
            o->dims = (int)v;
            o->dims_given = 1;
            break;
        case 'b':
            if (!gc_cli_parse_int("--batch", optarg, 1, 4096, &v)) return 2;
            o->batch = (int)v;
            break;
        case 'd':
            if (!gc_cli_check_device("--device", optarg)) return 2;
            o->device = optarg;
            break;
        case 'n':
            if (!gc_cli_parse_int("--n", optarg, 2, (long long)1 << 40, &v)) return 2;
            o->n = v;
            o->n_given = 1;
            break;
        case 's':
            if (!gc_cli_parse_int("--seed", optarg, 0, INT64_MAX, &v)) return 2;
            o->seed = v;
            break;
        case 'e':
            if (!strcmp(optarg, "inception"))
                o->use_classifier = 0;
            else if (!strcmp(optarg, "classifier"))
                o->use_classifier = 1;
            else
                return gc_cli_usage_error("--extractor: '%s' is not inception or classifier",
                                          optarg);
            o->extractor_given = 1;
            break;
        case 'c':
            if (!gc_cli_check_path("--classifier", optarg, GC_CLI_PATH_MAX)) return 2;
            o->classifier = optarg;
            break;
        case 'j': o->json = 1; break;
        case 'o':
            if (!gc_cli_check_path("--out", optarg, GC_CLI_PATH_MAX)) return 2;
            o->out = optarg;
            break;
        case 'h': usage_fid(stdout); return GC_CLI_DONE;
        default: return gc_cli_bad_option(cmd, opts, c, argc, argv);
        }
    }
    int npos = o->npos;
    if (argc - optind != npos)
        return gc_cli_usage_error("%s: expected %d input%s, got %d (see gancl %s --help)", cmd,
                                  npos, npos > 1 ? "s" : "", argc - optind, cmd);
    for (int i = 0; i < npos; i++) {
        o->pos[i] = argv[optind + i];
        if (!*o->pos[i]) return gc_cli_usage_error("%s: input %d is an empty path", cmd, i + 1);
    }
    if (o->classifier && o->extractor_given && !o->use_classifier)
        return gc_cli_usage_error("--classifier: --extractor inception uses Inception, not a "
                                  "classifier");
    if (o->classifier) o->use_classifier = 1;
    if (o->use_classifier && !o->classifier)
        return gc_cli_usage_error("--extractor classifier needs --classifier FILE");
    if (o->use_classifier && o->weights)
        return gc_cli_usage_error("--weights: Inception's weights; --classifier uses the "
                                  "classifier's features");
    if (o->use_classifier && o->dims_given)
        return gc_cli_usage_error("--dims: Inception's feature layers; a classifier has its own "
                                  "feature size");
    if (stats_cmd && !o->out) return gc_cli_usage_error("fid-stats: --out FILE is required");
    if (!stats_cmd && o->out) return gc_cli_usage_error("fid: --out belongs to fid-stats");
    if (stats_cmd && o->json) return gc_cli_usage_error("fid-stats: --json belongs to fid");
    if (stats_cmd && gc_fs_is_dir(o->out))
        return gc_cli_usage_error("--out: %s is a folder; name the statistics file", o->out);
    return 0;
}

/* Statistics files record their features: they must be those in use (the
 * classifier's, or Inception's when --extractor inception is given), or,
 * with no extractor named, agree with each other and be Inception's when
 * images are to be compared with them. */
static gc_status check_stats_tags(const input *ins, int count, const options *o,
                                  const gc_feature_extractor *clf)
{
    const char *want = clf ? clf->name : o->extractor_given ? "inception" : NULL;
    int images = 0;
    const input *first = NULL;
    for (int i = 0; i < count; i++)
        images += ins[i].kind != IN_STATS;
    for (int i = 0; i < count; i++) {
        const input *in = &ins[i];
        if (in->kind != IN_STATS) continue;
        const char *tag = in->stats.extractor;
        if (want && strcmp(tag, want))
            return gc_error(GC_ERR_ARG, "%s: statistics of %s features, but this FID uses %s%s%s%s",
                            in->path, tag, want, clf ? " (" : "", clf ? o->classifier : "",
                            clf ? ")" : "");
        if (!want && images && strcmp(tag, "inception"))
            return gc_error(GC_ERR_ARG,
                            "%s: statistics of %s features; give the classifier that made them "
                            "(--classifier FILE) to compare images with them",
                            in->path, tag);
        if (first && strcmp(tag, first->stats.extractor))
            return gc_error(GC_ERR_ARG,
                            "%s holds statistics of %s features and %s of %s features: FIDs of "
                            "different feature extractors cannot be compared",
                            first->path, first->stats.extractor, in->path, tag);
        first = in;
    }
    return GC_OK;
}

/* A classifier takes images of its own size only. */
static gc_status check_image_sizes(const input *ins, int count, const options *o,
                                   const gc_feature_extractor *clf)
{
    for (int i = 0; clf && i < count; i++) {
        const gc_image_source *src = &ins[i].src;
        if (ins[i].kind == IN_STATS || (src->c == clf->c && src->h == clf->h && src->w == clf->w))
            continue;
        return gc_error(GC_ERR_ARG, "%s: the classifier takes %dx%dx%d images, %s has %dx%dx%d",
                        o->classifier, clf->c, clf->h, clf->w, ins[i].path, src->c, src->h, src->w);
    }
    return GC_OK;
}

/* Statistics of every input that is not already statistics, with the
 * classifier's features when clf is set, else Inception's. */
static gc_status compute_all(input *ins, int count, const options *o, gc_backend *be,
                             const gc_feature_extractor *clf, char *weights_used, size_t wn)
{
    int dims = clf ? clf->dims : o->dims;
    for (int i = 0; i < count; i++)
        if (ins[i].kind == IN_STATS) {
            if (!o->dims_given && !clf) dims = ins[i].stats.dims;
            if (ins[i].stats.dims != dims)
                return gc_error(GC_ERR_ARG, "%s: statistics of %d dims, but %s %d%s", ins[i].path,
                                ins[i].stats.dims,
                                clf ? "the classifier's features have" : "--dims is", dims,
                                o->dims_given || clf ? "" : " (taken from the other input)");
        }
    gc_inception *net = NULL;
    gc_feature_extractor fx;
    if (clf) fx = *clf;
    for (int i = 0; i < count; i++) {
        input *in = &ins[i];
        if (in->kind == IN_STATS) continue;
        if (!clf && !net) {
            GC_TRY(gc_fid_weights_path(o->weights, weights_used, wn));
            GC_TRY(gc_inception_load(be, weights_used, dims, o->batch, &net));
            gc_inception_extractor(net, &fx);
        }
        int64_t limit = in->kind == IN_CHECKPOINT ? o->n : o->n_given ? o->n : 0;
        progress p = {in->path, gc_cli_now(), isatty(STDERR_FILENO)};
        gc_status s = gc_fid_compute_stats_fx(&fx, &in->src, limit, show_progress, &p, &in->stats);
        if (s != GC_OK) {
            if (p.tty) fputc('\n', stderr);
            gc_inception_free(net);
            return gc_error_prefix(s, "%s", in->path);
        }
    }
    gc_inception_free(net);
    return GC_OK;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static int run(gc_cli *cli, int argc, char **argv, int stats_cmd)
{
    options o;
    int rc = gc_fid_args_parse(argc, argv, stats_cmd, &o);
    if (rc) return rc == GC_CLI_DONE ? 0 : rc;
    const char *const *pos = o.pos;
    int npos = o.npos;

    gc_backend *be;
    rc = gc_cli_open_backend_tuned(cli, o.device, &be);
    if (rc) return rc;
    input ins[2];
    memset(ins, 0, sizeof ins);
    char weights[1024] = "";
    gc_status s = GC_OK;
    gc_fid_classifier *clf = NULL;
    const gc_feature_extractor *cfx = NULL;
    if (o.use_classifier) {
        s = gc_fid_classifier_load(be, o.classifier, o.batch, &clf);
        if (s == GC_OK) {
            cfx = gc_fid_classifier_extractor(clf);
            snprintf(weights, sizeof weights, "%s", o.classifier);
        }
    }
    int opened = 0;
    for (; opened < npos && s == GC_OK; opened++)
        s = open_input(&ins[opened], pos[opened], be, &o, cfx ? cfx->c : 3);
    if (s == GC_OK && stats_cmd && ins[0].kind == IN_STATS)
        s = gc_error(GC_ERR_ARG, "%s: already FID statistics", pos[0]);
    if (s == GC_OK) s = check_stats_tags(ins, npos, &o, cfx);
    if (s == GC_OK) s = check_image_sizes(ins, npos, &o, cfx);
    if (s == GC_OK) s = compute_all(ins, npos, &o, be, cfx, weights, sizeof weights);
    /* Known once every input has statistics: with no flags, two statistics
     * files of one classifier give a classifier FID too. */
    const char *tag = s == GC_OK ? ins[0].stats.extractor : "";
    const int is_clf = !strncmp(tag, "classifier", 10);
    if (s == GC_OK && stats_cmd) {
        char source[1200];
        snprintf(source, sizeof source, "%s:%s", kind_names[ins[0].kind], pos[0]);
        s = gc_fid_stats_save(o.out, &ins[0].stats, source);
        if (s == GC_OK)
            printf("wrote FID statistics of %" PRId64 " images (%d dims, %s features) to %s\n",
                   ins[0].stats.count, ins[0].stats.dims, tag, o.out);
    } else if (s == GC_OK) {
        double fid;
        s = gc_fid(&ins[0].stats, &ins[1].stats, &fid);
        if (s == GC_OK && o.json) {
            printf("{\"fid\": %.6f, \"dims\": %d, \"extractor\": ", fid, ins[0].stats.dims);
            json_string(tag);
            printf(", \"device\": ");
            json_string(gc_backend_name(be));
            printf(", \"%s\": ", is_clf ? "classifier" : "weights");
            json_string(weights);
            for (int i = 0; i < 2; i++) {
                printf(", \"%s\": {\"path\": ", i ? "b" : "a");
                json_string(pos[i]);
                printf(", \"kind\": \"%s\", \"count\": %" PRId64 "}", kind_names[ins[i].kind],
                       ins[i].stats.count);
            }
            printf("}\n");
        } else if (s == GC_OK && is_clf) {
            printf("classifier FID (not comparable with Inception FID): %.4f\n", fid);
        } else if (s == GC_OK) {
            printf("FID: %.4f\n", fid);
        }
    }
    if (s != GC_OK) rc = gc_cli_fail(s);
    for (int i = 0; i < opened; i++)
        close_input(&ins[i]);
    gc_fid_classifier_free(clf);
    gc_backend_free(be);
    return rc;
}

int gc_cmd_fid(gc_cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, 0);
}

int gc_cmd_fid_stats(gc_cli *cli, int argc, char **argv)
{
    return run(cli, argc, argv, 1);
}

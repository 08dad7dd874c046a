/* tests/test_train_fid.c - FID during training: the evaluator against a
 * computation from the parts (gc_inception, gc_fid_compute_stats, gc_fid),
 * the training set's statistics cached and reused, training untouched by
 * evaluations; `gancl train --fid-every` writes fid.csv and fid.png, trains
 * to the same weights as without FID, keeps the history across --resume,
 * reuses the cache across runs, goes on with one notice when there are no
 * weights, and refuses bad flags with exit 2; with cfg.fid_classifier, the
 * same evaluator on a classifier's features.
 *
 * Inception runs at 64 dims (the stem only) with random weights written
 * here, on the CPU reference backend, to keep the test cheap. */
#define _XOPEN_SOURCE 700 /* setenv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "gancl/classifier.h"
#include "gancl/fid.h"
#include "gancl/io.h"
#include "gancl/train.h"
#include "models/inception.h"
#include "test_files.h"
#include "test_fixtures.h"
#include "test_proc.h"
#include "test_support.h"

#define H 8
#define W 12
/* Inception costs about a second per image on the CPU reference backend
 * in a Debug build, whatever the image size (it resizes to 299x299): the
 * sets stay tiny. */
#define N_IMAGES 2 /* batch 2: every step ends an epoch */
#define FID_N    3 /* not a multiple of the evaluation batch, 2 */

static char tmp_dir[64], data_path[128], weights_path[128];
static uint8_t images[N_IMAGES * H * W];

/* A dark frame with a bright square somewhere: far from what an untrained
 * generator makes, so the FID is clearly above 0. */
static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "train-fid");
    memset(images, 0, sizeof images);
    for (int i = 0; i < N_IMAGES; i++) {
        int y0 = gt_randint(0, H - 4), x0 = gt_randint(0, W - 4);
        for (int y = y0; y < y0 + 4; y++)
            for (int x = x0; x < x0 + 4; x++)
                images[i * H * W + y * W + x] = (uint8_t)gt_randint(128, 255);
    }
    snprintf(data_path, sizeof data_path, "%s/squares.idx", tmp_dir);
    gc_idx d = {.kind = GC_IDX_IMAGES, .data = images, .n = N_IMAGES, .h = H, .w = W};
    GT_OK(gc_idx_write(data_path, &d, 0));
    snprintf(weights_path, sizeof weights_path, "%s/stem.safetensors", tmp_dir);
    gt_write_stem_weights(weights_path, gt_seed());
    unsetenv("GANCL_FID_WEIGHTS");
}

/* Points the cache folder at tmp_dir/<name> (children inherit it). */
static void use_cache(const char *name)
{
    char dir[160];
    snprintf(dir, sizeof dir, "%s/%s", tmp_dir, name);
    ck_assert_int_eq(setenv("XDG_CACHE_HOME", dir, 1), 0);
}

static gc_train_config tiny_config(void)
{
    gc_train_config c = gc_train_default_config(GC_MODEL_DCGAN);
    c.model.height = H;
    c.model.width = W;
    c.model.latent = 5;
    c.model.g_width = 4;
    c.model.d_width = 3;
    c.batch = 2;
    c.seed = gt_seed();
    return c;
}

/* ---- the library ---------------------------------------------------------------- */

/* Everything training carries, to check that an evaluation changes none of it. */
static float *snapshot(const gc_trainer *tr, int64_t *n)
{
    const gc_seq *seqs[2] = {&tr->gan.g, &tr->gan.d};
    *n = 0;
    for (int i = 0; i < 2; i++)
        *n += 3 * seqs[i]->n_params + seqs[i]->n_state;
    float *h = malloc((size_t)*n * sizeof(float)), *p = h;
    for (int i = 0; i < 2; i++) {
        const gc_seq *s = seqs[i];
        gc_tensor t[4] = {gc_seq_params(s), gc_seq_adam_m(s), gc_seq_adam_v(s), gc_seq_state(s)};
        for (int k = 0; k < 4; k++) {
            if (!t[k].buf) continue;
            GT_OK(gc_tensor_read(&t[k], p));
            p += gc_tensor_numel(&t[k]);
        }
    }
    return h;
}

typedef struct bytes_src {
    const uint8_t *b;
    int64_t per;
} bytes_src;

static gc_status read_bytes(void *ctx, int64_t first, int n, float *out)
{
    const bytes_src *s = ctx;
    for (int64_t i = 0; i < n * s->per; i++)
        out[i] = (float)s->b[first * s->per + i] / 255.0f;
    return GC_OK;
}

/* What the evaluator promises, from the public parts: samples from the
 * documented stream in calls of `batch`, rounded to bytes, through
 * Inception, against the statistics of the data (tr's images, C planes). */
static double reference_fid(gc_trainer *tr, int batch)
{
    const int c = tr->cfg.model.channels, per = c * H * W;
    gc_inception *net;
    GT_OK(gc_inception_load(tr->be, weights_path, 64, batch, &net));
    bytes_src real = {tr->images, per};
    gc_image_source rs = {N_IMAGES, c, H, W, read_bytes, &real};
    gc_fid_stats a, b;
    GT_OK(gc_fid_compute_stats(net, &rs, 0, NULL, NULL, &a));
    float lo, hi, *x = malloc(sizeof(float) * FID_N * per);
    uint8_t *q = malloc((size_t)FID_N * per);
    gc_gan_pixel_range(tr->cfg.model.kind, &lo, &hi);
    gc_rng rng = {gc_train_fid_seed(tr), 0};
    for (int done = 0; done < FID_N; done += batch) {
        int n = FID_N - done < batch ? FID_N - done : batch;
        GT_OK(gc_gan_sample(&tr->gan, &rng, n, x + done * per));
    }
    for (int i = 0; i < FID_N * per; i++) { /* as `gancl sample` rounds */
        float v = (x[i] - lo) / (hi - lo) * 255.0f;
        q[i] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : lrintf(v));
    }
    bytes_src fake = {q, per};
    gc_image_source fs = {FID_N, c, H, W, read_bytes, &fake};
    GT_OK(gc_fid_compute_stats(net, &fs, 0, NULL, NULL, &b));
    double fid;
    GT_OK(gc_fid(&a, &b, &fid));
    gc_fid_stats_free(&a);
    gc_fid_stats_free(&b);
    gc_inception_free(net);
    free(x);
    free(q);
    return fid;
}

/* Colour runs: RGB goes into Inception as it is (not as luma), and the
 * evaluator's FID is the one from the parts. */
START_TEST(test_evaluator_colour)
{
    setup();
    use_cache("cache-colour");
    static uint8_t rgb[N_IMAGES * 3 * H * W], swapped[N_IMAGES * 3 * H * W];
    for (int i = 0; i < N_IMAGES * 3 * H * W; i++)
        rgb[i] = (uint8_t)gt_randint(0, 255);
    for (int i = 0; i < N_IMAGES; i++) /* R and B traded */
        for (int k = 0; k < 3; k++)
            memcpy(swapped + (i * 3 + k) * H * W, rgb + (i * 3 + 2 - k) * H * W, H * W);
    gc_train_config cfg = tiny_config();
    cfg.model.channels = 3;
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, gt_cpu(), &cfg, rgb, N_IMAGES, H, W));
    GT_OK(gc_trainer_step(&tr));
    const int batch = 2;
    gc_train_fid *f;
    GT_OK(gc_train_fid_init(&tr, weights_path, NULL, 64, batch, NULL, NULL, &f));
    double fid;
    GT_OK(gc_train_fid_eval(f, &tr, FID_N, NULL, NULL, &fid));
    double ref = reference_fid(&tr, batch);
    ck_assert_msg(isfinite(fid) && fabs(fid - ref) <= 1e-9 * ref, "FID %.12g, from the parts %.12g",
                  fid, ref);
    gc_train_fid_free(f);

    /* Statistics of the same images with R and B traded differ: the
     * channels reach the network apart. */
    gc_inception *net;
    GT_OK(gc_inception_load(gt_cpu(), weights_path, 64, batch, &net));
    bytes_src a = {rgb, 3 * H * W}, b = {swapped, 3 * H * W};
    gc_image_source sa = {N_IMAGES, 3, H, W, read_bytes, &a},
                    sb = {N_IMAGES, 3, H, W, read_bytes, &b};
    gc_fid_stats fa, fb;
    GT_OK(gc_fid_compute_stats(net, &sa, 0, NULL, NULL, &fa));
    GT_OK(gc_fid_compute_stats(net, &sb, 0, NULL, NULL, &fb));
    double d = 0;
    for (int k = 0; k < 64; k++)
        d += fabs(fa.mu[k] - fb.mu[k]);
    ck_assert_msg(d > 1e-6, "swapping R and B left Inception's features unchanged");
    gc_fid_stats_free(&fa);
    gc_fid_stats_free(&fb);
    gc_inception_free(net);
    gc_trainer_free(&tr);
}
END_TEST

START_TEST(test_evaluator)
{
    setup();
    use_cache("cache-lib");
    gc_backend *be = gt_cpu();
    gc_train_config cfg = tiny_config();
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, be, &cfg, images, N_IMAGES, H, W));
    for (int i = 0; i < 2; i++)
        GT_OK(gc_trainer_step(&tr));
    const int batch = 2;

    gc_train_fid *f;
    GT_OK(gc_train_fid_init(&tr, weights_path, data_path, 64, batch, NULL, NULL, &f));
    ck_assert_int_eq(gc_train_fid_from_cache(f), 0);
    char want[256];
    snprintf(want, sizeof want, "%s/cache-lib/gancl/fid-stats/", tmp_dir);
    const char *cache = gc_train_fid_cache_file(f);
    ck_assert_msg(!strncmp(cache, want, strlen(want)) && strstr(cache, "-64.safetensors"),
                  "cache file %s", cache);
    ck_assert_str_eq(gc_train_fid_weights(f), weights_path);
    ck_assert_int_eq(gc_train_fid_dims(f), 64);
    ck_assert_str_eq(gc_train_fid_extractor(f), "inception");

    int64_t n;
    float *before = snapshot(&tr, &n);
    gc_train_state st = tr.st;
    double fid1;
    GT_OK(gc_train_fid_eval(f, &tr, FID_N, NULL, NULL, &fid1));
    float *after = snapshot(&tr, &n);
    ck_assert_msg(!memcmp(before, after, (size_t)n * sizeof(float)),
                  "an evaluation changed the models or Adam's state");
    ck_assert_msg(!memcmp(&st, &tr.st, sizeof st), "an evaluation moved the run state");
    free(before);
    free(after);
    ck_assert_msg(isfinite(fid1) && fid1 > 1e-3, "FID %g", fid1);
    /* The same arithmetic in the same order: only the threads' split of the
     * covariance update may differ, which moves the last bits at most. */
    double ref = reference_fid(&tr, batch);
    ck_assert_msg(fabs(fid1 - ref) <= 1e-9 * ref, "FID %.12g, from the parts %.12g", fid1, ref);

    /* A second evaluator reads the statistics from the cache (the same
     * FID from them is checked through the command line). */
    char cache_copy[512];
    snprintf(cache_copy, sizeof cache_copy, "%s", cache);
    gc_train_fid_free(f);
    struct stat s1, s2;
    ck_assert_int_eq(stat(cache_copy, &s1), 0);
    GT_OK(gc_train_fid_init(&tr, weights_path, data_path, 64, batch, NULL, NULL, &f));
    ck_assert_int_eq(gc_train_fid_from_cache(f), 1);
    ck_assert_str_eq(gc_train_fid_cache_file(f), cache_copy);
    ck_assert_int_eq(stat(cache_copy, &s2), 0);
    ck_assert(s1.st_ino == s2.st_ino && s1.st_mtim.tv_sec == s2.st_mtim.tv_sec &&
              s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec);
    gc_train_fid_free(f);

    /* A data file with another modification time is other data. */
    struct utimbuf t = {.actime = 1000000000, .modtime = 1000000000};
    ck_assert_int_eq(utime(data_path, &t), 0);
    GT_OK(gc_train_fid_init(&tr, weights_path, data_path, 64, batch, NULL, NULL, &f));
    ck_assert_int_eq(gc_train_fid_from_cache(f), 0);
    ck_assert_str_ne(gc_train_fid_cache_file(f), cache_copy);
    gc_train_fid_free(f);

    /* Errors: no weights (what the command line turns into a notice). */
    char absent[160];
    snprintf(absent, sizeof absent, "%s/absent.safetensors", tmp_dir);
    f = (gc_train_fid *)1;
    ck_assert_int_eq(gc_train_fid_init(&tr, absent, data_path, 64, batch, NULL, NULL, &f),
                     GC_ERR_IO);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(gc_last_error(), absent), "%s", gc_last_error());
    gc_trainer_free(&tr);
}
END_TEST

/* A classifier's features instead of Inception's (cfg.fid_classifier):
 * the weights argument ignored, the same FID as from the parts, a cache of
 * its own keyed by the classifier file too, and a classifier of another
 * image size refused.  Its weights are random: the features need not mean
 * anything for the plumbing. */
static void write_classifier(const char *path, int h, int w, uint64_t seed)
{
    gc_classifier c;
    gc_classifier_config cc = gc_classifier_default_config(3, 1, h, w);
    GT_OK(gc_classifier_init(&c, gt_cpu(), &cc, 4));
    GT_OK(gc_classifier_init_params(&c, seed));
    GT_OK(gc_classifier_save(&c, path, NULL));
    gc_classifier_free(&c);
}

START_TEST(test_evaluator_classifier)
{
    setup();
    use_cache("cache-clf");
    gc_backend *be = gt_cpu();
    char clf[160], absent[160];
    snprintf(clf, sizeof clf, "%s/clf-%dx%d.safetensors", tmp_dir, H, W);
    snprintf(absent, sizeof absent, "%s/no-inception.safetensors", tmp_dir);
    write_classifier(clf, H, W, gt_seed());
    gc_train_config cfg = tiny_config();
    snprintf(cfg.fid_classifier, sizeof cfg.fid_classifier, "%s", clf);
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, be, &cfg, images, N_IMAGES, H, W));
    GT_OK(gc_trainer_step(&tr));
    const int batch = 2;

    gc_train_fid *f;
    GT_OK(gc_train_fid_init(&tr, absent, data_path, 64, batch, NULL, NULL, &f));
    ck_assert_int_eq(gc_train_fid_from_cache(f), 0);
    ck_assert_str_eq(gc_train_fid_weights(f), clf);
    ck_assert_int_eq(gc_train_fid_dims(f), 128);
    char cache[512];
    snprintf(cache, sizeof cache, "%s", gc_train_fid_cache_file(f));
    ck_assert_msg(strstr(cache, "/cache-clf/gancl/fid-stats/") &&
                      strstr(cache, "-classifier-128.safetensors"),
                  "cache file %s", cache);
    gc_fid_stats cached;
    GT_OK(gc_fid_stats_load(cache, &cached, NULL));
    char tag[GC_FID_EXTRACTOR_MAX];
    GT_OK(gc_fid_classifier_tag(clf, tag, sizeof tag));
    ck_assert_str_eq(cached.extractor, tag);
    ck_assert_str_eq(gc_train_fid_extractor(f), tag);
    gc_fid_stats_free(&cached);
    double fid;
    GT_OK(gc_train_fid_eval(f, &tr, FID_N, NULL, NULL, &fid));
    gc_train_fid_free(f);

    /* From the parts: the classifier's statistics of the data and of the
     * rounded samples of the documented stream. */
    gc_fid_classifier *fc;
    GT_OK(gc_fid_classifier_load(be, clf, batch, &fc));
    const gc_feature_extractor *fx = gc_fid_classifier_extractor(fc);
    bytes_src real = {images, H * W};
    gc_image_source rs = {N_IMAGES, 1, H, W, read_bytes, &real};
    gc_fid_stats a, b;
    GT_OK(gc_fid_compute_stats_fx(fx, &rs, 0, NULL, NULL, &a));
    float lo, hi, x[FID_N * H * W];
    uint8_t q[FID_N * H * W];
    gc_gan_pixel_range(tr.cfg.model.kind, &lo, &hi);
    gc_rng rng = {gc_train_fid_seed(&tr), 0};
    for (int done = 0; done < FID_N; done += batch) {
        int n = FID_N - done < batch ? FID_N - done : batch;
        GT_OK(gc_gan_sample(&tr.gan, &rng, n, x + done * H * W));
    }
    for (int i = 0; i < FID_N * H * W; i++) {
        float v = (x[i] - lo) / (hi - lo) * 255.0f;
        q[i] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : lrintf(v));
    }
    bytes_src fake = {q, H * W};
    gc_image_source fs = {FID_N, 1, H, W, read_bytes, &fake};
    GT_OK(gc_fid_compute_stats_fx(fx, &fs, 0, NULL, NULL, &b));
    double ref;
    GT_OK(gc_fid(&a, &b, &ref));
    ck_assert_msg(isfinite(fid) && fid > 0 && fabs(fid - ref) <= 1e-9 * ref,
                  "classifier FID %.12g, from the parts %.12g", fid, ref);
    gc_fid_stats_free(&a);
    gc_fid_stats_free(&b);
    gc_fid_classifier_free(fc);

    /* Again: from the cache.  A rewritten classifier file: recomputed, in
     * another cache file. */
    GT_OK(gc_train_fid_init(&tr, absent, data_path, 64, batch, NULL, NULL, &f));
    ck_assert_int_eq(gc_train_fid_from_cache(f), 1);
    ck_assert_str_eq(gc_train_fid_cache_file(f), cache);
    gc_train_fid_free(f);
    struct utimbuf t = {.actime = 1000000000, .modtime = 1000000000};
    ck_assert_int_eq(utime(clf, &t), 0);
    GT_OK(gc_train_fid_init(&tr, absent, data_path, 64, batch, NULL, NULL, &f));
    ck_assert_int_eq(gc_train_fid_from_cache(f), 0);
    ck_assert_str_ne(gc_train_fid_cache_file(f), cache);
    gc_train_fid_free(f);

    /* A classifier of other images. */
    char other[160], want[400];
    snprintf(other, sizeof other, "%s/clf-12x12.safetensors", tmp_dir);
    write_classifier(other, 12, 12, gt_seed());
    snprintf(tr.cfg.fid_classifier, sizeof tr.cfg.fid_classifier, "%s", other);
    f = (gc_train_fid *)1;
    ck_assert_int_eq(gc_train_fid_init(&tr, absent, data_path, 64, batch, NULL, NULL, &f),
                     GC_ERR_ARG);
    ck_assert_ptr_null(f);
    snprintf(want, sizeof want, "%s: the classifier takes 1x12x12 images, the model makes 1x%dx%d",
             other, H, W);
    ck_assert_str_eq(gc_last_error(), want);
    gc_trainer_free(&tr);
}
END_TEST

/* The log: rows, the file rewritten whole, rows after a checkpoint dropped. */
START_TEST(test_fid_log)
{
    setup();
    char dir[160], path[200];
    snprintf(dir, sizeof dir, "%s/log", tmp_dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    gc_fid_log log;
    GT_OK(gc_fid_log_open(&log, dir, -1));
    GT_OK(gc_fid_log_add(&log, 2, 30, 123.456789, 10000, 2048));
    GT_OK(gc_fid_log_add(&log, 4, 60, 98.5, 10000, 2048));
    GT_OK(gc_fid_log_add(&log, 6, 90, 4.25, 500, 64));
    gc_fid_log_close(&log);
    snprintf(path, sizeof path, "%s/fid.png", dir);
    gc_image img;
    GT_OK(gc_png_read(path, 0, &img));
    ck_assert_int_eq(img.w, GC_PLOT_WIDTH);
    gc_image_free(&img);

    GT_OK(gc_fid_log_open(&log, dir, 60)); /* resumed from step 60 */
    ck_assert_int_eq(log.n, 2);
    GT_OK(gc_fid_log_add(&log, 5, 75, 90.0, 10000, 2048));
    gc_fid_log_close(&log);
    snprintf(path, sizeof path, "%s/fid.csv", dir);
    FILE *fp = fopen(path, "r");
    char text[512] = "";
    ck_assert_ptr_nonnull(fp);
    text[fread(text, 1, sizeof text - 1, fp)] = 0;
    fclose(fp);
    ck_assert_str_eq(text, "epoch,step,fid,n,dims\n"
                           "2,30,123.456789,10000,2048\n"
                           "4,60,98.500000,10000,2048\n"
                           "5,75,90.000000,10000,2048\n");

    GT_OK(gc_fid_log_open(&log, dir, -1)); /* a fresh run starts afresh */
    gc_fid_log_close(&log);
    fp = fopen(path, "r");
    text[fread(text, 1, sizeof text - 1, fp)] = 0;
    fclose(fp);
    ck_assert_str_eq(text, "epoch,step,fid,n,dims\n");
}
END_TEST

/* The FID settings travel in the checkpoint's configuration; checkpoints
 * written before they existed still load, with the defaults. */
START_TEST(test_checkpoint_config)
{
    setup();
    gc_train_config cfg = tiny_config();
    cfg.fid_every = 3, cfg.fid_n = 777, cfg.fid_dims = 192;
    snprintf(cfg.fid_weights, sizeof cfg.fid_weights, "%s", weights_path);
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, gt_cpu(), &cfg, images, N_IMAGES, H, W));
    char path[160], old_path[160];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", tmp_dir);
    snprintf(old_path, sizeof old_path, "%s/ckpt-old.safetensors", tmp_dir);
    GT_OK(gc_trainer_save(&tr, path));
    gc_trainer_free(&tr);
    gc_train_config back;
    GT_OK(gc_checkpoint_config(path, &back));
    ck_assert(back.fid_every == 3 && back.fid_n == 777 && back.fid_dims == 192);
    ck_assert_str_eq(back.fid_weights, weights_path);

    /* The same file with the fid_* keys taken out of its configuration. */
    gc_st_file *f;
    GT_OK(gc_st_load(path, 0, &f));
    char *json = strdup(gc_st_metadata(f, "config"));
    char *k = strstr(json, ",\"fid_every\""); /* the fid_* keys come last */
    ck_assert_ptr_nonnull(k);
    strcpy(k, "}");
    ck_assert_msg(!strstr(json, "fid"), "%s", json);
    int nt = gc_st_count(f), nm = gc_st_metadata_count(f);
    gc_st_tensor *t = malloc(sizeof *t * (size_t)nt);
    gc_st_kv *m = malloc(sizeof *m * (size_t)nm);
    for (int i = 0; i < nt; i++)
        t[i] = *gc_st_at(f, i);
    for (int i = 0; i < nm; i++) {
        m[i] = gc_st_metadata_at(f, i);
        if (!strcmp(m[i].key, "config")) m[i].value = json;
    }
    GT_OK(gc_st_write(old_path, t, nt, m, nm));
    gc_st_free(f);
    free(t);
    free(m);
    free(json);
    GT_OK(gc_checkpoint_config(old_path, &back));
    gc_train_config def = gc_train_default_config(GC_MODEL_DCGAN);
    ck_assert(back.fid_every == 0 && back.fid_n == def.fid_n && back.fid_dims == def.fid_dims);
    ck_assert_str_eq(back.fid_weights, "");
    ck_assert(back.batch == cfg.batch && back.seed == cfg.seed);
}
END_TEST

/* ---- the command line ------------------------------------------------------------- */

/* Runs gancl with args (NULL-terminated), stdout and stderr into
 * tmp_dir/out and tmp_dir/err; returns the exit code. */
static int run_gancl(const char *const *args)
{
    gt_io io = {.out_path = gt_path(tmp_dir, "out"), .err_path = gt_path(tmp_dir, "err")};
    return gt_run(GANCL_BINARY, args, &io);
}
#define RUN(...) run_gancl(GT_ARGS(__VA_ARGS__))

static int count_of(const char *text, const char *what)
{
    int k = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
        k++;
    return k;
}

/* Tensors and run state of two checkpoints are identical (the configuration
 * may differ: it records the FID flags). */
static void same_training(const char *dir_a, const char *dir_b)
{
    char pa[256], pb[256];
    snprintf(pa, sizeof pa, "%s/checkpoint.safetensors", dir_a);
    snprintf(pb, sizeof pb, "%s/checkpoint.safetensors", dir_b);
    gc_st_file *a, *b;
    GT_OK(gc_st_load(pa, 0, &a));
    GT_OK(gc_st_load(pb, 0, &b));
    ck_assert_int_eq(gc_st_count(a), gc_st_count(b));
    for (int i = 0; i < gc_st_count(a); i++) {
        const gc_st_tensor *x = gc_st_at(a, i), *y = gc_st_find(b, x->name);
        ck_assert_msg(y && x->nbytes == y->nbytes && !memcmp(x->data, y->data, x->nbytes),
                      "%s differs between a run with FID and one without", x->name);
    }
    ck_assert_int_eq(gc_st_metadata_count(a), gc_st_metadata_count(b));
    for (int i = 0; i < gc_st_metadata_count(a); i++) {
        gc_st_kv kv = gc_st_metadata_at(a, i);
        if (!strcmp(kv.key, "config")) continue;
        ck_assert_msg(!strcmp(kv.value, gc_st_metadata(b, kv.key)), "metadata %s: %s vs %s", kv.key,
                      kv.value, gc_st_metadata(b, kv.key));
    }
    gc_st_free(a);
    gc_st_free(b);
}

/* The one file in tmp_dir/<cache>/gancl/fid-stats. */
static void cache_file(const char *cache, char *out, size_t n)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ls %s/%s/gancl/fid-stats", tmp_dir, cache);
    FILE *p = popen(cmd, "r");
    char name[128] = "", extra[128];
    ck_assert_ptr_nonnull(fgets(name, sizeof name, p));
    ck_assert_msg(!fgets(extra, sizeof extra, p), "more than one cache file: %s", extra);
    pclose(p);
    name[strcspn(name, "\n")] = 0;
    snprintf(out, n, "%s/%s/gancl/fid-stats/%s", tmp_dir, cache, name);
}

#define COMMON                                                                                     \
    "--device", "cpu", "train", "--data", data_path, "--batch", "2", "--g-width", "4",             \
        "--d-width", "3", "--latent", "5", "--seed", "41", "--log-every", "2"
#define CLI_FID_N "2"
#define FID_FLAGS                                                                                  \
    "--fid-every", "1", "--fid-dims", "64", "--fid-n", CLI_FID_N, "--fid-weights", weights_path

START_TEST(test_cli_fid)
{
    setup();
    use_cache("cache-cli");
    char plain[160], with[160], split[160], err_path[160];
    snprintf(plain, sizeof plain, "%s/plain", tmp_dir);
    snprintf(with, sizeof with, "%s/with", tmp_dir);
    snprintf(split, sizeof split, "%s/split", tmp_dir);
    snprintf(err_path, sizeof err_path, "%s/err", tmp_dir);

    ck_assert_int_eq(RUN(COMMON, "--steps", "2", "--out", plain), 0);
    int rc = RUN(COMMON, "--steps", "2", "--out", with, FID_FLAGS);
    char *err = gt_read_file(err_path, NULL), *out = gt_read_file(gt_path(tmp_dir, "out"), NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_msg(strstr(err, "computing the statistics of the training set"), "%s", err);
    /* 64 dims: no warning about --fid-n */
    ck_assert_msg(!strstr(err, "--fid-n"), "%s", err);
    /* The log shows each FID after its epoch. */
    ck_assert_msg(strstr(out, "epoch 1  step 1  FID ") && strstr(out, "epoch 2  step 2  FID "),
                  "%s", out);
    free(err);
    free(out);
    same_training(plain, with);

    /* fid.csv: a header and one row per epoch, fid.png: a plot. */
    char *csv = gt_read_file(gt_path(with, "fid.csv"), NULL);
    long long e[2], s[2], cnt[2];
    double fid[2];
    int dims[2];
    char *row = strchr(csv, '\n');
    ck_assert(!strncmp(csv, "epoch,step,fid,n,dims\n", 22));
    for (int i = 0; i < 2; i++) {
        ck_assert_ptr_nonnull(row);
        ck_assert_int_eq(
            sscanf(row + 1, "%lld,%lld,%lf,%lld,%d", &e[i], &s[i], &fid[i], &cnt[i], &dims[i]), 5);
        ck_assert(e[i] == i + 1 && s[i] == i + 1 && cnt[i] == atoi(CLI_FID_N) && dims[i] == 64);
        ck_assert_msg(isfinite(fid[i]) && fid[i] > 1e-3, "FID %g", fid[i]);
        row = strchr(row + 1, '\n');
    }
    ck_assert_msg(row && row[1] == 0, "rows beyond two: %s", csv);
    char png[200];
    snprintf(png, sizeof png, "%s/fid.png", with);
    gc_image img;
    GT_OK(gc_png_read(png, 0, &img));
    ck_assert(img.w == GC_PLOT_WIDTH && img.h == GC_PLOT_HEIGHT);
    gc_image_free(&img);

    /* A second run: the training set's statistics come from the cache,
     * which is left as it was. */
    char cache[256];
    cache_file("cache-cli", cache, sizeof cache);
    struct stat st1, st2;
    ck_assert_int_eq(stat(cache, &st1), 0);
    ck_assert_int_eq(setenv("GANCL_LOG", "debug", 1), 0);
    rc = RUN(COMMON, "--steps", "1", "--out", split, FID_FLAGS);
    unsetenv("GANCL_LOG");
    err = gt_read_file(err_path, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_msg(!strstr(err, "computing the statistics") && strstr(err, "from the cache"), "%s",
                  err);
    free(err);
    ck_assert_int_eq(stat(cache, &st2), 0);
    ck_assert(st1.st_ino == st2.st_ino && st1.st_mtim.tv_sec == st2.st_mtim.tv_sec &&
              st1.st_mtim.tv_nsec == st2.st_mtim.tv_nsec);

    /* --resume keeps the history (a row logged after the checkpoint, as a
     * crash would leave it, is dropped) and continues it: the same file as
     * the run in one go, since training and the FID noise are the same. */
    char path[200];
    snprintf(path, sizeof path, "%s/fid.csv", split);
    FILE *f = fopen(path, "a");
    fputs("2,2,1.000000,2,64\n", f);
    fclose(f);
    rc = RUN("--device", "cpu", "train", "--resume", split, "--steps", "2");
    err = gt_read_file(err_path, NULL);
    ck_assert_msg(rc == 0, "resume: exit %d: %s", rc, err);
    /* --fid-weights came from the checkpoint, the statistics from the cache. */
    ck_assert_msg(!strstr(err, "FID skipped") && !strstr(err, "computing"), "%s", err);
    free(err);
    char *csv2 = gt_read_file(gt_path(split, "fid.csv"), NULL);
    ck_assert_str_eq(csv2, csv);
    free(csv2);
    free(csv);
    same_training(plain, split);
}
END_TEST

/* No weights anywhere: one notice, training goes on, exit 0; the warning
 * about --fid-n below 2048 at 2048 dims comes once. */
START_TEST(test_cli_no_weights)
{
    setup();
    use_cache("cache-empty");
    char dir[160], err_path[160];
    snprintf(dir, sizeof dir, "%s/no-weights", tmp_dir);
    snprintf(err_path, sizeof err_path, "%s/err", tmp_dir);
    int rc = RUN(COMMON, "--steps", "4", "--out", dir, "--fid-every", "1", "--fid-n", "100");
    char *err = gt_read_file(err_path, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_msg(count_of(err, "FID skipped") == 1 && strstr(err, "README 'FID'"), "%s", err);
    ck_assert_msg(strstr(err, "cache-empty/gancl/" GC_FID_WEIGHTS_NAME), "%s", err);
    ck_assert_msg(count_of(err, "--fid-n 100") == 1, "%s", err);
    ck_assert_int_eq(count_of(err, "\n"), 2); /* the warning and the notice, nothing else */
    free(err);
    char path[200];
    snprintf(path, sizeof path, "%s/checkpoint.safetensors", dir);
    ck_assert(access(path, F_OK) == 0);
    snprintf(path, sizeof path, "%s/fid.csv", dir);
    ck_assert(access(path, F_OK) != 0);

    /* $GANCL_FID_WEIGHTS naming a missing file: the notice names it;
     * resuming keeps --fid-every from the checkpoint. */
    char absent[160];
    snprintf(absent, sizeof absent, "%s/nothing-here.safetensors", tmp_dir);
    ck_assert_int_eq(setenv("GANCL_FID_WEIGHTS", absent, 1), 0);
    rc = RUN("--device", "cpu", "train", "--resume", dir, "--steps", "6");
    unsetenv("GANCL_FID_WEIGHTS");
    err = gt_read_file(err_path, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_msg(count_of(err, "FID skipped") == 1 && strstr(err, absent), "%s", err);
    free(err);
}
END_TEST

/* Bad values: exit 2, one line naming the flag. */
START_TEST(test_cli_flags)
{
    setup();
    use_cache("cache-flags");
    char dir[160], err_path[160], absent[160];
    snprintf(dir, sizeof dir, "%s/flags", tmp_dir);
    snprintf(err_path, sizeof err_path, "%s/err", tmp_dir);
    snprintf(absent, sizeof absent, "%s/absent.safetensors", tmp_dir);
    const char *bad[][4] = {
        {"--fid-every", "-1", "--fid-every", "0"}, {"--fid-every", "two", "--fid-every", "1"},
        {"--fid-n", "1", "--fid-every", "1"},      {"--fid-n", "1e4", "--fid-every", "1"},
        {"--fid-dims", "100", "--fid-every", "1"}, {"--fid-dims", "2049", "--fid-every", "1"},
        {"--fid-n", "5000", "--fid-every", "0"},   {"--fid-dims", "64", "--data", data_path},
        {"--fid-weights", "", "--fid-every", "1"}, {"--fid-weights", absent, "--fid-every", "1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = RUN("--device", "cpu", "train", "--data", data_path, "--out", dir, "--steps", "1",
                     bad[i][0], bad[i][1], bad[i][2], bad[i][3]);
        char *err = gt_read_file(err_path, NULL);
        ck_assert_msg(rc == 2, "%s %s: exit %d: %s", bad[i][0], bad[i][1], rc, err);
        ck_assert_msg(count_of(err, "\n") == 1 && strstr(err, bad[i][0]), "%s %s: %s", bad[i][0],
                      bad[i][1], err);
        free(err);
        ck_assert_msg(access(dir, F_OK) != 0, "%s %s: the run folder was created", bad[i][0],
                      bad[i][1]);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("train_fid");
    TCase *tc = tcase_create("train_fid");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_fid_log);
    tcase_add_test(tc, test_checkpoint_config);
    tcase_add_test(tc, test_evaluator);
    tcase_add_test(tc, test_evaluator_colour);
    tcase_add_test(tc, test_evaluator_classifier);
    tcase_add_test(tc, test_cli_fid);
    tcase_add_test(tc, test_cli_no_weights);
    tcase_add_test(tc, test_cli_flags);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

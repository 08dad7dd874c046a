/* tests/test_classifier_fid.c - a Frechet distance on a classifier's
 * penultimate features instead of Inception's.
 *
 *   plumbing     gc_fid_compute_stats_fx with a stand-in extractor (a
 *                fixed random projection): the same statistics as the
 *                features accumulated by hand, the size check, the
 *                extractor tag through save and load (files without one
 *                are Inception's), gc_fid refusing to mix tags, and
 *                gc_fid_monitor_init_fx's cache keyed by the tag.
 *   classifier   a tiny classifier trained here on ten procedurally drawn
 *                classes (stripes at ten places) of 12x12 images: FID of two
 *                halves of the same distribution far below FID against
 *                uniform noise; the file's tag; the same statistics from the
 *                file and from the classifier in memory, and on OpenCL when
 *                a device exists.
 *   cli          `gancl fid --classifier`, `fid-stats --classifier`, the
 *                mixing and size errors, --json.
 *
 * Everything runs on the CPU reference backend (the network is small: a
 * few seconds in a Debug build), the OpenCL comparison only where a
 * device exists.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gancl/classifier.h"
#include "gancl/fid.h"
#include "gancl/io.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_support.h"

#define S       12 /* image side: a multiple of 4, as the classifier needs */
#define CLASSES 10
#define N_TRAIN 1000
/* The halves: more images than the 128 features, so that the covariances
 * are full rank; odd counts, not multiples of any batch. */
#define N_HALF  451
#define N_NOISE 437

static char tmp_dir[64], clf_path[128], r1_path[128], r2_path[128], noise_path[128], big_path[128];
static uint8_t *r1, *r2, *noise;

/* One image of class k: a bright stripe two pixels wide, horizontal for
 * classes 0-4 and vertical for 5-9, at row/column 2 (k % 5) + 1, of random
 * brightness, on a dim random background.  The classes are easy to tell
 * apart, so a few epochs give features that separate them. */
static void draw_image(int k, uint8_t *img)
{
    double fg = 150 + 100 * gt_uniform(), bg = 40 * gt_uniform();
    int at = 2 * (k % 5) + 1;
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int on = k < 5 ? (y == at || y == at + 1) : (x == at || x == at + 1);
            double v = (on ? fg : bg) + 12 * gt_normal();
            img[y * S + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

static uint8_t *draw_set(int n, int32_t *labels)
{
    uint8_t *b = malloc((size_t)n * S * S);
    for (int i = 0; i < n; i++) {
        int k = gt_randint(0, CLASSES - 1);
        if (labels) labels[i] = k;
        draw_image(k, b + (size_t)i * S * S);
    }
    return b;
}

static void write_idx(const char *path, const uint8_t *b, int n, int side)
{
    gc_idx d = {.kind = GC_IDX_IMAGES, .data = (uint8_t *)b, .n = n, .h = side, .w = side};
    GT_OK(gc_idx_write(path, &d, 0));
}

/* Trains the classifier once (CPU) and writes it and the image sets. */
static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "classifier-fid");
    int32_t *labels = malloc(sizeof(int32_t) * N_TRAIN);
    gc_dataset train = {.images = draw_set(N_TRAIN, labels),
                        .n = N_TRAIN,
                        .c = 1,
                        .h = S,
                        .w = S,
                        .labels = labels,
                        .classes = CLASSES};
    gc_classifier net;
    gc_classifier_config cfg = gc_classifier_default_config(CLASSES, 1, S, S);
    GT_OK(gc_classifier_init(&net, gt_cpu(), &cfg, 64));
    GT_OK(gc_classifier_init_params(&net, gt_seed()));
    gc_classify_train_config tc = gc_classify_default_train_config();
    tc.epochs = 3;
    tc.batch = 32;
    tc.seed = gt_seed();
    GT_OK(gc_classifier_train(&net, &train, &tc, NULL, NULL));
    /* Not what is under test, but a classifier that learnt nothing would
     * make the FID checks below meaningless: say so first. */
    int32_t *test_labels = malloc(sizeof(int32_t) * 200);
    gc_dataset test = {.images = draw_set(200, test_labels),
                       .n = 200,
                       .c = 1,
                       .h = S,
                       .w = S,
                       .labels = test_labels,
                       .classes = CLASSES};
    double acc;
    GT_OK(gc_classifier_evaluate(&net, &test, &acc, NULL));
    ck_assert_msg(acc > 0.5, "the test classifier reached only %.3f accuracy", acc);
    snprintf(clf_path, sizeof clf_path, "%s/clf.safetensors", tmp_dir);
    GT_OK(gc_classifier_save(&net, clf_path, NULL));
    gc_classifier_free(&net);
    /* Another classifier of the same shape: other features. */
    GT_OK(gc_classifier_init(&net, gt_cpu(), &cfg, 8));
    GT_OK(gc_classifier_init_params(&net, gt_seed() + 1));
    GT_OK(gc_classifier_save(&net, gt_path(tmp_dir, "other.safetensors"), NULL));
    gc_classifier_free(&net);
    free(train.images);
    free(labels);
    free(test.images);
    free(test_labels);

    r1 = draw_set(N_HALF, NULL);
    r2 = draw_set(N_HALF, NULL);
    noise = malloc((size_t)N_NOISE * S * S);
    for (int i = 0; i < N_NOISE * S * S; i++)
        noise[i] = (uint8_t)gt_randint(0, 255);
    snprintf(r1_path, sizeof r1_path, "%s/r1.idx", tmp_dir);
    snprintf(r2_path, sizeof r2_path, "%s/r2.idx", tmp_dir);
    snprintf(noise_path, sizeof noise_path, "%s/noise.idx", tmp_dir);
    snprintf(big_path, sizeof big_path, "%s/big.idx", tmp_dir);
    write_idx(r1_path, r1, N_HALF, S);
    write_idx(r2_path, r2, N_HALF, S);
    write_idx(noise_path, noise, N_NOISE, S);
    uint8_t big[3 * 16 * 16];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)gt_randint(0, 255);
    write_idx(big_path, big, 3, 16);
}

/* ---- image sources ------------------------------------------------------------------ */

typedef struct bytes_src {
    const uint8_t *b;
    int64_t per;
    int reads;
} bytes_src;

static gc_status read_bytes(void *ctx, int64_t first, int n, float *out)
{
    bytes_src *s = ctx;
    s->reads++;
    for (int64_t i = 0; i < n * s->per; i++)
        out[i] = (float)s->b[first * s->per + i] / 255.0f;
    return GC_OK;
}

static gc_image_source source(bytes_src *b, const uint8_t *bytes, int n)
{
    *b = (bytes_src){bytes, S * S, 0};
    return (gc_image_source){n, 1, S, S, read_bytes, b};
}

/* ---- a stand-in extractor ------------------------------------------------------------ */

#define FAKE_DIMS  7
#define FAKE_BATCH 5

static float projection[FAKE_DIMS][S * S];
static int fake_calls;

static gc_status fake_features(void *ctx, const float *images, int n, int c, int h, int w,
                               float *out)
{
    (void)ctx;
    ck_assert(n >= 1 && n <= FAKE_BATCH && c == 1 && h == S && w == S);
    fake_calls++;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < FAKE_DIMS; d++) {
            double a = 0;
            for (int p = 0; p < S * S; p++)
                a += projection[d][p] * images[i * S * S + p];
            out[i * FAKE_DIMS + d] = (float)tanh(a);
        }
    return GC_OK;
}

static gc_feature_extractor fake_extractor(const char *name)
{
    gc_feature_extractor fx = {.dims = FAKE_DIMS,
                               .max_batch = FAKE_BATCH,
                               .c = 1,
                               .h = S,
                               .w = S,
                               .features = fake_features};
    snprintf(fx.name, sizeof fx.name, "%s", name);
    return fx;
}

static double fid_of(const gc_fid_stats *a, const gc_fid_stats *b)
{
    double f;
    GT_OK(gc_fid(a, b, &f));
    return f;
}

START_TEST(test_plumbing)
{
    setup();
    for (int d = 0; d < FAKE_DIMS; d++)
        for (int p = 0; p < S * S; p++)
            projection[d][p] = (float)(gt_normal() / S);
    gc_feature_extractor fx = fake_extractor("fake:projection");
    bytes_src b1, b2, bn;
    gc_image_source s1 = source(&b1, r1, N_HALF), s2 = source(&b2, r2, N_HALF),
                    sn = source(&bn, noise, N_NOISE);
    gc_fid_stats a, b, n;
    fake_calls = 0;
    GT_OK(gc_fid_compute_stats_fx(&fx, &s1, 0, NULL, NULL, &a));
    ck_assert_int_eq(fake_calls, (N_HALF + FAKE_BATCH - 1) / FAKE_BATCH);
    ck_assert_int_eq(a.count, N_HALF);
    ck_assert_int_eq(a.dims, FAKE_DIMS);
    ck_assert_str_eq(a.extractor, "fake:projection");
    GT_OK(gc_fid_compute_stats_fx(&fx, &s2, 0, NULL, NULL, &b));
    GT_OK(gc_fid_compute_stats_fx(&fx, &sn, 0, NULL, NULL, &n));

    /* The features one by one through the accumulator: the same sums in
     * the same order, so the same numbers. */
    gc_fid_accum *acc;
    GT_OK(gc_fid_accum_init(FAKE_DIMS, &acc));
    float img[S * S], f[FAKE_DIMS];
    for (int i = 0; i < N_HALF; i++) {
        for (int p = 0; p < S * S; p++)
            img[p] = (float)r1[i * S * S + p] / 255.0f;
        GT_OK(fake_features(NULL, img, 1, 1, S, S, f));
        gc_fid_accum_add(acc, f, 1);
    }
    gc_fid_stats ref;
    GT_OK(gc_fid_accum_stats(acc, &ref));
    gc_fid_accum_free(acc);
    for (int i = 0; i < FAKE_DIMS; i++)
        ck_assert_msg(fabs(a.mu[i] - ref.mu[i]) <= 1e-12 * (1 + fabs(ref.mu[i])), "mu[%d]", i);
    for (int i = 0; i < FAKE_DIMS * FAKE_DIMS; i++)
        ck_assert_msg(fabs(a.sigma[i] - ref.sigma[i]) <= 1e-12 * (1 + fabs(ref.sigma[i])),
                      "sigma[%d]", i);
    ck_assert_str_eq(ref.extractor, ""); /* hand-made: unknown features */
    gc_fid_stats_free(&ref);

    /* Two samples of one distribution against one of noise: a sampling
     * error against a real difference.  With 7 features and ~450 images
     * the halves differ by about tr(sigma) * 2 / n, well under a tenth of
     * the distance to noise, whose features sit far from the stripes'. */
    double same = fid_of(&a, &b), far = fid_of(&a, &n);
    fprintf(stderr, "stand-in FID: halves %g, against noise %g\n", same, far);
    ck_assert_msg(same < 0.1 * far, "FID of halves %g, against noise %g", same, far);

    /* Only images of the extractor's size. */
    gc_image_source wrong = s1;
    wrong.w = S + 1;
    gc_fid_stats x;
    ck_assert_int_eq(gc_fid_compute_stats_fx(&fx, &wrong, 0, NULL, NULL, &x), GC_ERR_ARG);
    ck_assert_msg(strstr(gc_last_error(), "takes 1x12x12 images") &&
                      strstr(gc_last_error(), "1x12x13"),
                  "%s", gc_last_error());

    /* The tag through a file; files without one hold Inception's. */
    char path[160];
    snprintf(path, sizeof path, "%s/fake.safetensors", tmp_dir);
    GT_OK(gc_fid_stats_save(path, &a, "r1"));
    gc_fid_stats back;
    char *src;
    GT_OK(gc_fid_stats_load(path, &back, &src));
    ck_assert_str_eq(back.extractor, "fake:projection");
    ck_assert_str_eq(src, "r1");
    free(src);
    ck_assert_double_eq_tol(fid_of(&back, &b), same, 1e-12 * (1 + same));
    gc_fid_stats_free(&back);

    gc_st_tensor t[2] = {
        {.name = "mu", .dtype = GC_ST_F64, .ndim = 1, .shape = {FAKE_DIMS}, .data = a.mu},
        {.name = "sigma",
         .dtype = GC_ST_F64,
         .ndim = 2,
         .shape = {FAKE_DIMS, FAKE_DIMS},
         .data = a.sigma},
    };
    gc_st_kv meta[1] = {{"gancl_fid_stats", "1"}};
    GT_OK(gc_st_write(path, t, 2, meta, 1));
    GT_OK(gc_fid_stats_load(path, &back, NULL));
    ck_assert_str_eq(back.extractor, "inception");

    /* Mixing is refused, naming both; an untagged side is allowed. */
    ck_assert_int_eq(gc_fid(&back, &b, &(double){0}), GC_ERR_ARG);
    ck_assert_msg(strstr(gc_last_error(), "inception") &&
                      strstr(gc_last_error(), "fake:projection"),
                  "%s", gc_last_error());
    back.extractor[0] = 0;
    ck_assert_double_eq_tol(fid_of(&back, &b), same, 1e-12 * (1 + same));
    gc_fid_stats_free(&back);

    meta[0] = (gc_st_kv){"extractor", ""};
    GT_OK(gc_st_write(path, t, 2, meta, 1));
    ck_assert_int_eq(gc_fid_stats_load(path, &back, NULL), GC_ERR_FORMAT);
    ck_assert_msg(strstr(gc_last_error(), "extractor"), "%s", gc_last_error());

    /* The monitor's cache is keyed by the extractor too. */
    snprintf(path, sizeof path, "%s/monitor.safetensors", tmp_dir);
    gc_fid_monitor *m;
    b1.reads = 0;
    GT_OK(gc_fid_monitor_init_fx(&fx, &s1, path, "r1", &m));
    ck_assert_int_gt(b1.reads, 0);
    double fid;
    GT_OK(gc_fid_monitor_eval(m, &s2, 0, &fid));
    ck_assert_double_eq_tol(fid, same, 1e-12 * (1 + same));
    gc_fid_monitor_free(m);
    b1.reads = 0;
    GT_OK(gc_fid_monitor_init_fx(&fx, &s1, path, "r1", &m));
    ck_assert_int_eq(b1.reads, 0); /* from the cache */
    ck_assert_str_eq(gc_fid_monitor_real_stats(m)->extractor, "fake:projection");
    gc_fid_monitor_free(m);
    gc_feature_extractor other = fake_extractor("fake:other");
    GT_OK(gc_fid_monitor_init_fx(&other, &s1, path, "r1", &m));
    ck_assert_int_gt(b1.reads, 0); /* other features: recomputed */
    gc_fid_monitor_free(m);

    gc_fid_stats_free(&a);
    gc_fid_stats_free(&b);
    gc_fid_stats_free(&n);
}
END_TEST

/* ---- the classifier ------------------------------------------------------------------- */

static void stats_of(const gc_feature_extractor *fx, const uint8_t *bytes, int n, gc_fid_stats *out)
{
    bytes_src b;
    gc_image_source s = source(&b, bytes, n);
    GT_OK(gc_fid_compute_stats_fx(fx, &s, 0, NULL, NULL, out));
}

START_TEST(test_classifier)
{
    setup();
    gc_fid_classifier *fc;
    GT_OK(gc_fid_classifier_load(gt_cpu(), clf_path, 37, &fc));
    const gc_feature_extractor *fx = gc_fid_classifier_extractor(fc);
    ck_assert_int_eq(fx->dims, 128);
    ck_assert_int_eq(fx->max_batch, 37);
    ck_assert(fx->c == 1 && fx->h == S && fx->w == S);
    char tag[GC_FID_EXTRACTOR_MAX];
    GT_OK(gc_fid_classifier_tag(clf_path, tag, sizeof tag));
    ck_assert_str_eq(fx->name, tag);
    ck_assert_msg(!strncmp(tag, "classifier:", 11) && strlen(tag) == 11 + 16, "tag %s", tag);

    /* The tag follows the bytes, not the name: a copy elsewhere has it,
     * other weights do not. */
    size_t len;
    void *bytes = gt_read_file(clf_path, &len);
    gt_write_file(gt_path(tmp_dir, "copy.safetensors"), bytes, len);
    free(bytes);
    char tag2[GC_FID_EXTRACTOR_MAX];
    GT_OK(gc_fid_classifier_tag(gt_path(tmp_dir, "copy.safetensors"), tag2, sizeof tag2));
    ck_assert_str_eq(tag2, tag);
    GT_OK(gc_fid_classifier_tag(gt_path(tmp_dir, "other.safetensors"), tag2, sizeof tag2));
    ck_assert_str_ne(tag2, tag);

    gc_fid_stats a, b, n;
    stats_of(fx, r1, N_HALF, &a);
    stats_of(fx, r2, N_HALF, &b);
    stats_of(fx, noise, N_NOISE, &n);
    ck_assert_str_eq(a.extractor, tag);
    /* Halves of one distribution against noise, as in the plumbing test
     * but with 128 learnt features: the halves' FID is sampling error,
     * ~ tr(sigma) (2 / n) plus the square-root term's bias, a few percent
     * of the distance to noise, which no stripe classifier maps near its
     * classes' features.  A tenth leaves a wide margin either way. */
    double same = fid_of(&a, &b), far = fid_of(&a, &n);
    fprintf(stderr, "classifier FID: halves %g, against noise %g\n", same, far);
    ck_assert_msg(isfinite(same) && same >= 0 && same < 0.1 * far,
                  "classifier FID of halves %g, against noise %g", same, far);

    /* The classifier in memory gives the same numbers as its file. */
    gc_classifier mem;
    GT_OK(gc_classifier_load(&mem, gt_cpu(), clf_path, 16));
    gc_feature_extractor mfx;
    gc_fid_extractor_from_classifier(&mem, NULL, &mfx);
    ck_assert_str_eq(mfx.name, "classifier");
    gc_fid_extractor_from_classifier(&mem, tag, &mfx);
    ck_assert_int_eq(mfx.max_batch, 16);
    gc_fid_stats m;
    stats_of(&mfx, r1, N_HALF, &m);
    /* The per-image features do not depend on the batch on the CPU
     * reference backend, so only the accumulation order could differ:
     * rounding of double sums. */
    for (int i = 0; i < a.dims; i++)
        ck_assert_msg(fabs(m.mu[i] - a.mu[i]) <= 1e-9 * (1 + fabs(a.mu[i])), "mu[%d]", i);
    ck_assert_msg(fid_of(&m, &a) <= 1e-6 * far, "%g", fid_of(&m, &a));
    float img[16 * 16 * 2] = {0}, feat[128 * 2];
    ck_assert_int_eq(mfx.features(mfx.ctx, img, 1, 1, 16, 16, feat), GC_ERR_ARG);
    gc_fid_stats_free(&m);
    gc_classifier_free(&mem);

    /* Other sizes: one line naming the file and both sizes. */
    ck_assert_int_eq(fx->features(fx->ctx, img, 2, 1, 16, 16, feat), GC_ERR_ARG);
    char want[256];
    snprintf(want, sizeof want, "%s: the classifier takes 1x12x12 images, got 1x16x16", clf_path);
    ck_assert_str_eq(gc_last_error(), want);

    /* Tagged statistics through a file, and no mixing with Inception's. */
    const char *p = gt_path(tmp_dir, "clf-stats.safetensors");
    GT_OK(gc_fid_stats_save(p, &a, "r1"));
    gc_fid_stats back;
    GT_OK(gc_fid_stats_load(p, &back, NULL));
    ck_assert_str_eq(back.extractor, tag);
    ck_assert_double_eq_tol(fid_of(&back, &b), same, 1e-9 * (1 + same));
    snprintf(b.extractor, sizeof b.extractor, "inception");
    ck_assert_int_eq(gc_fid(&back, &b, &(double){0}), GC_ERR_ARG);
    ck_assert_msg(strstr(gc_last_error(), tag), "%s", gc_last_error());
    gc_fid_stats_free(&back);

    /* OpenCL: the same features within float rounding. */
    gc_backend *cl = gt_cl();
    if (cl) {
        gc_fid_classifier *fcl;
        GT_OK(gc_fid_classifier_load(cl, clf_path, 64, &fcl));
        gc_fid_stats c;
        stats_of(gc_fid_classifier_extractor(fcl), r1, N_HALF, &c);
        ck_assert_str_eq(c.extractor, tag);
        double d = fid_of(&a, &c);
        fprintf(stderr, "classifier FID: CPU vs %s %g\n", gc_backend_name(cl), d);
        /* fp32 features that differ in the last bits (relative ~1e-6):
         * a distance of rounding noise, their square, far below 1e-8 of
         * the distance to noise. */
        ck_assert_msg(d <= 1e-8 * far, "CPU vs OpenCL FID %g (against noise %g)", d, far);
        for (int i = 0; i < a.dims; i++)
            ck_assert_msg(fabs(c.mu[i] - a.mu[i]) <= 1e-4 * (1e-3 + fabs(a.mu[i])),
                          "mu[%d]: CPU %g, OpenCL %g", i, a.mu[i], c.mu[i]);
        gc_fid_stats_free(&c);
        gc_fid_classifier_free(fcl);
    } else {
        fprintf(stderr, "test_classifier_fid: no OpenCL device; CPU only\n");
    }

    gc_fid_stats_free(&a);
    gc_fid_stats_free(&b);
    gc_fid_stats_free(&n);
    gc_fid_classifier_free(fc);
}
END_TEST

/* ---- the command line -------------------------------------------------------------------- */

static int run_gancl(const char *const *args, char **out, char **err)
{
    gt_io io = {.out_path = gt_path(tmp_dir, "out"), .err_path = gt_path(tmp_dir, "err")};
    int rc = gt_run(GANCL_BINARY, args, &io);
    *out = gt_read_file(gt_path(tmp_dir, "out"), NULL);
    *err = gt_read_file(gt_path(tmp_dir, "err"), NULL);
    return rc;
}
static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

#define RUN(...) run_gancl(GT_ARGS("--device", "cpu", __VA_ARGS__), &out, &err)

START_TEST(test_cli)
{
    setup();
    gc_fid_classifier *fc;
    GT_OK(gc_fid_classifier_load(gt_cpu(), clf_path, 50, &fc));
    gc_fid_stats a, b;
    stats_of(gc_fid_classifier_extractor(fc), r1, N_HALF, &a);
    stats_of(gc_fid_classifier_extractor(fc), r2, N_HALF, &b);
    const double want = fid_of(&a, &b);
    const char *tag = gc_fid_classifier_extractor(fc)->name;
    char *out, *err;
    double got;

    ck_assert_int_eq(RUN("fid", "--classifier", clf_path, r1_path, r2_path), 0);
    ck_assert_msg(sscanf(out, "classifier FID (not comparable with Inception FID): %lf", &got) == 1,
                  "output: %s", out);
    ck_assert_msg(fabs(got - want) <= 1e-4 + 1e-6 * want, "CLI %g, library %g", got, want);
    free(out), free(err);

    ck_assert_int_eq(RUN("fid", "--extractor", "classifier", "--classifier", clf_path, "--json",
                         r1_path, r2_path),
                     0);
    char key[160];
    snprintf(key, sizeof key, "\"extractor\": \"%s\"", tag);
    ck_assert_msg(strstr(out, key) && strstr(out, "\"classifier\": "), "%s", out);
    free(out), free(err);

    /* Statistics carry the tag: usable with the same classifier, or alone. */
    /* Own copies: gt_path's buffers rotate, and every run takes four. */
    char s1[160], s2[160], si[160], other[160];
    snprintf(s1, sizeof s1, "%s/r1-clf.safetensors", tmp_dir);
    snprintf(s2, sizeof s2, "%s/r2-clf.safetensors", tmp_dir);
    snprintf(si, sizeof si, "%s/inception.safetensors", tmp_dir);
    snprintf(other, sizeof other, "%s/other.safetensors", tmp_dir);
    ck_assert_int_eq(RUN("fid-stats", "--classifier", clf_path, r1_path, "--out", s1), 0);
    ck_assert_msg(strstr(out, tag), "%s", out);
    free(out), free(err);
    gc_fid_stats back;
    GT_OK(gc_fid_stats_load(s1, &back, NULL));
    ck_assert_str_eq(back.extractor, tag);
    gc_fid_stats_free(&back);
    ck_assert_int_eq(RUN("fid", "--classifier", clf_path, s1, r2_path), 0);
    ck_assert(sscanf(out, "classifier FID (not comparable with Inception FID): %lf", &got) == 1);
    ck_assert_msg(fabs(got - want) <= 1e-4 + 1e-6 * want, "CLI %g, library %g", got, want);
    free(out), free(err);
    ck_assert_int_eq(RUN("fid-stats", "--classifier", clf_path, r2_path, "--out", s2), 0);
    free(out), free(err);
    ck_assert_int_eq(RUN("fid", s1, s2), 0); /* no network at all */
    ck_assert(sscanf(out, "classifier FID (not comparable with Inception FID): %lf", &got) == 1);
    ck_assert_msg(fabs(got - want) <= 1e-4 + 1e-6 * want, "CLI %g, library %g", got, want);
    free(out), free(err);

    /* Mixing: classifier statistics against images with Inception, against
     * Inception statistics, against another classifier. */
    ck_assert_int_eq(RUN("fid", s1, r2_path), 2);
    ck_assert_msg(strstr(err, "--classifier") && lines(err) == 1, "%s", err);
    free(out), free(err);
    snprintf(b.extractor, sizeof b.extractor, "inception");
    GT_OK(gc_fid_stats_save(si, &b, "pretend"));
    ck_assert_int_eq(RUN("fid", s1, si), 2);
    ck_assert_msg(strstr(err, "different feature extractors"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(RUN("fid", "--classifier", clf_path, si, r2_path), 2);
    ck_assert_msg(strstr(err, "inception"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(RUN("fid", "--classifier", other, s1, r2_path), 2);
    ck_assert_msg(strstr(err, tag), "%s", err);
    free(out), free(err);

    /* Images of another size. */
    ck_assert_int_eq(RUN("fid", "--classifier", clf_path, r1_path, big_path), 2);
    char msg[512];
    snprintf(msg, sizeof msg, "%s: the classifier takes 1x12x12 images, %s has 1x16x16", clf_path,
             big_path);
    ck_assert_msg(strstr(err, msg), "%s", err);
    free(out), free(err);

    /* Flags. */
    ck_assert_int_eq(RUN("fid", "--extractor", "classifier", r1_path, r2_path), 2);
    ck_assert_msg(strstr(err, "needs --classifier"), "%s", err);
    free(out), free(err);
    ck_assert_int_eq(RUN("fid", "--extractor", "vgg", r1_path, r2_path), 2);
    free(out), free(err);
    ck_assert_int_eq(
        RUN("fid", "--extractor", "inception", "--classifier", clf_path, r1_path, r2_path), 2);
    free(out), free(err);
    ck_assert_int_eq(RUN("fid", "--classifier", clf_path, "--dims", "64", r1_path, r2_path), 2);
    free(out), free(err);
    ck_assert_int_eq(RUN("fid", "--help"), 0);
    ck_assert_msg(strstr(out, "--classifier FILE") && strstr(out, "--extractor"), "%s", out);
    free(out), free(err);

    gc_fid_stats_free(&a);
    gc_fid_stats_free(&b);
    gc_fid_classifier_free(fc);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("classifier_fid");
    TCase *tc = tcase_create("classifier_fid");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_plumbing);
    tcase_add_test(tc, test_classifier);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

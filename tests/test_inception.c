/* tests/test_inception.c - gancl's Inception-v3 against PyTorch's
 * (tests/data/inception/, written by tools/make_inception_goldens.py).
 *
 *   blocks        each block kind (stem, A, B, C, D, E-avg, E-max) at small
 *                 channel counts with seeded weights and non-trivial
 *                 BatchNorm statistics
 *   resize        pytorch-fid's F.interpolate to 299 x 299 (28 and 13 pixels)
 *   tiny network  the whole pipeline with every channel count cut down:
 *                 features at all four taps; chunked batches equal
 *                 one-image passes
 *   full network  the real channel counts with gancl's deterministic random
 *                 weights (the .py tool draws the same), all four taps: one
 *                 gray image on the CPU backend, it and an RGB one on OpenCL,
 *                 and OpenCL against the CPU backend
 *   weights       safetensors loading equals the generator's weights; bad
 *                 files fail with one line naming the key or the fault
 *   memory        at batch 50 on a device with 1 GiB (256 MiB per buffer)
 *
 * Every case runs on the CPU reference backend and, when there is one, on the
 * OpenCL device (an absent device is a printed note, the CPU half still runs).
 * Activation buffers are filled with NaN before each run, so a stage that
 * leaves part of its output unwritten fails.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gancl/fid.h"
#include "gancl/io.h"
#include "golden.h"
#include "models/inception.h"
#include "test_support.h"

/* Goldens are float64 results rounded to float32; gancl computes in float32
 * (the CPU reference accumulates convolutions in double).  Measured
 * normalised errors are ~1e-7 for a block and up to ~4e-7 for the 94
 * convolutions of the whole network, on both backends; the tolerances leave
 * a factor of ten for other devices' GEMMs while any wrong tap, padding or
 * pooling rule gives errors of 1e-2 and up. */
#define TOL_BLOCK 2e-6
#define TOL_NET   5e-6

static const char *dir(void)
{
    return GANCL_TEST_DATA "/inception";
}

static gt_golden *open_golden(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir(), name);
    return gt_golden_open(path);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The backends to run a case on: cpu always, OpenCL when present. */
static int backends(gc_backend *out[2])
{
    static int noted;
    out[0] = gt_cpu();
    out[1] = gt_cl();
    if (!out[1] && !noted) {
        printf("test_inception: no OpenCL device; running the CPU halves only\n");
        noted = 1;
    }
    return out[1] ? 2 : 1;
}

/* ---- a weight getter reading golden arrays ----------------------------------- */

static gc_status golden_get(void *ctx, const char *name, int ndim, const int64_t *shape, float *dst)
{
    const gt_golden *g = ctx;
    const gt_golden_array *a = gt_golden_find(g, name);
    ck_assert_msg(a != NULL, "%s: no array '%s'", g->path, name);
    ck_assert_msg(a->ndim == ndim, "%s: '%s' has %d dims, the network wants %d", g->path, name,
                  a->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        ck_assert_msg(a->dims[i] == shape[i], "%s: '%s' dim %d is %" PRId64 ", wanted %" PRId64,
                      g->path, name, i, a->dims[i], shape[i]);
    memcpy(dst, a->data, sizeof(float) * (size_t)a->numel);
    return GC_OK;
}

static void expect_close(const gc_tensor *t, const gt_golden_array *want, double tol,
                         const char *what)
{
    ck_assert_msg(gc_tensor_numel(t) == want->numel, "%s: %" PRId64 " elements, golden %" PRId64,
                  what, gc_tensor_numel(t), want->numel);
    float *got = gt_read(t);
    /* GANCL_GOLDEN_VERBOSE=1 prints every comparison, to see the margins. */
    if (getenv("GANCL_GOLDEN_VERBOSE"))
        printf("%-64s nerr %.3g (tol %.0e)\n", what, gt_compare(got, want->data, want->numel).nerr,
               tol);
    gt_assert_close(got, want->data, want->numel, tol, what);
    free(got);
}

/* ---- blocks ---------------------------------------------------------------------- */

typedef struct capture {
    int stage;
    gc_tensor copy; /* a copy of that stage's output */
} capture;

static gc_status capture_stage(void *ctx, int stage, const gc_tensor *out)
{
    capture *c = ctx;
    if (stage != c->stage) return GC_OK;
    c->copy = gt_tensor(out->be, 4, out->shape, NULL);
    return gc_copy(&c->copy, out);
}

static const char *const block_files[] = {"block_stem.bin", "block_a.bin", "block_b.bin",
                                          "block_c.bin",    "block_d.bin", "block_e_avg.bin",
                                          "block_e_max.bin"};

static void fill_ch(int *ch, const gt_golden_array *a)
{
    ck_assert_int_le(a->numel, GC_INC_MAX_CONVS);
    for (int64_t i = 0; i < a->numel; i++)
        ch[i] = (int)a->data[i];
}

START_TEST(blocks)
{
    gt_golden *g = open_golden(block_files[_i]);
    const gt_golden_array *x = gt_golden_get(g, "x"), *y = gt_golden_get(g, "y");
    int stem = _i == 0;
    gc_inc_stage stages[2] = {{0}};
    int n_stages = 1;
    if (stem) {
        stages[0].kind = GC_INC_STEM0;
        stages[1].kind = GC_INC_STEM1;
        fill_ch(stages[0].ch, gt_golden_get(g, "param.ch0"));
        fill_ch(stages[1].ch, gt_golden_get(g, "param.ch1"));
        n_stages = 2;
    } else {
        stages[0].kind = (gc_inc_kind)gt_golden_int(g, "param.kind");
        fill_ch(stages[0].ch, gt_golden_get(g, "param.ch"));
    }
    gc_inc_config cfg = {.stages = stages,
                         .n_stages = n_stages,
                         .in_c = (int)x->dims[1],
                         .in_h = (int)x->dims[2],
                         .in_w = (int)x->dims[3],
                         .scale_input = stem,
                         .tap_stage = -1,
                         .max_batch = (int)x->dims[0]};
    gc_backend *bes[2];
    int nb = backends(bes);
    for (int b = 0; b < nb; b++) {
        gc_inception *net;
        GT_OK(gc_inc_build(bes[b], &cfg, golden_get, g, &net));
        ck_assert_int_eq(gc_inc_chunk(net), cfg.max_batch);
        GT_OK(gc_inc_fill_activations(net, NAN));
        gc_tensor in = gc_inc_input(net, cfg.max_batch);
        GT_OK(gc_tensor_write(&in, x->data));
        capture cap = {.stage = 0};
        gc_tensor out;
        GT_OK(gc_inc_run(net, cfg.max_batch, capture_stage, &cap, &out));
        char what[128];
        snprintf(what, sizeof what, "%s on %s", block_files[_i], gc_backend_name(bes[b]));
        expect_close(&out, y, TOL_BLOCK, what);
        if (stem) {
            snprintf(what, sizeof what, "%s stage 0 on %s", block_files[_i],
                     gc_backend_name(bes[b]));
            expect_close(&cap.copy, gt_golden_get(g, "y0"), TOL_BLOCK, what);
        }
        gt_free(&cap.copy);
        gc_inception_free(net);
    }
    gt_golden_free(g);
}
END_TEST

/* ---- resize ------------------------------------------------------------------------ */

/* A network whose input is 299 x 299 and that resizes: one small A block. */
static gc_inception *resize_net(gc_backend *be, int max_batch)
{
    static const gc_inc_stage st = {GC_INC_A, NULL, {2, 2, 2, 2, 2, 2, 2}};
    gc_inc_config cfg = {.stages = &st,
                         .n_stages = 1,
                         .in_c = 3,
                         .in_h = 299,
                         .in_w = 299,
                         .resize = 1,
                         .tap_stage = -1,
                         .max_batch = max_batch};
    uint64_t seed = 1;
    gc_inception *net;
    GT_OK(gc_inc_build(be, &cfg, gc_inc_get_random, &seed, &net));
    return net;
}

START_TEST(resize)
{
    const char *file = _i ? "resize_13.bin" : "resize_28.bin";
    gt_golden *g = open_golden(file);
    const gt_golden_array *x = gt_golden_get(g, "x"), *y = gt_golden_get(g, "y");
    const int64_t hw = x->dims[2] * x->dims[3], HW = 299 * 299;
    /* RGB from the gray golden: (x, 1 - x, x / 2) must resize to
     * (y, 1 - y, y / 2), bilinear weights summing to one. */
    float *rgb = malloc(sizeof(float) * 3 * (size_t)hw);
    float *want = malloc(sizeof(float) * 3 * (size_t)HW);
    ck_assert(rgb && want);
    for (int64_t i = 0; i < hw; i++) {
        rgb[i] = x->data[i];
        rgb[hw + i] = 1.0f - x->data[i];
        rgb[2 * hw + i] = 0.5f * x->data[i];
    }
    for (int64_t i = 0; i < HW; i++) {
        want[i] = y->data[i];
        want[HW + i] = 1.0f - y->data[i];
        want[2 * HW + i] = 0.5f * y->data[i];
    }
    gc_backend *bes[2];
    int nb = backends(bes);
    for (int b = 0; b < nb; b++) {
        gc_inception *net = resize_net(bes[b], 1);
        char what[128];
        for (int c = 1; c <= 3; c += 2) {
            GT_OK(gc_inc_fill_activations(net, NAN));
            GT_OK(gc_inc_preprocess(net, c == 1 ? x->data : rgb, 1, c, (int)x->dims[2],
                                    (int)x->dims[3]));
            gc_tensor in = gc_inc_input(net, 1);
            float *got = gt_read(&in);
            for (int k = 0; k < 3; k++) {
                snprintf(what, sizeof what, "%s %s channel %d of %d on %s", file,
                         c == 1 ? "gray" : "rgb", k, c, gc_backend_name(bes[b]));
                /* One rounding of 1 - x or x / 2 on top of the resize's own. */
                gt_assert_close(got + k * HW, c == 1 ? y->data : want + k * HW, HW, 1e-6, what);
            }
            free(got);
        }
        gc_inception_free(net);
    }
    free(rgb);
    free(want);
    gt_golden_free(g);
}
END_TEST

/* 299 x 299 inputs are copied, as F.interpolate to the same size copies. */
START_TEST(resize_identity)
{
    const int64_t HW = 299 * 299;
    float *x = gt_rand_array(2 * 3 * HW, 0.0f, 1.0f);
    gc_backend *bes[2];
    int nb = backends(bes);
    for (int b = 0; b < nb; b++) {
        gc_inception *net = resize_net(bes[b], 2);
        for (int c = 1; c <= 3; c += 2) {
            GT_OK(gc_inc_fill_activations(net, NAN));
            GT_OK(gc_inc_preprocess(net, x, 2, c, 299, 299));
            gc_tensor in = gc_inc_input(net, 2);
            float *got = gt_read(&in);
            for (int i = 0; i < 2; i++)
                for (int k = 0; k < 3; k++)
                    ck_assert_msg(!memcmp(got + (i * 3 + k) * HW,
                                          x + (i * c + (c == 3 ? k : 0)) * HW, sizeof(float) * HW),
                                  "image %d channel %d of %d changed on %s", i, k, c,
                                  gc_backend_name(bes[b]));
            free(got);
        }
        gc_inception_free(net);
    }
    free(x);
}
END_TEST

/* ---- whole networks -------------------------------------------------------------- */

/* pooled[k] receives the global average pool of the tapped stages. */
typedef struct taps {
    const int *stage; /* 4 stage indices */
    gc_tensor pooled[4];
} taps;

static gc_status pool_taps(void *ctx, int stage, const gc_tensor *out)
{
    taps *t = ctx;
    for (int k = 0; k < 4; k++)
        if (t->stage[k] == stage) {
            t->pooled[k] = gt_tensor(out->be, GT_DIMS(GC_N(out), GC_C(out)), NULL);
            return gc_global_avg_pool_forward(&t->pooled[k], out);
        }
    return GC_OK;
}

static const int tap_stages[4] = {0, 1, 9, 12};
static const int tap_dims[4] = {64, 192, 768, 2048};

/* The .py tool's tiny_config(): every channel count of the real network
 * divided by 16, at least 2. */
static void tiny_stages(gc_inc_stage out[13])
{
    for (int s = 0; s < 13; s++) {
        out[s] = gc_inc_fid_stages[s];
        for (int i = 0; i < GC_INC_MAX_CONVS; i++)
            if (out[s].ch[i]) out[s].ch[i] = out[s].ch[i] / 16 < 2 ? 2 : out[s].ch[i] / 16;
    }
}

static gc_inc_config net_config(const gc_inc_stage *stages, int max_batch)
{
    gc_inc_config cfg = {.stages = stages,
                         .n_stages = 13,
                         .in_c = 3,
                         .in_h = 299,
                         .in_w = 299,
                         .resize = 1,
                         .scale_input = 1,
                         .tap_stage = 12,
                         .max_batch = max_batch};
    return cfg;
}

/* Runs image i of golden g through net and checks the four taps; returns
 * the host copy of the last tap's features (for cross-backend checks). */
static float *check_taps(gc_inception *net, const gt_golden *g, int i, double tol,
                         const char *label)
{
    char name[32], what[160];
    snprintf(name, sizeof name, "x%d", i);
    const gt_golden_array *x = gt_golden_get(g, name);
    int n = (int)x->dims[0];
    GT_OK(gc_inc_fill_activations(net, NAN));
    GT_OK(gc_inc_preprocess(net, x->data, n, (int)x->dims[1], (int)x->dims[2], (int)x->dims[3]));
    taps t = {.stage = tap_stages};
    GT_OK(gc_inc_run(net, n, pool_taps, &t, NULL));
    float *last = NULL;
    for (int k = 0; k < 4; k++) {
        snprintf(name, sizeof name, "f%d_%d", tap_dims[k], i);
        snprintf(what, sizeof what, "%s image %d, %d-d tap", label, i, tap_dims[k]);
        expect_close(&t.pooled[k], gt_golden_get(g, name), tol, what);
        if (k == 3) last = gt_read(&t.pooled[k]);
        gt_free(&t.pooled[k]);
    }
    return last;
}

START_TEST(tiny_network)
{
    gt_golden *g = open_golden("net_tiny.bin");
    uint64_t seed = (uint64_t)gt_golden_int(g, "param.seed");
    gc_inc_stage stages[13];
    tiny_stages(stages);
    gc_inc_config cfg = net_config(stages, 2);
    gc_backend *bes[2];
    int nb = backends(bes);
    for (int b = 0; b < nb; b++) {
        gc_inception *net;
        GT_OK(gc_inc_build(bes[b], &cfg, gc_inc_get_random, &seed, &net));
        char label[96];
        snprintf(label, sizeof label, "tiny network on %s", gc_backend_name(bes[b]));
        for (int i = 0; i < 2; i++)
            free(check_taps(net, g, i, TOL_NET, label));
        gc_inception_free(net);
    }
    gt_golden_free(g);
}
END_TEST

/* Five images in passes of two (a device whose buffers are too small for
 * more) give the features of five one-image calls. */
START_TEST(chunked_batches)
{
    uint64_t seed = 3;
    gc_inc_stage stages[13];
    tiny_stages(stages);
    const int n = 5, c = 1 + 2 * _i, h = 19, w = 23; /* gray, then RGB */
    float *img = gt_rand_array((int64_t)n * c * h * w, 0.0f, 1.0f);
    gc_backend *bes[2];
    int nb = backends(bes);
    for (int b = 0; b < nb; b++) {
        gc_inc_config one = net_config(stages, 1), five = net_config(stages, n);
        gc_inception *a, *bnet;
        GT_OK(gc_inc_build(bes[b], &one, gc_inc_get_random, &seed, &a));
        /* Room for two images in the larger activation buffer. */
        int64_t need =
            gc_inc_need(a, 0) > gc_inc_need(a, 1) ? gc_inc_need(a, 0) : gc_inc_need(a, 1);
        five.max_alloc = (uint64_t)need * sizeof(float) * 2 + 1;
        GT_OK(gc_inc_build(bes[b], &five, gc_inc_get_random, &seed, &bnet));
        ck_assert_int_eq(gc_inc_chunk(bnet), 2); /* 5 = 2 + 2 + 1 */
        int dims = gc_inception_dims(a);
        float *fa = malloc(sizeof(float) * (size_t)(n * dims));
        float *fb = malloc(sizeof(float) * (size_t)(n * dims));
        ck_assert(fa && fb);
        for (int i = 0; i < n; i++)
            GT_OK(gc_inception_features(a, img + (int64_t)i * c * h * w, 1, c, h, w,
                                        fa + (int64_t)i * dims));
        GT_OK(gc_inc_fill_activations(bnet, NAN));
        GT_OK(gc_inception_features(bnet, img, n, c, h, w, fb));
        char what[96];
        snprintf(what, sizeof what, "chunked vs single on %s", gc_backend_name(bes[b]));
        gt_assert_close(fb, fa, n * dims, 1e-6, what);
        free(fa);
        free(fb);
        gc_inception_free(a);
        gc_inception_free(bnet);
    }
    free(img);
}
END_TEST

START_TEST(full_network)
{
    gt_golden *g = open_golden("net_full.bin");
    uint64_t seed = (uint64_t)gt_golden_int(g, "param.seed");
    gc_inc_config cfg = net_config(gc_inc_fid_stages, 1);
    gc_backend *bes[2];
    int nb = backends(bes);
    float *last[2][2] = {{NULL}};
    for (int b = 0; b < nb; b++) {
        gc_inception *net;
        GT_OK(gc_inc_build(bes[b], &cfg, gc_inc_get_random, &seed, &net));
        char label[96];
        snprintf(label, sizeof label, "full network on %s", gc_backend_name(bes[b]));
        /* The CPU reference needs ~10 s per image (a minute under ASan):
         * one image there, both on OpenCL. */
        for (int i = 0; i < (b == 0 ? 1 : 2); i++) {
            double t0 = now();
            last[b][i] = check_taps(net, g, i, TOL_NET, label);
            printf("test_inception: full network, 1 image on %s: %.2f s\n", gc_backend_name(bes[b]),
                   now() - t0);
        }
        gc_inception_free(net);
    }
    if (nb == 2)
        gt_assert_close(last[1][0], last[0][0], 2048, TOL_NET, "full network: OpenCL vs cpu");
    for (int b = 0; b < 2; b++)
        for (int i = 0; i < 2; i++)
            free(last[b][i]);
    gt_golden_free(g);
}
END_TEST

/* The public entry point with its own random weights equals the golden too
 * (on OpenCL only: on the CPU reference it would be a third slow pass). */
START_TEST(public_features)
{
    gc_backend *cl = gt_cl();
    if (!cl) {
        printf("test_inception: public_features needs OpenCL; skipped\n");
        return;
    }
    gt_golden *g = open_golden("net_full.bin");
    gc_inception *net;
    GT_OK(gc_inception_random(cl, (uint64_t)gt_golden_int(g, "param.seed"), 2048, 3, &net));
    ck_assert_int_eq(gc_inception_dims(net), 2048);
    const gt_golden_array *x = gt_golden_get(g, "x1");
    /* The same image three times: one batch, identical rows. */
    int64_t per = x->numel;
    float *img = malloc(sizeof(float) * 3 * (size_t)per), *f = malloc(sizeof(float) * 3 * 2048);
    for (int k = 0; k < 3; k++)
        memcpy(img + k * per, x->data, sizeof(float) * (size_t)per);
    GT_OK(gc_inception_features(net, img, 3, (int)x->dims[1], (int)x->dims[2], (int)x->dims[3], f));
    for (int k = 0; k < 3; k++)
        gt_assert_close(f + k * 2048, gt_golden_get(g, "f2048_1")->data, 2048, TOL_NET,
                        "gc_inception_features");
    free(img);
    free(f);
    gc_inception_free(net);
    gt_golden_free(g);
}
END_TEST

/* ---- weights files ------------------------------------------------------------------ */

/* The stem0 tensors (all that dims = 64 needs) drawn by gc_inc_get_random. */
#define STEM_TENSORS 15
typedef struct weights_file {
    char names[STEM_TENSORS + 2][64];
    float *data[STEM_TENSORS + 2];
    gc_st_tensor t[STEM_TENSORS + 2];
    int count;
} weights_file;

static void make_stem_weights(weights_file *wf, uint64_t seed)
{
    static const char *convs[3] = {"Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"};
    static const int ic[3] = {3, 32, 32}, oc[3] = {32, 32, 64};
    static const char *parts[5] = {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean",
                                   "bn.running_var"};
    memset(wf, 0, sizeof *wf);
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 5; p++) {
            int k = wf->count++;
            snprintf(wf->names[k], sizeof wf->names[k], "%s.%s", convs[c], parts[p]);
            gc_st_tensor *t = &wf->t[k];
            t->name = wf->names[k];
            t->dtype = GC_ST_F32;
            if (p == 0) {
                t->ndim = 4;
                t->shape[0] = oc[c], t->shape[1] = ic[c], t->shape[2] = 3, t->shape[3] = 3;
            } else {
                t->ndim = 1;
                t->shape[0] = oc[c];
            }
            int64_t n = 1;
            for (int i = 0; i < t->ndim; i++)
                n *= t->shape[i];
            wf->data[k] = malloc(sizeof(float) * (size_t)n);
            GT_OK(gc_inc_get_random(&seed, t->name, t->ndim, t->shape, wf->data[k]));
            t->data = wf->data[k];
        }
}

static void free_weights(weights_file *wf)
{
    for (int i = 0; i < wf->count; i++)
        free(wf->data[i]);
}

static void tmp_path(char *buf, size_t n, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, n, "%s/gancl-test-inception-%ld-%s", tmp && *tmp ? tmp : "/tmp", (long)getpid(),
             name);
}

/* Loading must fail with status s and a one-line message containing all of
 * the given fragments. */
static void expect_load_error(const char *path, gc_status s, const char *frag1, const char *frag2)
{
    gc_inception *net = (gc_inception *)1;
    gc_status got = gc_inception_load(gt_cpu(), path, 64, 1, &net);
    const char *msg = gc_last_error();
    ck_assert_msg(got == s, "%s: status %s, expected %s (%s)", path, gc_status_name(got),
                  gc_status_name(s), msg);
    ck_assert_ptr_null(net);
    ck_assert_msg(!strchr(msg, '\n'), "message has a newline: %s", msg);
    ck_assert_msg(strstr(msg, frag1) && (!frag2 || strstr(msg, frag2)),
                  "message '%s' should mention '%s'%s%s", msg, frag1, frag2 ? " and " : "",
                  frag2 ? frag2 : "");
}

START_TEST(weights_file_loads)
{
    char path[1024];
    tmp_path(path, sizeof path, "good.safetensors");
    weights_file wf;
    make_stem_weights(&wf, 5);
    /* Extra tensors a real state_dict has are ignored. */
    int64_t nbt = 7;
    float fc[6] = {1, 2, 3, 4, 5, 6};
    wf.t[wf.count++] = (gc_st_tensor){.name = "Conv2d_1a_3x3.bn.num_batches_tracked",
                                      .dtype = GC_ST_I64,
                                      .ndim = 0,
                                      .data = &nbt};
    wf.t[wf.count++] = (gc_st_tensor){
        .name = "fc.weight", .dtype = GC_ST_F32, .ndim = 2, .shape = {2, 3}, .data = fc};
    GT_OK(gc_st_write(path, wf.t, wf.count, NULL, 0));
    gc_inception *loaded, *random;
    GT_OK(gc_inception_load(gt_cpu(), path, 64, 1, &loaded));
    GT_OK(gc_inception_random(gt_cpu(), 5, 64, 1, &random));
    float *img = gt_rand_array(1 * 28 * 28, 0.0f, 1.0f), fa[64], fb[64];
    GT_OK(gc_inception_features(loaded, img, 1, 1, 28, 28, fa));
    GT_OK(gc_inception_features(random, img, 1, 1, 28, 28, fb));
    gt_assert_close(fa, fb, 64, 0.0, "weights from safetensors vs the same weights drawn");
    free(img);
    gc_inception_free(loaded);
    gc_inception_free(random);
    wf.count -= 2;
    free_weights(&wf);
    unlink(path);
}
END_TEST

START_TEST(weights_file_errors)
{
    char path[1024];
    weights_file wf;
    make_stem_weights(&wf, 5);

    /* A missing key: drop Conv2d_2a_3x3.bn.running_var (index 9). */
    tmp_path(path, sizeof path, "missing.safetensors");
    gc_st_tensor saved = wf.t[9];
    wf.t[9] = wf.t[wf.count - 1];
    GT_OK(gc_st_write(path, wf.t, wf.count - 1, NULL, 0));
    expect_load_error(path, GC_ERR_FORMAT, "missing tensor", "Conv2d_2a_3x3.bn.running_var");
    wf.t[9] = saved;
    unlink(path);

    /* A wrong shape. */
    tmp_path(path, sizeof path, "shape.safetensors");
    wf.t[5].shape[3] = 1; /* Conv2d_2a_3x3.conv.weight [32, 32, 3, 1] */
    GT_OK(gc_st_write(path, wf.t, wf.count, NULL, 0));
    expect_load_error(path, GC_ERR_FORMAT, "Conv2d_2a_3x3.conv.weight", "[32, 32, 3, 3]");
    wf.t[5].shape[3] = 3;
    unlink(path);

    /* A wrong dtype: the same bytes declared as F16 twice as many. */
    tmp_path(path, sizeof path, "dtype.safetensors");
    wf.t[1].dtype = GC_ST_F16;
    wf.t[1].shape[0] = 64;
    GT_OK(gc_st_write(path, wf.t, wf.count, NULL, 0));
    expect_load_error(path, GC_ERR_FORMAT, "Conv2d_1a_3x3.bn.weight", "F16");
    wf.t[1].dtype = GC_ST_F32;
    wf.t[1].shape[0] = 32;

    /* A negative running variance. */
    wf.data[4][7] = -3.0f;
    GT_OK(gc_st_write(path, wf.t, wf.count, NULL, 0));
    expect_load_error(path, GC_ERR_FORMAT, "Conv2d_1a_3x3.bn.running_var", "negative");
    wf.data[4][7] = 1.0f;
    unlink(path);

    /* Truncated: a valid file cut short. */
    tmp_path(path, sizeof path, "truncated.safetensors");
    GT_OK(gc_st_write(path, wf.t, wf.count, NULL, 0));
    FILE *f = fopen(path, "r+");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    ck_assert_int_eq(truncate(path, size - 100), 0);
    expect_load_error(path, GC_ERR_FORMAT, path, NULL);
    unlink(path);

    /* Not safetensors at all. */
    tmp_path(path, sizeof path, "garbage.safetensors");
    f = fopen(path, "w");
    fputs("this is a pickle, honest\n", f);
    fclose(f);
    expect_load_error(path, GC_ERR_FORMAT, path, NULL);
    unlink(path);

    /* No file: the lookup says how to get one. */
    tmp_path(path, sizeof path, "absent.safetensors");
    char found[1024];
    gc_status s = gc_fid_weights_path(path, found, sizeof found);
    ck_assert_int_eq(s, GC_ERR_IO);
    ck_assert_msg(strstr(gc_last_error(), path) && strstr(gc_last_error(), "convert_fid_weights"),
                  "%s", gc_last_error());
    setenv("GANCL_FID_WEIGHTS", path, 1);
    ck_assert_int_eq(gc_fid_weights_path(NULL, found, sizeof found), GC_ERR_IO);
    ck_assert_msg(strstr(gc_last_error(), "GANCL_FID_WEIGHTS"), "%s", gc_last_error());
    unsetenv("GANCL_FID_WEIGHTS");
    free_weights(&wf);
}
END_TEST

/* ---- memory ----------------------------------------------------------------------- */

/* Batch 50 on a device with 1 GiB of global memory and 256 MiB per buffer
 * (a quarter, as most drivers report): the plan must chunk the batch so that
 * every buffer fits and the whole stays well inside the device. */
START_TEST(memory_1gib)
{
    uint64_t seed = 1;
    gc_inc_config cfg = net_config(gc_inc_fid_stages, 50);
    cfg.global_mem = (uint64_t)1 << 30;
    cfg.max_alloc = (uint64_t)256 << 20;
    gc_inception *net;
    GT_OK(gc_inc_build(gt_cpu(), &cfg, gc_inc_get_random, &seed, &net));
    gc_inception_memory m;
    gc_inception_memory_use(net, &m);
    size_t total = m.params + m.activations + m.other;
    printf("test_inception: batch 50 on a 1 GiB device: %d images per pass, weights %.1f MiB, "
           "activations %.1f MiB, other %.1f MiB, total %.1f MiB, largest buffer %.1f MiB\n",
           m.chunk, m.params / 1048576.0, m.activations / 1048576.0, m.other / 1048576.0,
           total / 1048576.0, m.largest / 1048576.0);
    ck_assert_uint_le(m.largest, cfg.max_alloc);
    ck_assert_uint_le(total, (size_t)600 << 20);
    ck_assert_int_ge(m.chunk, 10);
    ck_assert_int_lt(m.chunk, 50);
    gc_inception_free(net);

    /* Without limits (the CPU reference) the whole batch is one pass. */
    cfg.global_mem = cfg.max_alloc = 0;
    GT_OK(gc_inc_build(gt_cpu(), &cfg, gc_inc_get_random, &seed, &net));
    ck_assert_int_eq(gc_inc_chunk(net), 50);
    gc_inception_free(net);
}
END_TEST

static Suite *inception_suite(void)
{
    Suite *s = suite_create("inception");
    TCase *tc = tcase_create("inception");
    tcase_set_timeout(tc, 0);
    tcase_add_loop_test(tc, blocks, 0, (int)(sizeof block_files / sizeof block_files[0]));
    tcase_add_loop_test(tc, resize, 0, 2);
    tcase_add_test(tc, resize_identity);
    tcase_add_test(tc, tiny_network);
    tcase_add_loop_test(tc, chunked_batches, 0, 2);
    tcase_add_test(tc, weights_file_loads);
    tcase_add_test(tc, weights_file_errors);
    tcase_add_test(tc, memory_1gib);
    tcase_add_test(tc, public_features);
    tcase_add_test(tc, full_network);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(inception_suite());
}

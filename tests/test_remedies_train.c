/* tests/test_remedies_train.c - the trainer on colour images with the
 * remedies against mode collapse (spectral norm and minibatch stddev in D,
 * the hinge loss, DiffAugment, an EMA of G): exact resume with all of
 * them, the EMA's recurrence, sampling and checkpoints that use the EMA
 * weights, the DCGAN scaled to 32, 64 and 128 pixels (PyTorch's parameter
 * counts, a few steps on every backend) and its memory at batch 64. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/train.h"
#include "test_files.h"
#include "test_fixtures.h"
#include "test_support.h"

#define C        3
#define H        8
#define W        12
#define N_IMAGES 40

static char tmp_dir[64];
static uint8_t *images;

static void setup(void)
{
    if (tmp_dir[0]) return;
    gt_tmpdir_at_exit(tmp_dir, sizeof tmp_dir, "remedies");
    images = malloc((size_t)N_IMAGES * C * H * W);
    for (int i = 0; i < N_IMAGES * C * H * W; i++)
        images[i] = (uint8_t)gt_randint(0, 255);
}

/* Every remedy on: SN and mbstd in D, hinge, all of DiffAugment, EMA. */
static gc_train_config remedies_config(void)
{
    gc_train_config c = gt_tiny_train_config(GC_MODEL_DCGAN, H, W);
    c.model.channels = C;
    c.model.spectral_norm = 1;
    c.model.mbstd = 4;
    c.loss = GC_LOSS_HINGE;
    c.diffaug = GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT;
    c.ema = 0.9f; /* a short memory, so that a few steps move it visibly */
    return c;
}

static float *read_buf(gc_backend *be, gc_buffer *buf, int64_t n)
{
    gc_tensor t = gc_tensor_1d(be, buf, 0, n);
    float *h = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (n) GT_OK(gc_tensor_read(&t, h));
    return h;
}

/* Parameters, Adam moments, state of both networks, the EMA buffers and
 * the host state. */
static void compare_trainers(const gc_trainer *a, const gc_trainer *b, double tol, const char *what)
{
    ck_assert_msg(!memcmp(&a->st, &b->st, sizeof a->st), "%s: run state differs", what);
    const gc_seq *sa[2] = {&a->gan.g, &a->gan.d}, *sb[2] = {&b->gan.g, &b->gan.d};
    for (int i = 0; i < 2; i++) {
        gc_buffer *ba[4] = {sa[i]->params, sa[i]->adam_m, sa[i]->adam_v, sa[i]->state};
        gc_buffer *bb[4] = {sb[i]->params, sb[i]->adam_m, sb[i]->adam_v, sb[i]->state};
        int64_t n[4] = {sa[i]->n_params, sa[i]->n_params, sa[i]->n_params, sa[i]->n_state};
        for (int k = 0; k < 4; k++) {
            float *x = read_buf(a->be, ba[k], n[k]), *y = read_buf(b->be, bb[k], n[k]);
            if (tol == 0)
                ck_assert_msg(!memcmp(x, y, (size_t)n[k] * sizeof(float)),
                              "%s: buffer %d of %s differs", what, k, i ? "D" : "G");
            else
                gt_assert_close(y, x, n[k], tol, what);
            free(x);
            free(y);
        }
    }
    const gc_seq *g = &a->gan.g;
    float *x = read_buf(a->be, a->ema_params, g->n_params);
    float *y = read_buf(b->be, b->ema_params, g->n_params);
    if (tol == 0)
        ck_assert_msg(!memcmp(x, y, (size_t)g->n_params * sizeof(float)), "%s: EMA differs", what);
    else
        gt_assert_close(y, x, g->n_params, tol, what);
    free(x);
    free(y);
}

/* N steps, checkpoint, a fresh trainer loads it and runs M more: the same
 * as N + M steps, with every remedy's state (u vectors, EMA, augmentation
 * stream) carried by the checkpoint. */
static void check_resume(gc_backend *be, double tol)
{
    setup();
    gc_train_config cfg = remedies_config();
    int n = 5, m = 6;
    char ckpt[160];
    snprintf(ckpt, sizeof ckpt, "%s/resume-%s.safetensors", tmp_dir, gc_backend_name(be));
    gc_trainer whole, first, second;
    GT_OK(gc_trainer_init(&whole, be, &cfg, images, N_IMAGES, H, W));
    for (int i = 0; i < n + m; i++)
        GT_OK(gc_trainer_step(&whole));
    gc_train_stats st;
    GT_OK(gc_trainer_read_stats(&whole, &st)); /* finite, or this fails */

    GT_OK(gc_trainer_init(&first, be, &cfg, images, N_IMAGES, H, W));
    for (int i = 0; i < n; i++)
        GT_OK(gc_trainer_step(&first));
    GT_OK(gc_trainer_save(&first, ckpt));
    gc_trainer_free(&first);

    gc_train_config saved;
    GT_OK(gc_checkpoint_config(ckpt, &saved));
    ck_assert_int_eq(saved.model.depth, 2);
    cfg.model.depth = 2;
    ck_assert(!memcmp(&saved.model, &cfg.model, sizeof cfg.model));
    ck_assert(saved.loss == GC_LOSS_HINGE && saved.diffaug == cfg.diffaug && saved.ema == cfg.ema);
    saved.seed ^= 1; /* the checkpoint's streams must drive the rest */
    GT_OK(gc_trainer_init(&second, be, &saved, images, N_IMAGES, H, W));
    GT_OK(gc_trainer_load(&second, ckpt));
    for (int i = 0; i < m; i++)
        GT_OK(gc_trainer_step(&second));
    char what[96];
    snprintf(what, sizeof what, "remedies on %s: %d + %d steps vs %d", gc_backend_name(be), n, m,
             n + m);
    compare_trainers(&whole, &second, tol, what);
    gc_trainer_free(&whole);
    gc_trainer_free(&second);
}

START_TEST(test_resume_remedies_cpu)
{
    check_resume(gt_cpu(), 0);
}
END_TEST

START_TEST(test_resume_remedies_cl)
{
    if (!gt_cl()) {
        gt_skip_no_opencl("test_resume_remedies_cl");
        return;
    }
    check_resume(gt_cl(), 1e-5);
}
END_TEST

/* After each step the average moves towards G's parameters and running
 * statistics: avg = d avg + (1 - d) p, from avg = the initial parameters,
 * with d = min(ema, (1 + t) / (10 + t)) at step t. */
static void check_ema(gc_backend *be)
{
    setup();
    gc_train_config cfg = remedies_config();
    cfg.ema = (float)(0.5 + 0.45 * gt_uniform());
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, be, &cfg, images, N_IMAGES, H, W));
    const gc_seq *g = &tr.gan.g;
    int64_t np = g->n_params, ns = g->n_state;
    float *avg = read_buf(be, g->params, np), *avs = read_buf(be, g->state, ns);
    for (int step = 1; step <= 12; step++) {
        GT_OK(gc_trainer_step(&tr));
        float *p = read_buf(be, g->params, np), *s = read_buf(be, g->state, ns);
        double warm = (1.0 + step) / (10.0 + step);
        float d = warm < cfg.ema ? (float)warm : cfg.ema;
        for (int64_t i = 0; i < np; i++)
            avg[i] = d * avg[i] + (1 - d) * p[i];
        for (int64_t i = 0; i < ns; i++)
            avs[i] = d * avs[i] + (1 - d) * s[i];
        free(p);
        free(s);
    }
    float *ep = read_buf(be, tr.ema_params, np), *es = read_buf(be, tr.ema_state, ns);
    gt_assert_close(ep, avg, np, 1e-5, "EMA of G's parameters");
    gt_assert_close(es, avs, ns, 1e-5, "EMA of G's running statistics");
    free(ep);
    free(es);
    free(avg);
    free(avs);
    gc_trainer_free(&tr);
}

START_TEST(test_ema_recurrence)
{
    check_ema(gt_cpu());
    if (gt_cl()) check_ema(gt_cl());
}
END_TEST

/* Grids come from the EMA weights, and so does a GAN loaded from the
 * checkpoint (what `gancl sample` and `gancl fid` use); G's own weights
 * give other images. */
START_TEST(test_sampling_uses_ema)
{
    setup();
    gc_backend *be = gt_cpu();
    gc_train_config cfg = remedies_config();
    gc_trainer tr;
    GT_OK(gc_trainer_init(&tr, be, &cfg, images, N_IMAGES, H, W));
    for (int i = 0; i < 6; i++)
        GT_OK(gc_trainer_step(&tr));
    int n = 10;
    int64_t per = (int64_t)C * H * W;
    float *grid = malloc((size_t)(n * per) * sizeof(float));
    float *own = malloc((size_t)(n * per) * sizeof(float));
    float *loaded = malloc((size_t)(n * per) * sizeof(float));
    GT_OK(gc_trainer_sample_fixed(&tr, n, grid));
    gc_rng rng = {.seed = tr.st.fixed_seed, .offset = 0};
    GT_OK(gc_gan_sample(&tr.gan, &rng, n, own));
    ck_assert_msg(memcmp(grid, own, (size_t)(n * per) * sizeof(float)),
                  "the grid was drawn with G's own weights, not the EMA's");

    char ckpt[160];
    snprintf(ckpt, sizeof ckpt, "%s/ema.safetensors", tmp_dir);
    GT_OK(gc_trainer_save(&tr, ckpt));
    gc_train_config saved;
    GT_OK(gc_checkpoint_config(ckpt, &saved));
    gc_gan gan;
    uint64_t fixed;
    GT_OK(gc_gan_init(&gan, be, &saved.model, 16));
    GT_OK(gc_checkpoint_load_gan(ckpt, &gan, &fixed));
    rng = (gc_rng){.seed = fixed, .offset = 0};
    GT_OK(gc_gan_sample(&gan, &rng, n, loaded));
    ck_assert_msg(!memcmp(grid, loaded, (size_t)(n * per) * sizeof(float)),
                  "a GAN loaded from the checkpoint does not sample with the EMA weights");
    /* Sampling swapped nothing for good: G's own weights are still G's. */
    rng = (gc_rng){.seed = tr.st.fixed_seed, .offset = 0};
    GT_OK(gc_gan_sample(&tr.gan, &rng, n, loaded));
    ck_assert(!memcmp(own, loaded, (size_t)(n * per) * sizeof(float)));
    gc_gan_free(&gan);
    gc_trainer_free(&tr);
    free(grid);
    free(own);
    free(loaded);
}
END_TEST

/* PyTorch's DCGAN at 64 x 64 (ngf = ndf = 64, nc = 3) has 3,576,704
 * parameters in G and 2,765,568 in D.  gancl's networks are the same (G's
 * first layer a dense one, the same as a 4x4 transposed convolution of a
 * 1x1 input), except for biases on G's output layer (3 more), D's first
 * convolution (64) and D's head (1), as gancl's 28 x 28 DCGAN has always
 * had them. */
START_TEST(test_dcgan_scaled_shapes)
{
    gc_gan_config c = gc_gan_default_config(GC_MODEL_DCGAN);
    c.channels = 3, c.height = c.width = 64;
    c.g_width = 64 << 3, c.d_width = 64;
    ck_assert_int_eq(gc_gan_auto_depth(28, 28), 2);
    ck_assert_int_eq(gc_gan_auto_depth(8, 12), 2);
    ck_assert_int_eq(gc_gan_auto_depth(32, 32), 3);
    ck_assert_int_eq(gc_gan_auto_depth(64, 64), 4);
    ck_assert_int_eq(gc_gan_auto_depth(128, 128), 5);
    gc_gan gan;
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 2));
    ck_assert_int_eq(gan.cfg.depth, 4);
    ck_assert_int_eq(gan.g.n_params, 3576704 + 3);
    ck_assert_int_eq(gan.d.n_params, 2765568 + 64 + 1);
    const gc_layer *out = &gan.g.layers[gan.g.n_layers - 1];
    ck_assert(out->out[0] == 3 && out->out[1] == 64 && out->out[2] == 64);
    gc_gan_free(&gan);

    /* The 28 x 28 default is the network it always was. */
    c = gc_gan_default_config(GC_MODEL_DCGAN);
    GT_OK(gc_gan_init(&gan, gt_cpu(), &c, 2));
    ck_assert_int_eq(gan.g.n_layers, 8);
    ck_assert_int_eq(gan.d.n_layers, 6);
    ck_assert_int_eq(gan.g.n_params,
                     100 * 128 * 49 + 2 * 128 + 128 * 64 * 16 + 2 * 64 + 64 * 16 + 1);
    gc_gan_free(&gan);

    /* Widths that the stages cannot halve are refused with a reason. */
    c.channels = 3, c.height = c.width = 64, c.g_width = 100;
    ck_assert_int_eq(gc_gan_config_check(&c), GC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "multiple of 8"));
}
END_TEST

/* Every byte of device memory a training run holds besides the backend's
 * convolution workspace: both networks' buffers, the step's tensors, the
 * EMA; *largest gets the largest single buffer. */
static size_t trainer_bytes(const gc_trainer *tr, size_t *largest)
{
    gc_buffer *all[20] = {tr->work, tr->ema_params, tr->ema_state};
    int n = 3;
    const gc_seq *s[2] = {&tr->gan.g, &tr->gan.d};
    for (int i = 0; i < 2; i++) {
        gc_buffer *b[8] = {s[i]->params, s[i]->grads, s[i]->adam_m, s[i]->adam_v,
                           s[i]->state,  s[i]->acts,  s[i]->dacts,  s[i]->labels};
        for (int k = 0; k < 8; k++)
            all[n++] = b[k];
    }
    size_t total = 0;
    *largest = 0;
    for (int k = 0; k < n; k++) {
        size_t b = all[k] ? gc_buffer_size(all[k]) : 0;
        total += b;
        if (b > *largest) *largest = b;
    }
    return total;
}

/* Batch 64 of 3 x 64 x 64 with the paper's widths fits a 1 GiB device:
 * the buffers above plus the largest workspace such a device allows (a
 * quarter of its memory, OpenCL's minimum for CL_DEVICE_MAX_MEM_ALLOC_SIZE,
 * is what drivers report), and no single buffer is larger than that
 * quarter either. */
START_TEST(test_memory_64px_batch64)
{
    static uint8_t img[64 * 3 * 64 * 64];
    for (int pass = 0; pass < 2; pass++) {
        gc_train_config cfg = gc_train_default_config(GC_MODEL_DCGAN);
        cfg.model.channels = 3, cfg.model.height = cfg.model.width = 64;
        cfg.model.g_width = 64 << 3, cfg.model.d_width = 64;
        if (pass) {
            cfg.model.spectral_norm = 1, cfg.model.mbstd = 4, cfg.loss = GC_LOSS_HINGE;
            cfg.diffaug = GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT;
            cfg.ema = 0.999f;
        }
        gc_trainer tr;
        GT_OK(gc_trainer_init(&tr, gt_cpu(), &cfg, img, 64, 64, 64));
        size_t largest, bytes = trainer_bytes(&tr, &largest) + ((size_t)256 << 20);
        printf("test_memory_64px_batch64: %s: %.1f MiB of buffers (the largest %.1f MiB) + 256 "
               "MiB workspace\n",
               pass ? "every remedy" : "plain", (double)(bytes - ((size_t)256 << 20)) / 1048576.0,
               (double)largest / 1048576.0);
        ck_assert_msg(bytes < ((size_t)1 << 30), "%zu bytes do not fit 1 GiB", bytes);
        ck_assert_msg(largest <= ((size_t)256 << 20), "a buffer of %zu bytes", largest);
        gc_trainer_free(&tr);
    }
}
END_TEST

/* A few steps at 32, 64 and 128 pixels with narrow networks, plain and
 * with every remedy: finite losses on every backend. */
static void check_sizes(gc_backend *be)
{
    int sizes[3] = {32, 64, 128};
    for (int k = 0; k < 3; k++) {
        int s = sizes[k];
        int64_t n = 6;
        uint8_t *img = malloc((size_t)(n * C * s * s));
        for (int64_t i = 0; i < n * C * s * s; i++)
            img[i] = (uint8_t)gt_randint(0, 255);
        for (int pass = 0; pass < 2; pass++) {
            gc_train_config cfg =
                pass ? remedies_config() : gt_tiny_train_config(GC_MODEL_DCGAN, s, s);
            cfg.model.height = cfg.model.width = s, cfg.model.channels = C;
            int depth = gc_gan_auto_depth(s, s);
            cfg.model.g_width = 2 << (depth - 1), cfg.model.d_width = 2;
            cfg.batch = 3;
            if (pass) cfg.model.mbstd = 3;
            gc_trainer tr;
            GT_OK(gc_trainer_init(&tr, be, &cfg, img, n, s, s));
            ck_assert_int_eq(tr.cfg.model.depth, depth);
            for (int i = 0; i < 2; i++)
                GT_OK(gc_trainer_step(&tr));
            gc_train_stats st;
            GT_OK(gc_trainer_read_stats(&tr, &st));
            ck_assert_int_eq(st.steps, 2);
            gc_trainer_free(&tr);
        }
        free(img);
    }
}

START_TEST(test_sizes_cpu)
{
    check_sizes(gt_cpu());
}
END_TEST

START_TEST(test_sizes_cl)
{
    if (!gt_cl()) {
        gt_skip_no_opencl("test_sizes_cl");
        return;
    }
    check_sizes(gt_cl());
}
END_TEST

int main(void)
{
    Suite *s = suite_create("remedies_train");
    TCase *tc = tcase_create("remedies_train");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_resume_remedies_cpu);
    tcase_add_test(tc, test_resume_remedies_cl);
    tcase_add_test(tc, test_ema_recurrence);
    tcase_add_test(tc, test_sampling_uses_ema);
    tcase_add_test(tc, test_dcgan_scaled_shapes);
    tcase_add_test(tc, test_memory_64px_batch64);
    tcase_add_test(tc, test_sizes_cpu);
    tcase_add_test(tc, test_sizes_cl);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

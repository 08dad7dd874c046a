/* tests/test_gemm_tuned.c - every GEMM configuration `gancl tune` can pick,
 * in both kernel families, proven against the CPU reference; the transpose
 * kernel the GEMM and the convolutions share; the tuning file's grammar
 * and round trip; the tune on first use.
 *
 * For each tile kernel of cl/gemm.cl (the CPU family), as the wide and as
 * the narrow tile, and each K chunk the tuner tries, and for each tile size
 * of cl/tiled.cl (the GPU family, forced on whatever device runs the test)
 * and its choice per call, the GEMM runs every transpose case at
 * odd sizes (edges in both directions, C narrower than a tile), with
 * leading dimensions larger than the widths, operands at odd offsets
 * inside one buffer, beta 0 over a NaN-poisoned C and beta 1 and 0.75, and
 * K long enough, with enough tiles, to be split into chunks (beta then
 * applies to the first chunk only).  Normalised error 1e-5, as in
 * test_backend_ops: the reference accumulates in double, the kernels in
 * float.  The row gaps of C must come back unchanged.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_tune.h"
#include "test_support.h"

#define TOL 1e-5

static gc_backend *cl_or_skip(void)
{
    gc_backend *be = gt_cl();
    if (!be) gt_skip_no_opencl("test_gemm_tuned");
    return be;
}

/* Makes the OpenCL backend run the given family; returns the one before. */
static gc_cl_family use_family(gc_backend *be, gc_cl_family family)
{
    gc_cl_family old = gc_cl_forms_of(be)->family;
    gc_cl_forms_set_family(be, family);
    return old;
}

/* C = alpha op(A) op(B) + beta C on both backends, compared. */
static void gemm_case(const char *cfg, int ta, int tb, int64_t m, int64_t n, int64_t k, float beta,
                      int pad)
{
    gc_backend *backends[2] = {gt_cpu(), gt_cl()};
    int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
    int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
    gc_gemm_args g = {.trans_a = ta,
                      .trans_b = tb,
                      .m = m,
                      .n = n,
                      .k = k,
                      .alpha = 1.25f,
                      .beta = beta,
                      .lda = a_cols + pad,
                      .ldb = b_cols + 2 * pad,
                      .ldc = n + 3 * pad};
    int64_t na = (a_rows - 1) * g.lda + a_cols, nb = (b_rows - 1) * g.ldb + b_cols;
    int64_t nc = (m - 1) * g.ldc + n;
    /* A and B at odd offsets inside one buffer, C at an offset of its own. */
    int64_t a_off = 3, b_off = a_off + na + 7, total = b_off + nb + 5;
    float *hab = gt_rand_array(total, -1, 1), *hc = gt_rand_array(nc + 9, -1, 1);
    if (beta == 0)
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
                hc[9 + i * g.ldc + j] = NAN;
    gc_tensor base[2], cbase[2];
    for (int s = 0; s < 2; s++) {
        base[s] = gt_tensor(backends[s], GT_DIMS(total), hab);
        cbase[s] = gt_tensor(backends[s], GT_DIMS(nc + 9), hc);
        gc_tensor a = gc_tensor_1d(backends[s], base[s].buf, base[s].off + (size_t)a_off, na);
        gc_tensor b = gc_tensor_1d(backends[s], base[s].buf, base[s].off + (size_t)b_off, nb);
        gc_tensor c = gc_tensor_1d(backends[s], cbase[s].buf, cbase[s].off + 9, nc);
        GT_OK(gc_gemm(&c, &a, &b, &g));
    }
    char what[256];
    snprintf(what, sizeof what,
             "%s: gemm %s%s m=%" PRId64 " n=%" PRId64 " k=%" PRId64 " beta=%g ld+%d", cfg,
             ta ? "T" : "N", tb ? "T" : "N", m, n, k, beta, pad);
    gt_assert_tensors_close(&cbase[1], &cbase[0], TOL, what);
    for (int s = 0; s < 2; s++) {
        gt_free(&base[s]);
        gt_free(&cbase[s]);
    }
    free(hab);
    free(hc);
}

/* An odd size in [lo, hi]. */
static int64_t odd(int lo, int hi)
{
    return 2 * gt_randint(lo / 2, (hi - 1) / 2) + 1;
}

/* The GEMM cases every configuration must pass. */
static void gemm_suite(const gc_cl_gemm_config *cfg)
{
    gc_backend *be = cl_or_skip();
    gc_cl_gemm_config saved = gc_cl_gemm_get_config(be);
    gc_cl_gemm_set_config(be, cfg);
    char name[96];
    gc_cl_gemm_config_format(cfg, name, sizeof name);
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            /* wide with right and bottom edges; narrow (< 16 columns) */
            int64_t m = odd(13, 61), n = odd(33, 99), k = odd(5, 71);
            gemm_case(name, ta, tb, m, n, k, 0.0f, 3);
            gemm_case(name, ta, tb, m, n, k, 1.0f, 1);
            gemm_case(name, ta, tb, odd(1, 41), odd(1, 15), odd(1, 37), 0.75f, 2);
            /* long K, split into chunks of cfg->kc: enough tiles (>= 32 for
             * every tile size) and a K long enough (over 2 kc, and panels
             * of A and B over 256 KiB for every tile) that cl_gemm.c does
             * split it */
            int64_t kc = cfg->kc ? cfg->kc : 128, long_k = 2 * kc > 3000 ? 2 * kc : 3000;
            gemm_case(name, ta, tb, odd(193, 255), odd(33, 45), long_k + odd(3, 99),
                      ta ? 1.0f : 0.0f, 1);
            /* a few tiles and a long K: the GPU family splits K into
             * partial sums (beta and the gaps of C on the final sum) */
            gemm_case(name, ta, tb, odd(3, 9), odd(3, 9), odd(701, 999), tb ? 0.5f : 0.0f, 2);
        }
    /* One row, one column, K = 1; with no padding a transposed operand
     * then has leading dimension 1 (a dense layer's batch of one). */
    gemm_case(name, 0, 0, 1, odd(1, 77), odd(1, 33), 0.0f, 0);
    gemm_case(name, 1, 1, odd(1, 77), 1, odd(1, 33), 1.0f, 1);
    gemm_case(name, 0, 1, odd(3, 33), odd(3, 55), 1, 0.0f, 2);
    gemm_case(name, 1, 0, 1, odd(3, 77), odd(3, 33), 0.0f, 0);
    gemm_case(name, 0, 1, odd(3, 33), odd(3, 55), 1, 0.0f, 0);
    gemm_case(name, 1, 1, 1, odd(3, 55), 1, 1.0f, 0);
    gc_cl_gemm_set_config(be, &saved);
}

/* Every tile as both the wide and the narrow tile, with every K chunk. */
START_TEST(each_tile_and_chunk)
{
    gc_cl_family old = use_family(cl_or_skip(), GC_CL_FAMILY_CPU);
    static const int kcs[] = {0, 128, 256, 512, 1024};
    for (size_t j = 0; j < sizeof kcs / sizeof kcs[0]; j++) {
        gc_cl_gemm_config cfg = {.engine = GC_CL_GEMM_OWN, .tile = _i, .narrow = _i, .kc = kcs[j]};
        gemm_suite(&cfg);
    }
    use_family(gt_cl(), old);
}
END_TEST

/* The GPU family's tiled GEMM with each tile size (loop index: an entry of
 * gc_cl_wg_tiles, or the count for the choice per call), where the device
 * runs that tile. */
START_TEST(each_wg_tile)
{
    gc_backend *be = cl_or_skip();
    if (_i < gc_cl_wg_tile_count && !gc_cl_forms_of(be)->tile_ok[_i]) return;
    gc_cl_family old = use_family(be, GC_CL_FAMILY_GPU);
    gc_cl_gemm_config cfg = gc_cl_gemm_get_config(be);
    cfg.engine = GC_CL_GEMM_OWN;
    cfg.wg = _i < gc_cl_wg_tile_count ? gc_cl_wg_tiles[_i].ts : 0;
    gemm_suite(&cfg);
    use_family(be, old);
}
END_TEST

/* Wide and narrow tiles mixed: the switch between them happens per call. */
START_TEST(tile_pairs)
{
    gc_cl_family old = use_family(cl_or_skip(), GC_CL_FAMILY_CPU);
    for (int narrow = 0; narrow < gc_cl_tile_count; narrow++) {
        if (gc_cl_tiles[narrow].nv > gc_cl_tiles[_i].nv || narrow == _i) continue;
        gc_cl_gemm_config cfg = {.engine = GC_CL_GEMM_OWN, .tile = _i, .narrow = narrow, .kc = 256};
        gemm_suite(&cfg);
    }
    use_family(gt_cl(), old);
}
END_TEST

START_TEST(clblast_engine)
{
    gc_cl_gemm_config cfg = gc_cl_gemm_get_config(cl_or_skip());
    cfg.engine = GC_CL_GEMM_CLBLAST;
    gemm_suite(&cfg);
}
END_TEST

/* Convolutions through each tile and through CLBlast (loop index
 * gc_cl_tile_count), against the CPU reference: the passes multiply NCHW
 * views, workspace offsets, permuted weights (K chunks are the GEMM
 * cases' above: these reductions are too short to be split). */
START_TEST(conv_each_tile)
{
    gc_backend *be = cl_or_skip(), *cpu = gt_cpu();
    gc_cl_gemm_config saved = gc_cl_gemm_get_config(be), cfg = saved;
    /* 0 .. tiles-1: the CPU family's tiles; tiles: CLBlast; then the GPU
     * family's tile sizes and its choice per call. */
    int gpu = _i > gc_cl_tile_count, wg = _i - gc_cl_tile_count - 1;
    if (gpu && wg < gc_cl_wg_tile_count && !gc_cl_forms_of(be)->tile_ok[wg]) return;
    gc_cl_family old = use_family(be, gpu ? GC_CL_FAMILY_GPU : GC_CL_FAMILY_CPU);
    int tile = _i < gc_cl_tile_count ? _i : 0;
    cfg.engine = _i == gc_cl_tile_count ? GC_CL_GEMM_CLBLAST : GC_CL_GEMM_OWN;
    cfg.tile = cfg.narrow = tile;
    cfg.kc = 128;
    cfg.wg = gpu && wg < gc_cl_wg_tile_count ? gc_cl_wg_tiles[wg].ts : 0;
    gc_cl_gemm_set_config(be, &cfg);
    char label[64];
    if (gpu)
        snprintf(label, sizeof label, "tiled wg=%d", cfg.wg);
    else
        snprintf(label, sizeof label, "%s",
                 _i < gc_cl_tile_count ? gc_cl_tiles[_i].kernel : "clblast");
    for (int run = 0; run < 4; run++) {
        /* runs 2 and 3 have one channel on a side: layouts that skip a copy */
        int transposed = run & 1;
        int64_t n = gt_randint(2, 5), c = run == 2 ? 1 : gt_randint(2, 19), h = gt_randint(5, 11),
                w = gt_randint(5, 11), oc = run == 3 ? 1 : gt_randint(2, 37);
        gc_conv_params p = {2, 1, 1, 0, transposed, 0};
        int64_t oh =
            transposed ? gc_conv_transpose_out_size(h, 3, 2, 1, 1) : gc_conv_out_size(h, 3, 2, 1);
        int64_t ow =
            transposed ? gc_conv_transpose_out_size(w, 3, 1, 0, 0) : gc_conv_out_size(w, 3, 1, 0);
        int64_t wdims[4] = {transposed ? c : oc, transposed ? oc : c, 3, 3};
        int64_t nx = n * c * h * w, nw = wdims[0] * wdims[1] * 9, ny = n * oc * oh * ow;
        float *hx = gt_rand_array(nx, -1, 1), *hw = gt_rand_array(nw, -1, 1),
              *hb = gt_rand_array(oc, -1, 1), *hdy = gt_rand_array(ny, -1, 1),
              *hdw = gt_rand_array(nw, -1, 1), *hdb = gt_rand_array(oc, -1, 1);
        gc_tensor x[2], wt[2], b[2], y[2], dy[2], dx[2], dw[2], db[2];
        gc_backend *bs[2] = {cpu, be};
        for (int s = 0; s < 2; s++) {
            x[s] = gt_tensor(bs[s], GT_DIMS(n, c, h, w), hx);
            wt[s] = gt_tensor(bs[s], 4, wdims, hw);
            b[s] = gt_tensor(bs[s], GT_DIMS(oc), hb);
            y[s] = gt_tensor(bs[s], GT_DIMS(n, oc, oh, ow), NULL);
            dy[s] = gt_tensor(bs[s], GT_DIMS(n, oc, oh, ow), hdy);
            dx[s] = gt_tensor(bs[s], GT_DIMS(n, c, h, w), NULL);
            dw[s] = gt_tensor(bs[s], 4, wdims, hdw);
            db[s] = gt_tensor(bs[s], GT_DIMS(oc), hdb);
            if (transposed) {
                GT_OK(gc_conv_transpose2d_forward(&y[s], &x[s], &wt[s], &b[s], &p));
                GT_OK(gc_conv_transpose2d_backward(&dx[s], &dw[s], &db[s], &dy[s], &x[s], &wt[s],
                                                   &p));
            } else {
                GT_OK(gc_conv2d_forward(&y[s], &x[s], &wt[s], &b[s], &p));
                GT_OK(gc_conv2d_backward(&dx[s], &dw[s], &db[s], &dy[s], &x[s], &wt[s], &p));
            }
        }
        char what[128];
        snprintf(what, sizeof what, "%s %s x[%d,%d,%d,%d] oc %d", label,
                 transposed ? "conv_transpose2d" : "conv2d", (int)n, (int)c, (int)h, (int)w,
                 (int)oc);
        gt_assert_tensors_close(&y[1], &y[0], TOL, what);
        gt_assert_tensors_close(&dx[1], &dx[0], TOL, what);
        gt_assert_tensors_close(&dw[1], &dw[0], TOL, what);
        gt_assert_tensors_close(&db[1], &db[0], TOL, what);
        for (int s = 0; s < 2; s++) {
            gt_free(&x[s]);
            gt_free(&wt[s]);
            gt_free(&b[s]);
            gt_free(&y[s]);
            gt_free(&dy[s]);
            gt_free(&dx[s]);
            gt_free(&dw[s]);
            gt_free(&db[s]);
        }
        free(hx);
        free(hw);
        free(hb);
        free(hdy);
        free(hdw);
        free(hdb);
    }
    gc_cl_gemm_set_config(be, &saved);
    use_family(be, old);
}
END_TEST

/* gc_cl_transpose: batches, edges of the 16 x 16 blocks, offsets, bias,
 * accumulation; exact (it only moves and adds). */
START_TEST(transpose)
{
    gc_backend *be = cl_or_skip();
    gc_cl_family old = use_family(be, _i ? GC_CL_FAMILY_GPU : GC_CL_FAMILY_CPU);
    for (int accumulate = 0; accumulate < 2; accumulate++) {
        int64_t rows = gt_randint(1, 40), cols = gt_randint(1, 40), batch = gt_randint(1, 4);
        int64_t src_ld = cols + gt_randint(0, 3), dst_ld = rows + gt_randint(0, 3);
        int64_t src_bs = rows * src_ld + gt_randint(0, 5), dst_bs = cols * dst_ld + 2;
        int64_t ns = 5 + batch * src_bs, nd = 7 + batch * dst_bs;
        float *hs = gt_rand_array(ns, -1, 1), *hd = gt_rand_array(nd, -1, 1),
              *hb = gt_rand_array(cols, -1, 1);
        gc_tensor s = gt_tensor(be, GT_DIMS(ns), hs), d = gt_tensor(be, GT_DIMS(nd), hd),
                  bias = gt_tensor(be, GT_DIMS(cols), hb);
        GT_OK(gc_cl_transpose(be, gc_cl_mem(&d), 7, dst_ld, dst_bs, gc_cl_mem(&s), 5, src_ld,
                              src_bs, &bias, accumulate, rows, cols, batch));
        float *got = gt_read(&d);
        for (int64_t bt = 0; bt < batch; bt++)
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < cols; j++) {
                    int64_t di = 7 + bt * dst_bs + j * dst_ld + i;
                    float want = hs[5 + bt * src_bs + i * src_ld + j] + hb[j];
                    if (accumulate) want += hd[di];
                    hd[di] = want;
                }
        /* hd now holds the expected buffer, gaps included. */
        char what[64];
        snprintf(what, sizeof what, "%s family: transpose%s", _i ? "gpu" : "cpu",
                 accumulate ? ", accumulate" : "");
        gt_assert_close(got, hd, nd, 0.0, what);
        free(got);
        free(hs);
        free(hd);
        free(hb);
        gt_free(&s);
        gt_free(&d);
        gt_free(&bias);
    }
    use_family(be, old);
}
END_TEST

START_TEST(config_grammar)
{
    gc_cl_gemm_config cfg = {.engine = GC_CL_GEMM_CLBLAST}, back = cfg;
    char text[160];
    for (int i = 0; i < gc_cl_tile_count; i++) {
        cfg = (gc_cl_gemm_config){.engine = GC_CL_GEMM_OWN,
                                  .tile = i,
                                  .narrow = gc_cl_tile_count - 1 - i,
                                  .kc = 64 * i,
                                  .wg = i == 1 ? 0 : 32 << i,
                                  .xgemm = i % gc_cl_xgemm_set_count,
                                  .kernels = i % 3};
        gc_cl_gemm_config_format(&cfg, text, sizeof text);
        back = (gc_cl_gemm_config){.engine = GC_CL_GEMM_CLBLAST};
        GT_OK(gc_cl_gemm_config_parse(text, &back));
        ck_assert_msg(!memcmp(&back, &cfg, sizeof cfg), "round trip of '%s'", text);
    }
    /* CLBlast with each named parameter set ("auto" is the key's absence);
     * the kernel family alone. */
    for (int i = 1; i < gc_cl_xgemm_set_count; i++) {
        cfg = (gc_cl_gemm_config){.engine = GC_CL_GEMM_CLBLAST, .xgemm = i};
        gc_cl_gemm_config_format(&cfg, text, sizeof text);
        back = cfg;
        back.xgemm = 0;
        GT_OK(gc_cl_gemm_config_parse(text, &back));
        ck_assert_msg(back.xgemm == i, "round trip of '%s'", text);
    }
    GT_OK(gc_cl_gemm_config_parse("kernels=gpu", &back));
    ck_assert_int_eq(back.kernels, GC_CL_FAMILY_GPU);
    GT_OK(gc_cl_gemm_config_parse("kernels=auto wg=auto", &back));
    ck_assert_int_eq(back.kernels, 0);
    ck_assert_int_eq(back.wg, 0);
    /* A partial spec changes only what it names; comments are skipped. */
    GT_OK(gc_cl_gemm_config_parse("# tuned\n  kc=512 # chunk\nclblast\n", &back));
    ck_assert_int_eq(back.engine, GC_CL_GEMM_CLBLAST);
    ck_assert_int_eq(back.kc, 512);
    ck_assert_int_eq(back.tile, cfg.tile);
    static const char *bad[] = {"own tile=7x3", "fast",     "kc=-1",      "kc=12q",
                                "tile=",        "speed=3",  "narrow=8x",  "wg=48",
                                "wg=",          "xgemm=h9", "kernels=tpu"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gc_cl_gemm_config before = back;
        ck_assert_msg(gc_cl_gemm_config_parse(bad[i], &back) == GC_ERR_FORMAT, "accepted '%s'",
                      bad[i]);
        ck_assert_msg(!memcmp(&before, &back, sizeof back), "'%s' changed the config", bad[i]);
    }
}
END_TEST

/* The tuning file round-trips through its own cache folder; a corrupt
 * file is ignored, never trusted. */
START_TEST(tune_file)
{
    gc_backend *be = cl_or_skip();
    char dir[] = "/tmp/gancl-tune-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *old = getenv("XDG_CACHE_HOME");
    char *saved = old ? strdup(old) : NULL;
    setenv("XDG_CACHE_HOME", dir, 1);

    gc_cl_gemm_config def = gc_cl_tune_default(be), got = def;
    ck_assert_int_eq(gc_cl_tune_load(be, &got), 0); /* no file yet */
    gc_cl_gemm_config want = {.engine = GC_CL_GEMM_OWN,
                              .tile = gc_cl_tile_count - 1,
                              .kc = 384,
                              .wg = 64,
                              .xgemm = gc_cl_xgemm_set_count - 1,
                              .kernels = GC_CL_FAMILY_GPU};
    GT_OK(gc_cl_tune_save(be, &want, "# a comment line\n"));
    ck_assert_int_eq(gc_cl_tune_load(be, &got), 1);
    ck_assert(!memcmp(&got, &want, sizeof want));

    char path[4096];
    GT_OK(gc_cl_tune_path(be, path, sizeof path));
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("own tile=99x1\n", f);
    fclose(f);
    got = def;
    ck_assert_int_eq(gc_cl_tune_load(be, &got), 0);
    ck_assert(!memcmp(&got, &def, sizeof def));

    unlink(path);
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/gancl", dir);
    rmdir(sub);
    rmdir(dir);
    if (saved)
        setenv("XDG_CACHE_HOME", saved, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    free(saved);
}
END_TEST

/* The tune on first use: with no tuning file it measures, saves the file
 * and puts its choice in use; with a file it reads it and measures
 * nothing; GANCL_AUTOTUNE=0 leaves the default.  The profile is set as a
 * freshly opened device has it, the device's own family included (the
 * shared backend may have been told otherwise, GANCL_KERNELS=gpu say, and
 * the gpu family's tune of CLBlast's parameter sets takes minutes on a
 * CPU), and restored after. */
START_TEST(tune_on_first_use)
{
    gc_backend *be = cl_or_skip();
    gc_cl_forms *f = gc_cl_ctx_of(be)->forms;
    const char *gemm_from = f->gemm_from, *family_from = f->family_from;
    gc_cl_gemm_config start = gc_cl_gemm_get_config(be);
    gc_cl_family family = use_family(be, gc_cl_forms_device_family(be));
    char dir[] = "/tmp/gancl-autotune-test-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *old = getenv("XDG_CACHE_HOME");
    char *saved = old ? strdup(old) : NULL;
    setenv("XDG_CACHE_HOME", dir, 1);
    const char *old_auto = getenv("GANCL_AUTOTUNE");
    char *saved_auto = old_auto ? strdup(old_auto) : NULL;
    char path[4096];
    GT_OK(gc_cl_tune_path(be, path, sizeof path));

    /* Switched off: nothing measured or written. */
    setenv("GANCL_AUTOTUNE", "0", 1);
    f->gemm_from = "default";
    f->family_from = "device type";
    gc_cl_tune_auto(be);
    ck_assert_int_eq(access(path, F_OK), -1);
    ck_assert_str_eq(f->gemm_from, "default");

    /* No file: measured and saved, and what is in use is what was saved. */
    unsetenv("GANCL_AUTOTUNE");
    gc_cl_tune_auto(be);
    ck_assert_str_eq(f->gemm_from, "tuned on first use");
    gc_cl_gemm_config in_use = gc_cl_gemm_get_config(be), loaded = gc_cl_tune_default(be);
    ck_assert_int_eq(gc_cl_tune_load(be, &loaded), 1);
    ck_assert(!memcmp(&in_use, &loaded, sizeof loaded));
    char lock[4200];
    snprintf(lock, sizeof lock, "%s.lock", path);
    ck_assert_int_eq(access(lock, F_OK), -1); /* released */

    /* A file there: read, not measured again (a choice no measurement
     * would make here: the 6x1 tile everywhere, chunks of 128). */
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("own tile=6x1 narrow=6x1 kc=128\n", fp);
    fclose(fp);
    f->gemm_from = "default";
    gc_cl_tune_auto(be);
    ck_assert_str_eq(f->gemm_from, "tuning file");
    in_use = gc_cl_gemm_get_config(be);
    ck_assert_str_eq(gc_cl_tiles[in_use.tile].kernel, "gemm_6x1");
    ck_assert_str_eq(gc_cl_tiles[in_use.narrow].kernel, "gemm_6x1");
    ck_assert_int_eq(in_use.kc, 128);

    /* A profile chosen by GANCL_GEMM (or a tuning file) is never replaced. */
    unlink(path);
    f->gemm_from = "GANCL_GEMM";
    gc_cl_tune_auto(be);
    ck_assert_int_eq(access(path, F_OK), -1);

    gc_cl_gemm_set_config(be, &start);
    use_family(be, family);
    f->gemm_from = gemm_from;
    f->family_from = family_from;
    if (saved_auto)
        setenv("GANCL_AUTOTUNE", saved_auto, 1);
    else
        unsetenv("GANCL_AUTOTUNE");
    free(saved_auto);
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/gancl", dir);
    rmdir(sub);
    rmdir(dir);
    if (saved)
        setenv("XDG_CACHE_HOME", saved, 1);
    else
        unsetenv("XDG_CACHE_HOME");
    free(saved);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gemm_tuned");
    TCase *tc = tcase_create("gemm_tuned");
    tcase_set_timeout(tc, 1200);
    tcase_add_loop_test(tc, each_tile_and_chunk, 0, gc_cl_tile_count);
    tcase_add_loop_test(tc, tile_pairs, 0, gc_cl_tile_count);
    tcase_add_loop_test(tc, each_wg_tile, 0, gc_cl_wg_tile_count + 1);
    tcase_add_test(tc, clblast_engine);
    tcase_add_loop_test(tc, conv_each_tile, 0, gc_cl_tile_count + 1 + gc_cl_wg_tile_count + 1);
    tcase_add_loop_test(tc, transpose, 0, 2);
    tcase_add_test(tc, config_grammar);
    tcase_add_test(tc, tune_file);
    tcase_add_test(tc, tune_on_first_use);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

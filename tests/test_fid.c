/* tests/test_fid.c - FID's maths and statistics.
 *
 *   closed form     Gaussians with commuting covariances (a common
 *                   eigenbasis): FID = |dmu|^2 + sum (sqrt(a_i) - sqrt(b_i))^2,
 *                   singular ones included
 *   scipy goldens   random SPD pairs, a rank-deficient pair and pytorch-fid's
 *                   1e-6 fallback, against pytorch-fid's formula with
 *                   scipy.linalg.sqrtm (tools/make_inception_goldens.py)
 *   rank-deficient  fewer samples than dimensions, against the exact value
 *                   from the small n x n problem
 *   identity        the same statistics twice give ~0
 *   statistics      the streaming accumulator against a two-pass mean and
 *                   covariance in double; save/load round trip; bad files
 *   pipeline        gc_fid_compute_stats over an image source and
 *                   gc_fid_monitor with its statistics cache (dims 64, whose
 *                   network is only the first stem stage)
 *   command line    `gancl fid` on statistics files (plain and --json), the
 *                   missing-weights message, `gancl fid-stats` on an IDX file
 */
#include <float.h>
#include <inttypes.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gancl/fid.h"
#include "gancl/io.h"
#include "golden.h"
#include "models/inception.h"
#include "test_fixtures.h"
#include "test_proc.h"
#include "test_support.h"

/* ---- helpers ---------------------------------------------------------------------- */

static double *dalloc(size_t n)
{
    double *p = calloc(n, sizeof(double));
    ck_assert_ptr_nonnull(p);
    return p;
}

/* A random orthogonal d x d matrix (Gram-Schmidt of Gaussian columns, twice
 * for numerical orthogonality), row-major. */
static double *random_orthogonal(int d)
{
    double *q = dalloc((size_t)d * d);
    for (int i = 0; i < d * d; i++)
        q[i] = gt_normal();
    for (int j = 0; j < d; j++)
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < j; k++) {
                double dot = 0;
                for (int i = 0; i < d; i++)
                    dot += q[i * d + j] * q[i * d + k];
                for (int i = 0; i < d; i++)
                    q[i * d + j] -= dot * q[i * d + k];
            }
            double nrm = 0;
            for (int i = 0; i < d; i++)
                nrm += q[i * d + j] * q[i * d + j];
            nrm = sqrt(nrm);
            for (int i = 0; i < d; i++)
                q[i * d + j] /= nrm;
        }
    return q;
}

/* Q diag(ev) Q^T */
static double *with_eigenvalues(const double *q, const double *ev, int d)
{
    double *s = dalloc((size_t)d * d);
    for (int i = 0; i < d; i++)
        for (int j = 0; j <= i; j++) {
            double v = 0;
            for (int k = 0; k < d; k++)
                v += q[i * d + k] * ev[k] * q[j * d + k];
            s[i * d + j] = s[j * d + i] = v;
        }
    return s;
}

/* The covariance (N - 1) of n samples of d correlated features. */
static double *sample_covariance(int n, int d, double *mu_out)
{
    double *x = dalloc((size_t)n * d), *mix = dalloc((size_t)d * d);
    for (int i = 0; i < d * d; i++)
        mix[i] = gt_normal() * (0.2 + gt_uniform());
    for (int s = 0; s < n; s++)
        for (int j = 0; j < d; j++) {
            double v = 0;
            for (int k = 0; k < d; k++)
                v += gt_normal() * mix[k * d + j];
            x[s * d + j] = v;
        }
    double *mu = mu_out ? mu_out : dalloc((size_t)d), *c = dalloc((size_t)d * d);
    for (int j = 0; j < d; j++) {
        mu[j] = 0;
        for (int s = 0; s < n; s++)
            mu[j] += x[s * d + j];
        mu[j] /= n;
    }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double v = 0;
            for (int s = 0; s < n; s++)
                v += (x[s * d + i] - mu[i]) * (x[s * d + j] - mu[j]);
            c[i * d + j] = v / (n - 1);
        }
    if (!mu_out) free(mu);
    free(x);
    free(mix);
    return c;
}

static double trace(const double *s, int d)
{
    double t = 0;
    for (int i = 0; i < d; i++)
        t += s[i * d + i];
    return t;
}

/* ---- closed forms ---------------------------------------------------------------- */

START_TEST(commuting_covariances)
{
    /* Odd sizes; the last case has zero eigenvalues in both (singular S1, S2). */
    const int sizes[3] = {1, 17, 61};
    for (int c = 0; c < 3; c++) {
        int d = sizes[c];
        double *q = random_orthogonal(d), *a = dalloc(d), *b = dalloc(d);
        double *mu1 = dalloc(d), *mu2 = dalloc(d), want = 0;
        for (int i = 0; i < d; i++) {
            a[i] = (c == 2 && i % 5 == 0) ? 0.0 : 0.01 + 4.0 * gt_uniform();
            b[i] = (c == 2 && i % 7 == 0) ? 0.0 : 0.01 + 4.0 * gt_uniform();
            mu1[i] = gt_normal();
            mu2[i] = gt_normal();
            double dm = mu1[i] - mu2[i], ds = sqrt(a[i]) - sqrt(b[i]);
            want += dm * dm + ds * ds;
        }
        double *s1 = with_eigenvalues(q, a, d), *s2 = with_eigenvalues(q, b, d), got;
        int fallback = -1;
        GT_OK(gc_fid_frechet(d, mu1, s1, mu2, s2, 0.0, &got, &fallback));
        ck_assert_int_eq(fallback, 0);
        /* Cancellation: FID is a difference of traces of size ~tr(S1 + S2);
         * zero eigenvalues, computed as +-eps |S|, add up to sqrt(eps |S1| |S2|)
         * each (see scipy_goldens). */
        double scale = trace(s1, d) + trace(s2, d);
        double tol = c == 2 ? d * sqrt(DBL_EPSILON * 16.0) : 1e-10 * scale;
        ck_assert_msg(fabs(got - want) <= tol,
                      "d=%d: FID %.15g, closed form %.15g (diff %.3g, scale %.3g)", d, got, want,
                      got - want, scale);
        free(q), free(a), free(b), free(mu1), free(mu2), free(s1), free(s2);
    }
}
END_TEST

START_TEST(identical_statistics)
{
    /* Full rank (200 samples of 40) and rank-deficient (30 samples of 40). */
    const int samples[2] = {200, 30};
    for (int c = 0; c < 2; c++) {
        int d = 40;
        double *mu = dalloc(d), *s = sample_covariance(samples[c], d, mu), got;
        GT_OK(gc_fid_frechet(d, mu, s, mu, s, 0.0, &got, NULL));
        double scale = 2 * trace(s, d);
        ck_assert_msg(fabs(got) <= 1e-10 * scale, "%d samples: FID(S, S) = %.3g (scale %.3g)",
                      samples[c], got, scale);
        gc_fid_stats st = {.dims = d, .count = samples[c], .mu = mu, .sigma = s};
        GT_OK(gc_fid(&st, &st, &got));
        ck_assert(fabs(got) <= 1e-10 * scale);
        free(mu), free(s);
    }
}
END_TEST

/* ---- scipy goldens ------------------------------------------------------------------ */

static const char *const fid_files[] = {"fid_spd_37.bin", "fid_spd_64.bin",
                                        "fid_rank_deficient.bin", "fid_offset.bin"};

/* Mean and covariance of a golden feature matrix through the accumulator. */
static void golden_stats(const gt_golden *g, const char *name, gc_fid_stats *out)
{
    const gt_golden_array *x = gt_golden_get(g, name);
    gc_fid_accum *a;
    GT_OK(gc_fid_accum_init((int)x->dims[1], &a));
    gc_fid_accum_add(a, x->data, (int)x->dims[0]);
    GT_OK(gc_fid_accum_stats(a, out));
    gc_fid_accum_free(a);
}

START_TEST(scipy_goldens)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/inception/%s", GANCL_TEST_DATA, fid_files[_i]);
    gt_golden *g = gt_golden_open(path);
    const gt_golden_array *fa = gt_golden_get(g, "fid");
    double want = (double)fa->data[0] + (double)fa->data[1];
    gc_fid_stats a, b;
    golden_stats(g, "x1", &a);
    golden_stats(g, "x2", &b);
    int d = a.dims, singular = a.count <= d;
    double got;
    if (gt_golden_scalar(g, "param.offset"))
        GT_OK(gc_fid_frechet(d, a.mu, a.sigma, b.mu, b.sigma, GC_FID_EPS, &got, NULL));
    else
        GT_OK(gc_fid(&a, &b, &got));
    /* Full rank: both sides are accurate to ~1e-12 of the traces.  With
     * fewer samples than dimensions the covariances' zero eigenvalues come
     * out as +-eps |S| from rounding, and scipy's sqrtm adds up to
     * sqrt(eps |S1| |S2|) for each of them (gancl cuts them off: see
     * rank_deficient_exact); the fallback's 1e-6 I makes the product
     * ill-conditioned for scipy alike. */
    double scale = trace(a.sigma, d) + trace(b.sigma, d);
    double tol =
        singular ? d * sqrt(DBL_EPSILON * trace(a.sigma, d) * trace(b.sigma, d)) : 1e-10 * scale;
    if (getenv("GANCL_GOLDEN_VERBOSE"))
        printf("%s: FID %.15g, pytorch-fid %.15g, diff %.3g (tol %.3g)\n", fid_files[_i], got, want,
               got - want, tol);
    ck_assert_msg(fabs(got - want) <= tol, "%s: FID %.15g, pytorch-fid %.15g (diff %.3g > %.3g)",
                  fid_files[_i], got, want, got - want, tol);
    gc_fid_stats_free(&a);
    gc_fid_stats_free(&b);
    gt_golden_free(g);
}
END_TEST

/* Fewer samples than dimensions: S1 = X^T X / (n - 1) for the centred
 * samples X (n x d), so the non-zero eigenvalues of S1 S2 are those of the
 * small X S2 X^T / (n - 1), computable to full precision.  scipy's sqrtm of
 * the singular d x d product is off by ~1e-4 relative here (rounding noise
 * in the null space turned into square roots); gancl must not be. */
START_TEST(rank_deficient_exact)
{
    const int n = 19, d = 57;
    float *x1 = gt_rand_array((int64_t)n * d, 0.0f, 2.0f),
          *x2 = gt_rand_array(3 * n * d, 0.0f, 1.0f);
    gc_fid_stats a, b;
    gc_fid_accum *acc;
    GT_OK(gc_fid_accum_init(d, &acc));
    gc_fid_accum_add(acc, x1, n);
    GT_OK(gc_fid_accum_stats(acc, &a));
    gc_fid_accum_free(acc);
    GT_OK(gc_fid_accum_init(d, &acc));
    gc_fid_accum_add(acc, x2, 3 * n);
    GT_OK(gc_fid_accum_stats(acc, &b));
    gc_fid_accum_free(acc);
    double got;
    GT_OK(gc_fid(&a, &b, &got));
    /* M = X S2 X^T / (n - 1), column-major = row-major (symmetric). */
    double *xc = dalloc((size_t)n * d), *m = dalloc((size_t)n * n), *w = dalloc(n);
    for (int s = 0; s < n; s++)
        for (int j = 0; j < d; j++)
            xc[s * d + j] = (double)x1[s * d + j] - a.mu[j];
    for (int p = 0; p < n; p++)
        for (int q = 0; q < n; q++) {
            double v = 0;
            for (int i = 0; i < d; i++)
                for (int j = 0; j < d; j++)
                    v += xc[p * d + i] * b.sigma[i * d + j] * xc[q * d + j];
            m[p * n + q] = v / (n - 1);
        }
    ck_assert_int_eq(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', n, m, n, w), 0);
    double want = trace(a.sigma, d) + trace(b.sigma, d), trs = 0;
    for (int j = 0; j < d; j++)
        want += (a.mu[j] - b.mu[j]) * (a.mu[j] - b.mu[j]);
    /* X has rank n - 1 (centred rows): w[0] is rounding noise around 0. */
    for (int p = 1; p < n; p++)
        trs += w[p] > 0 ? sqrt(w[p]) : 0;
    want -= 2 * trs;
    double scale = trace(a.sigma, d) + trace(b.sigma, d);
    if (getenv("GANCL_GOLDEN_VERBOSE"))
        printf("rank-deficient: FID %.15g, exact %.15g, diff %.3g (tol %.3g)\n", got, want,
               got - want, 1e-12 * scale);
    ck_assert_msg(fabs(got - want) <= 1e-12 * scale, "FID %.15g, exact %.15g (diff %.3g)", got,
                  want, got - want);
    free(xc), free(m), free(w), free(x1), free(x2);
    gc_fid_stats_free(&a);
    gc_fid_stats_free(&b);
}
END_TEST

/* Non-finite input: the fallback is tried, then a clean error. */
START_TEST(non_finite)
{
    int d = 5;
    double *mu = dalloc(d), *s = sample_covariance(20, d, mu), got = 123;
    s[7] = NAN;
    int fallback = 0;
    gc_status st = gc_fid_frechet(d, mu, s, mu, s, 0.0, &got, &fallback);
    ck_assert_int_eq(st, GC_ERR_ARG);
    ck_assert_int_eq(fallback, 1);
    ck_assert_double_eq(got, 123);
    ck_assert_msg(strstr(gc_last_error(), "not finite"), "%s", gc_last_error());
    free(mu), free(s);
}
END_TEST

/* ---- statistics -------------------------------------------------------------------- */

START_TEST(accumulator)
{
    /* d >= 256 takes the threaded path; a large common mean tests the shift. */
    const int dims[2] = {37, 301}, counts[2] = {157, 203};
    for (int c = 0; c < 2; c++) {
        int d = dims[c], n = counts[c];
        float *f = gt_rand_array((int64_t)n * d, -1.0f, 1.0f);
        for (int64_t i = 0; i < (int64_t)n * d; i++)
            f[i] = f[i] * (1 + i % 3) + 1000.0f;
        gc_fid_accum *a;
        GT_OK(gc_fid_accum_init(d, &a));
        for (int done = 0, step = 1; done < n; step = step * 3 % 97 + 1) {
            int k = n - done < step ? n - done : step;
            gc_fid_accum_add(a, f + (int64_t)done * d, k);
            done += k;
        }
        ck_assert_int_eq(gc_fid_accum_count(a), n);
        gc_fid_stats st;
        GT_OK(gc_fid_accum_stats(a, &st));
        ck_assert_int_eq(st.dims, d);
        ck_assert_int_eq(st.count, n);
        double *mu = dalloc(d);
        for (int j = 0; j < d; j++) {
            for (int s = 0; s < n; s++)
                mu[j] += f[(int64_t)s * d + j];
            mu[j] /= n;
            ck_assert_msg(fabs(st.mu[j] - mu[j]) <= 1e-12 * fabs(mu[j]), "mu[%d] %.17g vs %.17g", j,
                          st.mu[j], mu[j]);
        }
        double worst = 0, norm = 0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) {
                double v = 0;
                for (int s = 0; s < n; s++)
                    v += (f[(int64_t)s * d + i] - mu[i]) * (f[(int64_t)s * d + j] - mu[j]);
                v /= n - 1;
                ck_assert(st.sigma[i * d + j] == st.sigma[j * d + i]);
                double e = fabs(st.sigma[i * d + j] - v);
                if (e > worst) worst = e;
                norm = fmax(norm, fabs(v));
            }
        ck_assert_msg(worst <= 1e-11 * norm, "d=%d: covariance off by %.3g (max %.3g)", d, worst,
                      norm);
        gc_fid_stats_free(&st);
        gc_fid_accum_free(a);
        free(mu);
        free(f);
    }
    /* One sample is not enough. */
    gc_fid_accum *a;
    GT_OK(gc_fid_accum_init(3, &a));
    float one[3] = {1, 2, 3};
    gc_fid_accum_add(a, one, 1);
    gc_fid_stats st;
    ck_assert_int_eq(gc_fid_accum_stats(a, &st), GC_ERR_ARG);
    gc_fid_accum_free(a);
}
END_TEST

static void tmp_path(char *buf, size_t n, const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, n, "%s/gancl-test-fid-%ld-%s", tmp && *tmp ? tmp : "/tmp", (long)getpid(), name);
}

START_TEST(stats_files)
{
    int d = 23;
    gc_fid_stats st = {.dims = d, .count = 99, .mu = dalloc(d)};
    st.sigma = sample_covariance(50, d, st.mu);
    char path[1024];
    tmp_path(path, sizeof path, "stats.safetensors");
    GT_OK(gc_fid_stats_save(path, &st, "fashion-mnist test"));
    gc_fid_stats back;
    char *source;
    GT_OK(gc_fid_stats_load(path, &back, &source));
    ck_assert_int_eq(back.dims, d);
    ck_assert_int_eq(back.count, 99);
    ck_assert_str_eq(source, "fashion-mnist test");
    ck_assert(!memcmp(back.mu, st.mu, sizeof(double) * d));
    ck_assert(!memcmp(back.sigma, st.sigma, sizeof(double) * d * d));
    free(source);
    gc_fid_stats_free(&back);

    /* Bad files: one line naming the problem, nothing allocated. */
    gc_st_tensor t[2] = {
        {.name = "mu", .dtype = GC_ST_F64, .ndim = 1, .shape = {d}, .data = st.mu},
        {.name = "sigma", .dtype = GC_ST_F64, .ndim = 2, .shape = {d, d - 1}, .data = st.sigma},
    };
    const struct {
        int count;
        const char *fragment;
    } bad[3] = {{1, "no tensor 'sigma'"}, {2, "square matrix"}, {2, "not symmetric"}};
    for (int k = 0; k < 3; k++) {
        if (k == 2) {
            t[1].shape[1] = d;
            st.sigma[1] += 1e-9;
        }
        GT_OK(gc_st_write(path, t, bad[k].count, NULL, 0));
        gc_status s = gc_fid_stats_load(path, &back, NULL);
        ck_assert_int_eq(s, GC_ERR_FORMAT);
        ck_assert_ptr_null(back.mu);
        ck_assert_msg(strstr(gc_last_error(), bad[k].fragment) && !strchr(gc_last_error(), '\n'),
                      "%s", gc_last_error());
    }
    unlink(path);
    gc_fid_stats_free(&st);
}
END_TEST

/* ---- the pipeline at dims 64 --------------------------------------------------------- */

typedef struct source_ctx {
    const float *images;
    int64_t reads;
} source_ctx;

static gc_status read_images(void *ctx, int64_t first, int n, float *out)
{
    source_ctx *c = ctx;
    c->reads++;
    memcpy(out, c->images + first * 3 * 11 * 13, sizeof(float) * (size_t)n * 3 * 11 * 13);
    return GC_OK;
}

START_TEST(pipeline)
{
    gc_backend *be = gt_cl() ? gt_cl() : gt_cpu();
    const int n = 7, per = 3 * 11 * 13;
    float *real = gt_rand_array((int64_t)n * per, 0.0f, 1.0f);
    float *fake = gt_rand_array((int64_t)n * per, 0.0f, 0.6f);
    source_ctx rc = {real, 0}, fc = {fake, 0};
    gc_image_source rs = {n, 3, 11, 13, read_images, &rc}, fs = {n, 3, 11, 13, read_images, &fc};

    /* gc_fid_compute_stats in batches of 3 = the features of each image. */
    gc_inception *net;
    GT_OK(gc_inception_random(be, 9, 64, 3, &net));
    gc_fid_stats a;
    GT_OK(gc_fid_compute_stats(net, &rs, 0, NULL, NULL, &a));
    ck_assert_int_eq(rc.reads, 3);
    ck_assert_int_eq(a.count, n);
    gc_fid_accum *acc;
    GT_OK(gc_fid_accum_init(64, &acc));
    for (int i = 0; i < n; i++) {
        float f[64];
        GT_OK(gc_inception_features(net, real + (int64_t)i * per, 1, 3, 11, 13, f));
        gc_fid_accum_add(acc, f, 1);
    }
    gc_fid_stats b;
    GT_OK(gc_fid_accum_stats(acc, &b));
    for (int i = 0; i < 64; i++)
        ck_assert(fabs(a.mu[i] - b.mu[i]) <= 1e-6 * fabs(b.mu[i]) + 1e-9);
    gc_fid_accum_free(acc);
    gc_fid_stats_free(&b);
    /* A limit takes the first images only. */
    GT_OK(gc_fid_compute_stats(net, &rs, 4, NULL, NULL, &b));
    ck_assert_int_eq(b.count, 4);
    gc_fid_stats_free(&b);
    gc_inception_free(net);

    /* The monitor: real statistics computed once, then read from the cache. */
    char wpath[1024], cache[1024];
    tmp_path(wpath, sizeof wpath, "stem.safetensors");
    tmp_path(cache, sizeof cache, "real-stats.safetensors");
    unlink(cache);
    gt_write_stem_weights(wpath, 9);
    gc_fid_monitor *m;
    rc.reads = 0;
    GT_OK(gc_fid_monitor_init(be, wpath, &rs, cache, "seven random images", 64, 3, &m));
    ck_assert_int_gt(rc.reads, 0);
    ck_assert(fabs(gc_fid_monitor_real_stats(m)->mu[5] - a.mu[5]) <= 1e-6 * fabs(a.mu[5]));
    double fid1, fid2, same;
    GT_OK(gc_fid_monitor_eval(m, &fs, n, &fid1));
    GT_OK(gc_fid_monitor_eval(m, &rs, n, &same));
    gc_fid_monitor_free(m);
    ck_assert_msg(fid1 > 1e-3, "FID of different images %g", fid1);
    ck_assert_msg(fabs(same) <= 1e-6 * fid1, "FID of the real set against itself %g", same);

    rc.reads = 0;
    GT_OK(gc_fid_monitor_init(be, wpath, &rs, cache, "seven random images", 64, 3, &m));
    ck_assert_int_eq(rc.reads, 0); /* from the cache */
    GT_OK(gc_fid_monitor_eval(m, &fs, n, &fid2));
    gc_fid_monitor_free(m);
    ck_assert_double_eq_tol(fid1, fid2, 1e-9 * fid1);

    /* Another source string: recomputed. */
    GT_OK(gc_fid_monitor_init(be, wpath, &rs, cache, "other images", 64, 3, &m));
    ck_assert_int_gt(rc.reads, 0);
    gc_fid_monitor_free(m);

    /* No weights: a clean error the trainer turns into a notice. */
    unlink(wpath);
    m = (gc_fid_monitor *)1;
    ck_assert_int_eq(gc_fid_monitor_init(be, wpath, &rs, cache, "x", 64, 3, &m), GC_ERR_IO);
    ck_assert_ptr_null(m);
    unlink(cache);
    gc_fid_stats_free(&a);
    free(real);
    free(fake);
}
END_TEST

/* ---- the command line -------------------------------------------------------------------- */

/* Runs the gancl binary with args through sh; stdout into out, the exit code. */
static int run_gancl(const char *args, char *out, size_t n)
{
    char cmd[4096];
    if (snprintf(cmd, sizeof cmd, "%s %s", GANCL_BINARY, args) >= (int)sizeof cmd) return -1;
    return gt_sh(cmd, out, n);
}

START_TEST(command_line)
{
    char a[1024], b[1024], idx[1024], w[1024], out_st[1024], args[8192], out[4096];
    tmp_path(a, sizeof a, "cli-a.safetensors");
    tmp_path(b, sizeof b, "cli-b.safetensors");
    tmp_path(idx, sizeof idx, "cli.idx");
    tmp_path(w, sizeof w, "cli-w.safetensors");
    tmp_path(out_st, sizeof out_st, "cli-out.safetensors");
    int d = 64;
    gc_fid_stats sa = {.dims = d, .count = 100, .mu = dalloc(d)}, sb = sa;
    sb.mu = dalloc(d);
    sb.count = 90;
    sa.sigma = sample_covariance(100, d, sa.mu);
    sb.sigma = sample_covariance(90, d, sb.mu);
    GT_OK(gc_fid_stats_save(a, &sa, "a"));
    GT_OK(gc_fid_stats_save(b, &sb, "b"));
    double want;
    GT_OK(gc_fid(&sa, &sb, &want));

    /* Two statistics files: no network, no weights. */
    snprintf(args, sizeof args, "--device cpu fid %s %s", a, b);
    ck_assert_int_eq(run_gancl(args, out, sizeof out), 0);
    double got = NAN;
    ck_assert_msg(sscanf(out, "FID: %lf", &got) == 1, "output: %s", out);
    ck_assert_msg(fabs(got - want) <= 0.00005 + 1e-12 * want, "printed %s, FID %.6f", out, want);
    snprintf(args, sizeof args, "--device cpu fid %s %s --json", a, b);
    ck_assert_int_eq(run_gancl(args, out, sizeof out), 0);
    ck_assert_msg(sscanf(out, "{\"fid\": %lf", &got) == 1 && fabs(got - want) <= 1e-6 * want,
                  "json: %s", out);
    ck_assert_msg(strstr(out, "\"kind\": \"stats\"") && strstr(out, "\"count\": 90"), "%s", out);

    /* Images but no weights: one line saying how to get them, exit 2. */
    uint8_t pix[3 * 28 * 28];
    for (int i = 0; i < 3 * 28 * 28; i++)
        pix[i] = (uint8_t)(i * 7);
    gc_idx img = {.kind = GC_IDX_IMAGES, .data = pix, .n = 3, .h = 28, .w = 28};
    GT_OK(gc_idx_write(idx, &img, 0));
    snprintf(args, sizeof args,
             "--device cpu fid %s %s --dims 64 --weights %s.absent 2>&1 >/dev/null", idx, a, w);
    ck_assert_int_eq(run_gancl(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "convert_fid_weights") && strchr(out, '\n') == out + strlen(out) - 1,
                  "not one line: %s", out);

    /* fid-stats on three images (dims 64: the first stem stage only). */
    gt_write_stem_weights(w, 2);
    snprintf(args, sizeof args,
             "--device cpu fid-stats %s --out %s --dims 64 --weights %s 2>/dev/null", idx, out_st,
             w);
    ck_assert_int_eq(run_gancl(args, out, sizeof out), 0);
    gc_fid_stats back;
    char *source;
    GT_OK(gc_fid_stats_load(out_st, &back, &source));
    ck_assert_int_eq(back.dims, 64);
    ck_assert_int_eq(back.count, 3);
    ck_assert_msg(strstr(source, idx) != NULL, "source %s", source);
    free(source);
    gc_fid_stats_free(&back);
    /* Statistics of 64 dims against --dims 2048: refused. */
    snprintf(args, sizeof args, "--device cpu fid %s %s --dims 2048 2>&1", out_st, a);
    ck_assert_int_eq(run_gancl(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "64 dims"), "%s", out);

    unlink(a), unlink(b), unlink(idx), unlink(w), unlink(out_st);
    gc_fid_stats_free(&sa);
    gc_fid_stats_free(&sb);
}
END_TEST

static Suite *fid_suite(void)
{
    Suite *s = suite_create("fid");
    TCase *tc = tcase_create("fid");
    tcase_set_timeout(tc, 0);
    tcase_add_test(tc, commuting_covariances);
    tcase_add_test(tc, identical_statistics);
    tcase_add_loop_test(tc, scipy_goldens, 0, (int)(sizeof fid_files / sizeof fid_files[0]));
    tcase_add_test(tc, rank_deficient_exact);
    tcase_add_test(tc, non_finite);
    tcase_add_test(tc, accumulator);
    tcase_add_test(tc, stats_files);
    tcase_add_test(tc, pipeline);
    tcase_add_test(tc, command_line);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(fid_suite());
}

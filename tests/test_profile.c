/* tests/test_profile.c - OpenCL event profiling (gancl/profile.h): it
 * counts every launch under its kernel's name, CLBlast calls included, a
 * reset forgets, the results of profiled ops equal unprofiled ones bit for
 * bit, and the CPU reference backend refuses with a message. */
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_forms.h"
#include "backend/opencl/cl_tune.h"
#include "gancl/profile.h"
#include "test_support.h"

static gc_backend *cl_or_skip(void)
{
    gc_backend *be = gt_cl();
    if (!be) gt_skip_no_opencl("test_profile");
    return be;
}

static const gc_profile_entry *find(const gc_profile_entry *e, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(e[i].name, name)) return &e[i];
    return NULL;
}

/* The calls of every entry whose name starts with prefix. */
static long count_prefix(const gc_profile_entry *e, int n, const char *prefix)
{
    long calls = 0;
    for (int i = 0; i < n; i++)
        if (!strncmp(e[i].name, prefix, strlen(prefix))) calls += e[i].calls;
    return calls;
}

/* A convolution forward and backward at odd sizes into fresh outputs. */
typedef struct conv_run {
    gc_tensor y, dx, dw, db;
} conv_run;

static conv_run run_conv(gc_backend *be, const float *hx, const float *hw, const float *hb,
                         const float *hdy, int64_t n, int64_t c, int64_t h, int64_t oc)
{
    gc_conv_params p = {2, 2, 1, 1, 0, 0};
    int64_t oh = gc_conv_out_size(h, 3, 2, 1);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, c, h, h), hx),
              w = gt_tensor(be, GT_DIMS(oc, c, 3, 3), hw);
    gc_tensor b = gt_tensor(be, GT_DIMS(oc), hb), dy = gt_tensor(be, GT_DIMS(n, oc, oh, oh), hdy);
    conv_run r = {gt_tensor(be, GT_DIMS(n, oc, oh, oh), NULL),
                  gt_tensor(be, GT_DIMS(n, c, h, h), NULL),
                  gt_tensor(be, GT_DIMS(oc, c, 3, 3), NULL), gt_tensor(be, GT_DIMS(oc), NULL)};
    GT_OK(gc_fill(&r.dw, 0.0f));
    GT_OK(gc_fill(&r.db, 0.0f));
    GT_OK(gc_conv2d_forward(&r.y, &x, &w, &b, &p));
    GT_OK(gc_conv2d_backward(&r.dx, &r.dw, &r.db, &dy, &x, &w, &p));
    gt_free(&x);
    gt_free(&w);
    gt_free(&b);
    gt_free(&dy);
    return r;
}

static void free_run(conv_run *r)
{
    gt_free(&r->y);
    gt_free(&r->dx);
    gt_free(&r->dw);
    gt_free(&r->db);
}

START_TEST(profiled_equals_unprofiled)
{
    gc_backend *be = cl_or_skip();
    int64_t n = gt_randint(2, 5), c = gt_randint(2, 19), h = gt_randint(5, 13),
            oc = gt_randint(2, 37), oh = gc_conv_out_size(h, 3, 2, 1);
    float *hx = gt_rand_array(n * c * h * h, -1, 1), *hw = gt_rand_array(oc * c * 9, -1, 1),
          *hb = gt_rand_array(oc, -1, 1), *hdy = gt_rand_array(n * oc * oh * oh, -1, 1);
    conv_run plain = run_conv(be, hx, hw, hb, hdy, n, c, h, oc);
    GT_OK(gc_profile_begin(be));
    conv_run prof = run_conv(be, hx, hw, hb, hdy, n, c, h, oc);
    gt_assert_tensors_close(&prof.y, &plain.y, 0.0, "y");
    gt_assert_tensors_close(&prof.dx, &plain.dx, 0.0, "dx");
    gt_assert_tensors_close(&prof.dw, &plain.dw, 0.0, "dw");
    gt_assert_tensors_close(&prof.db, &plain.db, 0.0, "db");

    gc_profile_entry *e;
    int cnt;
    GT_OK(gc_profile_read(be, &e, &cnt));
    ck_assert_int_gt(cnt, 2);
    /* The two gc_fill calls are the only fills; the convolution's im2row
     * (CPU kernels) runs in the forward and backward pass, or its implicit
     * GEMMs (GPU kernels: forward, weight and data gradient), each entry
     * named by its shape. */
    const gc_profile_entry *fill = find(e, cnt, "ew_fill");
    ck_assert_ptr_nonnull(fill);
    ck_assert_int_eq(fill->calls, 2);
    int cpu = gc_cl_cpu_forms(be);
    long conv_calls = count_prefix(e, cnt, cpu ? "conv_im2row" : "tiled_");
    ck_assert_int_ge(conv_calls, cpu ? 2 : 3);
    for (int i = 0; i < cnt; i++) {
        ck_assert_int_gt(e[i].calls, 0);
        ck_assert(e[i].seconds >= 0.0 && e[i].seconds < 60.0);
        if (i) ck_assert(e[i - 1].seconds >= e[i].seconds); /* most expensive first */
    }
    free(e);

    /* A reset forgets; what follows is counted alone. */
    GT_OK(gc_profile_reset(be));
    GT_OK(gc_profile_read(be, &e, &cnt));
    ck_assert_int_eq(cnt, 0);
    free(e);
    GT_OK(gc_fill(&prof.y, 1.0f));
    GT_OK(gc_profile_read(be, &e, &cnt));
    ck_assert_int_eq(cnt, 1);
    ck_assert_str_eq(e[0].name, "ew_fill");
    ck_assert_int_eq(e[0].calls, 1);
    free(e);

    gc_profile_end(be);
    ck_assert_int_eq(gc_profile_read(be, &e, &cnt), GC_ERR_ARG);
    ck_assert_ptr_null(e);
    /* The backend still works after profiling. */
    conv_run after = run_conv(be, hx, hw, hb, hdy, n, c, h, oc);
    gt_assert_tensors_close(&after.dw, &plain.dw, 0.0, "dw after profiling");
    free_run(&plain);
    free_run(&prof);
    free_run(&after);
    free(hx);
    free(hw);
    free(hb);
    free(hdy);
}
END_TEST

/* CLBlast is timed through the event pointer it takes. */
START_TEST(clblast_calls_counted)
{
    gc_backend *be = cl_or_skip();
    gc_cl_gemm_config saved = gc_cl_gemm_get_config(be), cfg = {.engine = GC_CL_GEMM_CLBLAST};
    gc_cl_gemm_set_config(be, &cfg);
    int64_t m = gt_randint(3, 40), nn = gt_randint(3, 40), k = gt_randint(3, 40);
    float *ha = gt_rand_array(m * k, -1, 1), *hb = gt_rand_array(k * nn, -1, 1);
    gc_tensor a = gt_tensor(be, GT_DIMS(m * k), ha), b = gt_tensor(be, GT_DIMS(k * nn), hb);
    gc_tensor c = gt_tensor(be, GT_DIMS(m * nn), NULL);
    gc_gemm_args g = {
        .m = m, .n = nn, .k = k, .alpha = 1, .beta = 0, .lda = k, .ldb = nn, .ldc = nn};
    GT_OK(gc_profile_begin(be));
    for (int i = 0; i < 3; i++)
        GT_OK(gc_gemm(&c, &a, &b, &g));
    gc_profile_entry *e;
    int cnt;
    GT_OK(gc_profile_read(be, &e, &cnt));
    const gc_profile_entry *sg = find(e, cnt, "CLBlastSgemm");
    ck_assert_ptr_nonnull(sg);
    ck_assert_int_eq(sg->calls, 3);
    free(e);
    gc_profile_end(be);
    gc_cl_gemm_set_config(be, &saved);
    gt_free(&a);
    gt_free(&b);
    gt_free(&c);
    free(ha);
    free(hb);
}
END_TEST

START_TEST(reference_refuses)
{
    ck_assert_int_eq(gc_profile_begin(gt_cpu()), GC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "OpenCL device"));
    gc_profile_end(gt_cpu()); /* harmless */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("profile");
    TCase *tc = tcase_create("profile");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, reference_refuses);
    tcase_add_test(tc, profiled_equals_unprofiled);
    tcase_add_test(tc, clblast_calls_counted);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

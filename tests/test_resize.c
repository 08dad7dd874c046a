/* tests/test_resize.c - the host image resize and centre crop
 * (gancl/image.h) against torchvision's answers (goldens written by
 * tools/make_resize_goldens.py) and against a brute-force version of the
 * same rule at random sizes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/image.h"
#include "golden.h"
#include "test_support.h"

/* The goldens' input image; the same formula as pixel() in the script. */
static int pixel(int x, int y, int k)
{
    return (x * x * 7 + y * y * 3 + x * y * 5 + k * 67 + ((x ^ y) & 15) * 11) % 256;
}

static uint8_t *formula_image(int w, int h, int c)
{
    uint8_t *a = malloc((size_t)w * h * c);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int k = 0; k < c; k++)
                a[((size_t)y * w + x) * c + k] = (uint8_t)pixel(x, y, k);
    return a;
}

/* torch.round: halves to even. */
static int round_even(float v)
{
    return (int)nearbyintf(v);
}

static const char *const golden_cases[] = {
    "image_resize_37x53_to_16",   "image_resize_37x60_to_16", "image_resize_128x128_to_64",
    "image_resize_300x200_to_32", "image_resize_5x7_to_12",
};

/* gancl's bytes against torchvision's (want), given the exact sums (ref):
 * equal, or 1 apart where the exact sum is a half (to within float32
 * error), the one place where rounding half up and half to even part. */
static void check_u8_close(const uint8_t *got, const float *want, const float *ref, size_t n,
                           const char *what)
{
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)got[i] - (int)want[i]);
        double frac = ref[i] - floor(ref[i]);
        ck_assert_msg(d == 0 || (d == 1 && fabs(frac - 0.5) < 1e-3),
                      "%s: byte %zu is %d, torchvision has %g (exact %.6f)", what, i, got[i],
                      (double)want[i], (double)ref[i]);
    }
}

START_TEST(against_torchvision)
{
    for (size_t ci = 0; ci < sizeof golden_cases / sizeof golden_cases[0]; ci++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/goldens/%s.bin", GANCL_TEST_DATA, golden_cases[ci]);
        gt_golden *g = gt_golden_open(path);
        int w = gt_golden_int(g, "param.w"), h = gt_golden_int(g, "param.h");
        int c = gt_golden_int(g, "param.c"), size = gt_golden_int(g, "param.size");
        const gt_golden_array *want = gt_golden_get(g, "resized");
        int rw, rh;
        gc_resize_shorter_dims(w, h, size, &rw, &rh);
        ck_assert_msg(want->ndim == 3 && want->dims[0] == rh && want->dims[1] == rw &&
                          want->dims[2] == c,
                      "%s: gancl resizes to %dx%d", golden_cases[ci], rw, rh);
        uint8_t *img = formula_image(w, h, c);
        size_t n = (size_t)w * h * c, rn = (size_t)rw * rh * c;

        /* float: the exact weighted sums.  The golden is float64 rounded
         * once to float32 and gancl sums in double, so only float32's
         * last bit may differ (values up to 255: 1.6e-5 absolute). */
        float *f = malloc(n * sizeof *f), *out = malloc(rn * sizeof *out);
        for (size_t i = 0; i < n; i++)
            f[i] = img[i];
        for (size_t i = 0; i < rn; i++)
            out[i] = NAN;
        GT_OK(gc_resize_f32(f, w, h, c, out, rw, rh));
        for (size_t i = 0; i < rn; i++)
            ck_assert_msg(fabsf(out[i] - want->data[i]) <= 3e-5f,
                          "%s: value %zu is %.7g, want %.7g", golden_cases[ci], i, (double)out[i],
                          (double)want->data[i]);
        gt_assert_close(out, want->data, (int64_t)rn, 1e-7, golden_cases[ci]);

        /* uint8: rounded once.  torchvision rounds its float32 sums half to
         * even, gancl its double sums half up: they can differ only where a
         * sum is a half or within float32 error of one, and then by 1 (the
         * weights are non-negative and sum to 1, so neither sum is off by
         * more than ~1e-4 here).  Halves are common: factor-2 averages and
         * quarter-pixel enlargements of integers. */
        uint8_t *o8 = malloc(rn);
        memset(o8, 0xAB, rn);
        GT_OK(gc_resize_u8(img, w, h, c, o8, rw, rh));
        float *rounded = malloc(rn * sizeof *rounded);
        for (size_t i = 0; i < rn; i++)
            rounded[i] = (float)round_even(want->data[i]);
        check_u8_close(o8, rounded, want->data, rn, golden_cases[ci]);

        /* the crop, and the whole Resize + CenterCrop pipeline */
        int x0, y0;
        gc_center_crop_offsets(rw, rh, size, size, &x0, &y0);
        ck_assert_int_eq(x0, gt_golden_int(g, "param.crop_x0"));
        ck_assert_int_eq(y0, gt_golden_int(g, "param.crop_y0"));
        gc_image in = {img, w, h, c}, cropped;
        GT_OK(gc_image_resize_crop(&in, size, &cropped));
        ck_assert(cropped.w == size && cropped.h == size && cropped.c == c);
        size_t cn = (size_t)size * size * c;
        float *expect = malloc(cn * sizeof *expect), *exact = malloc(cn * sizeof *exact);
        const gt_golden_array *u8 = gt_golden_find(g, "u8");
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                for (int k = 0; k < c; k++) {
                    size_t i = ((size_t)y * size + x) * c + k;
                    size_t at = ((size_t)(y + y0) * rw + (x + x0)) * c + k;
                    expect[i] = u8 ? u8->data[i] : rounded[at];
                    exact[i] = want->data[at];
                }
        check_u8_close(cropped.data, expect, exact, cn, golden_cases[ci]);
        gc_image_free(&cropped);
        free(expect);
        free(exact);
        free(rounded);
        free(o8);
        free(out);
        free(f);
        free(img);
        gt_golden_free(g);
    }
}
END_TEST

/* The rule of gancl/image.h written the slow way: every input pixel,
 * weighted by the stretched triangle, normalised per axis. */
static void brute_weights(int in, int out, double *wt /* out x in */)
{
    double scale = (double)in / out, inv = scale >= 1.0 ? 1.0 / scale : 1.0;
    for (int i = 0; i < out; i++) {
        double centre = scale * (i + 0.5), total = 0.0;
        for (int j = 0; j < in; j++) {
            double d = fabs((j + 0.5 - centre) * inv);
            wt[(size_t)i * in + j] = d < 1.0 ? 1.0 - d : 0.0;
            total += wt[(size_t)i * in + j];
        }
        for (int j = 0; j < in; j++)
            wt[(size_t)i * in + j] /= total;
    }
}

START_TEST(against_brute_force)
{
    for (int rep = 0; rep < 12; rep++) {
        int w = gt_randint(1, 41), h = gt_randint(1, 37), c = gt_randint(1, 4);
        int ow = gt_randint(1, 45), oh = gt_randint(1, 40);
        size_t n = (size_t)w * h * c, on = (size_t)ow * oh * c;
        float *src = gt_rand_array((int64_t)n, -3.0f, 5.0f);
        double *wx = malloc(sizeof *wx * (size_t)ow * w), *wy = malloc(sizeof *wy * (size_t)oh * h);
        brute_weights(w, ow, wx);
        brute_weights(h, oh, wy);
        float *want = malloc(on * sizeof *want), *got = malloc(on * sizeof *got);
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int k = 0; k < c; k++) {
                    double s = 0.0;
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                            s += wy[(size_t)oy * h + y] * wx[(size_t)ox * w + x] *
                                 src[((size_t)y * w + x) * c + k];
                    want[((size_t)oy * ow + ox) * c + k] = (float)s;
                }
        for (size_t i = 0; i < on; i++)
            got[i] = NAN;
        GT_OK(gc_resize_f32(src, w, h, c, got, ow, oh));
        char what[96];
        snprintf(what, sizeof what, "%dx%dx%d -> %dx%d", w, h, c, ow, oh);
        /* both sum in double; float32 output rounding dominates */
        gt_assert_close(got, want, (int64_t)on, 1e-6, what);
        free(src);
        free(wx);
        free(wy);
        free(want);
        free(got);
    }
}
END_TEST

START_TEST(same_size_and_constant)
{
    int w = gt_randint(1, 33), h = gt_randint(1, 29), c = gt_randint(1, 4);
    size_t n = (size_t)w * h * c;
    uint8_t *src = malloc(n), *dst = malloc(n);
    for (size_t i = 0; i < n; i++)
        src[i] = (uint8_t)gt_randint(0, 255);
    GT_OK(gc_resize_u8(src, w, h, c, dst, w, h));
    ck_assert_msg(memcmp(src, dst, n) == 0, "a same-size resize changed pixels");
    /* A flat image stays flat at any size: weights sum to one, also where
     * the image edge cuts the window. */
    memset(src, 200, n);
    int ow = gt_randint(1, 70), oh = gt_randint(1, 70);
    uint8_t *big = malloc((size_t)ow * oh * c);
    GT_OK(gc_resize_u8(src, w, h, c, big, ow, oh));
    for (size_t i = 0; i < (size_t)ow * oh * c; i++)
        ck_assert_msg(big[i] == 200, "%dx%d -> %dx%d: byte %zu is %d", w, h, ow, oh, i, big[i]);
    free(big);
    free(src);
    free(dst);
}
END_TEST

START_TEST(dims_and_offsets_by_hand)
{
    int ow, oh, x0, y0;
    gc_resize_shorter_dims(300, 200, 32, &ow, &oh);
    ck_assert(ow == 48 && oh == 32);
    gc_resize_shorter_dims(37, 53, 16, &ow, &oh); /* 16 * 53 / 37 = 22.9 */
    ck_assert(ow == 16 && oh == 22);
    gc_resize_shorter_dims(64, 64, 32, &ow, &oh);
    ck_assert(ow == 32 && oh == 32);
    gc_resize_shorter_dims(3, 1000, 64, &ow, &oh); /* 21333.3 */
    ck_assert(ow == 64 && oh == 21333);
    gc_center_crop_offsets(25, 16, 16, 16, &x0, &y0); /* round(4.5) = 4 */
    ck_assert(x0 == 4 && y0 == 0);
    gc_center_crop_offsets(16, 27, 16, 16, &x0, &y0); /* round(5.5) = 6 */
    ck_assert(x0 == 0 && y0 == 6);
    gc_center_crop_offsets(20, 23, 16, 16, &x0, &y0); /* 2, round(3.5) = 4 */
    ck_assert(x0 == 2 && y0 == 4);
    /* Halving: taps [1, 3, 3, 1] / 8 around each output centre, here cut
     * by the image edge on one side each and renormalised to sevenths. */
    float src[4] = {0, 8, 16, 24}, out[2];
    GT_OK(gc_resize_f32(src, 4, 1, 1, out, 2, 1));
    ck_assert_float_eq_tol(out[0], (0 * 3 + 8 * 3 + 16 * 1) / 7.0f, 1e-5f);
    ck_assert_float_eq_tol(out[1], (8 * 1 + 16 * 3 + 24 * 3) / 7.0f, 1e-5f);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("resize");
    TCase *tc = tcase_create("resize");
    tcase_add_test(tc, against_torchvision);
    tcase_add_test(tc, against_brute_force);
    tcase_add_test(tc, same_size_and_constant);
    tcase_add_test(tc, dims_and_offsets_by_hand);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

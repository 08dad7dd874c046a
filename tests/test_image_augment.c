/* tests/test_image_augment.c - classic augmentation (gancl/image.h):
 * spec parsing and its errors; draws that repeat, stay in their ranges and
 * flip half the images; and the warp checked exactly where its answer is
 * known in closed form (identity, whole-pixel shifts, mirror, quarter
 * turns) and against a direct evaluation of the affine map elsewhere, on
 * fresh random images of odd sizes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/image.h"
#include "test_support.h"

static float *random_image(int c, int h, int w)
{
    float *a = malloc((size_t)c * h * w * sizeof *a);
    for (int i = 0; i < c * h * w; i++)
        a[i] = (float)gt_uniform();
    return a;
}

static float unif(double lo, double hi)
{
    return (float)(lo + (hi - lo) * gt_uniform());
}

static float *poisoned(int n)
{
    float *a = malloc((size_t)n * sizeof *a);
    for (int i = 0; i < n; i++)
        a[i] = NAN;
    return a;
}

START_TEST(parse_specs)
{
    gc_image_aug a;
    char buf[128];
    GT_OK(gc_image_aug_parse("none", &a));
    ck_assert(!gc_image_aug_active(&a));
    gc_image_aug_format(&a, buf, sizeof buf);
    ck_assert_str_eq(buf, "none");
    GT_OK(gc_image_aug_parse("classic", &a));
    ck_assert(a.translate == 0.1f && a.degrees == 10.0f && a.scale == 0.1f && !a.hflip);
    GT_OK(gc_image_aug_parse("flip,classic,rotate=0", &a));
    ck_assert(a.translate == 0.1f && a.degrees == 0 && a.scale == 0.1f && a.hflip);
    gc_image_aug_format(&a, buf, sizeof buf);
    ck_assert_str_eq(buf, "translate=0.1,rotate=0,scale=0.1,flip");
    GT_OK(gc_image_aug_parse("translate=0.25,scale=0.5", &a));
    ck_assert(a.translate == 0.25f && a.scale == 0.5f && a.degrees == 0 && !a.hflip);
    GT_OK(gc_image_aug_parse("classic,none", &a));
    ck_assert(!gc_image_aug_active(&a));

    static const char *const bad[] = {"",           "classics",    "rotate=",      "rotate=200",
                                      "scale=0.95", "translate=x", "translate=-1", "flip,,zoom=2",
                                      "rotate=5x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(gc_image_aug_parse(bad[i], &a), GC_ERR_ARG);
        const char *msg = gc_last_error();
        ck_assert_msg(strchr(msg, '\n') == NULL, "'%s': message '%s'", bad[i], msg);
        if (*bad[i]) ck_assert_msg(strstr(msg, bad[i]), "'%s' not named in '%s'", bad[i], msg);
    }
}
END_TEST

START_TEST(draws)
{
    gc_image_aug a;
    GT_OK(gc_image_aug_parse("classic,flip", &a));
    uint64_t seed = gt_seed();
    int w = 29, h = 31, n = 20000, flips = 0, moved = 0;
    double angle_sum = 0, tx_sum = 0;
    float amax = 0, smin = 2, smax = 0;
    int txmax = 0, tymax = 0;
    for (int i = 0; i < n; i++) {
        gc_image_aug_draw d = gc_image_aug_sample(&a, w, h, seed, (uint64_t)i);
        gc_image_aug_draw e = gc_image_aug_sample(&a, w, h, seed, (uint64_t)i);
        ck_assert(memcmp(&d, &e, sizeof d) == 0);
        ck_assert(fabsf(d.angle) <= 10.0f && d.scale >= 0.9f && d.scale <= 1.1f);
        /* round(0.1 * 29 * U) is within [-3, 3]; 0.1 * 31 likewise. */
        ck_assert(abs(d.tx) <= 3 && abs(d.ty) <= 3);
        flips += d.flip;
        moved += d.tx != 0 || d.ty != 0;
        angle_sum += d.angle, tx_sum += d.tx;
        if (fabsf(d.angle) > amax) amax = fabsf(d.angle);
        if (d.scale < smin) smin = d.scale;
        if (d.scale > smax) smax = d.scale;
        if (abs(d.tx) > txmax) txmax = abs(d.tx);
        if (abs(d.ty) > tymax) tymax = abs(d.ty);
    }
    /* Half flipped: 20000 fair coins lie within 0.5 +- 0.02 but for 1e-8. */
    ck_assert_msg(fabs((double)flips / n - 0.5) < 0.02, "%d of %d flipped", flips, n);
    ck_assert_msg(fabs(angle_sum / n) < 0.3 && fabs(tx_sum / n) < 0.1, "means %g %g", angle_sum / n,
                  tx_sum / n);
    ck_assert(amax > 9.9f && smin < 0.901f && smax > 1.099f && txmax == 3 && tymax == 3);
    ck_assert(moved > n / 2);
    /* Another seed, other draws; nothing active, the identity. */
    gc_image_aug_draw d0 = gc_image_aug_sample(&a, w, h, seed, 5);
    gc_image_aug_draw d1 = gc_image_aug_sample(&a, w, h, seed + 1, 5);
    ck_assert(d0.angle != d1.angle);
    gc_image_aug none = {0};
    gc_image_aug_draw id = gc_image_aug_sample(&none, w, h, seed, 5);
    ck_assert(id.angle == 0 && id.scale == 1 && id.tx == 0 && id.ty == 0 && !id.flip);
}
END_TEST

/* Identity, shifts and the mirror copy pixels exactly, zeros coming in. */
START_TEST(exact_warps)
{
    int c = 3, h = gt_randint(2, 21), w = gt_randint(2, 21), hw = h * w;
    float *src = random_image(c, h, w), *dst = poisoned(c * hw);
    gc_image_aug_draw id = {.angle = 0, .scale = 1};
    gc_image_aug_apply(&id, src, c, h, w, dst);
    ck_assert(memcmp(src, dst, (size_t)(c * hw) * sizeof *src) == 0);
    for (int trial = 0; trial < 20; trial++) {
        gc_image_aug_draw d = {.angle = 0,
                               .scale = 1,
                               .tx = gt_randint(-4, 4),
                               .ty = gt_randint(-4, 4),
                               .flip = gt_randint(0, 1)};
        for (int i = 0; i < c * hw; i++)
            dst[i] = NAN;
        gc_image_aug_apply(&d, src, c, h, w, dst);
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    int sx = x - d.tx, sy = y - d.ty;
                    if (d.flip) sx = w - 1 - sx;
                    float want =
                        sx >= 0 && sx < w && sy >= 0 && sy < h ? src[k * hw + sy * w + sx] : 0.0f;
                    ck_assert_msg(dst[k * hw + y * w + x] == want,
                                  "%dx%d shift (%d, %d) flip %d: (%d, %d, %d) is %g, want %g", w, h,
                                  d.tx, d.ty, d.flip, k, y, x, (double)dst[k * hw + y * w + x],
                                  (double)want);
                }
    }
    free(src);
    free(dst);
}
END_TEST

/* A quarter turn of a square maps pixel centres onto pixel centres. */
START_TEST(quarter_turn)
{
    int n = gt_randint(3, 17);
    float *src = random_image(1, n, n), *dst = poisoned(n * n);
    gc_image_aug_draw d = {.angle = 90, .scale = 1};
    gc_image_aug_apply(&d, src, 1, n, n, dst);
    /* dst(x, y) = src(sx, sy) with sx = c + (y + .5 - c), sy = c - (x + .5 - c). */
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            float want = src[(n - 1 - x) * n + y];
            ck_assert_msg(fabsf(dst[y * n + x] - want) < 1e-5f, "%d: (%d, %d) is %g, want %g", n, y,
                          x, (double)dst[y * n + x], (double)want);
        }
    free(src);
    free(dst);
}
END_TEST

/* Any draw: every output pixel is bilinear sampling of the source at the
 * inverse affine image of its centre, evaluated here from the definition
 * (rotation matrix built from the angle, then 1/scale). */
START_TEST(general_warp)
{
    for (int trial = 0; trial < 10; trial++) {
        int c = gt_randint(1, 3), h = gt_randint(3, 27), w = gt_randint(3, 27), hw = h * w;
        float *src = random_image(c, h, w), *dst = poisoned(c * hw);
        gc_image_aug_draw d = {.angle = unif(-30, 30),
                               .scale = unif(0.7, 1.3),
                               .tx = gt_randint(-2, 2),
                               .ty = gt_randint(-2, 2),
                               .flip = gt_randint(0, 1)};
        gc_image_aug_apply(&d, src, c, h, w, dst);
        double th = d.angle * 3.14159265358979323846 / 180.0;
        double r[2][2] = {{cos(th), -sin(th)}, {sin(th), cos(th)}}; /* forward rotation */
        for (int k = 0; k < c; k++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) {
                    /* Solve p = centre + t + s R q' for q' = q - centre. */
                    double px = x + 0.5 - w / 2.0 - d.tx, py = y + 0.5 - h / 2.0 - d.ty;
                    double qx = (r[0][0] * px + r[1][0] * py) / d.scale + w / 2.0;
                    double qy = (r[0][1] * px + r[1][1] * py) / d.scale + h / 2.0;
                    if (d.flip) qx = w - qx;
                    double fx = qx - 0.5, fy = qy - 0.5, want = 0;
                    for (int yy = 0; yy < h; yy++)
                        for (int xx = 0; xx < w; xx++) {
                            double wx = 1 - fabs(fx - xx), wy = 1 - fabs(fy - yy);
                            if (wx > 0 && wy > 0) want += wx * wy * src[k * hw + yy * w + xx];
                        }
                    ck_assert_msg(fabs(dst[k * hw + y * w + x] - want) < 1e-5,
                                  "%dx%d angle %g scale %g: (%d, %d, %d) is %g, want %g", w, h,
                                  (double)d.angle, (double)d.scale, k, y, x,
                                  (double)dst[k * hw + y * w + x], want);
                }
        free(src);
        free(dst);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("image_augment");
    TCase *tc = tcase_create("image_augment");
    tcase_add_test(tc, parse_specs);
    tcase_add_test(tc, draws);
    tcase_add_test(tc, exact_warps);
    tcase_add_test(tc, quarter_turn);
    tcase_add_test(tc, general_warp);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

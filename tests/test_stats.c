/* tests/test_stats.c - the statistics of augment-eval's report
 * (util/stats.h): summaries, Student's t tail against values computed by
 * integrating the density, the paired t-test and the exact sign test
 * against hand-computed cases, and their edge cases. */
#include <math.h>

#include "test_support.h"
#include "util/stats.h"

START_TEST(summary)
{
    double v[] = {0.8, 0.7, 0.9, 0.6}, m, sd, lo, hi;
    gc_stats_summary(v, 4, &m, &sd, &lo, &hi);
    ck_assert(fabs(m - 0.75) < 1e-12 && fabs(sd - sqrt(0.05 / 3)) < 1e-12);
    ck_assert(lo == 0.6 && hi == 0.9);
    gc_stats_summary(v, 1, &m, &sd, NULL, NULL);
    ck_assert(m == 0.8 && sd == 0);
}
END_TEST

/* Two-sided tails of t: by numerical integration of the density (the
 * midpoint rule with 200,000 steps), and the textbook 5% points. */
START_TEST(t_tail)
{
    ck_assert(fabs(gc_stats_t_two_sided(4.242640687119285, 4) - 0.0132355995635) < 1e-9);
    ck_assert(fabs(gc_stats_t_two_sided(2.262157, 9) - 0.0500000133) < 1e-8);
    ck_assert(fabs(gc_stats_t_two_sided(-2.776445, 4) - 0.05) < 1e-6);
    ck_assert(fabs(gc_stats_t_two_sided(12.7062, 1) - 0.05) < 1e-5);
    ck_assert(fabs(gc_stats_t_two_sided(1.959964, 1e6) - 0.05) < 1e-5);
    ck_assert(gc_stats_t_two_sided(0, 3) == 1);
    ck_assert(gc_stats_t_two_sided(INFINITY, 3) == 0);
    ck_assert(isnan(gc_stats_t_two_sided(NAN, 3)) && isnan(gc_stats_t_two_sided(1, 0)));
}
END_TEST

START_TEST(paired)
{
    /* b - a = 1, 2, 3, 4, 5: mean 3, sd sqrt(2.5), t = 4.2426 on 4 df. */
    double a[] = {0.5, 0.5, 0.5, 0.5, 0.5}, b[] = {1.5, 2.5, 3.5, 4.5, 5.5};
    gc_paired p = gc_stats_paired(a, b, 5);
    ck_assert(p.n == 5 && p.wins == 5 && p.losses == 0 && p.ties == 0);
    ck_assert(fabs(p.mean - 3) < 1e-12 && fabs(p.sd - sqrt(2.5)) < 1e-12);
    ck_assert(fabs(p.t - 4.242640687119285) < 1e-9 && fabs(p.p_t - 0.0132355995635) < 1e-9);
    ck_assert(fabs(p.p_sign - 2.0 / 32) < 1e-12);
    /* The other way round: same p, negative t, losses. */
    gc_paired q = gc_stats_paired(b, a, 5);
    ck_assert(q.losses == 5 && q.t < 0 && fabs(q.p_t - p.p_t) < 1e-12 && q.p_sign == p.p_sign);
    /* 4 wins, 1 loss, 1 tie: the tie is dropped, P(X <= 1 | 5) = 6/32, doubled. */
    double c[] = {1, 2, 3, 4, 5, 6}, d[] = {2, 3, 4, 5, 4, 6};
    gc_paired r = gc_stats_paired(c, d, 6);
    ck_assert(r.wins == 4 && r.losses == 1 && r.ties == 1);
    ck_assert(fabs(r.p_sign - 12.0 / 32) < 1e-12);
    /* Equal differences: no t; one pair: no t; all ties: sign p 1. */
    double e[] = {1, 2, 3}, f[] = {2, 3, 4};
    gc_paired s = gc_stats_paired(e, f, 3);
    ck_assert(isnan(s.t) && isnan(s.p_t) && s.sd == 0 && fabs(s.p_sign - 0.25) < 1e-12);
    gc_paired one = gc_stats_paired(e, f, 1);
    ck_assert(isnan(one.p_t) && one.p_sign == 1);
    gc_paired ties = gc_stats_paired(e, e, 3);
    ck_assert(ties.ties == 3 && ties.p_sign == 1 && isnan(ties.p_t));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, summary);
    tcase_add_test(tc, t_tail);
    tcase_add_test(tc, paired);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

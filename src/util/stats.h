/* src/util/stats.h - summary statistics of repeated runs: mean and
 * standard deviation, and the paired comparison of two arms measured on
 * the same seeds (a paired t-test and an exact sign test). */
#ifndef GANCL_UTIL_STATS_H
#define GANCL_UTIL_STATS_H

/* Mean, sample standard deviation (n - 1; 0 for one value), minimum and
 * maximum of v[0 .. n), n >= 1.  Any pointer but mean may be NULL. */
void gc_stats_summary(const double *v, int n, double *mean, double *sd, double *lo, double *hi);

typedef struct gc_paired {
    int n;                  /* pairs */
    int wins, losses, ties; /* b above, below, equal to a */
    double mean, sd;        /* of b - a */
    double t, p_t;          /* paired t statistic and its two-sided p (NaN when n < 2,
                             * or when every difference is equal: t is +-Inf or 0 then) */
    double p_sign;          /* two-sided exact sign test over the non-tied pairs (1 when
                             * all tie) */
} gc_paired;

/* b against a, pair by pair: b[i] - a[i] for i < n (n >= 1). */
gc_paired gc_stats_paired(const double *a, const double *b, int n);

/* Two-sided p of Student's t with df degrees of freedom: P(|T| >= |t|). */
double gc_stats_t_two_sided(double t, double df);

#endif

/* src/util/stats.c - see stats.h.  Student's t tail from the regularised
 * incomplete beta function, I_x(a, b) by its continued fraction (modified
 * Lentz), as in Numerical Recipes' betai/betacf. */
#include "util/stats.h"

#include <math.h>

void gc_stats_summary(const double *v, int n, double *mean, double *sd, double *lo, double *hi)
{
    double m = 0, q = 0, mn = INFINITY, mx = -INFINITY;
    for (int i = 0; i < n; i++) {
        m += v[i];
        if (v[i] < mn) mn = v[i];
        if (v[i] > mx) mx = v[i];
    }
    m /= n;
    for (int i = 0; i < n; i++)
        q += (v[i] - m) * (v[i] - m);
    *mean = m;
    if (sd) *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
    if (lo) *lo = mn;
    if (hi) *hi = mx;
}

/* The continued fraction of I_x(a, b), for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 300; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-15) break;
    }
    return h;
}

/* The regularised incomplete beta function I_x(a, b), x in [0, 1]. */
static double beta_inc(double a, double b, double x)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * beta_cf(a, b, x) / a;
    return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

double gc_stats_t_two_sided(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return 0;
    return beta_inc(0.5 * df, 0.5, df / (df + t * t));
}

gc_paired gc_stats_paired(const double *a, const double *b, int n)
{
    gc_paired p = {.n = n, .t = NAN, .p_t = NAN, .p_sign = 1};
    double m = 0, q = 0;
    for (int i = 0; i < n; i++) {
        double d = b[i] - a[i];
        m += d;
        p.wins += d > 0, p.losses += d < 0, p.ties += d == 0;
    }
    m /= n;
    for (int i = 0; i < n; i++)
        q += (b[i] - a[i] - m) * (b[i] - a[i] - m);
    p.mean = m;
    p.sd = n > 1 ? sqrt(q / (n - 1)) : 0;
    if (n > 1 && p.sd > 0) {
        p.t = m / (p.sd / sqrt((double)n));
        p.p_t = gc_stats_t_two_sided(p.t, n - 1);
    }
    /* P(X <= min(wins, losses)) for X ~ Binomial(k, 1/2), doubled, at most 1. */
    int k = p.wins + p.losses, lo = p.wins < p.losses ? p.wins : p.losses;
    if (k > 0) {
        double tail = 0;
        for (int i = 0; i <= lo; i++)
            tail += exp(lgamma(k + 1.0) - lgamma(i + 1.0) - lgamma(k - i + 1.0) - k * log(2.0));
        p.p_sign = 2 * tail < 1 ? 2 * tail : 1;
    }
    return p;
}

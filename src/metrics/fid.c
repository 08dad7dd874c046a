/* src/metrics/fid.c - the Frechet distance between two Gaussians, as
 * pytorch-fid computes it, in double with LAPACK.
 *
 *     FID = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrtm(S1 S2)
 *
 * tr sqrtm(S1 S2) is the sum of the square roots of the eigenvalues of
 * S1 S2, which are those of the symmetric sqrt(S1) S2 sqrt(S1) -- or of
 * L^T S2 L for any factor S1 = L L^T.  A pivoted Cholesky factor (dpstrf)
 * exists for singular S1 as well (rank-deficient covariances from fewer
 * samples than dimensions, dead features), and L^T S2 L costs one dsygst
 * (a multiplication, no solve), so the whole trace is about 2.7 n^3 flops
 * inside LAPACK instead of an eigendecomposition with vectors and two
 * products: three times faster with the reference LAPACK.  Pivoting also
 * puts the covariance's rounding noise last, so with fewer samples N than
 * dimensions the factor is cut at rank N - 1 and the result is exact, where
 * scipy's sqrtm (pytorch-fid) takes square roots of that noise.  Eigenvalues come
 * from dsyevd; rounding can make zero ones slightly negative, which are
 * clipped to 0 (scipy's sqrtm gives them tiny imaginary parts that
 * pytorch-fid drops).
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/fid.h"
#include "util/error.h"
#include "util/log.h"

/* tr sqrtm((S1 + off I)(S2 + off I)); NaN when LAPACK fails.  S1 has rank
 * at most max_rank (the covariance of N samples has rank N - 1 at most):
 * pivots beyond it are rounding noise, whose square roots would add up. */
static gc_status trace_sqrt_product(int n, const double *s1, const double *s2, double off,
                                    int max_rank, double *trace)
{
    size_t nn = (size_t)n * (size_t)n;
    double *l = malloc(nn * sizeof(double)), *a = malloc(nn * sizeof(double));
    double *w = malloc((size_t)n * sizeof(double));
    lapack_int *piv = malloc((size_t)n * sizeof(lapack_int));
    if (!l || !a || !w || !piv) {
        free(l), free(a), free(w), free(piv);
        return gc_error(GC_ERR_NOMEM, "FID: out of memory for %dx%d matrices", n, n);
    }
    /* Column-major throughout; the inputs are symmetric, so either order. */
    memcpy(l, s1, nn * sizeof(double));
    for (int i = 0; i < n; i++)
        l[(size_t)i * n + i] += off;
    lapack_int rank = 0;
    lapack_int info = LAPACKE_dpstrf(LAPACK_COL_MAJOR, 'L', n, l, n, piv, &rank, -1.0);
    *trace = NAN;
    if (rank > max_rank) rank = max_rank;
    if (info >= 0) {
        /* Keep L: the strict upper triangle and the unfactored trailing
         * columns (a rank-deficient S1) are not part of it. */
        for (lapack_int j = 0; j < n; j++)
            for (lapack_int i = 0; i < n; i++)
                if (i < j || j >= rank) l[(size_t)j * n + i] = 0.0;
        /* A = P^T S2 P, so that P^T S1 P = L L^T matches it. */
        for (int j = 0; j < n; j++)
            for (int i = 0; i < n; i++)
                a[(size_t)j * n + i] =
                    s2[(size_t)(piv[j] - 1) * n + (piv[i] - 1)] + (i == j ? off : 0.0);
        info = LAPACKE_dsygst(LAPACK_COL_MAJOR, 2, 'L', n, a, n, l, n);
        if (info == 0) info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', n, a, n, w);
        if (info == 0) {
            double t = 0.0;
            for (int i = 0; i < n; i++)
                t += w[i] > 0.0 ? sqrt(w[i]) : (w[i] < 0.0 ? 0.0 : w[i]);
            *trace = t;
        }
    }
    GC_DEBUG("FID: rank of S1 %d of %d, LAPACK info %d", (int)rank, n, (int)info);
    free(l), free(a), free(w), free(piv);
    return GC_OK;
}

/* The distance, factoring S1 (the caller puts the lower-rank one first). */
static gc_status frechet(int dims, const double *mu1, const double *sigma1, int max_rank,
                         const double *mu2, const double *sigma2, double offset, double *fid,
                         int *fallback)
{
    GC_ASSERT(dims >= 1 && fid);
    if (fallback) *fallback = 0;
    double dmu = 0.0, tr = 0.0;
    for (int i = 0; i < dims; i++) {
        double d = mu1[i] - mu2[i];
        dmu += d * d;
        tr += sigma1[(size_t)i * dims + i] + sigma2[(size_t)i * dims + i];
    }
    double trs;
    GC_TRY(trace_sqrt_product(dims, sigma1, sigma2, offset, offset > 0 ? dims : max_rank, &trs));
    if (!isfinite(trs) && offset == 0.0) {
        /* pytorch-fid's fallback, with its message. */
        GC_WARN("fid calculation produces singular product; adding %g to diagonal of cov "
                "estimates",
                GC_FID_EPS);
        if (fallback) *fallback = 1;
        GC_TRY(trace_sqrt_product(dims, sigma1, sigma2, GC_FID_EPS, dims, &trs));
    }
    double v = dmu + tr - 2.0 * trs;
    if (!isfinite(v)) return gc_error(GC_ERR_ARG, "FID is not finite (are the statistics finite?)");
    *fid = v;
    return GC_OK;
}

gc_status gc_fid_frechet(int dims, const double *mu1, const double *sigma1, const double *mu2,
                         const double *sigma2, double offset, double *fid, int *fallback)
{
    return frechet(dims, mu1, sigma1, dims, mu2, sigma2, offset, fid, fallback);
}

/* The rank bound of a covariance of `count` samples (count 0: unknown). */
static int rank_bound(const gc_fid_stats *s)
{
    return s->count >= 2 && s->count - 1 < s->dims ? (int)(s->count - 1) : s->dims;
}

gc_status gc_fid(const gc_fid_stats *a, const gc_fid_stats *b, double *fid)
{
    if (a->dims != b->dims)
        return gc_error(GC_ERR_ARG, "FID: statistics of %d and %d dimensions cannot be compared",
                        a->dims, b->dims);
    /* Both are covariances of 128 or 2048 numbers, but of different
     * numbers: the distance between them would mean nothing. */
    if (a->extractor[0] && b->extractor[0] && strcmp(a->extractor, b->extractor))
        return gc_error(GC_ERR_ARG,
                        "FID: statistics of %s features and of %s features cannot be compared",
                        a->extractor, b->extractor);
    /* tr sqrtm(S1 S2) = tr sqrtm(S2 S1): factor the one of lower rank. */
    if (rank_bound(b) < rank_bound(a)) {
        const gc_fid_stats *t = a;
        a = b;
        b = t;
    }
    return frechet(a->dims, a->mu, a->sigma, rank_bound(a), b->mu, b->sigma, 0.0, fid, NULL);
}

/* cl/common.cl - definitions shared by every kernel file.
 *
 * All kernel files (cl/NAME.cl) are concatenated into one program, this file first, and
 * built once per device with OpenCL C 1.2 and no fast-math options.  Kernels
 * use float only (no fp64), bound-check their global id (global sizes are
 * rounded up to the work-group size), and take each tensor as two
 * arguments: a buffer and an int offset in floats, e.g.
 *
 *     __kernel void relu_forward(__global float *y, int y_off,
 *                                __global const float *x, int x_off, int n)
 *
 * GC_WG_MAX is defined by the host as the device's maximum work-group size;
 * reductions that need local memory size it from their local argument.
 */

#define GC_TENSOR(name)  __global float *name, int name##_off
#define GC_CTENSOR(name) __global const float *name, int name##_off

/* ---- helpers shared by the kernel families (appended by the ops files) ----
 *
 * Reductions accumulate in float, yet must agree with the CPU reference's
 * double sums even when the sum cancels (a centred batch's mean, a
 * gradient near zero).  So every stage is compensated: each work-item keeps
 * a Kahan running sum (s, c) over its strided elements, and the work-group
 * tree adds those pairs with Knuth's TwoSum, carrying the rounding error of
 * each addition in a second float.  The result is about as accurate as a
 * double accumulation rounded to float.  Only additions are involved, so
 * FP contraction cannot merge the steps, and without fast-math the
 * compiler may not reassociate them.
 */

/* Adds v to the Kahan sum (s, c); the running value is s - c. */
#define GC_KAHAN_ADD(s, c, v)                                                                      \
    do {                                                                                           \
        float gc_y_ = (v) - (c);                                                                   \
        float gc_t_ = (s) + gc_y_;                                                                 \
        (c) = (gc_t_ - (s)) - gc_y_;                                                               \
        (s) = gc_t_;                                                                               \
    } while (0)

/* The sum over the work-group of every work-item's Kahan sum (s, c),
 * returned to every work-item.  scratch holds 2 * get_local_size(0)
 * floats; the local size is a power of two (gc_cl_wg_size gives one).
 * Every work-item of the group must call it. */
float gc_wg_sum(__local float *scratch, float s, float c)
{
    const int lid = (int)get_local_id(0), n = (int)get_local_size(0);
    __local float *hi = scratch, *lo = scratch + n;
    /* A previous call may still be reading hi[0] and lo[0]. */
    barrier(CLK_LOCAL_MEM_FENCE);
    hi[lid] = s;
    lo[lid] = -c;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = n / 2; h > 0; h >>= 1) {
        if (lid < h) {
            const float a = hi[lid], b = hi[lid + h];
            const float t = a + b, bv = t - a;
            const float err = (a - (t - bv)) + (b - bv); /* a + b == t + err exactly */
            hi[lid] = t;
            lo[lid] += lo[lid + h] + err;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    return hi[0] + lo[0];
}

/* The logistic function without overflow: exp() only of a non-positive
 * number, so large |x| gives 0 or 1 rather than inf/inf. */
float gc_sigmoid(float x)
{
    if (x >= 0.0f) return 1.0f / (1.0f + exp(-x));
    const float e = exp(x);
    return e / (1.0f + e);
}

/* 16-lane compensated sums, for kernels where one work-item sums a long
 * run (CPU drivers: reduce_sum_seq, the batchnorm _seq kernels).  Each lane
 * is a Kahan sum (s, c); gc_fold16 adds the lanes and a scalar Kahan sum
 * (ss, cs) of the tail with TwoSum, carrying every rounding error. */
/* Kahan-adds the 16 lanes of v to (s, c); the running value is s - c. */
#define GC_KAHAN_ADD16(s, c, v)                                                                    \
    do {                                                                                           \
        const float16 gc_y_ = (v) - (c);                                                           \
        const float16 gc_t_ = (s) + gc_y_;                                                         \
        (c) = (gc_t_ - (s)) - gc_y_;                                                               \
        (s) = gc_t_;                                                                               \
    } while (0)

/* Adds the Kahan sum (s, c) into the TwoSum pair (hi, lo). */
inline void gc_two_sum_into(float *hi, float *lo, float s, float c)
{
    const float a = *hi, t = a + s, bv = t - a;
    *lo += ((a - (t - bv)) + (s - bv)) - c;
    *hi = t;
}

/* The value of 16 Kahan lanes (s, c) plus a scalar Kahan sum (ss, cs). */
float gc_fold16(float16 s, float16 c, float ss, float cs)
{
    float hi = 0.0f, lo = 0.0f, sl[16], cl[16];
    vstore16(s, 0, sl);
    vstore16(c, 0, cl);
    for (int l = 0; l < 16; l++)
        gc_two_sum_into(&hi, &lo, sl[l], cl[l]);
    gc_two_sum_into(&hi, &lo, ss, cs);
    return hi + lo;
}

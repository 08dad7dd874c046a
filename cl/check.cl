/* cl/check.cl - the divergence check: is any element NaN or Inf?
 *
 * One work-item per element; those that find a non-finite value all store
 * the same value into flag[0], so no reduction (and no atomics) is needed
 * and a clean tensor costs one read of it.  A flag already set is kept:
 * launches run in queue order, so it holds the value of the first check
 * that found something.  isfinite is exact here because gancl never builds
 * with -cl-fast-relaxed-math. */

/* flag[0] = value when some x[i], i < n, is NaN or +-Inf and flag[0] is
 * 0; untouched otherwise. */
__kernel void nonfinite_flag(GC_TENSOR(flag), GC_CTENSOR(x), float value, int n)
{
    const int i = (int)get_global_id(0);
    if (i < n && !isfinite(x[x_off + i]) && flag[flag_off] == 0.0f) flag[flag_off] = value;
}

/* cl/class.cl - class conditioning: a per-class table e (K, F) added to
 * the rows of y (class_embed) or dotted with the rows of x (class_project),
 * and the backward passes.
 *
 *   forward, embed:     one work-item per element of y (N, F)
 *   forward, project:   one work-group per row n; its work-items take
 *                       strided pieces of <e[label_n], x[n]> and the group
 *                       adds them (gc_wg_sum)
 *   backward, de:       one work-item per element (k, f) of de, looping over
 *                       the N rows in order and keeping those labelled k:
 *
 *                         de (K, F)      work-item (k, f)
 *                         +--+--+--+     for n in 0..N-1:
 *                         |  |kf|  |       if label_n == k: s += dy[n] (* x[n, f])
 *                         +--+--+--+     de[k, f] += s
 *
 *                       N is a batch (<= a few hundred), so the loop is
 *                       short; every element has one writer, so there are
 *                       no atomics and the sum is the same on every run.
 *   backward, dx:       one work-item per element of dx (N, F).
 *
 * Labels are class indices stored as floats.  A label that is not an
 * integer in [0, K) turns its row of y (and of dx) into NaN and adds
 * nothing to de (the host cannot see device labels without a sync). */

/* The class of label v, or -1 when v is not an integer in [0, k); the
 * range test comes first so that the conversion to int is defined. */
int gc_class_of(float v, int k)
{
    if (!(v >= 0.0f && v < (float)k)) return -1;
    const int c = (int)v;
    return (float)c == v ? c : -1;
}

/* y[i, j] += e[label_i, j] over y (n, f). */
__kernel void class_embed_forward(GC_TENSOR(y), GC_CTENSOR(e), GC_CTENSOR(labels), int n, int k,
                                  int f)
{
    const int g = (int)get_global_id(0);
    if (g >= n * f) return;
    const int i = g / f, j = g - i * f;
    const int c = gc_class_of(labels[labels_off + i], k);
    y[y_off + g] = c < 0 ? NAN : y[y_off + g] + e[e_off + c * f + j];
}

/* de[c, j] += sum over rows i labelled c of dy[i, j], times w[i] when has_w
 * (class_project's dy) and x[i, j] read from rows (dy or x). */
__kernel void class_scatter(GC_TENSOR(de), GC_CTENSOR(rows), GC_CTENSOR(w), int has_w,
                            GC_CTENSOR(labels), int n, int k, int f)
{
    const int g = (int)get_global_id(0);
    if (g >= k * f) return;
    const int c = g / f, j = g - c * f;
    float s = 0.0f, cs = 0.0f;
    for (int i = 0; i < n; i++) {
        if (gc_class_of(labels[labels_off + i], k) != c) continue;
        const float v = rows[rows_off + i * f + j];
        GC_KAHAN_ADD(s, cs, has_w ? w[w_off + i] * v : v);
    }
    de[de_off + g] += s - cs;
}

/* y[i] += <e[label_i], x[i]>, one work-group per row i; scratch holds
 * 2 * local size floats. */
__kernel void class_project_forward(GC_TENSOR(y), GC_CTENSOR(x), GC_CTENSOR(e), GC_CTENSOR(labels),
                                    int n, int k, int f, __local float *scratch)
{
    const int i = (int)get_group_id(0);
    if (i >= n) return; /* whole groups only, so gc_wg_sum's barriers are uniform */
    const int c = gc_class_of(labels[labels_off + i], k);
    float s = 0.0f, cs = 0.0f;
    if (c >= 0)
        for (int j = (int)get_local_id(0); j < f; j += (int)get_local_size(0))
            GC_KAHAN_ADD(s, cs, e[e_off + c * f + j] * x[x_off + i * f + j]);
    const float dot = gc_wg_sum(scratch, s, cs);
    if (get_local_id(0) == 0) y[y_off + i] = c < 0 ? NAN : y[y_off + i] + dot;
}

/* dx[i, j] += dy[i] * e[label_i, j] over dx (n, f). */
__kernel void class_project_dx(GC_TENSOR(dx), GC_CTENSOR(dy), GC_CTENSOR(e), GC_CTENSOR(labels),
                               int n, int k, int f)
{
    const int g = (int)get_global_id(0);
    if (g >= n * f) return;
    const int i = g / f, j = g - i * f;
    const int c = gc_class_of(labels[labels_off + i], k);
    dx[dx_off + g] = c < 0 ? NAN : dx[dx_off + g] + dy[dy_off + i] * e[e_off + c * f + j];
}

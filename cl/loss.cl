/* cl/loss.cl - softmax cross-entropy with class labels (the classifier's
 * loss; BCE, the GAN's, is in train.cl).
 *
 * One work-item per row of z (N, K): it finds the row's first maximum and
 * the Kahan sum of exp(z - max), so every exp is <= 1 and the sum >= 1.
 * Batches are small (N ~ 100) and K <= ~1000, so a row-serial loop keeps
 * the kernels short; the forward pass is one work-group that also reduces
 * the per-row terms.  Labels are class indices stored as floats; a label
 * that is not an integer in [0, K) turns its row's loss term and gradient
 * into NaN (the host cannot see device labels without a sync). */

/* The class of label v, or -1 when v is not an integer in [0, k); the
 * range test comes first so that the conversion to int is defined. */
int gc_ce_class(float v, int k)
{
    if (!(v >= 0.0f && v < (float)k)) return -1;
    const int c = (int)v;
    return (float)c == v ? c : -1;
}

/* Returns sum_j exp(z_j - z_argmax) of row z[0..k), *argmax the first max. */
float gc_ce_row(__global const float *z, int k, int *argmax)
{
    int am = 0;
    for (int j = 1; j < k; j++)
        if (z[j] > z[am]) am = j;
    const float m = z[am];
    float s = 0.0f, c = 0.0f;
    for (int j = 0; j < k; j++)
        GC_KAHAN_ADD(s, c, exp(z[j] - m));
    *argmax = am;
    return s - c;
}

/* loss[0] = mean over rows of log(sum) + max - z[label]; correct[0] (when
 * has_correct) = rows whose argmax is the label.  One work-group. */
__kernel void softmax_ce_forward(GC_TENSOR(loss), GC_TENSOR(correct), int has_correct,
                                 GC_CTENSOR(z), GC_CTENSOR(labels), int n, int k,
                                 __local float *scratch)
{
    float s = 0.0f, cs = 0.0f, hits = 0.0f;
    for (int i = (int)get_local_id(0); i < n; i += (int)get_local_size(0)) {
        __global const float *row = z + z_off + (long)i * k;
        const int c = gc_ce_class(labels[labels_off + i], k);
        int am;
        const float sum = gc_ce_row(row, k, &am);
        const float term = c < 0 ? NAN : log(sum) + (row[am] - row[c]);
        GC_KAHAN_ADD(s, cs, term);
        hits += (float)(c == am);
    }
    const float total = gc_wg_sum(scratch, s, cs);
    /* Counts are exact in float up to 2^24 rows. */
    const float nhits = gc_wg_sum(scratch, hits, 0.0f);
    if (get_local_id(0) == 0) {
        loss[loss_off] = total / (float)n;
        if (has_correct) correct[correct_off] = nhits;
    }
}

/* dz = scale / n * (softmax(z) - onehot(label)), row by row; each element
 * is read before it is written, so dz may alias z. */
__kernel void softmax_ce_backward(GC_TENSOR(dz), GC_CTENSOR(z), GC_CTENSOR(labels), float scale,
                                  int n, int k)
{
    const int i = (int)get_global_id(0);
    if (i >= n) return;
    __global const float *row = z + z_off + (long)i * k;
    __global float *drow = dz + dz_off + (long)i * k;
    const int c = gc_ce_class(labels[labels_off + i], k);
    int am;
    const float sum = gc_ce_row(row, k, &am);
    const float m = row[am], f = scale / (float)n;
    for (int j = 0; j < k; j++)
        drow[j] = c < 0 ? NAN : f * (exp(row[j] - m) / sum - (j == c ? 1.0f : 0.0f));
}

/* cl/dense.cl - the bias broadcast of a dense layer; the matrix products
 * themselves go through gc_cl_gemm (CLBlast) and the bias gradient through
 * reduce_sum in elementwise.cl. */

/* y (rows x cols, row-major) += b broadcast along rows. */
__kernel void dense_bias_add(GC_TENSOR(y), GC_CTENSOR(b), int cols, int n)
{
    const int i = (int)get_global_id(0);
    if (i < n) y[y_off + i] += b[b_off + i % cols];
}

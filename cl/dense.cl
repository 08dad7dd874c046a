/* cl/dense.cl - the bias broadcast of a dense layer; the matrix products
 * themselves go through gc_cl_gemm and the bias gradient through
 * reduce_sum in elementwise.cl. */

/* y (rows x cols, row-major) += b broadcast along rows.  Global size
 * (cols rounded up to the work-group size, rows): no division per element. */
__kernel void dense_bias_add(GC_TENSOR(y), GC_CTENSOR(b), int cols, int rows)
{
    const int j = (int)get_global_id(0), i = (int)get_global_id(1);
    if (j < cols && i < rows) y[y_off + i * cols + j] += b[b_off + j];
}

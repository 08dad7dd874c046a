/* cl/gemm.cl - gancl's own GEMM for CPU OpenCL drivers, and the batched
 * transpose that the GEMM and the convolutions share.
 *
 * The GEMM computes
 *
 *     C[r][c] = alpha * sum_k A[r][k] * B[k][c] + beta * C[r][c] (+ bias[c])
 *
 * where B's rows are contiguous and A and C are read through strides with
 * grouped rows: element (r, c) of A sits at
 *
 *     (r / a_grp) * a_gs + (r % a_grp) * a_rs + c * a_cs
 *
 * and likewise for C.  A row-major matrix has one group; an NCHW tensor
 * seen as rows of pixels and columns of channels has a group per image
 * (grp = H*W, gs = C*H*W, rs = 1, cs = H*W), so convolutions read and write
 * NCHW directly instead of transposing it (cl_conv.c).  A^T is a stride
 * swap; B^T is transposed into scratch by the host (cl_gemm.c).
 *
 * One work-item computes one MR x NR tile of C (NR = NV * 16) in registers,
 * the way a BLIS micro-kernel does on a CPU: per k, NV float16 loads of B,
 * MR broadcasts of A, MR*NV fused multiply-adds.
 *
 *            NR = NV*16 columns
 *          +----------------+
 *   B row k| b0 .. b15 | .. |      (NV vector loads)
 *          +----------------+
 *   A[r][k]  x  ==>  acc[r][0..NV)  for r < MR   (MR broadcasts)
 *
 * Work-groups hold a single work-item: CPU drivers then run the tile as
 * straight-line vector code (PoCL's work-item loop would otherwise try to
 * vectorize across work-items and keep the accumulators in memory).  No
 * local memory: the CPU's caches do the blocking; the host splits long K
 * into chunks so a chunk of A and B stays in L2.
 *
 * Every tile size is a kernel of its own (gemm_MRxNV), all compiled in the
 * one program; the host picks one per device (cl_tune.c), so tuning never
 * changes the program or its cache key.  Tiles at the bottom edge clamp
 * their A rows and skip the stores; tiles at the right edge build B's
 * vectors from clamped scalar loads.  Nothing past row m or column n of
 * any operand is read, and C is not read when beta is 0 (it may hold NaN).
 */

#define GEMM_MR_MAX 16
#define GEMM_NV_MAX 2
#define GEMM_VW     16

/* The offsets of rows r0 .. r0+count-1 under grouped-row addressing: one
 * division per tile, then the (group, row-in-group) pair is carried. */
inline __attribute__((always_inline)) void gemm_row_offsets(int *out, const int count, int r0,
                                                            int last, int rs, int grp, int gs)
{
    int q = r0 / grp, s = r0 - q * grp;
#pragma unroll
    for (int i = 0; i < count; i++) {
        out[i] = r0 + i <= last ? q * gs + s * rs : out[i > 0 ? i - 1 : 0];
        if (++s == grp) {
            s = 0;
            q++;
        }
    }
}

inline __attribute__((always_inline)) void
gemm_one_tile(const int MR, const int NV, const int r0, const int c0, int m, int n, int k,
              float alpha, float beta, __global const float *a, int a_off, int a_rs, int a_cs,
              int a_grp, int a_gs, __global const float *b, int b_off, int ldb, __global float *c,
              int c_off, int c_rs, int c_cs, int c_grp, int c_gs, __global const float *bias,
              int bias_off, int has_bias)
{
    const int NR = NV * GEMM_VW;
    if (r0 >= m || c0 >= n) return;

    float16 acc[GEMM_MR_MAX][GEMM_NV_MAX];
#pragma unroll
    for (int i = 0; i < MR; i++)
#pragma unroll
        for (int v = 0; v < NV; v++)
            acc[i][v] = (float16)0.0f;
    /* Rows past m repeat the last row's offset: loaded, never stored. */
    int arow[GEMM_MR_MAX];
    gemm_row_offsets(arow, MR, r0, m - 1, a_rs, a_grp, a_gs);

    __global const float *ap = a + a_off;
    __global const float *bp = b + b_off + c0;
    if (c0 + NR <= n) {
        for (int kk = 0; kk < k; kk++) {
            float16 bv[GEMM_NV_MAX];
#pragma unroll
            for (int v = 0; v < NV; v++)
                bv[v] = vload16(v, bp);
#pragma unroll
            for (int i = 0; i < MR; i++) {
                const float16 av = (float16)ap[arow[i]];
#pragma unroll
                for (int v = 0; v < NV; v++)
                    acc[i][v] = fma(av, bv[v], acc[i][v]);
            }
            ap += a_cs;
            bp += ldb;
        }
    } else {
        const int last = n - 1 - c0; /* the last valid column of this tile */
        for (int kk = 0; kk < k; kk++) {
            float bs[GEMM_NV_MAX * GEMM_VW];
#pragma unroll
            for (int j = 0; j < NR; j++)
                bs[j] = bp[min(j, last)];
            float16 bv[GEMM_NV_MAX];
#pragma unroll
            for (int v = 0; v < NV; v++)
                bv[v] = vload16(v, bs);
#pragma unroll
            for (int i = 0; i < MR; i++) {
                const float16 av = (float16)ap[arow[i]];
#pragma unroll
                for (int v = 0; v < NV; v++)
                    acc[i][v] = fma(av, bv[v], acc[i][v]);
            }
            ap += a_cs;
            bp += ldb;
        }
    }

    int crow[GEMM_MR_MAX];
    gemm_row_offsets(crow, MR, r0, m - 1, c_rs, c_grp, c_gs);
    float16 bias_v[GEMM_NV_MAX];
    const int ncols = min(NR, n - c0);
#pragma unroll
    for (int v = 0; v < NV; v++) {
        bias_v[v] = (float16)0.0f;
        if (has_bias && c0 + NR <= n) bias_v[v] = vload16(v, bias + bias_off + c0);
    }
    __global float *cp = c + c_off + c0 * c_cs;
    if (c_rs == 1 && c_cs != 1 && r0 + MR <= m && crow[MR - 1] == crow[0] + MR - 1) {
        /* C's columns are contiguous (an NCHW output, rows being pixels of
         * one image): the tile goes out a column at a time, MR floats in a
         * row.  Row by row, each store would touch every column's cache
         * line, at a stride of a whole channel plane. */
        float tmp[GEMM_MR_MAX][GEMM_NV_MAX * GEMM_VW];
#pragma unroll
        for (int i = 0; i < MR; i++)
#pragma unroll
            for (int v = 0; v < NV; v++)
                vstore16(alpha * acc[i][v], v, tmp[i]);
        __global float *col = cp + crow[0];
        for (int j = 0; j < ncols; j++, col += c_cs) {
            const float add = has_bias ? bias[bias_off + c0 + j] : 0.0f;
#pragma unroll
            for (int i = 0; i < MR; i++) {
                float r = tmp[i][j];
                if (beta != 0.0f) r = fma(beta, col[i], r);
                col[i] = r + add;
            }
        }
        return;
    }
#pragma unroll
    for (int i = 0; i < MR; i++) {
        if (r0 + i >= m) continue;
        __global float *row = cp + crow[i];
        if (c0 + NR <= n && c_cs == 1) {
#pragma unroll
            for (int v = 0; v < NV; v++) {
                float16 r = alpha * acc[i][v];
                if (beta != 0.0f) r = fma((float16)beta, vload16(v, row), r);
                vstore16(r + bias_v[v], v, row);
            }
        } else {
            float tmp[GEMM_NV_MAX * GEMM_VW];
#pragma unroll
            for (int v = 0; v < NV; v++)
                vstore16(acc[i][v], v, tmp);
            for (int j = 0; j < ncols; j++) {
                float r = alpha * tmp[j];
                if (beta != 0.0f) r = fma(beta, row[j * c_cs], r);
                if (has_bias) r += bias[bias_off + c0 + j];
                row[j * c_cs] = r;
            }
        }
    }
}

/* One work-item runs `per` tiles, consecutive along dimension 0 (rows of
 * tiles when rows_first, else columns), so that consecutive tiles share an
 * operand panel as before and a short K (a chunk of a weight gradient)
 * still gives each work-item several tiles of work: 1-6 % faster on
 * DCGAN-64 through PoCL (cl_gemm.c picks per). */
inline __attribute__((always_inline)) void
gemm_tile(const int MR, const int NV, int m, int n, int k, float alpha, float beta,
          __global const float *a, int a_off, int a_rs, int a_cs, int a_grp, int a_gs,
          __global const float *b, int b_off, int ldb, __global float *c, int c_off, int c_rs,
          int c_cs, int c_grp, int c_gs, __global const float *bias, int bias_off, int has_bias,
          int rows_first, int per)
{
    const int NR = NV * GEMM_VW;
    const int t1 = (int)get_global_id(1);
    for (int j = 0; j < per; j++) {
        const int t0 = (int)get_global_id(0) * per + j;
        const int r0 = (rows_first ? t0 : t1) * MR, c0 = (rows_first ? t1 : t0) * NR;
        if (r0 >= m || c0 >= n) return;
        gemm_one_tile(MR, NV, r0, c0, m, n, k, alpha, beta, a, a_off, a_rs, a_cs, a_grp, a_gs, b,
                      b_off, ldb, c, c_off, c_rs, c_cs, c_grp, c_gs, bias, bias_off, has_bias);
    }
}

#define GEMM_PARAMS                                                                                \
    int m, int n, int k, float alpha, float beta, __global const float *a, int a_off, int a_rs,    \
        int a_cs, int a_grp, int a_gs, __global const float *b, int b_off, int ldb,                \
        __global float *c, int c_off, int c_rs, int c_cs, int c_grp, int c_gs,                     \
        __global const float *bias, int bias_off, int has_bias, int rows_first, int per
#define GEMM_ARGS                                                                                  \
    m, n, k, alpha, beta, a, a_off, a_rs, a_cs, a_grp, a_gs, b, b_off, ldb, c, c_off, c_rs, c_cs,  \
        c_grp, c_gs, bias, bias_off, has_bias, rows_first, per

/* The tile sizes gancl can choose from (cl_tune.c lists the same).  Wide
 * tiles for AVX-512 (32 zmm registers), NV = 1 tiles for narrow matrices
 * and for 16-register vector units (AVX2: a float16 is two ymm).  Each one
 * adds about a second to a cold PoCL build, so the list stays short: a 4 x
 * 64 tile lost every measurement and was dropped, and so was 8 x 32 (it
 * never beat 12 x 32; its compile time went to the direct one-channel
 * convolution of cl/conv_direct.cl). */
__kernel void gemm_12x2(GEMM_PARAMS)
{
    gemm_tile(12, 2, GEMM_ARGS);
}
__kernel void gemm_6x1(GEMM_PARAMS)
{
    gemm_tile(6, 1, GEMM_ARGS);
}
__kernel void gemm_12x1(GEMM_PARAMS)
{
    gemm_tile(12, 1, GEMM_ARGS);
}

/* dst[b][j][i] = src[b][i][j] (+ bias[j]) (+ dst[b][j][i] when accumulate)
 * for i < rows, j < cols, with
 *
 *     src element (b, i, j) at src_off + b*src_bs + i*src_ld + j
 *     dst element (b, j, i) at dst_off + b*dst_bs + j*dst_ld + i
 *
 * One work-item moves a 16 x 16 block: sixteen row loads, sixteen row
 * stores, the transpose in registers.  NCHW <-> rows-of-channels permutes
 * (a batch of C x HW matrices), B^T for the GEMM and the convolutions'
 * weight permutes (and their gradients' way back, accumulating) are all
 * this kernel.  Global size (ceil(cols/16),
 * ceil(rows/16), batches). */
__kernel void gemm_transpose(__global float *dst, int dst_off, int dst_ld, int dst_bs,
                             __global const float *src, int src_off, int src_ld, int src_bs,
                             __global const float *bias, int bias_off, int has_bias, int accumulate,
                             int rows, int cols)
{
    const int j0 = (int)get_global_id(0) * 16, i0 = (int)get_global_id(1) * 16;
    const int bt = (int)get_global_id(2);
    if (i0 >= rows || j0 >= cols) return;
    __global const float *s = src + src_off + bt * src_bs + i0 * src_ld + j0;
    __global float *d = dst + dst_off + bt * dst_bs + j0 * dst_ld + i0;
    if (i0 + 16 <= rows && j0 + 16 <= cols) {
        float t[16][16];
#pragma unroll
        for (int i = 0; i < 16; i++)
            vstore16(vload16(0, s + i * src_ld), 0, t[i]);
#pragma unroll
        for (int j = 0; j < 16; j++) {
            float16 col = (float16)(t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j], t[6][j],
                                    t[7][j], t[8][j], t[9][j], t[10][j], t[11][j], t[12][j],
                                    t[13][j], t[14][j], t[15][j]);
            if (has_bias) col += bias[bias_off + j0 + j];
            if (accumulate) col += vload16(0, d + j * dst_ld);
            vstore16(col, 0, d + j * dst_ld);
        }
        return;
    }
    const int ni = min(16, rows - i0), nj = min(16, cols - j0);
    for (int j = 0; j < nj; j++) {
        const float add = has_bias ? bias[bias_off + j0 + j] : 0.0f;
        for (int i = 0; i < ni; i++)
            d[j * dst_ld + i] = s[i * src_ld + j] + add + (accumulate ? d[j * dst_ld + i] : 0.0f);
    }
}

/* The CLBlast engine's copies between a view (element (r, c) at
 * (r / grp) * gs + (r % grp) * rs + c * cs, see cl_tune.h) and a row-major
 * rows x cols matrix rm: gather into rm, or scatter from rm (+ bias[c]).
 * Global size (cols rounded up, rows); only GPUs and GANCL_GEMM=clblast
 * take this path, so the division per element is of no concern. */
__kernel void gemm_gather(__global float *rm, int rm_off, __global const float *x, int x_off,
                          int rs, int cs, int grp, int gs, GC_CTENSOR(bias), int has_bias, int rows,
                          int cols)
{
    const int cc = (int)get_global_id(0), r = (int)get_global_id(1);
    (void)bias;
    (void)bias_off;
    (void)has_bias;
    if (cc >= cols || r >= rows) return;
    rm[rm_off + r * cols + cc] = x[x_off + (r / grp) * gs + (r % grp) * rs + cc * cs];
}

__kernel void gemm_scatter(__global const float *rm, int rm_off, __global float *x, int x_off,
                           int rs, int cs, int grp, int gs, GC_CTENSOR(bias), int has_bias,
                           int rows, int cols)
{
    const int cc = (int)get_global_id(0), r = (int)get_global_id(1);
    if (cc >= cols || r >= rows) return;
    const float v = rm[rm_off + r * cols + cc];
    x[x_off + (r / grp) * gs + (r % grp) * rs + cc * cs] = has_bias ? v + bias[bias_off + cc] : v;
}

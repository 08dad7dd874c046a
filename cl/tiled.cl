/* cl/tiled.cl - the GPU family's GEMM and convolutions: one work-group per
 * TS x TS tile of C, operand tiles staged in local memory, and every
 * convolution pass as an implicit GEMM on the same core (no im2col buffer,
 * no transposes).
 *
 *                  n0 .. n0+TS  (columns of C)
 *                +-----------+
 *        k0..+TK |  bs[TK][TS] |  <- B tile, loaded by all NT work-items
 *                +-----------+
 *   +----+       +-----------+
 *   | as |  ==>  | C tile    |   L x L work-items, each a W x W micro-tile
 *   |[TK]|       | TS x TS   |   (TS = L * W): per k, W values of as and
 *   |[TS]|       |           |   W of bs from local memory, W*W FMAs
 *   +----+       +-----------+
 *   A tile (m0 .. m0+TS rows)
 *
 * The shape is the classic 2-D register-blocked SGEMM of Nugteren's
 * "Tutorial: OpenCL SGEMM tuning for Kepler" (kernels 5-6) and of CLBlast's
 * Xgemm: a K step of TK = 16, as CLBlast's KWG for most of its tuned GPUs
 * (src/database/kernels/xgemm/xgemm_32.hpp: KWG 16 or 32), and 256
 * work-items (CLBlast's MDIMC x NDIMC = 16 x 16 on A100, V100 and RTX
 * 30xx).  Three tile sizes are compiled: 32 (8 x 8 items of 4 x 4, for
 * small problems and devices with small work-groups), 64 (16 x 16 items
 * of 4 x 4) and 128 (16 x 16 items of 8 x 8, CLBlast's MWG = NWG = 128
 * class, for large problems); the host picks per call (cl_forms.c).
 *
 * Loads.  Each K step, the NT work-items copy the TS x TK slice of A and
 * the TK x TS slice of B into local memory, walking the operand's
 * contiguous direction so that neighbouring work-items read neighbouring
 * addresses (coalesced): "walk M" gives each item one row and TS*TK/NT
 * values of k, "walk K" one k and TS*TK/NT rows.  Local rows are padded by
 * TPAD floats, which keeps them 16-byte aligned and spreads a k-major
 * store over the banks.  Values outside the matrix load as 0, so edge
 * tiles need no special case except at the store.
 *
 * Micro-tiles.  When C's rows are contiguous (an NCHW output: pixels are
 * adjacent) the fast local id walks rows, otherwise columns, so the
 * stores of neighbouring items are adjacent either way.
 *
 * Operands.  A is m x k, B is k x n, C is m x n, each given by a mode:
 *
 *   TL_GEMM   A (r, c) at (r / grp) * gs + (r % grp) * rs + c * cs, B (r, c)
 *             at r * rs + c * cs, C like A (cl_tune.h's views)
 *   TL_FWD    conv2d forward: A = im2col(x) with k = (c, ky, kx) read from
 *             NCHW x in place, B = w (OC, K) as B^T, C = y (NCHW view) + bias
 *   TL_NHWC   channels-last forward: A = im2col(x), k = (ky, kx, c), from
 *             NHWC x; B = w (KH, KW, C, OC); C = a channel slice of y
 *   TL_DGRAD  conv2d data gradient (and conv_transpose2d forward), one
 *             stride phase per z: see below
 *   TL_WGRAD  conv2d weight gradient: dW (OC, K) += dy (OC, N*OHW) x
 *             im2col(x) (N*OHW, K); the reduction runs over the pixels
 *
 * The decomposition of a k index into (channel, tap) for the convolutions
 * costs integer divisions; they are made once per K step for the TK
 * values of the step, by TK work-items, into a small local table `kt`,
 * while the others compute, so the loads only add offsets.
 *
 * Data gradient by phases.  dx[iy] = sum over (oy, ky) with
 * oy*SH - PH + ky = iy of dy[oy] * w[ky].  For a stride above 1 only
 * the taps with ky = (iy + PH) mod SH contribute to a given iy, so the
 * pixels are split into SH * SW phases (ry, rx), one per z, each a dense
 * GEMM over K = taps-of-the-phase * OC: no multiply by a zero, no atomics,
 * and a fixed summation order.
 *
 * Split K.  A GEMM with few tiles and a long K (a weight gradient) runs
 * z = 0 .. splits-1 slices of K of kchunk each into a partial buffer
 * (C = the buffer, c_zs apart, beta 0), which tiled_sum_splits then adds
 * in a fixed order.
 *
 * Epilogue: alpha * acc (+ beta * C) (+ bias per column) (ReLU), so the
 * convolutions' bias and the channels-last ReLU (BatchNorm is folded into
 * the weights when Inception is built) cost no pass of their own.
 */

#define TK   16
#define TPAD 4

#define TL_GEMM  0
#define TL_FWD   1
#define TL_NHWC  2
#define TL_DGRAD 3
#define TL_WGRAD 4

#define TL_PARAMS                                                                                  \
    int m, int n, int k, float alpha, float beta, __global const float *a, int a_off, int a_rs,    \
        int a_cs, int a_grp, int a_gs, __global const float *b, int b_off, int b_rs, int b_cs,     \
        __global float *c, int c_off, int c_rs, int c_cs, int c_grp, int c_gs, int c_zs,           \
        __global const float *bias, int bias_off, int has_bias, int relu, int kchunk, int ic,      \
        int ih, int iw, int oc, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw
#define TL_ARGS                                                                                    \
    m, n, k, alpha, beta, a, a_off, a_rs, a_cs, a_grp, a_gs, b, b_off, b_rs, b_cs, c, c_off, c_rs, \
        c_cs, c_grp, c_gs, c_zs, bias, bias_off, has_bias, relu, kchunk, ic, ih, iw, oc, oh, ow,   \
        kh, kw, sh, sw, ph, pw

/* The table entry of k index kg: what the loads of the step add. */
inline void tl_ktab(const int MODE, __local int *kt, int slot, int kg, int ic, int ih, int iw,
                    int oc, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int ry,
                    int rx, int tx_n)
{
    int e0 = 0, e1 = 0, e2 = 0, e3 = 0;
    if (MODE == TL_FWD) { /* k = (c, ky, kx) */
        const int taps = kh * kw, cc = kg / taps, t = kg - cc * taps, ky = t / kw;
        const int kx = t - ky * kw;
        e0 = (cc * ih + ky) * iw + kx;
        e1 = ky;
        e2 = kx;
    } else if (MODE == TL_NHWC) { /* k = (ky, kx, c) */
        const int t = kg / ic, cc = kg - t * ic, ky = t / kw, kx = t - ky * kw;
        e0 = (ky * iw + kx) * ic + cc;
        e1 = ky;
        e2 = kx;
    } else if (MODE == TL_DGRAD) { /* k = (tap of the phase, o) */
        const int t = kg / oc, o = kg - t * oc, ty = t / max(tx_n, 1), tx = t - ty * tx_n;
        const int ky = ry + ty * sh, kx = rx + tx * sw;
        e0 = (o * oh - ty) * ow - tx; /* dy offset from (n, qy, qx) */
        e1 = ty;
        e2 = tx;
        e3 = (o * ic * kh + ky) * kw + kx; /* w offset of (o, 0, ky, kx) */
    } else if (MODE == TL_WGRAD) {         /* k = (n, oy, ox): a pixel of the output side */
        const int ohw = oh * ow, nn = kg / ohw, p = kg - nn * ohw, oy = p / ow, ox = p - oy * ow;
        const int iy0 = oy * sh - ph, ix0 = ox * sw - pw;
        e0 = nn * oc * ohw + p;               /* dy offset of (n, 0, p) */
        e3 = (nn * ic * ih + iy0) * iw + ix0; /* x offset of (n, 0, iy0, ix0) */
        e1 = iy0;
        e2 = ix0;
    }
    kt[4 * slot + 0] = e0;
    kt[4 * slot + 1] = e1;
    kt[4 * slot + 2] = e2;
    kt[4 * slot + 3] = e3;
}

#define TL_WMAX 8 /* the largest micro-tile side */
#define TL_JMAX 8 /* the most loads per operand per item and K step */

inline __attribute__((always_inline)) void tl_core(const int MODE, const int TS, const int W,
                                                   __local float *as, __local float *bs,
                                                   __local int *kt, TL_PARAMS)
{
    const int L = TS / W, NT = L * L, LD = TS + TPAD, J = TS * TK / NT;
    const int lx = (int)get_local_id(0), ly = (int)get_local_id(1), tid = ly * L + lx;
    const int z = (int)get_group_id(2);
    const int m0 = (int)get_group_id(1) * TS, n0 = (int)get_group_id(0) * TS;

    /* The GEMM this work-group is part of: a K slice, or a stride phase. */
    int M = m, K = k, kbeg = 0, kend = k;
    int ry = 0, rx = 0, iyf = 0, ixf = 0, hp = 1, wp = 1, tx_n = 1, qy0 = 0, qx0 = 0;
    if (MODE == TL_DGRAD) {
        /* m is the batch; the image side is (ic, ih, iw), dy is (oc, oh, ow). */
        ry = z / sw;
        rx = z - ry * sw;
        iyf = (ry - ph % sh + sh) % sh;
        ixf = (rx - pw % sw + sw) % sw;
        hp = iyf < ih ? (ih - iyf + sh - 1) / sh : 0;
        wp = ixf < iw ? (iw - ixf + sw - 1) / sw : 0;
        const int ty_n = ry < kh ? (kh - ry + sh - 1) / sh : 0;
        tx_n = rx < kw ? (kw - rx + sw - 1) / sw : 0;
        qy0 = (iyf + ph - ry) / sh;
        qx0 = (ixf + pw - rx) / sw;
        M = m * hp * wp;
        K = ty_n * tx_n * oc;
        kend = K;
    } else {
        kbeg = z * kchunk;
        kend = min(k, kbeg + kchunk);
    }
    /* A group past the rows still takes part in every barrier (returning
     * early around barriers miscompiles on PoCL 3.1); it loads nothing
     * and stores nothing. */
    const int active = m0 < M;
    if (!active) kend = kbeg;
    const int uses_kt = MODE != TL_GEMM;

    /* Which operand directions the loads walk. */
    const int a_walk_m =
        MODE == TL_GEMM ? !(a_cs == 1 && a_rs != 1) : MODE != TL_NHWC && MODE != TL_WGRAD;
    const int b_walk_n = MODE == TL_GEMM ? !(b_rs == 1 && b_cs != 1) : MODE != TL_FWD;

    /* Per-item row state of A's loads: one row (walk m) or J rows (walk k). */
    int arow[TL_JMAX], ay[TL_JMAX], ax[TL_JMAX], aok[TL_JMAX];
    const int a_ml = tid % TS, a_kl = tid / TS, a_kstep = NT / TS;
    const int a_kk = tid % TK, a_m0 = tid / TK, a_mstep = NT / TK;
#pragma unroll
    for (int j = 0; j < TL_JMAX; j++) {
        arow[j] = 0;
        ay[j] = 0;
        ax[j] = 0;
        aok[j] = 0;
        if (!active || j >= J || (a_walk_m && j > 0)) continue;
        const int r = m0 + (a_walk_m ? a_ml : a_m0 + j * a_mstep);
        aok[j] = r < M;
        const int rr = min(r, M - 1);
        if (MODE == TL_GEMM) {
            arow[j] = (rr / a_grp) * a_gs + (rr % a_grp) * a_rs;
        } else if (MODE == TL_FWD || MODE == TL_NHWC) {
            const int ohw = oh * ow, nn = rr / ohw, p = rr - nn * ohw, oy = p / ow;
            const int ox = p - oy * ow;
            ay[j] = oy * sh - ph;
            ax[j] = ox * sw - pw;
            arow[j] = MODE == TL_FWD ? (nn * ic * ih + ay[j]) * iw + ax[j]
                                     : ((nn * ih + ay[j]) * iw + ax[j]) * ic;
        } else if (MODE == TL_DGRAD) {
            const int per = hp * wp, nn = rr / per, q = rr - nn * per, i = q / wp, jj = q - i * wp;
            ay[j] = qy0 + i;
            ax[j] = qx0 + jj;
            arow[j] = (nn * oc * oh + ay[j]) * ow + ax[j];
        } else { /* TL_WGRAD: rows are output channels */
            arow[j] = rr * oh * ow;
        }
    }
    /* Per-item column state of B's loads. */
    int bcol[TL_JMAX], by[TL_JMAX], bx[TL_JMAX], bok[TL_JMAX];
    const int b_nl = tid % TS, b_kl = tid / TS, b_kstep = NT / TS;
    const int b_kk = tid % TK, b_n0 = tid / TK, b_nstep = NT / TK;
#pragma unroll
    for (int j = 0; j < TL_JMAX; j++) {
        bcol[j] = 0;
        by[j] = 0;
        bx[j] = 0;
        bok[j] = 0;
        if (!active || j >= J || (b_walk_n && j > 0)) continue;
        const int cidx = n0 + (b_walk_n ? b_nl : b_n0 + j * b_nstep);
        bok[j] = cidx < n;
        const int cc = min(cidx, n - 1);
        if (MODE == TL_DGRAD) {
            bcol[j] = cc * kh * kw;
        } else if (MODE == TL_WGRAD) { /* column (c, ky, kx) of im2col(x) */
            const int taps = kh * kw, ch = cc / taps, t = cc - ch * taps, ky = t / kw;
            by[j] = ky;
            bx[j] = t - ky * kw;
            bcol[j] = (ch * ih + by[j]) * iw + bx[j];
        } else {
            bcol[j] = cc * b_cs;
        }
    }

    float acc[TL_WMAX][TL_WMAX];
#pragma unroll
    for (int i = 0; i < TL_WMAX; i++)
#pragma unroll
        for (int j = 0; j < TL_WMAX; j++)
            acc[i][j] = 0.0f;

    if (uses_kt) {
        if (tid < TK)
            tl_ktab(MODE, kt, tid, kbeg + tid, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, ph, pw, ry,
                    rx, tx_n);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    /* Rows of micro-tiles on the fast local id when C's rows are adjacent. */
    const int rows_fast = MODE == TL_DGRAD || (MODE != TL_WGRAD && c_rs == 1 && c_cs != 1);
    const int tr = rows_fast ? lx : ly, tc = rows_fast ? ly : lx;

    for (int k0 = kbeg; k0 < kend; k0 += TK) {
        /* A's TS x TK slice into as[kl][ml] */
#pragma unroll
        for (int j = 0; j < J; j++) {
            const int ml = a_walk_m ? a_ml : a_m0 + j * a_mstep;
            const int kl = a_walk_m ? a_kl + j * a_kstep : a_kk;
            const int s = a_walk_m ? 0 : j; /* the row state */
            const int kg = k0 + kl;
            float v = 0.0f;
            if (aok[s] && kg < kend) {
                if (MODE == TL_GEMM) {
                    v = a[a_off + arow[s] + kg * a_cs];
                } else if (MODE == TL_FWD || MODE == TL_NHWC) {
                    const int iy = ay[s] + kt[4 * kl + 1], ix = ax[s] + kt[4 * kl + 2];
                    if (iy >= 0 && iy < ih && ix >= 0 && ix < iw)
                        v = a[a_off + arow[s] + kt[4 * kl]];
                } else if (MODE == TL_DGRAD) {
                    const int oy = ay[s] - kt[4 * kl + 1], ox = ax[s] - kt[4 * kl + 2];
                    if (oy >= 0 && oy < oh && ox >= 0 && ox < ow)
                        v = a[a_off + arow[s] + kt[4 * kl]];
                } else {
                    v = a[a_off + arow[s] + kt[4 * kl]];
                }
            }
            as[kl * LD + ml] = v;
        }
        /* B's TK x TS slice into bs[kl][nl] */
#pragma unroll
        for (int j = 0; j < J; j++) {
            const int nl = b_walk_n ? b_nl : b_n0 + j * b_nstep;
            const int kl = b_walk_n ? b_kl + j * b_kstep : b_kk;
            const int s = b_walk_n ? 0 : j;
            const int kg = k0 + kl;
            float v = 0.0f;
            if (bok[s] && kg < kend) {
                if (MODE == TL_DGRAD) {
                    v = b[b_off + bcol[s] + kt[4 * kl + 3]];
                } else if (MODE == TL_WGRAD) {
                    const int iy = kt[4 * kl + 1] + by[s], ix = kt[4 * kl + 2] + bx[s];
                    if (iy >= 0 && iy < ih && ix >= 0 && ix < iw)
                        v = b[b_off + bcol[s] + kt[4 * kl + 3]];
                } else {
                    v = b[b_off + kg * b_rs + bcol[s]];
                }
            }
            bs[kl * LD + nl] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        /* The next step's table, while the tiles are multiplied (every
         * read of kt for this step happened before the barrier above). */
        if (uses_kt && tid < TK)
            tl_ktab(MODE, kt, tid, k0 + TK + tid, ic, ih, iw, oc, oh, ow, kh, kw, sh, sw, ph, pw,
                    ry, rx, tx_n);
        __local const float *ap = as + tr * W, *bp = bs + tc * W;
        /* (No unroll pragma here: GPU compilers unroll these 16 steps by
         * themselves, and PoCL cannot and says so once per loop.) */
        for (int kk = 0; kk < TK; kk++) {
            float av[TL_WMAX], bv[TL_WMAX];
#pragma unroll
            for (int i = 0; i < W; i += 4) {
                const float4 x4 = vload4(0, ap + kk * LD + i), y4 = vload4(0, bp + kk * LD + i);
                av[i] = x4.s0, av[i + 1] = x4.s1, av[i + 2] = x4.s2, av[i + 3] = x4.s3;
                bv[i] = y4.s0, bv[i + 1] = y4.s1, bv[i + 2] = y4.s2, bv[i + 3] = y4.s3;
            }
#pragma unroll
            for (int i = 0; i < W; i++)
#pragma unroll
                for (int j = 0; j < W; j++)
                    acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    /* The epilogue: C = alpha * acc (+ beta * C) (+ bias) (ReLU). */
#pragma unroll
    for (int i = 0; i < W; i++) {
        const int r = m0 + tr * W + i;
        if (!active || r >= M) continue;
        int crow;
        if (MODE == TL_DGRAD) { /* pixel (iyf + SH*i', ixf + SW*j') of image nn */
            const int per = hp * wp, nn = r / per, q = r - nn * per, pi = q / wp, pj = q - pi * wp;
            crow = c_off + (nn * n * ih + iyf + sh * pi) * iw + ixf + sw * pj;
        } else {
            crow = c_off + z * c_zs + (r / c_grp) * c_gs + (r % c_grp) * c_rs;
        }
#pragma unroll
        for (int j = 0; j < W; j++) {
            const int col = n0 + tc * W + j;
            if (col >= n) continue;
            __global float *p = c + crow + col * c_cs;
            float v = alpha * acc[i][j];
            if (beta != 0.0f) v = fma(beta, *p, v);
            if (has_bias) v += bias[bias_off + col];
            if (relu) v = fmax(v, 0.0f);
            *p = v;
        }
    }
}

/* One kernel per mode and tile size; local memory is declared here, at
 * kernel scope, as OpenCL C 1.2 requires.  Global size (ceil(n/TS)*L,
 * ceil(rows/TS)*L, z), local (L, L, 1). */
#define TL_KERNEL(NAME, MODE, TS, W)                                                               \
    __kernel __attribute__((reqd_work_group_size(TS / W, TS / W, 1))) void NAME(TL_PARAMS)         \
    {                                                                                              \
        __local float as[TK * (TS + TPAD)], bs[TK * (TS + TPAD)];                                  \
        __local int kt[4 * TK];                                                                    \
        tl_core(MODE, TS, W, as, bs, kt, TL_ARGS);                                                 \
    }

TL_KERNEL(tiled_gemm_32, TL_GEMM, 32, 4)
TL_KERNEL(tiled_gemm_64, TL_GEMM, 64, 4)
TL_KERNEL(tiled_gemm_128, TL_GEMM, 128, 8)
TL_KERNEL(tiled_fwd_32, TL_FWD, 32, 4)
TL_KERNEL(tiled_fwd_64, TL_FWD, 64, 4)
TL_KERNEL(tiled_fwd_128, TL_FWD, 128, 8)
TL_KERNEL(tiled_nhwc_32, TL_NHWC, 32, 4)
TL_KERNEL(tiled_nhwc_64, TL_NHWC, 64, 4)
TL_KERNEL(tiled_nhwc_128, TL_NHWC, 128, 8)
TL_KERNEL(tiled_dgrad_32, TL_DGRAD, 32, 4)
TL_KERNEL(tiled_dgrad_64, TL_DGRAD, 64, 4)
TL_KERNEL(tiled_dgrad_128, TL_DGRAD, 128, 8)
TL_KERNEL(tiled_wgrad_32, TL_WGRAD, 32, 4)
TL_KERNEL(tiled_wgrad_64, TL_WGRAD, 64, 4)
TL_KERNEL(tiled_wgrad_128, TL_WGRAD, 128, 8)

/* C = sum over z < splits of P[z] (+ beta * C) (+ bias) (ReLU), P being
 * splits row-major m x n partials; C a view as in the core.  One
 * work-item per element; the partials are added in z order. */
__kernel void tiled_sum_splits(__global const float *p, int p_off, int splits, int m, int n,
                               float beta, __global float *c, int c_off, int c_rs, int c_cs,
                               int c_grp, int c_gs, __global const float *bias, int bias_off,
                               int has_bias, int relu)
{
    const int i = (int)get_global_id(0);
    if (i >= m * n) return;
    const int r = i / n, col = i - r * n;
    float s = 0.0f;
    for (int zz = 0; zz < splits; zz++)
        s += p[p_off + zz * m * n + i];
    __global float *out = c + c_off + (r / c_grp) * c_gs + (r % c_grp) * c_rs + col * c_cs;
    if (beta != 0.0f) s = fma(beta, *out, s);
    if (has_bias) s += bias[bias_off + col];
    if (relu) s = fmax(s, 0.0f);
    *out = s;
}

/* dst[b][j][i] = src[b][i][j] (+ bias[j]) (+ dst when accumulate), as
 * gemm_transpose in cl/gemm.cl, for the GPU family: a 16 x 16 block per
 * work-group of 16 x 16 items, staged in local memory so that both the
 * reads and the writes of neighbouring items are adjacent.  Global size
 * (ceil(cols/16)*16, ceil(rows/16)*16, batches). */
__kernel __attribute__((reqd_work_group_size(16, 16, 1))) void
tiled_transpose(__global float *dst, int dst_off, int dst_ld, int dst_bs, __global const float *src,
                int src_off, int src_ld, int src_bs, __global const float *bias, int bias_off,
                int has_bias, int accumulate, int rows, int cols)
{
    __local float t[16][17];
    const int lx = (int)get_local_id(0), ly = (int)get_local_id(1), bt = (int)get_global_id(2);
    const int j0 = (int)get_group_id(0) * 16, i0 = (int)get_group_id(1) * 16;
    if (i0 + ly < rows && j0 + lx < cols)
        t[ly][lx] = src[src_off + bt * src_bs + (i0 + ly) * src_ld + j0 + lx];
    barrier(CLK_LOCAL_MEM_FENCE);
    /* item (lx, ly) now writes element (i0 + lx, j0 + ly) of src */
    if (i0 + lx < rows && j0 + ly < cols) {
        __global float *d = dst + dst_off + bt * dst_bs + (j0 + ly) * dst_ld + i0 + lx;
        float v = t[lx][ly];
        if (has_bias) v += bias[bias_off + j0 + ly];
        if (accumulate) v += *d;
        *d = v;
    }
}

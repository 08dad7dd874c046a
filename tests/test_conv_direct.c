/* tests/test_conv_direct.c - the direct kernels for convolutions whose
 * image side has one channel (cl/conv_direct.cl: D's first convolution and
 * G's last transposed one), against the CPU reference.
 *
 * conv2d and conv_transpose2d, forward and backward, at random odd sizes:
 * kernels from 1x1 to 4x4 and non-square ones up to 16 taps, strides 1 to
 * 3, padding, output padding, output planes whose pixel count is and is not
 * a multiple of 16 (the kernels' vector width), one to 37 channels on the
 * other side.  Outputs are NaN-poisoned; dW and db start from random values
 * because backward accumulates into them.  A small GANCL_WORKSPACE_LIMIT
 * makes the batch run in chunks.  Normalised error 1e-5 as in
 * test_backend_ops (the reference sums in double, the kernels in float).
 */
#include <stdio.h>
#include <stdlib.h>

#include "test_support.h"

#define TOL 1e-5

typedef struct conv_case {
    int transposed, n, oc, h, w, kh, kw, s, pad, out_pad, with_dx;
} conv_case;

static void run_case(const conv_case *cc)
{
    gc_backend *bs[2] = {gt_cpu(), gt_cl()};
    gc_conv_params p = {cc->s, cc->s, cc->pad, cc->pad, cc->out_pad, cc->out_pad};
    /* The one-channel side is the input x of a conv2d and the output y of
     * a transposed convolution. */
    int64_t n = cc->n, xc = cc->transposed ? cc->oc : 1, yc = cc->transposed ? 1 : cc->oc;
    int64_t oh = cc->transposed
                     ? gc_conv_transpose_out_size(cc->h, cc->kh, cc->s, cc->pad, cc->out_pad)
                     : gc_conv_out_size(cc->h, cc->kh, cc->s, cc->pad);
    int64_t ow = cc->transposed
                     ? gc_conv_transpose_out_size(cc->w, cc->kw, cc->s, cc->pad, cc->out_pad)
                     : gc_conv_out_size(cc->w, cc->kw, cc->s, cc->pad);
    int64_t wdims[4] = {cc->transposed ? xc : yc, cc->transposed ? yc : xc, cc->kh, cc->kw};
    int64_t nx = n * xc * cc->h * cc->w, ny = n * yc * oh * ow, nw = xc * yc * cc->kh * cc->kw;
    float *hx = gt_rand_array(nx, -1, 1), *hw = gt_rand_array(nw, -1, 1),
          *hb = gt_rand_array(yc, -1, 1), *hdy = gt_rand_array(ny, -1, 1),
          *hdw = gt_rand_array(nw, -1, 1), *hdb = gt_rand_array(yc, -1, 1);
    gc_tensor x[2], wt[2], b[2], y[2], dy[2], dx[2], dw[2], db[2];
    for (int s = 0; s < 2; s++) {
        x[s] = gt_tensor(bs[s], GT_DIMS(n, xc, cc->h, cc->w), hx);
        wt[s] = gt_tensor(bs[s], 4, wdims, hw);
        b[s] = gt_tensor(bs[s], GT_DIMS(yc), hb);
        y[s] = gt_tensor(bs[s], GT_DIMS(n, yc, oh, ow), NULL);
        dy[s] = gt_tensor(bs[s], GT_DIMS(n, yc, oh, ow), hdy);
        dx[s] = gt_tensor(bs[s], GT_DIMS(n, xc, cc->h, cc->w), NULL);
        dw[s] = gt_tensor(bs[s], 4, wdims, hdw);
        db[s] = gt_tensor(bs[s], GT_DIMS(yc), hdb);
        const gc_tensor *dxp = cc->with_dx ? &dx[s] : NULL;
        if (cc->transposed) {
            GT_OK(gc_conv_transpose2d_forward(&y[s], &x[s], &wt[s], &b[s], &p));
            GT_OK(gc_conv_transpose2d_backward(dxp, &dw[s], &db[s], &dy[s], &x[s], &wt[s], &p));
        } else {
            GT_OK(gc_conv2d_forward(&y[s], &x[s], &wt[s], &b[s], &p));
            GT_OK(gc_conv2d_backward(dxp, &dw[s], &db[s], &dy[s], &x[s], &wt[s], &p));
        }
    }
    char what[160];
    snprintf(what, sizeof what, "%s n %d oc %d %dx%d k %dx%d s %d pad %d out_pad %d",
             cc->transposed ? "conv_transpose2d" : "conv2d", cc->n, cc->oc, cc->h, cc->w, cc->kh,
             cc->kw, cc->s, cc->pad, cc->out_pad);
    gt_assert_tensors_close(&y[1], &y[0], TOL, what);
    if (cc->with_dx) gt_assert_tensors_close(&dx[1], &dx[0], TOL, what);
    gt_assert_tensors_close(&dw[1], &dw[0], TOL, what);
    gt_assert_tensors_close(&db[1], &db[0], TOL, what);
    for (int s = 0; s < 2; s++) {
        gc_tensor *all[] = {&x[s], &wt[s], &b[s], &y[s], &dy[s], &dx[s], &dw[s], &db[s]};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            gt_free(all[i]);
    }
    free(hx);
    free(hw);
    free(hb);
    free(hdy);
    free(hdw);
    free(hdb);
}

static gc_backend *cl_or_skip(void)
{
    gc_backend *be = gt_cl();
    if (!be) gt_skip_no_opencl("test_conv_direct");
    return be;
}

/* Random geometry, both ops. */
START_TEST(random_shapes)
{
    cl_or_skip();
    for (int r = 0; r < 12; r++) {
        conv_case cc = {.transposed = r & 1,
                        .n = gt_randint(1, 5),
                        .oc = gt_randint(1, 37),
                        .h = gt_randint(3, 19),
                        .w = gt_randint(3, 19),
                        .kh = gt_randint(1, 4),
                        .s = gt_randint(1, 3),
                        .with_dx = r % 4 != 3};
        cc.kw = r % 3 == 2 ? gt_randint(1, 16 / cc.kh) : cc.kh; /* non-square too */
        cc.pad = gt_randint(0, (cc.kh < cc.kw ? cc.kh : cc.kw) - 1);
        cc.out_pad = cc.transposed ? gt_randint(0, cc.s - 1) : 0;
        /* Draws whose output is empty are not convolutions: skip them. */
        int64_t oh = cc.transposed
                         ? gc_conv_transpose_out_size(cc.h, cc.kh, cc.s, cc.pad, cc.out_pad)
                         : gc_conv_out_size(cc.h, cc.kh, cc.s, cc.pad);
        int64_t ow = cc.transposed
                         ? gc_conv_transpose_out_size(cc.w, cc.kw, cc.s, cc.pad, cc.out_pad)
                         : gc_conv_out_size(cc.w, cc.kw, cc.s, cc.pad);
        if (oh < 1 || ow < 1) continue;
        if (!cc.transposed && (cc.h + 2 * cc.pad < cc.kh || cc.w + 2 * cc.pad < cc.kw)) continue;
        run_case(&cc);
    }
}
END_TEST

/* The seed and DCGAN layers at a small batch: 3x3 and 4x4, stride 2, a
 * 14x14 plane (196 pixels: a tail of 4 after 12 vectors) and, for the
 * transposed convolution, 4x4 -> 8x8 (64 pixels: no tail). */
START_TEST(model_layers)
{
    cl_or_skip();
    conv_case cases[] = {
        {0, 3, 64, 28, 28, 3, 3, 2, 1, 0, 1}, {0, 3, 64, 28, 28, 4, 4, 2, 1, 0, 1},
        {1, 3, 64, 14, 14, 3, 3, 2, 1, 1, 1}, {1, 3, 64, 14, 14, 4, 4, 2, 1, 0, 1},
        {0, 2, 5, 16, 16, 4, 4, 2, 1, 0, 1},  {1, 2, 7, 4, 4, 4, 4, 2, 1, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i]);
}
END_TEST

/* A workspace too small for the batch: the kernels run per chunk of images
 * (dW accumulating across chunks). */
START_TEST(chunked)
{
    cl_or_skip();
    setenv("GANCL_WORKSPACE_LIMIT", "8192", 1);
    conv_case a = {0, 5, 9, 13, 11, 3, 3, 2, 1, 0, 1}, b = {1, 5, 9, 7, 6, 4, 4, 2, 1, 0, 1};
    run_case(&a);
    run_case(&b);
    unsetenv("GANCL_WORKSPACE_LIMIT");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("conv_direct");
    TCase *tc = tcase_create("conv_direct");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, random_shapes);
    tcase_add_test(tc, model_layers);
    tcase_add_test(tc, chunked);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

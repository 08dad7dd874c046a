/* tests/test_seq_backward_data.c - gc_seq_backward_data, the input-gradient
 * pass the generator's step takes through the discriminator, gives the
 * same dx as the full gc_seq_backward: on the CPU reference and on OpenCL,
 * for the seed and DCGAN discriminators and generators and for a network
 * of odd shapes (a strided convolution whose input size needs an output
 * padding to come back, a transposed convolution, batchnorm, activations,
 * a dense layer).  Normalised error 1e-5: the two passes sum the same
 * products in a different order. */
#include <stdlib.h>

#include "gancl/models.h"
#include "gancl/nn.h"
#include "test_support.h"

#define TOL 1e-5

/* dx of s at a random input and output gradient, both ways. */
static void check_seq(gc_seq *s, int n, const char *what)
{
    gc_backend *be = s->be;
    int64_t nin = n * s->in[0] * s->in[1] * s->in[2];
    gc_tensor out = gc_seq_output(s, n);
    int64_t nout = gc_tensor_numel(&out);
    float *hx = gt_rand_array(nin, -1, 1), *hd = gt_rand_array(nout, -1, 1);
    gc_tensor x = gt_tensor(be, GT_DIMS(n, s->in[0], s->in[1], s->in[2]), hx);
    gc_tensor dout = gt_tensor(be, GT_DIMS(nout), hd);
    gc_tensor dx_full = gt_tensor(be, GT_DIMS(n, s->in[0], s->in[1], s->in[2]), NULL);
    gc_tensor dx_data = gt_tensor(be, GT_DIMS(n, s->in[0], s->in[1], s->in[2]), NULL);
    GT_OK(gc_seq_forward(s, &x, n, 1));
    GT_OK(gc_seq_zero_grad(s));
    GT_OK(gc_seq_backward(s, &x, &dout, &dx_full, n));
    GT_OK(gc_seq_backward_data(s, &x, &dout, &dx_data, n));
    gt_assert_tensors_close(&dx_data, &dx_full, TOL, what);
    gt_free(&x);
    gt_free(&dout);
    gt_free(&dx_full);
    gt_free(&dx_data);
    free(hx);
    free(hd);
}

static void check_models(gc_backend *be)
{
    for (int kind = 0; kind < 2; kind++) {
        gc_gan_config cfg = gc_gan_default_config(kind ? GC_MODEL_DCGAN : GC_MODEL_SEED);
        cfg.g_width = 2 * gt_randint(2, 9);
        cfg.d_width = gt_randint(2, 11);
        int n = gt_randint(2, 5);
        gc_gan gan;
        GT_OK(gc_gan_init(&gan, be, &cfg, n));
        GT_OK(gc_gan_init_params(&gan, gt_seed()));
        check_seq(&gan.d, n, kind ? "dcgan D" : "seed D");
        check_seq(&gan.g, n, kind ? "dcgan G" : "seed G");
        gc_gan_free(&gan);
    }
}

static void check_odd(gc_backend *be)
{
    gc_layer_desc l[] = {
        {.kind = GC_LAYER_CONV2D, .out_c = 5, .kernel = 3, .stride = 2, .pad = 1, .bias = 1},
        {.kind = GC_LAYER_BATCHNORM2D},
        {.kind = GC_LAYER_ACT, .act = GC_ACT_LEAKY_RELU, .slope = 0.2f},
        {.kind = GC_LAYER_CONV_TRANSPOSE2D,
         .out_c = 3,
         .kernel = 4,
         .stride = 2,
         .pad = 1,
         .out_pad = 1,
         .bias = 1},
        {.kind = GC_LAYER_ACT, .act = GC_ACT_TANH},
        {.kind = GC_LAYER_CONV2D, .out_c = 4, .kernel = 3, .stride = 3, .pad = 0, .bias = 0},
        {.kind = GC_LAYER_DENSE, .out_c = 2, .bias = 1},
    };
    /* 10x10: (10 + 2 - 3) % 2 = 1, so the first layer's input gradient
     * needs an output padding; 11x11 after the transposed convolution,
     * (11 - 3) % 3 = 2 for the second convolution. */
    int n = gt_randint(2, 4);
    gc_seq s;
    GT_OK(gc_seq_init(&s, be, l, (int)(sizeof l / sizeof l[0]), (int64_t[]){2, 10, 10}, n));
    gc_rng rng = {.seed = gt_seed(), .offset = 0};
    GT_OK(gc_seq_init_params(&s, GC_INIT_TORCH_DEFAULT, &rng));
    check_seq(&s, n, "odd shapes");
    gc_seq_free(&s);
}

START_TEST(reference)
{
    check_models(gt_cpu());
    check_odd(gt_cpu());
}
END_TEST

START_TEST(opencl)
{
    gc_backend *be = gt_cl();
    if (!be) gt_skip_no_opencl("test_seq_backward_data");
    check_models(be);
    check_odd(be);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("seq_backward_data");
    TCase *tc = tcase_create("seq_backward_data");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, reference);
    tcase_add_test(tc, opencl);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

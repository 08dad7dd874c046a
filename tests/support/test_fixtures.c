/* tests/support/test_fixtures.c - input files shared by several tests. */
#include "test_fixtures.h"

#include <stdio.h>
#include <stdlib.h>

#include "gancl/io.h"
#include "models/inception.h"
#include "test_support.h"

void gt_write_stem_weights(const char *path, uint64_t seed)
{
    static const char *convs[3] = {"Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"};
    static const int ic[3] = {3, 32, 32}, oc[3] = {32, 32, 64};
    static const char *parts[5] = {"conv.weight", "bn.weight", "bn.bias", "bn.running_mean",
                                   "bn.running_var"};
    gc_st_tensor t[15];
    char names[15][64];
    float *data[15];
    for (int k = 0; k < 15; k++) {
        int c = k / 5, p = k % 5;
        snprintf(names[k], sizeof names[k], "%s.%s", convs[c], parts[p]);
        t[k] = (gc_st_tensor){
            .name = names[k], .dtype = GC_ST_F32, .ndim = p ? 1 : 4, .shape = {oc[c], ic[c], 3, 3}};
        int64_t n = p ? oc[c] : oc[c] * ic[c] * 9;
        data[k] = malloc(sizeof(float) * (size_t)n);
        GT_OK(gc_inc_get_random(&seed, names[k], t[k].ndim, t[k].shape, data[k]));
        t[k].data = data[k];
    }
    GT_OK(gc_st_write(path, t, 15, NULL, 0));
    for (int k = 0; k < 15; k++)
        free(data[k]);
}

void gt_write_noise_idx(const char *path, uint8_t *px, int n, int h, int w, int gz)
{
    for (int64_t i = 0; i < (int64_t)n * h * w; i++)
        px[i] = (uint8_t)gt_randint(0, 255);
    gc_idx d = {.kind = GC_IDX_IMAGES, .data = px, .n = n, .h = h, .w = w};
    GT_OK(gc_idx_write(path, &d, gz));
}

gc_train_config gt_tiny_train_config(gc_model_kind kind, int h, int w)
{
    gc_train_config c = gc_train_default_config(kind);
    c.model.height = h;
    c.model.width = w;
    c.model.latent = 7;
    c.model.g_width = 6;
    c.model.d_width = 5;
    c.batch = 8;
    c.seed = gt_seed();
    return c;
}

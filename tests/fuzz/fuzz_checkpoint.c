/* tests/fuzz/fuzz_checkpoint.c - libFuzzer target for checkpoint loading on
 * the CPU backend, in the order the commands use it: the configuration
 * (gancl train --resume, sample, fid), then the models (sample, fid), then
 * a trainer's full state (train --resume). */
#include "fuzz_common.h"
#include "gancl/backend.h"
#include "gancl/io.h"
#include "gancl/models.h"
#include "gancl/train.h"

static gc_backend *be;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!be && gc_backend_init("cpu", &be) != GC_OK) abort();
    const char *path = fuzz_file("ckpt", data, size);
    gc_train_config cfg;
    if (gc_checkpoint_config(path, &cfg) != GC_OK) return 0;

    gc_gan gan;
    if (gc_gan_init(&gan, be, &cfg.model, 2) == GC_OK) {
        uint64_t fixed;
        (void)gc_checkpoint_load_gan(path, &gan, &fixed);
        gc_gan_free(&gan);
    }

    /* The trainer wants gray data of the model's size: four black images,
     * two batches of two. */
    if (cfg.model.channels != 1) return 0;
    cfg.batch = 2;
    int h = cfg.model.height, w = cfg.model.width;
    uint8_t *images = calloc(4 * (size_t)h * (size_t)w, 1);
    if (!images) abort();
    gc_trainer tr;
    if (gc_trainer_init(&tr, be, &cfg, images, 4, h, w) == GC_OK) {
        (void)gc_trainer_load(&tr, path);
        gc_trainer_free(&tr);
    }
    free(images);
    return 0;
}

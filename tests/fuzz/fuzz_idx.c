/* tests/fuzz/fuzz_idx.c - libFuzzer target for the IDX reader, raw and
 * gzip (zlib tells them apart by content), as images and as labels. */
#include "fuzz_common.h"
#include "gancl/io.h"

/* Touches every byte so ASan sees any read past what was allocated. */
static void check(const gc_idx *d)
{
    if (d->n < 1 || d->h < 1 || d->w < 1) abort();
    uint64_t size = (uint64_t)d->n * (uint64_t)d->h * (uint64_t)d->w;
    volatile uint8_t sum = 0;
    for (uint64_t i = 0; i < size; i++)
        sum ^= d->data[i];
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("idx", data, size);
    gc_idx_kind kinds[2] = {GC_IDX_IMAGES, GC_IDX_LABELS};
    for (int k = 0; k < 2; k++) {
        gc_idx d;
        if (gc_idx_read(path, kinds[k], &d) == GC_OK) {
            check(&d);
            gc_idx_free(&d);
        } else if (d.data || d.n) {
            abort(); /* failure must leave *out zeroed */
        }
    }
    return 0;
}

/* tests/fuzz/fuzz_png.c - libFuzzer target for the PNG reader, in each of
 * its channel modes (picked from the input's length, so the data itself is
 * what libpng sees, byte for byte). */
#include "fuzz_common.h"
#include "gancl/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("png", data, size);
    static const int modes[3] = {0, 1, 3};
    int channels = modes[size % 3];
    gc_image img;
    if (gc_png_read(path, channels, &img) != GC_OK) return 0;
    if (img.w < 1 || img.h < 1 || (channels && img.c != channels)) abort();
    volatile uint8_t sum = 0;
    size_t n = (size_t)img.w * (size_t)img.h * (size_t)img.c;
    for (size_t i = 0; i < n; i++)
        sum ^= img.data[i];
    (void)sum;
    gc_image_free(&img);
    return 0;
}

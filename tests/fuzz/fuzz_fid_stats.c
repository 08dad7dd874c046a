/* tests/fuzz/fuzz_fid_stats.c - libFuzzer target for the FID statistics
 * reader (a safetensors file holding mu and sigma). */
#include <math.h>

#include "fuzz_common.h"
#include "gancl/fid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("stats", data, size);
    gc_fid_stats st;
    char *source;
    if (gc_fid_stats_load(path, &st, &source) != GC_OK) {
        if (st.mu || st.sigma || source) abort(); /* nothing leaks out of a failure */
        return 0;
    }
    int64_t d = st.dims;
    if (d < 1) abort();
    for (int64_t i = 0; i < d; i++) {
        if (!isfinite(st.mu[i])) abort();
        for (int64_t j = 0; j < d; j++)
            if (st.sigma[i * d + j] != st.sigma[j * d + i]) abort();
    }
    free(source);
    gc_fid_stats_free(&st);
    return 0;
}

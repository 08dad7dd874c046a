/* tests/fuzz/fuzz_safetensors.c - libFuzzer target for the safetensors
 * reader: the 8-byte length, the JSON header, the layout checks, and the
 * lookups callers make afterwards. */
#include "fuzz_common.h"
#include "gancl/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("st", data, size);
    gc_st_file *f;
    if (gc_st_load(path, 1 << 20, &f) != GC_OK) return 0;
    volatile uint8_t sum = 0;
    size_t total = 0;
    for (int i = 0; i < gc_st_count(f); i++) {
        const gc_st_tensor *t = gc_st_at(f, i);
        if (gc_st_find(f, t->name) != t) abort();
        if (t->ndim < 0 || t->ndim > GC_ST_MAX_DIMS) abort();
        size_t elem = gc_st_dtype_size(t->dtype);
        if (t->nbytes && (uintptr_t)t->data % elem) abort(); /* promised alignment */
        for (size_t b = 0; b < t->nbytes; b++)
            sum ^= ((const uint8_t *)t->data)[b];
        total += t->nbytes;
    }
    if (total + 8 > size) abort(); /* the data must have come from the file */
    for (int i = 0; i < gc_st_metadata_count(f); i++) {
        gc_st_kv kv = gc_st_metadata_at(f, i);
        if (gc_st_metadata(f, kv.key) != kv.value) abort();
        sum ^= (uint8_t)strlen(kv.value);
    }
    (void)sum;
    gc_st_free(f);
    return 0;
}

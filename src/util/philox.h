/* src/util/philox.h - Philox4x32-10 (Salmon et al., SC'11), host side.
 *
 * The same function lives in cl/rng.cl; both map a (seed, counter) pair to
 * four 32-bit words, and element i of a fill uses counter offset + i, word 0
 * (and word 1 for Box-Muller).  Uniform floats are exact: (w >> 8) * 2^-24.
 */
#ifndef GANCL_UTIL_PHILOX_H
#define GANCL_UTIL_PHILOX_H

#include <math.h>
#include <stdint.h>

static inline void gc_philox4x32_10(uint64_t seed, uint64_t counter, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* A float in (0, 1): never 0, so log() is finite. */
static inline float gc_philox_open01(uint32_t w)
{
    return ((float)(w >> 8) + 0.5f) * (1.0f / 16777216.0f);
}

/* A float in [0, 1). */
static inline float gc_philox_01(uint32_t w)
{
    return (float)(w >> 8) * (1.0f / 16777216.0f);
}

/* Box-Muller from two words, in float as the OpenCL kernel computes it. */
static inline float gc_philox_normal(const uint32_t w[4])
{
    float u1 = gc_philox_open01(w[0]);
    float u2 = gc_philox_01(w[1]);
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795864769f * u2);
}

#endif

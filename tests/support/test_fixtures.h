/* tests/support/test_fixtures.h - input files that several tests build:
 * Inception weights of the deterministic random generator for the stem
 * only (what 64 FID dims needs, cheap to run on the CPU reference), and
 * IDX files of noise images. */
#ifndef GANCL_TEST_FIXTURES_H
#define GANCL_TEST_FIXTURES_H

#include <stdint.h>

#include "gancl/train.h"

/* The 15 stem tensors (Conv2d_1a/2a/2b: conv weight and batch norm) as
 * f32 safetensors at path, drawn by gc_inc_get_random from seed. */
void gt_write_stem_weights(const char *path, uint64_t seed);

/* Fills px (n images of h x w bytes) with uniform random bytes from the
 * test's generator and writes them as an IDX image file at path, gzipped
 * when gz. */
void gt_write_noise_idx(const char *path, uint8_t *px, int n, int h, int w, int gz);

/* A model of kind small enough to train in milliseconds on h x w images
 * (latent 7, widths 6 and 5, batch 8), seeded from the test's seed. */
gc_train_config gt_tiny_train_config(gc_model_kind kind, int h, int w);

#endif

/* src/models/inception.h - private: the Inception-v3 builder behind gancl/fid.h.
 *
 * The network is a list of stages (the two stem stages, then one stage per
 * Mixed block), each a kind and its convolutions' output channels, so tests
 * can build any single block at small channel counts and the real network is
 * one table (gc_inc_fid_stages).  Weights come from a getter asked for each
 * tensor by its pytorch-fid state_dict name; BatchNorm is folded into the
 * convolution on the host in double:
 *
 *     s = gamma / sqrt(running_var + 0.001)
 *     w' = w * s,   b' = beta - running_mean * s
 *
 * so every BasicConv2d is one channels-last convolution with bias and a
 * fused ReLU (gc_conv2d_nhwc_forward; weights stored (KH, KW, C, OC)).  The
 * first convolution of the real network also absorbs pytorch-fid's 2x - 1
 * input scaling (it has no padding, so conv(2x - 1) = conv_{2w}(x) - sum(w)
 * exactly).
 *
 * Memory: two activation buffers U and V, sized per image by a dry run of
 * the forward pass (the same code with a `plan` flag), hold everything:
 *
 *     stem stages   ping-pong between U[0..] and V[0..]
 *     Mixed blocks  input and output alternate between U[0..] and V[0..];
 *                   V after the largest block input/output holds two branch
 *                   temporaries; the branch outputs are written straight
 *                   into their channel slices of the block output
 *
 * Activations are (n, h, w, c) inside; the input and whatever leaves the
 * network (the feature tap, gc_inc_run's stage outputs) are NCHW.
 *
 * A pass runs `chunk` images; the chunk is the largest that keeps each buffer
 * under the device's max allocation and both under about half its memory.
 */
#ifndef GANCL_MODELS_INCEPTION_H
#define GANCL_MODELS_INCEPTION_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/fid.h"
#include "gancl/ops.h"
#include "gancl/tensor.h"

/* The order of tools/make_inception_goldens.py's KINDS (param.kind). */
typedef enum gc_inc_kind {
    GC_INC_STEM0, /* Conv2d_1a_3x3 (s2), Conv2d_2a_3x3, Conv2d_2b_3x3 (p1), max pool 3/2 */
    GC_INC_STEM1, /* Conv2d_3b_1x1, Conv2d_4a_3x3, max pool 3/2 */
    GC_INC_A,     /* FIDInceptionA */
    GC_INC_B,     /* InceptionB (Mixed_6a) */
    GC_INC_C,     /* FIDInceptionC */
    GC_INC_D,     /* InceptionD (Mixed_7a) */
    GC_INC_E_AVG, /* FIDInceptionE_1 */
    GC_INC_E_MAX, /* FIDInceptionE_2 */
    GC_INC_KIND_COUNT
} gc_inc_kind;

#define GC_INC_MAX_CONVS 10

/* One stage.  ch[i] is the output channel count of the kind's i-th
 * convolution, in the order of the channel lists in the .py tool. */
typedef struct gc_inc_stage {
    gc_inc_kind kind;
    const char *prefix; /* "Mixed_5b"; NULL for the stem (its names have none) */
    int ch[GC_INC_MAX_CONVS];
} gc_inc_stage;

/* The real network: 13 stages; features of 64, 192, 768, 2048 dims are the
 * outputs of stages 0, 1, 9 and 12. */
extern const gc_inc_stage gc_inc_fid_stages[13];
int gc_inc_tap_stage(int dims); /* -1 for an invalid dims */

/* Copies the tensor called name, which must have this shape, into dst. */
typedef gc_status (*gc_inc_get_fn)(void *ctx, const char *name, int ndim, const int64_t *shape,
                                   float *dst);

typedef struct gc_inc_config {
    const gc_inc_stage *stages;
    int n_stages;
    int in_c, in_h, in_w; /* the first stage's input (299 x 299 after resizing) */
    int resize;           /* gc_inception_features resizes images to in_h x in_w */
    int scale_input;      /* fold 2x - 1 into the first convolution */
    int tap_stage;        /* features = global average pool of this stage; -1 none */
    int max_batch;
    /* Plan as if the device had these limits (0: the device's own). */
    uint64_t max_alloc, global_mem;
} gc_inc_config;

gc_status gc_inc_build(gc_backend *be, const gc_inc_config *cfg, gc_inc_get_fn get, void *ctx,
                       gc_inception **out);

/* Images per pass, and the floats per image of activation buffer b (0, 1). */
int gc_inc_chunk(const gc_inception *net);
int64_t gc_inc_need(const gc_inception *net, int b);
/* Output channels and size of stage i for the configured input. */
void gc_inc_stage_shape(const gc_inception *net, int stage, int64_t chw[3]);

/* The first stage's input for n <= chunk images, to be written by the caller. */
gc_tensor gc_inc_input(gc_inception *net, int n);

/* Uploads n <= chunk host images (n, c, h, w) in [0, 1], c = 1 or 3, and
 * resizes (or copies) them into gc_inc_input(net, n). */
gc_status gc_inc_preprocess(gc_inception *net, const float *images, int n, int c, int h, int w);

/* Fills both activation buffers with v (tests poison them with NaN). */
gc_status gc_inc_fill_activations(gc_inception *net, float v);

/* Called after each stage with its output (valid until the next stage runs). */
typedef gc_status (*gc_inc_stage_fn)(void *ctx, int stage, const gc_tensor *out);

/* Runs every stage on gc_inc_input(net, n); *out (if non-NULL) is the last
 * stage's output. */
gc_status gc_inc_run(gc_inception *net, int n, gc_inc_stage_fn after_stage, void *ctx,
                     gc_tensor *out);

/* Getters. */
/* ctx: a const uint64_t *seed.  Values as tools/make_inception_goldens.py's hash_tensor. */
gc_status gc_inc_get_random(void *ctx, const char *name, int ndim, const int64_t *shape,
                            float *dst);
/* ctx: a gc_st_file * (gancl/io.h); F32 only, shape checked. */
gc_status gc_inc_get_safetensors(void *ctx, const char *name, int ndim, const int64_t *shape,
                                 float *dst);

#endif

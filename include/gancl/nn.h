/* gancl/nn.h - layers and a sequential network with one buffer per role.
 *
 * A gc_seq is a chain of layers (dense, conv2d, conv_transpose2d,
 * batchnorm2d, activation, max pooling, minibatch stddev; dense and conv2d
 * optionally spectrally normalised) built from a list of gc_layer_desc.
 * Like llm.c, it owns a handful of backend buffers, each split into tensors
 * by offset:
 *
 *   params, grads, adam_m, adam_v   every weight/bias/gamma/beta, in layer
 *                                   order, so Adam is one launch per buffer
 *   state                           batchnorm running mean and variance,
 *                                   spectral norm's power-iteration vector u
 *   acts, dacts                     every layer's output (and its gradient)
 *                                   for up to max_batch samples, plus the
 *                                   batchnorm statistics saved for backward
 *
 * All of it is allocated by gc_seq_init; forward, backward, zero-grad and
 * the Adam step allocate nothing and copy nothing to or from the host.
 *
 *     gc_seq g;
 *     gc_seq_init(&g, be, descs, n_descs, (int64_t[]){100, 1, 1}, 64);
 *     gc_seq_init_params(&g, GC_INIT_DCGAN, &rng);
 *     gc_seq_forward(&g, &z, 64, 1);        // gc_seq_output(&g, 64)
 *     gc_seq_zero_grad(&g);
 *     gc_seq_backward(&g, &z, &dout, NULL, 64);
 *     gc_seq_adam(&g, &adam);
 */
#ifndef GANCL_NN_H
#define GANCL_NN_H

#include <stdint.h>

#include "gancl/ops.h"
#include "gancl/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GC_SEQ_MAX_LAYERS 32
#define GC_BN_EPS         1e-5f
#define GC_BN_MOMENTUM    0.1f

typedef enum gc_layer_kind {
    GC_LAYER_DENSE,            /* y = x @ w^T + b; x flattened per sample */
    GC_LAYER_CONV2D,           /* w (out_c, in_c, k, k) */
    GC_LAYER_CONV_TRANSPOSE2D, /* w (in_c, out_c, k, k), as in PyTorch */
    GC_LAYER_BATCHNORM2D,      /* per channel over (N, H, W); gamma, beta */
    GC_LAYER_ACT,              /* elementwise gc_act */
    GC_LAYER_MAXPOOL2D,        /* kernel x kernel windows, stride, pad (-inf) */
    /* Minibatch standard deviation (gc_mbstd_forward): C + 1 output
     * channels.  desc.group is the group size; a batch of n uses the
     * largest divisor of n that is at most group (n itself when smaller),
     * so any batch size runs. */
    GC_LAYER_MBSTD,
} gc_layer_kind;

/* A dense layer's class conditioning (classes > 0), reading the labels the
 * caller puts in gc_seq_labels before forward and backward:
 *   GC_COND_EMBED    y += e[label], e (classes, out): a learned class
 *                    embedding added to the output -- the same as a one-hot
 *                    label concatenated to the input (G's first layer)
 *   GC_COND_PROJECT  y += <e[label], x>, e (classes, in), out = 1: the
 *                    projection discriminator's class term (D's last layer) */
typedef enum gc_class_cond {
    GC_COND_NONE,
    GC_COND_EMBED,
    GC_COND_PROJECT,
} gc_class_cond;

/* What a layer is.  Unused fields are ignored. */
typedef struct gc_layer_desc {
    gc_layer_kind kind;
    /* dense: the output seen as (out_c, out_h, out_w), so a dense layer
     * also reshapes (out_h = out_w = 0 means 1); conv: output channels. */
    int out_c, out_h, out_w;
    int kernel, stride, pad, out_pad; /* convolutions (out_pad: transposed only) */
    int bias;                         /* dense and convolutions: 1 to have a bias */
    gc_act act;                       /* GC_LAYER_ACT */
    float slope;                      /* leaky ReLU */
    gc_class_cond cond;               /* dense only */
    int classes;                      /* dense with cond: the number of classes */
    /* Dense and conv2d: 1 for a spectrally normalised weight (Miyato et al.
     * 2018): the layer computes with w / sigma(w), sigma from one power-
     * iteration step per training forward (gc_spectral_norm_forward) with
     * u kept in state.  An evaluation forward (train 0) iterates on a copy
     * of u, so it changes no state.  Gradients reach w through
     * gc_spectral_norm_backward; the class table of a conditional layer is
     * not normalised. */
    int sn;
    int group; /* GC_LAYER_MBSTD: the group size (>= 1) */
} gc_layer_desc;

/* A layer as placed in its network: shapes per sample and float offsets into
 * the network's buffers. */
typedef struct gc_layer {
    gc_layer_desc d;
    int64_t in[3], out[3]; /* C, H, W of one sample */
    int64_t w_n, b_n;      /* numel of weight (or gamma) and bias (or beta); 0 if none */
    size_t w_off, b_off;   /* into params, grads, adam_m, adam_v */
    size_t stat_off;       /* batchnorm: running mean then running var, into state */
    size_t act_off;        /* this layer's output for max_batch samples, into acts/dacts */
    size_t save_off;       /* batchnorm: saved mean then invstd, into acts */
    int64_t e_n;           /* the class table's numel (0 if none) ... */
    size_t e_off;          /* ... and its offset into params etc., after the bias */
    /* Spectral norm (d.sn): u (w's rows) in state, and scratch in acts:
     * w / sigma (w_n floats), its gradient (w_n), v (w's columns), sigma
     * (1) and a copy of u for evaluation forwards (rows). */
    size_t u_off, sn_off;
} gc_layer;

typedef struct gc_seq {
    gc_backend *be;
    int n_layers;
    gc_layer layers[GC_SEQ_MAX_LAYERS];
    int64_t in[3]; /* input C, H, W */
    int max_batch;
    int64_t n_params, n_state, n_acts; /* floats in params, state, acts */
    gc_buffer *params, *grads, *adam_m, *adam_v, *state, *acts, *dacts;
    gc_buffer *labels; /* max_batch floats when a layer is conditional, else NULL */
} gc_seq;

/* Builds the network for inputs of shape in (C, H, W) and batches of at most
 * max_batch.  Shapes that do not chain (a convolution whose output would be
 * empty) fail with GC_ERR_ARG; allocation failures with GC_ERR_NOMEM.
 * Parameters are left unset: call gc_seq_init_params or load them. */
gc_status gc_seq_init(gc_seq *s, gc_backend *be, const gc_layer_desc *descs, int count,
                      const int64_t in[3], int max_batch);
void gc_seq_free(gc_seq *s);

typedef enum gc_init_scheme {
    /* PyTorch's defaults: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))
     * (kaiming_uniform with a = sqrt(5)); fan_in of a transposed convolution
     * is weight.size(1) * k * k as PyTorch computes it; gamma 1, beta 0. */
    GC_INIT_TORCH_DEFAULT,
    /* DCGAN: dense and convolution weights N(0, 0.02), biases 0, gamma
     * N(1, 0.02), beta 0. */
    GC_INIT_DCGAN,
} gc_init_scheme;

/* Draws every parameter from rng (device-side Philox, the same numbers on
 * every backend) in layer order; resets the running statistics to mean 0,
 * variance 1.  A spectrally normalised layer's u is drawn N(0, 1) after
 * its other parameters (a network without one draws what it always did). */
gc_status gc_seq_init_params(gc_seq *s, gc_init_scheme scheme, gc_rng *rng);

/* Runs the network on x (n, C, H, W) with n <= max_batch.  train selects
 * batch statistics (and updates the running ones) for batchnorm; otherwise
 * the running statistics are used. */
gc_status gc_seq_forward(gc_seq *s, const gc_tensor *x, int n, int train);
/* The last layer's output for a batch of n, as (n, C, H, W). */
gc_tensor gc_seq_output(const gc_seq *s, int n);
/* Back-propagates dout (the gradient of the output, (n, ...)) through the
 * activations the last training forward saved (same x, same n): accumulates
 * into grads and writes the gradient of x into dx unless dx is NULL. */
gc_status gc_seq_backward(gc_seq *s, const gc_tensor *x, const gc_tensor *dout, const gc_tensor *dx,
                          int n);
/* The same pass for the input gradient alone, as the generator's step
 * needs from the discriminator: dense and convolution layers compute no
 * weight or bias gradient (a convolution's input gradient is the
 * transposed convolution of dout with the same weights), so this costs
 * about half as much.  Batchnorm layers still add to their gamma and beta
 * gradients; treat grads as stale afterwards (zero them before the next
 * gc_seq_backward).  dx must not be NULL. */
gc_status gc_seq_backward_data(gc_seq *s, const gc_tensor *x, const gc_tensor *dout,
                               const gc_tensor *dx, int n);
gc_status gc_seq_zero_grad(gc_seq *s);
/* One Adam step over all parameters (a single launch). */
gc_status gc_seq_adam(gc_seq *s, const gc_adam_params *p);

/* Whole buffers as 1-D tensors (params, grads, adam_m, adam_v: n_params
 * floats; state: n_state floats, or buf == NULL for a network without
 * batchnorm or spectral norm). */
gc_tensor gc_seq_params(const gc_seq *s);
gc_tensor gc_seq_grads(const gc_seq *s);
gc_tensor gc_seq_adam_m(const gc_seq *s);
gc_tensor gc_seq_adam_v(const gc_seq *s);
gc_tensor gc_seq_state(const gc_seq *s);

/* One layer's tensors: weight (or gamma) and bias (or beta) in the buffer
 * `buf` (one of params, grads, adam_m, adam_v); running mean and variance.
 * A missing tensor has buf == NULL. */
gc_tensor gc_layer_weight(const gc_seq *s, int layer, gc_buffer *buf);
gc_tensor gc_layer_bias(const gc_seq *s, int layer, gc_buffer *buf);
gc_tensor gc_layer_running_mean(const gc_seq *s, int layer);
gc_tensor gc_layer_running_var(const gc_seq *s, int layer);
/* A spectrally normalised layer's u (rows of its weight) in state; buf
 * NULL for other layers. */
gc_tensor gc_layer_sn_u(const gc_seq *s, int layer);
/* A conditional dense layer's class table (classes, F) in buf. */
gc_tensor gc_layer_class_table(const gc_seq *s, int layer, gc_buffer *buf);
/* Where the labels of the next forward and backward of a batch of n go
 * (n floats, class indices): the caller writes or copies them there. */
gc_tensor gc_seq_labels(const gc_seq *s, int n);
/* Layer i's output of the last forward for a batch of n, (n, C, H, W): a
 * classifier's penultimate features, say. */
gc_tensor gc_seq_layer_output(const gc_seq *s, int layer, int n);

/* Multiply-accumulates of one sample's forward pass through layer (dense and
 * convolutions; 0 for the others).  The backward pass costs the same again
 * for the weight gradient and once more for the input gradient. */
int64_t gc_layer_macs(const gc_layer *l);

#ifdef __cplusplus
}
#endif
#endif

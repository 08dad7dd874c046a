/* src/nn/layers.c - forward, backward and initialisation of each layer kind,
 * and the sequential passes that chain them over the saved activations. */
#include "gancl/nn.h"

#include <math.h>

#include "util/error.h"

/* Layer i's output for a batch of n (its slot in acts, or dacts). */
static gc_tensor act_view(const gc_seq *s, gc_buffer *buf, int i, int n)
{
    const gc_layer *l = &s->layers[i];
    return gc_tensor_4d(s->be, buf, l->act_off, n, l->out[0], l->out[1], l->out[2]);
}

gc_tensor gc_seq_output(const gc_seq *s, int n)
{
    return act_view(s, s->acts, s->n_layers - 1, n);
}

gc_tensor gc_seq_layer_output(const gc_seq *s, int layer, int n)
{
    GC_ASSERT(layer >= 0 && layer < s->n_layers && n >= 1 && n <= s->max_batch);
    return act_view(s, s->acts, layer, n);
}

static gc_conv_params conv_params(const gc_layer_desc *d)
{
    return (gc_conv_params){.stride_h = d->stride,
                            .stride_w = d->stride,
                            .pad_h = d->pad,
                            .pad_w = d->pad,
                            .out_pad_h = d->out_pad,
                            .out_pad_w = d->out_pad};
}

static gc_pool_params pool_params(const gc_layer_desc *d)
{
    return (gc_pool_params){.kernel_h = d->kernel,
                            .kernel_w = d->kernel,
                            .stride_h = d->stride,
                            .stride_w = d->stride,
                            .pad_h = d->pad,
                            .pad_w = d->pad};
}

static gc_tensor flat(const gc_tensor *t)
{
    int64_t n = GC_N(t);
    return gc_tensor_reshape(*t, 2, (int64_t[]){n, gc_tensor_numel(t) / n});
}

static gc_tensor save_view(const gc_seq *s, int i, int which)
{
    const gc_layer *l = &s->layers[i];
    return gc_tensor_1d(s->be, s->acts, l->save_off + (size_t)(which * l->out[0]), l->out[0]);
}

/* A spectrally normalised layer's u (in state) and its scratch in acts:
 * w / sigma and its gradient (both shaped like the weight), v, sigma and the
 * copy of u that an evaluation forward iterates on. */
typedef struct sn_views {
    gc_tensor u, w_sn, dw_sn, v, sigma, u_eval;
} sn_views;

static sn_views sn_view(const gc_seq *s, int i)
{
    const gc_layer *l = &s->layers[i];
    sn_views t;
    t.u = gc_layer_sn_u(s, i);
    int64_t rows = gc_tensor_numel(&t.u), cols = l->w_n / rows;
    size_t off = l->sn_off;
    t.w_sn = gc_layer_weight(s, i, s->acts), t.w_sn.off = off, off += (size_t)l->w_n;
    t.dw_sn = gc_layer_weight(s, i, s->acts), t.dw_sn.off = off, off += (size_t)l->w_n;
    t.v = gc_tensor_1d(s->be, s->acts, off, cols), off += (size_t)cols;
    t.sigma = gc_tensor_1d(s->be, s->acts, off, 1), off += 1;
    t.u_eval = gc_tensor_1d(s->be, s->acts, off, rows);
    return t;
}

/* The group size an MBSTD layer uses for a batch of n: the largest divisor
 * of n that is at most desc.group (n itself when smaller). */
static int mbstd_group(const gc_layer_desc *d, int64_t n)
{
    int g = n < d->group ? (int)n : d->group;
    while (n % g)
        g--;
    return g;
}

/* The weight a dense or conv2d layer computes with: w itself, or w / sigma
 * after one power-iteration step.  A training forward steps u in state; an
 * evaluation forward steps a copy, so it changes no state. */
static gc_status effective_weight(gc_seq *s, int i, int train, gc_tensor *w)
{
    if (!s->layers[i].d.sn) return GC_OK;
    sn_views t = sn_view(s, i);
    const gc_tensor *u = &t.u;
    if (!train) {
        GC_TRY(gc_copy(&t.u_eval, &t.u));
        u = &t.u_eval;
    }
    GC_TRY(gc_spectral_norm_forward(&t.w_sn, u, &t.v, &t.sigma, w, 1));
    *w = t.w_sn;
    return GC_OK;
}

static gc_status layer_forward(gc_seq *s, int i, const gc_tensor *y, const gc_tensor *x, int train)
{
    const gc_layer_desc *d = &s->layers[i].d;
    gc_tensor w = gc_layer_weight(s, i, s->params), b = gc_layer_bias(s, i, s->params);
    const gc_tensor *bp = b.buf ? &b : NULL;
    gc_conv_params p = conv_params(d);
    GC_TRY(effective_weight(s, i, train, &w));
    switch (d->kind) {
    case GC_LAYER_DENSE: {
        gc_tensor x2 = flat(x), y2 = flat(y);
        GC_TRY(gc_dense_forward(&y2, &x2, &w, bp));
        if (d->cond == GC_COND_NONE) return GC_OK;
        gc_tensor e = gc_layer_class_table(s, i, s->params), lab = gc_seq_labels(s, (int)GC_N(x));
        if (d->cond == GC_COND_EMBED) return gc_class_embed_forward(&y2, &e, &lab);
        return gc_class_project_forward(&y2, &x2, &e, &lab);
    }
    case GC_LAYER_CONV2D: return gc_conv2d_forward(y, x, &w, bp, &p);
    case GC_LAYER_CONV_TRANSPOSE2D: return gc_conv_transpose2d_forward(y, x, &w, bp, &p);
    case GC_LAYER_BATCHNORM2D: {
        gc_tensor rm = gc_layer_running_mean(s, i), rv = gc_layer_running_var(s, i);
        if (!train) return gc_batchnorm_forward_eval(y, x, &w, &b, &rm, &rv, GC_BN_EPS);
        gc_tensor sm = save_view(s, i, 0), si = save_view(s, i, 1);
        return gc_batchnorm_forward_train(y, &sm, &si, x, &w, &b, &rm, &rv, GC_BN_MOMENTUM,
                                          GC_BN_EPS);
    }
    case GC_LAYER_ACT: return gc_act_forward(y, x, d->act, d->slope);
    case GC_LAYER_MAXPOOL2D: {
        gc_pool_params pp = pool_params(d);
        return gc_max_pool2d_forward(y, x, &pp);
    }
    case GC_LAYER_MBSTD: return gc_mbstd_forward(y, x, mbstd_group(d, GC_N(x)));
    }
    return GC_OK;
}

/* The dense or conv2d part of backward (no class terms): with spectral
 * norm, the weight gradient goes to dw_sn first (the ops accumulate, so it
 * starts from zero) and then through gc_spectral_norm_backward into grads,
 * with u, v and sigma of the last forward. */
static gc_status linear_backward(gc_seq *s, int i, const gc_tensor *dx, const gc_tensor *dy,
                                 const gc_tensor *x)
{
    const gc_layer_desc *d = &s->layers[i].d;
    gc_tensor w = gc_layer_weight(s, i, s->params), dw = gc_layer_weight(s, i, s->grads);
    gc_tensor db = gc_layer_bias(s, i, s->grads);
    const gc_tensor *dbp = db.buf ? &db : NULL;
    gc_conv_params p = conv_params(d);
    sn_views t;
    const gc_tensor *wp = &w, *dwp = &dw;
    if (d->sn) {
        t = sn_view(s, i);
        GC_TRY(gc_fill(&t.dw_sn, 0));
        wp = &t.w_sn, dwp = &t.dw_sn;
    }
    if (d->kind == GC_LAYER_DENSE) {
        gc_tensor x2 = flat(x), dy2 = flat(dy), dx2;
        if (dx) dx2 = flat(dx);
        GC_TRY(gc_dense_backward(dx ? &dx2 : NULL, dwp, dbp, &dy2, &x2, wp));
    } else {
        GC_TRY(gc_conv2d_backward(dx, dwp, dbp, dy, x, wp, &p));
    }
    if (!d->sn) return GC_OK;
    return gc_spectral_norm_backward(&dw, &t.dw_sn, &w, &t.u, &t.v, &t.sigma);
}

/* dx may be NULL (first layer); dw/db accumulate. */
static gc_status layer_backward(gc_seq *s, int i, const gc_tensor *dx, const gc_tensor *dy,
                                const gc_tensor *x, const gc_tensor *y)
{
    const gc_layer_desc *d = &s->layers[i].d;
    gc_tensor w = gc_layer_weight(s, i, s->params), dw = gc_layer_weight(s, i, s->grads);
    gc_tensor db = gc_layer_bias(s, i, s->grads);
    const gc_tensor *dbp = db.buf ? &db : NULL;
    gc_conv_params p = conv_params(d);
    switch (d->kind) {
    case GC_LAYER_DENSE: {
        GC_TRY(linear_backward(s, i, dx, dy, x));
        if (d->cond == GC_COND_NONE) return GC_OK;
        /* The class terms accumulate into the dx the dense head just wrote. */
        gc_tensor x2 = flat(x), dy2 = flat(dy), dx2;
        if (dx) dx2 = flat(dx);
        gc_tensor de = gc_layer_class_table(s, i, s->grads), lab = gc_seq_labels(s, (int)GC_N(x));
        if (d->cond == GC_COND_EMBED) return gc_class_embed_backward(&de, &dy2, &lab);
        gc_tensor e = gc_layer_class_table(s, i, s->params);
        return gc_class_project_backward(dx ? &dx2 : NULL, &de, &dy2, &x2, &e, &lab);
    }
    case GC_LAYER_CONV2D: return linear_backward(s, i, dx, dy, x);
    case GC_LAYER_CONV_TRANSPOSE2D:
        return gc_conv_transpose2d_backward(dx, &dw, dbp, dy, x, &w, &p);
    case GC_LAYER_BATCHNORM2D: {
        gc_tensor sm = save_view(s, i, 0), si = save_view(s, i, 1);
        return gc_batchnorm_backward(dx, &dw, &db, dy, x, &w, &sm, &si);
    }
    case GC_LAYER_ACT: return gc_act_backward(dx, dy, y, d->act, d->slope);
    case GC_LAYER_MAXPOOL2D: {
        gc_pool_params pp = pool_params(d);
        /* No parameters: a first layer without dx has nothing to do. */
        return dx ? gc_max_pool2d_backward(dx, dy, x, &pp) : GC_OK;
    }
    case GC_LAYER_MBSTD: return dx ? gc_mbstd_backward(dx, dy, x, mbstd_group(d, GC_N(x))) : GC_OK;
    }
    return GC_OK;
}

/* The input gradient alone: a convolution's is the other convolution of dy
 * with the same weights (no bias), a dense layer's one GEMM; batchnorm and
 * activations have nothing to skip.  dx may be NULL (first layer): then a
 * dense or convolution layer has nothing to do. */
static gc_status layer_backward_data(gc_seq *s, int i, const gc_tensor *dx, const gc_tensor *dy,
                                     const gc_tensor *x, const gc_tensor *y)
{
    const gc_layer *l = &s->layers[i];
    const gc_layer_desc *d = &l->d;
    gc_tensor w = gc_layer_weight(s, i, s->params);
    gc_conv_params p = conv_params(d);
    if (d->sn) w = sn_view(s, i).w_sn; /* as the last forward left it */
    switch (d->kind) {
    case GC_LAYER_DENSE: {
        if (!dx) return GC_OK;
        /* dx (N, in) = dy (N, out) @ w (out, in) */
        int64_t in = l->in[0] * l->in[1] * l->in[2], out = l->out[0] * l->out[1] * l->out[2];
        gc_gemm_args g = {.m = GC_N(dy),
                          .n = in,
                          .k = out,
                          .alpha = 1,
                          .beta = 0,
                          .lda = out,
                          .ldb = in,
                          .ldc = in};
        GC_TRY(gc_gemm(dx, dy, &w, &g));
        if (d->cond != GC_COND_PROJECT) return GC_OK; /* an embedding has no dx term */
        /* The projection's dx term; its table gradient lands in grads,
         * which backward_data leaves stale anyway. */
        gc_tensor x2 = flat(x), dy2 = flat(dy), dx2 = flat(dx);
        gc_tensor e = gc_layer_class_table(s, i, s->params);
        gc_tensor de = gc_layer_class_table(s, i, s->grads), lab = gc_seq_labels(s, (int)GC_N(x));
        return gc_class_project_backward(&dx2, &de, &dy2, &x2, &e, &lab);
    }
    case GC_LAYER_CONV2D:
        if (!dx) return GC_OK;
        /* The output padding that gives back x's size: what the forward's
         * floor division dropped. */
        p.out_pad_h = (int)((l->in[1] + 2 * d->pad - d->kernel) % d->stride);
        p.out_pad_w = (int)((l->in[2] + 2 * d->pad - d->kernel) % d->stride);
        return gc_conv_transpose2d_forward(dx, dy, &w, NULL, &p);
    case GC_LAYER_CONV_TRANSPOSE2D:
        if (!dx) return GC_OK;
        return gc_conv2d_forward(dx, dy, &w, NULL, &p);
    default: return layer_backward(s, i, dx, dy, x, y);
    }
}

gc_status gc_seq_forward(gc_seq *s, const gc_tensor *x, int n, int train)
{
    GC_ASSERT(n >= 1 && n <= s->max_batch && GC_N(x) == n);
    GC_ASSERT(gc_tensor_numel(x) == n * s->in[0] * s->in[1] * s->in[2]);
    gc_tensor in = gc_tensor_4d(s->be, x->buf, x->off, n, s->in[0], s->in[1], s->in[2]);
    for (int i = 0; i < s->n_layers; i++) {
        gc_tensor y = act_view(s, s->acts, i, n);
        GC_TRY(layer_forward(s, i, &y, &in, train));
        in = y;
    }
    return GC_OK;
}

static gc_status seq_backward(gc_seq *s, const gc_tensor *x, const gc_tensor *dout,
                              const gc_tensor *dx, int n, int data_only)
{
    GC_ASSERT(n >= 1 && n <= s->max_batch && GC_N(x) == n);
    int last = s->n_layers - 1;
    gc_tensor dy = act_view(s, s->dacts, last, n);
    GC_ASSERT(gc_tensor_numel(dout) == gc_tensor_numel(&dy));
    dy = gc_tensor_reshape(*dout, 4, dy.shape);
    gc_tensor x0 = gc_tensor_4d(s->be, x->buf, x->off, n, s->in[0], s->in[1], s->in[2]);
    for (int i = last; i >= 0; i--) {
        gc_tensor y = act_view(s, s->acts, i, n);
        gc_tensor xi = i ? act_view(s, s->acts, i - 1, n) : x0;
        gc_tensor dxi = i ? act_view(s, s->dacts, i - 1, n) : (gc_tensor){0};
        if (!i && dx) dxi = gc_tensor_reshape(*dx, 4, x0.shape);
        const gc_tensor *dxp = (i || dx) ? &dxi : NULL;
        GC_TRY(data_only ? layer_backward_data(s, i, dxp, &dy, &xi, &y)
                         : layer_backward(s, i, dxp, &dy, &xi, &y));
        dy = dxi;
    }
    return GC_OK;
}

gc_status gc_seq_backward(gc_seq *s, const gc_tensor *x, const gc_tensor *dout, const gc_tensor *dx,
                          int n)
{
    return seq_backward(s, x, dout, dx, n, 0);
}

gc_status gc_seq_backward_data(gc_seq *s, const gc_tensor *x, const gc_tensor *dout,
                               const gc_tensor *dx, int n)
{
    GC_ASSERT(dx);
    return seq_backward(s, x, dout, dx, n, 1);
}

/* PyTorch's fan_in: weight.size(1) * receptive field, which for a
 * transposed convolution (weight (in, out, k, k)) is out * k * k. */
static int64_t torch_fan_in(const gc_layer *l)
{
    int64_t k2 = (int64_t)l->d.kernel * l->d.kernel;
    switch (l->d.kind) {
    case GC_LAYER_DENSE: return l->in[0] * l->in[1] * l->in[2];
    case GC_LAYER_CONV2D: return l->in[0] * k2;
    case GC_LAYER_CONV_TRANSPOSE2D: return l->out[0] * k2;
    default: return 1;
    }
}

gc_status gc_seq_init_params(gc_seq *s, gc_init_scheme scheme, gc_rng *rng)
{
    for (int i = 0; i < s->n_layers; i++) {
        const gc_layer *l = &s->layers[i];
        gc_tensor w = gc_layer_weight(s, i, s->params), b = gc_layer_bias(s, i, s->params);
        if (l->d.kind == GC_LAYER_BATCHNORM2D) {
            gc_tensor rm = gc_layer_running_mean(s, i), rv = gc_layer_running_var(s, i);
            GC_TRY(gc_fill(&rm, 0.0f));
            GC_TRY(gc_fill(&rv, 1.0f));
            if (scheme == GC_INIT_DCGAN)
                GC_TRY(gc_rng_normal(&w, rng, 1.0f, 0.02f));
            else
                GC_TRY(gc_fill(&w, 1.0f));
            GC_TRY(gc_fill(&b, 0.0f));
        } else if (l->w_n) {
            /* A class table is drawn like the weight, after the bias, so an
             * unconditional network draws the same numbers as ever. */
            gc_tensor e = gc_layer_class_table(s, i, s->params);
            if (scheme == GC_INIT_DCGAN) {
                GC_TRY(gc_rng_normal(&w, rng, 0.0f, 0.02f));
                if (b.buf) GC_TRY(gc_fill(&b, 0.0f));
                if (e.buf) GC_TRY(gc_rng_normal(&e, rng, 0.0f, 0.02f));
            } else {
                float bound = (float)(1.0 / sqrt((double)torch_fan_in(l)));
                GC_TRY(gc_rng_uniform(&w, rng, -bound, bound));
                if (b.buf) GC_TRY(gc_rng_uniform(&b, rng, -bound, bound));
                if (e.buf) GC_TRY(gc_rng_uniform(&e, rng, -bound, bound));
            }
            /* Drawn last, so that a layer without spectral norm draws what
             * it always did. */
            gc_tensor u = gc_layer_sn_u(s, i);
            if (u.buf) GC_TRY(gc_rng_normal(&u, rng, 0.0f, 1.0f));
        }
    }
    return GC_OK;
}

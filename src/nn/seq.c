/* src/nn/seq.c - the sequential network: shape inference, the one-buffer-per-
 * role memory plan, views into it, zero-grad and the Adam step. */
#include "gancl/nn.h"

#include <string.h>

#include "util/error.h"

/* Per-sample output shape and parameter sizes of one layer. */
static gc_status plan_layer(gc_layer *l, const int64_t in[3], int index)
{
    const gc_layer_desc *d = &l->d;
    memcpy(l->in, in, sizeof l->in);
    int64_t c = in[0], h = in[1], w = in[2];
    l->w_n = l->b_n = l->e_n = 0;
    if (d->sn && d->kind != GC_LAYER_DENSE && d->kind != GC_LAYER_CONV2D)
        return gc_error(GC_ERR_ARG,
                        "layer %d: only a dense or conv2d layer can be spectrally normalised",
                        index);
    if (d->cond != GC_COND_NONE) {
        if (d->kind != GC_LAYER_DENSE || (d->cond != GC_COND_EMBED && d->cond != GC_COND_PROJECT))
            return gc_error(GC_ERR_ARG, "layer %d: only a dense layer can be class-conditional",
                            index);
        if (d->classes < 1)
            return gc_error(GC_ERR_ARG, "layer %d: a conditional layer needs classes >= 1", index);
    }
    switch (d->kind) {
    case GC_LAYER_DENSE: {
        int64_t oh = d->out_h > 0 ? d->out_h : 1, ow = d->out_w > 0 ? d->out_w : 1;
        if (d->out_c < 1) return gc_error(GC_ERR_ARG, "layer %d: dense needs out_c >= 1", index);
        l->out[0] = d->out_c, l->out[1] = oh, l->out[2] = ow;
        l->w_n = (int64_t)d->out_c * oh * ow * c * h * w;
        l->b_n = d->bias ? (int64_t)d->out_c * oh * ow : 0;
        if (d->cond == GC_COND_EMBED) l->e_n = (int64_t)d->classes * d->out_c * oh * ow;
        if (d->cond == GC_COND_PROJECT) {
            if ((int64_t)d->out_c * oh * ow != 1)
                return gc_error(GC_ERR_ARG, "layer %d: a projection head needs one output", index);
            l->e_n = (int64_t)d->classes * c * h * w;
        }
        break;
    }
    case GC_LAYER_CONV2D:
    case GC_LAYER_CONV_TRANSPOSE2D: {
        int t = d->kind == GC_LAYER_CONV_TRANSPOSE2D;
        if (d->out_c < 1 || d->kernel < 1 || d->stride < 1 || d->pad < 0 || d->out_pad < 0 ||
            (t && d->out_pad >= d->stride))
            return gc_error(GC_ERR_ARG, "layer %d: bad convolution parameters", index);
        l->out[0] = d->out_c;
        for (int a = 1; a < 3; a++)
            l->out[a] =
                t ? gc_conv_transpose_out_size(in[a], d->kernel, d->stride, d->pad, d->out_pad)
                  : gc_conv_out_size(in[a], d->kernel, d->stride, d->pad);
        if (l->out[1] < 1 || l->out[2] < 1)
            return gc_error(GC_ERR_ARG,
                            "layer %d: a %dx%d convolution of a %lldx%lld input is empty", index,
                            d->kernel, d->kernel, (long long)h, (long long)w);
        l->w_n = (int64_t)d->out_c * c * d->kernel * d->kernel;
        l->b_n = d->bias ? d->out_c : 0;
        break;
    }
    case GC_LAYER_BATCHNORM2D:
        memcpy(l->out, in, sizeof l->out);
        l->w_n = l->b_n = c;
        break;
    case GC_LAYER_ACT: memcpy(l->out, in, sizeof l->out); break;
    case GC_LAYER_MAXPOOL2D:
        /* PyTorch's rule: padding at most half the kernel, so no window is
         * all padding (its maximum would be -inf). */
        if (d->kernel < 1 || d->stride < 1 || d->pad < 0 || 2 * d->pad > d->kernel)
            return gc_error(GC_ERR_ARG, "layer %d: bad max pooling parameters", index);
        l->out[0] = c;
        for (int a = 1; a < 3; a++)
            l->out[a] = gc_conv_out_size(in[a], d->kernel, d->stride, d->pad);
        if (l->out[1] < 1 || l->out[2] < 1)
            return gc_error(GC_ERR_ARG, "layer %d: a %dx%d pooling of a %lldx%lld input is empty",
                            index, d->kernel, d->kernel, (long long)h, (long long)w);
        break;
    case GC_LAYER_MBSTD:
        if (d->group < 1)
            return gc_error(GC_ERR_ARG, "layer %d: minibatch stddev needs group >= 1", index);
        l->out[0] = c + 1, l->out[1] = h, l->out[2] = w;
        break;
    default: return gc_error(GC_ERR_ARG, "layer %d: unknown layer kind %d", index, (int)d->kind);
    }
    return GC_OK;
}

/* The rows of a spectrally normalised weight seen as a matrix: its
 * shape[0], out features (dense) or out channels (conv2d). */
static int64_t sn_rows(const gc_layer *l)
{
    return l->d.kind == GC_LAYER_DENSE ? l->out[0] * l->out[1] * l->out[2] : l->out[0];
}

static gc_status alloc_floats(gc_backend *be, int64_t n, gc_buffer **out)
{
    return gc_buffer_alloc(be, (size_t)(n > 0 ? n : 1) * sizeof(float), out);
}

gc_status gc_seq_init(gc_seq *s, gc_backend *be, const gc_layer_desc *descs, int count,
                      const int64_t in[3], int max_batch)
{
    GC_ASSERT(count >= 1 && count <= GC_SEQ_MAX_LAYERS && max_batch >= 1);
    /* The first layer has no input gradient to write when dx is NULL; only
     * dense, convolution and pooling layers can skip it. */
    GC_ASSERT(descs[0].kind != GC_LAYER_ACT && descs[0].kind != GC_LAYER_BATCHNORM2D &&
              descs[0].kind != GC_LAYER_MBSTD);
    memset(s, 0, sizeof *s);
    s->be = be;
    s->n_layers = count;
    s->max_batch = max_batch;
    memcpy(s->in, in, sizeof s->in);

    const int64_t *cur = in;
    size_t p = 0, st = 0, a = 0;
    int conditional = 0;
    for (int i = 0; i < count; i++) {
        gc_layer *l = &s->layers[i];
        l->d = descs[i];
        GC_TRY(plan_layer(l, cur, i));
        l->w_off = p, p += (size_t)l->w_n;
        l->b_off = p, p += (size_t)l->b_n;
        l->e_off = p, p += (size_t)l->e_n;
        conditional |= l->e_n > 0;
        l->act_off = a, a += (size_t)(max_batch * l->out[0] * l->out[1] * l->out[2]);
        if (l->d.kind == GC_LAYER_BATCHNORM2D) l->stat_off = st, st += 2 * (size_t)l->out[0];
        if (l->d.sn) l->u_off = st, st += (size_t)sn_rows(l);
        cur = l->out;
    }
    /* Saved batch statistics and spectral norm's scratch go after every
     * output, so dacts (which mirrors the outputs only) can be shorter than
     * acts. */
    size_t outputs = a;
    for (int i = 0; i < count; i++) {
        gc_layer *l = &s->layers[i];
        if (l->d.kind == GC_LAYER_BATCHNORM2D) l->save_off = a, a += 2 * (size_t)l->out[0];
        if (l->d.sn) {
            /* w / sigma, its gradient, v, sigma, a copy of u */
            int64_t rows = sn_rows(l);
            l->sn_off = a, a += (size_t)(2 * l->w_n + l->w_n / rows + 1 + rows);
        }
    }
    s->n_params = (int64_t)p, s->n_state = (int64_t)st, s->n_acts = (int64_t)a;

    gc_status rc;
    if ((rc = alloc_floats(be, s->n_params, &s->params)) ||
        (rc = alloc_floats(be, s->n_params, &s->grads)) ||
        (rc = alloc_floats(be, s->n_params, &s->adam_m)) ||
        (rc = alloc_floats(be, s->n_params, &s->adam_v)) ||
        (rc = alloc_floats(be, s->n_state, &s->state)) ||
        (rc = alloc_floats(be, s->n_acts, &s->acts)) ||
        (rc = alloc_floats(be, (int64_t)outputs, &s->dacts)) ||
        (conditional && (rc = alloc_floats(be, max_batch, &s->labels)))) {
        gc_seq_free(s);
        return rc;
    }
    gc_tensor g = gc_seq_grads(s), m = gc_seq_adam_m(s), v = gc_seq_adam_v(s);
    /* Labels start as class 0, so a forward before the caller writes them
     * reads valid (if meaningless) classes rather than garbage. */
    gc_tensor lab = conditional ? gc_seq_labels(s, max_batch) : g;
    if ((rc = gc_fill(&g, 0)) || (rc = gc_fill(&m, 0)) || (rc = gc_fill(&v, 0)) ||
        (conditional && (rc = gc_fill(&lab, 0)))) {
        gc_seq_free(s);
        return rc;
    }
    return GC_OK;
}

void gc_seq_free(gc_seq *s)
{
    gc_buffer **bufs[] = {&s->params, &s->grads, &s->adam_m, &s->adam_v,
                          &s->state,  &s->acts,  &s->dacts,  &s->labels};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        gc_buffer_free(s->be, *bufs[i]);
        *bufs[i] = NULL;
    }
}

static gc_tensor whole(const gc_seq *s, gc_buffer *buf, int64_t n)
{
    return gc_tensor_1d(s->be, buf, 0, n);
}

gc_tensor gc_seq_params(const gc_seq *s)
{
    return whole(s, s->params, s->n_params);
}
gc_tensor gc_seq_grads(const gc_seq *s)
{
    return whole(s, s->grads, s->n_params);
}
gc_tensor gc_seq_adam_m(const gc_seq *s)
{
    return whole(s, s->adam_m, s->n_params);
}
gc_tensor gc_seq_adam_v(const gc_seq *s)
{
    return whole(s, s->adam_v, s->n_params);
}
gc_tensor gc_seq_state(const gc_seq *s)
{
    gc_tensor none = {0};
    return s->n_state ? whole(s, s->state, s->n_state) : none;
}

gc_tensor gc_layer_weight(const gc_seq *s, int layer, gc_buffer *buf)
{
    const gc_layer *l = &s->layers[layer];
    const gc_layer_desc *d = &l->d;
    gc_tensor none = {0};
    if (!l->w_n) return none;
    int64_t in_c = l->in[0], k = d->kernel;
    switch (d->kind) {
    case GC_LAYER_DENSE:
        return gc_tensor_2d(s->be, buf, l->w_off, l->out[0] * l->out[1] * l->out[2],
                            l->in[0] * l->in[1] * l->in[2]);
    case GC_LAYER_CONV2D: return gc_tensor_4d(s->be, buf, l->w_off, d->out_c, in_c, k, k);
    case GC_LAYER_CONV_TRANSPOSE2D: return gc_tensor_4d(s->be, buf, l->w_off, in_c, d->out_c, k, k);
    default: return gc_tensor_1d(s->be, buf, l->w_off, l->w_n);
    }
}

gc_tensor gc_layer_bias(const gc_seq *s, int layer, gc_buffer *buf)
{
    const gc_layer *l = &s->layers[layer];
    gc_tensor none = {0};
    return l->b_n ? gc_tensor_1d(s->be, buf, l->b_off, l->b_n) : none;
}

gc_tensor gc_layer_class_table(const gc_seq *s, int layer, gc_buffer *buf)
{
    const gc_layer *l = &s->layers[layer];
    gc_tensor none = {0};
    if (!l->e_n) return none;
    return gc_tensor_2d(s->be, buf, l->e_off, l->d.classes, l->e_n / l->d.classes);
}

gc_tensor gc_seq_labels(const gc_seq *s, int n)
{
    GC_ASSERT(s->labels && n >= 1 && n <= s->max_batch);
    return gc_tensor_1d(s->be, s->labels, 0, n);
}

gc_tensor gc_layer_running_mean(const gc_seq *s, int layer)
{
    const gc_layer *l = &s->layers[layer];
    GC_ASSERT(l->d.kind == GC_LAYER_BATCHNORM2D);
    return gc_tensor_1d(s->be, s->state, l->stat_off, l->out[0]);
}

gc_tensor gc_layer_running_var(const gc_seq *s, int layer)
{
    const gc_layer *l = &s->layers[layer];
    GC_ASSERT(l->d.kind == GC_LAYER_BATCHNORM2D);
    return gc_tensor_1d(s->be, s->state, l->stat_off + (size_t)l->out[0], l->out[0]);
}

gc_tensor gc_layer_sn_u(const gc_seq *s, int layer)
{
    const gc_layer *l = &s->layers[layer];
    gc_tensor none = {0};
    return l->d.sn ? gc_tensor_1d(s->be, s->state, l->u_off, sn_rows(l)) : none;
}

gc_status gc_seq_zero_grad(gc_seq *s)
{
    gc_tensor g = gc_seq_grads(s);
    return gc_fill(&g, 0);
}

gc_status gc_seq_adam(gc_seq *s, const gc_adam_params *p)
{
    gc_tensor w = gc_seq_params(s), g = gc_seq_grads(s), m = gc_seq_adam_m(s), v = gc_seq_adam_v(s);
    return gc_adam_update(&w, &g, &m, &v, p);
}

int64_t gc_layer_macs(const gc_layer *l)
{
    int64_t k2 = (int64_t)l->d.kernel * l->d.kernel;
    switch (l->d.kind) {
    case GC_LAYER_DENSE: return l->w_n;
    case GC_LAYER_CONV2D: return l->out[0] * l->out[1] * l->out[2] * l->in[0] * k2;
    case GC_LAYER_CONV_TRANSPOSE2D: return l->in[0] * l->in[1] * l->in[2] * l->out[0] * k2;
    default: return 0;
    }
}

/* src/models/inception.c - pytorch-fid's Inception-v3: stage tables, the
 * memory plan, the forward pass and the public gc_inception_* functions.
 * (Weight getters and the weights-file lookup are in inception_weights.c.)
 *
 * Each stage kind is two tables: its convolutions (name, input, kernel,
 * stride, padding) and a little program of ops over named slots:
 *
 *     X        the stage input           Y   the Mixed block output (concat)
 *     PA, PB   stem ping-pong             T0, T1  branch temporaries
 *     P0..P5   branch outputs (concatenated into Y in order)
 *
 * The same interpreter runs in two modes: `plan` (shapes only; records how
 * many floats per image each slot needs) and `run` (views into the two
 * activation buffers, then the ops).  The layout built from the plan:
 *
 *     U: [ X or Y          ]              (stems: PA or PB)
 *     V: [ X or Y ][ T0 ][ T1 ]           (stems: PA or PB)
 *
 * X and Y swap between U and V from one Mixed block to the next.
 *
 * Activations are channels-last, (n, h, w, c): a 1x1 convolution is then a
 * GEMM on the activation itself, im2row reads it without a transpose,
 * pooling moves channel vectors, and each branch output P0, P1, ... is
 * written straight into its channel slice of Y (a GEMM output with leading
 * dimension C_Y), so there is no concatenation pass; each convolution's
 * ReLU is fused into it (or runs over its slice).  The input arrives NCHW (as
 * the API and the goldens have it) and is transposed into V first; stage
 * outputs that leave the network (the feature tap, the tests' after-stage
 * callback) are transposed back into a buffer of their own.
 */
#include "models/inception.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "util/error.h"
#include "util/log.h"

#define BN_EPS        0.001 /* pytorch-fid's BasicConv2d: BatchNorm2d(eps=0.001) */
#define STAGING_BYTES ((size_t)64 << 20)

/* ---- stage tables ---------------------------------------------------------- */

#define IN (-1) /* a convolution reading the stage input */

typedef struct conv_spec {
    const char *name;
    int src; /* IN or the index of the convolution whose output it reads */
    int kh, kw, stride, ph, pw;
} conv_spec;

static const conv_spec stem0_convs[] = {
    {"Conv2d_1a_3x3", IN, 3, 3, 2, 0, 0},
    {"Conv2d_2a_3x3", 0, 3, 3, 1, 0, 0},
    {"Conv2d_2b_3x3", 1, 3, 3, 1, 1, 1},
};
static const conv_spec stem1_convs[] = {
    {"Conv2d_3b_1x1", IN, 1, 1, 1, 0, 0},
    {"Conv2d_4a_3x3", 0, 3, 3, 1, 0, 0},
};
static const conv_spec a_convs[] = {
    {"branch1x1", IN, 1, 1, 1, 0, 0},     {"branch5x5_1", IN, 1, 1, 1, 0, 0},
    {"branch5x5_2", 1, 5, 5, 1, 2, 2},    {"branch3x3dbl_1", IN, 1, 1, 1, 0, 0},
    {"branch3x3dbl_2", 3, 3, 3, 1, 1, 1}, {"branch3x3dbl_3", 4, 3, 3, 1, 1, 1},
    {"branch_pool", IN, 1, 1, 1, 0, 0},
};
static const conv_spec b_convs[] = {
    {"branch3x3", IN, 3, 3, 2, 0, 0},
    {"branch3x3dbl_1", IN, 1, 1, 1, 0, 0},
    {"branch3x3dbl_2", 1, 3, 3, 1, 1, 1},
    {"branch3x3dbl_3", 2, 3, 3, 2, 0, 0},
};
static const conv_spec c_convs[] = {
    {"branch1x1", IN, 1, 1, 1, 0, 0},      {"branch7x7_1", IN, 1, 1, 1, 0, 0},
    {"branch7x7_2", 1, 1, 7, 1, 0, 3},     {"branch7x7_3", 2, 7, 1, 1, 3, 0},
    {"branch7x7dbl_1", IN, 1, 1, 1, 0, 0}, {"branch7x7dbl_2", 4, 7, 1, 1, 3, 0},
    {"branch7x7dbl_3", 5, 1, 7, 1, 0, 3},  {"branch7x7dbl_4", 6, 7, 1, 1, 3, 0},
    {"branch7x7dbl_5", 7, 1, 7, 1, 0, 3},  {"branch_pool", IN, 1, 1, 1, 0, 0},
};
static const conv_spec d_convs[] = {
    {"branch3x3_1", IN, 1, 1, 1, 0, 0},   {"branch3x3_2", 0, 3, 3, 2, 0, 0},
    {"branch7x7x3_1", IN, 1, 1, 1, 0, 0}, {"branch7x7x3_2", 2, 1, 7, 1, 0, 3},
    {"branch7x7x3_3", 3, 7, 1, 1, 3, 0},  {"branch7x7x3_4", 4, 3, 3, 2, 0, 0},
};
static const conv_spec e_convs[] = {
    {"branch1x1", IN, 1, 1, 1, 0, 0},      {"branch3x3_1", IN, 1, 1, 1, 0, 0},
    {"branch3x3_2a", 1, 1, 3, 1, 0, 1},    {"branch3x3_2b", 1, 3, 1, 1, 1, 0},
    {"branch3x3dbl_1", IN, 1, 1, 1, 0, 0}, {"branch3x3dbl_2", 4, 3, 3, 1, 1, 1},
    {"branch3x3dbl_3a", 5, 1, 3, 1, 0, 1}, {"branch3x3dbl_3b", 5, 3, 1, 1, 1, 0},
    {"branch_pool", IN, 1, 1, 1, 0, 0},
};

enum { S_X, S_Y, S_PA, S_PB, S_T0, S_T1, S_P0, S_COUNT = S_P0 + 6 };
enum { OP_CONV, OP_AVG3, OP_MAX3_S1, OP_MAX3_S2 };

typedef struct inc_op {
    unsigned char op, conv, src, dst;
} inc_op;

/* The tables read as each block's dataflow, one op a cell. */
/* clang-format off */
#define CONV(i, s, d) {OP_CONV, i, s, d}
#define POOL(o, s, d) {o, 0, s, d}

/* Stems end in PB (stem0) or PA (stem1); Mixed blocks concat their pieces. */
static const inc_op stem0_ops[] = {
    CONV(0, S_X, S_PA), CONV(1, S_PA, S_PB), CONV(2, S_PB, S_PA), POOL(OP_MAX3_S2, S_PA, S_PB)};
static const inc_op stem1_ops[] = {
    CONV(0, S_X, S_PA), CONV(1, S_PA, S_PB), POOL(OP_MAX3_S2, S_PB, S_PA)};
static const inc_op a_ops[] = {
    CONV(0, S_X, S_P0),
    CONV(1, S_X, S_T0), CONV(2, S_T0, S_P0 + 1),
    CONV(3, S_X, S_T0), CONV(4, S_T0, S_T1), CONV(5, S_T1, S_P0 + 2),
    POOL(OP_AVG3, S_X, S_T0), CONV(6, S_T0, S_P0 + 3)};
static const inc_op b_ops[] = {
    CONV(0, S_X, S_P0),
    CONV(1, S_X, S_T0), CONV(2, S_T0, S_T1), CONV(3, S_T1, S_P0 + 1),
    POOL(OP_MAX3_S2, S_X, S_P0 + 2)};
static const inc_op c_ops[] = {
    CONV(0, S_X, S_P0),
    CONV(1, S_X, S_T0), CONV(2, S_T0, S_T1), CONV(3, S_T1, S_P0 + 1),
    CONV(4, S_X, S_T0), CONV(5, S_T0, S_T1), CONV(6, S_T1, S_T0), CONV(7, S_T0, S_T1),
    CONV(8, S_T1, S_P0 + 2),
    POOL(OP_AVG3, S_X, S_T0), CONV(9, S_T0, S_P0 + 3)};
static const inc_op d_ops[] = {
    CONV(0, S_X, S_T0), CONV(1, S_T0, S_P0),
    CONV(2, S_X, S_T0), CONV(3, S_T0, S_T1), CONV(4, S_T1, S_T0), CONV(5, S_T0, S_P0 + 1),
    POOL(OP_MAX3_S2, S_X, S_P0 + 2)};
static const inc_op e_avg_ops[] = {
    CONV(0, S_X, S_P0),
    CONV(1, S_X, S_T0), CONV(2, S_T0, S_P0 + 1), CONV(3, S_T0, S_P0 + 2),
    CONV(4, S_X, S_T0), CONV(5, S_T0, S_T1), CONV(6, S_T1, S_P0 + 3), CONV(7, S_T1, S_P0 + 4),
    POOL(OP_AVG3, S_X, S_T0), CONV(8, S_T0, S_P0 + 5)};
static const inc_op e_max_ops[] = {
    CONV(0, S_X, S_P0),
    CONV(1, S_X, S_T0), CONV(2, S_T0, S_P0 + 1), CONV(3, S_T0, S_P0 + 2),
    CONV(4, S_X, S_T0), CONV(5, S_T0, S_T1), CONV(6, S_T1, S_P0 + 3), CONV(7, S_T1, S_P0 + 4),
    POOL(OP_MAX3_S1, S_X, S_T0), CONV(8, S_T0, S_P0 + 5)};
/* clang-format on */

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

typedef struct kind_info {
    const char *name;
    const conv_spec *convs;
    int n_convs;
    const inc_op *ops;
    int n_ops;
    int stem_out; /* S_PA / S_PB for stems; S_Y for Mixed blocks */
} kind_info;

static const kind_info kinds[GC_INC_KIND_COUNT] = {
    [GC_INC_STEM0] = {"stem0", stem0_convs, N_OF(stem0_convs), stem0_ops, N_OF(stem0_ops), S_PB},
    [GC_INC_STEM1] = {"stem1", stem1_convs, N_OF(stem1_convs), stem1_ops, N_OF(stem1_ops), S_PA},
    [GC_INC_A] = {"A", a_convs, N_OF(a_convs), a_ops, N_OF(a_ops), S_Y},
    [GC_INC_B] = {"B", b_convs, N_OF(b_convs), b_ops, N_OF(b_ops), S_Y},
    [GC_INC_C] = {"C", c_convs, N_OF(c_convs), c_ops, N_OF(c_ops), S_Y},
    [GC_INC_D] = {"D", d_convs, N_OF(d_convs), d_ops, N_OF(d_ops), S_Y},
    [GC_INC_E_AVG] = {"E_1", e_convs, N_OF(e_convs), e_avg_ops, N_OF(e_avg_ops), S_Y},
    [GC_INC_E_MAX] = {"E_2", e_convs, N_OF(e_convs), e_max_ops, N_OF(e_max_ops), S_Y},
};

const gc_inc_stage gc_inc_fid_stages[13] = {
    {GC_INC_STEM0, NULL, {32, 32, 64}},
    {GC_INC_STEM1, NULL, {80, 192}},
    {GC_INC_A, "Mixed_5b", {64, 48, 64, 64, 96, 96, 32}},
    {GC_INC_A, "Mixed_5c", {64, 48, 64, 64, 96, 96, 64}},
    {GC_INC_A, "Mixed_5d", {64, 48, 64, 64, 96, 96, 64}},
    {GC_INC_B, "Mixed_6a", {384, 64, 96, 96}},
    {GC_INC_C, "Mixed_6b", {192, 128, 128, 192, 128, 128, 128, 128, 192, 192}},
    {GC_INC_C, "Mixed_6c", {192, 160, 160, 192, 160, 160, 160, 160, 192, 192}},
    {GC_INC_C, "Mixed_6d", {192, 160, 160, 192, 160, 160, 160, 160, 192, 192}},
    {GC_INC_C, "Mixed_6e", {192, 192, 192, 192, 192, 192, 192, 192, 192, 192}},
    {GC_INC_D, "Mixed_7a", {192, 320, 192, 192, 192, 192}},
    {GC_INC_E_AVG, "Mixed_7b", {320, 384, 384, 384, 448, 384, 384, 384, 192}},
    {GC_INC_E_MAX, "Mixed_7c", {320, 384, 384, 384, 448, 384, 384, 384, 192}},
};

int gc_inc_tap_stage(int dims)
{
    switch (dims) {
    case 64: return 0;
    case 192: return 1;
    case 768: return 9;
    case 2048: return 12;
    default: return -1;
    }
}

int gc_inception_valid_dims(int dims)
{
    return gc_inc_tap_stage(dims) >= 0;
}

/* ---- the network ------------------------------------------------------------ */

typedef struct inc_conv {
    char name[96]; /* "Mixed_5b.branch1x1" */
    int ic, oc, kh, kw, stride, ph, pw;
    int64_t oh, ow;      /* output size, from the plan */
    size_t w_off, b_off; /* floats into params */
} inc_conv;

typedef struct inc_stage {
    gc_inc_stage d;
    int conv0; /* index of its first convolution in net->convs */
    int64_t in[3], out[3];
} inc_stage;

struct gc_inception {
    gc_backend *be;
    gc_inc_config cfg;
    inc_stage *stages;
    int n_stages;
    inc_conv *convs;
    int n_convs;
    int dims; /* channels of the tap stage; 0 without a tap */
    int chunk;
    int64_t n_params; /* floats */

    /* Floats per image: the plan's maxima and the resulting layout. */
    int64_t stem_need[2], xy, t0, t1, need[2];

    gc_buffer *params, *act[2], *feat, *staging;
    size_t staging_floats;
    gc_buffer *nchw; /* stage outputs leaving the network, transposed back */
    size_t nchw_floats;

    /* The interpreter's state; shapes are (c, h, w). */
    int planning;
    int64_t shp[S_COUNT][3];
};

static int64_t chw_numel(const int64_t s[3])
{
    return s[0] * s[1] * s[2];
}

static void update_max(int64_t *m, int64_t v)
{
    if (v > *m) *m = v;
}

/* Where a slot lives: buffer index (0 = U, 1 = V) and floats per image from
 * its start.  Records the slot's size while planning. */
static int slot_loc(gc_inception *net, int stem, int slot, int xbuf, int64_t *off)
{
    int64_t size = chw_numel(net->shp[slot]);
    int buf;
    *off = 0;
    switch (slot) {
    case S_X: buf = xbuf; break;
    case S_Y: buf = 1 - xbuf; break;
    case S_PA: buf = 1 - xbuf; break;
    case S_PB: buf = xbuf; break;
    case S_T0:
        buf = 1;
        *off = net->xy;
        break;
    case S_T1:
        buf = 1;
        *off = net->xy + net->t0;
        break;
    default: GC_ASSERT_MSG(0, "branch outputs live in Y"); buf = 0;
    }
    if (net->planning) {
        if (slot == S_X || slot == S_Y) {
            if (stem)
                update_max(&net->stem_need[buf], size);
            else
                update_max(&net->xy, size);
        } else if (slot == S_PA || slot == S_PB) {
            update_max(&net->stem_need[buf], size);
        } else if (slot == S_T0) {
            update_max(&net->t0, size);
        } else if (slot == S_T1) {
            update_max(&net->t1, size);
        }
    }
    return buf;
}

static gc_tensor slot_tensor(gc_inception *net, int stem, int slot, int xbuf, int n)
{
    int64_t off;
    int buf = slot_loc(net, stem, slot, xbuf, &off);
    const int64_t *s = net->shp[slot];
    if (net->planning) return (gc_tensor){0};
    return gc_tensor_4d(net->be, net->act[buf], (size_t)(off * n), n, s[1], s[2], s[0]);
}

/* The convolution and its ReLU into channels [c0, c0 + OC) of y. */
static gc_status run_conv(gc_inception *net, const inc_conv *cv, const gc_tensor *y, int64_t c0,
                          const gc_tensor *x)
{
    gc_tensor w = gc_tensor_4d(net->be, net->params, cv->w_off, cv->kh, cv->kw, cv->ic, cv->oc);
    gc_tensor b = gc_tensor_1d(net->be, net->params, cv->b_off, cv->oc);
    gc_conv_params p = {cv->stride, cv->stride, cv->ph, cv->pw, 0, 0};
    return gc_conv2d_nhwc_forward(y, c0, x, &w, &b, &p, 1);
}

/* Runs (or plans) one stage on n images whose input is in buffer *xbuf;
 * on return *xbuf is the buffer holding its output, at offset 0. */
static gc_status run_stage(gc_inception *net, int si, int n, int *xbuf)
{
    const inc_stage *st = &net->stages[si];
    const kind_info *k = &kinds[st->d.kind];
    int stem = k->stem_out != S_Y;
    int n_pieces = 0;
    int64_t c0 = 0; /* the next branch output's first channel in Y */
    memcpy(net->shp[S_X], st->in, sizeof st->in);
    /* Y's shape is the plan's when running (the pieces below recompute it). */
    if (!stem && !net->planning) memcpy(net->shp[S_Y], st->out, sizeof st->out);
    gc_tensor yt = stem ? (gc_tensor){0} : slot_tensor(net, stem, S_Y, *xbuf, n);
    for (int i = 0; i < k->n_ops; i++) {
        const inc_op *op = &k->ops[i];
        const int64_t *src = net->shp[op->src];
        int64_t *dst = net->shp[op->dst];
        inc_conv *cv = NULL;
        if (op->op == OP_CONV) {
            cv = &net->convs[st->conv0 + op->conv];
            GC_ASSERT(cv->ic == src[0]);
            dst[0] = cv->oc;
            dst[1] = gc_conv_out_size(src[1], cv->kh, cv->stride, cv->ph);
            dst[2] = gc_conv_out_size(src[2], cv->kw, cv->stride, cv->pw);
            cv->oh = dst[1];
            cv->ow = dst[2];
        } else {
            int s2 = op->op == OP_MAX3_S2;
            dst[0] = src[0];
            dst[1] = gc_conv_out_size(src[1], 3, s2 ? 2 : 1, s2 ? 0 : 1);
            dst[2] = gc_conv_out_size(src[2], 3, s2 ? 2 : 1, s2 ? 0 : 1);
        }
        if (dst[1] < 1 || dst[2] < 1)
            return gc_error(GC_ERR_ARG,
                            "inception: input %" PRId64 "x%" PRId64
                            " is too small for stage %d (%s)",
                            st->in[1], st->in[2], si, k->name);
        /* Branch outputs are Y's channel slices, in order. */
        int piece = op->dst >= S_P0;
        if (piece) GC_ASSERT(op->dst - S_P0 == n_pieces);
        gc_tensor x = slot_tensor(net, stem, op->src, *xbuf, n);
        gc_tensor y = piece ? yt : slot_tensor(net, stem, op->dst, *xbuf, n);
        int64_t at = piece ? c0 : 0;
        if (piece) {
            n_pieces++;
            c0 += dst[0];
        }
        if (net->planning) continue;
        gc_pool_params pp = {3, 3, 1, 1, 1, 1, 0};
        switch (op->op) {
        case OP_CONV: GC_TRY(run_conv(net, cv, &y, at, &x)); break;
        case OP_AVG3: GC_TRY(gc_pool2d_nhwc_forward(&y, at, &x, &pp, 0)); break;
        case OP_MAX3_S1: GC_TRY(gc_pool2d_nhwc_forward(&y, at, &x, &pp, 1)); break;
        case OP_MAX3_S2:
            pp = (gc_pool_params){3, 3, 2, 2, 0, 0, 0};
            GC_TRY(gc_pool2d_nhwc_forward(&y, at, &x, &pp, 1));
            break;
        }
    }
    if (stem) {
        int64_t off;
        int buf = slot_loc(net, stem, k->stem_out, *xbuf, &off);
        memcpy(net->shp[S_X], net->shp[k->stem_out], sizeof net->shp[S_X]);
        *xbuf = buf;
        return GC_OK;
    }
    /* Y: the pieces side by side. */
    int64_t *y = net->shp[S_Y];
    y[0] = c0;
    y[1] = net->shp[S_P0][1];
    y[2] = net->shp[S_P0][2];
    for (int p = 0; p < n_pieces; p++)
        GC_ASSERT(net->shp[S_P0 + p][1] == y[1] && net->shp[S_P0 + p][2] == y[2]);
    if (net->planning) (void)slot_tensor(net, stem, S_Y, *xbuf, n); /* records Y's size */
    memcpy(net->shp[S_X], y, sizeof net->shp[S_X]);
    *xbuf = 1 - *xbuf;
    return GC_OK;
}

/* Shapes of every stage (stored in net->stages) and the per-image layout. */
static gc_status plan(gc_inception *net)
{
    net->planning = 1;
    int xbuf = 1; /* the input's channels-last copy is in V */
    int64_t in[3] = {net->cfg.in_c, net->cfg.in_h, net->cfg.in_w};
    for (int si = 0; si < net->n_stages; si++) {
        inc_stage *st = &net->stages[si];
        memcpy(st->in, si ? net->stages[si - 1].out : in, sizeof st->in);
        gc_status s = run_stage(net, si, 1, &xbuf);
        if (s != GC_OK) {
            net->planning = 0;
            return s;
        }
        memcpy(st->out, net->shp[S_X], sizeof st->out);
    }
    net->planning = 0;
    int any_mixed = 0;
    for (int si = 0; si < net->n_stages; si++)
        if (kinds[net->stages[si].d.kind].stem_out == S_Y) any_mixed = 1;
    int64_t xy = any_mixed ? net->xy : 0;
    net->need[0] = net->stem_need[0] > xy ? net->stem_need[0] : xy;
    net->need[1] = xy + net->t0 + net->t1;
    update_max(&net->need[1], net->stem_need[1]);
    /* Gray images are resized as one channel into V before being
     * replicated into the three-channel input in U, which is then
     * transposed into V. */
    if (net->cfg.resize) update_max(&net->need[1], (int64_t)net->cfg.in_h * net->cfg.in_w);
    for (int b = 0; b < 2; b++)
        update_max(&net->need[b], (int64_t)net->cfg.in_c * net->cfg.in_h * net->cfg.in_w);
    return GC_OK;
}

/* Images per pass: every buffer within the device's max allocation and the
 * activations within about half of its memory, then evened out so that
 * max_batch splits into equal passes. */
static gc_status choose_chunk(gc_inception *net)
{
    const gc_device_info *dev = gc_backend_device(net->be);
    uint64_t max_alloc = net->cfg.max_alloc ? net->cfg.max_alloc : dev->max_alloc_bytes;
    uint64_t global = net->cfg.global_mem ? net->cfg.global_mem : dev->global_mem_bytes;
    uint64_t budget = 0;
    if (global) {
        /* The rest is for the weights, the convolution's workspace, the
         * driver and whatever else shares the device (a GAN in training). */
        uint64_t half = global / 2, pbytes = (uint64_t)net->n_params * 4;
        budget = half > pbytes + (64u << 20) ? half - pbytes : (64u << 20);
    }
    uint64_t largest = (uint64_t)(net->need[0] > net->need[1] ? net->need[0] : net->need[1]) * 4;
    uint64_t per_image = (uint64_t)(net->need[0] + net->need[1]) * 4;
    if (net->cfg.tap_stage >= 0) /* the tap's NCHW copy (net->nchw) */
        per_image += (uint64_t)chw_numel(net->stages[net->cfg.tap_stage].out) * 4;
    uint64_t chunk = (uint64_t)net->cfg.max_batch;
    if (max_alloc && max_alloc / largest < chunk) chunk = max_alloc / largest;
    if (budget && budget / per_image < chunk) chunk = budget / per_image;
    if (chunk < 1)
        return gc_error(GC_ERR_NOMEM,
                        "%s: one image through Inception needs %.1f MiB of activations "
                        "(largest buffer %.1f MiB); the device allows %.1f MiB per buffer",
                        gc_backend_name(net->be), per_image / 1048576.0, largest / 1048576.0,
                        max_alloc / 1048576.0);
    uint64_t passes = ((uint64_t)net->cfg.max_batch + chunk - 1) / chunk;
    net->chunk = (int)(((uint64_t)net->cfg.max_batch + passes - 1) / passes);
    return GC_OK;
}

static gc_status fetch(gc_inc_get_fn get, void *ctx, const char *conv, const char *what, int ndim,
                       const int64_t *shape, float *dst)
{
    char name[160];
    snprintf(name, sizeof name, "%s.%s", conv, what);
    return get(ctx, name, ndim, shape, dst);
}

/* Reads one BasicConv2d's five tensors and writes its folded weight, as
 * (KH, KW, C, OC) for the channels-last convolution, and bias into host
 * params. */
static gc_status load_conv(const inc_conv *cv, int scale_input, gc_inc_get_fn get, void *ctx,
                           float *params)
{
    int64_t wshape[4] = {cv->oc, cv->ic, cv->kh, cv->kw};
    int64_t per_oc = (int64_t)cv->ic * cv->kh * cv->kw;
    float *w = params + cv->w_off, *b = params + cv->b_off;
    float *bn = malloc(sizeof(float) * (4 * (size_t)cv->oc + (size_t)(cv->oc * per_oc)));
    if (!bn) return gc_error(GC_ERR_NOMEM, "inception: out of host memory");
    float *wt = w; /* (OC, C, KH, KW) as read */
    w = bn + 4 * cv->oc;
    float *gamma = bn, *beta = bn + cv->oc, *mean = bn + 2 * cv->oc, *var = bn + 3 * cv->oc;
    int64_t oc = cv->oc;
    gc_status s = fetch(get, ctx, cv->name, "conv.weight", 4, wshape, w);
    int64_t taps = (int64_t)cv->kh * cv->kw;
    if (s == GC_OK) s = fetch(get, ctx, cv->name, "bn.weight", 1, &oc, gamma);
    if (s == GC_OK) s = fetch(get, ctx, cv->name, "bn.bias", 1, &oc, beta);
    if (s == GC_OK) s = fetch(get, ctx, cv->name, "bn.running_mean", 1, &oc, mean);
    if (s == GC_OK) s = fetch(get, ctx, cv->name, "bn.running_var", 1, &oc, var);
    for (int o = 0; s == GC_OK && o < cv->oc; o++) {
        if (!(var[o] + BN_EPS > 0) || !isfinite(var[o])) {
            s = gc_error(GC_ERR_FORMAT,
                         "tensor '%s.bn.running_var' has a negative or "
                         "non-finite value (%g) at %d",
                         cv->name, (double)var[o], o);
            break;
        }
        double sc = (double)gamma[o] / sqrt((double)var[o] + BN_EPS);
        double shift = (double)beta[o] - (double)mean[o] * sc, wsum = 0;
        float *wo = w + o * per_oc;
        for (int64_t i = 0; i < per_oc; i++) {
            wsum += wo[i];
            wo[i] = (float)((double)wo[i] * sc * (scale_input ? 2.0 : 1.0));
        }
        /* conv(2x - 1) = 2 conv(x) - sum(w) when no tap lands in padding. */
        if (scale_input) shift -= sc * wsum;
        b[o] = (float)shift;
        if (!isfinite(b[o])) {
            s = gc_error(GC_ERR_FORMAT, "the BatchNorm of '%s' is not finite at channel %d",
                         cv->name, o);
        }
        for (int64_t c = 0; c < cv->ic; c++)
            for (int64_t t = 0; t < taps; t++)
                wt[(t * cv->ic + c) * cv->oc + o] = wo[c * taps + t];
    }
    free(bn);
    return s;
}

void gc_inception_free(gc_inception *net)
{
    if (!net) return;
    gc_buffer_free(net->be, net->params);
    gc_buffer_free(net->be, net->act[0]);
    gc_buffer_free(net->be, net->act[1]);
    gc_buffer_free(net->be, net->feat);
    gc_buffer_free(net->be, net->staging);
    gc_buffer_free(net->be, net->nchw);
    free(net->stages);
    free(net->convs);
    free(net);
}

gc_status gc_inc_build(gc_backend *be, const gc_inc_config *cfg, gc_inc_get_fn get, void *ctx,
                       gc_inception **out)
{
    GC_ASSERT(be && cfg && get && out && cfg->n_stages >= 1);
    GC_ASSERT(cfg->tap_stage < cfg->n_stages);
    *out = NULL;
    if (cfg->max_batch < 1)
        return gc_error(GC_ERR_ARG, "inception: batch %d must be at least 1", cfg->max_batch);
    gc_inception *net = calloc(1, sizeof *net);
    if (!net) return gc_error(GC_ERR_NOMEM, "inception: out of host memory");
    net->be = be;
    net->cfg = *cfg;
    net->n_stages = cfg->n_stages;
    net->stages = calloc((size_t)cfg->n_stages, sizeof *net->stages);
    int total_convs = 0;
    for (int i = 0; i < cfg->n_stages; i++)
        total_convs += kinds[cfg->stages[i].kind].n_convs;
    net->convs = calloc((size_t)total_convs, sizeof *net->convs);
    float *host = NULL;
    gc_status s = GC_OK;
    if (!net->stages || !net->convs) {
        s = gc_error(GC_ERR_NOMEM, "inception: out of host memory");
        goto fail;
    }

    /* Convolutions: names, geometry, input channels, parameter offsets. */
    int ic = cfg->in_c;
    size_t off = 0;
    for (int si = 0; si < cfg->n_stages; si++) {
        inc_stage *st = &net->stages[si];
        st->d = cfg->stages[si];
        st->conv0 = net->n_convs;
        const kind_info *k = &kinds[st->d.kind];
        for (int ci = 0; ci < k->n_convs; ci++) {
            const conv_spec *sp = &k->convs[ci];
            inc_conv *cv = &net->convs[net->n_convs++];
            if (st->d.prefix)
                snprintf(cv->name, sizeof cv->name, "%s.%s", st->d.prefix, sp->name);
            else
                snprintf(cv->name, sizeof cv->name, "%s", sp->name);
            cv->ic = sp->src == IN ? ic : st->d.ch[sp->src];
            cv->oc = st->d.ch[ci];
            GC_ASSERT(cv->oc >= 1);
            cv->kh = sp->kh;
            cv->kw = sp->kw;
            cv->stride = sp->stride;
            cv->ph = sp->ph;
            cv->pw = sp->pw;
            cv->w_off = off;
            off += (size_t)cv->oc * cv->ic * cv->kh * cv->kw;
            cv->b_off = off;
            off += (size_t)cv->oc;
        }
        const int *ch = st->d.ch;
        switch (st->d.kind) {
        case GC_INC_STEM0: ic = ch[2]; break;
        case GC_INC_STEM1: ic = ch[1]; break;
        case GC_INC_A: ic = ch[0] + ch[2] + ch[5] + ch[6]; break;
        case GC_INC_B: ic = ch[0] + ch[3] + ic; break;
        case GC_INC_C: ic = ch[0] + ch[3] + ch[8] + ch[9]; break;
        case GC_INC_D: ic = ch[1] + ch[5] + ic; break;
        default: ic = ch[0] + ch[2] + ch[3] + ch[6] + ch[7] + ch[8]; break;
        }
    }
    net->n_params = (int64_t)off;
    if (cfg->scale_input)
        GC_ASSERT_MSG(net->convs[0].ph == 0 && net->convs[0].pw == 0,
                      "2x - 1 folds only into an unpadded first convolution");

    s = plan(net);
    if (s != GC_OK) goto fail;
    net->dims = cfg->tap_stage >= 0 ? (int)net->stages[cfg->tap_stage].out[0] : 0;
    s = choose_chunk(net);
    if (s != GC_OK) goto fail;

    /* Parameters: fetched and folded on the host, uploaded at once. */
    host = malloc(sizeof(float) * off);
    if (!host) {
        s = gc_error(GC_ERR_NOMEM, "inception: out of host memory for %zu weights", off);
        goto fail;
    }
    for (int i = 0; i < net->n_convs && s == GC_OK; i++)
        s = load_conv(&net->convs[i], cfg->scale_input && i == 0, get, ctx, host);
    if (s != GC_OK) goto fail;
    s = gc_buffer_alloc(be, sizeof(float) * off, &net->params);
    if (s == GC_OK) {
        gc_tensor all = gc_tensor_1d(be, net->params, 0, (int64_t)off);
        s = gc_tensor_write(&all, host);
    }
    for (int b = 0; b < 2 && s == GC_OK; b++)
        s = gc_buffer_alloc(be, sizeof(float) * (size_t)net->need[b] * (size_t)net->chunk,
                            &net->act[b]);
    if (s == GC_OK && net->dims)
        s = gc_buffer_alloc(be, sizeof(float) * (size_t)net->dims * (size_t)cfg->max_batch,
                            &net->feat);
    if (s == GC_OK && net->dims) {
        net->nchw_floats = (size_t)chw_numel(net->stages[cfg->tap_stage].out) * net->chunk;
        s = gc_buffer_alloc(be, sizeof(float) * net->nchw_floats, &net->nchw);
    }
    if (s != GC_OK) goto fail;
    free(host);
    GC_DEBUG("inception: %d stages, %d convs, %.1f MiB weights, %d images per pass, "
             "activations %.1f + %.1f MiB",
             net->n_stages, net->n_convs, off * 4 / 1048576.0, net->chunk,
             net->need[0] * 4.0 * net->chunk / 1048576.0,
             net->need[1] * 4.0 * net->chunk / 1048576.0);
    *out = net;
    return GC_OK;

fail:
    free(host);
    gc_inception_free(net);
    return s;
}

int gc_inc_chunk(const gc_inception *net)
{
    return net->chunk;
}

int64_t gc_inc_need(const gc_inception *net, int b)
{
    GC_ASSERT(b == 0 || b == 1);
    return net->need[b];
}

void gc_inc_stage_shape(const gc_inception *net, int stage, int64_t chw[3])
{
    GC_ASSERT(stage >= 0 && stage < net->n_stages);
    memcpy(chw, net->stages[stage].out, sizeof net->stages[stage].out);
}

gc_tensor gc_inc_input(gc_inception *net, int n)
{
    GC_ASSERT(n >= 1 && n <= net->chunk);
    return gc_tensor_4d(net->be, net->act[0], 0, n, net->cfg.in_c, net->cfg.in_h, net->cfg.in_w);
}

/* Runs the stages on n images of the input; after the tap stage (if any),
 * pools its output into features [first, first + n) of net->feat. */
static gc_status forward(gc_inception *net, int n, int64_t first, gc_inc_stage_fn after, void *ctx,
                         gc_tensor *out)
{
    const gc_inc_config *cfg = &net->cfg;
    gc_tensor in = gc_inc_input(net, n);
    gc_tensor in_nhwc = gc_tensor_4d(net->be, net->act[1], 0, n, cfg->in_h, cfg->in_w, cfg->in_c);
    GC_TRY(gc_nhwc_layout(&in_nhwc, &in, 1));
    int xbuf = 1;
    gc_tensor y = {0};
    for (int si = 0; si < net->n_stages; si++) {
        GC_TRY(run_stage(net, si, n, &xbuf));
        const int64_t *o = net->stages[si].out;
        int tap = si == cfg->tap_stage && first >= 0;
        if (!after && !tap && !(out && si == net->n_stages - 1)) continue;
        /* This stage's output leaves the network: back to NCHW. */
        size_t numel = (size_t)(n * o[0] * o[1] * o[2]);
        if (numel > net->nchw_floats) {
            gc_buffer_free(net->be, net->nchw);
            net->nchw = NULL;
            net->nchw_floats = 0;
            GC_TRY(gc_buffer_alloc(net->be, numel * sizeof(float), &net->nchw));
            net->nchw_floats = numel;
        }
        gc_tensor yh = gc_tensor_4d(net->be, net->act[xbuf], 0, n, o[1], o[2], o[0]);
        y = gc_tensor_4d(net->be, net->nchw, 0, n, o[0], o[1], o[2]);
        GC_TRY(gc_nhwc_layout(&y, &yh, 0));
        if (after) GC_TRY(after(ctx, si, &y));
        if (si == net->cfg.tap_stage && first >= 0) {
            gc_tensor f =
                gc_tensor_2d(net->be, net->feat, (size_t)(first * net->dims), n, net->dims);
            GC_TRY(gc_global_avg_pool_forward(&f, &y));
        }
    }
    if (out) *out = y;
    return GC_OK;
}

gc_status gc_inc_fill_activations(gc_inception *net, float v)
{
    for (int b = 0; b < 2; b++) {
        gc_tensor t = gc_tensor_1d(net->be, net->act[b], 0,
                                   (int64_t)(gc_buffer_size(net->act[b]) / sizeof(float)));
        GC_TRY(gc_fill(&t, v));
    }
    return GC_OK;
}

gc_status gc_inc_run(gc_inception *net, int n, gc_inc_stage_fn after_stage, void *ctx,
                     gc_tensor *out)
{
    GC_ASSERT(n >= 1 && n <= net->chunk);
    return forward(net, n, -1, after_stage, ctx, out);
}

/* ---- public API ---------------------------------------------------------------- */

static gc_inc_config fid_config(int dims, int max_batch)
{
    gc_inc_config cfg = {
        .stages = gc_inc_fid_stages,
        .n_stages = gc_inc_tap_stage(dims) + 1,
        .in_c = 3,
        .in_h = 299,
        .in_w = 299,
        .resize = 1,
        .scale_input = 1,
        .tap_stage = gc_inc_tap_stage(dims),
        .max_batch = max_batch,
    };
    return cfg;
}

static gc_status check_dims(int dims)
{
    if (!gc_inception_valid_dims(dims))
        return gc_error(GC_ERR_ARG, "FID dims %d: must be 64, 192, 768 or 2048", dims);
    return GC_OK;
}

gc_status gc_inception_random(gc_backend *be, uint64_t seed, int dims, int max_batch,
                              gc_inception **out)
{
    *out = NULL;
    GC_TRY(check_dims(dims));
    gc_inc_config cfg = fid_config(dims, max_batch);
    return gc_inc_build(be, &cfg, gc_inc_get_random, &seed, out);
}

gc_status gc_inception_load(gc_backend *be, const char *weights_path, int dims, int max_batch,
                            gc_inception **out)
{
    *out = NULL;
    GC_TRY(check_dims(dims));
    gc_st_file *f;
    GC_TRY(gc_st_load(weights_path, 0, &f));
    gc_inc_config cfg = fid_config(dims, max_batch);
    gc_status s = gc_inc_build(be, &cfg, gc_inc_get_safetensors, f, out);
    gc_st_free(f);
    return s;
}

int gc_inception_dims(const gc_inception *net)
{
    return net->dims;
}

int gc_inception_max_batch(const gc_inception *net)
{
    return net->cfg.max_batch;
}

double gc_inception_flops(const gc_inception *net)
{
    double f = 0;
    for (int i = 0; i < net->n_convs; i++) {
        const inc_conv *cv = &net->convs[i];
        f += 2.0 * cv->oc * cv->ic * cv->kh * cv->kw * (double)cv->oh * (double)cv->ow;
    }
    return f;
}

void gc_inception_memory_use(const gc_inception *net, gc_inception_memory *m)
{
    memset(m, 0, sizeof *m);
    m->params = gc_buffer_size(net->params);
    m->activations = gc_buffer_size(net->act[0]) + gc_buffer_size(net->act[1]);
    m->other = gc_buffer_size(net->feat) + gc_buffer_size(net->staging) + gc_buffer_size(net->nchw);
    gc_buffer *all[] = {net->params, net->act[0], net->act[1], net->feat, net->staging, net->nchw};
    for (int i = 0; i < 6; i++)
        if (gc_buffer_size(all[i]) > m->largest) m->largest = gc_buffer_size(all[i]);
    m->chunk = net->chunk;
}

/* Uploads n host images and resizes them into the network input; gray ones
 * are resized as one channel, then replicated (as PIL's convert("RGB")
 * would have done before pytorch-fid's resize). */
gc_status gc_inc_preprocess(gc_inception *net, const float *images, int n, int c, int h, int w)
{
    GC_ASSERT(n >= 1 && n <= net->chunk && net->cfg.resize && net->cfg.in_c == 3);
    gc_backend *be = net->be;
    const gc_inc_config *cfg = &net->cfg;
    const int64_t H = cfg->in_h, W = cfg->in_w, per = (int64_t)c * h * w;
    int sub = (int)(STAGING_BYTES / (sizeof(float) * (size_t)per));
    if (sub < 1) sub = 1;
    if (sub > n) sub = n;
    size_t need = (size_t)sub * (size_t)per;
    if (need > net->staging_floats) {
        gc_buffer_free(be, net->staging);
        net->staging = NULL;
        net->staging_floats = 0;
        GC_TRY(gc_buffer_alloc(be, need * sizeof(float), &net->staging));
        net->staging_floats = need;
    }
    int same = h == H && w == W;
    for (int i = 0; i < n; i += sub) {
        int k = n - i < sub ? n - i : sub;
        gc_tensor st = gc_tensor_4d(be, net->staging, 0, k, c, h, w);
        GC_TRY(gc_tensor_write(&st, images + (int64_t)i * per));
        /* Three channels go straight to the input, one channel to V first. */
        gc_tensor dst = c == 3 ? gc_tensor_4d(be, net->act[0], (size_t)(i * 3 * H * W), k, 3, H, W)
                               : gc_tensor_4d(be, net->act[1], (size_t)(i * H * W), k, 1, H, W);
        if (same)
            GC_TRY(gc_copy(&dst, &st));
        else
            GC_TRY(gc_resize_bilinear_forward(&dst, &st));
    }
    if (c == 1) {
        gc_tensor gray = gc_tensor_4d(be, net->act[1], 0, n, 1, H, W);
        gc_tensor rgb = gc_inc_input(net, n);
        gc_tensor three[3] = {gray, gray, gray};
        GC_TRY(gc_concat_forward(&rgb, three, 3));
    }
    return GC_OK;
}

gc_status gc_inception_features(gc_inception *net, const float *images, int n, int c, int h, int w,
                                float *features)
{
    if (n < 1 || n > net->cfg.max_batch)
        return gc_error(GC_ERR_ARG, "inception: %d images in one call (1 to %d)", n,
                        net->cfg.max_batch);
    if ((c != 1 && c != 3) || h < 1 || w < 1)
        return gc_error(GC_ERR_ARG, "inception: images must be gray or RGB (got %d x %d x %d)", c,
                        h, w);
    if (!net->dims) return gc_error(GC_ERR_ARG, "inception: this network has no feature tap");
    GC_ASSERT(net->cfg.resize && net->cfg.in_c == 3);
    for (int first = 0; first < n; first += net->chunk) {
        int m = n - first < net->chunk ? n - first : net->chunk;
        GC_TRY(gc_inc_preprocess(net, images + (int64_t)first * c * h * w, m, c, h, w));
        GC_TRY(forward(net, m, first, NULL, NULL, NULL));
    }
    gc_tensor f = gc_tensor_2d(net->be, net->feat, 0, n, net->dims);
    return gc_tensor_read(&f, features);
}

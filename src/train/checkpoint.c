/* src/train/checkpoint.c - training checkpoints as safetensors: per-layer
 * parameters and running statistics, flat Adam moments, the configuration as
 * JSON and the run state as decimal strings in the metadata. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "gancl/train.h"
#include "train/train_internal.h"
#include "util/error.h"

#define CKPT_FORMAT GC_CHECKPOINT_FORMAT
#define MAX_ENTRIES (2 * (6 * GC_SEQ_MAX_LAYERS + 4))

/* Host copies of one network's buffers. */
typedef struct host_seq {
    float *params, *state, *m, *v;
} host_seq;

static void host_free(host_seq *h)
{
    free(h->params);
    free(h->state);
    free(h->m);
    free(h->v);
    memset(h, 0, sizeof *h);
}

static gc_status host_alloc(const gc_seq *s, host_seq *h)
{
    size_t p = (size_t)(s->n_params ? s->n_params : 1), st = (size_t)(s->n_state ? s->n_state : 1);
    h->params = malloc(p * sizeof(float));
    h->m = malloc(p * sizeof(float));
    h->v = malloc(p * sizeof(float));
    h->state = malloc(st * sizeof(float));
    if (h->params && h->m && h->v && h->state) return GC_OK;
    host_free(h);
    return gc_error(GC_ERR_NOMEM, "out of host memory for a checkpoint");
}

/* The safetensors entries of one network, pointing into h. */
typedef struct entries {
    gc_st_tensor t[MAX_ENTRIES];
    char names[MAX_ENTRIES][48];
    int n;
} entries;

/* Adds "<prefix>.<layer>.<what>" (or "<prefix>.<what>" for layer < 0). */
static void add_entry(entries *e, const char *prefix, int layer, const char *what,
                      const gc_tensor *shape, const float *data)
{
    GC_ASSERT(e->n < MAX_ENTRIES);
    gc_st_tensor *t = &e->t[e->n];
    if (layer >= 0)
        snprintf(e->names[e->n], sizeof e->names[0], "%s.%d.%s", prefix, layer, what);
    else
        snprintf(e->names[e->n], sizeof e->names[0], "%s.%s", prefix, what);
    t->name = e->names[e->n];
    t->dtype = GC_ST_F32;
    t->ndim = shape->ndim;
    for (int i = 0; i < shape->ndim; i++)
        t->shape[i] = shape->shape[i];
    t->data = data;
    t->nbytes = (size_t)gc_tensor_numel(shape) * sizeof(float);
    e->n++;
}

static void seq_entries(const gc_seq *s, const char *prefix, const host_seq *h, int adam,
                        entries *e)
{
    for (int i = 0; i < s->n_layers; i++) {
        const gc_layer *l = &s->layers[i];
        gc_tensor w = gc_layer_weight(s, i, s->params), b = gc_layer_bias(s, i, s->params);
        if (w.buf) add_entry(e, prefix, i, "weight", &w, h->params + l->w_off);
        if (b.buf) add_entry(e, prefix, i, "bias", &b, h->params + l->b_off);
        /* (classes, F) as PyTorch's nn.Embedding or projection table.  Its
         * Adam moments are in adam_m/adam_v already: those are flat over
         * params, tables included. */
        gc_tensor ct = gc_layer_class_table(s, i, s->params);
        if (ct.buf) add_entry(e, prefix, i, "class_embed", &ct, h->params + l->e_off);
        if (l->d.kind == GC_LAYER_BATCHNORM2D) {
            gc_tensor rm = gc_layer_running_mean(s, i), rv = gc_layer_running_var(s, i);
            add_entry(e, prefix, i, "running_mean", &rm, h->state + l->stat_off);
            add_entry(e, prefix, i, "running_var", &rv, h->state + l->stat_off + (size_t)l->out[0]);
        }
        gc_tensor u = gc_layer_sn_u(s, i);
        if (u.buf) add_entry(e, prefix, i, "sn_u", &u, h->state + l->u_off);
    }
    if (adam) {
        gc_tensor flat = gc_seq_params(s);
        add_entry(e, prefix, -1, "adam_m", &flat, h->m);
        add_entry(e, prefix, -1, "adam_v", &flat, h->v);
    }
}

static gc_status seq_to_host(const gc_seq *s, host_seq *h)
{
    gc_tensor p = gc_seq_params(s), st = gc_seq_state(s), m = gc_seq_adam_m(s),
              v = gc_seq_adam_v(s);
    GC_TRY(gc_tensor_read(&p, h->params));
    if (s->n_state) GC_TRY(gc_tensor_read(&st, h->state));
    GC_TRY(gc_tensor_read(&m, h->m));
    return gc_tensor_read(&v, h->v);
}

static gc_status seq_from_host(gc_seq *s, const host_seq *h, int adam)
{
    gc_tensor p = gc_seq_params(s), st = gc_seq_state(s), m = gc_seq_adam_m(s),
              v = gc_seq_adam_v(s);
    GC_TRY(gc_tensor_write(&p, h->params));
    if (s->n_state) GC_TRY(gc_tensor_write(&st, h->state));
    if (!adam) return GC_OK;
    GC_TRY(gc_tensor_write(&m, h->m));
    return gc_tensor_write(&v, h->v);
}

/* ---- configuration as JSON -------------------------------------------------- */

static char *config_json(const gc_train_config *c)
{
    cJSON *o = cJSON_CreateObject();
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, c->seed);
    cJSON_AddStringToObject(o, "model", gc_model_name(c->model.kind));
    cJSON_AddNumberToObject(o, "latent", c->model.latent);
    cJSON_AddNumberToObject(o, "g_width", c->model.g_width);
    cJSON_AddNumberToObject(o, "d_width", c->model.d_width);
    cJSON_AddNumberToObject(o, "channels", c->model.channels);
    cJSON_AddNumberToObject(o, "height", c->model.height);
    cJSON_AddNumberToObject(o, "width", c->model.width);
    cJSON_AddNumberToObject(o, "batch", c->batch);
    cJSON_AddNumberToObject(o, "lr", c->lr);
    cJSON_AddNumberToObject(o, "beta1", c->beta1);
    cJSON_AddNumberToObject(o, "beta2", c->beta2);
    cJSON_AddNumberToObject(o, "eps", c->eps);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddStringToObject(o, "data", c->data);
    cJSON_AddNumberToObject(o, "epochs", (double)c->epochs);
    cJSON_AddNumberToObject(o, "steps", (double)c->max_steps);
    cJSON_AddNumberToObject(o, "sample_every", (double)c->sample_every);
    cJSON_AddNumberToObject(o, "log_every", (double)c->log_every);
    cJSON_AddNumberToObject(o, "fid_every", (double)c->fid_every);
    cJSON_AddNumberToObject(o, "fid_n", (double)c->fid_n);
    cJSON_AddNumberToObject(o, "fid_dims", c->fid_dims);
    cJSON_AddStringToObject(o, "fid_weights", c->fid_weights);
    /* Only where set, so an unconditional run's checkpoint is what it was
     * before these keys existed. */
    if (c->model.classes) cJSON_AddNumberToObject(o, "classes", c->model.classes);
    if (c->labels[0]) cJSON_AddStringToObject(o, "labels", c->labels);
    if (c->fid_classifier[0]) cJSON_AddStringToObject(o, "fid_classifier", c->fid_classifier);
    if (c->model.depth && c->model.depth != 2) cJSON_AddNumberToObject(o, "depth", c->model.depth);
    if (c->model.spectral_norm) cJSON_AddNumberToObject(o, "spectral_norm", 1);
    if (c->model.mbstd) cJSON_AddNumberToObject(o, "mbstd", c->model.mbstd);
    if (c->loss == GC_LOSS_HINGE) cJSON_AddStringToObject(o, "loss", "hinge");
    if (c->diffaug) cJSON_AddNumberToObject(o, "diffaug", c->diffaug);
    if (c->ema > 0) cJSON_AddNumberToObject(o, "ema", c->ema);
    if (c->image_size) cJSON_AddNumberToObject(o, "image_size", c->image_size);
    if (c->save_every > 1) cJSON_AddNumberToObject(o, "save_every", (double)c->save_every);
    if (c->background != 255) cJSON_AddNumberToObject(o, "background", c->background);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* What is wrong with the field that failed, for the message. */
static _Thread_local char bad_why[256];

/* A JSON value in a few words. */
static const char *describe(const cJSON *v, char *buf, size_t n)
{
    if (cJSON_IsNumber(v))
        snprintf(buf, n, "%.15g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(buf, n, "the string \"%.32s\"", v->valuestring);
    else
        snprintf(buf, n, "%s",
                 cJSON_IsBool(v)    ? "a boolean"
                 : cJSON_IsNull(v)  ? "null"
                 : cJSON_IsArray(v) ? "an array"
                                    : "an object");
    return buf;
}

static int bad(const cJSON *v, const char *key, const char *expected)
{
    char what[64];
    if (!v)
        snprintf(bad_why, sizeof bad_why, "\"%s\" is missing", key);
    else
        snprintf(bad_why, sizeof bad_why, "\"%s\" is %s, expected %s", key,
                 describe(v, what, sizeof what), expected);
    return 0;
}

static int json_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char expected[96];
    snprintf(expected, sizeof expected, "an integer in [%lld, %lld]", (long long)lo, (long long)hi);
    /* Range first: converting a double outside int64_t (1e300, NaN) to an
     * integer is undefined behaviour. */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= (double)lo && v->valuedouble <= (double)hi))
        return bad(v, key, expected);
    int64_t x = (int64_t)v->valuedouble;
    if ((double)x != v->valuedouble) return bad(v, key, expected);
    *out = x;
    return 1;
}

/* An integer that checkpoints from before it existed lack: absent gives
 * the default, present must be valid. */
static int json_opt_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t def,
                        int64_t *out)
{
    if (!cJSON_GetObjectItemCaseSensitive(o, key)) {
        *out = def;
        return 1;
    }
    return json_int(o, key, lo, hi, out);
}

/* A number between lo and hi, either end open or closed (the trainer's Adam
 * rules: lr and eps above 0, betas below 1). */
static int json_float(const cJSON *o, const char *key, double lo, int lo_open, double hi,
                      int hi_open, float *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char expected[96];
    snprintf(expected, sizeof expected, "a number in %c%g, %g%c", lo_open ? '(' : '[', lo, hi,
             hi_open ? ')' : ']');
    if (!cJSON_IsNumber(v)) return bad(v, key, expected);
    double d = v->valuedouble;
    if (!(d >= lo && d <= hi) || (lo_open && d == lo) || (hi_open && d == hi))
        return bad(v, key, expected);
    *out = (float)d;
    if (lo_open && !(*out > (float)lo)) return bad(v, key, expected); /* 1e-50 rounds to 0 */
    if (hi_open && !(*out < (float)hi)) return bad(v, key, expected); /* so does 1 - 1e-10 to 1 */
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+') return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno) return 0;
    *out = v;
    return 1;
}

static int json_string(const cJSON *o, const char *key, size_t max_len, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    char expected[96];
    snprintf(expected, sizeof expected, "a string of at most %zu bytes", max_len - 1);
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= max_len) return bad(v, key, expected);
    *out = v->valuestring;
    return 1;
}

/* Ranges follow the command line's flags (and the trainer's checks), so a
 * checkpoint can only hold what `gancl train` could have written; a config
 * asking for terabytes never reaches an allocation. */
static gc_status parse_config(const char *path, const char *json, gc_train_config *c)
{
    memset(c, 0, sizeof *c);
    if (!json) return gc_error(GC_ERR_FORMAT, "%s: no \"config\" metadata", path);
    cJSON *o = cJSON_Parse(json);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return gc_error(GC_ERR_FORMAT, "%s: the \"config\" metadata is not a JSON object", path);
    }
    int64_t latent = 0, gw = 0, dw = 0, ch = 0, h = 0, w = 0, batch = 0, fid_dims = 0, classes = 0;
    int64_t depth = 2, sn = 0, mbstd = 0, diffaug = 0, image_size = 0, background = 255;
    const char *loss = "bce";
    const gc_train_config def = gc_train_default_config(GC_MODEL_DCGAN);
    const char *model = NULL, *seed = NULL, *data = NULL, *fid_weights = "", *labels = "",
               *fid_classifier = "";
    const int64_t big = INT64_C(1) << 52;
    int ok = json_string(o, "model", 32, &model);
    if (ok && !gc_model_parse(model, &c->model.kind))
        ok = bad(cJSON_GetObjectItemCaseSensitive(o, "model"), "model", "\"seed\" or \"dcgan\"");
    ok = ok && json_int(o, "latent", 1, 65536, &latent) && json_int(o, "g_width", 2, 4096, &gw) &&
         json_int(o, "d_width", 1, 4096, &dw) && json_int(o, "channels", 1, 4, &ch) &&
         json_int(o, "height", 4, 1024, &h) && json_int(o, "width", 4, 1024, &w) &&
         json_int(o, "batch", 2, 65536, &batch) && json_float(o, "lr", 0, 1, 1, 0, &c->lr) &&
         json_float(o, "beta1", 0, 0, 1, 1, &c->beta1) &&
         json_float(o, "beta2", 0, 0, 1, 1, &c->beta2) &&
         json_float(o, "eps", 0, 1, 1, 0, &c->eps) && json_string(o, "seed", 32, &seed);
    if (ok && !parse_u64(seed, &c->seed))
        ok = bad(cJSON_GetObjectItemCaseSensitive(o, "seed"), "seed",
                 "an unsigned 64-bit integer in decimal");
    ok = ok && json_string(o, "data", sizeof c->data, &data) &&
         json_int(o, "epochs", 0, big, &c->epochs) && json_int(o, "steps", 0, big, &c->max_steps) &&
         json_int(o, "sample_every", 0, big, &c->sample_every) &&
         json_int(o, "log_every", 0, big, &c->log_every) &&
         json_opt_int(o, "fid_every", 0, big, 0, &c->fid_every) &&
         json_opt_int(o, "fid_n", 2, big, def.fid_n, &c->fid_n) &&
         json_opt_int(o, "fid_dims", 1, 1 << 16, def.fid_dims, &fid_dims);
    if (ok && !gc_inception_valid_dims((int)fid_dims))
        ok = bad(cJSON_GetObjectItemCaseSensitive(o, "fid_dims"), "fid_dims",
                 "64, 192, 768 or 2048");
    if (ok && cJSON_GetObjectItemCaseSensitive(o, "fid_weights"))
        ok = json_string(o, "fid_weights", sizeof c->fid_weights, &fid_weights);
    /* Absent in checkpoints of unconditional runs (and of older gancl). */
    ok = ok && json_opt_int(o, "classes", 0, GC_MAX_CLASSES, 0, &classes);
    if (ok && classes == 1) {
        char expected[64];
        snprintf(expected, sizeof expected, "0 or an integer in [2, %d]", GC_MAX_CLASSES);
        ok = bad(cJSON_GetObjectItemCaseSensitive(o, "classes"), "classes", expected);
    }
    if (ok && cJSON_GetObjectItemCaseSensitive(o, "labels"))
        ok = json_string(o, "labels", sizeof c->labels, &labels);
    if (ok && cJSON_GetObjectItemCaseSensitive(o, "fid_classifier"))
        ok = json_string(o, "fid_classifier", sizeof c->fid_classifier, &fid_classifier);
    /* The remedies against mode collapse, absent when off (and in older
     * checkpoints, whose dcgan had 2 stages at any size). */
    ok = ok && json_opt_int(o, "depth", 2, 8, 2, &depth) &&
         json_opt_int(o, "spectral_norm", 0, 1, 0, &sn) &&
         json_opt_int(o, "mbstd", 0, 1024, 0, &mbstd) &&
         json_opt_int(o, "diffaug", 0,
                      GC_DIFFAUG_COLOR | GC_DIFFAUG_TRANSLATION | GC_DIFFAUG_CUTOUT, 0, &diffaug);
    if (ok && cJSON_GetObjectItemCaseSensitive(o, "loss")) ok = json_string(o, "loss", 16, &loss);
    if (ok && strcmp(loss, "bce") && strcmp(loss, "hinge"))
        ok = bad(cJSON_GetObjectItemCaseSensitive(o, "loss"), "loss", "\"bce\" or \"hinge\"");
    if (ok && cJSON_GetObjectItemCaseSensitive(o, "ema"))
        ok = json_float(o, "ema", 0, 1, 1, 1, &c->ema);
    ok = ok && json_opt_int(o, "image_size", 0, 1024, 0, &image_size) &&
         json_opt_int(o, "save_every", 1, 1000000, 1, &c->save_every) &&
         json_opt_int(o, "background", 0, 255, 255, &background);
    if (ok) {
        c->model.depth = (int)depth, c->model.spectral_norm = (int)sn, c->model.mbstd = (int)mbstd;
        c->loss = strcmp(loss, "hinge") ? GC_LOSS_BCE : GC_LOSS_HINGE;
        c->diffaug = (int)diffaug;
        c->image_size = (int)image_size, c->background = (int)background;
        c->model.classes = (int)classes;
        strcpy(c->labels, labels);
        strcpy(c->fid_classifier, fid_classifier);
        c->model.latent = (int)latent, c->model.g_width = (int)gw, c->model.d_width = (int)dw;
        c->model.channels = (int)ch, c->model.height = (int)h, c->model.width = (int)w;
        c->batch = (int)batch;
        c->fid_dims = (int)fid_dims;
        strcpy(c->fid_weights, fid_weights);
        strcpy(c->data, data);
    }
    cJSON_Delete(o);
    if (!ok) return gc_error(GC_ERR_FORMAT, "%s: checkpoint config: %s", path, bad_why);
    gc_status s = gc_gan_config_check(&c->model);
    return s ? gc_error_prefix(GC_ERR_FORMAT, "%s: checkpoint config", path) : GC_OK;
}

/* The first layer of G (dense: latent -> g_width x H/2^depth x W/2^depth)
 * and of D (a k x k convolution: channels -> d_width), and a conditional
 * model's class tables, must be in the file with the sizes the config
 * implies, so the configuration's sizes are backed by bytes that are
 * really there before any model is built from them. */
static gc_status check_config_tensors(const gc_st_file *f, const gc_train_config *c)
{
    const gc_gan_config *m = &c->model;
    int seed = m->kind == GC_MODEL_SEED, k = seed ? 3 : 4, depth = seed ? 2 : m->depth;
    int64_t cells = (int64_t)(m->height >> depth) * (m->width >> depth);
    int64_t g_out = (int64_t)m->g_width * cells;
    /* A conditional model's class tables can dwarf those layers (up to
     * GC_MAX_CLASSES rows): G's first layer's embedding (classes, its
     * outputs), D's dense head's projection (classes, its inputs).  D's
     * head is its last layer: after a first convolution and activation,
     * depth - 1 stages of 3 layers (2 without batchnorm), and the
     * minibatch-stddev layer (which adds a channel). */
    int d_head = seed ? 4 : 2 + (depth - 1) * (m->spectral_norm ? 2 : 3) + (m->mbstd ? 1 : 0);
    char d_table[32];
    snprintf(d_table, sizeof d_table, "D.%d.class_embed", d_head);
    int64_t d_in =
        ((int64_t)m->d_width * (seed ? 2 : 1 << (depth - 1)) + (m->mbstd ? 1 : 0)) * cells;
    struct {
        const char *name;
        int64_t numel;
    } want[4] = {
        {"G.0.weight", (int64_t)m->latent * g_out},
        {"D.0.weight", (int64_t)m->d_width * m->channels * k * k},
        {"G.0.class_embed", (int64_t)m->classes * g_out},
        {d_table, (int64_t)m->classes * d_in},
    };
    for (int i = 0; i < (m->classes ? 4 : 2); i++) {
        const gc_st_tensor *t = gc_st_find(f, want[i].name);
        if (!t)
            return gc_error(GC_ERR_FORMAT, "%s: tensor %s is missing", gc_st_path(f), want[i].name);
        if (t->dtype != GC_ST_F32 || t->nbytes != (size_t)want[i].numel * sizeof(float))
            return gc_error(GC_ERR_FORMAT,
                            "%s: tensor %s does not match the checkpoint's config (%lld F32 "
                            "values expected)",
                            gc_st_path(f), want[i].name, (long long)want[i].numel);
    }
    return GC_OK;
}

/* ---- saving ------------------------------------------------------------------- */

/* ["name", ...]: what `gancl export` names its class folders after. */
static char *class_names_json(char *const *names, int k)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < k; i++) {
        cJSON *v = cJSON_CreateString(names[i]);
        if (!v || !cJSON_AddItemToArray(a, v)) {
            cJSON_Delete(v);
            cJSON_Delete(a);
            return NULL;
        }
    }
    char *text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

/* The G_ema tensors: G's averaged buffers, flat, copied into ema. */
static gc_status ema_entries(const gc_trainer *tr, entries *e, host_seq *ema)
{
    const gc_seq *g = &tr->gan.g;
    GC_TRY(host_alloc(g, ema));
    gc_tensor p = gc_tensor_1d(tr->be, tr->ema_params, 0, g->n_params);
    GC_TRY(gc_tensor_read(&p, ema->params));
    add_entry(e, "G_ema", -1, "params", &p, ema->params);
    if (!g->n_state) return GC_OK;
    gc_tensor st = gc_tensor_1d(tr->be, tr->ema_state, 0, g->n_state);
    GC_TRY(gc_tensor_read(&st, ema->state));
    add_entry(e, "G_ema", -1, "state", &st, ema->state);
    return GC_OK;
}

gc_status gc_trainer_save(const gc_trainer *tr, const char *path)
{
    host_seq hg = {0}, hd = {0}, ema = {0};
    entries *e = calloc(1, sizeof *e);
    char *json = NULL, *names = NULL;
    gc_status s = e ? GC_OK : gc_error(GC_ERR_NOMEM, "out of host memory for a checkpoint");
    if (s == GC_OK) s = host_alloc(&tr->gan.g, &hg);
    if (s == GC_OK) s = host_alloc(&tr->gan.d, &hd);
    if (s == GC_OK) s = seq_to_host(&tr->gan.g, &hg);
    if (s == GC_OK) s = seq_to_host(&tr->gan.d, &hd);
    if (s == GC_OK && !(json = config_json(&tr->cfg)))
        s = gc_error(GC_ERR_NOMEM, "out of memory writing the configuration");
    if (s == GC_OK) {
        seq_entries(&tr->gan.g, "G", &hg, 1, e);
        seq_entries(&tr->gan.d, "D", &hd, 1, e);
        const gc_train_state *st = &tr->st;
        char v[8][24];
        uint64_t vals[8] = {(uint64_t)st->step,  (uint64_t)st->epoch, (uint64_t)st->epoch_step,
                            st->noise.seed,      st->noise.offset,    st->shuffle_seed,
                            st->shuffle_counter, st->fixed_seed};
        for (int i = 0; i < 8; i++)
            snprintf(v[i], sizeof v[i], "%" PRIu64, vals[i]);
        gc_st_kv meta[] = {
            {"format", CKPT_FORMAT}, {"config", json},       {"step", v[0]},
            {"epoch", v[1]},         {"epoch_step", v[2]},   {"noise_seed", v[3]},
            {"noise_offset", v[4]},  {"shuffle_seed", v[5]}, {"shuffle_counter", v[6]},
            {"fixed_seed", v[7]},    {"class_names", NULL},  {"aug_seed", NULL},
            {"aug_offset", NULL}};
        int nmeta = (int)(sizeof meta / sizeof meta[0]) - 3;
        if (tr->class_names && tr->cfg.model.classes > 0) {
            if (!(names = class_names_json(tr->class_names, tr->cfg.model.classes)))
                s = gc_error(GC_ERR_NOMEM, "out of memory writing the class names");
            meta[nmeta++].value = names;
        }
        if (s == GC_OK && tr->ema_params) s = ema_entries(tr, e, &ema);
        char aug[2][24];
        if (tr->cfg.diffaug) {
            snprintf(aug[0], sizeof aug[0], "%" PRIu64, st->aug.seed);
            snprintf(aug[1], sizeof aug[1], "%" PRIu64, st->aug.offset);
            meta[nmeta++] = (gc_st_kv){"aug_seed", aug[0]};
            meta[nmeta++] = (gc_st_kv){"aug_offset", aug[1]};
        }
        if (s == GC_OK) s = gc_st_write(path, e->t, e->n, meta, nmeta);
    }
    host_free(&ema);
    cJSON_free(json);
    cJSON_free(names);
    host_free(&hg);
    host_free(&hd);
    free(e);
    return s;
}

/* ---- loading ------------------------------------------------------------------- */

static gc_status open_checkpoint(const char *path, gc_st_file **f)
{
    GC_TRY(gc_st_load(path, 0, f));
    const char *fmt = gc_st_metadata(*f, "format");
    if (!fmt || strcmp(fmt, CKPT_FORMAT)) {
        /* The message first: fmt lives in *f. */
        gc_status s =
            fmt ? gc_error(GC_ERR_FORMAT,
                           "%s: not a gancl checkpoint (format \"%.64s\", expected \"%s\")", path,
                           fmt, CKPT_FORMAT)
                : gc_error(GC_ERR_FORMAT,
                           "%s: not a gancl checkpoint (no \"format\" metadata, expected \"%s\")",
                           path, CKPT_FORMAT);
        gc_st_free(*f);
        *f = NULL;
        return s;
    }
    return GC_OK;
}

gc_status gc_checkpoint_config(const char *path, gc_train_config *cfg)
{
    gc_st_file *f;
    GC_TRY(open_checkpoint(path, &f));
    gc_status s = parse_config(path, gc_st_metadata(f, "config"), cfg);
    if (s == GC_OK) s = check_config_tensors(f, cfg);
    gc_st_free(f);
    return s;
}

/* Copies every expected tensor of the file into the host arrays behind e. */
static gc_status fill_entries(const gc_st_file *f, const entries *e)
{
    for (int i = 0; i < e->n; i++) {
        const gc_st_tensor *want = &e->t[i], *got = gc_st_find(f, want->name);
        if (!got)
            return gc_error(GC_ERR_FORMAT, "%s: tensor %s is missing", gc_st_path(f), want->name);
        int same = got->dtype == GC_ST_F32 && got->ndim == want->ndim;
        for (int k = 0; same && k < want->ndim; k++)
            same = got->shape[k] == want->shape[k];
        if (!same)
            return gc_error(GC_ERR_FORMAT,
                            "%s: tensor %s has the wrong dtype or shape for this model",
                            gc_st_path(f), want->name);
        memcpy((void *)want->data, got->data, want->nbytes);
    }
    return GC_OK;
}

static gc_status load_gan(const gc_st_file *f, gc_gan *gan, int adam)
{
    host_seq hg = {0}, hd = {0};
    entries *e = calloc(1, sizeof *e);
    gc_status s = e ? GC_OK : gc_error(GC_ERR_NOMEM, "out of host memory for a checkpoint");
    if (s == GC_OK) s = host_alloc(&gan->g, &hg);
    if (s == GC_OK) s = host_alloc(&gan->d, &hd);
    if (s == GC_OK) {
        seq_entries(&gan->g, "G", &hg, adam, e);
        seq_entries(&gan->d, "D", &hd, adam, e);
        s = fill_entries(f, e);
    }
    if (s == GC_OK) s = seq_from_host(&gan->g, &hg, adam);
    if (s == GC_OK) s = seq_from_host(&gan->d, &hd, adam);
    host_free(&hg);
    host_free(&hd);
    free(e);
    return s;
}

/* G_ema.params and G_ema.state of the file into buffers of G's sizes:
 * *found 0 when the file has none. */
static gc_status load_ema(const gc_st_file *f, const gc_seq *g, gc_buffer *params, gc_buffer *state,
                          int *found)
{
    const gc_st_tensor *tp = gc_st_find(f, "G_ema.params"), *ts = gc_st_find(f, "G_ema.state");
    *found = tp != NULL;
    if (!tp) return GC_OK;
    if (tp->dtype != GC_ST_F32 || tp->nbytes != (size_t)g->n_params * sizeof(float) ||
        (g->n_state &&
         (!ts || ts->dtype != GC_ST_F32 || ts->nbytes != (size_t)g->n_state * sizeof(float))))
        return gc_error(GC_ERR_FORMAT,
                        "%s: G_ema.params or G_ema.state is missing or does not "
                        "match G",
                        gc_st_path(f));
    gc_tensor p = gc_tensor_1d(g->be, params, 0, g->n_params);
    GC_TRY(gc_tensor_write(&p, tp->data));
    if (!g->n_state) return GC_OK;
    gc_tensor st = gc_tensor_1d(g->be, state, 0, g->n_state);
    return gc_tensor_write(&st, ts->data);
}

static gc_status meta_u64(const gc_st_file *f, const char *key, uint64_t *out)
{
    if (!parse_u64(gc_st_metadata(f, key), out))
        return gc_error(GC_ERR_FORMAT, "%s: metadata \"%s\" is missing or not a number",
                        gc_st_path(f), key);
    return GC_OK;
}

static gc_status load_state(const gc_st_file *f, gc_train_state *st)
{
    uint64_t step, epoch, epoch_step;
    GC_TRY(meta_u64(f, "step", &step));
    GC_TRY(meta_u64(f, "epoch", &epoch));
    GC_TRY(meta_u64(f, "epoch_step", &epoch_step));
    GC_TRY(meta_u64(f, "noise_seed", &st->noise.seed));
    GC_TRY(meta_u64(f, "noise_offset", &st->noise.offset));
    GC_TRY(meta_u64(f, "shuffle_seed", &st->shuffle_seed));
    GC_TRY(meta_u64(f, "shuffle_counter", &st->shuffle_counter));
    GC_TRY(meta_u64(f, "fixed_seed", &st->fixed_seed));
    if (step > INT64_MAX / 2 || epoch > step || epoch_step > step)
        return gc_error(GC_ERR_FORMAT, "%s: inconsistent step counters", gc_st_path(f));
    st->step = (int64_t)step, st->epoch = (int64_t)epoch, st->epoch_step = (int64_t)epoch_step;
    return GC_OK;
}

gc_status gc_trainer_load(gc_trainer *tr, const char *path)
{
    gc_st_file *f;
    GC_TRY(open_checkpoint(path, &f));
    gc_train_state st = {0};
    gc_status s = load_state(f, &st);
    if (s == GC_OK && st.epoch_step > tr->steps_per_epoch)
        s = gc_error(GC_ERR_FORMAT,
                     "%s: the checkpoint is %lld steps into an epoch, but this data set has "
                     "only %lld batches per epoch",
                     path, (long long)st.epoch_step, (long long)tr->steps_per_epoch);
    if (s == GC_OK) s = load_gan(f, &tr->gan, 1);
    int found = 0;
    if (s == GC_OK && tr->ema_params) {
        s = load_ema(f, &tr->gan.g, tr->ema_params, tr->ema_state, &found);
        if (s == GC_OK && !found)
            s = gc_error(GC_ERR_FORMAT, "%s: G_ema.params is missing (the run keeps an EMA of G)",
                         path);
    }
    if (s == GC_OK && tr->cfg.diffaug) {
        s = meta_u64(f, "aug_seed", &st.aug.seed);
        if (s == GC_OK) s = meta_u64(f, "aug_offset", &st.aug.offset);
    }
    gc_st_free(f);
    if (s != GC_OK) return s;
    tr->st = st;
    /* The order of the epoch in progress comes back from its shuffle state. */
    gc_trainer_shuffle(tr);
    return GC_OK;
}

gc_status gc_checkpoint_load_gan(const char *path, gc_gan *gan, uint64_t *fixed_seed)
{
    gc_st_file *f;
    GC_TRY(open_checkpoint(path, &f));
    gc_status s = load_gan(f, gan, 0);
    int found;
    if (s == GC_OK) s = load_ema(f, &gan->g, gan->g.params, gan->g.state, &found);
    if (s == GC_OK && fixed_seed) s = meta_u64(f, "fixed_seed", fixed_seed);
    gc_st_free(f);
    return s;
}

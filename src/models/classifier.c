/* src/models/classifier.c - the classifier's network (its layer list and
 * memory), initialisation, and its safetensors file: writing, and loading
 * with every field and tensor checked before anything is built. */
#include "gancl/classifier.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/io.h"
#include "gancl/models.h"
#include "util/error.h"

/* Layer indices of the network in gancl/classifier.h. */
enum {
    L_CONV1,
    L_RELU1,
    L_POOL1,
    L_CONV2,
    L_RELU2,
    L_POOL2,
    L_FEAT,
    L_FEAT_RELU,
    L_LOGITS,
    L_COUNT
};

/* The layers that hold parameters, in file order. */
static const int param_layers[] = {L_CONV1, L_CONV2, L_FEAT, L_LOGITS};
#define N_PARAM_LAYERS ((int)(sizeof param_layers / sizeof param_layers[0]))

#define MAX_FEATURES 4096

gc_classifier_config gc_classifier_default_config(int classes, int channels, int height, int width)
{
    return (gc_classifier_config){.classes = classes,
                                  .channels = channels,
                                  .height = height,
                                  .width = width,
                                  .features = 128};
}

gc_status gc_classifier_config_check(const gc_classifier_config *c)
{
    if (c->classes < 2 || c->classes > GC_MAX_CLASSES)
        return gc_error(GC_ERR_ARG, "%d classes: a classifier needs 2 to %d", c->classes,
                        GC_MAX_CLASSES);
    if (c->channels < 1 || c->channels > 4)
        return gc_error(GC_ERR_ARG, "%d image channels: 1 to 4 are supported", c->channels);
    if (c->height < 4 || c->width < 4 || c->height % 4 || c->width % 4 || c->height > 1024 ||
        c->width > 1024)
        return gc_error(GC_ERR_ARG,
                        "%dx%d images: the classifier needs a height and width that are "
                        "multiples of 4 in [4, 1024] (two 2x2 poolings)",
                        c->height, c->width);
    if (c->features < 1 || c->features > MAX_FEATURES)
        return gc_error(GC_ERR_ARG, "%d features: 1 to %d are supported", c->features,
                        MAX_FEATURES);
    return GC_OK;
}

static void layer_descs(const gc_classifier_config *c, gc_layer_desc d[L_COUNT])
{
    gc_layer_desc conv = {.kind = GC_LAYER_CONV2D, .kernel = 3, .stride = 1, .pad = 1, .bias = 1};
    gc_layer_desc relu = {.kind = GC_LAYER_ACT, .act = GC_ACT_RELU};
    gc_layer_desc pool = {.kind = GC_LAYER_MAXPOOL2D, .kernel = 2, .stride = 2};
    d[L_CONV1] = conv, d[L_CONV1].out_c = 32;
    d[L_RELU1] = relu;
    d[L_POOL1] = pool;
    d[L_CONV2] = conv, d[L_CONV2].out_c = 64;
    d[L_RELU2] = relu;
    d[L_POOL2] = pool;
    d[L_FEAT] = (gc_layer_desc){.kind = GC_LAYER_DENSE, .out_c = c->features, .bias = 1};
    d[L_FEAT_RELU] = relu;
    d[L_LOGITS] = (gc_layer_desc){.kind = GC_LAYER_DENSE, .out_c = c->classes, .bias = 1};
}

/* Floats in the work buffer (see classify.c): four scalars, the logit
 * gradients, and one batch of images followed by its labels. */
static size_t work_floats(const gc_classifier_config *c, int max_batch)
{
    size_t chw = (size_t)c->channels * (size_t)c->height * (size_t)c->width;
    return 4 + (size_t)max_batch * (size_t)c->classes + (size_t)max_batch * (chw + 1);
}

gc_status gc_classifier_init(gc_classifier *c, gc_backend *be, const gc_classifier_config *cfg,
                             int max_batch)
{
    memset(c, 0, sizeof *c);
    GC_TRY(gc_classifier_config_check(cfg));
    if (max_batch < 1) return gc_error(GC_ERR_ARG, "a classifier batch of %d", max_batch);
    gc_layer_desc d[L_COUNT];
    layer_descs(cfg, d);
    int64_t in[3] = {cfg->channels, cfg->height, cfg->width};
    GC_TRY(gc_seq_init(&c->net, be, d, L_COUNT, in, max_batch));
    gc_status s = gc_buffer_alloc(be, work_floats(cfg, max_batch) * sizeof(float), &c->work);
    if (s != GC_OK) {
        gc_seq_free(&c->net);
        memset(c, 0, sizeof *c);
        return s;
    }
    c->cfg = *cfg;
    c->be = be;
    c->feature_layer = L_FEAT_RELU;
    return GC_OK;
}

gc_status gc_classifier_init_params(gc_classifier *c, uint64_t seed)
{
    gc_rng rng = {.seed = seed, .offset = 0};
    GC_TRY(gc_seq_init_params(&c->net, GC_INIT_TORCH_DEFAULT, &rng));
    gc_tensor m = gc_seq_adam_m(&c->net), v = gc_seq_adam_v(&c->net);
    GC_TRY(gc_fill(&m, 0));
    GC_TRY(gc_fill(&v, 0));
    c->step = 0;
    return GC_OK;
}

static void free_names(char **names, int n)
{
    if (!names) return;
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void gc_classifier_free(gc_classifier *c)
{
    if (c->be) {
        gc_seq_free(&c->net);
        gc_buffer_free(c->be, c->work);
    }
    free_names(c->class_names, c->cfg.classes);
    memset(c, 0, sizeof *c);
}

int gc_classifier_feature_dims(const gc_classifier *c)
{
    return c->cfg.features;
}

/* ---- the file ------------------------------------------------------------------ */

/* One parameter tensor's name and shape as the configuration implies them,
 * computed without building the network, so that a file is checked before
 * its configuration is trusted with an allocation. */
typedef struct want_tensor {
    char name[32];
    int ndim;
    int64_t shape[4];
} want_tensor;

static int wanted_tensors(const gc_classifier_config *c, want_tensor w[2 * N_PARAM_LAYERS])
{
    int64_t flat = 64 * (int64_t)(c->height / 4) * (c->width / 4);
    const int64_t shapes[N_PARAM_LAYERS][5] = {
        {4, 32, c->channels, 3, 3},
        {4, 64, 32, 3, 3},
        {2, c->features, flat},
        {2, c->classes, c->features},
    };
    for (int i = 0; i < N_PARAM_LAYERS; i++) {
        want_tensor *wt = &w[2 * i], *wb = &w[2 * i + 1];
        snprintf(wt->name, sizeof wt->name, "%d.weight", param_layers[i]);
        snprintf(wb->name, sizeof wb->name, "%d.bias", param_layers[i]);
        wt->ndim = (int)shapes[i][0];
        for (int k = 0; k < wt->ndim; k++)
            wt->shape[k] = shapes[i][1 + k];
        wb->ndim = 1;
        wb->shape[0] = shapes[i][1];
    }
    return 2 * N_PARAM_LAYERS;
}

static char *config_json(const gc_classifier_config *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "model", "classifier");
    cJSON_AddNumberToObject(o, "classes", c->classes);
    cJSON_AddNumberToObject(o, "channels", c->channels);
    cJSON_AddNumberToObject(o, "height", c->height);
    cJSON_AddNumberToObject(o, "width", c->width);
    cJSON_AddNumberToObject(o, "features", c->features);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static char *names_json(const char *const *names, int n)
{
    cJSON *a = cJSON_CreateArray();
    if (!a) return NULL;
    for (int i = 0; i < n; i++) {
        cJSON *v = cJSON_CreateString(names[i] ? names[i] : "");
        if (!v) {
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, v);
    }
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

gc_status gc_classifier_save(const gc_classifier *c, const char *path,
                             const char *const *class_names)
{
    const gc_seq *s = &c->net;
    want_tensor want[2 * N_PARAM_LAYERS];
    int n = wanted_tensors(&c->cfg, want);
    gc_st_tensor t[2 * N_PARAM_LAYERS];
    float *host = malloc((size_t)s->n_params * sizeof(float));
    char *cfg = config_json(&c->cfg),
         *names = class_names ? names_json(class_names, c->cfg.classes) : NULL;
    gc_status st = GC_OK;
    if (!host || !cfg || (class_names && !names))
        st = gc_error(GC_ERR_NOMEM, "%s: out of memory writing a classifier", path);
    gc_tensor p = gc_seq_params(s);
    if (st == GC_OK) st = gc_tensor_read(&p, host);
    if (st == GC_OK) {
        for (int i = 0; i < N_PARAM_LAYERS; i++) {
            const gc_layer *l = &s->layers[param_layers[i]];
            size_t off[2] = {l->w_off, l->b_off};
            for (int k = 0; k < 2; k++) {
                const want_tensor *w = &want[2 * i + k];
                t[2 * i + k] = (gc_st_tensor){
                    .name = w->name, .dtype = GC_ST_F32, .ndim = w->ndim, .data = host + off[k]};
                memcpy(t[2 * i + k].shape, w->shape, sizeof w->shape);
            }
        }
        gc_st_kv meta[3] = {
            {"format", GC_CLASSIFIER_FORMAT}, {"config", cfg}, {"class_names", names}};
        st = gc_st_write(path, t, n, meta, names ? 3 : 2);
    }
    free(host);
    cJSON_free(cfg);
    cJSON_free(names);
    return st;
}

/* The integer field key of the config object in [lo, hi], or a message. */
static gc_status json_int(const char *path, const cJSON *o, const char *key, int lo, int hi,
                          int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) return gc_error(GC_ERR_FORMAT, "%s: classifier config: \"%s\" is missing", path, key);
    /* The range first: a double outside int (1e300, NaN) has no conversion. */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != (double)(int)v->valuedouble)
        return gc_error(GC_ERR_FORMAT,
                        "%s: classifier config: \"%s\" is not an integer in [%d, %d]", path, key,
                        lo, hi);
    *out = (int)v->valuedouble;
    return GC_OK;
}

static gc_status parse_config(const char *path, const char *json, gc_classifier_config *c)
{
    if (!json) return gc_error(GC_ERR_FORMAT, "%s: no \"config\" metadata", path);
    cJSON *o = cJSON_Parse(json);
    gc_status s = GC_OK;
    if (!cJSON_IsObject(o))
        s = gc_error(GC_ERR_FORMAT, "%s: the \"config\" metadata is not a JSON object", path);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    if (s == GC_OK && (!cJSON_IsString(model) || strcmp(model->valuestring, "classifier")))
        s = gc_error(GC_ERR_FORMAT, "%s: classifier config: \"model\" is not \"classifier\"", path);
    if (s == GC_OK) s = json_int(path, o, "classes", 2, GC_MAX_CLASSES, &c->classes);
    if (s == GC_OK) s = json_int(path, o, "channels", 1, 4, &c->channels);
    if (s == GC_OK) s = json_int(path, o, "height", 4, 1024, &c->height);
    if (s == GC_OK) s = json_int(path, o, "width", 4, 1024, &c->width);
    if (s == GC_OK) s = json_int(path, o, "features", 1, MAX_FEATURES, &c->features);
    cJSON_Delete(o);
    if (s == GC_OK && gc_classifier_config_check(c) != GC_OK)
        s = gc_error_prefix(GC_ERR_FORMAT, "%s: classifier config", path);
    return s;
}

/* class_names: absent, or a JSON array of `classes` strings. */
static gc_status parse_names(const char *path, const char *json, int classes, char ***out)
{
    *out = NULL;
    if (!json) return GC_OK;
    cJSON *a = cJSON_Parse(json);
    gc_status s = GC_OK;
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != classes)
        s = gc_error(GC_ERR_FORMAT,
                     "%s: the \"class_names\" metadata is not a JSON array of %d names", path,
                     classes);
    char **names = s == GC_OK ? calloc((size_t)classes, sizeof *names) : NULL;
    if (s == GC_OK && !names) s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    int i = 0;
    for (const cJSON *v = s == GC_OK ? a->child : NULL; v && s == GC_OK; v = v->next, i++) {
        if (!cJSON_IsString(v))
            s = gc_error(GC_ERR_FORMAT, "%s: class name %d is not a string", path, i);
        else if (!(names[i] = strdup(v->valuestring)))
            s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    }
    cJSON_Delete(a);
    if (s != GC_OK) {
        free_names(names, classes);
        return s;
    }
    *out = names;
    return GC_OK;
}

/* Every tensor the configuration implies, with its dtype and shape, and
 * nothing else; finite values only (a NaN weight would pass silently into
 * every feature). */
static gc_status check_tensors(const gc_st_file *f, const gc_classifier_config *c)
{
    const char *path = gc_st_path(f);
    want_tensor want[2 * N_PARAM_LAYERS];
    int n = wanted_tensors(c, want);
    for (int i = 0; i < n; i++) {
        const gc_st_tensor *t = gc_st_find(f, want[i].name);
        if (!t) return gc_error(GC_ERR_FORMAT, "%s: tensor %s is missing", path, want[i].name);
        int same = t->dtype == GC_ST_F32 && t->ndim == want[i].ndim;
        for (int k = 0; same && k < t->ndim; k++)
            same = t->shape[k] == want[i].shape[k];
        if (!same)
            return gc_error(GC_ERR_FORMAT,
                            "%s: tensor %s has the wrong dtype or shape for the classifier's "
                            "config",
                            path, want[i].name);
        const float *v = t->data;
        for (size_t k = 0; k < t->nbytes / sizeof(float); k++)
            if (!isfinite(v[k]))
                return gc_error(GC_ERR_FORMAT, "%s: tensor %s holds NaN or Inf", path,
                                want[i].name);
    }
    if (gc_st_count(f) != n)
        return gc_error(GC_ERR_FORMAT, "%s: %d tensors, a classifier has %d", path, gc_st_count(f),
                        n);
    return GC_OK;
}

gc_status gc_classifier_load(gc_classifier *c, gc_backend *be, const char *path, int max_batch)
{
    memset(c, 0, sizeof *c);
    gc_st_file *f;
    GC_TRY(gc_st_load(path, 0, &f));
    const char *fmt = gc_st_metadata(f, "format");
    gc_classifier_config cfg = {0};
    char **names = NULL;
    gc_status s = GC_OK;
    if (!fmt || strcmp(fmt, GC_CLASSIFIER_FORMAT))
        s = fmt ? gc_error(GC_ERR_FORMAT,
                           "%s: not a gancl classifier (format \"%.64s\", expected \"%s\")", path,
                           fmt, GC_CLASSIFIER_FORMAT)
                : gc_error(GC_ERR_FORMAT,
                           "%s: not a gancl classifier (no \"format\" metadata, expected \"%s\")",
                           path, GC_CLASSIFIER_FORMAT);
    if (s == GC_OK) s = parse_config(path, gc_st_metadata(f, "config"), &cfg);
    if (s == GC_OK) s = check_tensors(f, &cfg);
    if (s == GC_OK) s = parse_names(path, gc_st_metadata(f, "class_names"), cfg.classes, &names);
    if (s == GC_OK) s = gc_classifier_init(c, be, &cfg, max_batch);
    float *host = NULL;
    if (s == GC_OK && !(host = malloc((size_t)c->net.n_params * sizeof(float))))
        s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    if (s == GC_OK) {
        want_tensor want[2 * N_PARAM_LAYERS];
        wanted_tensors(&cfg, want);
        for (int i = 0; i < N_PARAM_LAYERS; i++) {
            const gc_layer *l = &c->net.layers[param_layers[i]];
            const gc_st_tensor *w = gc_st_find(f, want[2 * i].name);
            const gc_st_tensor *b = gc_st_find(f, want[2 * i + 1].name);
            GC_ASSERT(w->nbytes == (size_t)l->w_n * sizeof(float));
            GC_ASSERT(b->nbytes == (size_t)l->b_n * sizeof(float));
            memcpy(host + l->w_off, w->data, w->nbytes);
            memcpy(host + l->b_off, b->data, b->nbytes);
        }
        gc_tensor p = gc_seq_params(&c->net);
        s = gc_tensor_write(&p, host);
    }
    /* A loaded classifier trains on from fresh moments. */
    if (s == GC_OK) {
        gc_tensor m = gc_seq_adam_m(&c->net), v = gc_seq_adam_v(&c->net);
        s = gc_fill(&m, 0);
        if (s == GC_OK) s = gc_fill(&v, 0);
    }
    free(host);
    gc_st_free(f);
    if (s != GC_OK) {
        free_names(names, cfg.classes);
        gc_classifier_free(c);
        return s;
    }
    c->class_names = names;
    return GC_OK;
}

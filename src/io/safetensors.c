/* src/io/safetensors.c - the safetensors format, read and written.
 *
 *   [u64 little-endian N][N bytes of JSON, space-padded][data section]
 *
 * The JSON maps tensor names to {"dtype", "shape", "data_offsets": [begin,
 * end]} (offsets relative to the data section) plus an optional
 * "__metadata__" object of strings.  The reader follows the reference
 * implementation's rules and adds what it leaves implicit: every number is
 * checked to be a non-negative integer, every product for overflow, and the
 * tensors must tile the data section exactly (no overlaps, no holes, no
 * unused bytes), which also rules out polyglot files.  Duplicate names are
 * rejected (a JSON parser would silently keep one of them).
 */
#include "gancl/io.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fs.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian; this file assumes a little-endian host"
#endif

/* The reference implementation's limit on the JSON header. */
#define ST_MAX_HEADER ((uint64_t)100000000)
/* cJSON numbers are doubles: integers are exact up to 2^53. */
#define ST_MAX_INT 9007199254740992.0

static const struct {
    const char *name;
    size_t size;
} dtypes[GC_ST_DTYPE_COUNT] = {
    [GC_ST_BOOL] = {"BOOL", 1},       [GC_ST_U8] = {"U8", 1},           [GC_ST_I8] = {"I8", 1},
    [GC_ST_F8_E5M2] = {"F8_E5M2", 1}, [GC_ST_F8_E4M3] = {"F8_E4M3", 1}, [GC_ST_I16] = {"I16", 2},
    [GC_ST_U16] = {"U16", 2},         [GC_ST_F16] = {"F16", 2},         [GC_ST_BF16] = {"BF16", 2},
    [GC_ST_I32] = {"I32", 4},         [GC_ST_U32] = {"U32", 4},         [GC_ST_F32] = {"F32", 4},
    [GC_ST_F64] = {"F64", 8},         [GC_ST_I64] = {"I64", 8},         [GC_ST_U64] = {"U64", 8},
};

const char *gc_st_dtype_name(gc_st_dtype t)
{
    GC_ASSERT((int)t >= 0 && t < GC_ST_DTYPE_COUNT);
    return dtypes[t].name;
}

size_t gc_st_dtype_size(gc_st_dtype t)
{
    GC_ASSERT((int)t >= 0 && t < GC_ST_DTYPE_COUNT);
    return dtypes[t].size;
}

int gc_st_dtype_from_name(const char *name)
{
    for (int i = 0; i < GC_ST_DTYPE_COUNT; i++)
        if (!strcmp(name, dtypes[i].name)) return i;
    return -1;
}

/* numel * element size, or 0 with *ok = 0 on overflow. */
static uint64_t tensor_bytes(const int64_t *shape, int ndim, size_t elem, int *ok)
{
    uint64_t total = elem;
    *ok = 1;
    for (int i = 0; i < ndim; i++) {
        if (__builtin_mul_overflow(total, (uint64_t)shape[i], &total)) {
            *ok = 0;
            return 0;
        }
    }
    return total;
}

/* RFC 3629 UTF-8 (no overlongs, no surrogates, at most U+10FFFF); returns
 * the offset of the first bad byte or n. */
static size_t utf8_check(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int len;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0)
            len = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0)
            len = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0)
            len = 4, cp = c & 0x07, min = 0x10000;
        else
            return i;
        if (i + (size_t)len > n) return i;
        for (int k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += (size_t)len;
    }
    return n;
}

static int utf8_ok(const char *s)
{
    return utf8_check((const uint8_t *)s, strlen(s)) == strlen(s);
}

/* ---- writing ------------------------------------------------------------------ */

static const char *const META_KEY = "__metadata__";

static int by_elem_size(const gc_st_tensor *t, const int *order, int i, int j)
{
    size_t a = gc_st_dtype_size(t[order[i]].dtype), b = gc_st_dtype_size(t[order[j]].dtype);
    if (a != b) return a > b ? -1 : 1;
    return order[i] - order[j];
}

gc_status gc_st_write(const char *path, const gc_st_tensor *tensors, int count,
                      const gc_st_kv *meta, int nmeta)
{
    GC_ASSERT(count >= 0 && nmeta >= 0);
    /* Validate everything before building anything. */
    size_t *nbytes = calloc((size_t)count + 1, sizeof *nbytes);
    int *order = calloc((size_t)count + 1, sizeof *order);
    cJSON *root = NULL;
    char *json = NULL;
    gc_fs_part *parts = NULL;
    gc_status s = GC_OK;
    if (!nbytes || !order) {
        s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < count && s == GC_OK; i++) {
        const gc_st_tensor *t = &tensors[i];
        if (!t->name || !*t->name || !strcmp(t->name, META_KEY)) {
            s = gc_error(GC_ERR_ARG, "%s: tensor %d has no usable name", path, i);
            break;
        }
        if (!utf8_ok(t->name)) {
            s = gc_error(GC_ERR_ARG, "%s: tensor %d: the name is not UTF-8", path, i);
            break;
        }
        if ((int)t->dtype < 0 || t->dtype >= GC_ST_DTYPE_COUNT) {
            s = gc_error(GC_ERR_ARG, "%s: %s: unknown dtype %d", path, t->name, (int)t->dtype);
            break;
        }
        if (t->ndim < 0 || t->ndim > GC_ST_MAX_DIMS) {
            s = gc_error(GC_ERR_ARG, "%s: %s: %d dimensions (at most %d)", path, t->name, t->ndim,
                         GC_ST_MAX_DIMS);
            break;
        }
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0 || (double)t->shape[d] > ST_MAX_INT) {
                s = gc_error(GC_ERR_ARG, "%s: %s: dimension %d is %" PRId64, path, t->name, d,
                             t->shape[d]);
                break;
            }
        if (s != GC_OK) break;
        int ok;
        uint64_t nb = tensor_bytes(t->shape, t->ndim, gc_st_dtype_size(t->dtype), &ok);
        if (!ok || nb > (uint64_t)SIZE_MAX / 2) {
            s = gc_error(GC_ERR_ARG, "%s: %s: the shape's size overflows", path, t->name);
            break;
        }
        if (nb && !t->data) {
            s = gc_error(GC_ERR_ARG, "%s: %s: no data", path, t->name);
            break;
        }
        nbytes[i] = (size_t)nb;
        for (int j = 0; j < i; j++)
            if (!strcmp(tensors[j].name, t->name)) {
                s = gc_error(GC_ERR_ARG, "%s: tensor name \"%s\" given twice", path, t->name);
                break;
            }
    }
    for (int i = 0; i < nmeta && s == GC_OK; i++) {
        if (!meta[i].key || !meta[i].value) {
            s = gc_error(GC_ERR_ARG, "%s: metadata entry %d has no key or value", path, i);
            break;
        }
        if (!utf8_ok(meta[i].key) || !utf8_ok(meta[i].value)) {
            s = gc_error(GC_ERR_ARG, "%s: metadata entry %d is not UTF-8", path, i);
            break;
        }
        for (int j = 0; j < i; j++)
            if (!strcmp(meta[j].key, meta[i].key)) {
                s = gc_error(GC_ERR_ARG, "%s: metadata key \"%s\" given twice", path, meta[i].key);
                break;
            }
    }
    if (s != GC_OK) goto done;

    /* Stable sort by element size, largest first (insertion sort keeps
     * the code small; tensor counts are in the hundreds). */
    for (int i = 0; i < count; i++)
        order[i] = i;
    for (int i = 1; i < count; i++)
        for (int j = i; j > 0 && by_elem_size(tensors, order, j, j - 1) < 0; j--) {
            int tmp = order[j];
            order[j] = order[j - 1];
            order[j - 1] = tmp;
        }

    root = cJSON_CreateObject();
    if (!root) goto nomem;
    if (nmeta > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, META_KEY);
        if (!m) goto nomem;
        for (int i = 0; i < nmeta; i++)
            if (!cJSON_AddStringToObject(m, meta[i].key, meta[i].value)) goto nomem;
    }
    uint64_t offset = 0;
    for (int k = 0; k < count; k++) {
        const gc_st_tensor *t = &tensors[order[k]];
        cJSON *e = cJSON_AddObjectToObject(root, t->name);
        if (!e || !cJSON_AddStringToObject(e, "dtype", gc_st_dtype_name(t->dtype))) goto nomem;
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        cJSON *offs = cJSON_AddArrayToObject(e, "data_offsets");
        if (!shape || !offs) goto nomem;
        /* Raw numbers: cJSON would print large integers as doubles in
         * exponent form, which strict readers refuse. */
        char num[32];
        for (int d = 0; d < t->ndim; d++) {
            snprintf(num, sizeof num, "%" PRId64, t->shape[d]);
            cJSON *v = cJSON_CreateRaw(num);
            if (!v || !cJSON_AddItemToArray(shape, v)) goto nomem;
        }
        uint64_t range[2] = {offset, offset + nbytes[order[k]]};
        for (int d = 0; d < 2; d++) {
            snprintf(num, sizeof num, "%" PRIu64, range[d]);
            cJSON *v = cJSON_CreateRaw(num);
            if (!v || !cJSON_AddItemToArray(offs, v)) goto nomem;
        }
        offset = range[1];
    }
    json = cJSON_PrintUnformatted(root);
    if (!json) goto nomem;
    size_t jlen = strlen(json);
    size_t padded = (jlen + 7) / 8 * 8; /* 8 + padded is a multiple of 8 */
    char *hdr = realloc(json, padded + 8);
    if (!hdr) goto nomem;
    json = hdr;
    memmove(json + 8, json, jlen);
    memset(json + 8 + jlen, ' ', padded - jlen);
    for (int b = 0; b < 8; b++)
        json[b] = (char)(uint8_t)((uint64_t)padded >> (8 * b));

    parts = malloc(((size_t)count + 1) * sizeof *parts);
    if (!parts) goto nomem;
    int np = 0;
    parts[np++] = (gc_fs_part){json, padded + 8};
    for (int k = 0; k < count; k++)
        if (nbytes[order[k]]) parts[np++] = (gc_fs_part){tensors[order[k]].data, nbytes[order[k]]};
    s = gc_fs_write_parts_atomic(path, parts, np);
    goto done;
nomem:
    s = gc_error(GC_ERR_NOMEM, "%s: out of memory building the header", path);
done:
    free(parts);
    free(json);
    cJSON_Delete(root);
    free(order);
    free(nbytes);
    return s;
}

/* ---- reading ------------------------------------------------------------------- */

typedef struct st_entry {
    gc_st_tensor t;
    uint64_t begin, end;
} st_entry;

struct gc_st_file {
    char *path;
    uint8_t *buf; /* the whole file */
    size_t size;
    st_entry *entries; /* in offset order */
    int count;
    int *by_name;   /* indices into entries, sorted by name */
    gc_st_kv *meta; /* sorted by key; strings owned here */
    int nmeta;
    void **copies; /* aligned copies of misaligned tensors */
    int ncopies;
};

void gc_st_free(gc_st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->count; i++)
        free((char *)f->entries[i].t.name);
    for (int i = 0; i < f->nmeta; i++) {
        free((char *)f->meta[i].key);
        free((char *)f->meta[i].value);
    }
    for (int i = 0; i < f->ncopies; i++)
        free(f->copies[i]);
    free(f->copies);
    free(f->meta);
    free(f->by_name);
    free(f->entries);
    free(f->buf);
    free(f->path);
    free(f);
}

/* A JSON number that is a non-negative integer below 2^53. */
static int json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d != floor(d) || d > ST_MAX_INT) return 0;
    *out = (uint64_t)d;
    return 1;
}

static const char *describe_number(const cJSON *v, char *buf, size_t n)
{
    if (!cJSON_IsNumber(v)) return cJSON_IsString(v) ? "a string" : "not a number";
    double d = v->valuedouble;
    if (!isfinite(d))
        snprintf(buf, n, "out of range");
    else if (d < 0)
        snprintf(buf, n, "negative (%.17g)", d);
    else if (d != floor(d))
        snprintf(buf, n, "not an integer (%.17g)", d);
    else
        snprintf(buf, n, "too large (%.17g)", d);
    return buf;
}

static gc_status parse_tensor(const char *path, const cJSON *item, size_t data_size, st_entry *e)
{
    const char *name = item->string;
    if (!cJSON_IsObject(item))
        return gc_error(GC_ERR_FORMAT, "%s: %s: the entry is not an object", path, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!dt || !shape || !offs)
        return gc_error(GC_ERR_FORMAT, "%s: %s: missing \"%s\"", path, name,
                        !dt      ? "dtype"
                        : !shape ? "shape"
                                 : "data_offsets");
    if (!cJSON_IsString(dt))
        return gc_error(GC_ERR_FORMAT, "%s: %s: dtype is not a string", path, name);
    int dtype = gc_st_dtype_from_name(dt->valuestring);
    if (dtype < 0)
        return gc_error(GC_ERR_FORMAT, "%s: %s: unknown dtype \"%.32s\"", path, name,
                        dt->valuestring);
    if (!cJSON_IsArray(shape))
        return gc_error(GC_ERR_FORMAT, "%s: %s: shape is not an array", path, name);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > GC_ST_MAX_DIMS)
        return gc_error(GC_ERR_FORMAT, "%s: %s: %d dimensions (at most %d supported)", path, name,
                        ndim, GC_ST_MAX_DIMS);
    e->t.dtype = (gc_st_dtype)dtype;
    e->t.ndim = ndim;
    for (int d = 0; d < GC_ST_MAX_DIMS; d++)
        e->t.shape[d] = 1;
    int d = 0;
    char why[64];
    for (const cJSON *v = shape->child; v; v = v->next, d++) {
        uint64_t x;
        if (!json_uint(v, &x))
            return gc_error(GC_ERR_FORMAT, "%s: %s: shape[%d] is %s", path, name, d,
                            describe_number(v, why, sizeof why));
        e->t.shape[d] = (int64_t)x;
    }
    int ok;
    uint64_t nbytes = tensor_bytes(e->t.shape, ndim, dtypes[dtype].size, &ok);
    if (!ok)
        return gc_error(GC_ERR_FORMAT, "%s: %s: the shape's size overflows 64 bits", path, name);
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2)
        return gc_error(GC_ERR_FORMAT, "%s: %s: data_offsets is not an array of two integers", path,
                        name);
    uint64_t r[2];
    for (int k = 0; k < 2; k++)
        if (!json_uint(cJSON_GetArrayItem(offs, k), &r[k]))
            return gc_error(GC_ERR_FORMAT, "%s: %s: data_offsets[%d] is %s", path, name, k,
                            describe_number(cJSON_GetArrayItem(offs, k), why, sizeof why));
    if (r[1] < r[0])
        return gc_error(GC_ERR_FORMAT,
                        "%s: %s: data_offsets [%" PRIu64 ", %" PRIu64 "] are reversed", path, name,
                        r[0], r[1]);
    if (r[1] > data_size)
        return gc_error(GC_ERR_FORMAT,
                        "%s: %s: data_offsets end %" PRIu64 " is past the data (%zu bytes)", path,
                        name, r[1], data_size);
    if (r[1] - r[0] != nbytes)
        return gc_error(GC_ERR_FORMAT,
                        "%s: %s: data_offsets span %" PRIu64
                        " bytes, but %s x shape needs %" PRIu64,
                        path, name, r[1] - r[0], dtypes[dtype].name, nbytes);
    e->begin = r[0];
    e->end = r[1];
    e->t.nbytes = (size_t)nbytes;
    return GC_OK;
}

static gc_status parse_metadata(const char *path, const cJSON *m, gc_st_file *f)
{
    if (cJSON_IsNull(m)) return GC_OK;
    if (!cJSON_IsObject(m))
        return gc_error(GC_ERR_FORMAT, "%s: __metadata__ is not an object", path);
    int n = cJSON_GetArraySize(m);
    f->meta = calloc((size_t)n + 1, sizeof *f->meta);
    if (!f->meta) return gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    for (const cJSON *v = m->child; v; v = v->next) {
        if (!cJSON_IsString(v))
            return gc_error(GC_ERR_FORMAT, "%s: __metadata__: \"%.64s\" is not a string", path,
                            v->string);
        char *k = strdup(v->string), *val = strdup(v->valuestring);
        if (!k || !val) {
            free(k);
            free(val);
            return gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
        }
        f->meta[f->nmeta++] = (gc_st_kv){k, val};
    }
    return GC_OK;
}

static int cmp_kv(const void *a, const void *b)
{
    return strcmp(((const gc_st_kv *)a)->key, ((const gc_st_kv *)b)->key);
}

static int cmp_offset(const void *a, const void *b)
{
    const st_entry *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* qsort has no context argument; names are compared through this. */
static _Thread_local const st_entry *sort_entries;

static int cmp_name_idx(const void *a, const void *b)
{
    return strcmp(sort_entries[*(const int *)a].t.name, sort_entries[*(const int *)b].t.name);
}

/* Everything after the 8-byte length: JSON, tensors, layout, alignment. */
static gc_status parse(gc_st_file *f)
{
    const char *path = f->path;
    if (f->size < 8)
        return gc_error(GC_ERR_FORMAT, "%s: %zu bytes, too short for a safetensors header", path,
                        f->size);
    uint64_t hlen = 0;
    for (int b = 0; b < 8; b++)
        hlen |= (uint64_t)f->buf[b] << (8 * b);
    if (hlen > ST_MAX_HEADER)
        return gc_error(GC_ERR_FORMAT,
                        "%s: header length %" PRIu64 " is absurd (limit %" PRIu64 ")", path, hlen,
                        ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return gc_error(GC_ERR_FORMAT,
                        "%s: header length %" PRIu64 " exceeds the file (%zu bytes after it)", path,
                        hlen, f->size - 8);
    const char *hdr = (const char *)f->buf + 8;
    if (hlen < 2 || hdr[0] != '{')
        return gc_error(GC_ERR_FORMAT, "%s: the header does not start with a JSON object", path);
    size_t bad = utf8_check((const uint8_t *)hdr, hlen);
    if (bad < hlen)
        return gc_error(GC_ERR_FORMAT, "%s: the header is not UTF-8 (byte %zu)", path, bad);
    if (memchr(hdr, '\0', hlen))
        return gc_error(GC_ERR_FORMAT, "%s: the header contains a NUL byte", path);

    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(hdr, hlen, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t pos = at && at >= hdr && at <= hdr + hlen ? (size_t)(at - hdr) : 0;
        return gc_error(GC_ERR_FORMAT, "%s: malformed JSON header near byte %zu", path, pos);
    }
    for (const char *p = end; p < hdr + hlen; p++)
        if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
            cJSON_Delete(root);
            return gc_error(GC_ERR_FORMAT, "%s: junk after the JSON header at byte %zu", path,
                            (size_t)(p - hdr));
        }
    gc_status s = GC_OK;
    size_t data_size = f->size - 8 - (size_t)hlen;
    const uint8_t *data = f->buf + 8 + hlen;
    if (!cJSON_IsObject(root)) {
        s = gc_error(GC_ERR_FORMAT, "%s: the header is not a JSON object", path);
        goto out;
    }
    int n = cJSON_GetArraySize(root);
    f->entries = calloc((size_t)n + 1, sizeof *f->entries);
    f->by_name = calloc((size_t)n + 1, sizeof *f->by_name);
    if (!f->entries || !f->by_name) {
        s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    int seen_meta = 0;
    for (const cJSON *item = root->child; item && s == GC_OK; item = item->next) {
        if (!strcmp(item->string, META_KEY)) {
            if (seen_meta++) {
                s = gc_error(GC_ERR_FORMAT, "%s: duplicate key \"__metadata__\"", path);
                break;
            }
            s = parse_metadata(path, item, f);
            continue;
        }
        if (!*item->string) {
            s = gc_error(GC_ERR_FORMAT, "%s: a tensor with an empty name", path);
            break;
        }
        st_entry *e = &f->entries[f->count];
        s = parse_tensor(path, item, data_size, e);
        if (s != GC_OK) break;
        e->t.name = strdup(item->string);
        if (!e->t.name) {
            s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        f->count++;
    }
    if (s != GC_OK) goto out;

    /* Duplicates, by sorting (a hostile header may hold millions of keys). */
    if (f->nmeta > 1) {
        qsort(f->meta, (size_t)f->nmeta, sizeof *f->meta, cmp_kv);
        for (int i = 1; i < f->nmeta; i++)
            if (!strcmp(f->meta[i - 1].key, f->meta[i].key)) {
                s = gc_error(GC_ERR_FORMAT, "%s: __metadata__: duplicate key \"%.64s\"", path,
                             f->meta[i].key);
                goto out;
            }
    }
    qsort(f->entries, (size_t)f->count, sizeof *f->entries, cmp_offset);
    for (int i = 0; i < f->count; i++)
        f->by_name[i] = i;
    sort_entries = f->entries;
    qsort(f->by_name, (size_t)f->count, sizeof *f->by_name, cmp_name_idx);
    for (int i = 1; i < f->count; i++) {
        const char *a = f->entries[f->by_name[i - 1]].t.name;
        if (!strcmp(a, f->entries[f->by_name[i]].t.name)) {
            s = gc_error(GC_ERR_FORMAT, "%s: duplicate tensor name \"%.64s\"", path, a);
            goto out;
        }
    }
    /* The tensors must tile [0, data_size) exactly. */
    uint64_t at = 0;
    for (int i = 0; i < f->count; i++) {
        const st_entry *e = &f->entries[i];
        if (e->begin < at) {
            s = gc_error(GC_ERR_FORMAT, "%s: %.64s: data [%" PRIu64 ", %" PRIu64 ") overlaps %.64s",
                         path, e->t.name, e->begin, e->end, f->entries[i - 1].t.name);
            goto out;
        }
        if (e->begin > at) {
            s = gc_error(GC_ERR_FORMAT, "%s: %.64s: %" PRIu64 " unused bytes before its data", path,
                         e->t.name, e->begin - at);
            goto out;
        }
        at = e->end;
    }
    if (at != data_size) {
        s = gc_error(GC_ERR_FORMAT, "%s: %" PRIu64 " unused bytes after the last tensor", path,
                     (uint64_t)data_size - at);
        goto out;
    }
    f->copies = calloc((size_t)f->count + 1, sizeof *f->copies);
    if (!f->copies) {
        s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
        goto out;
    }
    for (int i = 0; i < f->count; i++) {
        st_entry *e = &f->entries[i];
        const uint8_t *p = data + e->begin;
        size_t align = dtypes[e->t.dtype].size;
        if (e->t.nbytes && (uintptr_t)p % align) {
            void *c = malloc(e->t.nbytes);
            if (!c) {
                s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
                goto out;
            }
            memcpy(c, p, e->t.nbytes);
            f->copies[f->ncopies++] = c;
            p = c;
        }
        e->t.data = p;
    }
out:
    cJSON_Delete(root);
    return s;
}

gc_status gc_st_load(const char *path, size_t max_bytes, gc_st_file **out)
{
    *out = NULL;
    gc_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    }
    void *buf = NULL;
    gc_status s =
        gc_fs_read_file(path, max_bytes ? max_bytes : GC_ST_DEFAULT_MAX_BYTES, &buf, &f->size);
    f->buf = buf;
    if (s == GC_OK) s = parse(f);
    if (s != GC_OK) {
        gc_st_free(f);
        return s;
    }
    *out = f;
    return GC_OK;
}

const gc_st_tensor *gc_st_find(const gc_st_file *f, const char *name)
{
    int lo = 0, hi = f->count - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const st_entry *e = &f->entries[f->by_name[mid]];
        int c = strcmp(name, e->t.name);
        if (c == 0) return &e->t;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

int gc_st_count(const gc_st_file *f)
{
    return f->count;
}

const gc_st_tensor *gc_st_at(const gc_st_file *f, int i)
{
    GC_ASSERT(i >= 0 && i < f->count);
    return &f->entries[i].t;
}

const char *gc_st_metadata(const gc_st_file *f, const char *key)
{
    int lo = 0, hi = f->nmeta - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(key, f->meta[mid].key);
        if (c == 0) return f->meta[mid].value;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return NULL;
}

int gc_st_metadata_count(const gc_st_file *f)
{
    return f->nmeta;
}

gc_st_kv gc_st_metadata_at(const gc_st_file *f, int i)
{
    GC_ASSERT(i >= 0 && i < f->nmeta);
    return f->meta[i];
}

const char *gc_st_path(const gc_st_file *f)
{
    return f->path;
}

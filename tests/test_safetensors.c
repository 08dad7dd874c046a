/* tests/test_safetensors.c - safetensors round trips (dtypes, shapes,
 * metadata, layout checked independently with cJSON), a hand-made file in
 * the reference layout, and a collection of malformed files, each rejected
 * with GC_ERR_FORMAT and a message naming the file and the problem. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gancl/io.h"
#include "test_files.h"
#include "test_support.h"

#define tpath gt_tmp_path

/* A safetensors file: 8-byte length (hlen, or the header's own length when
 * hlen is UINT64_MAX), the header bytes, then ndata random data bytes. */
static void write_st_raw(const char *path, uint64_t hlen, const char *header, size_t header_n,
                         size_t ndata)
{
    if (hlen == UINT64_MAX) hlen = header_n;
    size_t n = 8 + header_n + ndata;
    unsigned char *b = malloc(n);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + 8, header, header_n);
    for (size_t i = 0; i < ndata; i++)
        b[8 + header_n + i] = (unsigned char)gt_randint(0, 255);
    gt_write_file(path, b, n);
    free(b);
}

static void write_st(const char *path, const char *header, size_t ndata)
{
    write_st_raw(path, UINT64_MAX, header, strlen(header), ndata);
}

#define expect_fail(path, want, word) expect_fail_at(path, want, word, __LINE__)
static void expect_fail_at(const char *path, gc_status want, const char *word, int line)
{
    gc_st_file *f = (gc_st_file *)(uintptr_t)1;
    gc_status s = gc_st_load(path, 0, &f);
    const char *msg = gc_last_error();
    ck_assert_msg(s == want, "line %d: got %s, want %s (%s)", line, gc_status_name(s),
                  gc_status_name(want), msg);
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(msg, path) != NULL, "line %d: message does not name the file: %s", line,
                  msg);
    ck_assert_msg(!word || strstr(msg, word), "line %d: message lacks \"%s\": %s", line, word, msg);
}

/* Writes header with the right data size for it and expects a failure. */
#define bad_header(hdr, ndata, word) bad_header_at(hdr, ndata, word, __LINE__)
static void bad_header_at(const char *hdr, size_t ndata, const char *word, int line)
{
    const char *p = tpath("bad.safetensors");
    write_st(p, hdr, ndata);
    expect_fail_at(p, GC_ERR_FORMAT, word, line);
}

/* ---- round trips --------------------------------------------------------------- */

static unsigned char *rand_bytes(size_t n)
{
    unsigned char *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)gt_randint(0, 255);
    return b;
}

START_TEST(round_trip)
{
    int64_t a0 = gt_randint(1, 9), a1 = gt_randint(1, 13), a2 = gt_randint(1, 7);
    int64_t u0 = gt_randint(1, 31);
    gc_st_tensor t[] = {
        {.name = "u8.odd", .dtype = GC_ST_U8, .ndim = 3, .shape = {u0, 3, 5}},
        {.name = "g.conv1.weight", .dtype = GC_ST_F32, .ndim = 4, .shape = {a0, a1, a2, 3}},
        {.name = "step", .dtype = GC_ST_I64, .ndim = 0},
        {.name = "f16", .dtype = GC_ST_F16, .ndim = 1, .shape = {gt_randint(1, 17)}},
        {.name = "empty", .dtype = GC_ST_F32, .ndim = 2, .shape = {0, 5}},
        {.name = "rng", .dtype = GC_ST_U64, .ndim = 1, .shape = {4}},
        {.name = "mask", .dtype = GC_ST_BOOL, .ndim = 2, .shape = {3, gt_randint(1, 9)}},
        {.name = "d.fc.bias \"quoted\" / \u00e9", .dtype = GC_ST_F64, .ndim = 1, .shape = {3}},
        {.name = "i32", .dtype = GC_ST_I32, .ndim = 8, .shape = {1, 2, 1, 3, 1, 1, 2, 1}},
    };
    const int count = (int)(sizeof t / sizeof t[0]);
    unsigned char *data[16];
    for (int i = 0; i < count; i++) {
        size_t nb = gc_st_dtype_size(t[i].dtype);
        for (int d = 0; d < t[i].ndim; d++)
            nb *= (size_t)t[i].shape[d];
        data[i] = rand_bytes(nb);
        t[i].data = data[i];
        t[i].nbytes = nb;
    }
    t[4].data = NULL; /* no bytes, no pointer needed */
    gc_st_kv meta[] = {
        {"format", "pt"},
        {"config", "{\"model\": \"dcgan\", \"nz\": 100}\n\ttabs and \"quotes\""},
        {"unicode", "\u00fc\u4e2d\U0001F600"},
        {"empty", ""},
    };
    const char *p = tpath("rt.safetensors");
    GT_OK(gc_st_write(p, t, count, meta, 4));

    /* The layout, checked independently of the reader. */
    size_t fn;
    unsigned char *raw = gt_read_file(p, &fn);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)raw[i] << (8 * i);
    ck_assert_uint_eq((8 + hlen) % 8, 0);
    ck_assert_uint_le(8 + hlen, fn);
    ck_assert_int_eq(raw[8], '{');
    cJSON *root = cJSON_ParseWithLength((const char *)raw + 8, hlen);
    ck_assert_ptr_nonnull(root);
    size_t total = 0;
    for (int i = 0; i < count; i++) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, t[i].name);
        ck_assert_msg(e != NULL, "%s missing from the header", t[i].name);
        ck_assert_str_eq(cJSON_GetObjectItem(e, "dtype")->valuestring,
                         gc_st_dtype_name(t[i].dtype));
        const cJSON *shape = cJSON_GetObjectItem(e, "shape");
        ck_assert_int_eq(cJSON_GetArraySize(shape), t[i].ndim);
        for (int d = 0; d < t[i].ndim; d++)
            ck_assert_int_eq((int64_t)cJSON_GetArrayItem(shape, d)->valuedouble, t[i].shape[d]);
        const cJSON *off = cJSON_GetObjectItem(e, "data_offsets");
        size_t b0 = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
        size_t b1 = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
        ck_assert_uint_eq(b1 - b0, t[i].nbytes);
        ck_assert_uint_eq(b0 % gc_st_dtype_size(t[i].dtype), 0); /* aligned in the file */
        if (t[i].nbytes) ck_assert(memcmp(raw + 8 + hlen + b0, data[i], t[i].nbytes) == 0);
        total += t[i].nbytes;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "__metadata__");
    ck_assert_str_eq(cJSON_GetObjectItem(m, "config")->valuestring, meta[1].value);
    ck_assert_uint_eq(fn, 8 + hlen + total);
    cJSON_Delete(root);
    free(raw);

    /* And through the reader. */
    gc_st_file *f;
    GT_OK(gc_st_load(p, 0, &f));
    ck_assert_str_eq(gc_st_path(f), p);
    ck_assert_int_eq(gc_st_count(f), count);
    for (int i = 0; i < count; i++) {
        const gc_st_tensor *r = gc_st_find(f, t[i].name);
        ck_assert_msg(r != NULL, "%s not found", t[i].name);
        ck_assert_str_eq(r->name, t[i].name);
        ck_assert_int_eq(r->dtype, t[i].dtype);
        ck_assert_int_eq(r->ndim, t[i].ndim);
        for (int d = 0; d < t[i].ndim; d++)
            ck_assert_int_eq(r->shape[d], t[i].shape[d]);
        ck_assert_uint_eq(r->nbytes, t[i].nbytes);
        ck_assert_uint_eq((uintptr_t)r->data % gc_st_dtype_size(r->dtype), 0);
        if (r->nbytes) ck_assert(memcmp(r->data, data[i], r->nbytes) == 0);
    }
    ck_assert_ptr_null(gc_st_find(f, "nope"));
    ck_assert_ptr_null(gc_st_find(f, "__metadata__"));
    /* File order: largest elements first, so each tensor is aligned. */
    size_t prev = 8;
    for (int i = 0; i < count; i++) {
        size_t es = gc_st_dtype_size(gc_st_at(f, i)->dtype);
        ck_assert_uint_le(es, prev);
        prev = es;
    }
    ck_assert_int_eq(gc_st_metadata_count(f), 4);
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(gc_st_metadata(f, meta[i].key), meta[i].value);
    ck_assert_ptr_null(gc_st_metadata(f, "missing"));
    for (int i = 1; i < 4; i++)
        ck_assert_int_lt(strcmp(gc_st_metadata_at(f, i - 1).key, gc_st_metadata_at(f, i).key), 0);
    gc_st_free(f);

    /* No tensors, no metadata: "{}" padded to 8. */
    GT_OK(gc_st_write(p, NULL, 0, NULL, 0));
    raw = gt_read_file(p, &fn);
    ck_assert_uint_eq(fn, 16);
    ck_assert(memcmp(raw + 8, "{}      ", 8) == 0);
    free(raw);
    GT_OK(gc_st_load(p, 0, &f));
    ck_assert_int_eq(gc_st_count(f), 0);
    ck_assert_int_eq(gc_st_metadata_count(f), 0);
    gc_st_free(f);
    for (int i = 0; i < count; i++)
        free(data[i]);
}
END_TEST

/* Many tensors with random names and sizes, found again by name. */
START_TEST(many_tensors)
{
    enum { N = 300 };
    gc_st_tensor t[N];
    char names[N][32];
    float *vals[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "layer%03d.w%d", (i * 7919) % N, gt_randint(0, 99));
        int64_t n = gt_randint(0, 40);
        vals[i] = gt_rand_array(n, -3, 3);
        t[i] = (gc_st_tensor){
            .name = names[i], .dtype = GC_ST_F32, .ndim = 1, .shape = {n}, .data = vals[i]};
    }
    const char *p = tpath("many.safetensors");
    GT_OK(gc_st_write(p, t, N, NULL, 0));
    gc_st_file *f;
    GT_OK(gc_st_load(p, 0, &f));
    for (int i = 0; i < N; i++) {
        const gc_st_tensor *r = gc_st_find(f, names[i]);
        ck_assert_ptr_nonnull(r);
        ck_assert_int_eq(r->shape[0], t[i].shape[0]);
        if (r->nbytes) ck_assert(memcmp(r->data, vals[i], r->nbytes) == 0);
        free(vals[i]);
    }
    gc_st_free(f);
}
END_TEST

/* A file laid out by hand as the reference implementation writes it, with
 * a header length that is not a multiple of 8, so the reader has to copy
 * the misaligned tensors aside. */
START_TEST(reference_layout)
{
    const char *hdr = "{\"__metadata__\":{\"format\":\"pt\"},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},"
                      "\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[8,24]},"
                      "\"c\":{\"dtype\":\"U8\",\"shape\":[],\"data_offsets\":[24,25]}}";
    for (int pad = 0; pad < 8; pad++) {
        char h[512];
        snprintf(h, sizeof h, "%s%*s", hdr, pad, "");
        size_t hl = strlen(h);
        unsigned char buf[600];
        for (int i = 0; i < 8; i++)
            buf[i] = (unsigned char)((uint64_t)hl >> (8 * i));
        memcpy(buf + 8, h, hl);
        float a[2] = {1.5f, -2.0f};
        int64_t b[2] = {-3, (int64_t)1 << 40};
        memcpy(buf + 8 + hl, a, 8);
        memcpy(buf + 8 + hl + 8, b, 16);
        buf[8 + hl + 24] = 7;
        const char *p = tpath("ref.safetensors");
        gt_write_file(p, buf, 8 + hl + 25);
        gc_st_file *f;
        GT_OK(gc_st_load(p, 0, &f));
        const gc_st_tensor *ta = gc_st_find(f, "a"), *tb = gc_st_find(f, "b");
        const gc_st_tensor *tc = gc_st_find(f, "c");
        ck_assert(ta && tb && tc);
        ck_assert_int_eq(ta->ndim, 2);
        ck_assert_int_eq(tc->ndim, 0);
        ck_assert_uint_eq(tc->nbytes, 1);
        ck_assert_uint_eq((uintptr_t)ta->data % 4, 0);
        ck_assert_uint_eq((uintptr_t)tb->data % 8, 0);
        ck_assert(((const float *)ta->data)[0] == 1.5f && ((const float *)ta->data)[1] == -2.0f);
        ck_assert(((const int64_t *)tb->data)[1] == ((int64_t)1 << 40));
        ck_assert_int_eq(*(const uint8_t *)tc->data, 7);
        ck_assert_str_eq(gc_st_metadata(f, "format"), "pt");
        ck_assert_str_eq(gc_st_at(f, 0)->name, "a");
        ck_assert_str_eq(gc_st_at(f, 2)->name, "c");
        gc_st_free(f);
    }
    /* "__metadata__": null is allowed; unknown fields in an entry are
     * ignored as by the reference reader. */
    write_st(tpath("n.safetensors"),
             "{\"__metadata__\":null,\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2],"
             "\"extra\":[1,{}]}}",
             2);
    gc_st_file *f;
    GT_OK(gc_st_load(tpath("n.safetensors"), 0, &f));
    ck_assert_int_eq(gc_st_metadata_count(f), 0);
    ck_assert_uint_eq(gc_st_find(f, "x")->nbytes, 2);
    gc_st_free(f);
}
END_TEST

START_TEST(writer_rejects)
{
    float v[4] = {0};
    const char *p = tpath("w.safetensors");
    gc_st_tensor two[2] = {{.name = "x", .dtype = GC_ST_F32, .ndim = 1, .shape = {4}, .data = v},
                           {.name = "x", .dtype = GC_ST_F32, .ndim = 1, .shape = {4}, .data = v}};
    ck_assert_int_eq(gc_st_write(p, two, 2, NULL, 0), GC_ERR_ARG);
    ck_assert(strstr(gc_last_error(), "twice"));
    two[1].name = "__metadata__";
    ck_assert_int_eq(gc_st_write(p, two, 2, NULL, 0), GC_ERR_ARG);
    two[1].name = "y";
    two[1].shape[0] = -1;
    ck_assert_int_eq(gc_st_write(p, two, 2, NULL, 0), GC_ERR_ARG);
    two[1].shape[0] = 4;
    two[1].data = NULL;
    ck_assert_int_eq(gc_st_write(p, two, 2, NULL, 0), GC_ERR_ARG);
    two[1].data = v;
    two[1].name = "bad\xff";
    ck_assert_int_eq(gc_st_write(p, two, 2, NULL, 0), GC_ERR_ARG);
    ck_assert(strstr(gc_last_error(), "UTF-8"));
    two[1].name = "y";
    gc_st_kv meta[2] = {{"k", "a"}, {"k", "b"}};
    ck_assert_int_eq(gc_st_write(p, two, 2, meta, 2), GC_ERR_ARG);
    ck_assert_int_eq(access(p, F_OK), -1); /* nothing written */
    GT_OK(gc_st_write(p, two, 2, meta, 1));
    /* A directory in the way: an I/O error naming the path. */
    ck_assert_int_eq(mkdir(tpath("sub"), 0700), 0);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/sub/missing/x.safetensors", gt_tmp());
    ck_assert_int_eq(gc_st_write(sub, two, 2, NULL, 0), GC_ERR_IO);
    ck_assert(strstr(gc_last_error(), sub));
}
END_TEST

/* ---- malformed files -------------------------------------------------------------- */

START_TEST(bad_files_and_lengths)
{
    const char *p = tpath("x.safetensors");
    expect_fail(p, GC_ERR_IO, "cannot open");
    ck_assert_int_eq(mkdir(tpath("dir.safetensors"), 0700), 0);
    expect_fail(tpath("dir.safetensors"), GC_ERR_IO, "not a regular file");
    gt_write_file(p, "", 0);
    expect_fail(p, GC_ERR_FORMAT, "too short");
    gt_write_file(p, "\x02\0\0\0\0", 5);
    expect_fail(p, GC_ERR_FORMAT, "too short");
    const char *ok = "{\"a\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[0,3]}}";
    write_st_raw(p, 1000, ok, strlen(ok), 3);
    expect_fail(p, GC_ERR_FORMAT, "exceeds the file");
    write_st_raw(p, strlen(ok) + 4, ok, strlen(ok), 3);
    expect_fail(p, GC_ERR_FORMAT, "exceeds the file");
    write_st_raw(p, (uint64_t)1 << 63, ok, strlen(ok), 3);
    expect_fail(p, GC_ERR_FORMAT, "absurd");
    write_st_raw(p, 200000000, ok, strlen(ok), 3);
    expect_fail(p, GC_ERR_FORMAT, "absurd");
    write_st_raw(p, 0, ok, strlen(ok), 3);
    expect_fail(p, GC_ERR_FORMAT, "JSON object");
    /* the file-size cap */
    write_st(p, ok, 3);
    gc_st_file *f = NULL;
    ck_assert_int_eq(gc_st_load(p, 16, &f), GC_ERR_FORMAT);
    ck_assert(strstr(gc_last_error(), "too large") && strstr(gc_last_error(), p));
    ck_assert_ptr_null(f);
    GT_OK(gc_st_load(p, 0, &f));
    gc_st_free(f);
}
END_TEST

START_TEST(bad_json)
{
    bad_header("[1, 2]", 0, "JSON object");
    bad_header(" {}", 0, "JSON object");
    bad_header("{\"a\": {\"dtype\": \"F32\", ", 0, "malformed JSON");
    bad_header("{\"a\" 1}", 0, "malformed JSON");
    bad_header("{} xyz", 0, "junk");
    bad_header("{}{}", 0, "junk");
    bad_header("{\"a\": 5}", 0, "a: the entry is not an object");
    bad_header("{\"a\": \"x\xff\"}", 0, "UTF-8");
    bad_header("{\"a\": \"\xc0\x80\"}", 0, "UTF-8");     /* overlong NUL */
    bad_header("{\"a\": \"\xed\xa0\x80\"}", 0, "UTF-8"); /* surrogate */
    const char nul[] = "{\"a\":\0}";
    write_st_raw(tpath("nul"), UINT64_MAX, nul, sizeof nul - 1, 0);
    expect_fail(tpath("nul"), GC_ERR_FORMAT, "NUL");
    /* nesting deep enough to blow a naive recursive parser's stack */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 16);
    strcpy(deep, "{\"a\":");
    size_t k = strlen(deep);
    for (size_t i = 0; i < depth; i++)
        deep[k++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[k++] = ']';
    deep[k++] = '}';
    deep[k] = '\0';
    bad_header(deep, 0, "malformed JSON");
    free(deep);
    bad_header("{\"\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "empty name");
}
END_TEST

START_TEST(bad_entries)
{
#define E(body) "{\"w\":{" body "}}"
    bad_header(E("\"shape\":[1],\"data_offsets\":[0,4]"), 4, "w: missing \"dtype\"");
    bad_header(E("\"dtype\":\"F32\",\"data_offsets\":[0,4]"), 4, "w: missing \"shape\"");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1]"), 4, "w: missing \"data_offsets\"");
    bad_header(E("\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]"), 4,
               "w: unknown dtype \"F33\"");
    bad_header(E("\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]"), 4, "unknown dtype");
    bad_header(E("\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]"), 4, "w: dtype is not");
    /* shapes */
    bad_header(E("\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,4]"), 4,
               "w: shape is not an array");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]"), 4,
               "w: shape[0] is negative");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[2,1.5],\"data_offsets\":[0,12]"), 12,
               "w: shape[1] is not an integer");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]"), 8,
               "w: shape[0] is a string");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,4]"), 4,
               "w: shape[0] is not a number");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1e300],\"data_offsets\":[0,4]"), 4,
               "w: shape[0] is too large");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1e999],\"data_offsets\":[0,4]"), 4,
               "w: shape[0] is out of range");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]"), 4,
               "w: the shape's size overflows");
    bad_header(E("\"dtype\":\"F64\",\"shape\":[4294967296,536870912],\"data_offsets\":[0,4]"), 4,
               "overflows");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"), 4,
               "w: 9 dimensions");
    /* offsets */
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":4"), 4,
               "w: data_offsets is not an array of two");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]"), 4, "w: data_offsets");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]"), 8, "w: data_offsets");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]"), 4,
               "w: data_offsets[0] is negative");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]"), 4,
               "w: data_offsets[1] is not an integer");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]"), 4,
               "w: data_offsets[1] is a string");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]"), 4,
               "w: data_offsets [4, 0] are reversed");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]"), 3, "past the data");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]"), 8, "past the data");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]"), 4,
               "w: data_offsets span 4 bytes, but F32 x shape needs 8");
    bad_header(E("\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,0]"), 0, "needs 4");
#undef E
}
END_TEST

START_TEST(bad_layout)
{
#define T(name, b, e)                                                                              \
    "\"" name "\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[" #b "," #e "]}"
    bad_header("{" T("a", 0, 8) "," T("b", 4, 12) "}", 12, "overlaps a");
    bad_header("{" T("a", 0, 8) "," T("b", 0, 8) "}", 8, "overlaps");
    bad_header("{" T("b", 8, 16) "," T("a", 0, 8) "," T("c", 12, 20) "}", 20, "overlaps");
    bad_header("{" T("a", 0, 8) "," T("b", 12, 20) "}", 20, "b: 4 unused bytes before");
    bad_header("{" T("a", 4, 12) "}", 12, "a: 4 unused bytes before");
    bad_header("{" T("a", 0, 8) "}", 9, "1 unused bytes after the last tensor");
    bad_header("{}", 5, "5 unused bytes after");
    /* duplicates */
    bad_header("{" T("a", 0, 8) "," T("a", 8, 16) "}", 16, "duplicate tensor name \"a\"");
    bad_header("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "duplicate key \"__metadata__\"");
    bad_header("{\"__metadata__\":{\"k\":\"1\",\"j\":\"2\",\"k\":\"3\"}}", 0,
               "duplicate key \"k\"");
    /* metadata */
    bad_header("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__: \"k\" is not a string");
    bad_header("{\"__metadata__\":{\"k\":null}}", 0, "is not a string");
    bad_header("{\"__metadata__\":{\"k\":{\"x\":\"y\"}}}", 0, "is not a string");
    bad_header("{\"__metadata__\":[\"x\"]}", 0, "__metadata__ is not an object");
    bad_header("{\"__metadata__\":\"x\"}", 0, "__metadata__ is not an object");
#undef T
}
END_TEST

/* Every truncation of a good file fails cleanly, and random corruptions of
 * its header either load (they may still be valid) or fail with
 * GC_ERR_FORMAT: no crash, no other status (sanitizers watch the rest). */
START_TEST(truncations_and_mutations)
{
    float w[6];
    int64_t s = 5;
    for (int i = 0; i < 6; i++)
        w[i] = (float)gt_normal();
    gc_st_tensor t[2] = {{.name = "w", .dtype = GC_ST_F32, .ndim = 2, .shape = {2, 3}, .data = w},
                         {.name = "s", .dtype = GC_ST_I64, .ndim = 0, .data = &s}};
    gc_st_kv meta = {"note", "x"};
    const char *p = tpath("good.safetensors");
    GT_OK(gc_st_write(p, t, 2, &meta, 1));
    size_t n;
    unsigned char *good = gt_read_file(p, &n);
    const char *q = tpath("mut.safetensors");
    for (size_t len = 0; len < n; len++) {
        gt_write_file(q, good, len);
        expect_fail(q, GC_ERR_FORMAT, NULL);
    }
    unsigned char *m = malloc(n);
    uint64_t hlen = 0;
    for (int i = 0; i < 8; i++)
        hlen |= (uint64_t)good[i] << (8 * i);
    int loaded = 0;
    for (int it = 0; it < 2000; it++) {
        memcpy(m, good, n);
        int flips = gt_randint(1, 3);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)gt_randint(0, (int)(8 + hlen - 1));
            const char pool[] = "{}[]\":,0123456789-.e \\ZF";
            m[at] = gt_uniform() < 0.5 ? (unsigned char)gt_randint(0, 255)
                                       : (unsigned char)pool[gt_randint(0, sizeof pool - 2)];
        }
        gt_write_file(q, m, n);
        gc_st_file *f = NULL;
        gc_status st = gc_st_load(q, 0, &f);
        ck_assert_msg(st == GC_OK || st == GC_ERR_FORMAT, "mutation %d: %s: %s", it,
                      gc_status_name(st), gc_last_error());
        if (st == GC_OK) {
            loaded++;
            for (int i = 0; i < gc_st_count(f); i++) {
                const gc_st_tensor *r = gc_st_at(f, i);
                volatile unsigned char sink = 0;
                for (size_t b = 0; b < r->nbytes; b++)
                    sink ^= ((const unsigned char *)r->data)[b];
                (void)sink;
            }
            gc_st_free(f);
        } else {
            ck_assert_ptr_null(f);
            ck_assert(strstr(gc_last_error(), q));
        }
    }
    printf("truncations_and_mutations: %d of 2000 mutated files still valid\n", loaded);
    free(m);
    free(good);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("safetensors");
    tcase_add_checked_fixture(tc, gt_tmp_setup, gt_tmp_teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, many_tensors);
    tcase_add_test(tc, reference_layout);
    tcase_add_test(tc, writer_rejects);
    tcase_add_test(tc, bad_files_and_lengths);
    tcase_add_test(tc, bad_json);
    tcase_add_test(tc, bad_entries);
    tcase_add_test(tc, bad_layout);
    tcase_add_test(tc, truncations_and_mutations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

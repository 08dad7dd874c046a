/* tests/test_bad_files.c - hand-made bad input files of every format, fed to
 * the real gancl binary through the commands that read them (train --data,
 * train --resume, sample --checkpoint, fid, fid-stats).  Each must end in
 * exit code 2 with exactly one stderr line, "gancl: <file>: <what is
 * wrong>": no signal, no sanitizer report (this suite also runs under
 * ASan/UBSan), no stack of messages.
 *
 * The valid files the bad ones are made from (a tiny IDX data set, a real
 * checkpoint of a tiny model, FID statistics) are made once per run; each
 * case then writes its own file and runs one command that ends in well
 * under a second.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "gancl/fid.h"
#include "gancl/io.h"
#include "test_files.h"
#include "test_proc.h"
#include "test_support.h"

static char dir[1024];        /* shared by every case, removed at exit */
static char data_idx[1200];   /* 6 random 8x8 images */
static char ckpt[1200];       /* a dcgan checkpoint trained on them */
static char ckpt_seed[1200];  /* the same for the seed model */
static char good_stats[1200]; /* FID statistics, 4 dims */
static char case_path[1200];  /* the file (or folder) the case made */
static char case_arg[1200];   /* what goes on the command line, if not case_path */
static char case_shown[1200]; /* what the message starts with, if not case_path */

/* ---- building blocks ------------------------------------------------------------ */

static const char *in_dir(const char *name)
{
    static char buf[4][1200];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static uint8_t *idx_bytes(const uint32_t *dims, int ndim, uint8_t type, size_t payload, size_t *n)
{
    *n = 4 + 4 * (size_t)ndim + payload;
    uint8_t *b = malloc(*n);
    ck_assert_ptr_nonnull(b);
    b[0] = 0, b[1] = 0, b[2] = type, b[3] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        b[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
        b[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
        b[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
        b[7 + 4 * i] = (uint8_t)dims[i];
    }
    for (size_t i = 0; i < payload; i++)
        b[4 + 4 * (size_t)ndim + i] = (uint8_t)gt_randint(0, 255);
    return b;
}

static uint8_t *gzip_bytes(const uint8_t *src, size_t n, size_t *out_n)
{
    z_stream zs = {0};
    ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    uint8_t *out = malloc(cap);
    ck_assert_ptr_nonnull(out);
    zs.next_in = (Bytef *)src;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_n = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

/* The case's file: written, and used as argument and message prefix. */
static void case_file(const char *name, const void *data, size_t n)
{
    snprintf(case_path, sizeof case_path, "%s", in_dir(name));
    gt_write_file(case_path, data, n);
}

/* A safetensors file from a header written by hand and raw data bytes. */
static void case_st_raw(const char *name, const char *json, const void *data, size_t n)
{
    size_t j = strlen(json);
    uint8_t *b = malloc(8 + j + n + 1);
    ck_assert_ptr_nonnull(b);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)j >> (8 * i));
    memcpy(b + 8, json, j);
    if (n) memcpy(b + 8 + j, data, n);
    case_file(name, b, 8 + j + n);
    free(b);
}

/* Runs gancl with stdout and stderr in files; the exit code, and stderr in
 * err (n bytes). */
static int run(const char *const *args, char *err, size_t n)
{
    const char *out_path = in_dir("stdout"), *err_path = in_dir("stderr");
    static const char *const env[] = {"GANCL_FID_WEIGHTS=/nonexistent/weights", NULL};
    int code = gt_run(GANCL_BINARY, args,
                      &(gt_io){.env = env, .out_path = out_path, .err_path = err_path});
    char *e = gt_read_file(err_path, NULL);
    snprintf(err, n, "%s", e);
    free(e);
    return code;
}

/* ---- the valid files, made once ------------------------------------------------- */

static void make_base(void)
{
    if (dir[0]) return;
    gt_tmpdir_at_exit(dir, sizeof dir, "bad-files");
    snprintf(data_idx, sizeof data_idx, "%s/data.idx", dir);
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){6, 8, 8}, 3, 0x08, 6 * 64, &n);
    gt_write_file(data_idx, b, n);
    free(b);
    char err[4096];
    const char *models[2] = {"dcgan", "seed"};
    char *outs[2] = {ckpt, ckpt_seed};
    for (int m = 0; m < 2; m++) {
        const char *run_dir = in_dir(m ? "run-seed" : "run-dcgan");
        int code = run(GT_ARGS("--device", "cpu", "train", "--model", models[m], "--data", data_idx,
                               "--latent", "3", "--g-width", "2", "--d-width", "1", "--batch", "2",
                               "--steps", "1", "--seed", "7", "--out", run_dir),
                       err, sizeof err);
        ck_assert_msg(code == 0, "training the base checkpoint failed (%d): %s", code, err);
        snprintf(outs[m], sizeof ckpt, "%s/checkpoint.safetensors", run_dir);
    }
    /* Statistics of 4 dims from a few random samples. */
    gc_fid_accum *acc;
    GT_OK(gc_fid_accum_init(4, &acc));
    float *f = gt_rand_array(4 * 9, -1, 1);
    gc_fid_accum_add(acc, f, 9);
    free(f);
    gc_fid_stats st;
    GT_OK(gc_fid_accum_stats(acc, &st));
    gc_fid_accum_free(acc);
    snprintf(good_stats, sizeof good_stats, "%s/good-stats.safetensors", dir);
    GT_OK(gc_fid_stats_save(good_stats, &st, "test"));
    gc_fid_stats_free(&st);
}

/* ---- checkpoint variants ---------------------------------------------------------- */

typedef struct ckpt_edit {
    const char *meta_key, *meta_value; /* set (value NULL: remove) a metadata entry */
    const char *config_key;            /* in the "config" JSON ... */
    const char *config_value;          /* ... set to this raw JSON (NULL: remove) */
    const char *drop;                  /* a tensor to leave out */
    const char *reshape;               /* a tensor whose shape becomes [numel] */
} ckpt_edit;

/* Writes base with the edit applied to the case's file. */
static void case_ckpt(const char *name, const char *base, ckpt_edit e)
{
    gc_st_file *f;
    GT_OK(gc_st_load(base, 0, &f));
    int nt = gc_st_count(f), nm = gc_st_metadata_count(f);
    gc_st_tensor *t = calloc((size_t)nt, sizeof *t);
    gc_st_kv *m = calloc((size_t)nm + 1, sizeof *m);
    ck_assert(t && m);
    int k = 0;
    for (int i = 0; i < nt; i++) {
        const gc_st_tensor *src = gc_st_at(f, i);
        if (e.drop && !strcmp(src->name, e.drop)) continue;
        t[k] = *src;
        if (e.reshape && !strcmp(src->name, e.reshape)) {
            t[k].shape[0] = (int64_t)(src->nbytes / gc_st_dtype_size(src->dtype));
            t[k].ndim = 1;
        }
        k++;
    }
    char *config = NULL;
    int km = 0, set = 0;
    for (int i = 0; i < nm; i++) {
        m[km] = gc_st_metadata_at(f, i);
        if (e.meta_key && !strcmp(m[km].key, e.meta_key)) {
            set = 1;
            if (!e.meta_value) continue;
            m[km].value = e.meta_value;
        }
        if (e.config_key && !strcmp(m[km].key, "config")) {
            cJSON *o = cJSON_Parse(m[km].value);
            ck_assert_ptr_nonnull(o);
            cJSON_DeleteItemFromObjectCaseSensitive(o, e.config_key);
            if (e.config_value) {
                cJSON *v = cJSON_CreateRaw(e.config_value);
                ck_assert(v && cJSON_AddItemToObject(o, e.config_key, v));
            }
            config = cJSON_PrintUnformatted(o);
            cJSON_Delete(o);
            m[km].value = config;
        }
        km++;
    }
    if (e.meta_key && !set && e.meta_value) m[km++] = (gc_st_kv){e.meta_key, e.meta_value};
    snprintf(case_path, sizeof case_path, "%s", in_dir(name));
    GT_OK(gc_st_write(case_path, t, k, m, km));
    cJSON_free(config);
    free(t);
    free(m);
    gc_st_free(f);
}

/* A run folder for train --resume holding the case's checkpoint. */
static void as_resume_dir(const char *name)
{
    const char *run_dir = in_dir(name);
    ck_assert_int_eq(mkdir(run_dir, 0755), 0);
    char moved[1200];
    snprintf(moved, sizeof moved, "%s/checkpoint.safetensors", run_dir);
    ck_assert_int_eq(rename(case_path, moved), 0);
    snprintf(case_arg, sizeof case_arg, "%s", run_dir);
    snprintf(case_path, sizeof case_path, "%s", moved);
}

/* FID statistics from tensors and metadata given by hand. */
static void case_stats(const char *name, const gc_st_tensor *t, int nt, const gc_st_kv *m, int nm)
{
    snprintf(case_path, sizeof case_path, "%s", in_dir(name));
    GT_OK(gc_st_write(case_path, t, nt, m, nm));
}

static const double mu4[4] = {0.1, 0.2, 0.3, 0.4};
static const double eye4[16] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};

static gc_st_tensor tensor(const char *name, gc_st_dtype dt, int ndim, int64_t d0, int64_t d1,
                           const void *data)
{
    return (gc_st_tensor){.name = name, .dtype = dt, .ndim = ndim, .shape = {d0, d1}, .data = data};
}

/* A one-file PNG folder holding these bytes as x.png; the message names
 * the folder (the command's argument) and, inside, the file. */
static void case_png_folder(const char *name, const void *data, size_t n)
{
    const char *folder = in_dir(name);
    ck_assert_int_eq(mkdir(folder, 0755), 0);
    snprintf(case_arg, sizeof case_arg, "%s", folder);
    snprintf(case_shown, sizeof case_shown, "%s", folder);
    snprintf(case_path, sizeof case_path, "%s/x.png", folder);
    gt_write_file(case_path, data, n);
}

static uint32_t crc_chunk(const char *tag, const uint8_t *body, size_t n)
{
    uLong c = crc32(0, (const Bytef *)tag, 4);
    return (uint32_t)crc32(c, body, (uInt)n);
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

/* ---- the cases ----------------------------------------------------------------------- */

typedef enum { VIA_TRAIN, VIA_RESUME, VIA_SAMPLE, VIA_FID, VIA_FID_STATS } via;

typedef struct bad_case {
    const char *name;
    via via;
    void (*make)(void);
    const char *want; /* what the message must say after the path */
} bad_case;

/* IDX ---------------------------------------------------------------------------------- */

static void idx_huge_product(void)
{
    /* 2^32 - 1 images of 16384 x 16384: 2^60 bytes if believed. */
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){0xFFFFFFFFu, 16384, 16384}, 3, 0x08, 64, &n);
    case_file("huge.idx", b, n);
    free(b);
}

static void idx_lying_count(void)
{
    /* A million 28x28 images promised, two present. */
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){1000000, 28, 28}, 3, 0x08, 2 * 784, &n);
    case_file("lying.idx", b, n);
    free(b);
}

static void idx_lying_count_gz(void)
{
    size_t n, zn;
    uint8_t *b = idx_bytes((const uint32_t[]){1000000, 28, 28}, 3, 0x08, 2 * 784, &n);
    uint8_t *z = gzip_bytes(b, n, &zn);
    case_file("lying.idx.gz", z, zn);
    free(z);
    free(b);
}

static void idx_truncated(void)
{
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 8, 8}, 3, 0x08, 4 * 64, &n);
    case_file("truncated.idx", b, n - 17);
    free(b);
}

static void idx_truncated_header(void)
{
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 8, 8}, 3, 0x08, 0, &n);
    case_file("short-header.idx", b, 9);
    free(b);
}

static void idx_wrong_magic(void)
{
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 8, 8}, 3, 0x08, 4 * 64, &n);
    b[0] = 'P', b[1] = 'K';
    case_file("magic.idx", b, n);
    free(b);
}

static void idx_unknown_dtype(void)
{
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 8, 8}, 3, 0x0D, 4 * 64 * 4, &n);
    case_file("float.idx", b, n);
    free(b);
}

static void idx_zero_dim(void)
{
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 0, 8}, 3, 0x08, 0, &n);
    case_file("zero.idx", b, n);
    free(b);
}

static void idx_labels_not_images(void)
{
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){10}, 1, 0x08, 10, &n);
    case_file("labels.idx", b, n);
    free(b);
}

static void idx_huge_side(void)
{
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){1, 20000, 20000}, 3, 0x08, 16, &n);
    case_file("wide.idx", b, n);
    free(b);
}

static void idx_trailing(void)
{
    size_t n;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 8, 8}, 3, 0x08, 4 * 64 + 5, &n);
    case_file("trailing.idx", b, n);
    free(b);
}

static void idx_gzip_corrupt(void)
{
    size_t n, zn;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 8, 8}, 3, 0x08, 4 * 64, &n);
    uint8_t *z = gzip_bytes(b, n, &zn);
    for (size_t i = 14; i < zn - 8; i += 3)
        z[i] ^= 0x5A; /* scramble the deflate stream, keep the gzip header */
    case_file("corrupt.idx.gz", z, zn);
    free(z);
    free(b);
}

static void idx_gzip_truncated(void)
{
    size_t n, zn;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 8, 8}, 3, 0x08, 4 * 64, &n);
    uint8_t *z = gzip_bytes(b, n, &zn);
    case_file("cut.idx.gz", z, zn / 2);
    free(z);
    free(b);
}

static void idx_gzip_bad_crc(void)
{
    size_t n, zn;
    uint8_t *b = idx_bytes((const uint32_t[]){4, 8, 8}, 3, 0x08, 4 * 64, &n);
    uint8_t *z = gzip_bytes(b, n, &zn);
    z[zn - 8] ^= 0xFF; /* the CRC-32 of the trailer */
    case_file("crc.idx.gz", z, zn);
    free(z);
    free(b);
}

static void idx_directory(void)
{
    snprintf(case_path, sizeof case_path, "%s", in_dir("a-folder.idx"));
    ck_assert_int_eq(mkdir(case_path, 0755), 0);
}

static void idx_empty(void)
{
    case_file("empty.idx", "", 0);
}

/* safetensors (as checkpoints) ------------------------------------------------------ */

static void st_header_past_end(void)
{
    uint8_t b[16] = {0x00, 0x10, 0, 0, 0, 0, 0, 0, '{', '}'};
    case_file("past-end.safetensors", b, 10);
}

static void st_header_absurd(void)
{
    uint8_t b[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, '{', '}'};
    case_file("absurd.safetensors", b, 10);
}

static void st_offsets_past_end(void)
{
    case_st_raw("offsets.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "\0\0\0\0", 4);
}

static void st_reversed_offsets(void)
{
    case_st_raw("reversed.safetensors",
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "\0\0\0\0", 4);
}

static void st_shape_overflow(void)
{
    case_st_raw("overflow.safetensors",
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],"
                "\"data_offsets\":[0,0]}}",
                NULL, 0);
}

static void st_unknown_dtype(void)
{
    case_st_raw("dtype.safetensors",
                "{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}",
                "0123456789abcdef", 16);
}

static void st_json_garbage(void)
{
    case_st_raw("garbage.safetensors", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1,, ]}", NULL, 0);
}

static void st_missing_key(void)
{
    case_st_raw("nokey.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}",
                "\0\0\0\0", 4);
}

static void st_metadata_not_string(void)
{
    case_st_raw("meta.safetensors", "{\"__metadata__\":{\"format\":1}}", NULL, 0);
}

static void st_overlap(void)
{
    case_st_raw("overlap.safetensors",
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                "\0\0\0\0\0\0\0\0", 8);
}

static void st_directory(void)
{
    snprintf(case_path, sizeof case_path, "%s", in_dir("ckpt-folder.safetensors"));
    ck_assert_int_eq(mkdir(case_path, 0755), 0);
}

/* checkpoints ------------------------------------------------------------------------- */

static void ckpt_wrong_format(void)
{
    /* One letter off: the value is quoted in the message (it used to be
     * read after the file holding it was freed). */
    case_ckpt("format.safetensors", ckpt,
              (ckpt_edit){.meta_key = "format", .meta_value = "gancl-checkpvint-1"});
}

static void ckpt_no_config(void)
{
    case_ckpt("noconfig.safetensors", ckpt, (ckpt_edit){.meta_key = "config"});
}

static void ckpt_config_not_json(void)
{
    case_ckpt("configjson.safetensors", ckpt,
              (ckpt_edit){.meta_key = "config", .meta_value = "{\"model\": dcgan"});
}

static void ckpt_config_missing_key(void)
{
    case_ckpt("nolatent.safetensors", ckpt, (ckpt_edit){.config_key = "latent"});
}

static void ckpt_config_huge_double(void)
{
    /* Out of every integer type: must not reach a float-to-int conversion. */
    case_ckpt("latent1e300.safetensors", ckpt,
              (ckpt_edit){.config_key = "latent", .config_value = "1e300"});
}

static void ckpt_config_wrong_type(void)
{
    case_ckpt("batchstr.safetensors", ckpt,
              (ckpt_edit){.config_key = "batch", .config_value = "\"64\""});
    as_resume_dir("run-batch");
}

static void ckpt_config_bad_lr(void)
{
    case_ckpt("lr.safetensors", ckpt, (ckpt_edit){.config_key = "lr", .config_value = "-0.5"});
    as_resume_dir("run-lr");
}

static void ckpt_config_terabytes(void)
{
    /* Every field inside its range, but together G alone would need
     * 65536 x 4096 x 256 x 256 weights (64 TiB): the file does not hold
     * them, and that is noticed before anything is allocated. */
    static const char *const keys[] = {"latent", "g_width", "height", "width"};
    static const char *const vals[] = {"65536", "4096", "1024", "1024"};
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", ckpt);
    for (int i = 0; i < 4; i++) {
        char name[64];
        snprintf(name, sizeof name, "tb%d.safetensors", i);
        case_ckpt(name, tmp, (ckpt_edit){.config_key = keys[i], .config_value = vals[i]});
        snprintf(tmp, sizeof tmp, "%s", case_path);
    }
}

static void ckpt_config_bad_model(void)
{
    case_ckpt("model.safetensors", ckpt,
              (ckpt_edit){.config_key = "model", .config_value = "\"stylegan\""});
}

static void ckpt_config_odd_height(void)
{
    case_ckpt("height.safetensors", ckpt,
              (ckpt_edit){.config_key = "height", .config_value = "30"});
}

static void ckpt_missing_tensor(void)
{
    case_ckpt("notensor.safetensors", ckpt, (ckpt_edit){.drop = "D.2.weight"});
}

static void ckpt_wrong_shape(void)
{
    case_ckpt("shape.safetensors", ckpt, (ckpt_edit){.reshape = "G.3.weight"});
}

static void ckpt_seed_missing_tensor(void)
{
    case_ckpt("seed-notensor.safetensors", ckpt_seed, (ckpt_edit){.drop = "G.2.bias"});
}

static void resume_step_not_number(void)
{
    case_ckpt("step.safetensors", ckpt, (ckpt_edit){.meta_key = "step", .meta_value = "12abc"});
    as_resume_dir("run-step");
}

static void resume_counters(void)
{
    case_ckpt("epoch.safetensors", ckpt, (ckpt_edit){.meta_key = "epoch", .meta_value = "99"});
    as_resume_dir("run-epoch");
}

static void resume_missing_adam(void)
{
    case_ckpt("adam.safetensors", ckpt, (ckpt_edit){.drop = "G.adam_v"});
    as_resume_dir("run-adam");
}

static void resume_truncated(void)
{
    size_t n;
    uint8_t *b = gt_read_file(ckpt, &n);
    case_file("cut.safetensors", b, n - 100);
    free(b);
    as_resume_dir("run-cut");
}

/* FID statistics ---------------------------------------------------------------------- */

static void stats_no_mu(void)
{
    gc_st_tensor t[1] = {tensor("sigma", GC_ST_F64, 2, 4, 4, eye4)};
    case_stats("nomu.safetensors", t, 1, NULL, 0);
}

static void stats_sigma_shape(void)
{
    gc_st_tensor t[2] = {tensor("mu", GC_ST_F64, 1, 4, 0, mu4),
                         tensor("sigma", GC_ST_F64, 2, 2, 8, eye4)};
    case_stats("sigmashape.safetensors", t, 2, NULL, 0);
}

static void stats_dtype(void)
{
    static const int32_t mu[4] = {1, 2, 3, 4};
    gc_st_tensor t[2] = {tensor("mu", GC_ST_I32, 1, 4, 0, mu),
                         tensor("sigma", GC_ST_F64, 2, 4, 4, eye4)};
    case_stats("dtype.safetensors", t, 2, NULL, 0);
}

static void stats_nonfinite(void)
{
    static double mu[4] = {0, 1, 2, 3};
    mu[2] = INFINITY;
    gc_st_tensor t[2] = {tensor("mu", GC_ST_F64, 1, 4, 0, mu),
                         tensor("sigma", GC_ST_F64, 2, 4, 4, eye4)};
    case_stats("inf.safetensors", t, 2, NULL, 0);
}

static void stats_asymmetric(void)
{
    double s[16];
    memcpy(s, eye4, sizeof s);
    s[1 * 4 + 3] = 0.5;
    gc_st_tensor t[2] = {tensor("mu", GC_ST_F64, 1, 4, 0, mu4),
                         tensor("sigma", GC_ST_F64, 2, 4, 4, s)};
    case_stats("asym.safetensors", t, 2, NULL, 0);
}

static void stats_bad_count(void)
{
    gc_st_tensor t[2] = {tensor("mu", GC_ST_F64, 1, 4, 0, mu4),
                         tensor("sigma", GC_ST_F64, 2, 4, 4, eye4)};
    gc_st_kv m[2] = {{"gancl_fid_stats", "1"}, {"count", "many"}};
    case_stats("count.safetensors", t, 2, m, 2);
}

static void stats_bad_dims(void)
{
    gc_st_tensor t[2] = {tensor("mu", GC_ST_F64, 1, 4, 0, mu4),
                         tensor("sigma", GC_ST_F64, 2, 4, 4, eye4)};
    gc_st_kv m[2] = {{"gancl_fid_stats", "1"}, {"dims", "2048"}};
    case_stats("dims.safetensors", t, 2, m, 2);
}

static void stats_header_garbage(void)
{
    case_st_raw("stats-garbage.safetensors", "{\"mu\":[[[[", NULL, 0);
}

static void fid_unknown_kind(void)
{
    const char text[] = "mu,sigma\n0.1,0.2\n";
    case_file("stats.csv", text, sizeof text - 1);
}

static void fid_stats_empty(void)
{
    case_file("empty.safetensors", "", 0);
}

/* PNG (a folder of PNGs for fid-stats) ------------------------------------------------ */

static void png_truncated(void)
{
    const char *tmp = in_dir("whole.png");
    uint8_t px[6 * 5];
    for (int i = 0; i < 30; i++)
        px[i] = (uint8_t)(i * 8);
    GT_OK(gc_png_write_gray(tmp, px, 6, 5));
    size_t n;
    uint8_t *b = gt_read_file(tmp, &n);
    case_png_folder("png-cut", b, n - 20);
    free(b);
}

static void png_not_png(void)
{
    const char text[] = "GIF89a this is not a PNG at all";
    case_png_folder("png-text", text, sizeof text - 1);
}

static void png_huge_ihdr(void)
{
    /* A well-formed 68-byte PNG that claims 32768 x 32768 RGBA pixels (4 GiB). */
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t b[128], ihdr[13] = {0};
    put32(ihdr, 32768);
    put32(ihdr + 4, 32768);
    ihdr[8] = 8, ihdr[9] = 6; /* 8-bit RGBA */
    uint8_t idat[64];
    uLongf zn = sizeof idat;
    const uint8_t row[5] = {0};
    ck_assert_int_eq(compress(idat, &zn, row, sizeof row), Z_OK);
    size_t n = 0;
    memcpy(b, sig, 8), n = 8;
    put32(b + n, 13), memcpy(b + n + 4, "IHDR", 4), memcpy(b + n + 8, ihdr, 13);
    put32(b + n + 21, crc_chunk("IHDR", ihdr, 13)), n += 25;
    put32(b + n, (uint32_t)zn), memcpy(b + n + 4, "IDAT", 4), memcpy(b + n + 8, idat, zn);
    put32(b + n + 8 + zn, crc_chunk("IDAT", idat, zn)), n += 12 + zn;
    put32(b + n, 0), memcpy(b + n + 4, "IEND", 4), put32(b + n + 8, crc_chunk("IEND", NULL, 0));
    n += 12;
    case_png_folder("png-huge", b, n);
}

static void png_bad_crc(void)
{
    const char *tmp = in_dir("crc.png");
    uint8_t px[3 * 4 * 3] = {0};
    GT_OK(gc_png_write_rgb(tmp, px, 4, 3));
    size_t n;
    uint8_t *b = gt_read_file(tmp, &n);
    b[8 + 8 + 13] ^= 0xFF; /* IHDR's CRC */
    case_png_folder("png-crc", b, n);
    free(b);
}

static void png_lying_chunk(void)
{
    /* An sPLT chunk claiming 2 GiB in a 100-byte file (found by fuzzing:
     * libpng allocated and zeroed the claimed length first). */
    const char *tmp = in_dir("small.png");
    uint8_t px[4 * 4] = {0};
    GT_OK(gc_png_write_gray(tmp, px, 4, 4));
    size_t n;
    uint8_t *b = gt_read_file(tmp, &n);
    uint8_t *lie = malloc(n + 12);
    ck_assert_ptr_nonnull(lie);
    static const uint8_t splt[12] = {0x7e, 0, 0, 0, 's', 'P', 'L', 'T', 'p', 'a', 'l', 0};
    memcpy(lie, b, 33);
    memcpy(lie + 33, splt, 12);
    memcpy(lie + 45, b + 33, n - 33);
    case_png_folder("png-chunk", lie, n + 12);
    free(lie);
    free(b);
}

static const bad_case cases[] = {
    /* IDX, through train --data and fid/fid-stats */
    {"idx: counts whose product is 2^60 bytes", VIA_TRAIN, idx_huge_product,
     "above the 2^34 limit"},
    {"idx: a million images promised, two present", VIA_TRAIN, idx_lying_count, "truncated"},
    {"idx.gz: a million images promised, two present", VIA_TRAIN, idx_lying_count_gz, "truncated"},
    {"idx: data cut short", VIA_TRAIN, idx_truncated, "truncated"},
    {"idx: header cut short", VIA_TRAIN, idx_truncated_header, "truncated header"},
    {"idx: wrong magic", VIA_TRAIN, idx_wrong_magic, "not an IDX file"},
    {"idx: float data (type 0x0d)", VIA_TRAIN, idx_unknown_dtype, "type code 0x0d"},
    {"idx: a zero dimension", VIA_TRAIN, idx_zero_dim, "dimension 1 is 0"},
    {"idx: a labels file as images", VIA_TRAIN, idx_labels_not_images, "1 dimension, expected 3"},
    {"idx: 20000 pixels a side", VIA_TRAIN, idx_huge_side, "exceed 16384 a side"},
    {"idx: trailing bytes", VIA_TRAIN, idx_trailing, "trailing data"},
    {"idx.gz: corrupt deflate data", VIA_TRAIN, idx_gzip_corrupt, "broken gzip stream"},
    {"idx.gz: cut in half", VIA_TRAIN, idx_gzip_truncated, "truncated"},
    {"idx.gz: wrong CRC", VIA_FID_STATS, idx_gzip_bad_crc, "broken gzip stream"},
    {"a folder without images as --data", VIA_TRAIN, idx_directory, "no .png images"},
    {"idx: an empty file", VIA_TRAIN, idx_empty, "empty file"},
    /* safetensors, through sample --checkpoint */
    {"safetensors: header length past the end", VIA_SAMPLE, st_header_past_end, "exceeds the file"},
    {"safetensors: header length 2^64 - 1", VIA_SAMPLE, st_header_absurd, "is absurd"},
    {"safetensors: data offsets past the end", VIA_SAMPLE, st_offsets_past_end, "past the data"},
    {"safetensors: reversed data offsets", VIA_SAMPLE, st_reversed_offsets, "are reversed"},
    {"safetensors: shape product overflows 64 bits", VIA_SAMPLE, st_shape_overflow,
     "overflows 64 bits"},
    {"safetensors: unknown dtype", VIA_SAMPLE, st_unknown_dtype, "unknown dtype \"F128\""},
    {"safetensors: JSON garbage", VIA_SAMPLE, st_json_garbage, "malformed JSON header"},
    {"safetensors: a tensor without a shape", VIA_SAMPLE, st_missing_key, "missing \"shape\""},
    {"safetensors: metadata that is not a string", VIA_SAMPLE, st_metadata_not_string,
     "\"format\" is not a string"},
    {"safetensors: overlapping tensors", VIA_SAMPLE, st_overlap, "overlaps"},
    {"safetensors: a folder", VIA_SAMPLE, st_directory, "not a regular file"},
    /* checkpoints */
    {"checkpoint: wrong format string", VIA_SAMPLE, ckpt_wrong_format,
     "not a gancl checkpoint (format \"gancl-checkpvint-1\""},
    {"checkpoint: no config", VIA_SAMPLE, ckpt_no_config, "no \"config\" metadata"},
    {"checkpoint: config is not JSON", VIA_SAMPLE, ckpt_config_not_json,
     "\"config\" metadata is not a JSON object"},
    {"checkpoint: config without latent", VIA_SAMPLE, ckpt_config_missing_key,
     "checkpoint config: \"latent\" is missing"},
    {"checkpoint: latent 1e300", VIA_SAMPLE, ckpt_config_huge_double,
     "\"latent\" is 1e+300, expected an integer in [1, 65536]"},
    {"checkpoint: batch as a string", VIA_RESUME, ckpt_config_wrong_type,
     "\"batch\" is the string \"64\", expected an integer in [2, 65536]"},
    {"checkpoint: negative learning rate", VIA_RESUME, ckpt_config_bad_lr,
     "\"lr\" is -0.5, expected a number in (0, 1]"},
    {"checkpoint: config asking for 64 TiB of weights", VIA_SAMPLE, ckpt_config_terabytes,
     "G.0.weight does not match the checkpoint's config"},
    {"checkpoint: unknown model", VIA_SAMPLE, ckpt_config_bad_model,
     "\"model\" is the string \"stylegan\", expected \"seed\" or \"dcgan\""},
    {"fid: a checkpoint with a bad config", VIA_FID, ckpt_config_odd_height, "multiples of 4"},
    {"checkpoint: height not a multiple of 4", VIA_SAMPLE, ckpt_config_odd_height,
     "multiples of 4"},
    {"checkpoint: a tensor missing", VIA_SAMPLE, ckpt_missing_tensor,
     "tensor D.2.weight is missing"},
    {"checkpoint: a tensor of the wrong shape", VIA_SAMPLE, ckpt_wrong_shape,
     "tensor G.3.weight has the wrong dtype or shape"},
    {"checkpoint (seed): a tensor missing", VIA_SAMPLE, ckpt_seed_missing_tensor,
     "tensor G.2.bias is missing"},
    {"resume: step is not a number", VIA_RESUME, resume_step_not_number,
     "metadata \"step\" is missing or not a number"},
    {"resume: epoch beyond step", VIA_RESUME, resume_counters, "inconsistent step counters"},
    {"resume: Adam moments missing", VIA_RESUME, resume_missing_adam, "tensor G.adam_v is missing"},
    {"resume: checkpoint cut short", VIA_RESUME, resume_truncated, "past the data"},
    /* FID statistics, through fid BAD GOOD */
    {"stats: no mu", VIA_FID, stats_no_mu, "no tensor 'mu'"},
    {"stats: sigma of the wrong shape", VIA_FID, stats_sigma_shape, "must be a square matrix of 4"},
    {"stats: integer mu", VIA_FID, stats_dtype, "has dtype I32, expected F64"},
    {"stats: infinite mean", VIA_FID, stats_nonfinite, "non-finite value at 2"},
    {"stats: sigma not symmetric", VIA_FID, stats_asymmetric, "'sigma' is not symmetric"},
    {"stats: count is not a number", VIA_FID, stats_bad_count, "metadata \"count\" is \"many\""},
    {"stats: dims disagree with mu", VIA_FID, stats_bad_dims, "metadata \"dims\" is \"2048\""},
    {"stats: JSON garbage", VIA_FID, stats_header_garbage, "malformed JSON header"},
    {"fid: a file of no accepted kind", VIA_FID, fid_unknown_kind,
     "not an IDX image file, a folder of PNGs, FID statistics or a gancl checkpoint"},
    {"fid-stats: an empty file", VIA_FID_STATS, fid_stats_empty, "not an IDX image file"},
    /* PNG, as the first image of a folder for fid-stats */
    {"png: cut short", VIA_FID_STATS, png_truncated, "truncated"},
    {"png: not a PNG", VIA_FID_STATS, png_not_png, "not a readable PNG"},
    {"png: 32768 x 32768 in a 68-byte file", VIA_FID_STATS, png_huge_ihdr, "cannot fit in a"},
    {"png: bad IHDR CRC", VIA_FID_STATS, png_bad_crc, "not a readable PNG"},
    {"png: a chunk claiming 2 GiB", VIA_FID_STATS, png_lying_chunk,
     "chunk \"sPLT\" at byte 33 claims 2113929216 bytes"},
};

#define N_CASES ((int)(sizeof cases / sizeof cases[0]))

START_TEST(bad_file)
{
    const bad_case *c = &cases[_i];
    make_base();
    case_arg[0] = case_shown[0] = 0;
    c->make();
    const char *arg = case_arg[0] ? case_arg : case_path;
    const char *out = in_dir("out.png"), *out_stats = in_dir("out-stats.safetensors");
    char err[8192];
    int code = -1;
    switch (c->via) {
    case VIA_TRAIN:
        code = run(GT_ARGS("--device", "cpu", "train", "--data", arg, "--steps", "1", "--batch",
                           "2", "--out", in_dir("never")),
                   err, sizeof err);
        break;
    case VIA_RESUME:
        code = run(GT_ARGS("--device", "cpu", "train", "--resume", arg, "--steps", "2"), err,
                   sizeof err);
        break;
    case VIA_SAMPLE:
        code =
            run(GT_ARGS("--device", "cpu", "sample", "--checkpoint", arg, "--n", "2", "--out", out),
                err, sizeof err);
        break;
    case VIA_FID:
        code = run(GT_ARGS("--device", "cpu", "fid", arg, good_stats), err, sizeof err);
        break;
    case VIA_FID_STATS:
        code =
            run(GT_ARGS("--device", "cpu", "fid-stats", arg, "--out", out_stats), err, sizeof err);
        break;
    }
    if (getenv("GANCL_TEST_VERBOSE")) printf("%-52s exit %d  %s", c->name, code, err);
    ck_assert_msg(code == 2, "%s: exit %d, expected 2; stderr:\n%s", c->name, code, err);
    size_t len = strlen(err);
    ck_assert_msg(len > 8 && err[len - 1] == '\n' && !memchr(err, '\n', len - 1),
                  "%s: stderr is not exactly one line:\n%s", c->name, err);
    char prefix[1300];
    snprintf(prefix, sizeof prefix, "gancl: %s: ", case_shown[0] ? case_shown : case_path);
    ck_assert_msg(!strncmp(err, prefix, strlen(prefix)),
                  "%s: the message does not start with '%s':\n%s", c->name, prefix, err);
    ck_assert_msg(!case_shown[0] || strstr(err, case_path), "%s: the message does not name %s:\n%s",
                  c->name, case_path, err);
    ck_assert_msg(strstr(err, c->want), "%s: the message does not say '%s':\n%s", c->name, c->want,
                  err);
    /* Nothing was written for a failed command. */
    ck_assert_msg(gt_file_size(dir, "out.png") < 0 &&
                      gt_file_size(dir, "out-stats.safetensors") < 0,
                  "%s: an output file was written", c->name);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bad_files");
    TCase *tc = tcase_create("bad_files");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, bad_file, 0, N_CASES);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

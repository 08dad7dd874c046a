/* src/io/dataset_cache.c - the decode cache: a data set as
 * gc_dataset_load_images made it, in one safetensors file, keyed by a
 * fingerprint of its sources and options so that a later run can skip
 * decoding when nothing changed.
 *
 * The fingerprint does not read the images: it hashes each candidate
 * file's path (relative to the folder), size and modification time, so a
 * fingerprint of a 200k-file folder costs one stat per file.  Files are
 * combined by adding their hashes (order-free, so readdir's order does
 * not matter, and two files cannot cancel as with XOR).
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gancl/dataset.h"
#include "gancl/io.h"
#include "gancl/models.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

#define CACHE_FORMAT "gancl-dataset-cache-1"

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv1a(h, s, strlen(s) + 1); /* the NUL separates fields */
}

/* One file's contribution: its name, size and mtime to the nanosecond. */
static uint64_t file_hash(const char *rel, const struct stat *st)
{
    uint64_t h = fnv_str(0xcbf29ce484222325ULL, rel);
    int64_t v[3] = {(int64_t)st->st_size, (int64_t)st->st_mtim.tv_sec,
                    (int64_t)st->st_mtim.tv_nsec};
    return fnv1a(h, v, sizeof v);
}

typedef struct fp_state {
    uint64_t sum;
    int64_t files;
} fp_state;

/* Every non-hidden file below root/rel, links to folders not followed:
 * a superset of what any layout reads, so that no change goes unseen. */
static gc_status walk(const char *root, const char *rel, fp_state *fp, int depth)
{
    char dir[8192], path[8192], sub[8192];
    if (snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof dir)
        return gc_error(GC_ERR_ARG, "%s/%s: path too long", root, rel);
    if (depth > 64) return gc_error(GC_ERR_FORMAT, "%s: folders nested more than 64 deep", dir);
    DIR *d = opendir(dir);
    if (!d) return gc_error(GC_ERR_IO, "%s: cannot open the folder", dir);
    gc_status s = GC_OK;
    struct dirent *e;
    while (s == GC_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                (int)sizeof sub) {
            s = gc_error(GC_ERR_ARG, "%s/%s: path too long", dir, e->d_name);
            break;
        }
        struct stat st;
        if (lstat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            s = walk(root, sub, fp, depth + 1);
            continue;
        }
        if (S_ISLNK(st.st_mode) && (stat(path, &st) != 0 || S_ISDIR(st.st_mode))) continue;
        fp->sum += file_hash(sub, &st);
        fp->files++;
    }
    closedir(d);
    return s;
}

gc_status gc_dataset_fingerprint(const char *path, const char *labels_path, gc_labels_mode mode,
                                 const gc_image_options *opt, uint64_t *key)
{
    gc_image_options o = opt ? *opt : gc_image_options_default();
    uint64_t h = fnv_str(0xcbf29ce484222325ULL, CACHE_FORMAT);
    int32_t v[5] = {o.channels, o.size, o.background, o.recursive, (int32_t)mode};
    h = fnv1a(h, v, sizeof v);
    fp_state fp = {0, 0};
    struct stat st;
    if (gc_fs_is_dir(path)) {
        GC_TRY(walk(path, "", &fp, 0));
    } else {
        char found[4096];
        const char *lp = labels_path;
        if (!lp && mode != GC_LABELS_NONE && gc_dataset_find_labels(path, found, sizeof found))
            lp = found;
        if (stat(path, &st) != 0) return gc_error(GC_ERR_IO, "%s: cannot read it", path);
        fp.sum += file_hash("images", &st);
        if (lp && mode != GC_LABELS_NONE) {
            if (stat(lp, &st) != 0) return gc_error(GC_ERR_IO, "%s: cannot read it", lp);
            fp.sum += file_hash(lp, &st); /* which file, too: --labels may name another */
        }
    }
    h = fnv1a(h, &fp.sum, sizeof fp.sum);
    h = fnv1a(h, &fp.files, sizeof fp.files);
    *key = h;
    return GC_OK;
}

gc_status gc_dataset_cache_write(const gc_dataset *ds, uint64_t key, const char *file)
{
    GC_ASSERT(ds->images && ds->n >= 1);
    char keyhex[17], classes[16];
    snprintf(keyhex, sizeof keyhex, "%016" PRIx64, key);
    snprintf(classes, sizeof classes, "%d", ds->classes);
    int nmeta = 5 + ds->classes;
    gc_st_kv *meta = calloc((size_t)nmeta, sizeof *meta);
    char(*names)[24] = calloc((size_t)(ds->classes ? ds->classes : 1), sizeof *names);
    if (!meta || !names) {
        free(meta);
        free(names);
        return gc_error(GC_ERR_NOMEM, "%s: out of memory", file);
    }
    meta[0] = (gc_st_kv){"format", CACHE_FORMAT};
    meta[1] = (gc_st_kv){"key", keyhex};
    meta[2] = (gc_st_kv){"classes", classes};
    meta[3] = (gc_st_kv){"images_path", ds->images_path};
    meta[4] = (gc_st_kv){"labels_path", ds->labels_path};
    for (int k = 0; k < ds->classes; k++) {
        snprintf(names[k], sizeof names[k], "class.%d", k);
        meta[5 + k] = (gc_st_kv){names[k], ds->class_names ? ds->class_names[k] : ""};
    }
    gc_st_tensor t[2];
    memset(t, 0, sizeof t);
    t[0] = (gc_st_tensor){.name = "images",
                          .dtype = GC_ST_U8,
                          .ndim = 4,
                          .shape = {ds->n, ds->c, ds->h, ds->w},
                          .data = ds->images};
    t[1] = (gc_st_tensor){
        .name = "labels", .dtype = GC_ST_I32, .ndim = 1, .shape = {ds->n}, .data = ds->labels};
    gc_status s = gc_st_write(file, t, ds->labels ? 2 : 1, meta, nmeta);
    free(meta);
    free(names);
    return s;
}

/* A miss with the reason in the debug log. */
static gc_status miss(int *hit, const char *file, const char *why)
{
    GC_DEBUG("%s: decode cache not used: %s", file, why);
    *hit = 0;
    return GC_OK;
}

gc_status gc_dataset_cache_read(const char *file, uint64_t key, gc_dataset *out, int *hit)
{
    memset(out, 0, sizeof *out);
    *hit = 0;
    if (!gc_fs_is_file(file)) return miss(hit, file, "no such file");
    gc_st_file *f;
    if (gc_st_load(file, 0, &f) != GC_OK) {
        GC_WARN("%s: unreadable decode cache, decoding again: %s", file, gc_last_error());
        return miss(hit, file, "unreadable");
    }
    char keyhex[17];
    snprintf(keyhex, sizeof keyhex, "%016" PRIx64, key);
    const char *fmt = gc_st_metadata(f, "format"), *k = gc_st_metadata(f, "key");
    const char *ncls = gc_st_metadata(f, "classes");
    const gc_st_tensor *im = gc_st_find(f, "images"), *lb = gc_st_find(f, "labels");
    const char *why = NULL;
    int classes = ncls ? atoi(ncls) : -1;
    if (!fmt || strcmp(fmt, CACHE_FORMAT))
        why = "another format";
    else if (!k || strcmp(k, keyhex))
        why = "made from other files or options";
    else if (!im || im->dtype != GC_ST_U8 || im->ndim != 4 || im->shape[0] < 1 ||
             (im->shape[1] != 1 && im->shape[1] != 3) || im->shape[2] < 1 || im->shape[3] < 1)
        why = "no usable images tensor";
    else if (classes < 0 || classes > GC_MAX_CLASSES || (classes > 0) != (lb != NULL))
        why = "bad class count";
    else if (lb && (lb->dtype != GC_ST_I32 || lb->ndim != 1 || lb->shape[0] != im->shape[0]))
        why = "labels do not match the images";
    if (why) {
        if (strcmp(why, "made from other files or options"))
            GC_WARN("%s: broken decode cache (%s), decoding again", file, why);
        gc_st_free(f);
        return miss(hit, file, why);
    }
    gc_status s = GC_OK;
    out->n = im->shape[0];
    out->c = (int)im->shape[1];
    out->h = (int)im->shape[2];
    out->w = (int)im->shape[3];
    if (!(out->images = malloc(im->nbytes))) s = gc_error(GC_ERR_NOMEM, "%s: out of memory", file);
    if (s == GC_OK) memcpy(out->images, im->data, im->nbytes);
    if (s == GC_OK && lb) {
        if (!(out->labels = malloc(lb->nbytes)))
            s = gc_error(GC_ERR_NOMEM, "%s: out of memory", file);
        else
            memcpy(out->labels, lb->data, lb->nbytes);
        for (int64_t i = 0; s == GC_OK && i < out->n; i++)
            if (out->labels[i] < 0 || out->labels[i] >= classes) {
                GC_WARN("%s: broken decode cache (label out of range), decoding again", file);
                gc_dataset_free(out);
                gc_st_free(f);
                return miss(hit, file, "label out of range");
            }
    }
    if (s == GC_OK && classes) {
        out->class_names = calloc((size_t)classes, sizeof *out->class_names);
        if (!out->class_names) s = gc_error(GC_ERR_NOMEM, "%s: out of memory", file);
        out->classes = classes;
        for (int c = 0; s == GC_OK && c < classes; c++) {
            char name[24];
            snprintf(name, sizeof name, "class.%d", c);
            const char *v = gc_st_metadata(f, name);
            char num[16];
            snprintf(num, sizeof num, "%d", c);
            if (!v) v = num;
            size_t len = strlen(v) + 1;
            if (!(out->class_names[c] = malloc(len)))
                s = gc_error(GC_ERR_NOMEM, "%s: out of memory", file);
            else
                memcpy(out->class_names[c], v, len);
        }
    }
    const char *ip = gc_st_metadata(f, "images_path"), *lp = gc_st_metadata(f, "labels_path");
    snprintf(out->images_path, sizeof out->images_path, "%s", ip ? ip : "");
    snprintf(out->labels_path, sizeof out->labels_path, "%s", lp ? lp : "");
    gc_st_free(f);
    if (s != GC_OK) {
        gc_dataset_free(out);
        return s;
    }
    *hit = 1;
    return GC_OK;
}

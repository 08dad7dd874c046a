/* src/io/dataset.c - loading a data set (IDX images with their labels
 * file, or a folder of PNGs with or without class sub-folders), and the
 * subsets and joins built from one.  Writing lives in dataset_write.c.
 *
 * Nothing a file says is trusted: label counts are checked against the
 * images, labels against GC_MAX_CLASSES, PNG sizes against the first
 * readable image, and image buffers grow only as decoded images arrive.
 * gc_dataset_load_images adds compositing, resizing, 3 channels and a
 * recursive folder walk on the same reading path.
 */
#include "gancl/dataset.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gancl/image.h"
#include "gancl/io.h"
#include "gancl/models.h"
#include "io/dataset_internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/philox.h"

/* ---- class names ------------------------------------------------------------ */

void gc_dataset_free_names(char **names, int k)
{
    if (!names) return;
    for (int i = 0; i < k; i++)
        free(names[i]);
    free(names);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

gc_status gc_dataset_copy_names(char *const *names, int k, char ***out)
{
    *out = NULL;
    if (k <= 0) return GC_OK;
    char **d = calloc((size_t)k, sizeof *d);
    if (!d) return gc_error(GC_ERR_NOMEM, "out of memory for %d class names", k);
    for (int i = 0; i < k; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        d[i] = dup_str(names && names[i] ? names[i] : num);
        if (!d[i]) {
            gc_dataset_free_names(d, i);
            return gc_error(GC_ERR_NOMEM, "out of memory for %d class names", k);
        }
    }
    *out = d;
    return GC_OK;
}

static void set_path(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void gc_dataset_free(gc_dataset *ds)
{
    if (!ds) return;
    free(ds->images);
    free(ds->labels);
    gc_dataset_free_names(ds->class_names, ds->classes);
    memset(ds, 0, sizeof *ds);
}

void gc_dataset_class_counts(const gc_dataset *ds, int64_t *counts)
{
    GC_ASSERT(ds->labels || ds->classes == 0);
    for (int k = 0; k < ds->classes; k++)
        counts[k] = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        GC_ASSERT(ds->labels[i] >= 0 && ds->labels[i] < ds->classes);
        counts[ds->labels[i]]++;
    }
}

gc_status gc_dataset_set_classes(gc_dataset *ds, int classes)
{
    GC_ASSERT(ds->labels && classes > 0);
    const char *where = ds->labels_path[0] ? ds->labels_path : ds->images_path;
    if (classes > GC_MAX_CLASSES)
        return gc_error(GC_ERR_ARG, "%s: %d classes, at most %d are supported", where, classes,
                        GC_MAX_CLASSES);
    for (int64_t i = 0; i < ds->n; i++)
        if (ds->labels[i] >= classes)
            return gc_error(GC_ERR_FORMAT,
                            "%s: label %d (image %lld) is not below %d, the number of classes",
                            where, (int)ds->labels[i], (long long)i, classes);
    if (classes <= ds->classes) {
        if (classes == ds->classes) return GC_OK;
        /* Fewer classes than the names say: drop the unused names. */
        for (int k = classes; k < ds->classes; k++)
            free(ds->class_names ? ds->class_names[k] : NULL);
        ds->classes = classes;
        return GC_OK;
    }
    char **names = NULL;
    GC_TRY(gc_dataset_copy_names(ds->class_names, ds->classes, &names));
    char **grown = realloc(names, sizeof *grown * (size_t)classes);
    if (!grown) {
        gc_dataset_free_names(names, ds->classes);
        return gc_error(GC_ERR_NOMEM, "out of memory for %d class names", classes);
    }
    for (int k = ds->classes; k < classes; k++) {
        char num[16];
        snprintf(num, sizeof num, "%d", k);
        grown[k] = dup_str(num);
        if (!grown[k]) {
            gc_dataset_free_names(grown, k);
            return gc_error(GC_ERR_NOMEM, "out of memory for %d class names", classes);
        }
    }
    gc_dataset_free_names(ds->class_names, ds->classes);
    ds->class_names = grown;
    ds->classes = classes;
    return GC_OK;
}

/* ---- IDX ------------------------------------------------------------------- */

/* The two candidate labels files beside images (with and without .gz, the
 * images' own form first); 0 when the name has no "images-idx3". */
static int labels_candidates(const char *images, char cand[2][4096])
{
    static const char *const from[2] = {"images-idx3", "images.idx3"};
    static const char *const to[2] = {"labels-idx1", "labels.idx1"};
    const char *slash = strrchr(images, '/');
    const char *base = slash ? slash + 1 : images;
    size_t len = strlen(images);
    if (len + 4 >= sizeof cand[0]) return 0;
    for (int v = 0; v < 2; v++) {
        const char *hit = NULL;
        for (const char *p = strstr(base, from[v]); p; p = strstr(p + 1, from[v]))
            hit = p; /* the last one: "images-idx3" in a folder name stays */
        if (!hit) continue;
        memcpy(cand[0], images, len + 1);
        memcpy(cand[0] + (hit - images), to[v], strlen(to[v]));
        memcpy(cand[1], cand[0], len + 1);
        if (len > 3 && !strcmp(cand[0] + len - 3, ".gz"))
            cand[1][len - 3] = '\0';
        else
            memcpy(cand[1] + len, ".gz", 4);
        return 2;
    }
    return 0;
}

int gc_dataset_find_labels(const char *images_path, char *out, size_t n)
{
    char cand[2][4096];
    int k = labels_candidates(images_path, cand);
    for (int i = 0; i < k; i++) {
        if (gc_fs_is_file(cand[i]) && strlen(cand[i]) < n) {
            memcpy(out, cand[i], strlen(cand[i]) + 1);
            return 1;
        }
    }
    return 0;
}

static gc_status no_labels_error(const char *images)
{
    char cand[2][4096];
    if (!labels_candidates(images, cand))
        return gc_error(GC_ERR_ARG,
                        "%s: no labels: the name has no \"images-idx3\" to find a labels file "
                        "beside it; pass --labels FILE",
                        images);
    return gc_error(GC_ERR_ARG, "%s: no labels: looked for %s and %s; pass --labels FILE", images,
                    cand[0], cand[1]);
}

static gc_status load_idx(const char *path, const char *labels_path, gc_labels_mode mode,
                          gc_dataset *out)
{
    gc_idx im;
    GC_TRY(gc_idx_read(path, GC_IDX_IMAGES, &im));
    out->images = im.data;
    out->n = im.n;
    out->c = 1;
    out->h = (int)im.h;
    out->w = (int)im.w;
    if (mode == GC_LABELS_NONE) return GC_OK;
    char found[4096];
    const char *lp = labels_path;
    if (!lp && gc_dataset_find_labels(path, found, sizeof found)) lp = found;
    if (!lp) return mode == GC_LABELS_REQUIRED ? no_labels_error(path) : GC_OK;
    if (strlen(lp) >= sizeof out->labels_path) return gc_error(GC_ERR_ARG, "%s: path too long", lp);
    gc_idx lb;
    GC_TRY(gc_idx_read(lp, GC_IDX_LABELS, &lb));
    gc_status s = GC_OK;
    if (lb.n != im.n)
        s = gc_error(GC_ERR_FORMAT, "%s: %lld labels for %lld images in %s", lp, (long long)lb.n,
                     (long long)im.n, path);
    int top = -1;
    for (int64_t i = 0; i < lb.n && s == GC_OK; i++)
        if (lb.data[i] > top) top = lb.data[i];
    /* Bytes stop at 255, under GC_MAX_CLASSES; checked all the same should
     * either change. */
    if (s == GC_OK && top >= GC_MAX_CLASSES)
        s = gc_error(GC_ERR_FORMAT, "%s: label %d is above %d (at most %d classes)", lp, top,
                     GC_MAX_CLASSES - 1, GC_MAX_CLASSES);
    if (s == GC_OK && !(out->labels = malloc(sizeof(int32_t) * (size_t)lb.n)))
        s = gc_error(GC_ERR_NOMEM, "%s: out of memory for %lld labels", lp, (long long)lb.n);
    if (s == GC_OK) {
        for (int64_t i = 0; i < lb.n; i++)
            out->labels[i] = lb.data[i];
        out->classes = top + 1;
        set_path(out->labels_path, sizeof out->labels_path, lp);
        s = gc_dataset_copy_names(NULL, out->classes, &out->class_names);
    }
    gc_idx_free(&lb);
    return s;
}

/* ---- PNG folders ------------------------------------------------------------- */

typedef struct name_list {
    char **v;
    int n, cap;
} name_list;

static void names_free(name_list *l)
{
    gc_dataset_free_names(l->v, l->n);
    memset(l, 0, sizeof *l);
}

static gc_status names_add(name_list *l, const char *s)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, sizeof *v * (size_t)cap);
        if (!v) return gc_error(GC_ERR_NOMEM, "out of memory listing files");
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = dup_str(s))) return gc_error(GC_ERR_NOMEM, "out of memory listing files");
    l->n++;
    return GC_OK;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && !strcmp(s + n - t, tail);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int all_digits(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

/* Class folders: names of digits by value ("2" before "10", so that the
 * folders "0".."K-1" of an export keep their labels), the rest by bytes
 * after them. */
int gc_dataset_cmp_class(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    int dx = all_digits(x), dy = all_digits(y);
    if (dx != dy) return dx ? -1 : 1;
    if (dx) {
        while (*x == '0' && x[1])
            x++;
        while (*y == '0' && y[1])
            y++;
        size_t lx = strlen(x), ly = strlen(y);
        if (lx != ly) return lx < ly ? -1 : 1;
        int c = strcmp(x, y);
        if (c) return c;
    }
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .png files (sorted) and sub-folders of dir; hidden entries skipped. */
static gc_status list_dir(const char *dir, name_list *pngs, name_list *subdirs)
{
    DIR *d = opendir(dir);
    if (!d) return gc_error(GC_ERR_IO, "%s: cannot open the folder", dir);
    gc_status s = GC_OK;
    struct dirent *e;
    char path[8192];
    while (s == GC_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (ends_with(e->d_name, ".png")) {
            s = names_add(pngs, e->d_name);
        } else if (subdirs) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (gc_fs_is_dir(path)) s = names_add(subdirs, e->d_name);
        }
    }
    closedir(d);
    if (s == GC_OK && pngs->n) qsort(pngs->v, (size_t)pngs->n, sizeof(char *), cmp_str);
    return s;
}

/* Every .png below root/rel (rel "" at the top), as paths relative to root,
 * sorted once at the top.  Hidden entries are skipped, and links to
 * folders are not followed, so a link loop cannot make the walk endless;
 * the depth cap is for the rest (bind mounts, absurd trees). */
#define TREE_MAX_DEPTH 64
static gc_status list_tree(const char *root, const char *rel, name_list *pngs, int depth)
{
    char dir[8192], path[8192], sub[8192];
    if (snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof dir)
        return gc_error(GC_ERR_ARG, "%s/%s: path too long", root, rel);
    if (depth > TREE_MAX_DEPTH)
        return gc_error(GC_ERR_FORMAT, "%s: folders nested more than %d deep", dir, TREE_MAX_DEPTH);
    DIR *d = opendir(dir);
    if (!d) return gc_error(GC_ERR_IO, "%s: cannot open the folder", dir);
    gc_status s = GC_OK;
    struct dirent *e;
    while (s == GC_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
                (int)sizeof sub) {
            s = gc_error(GC_ERR_ARG, "%s/%s: path too long", dir, e->d_name);
            break;
        }
        if (lstat(path, &st) != 0) continue; /* vanished meanwhile */
        if (S_ISDIR(st.st_mode))
            s = list_tree(root, sub, pngs, depth + 1);
        else if (ends_with(e->d_name, ".png") &&
                 (S_ISREG(st.st_mode) || (S_ISLNK(st.st_mode) && gc_fs_is_file(path))))
            s = names_add(pngs, sub); /* not a FIFO, which would block the read */
    }
    closedir(d);
    if (s == GC_OK && depth == 0 && pngs->n)
        qsort(pngs->v, (size_t)pngs->n, sizeof(char *), cmp_str);
    return s;
}

/* Reading state: images appended one at a time, the first size fixed. */
typedef struct png_reader {
    const char *root;
    const gc_image_options *opt; /* NULL: gc_dataset_load's gray, alpha dropped, own size */
    gc_dataset *ds;
    int64_t done, total; /* files tried, files found (for opt->progress) */
    int64_t cap;
    int32_t *labels;
    int64_t label_cap;
    int bad;
    char shown[3][256];
    char first_err[512];
    char first_file[4096];
} png_reader;

/* Decodes one file as r->opt asks.  Any failure skips the file, as
 * gc_dataset_load always has (a file too big to decode is as unusable as a
 * corrupt one, and the warning says which). */
static gc_status decode(const png_reader *r, const char *path, gc_image *img)
{
    const gc_image_options *opt = r->opt;
    if (!opt) return gc_png_read(path, 1, img);
    GC_TRY(gc_png_read_over(path, opt->channels, opt->background, img));
    if (!opt->size || (img->w == opt->size && img->h == opt->size)) return GC_OK;
    gc_image small;
    gc_status s = gc_image_resize_crop(img, opt->size, &small);
    gc_image_free(img);
    if (s != GC_OK) return gc_error_prefix(s, "%s", path);
    *img = small;
    return GC_OK;
}

static gc_status read_one(png_reader *r, const char *path, int label)
{
    gc_dataset *ds = r->ds;
    gc_image img;
    gc_status got = decode(r, path, &img);
    r->done++;
    if (r->opt && r->opt->progress) r->opt->progress(r->opt->progress_user, r->done, r->total);
    if (got != GC_OK) {
        if (!r->bad) snprintf(r->first_err, sizeof r->first_err, "%s", gc_last_error());
        if (r->bad < 3) /* shortened names are fine in a warning */
            snprintf(r->shown[r->bad], sizeof r->shown[0], "%.*s", (int)sizeof r->shown[0] - 1,
                     path);
        r->bad++;
        return GC_OK;
    }
    gc_status s = GC_OK;
    if (!ds->n && !ds->h) {
        ds->h = img.h;
        ds->w = img.w;
        snprintf(r->first_file, sizeof r->first_file, "%.*s", (int)sizeof r->first_file - 1, path);
    } else if (img.w != ds->w || img.h != ds->h) {
        s = gc_error(GC_ERR_FORMAT,
                     "%s is %dx%d, but %s is %dx%d: the images of a data set must have one size",
                     path, img.w, img.h, r->first_file, ds->w, ds->h);
    }
    int64_t plane = (int64_t)ds->h * ds->w, per = plane * img.c;
    if (s == GC_OK && ds->n == r->cap) {
        int64_t cap = r->cap ? 2 * r->cap : 256;
        uint8_t *p = realloc(ds->images, (size_t)(cap * per));
        if (!p)
            s = gc_error(GC_ERR_NOMEM, "%s: out of memory for %lld images", r->root,
                         (long long)cap);
        else
            ds->images = p, r->cap = cap;
    }
    if (s == GC_OK && label >= 0 && ds->n == r->label_cap) {
        int64_t cap = r->label_cap ? 2 * r->label_cap : 256;
        int32_t *p = realloc(ds->labels, sizeof *p * (size_t)cap);
        if (!p)
            s = gc_error(GC_ERR_NOMEM, "%s: out of memory for %lld labels", r->root,
                         (long long)cap);
        else
            ds->labels = p, r->label_cap = cap;
    }
    if (s == GC_OK) {
        /* interleaved (HWC) to the data set's planes (CHW) */
        uint8_t *dst = ds->images + ds->n * per;
        if (img.c == 1)
            memcpy(dst, img.data, (size_t)plane);
        else
            for (int64_t i = 0; i < plane; i++)
                for (int k = 0; k < img.c; k++)
                    dst[k * plane + i] = img.data[i * img.c + k];
        if (label >= 0) ds->labels[ds->n] = label;
        ds->n++;
    }
    gc_image_free(&img);
    return s;
}

static gc_status read_files(png_reader *r, const char *dir, const name_list *files, int label)
{
    char path[8192];
    for (int i = 0; i < files->n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files->v[i]);
        GC_TRY(read_one(r, path, label));
    }
    return GC_OK;
}

static void warn_skipped(const png_reader *r)
{
    size_t root = strlen(r->root) + 1;
    char names[1024] = "";
    for (int k = 0; k < r->bad && k < 3; k++) {
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", k ? ", " : "", r->shown[k] + root);
    }
    GC_WARN("%s: skipped %d unreadable .png file%s (%s%s; first: %s); using the other %lld",
            r->root, r->bad, r->bad > 1 ? "s" : "", names, r->bad > 3 ? ", ..." : "", r->first_err,
            (long long)r->ds->n);
}

static gc_status load_png_folder(const char *dir, gc_labels_mode mode, const gc_image_options *opt,
                                 gc_dataset *out)
{
    name_list loose = {0}, subdirs = {0}, *classes = NULL;
    int nclasses = 0, with_png = 0, recursive = opt && opt->recursive;
    char sub[8192];
    gc_status s;
    /* Unlabelled and recursive: every .png below is an image, whatever
     * the layout; there are no classes to get wrong. */
    if (recursive && mode == GC_LABELS_NONE)
        s = list_tree(dir, "", &loose, 0);
    else
        s = list_dir(dir, &loose, &subdirs);
    if (s == GC_OK && subdirs.n) {
        qsort(subdirs.v, (size_t)subdirs.n, sizeof(char *), gc_dataset_cmp_class);
        if (!(classes = calloc((size_t)subdirs.n, sizeof *classes)))
            s = gc_error(GC_ERR_NOMEM, "%s: out of memory", dir);
        for (int k = 0; k < subdirs.n && s == GC_OK; k++) {
            snprintf(sub, sizeof sub, "%s/%s", dir, subdirs.v[k]);
            s = recursive ? list_tree(sub, "", &classes[k], 0) : list_dir(sub, &classes[k], NULL);
            with_png += classes[k].n > 0;
        }
        if (s == GC_OK && with_png) nclasses = subdirs.n;
    }
    /* Sub-folders without any PNG anywhere are not a class layout. */
    if (s == GC_OK && nclasses && loose.n)
        s = gc_error(GC_ERR_FORMAT,
                     "%s: has both loose .png files (%s) and class sub-folders (%s/): put every "
                     "image in a class sub-folder, or none",
                     dir, loose.v[0], subdirs.v[0]);
    if (s == GC_OK && nclasses > GC_MAX_CLASSES)
        s = gc_error(GC_ERR_FORMAT, "%s: %d class sub-folders, at most %d classes are supported",
                     dir, nclasses, GC_MAX_CLASSES);
    if (s == GC_OK && !nclasses && !loose.n)
        s = gc_error(GC_ERR_ARG, "%s: no .png images in the folder or its sub-folders", dir);
    if (s == GC_OK && !nclasses && mode == GC_LABELS_REQUIRED)
        s = gc_error(GC_ERR_ARG,
                     "%s: no labels: its .png files are not in class sub-folders (one sub-folder "
                     "per class, named after it)",
                     dir);
    png_reader r = {.root = dir, .opt = opt, .ds = out, .total = loose.n};
    for (int k = 0; k < nclasses; k++)
        r.total += classes[k].n;
    if (s == GC_OK && !nclasses) s = read_files(&r, dir, &loose, -1);
    int labelled = nclasses && mode != GC_LABELS_NONE;
    for (int k = 0; k < nclasses && s == GC_OK; k++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, subdirs.v[k]);
        if (!classes[k].n) GC_WARN("%s: a class folder without .png images", sub);
        s = read_files(&r, sub, &classes[k], labelled ? k : -1);
    }
    if (s == GC_OK && !out->n)
        s = gc_error(GC_ERR_FORMAT, "%s: none of its %d .png files is a readable image (%s)", dir,
                     r.bad, r.first_err);
    if (s == GC_OK && r.bad) warn_skipped(&r);
    if (s == GC_OK) {
        out->c = opt ? opt->channels : 1;
        if (labelled) {
            out->classes = nclasses;
            s = gc_dataset_copy_names(subdirs.v, nclasses, &out->class_names);
            if (s != GC_OK) out->classes = 0;
        }
    }
    for (int k = 0; k < subdirs.n && classes; k++)
        names_free(&classes[k]);
    free(classes);
    names_free(&loose);
    names_free(&subdirs);
    return s;
}

/* channels 0: a folder decoded as RGB whose every pixel is gray becomes
 * one plane (R = G = B = the luma channels 1 would have decoded). */
static gc_status drop_gray_planes(gc_dataset *ds)
{
    size_t plane = (size_t)ds->h * (size_t)ds->w;
    for (int64_t i = 0; i < ds->n; i++) {
        const uint8_t *p = ds->images + (size_t)i * 3 * plane;
        for (size_t k = 0; k < plane; k++)
            if (p[k] != p[plane + k] || p[k] != p[2 * plane + k]) return GC_OK;
    }
    for (int64_t i = 0; i < ds->n; i++)
        memmove(ds->images + (size_t)i * plane, ds->images + (size_t)i * 3 * plane, plane);
    uint8_t *smaller = realloc(ds->images, plane * (size_t)(ds->n ? ds->n : 1));
    if (smaller) ds->images = smaller;
    ds->c = 1;
    return GC_OK;
}

/* IDX images (1 plane, their own size) made into opt's channels and size. */
static gc_status convert_idx(gc_dataset *ds, const gc_image_options *opt)
{
    int c = opt->channels ? opt->channels : 1, size = opt->size;
    int oh = size ? size : ds->h, ow = size ? size : ds->w;
    if (c == 1 && oh == ds->h && ow == ds->w) return GC_OK;
    size_t in_plane = (size_t)ds->h * (size_t)ds->w, plane = (size_t)oh * (size_t)ow;
    uint8_t *dst = malloc(plane * (size_t)c * (size_t)(ds->n ? ds->n : 1));
    if (!dst)
        return gc_error(GC_ERR_NOMEM, "%s: out of memory for %lld images of %dx%dx%d",
                        ds->images_path, (long long)ds->n, c, oh, ow);
    for (int64_t i = 0; i < ds->n; i++) {
        const uint8_t *src = ds->images + (size_t)i * in_plane;
        uint8_t *o = dst + (size_t)i * plane * (size_t)c;
        if (oh == ds->h && ow == ds->w) {
            memcpy(o, src, in_plane);
        } else {
            gc_image in = {(uint8_t *)src, ds->w, ds->h, 1}, small;
            gc_status s = gc_image_resize_crop(&in, size, &small);
            if (s != GC_OK) {
                free(dst);
                return s;
            }
            memcpy(o, small.data, plane);
            gc_image_free(&small);
        }
        for (int k = 1; k < c; k++) /* gray replicated, as PIL's convert("RGB") */
            memcpy(o + (size_t)k * plane, o, plane);
    }
    free(ds->images);
    ds->images = dst;
    ds->c = c;
    ds->h = oh;
    ds->w = ow;
    return GC_OK;
}

gc_image_options gc_image_options_default(void)
{
    return (gc_image_options){.channels = 1, .size = 0, .background = GC_PNG_WHITE};
}

static gc_status load_any(const char *path, const char *labels_path, gc_labels_mode mode,
                          const gc_image_options *opt, gc_dataset *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(path) >= sizeof out->images_path)
        return gc_error(GC_ERR_ARG, "%s: path too long", path);
    gc_status s;
    if (gc_fs_is_dir(path)) {
        if (labels_path && mode != GC_LABELS_NONE)
            return gc_error(GC_ERR_ARG,
                            "%s: a folder of PNGs takes its labels from its class sub-folders, "
                            "not from %s",
                            path, labels_path);
        gc_image_options rgb;
        if (opt && !opt->channels) rgb = *opt, rgb.channels = 3, opt = &rgb;
        s = load_png_folder(path, mode, opt, out);
        if (s == GC_OK && opt == &rgb) s = drop_gray_planes(out);
    } else {
        s = load_idx(path, labels_path, mode, out);
        if (s == GC_OK && opt) {
            set_path(out->images_path, sizeof out->images_path, path);
            s = convert_idx(out, opt);
        }
    }
    if (s != GC_OK) {
        gc_dataset_free(out);
        return s;
    }
    set_path(out->images_path, sizeof out->images_path, path);
    return GC_OK;
}

gc_status gc_dataset_load(const char *path, const char *labels_path, gc_labels_mode mode,
                          gc_dataset *out)
{
    return load_any(path, labels_path, mode, NULL, out);
}

gc_status gc_dataset_load_images(const char *path, const char *labels_path, gc_labels_mode mode,
                                 const gc_image_options *opt, gc_dataset *out)
{
    gc_image_options o = opt ? *opt : gc_image_options_default();
    memset(out, 0, sizeof *out);
    if (o.channels != 0 && o.channels != 1 && o.channels != 3)
        return gc_error(GC_ERR_ARG, "%s: images can have 1 or 3 channels, not %d", path,
                        o.channels);
    if (o.size < 0 || o.size > 16384)
        return gc_error(GC_ERR_ARG, "%s: cannot resize images to %d pixels", path, o.size);
    if (o.background < 0 || o.background > 255)
        return gc_error(GC_ERR_ARG, "%s: background %d is not in 0..255", path, o.background);
    return load_any(path, labels_path, mode, &o, out);
}

/* ---- subsets and joins ------------------------------------------------------- */

/* Everything of ds but the images and labels: sizes, classes, names, paths. */
static gc_status copy_header(const gc_dataset *ds, int64_t n, gc_dataset *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    out->c = ds->c;
    out->h = ds->h;
    out->w = ds->w;
    set_path(out->images_path, sizeof out->images_path, ds->images_path);
    set_path(out->labels_path, sizeof out->labels_path, ds->labels_path);
    size_t bytes = (size_t)(n * ds->c * ds->h * ds->w);
    out->images = malloc(bytes ? bytes : 1);
    if (ds->labels) out->labels = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    if (!out->images || (ds->labels && !out->labels)) {
        gc_dataset_free(out);
        return gc_error(GC_ERR_NOMEM, "out of memory for %lld images", (long long)n);
    }
    if (ds->labels) {
        gc_status s = gc_dataset_copy_names(ds->class_names, ds->classes, &out->class_names);
        if (s != GC_OK) {
            gc_dataset_free(out);
            return s;
        }
        out->classes = ds->classes;
    }
    return GC_OK;
}

/* A uniform integer in [0, bound) from the next Philox counter. */
static uint64_t philox_below(uint64_t seed, uint64_t *counter, uint64_t bound)
{
    uint32_t w[4];
    gc_philox4x32_10(seed, (*counter)++, w);
    /* 64 random bits: the modulo bias for bounds below 2^40 is under 2^-24. */
    return ((uint64_t)w[0] << 32 | w[1]) % bound;
}

gc_status gc_dataset_stratified(const gc_dataset *ds, int64_t per_class, uint64_t seed,
                                gc_dataset *out)
{
    memset(out, 0, sizeof *out);
    if (!ds->labels)
        return gc_error(GC_ERR_ARG, "%s: a stratified subset needs labels", ds->images_path);
    if (per_class < 1)
        return gc_error(GC_ERR_ARG,
                        "a stratified subset needs at least 1 image per class, not %lld",
                        (long long)per_class);
    int K = ds->classes;
    int64_t *start = calloc((size_t)K + 1, sizeof *start);
    int64_t *order = malloc(sizeof *order * (size_t)(ds->n ? ds->n : 1));
    uint8_t *keep = calloc((size_t)(ds->n ? ds->n : 1), 1);
    gc_status s = GC_OK;
    if (!start || !order || !keep) s = gc_error(GC_ERR_NOMEM, "out of memory for a subset");
    int64_t total = 0;
    if (s == GC_OK) {
        /* Counting sort: order[start[k] .. start[k+1]) are class k's images. */
        for (int64_t i = 0; i < ds->n; i++)
            start[ds->labels[i] + 1]++;
        for (int k = 0; k < K; k++)
            start[k + 1] += start[k];
        int64_t *fill = malloc(sizeof *fill * (size_t)(K ? K : 1));
        if (!fill) {
            s = gc_error(GC_ERR_NOMEM, "out of memory for a subset");
        } else {
            memcpy(fill, start, sizeof *fill * (size_t)K);
            for (int64_t i = 0; i < ds->n; i++)
                order[fill[ds->labels[i]]++] = i;
            free(fill);
        }
    }
    uint64_t counter = 0;
    for (int k = 0; k < K && s == GC_OK; k++) {
        int64_t *v = order + start[k], m = start[k + 1] - start[k];
        int64_t take = m < per_class ? m : per_class;
        /* The first `take` steps of a Fisher-Yates shuffle of the class. */
        for (int64_t j = 0; j < take; j++) {
            int64_t r = j + (int64_t)philox_below(seed, &counter, (uint64_t)(m - j));
            int64_t t = v[j];
            v[j] = v[r];
            v[r] = t;
            keep[v[j]] = 1;
        }
        total += take;
    }
    if (s == GC_OK) s = copy_header(ds, total, out);
    if (s == GC_OK) {
        size_t per = (size_t)ds->c * ds->h * ds->w;
        int64_t o = 0;
        for (int64_t i = 0; i < ds->n; i++) {
            if (!keep[i]) continue;
            memcpy(out->images + o * (int64_t)per, ds->images + i * (int64_t)per, per);
            out->labels[o++] = ds->labels[i];
        }
    }
    free(start);
    free(order);
    free(keep);
    return s;
}

gc_status gc_dataset_concat(const gc_dataset *a, const gc_dataset *b, gc_dataset *out)
{
    memset(out, 0, sizeof *out);
    if (a->c != b->c || a->h != b->h || a->w != b->w)
        return gc_error(GC_ERR_ARG, "cannot join %s (%dx%dx%d) and %s (%dx%dx%d): sizes differ",
                        a->images_path, a->c, a->h, a->w, b->images_path, b->c, b->h, b->w);
    if (!a->labels != !b->labels)
        return gc_error(GC_ERR_ARG, "cannot join %s (%s) and %s (%s): one has no labels",
                        a->images_path, a->labels ? "labelled" : "unlabelled", b->images_path,
                        b->labels ? "labelled" : "unlabelled");
    if (a->labels && a->classes != b->classes)
        return gc_error(GC_ERR_ARG, "cannot join %s (%d classes) and %s (%d classes)",
                        a->images_path, a->classes, b->images_path, b->classes);
    GC_TRY(copy_header(a, a->n + b->n, out));
    size_t per = (size_t)a->c * a->h * a->w;
    if (a->n) memcpy(out->images, a->images, per * (size_t)a->n);
    if (b->n) memcpy(out->images + per * (size_t)a->n, b->images, per * (size_t)b->n);
    if (a->labels) {
        if (a->n) memcpy(out->labels, a->labels, sizeof(int32_t) * (size_t)a->n);
        if (b->n) memcpy(out->labels + a->n, b->labels, sizeof(int32_t) * (size_t)b->n);
    }
    snprintf(out->images_path, sizeof out->images_path, "%.2040s + %.2040s", a->images_path,
             b->images_path);
    out->labels_path[0] = '\0';
    return GC_OK;
}

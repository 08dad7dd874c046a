/* src/io/dataset_write.c - writing a data set as a pair of IDX files or as
 * a folder of PNGs with one sub-folder per class, in the layouts that
 * gc_dataset_load reads back (dataset.c). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/dataset.h"
#include "gancl/io.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "io/dataset_internal.h"

/* mkdir -p of the folder part of path ("" and "/" need nothing). */
static gc_status make_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return GC_OK;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return gc_error(GC_ERR_ARG, "%s: path too long", path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    return gc_fs_mkdirs(dir);
}

gc_status gc_dataset_write_idx(const gc_dataset *ds, const char *prefix, int gzip)
{
    if (ds->c != 1)
        return gc_error(GC_ERR_ARG, "%s: IDX files hold 1-channel images, not %d channels", prefix,
                        ds->c);
    if (ds->n < 1) return gc_error(GC_ERR_ARG, "%s: no images to write", prefix);
    if (ds->labels && ds->classes > 256)
        return gc_error(GC_ERR_ARG, "%s: %d classes do not fit an IDX labels file (bytes)", prefix,
                        ds->classes);
    const char *gz = gzip ? ".gz" : "";
    char images[4096], labels[4096];
    if ((size_t)snprintf(images, sizeof images, "%s-images-idx3-ubyte%s", prefix, gz) >=
            sizeof images ||
        (size_t)snprintf(labels, sizeof labels, "%s-labels-idx1-ubyte%s", prefix, gz) >=
            sizeof labels)
        return gc_error(GC_ERR_ARG, "%s: path too long", prefix);
    GC_TRY(make_parent(images));
    gc_idx im = {.kind = GC_IDX_IMAGES, .data = ds->images, .n = ds->n, .h = ds->h, .w = ds->w};
    GC_TRY(gc_idx_write(images, &im, gzip));
    if (!ds->labels) return GC_OK;
    uint8_t *bytes = malloc((size_t)ds->n);
    if (!bytes) return gc_error(GC_ERR_NOMEM, "%s: out of memory for the labels", labels);
    for (int64_t i = 0; i < ds->n; i++) {
        GC_ASSERT(ds->labels[i] >= 0 && ds->labels[i] < ds->classes);
        bytes[i] = (uint8_t)ds->labels[i];
    }
    gc_idx lb = {.kind = GC_IDX_LABELS, .data = bytes, .n = ds->n, .h = 1, .w = 1};
    gc_status s = gc_idx_write(labels, &lb, gzip);
    free(bytes);
    return s;
}

/* A class name must be one visible path component, as the reader sees it. */
static gc_status check_class_name(const char *dir, int k, const char *name)
{
    if (!*name || name[0] == '.' || strchr(name, '/') || strlen(name) > 255)
        return gc_error(GC_ERR_ARG,
                        "%s: class %d's name \"%s\" cannot be a folder name (empty, hidden, "
                        "with '/' or over 255 bytes)",
                        dir, k, name);
    return GC_OK;
}

gc_status gc_dataset_write_png_folders(const gc_dataset *ds, const char *dir)
{
    if (ds->c != 1 && ds->c != 3)
        return gc_error(GC_ERR_ARG, "%s: PNG files hold 1 or 3 channels, not %d", dir, ds->c);
    size_t dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    if (dlen + 300 >= 4096) return gc_error(GC_ERR_ARG, "%s: path too long", dir);
    char root[4096];
    memcpy(root, dir, dlen);
    root[dlen] = '\0';
    /* Files left from an earlier, larger set would join this one unseen. */
    if (gc_fs_is_dir(root) && gc_fs_has_entries(root))
        return gc_error(GC_ERR_ARG,
                        "%s: the folder is not empty; write a data set into a new or "
                        "empty folder",
                        root);
    int K = ds->labels ? ds->classes : 0;
    char *const *names = ds->class_names;
    for (int k = 0; k < K && names; k++) {
        GC_TRY(check_class_name(root, k, names[k]));
        for (int j = 0; j < k; j++)
            if (!strcmp(names[j], names[k]))
                return gc_error(GC_ERR_ARG, "%s: classes %d and %d are both named \"%s\"", root, j,
                                k, names[k]);
    }
    for (int k = 1; k < K && names; k++)
        if (gc_dataset_cmp_class(&names[k - 1], &names[k]) > 0) {
            GC_WARN("%s: the class names do not sort in class order (\"%s\" before \"%s\"): "
                    "read back, the folders get other labels",
                    root, names[k], names[k - 1]);
            break;
        }
    GC_TRY(gc_fs_mkdirs(root));
    int64_t *next = calloc((size_t)(K ? K : 1), sizeof *next);
    if (!next) return gc_error(GC_ERR_NOMEM, "out of memory");
    /* Zero-padded names sort in index order; wider when a class needs it. */
    int width = 6;
    for (int64_t m = 1000000; m < ds->n; m *= 10)
        width++;
    char path[8192];
    gc_status s = GC_OK;
    for (int k = 0; k < K && s == GC_OK; k++) {
        char num[16];
        snprintf(num, sizeof num, "%d", k);
        snprintf(path, sizeof path, "%s/%s", root, ds->class_names ? ds->class_names[k] : num);
        s = gc_fs_mkdirs(path);
    }
    int64_t per = (int64_t)ds->h * ds->w;
    for (int64_t i = 0; i < ds->n && s == GC_OK; i++) {
        const uint8_t *img = ds->images + i * per * ds->c;
        int len;
        if (K) {
            int k = ds->labels[i];
            GC_ASSERT(k >= 0 && k < K);
            char num[16];
            snprintf(num, sizeof num, "%d", k);
            len = snprintf(path, sizeof path, "%s/%s/%0*lld.png", root,
                           ds->class_names ? ds->class_names[k] : num, width, (long long)next[k]++);
        } else {
            len = snprintf(path, sizeof path, "%s/%0*lld.png", root, width, (long long)i);
        }
        if (len < 0 || (size_t)len >= sizeof path) {
            s = gc_error(GC_ERR_ARG, "%s: path too long", root);
            break;
        }
        s = gc_png_write_planes(path, img, ds->c, ds->w, ds->h);
    }
    free(next);
    return s;
}

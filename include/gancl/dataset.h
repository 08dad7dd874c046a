/* gancl/dataset.h - a training set in host memory: 8-bit images and,
 * optionally, their class labels, from an IDX file or a folder of PNGs.
 *
 *   IDX         path is an images file (idx3-ubyte, raw or .gz).  Labels
 *               come from labels_path, or from the file beside it whose
 *               name has "labels-idx1" for "images-idx3"
 *               (train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz,
 *               with or without .gz).  Classes: 0 .. the largest label.
 *               Names with "images.idx3" work the same way.
 *   PNG folder  path is a folder.  Its .png files are the images
 *               (unlabelled), or, when it has sub-folders holding .png
 *               files, each sub-folder is a class: classes are the
 *               sub-folder names in sorted order, labels 0, 1, ...
 *               (names of digits sort by value, before the others, so
 *               "2" comes before "10"; a class folder without images is
 *               still a class, with a warning; hidden entries are
 *               skipped).  Loose .png files beside class sub-folders are
 *               an error; sub-folders when none holds a .png are ignored.
 *               Within a folder files are read in name order.
 *               All images must have one size; corrupt files are skipped
 *               with one warning (their count and first names).
 *
 *     gc_dataset ds;
 *     if (gc_dataset_load("train-images-idx3-ubyte.gz", NULL, GC_LABELS_REQUIRED, &ds))
 *         fprintf(stderr, "gancl: %s\n", gc_last_error());
 *     ... ds.images[i * ds.c * ds.h * ds.w ...], ds.labels[i] in [0, ds.classes)
 *     gc_dataset_free(&ds);
 *
 * Labels that disagree with the images are an error naming the file: a
 * different count, a label at or above `classes` when the caller fixes
 * the class count (gc_dataset_set_classes), more than GC_MAX_CLASSES
 * classes.
 */
#ifndef GANCL_DATASET_H
#define GANCL_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum gc_labels_mode {
    GC_LABELS_NONE,     /* images only; labels stay NULL */
    GC_LABELS_IF_ANY,   /* labels when there are some (a labels file, sub-folders) */
    GC_LABELS_REQUIRED, /* GC_ERR_ARG (naming what was looked for) when there are none */
} gc_labels_mode;

typedef struct gc_dataset {
    uint8_t *images; /* n x c x h x w bytes (planar per image), malloc'ed */
    int64_t n;
    int c, h, w;
    int32_t *labels;    /* n labels in [0, classes), or NULL; malloc'ed */
    int classes;        /* 0 without labels */
    char **class_names; /* classes names ("0", "1", ... for IDX; sub-folder names), or NULL */
    char images_path[4096], labels_path[4096]; /* where they came from ("" if none) */
} gc_dataset;

/* Loads path (an IDX images file or a PNG folder, see above) as 1-channel
 * images.  labels_path (IDX only) overrides the file beside; NULL looks
 * there.  On failure *out is zeroed. */
gc_status gc_dataset_load(const char *path, const char *labels_path, gc_labels_mode mode,
                          gc_dataset *out);
void gc_dataset_free(gc_dataset *ds);

/* The labels file beside an IDX images file (see above), when one exists:
 * 1 and the path in out, else 0. */
int gc_dataset_find_labels(const char *images_path, char *out, size_t n);

/* Fixes the class count to `classes` (a model's, say), which must be above
 * every label: GC_ERR_FORMAT naming the labels file and the first label that
 * is not, else ds->classes = classes (names "K" added for new classes).  A
 * test set that lacks the last class thus matches its training set. */
gc_status gc_dataset_set_classes(gc_dataset *ds, int classes);

/* Number of images of each class (counts[classes]). */
void gc_dataset_class_counts(const gc_dataset *ds, int64_t *counts);

/* A stratified random subset: per_class images of every class (fewer for
 * a class that has fewer, with all of its images), chosen with a
 * Philox stream of seed, kept in their original order.  The copy owns
 * its memory; class names are copied. */
gc_status gc_dataset_stratified(const gc_dataset *ds, int64_t per_class, uint64_t seed,
                                gc_dataset *out);

/* a followed by b (same c, h, w; both labelled with the same number of
 * classes, a's names kept, or both unlabelled: GC_ERR_ARG otherwise). */
gc_status gc_dataset_concat(const gc_dataset *a, const gc_dataset *b, gc_dataset *out);

/* Writes a labelled data set: as IDX files PREFIX-images-idx3-ubyte.gz and
 * PREFIX-labels-idx1-ubyte.gz (gzip when gzip is non-zero, else without
 * .gz; 1 channel, at most 256 classes), or as PNG files
 * DIR/<class name>/<index>.png (<index> counts within the class, zero-padded
 * to 6 digits so that name order is index order).  An unlabelled set
 * writes only the images file, or DIR/<index>.png.  Missing folders are
 * made; DIR must be empty or new (older files would join the set unseen).
 * Class names must be usable folder names; names that do not sort in class
 * order get a warning, since gc_dataset_load would number them otherwise.
 * gc_dataset_load reads either back as the same set.  Atomic per file. */
gc_status gc_dataset_write_idx(const gc_dataset *ds, const char *prefix, int gzip);
gc_status gc_dataset_write_png_folders(const gc_dataset *ds, const char *dir);

#ifdef __cplusplus
}
#endif

#endif

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

/* How gc_dataset_load_images prepares images.  Start from
 * gc_image_options_default() and set what differs. */
typedef struct gc_image_options {
    int channels;   /* 1 (gray, ITU-R 601 luma), 3 (RGB; gray files replicated), or 0:
                       the data's own -- 1 for IDX files and for PNG folders whose
                       every decoded pixel is gray (R = G = B), else 3 */
    int size;       /* 0: keep each image's size (all must match); S >= 1: torchvision's
                       Resize(S, antialias=True) + CenterCrop(S) (gancl/image.h) */
    int background; /* 0..255, what transparent pixels are laid over: GC_PNG_WHITE (255,
                       the default) or GC_PNG_BLACK (0); see gc_png_read_over */
    int recursive;  /* PNG folders: also .png files in sub-folders at any depth (below) */
    /* Called, when not NULL, after every PNG file tried (decoded or skipped)
     * with the number done and the total found; not for IDX files. */
    void (*progress)(void *user, int64_t done, int64_t total);
    void *progress_user;
} gc_image_options;

/* channels 1, size 0, white background, not recursive, no progress. */
gc_image_options gc_image_options_default(void);

/* gc_dataset_load with options: images become opt->channels planes of
 * opt->size x opt->size (or their own size), and transparent PNG pixels
 * are composited over opt->background instead of having their alpha
 * dropped.  IDX images (gray) are replicated to 3 planes and resized the
 * same way.  With opt->recursive a PNG folder is walked to any depth
 * (hidden entries and links to folders skipped): with labels wanted
 * (mode != GC_LABELS_NONE) and class sub-folders present, each class is
 * every .png below its sub-folder, otherwise every .png below path is an
 * image, loose or not; files are read in the order of their paths
 * relative to the folder (strcmp).  Files that fail to decode are skipped
 * with one warning (count and first names); none left is GC_ERR_FORMAT.
 * opt NULL means gc_image_options_default().  gc_dataset_load is the same
 * loader with those defaults, except that it drops alpha (gc_png_read)
 * rather than compositing it, as it always has. */
gc_status gc_dataset_load_images(const char *path, const char *labels_path, gc_labels_mode mode,
                                 const gc_image_options *opt, gc_dataset *out);

/* The decode cache, so that a run can skip decoding a folder the previous
 * run decoded:
 *
 *     uint64_t key;
 *     gc_dataset ds;
 *     int hit;
 *     GC_TRY(gc_dataset_fingerprint(dir, NULL, mode, &opt, &key));
 *     GC_TRY(gc_dataset_cache_read(cache_file, key, &ds, &hit));
 *     if (!hit) {
 *         GC_TRY(gc_dataset_load_images(dir, NULL, mode, &opt, &ds));
 *         gc_dataset_cache_write(&ds, key, cache_file);   (a failure only costs time)
 *     }
 *
 * The fingerprint hashes the options and the name, size and modification
 * time of every file below a folder (or of the IDX images and labels
 * files), not their contents: one stat per file.  The cache file is
 * safetensors ("images" U8 [n, c, h, w], "labels" I32 [n] when labelled,
 * class names and source paths as metadata), written atomically.
 * gc_dataset_cache_read gives *hit = 1 and the set, or *hit = 0 and a
 * zeroed *out when the file is missing, was made from other files or
 * options, or is broken (with a warning); GC_ERR_NOMEM only for memory. */
gc_status gc_dataset_fingerprint(const char *path, const char *labels_path, gc_labels_mode mode,
                                 const gc_image_options *opt, uint64_t *key);
gc_status gc_dataset_cache_write(const gc_dataset *ds, uint64_t key, const char *file);
gc_status gc_dataset_cache_read(const char *file, uint64_t key, gc_dataset *out, int *hit);

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

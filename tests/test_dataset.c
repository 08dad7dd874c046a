/* tests/test_dataset.c - labelled data sets (gancl/dataset.h): IDX images
 * with the labels file beside them or named, PNG folders with and without
 * class sub-folders, every bad case with its status and a message naming
 * the file, stratified subsets, joins, and writing both layouts back;
 * gc_dataset_load_images' options (channels, size, background, recursive
 * walk, progress). */
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "gancl/dataset.h"
#include "gancl/image.h"
#include "gancl/io.h"
#include "gancl/models.h"
#include "test_files.h"
#include "util/error.h"
#include "test_support.h"

#define tpath gt_tmp_path

/* Random bytes for n images of h x w. */
static uint8_t *rand_images(int64_t n, int h, int w)
{
    uint8_t *p = malloc((size_t)(n * h * w));
    for (int64_t i = 0; i < n * h * w; i++)
        p[i] = (uint8_t)gt_randint(0, 255);
    return p;
}

static void write_images(const char *path, const uint8_t *px, int64_t n, int h, int w, int gz)
{
    gc_idx d = {.kind = GC_IDX_IMAGES, .data = (uint8_t *)px, .n = n, .h = h, .w = w};
    GT_OK(gc_idx_write(path, &d, gz));
}

static void write_labels(const char *path, const uint8_t *lab, int64_t n, int gz)
{
    gc_idx d = {.kind = GC_IDX_LABELS, .data = (uint8_t *)lab, .n = n, .h = 1, .w = 1};
    GT_OK(gc_idx_write(path, &d, gz));
}

/* Labels in [0, k) with k - 1 present. */
static uint8_t *rand_labels(int64_t n, int k)
{
    GC_ASSERT(n >= 1 && n <= INT32_MAX);
    uint8_t *l = malloc((size_t)n);
    for (int64_t i = 0; i < n; i++)
        l[i] = (uint8_t)gt_randint(0, k - 1);
    l[gt_randint(0, (int)n - 1)] = (uint8_t)(k - 1);
    return l;
}

static int zeroed(const gc_dataset *ds)
{
    static const gc_dataset zero;
    return !memcmp(ds, &zero, sizeof zero);
}

/* Loads expecting failure with status want, a one-line message naming
 * `names` and holding `word`, and *out zeroed. */
#define expect_fail(path, labels, mode, want, names, word)                                         \
    expect_fail_at(path, labels, mode, want, names, word, __LINE__)
static void expect_fail_at(const char *path, const char *labels, gc_labels_mode mode,
                           gc_status want, const char *names, const char *word, int line)
{
    gc_dataset ds;
    memset(&ds, 0x5a, sizeof ds);
    gc_status s = gc_dataset_load(path, labels, mode, &ds);
    const char *msg = gc_last_error();
    ck_assert_msg(s == want, "line %d: %s: got %s, want %s (%s)", line, path, gc_status_name(s),
                  gc_status_name(want), msg);
    ck_assert_msg(!names || strstr(msg, names), "line %d: message does not name %s: %s", line,
                  names, msg);
    ck_assert_msg(!word || strstr(msg, word), "line %d: message lacks \"%s\": %s", line, word, msg);
    ck_assert_msg(!strchr(msg, '\n'), "line %d: message is not one line", line);
    ck_assert_msg(zeroed(&ds), "line %d: *out not zeroed on failure", line);
}

static void check_idx_set(const gc_dataset *ds, const uint8_t *px, const uint8_t *lab, int64_t n,
                          int h, int w, int k)
{
    ck_assert_int_eq(ds->n, n);
    ck_assert_int_eq(ds->c, 1);
    ck_assert_int_eq(ds->h, h);
    ck_assert_int_eq(ds->w, w);
    ck_assert_mem_eq(ds->images, px, (size_t)(n * h * w));
    if (!lab) {
        ck_assert_ptr_null(ds->labels);
        ck_assert_int_eq(ds->classes, 0);
        return;
    }
    ck_assert_ptr_nonnull(ds->labels);
    ck_assert_int_eq(ds->classes, k);
    for (int64_t i = 0; i < n; i++)
        ck_assert_int_eq(ds->labels[i], lab[i]);
    ck_assert_ptr_nonnull(ds->class_names);
    for (int c = 0; c < k; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        ck_assert_str_eq(ds->class_names[c], num);
    }
}

/* ---- IDX -------------------------------------------------------------------------- */

START_TEST(idx_labels_beside)
{
    /* Every pairing of compressed and raw images and labels. */
    for (int v = 0; v < 4; v++) {
        int img_gz = v & 1, lab_gz = v >> 1;
        int n = gt_randint(5, 90), h = gt_randint(1, 13), w = gt_randint(1, 13);
        int k = gt_randint(2, 12);
        uint8_t *px = rand_images(n, h, w), *lab = rand_labels(n, k);
        char images[256], labels[256];
        snprintf(images, sizeof images, "%s/v%d/train-images-idx3-ubyte%s", gt_tmp(), v,
                 img_gz ? ".gz" : "");
        snprintf(labels, sizeof labels, "%s/v%d/train-labels-idx1-ubyte%s", gt_tmp(), v,
                 lab_gz ? ".gz" : "");
        char dir[256];
        snprintf(dir, sizeof dir, "%s/v%d", gt_tmp(), v);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        write_images(images, px, n, h, w, img_gz);
        write_labels(labels, lab, n, lab_gz);

        char found[4096];
        ck_assert_int_eq(gc_dataset_find_labels(images, found, sizeof found), 1);
        ck_assert_str_eq(found, labels);

        gc_dataset ds;
        GT_OK(gc_dataset_load(images, NULL, GC_LABELS_REQUIRED, &ds));
        check_idx_set(&ds, px, lab, n, h, w, k);
        ck_assert_str_eq(ds.images_path, images);
        ck_assert_str_eq(ds.labels_path, labels);
        gc_dataset_free(&ds);
        ck_assert(zeroed(&ds));

        GT_OK(gc_dataset_load(images, NULL, GC_LABELS_IF_ANY, &ds));
        check_idx_set(&ds, px, lab, n, h, w, k);
        gc_dataset_free(&ds);

        /* NONE: the labels file is there, but not wanted. */
        GT_OK(gc_dataset_load(images, NULL, GC_LABELS_NONE, &ds));
        check_idx_set(&ds, px, NULL, n, h, w, 0);
        ck_assert_str_eq(ds.labels_path, "");
        gc_dataset_free(&ds);
        free(px);
        free(lab);
    }
    /* "images.idx3" (a common renaming) finds "labels.idx1". */
    uint8_t *px = rand_images(7, 4, 4), *lab = rand_labels(7, 3);
    write_images(tpath("t10k-images.idx3-ubyte"), px, 7, 4, 4, 0);
    write_labels(tpath("t10k-labels.idx1-ubyte"), lab, 7, 0);
    gc_dataset ds;
    GT_OK(gc_dataset_load(tpath("t10k-images.idx3-ubyte"), NULL, GC_LABELS_REQUIRED, &ds));
    check_idx_set(&ds, px, lab, 7, 4, 4, 3);
    gc_dataset_free(&ds);
    free(px);
    free(lab);
}
END_TEST

START_TEST(idx_labels_override)
{
    int n = gt_randint(9, 70), h = 5, w = 7, k = gt_randint(2, 9);
    uint8_t *px = rand_images(n, h, w), *beside = rand_labels(n, k), *mine = rand_labels(n, k);
    mine[0] = (uint8_t)((beside[0] + 1) % k); /* the two sets differ */
    write_images(tpath("x-images-idx3-ubyte.gz"), px, n, h, w, 1);
    write_labels(tpath("x-labels-idx1-ubyte.gz"), beside, n, 1);
    write_labels(tpath("my-labels"), mine, n, 0);
    gc_dataset ds;
    GT_OK(gc_dataset_load(tpath("x-images-idx3-ubyte.gz"), tpath("my-labels"), GC_LABELS_REQUIRED,
                          &ds));
    check_idx_set(&ds, px, mine, n, h, w, k);
    ck_assert_str_eq(ds.labels_path, tpath("my-labels"));
    gc_dataset_free(&ds);
    /* An image name with no "images-idx3" still takes a named labels file. */
    write_images(tpath("synth.idx"), px, n, h, w, 0);
    GT_OK(gc_dataset_load(tpath("synth.idx"), tpath("my-labels"), GC_LABELS_IF_ANY, &ds));
    check_idx_set(&ds, px, mine, n, h, w, k);
    gc_dataset_free(&ds);
    /* A named file that is missing is an error, not "no labels". */
    expect_fail(tpath("synth.idx"), tpath("nope"), GC_LABELS_IF_ANY, GC_ERR_IO, tpath("nope"),
                "cannot open");
    free(px);
    free(beside);
    free(mine);
}
END_TEST

START_TEST(idx_labels_missing)
{
    uint8_t *px = rand_images(11, 4, 8);
    write_images(tpath("a-images-idx3-ubyte.gz"), px, 11, 4, 8, 1);
    /* REQUIRED: names both files looked for and the flag. */
    expect_fail(tpath("a-images-idx3-ubyte.gz"), NULL, GC_LABELS_REQUIRED, GC_ERR_ARG,
                tpath("a-labels-idx1-ubyte.gz"), "pass --labels FILE");
    expect_fail(tpath("a-images-idx3-ubyte.gz"), NULL, GC_LABELS_REQUIRED, GC_ERR_ARG,
                tpath("a-labels-idx1-ubyte"), "no labels: looked for");
    ck_assert_int_eq(gc_dataset_find_labels(tpath("a-images-idx3-ubyte.gz"), (char[64]){0}, 64), 0);
    /* A name to derive nothing from says so. */
    write_images(tpath("plain.idx"), px, 11, 4, 8, 0);
    expect_fail(tpath("plain.idx"), NULL, GC_LABELS_REQUIRED, GC_ERR_ARG, tpath("plain.idx"),
                "--labels");
    /* IF_ANY: images only. */
    gc_dataset ds;
    GT_OK(gc_dataset_load(tpath("a-images-idx3-ubyte.gz"), NULL, GC_LABELS_IF_ANY, &ds));
    check_idx_set(&ds, px, NULL, 11, 4, 8, 0);
    gc_dataset_free(&ds);
    /* "images-idx3" in a folder name is not the file's. */
    char dir[256];
    snprintf(dir, sizeof dir, "%s/images-idx3", gt_tmp());
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    write_images(gt_path(dir, "data"), px, 11, 4, 8, 0);
    ck_assert_int_eq(gc_dataset_find_labels(gt_path(dir, "data"), (char[4096]){0}, 4096), 0);
    free(px);
}
END_TEST

START_TEST(idx_labels_bad)
{
    int n = gt_randint(20, 60);
    uint8_t *px = rand_images(n, 4, 4), *lab = rand_labels(n + 1, 10); /* n + 1 for one too many */
    char images[512], labels[512];
    snprintf(images, sizeof images, "%s", tpath("b-images-idx3-ubyte"));
    snprintf(labels, sizeof labels, "%s", tpath("b-labels-idx1-ubyte"));
    write_images(images, px, n, 4, 4, 0);

    /* One label short, and one too many. */
    for (int d = -1; d <= 1; d += 2) {
        write_labels(labels, lab, n + d, d > 0);
        char want[128];
        snprintf(want, sizeof want, "%d labels for %d images in", n + d, n);
        expect_fail(images, NULL, GC_LABELS_REQUIRED, GC_ERR_FORMAT, labels, want);
        expect_fail(images, NULL, GC_LABELS_IF_ANY, GC_ERR_FORMAT, images, want);
        gt_rmtree(labels);
        gt_rmtree(tpath("b-labels-idx1-ubyte.gz"));
    }
    /* Truncated: a header promising n labels, n - 3 there. */
    uint8_t raw[8 + 128] = {0, 0, 8, 1, 0, 0, 0, (uint8_t)n};
    memcpy(raw + 8, lab, (size_t)n);
    gt_write_file(labels, raw, 8 + (size_t)n - 3);
    expect_fail(images, NULL, GC_LABELS_REQUIRED, GC_ERR_FORMAT, labels, "truncated");
    /* A gzip stream cut short. */
    gt_rmtree(labels);
    write_labels(tpath("b-labels-idx1-ubyte.gz"), lab, n, 1);
    size_t zn;
    uint8_t *z = gt_read_file(tpath("b-labels-idx1-ubyte.gz"), &zn);
    gt_write_file(tpath("b-labels-idx1-ubyte.gz"), z, zn - 9);
    expect_fail(images, NULL, GC_LABELS_REQUIRED, GC_ERR_FORMAT, tpath("b-labels-idx1-ubyte.gz"),
                NULL);
    /* Corrupt: an images file where the labels should be; garbage. */
    write_images(labels, px, n, 4, 4, 0);
    expect_fail(images, labels, GC_LABELS_REQUIRED, GC_ERR_FORMAT, labels, "dimension");
    memset(z, 0xee, zn);
    gt_write_file(labels, z, zn);
    expect_fail(images, labels, GC_LABELS_REQUIRED, GC_ERR_FORMAT, labels, "not an IDX file");
    free(z);
    free(px);
    free(lab);
}
END_TEST

START_TEST(idx_set_classes)
{
    int n = 40;
    uint8_t *px = rand_images(n, 4, 4), *lab = rand_labels(n, 6);
    write_images(tpath("c-images-idx3-ubyte"), px, n, 4, 4, 0);
    write_labels(tpath("c-labels-idx1-ubyte"), lab, n, 0);
    gc_dataset ds;
    GT_OK(gc_dataset_load(tpath("c-images-idx3-ubyte"), NULL, GC_LABELS_REQUIRED, &ds));
    ck_assert_int_eq(ds.classes, 6);
    /* A model of 5 classes cannot take label 5. */
    gc_status s = gc_dataset_set_classes(&ds, 5);
    ck_assert_int_eq(s, GC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), tpath("c-labels-idx1-ubyte")));
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "label 5"));
    ck_assert_int_eq(ds.classes, 6);
    /* Above GC_MAX_CLASSES. */
    ck_assert_int_eq(gc_dataset_set_classes(&ds, GC_MAX_CLASSES + 1), GC_ERR_ARG);
    /* Growing to a model's 10 classes adds names; counts follow. */
    GT_OK(gc_dataset_set_classes(&ds, 10));
    ck_assert_int_eq(ds.classes, 10);
    ck_assert_str_eq(ds.class_names[5], "5");
    ck_assert_str_eq(ds.class_names[9], "9");
    int64_t counts[10], want[10] = {0};
    for (int i = 0; i < n; i++)
        want[lab[i]]++;
    gc_dataset_class_counts(&ds, counts);
    for (int k = 0; k < 10; k++)
        ck_assert_int_eq(counts[k], want[k]);
    gc_dataset_free(&ds);
    free(px);
    free(lab);
}
END_TEST

/* ---- PNG folders -------------------------------------------------------------------- */

static void mkdir_ok(const char *path)
{
    ck_assert_msg(mkdir(path, 0755) == 0, "mkdir %s", path);
}

START_TEST(png_class_folders)
{
    /* Names of digits by value and before the others; hidden ones skipped. */
    static const char *const on_disk[] = {"b", "10", "a", "2", "07"};
    static const char *const order[] = {"2", "07", "10", "a", "b"};
    int h = gt_randint(3, 9), w = gt_randint(3, 9), count[5];
    uint8_t *px[5];
    char root[512];
    snprintf(root, sizeof root, "%s", tpath("set"));
    mkdir_ok(root);
    mkdir_ok(gt_path(root, ".hidden"));
    gt_write_file(gt_path(root, ".hidden/x.png"), "junk", 4);
    for (int k = 0; k < 5; k++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/%s", root, order[k]);
        mkdir_ok(dir);
        count[k] = k == 3 ? 0 : gt_randint(1, 6); /* "a" is an empty class */
        px[k] = rand_images(count[k] ? count[k] : 1, h, w);
        /* Written in reverse: the loader sorts the names. */
        for (int i = count[k] - 1; i >= 0; i--) {
            char name[32];
            snprintf(name, sizeof name, "img%02d.png", i);
            GT_OK(gc_png_write_gray(gt_path(dir, name), px[k] + i * h * w, w, h));
        }
        gt_write_file(gt_path(dir, "notes.txt"), "x", 1);
    }
    (void)on_disk;
    gc_dataset ds;
    GT_OK(gc_dataset_load(root, NULL, GC_LABELS_REQUIRED, &ds));
    int64_t total = 0;
    for (int k = 0; k < 5; k++)
        total += count[k];
    ck_assert_int_eq(ds.n, total);
    ck_assert_int_eq(ds.c, 1);
    ck_assert_int_eq(ds.h, h);
    ck_assert_int_eq(ds.w, w);
    ck_assert_int_eq(ds.classes, 5);
    int64_t at = 0;
    for (int k = 0; k < 5; k++) {
        ck_assert_str_eq(ds.class_names[k], order[k]);
        for (int i = 0; i < count[k]; i++, at++) {
            ck_assert_int_eq(ds.labels[at], k);
            ck_assert_mem_eq(ds.images + at * h * w, px[k] + i * h * w, (size_t)(h * w));
        }
    }
    ck_assert_str_eq(ds.images_path, root);
    gc_dataset_free(&ds);
    /* NONE: the same images without labels. */
    GT_OK(gc_dataset_load(root, NULL, GC_LABELS_NONE, &ds));
    ck_assert_int_eq(ds.n, total);
    ck_assert_ptr_null(ds.labels);
    ck_assert_ptr_null(ds.class_names);
    ck_assert_int_eq(ds.classes, 0);
    gc_dataset_free(&ds);
    /* Labels of a folder come from the folders only. */
    expect_fail(root, tpath("labels"), GC_LABELS_REQUIRED, GC_ERR_ARG, root, "sub-folders");
    for (int k = 0; k < 5; k++)
        free(px[k]);
}
END_TEST

START_TEST(png_flat_and_gray)
{
    char root[512];
    snprintf(root, sizeof root, "%s", tpath("flat"));
    mkdir_ok(root);
    int n = gt_randint(2, 7), h = 6, w = 5;
    uint8_t *px = rand_images(n, h, w);
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "%03d.png", i);
        GT_OK(gc_png_write_gray(gt_path(root, name), px + i * h * w, w, h));
    }
    /* An RGB file becomes gray with ITU-R 601 weights. */
    uint8_t rgb[6 * 5 * 3];
    for (int i = 0; i < 30; i++)
        rgb[3 * i] = 200, rgb[3 * i + 1] = 100, rgb[3 * i + 2] = 50;
    GT_OK(gc_png_write_rgb(gt_path(root, "zzz.png"), rgb, w, h));
    /* A sub-folder without PNGs does not make a class layout. */
    mkdir_ok(gt_path(root, "empty"));
    gc_dataset ds;
    GT_OK(gc_dataset_load(root, NULL, GC_LABELS_IF_ANY, &ds));
    ck_assert_int_eq(ds.n, n + 1);
    ck_assert_ptr_null(ds.labels);
    ck_assert_mem_eq(ds.images, px, (size_t)(n * h * w));
    /* 0.299 * 200 + 0.587 * 100 + 0.114 * 50 = 124.2 */
    ck_assert_int_eq(ds.images[n * h * w], 124);
    gc_dataset_free(&ds);
    expect_fail(root, NULL, GC_LABELS_REQUIRED, GC_ERR_ARG, root, "no labels");
    /* A corrupt file is skipped (with a warning); the rest load. */
    gt_write_file(gt_path(root, "bad.png"), "\x89PNG\r\n\x1a\nrubbish", 16);
    GT_OK(gc_dataset_load(root, NULL, GC_LABELS_NONE, &ds));
    ck_assert_int_eq(ds.n, n + 1);
    gc_dataset_free(&ds);
    /* An empty folder. */
    mkdir_ok(tpath("nothing"));
    expect_fail(tpath("nothing"), NULL, GC_LABELS_NONE, GC_ERR_ARG, tpath("nothing"),
                "no .png images");
    free(px);
}
END_TEST

START_TEST(png_bad_layouts)
{
    uint8_t px[8 * 8];
    for (int i = 0; i < 64; i++)
        px[i] = (uint8_t)gt_randint(0, 255);
    /* Loose PNGs beside class folders. */
    char mixed[512];
    snprintf(mixed, sizeof mixed, "%s", tpath("mixed"));
    mkdir_ok(mixed);
    mkdir_ok(gt_path(mixed, "cat"));
    GT_OK(gc_png_write_gray(gt_path(mixed, "cat/1.png"), px, 8, 8));
    GT_OK(gc_png_write_gray(gt_path(mixed, "loose.png"), px, 8, 8));
    expect_fail(mixed, NULL, GC_LABELS_REQUIRED, GC_ERR_FORMAT, mixed, "loose.png");
    expect_fail(mixed, NULL, GC_LABELS_NONE, GC_ERR_FORMAT, mixed, "class sub-folder");
    /* Sizes differ: the odd file is named. */
    char sizes[512];
    snprintf(sizes, sizeof sizes, "%s", tpath("sizes"));
    mkdir_ok(sizes);
    mkdir_ok(gt_path(sizes, "0"));
    mkdir_ok(gt_path(sizes, "1"));
    GT_OK(gc_png_write_gray(gt_path(sizes, "0/a.png"), px, 8, 8));
    GT_OK(gc_png_write_gray(gt_path(sizes, "1/a.png"), px, 8, 7));
    expect_fail(sizes, NULL, GC_LABELS_REQUIRED, GC_ERR_FORMAT, gt_path(sizes, "1/a.png"),
                "one size");
    /* Every file unreadable. */
    char junk[512];
    snprintf(junk, sizeof junk, "%s", tpath("junk"));
    mkdir_ok(junk);
    gt_write_file(gt_path(junk, "a.png"), "nope", 4);
    expect_fail(junk, NULL, GC_LABELS_NONE, GC_ERR_FORMAT, junk, "readable");
    /* Missing paths. */
    expect_fail(tpath("missing"), NULL, GC_LABELS_NONE, GC_ERR_IO, tpath("missing"), NULL);
}
END_TEST

/* ---- subsets and joins --------------------------------------------------------------- */

/* A labelled set in memory whose image i starts with i's 4 bytes. */
static void make_set(gc_dataset *ds, int64_t n, int h, int w, int k)
{
    memset(ds, 0, sizeof *ds);
    ds->n = n, ds->c = 1, ds->h = h, ds->w = w, ds->classes = k;
    ds->images = rand_images(n, h, w);
    ds->labels = malloc(sizeof(int32_t) * (size_t)n);
    ck_assert_int_ge(h * w, 4);
    for (int64_t i = 0; i < n; i++) {
        memcpy(ds->images + i * h * w, &(uint32_t){(uint32_t)i}, 4);
        ds->labels[i] = gt_randint(0, k - 1);
    }
    ds->class_names = calloc((size_t)k, sizeof(char *));
    for (int c = 0; c < k; c++) {
        ds->class_names[c] = malloc(16);
        snprintf(ds->class_names[c], 16, "c%d", c);
    }
    snprintf(ds->images_path, sizeof ds->images_path, "memory");
}

static uint32_t id_of(const gc_dataset *ds, int64_t i)
{
    uint32_t v;
    memcpy(&v, ds->images + i * ds->h * ds->w, 4);
    return v;
}

START_TEST(stratified_subset)
{
    int k = gt_randint(3, 7), per = gt_randint(5, 20);
    gc_dataset ds;
    make_set(&ds, gt_randint(300, 700), 3, 5, k);
    /* Class 1 has fewer than per images: all of them are kept. */
    int64_t few = 0;
    for (int64_t i = 0; i < ds.n; i++)
        if (ds.labels[i] == 1 && few++ >= per - 2) ds.labels[i] = 0;
    int64_t counts[8];
    gc_dataset_class_counts(&ds, counts);
    ck_assert_int_eq(counts[1], per - 2);

    uint64_t seed = gt_seed();
    gc_dataset a, b, c;
    GT_OK(gc_dataset_stratified(&ds, per, seed, &a));
    GT_OK(gc_dataset_stratified(&ds, per, seed, &b));
    GT_OK(gc_dataset_stratified(&ds, per, seed + 1, &c));
    int64_t got[8];
    gc_dataset_class_counts(&a, got);
    ck_assert_int_eq(a.classes, k);
    for (int cl = 0; cl < k; cl++)
        ck_assert_int_eq(got[cl], counts[cl] < per ? counts[cl] : per);
    /* Original order, each image with its own label and bytes. */
    for (int64_t i = 0; i < a.n; i++) {
        uint32_t id = id_of(&a, i);
        ck_assert_int_lt(id, ds.n);
        if (i) ck_assert_int_gt(id, id_of(&a, i - 1));
        ck_assert_int_eq(a.labels[i], ds.labels[id]);
        ck_assert_mem_eq(a.images + i * 15, ds.images + id * 15, 15);
    }
    /* Deterministic per seed, different across seeds. */
    ck_assert_int_eq(a.n, b.n);
    ck_assert_mem_eq(a.images, b.images, (size_t)a.n * 15);
    ck_assert_mem_eq(a.labels, b.labels, sizeof(int32_t) * (size_t)a.n);
    ck_assert_int_eq(a.n, c.n);
    ck_assert_msg(memcmp(a.images, c.images, (size_t)a.n * 15) != 0,
                  "seeds %llu and %llu chose the same subset", (unsigned long long)seed,
                  (unsigned long long)seed + 1);
    ck_assert_str_eq(a.class_names[k - 1], ds.class_names[k - 1]);
    ck_assert_ptr_ne(a.class_names, ds.class_names);
    /* Unlabelled sets have no strata. */
    gc_dataset u = ds;
    u.labels = NULL;
    gc_dataset out;
    ck_assert_int_eq(gc_dataset_stratified(&u, per, seed, &out), GC_ERR_ARG);
    ck_assert(zeroed(&out));
    gc_dataset_free(&a);
    gc_dataset_free(&b);
    gc_dataset_free(&c);
    gc_dataset_free(&ds);
}
END_TEST

START_TEST(concat_sets)
{
    int k = 4;
    gc_dataset a, b, out;
    make_set(&a, gt_randint(1, 40), 4, 3, k);
    make_set(&b, gt_randint(1, 40), 4, 3, k);
    GT_OK(gc_dataset_concat(&a, &b, &out));
    ck_assert_int_eq(out.n, a.n + b.n);
    ck_assert_int_eq(out.classes, k);
    ck_assert_str_eq(out.class_names[2], "c2");
    ck_assert_mem_eq(out.images, a.images, (size_t)a.n * 12);
    ck_assert_mem_eq(out.images + a.n * 12, b.images, (size_t)b.n * 12);
    ck_assert_mem_eq(out.labels, a.labels, sizeof(int32_t) * (size_t)a.n);
    ck_assert_mem_eq(out.labels + a.n, b.labels, sizeof(int32_t) * (size_t)b.n);
    gc_dataset_free(&out);
    /* Mismatches: size, class count, labelled with unlabelled. */
    b.w = 2;
    b.h = 6; /* the same bytes per image, another shape */
    ck_assert_int_eq(gc_dataset_concat(&a, &b, &out), GC_ERR_ARG);
    ck_assert(zeroed(&out));
    b.w = 3, b.h = 4, b.classes = 5;
    ck_assert_int_eq(gc_dataset_concat(&a, &b, &out), GC_ERR_ARG);
    b.classes = 4;
    int32_t *keep = b.labels;
    b.labels = NULL;
    ck_assert_int_eq(gc_dataset_concat(&a, &b, &out), GC_ERR_ARG);
    /* Two unlabelled sets join. */
    int32_t *keep_a = a.labels;
    a.labels = NULL;
    GT_OK(gc_dataset_concat(&a, &b, &out));
    ck_assert_ptr_null(out.labels);
    ck_assert_int_eq(out.n, a.n + b.n);
    ck_assert_mem_eq(out.images + a.n * 12, b.images, (size_t)b.n * 12);
    gc_dataset_free(&out);
    a.labels = keep_a;
    b.labels = keep;
    gc_dataset_free(&b);
    gc_dataset_free(&a);
}
END_TEST

/* ---- writing and reading back ---------------------------------------------------------- */

START_TEST(write_idx_round_trip)
{
    for (int gz = 0; gz < 2; gz++) {
        gc_dataset ds, back;
        int k = gt_randint(2, 11);
        make_set(&ds, gt_randint(5, 80), gt_randint(2, 9), gt_randint(2, 9), k);
        ds.labels[0] = k - 1; /* every class count is derived from the labels */
        char prefix[256];
        snprintf(prefix, sizeof prefix, "%s/out%d/synth", gt_tmp(), gz); /* folder made */
        GT_OK(gc_dataset_write_idx(&ds, prefix, gz));
        char images[300];
        snprintf(images, sizeof images, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
        GT_OK(gc_dataset_load(images, NULL, GC_LABELS_REQUIRED, &back));
        ck_assert_int_eq(back.n, ds.n);
        ck_assert_int_eq(back.h, ds.h);
        ck_assert_int_eq(back.w, ds.w);
        ck_assert_int_eq(back.classes, k);
        ck_assert_mem_eq(back.images, ds.images, (size_t)(ds.n * ds.h * ds.w));
        ck_assert_mem_eq(back.labels, ds.labels, sizeof(int32_t) * (size_t)ds.n);
        gc_dataset_free(&back);
        gc_dataset_free(&ds);
    }
    /* Unlabelled: only the images file. */
    gc_dataset ds;
    make_set(&ds, 9, 4, 4, 2);
    free(ds.labels);
    ds.labels = NULL;
    GT_OK(gc_dataset_write_idx(&ds, tpath("u"), 0));
    ck_assert_int_gt(gt_file_size(gt_tmp(), "u-images-idx3-ubyte"), 0);
    ck_assert_int_eq(gt_file_size(gt_tmp(), "u-labels-idx1-ubyte"), -1);
    /* IDX holds one channel. */
    ds.c = 3;
    ds.h = 2;
    ck_assert_int_eq(gc_dataset_write_idx(&ds, tpath("rgb"), 0), GC_ERR_ARG);
    ds.c = 1;
    ds.h = 4;
    gc_dataset_free(&ds);
}
END_TEST

START_TEST(write_png_round_trip)
{
    /* 12 classes named 0..11: "10" must read back after "9". */
    int k = 12;
    gc_dataset ds, back;
    make_set(&ds, gt_randint(30, 90), gt_randint(4, 9), gt_randint(4, 9), k);
    for (int c = 0; c < k; c++)
        snprintf(ds.class_names[c], 16, "%d", c);
    for (int c = 0; c < k; c++)
        ds.labels[c] = c; /* no empty class */
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tpath("pngs"));
    GT_OK(gc_dataset_write_png_folders(&ds, dir));
    GT_OK(gc_dataset_load(dir, NULL, GC_LABELS_REQUIRED, &back));
    ck_assert_int_eq(back.n, ds.n);
    ck_assert_int_eq(back.classes, k);
    /* Read back class by class, each in its original order. */
    int64_t at = 0;
    int per = ds.h * ds.w;
    for (int c = 0; c < k; c++) {
        ck_assert_str_eq(back.class_names[c], ds.class_names[c]);
        for (int64_t i = 0; i < ds.n; i++) {
            if (ds.labels[i] != c) continue;
            ck_assert_int_eq(back.labels[at], c);
            ck_assert_mem_eq(back.images + at * per, ds.images + i * per, (size_t)per);
            at++;
        }
    }
    ck_assert_int_eq(at, back.n);
    gc_dataset_free(&back);
    /* A folder with files in it is refused; bad names are refused. */
    ck_assert_int_eq(gc_dataset_write_png_folders(&ds, dir), GC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "not empty"));
    snprintf(ds.class_names[3], 16, "a/b");
    ck_assert_int_eq(gc_dataset_write_png_folders(&ds, tpath("pngs2")), GC_ERR_ARG);
    snprintf(ds.class_names[3], 16, "5");
    ck_assert_int_eq(gc_dataset_write_png_folders(&ds, tpath("pngs3")), GC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(gc_last_error(), "both named"));
    /* Unlabelled: a flat folder, read back unlabelled and in order. */
    free(ds.labels);
    ds.labels = NULL;
    GT_OK(gc_dataset_write_png_folders(&ds, tpath("flat/")));
    GT_OK(gc_dataset_load(tpath("flat"), NULL, GC_LABELS_IF_ANY, &back));
    ck_assert_ptr_null(back.labels);
    ck_assert_int_eq(back.n, ds.n);
    ck_assert_mem_eq(back.images, ds.images, (size_t)(ds.n * per));
    gc_dataset_free(&back);
    gc_dataset_free(&ds);
}
END_TEST

/* ---- gc_dataset_load_images ----------------------------------------------------------- */

static void write_rgba(const char *path, int w, int h)
{
    uint8_t *px = malloc((size_t)w * h * 4);
    for (int i = 0; i < w * h * 4; i++)
        px[i] = (uint8_t)gt_randint(0, 255);
    px[3] = 0; /* a transparent pixel and a half-transparent one */
    px[7] = 128;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGBA;
    ck_assert_msg(png_image_write_to_file(&img, path, 0, px, 0, NULL), "%s", img.message);
    free(px);
}

/* What one file should become: the reader and the resize have their own
 * tests (test_png, test_resize) and are the oracle here; the loader must
 * apply them as asked and lay the result out as planes. */
static void expect_image(const char *path, const gc_image_options *o, uint8_t *dst)
{
    gc_image img;
    GT_OK(gc_png_read_over(path, o->channels, o->background, &img));
    if (o->size) {
        gc_image small;
        GT_OK(gc_image_resize_crop(&img, o->size, &small));
        gc_image_free(&img);
        img = small;
    }
    size_t plane = (size_t)img.w * img.h;
    for (size_t i = 0; i < plane; i++)
        for (int k = 0; k < img.c; k++)
            dst[k * plane + i] = img.data[i * img.c + k];
    gc_image_free(&img);
}

typedef struct progress_log {
    int calls;
    int64_t last_done, total;
    int bad;
} progress_log;

static void on_progress(void *user, int64_t done, int64_t total)
{
    progress_log *p = user;
    if (done != p->last_done + 1 || (p->calls && total != p->total)) p->bad++;
    p->calls++;
    p->last_done = done;
    p->total = total;
}

START_TEST(images_recursive_tree)
{
    char root[512];
    snprintf(root, sizeof root, "%s", tpath("tree"));
    mkdir_ok(root);
    mkdir_ok(gt_path(root, "b"));
    mkdir_ok(gt_path(root, "b/deep"));
    mkdir_ok(gt_path(root, "c"));
    mkdir_ok(gt_path(root, ".git"));
    /* In path order: a.png, b/deep/x1.png, b/x0.png (c/bad.png is junk). */
    const char *files[3] = {"a.png", "b/deep/x1.png", "b/x0.png"};
    write_rgba(gt_path(root, files[0]), 16, 16);
    write_rgba(gt_path(root, files[1]), gt_randint(13, 31), gt_randint(13, 31));
    write_rgba(gt_path(root, files[2]), 9, 17);
    write_rgba(gt_path(root, "c/.hidden.png"), 5, 5);
    write_rgba(gt_path(root, ".git/x.png"), 5, 5);
    gt_write_file(gt_path(root, "c/bad.png"), "\x89PNG\r\n\x1a\nrubbish", 16);
    gt_write_file(gt_path(root, "c/notes.txt"), "hi", 2);
    if (symlink(root, gt_path(root, "b/loop")) != 0) ck_abort_msg("symlink failed");

    for (int rep = 0; rep < 2; rep++) {
        gc_image_options o = gc_image_options_default();
        ck_assert(o.channels == 1 && o.size == 0 && o.background == GC_PNG_WHITE && !o.recursive);
        o.channels = rep ? 1 : 3;
        o.size = rep ? 16 : gt_randint(5, 12);
        o.background = rep ? GC_PNG_WHITE : GC_PNG_BLACK;
        o.recursive = 1;
        progress_log pl = {0};
        o.progress = on_progress;
        o.progress_user = &pl;
        gc_dataset ds;
        GT_OK(gc_dataset_load_images(root, NULL, GC_LABELS_NONE, &o, &ds));
        ck_assert_int_eq(ds.n, 3);
        ck_assert(ds.c == o.channels && ds.h == o.size && ds.w == o.size);
        ck_assert_ptr_null(ds.labels);
        ck_assert_str_eq(ds.images_path, root);
        size_t per = (size_t)o.channels * o.size * o.size;
        uint8_t *want = malloc(per);
        for (int i = 0; i < 3; i++) {
            expect_image(gt_path(root, files[i]), &o, want);
            ck_assert_msg(!memcmp(ds.images + i * per, want, per), "image %d (%s) differs", i,
                          files[i]);
        }
        /* four files tried (the corrupt one too), in order, once each */
        ck_assert_int_eq(pl.calls, 4);
        ck_assert_int_eq(pl.total, 4);
        ck_assert_int_eq(pl.last_done, 4);
        ck_assert_int_eq(pl.bad, 0);
        free(want);
        gc_dataset_free(&ds);
    }

    /* Not recursive: the old layout rules (loose files beside sub-folders
     * holding .png files are refused). */
    gc_image_options o = gc_image_options_default();
    gc_dataset ds;
    ck_assert_int_eq(gc_dataset_load_images(root, NULL, GC_LABELS_NONE, &o, &ds), GC_ERR_FORMAT);
    ck_assert(strstr(gc_last_error(), "class sub-folder"));
    ck_assert(zeroed(&ds));
    /* Recursive with labels: loose files beside classes are still an error ... */
    o.recursive = 1;
    ck_assert_int_eq(gc_dataset_load_images(root, NULL, GC_LABELS_IF_ANY, &o, &ds), GC_ERR_FORMAT);
    ck_assert(strstr(gc_last_error(), "a.png"));
    /* ... and without them each top sub-folder is a class of everything
     * below it; c has only junk and stays a class. */
    ck_assert_int_eq(unlink(gt_path(root, "a.png")), 0);
    o.size = 8;
    GT_OK(gc_dataset_load_images(root, NULL, GC_LABELS_REQUIRED, &o, &ds));
    ck_assert_int_eq(ds.n, 2);
    ck_assert_int_eq(ds.classes, 2);
    ck_assert_str_eq(ds.class_names[0], "b");
    ck_assert_str_eq(ds.class_names[1], "c");
    ck_assert(ds.labels[0] == 0 && ds.labels[1] == 0);
    uint8_t want[64];
    expect_image(gt_path(root, files[1]), &o, want);
    ck_assert(!memcmp(ds.images, want, 64));
    gc_dataset_free(&ds);
    /* Not recursive, same tree: b's own file only (deep/ is not walked). */
    o.recursive = 0;
    GT_OK(gc_dataset_load_images(root, NULL, GC_LABELS_REQUIRED, &o, &ds));
    ck_assert_int_eq(ds.n, 1);
    expect_image(gt_path(root, files[2]), &o, want);
    ck_assert(!memcmp(ds.images, want, 64));
    gc_dataset_free(&ds);
}
END_TEST

START_TEST(images_alpha_and_sizes)
{
    char root[512];
    snprintf(root, sizeof root, "%s", tpath("rgba"));
    mkdir_ok(root);
    int w = gt_randint(3, 19), h = gt_randint(3, 19);
    write_rgba(gt_path(root, "0.png"), w, h);
    /* gc_dataset_load keeps dropping alpha; the new loader composites. */
    gc_dataset old, over;
    GT_OK(gc_dataset_load(root, NULL, GC_LABELS_NONE, &old));
    gc_image dropped;
    GT_OK(gc_png_read(gt_path(root, "0.png"), 1, &dropped));
    ck_assert(old.c == 1 && old.h == h && old.w == w);
    ck_assert(!memcmp(old.images, dropped.data, (size_t)w * h));
    gc_image_options o = gc_image_options_default();
    o.background = GC_PNG_BLACK;
    GT_OK(gc_dataset_load_images(root, NULL, GC_LABELS_NONE, &o, &over));
    ck_assert(over.c == 1 && over.h == h && over.w == w);
    ck_assert_int_eq(over.images[0], 0); /* the transparent pixel, on black */
    uint8_t *want = malloc((size_t)w * h);
    expect_image(gt_path(root, "0.png"), &o, want);
    ck_assert(!memcmp(over.images, want, (size_t)w * h));
    gc_dataset_free(&old);
    gc_dataset_free(&over);
    gc_image_free(&dropped);
    free(want);
    /* Sizes that differ: an error at size 0, resized to one otherwise. */
    write_rgba(gt_path(root, "1.png"), w + 1, h);
    ck_assert_int_eq(gc_dataset_load_images(root, NULL, GC_LABELS_NONE, &o, &over), GC_ERR_FORMAT);
    ck_assert(strstr(gc_last_error(), "one size"));
    o.size = 3;
    o.channels = 3;
    GT_OK(gc_dataset_load_images(root, NULL, GC_LABELS_NONE, &o, &over));
    ck_assert(over.n == 2 && over.c == 3 && over.h == 3 && over.w == 3);
    gc_dataset_free(&over);
    /* Bad options. */
    gc_image_options bad = gc_image_options_default();
    bad.channels = 2;
    ck_assert_int_eq(gc_dataset_load_images(root, NULL, GC_LABELS_NONE, &bad, &over), GC_ERR_ARG);
    ck_assert(zeroed(&over));
    bad = gc_image_options_default();
    bad.size = -1;
    ck_assert_int_eq(gc_dataset_load_images(root, NULL, GC_LABELS_NONE, &bad, &over), GC_ERR_ARG);
    bad = gc_image_options_default();
    bad.background = 256;
    ck_assert_int_eq(gc_dataset_load_images(root, NULL, GC_LABELS_NONE, &bad, &over), GC_ERR_ARG);
    /* Nothing usable: an error naming the first failure. */
    char junk[512];
    snprintf(junk, sizeof junk, "%s", tpath("junk2"));
    mkdir_ok(junk);
    mkdir_ok(gt_path(junk, "deeper"));
    gt_write_file(gt_path(junk, "deeper/a.png"), "nope", 4);
    o.recursive = 1;
    ck_assert_int_eq(gc_dataset_load_images(junk, NULL, GC_LABELS_NONE, &o, &over), GC_ERR_FORMAT);
    ck_assert(strstr(gc_last_error(), "readable"));
    ck_assert(strstr(gc_last_error(), "deeper/a.png"));
    ck_assert(zeroed(&over));
}
END_TEST

START_TEST(images_from_idx)
{
    int64_t n = gt_randint(2, 5);
    int h = gt_randint(9, 21), w = gt_randint(9, 21), size = gt_randint(4, 8);
    uint8_t *px = rand_images(n, h, w);
    uint8_t *lab = rand_labels(n, 3);
    write_images(tpath("t-images-idx3-ubyte"), px, n, h, w, 0);
    write_labels(tpath("t-labels-idx1-ubyte"), lab, n, 0);
    gc_image_options o = gc_image_options_default();
    o.channels = 3;
    o.size = size;
    gc_dataset ds;
    GT_OK(gc_dataset_load_images(tpath("t-images-idx3-ubyte"), NULL, GC_LABELS_REQUIRED, &o, &ds));
    ck_assert(ds.n == n && ds.c == 3 && ds.h == size && ds.w == size);
    ck_assert_int_eq(ds.classes, 3);
    size_t plane = (size_t)size * size;
    for (int64_t i = 0; i < n; i++) {
        ck_assert_int_eq(ds.labels[i], lab[i]);
        gc_image in = {px + i * h * w, w, h, 1}, small;
        GT_OK(gc_image_resize_crop(&in, size, &small));
        for (int k = 0; k < 3; k++)
            ck_assert_msg(!memcmp(ds.images + (i * 3 + k) * (int64_t)plane, small.data, plane),
                          "image %lld plane %d", (long long)i, k);
        gc_image_free(&small);
    }
    gc_dataset_free(&ds);
    free(px);
    free(lab);
}
END_TEST

static void check_same_set(const gc_dataset *a, const gc_dataset *b)
{
    ck_assert(a->n == b->n && a->c == b->c && a->h == b->h && a->w == b->w);
    ck_assert_mem_eq(a->images, b->images, (size_t)(a->n * a->c * a->h * a->w));
    ck_assert_int_eq(a->classes, b->classes);
    ck_assert(!a->labels == !b->labels);
    if (a->labels) ck_assert_mem_eq(a->labels, b->labels, sizeof(int32_t) * (size_t)a->n);
    for (int k = 0; k < a->classes; k++)
        ck_assert_str_eq(a->class_names[k], b->class_names[k]);
    ck_assert_str_eq(a->images_path, b->images_path);
    ck_assert_str_eq(a->labels_path, b->labels_path);
}

START_TEST(decode_cache)
{
    char root[512];
    snprintf(root, sizeof root, "%s", tpath("cached"));
    mkdir_ok(root);
    mkdir_ok(gt_path(root, "cat"));
    mkdir_ok(gt_path(root, "dog"));
    mkdir_ok(gt_path(root, "dog/more"));
    write_rgba(gt_path(root, "cat/1.png"), 11, 9);
    write_rgba(gt_path(root, "dog/2.png"), 8, 8);
    write_rgba(gt_path(root, "dog/more/3.png"), 13, 10);
    gc_image_options o = gc_image_options_default();
    o.channels = 3;
    o.size = 6;
    o.recursive = 1;
    uint64_t key, again;
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_IF_ANY, &o, &key));
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_IF_ANY, &o, &again));
    ck_assert(key == again);
    const char *file = tpath("cache.safetensors");
    gc_dataset ds, back;
    int hit = -1;
    GT_OK(gc_dataset_cache_read(file, key, &back, &hit)); /* no file yet */
    ck_assert_int_eq(hit, 0);
    ck_assert(zeroed(&back));
    GT_OK(gc_dataset_load_images(root, NULL, GC_LABELS_IF_ANY, &o, &ds));
    ck_assert(ds.n == 3 && ds.classes == 2);
    GT_OK(gc_dataset_cache_write(&ds, key, file));
    GT_OK(gc_dataset_cache_read(file, key, &back, &hit));
    ck_assert_int_eq(hit, 1);
    check_same_set(&ds, &back);
    gc_dataset_free(&back);
    /* Another key (other options or files) misses. */
    GT_OK(gc_dataset_cache_read(file, key ^ 1, &back, &hit));
    ck_assert_int_eq(hit, 0);
    ck_assert(zeroed(&back));
    /* What changes the fingerprint: every option, the mode, a file's
     * size, a new file, a renamed one. */
    gc_image_options p = o;
    p.size = 7;
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_IF_ANY, &p, &again));
    ck_assert(again != key);
    p = o;
    p.channels = 1;
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_IF_ANY, &p, &again));
    ck_assert(again != key);
    p = o;
    p.background = GC_PNG_BLACK;
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_IF_ANY, &p, &again));
    ck_assert(again != key);
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_NONE, &o, &again));
    ck_assert(again != key);
    write_rgba(gt_path(root, "dog/more/3.png"), 14, 10);
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_IF_ANY, &o, &again));
    ck_assert(again != key);
    uint64_t before = again;
    ck_assert_int_eq(rename(gt_path(root, "dog/more/3.png"), gt_path(root, "dog/more/4.png")), 0);
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_IF_ANY, &o, &again));
    ck_assert(again != before);
    before = again;
    gt_write_file(gt_path(root, "cat/new.png"), "x", 1);
    GT_OK(gc_dataset_fingerprint(root, NULL, GC_LABELS_IF_ANY, &o, &again));
    ck_assert(again != before);
    /* A broken cache file is a miss, not an error. */
    gt_write_file(file, "garbage that is not safetensors", 31);
    GT_OK(gc_dataset_cache_read(file, key, &back, &hit));
    ck_assert_int_eq(hit, 0);
    ck_assert(zeroed(&back));
    gc_dataset_free(&ds);

    /* IDX: unlabelled, and the labels file is part of the key. */
    int64_t n = 3;
    uint8_t *px = rand_images(n, 5, 4), *lab = rand_labels(n, 2);
    write_images(tpath("c-images-idx3-ubyte"), px, n, 5, 4, 0);
    write_labels(tpath("c-labels-idx1-ubyte"), lab, n, 0);
    GT_OK(
        gc_dataset_fingerprint(tpath("c-images-idx3-ubyte"), NULL, GC_LABELS_REQUIRED, NULL, &key));
    GT_OK(
        gc_dataset_load_images(tpath("c-images-idx3-ubyte"), NULL, GC_LABELS_REQUIRED, NULL, &ds));
    GT_OK(gc_dataset_cache_write(&ds, key, file));
    GT_OK(gc_dataset_cache_read(file, key, &back, &hit));
    ck_assert_int_eq(hit, 1);
    check_same_set(&ds, &back);
    gc_dataset_free(&back);
    gt_write_file(tpath("x"), "", 0);
    GT_OK(gc_dataset_fingerprint(tpath("c-images-idx3-ubyte"), tpath("x"), GC_LABELS_REQUIRED, NULL,
                                 &again));
    ck_assert(again != key); /* another labels file */
    gc_dataset_free(&ds);
    free(px);
    free(lab);
}
END_TEST

int main(void)
{
    setenv("GANCL_LOG", "error", 1); /* the skipped-file warnings are expected */
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("dataset");
    tcase_add_checked_fixture(tc, gt_tmp_setup, gt_tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, idx_labels_beside);
    tcase_add_test(tc, idx_labels_override);
    tcase_add_test(tc, idx_labels_missing);
    tcase_add_test(tc, idx_labels_bad);
    tcase_add_test(tc, idx_set_classes);
    tcase_add_test(tc, png_class_folders);
    tcase_add_test(tc, png_flat_and_gray);
    tcase_add_test(tc, png_bad_layouts);
    tcase_add_test(tc, stratified_subset);
    tcase_add_test(tc, concat_sets);
    tcase_add_test(tc, write_idx_round_trip);
    tcase_add_test(tc, write_png_round_trip);
    tcase_add_test(tc, images_recursive_tree);
    tcase_add_test(tc, images_alpha_and_sizes);
    tcase_add_test(tc, images_from_idx);
    tcase_add_test(tc, decode_cache);
    suite_add_tcase(s, tc);
    return gt_run_suite(s);
}

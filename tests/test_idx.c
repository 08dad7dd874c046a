/* tests/test_idx.c - IDX reading and writing: good files (raw and gzip,
 * random sizes and contents, byte-exact), and every kind of bad file, each
 * with its status and a message naming the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "gancl/io.h"
#include "test_files.h"
#include "test_support.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define tpath gt_tmp_path

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile f = gzopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (n) ck_assert_int_eq(gzwrite(f, data, (unsigned)n), (int)n);
    ck_assert_int_eq(gzclose(f), Z_OK);
}

/* An IDX file image: header (magic 0 0 type ndims, big-endian dims) then
 * `ndata` payload bytes, which are random. */
static unsigned char *make_idx(int type, int ndims, const uint32_t *dims, size_t ndata, size_t *n)
{
    size_t hdr = 4 + 4 * (size_t)ndims;
    unsigned char *b = malloc(hdr + ndata + 1);
    b[0] = 0;
    b[1] = 0;
    b[2] = (unsigned char)type;
    b[3] = (unsigned char)ndims;
    for (int i = 0; i < ndims; i++) {
        b[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        b[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        b[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        b[7 + 4 * i] = (unsigned char)dims[i];
    }
    for (size_t i = 0; i < ndata; i++)
        b[hdr + i] = (unsigned char)gt_randint(0, 255);
    *n = hdr + ndata;
    return b;
}

/* Reads path expecting failure with status want and a message naming the
 * file and containing `word`. */
#define expect_fail(path, kind, want, word) expect_fail_at(path, kind, want, word, __LINE__)
static void expect_fail_at(const char *path, gc_idx_kind kind, gc_status want, const char *word,
                           int line)
{
    gc_idx d;
    memset(&d, 0x5a, sizeof d);
    gc_status s = gc_idx_read(path, kind, &d);
    const char *msg = gc_last_error();
    ck_assert_msg(s == want, "line %d: %s: got %s, want %s (%s)", line, path, gc_status_name(s),
                  gc_status_name(want), msg);
    ck_assert_msg(strstr(msg, path) != NULL, "line %d: message does not name the file: %s", line,
                  msg);
    ck_assert_msg(!word || strstr(msg, word), "line %d: message lacks \"%s\": %s", line, word, msg);
    ck_assert_msg(strchr(msg, '\n') == NULL, "line %d: message is not one line", line);
    ck_assert_ptr_null(d.data);
    ck_assert_int_eq(d.n, 0);
}

/* ---- good files ------------------------------------------------------------ */

START_TEST(images_raw_and_gzip)
{
    for (int rep = 0; rep < 6; rep++) {
        uint32_t dims[3] = {(uint32_t)gt_randint(1, 97), (uint32_t)gt_randint(1, 41),
                            (uint32_t)gt_randint(1, 37)};
        size_t payload = (size_t)dims[0] * dims[1] * dims[2], n;
        unsigned char *b = make_idx(0x08, 3, dims, payload, &n);
        int gz = rep % 2;
        const char *p = tpath(gz ? "img.idx3.gz" : "img.idx3");
        if (gz)
            write_gz(p, b, n);
        else
            gt_write_file(p, b, n);
        gc_idx d;
        GT_OK(gc_idx_read(p, GC_IDX_IMAGES, &d));
        ck_assert_int_eq(d.kind, GC_IDX_IMAGES);
        ck_assert_int_eq(d.n, dims[0]);
        ck_assert_int_eq(d.h, dims[1]);
        ck_assert_int_eq(d.w, dims[2]);
        ck_assert_msg(memcmp(d.data, b + 16, payload) == 0, "contents differ (%s)",
                      gz ? "gzip" : "raw");
        gc_idx_free(&d);
        ck_assert_ptr_null(d.data);
        free(b);
    }
}
END_TEST

/* A gzip payload bigger than the reader's first chunk, so its buffer has
 * to grow several times. */
START_TEST(images_gzip_large)
{
    uint32_t dims[3] = {(uint32_t)gt_randint(3000, 3100), 28, 29};
    size_t payload = (size_t)dims[0] * 28 * 29, n;
    unsigned char *b = make_idx(0x08, 3, dims, payload, &n);
    const char *p = tpath("big.gz");
    write_gz(p, b, n);
    gc_idx d;
    GT_OK(gc_idx_read(p, GC_IDX_IMAGES, &d));
    ck_assert_int_eq(d.n, dims[0]);
    ck_assert(memcmp(d.data, b + 16, payload) == 0);
    gc_idx_free(&d);
    free(b);
}
END_TEST

START_TEST(labels_raw_and_gzip)
{
    for (int gz = 0; gz < 2; gz++) {
        uint32_t dims[1] = {(uint32_t)gt_randint(1, 5001)};
        size_t n;
        unsigned char *b = make_idx(0x08, 1, dims, dims[0], &n);
        const char *p = tpath(gz ? "lab.gz" : "lab");
        if (gz)
            write_gz(p, b, n);
        else
            gt_write_file(p, b, n);
        gc_idx d;
        GT_OK(gc_idx_read(p, GC_IDX_LABELS, &d));
        ck_assert_int_eq(d.kind, GC_IDX_LABELS);
        ck_assert_int_eq(d.n, dims[0]);
        ck_assert_int_eq(d.h, 1);
        ck_assert_int_eq(d.w, 1);
        ck_assert(memcmp(d.data, b + 8, dims[0]) == 0);
        gc_idx_free(&d);
        free(b);
    }
}
END_TEST

START_TEST(write_round_trip)
{
    for (int gz = 0; gz < 2; gz++) {
        gc_idx src = {GC_IDX_IMAGES, NULL, gt_randint(1, 33), gt_randint(1, 19), gt_randint(1, 23)};
        size_t n = (size_t)(src.n * src.h * src.w);
        src.data = malloc(n);
        for (size_t i = 0; i < n; i++)
            src.data[i] = (uint8_t)gt_randint(0, 255);
        const char *p = tpath("w.idx");
        GT_OK(gc_idx_write(p, &src, gz));
        size_t fn;
        unsigned char *f = gt_read_file(p, &fn);
        if (gz) {
            ck_assert(fn >= 2 && f[0] == 0x1f && f[1] == 0x8b);
        } else {
            ck_assert_uint_eq(fn, 16 + n);
            ck_assert(f[0] == 0 && f[1] == 0 && f[2] == 8 && f[3] == 3);
            ck_assert(memcmp(f + 16, src.data, n) == 0);
        }
        free(f);
        gc_idx d;
        GT_OK(gc_idx_read(p, GC_IDX_IMAGES, &d));
        ck_assert(d.n == src.n && d.h == src.h && d.w == src.w);
        ck_assert(memcmp(d.data, src.data, n) == 0);
        gc_idx_free(&d);

        gc_idx lab = {GC_IDX_LABELS, src.data, (int64_t)n, 1, 1};
        GT_OK(gc_idx_write(p, &lab, gz));
        GT_OK(gc_idx_read(p, GC_IDX_LABELS, &d));
        ck_assert(d.n == (int64_t)n && memcmp(d.data, src.data, n) == 0);
        gc_idx_free(&d);
        free(src.data);
    }
    gc_idx bad = {GC_IDX_IMAGES, NULL, 0, 1, 1};
    ck_assert_int_eq(gc_idx_write(tpath("bad"), &bad, 0), GC_ERR_ARG);
}
END_TEST

START_TEST(fashion_mnist)
{
    const char *dir = "/usr/share/datasets/fashion-mnist";
    const char *sets[2] = {"train", "t10k"};
    const int64_t counts[2] = {60000, 10000};
    for (int i = 0; i < 2; i++) {
        char ip[256], lp[256];
        snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", dir, sets[i]);
        snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", dir, sets[i]);
        if (access(ip, R_OK) != 0 || access(lp, R_OK) != 0) {
            printf("fashion_mnist: SKIPPED %s: %s not present\n", sets[i], dir);
            continue;
        }
        gc_idx img, lab;
        GT_OK(gc_idx_read(ip, GC_IDX_IMAGES, &img));
        GT_OK(gc_idx_read(lp, GC_IDX_LABELS, &lab));
        ck_assert_int_eq(img.n, counts[i]);
        ck_assert_int_eq(img.h, 28);
        ck_assert_int_eq(img.w, 28);
        ck_assert_int_eq(lab.n, counts[i]);
        int hist[10] = {0}, maxpix = 0;
        for (int64_t k = 0; k < lab.n; k++) {
            ck_assert_int_lt(lab.data[k], 10);
            hist[lab.data[k]]++;
        }
        for (int c = 0; c < 10; c++)
            ck_assert_int_eq(hist[c], counts[i] / 10); /* balanced */
        for (int64_t k = 0; k < img.n * 784; k++)
            if (img.data[k] > maxpix) maxpix = img.data[k];
        ck_assert_int_eq(maxpix, 255);
        /* The same file read as the wrong kind. */
        expect_fail(ip, GC_IDX_LABELS, GC_ERR_FORMAT, "expected 1");
        gc_idx_free(&img);
        gc_idx_free(&lab);
    }
}
END_TEST

/* ---- bad files ------------------------------------------------------------------ */

START_TEST(missing_folder_empty)
{
    expect_fail(tpath("does-not-exist.gz"), GC_IDX_IMAGES, GC_ERR_IO, "No such file");
    ck_assert_int_eq(mkdir(tpath("adir"), 0700), 0);
    expect_fail(tpath("adir"), GC_IDX_IMAGES, GC_ERR_IO, "folder");
    gt_write_file(tpath("empty"), "", 0);
    expect_fail(tpath("empty"), GC_IDX_IMAGES, GC_ERR_FORMAT, "empty");
    write_gz(tpath("empty.gz"), "", 0);
    expect_fail(tpath("empty.gz"), GC_IDX_LABELS, GC_ERR_FORMAT, "empty");
}
END_TEST

START_TEST(bad_headers)
{
    for (int gz = 0; gz < 2; gz++) {
        void (*put)(const char *, const void *, size_t) = gz ? write_gz : gt_write_file;
        const char *p = tpath(gz ? "h.gz" : "h");
        put(p, "\0\0\x08", 3);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "truncated header");
        put(p, "\0\0\x08\x03\0\0\0\x02\0\0", 10);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "truncated header");

        uint32_t dims[3] = {2, 3, 4};
        size_t n;
        unsigned char *b = make_idx(0x08, 3, dims, 24, &n);
        b[0] = 1;
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "magic");
        b[0] = 0;
        b[1] = 0x80;
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "magic");
        free(b);

        /* float (0x0D) and int (0x0C) IDX files are not ours */
        b = make_idx(0x0D, 3, dims, 24 * 4, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "type code 0x0d");
        free(b);

        /* dimension counts other than asked */
        b = make_idx(0x08, 3, dims, 24, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_LABELS, GC_ERR_FORMAT, "3 dimensions, expected 1");
        free(b);
        b = make_idx(0x08, 1, dims, 2, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "1 dimension, expected 3");
        free(b);
        uint32_t d4[4] = {2, 1, 3, 4};
        b = make_idx(0x08, 4, d4, 24, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "4 dimensions");
        free(b);
    }
}
END_TEST

START_TEST(bad_dimensions)
{
    for (int gz = 0; gz < 2; gz++) {
        void (*put)(const char *, const void *, size_t) = gz ? write_gz : gt_write_file;
        const char *p = tpath(gz ? "d.gz" : "d");
        size_t n;
        for (int z = 0; z < 3; z++) {
            uint32_t dims[3] = {5, 6, 7};
            dims[z] = 0;
            unsigned char *b = make_idx(0x08, 3, dims, 0, &n);
            put(p, b, n);
            expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "is 0");
            free(b);
        }
        uint32_t zero[1] = {0};
        unsigned char *b = make_idx(0x08, 1, zero, 0, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_LABELS, GC_ERR_FORMAT, "dimension 0 is 0");
        free(b);

        uint32_t wide[3] = {1, 2, 16385};
        b = make_idx(0x08, 3, wide, 64, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "exceed 16384");
        free(b);
        uint32_t tall[3] = {1, 0xffffffffu, 2};
        b = make_idx(0x08, 3, tall, 64, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "exceed 16384");
        free(b);
        /* within each side's limit, but 2^32 * 16384^2 bytes in all */
        uint32_t huge[3] = {0xffffffffu, 16384, 16384};
        b = make_idx(0x08, 3, huge, 64, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "2^34");
        free(b);
        uint32_t justover[3] = {(1u << 20) + 1, 128, 128}; /* 2^34 + 16384 bytes */
        b = make_idx(0x08, 3, justover, 64, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "2^34");
        free(b);
    }
}
END_TEST

/* Lowers the address-space limit so that allocating what a lying header
 * promises (~15 GiB) would fail; a reader that trusts the header then
 * reports GC_ERR_NOMEM instead of the truncation. */
static struct rlimit saved_as;
static int limit_address_space(void)
{
#ifdef UNDER_ASAN
    return 0; /* ASan reserves terabytes of shadow memory up front */
#else
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f) return 0;
    if (fscanf(f, "%lu", &pages) != 1) pages = 0;
    fclose(f);
    if (!pages || getrlimit(RLIMIT_AS, &saved_as) != 0) return 0;
    struct rlimit r = saved_as;
    r.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
    if (saved_as.rlim_cur != RLIM_INFINITY && r.rlim_cur > saved_as.rlim_cur) return 0;
    return setrlimit(RLIMIT_AS, &r) == 0;
#endif
}

static void restore_address_space(int limited)
{
    if (limited) ck_assert_int_eq(setrlimit(RLIMIT_AS, &saved_as), 0);
}

START_TEST(truncated_data)
{
    for (int gz = 0; gz < 2; gz++) {
        void (*put)(const char *, const void *, size_t) = gz ? write_gz : gt_write_file;
        const char *p = tpath(gz ? "t.gz" : "t");
        size_t n;
        uint32_t dims[3] = {(uint32_t)gt_randint(10, 40), 28, 28};
        size_t full = (size_t)dims[0] * 784;
        unsigned char *b = make_idx(0x08, 3, dims, full, &n);
        size_t cut = (size_t)gt_randint(0, (int)full - 1);
        put(p, b, 16 + cut);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "truncated");
        free(b);

        /* A header that lies: 20 million images, a few bytes of data. */
        uint32_t liar[3] = {20000000, 28, 28};
        b = make_idx(0x08, 3, liar, 1000, &n);
        put(p, b, n);
        int limited = limit_address_space();
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "truncated");
        restore_address_space(limited);
        if (!limited) printf("truncated_data: address-space limit not applied\n");
        free(b);

        uint32_t lab[1] = {(uint32_t)gt_randint(100, 200)};
        b = make_idx(0x08, 1, lab, lab[0], &n);
        put(p, b, n - 1);
        expect_fail(p, GC_IDX_LABELS, GC_ERR_FORMAT, "truncated");
        free(b);
    }
}
END_TEST

START_TEST(trailing_garbage)
{
    for (int gz = 0; gz < 2; gz++) {
        void (*put)(const char *, const void *, size_t) = gz ? write_gz : gt_write_file;
        const char *p = tpath(gz ? "g.gz" : "g");
        uint32_t dims[3] = {3, 5, 7};
        size_t n, extra = (size_t)gt_randint(1, 9);
        unsigned char *b = make_idx(0x08, 3, dims, 105 + extra, &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "trailing");
        free(b);
        /* far more than the reader is willing to scan */
        b = make_idx(0x08, 3, dims, 105 + (3u << 20), &n);
        put(p, b, n);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "trailing");
        free(b);
    }
}
END_TEST

START_TEST(broken_gzip)
{
    uint32_t dims[3] = {50, 28, 28};
    size_t n, zn;
    unsigned char *b = make_idx(0x08, 3, dims, 50 * 784, &n);
    const char *p = tpath("z.gz");
    write_gz(p, b, n);
    unsigned char *z = gt_read_file(p, &zn);

    /* the stream cut short, at several places */
    for (int k = 0; k < 3; k++) {
        size_t cut = k == 0 ? 15 : k == 1 ? zn / 2 : zn - 3;
        gt_write_file(p, z, cut);
        expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, NULL);
    }
    /* a corrupted CRC in the trailer: every data byte arrives, then zlib
     * must still report the stream as broken */
    unsigned char *c = malloc(zn);
    memcpy(c, z, zn);
    c[zn - 8] ^= 0xff;
    gt_write_file(p, c, zn);
    expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, "gzip");
    /* garbage in the deflate data */
    memcpy(c, z, zn);
    memset(c + 12, 0xff, 24);
    gt_write_file(p, c, zn);
    expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, NULL);
    /* gzip magic followed by nonsense */
    memcpy(c, "\x1f\x8b\x08\x00garbagegarbagegarbage", 25);
    gt_write_file(p, c, 25);
    expect_fail(p, GC_IDX_IMAGES, GC_ERR_FORMAT, NULL);
    free(c);
    free(z);
    free(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("idx");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, gt_tmp_setup, gt_tmp_teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, images_raw_and_gzip);
    tcase_add_test(tc, images_gzip_large);
    tcase_add_test(tc, labels_raw_and_gzip);
    tcase_add_test(tc, write_round_trip);
    tcase_add_test(tc, fashion_mnist);
    tcase_add_test(tc, missing_folder_empty);
    tcase_add_test(tc, bad_headers);
    tcase_add_test(tc, bad_dimensions);
    tcase_add_test(tc, truncated_data);
    tcase_add_test(tc, trailing_garbage);
    tcase_add_test(tc, broken_gzip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

/* tests/test_png.c - PNG writing (read back with libpng itself), grid
 * layout and value mapping, and the reader on every colour type and bit
 * depth (files made with libpng's classic API), plus bad files, and alpha
 * composited over a white or black background. */
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "gancl/io.h"
#include "test_files.h"
#include "test_support.h"

#define tpath gt_tmp_path

/* Reads a PNG with libpng directly into `format`; returns malloc'ed pixels. */
static uint8_t *libpng_read(const char *path, png_uint_32 format, png_uint_32 *file_format, int *w,
                            int *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&img, path), "%s", img.message);
    *file_format = img.format;
    img.format = format;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    ck_assert_msg(png_image_finish_read(&img, NULL, buf, 0, NULL), "%s", img.message);
    *w = (int)img.width;
    *h = (int)img.height;
    return buf;
}

START_TEST(write_gray_and_rgb)
{
    for (int c = 1; c <= 3; c += 2) {
        int w = gt_randint(1, 77), h = gt_randint(1, 53);
        size_t n = (size_t)w * h * c;
        uint8_t *pix = malloc(n);
        for (size_t i = 0; i < n; i++)
            pix[i] = (uint8_t)gt_randint(0, 255);
        const char *p = tpath(c == 1 ? "g.png" : "c.png");
        GT_OK(c == 1 ? gc_png_write_gray(p, pix, w, h) : gc_png_write_rgb(p, pix, w, h));
        png_uint_32 ff;
        int rw, rh;
        uint8_t *back = libpng_read(p, c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB, &ff, &rw, &rh);
        ck_assert_int_eq(rw, w);
        ck_assert_int_eq(rh, h);
        ck_assert_uint_eq(ff, c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB); /* stored as such */
        ck_assert_msg(memcmp(back, pix, n) == 0, "pixels differ (c=%d)", c);
        free(back);
        /* and through our own reader */
        gc_image img;
        GT_OK(gc_png_read(p, 0, &img));
        ck_assert(img.w == w && img.h == h && img.c == c);
        ck_assert(memcmp(img.data, pix, n) == 0);
        gc_image_free(&img);
        ck_assert_ptr_null(img.data);
        free(pix);
    }
    uint8_t one = 0;
    ck_assert_int_eq(gc_png_write_gray(tpath("z.png"), &one, 0, 1), GC_ERR_ARG);
    char deep[600];
    snprintf(deep, sizeof deep, "%s/no/such/dir/x.png", gt_tmp());
    ck_assert_int_eq(gc_png_write_gray(deep, &one, 1, 1), GC_ERR_IO);
    ck_assert(strstr(gc_last_error(), deep));
}
END_TEST

static uint8_t expect_byte(float v, float lo, float hi)
{
    if (isnan(v)) return 0;
    double x = floor(((double)v - lo) * (255.0 / ((double)hi - lo)) + 0.5);
    return (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : x);
}

START_TEST(grid_layout)
{
    for (int rep = 0; rep < 4; rep++) {
        int c = rep % 2 ? 3 : 1;
        int n = gt_randint(1, 13), h = gt_randint(1, 9), w = gt_randint(1, 11);
        int rows = 0, cols = 0;
        if (rep >= 2) { /* explicit, with spare cells */
            cols = gt_randint(1, 5);
            rows = (n + cols - 1) / cols + gt_randint(0, 1);
        }
        float lo = -1.0f, hi = 1.0f;
        int64_t total = (int64_t)n * c * h * w;
        float *img = gt_rand_array(total, -1.3f, 1.3f); /* some values clamp */
        img[0] = NAN;
        img[total - 1] = INFINITY;
        const char *p = tpath("grid.png");
        GT_OK(gc_png_write_grid(p, img, n, c, h, w, lo, hi, rows, cols));
        int ec = cols ? cols : (int)ceil(sqrt((double)n)), er = rows ? rows : (n + ec - 1) / ec;
        png_uint_32 ff;
        int gw, gh;
        uint8_t *g = libpng_read(p, c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB, &ff, &gw, &gh);
        ck_assert_int_eq(gw, ec * (w + GC_GRID_PAD) + GC_GRID_PAD);
        ck_assert_int_eq(gh, er * (h + GC_GRID_PAD) + GC_GRID_PAD);
        /* every pixel: inside tile i at (y, x), or padding/unused (255) */
        for (int gy = 0; gy < gh; gy++)
            for (int gx = 0; gx < gw; gx++) {
                int r = (gy - GC_GRID_PAD) / (h + GC_GRID_PAD);
                int q = (gx - GC_GRID_PAD) / (w + GC_GRID_PAD);
                int y = gy - GC_GRID_PAD - r * (h + GC_GRID_PAD);
                int x = gx - GC_GRID_PAD - q * (w + GC_GRID_PAD);
                int i = r * ec + q;
                int inside = gy >= GC_GRID_PAD && gx >= GC_GRID_PAD && y < h && x < w && i < n;
                for (int k = 0; k < c; k++) {
                    uint8_t got = g[((size_t)gy * gw + gx) * c + k];
                    uint8_t want = 255;
                    if (inside)
                        want = expect_byte(img[(((size_t)i * c + k) * h + y) * w + x], lo, hi);
                    ck_assert_msg(got == want,
                                  "grid pixel (%d, %d) ch %d: %d, want %d (tile %d inside=%d)", gy,
                                  gx, k, got, want, i, inside);
                }
            }
        ck_assert_int_eq(g[((size_t)GC_GRID_PAD * gw + GC_GRID_PAD) * c], 0); /* the NaN */
        free(g);
        free(img);
    }
    float v[4] = {0};
    const char *p = tpath("bad.png");
    ck_assert_int_eq(gc_png_write_grid(p, v, 4, 1, 1, 1, 0, 1, 1, 3), GC_ERR_ARG);
    ck_assert_int_eq(gc_png_write_grid(p, v, 2, 2, 1, 1, 0, 1, 0, 0), GC_ERR_ARG);
    ck_assert_int_eq(gc_png_write_grid(p, v, 4, 1, 1, 1, 1, 1, 0, 0), GC_ERR_ARG);
    ck_assert_int_eq(gc_png_write_grid(p, v, 4, 1, 1, 1, 0, NAN, 0, 0), GC_ERR_ARG);
    ck_assert(strstr(gc_last_error(), p));
    ck_assert_int_eq(access(p, F_OK), -1);
}
END_TEST

/* ---- the reader on every colour type ---------------------------------------- */

typedef struct classic_png {
    int w, h, color_type, depth;
    png_color palette[256];
    int npalette;
    png_byte trns[256];
    int ntrns;
    int has_trans_color; /* gray/RGB tRNS: this value is transparent */
    png_color_16 trans_color;
    uint16_t *samples; /* w*h*channels raw sample values (palette: indices) */
} classic_png;

static int png_channels(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGBA: return 4;
    default: return 1; /* palette */
    }
}

/* Writes cp with libpng's classic API (the simplified one cannot make
 * every layout, e.g. 16-bit sRGB or 2-bit gray). */
static void write_classic(const char *path, const classic_png *cp)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    int ch = png_channels(cp->color_type);
    size_t rowbytes = ((size_t)cp->w * ch * cp->depth + 7) / 8;
    png_bytep rows = calloc((size_t)cp->h, rowbytes);
    if (setjmp(png_jmpbuf(png))) ck_abort_msg("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)cp->w, (png_uint_32)cp->h, cp->depth, cp->color_type,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (cp->npalette) png_set_PLTE(png, info, cp->palette, cp->npalette);
    if (cp->ntrns) png_set_tRNS(png, info, cp->trns, cp->ntrns, NULL);
    if (cp->has_trans_color) png_set_tRNS(png, info, NULL, 0, &cp->trans_color);
    png_write_info(png, info);
    for (int y = 0; y < cp->h; y++) {
        png_bytep row = rows + (size_t)y * rowbytes;
        for (int x = 0; x < cp->w * ch; x++) {
            uint16_t v = cp->samples[(size_t)y * cp->w * ch + x];
            if (cp->depth == 16) {
                row[2 * x] = (png_byte)(v >> 8);
                row[2 * x + 1] = (png_byte)v;
            } else if (cp->depth == 8) {
                row[x] = (png_byte)v;
            } else { /* packed, most significant bits first */
                int per = 8 / cp->depth;
                int shift = 8 - cp->depth * (x % per + 1);
                row[x / per] |= (png_byte)(v << shift);
            }
        }
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    fclose(f);
}

/* The 8-bit value of a sample of `depth` bits. */
static uint8_t to8(uint16_t v, int depth)
{
    if (depth == 16) return (uint8_t)(v >> 8); /* samples are made as v8 * 257 */
    return (uint8_t)(v * 255 / ((1 << depth) - 1));
}

static uint16_t rand_sample(int depth)
{
    if (depth == 16) return (uint16_t)(gt_randint(0, 255) * 257);
    return (uint16_t)gt_randint(0, (1 << depth) - 1);
}

/* Checks gc_png_read of cp for channels 0, 1, 3 against the RGB(A) truth. */
static void check_reader(const char *what, const classic_png *cp)
{
    const char *p = tpath("in.png");
    write_classic(p, cp);
    int ch = png_channels(cp->color_type);
    int colour = cp->color_type & PNG_COLOR_MASK_COLOR;
    size_t npix = (size_t)cp->w * cp->h;
    uint8_t *rgb = malloc(npix * 3);
    for (size_t i = 0; i < npix; i++) {
        const uint16_t *s = cp->samples + i * ch;
        if (cp->color_type == PNG_COLOR_TYPE_PALETTE) {
            png_color c = cp->palette[s[0]];
            rgb[3 * i] = c.red;
            rgb[3 * i + 1] = c.green;
            rgb[3 * i + 2] = c.blue;
        } else if (colour) {
            for (int k = 0; k < 3; k++)
                rgb[3 * i + k] = to8(s[k], cp->depth);
        } else {
            for (int k = 0; k < 3; k++)
                rgb[3 * i + k] = to8(s[0], cp->depth);
        }
    }
    for (int want = 0; want <= 3; want++) {
        if (want == 2) continue;
        gc_image img;
        gc_status st = gc_png_read(p, want, &img);
        ck_assert_msg(st == GC_OK, "%s: %s", what, gc_last_error());
        int ec = want ? want : colour ? 3 : 1;
        ck_assert_msg(img.c == ec, "%s: channels %d, want %d", what, img.c, ec);
        ck_assert(img.w == cp->w && img.h == cp->h);
        for (size_t i = 0; i < npix; i++) {
            const uint8_t *t = rgb + 3 * i;
            for (int k = 0; k < ec; k++) {
                int expect = t[k];
                if (ec == 1 && colour) /* PIL's convert("L") */
                    expect = (int)((t[0] * 19595u + t[1] * 38470u + t[2] * 7471u + 0x8000u) >> 16);
                ck_assert_msg(img.data[i * ec + k] == expect,
                              "%s (channels %d): pixel %zu ch %d is %d, want %d", what, want, i, k,
                              img.data[i * ec + k], expect);
            }
        }
        gc_image_free(&img);
    }
    free(rgb);
}

START_TEST(reader_colour_types)
{
    static const struct {
        const char *name;
        int type, depth;
    } cases[] = {
        {"gray 1-bit", PNG_COLOR_TYPE_GRAY, 1},
        {"gray 2-bit", PNG_COLOR_TYPE_GRAY, 2},
        {"gray 4-bit", PNG_COLOR_TYPE_GRAY, 4},
        {"gray 8-bit", PNG_COLOR_TYPE_GRAY, 8},
        {"gray 16-bit", PNG_COLOR_TYPE_GRAY, 16},
        {"gray+alpha 8-bit", PNG_COLOR_TYPE_GRAY_ALPHA, 8},
        {"gray+alpha 16-bit", PNG_COLOR_TYPE_GRAY_ALPHA, 16},
        {"RGB 8-bit", PNG_COLOR_TYPE_RGB, 8},
        {"RGB 16-bit", PNG_COLOR_TYPE_RGB, 16},
        {"RGBA 8-bit", PNG_COLOR_TYPE_RGBA, 8},
        {"RGBA 16-bit", PNG_COLOR_TYPE_RGBA, 16},
        {"palette 2-bit", PNG_COLOR_TYPE_PALETTE, 2},
        {"palette 8-bit", PNG_COLOR_TYPE_PALETTE, 8},
        {"palette 8-bit + tRNS", PNG_COLOR_TYPE_PALETTE, 8},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        classic_png cp;
        memset(&cp, 0, sizeof cp);
        cp.w = gt_randint(1, 37);
        cp.h = gt_randint(1, 29);
        cp.color_type = cases[ci].type;
        cp.depth = cases[ci].depth;
        int ch = png_channels(cp.color_type);
        cp.samples = malloc((size_t)cp.w * cp.h * ch * sizeof *cp.samples);
        if (cp.color_type == PNG_COLOR_TYPE_PALETTE) {
            cp.npalette = 1 << cp.depth;
            if (cp.npalette > 200) cp.npalette = 200;
            for (int i = 0; i < cp.npalette; i++)
                cp.palette[i] =
                    (png_color){(png_byte)gt_randint(0, 255), (png_byte)gt_randint(0, 255),
                                (png_byte)gt_randint(0, 255)};
            if (strstr(cases[ci].name, "tRNS")) {
                cp.ntrns = cp.npalette / 2;
                for (int i = 0; i < cp.ntrns; i++)
                    cp.trns[i] = (png_byte)gt_randint(0, 255);
            }
            for (int i = 0; i < cp.w * cp.h; i++)
                cp.samples[i] = (uint16_t)gt_randint(0, cp.npalette - 1);
        } else {
            for (int i = 0; i < cp.w * cp.h * ch; i++)
                cp.samples[i] = rand_sample(cp.depth);
            /* a few fully transparent pixels: their colour must survive */
            if (cp.color_type & PNG_COLOR_MASK_ALPHA) cp.samples[ch - 1] = 0;
        }
        check_reader(cases[ci].name, &cp);
        free(cp.samples);
    }
}
END_TEST

START_TEST(reader_bad_files)
{
    gc_image img;
    const char *p = tpath("missing.png");
    ck_assert_int_eq(gc_png_read(p, 0, &img), GC_ERR_IO);
    ck_assert(strstr(gc_last_error(), p));
    ck_assert_ptr_null(img.data);
    ck_assert_int_eq(mkdir(tpath("d.png"), 0700), 0);
    ck_assert_int_eq(gc_png_read(tpath("d.png"), 0, &img), GC_ERR_IO);
    ck_assert(strstr(gc_last_error(), tpath("d.png")));

    p = tpath("text.png");
    gt_write_file(p, "hello, not a png\n", 17);
    ck_assert_int_eq(gc_png_read(p, 0, &img), GC_ERR_FORMAT);
    ck_assert(strstr(gc_last_error(), p) && !strchr(gc_last_error(), '\n'));
    gt_write_file(p, "", 0);
    ck_assert_int_eq(gc_png_read(p, 0, &img), GC_ERR_FORMAT);
    ck_assert(strstr(gc_last_error(), p));

    /* a good file, then cut short, or with its pixel data corrupted */
    int w = 61, h = 47;
    uint8_t *pix = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++)
        pix[i] = (uint8_t)gt_randint(0, 255);
    const char *good = tpath("good.png");
    GT_OK(gc_png_write_rgb(good, pix, w, h));
    size_t n;
    unsigned char *b = gt_read_file(good, &n);
    const size_t cuts[] = {8, 20, 40, n / 2, n - 20, n - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        p = tpath("cut.png");
        gt_write_file(p, b, cuts[k]);
        gc_status s = gc_png_read(p, 0, &img);
        /* A missing IEND (the last 12 bytes) is no loss of pixels. */
        if (cuts[k] >= n - 12 && s == GC_OK) {
            ck_assert(memcmp(img.data, pix, (size_t)w * h * 3) == 0);
            gc_image_free(&img);
            continue;
        }
        ck_assert_msg(s == GC_ERR_FORMAT, "cut at %zu: %s", cuts[k], gc_last_error());
        ck_assert(strstr(gc_last_error(), p));
        ck_assert_ptr_null(img.data);
    }
    for (int k = 0; k < 40; k++)
        b[n / 2 + (size_t)k] ^= 0x5a;
    p = tpath("corrupt.png");
    gt_write_file(p, b, n);
    ck_assert_int_eq(gc_png_read(p, 3, &img), GC_ERR_FORMAT);
    ck_assert(strstr(gc_last_error(), p));
    free(b);
    free(pix);
}
END_TEST

/* Patches a PNG's IHDR size (and its CRC) in memory. */
static void set_ihdr_size(unsigned char *b, uint32_t w, uint32_t h)
{
    for (int i = 0; i < 4; i++) {
        b[16 + i] = (unsigned char)(w >> (24 - 8 * i));
        b[20 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    uint32_t crc = (uint32_t)crc32(0, b + 12, 17); /* "IHDR" and its 13 bytes */
    for (int i = 0; i < 4; i++)
        b[29 + i] = (unsigned char)(crc >> (24 - 8 * i));
}

/* The header is weighed against the file before pixels are allocated: a
 * small file claiming a huge image is refused at once, while the most
 * compressible real image (1-bit, all zero, deflate's best ratio) still
 * reads. */
START_TEST(reader_size_versus_file)
{
    uint8_t pix[12 * 9] = {0};
    const char *p = tpath("small.png");
    GT_OK(gc_png_write_gray(p, pix, 12, 9));
    size_t n;
    unsigned char *b = gt_read_file(p, &n);
    set_ihdr_size(b, 30000, 29000);
    p = tpath("claims-huge.png");
    gt_write_file(p, b, n);
    gc_image img;
    ck_assert_int_eq(gc_png_read(p, 0, &img), GC_ERR_FORMAT);
    ck_assert_msg(strstr(gc_last_error(), p) && strstr(gc_last_error(), "30000 x 29000") &&
                      strstr(gc_last_error(), "cannot fit"),
                  "%s", gc_last_error());
    ck_assert_ptr_null(img.data);
    free(b);

    int w = 4096 + gt_randint(0, 7), h = 2048 + gt_randint(0, 7);
    classic_png cp = {.w = w, .h = h, .depth = 1, .color_type = PNG_COLOR_TYPE_GRAY};
    cp.samples = calloc((size_t)w * h, sizeof *cp.samples);
    ck_assert_ptr_nonnull(cp.samples);
    p = tpath("zeros.png");
    write_classic(p, &cp);
    free(cp.samples);
    GT_OK(gc_png_read(p, 0, &img));
    ck_assert_int_eq(img.w, w);
    ck_assert_int_eq(img.h, h);
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (img.data[i]) ck_abort_msg("pixel %zu is %d, not 0", i, img.data[i]);
    gc_image_free(&img);
}
END_TEST

/* A chunk whose length points past the end of the file is refused before
 * libpng sees it: libpng allocated and zeroed the claimed length first (its
 * own limit is only a warning in the simplified API), so this 100-byte
 * file cost 2 GiB.  Found by tests/fuzz/fuzz_png. */
START_TEST(reader_lying_chunk)
{
    uint8_t pix[5 * 4] = {0};
    const char *p = tpath("good.png");
    GT_OK(gc_png_write_gray(p, pix, 5, 4));
    size_t n;
    unsigned char *b = gt_read_file(p, &n);
    /* After IHDR (8 + 25 bytes): an sPLT chunk claiming 0x7e000000 bytes. */
    size_t at = 33;
    unsigned char *lie = malloc(n + 12);
    memcpy(lie, b, at);
    static const unsigned char splt[12] = {0x7e, 0, 0, 0, 's', 'P', 'L', 'T', 'p', 'a', 'l', 0};
    memcpy(lie + at, splt, sizeof splt);
    memcpy(lie + at + 12, b + at, n - at);
    p = tpath("lying-chunk.png");
    gt_write_file(p, lie, n + 12);
    gc_image img;
    ck_assert_int_eq(gc_png_read(p, 0, &img), GC_ERR_FORMAT);
    ck_assert_msg(strstr(gc_last_error(), p) &&
                      strstr(gc_last_error(), "chunk \"sPLT\" at byte 33 claims 2113929216 bytes"),
                  "%s", gc_last_error());
    ck_assert_ptr_null(img.data);
    /* The same for IDAT, and for a length above 2^31 - 1. */
    for (int k = 0; k < 2; k++) {
        memcpy(lie, b, n);
        size_t idat = 8;
        while (idat + 8 <= n && memcmp(lie + idat + 4, "IDAT", 4))
            idat += 12 + ((size_t)lie[idat + 2] << 8 | lie[idat + 3]); /* small chunks here */
        ck_assert(idat + 8 <= n);
        lie[idat] = k ? 0x80 : 0x00, lie[idat + 1] = 0x10;
        gt_write_file(p, lie, n);
        ck_assert_int_eq(gc_png_read(p, 3, &img), GC_ERR_FORMAT);
        char want[64];
        snprintf(want, sizeof want, "chunk \"IDAT\" at byte %zu claims", idat);
        ck_assert_msg(strstr(gc_last_error(), want), "%s", gc_last_error());
    }
    free(lie);
    free(b);
}
END_TEST

/* ---- alpha composited over a background ---------------------------------- */

/* The 8-bit value of any sample of `depth` bits: libpng's rounded
 * round(v / 257) for 16 bits, bit replication below 8. */
static unsigned any_to8(unsigned v, int depth)
{
    if (depth == 16) return (unsigned)floor(v / 257.0 + 0.5);
    return v * 255u / ((1u << depth) - 1u);
}

static unsigned composite(unsigned s, unsigned a, unsigned bg)
{
    return (unsigned)floor((s * a + bg * (255.0 - a)) / 255.0 + 0.5);
}

/* Checks gc_png_read_over of cp (written here) for channels 0, 1, 3 and
 * both backgrounds against values worked out from the raw samples. */
static void check_over(const char *what, const classic_png *cp)
{
    const char *p = tpath("over.png");
    write_classic(p, cp);
    int ch = png_channels(cp->color_type);
    int colour = cp->color_type & PNG_COLOR_MASK_COLOR;
    size_t npix = (size_t)cp->w * cp->h;
    unsigned *rgba = malloc(npix * 4 * sizeof *rgba); /* 8-bit straight RGBA */
    int partial = 0;
    for (size_t i = 0; i < npix; i++) {
        const uint16_t *s = cp->samples + i * ch;
        unsigned *t = rgba + 4 * i;
        if (cp->color_type == PNG_COLOR_TYPE_PALETTE) {
            png_color c = cp->palette[s[0]];
            t[0] = c.red;
            t[1] = c.green;
            t[2] = c.blue;
            t[3] = s[0] < cp->ntrns ? cp->trns[s[0]] : 255;
        } else {
            for (int k = 0; k < 3; k++)
                t[k] = any_to8(s[colour ? k : 0], cp->depth);
            t[3] = cp->color_type & PNG_COLOR_MASK_ALPHA ? any_to8(s[ch - 1], cp->depth) : 255;
            if (cp->has_trans_color) {
                int hit = colour ? s[0] == cp->trans_color.red && s[1] == cp->trans_color.green &&
                                       s[2] == cp->trans_color.blue
                                 : s[0] == cp->trans_color.gray;
                if (hit) t[3] = 0;
            }
        }
        partial += t[3] > 0 && t[3] < 255;
    }
    static const int bgs[2] = {GC_PNG_WHITE, GC_PNG_BLACK};
    for (int b = 0; b < 2; b++)
        for (int want = 0; want <= 3; want++) {
            if (want == 2) continue;
            gc_image img;
            gc_status st = gc_png_read_over(p, want, bgs[b], &img);
            ck_assert_msg(st == GC_OK, "%s: %s", what, gc_last_error());
            int ec = want ? want : colour ? 3 : 1;
            ck_assert_msg(img.c == ec && img.w == cp->w && img.h == cp->h,
                          "%s: %dx%dx%d, want %dx%dx%d", what, img.w, img.h, img.c, cp->w, cp->h,
                          ec);
            for (size_t i = 0; i < npix; i++) {
                const unsigned *t = rgba + 4 * i;
                unsigned c[3];
                for (int k = 0; k < 3; k++)
                    c[k] = composite(t[k], t[3], (unsigned)bgs[b]);
                for (int k = 0; k < ec; k++) {
                    unsigned expect = c[k];
                    if (ec == 1 && colour) /* composited, then PIL's convert("L") */
                        expect = (c[0] * 19595u + c[1] * 38470u + c[2] * 7471u + 0x8000u) >> 16;
                    ck_assert_msg(img.data[i * ec + k] == expect,
                                  "%s (channels %d, background %d): pixel %zu ch %d is %d, want "
                                  "%u (rgba %u %u %u %u)",
                                  what, want, bgs[b], i, k, img.data[i * ec + k], expect, t[0],
                                  t[1], t[2], t[3]);
                }
            }
            gc_image_free(&img);
        }
    /* Transparency that the test means to exercise must be there. */
    int has_alpha = (cp->color_type & PNG_COLOR_MASK_ALPHA) || cp->ntrns;
    if (has_alpha) ck_assert_msg(partial > 0, "%s: no partly transparent pixel", what);
    free(rgba);
}

START_TEST(reader_over_background)
{
    static const struct {
        const char *name;
        int type, depth, trns;
    } cases[] = {
        {"gray 1-bit", PNG_COLOR_TYPE_GRAY, 1, 0},
        {"gray 2-bit", PNG_COLOR_TYPE_GRAY, 2, 0},
        {"gray 4-bit", PNG_COLOR_TYPE_GRAY, 4, 0},
        {"gray 8-bit", PNG_COLOR_TYPE_GRAY, 8, 0},
        {"gray 16-bit", PNG_COLOR_TYPE_GRAY, 16, 0},
        {"gray 4-bit + tRNS", PNG_COLOR_TYPE_GRAY, 4, 1},
        {"gray 8-bit + tRNS", PNG_COLOR_TYPE_GRAY, 8, 1},
        {"gray 16-bit + tRNS", PNG_COLOR_TYPE_GRAY, 16, 1},
        {"gray+alpha 8-bit", PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0},
        {"gray+alpha 16-bit", PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0},
        {"RGB 8-bit", PNG_COLOR_TYPE_RGB, 8, 0},
        {"RGB 16-bit", PNG_COLOR_TYPE_RGB, 16, 0},
        {"RGB 8-bit + tRNS", PNG_COLOR_TYPE_RGB, 8, 1},
        {"RGB 16-bit + tRNS", PNG_COLOR_TYPE_RGB, 16, 1},
        {"RGBA 8-bit", PNG_COLOR_TYPE_RGBA, 8, 0},
        {"RGBA 16-bit", PNG_COLOR_TYPE_RGBA, 16, 0},
        {"palette 1-bit", PNG_COLOR_TYPE_PALETTE, 1, 0},
        {"palette 4-bit", PNG_COLOR_TYPE_PALETTE, 4, 0},
        {"palette 8-bit", PNG_COLOR_TYPE_PALETTE, 8, 0},
        {"palette 4-bit + tRNS", PNG_COLOR_TYPE_PALETTE, 4, 1},
        {"palette 8-bit + tRNS", PNG_COLOR_TYPE_PALETTE, 8, 1},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        classic_png cp;
        memset(&cp, 0, sizeof cp);
        cp.w = gt_randint(3, 37);
        cp.h = gt_randint(3, 29);
        cp.color_type = cases[ci].type;
        cp.depth = cases[ci].depth;
        int ch = png_channels(cp.color_type);
        size_t npix = (size_t)cp.w * cp.h;
        cp.samples = malloc(npix * ch * sizeof *cp.samples);
        if (cp.color_type == PNG_COLOR_TYPE_PALETTE) {
            cp.npalette = 1 << cp.depth;
            if (cp.npalette > 200) cp.npalette = 200;
            for (int i = 0; i < cp.npalette; i++)
                cp.palette[i] =
                    (png_color){(png_byte)gt_randint(0, 255), (png_byte)gt_randint(0, 255),
                                (png_byte)gt_randint(0, 255)};
            if (cases[ci].trns) {
                /* fewer entries than the palette: the rest are opaque */
                cp.ntrns = cp.npalette - 1;
                for (int i = 0; i < cp.ntrns; i++)
                    cp.trns[i] = (png_byte)gt_randint(0, 255);
                cp.trns[0] = 0;
                cp.trns[1] = 128;
            }
            for (size_t i = 0; i < npix; i++)
                cp.samples[i] = (uint16_t)gt_randint(0, cp.npalette - 1);
            cp.samples[0] = 0;
            cp.samples[1] = 1;
            cp.samples[2] = (uint16_t)(cp.npalette - 1);
        } else {
            /* the full range of every depth, not only multiples of 257 */
            int top = (1 << cp.depth) - 1;
            for (size_t i = 0; i < npix * ch; i++)
                cp.samples[i] = (uint16_t)gt_randint(0, top);
            if (cp.color_type & PNG_COLOR_MASK_ALPHA) {
                cp.samples[ch - 1] = 0;                 /* transparent */
                cp.samples[2 * ch - 1] = (uint16_t)top; /* opaque */
                cp.samples[3 * ch - 1] = (uint16_t)(top / 2);
            }
            if (cases[ci].trns) {
                cp.has_trans_color = 1;
                cp.trans_color.red = cp.samples[0];
                cp.trans_color.green = cp.samples[ch > 1 ? 1 : 0];
                cp.trans_color.blue = cp.samples[ch > 1 ? 2 : 0];
                cp.trans_color.gray = cp.samples[0];
                memcpy(cp.samples + ch, cp.samples, ch * sizeof *cp.samples); /* twice */
            }
        }
        check_over(cases[ci].name, &cp);
        free(cp.samples);
    }
    gc_image img;
    ck_assert_int_eq(gc_png_read_over(tpath("missing.png"), 0, GC_PNG_WHITE, &img), GC_ERR_IO);
    ck_assert_ptr_null(img.data);
}
END_TEST

/* A pixel worked out by hand: 50% gray over white and black, 8-bit RGBA. */
START_TEST(reader_over_by_hand)
{
    classic_png cp;
    memset(&cp, 0, sizeof cp);
    cp.w = 2;
    cp.h = 1;
    cp.color_type = PNG_COLOR_TYPE_RGBA;
    cp.depth = 8;
    uint16_t s[8] = {200, 100, 0, 128, 10, 20, 30, 0};
    cp.samples = s;
    write_classic(tpath("hand.png"), &cp);
    gc_image img;
    GT_OK(gc_png_read_over(tpath("hand.png"), 3, GC_PNG_WHITE, &img));
    /* (200*128 + 255*127) / 255 = 227.39...; (100*128 + 255*127)/255 = 177.19...;
     * 255*127/255 = 127 */
    uint8_t white[6] = {227, 177, 127, 255, 255, 255};
    ck_assert(memcmp(img.data, white, 6) == 0);
    gc_image_free(&img);
    GT_OK(gc_png_read_over(tpath("hand.png"), 3, GC_PNG_BLACK, &img));
    uint8_t black[6] = {100, 50, 0, 0, 0, 0}; /* 25600/255 = 100.39, 12800/255 = 50.2 */
    ck_assert(memcmp(img.data, black, 6) == 0);
    gc_image_free(&img);
    GT_OK(gc_png_read(tpath("hand.png"), 3, &img)); /* alpha dropped */
    uint8_t dropped[6] = {200, 100, 0, 10, 20, 30};
    ck_assert(memcmp(img.data, dropped, 6) == 0);
    gc_image_free(&img);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("png");
    TCase *tc = tcase_create("png");
    tcase_add_checked_fixture(tc, gt_tmp_setup, gt_tmp_teardown);
    tcase_add_test(tc, write_gray_and_rgb);
    tcase_add_test(tc, grid_layout);
    tcase_add_test(tc, reader_colour_types);
    tcase_add_test(tc, reader_bad_files);
    tcase_add_test(tc, reader_size_versus_file);
    tcase_add_test(tc, reader_lying_chunk);
    tcase_add_test(tc, reader_over_background);
    tcase_add_test(tc, reader_over_by_hand);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return gt_run_suite(suite());
}

/* src/io/png.c - PNG writing (gray, RGB, image grids) and reading, through
 * libpng's simplified png_image API (no setjmp; errors come back as text).
 *
 * Files are encoded into memory and then written atomically; files are read
 * whole (with a size cap) and decoded from memory, so a folder or a missing
 * file is reported by the filesystem layer with a clear message.
 */
#include "gancl/io.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/fs.h"

#define PNG_MAX_SIDE 32768
#define PNG_MAX_FILE ((size_t)1 << 30)
#define PNG_MAX_OUT  ((size_t)1 << 30)
/* deflate's best case is 258 bytes from about 2 bits, plus block overhead. */
#define PNG_MAX_DEFLATE_RATIO 1100

static gc_status write_png(const char *path, const uint8_t *pixels, int width, int height,
                           png_uint_32 format, int channels)
{
    if (width <= 0 || height <= 0 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE)
        return gc_error(GC_ERR_ARG, "%s: cannot write a %d x %d image", path, width, height);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)width;
    img.height = (png_uint_32)height;
    img.format = format;
    png_int_32 stride = width * channels;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&img, NULL, &size, 0, pixels, stride, NULL))
        return gc_error(GC_ERR_IO, "%s: cannot encode PNG: %s", path, img.message);
    void *mem = malloc(size);
    if (!mem) return gc_error(GC_ERR_NOMEM, "%s: out of memory for %zu bytes", path, size);
    if (!png_image_write_to_memory(&img, mem, &size, 0, pixels, stride, NULL)) {
        free(mem);
        return gc_error(GC_ERR_IO, "%s: cannot encode PNG: %s", path, img.message);
    }
    gc_status s = gc_fs_write_atomic(path, mem, size);
    free(mem);
    return s;
}

gc_status gc_png_write_gray(const char *path, const uint8_t *pixels, int width, int height)
{
    return write_png(path, pixels, width, height, PNG_FORMAT_GRAY, 1);
}

gc_status gc_png_write_rgb(const char *path, const uint8_t *pixels, int width, int height)
{
    return write_png(path, pixels, width, height, PNG_FORMAT_RGB, 3);
}

gc_status gc_png_write_planes(const char *path, const uint8_t *planes, int c, int width, int height)
{
    GC_ASSERT(c == 1 || c == 3);
    if (c == 1) return gc_png_write_gray(path, planes, width, height);
    if (width <= 0 || height <= 0 || width > PNG_MAX_SIDE || height > PNG_MAX_SIDE)
        return gc_error(GC_ERR_ARG, "%s: cannot write a %d x %d image", path, width, height);
    size_t plane = (size_t)width * (size_t)height;
    uint8_t *rgb = malloc(3 * plane);
    if (!rgb)
        return gc_error(GC_ERR_NOMEM, "%s: out of memory for a %d x %d image", path, width, height);
    for (size_t p = 0; p < plane; p++)
        for (int ch = 0; ch < 3; ch++)
            rgb[3 * p + (size_t)ch] = planes[(size_t)ch * plane + p];
    gc_status s = gc_png_write_rgb(path, rgb, width, height);
    free(rgb);
    return s;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Walks the chunk list and refuses a chunk whose length points past the end
 * of the file.  libpng would allocate (and zero) that length before finding
 * out: its own chunk-size limit is only a warning in the simplified API, so
 * a 161-byte file with an sPLT chunk claiming 2 GiB cost 2 GiB of memory.
 * Everything else (CRCs, chunk order, a missing IEND) is left to libpng. */
static gc_status check_chunks(const char *path, const uint8_t *b, size_t n)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 8 || memcmp(b, sig, 8)) return GC_OK; /* libpng says "not a PNG" */
    size_t pos = 8;
    while (n - pos >= 8) {
        uint32_t len = be32(b + pos);
        const char *type = (const char *)b + pos + 4;
        char name[5];
        for (int i = 0; i < 4; i++)
            name[i] = type[i] >= 0x20 && type[i] < 0x7f ? type[i] : '?';
        name[4] = 0;
        if (len > PNG_UINT_31_MAX || len > n - pos - 8)
            return gc_error(GC_ERR_FORMAT,
                            "%s: truncated or corrupt: chunk \"%s\" at byte %zu claims %u bytes, "
                            "the file has %zu left",
                            path, name, pos, len, n - pos - 8);
        if (!memcmp(type, "IEND", 4)) break;
        if (n - pos - 8 - len < 4) break; /* a cut CRC: libpng reports it */
        pos += 12 + (size_t)len;
    }
    return GC_OK;
}

/* Decodes path into 8-bit RGBA (colour files) or GA (gray files), so that
 * libpng never composites and the caller decides what alpha means. */
static gc_status decode_with_alpha(const char *path, uint8_t **pix, int *w, int *h, int *colour)
{
    *pix = NULL;
    void *file = NULL;
    size_t n = 0;
    GC_TRY(gc_fs_read_file(path, PNG_MAX_FILE, &file, &n));
    gc_status chunks = check_chunks(path, file, n);
    if (chunks != GC_OK) {
        free(file);
        return chunks;
    }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, file, n)) {
        free(file);
        return gc_error(GC_ERR_FORMAT, "%s: not a readable PNG: %s", path, img.message);
    }
    if (img.width > PNG_MAX_SIDE || img.height > PNG_MAX_SIDE) {
        png_image_free(&img);
        free(file);
        return gc_error(GC_ERR_FORMAT, "%s: %u x %u pixels exceed %d a side", path, img.width,
                        img.height, PNG_MAX_SIDE);
    }
    /* The header is not trusted for an allocation: deflate expands at
     * most ~1032 times, so a file of n bytes cannot hold the rows of a
     * bigger image (at least one filter byte and one bit per pixel each).
     * This keeps a 60-byte file claiming 32768 x 32768 pixels from costing
     * 4 GiB before libpng notices the data is missing. */
    uint64_t min_raw = (uint64_t)img.height * (1 + ((uint64_t)img.width + 7) / 8);
    if (min_raw > (uint64_t)n * PNG_MAX_DEFLATE_RATIO) {
        png_image_free(&img);
        free(file);
        return gc_error(GC_ERR_FORMAT,
                        "%s: truncated or corrupt: %u x %u pixels cannot fit in a %zu-byte PNG",
                        path, img.width, img.height, n);
    }
    *w = (int)img.width;
    *h = (int)img.height;
    *colour = (img.format & PNG_FORMAT_FLAG_COLOR) != 0;
    /* 16-bit files without gAMA/sRGB are taken as sRGB (as PIL does), so
     * 8-bit output is the 16-bit value scaled and rounded, not a
     * linear-to-sRGB conversion. */
    img.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    img.format = *colour ? PNG_FORMAT_RGBA : PNG_FORMAT_GA;
    int in_c = *colour ? 4 : 2;
    uint8_t *tmp = malloc((size_t)*w * (size_t)*h * (size_t)in_c);
    if (!tmp) {
        png_image_free(&img);
        free(file);
        return gc_error(GC_ERR_NOMEM, "%s: out of memory for %d x %d pixels", path, *w, *h);
    }
    int ok = png_image_finish_read(&img, NULL, tmp, *w * in_c, NULL);
    free(file);
    if (!ok) {
        free(tmp);
        return gc_error(GC_ERR_FORMAT, "%s: broken PNG: %s", path, img.message);
    }
    *pix = tmp;
    return GC_OK;
}

/* round(x / 255) for x in [0, 255 * 255]: PIL's DIV255, exact (x / 255 is
 * never a tie). */
static inline uint8_t div255(unsigned x)
{
    unsigned t = x + 128u;
    return (uint8_t)(((t >> 8) + t) >> 8);
}

/* s over a background of value bg with straight alpha a: PIL's paste with
 * a mask, round((s * a + bg * (255 - a)) / 255). */
static inline uint8_t over(uint8_t s, uint8_t a, unsigned bg)
{
    return div255(s * (unsigned)a + bg * (255u - a));
}

/* background < 0 drops alpha; 0..255 composites over that value. */
static gc_status read_png(const char *path, int channels, int background, gc_image *out)
{
    GC_ASSERT(channels == 0 || channels == 1 || channels == 3);
    GC_ASSERT(background <= 255);
    memset(out, 0, sizeof *out);
    uint8_t *tmp = NULL;
    int w = 0, h = 0, colour = 0;
    GC_TRY(decode_with_alpha(path, &tmp, &w, &h, &colour));
    int want = channels ? channels : (colour ? 3 : 1);
    int in_c = colour ? 4 : 2;
    size_t npix = (size_t)w * (size_t)h;
    uint8_t *dst = malloc(npix * (size_t)want);
    if (!dst) {
        free(tmp);
        return gc_error(GC_ERR_NOMEM, "%s: out of memory for %d x %d pixels", path, w, h);
    }
    for (size_t i = 0; i < npix; i++) {
        uint8_t *p = tmp + i * (size_t)in_c;
        uint8_t *q = dst + i * (size_t)want;
        if (background >= 0) { /* composite in place: colour first, then luma */
            uint8_t a = p[in_c - 1];
            for (int k = 0; k < in_c - 1; k++)
                p[k] = over(p[k], a, (unsigned)background);
        }
        if (!colour) {
            for (int k = 0; k < want; k++)
                q[k] = p[0];
        } else if (want == 3) {
            q[0] = p[0];
            q[1] = p[1];
            q[2] = p[2];
        } else {
            /* PIL's integer ITU-R 601 luma, rounded. */
            q[0] = (uint8_t)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
        }
    }
    free(tmp);
    out->data = dst;
    out->w = w;
    out->h = h;
    out->c = want;
    return GC_OK;
}

gc_status gc_png_read(const char *path, int channels, gc_image *out)
{
    return read_png(path, channels, -1, out);
}

gc_status gc_png_read_over(const char *path, int channels, int background, gc_image *out)
{
    GC_ASSERT(background >= 0 && background <= 255);
    return read_png(path, channels, background, out);
}

void gc_image_free(gc_image *img)
{
    if (!img) return;
    free(img->data);
    memset(img, 0, sizeof *img);
}

/* Rounded in double so the mapping is the same on every machine. */
static uint8_t to_byte(float v, double lo, double scale)
{
    double x = floor(((double)v - lo) * scale + 0.5);
    if (!(x >= 0.0)) return 0; /* NaN too */
    if (x >= 255.0) return 255;
    return (uint8_t)x;
}

gc_status gc_png_write_grid(const char *path, const float *images, int n, int c, int h, int w,
                            float lo, float hi, int rows, int cols)
{
    if (n <= 0 || (c != 1 && c != 3) || h <= 0 || w <= 0)
        return gc_error(GC_ERR_ARG, "%s: cannot tile %d images of %d x %d x %d", path, n, c, h, w);
    if (!(hi > lo) || !isfinite(lo) || !isfinite(hi))
        return gc_error(GC_ERR_ARG, "%s: value range [%g, %g] is empty", path, lo, hi);
    if (rows == 0 && cols == 0) {
        cols = (int)ceil(sqrt((double)n));
        rows = (n + cols - 1) / cols;
    }
    if (rows <= 0 || cols <= 0 || (int64_t)rows * cols < n)
        return gc_error(GC_ERR_ARG, "%s: a %d x %d grid cannot hold %d images", path, rows, cols,
                        n);
    const int pad = GC_GRID_PAD;
    int64_t gw = (int64_t)cols * (w + pad) + pad, gh = (int64_t)rows * (h + pad) + pad;
    if (gw > PNG_MAX_SIDE || gh > PNG_MAX_SIDE)
        return gc_error(GC_ERR_ARG, "%s: a grid of %lld x %lld pixels is too large", path,
                        (long long)gw, (long long)gh);
    size_t stride = (size_t)gw * (size_t)c;
    uint8_t *pix = malloc(stride * (size_t)gh);
    if (!pix) return gc_error(GC_ERR_NOMEM, "%s: out of memory for the grid", path);
    memset(pix, 255, stride * (size_t)gh);
    double scale = 255.0 / ((double)hi - lo);
    size_t plane = (size_t)h * (size_t)w;
    for (int i = 0; i < n; i++) {
        int r = i / cols, q = i % cols;
        size_t y0 = (size_t)(pad + r * (h + pad)), x0 = (size_t)(pad + q * (w + pad));
        const float *img = images + (size_t)i * (size_t)c * plane;
        for (int y = 0; y < h; y++) {
            uint8_t *row = pix + (y0 + (size_t)y) * stride + x0 * (size_t)c;
            for (int x = 0; x < w; x++)
                for (int k = 0; k < c; k++)
                    row[(size_t)x * c + k] = to_byte(img[k * plane + (size_t)y * w + x], lo, scale);
        }
    }
    gc_status s =
        write_png(path, pix, (int)gw, (int)gh, c == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB, c);
    free(pix);
    return s;
}

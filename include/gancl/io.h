/* gancl/io.h - the file formats gancl reads and writes.
 *
 *   IDX          MNIST-style image and label files, raw or gzip-compressed
 *   PNG          8-bit gray/RGB writing, image grids, reading any PNG
 *   safetensors  weights and checkpoints (8-byte header length, JSON header,
 *                raw little-endian data)
 *   plots        line plots (losses, FID) rendered with cairo to PNG
 *
 * Every reader validates its input completely and fails with GC_ERR_FORMAT
 * (malformed contents) or GC_ERR_IO (cannot open or read) and a one-line
 * message that starts with the file's path; nothing a file says is trusted
 * for an allocation before the bytes are there.  Every writer writes
 * atomically (a temporary file beside the target, then rename), so a crash
 * leaves the old file or the new one, never a torn one.
 *
 *     gc_idx train;
 *     if (gc_idx_read("train-images-idx3-ubyte.gz", GC_IDX_IMAGES, &train) != GC_OK)
 *         fprintf(stderr, "%s\n", gc_last_error());
 *     ...
 *     gc_idx_free(&train);
 */
#ifndef GANCL_IO_H
#define GANCL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- IDX ---------------------------------------------------------------- */

/* The value is the number of dimensions the file must have. */
typedef enum gc_idx_kind {
    GC_IDX_LABELS = 1, /* idx1-ubyte: N labels */
    GC_IDX_IMAGES = 3, /* idx3-ubyte: N x H x W images */
} gc_idx_kind;

typedef struct gc_idx {
    gc_idx_kind kind;
    uint8_t *data;   /* n*h*w bytes, row-major; malloc'ed */
    int64_t n, h, w; /* labels: h = w = 1 */
} gc_idx;

/* Reads an IDX file of unsigned bytes (type code 0x08), gzip-compressed or
 * raw (told apart by content, not by name).  Rejected with GC_ERR_FORMAT:
 * a wrong magic, a type code other than 0x08, a dimension count other than
 * `kind`, a zero dimension, H or W above 16384, more than 2^34 bytes of
 * data, fewer data bytes than the header promises, a broken gzip stream, and
 * trailing bytes after the data (an error rather than a warning: a file
 * longer than its header says is more likely the wrong file, or two
 * concatenated, than something to train on).  GC_ERR_IO: missing file,
 * a folder, a read error.  On failure *out is zeroed. */
gc_status gc_idx_read(const char *path, gc_idx_kind kind, gc_idx *out);

/* Writes d (kind, n, h, w, data) as an IDX file, gzip-compressed when gzip
 * is non-zero. */
gc_status gc_idx_write(const char *path, const gc_idx *d, int gzip);

void gc_idx_free(gc_idx *d);

/* ---- PNG ------------------------------------------------------------------ */

/* 8-bit images, rows top to bottom, no padding between rows.  RGB is
 * interleaved (R, G, B per pixel). */
gc_status gc_png_write_gray(const char *path, const uint8_t *pixels, int width, int height);
gc_status gc_png_write_rgb(const char *path, const uint8_t *pixels, int width, int height);
/* An image as models and data sets hold it, planar (c planes of height
 * rows; c 1 or 3), written as a gray or an RGB PNG. */
gc_status gc_png_write_planes(const char *path, const uint8_t *planes, int c, int width,
                              int height);

/* A host image: h rows of w pixels of c interleaved 8-bit channels. */
typedef struct gc_image {
    uint8_t *data; /* malloc'ed */
    int w, h, c;
} gc_image;

/* Reads any PNG (gray, gray+alpha, RGB, RGBA, palette; 1 to 16 bits) into
 * 8-bit pixels with `channels` channels: 1 (gray), 3 (RGB), or 0 for the
 * file's own (1 for gray files, 3 for colour and palette files).  Alpha is
 * dropped (not composited), colour becomes gray with ITU-R 601 weights
 * (0.299, 0.587, 0.114) and 16-bit samples are taken as sRGB-encoded, all as
 * PIL's convert("L"/"RGB") does, so datasets read here match what PyTorch
 * pipelines see.  Images above 32768 pixels a side are refused. */
gc_status gc_png_read(const char *path, int channels, gc_image *out);

/* gc_png_read with alpha composited instead of dropped: every pixel of a
 * file with transparency (gray+alpha, RGBA, palette with tRNS, gray or RGB
 * with a tRNS colour) is laid over a plain background of value
 * `background` in every channel (255 white, 0 black), with straight
 * (non-premultiplied) alpha in 8-bit math: 16-bit samples and alpha are
 * first reduced to 8 bits as gc_png_read does (round(v / 257), libpng's
 * scaling; lower depths by bit replication), then
 *     out = round((s * a + background * (255 - a)) / 255)
 * exactly (PIL's paste with a mask, so Image.new("RGB", size, bg) +
 * paste(img, mask=alpha) gives the same bytes).  Colour is composited
 * before it becomes gray.  Files without transparency read exactly as
 * with gc_png_read. */
#define GC_PNG_WHITE 255
#define GC_PNG_BLACK 0
gc_status gc_png_read_over(const char *path, int channels, int background, gc_image *out);
void gc_image_free(gc_image *img);

/* Tiles n host images (NCHW floats, c = 1 or 3) into a grid of rows x cols
 * with 2 pixels of white padding around every tile and writes it as PNG.
 * Values are mapped linearly from [lo, hi] to [0, 255], rounded and clamped;
 * NaN becomes 0.  rows = cols = 0 picks a near-square grid; otherwise
 * rows * cols must be at least n (extra cells stay white). */
#define GC_GRID_PAD 2
gc_status gc_png_write_grid(const char *path, const float *images, int n, int c, int h, int w,
                            float lo, float hi, int rows, int cols);

/* ---- safetensors ---------------------------------------------------------- */

typedef enum gc_st_dtype {
    GC_ST_BOOL,
    GC_ST_U8,
    GC_ST_I8,
    GC_ST_F8_E5M2,
    GC_ST_F8_E4M3,
    GC_ST_I16,
    GC_ST_U16,
    GC_ST_F16,
    GC_ST_BF16,
    GC_ST_I32,
    GC_ST_U32,
    GC_ST_F32,
    GC_ST_F64,
    GC_ST_I64,
    GC_ST_U64,
    GC_ST_DTYPE_COUNT
} gc_st_dtype;

/* "F32", ... and back (-1 for an unknown name). */
const char *gc_st_dtype_name(gc_st_dtype t);
int gc_st_dtype_from_name(const char *name);
size_t gc_st_dtype_size(gc_st_dtype t);

#define GC_ST_MAX_DIMS 8

/* One tensor: what the writer is given and what the reader returns. */
typedef struct gc_st_tensor {
    const char *name;
    gc_st_dtype dtype;
    int ndim; /* 0 (a scalar) to GC_ST_MAX_DIMS */
    int64_t shape[GC_ST_MAX_DIMS];
    const void *data; /* little-endian elements, C order */
    size_t nbytes;    /* reader: numel * dtype size; ignored by the writer */
} gc_st_tensor;

typedef struct gc_st_kv {
    const char *key, *value;
} gc_st_kv;

/* Writes count tensors and nmeta metadata strings ("__metadata__") to
 * path, atomically and without copying the tensors' data.  Names must be
 * unique and not "__metadata__".  Tensors are laid out by element size,
 * largest first (then in the given order), and the header is padded with
 * spaces to a multiple of 8, so every tensor is aligned to its element size
 * in the file, as in the reference implementation. */
gc_status gc_st_write(const char *path, const gc_st_tensor *tensors, int count,
                      const gc_st_kv *meta, int nmeta);

typedef struct gc_st_file gc_st_file;

/* Loads a whole file (refusing files above max_bytes; 0 means
 * GC_ST_DEFAULT_MAX_BYTES) and validates all of it: header length, JSON,
 * dtypes, shapes, offsets (within the data, matching dtype x shape, no
 * overlaps, no holes, no unused bytes), duplicate names, metadata values
 * being strings.  Unknown fields inside a tensor entry are ignored, as the
 * reference implementation does.  Tensor data returned later is aligned to
 * its element size (copied aside when the file does not align it). */
#define GC_ST_DEFAULT_MAX_BYTES ((size_t)16 << 30)
gc_status gc_st_load(const char *path, size_t max_bytes, gc_st_file **out);
void gc_st_free(gc_st_file *f);

/* The tensor called name, or NULL.  Pointers stay valid until gc_st_free. */
const gc_st_tensor *gc_st_find(const gc_st_file *f, const char *name);
/* Tensors in file order (by data offset), i in [0, gc_st_count). */
int gc_st_count(const gc_st_file *f);
const gc_st_tensor *gc_st_at(const gc_st_file *f, int i);
/* The metadata value for key, or NULL. */
const char *gc_st_metadata(const gc_st_file *f, const char *key);
/* Metadata entries sorted by key, i in [0, gc_st_metadata_count). */
int gc_st_metadata_count(const gc_st_file *f);
gc_st_kv gc_st_metadata_at(const gc_st_file *f, int i);
/* The path the file was loaded from (for messages). */
const char *gc_st_path(const gc_st_file *f);

/* ---- plots ------------------------------------------------------------------ */

typedef struct gc_plot_series {
    const char *name;
    const double *x, *y; /* n points; NaN or infinite points break the line */
    int64_t n;
} gc_plot_series;

/* A line plot (GC_PLOT_WIDTH x GC_PLOT_HEIGHT) with title, axis labels,
 * ticks and a legend, written as PNG.  Empty series still get a legend
 * entry; isolated points are drawn as dots; a constant series gets a range
 * around its value. */
#define GC_PLOT_WIDTH  900
#define GC_PLOT_HEIGHT 500
gc_status gc_plot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
                        const gc_plot_series *series, int count);

/* A bar chart of the same size and style: n bars (labels under them, each
 * its own colour from the same palette as gc_plot_lines' series, in order),
 * from 0 to values[i], with error bars of +-errors[i] when errors is non-NULL
 * (an error that is NaN or <= 0 draws none), the value written above each
 * bar.  A NaN or infinite value draws no bar ("n/a"); n = 0 gives an empty
 * chart saying "no data". */
gc_status gc_plot_bars(const char *path, const char *title, const char *ylabel,
                       const char *const *labels, const double *values, const double *errors,
                       int n);

#ifdef __cplusplus
}
#endif
#endif

/* src/io/idx.c - IDX (MNIST format) files of unsigned bytes, raw or gzip.
 *
 * Layout: magic 00 00 <type> <ndims>, then ndims big-endian uint32 sizes,
 * then the data.  Reading goes through zlib's gzread, which passes raw files
 * through unchanged, so one path serves both.  The header is never trusted
 * for an allocation: a raw file's promised size is checked against the
 * file's size first, and a gzip stream's buffer grows only as decompressed
 * bytes actually arrive.
 */
#include "gancl/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/error.h"
#include "util/fs.h"

#define IDX_TYPE_UBYTE 0x08
#define IDX_MAX_SIDE   16384
#define IDX_MAX_BYTES  ((uint64_t)1 << 34)
/* First allocation for a gzip payload; doubled as data arrives. */
#define IDX_FIRST_CHUNK ((size_t)1 << 20)

/* Reads up to n bytes; returns how many arrived (short only at the end of
 * the stream) or -1 on a zlib error. */
static int64_t gz_read_full(gzFile gz, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        size_t want = n - got;
        if (want > ((size_t)1 << 30)) want = (size_t)1 << 30;
        int r = gzread(gz, (char *)buf + got, (unsigned)want);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (int64_t)got;
}

/* The zlib error after a short or failed read, as text; NULL if none. */
static const char *gz_problem(gzFile gz)
{
    int err = Z_OK;
    const char *msg = gzerror(gz, &err);
    if (err == Z_OK) return NULL;
    if (err == Z_ERRNO) return strerror(errno);
    if (!msg || !*msg) return "zlib error";
    /* gzdopen'ed streams prefix messages with "<fd:3>: ". */
    const char *colon = strstr(msg, ": ");
    if (!strncmp(msg, "<fd:", 4) && colon) msg = colon + 2;
    return msg;
}

static gc_status read_error(const char *path, gzFile gz)
{
    const char *why = gz_problem(gz);
    int err = Z_OK;
    gzerror(gz, &err);
    if (err == Z_ERRNO) return gc_error(GC_ERR_IO, "%s: read error: %s", path, why);
    return gc_error(GC_ERR_FORMAT, "%s: broken gzip stream: %s", path, why ? why : "unknown");
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *kind_name(gc_idx_kind kind)
{
    return kind == GC_IDX_IMAGES ? "an images file" : "a labels file";
}

/* Reads the payload of `size` bytes that the header promised. */
static gc_status read_payload(const char *path, gzFile gz, uint64_t size, int64_t raw_left,
                              uint8_t **out)
{
    *out = NULL;
    if (raw_left >= 0) {
        /* Raw file of known size: the size settles truncation and trailing
         * bytes before anything is allocated. */
        if ((uint64_t)raw_left < size)
            return gc_error(GC_ERR_FORMAT,
                            "%s: truncated: the header promises %llu bytes of data, the file "
                            "holds %lld",
                            path, (unsigned long long)size, (long long)raw_left);
        if ((uint64_t)raw_left > size)
            return gc_error(GC_ERR_FORMAT,
                            "%s: %llu bytes of trailing data after the %llu the "
                            "header promises",
                            path, (unsigned long long)((uint64_t)raw_left - size),
                            (unsigned long long)size);
    }
    size_t cap = raw_left >= 0 || size < IDX_FIRST_CHUNK ? (size_t)size : IDX_FIRST_CHUNK;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf) return gc_error(GC_ERR_NOMEM, "%s: out of memory for %zu bytes", path, cap);
    size_t got = 0;
    for (;;) {
        int64_t r = gz_read_full(gz, buf + got, cap - got);
        if (r < 0) {
            free(buf);
            return read_error(path, gz);
        }
        got += (size_t)r;
        if (got < cap) break; /* the stream ended */
        if (got == size) break;
        size_t next = cap * 2 < size ? cap * 2 : (size_t)size;
        uint8_t *nb = realloc(buf, next);
        if (!nb) {
            free(buf);
            return gc_error(GC_ERR_NOMEM, "%s: out of memory for %zu bytes", path, next);
        }
        buf = nb;
        cap = next;
    }
    if (got < size) {
        const char *why = gz_problem(gz);
        int err = Z_OK;
        gzerror(gz, &err);
        free(buf);
        if (err == Z_BUF_ERROR)
            return gc_error(GC_ERR_FORMAT,
                            "%s: truncated: the gzip stream ends after %zu of %llu data bytes",
                            path, got, (unsigned long long)size);
        if (why) return read_error(path, gz);
        return gc_error(GC_ERR_FORMAT,
                        "%s: truncated: the header promises %llu bytes of data, got %zu", path,
                        (unsigned long long)size, got);
    }
    /* Anything after the data (a raw file's size was checked above). */
    uint8_t extra[4096];
    uint64_t trailing = 0;
    for (;;) {
        int64_t r = gz_read_full(gz, extra, sizeof extra);
        if (r < 0) {
            free(buf);
            return read_error(path, gz);
        }
        trailing += (uint64_t)r;
        if ((size_t)r < sizeof extra || trailing > ((uint64_t)1 << 20)) break;
    }
    if (trailing) {
        free(buf);
        return gc_error(GC_ERR_FORMAT,
                        "%s: %s%llu bytes of trailing data after the %llu the "
                        "header promises",
                        path, trailing > ((uint64_t)1 << 20) ? "over " : "",
                        (unsigned long long)trailing, (unsigned long long)size);
    }
    /* A gzip stream cut short exactly after the data still reports it. */
    int err = Z_OK;
    gzerror(gz, &err);
    if (err == Z_BUF_ERROR) {
        free(buf);
        return gc_error(GC_ERR_FORMAT, "%s: truncated: the gzip stream ends without its trailer",
                        path);
    }
    *out = buf;
    return GC_OK;
}

static gc_status read_header(const char *path, gzFile gz, gc_idx_kind kind, uint32_t dims[3])
{
    uint8_t magic[4];
    int64_t r = gz_read_full(gz, magic, 4);
    if (r < 0) return read_error(path, gz);
    if (r == 0) return gc_error(GC_ERR_FORMAT, "%s: empty file", path);
    if (r < 4)
        return gc_error(GC_ERR_FORMAT, "%s: truncated header (%lld of 4 magic bytes)", path,
                        (long long)r);
    if (magic[0] != 0 || magic[1] != 0)
        return gc_error(GC_ERR_FORMAT,
                        "%s: not an IDX file (magic %02x %02x %02x %02x; the first two bytes "
                        "must be 0)",
                        path, magic[0], magic[1], magic[2], magic[3]);
    if (magic[2] != IDX_TYPE_UBYTE)
        return gc_error(GC_ERR_FORMAT,
                        "%s: type code 0x%02x, only 0x08 (unsigned byte) is supported", path,
                        magic[2]);
    if (magic[3] != (uint8_t)kind)
        return gc_error(GC_ERR_FORMAT, "%s: %d dimension%s, expected %d (%s)", path, magic[3],
                        magic[3] == 1 ? "" : "s", (int)kind, kind_name(kind));
    uint8_t raw[12];
    size_t want = 4 * (size_t)kind;
    r = gz_read_full(gz, raw, want);
    if (r < 0) return read_error(path, gz);
    if ((size_t)r < want)
        return gc_error(GC_ERR_FORMAT, "%s: truncated header (%lld of %zu dimension bytes)", path,
                        (long long)r, want);
    for (int i = 0; i < (int)kind; i++) {
        dims[i] = be32(raw + 4 * i);
        if (dims[i] == 0) return gc_error(GC_ERR_FORMAT, "%s: dimension %d is 0", path, i);
    }
    return GC_OK;
}

gc_status gc_idx_read(const char *path, gc_idx_kind kind, gc_idx *out)
{
    GC_ASSERT(kind == GC_IDX_IMAGES || kind == GC_IDX_LABELS);
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return gc_error(GC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return gc_error(GC_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return gc_error(GC_ERR_IO, "%s: is a folder, not an IDX file", path);
    }
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return gc_error(GC_ERR_NOMEM, "%s: cannot start zlib", path);
    }
    gzbuffer(gz, 1 << 17);

    uint32_t dims[3] = {1, 1, 1};
    gc_status s = read_header(path, gz, kind, dims);
    uint64_t n = dims[0], h = 1, w = 1;
    if (s == GC_OK && kind == GC_IDX_IMAGES) {
        h = dims[1];
        w = dims[2];
        if (h > IDX_MAX_SIDE || w > IDX_MAX_SIDE)
            s = gc_error(GC_ERR_FORMAT, "%s: images of %llu x %llu pixels exceed %d a side", path,
                         (unsigned long long)h, (unsigned long long)w, IDX_MAX_SIDE);
    }
    uint64_t size = n * h * w; /* < 2^32 * 2^14 * 2^14: no overflow */
    if (s == GC_OK && size > IDX_MAX_BYTES)
        s = gc_error(GC_ERR_FORMAT, "%s: %llu x %llu x %llu is %llu bytes, above the 2^34 limit",
                     path, (unsigned long long)n, (unsigned long long)h, (unsigned long long)w,
                     (unsigned long long)size);
    uint8_t *data = NULL;
    if (s == GC_OK) {
        int64_t header = 4 + 4 * (int64_t)kind;
        /* gzdirect() is 1 when zlib found no gzip magic and copies bytes. */
        int64_t raw_left = S_ISREG(st.st_mode) && gzdirect(gz) ? (int64_t)st.st_size - header : -1;
        s = read_payload(path, gz, size, raw_left, &data);
    }
    gzclose_r(gz); /* closes fd */
    if (s != GC_OK) return s;
    out->kind = kind;
    out->data = data;
    out->n = (int64_t)n;
    out->h = (int64_t)h;
    out->w = (int64_t)w;
    return GC_OK;
}

void gc_idx_free(gc_idx *d)
{
    if (!d) return;
    free(d->data);
    memset(d, 0, sizeof *d);
}

/* gzip-compresses src into a malloc'ed buffer. */
static gc_status gzip_buffer(const char *path, const gc_fs_part *parts, int count, uint8_t **out,
                             size_t *out_n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* windowBits 15 + 16 asks deflate for a gzip wrapper. */
    if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return gc_error(GC_ERR_NOMEM, "%s: cannot start zlib", path);
    size_t total = 0;
    for (int i = 0; i < count; i++)
        total += parts[i].size;
    size_t cap = total / 2 + 1024, used = 0;
    uint8_t *buf = malloc(cap);
    gc_status s = buf ? GC_OK : gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < count && s == GC_OK; i++) {
        const uint8_t *p = parts[i].data;
        size_t left = parts[i].size;
        int last = i == count - 1;
        do {
            unsigned chunk = left > (1u << 30) ? (1u << 30) : (unsigned)left;
            zs.next_in = (Bytef *)p;
            zs.avail_in = chunk;
            int flush = last && chunk == left ? Z_FINISH : Z_NO_FLUSH;
            int ret;
            do {
                if (cap - used < 65536) {
                    size_t nc = cap * 2;
                    uint8_t *nb = realloc(buf, nc);
                    if (!nb) {
                        s = gc_error(GC_ERR_NOMEM, "%s: out of memory", path);
                        break;
                    }
                    buf = nb;
                    cap = nc;
                }
                size_t room = cap - used;
                if (room > (1u << 30)) room = 1u << 30;
                zs.next_out = buf + used;
                zs.avail_out = (unsigned)room;
                ret = deflate(&zs, flush);
                used += room - zs.avail_out;
                if (ret == Z_STREAM_ERROR) {
                    s = gc_error(GC_ERR_IO, "%s: zlib failed to compress", path);
                    break;
                }
            } while (zs.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
            p += chunk;
            left -= chunk;
        } while (left > 0 && s == GC_OK);
    }
    deflateEnd(&zs);
    if (s != GC_OK) {
        free(buf);
        return s;
    }
    *out = buf;
    *out_n = used;
    return GC_OK;
}

gc_status gc_idx_write(const char *path, const gc_idx *d, int gzip)
{
    GC_ASSERT(d->kind == GC_IDX_IMAGES || d->kind == GC_IDX_LABELS);
    int64_t dims[3] = {d->n, d->h, d->w};
    for (int i = 0; i < (int)d->kind; i++)
        if (dims[i] <= 0 || dims[i] > UINT32_MAX)
            return gc_error(GC_ERR_ARG, "%s: dimension %d (%lld) does not fit an IDX file", path, i,
                            (long long)dims[i]);
    if (d->kind == GC_IDX_LABELS && (d->h != 1 || d->w != 1))
        return gc_error(GC_ERR_ARG, "%s: a labels file needs h = w = 1", path);
    uint8_t header[16] = {0, 0, IDX_TYPE_UBYTE, (uint8_t)d->kind};
    for (int i = 0; i < (int)d->kind; i++) {
        uint32_t v = (uint32_t)dims[i];
        header[4 + 4 * i] = (uint8_t)(v >> 24);
        header[5 + 4 * i] = (uint8_t)(v >> 16);
        header[6 + 4 * i] = (uint8_t)(v >> 8);
        header[7 + 4 * i] = (uint8_t)v;
    }
    gc_fs_part parts[2] = {{header, 4 + 4 * (size_t)d->kind},
                           {d->data, (size_t)(d->n * d->h * d->w)}};
    if (!gzip) return gc_fs_write_parts_atomic(path, parts, 2);
    uint8_t *z = NULL;
    size_t zn = 0;
    GC_TRY(gzip_buffer(path, parts, 2, &z, &zn));
    gc_status s = gc_fs_write_atomic(path, z, zn);
    free(z);
    return s;
}

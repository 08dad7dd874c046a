/* src/backend/opencl/cl_program.c - building gancl's OpenCL program, with an
 * on-disk binary cache.
 *
 * Every kernel file (cl/NAME.cl) goes into one program: common.cl first, then the rest
 * in name order, each preceded by a #line directive so build logs name the
 * right file.  The sources are embedded at build time (cmake/
 * embed_kernels.cmake); GANCL_KERNEL_DIR=DIR reads the same files from DIR
 * instead, for editing kernels without rebuilding gancl.
 *
 * The cache lives in $XDG_CACHE_HOME/gancl/kernels (or ~/.cache/gancl/...),
 * one file per program, named by a 64-bit FNV-1a hash of the source, the
 * build options, and the platform, device and driver.  A file is:
 *
 *     "GCLBIN01" | u64 payload size | u64 FNV-1a of payload | payload
 *
 * written atomically.  A file whose size or checksum is wrong, or that the
 * driver refuses, is rebuilt from source and rewritten, never trusted.
 *
 * GANCL_KERNEL_CACHE=on|off|auto (default auto) decides whether the cache is
 * used.  auto is on, except on PoCL: asking PoCL for a program's binary makes
 * it generate machine code for every kernel at once (17 s for gancl's
 * program on a 2-core Xeon), whereas built from source it compiles each
 * kernel at its first launch and keeps the result in its own cache
 * (POCL_CACHE_DIR), so a cold start costs 6 s and a warm one about as much
 * as a hit in gancl's cache.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/opencl/cl_internal.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"

struct gc_cl_source {
    const char *name;
    const char *text;
    size_t len;
};
extern const struct gc_cl_source gc_cl_sources[];
extern const int gc_cl_source_count;

#define CACHE_MAGIC      "GCLBIN01"
#define CACHE_HEADER     24
#define MAX_SOURCE_BYTES (64u << 20)
#define MAX_BINARY_BYTES (512u << 20)

static gc_cl_cache_stats stats;

const gc_cl_cache_stats *gc_cl_cache_get_stats(void)
{
    return &stats;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ULL

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Appends text to a growing string. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static gc_status sb_add(strbuf *b, const char *text, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) return gc_error(GC_ERR_NOMEM, "out of host memory assembling kernels");
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
    return GC_OK;
}

/* The program's full source, from the embedded copy or GANCL_KERNEL_DIR. */
static gc_status assemble_source(strbuf *out)
{
    const char *dir = getenv("GANCL_KERNEL_DIR");
    if (dir && !*dir) dir = NULL;
    for (int i = 0; i < gc_cl_source_count; i++) {
        char line[PATH_MAX + 32];
        int n = snprintf(line, sizeof line, "#line 1 \"%s\"\n", gc_cl_sources[i].name);
        GC_TRY(sb_add(out, line, (size_t)n));
        if (dir) {
            char path[PATH_MAX];
            void *text;
            size_t len;
            snprintf(path, sizeof path, "%s/%s", dir, gc_cl_sources[i].name);
            gc_status s = gc_fs_read_file(path, MAX_SOURCE_BYTES, &text, &len);
            if (s != GC_OK) return gc_error_prefix(s, "GANCL_KERNEL_DIR");
            s = sb_add(out, text, len);
            free(text);
            GC_TRY(s);
        } else {
            GC_TRY(sb_add(out, gc_cl_sources[i].text, gc_cl_sources[i].len));
        }
        GC_TRY(sb_add(out, "\n", 1));
    }
    return GC_OK;
}

static gc_status build_options(const gc_cl_ctx *cl, char *buf, size_t n)
{
    char version[64] = "";
    clGetDeviceInfo(cl->device, CL_DEVICE_OPENCL_C_VERSION, sizeof version, version, NULL);
    version[sizeof version - 1] = '\0';
    /* "OpenCL C 1.2 ..." or later: ask for 1.2 explicitly; gancl uses
     * nothing newer.  A 1.1 device gets no -cl-std and the same source. */
    int major = 0, minor = 0;
    sscanf(version, "OpenCL C %d.%d", &major, &minor);
    const char *std = (major > 1 || (major == 1 && minor >= 2)) ? "-cl-std=CL1.2 " : "";
    snprintf(buf, n, "%s-DGC_WG_MAX=%zu", std, cl->max_wg);
    return GC_OK;
}

static void print_build_log(const gc_cl_ctx *cl)
{
    size_t size = 0;
    clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &size);
    char *log = size ? malloc(size + 1) : NULL;
    if (!log) return;
    if (clGetProgramBuildInfo(cl->program, cl->device, CL_PROGRAM_BUILD_LOG, size, log, NULL) ==
        CL_SUCCESS) {
        log[size] = '\0';
        fprintf(stderr, "gancl: OpenCL build log:\n%s\n", log);
    }
    free(log);
}

static gc_status cache_path(uint64_t key, char *buf, size_t n)
{
    char dir[PATH_MAX];
    GC_TRY(gc_fs_cache_dir(dir, sizeof dir));
    size_t len = strlen(dir);
    if (len + 8 >= sizeof dir) return gc_error(GC_ERR_IO, "cache path too long");
    memcpy(dir + len, "/kernels", 9);
    GC_TRY(gc_fs_mkdirs(dir));
    if (snprintf(buf, n, "%s/%016llx.bin", dir, (unsigned long long)key) >= (int)n)
        return gc_error(GC_ERR_IO, "cache path too long");
    return GC_OK;
}

/* Tries the cached binary; 1 on success (cl->program built), 0 otherwise. */
static int load_cached(gc_cl_ctx *cl, const char *path, const char *options)
{
    void *data;
    size_t n;
    if (!gc_fs_is_file(path)) {
        GC_DEBUG("kernel cache miss: %s", path);
        return 0;
    }
    if (gc_fs_read_file(path, MAX_BINARY_BYTES, &data, &n) != GC_OK) {
        GC_DEBUG("kernel cache unreadable: %s: %s", path, gc_last_error());
        stats.corrupt++;
        return 0;
    }
    const unsigned char *p = data;
    int ok = n > CACHE_HEADER && !memcmp(p, CACHE_MAGIC, 8) && get_u64(p + 8) == n - CACHE_HEADER &&
             get_u64(p + 16) == fnv1a(FNV_INIT, p + CACHE_HEADER, n - CACHE_HEADER);
    if (ok) {
        size_t len = n - CACHE_HEADER;
        const unsigned char *bin = p + CACHE_HEADER;
        cl_int status = CL_SUCCESS, err;
        cl->program =
            clCreateProgramWithBinary(cl->context, 1, &cl->device, &len, &bin, &status, &err);
        ok = err == CL_SUCCESS && status == CL_SUCCESS;
        if (ok && (gc_fault_hit(GC_FAULT_BUILD) ||
                   clBuildProgram(cl->program, 1, &cl->device, options, NULL, NULL) != CL_SUCCESS))
            ok = 0;
        if (!ok && cl->program) {
            clReleaseProgram(cl->program);
            cl->program = NULL;
        }
    }
    free(data);
    if (!ok) {
        GC_DEBUG("kernel cache corrupt, rebuilding: %s", path);
        stats.corrupt++;
        return 0;
    }
    GC_DEBUG("kernel cache hit: %s", path);
    stats.hits++;
    return 1;
}

static void store_cached(gc_cl_ctx *cl, const char *path)
{
    size_t size = 0;
    if (clGetProgramInfo(cl->program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) !=
            CL_SUCCESS ||
        size == 0 || size > MAX_BINARY_BYTES)
        return;
    unsigned char *buf = malloc(CACHE_HEADER + size);
    if (!buf) return;
    unsigned char *bin = buf + CACHE_HEADER;
    if (clGetProgramInfo(cl->program, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == CL_SUCCESS) {
        memcpy(buf, CACHE_MAGIC, 8);
        put_u64(buf + 8, size);
        put_u64(buf + 16, fnv1a(FNV_INIT, bin, size));
        /* What writers killed mid-way left here (an hour is far longer than
         * any live writer takes). */
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            gc_fs_remove_temps(dir, 3600);
        }
        if (gc_fs_write_atomic(path, buf, CACHE_HEADER + size) == GC_OK) {
            GC_DEBUG("kernel cache stored: %s", path);
            stats.stores++;
        } else {
            GC_DEBUG("kernel cache not stored: %s", gc_last_error());
        }
    }
    free(buf);
}

static gc_status create_kernels(gc_cl_ctx *cl)
{
    cl_uint n = 0;
    cl_int err = clCreateKernelsInProgram(cl->program, 0, NULL, &n);
    if (err != CL_SUCCESS) return gc_cl_fail(err, "clCreateKernelsInProgram");
    cl_kernel *ks = calloc(n ? n : 1, sizeof *ks);
    cl->kernels = calloc(n ? n : 1, sizeof *cl->kernels);
    if (!ks || !cl->kernels) {
        free(ks);
        return gc_error(GC_ERR_NOMEM, "out of host memory");
    }
    err = n ? clCreateKernelsInProgram(cl->program, n, ks, NULL) : CL_SUCCESS;
    if (err != CL_SUCCESS) {
        free(ks);
        return gc_cl_fail(err, "clCreateKernelsInProgram");
    }
    for (cl_uint i = 0; i < n; i++)
        cl->kernels[i].kernel = ks[i];
    cl->kernel_count = (int)n; /* from here on cl_free releases them */
    free(ks);
    for (cl_uint i = 0; i < n; i++) {
        gc_cl_kernel_entry *e = &cl->kernels[i];
        err = clGetKernelInfo(e->kernel, CL_KERNEL_FUNCTION_NAME, sizeof e->name, e->name, NULL);
        if (err != CL_SUCCESS) return gc_cl_fail(err, "clGetKernelInfo(CL_KERNEL_FUNCTION_NAME)");
        e->name[sizeof e->name - 1] = '\0';
        size_t wg = 0;
        /* Without an answer the launchers fall back to work-groups of 1. */
        clGetKernelWorkGroupInfo(e->kernel, cl->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg,
                                 NULL);
        e->max_wg = wg ? wg : 1;
    }
    return GC_OK;
}

/* GANCL_KERNEL_CACHE, see the top of this file. */
static int cache_wanted(const gc_cl_ctx *cl)
{
    const char *mode = getenv("GANCL_KERNEL_CACHE");
    if (mode && !strcmp(mode, "on")) return 1;
    if (mode && !strcmp(mode, "off")) return 0;
    if (mode && *mode && strcmp(mode, "auto"))
        GC_WARN("GANCL_KERNEL_CACHE: '%s' is not on, off or auto; using auto", mode);
    char platform[128] = "";
    clGetPlatformInfo(cl->platform, CL_PLATFORM_NAME, sizeof platform, platform, NULL);
    platform[sizeof platform - 1] = '\0';
    return !strstr(platform, "Portable Computing Language");
}

gc_status gc_cl_build_program(gc_cl_ctx *cl, const char *device_key)
{
    strbuf src = {0};
    gc_status s = assemble_source(&src);
    if (s != GC_OK) {
        free(src.s);
        return s;
    }
    char options[256];
    build_options(cl, options, sizeof options);

    uint64_t key = fnv1a(FNV_INIT, "gancl-kernels-1", 15);
    key = fnv1a(key, src.s, src.len);
    key = fnv1a(key, options, strlen(options));
    key = fnv1a(key, device_key, strlen(device_key));

    int use_cache = cache_wanted(cl);
    char path[PATH_MAX] = "";
    if (use_cache && cache_path(key, path, sizeof path) != GC_OK) {
        GC_DEBUG("kernel cache disabled: %s", gc_last_error());
        use_cache = 0;
    }

    cl->cache_hit = use_cache && load_cached(cl, path, options);
    if (!cl->cache_hit) {
        const char *text = src.s;
        cl_int err;
        cl->program = clCreateProgramWithSource(cl->context, 1, &text, &src.len, &err);
        if (err != CL_SUCCESS) {
            free(src.s);
            return gc_cl_fail(err, "clCreateProgramWithSource");
        }
        int injected = gc_fault_hit(GC_FAULT_BUILD);
        err = injected ? CL_BUILD_PROGRAM_FAILURE
                       : clBuildProgram(cl->program, 1, &cl->device, options, NULL, NULL);
        if (err != CL_SUCCESS) {
            if (!injected) print_build_log(cl);
            free(src.s);
            return gc_error(GC_ERR_DEVICE, "building gancl's OpenCL kernels failed: %s%s",
                            gc_cl_error_name(err),
                            injected ? " (injected by GANCL_FAULT)" : " (build log above)");
        }
        stats.builds++;
        if (use_cache) store_cached(cl, path);
    }
    free(src.s);
    return create_kernels(cl);
}

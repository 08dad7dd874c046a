/* src/backend/opencl/cl_tune.h - the tuned part of the device profile
 * (cl_forms.h): how the OpenCL backend multiplies matrices on a device
 * (CLBlast, or gancl's own kernels of the device's family: cl/gemm.cl on
 * CPUs, cl/tiled.cl on GPUs), CLBlast's kernel parameters, and optionally
 * the kernel family itself; the shipped default per family, the
 * per-device tuning file written by `gancl tune`, and the batched
 * transpose that cl_gemm.c and cl_conv.c share.
 *
 * The choice is made once when a backend opens (gc_cl_forms_init):
 *
 *     $GANCL_GEMM (same grammar as the file, for experiments)
 *       else $XDG_CACHE_HOME/gancl/tune-<device hash>.txt (`gancl tune`)
 *       else the shipped default for the family (gc_cl_tune_default)
 *
 * A choice only selects kernels of the one program, so it never changes the
 * program's build options or its binary-cache key.
 */
#ifndef GANCL_CL_TUNE_H
#define GANCL_CL_TUNE_H

#include <stddef.h>

#include "backend/opencl/cl_internal.h"

typedef enum gc_cl_gemm_engine {
    GC_CL_GEMM_CLBLAST = 0,
    GC_CL_GEMM_OWN = 1, /* gancl's kernels of the family: cl/gemm.cl or cl/tiled.cl */
} gc_cl_gemm_engine;

/* A tile kernel of cl/gemm.cl: one work-item computes mr x (nv * 16) of C. */
typedef struct gc_cl_tile {
    const char *kernel;
    int mr, nv;
} gc_cl_tile;
extern const gc_cl_tile gc_cl_tiles[];
extern const int gc_cl_tile_count;

/* A set of parameters for CLBlast's Xgemm kernel (CLBlastOverrideParameters),
 * in the order of gc_cl_xgemm_names.  Entry 0 ("auto") means the CPU set
 * on CPU devices and CLBlast's own database elsewhere; entry 1 ("db") is
 * the database; the others are overrides `gancl tune` tries. */
#define GC_CL_XGEMM_PARAMS 16
typedef struct gc_cl_xgemm_set {
    const char *name;
    size_t values[GC_CL_XGEMM_PARAMS];
} gc_cl_xgemm_set;
extern const char *const gc_cl_xgemm_names[GC_CL_XGEMM_PARAMS];
extern const gc_cl_xgemm_set gc_cl_xgemm_sets[];
extern const int gc_cl_xgemm_set_count;
#define GC_CL_XGEMM_AUTO 0
#define GC_CL_XGEMM_DB   1
#define GC_CL_XGEMM_CPU  2

typedef struct gc_cl_gemm_config {
    gc_cl_gemm_engine engine;
    int tile;   /* CPU family: index into gc_cl_tiles, used where C is at least its width */
    int narrow; /* CPU family: index into gc_cl_tiles, used where C is narrower than `tile` */
    int kc;     /* CPU family: K longer than 2*kc runs in chunks of kc (cache blocking); 0: never */
    int wg;     /* GPU family: the tile side of cl/tiled.cl (32, 64, 128); 0: chosen per call */
    int xgemm;  /* index into gc_cl_xgemm_sets */
    int kernels; /* 0: the device's family; else a gc_cl_family (cl_forms.h) */
} gc_cl_gemm_config;

/* The shipped default: gancl's own kernels of the family (for the CPU
 * family the tiles measured on PoCL), CLBlast's parameters chosen
 * automatically. */
gc_cl_gemm_config gc_cl_tune_default(const gc_backend *be);

/* "own tile=12x2 narrow=12x1 kc=256" or "clblast xgemm=a100", with
 * "wg=", "xgemm=" and "kernels=cpu|gpu" written only when not automatic.
 * The parser takes the engine word and key=value tokens in any order,
 * separated by white space, ignores '#' comments to the end of a line, and
 * starts from *out (so a partial spec changes only what it names). */
void gc_cl_gemm_config_format(const gc_cl_gemm_config *cfg, char *buf, size_t n);
gc_status gc_cl_gemm_config_parse(const char *text, gc_cl_gemm_config *out);

/* The tuning file of be's device (platform, device, driver): its path, and
 * loading it (1 if it exists and parses; a bad file is ignored with a
 * warning) and writing it atomically. */
gc_status gc_cl_tune_path(const gc_backend *be, char *buf, size_t n);
int gc_cl_tune_load(const gc_backend *be, gc_cl_gemm_config *out);
gc_status gc_cl_tune_save(const gc_backend *be, const gc_cl_gemm_config *cfg, const char *comment);

/* The configuration in use on an OpenCL backend, and replacing it (for
 * `gancl tune` and for tests that prove every candidate).  Setting it
 * applies its CLBlast parameters; its `kernels` field is not applied
 * (gc_cl_forms_set_family changes the family). */
gc_cl_gemm_config gc_cl_gemm_get_config(const gc_backend *be);
void gc_cl_gemm_set_config(gc_backend *be, const gc_cl_gemm_config *cfg);
/* Releases what gc_cl_gemm_init allocated (called by the backend's free). */
void gc_cl_gemm_free(gc_backend *be);
/* A scratch buffer of at least nbytes private to the GEMM and the tiled
 * kernels' partial sums (the callers' operands may live in the backend's
 * workspace); valid until the next call. */
gc_status gc_cl_gemm_scratch(gc_backend *be, size_t nbytes, cl_mem *out);

/* Measures the candidates on the GEMM shapes gancl's models run, returns
 * the fastest in *best and leaves it in use on be (nothing is saved).
 * Progress lines go to print when it is non-NULL; summary receives '#'
 * comment lines with each candidate's total time, for the tuning file.
 * quick measures fewer repetitions. */
typedef void (*gc_cl_tune_print)(void *user, const char *line);
gc_status gc_cl_tune_run(gc_backend *be, int quick, gc_cl_tune_print print, void *user,
                         gc_cl_gemm_config *best, char *summary, size_t summary_n);

/* Tunes be's device on first use: when the device runs its own family
 * with the shipped default (no tuning file, no GANCL_GEMM, no
 * GANCL_KERNELS) and GANCL_AUTOTUNE is not "0", runs the quick measurement
 * of gc_cl_tune_run, saves it as the tuning file and leaves it in use, so
 * each device and driver gets its own tiles and K chunk once and every
 * later run reads them.  A second process arriving while one tunes waits
 * for it (a lock beside the file) and reads its result.  Progress goes to
 * the log at info level.  A failed measurement or save is a warning, and
 * the default stays in use: tuning never stops the command. */
void gc_cl_tune_auto(gc_backend *be);

/* ---- GEMM on views -----------------------------------------------------------
 * An operand whose element (r, c) sits at
 *
 *     off + (r / grp) * gs + (r % grp) * rs + c * cs        (in floats)
 *
 * A row-major matrix is one group (rs = ld, cs = 1), its transpose has
 * rs = 1, cs = ld, and an NCHW tensor seen as rows of pixels (n, p) and
 * columns of channels is a group per image: rs = 1, cs = HW, grp = HW,
 * gs = C*HW.  The convolutions multiply NCHW tensors in place this way. */
#define GC_CL_MAT_ONE_GROUP 0x7fffffff
typedef struct gc_cl_mat {
    cl_mem m;
    int64_t off;
    int64_t rs, cs;  /* strides of a row and a column within a group */
    int64_t grp, gs; /* rows per group, and the stride from group to group */
} gc_cl_mat;

static inline gc_cl_mat gc_cl_mat_rows(cl_mem m, int64_t off, int64_t ld)
{
    gc_cl_mat x = {m, off, ld, 1, GC_CL_MAT_ONE_GROUP, 0};
    return x;
}
static inline gc_cl_mat gc_cl_mat_t(cl_mem m, int64_t off, int64_t ld)
{
    gc_cl_mat x = {m, off, 1, ld, GC_CL_MAT_ONE_GROUP, 0};
    return x;
}
/* Images of an NCHW tensor (ch channels of hw pixels) from float offset
 * off: rows (n, p), columns c. */
static inline gc_cl_mat gc_cl_mat_nchw(cl_mem m, int64_t off, int64_t ch, int64_t hw)
{
    gc_cl_mat x = {m, off, 1, hw, hw, ch * hw};
    return x;
}

/* C (m x n) = alpha * A (m x k) x B (k x n) + beta * C (+ bias[col] when
 * bias is non-NULL).  B is row-major or transposed (one group); A and C
 * any view.  C is not read when beta is 0. */
gc_status gc_cl_gemm_ex(gc_backend *be, int64_t m, int64_t n, int64_t k, float alpha, float beta,
                        const gc_cl_mat *a, const gc_cl_mat *b, const gc_cl_mat *c,
                        const gc_tensor *bias);

/* dst[b][j][i] = src[b][i][j] (+ bias[j] when bias is non-NULL) (+ the old
 * dst[b][j][i] when accumulate) for i < rows, j < cols, b < batch;
 * offsets, leading dimensions and batch strides in floats (see
 * gemm_transpose in cl/gemm.cl). */
gc_status gc_cl_transpose(gc_backend *be, cl_mem dst, int64_t dst_off, int64_t dst_ld,
                          int64_t dst_bs, cl_mem src, int64_t src_off, int64_t src_ld,
                          int64_t src_bs, const gc_tensor *bias, int accumulate, int64_t rows,
                          int64_t cols, int64_t batch);

#endif

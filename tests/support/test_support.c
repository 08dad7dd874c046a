/* tests/support/test_support.c - backends, randomness, tensors, comparison. */
#include "test_support.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/philox.h"

/* ---- backends ------------------------------------------------------------ */

static gc_backend *cpu_be, *cl_be;
static int cl_tried;

#define MAX_OWNED 4096
static gc_tensor owned[MAX_OWNED];
static int owned_count;

static void free_all(void)
{
    for (int i = 0; i < owned_count; i++)
        if (owned[i].buf) gc_tensor_free(&owned[i]);
    owned_count = 0;
    if (cl_be) gc_backend_free(cl_be);
    if (cpu_be) gc_backend_free(cpu_be);
    cl_be = cpu_be = NULL;
}

static void register_exit(void)
{
    static int done;
    if (!done) atexit(free_all);
    done = 1;
}

gc_backend *gt_cpu(void)
{
    if (!cpu_be) {
        register_exit();
        if (gc_backend_init("cpu", &cpu_be) != GC_OK) {
            fprintf(stderr, "cannot open the cpu backend: %s\n", gc_last_error());
            abort();
        }
    }
    return cpu_be;
}

const char *gt_cl_spec(void)
{
    const char *spec = getenv("GANCL_TEST_DEVICE");
    return spec && *spec ? spec : "0";
}

gc_backend *gt_cl(void)
{
    if (!cl_tried) {
        cl_tried = 1;
        register_exit();
        gc_device_info *devs = NULL;
        int n = 0;
        if (gc_device_list(&devs, &n, NULL) != GC_OK || n == 0) {
            free(devs);
            return NULL;
        }
        free(devs);
        if (gc_backend_init(gt_cl_spec(), &cl_be) != GC_OK) {
            fprintf(stderr, "cannot open OpenCL device %s: %s\n", gt_cl_spec(), gc_last_error());
            abort();
        }
        if (gc_backend_is_reference(cl_be)) {
            gc_backend_free(cl_be);
            cl_be = NULL;
        }
    }
    return cl_be;
}

void gt_skip_no_opencl(const char *test)
{
    const char *req = getenv("GANCL_REQUIRE_OPENCL");
    if (req && !strcmp(req, "1")) {
        fprintf(stderr, "%s: no OpenCL device, but GANCL_REQUIRE_OPENCL=1\n", test);
        exit(1);
    }
    printf("%s: SKIPPED: no OpenCL device on this machine\n", test);
    exit(77);
}

/* ---- randomness ------------------------------------------------------------ */

static uint64_t seed_value;
static uint64_t counter;

uint64_t gt_seed(void)
{
    static int init;
    if (!init) {
        init = 1;
        const char *s = getenv("GANCL_TEST_SEED");
        if (s) {
            seed_value = strtoull(s, NULL, 0);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            seed_value = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20);
        }
    }
    return seed_value;
}

double gt_uniform(void)
{
    uint32_t w[4];
    gc_philox4x32_10(gt_seed(), counter++, w);
    return ((double)w[0] * 4294967296.0 + w[1]) / 18446744073709551616.0;
}

double gt_normal(void)
{
    double u1 = gt_uniform(), u2 = gt_uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

int gt_randint(int lo, int hi)
{
    return lo + (int)(gt_uniform() * (hi - lo + 1));
}

float *gt_rand_array(int64_t n, float lo, float hi)
{
    float *a = malloc((size_t)(n ? n : 1) * sizeof(float));
    ck_assert_ptr_nonnull(a);
    for (int64_t i = 0; i < n; i++)
        a[i] = lo + (float)(gt_uniform() * (hi - lo));
    return a;
}

/* ---- tensors ----------------------------------------------------------------- */

gc_tensor gt_tensor(gc_backend *be, int ndim, const int64_t *dims, const float *host)
{
    gc_tensor t;
    gc_status s = gc_tensor_new(be, ndim, dims, &t);
    ck_assert_msg(s == GC_OK, "allocating a test tensor failed: %s", gc_last_error());
    if (host)
        GT_OK(gc_tensor_write(&t, host));
    else
        gt_poison(&t);
    if (owned_count < MAX_OWNED) owned[owned_count++] = t;
    return t;
}

void gt_poison(const gc_tensor *t)
{
    int64_t n = gc_tensor_numel(t);
    float *h = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        h[i] = NAN;
    GT_OK(gc_tensor_write(t, h));
    free(h);
}

float *gt_read(const gc_tensor *t)
{
    int64_t n = gc_tensor_numel(t);
    float *h = malloc((size_t)n * sizeof(float));
    ck_assert_ptr_nonnull(h);
    GT_OK(gc_tensor_read(t, h));
    return h;
}

void gt_free(gc_tensor *t)
{
    for (int i = 0; i < owned_count; i++)
        if (owned[i].buf == t->buf) owned[i].buf = NULL;
    gc_tensor_free(t);
}

/* ---- comparison ---------------------------------------------------------------- */

gt_diff gt_compare(const float *a, const float *b, int64_t n)
{
    gt_diff d = {0, 0, 0, 0};
    double num = 0, den = 0, worst = -1;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i])) {
            if (!(isinf(a[i]) && isinf(b[i]) && (a[i] > 0) == (b[i] > 0))) {
                d.nerr = INFINITY;
                d.worst = i;
                d.a = a[i];
                d.b = b[i];
                return d;
            }
            continue;
        }
        double diff = (double)a[i] - (double)b[i];
        num += diff * diff;
        den += (double)b[i] * b[i];
        if (fabs(diff) > worst) {
            worst = fabs(diff);
            d.worst = i;
            d.a = a[i];
            d.b = b[i];
        }
    }
    d.nerr = sqrt(num) / fmax(sqrt(den), 1e-30);
    if (den == 0 && num == 0) d.nerr = 0;
    return d;
}

void gt_assert_close_at(const float *a, const float *b, int64_t n, double tol, const char *what,
                        const char *file, int line)
{
    gt_diff d = gt_compare(a, b, n);
    if (!(d.nerr <= tol)) {
        ck_assert_msg(0,
                      "%s:%d: %s: normalised error %.3g > %.3g over %" PRId64
                      " elements; worst at %" PRId64 ": %.9g vs %.9g (GANCL_TEST_SEED=%" PRIu64 ")",
                      file, line, what, d.nerr, tol, n, d.worst, d.a, d.b, gt_seed());
    }
}

void gt_assert_tensors_close_at(const gc_tensor *a, const gc_tensor *b, double tol,
                                const char *what, const char *file, int line)
{
    int64_t n = gc_tensor_numel(a);
    ck_assert_int_eq(n, gc_tensor_numel(b));
    float *ha = gt_read(a), *hb = gt_read(b);
    gt_assert_close_at(ha, hb, n, tol, what, file, line);
    free(ha);
    free(hb);
}

int gt_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    printf("test seed: GANCL_TEST_SEED=%" PRIu64 "\n", gt_seed());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

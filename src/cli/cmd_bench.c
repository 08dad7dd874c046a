/* src/cli/cmd_bench.c - `gancl bench ops`: GFLOP/s of GEMM and of the
 * seed DCGAN's layers (batch 64 by default), forward and backward, on one
 * device or all of them.  `gancl bench train` and `gancl bench fid` live in
 * bench_train.c and bench_fid.c.
 *
 * Each figure is the median of several timed windows; a window repeats the
 * op until it has run for at least --window seconds, and is closed by
 * gc_backend_sync so queued work is counted.  Nothing here asserts a speed:
 * numbers are for people and for docs/PERFORMANCE.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli_time.h"
#include "cli/commands.h"
#include "gancl/ops.h"

typedef struct bench_opts {
    double window; /* seconds per timed window */
    int windows;
    int batch;
} bench_opts;

/* One benchmark case: a name, its FLOPs per run and a function that runs it. */
typedef struct bench_case bench_case;
struct bench_case {
    const char *name;
    char label[96];
    double flops;
    gc_status (*run)(const bench_case *bc);
    gc_tensor t[8];
    gc_gemm_args gemm;
    gc_conv_params conv;
};

static gc_status run_gemm(const bench_case *bc)
{
    return gc_gemm(&bc->t[2], &bc->t[0], &bc->t[1], &bc->gemm);
}
static gc_status run_conv_fwd(const bench_case *bc)
{
    return gc_conv2d_forward(&bc->t[2], &bc->t[0], &bc->t[1], &bc->t[3], &bc->conv);
}
static gc_status run_conv_bwd(const bench_case *bc)
{
    return gc_conv2d_backward(&bc->t[4], &bc->t[5], &bc->t[6], &bc->t[2], &bc->t[0], &bc->t[1],
                              &bc->conv);
}
static gc_status run_convt_fwd(const bench_case *bc)
{
    return gc_conv_transpose2d_forward(&bc->t[2], &bc->t[0], &bc->t[1], &bc->t[3], &bc->conv);
}
static gc_status run_convt_bwd(const bench_case *bc)
{
    return gc_conv_transpose2d_backward(&bc->t[4], &bc->t[5], &bc->t[6], &bc->t[2], &bc->t[0],
                                        &bc->t[1], &bc->conv);
}
static gc_status run_dense_fwd(const bench_case *bc)
{
    return gc_dense_forward(&bc->t[2], &bc->t[0], &bc->t[1], &bc->t[3]);
}
static gc_status run_dense_bwd(const bench_case *bc)
{
    return gc_dense_backward(&bc->t[4], &bc->t[5], &bc->t[6], &bc->t[2], &bc->t[0], &bc->t[1]);
}

/* Allocates a tensor filled with small random values (device-side RNG). */
static gc_status rand_tensor(gc_backend *be, int ndim, const int64_t *dims, gc_rng *rng,
                             gc_tensor *out)
{
    GC_TRY(gc_tensor_new(be, ndim, dims, out));
    return gc_rng_uniform(out, rng, -0.5f, 0.5f);
}

static void free_case(bench_case *bc)
{
    for (int i = 0; i < 8; i++)
        gc_tensor_free(&bc->t[i]);
}

static gc_status setup_gemm(gc_backend *be, bench_case *bc, int64_t m, int64_t n, int64_t k, int ta,
                            int tb, gc_rng *rng)
{
    bc->run = run_gemm;
    bc->flops = 2.0 * m * n * k;
    bc->gemm = (gc_gemm_args){.trans_a = ta,
                              .trans_b = tb,
                              .m = m,
                              .n = n,
                              .k = k,
                              .alpha = 1,
                              .beta = 0,
                              .lda = ta ? m : k,
                              .ldb = tb ? k : n,
                              .ldc = n};
    snprintf(bc->label, sizeof bc->label, "gemm %s%s M=%lld N=%lld K=%lld", ta ? "T" : "N",
             tb ? "T" : "N", (long long)m, (long long)n, (long long)k);
    GC_TRY(rand_tensor(be, 1, (int64_t[]){m * k}, rng, &bc->t[0]));
    GC_TRY(rand_tensor(be, 1, (int64_t[]){k * n}, rng, &bc->t[1]));
    return rand_tensor(be, 1, (int64_t[]){m * n}, rng, &bc->t[2]);
}

/* conv (transposed when `transposed`) of x (n, c, h, w) with a k x k kernel. */
static gc_status setup_conv(gc_backend *be, bench_case *bc, int transposed, int backward,
                            const char *layer, int64_t n, int64_t c, int64_t h, int64_t w,
                            int64_t oc, int k, int stride, int pad, int out_pad, gc_rng *rng)
{
    gc_conv_params p = {stride, stride, pad, pad, out_pad, out_pad};
    int64_t oh = transposed ? gc_conv_transpose_out_size(h, k, stride, pad, out_pad)
                            : gc_conv_out_size(h, k, stride, pad);
    int64_t ow = transposed ? gc_conv_transpose_out_size(w, k, stride, pad, out_pad)
                            : gc_conv_out_size(w, k, stride, pad);
    bc->conv = p;
    double macs =
        transposed ? (double)n * c * h * w * oc * k * k : (double)n * oc * oh * ow * c * k * k;
    bc->flops = 2.0 * macs * (backward ? 2 : 1);
    bc->run = transposed ? (backward ? run_convt_bwd : run_convt_fwd)
                         : (backward ? run_conv_bwd : run_conv_fwd);
    snprintf(bc->label, sizeof bc->label, "%s %s %s", layer,
             transposed ? "conv_transpose2d" : "conv2d", backward ? "backward" : "forward");
    int64_t wdims[4] = {transposed ? c : oc, transposed ? oc : c, k, k};
    GC_TRY(rand_tensor(be, 4, (int64_t[]){n, c, h, w}, rng, &bc->t[0]));
    GC_TRY(rand_tensor(be, 4, wdims, rng, &bc->t[1]));
    GC_TRY(rand_tensor(be, 4, (int64_t[]){n, oc, oh, ow}, rng, &bc->t[2]));
    GC_TRY(rand_tensor(be, 1, (int64_t[]){oc}, rng, &bc->t[3]));
    if (backward) {
        GC_TRY(rand_tensor(be, 4, (int64_t[]){n, c, h, w}, rng, &bc->t[4]));
        GC_TRY(rand_tensor(be, 4, wdims, rng, &bc->t[5]));
        GC_TRY(rand_tensor(be, 1, (int64_t[]){oc}, rng, &bc->t[6]));
    }
    return GC_OK;
}

static gc_status setup_dense(gc_backend *be, bench_case *bc, int backward, const char *layer,
                             int64_t n, int64_t in, int64_t out, gc_rng *rng)
{
    bc->flops = 2.0 * n * in * out * (backward ? 2 : 1);
    bc->run = backward ? run_dense_bwd : run_dense_fwd;
    snprintf(bc->label, sizeof bc->label, "%s dense %s", layer, backward ? "backward" : "forward");
    GC_TRY(rand_tensor(be, 2, (int64_t[]){n, in}, rng, &bc->t[0]));
    GC_TRY(rand_tensor(be, 2, (int64_t[]){out, in}, rng, &bc->t[1]));
    GC_TRY(rand_tensor(be, 2, (int64_t[]){n, out}, rng, &bc->t[2]));
    GC_TRY(rand_tensor(be, 1, (int64_t[]){out}, rng, &bc->t[3]));
    if (backward) {
        GC_TRY(rand_tensor(be, 2, (int64_t[]){n, in}, rng, &bc->t[4]));
        GC_TRY(rand_tensor(be, 2, (int64_t[]){out, in}, rng, &bc->t[5]));
        GC_TRY(rand_tensor(be, 1, (int64_t[]){out}, rng, &bc->t[6]));
    }
    return GC_OK;
}

/* Median seconds per run over the windows. */
static gc_status time_case(gc_backend *be, const bench_case *bc, const bench_opts *o,
                           double *median)
{
    GC_TRY(bc->run(bc)); /* warm-up: kernel compilation, first-touch */
    GC_TRY(gc_backend_sync(be));
    double per_run[32];
    int windows = o->windows < 32 ? o->windows : 32;
    for (int wi = 0; wi < windows; wi++) {
        int reps = 0;
        double t0 = gc_cli_now(), t1;
        do {
            GC_TRY(bc->run(bc));
            reps++;
            GC_TRY(gc_backend_sync(be));
            t1 = gc_cli_now();
        } while (t1 - t0 < o->window);
        per_run[wi] = (t1 - t0) / reps;
    }
    *median = gc_cli_median(per_run, windows);
    return GC_OK;
}

/* Builds the case list for one backend and runs it, printing a row each. */
static gc_status bench_device(gc_backend *be, const bench_opts *o)
{
    const int64_t b = o->batch;
    gc_rng rng = {.seed = 1, .offset = 0};
    printf("\n%s — batch %d, median of %d windows of >= %.2f s\n", gc_backend_name(be), o->batch,
           o->windows, o->window);
    printf("%-52s %12s %10s\n", "case", "ms/run", "GFLOP/s");
    for (int i = 0;; i++) {
        bench_case bc;
        memset(&bc, 0, sizeof bc);
        gc_status s;
        switch (i) {
        case 0: s = setup_gemm(be, &bc, 256, 256, 256, 0, 0, &rng); break;
        case 1: s = setup_gemm(be, &bc, 512, 512, 512, 0, 0, &rng); break;
        case 2: s = setup_gemm(be, &bc, 1024, 1024, 1024, 0, 0, &rng); break;
        case 3: s = setup_gemm(be, &bc, 128, 3136, 576, 0, 0, &rng); break;
        case 4: s = setup_gemm(be, &bc, 12544, 128, 576, 0, 0, &rng); break;
        case 5: s = setup_gemm(be, &bc, 12544, 128, 576, 0, 1, &rng); break;
        case 6: s = setup_gemm(be, &bc, 12544, 128, 576, 1, 0, &rng); break;
        case 7: s = setup_dense(be, &bc, 0, "G.fc", b, 100, 7 * 7 * 128, &rng); break;
        case 8: s = setup_dense(be, &bc, 1, "G.fc", b, 100, 7 * 7 * 128, &rng); break;
        case 9: s = setup_conv(be, &bc, 1, 0, "G.up1", b, 128, 7, 7, 64, 3, 2, 1, 1, &rng); break;
        case 10: s = setup_conv(be, &bc, 1, 1, "G.up1", b, 128, 7, 7, 64, 3, 2, 1, 1, &rng); break;
        case 11: s = setup_conv(be, &bc, 1, 0, "G.up2", b, 64, 14, 14, 1, 3, 2, 1, 1, &rng); break;
        case 12: s = setup_conv(be, &bc, 1, 1, "G.up2", b, 64, 14, 14, 1, 3, 2, 1, 1, &rng); break;
        case 13:
            s = setup_conv(be, &bc, 0, 0, "D.conv1", b, 1, 28, 28, 64, 3, 2, 1, 0, &rng);
            break;
        case 14:
            s = setup_conv(be, &bc, 0, 1, "D.conv1", b, 1, 28, 28, 64, 3, 2, 1, 0, &rng);
            break;
        case 15:
            s = setup_conv(be, &bc, 0, 0, "D.conv2", b, 64, 14, 14, 128, 3, 2, 1, 0, &rng);
            break;
        case 16:
            s = setup_conv(be, &bc, 0, 1, "D.conv2", b, 64, 14, 14, 128, 3, 2, 1, 0, &rng);
            break;
        case 17: s = setup_dense(be, &bc, 0, "D.fc", b, 7 * 7 * 128, 1, &rng); break;
        case 18: s = setup_dense(be, &bc, 1, "D.fc", b, 7 * 7 * 128, 1, &rng); break;
        default: return GC_OK;
        }
        double sec = 0;
        if (s == GC_OK) s = time_case(be, &bc, o, &sec);
        free_case(&bc);
        if (s != GC_OK) return s;
        printf("%-52s %12.3f %10.2f\n", bc.label, sec * 1e3, bc.flops / sec * 1e-9);
        fflush(stdout);
    }
}

static int bench_ops(gc_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"device", required_argument, 0, 'd'},
                                         {"all", no_argument, 0, 'a'},
                                         {"batch", required_argument, 0, 'b'},
                                         {"windows", required_argument, 0, 'n'},
                                         {"window", required_argument, 0, 'w'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    bench_opts o = {.window = 0.2, .windows = 5, .batch = 64};
    const char *device = NULL;
    int all = 0, c;
    long long v;
    double f;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'a': all = 1; break;
        case 'b':
            if (!gc_cli_parse_int("--batch", optarg, 1, 4096, &v)) return 2;
            o.batch = (int)v;
            break;
        case 'n':
            if (!gc_cli_parse_int("--windows", optarg, 1, 31, &v)) return 2;
            o.windows = (int)v;
            break;
        case 'w':
            if (!gc_cli_parse_float("--window", optarg, 0.001, 60, &f)) return 2;
            o.window = f;
            break;
        case 'h':
            printf("usage: gancl bench ops [--device N|cpu | --all] [--batch 64] [--windows 5]\n"
                   "                       [--window 0.2]\n\n"
                   "GFLOP/s of GEMM at square and convolution shapes, and of each layer of the\n"
                   "seed DCGAN forward and backward at the given batch; median of --windows\n"
                   "timed windows of at least --window seconds.  --all runs every device.\n");
            return 0;
        default: return gc_cli_bad_option("bench ops", opts, c, argc, argv);
        }
    }
    if (optind < argc)
        return gc_cli_usage_error("bench ops: unexpected argument '%s'", argv[optind]);

    int count = 1;
    gc_device_info *devs = NULL;
    if (all) {
        int n = 0;
        gc_status s = gc_device_list(&devs, &n, NULL);
        if (s != GC_OK) return gc_cli_fail(s);
        count = n + 1;
    }
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        char spec[16];
        if (all) {
            if (i == 0)
                snprintf(spec, sizeof spec, "cpu");
            else
                snprintf(spec, sizeof spec, "%d", devs[i - 1].index);
        }
        gc_backend *be;
        rc = gc_cli_open_backend_tuned(cli, all ? spec : device, &be);
        if (rc) break;
        gc_status s = bench_device(be, &o);
        if (s != GC_OK) rc = gc_cli_fail(s);
        gc_backend_free(be);
    }
    free(devs);
    return rc;
}

int gc_cmd_bench(gc_cli *cli, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: gancl bench ops|train|fid [OPTIONS]   (gancl bench ops --help)\n");
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "ops")) return bench_ops(cli, argc - 1, argv + 1);
    if (!strcmp(argv[1], "train")) return gc_cmd_bench_train(cli, argc - 1, argv + 1);
    if (!strcmp(argv[1], "fid")) return gc_cmd_bench_fid(cli, argc - 1, argv + 1);
    return gc_cli_usage_error("bench: unknown benchmark '%s' (ops, train or fid)", argv[1]);
}

/* src/util/fault.c - GANCL_FAULT, parsed once: which event of each kind
 * fails, the event counters, and the "count" report at exit. */
#include "util/fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static const char *const kind_names[GC_FAULT_KINDS] = {"alloc", "enqueue", "read",  "write",
                                                       "build", "file",    "crash", "nan"};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int armed;                         /* anything to do at all */
static int counting;                      /* GANCL_FAULT=count */
static int64_t target[GC_FAULT_KINDS];    /* -1: not armed */
static atomic_llong seen[GC_FAULT_KINDS]; /* events so far */

static void report_counts(void)
{
    fprintf(stderr, "gancl: fault counts:");
    for (int k = 0; k < GC_FAULT_KINDS; k++)
        if (k != GC_FAULT_NAN && k != GC_FAULT_CRASH)
            fprintf(stderr, " %s=%lld", kind_names[k], (long long)seen[k]);
    fprintf(stderr, "\n");
}

static void parse(void)
{
    for (int k = 0; k < GC_FAULT_KINDS; k++)
        target[k] = -1;
    const char *env = getenv("GANCL_FAULT");
    if (!env || !*env) return;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", env);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        if (!strcmp(item, "count")) {
            counting = armed = 1;
            continue;
        }
        char *colon = strchr(item, ':');
        int k = 0;
        if (colon) {
            *colon = '\0';
            while (k < GC_FAULT_KINDS && strcmp(item, kind_names[k]))
                k++;
        }
        char *end = NULL;
        long long n = colon ? strtoll(colon + 1, &end, 10) : -1;
        if (!colon || k == GC_FAULT_KINDS || !end || *end || n < 0) {
            GC_WARN("GANCL_FAULT: ignoring '%s' (KIND:N with KIND alloc, enqueue, read, write, "
                    "build, file, crash or nan)",
                    item);
            continue;
        }
        target[k] = n;
        armed = 1;
    }
    if (counting) atexit(report_counts);
}

int gc_fault_hit(gc_fault_kind kind)
{
    pthread_once(&once, parse);
    if (!armed) return 0;
    long long n = atomic_fetch_add(&seen[kind], 1) + 1;
    if (n != target[kind]) return 0;
    GC_DEBUG("GANCL_FAULT: failing %s #%lld", kind_names[kind], n);
    return 1;
}

int64_t gc_fault_arg(gc_fault_kind kind)
{
    pthread_once(&once, parse);
    return target[kind];
}

/* src/cli/cli_time.h - the clock and the median the commands' timings use. */
#ifndef GANCL_CLI_TIME_H
#define GANCL_CLI_TIME_H

/* Seconds on the monotonic clock. */
double gc_cli_now(void);

/* The median of v[0..n) (n >= 1); sorts v in place. */
double gc_cli_median(double *v, int n);

#endif

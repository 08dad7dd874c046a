/* tests/support/test_seq_fd.h - finite differences through a gc_seq on the
 * CPU backend, for the gradient checks of test_nn and test_cond_gan.
 *
 * The scalar is L = sum(r * f(x)) in double after a training-mode forward.
 * A derivative is a central difference where L is smooth.  A ReLU kink
 * within h shows as one-sided differences that disagree, or (kinks on both
 * sides hiding each other) as central differences at h and h/2 that
 * disagree; then h shrinks eightfold.  If a kink still lies within the
 * smallest h, the derivative is not defined there: NaN is returned and the
 * caller skips the element, counting it (such elements must stay a
 * minority, so a wrong gradient cannot hide behind them). */
#ifndef GANCL_TEST_SEQ_FD_H
#define GANCL_TEST_SEQ_FD_H

#include "gancl/nn.h"

/* L after a training-mode forward of x (n samples). */
double gt_seq_loss(gc_seq *s, const gc_tensor *x, int n, const float *r);

/* dL / d value[idx], where value is the host copy of tensor t (a parameter
 * buffer or x itself) and l0 = L at value; NaN at a kink (above).  value
 * and t are restored before returning. */
float gt_seq_fd(gc_seq *s, const gc_tensor *x, int n, const float *r, const gc_tensor *t,
                float *value, int64_t idx, double l0);

/* The same with other settings: evaluation-mode forwards (train 0: what a
 * spectrally normalised net needs to keep u fixed), the first step h0
 * (gt_seq_fd: 1e-3) and the absolute part of the one-sided agreement
 * tolerance, atol (gt_seq_fd: 1e-3; smaller for small derivatives). */
typedef struct gt_fd_opts {
    int train;
    float h0;
    double atol;
} gt_fd_opts;
double gt_seq_loss_mode(gc_seq *s, const gc_tensor *x, int n, const float *r, int train);
float gt_seq_fd_opts(gc_seq *s, const gc_tensor *x, int n, const float *r, const gc_tensor *t,
                     float *value, int64_t idx, double l0, const gt_fd_opts *o);

/* gt_assert_close over the elements whose numeric derivative is not NaN. */
#define gt_assert_close_fd(a, b, n, tol, what)                                                     \
    gt_assert_close_fd_at(a, b, n, tol, what, __FILE__, __LINE__)
void gt_assert_close_fd_at(const float *analytic, const float *numeric, int n, double tol,
                           const char *what, const char *file, int line);

#endif

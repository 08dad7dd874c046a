/* src/backend/opencl/cl_conv_direct.h - direct convolution kernels for an
 * image side of one channel (cl_conv_direct.c, cl/conv_direct.cl), which
 * cl_conv.c's entry points hand these layers to. */
#ifndef GANCL_CL_CONV_DIRECT_H
#define GANCL_CL_CONV_DIRECT_H

#include "backend/backend.h"

/* 1 when the direct kernels take a convolution whose image side (x of a
 * conv2d, y of a transposed one) has image_c channels and whose kernel is
 * kh x kw: one channel, at most 16 taps, the CPU family (the GPU family's
 * implicit GEMM covers these layers), and GANCL_CONV_DIRECT is not "0". */
int gc_cl_conv1_applies(const gc_backend *be, int64_t image_c, int64_t kh, int64_t kw);

gc_status gc_cl_conv1_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p);
gc_status gc_cl_conv1_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                      const gc_conv_params *p);
gc_status gc_cl_conv1_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b,
                                               const gc_conv_params *p);
gc_status gc_cl_conv1_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                                const gc_conv_params *p);

#endif

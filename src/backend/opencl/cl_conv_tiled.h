/* src/backend/opencl/cl_conv_tiled.h - the GPU family's convolutions
 * (cl_conv_tiled.c): every pass an implicit GEMM on cl/tiled.cl, which
 * cl_conv.c's entry points hand over to when the profile says gpu. */
#ifndef GANCL_CL_CONV_TILED_H
#define GANCL_CL_CONV_TILED_H

#include "backend/backend.h"

gc_status gc_cl_tiled_conv2d_forward(gc_t y, gc_t x, gc_t w, gc_t b, const gc_conv_params *p);
gc_status gc_cl_tiled_conv2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                      const gc_conv_params *p);
gc_status gc_cl_tiled_conv_transpose2d_forward(gc_t y, gc_t x, gc_t w, gc_t b,
                                               const gc_conv_params *p);
gc_status gc_cl_tiled_conv_transpose2d_backward(gc_t dx, gc_t dw, gc_t db, gc_t dy, gc_t x, gc_t w,
                                                const gc_conv_params *p);
gc_status gc_cl_tiled_conv2d_nhwc_forward(gc_t y, int64_t c0, gc_t x, gc_t w, gc_t b,
                                          const gc_conv_params *p, int relu);

#endif

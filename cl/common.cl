/* cl/common.cl - definitions shared by every kernel file.
 *
 * All cl/*.cl files are concatenated into one program, this file first, and
 * built once per device with OpenCL C 1.2 and no fast-math options.  Kernels
 * use float only (no fp64), bound-check their global id (global sizes are
 * rounded up to the work-group size), and take each tensor as two
 * arguments: a buffer and an int offset in floats, e.g.
 *
 *     __kernel void relu_forward(__global float *y, int y_off,
 *                                __global const float *x, int x_off, int n)
 *
 * GC_WG_MAX is defined by the host as the device's maximum work-group size;
 * reductions that need local memory size it from their local argument.
 */

#define GC_TENSOR(name) __global float *name, int name##_off
#define GC_CTENSOR(name) __global const float *name, int name##_off

/* gancl/image.h - host-side image resizing, cropping and augmentation, as torchvision
 * does it, so that a data set gancl prepares matches what a PyTorch
 * pipeline of Resize(S, antialias=True) + CenterCrop(S) would feed a model.
 *
 * Images are interleaved (HWC): h rows of w pixels of c channels, rows
 * without padding, as gc_image holds them.
 *
 *     gc_image img, small;
 *     if (gc_png_read_over(path, 3, GC_PNG_WHITE, &img) == GC_OK &&
 *         gc_image_resize_crop(&img, 64, &small) == GC_OK) ... small is 64 x 64 x 3
 *
 * The resampling rule (one rule for shrinking and enlarging, per axis) is
 * PyTorch's F.interpolate(mode="bilinear", antialias=True,
 * align_corners=False), which torchvision's Resize(antialias=True) calls:
 * for output pixel i along an axis of in -> out pixels, scale = in / out,
 * centre = scale * (i + 0.5), support = scale when shrinking (else 1), and
 * input pixel j gets the triangle weight max(0, 1 - |j + 0.5 - centre| /
 * max(scale, 1)) over j in [(int)(centre - support + 0.5),
 * (int)(centre + support + 0.5)) clipped to the image, normalised to sum 1.
 * Shrinking thus averages every input pixel under a triangle as wide as two
 * output pixels (antialiased); enlarging is plain bilinear with half-pixel
 * centres.  Rows are resampled, then columns, in double precision.
 */
#ifndef GANCL_IMAGE_H
#define GANCL_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "gancl/io.h"
#include "gancl/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Resamples src (w x h x c) to dst (ow x oh x c) with the rule above.  The
 * float version writes the exact weighted sums; the 8-bit one rounds them
 * to nearest (halves up) and clamps to [0, 255], which agrees with
 * torchvision's uint8 Resize (float interpolation, then round half to
 * even) except where float rounding of the two sums lands on opposite
 * sides of a half: at most 1 apart, and only there.  All sizes >= 1.
 * GC_ERR_NOMEM when the row buffer or weight tables cannot be allocated. */
gc_status gc_resize_f32(const float *src, int w, int h, int c, float *dst, int ow, int oh);
gc_status gc_resize_u8(const uint8_t *src, int w, int h, int c, uint8_t *dst, int ow, int oh);

/* torchvision's Resize(size) output for a w x h image: the shorter side
 * becomes size, the longer int(size * long / short) (truncated); a square
 * becomes size x size. */
void gc_resize_shorter_dims(int w, int h, int size, int *ow, int *oh);

/* torchvision's CenterCrop offsets of a cw x ch window in a w x h image
 * (cw <= w, ch <= h): round((w - cw) / 2) with Python's round, halves to
 * even, so a 9-pixel margin puts 4 before and 5 after. */
void gc_center_crop_offsets(int w, int h, int cw, int ch, int *x0, int *y0);

/* Resize(size, antialias=True) then CenterCrop(size): in (any size, 1 to 4
 * channels) becomes a size x size image with in's channels in *out
 * (malloc'ed; free with gc_image_free).  size must be >= 1.  On failure
 * *out is zeroed. */
gc_status gc_image_resize_crop(const gc_image *in, int size, gc_image *out);

/* ---- classic augmentation (image_augment.c) --------------------------------
 * What a practitioner trains a classifier with: torchvision's
 * RandomAffine(degrees, translate=(t, t), scale=(1 - s, 1 + s)) about the
 * image centre with zero fill, then RandomHorizontalFlip(0.5) when hflip.
 * The shift is whole pixels, round(t * size * U(-1, 1)) as torchvision
 * draws it; sampling is bilinear (an unrotated, unscaled shift copies
 * pixels exactly).  Images here are planar floats: c planes of h x w. */
typedef struct gc_image_aug {
    float translate; /* largest shift, a fraction of the width and the height */
    float degrees;   /* largest rotation either way */
    float scale;     /* the scale is drawn from [1 - scale, 1 + scale] */
    int hflip;       /* mirror left-right with probability 1/2 */
} gc_image_aug;

/* One image's draw. */
typedef struct gc_image_aug_draw {
    float angle, scale; /* degrees; factor */
    int tx, ty;         /* pixels */
    int flip;
} gc_image_aug_draw;

/* Whether a changes anything (a zeroed gc_image_aug does not). */
int gc_image_aug_active(const gc_image_aug *a);
/* A comma-separated spec: "none", "classic" (translate 0.1, rotate 10,
 * scale 0.1), "flip", "translate=F" (0 to 0.5), "rotate=DEG" (0 to 180),
 * "scale=F" (0 to 0.9); later items override earlier ones, so
 * "classic,flip,rotate=0" is classic without rotation but with flips.
 * GC_ERR_ARG naming the spec and the bad item. */
gc_status gc_image_aug_parse(const char *spec, gc_image_aug *out);
/* The spec back as text ("none" or "translate=..,rotate=..,scale=..[,flip]"). */
void gc_image_aug_format(const gc_image_aug *a, char *buf, size_t n);
/* The draw for image number `counter` of the stream `seed`: the same
 * arguments give the same draw on every run. */
gc_image_aug_draw gc_image_aug_sample(const gc_image_aug *a, int w, int h, uint64_t seed,
                                      uint64_t counter);
/* dst = src under the draw; src and dst must not overlap. */
void gc_image_aug_apply(const gc_image_aug_draw *d, const float *src, int c, int h, int w,
                        float *dst);

#ifdef __cplusplus
}
#endif

#endif

/* src/io/image_augment.c - classic augmentation for classifier training:
 * torchvision's RandomAffine (rotation, integer translation, scale about
 * the centre, zero fill) and RandomHorizontalFlip, drawn per image from a
 * Philox stream so that a run repeats exactly.  Bilinear sampling keeps a
 * whole-pixel shift exact (the taps land on pixel centres). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gancl/image.h"
#include "util/error.h"
#include "util/philox.h"

/* The key of the augmentation stream: a training seed's shuffle uses the
 * seed itself, so this one is the seed mixed with a constant. */
#define AUG_KEY 0x6175676d656e7431ULL

int gc_image_aug_active(const gc_image_aug *a)
{
    return a && (a->translate > 0 || a->degrees > 0 || a->scale > 0 || a->hflip);
}

/* "name=value" with value in [lo, hi]: 1 and *v set, 0 if item is not
 * name=..., -1 when the value is bad. */
static int item_value(const char *item, const char *name, double lo, double hi, float *v)
{
    size_t n = strlen(name);
    if (strncmp(item, name, n) != 0 || item[n] != '=') return 0;
    char *end;
    double x = strtod(item + n + 1, &end);
    if (end == item + n + 1 || *end || !(x >= lo && x <= hi)) return -1;
    *v = (float)x;
    return 1;
}

gc_status gc_image_aug_parse(const char *spec, gc_image_aug *out)
{
    static const gc_image_aug classic = {.translate = 0.1f, .degrees = 10.0f, .scale = 0.1f};
    gc_image_aug a = {0};
    char buf[256];
    if (!spec || !*spec) return gc_error(GC_ERR_ARG, "an empty augmentation (try 'classic')");
    if (strlen(spec) >= sizeof buf)
        return gc_error(GC_ERR_ARG, "augmentation '%.40s...': too long", spec);
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        int r;
        if (!strcmp(item, "none")) {
            a = (gc_image_aug){0};
        } else if (!strcmp(item, "classic")) {
            int flip = a.hflip;
            a = classic;
            a.hflip = flip;
        } else if (!strcmp(item, "flip")) {
            a.hflip = 1;
        } else if ((r = item_value(item, "translate", 0, 0.5, &a.translate)) ||
                   (r = item_value(item, "rotate", 0, 180, &a.degrees)) ||
                   (r = item_value(item, "scale", 0, 0.9, &a.scale))) {
            if (r < 0)
                return gc_error(GC_ERR_ARG,
                                "augmentation '%s': bad value in '%s' (translate 0..0.5 of the "
                                "size, rotate 0..180 degrees, scale 0..0.9)",
                                spec, item);
        } else {
            return gc_error(GC_ERR_ARG,
                            "augmentation '%s': unknown item '%s' (none, classic, flip, "
                            "translate=F, rotate=DEG, scale=F)",
                            spec, item);
        }
    }
    *out = a;
    return GC_OK;
}

void gc_image_aug_format(const gc_image_aug *a, char *buf, size_t n)
{
    if (!gc_image_aug_active(a)) {
        snprintf(buf, n, "none");
        return;
    }
    snprintf(buf, n, "translate=%g,rotate=%g,scale=%g%s", (double)a->translate, (double)a->degrees,
             (double)a->scale, a->hflip ? ",flip" : "");
}

/* A uniform draw in [-1, 1). */
static float sym(uint32_t w)
{
    return 2.0f * gc_philox_01(w) - 1.0f;
}

gc_image_aug_draw gc_image_aug_sample(const gc_image_aug *a, int w, int h, uint64_t seed,
                                      uint64_t counter)
{
    uint32_t r[4], q[4];
    gc_philox4x32_10(seed ^ AUG_KEY, 2 * counter, r);
    gc_philox4x32_10(seed ^ AUG_KEY, 2 * counter + 1, q);
    gc_image_aug_draw d = {.angle = 0, .scale = 1, .tx = 0, .ty = 0, .flip = 0};
    if (!gc_image_aug_active(a)) return d;
    d.angle = a->degrees * sym(r[0]);
    /* torchvision rounds the shift to whole pixels. */
    d.tx = (int)lroundf(a->translate * (float)w * sym(r[1]));
    d.ty = (int)lroundf(a->translate * (float)h * sym(r[2]));
    d.scale = 1.0f + a->scale * sym(r[3]);
    d.flip = a->hflip && (q[0] >> 31);
    return d;
}

void gc_image_aug_apply(const gc_image_aug_draw *d, const float *src, int c, int h, int w,
                        float *dst)
{
    /* Output pixel centre p maps back to the source through the inverse of
     * p = centre + t + s R(angle) (q - centre), q then mirrored if flip. */
    const double pi = 3.14159265358979323846;
    double th = (double)d->angle * pi / 180.0, cs = cos(th) / d->scale, sn = sin(th) / d->scale;
    double cx = 0.5 * w, cy = 0.5 * h;
    size_t plane = (size_t)h * (size_t)w;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double u = x + 0.5 - cx - d->tx, v = y + 0.5 - cy - d->ty;
            double sx = cs * u + sn * v + cx, sy = -sn * u + cs * v + cy;
            if (d->flip) sx = w - sx;
            /* Bilinear on pixel centres; taps outside the image read 0. */
            double fx = sx - 0.5, fy = sy - 0.5, x0f = floor(fx), y0f = floor(fy);
            double ax = fx - x0f, ay = fy - y0f;
            int x0 = (int)x0f, y0 = (int)y0f;
            double wt[4] = {(1 - ax) * (1 - ay), ax * (1 - ay), (1 - ax) * ay, ax * ay};
            int tx[4] = {x0, x0 + 1, x0, x0 + 1}, ty[4] = {y0, y0, y0 + 1, y0 + 1};
            for (int k = 0; k < c; k++) {
                const float *s = src + (size_t)k * plane;
                double acc = 0;
                for (int t = 0; t < 4; t++)
                    if (wt[t] != 0 && tx[t] >= 0 && tx[t] < w && ty[t] >= 0 && ty[t] < h)
                        acc += wt[t] * s[(size_t)ty[t] * (size_t)w + (size_t)tx[t]];
                dst[(size_t)k * plane + (size_t)y * (size_t)w + (size_t)x] = (float)acc;
            }
        }
}

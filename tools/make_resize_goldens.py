#!/usr/bin/python3
"""tools/make_resize_goldens.py - writes tests/data/goldens/image_resize_*.bin, torchvision's
answers for gancl's host image resize (src/io/image_resize.c, gancl/image.h).

tests/test_resize.c rebuilds each input image from the formula in pixel() (the same in C), so
only outputs are stored, and compares:
  - gc_resize_f32 with "resized": F.interpolate(mode="bilinear", antialias=True,
    align_corners=False) in float64 on the exact input values, rounded once to float32,
    at the size torchvision's Resize(S) picks (shorter side S, longer int(S * long / short));
  - gc_center_crop_offsets with "param.crop_x0/y0": where CenterCrop(S) cuts;
  - gc_image_resize_crop with "u8": torchvision's Resize(S, antialias=True) + CenterCrop(S) on
    the uint8 tensor, as a user's pipeline would run it (float32 interpolation, round half to
    even).  Only stored for the small cases; the script checks that it equals rounding the
    float32 result, which is what the C test does for the others.

Run:  /usr/bin/python3 tools/make_resize_goldens.py [OUTDIR]   (default: tests/data/goldens)
Deterministic; the files use the GCGOLD01 format of tools/make_goldens.py.  About 50 KB.
"""

import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision.transforms as T

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_goldens import write_golden  # noqa: E402


def pixel(x, y, k):
    """The test image: smooth ramps, a product term and a 4-bit XOR texture, all in 0..255."""
    return (x * x * 7 + y * y * 3 + x * y * 5 + k * 67 + ((x ^ y) & 15) * 11) % 256


def image(w, h, c):
    """uint8 HWC array."""
    a = np.zeros((h, w, c), dtype=np.uint8)
    for y in range(h):
        for x in range(w):
            for k in range(c):
                a[y, x, k] = pixel(x, y, k)
    return a


def shorter_dims(w, h, size):
    if w <= h:
        return size, int(size * h / w)
    return int(size * w / h), size


def case(w, h, c, size, keep_u8):
    img = image(w, h, c)
    chw = torch.from_numpy(img).permute(2, 0, 1).contiguous()
    rw, rh = shorter_dims(w, h, size)
    x64 = chw.to(torch.float64).unsqueeze(0)
    r64 = F.interpolate(x64, size=(rh, rw), mode="bilinear", antialias=True, align_corners=False)
    resized = r64[0].permute(1, 2, 0).numpy().astype(np.float32)  # HWC
    pipe = T.Compose([T.Resize(size, antialias=True), T.CenterCrop(size)])
    u8 = pipe(chw)
    assert u8.dtype == torch.uint8 and tuple(u8.shape) == (c, size, size), u8.shape
    # Where CenterCrop cut, worked out as torchvision does (Python's round).
    x0, y0 = int(round((rw - size) / 2.0)), int(round((rh - size) / 2.0))
    r32 = F.interpolate(chw.to(torch.float32).unsqueeze(0), size=(rh, rw), mode="bilinear",
                        antialias=True, align_corners=False)[0]
    via = r32.round().clamp(0, 255).to(torch.uint8)[:, y0:y0 + size, x0:x0 + size]
    assert torch.equal(via, u8), "torchvision's uint8 Resize is not round(float32 interpolate)"
    arrays = [
        ("param.w", w), ("param.h", h), ("param.c", c), ("param.size", size),
        ("param.crop_x0", x0), ("param.crop_y0", y0),
        ("resized", resized),
    ]
    if keep_u8:
        arrays.append(("u8", u8.permute(1, 2, 0).numpy().astype(np.float32)))
    return arrays


CASES = {
    # (w, h, c, size, keep the uint8 pipeline output)
    "image_resize_37x53_to_16": (37, 53, 3, 16, True),    # odd sizes, crop 3 rows off the top
    "image_resize_37x60_to_16": (37, 60, 1, 16, True),    # 9-row margin: round(4.5) = 4
    "image_resize_128x128_to_64": (128, 128, 1, 64, False),  # exact factor 2, no crop
    "image_resize_300x200_to_32": (300, 200, 3, 32, False),  # landscape, factor 6.25
    "image_resize_5x7_to_12": (5, 7, 3, 12, True),        # enlarging: plain bilinear
}


def main():
    torch.set_num_threads(1)
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "goldens")
    os.makedirs(out, exist_ok=True)
    for name, args in CASES.items():
        path = os.path.join(out, name + ".bin")
        write_golden(path, case(*args))
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""tools/make_diffaug_goldens.py - writes tests/data/goldens/diffaug_*.bin, the answers of
DiffAugment's PyTorch code (Zhao et al. 2020, DiffAugment_pytorch.py) for gancl's
gc_diffaug_forward (gancl/ops.h).

The functions below are DiffAugment's rand_brightness, rand_saturation, rand_contrast,
rand_translation (ratio 0.125) and rand_cutout (ratio 0.5), line for line, except that each
torch.rand / torch.randint is replaced by the value gancl derives from its draws r (N, 7):
    brightness r0 - 0.5, saturation 2 r1, contrast r2 + 0.5,
    translation floor(r3 (2 sh + 1)) - sh along H and floor(r4 (2 sw + 1)) - sw along W,
    cutout offsets floor(r5 (H + 1 - ch % 2)) and floor(r6 (W + 1 - cw % 2)),
each floor clamped to its upper bound.  tests/test_diffaug.c runs every policy (0..7) on the
stored x and r and compares with "y<policy>".

Run:  /usr/bin/python3 tools/make_diffaug_goldens.py [OUTDIR]   (default: tests/data/goldens)
Deterministic; GCGOLD01 format of tools/make_goldens.py.  About 210 KB.
"""

import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_goldens import write_golden  # noqa: E402


def draw_int(u, n):
    """floor(u n) for a float32 u in [0, 1), exact (float64), clamped to n - 1."""
    return min(int(math.floor(float(u) * n)), n - 1)


def col(values, x):
    return torch.tensor(values, dtype=x.dtype).view(-1, 1, 1, 1)


def rand_brightness(x, r):
    x = x + (col(r[:, 0], x) - 0.5)
    return x


def rand_saturation(x, r):
    x_mean = x.mean(dim=1, keepdim=True)
    x = (x - x_mean) * (col(r[:, 1], x) * 2) + x_mean
    return x


def rand_contrast(x, r):
    x_mean = x.mean(dim=[1, 2, 3], keepdim=True)
    x = (x - x_mean) * (col(r[:, 2], x) + 0.5) + x_mean
    return x


def rand_translation(x, r, ratio=0.125):
    shift_x, shift_y = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    # torch.randint(-shift_x, shift_x + 1, size=[N, 1, 1]) and likewise for y.
    translation_x = torch.tensor(
        [-shift_x + draw_int(u, 2 * shift_x + 1) for u in r[:, 3]]).view(-1, 1, 1)
    translation_y = torch.tensor(
        [-shift_y + draw_int(u, 2 * shift_y + 1) for u in r[:, 4]]).view(-1, 1, 1)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long),
        torch.arange(x.size(2), dtype=torch.long),
        torch.arange(x.size(3), dtype=torch.long),
        indexing="ij",
    )
    grid_x = torch.clamp(grid_x + translation_x + 1, 0, x.size(2) + 1)
    grid_y = torch.clamp(grid_y + translation_y + 1, 0, x.size(3) + 1)
    x_pad = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    x = x_pad.permute(0, 2, 3, 1).contiguous()[grid_batch, grid_x, grid_y].permute(0, 3, 1, 2)
    return x


def rand_cutout(x, r, ratio=0.5):
    cutout_size = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    # torch.randint(0, x.size(2) + (1 - cutout_size[0] % 2), size=[N, 1, 1]) and likewise.
    offset_x = torch.tensor(
        [draw_int(u, x.size(2) + (1 - cutout_size[0] % 2)) for u in r[:, 5]]).view(-1, 1, 1)
    offset_y = torch.tensor(
        [draw_int(u, x.size(3) + (1 - cutout_size[1] % 2)) for u in r[:, 6]]).view(-1, 1, 1)
    grid_batch, grid_x, grid_y = torch.meshgrid(
        torch.arange(x.size(0), dtype=torch.long),
        torch.arange(cutout_size[0], dtype=torch.long),
        torch.arange(cutout_size[1], dtype=torch.long),
        indexing="ij",
    )
    grid_x = torch.clamp(grid_x + offset_x - cutout_size[0] // 2, min=0, max=x.size(2) - 1)
    grid_y = torch.clamp(grid_y + offset_y - cutout_size[1] // 2, min=0, max=x.size(3) - 1)
    mask = torch.ones(x.size(0), x.size(2), x.size(3), dtype=x.dtype)
    mask[grid_batch, grid_x, grid_y] = 0
    x = x * mask.unsqueeze(1)
    return x


def diff_augment(x, r, policy):
    """DiffAugment(x, policy='color,translation,cutout') with gancl's policy bits."""
    if policy & 1:
        for f in (rand_brightness, rand_saturation, rand_contrast):
            x = f(x, r)
    if policy & 2:
        x = rand_translation(x, r)
    if policy & 4:
        x = rand_cutout(x, r)
    return x.contiguous()


def case(seed, n, c, h, w):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, c, h, w)).astype(np.float32)
    r = rng.uniform(0, 1, size=(n, 7)).astype(np.float32)
    # The ends of every mapping: a row of zeros and a row of the largest float below 1.
    r[0, :] = 0.0
    r[-1, :] = np.nextafter(np.float32(1), np.float32(0))
    x64 = torch.from_numpy(x.astype(np.float64))
    arrays = [("x", x), ("r", r)]
    for policy in range(8):
        arrays.append(("y%d" % policy, diff_augment(x64, r, policy).numpy().astype(np.float32)))
    return arrays


CASES = {
    # name: (seed, N, C, H, W)
    "diffaug_c3_13x11": (1, 5, 3, 13, 11),  # odd sizes: shifts 2 and 1, cutout 7 x 6
    "diffaug_c1_9x16": (2, 6, 1, 9, 16),    # one channel: saturation is the identity
    "diffaug_c3_24x20": (3, 2, 3, 24, 20),  # even sizes: shifts 3 and 3, cutout 12 x 10
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
